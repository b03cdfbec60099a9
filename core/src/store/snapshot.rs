//! Consistent snapshots of the whole store as one byte stream, and building a new store from one.
//! The stream is taken from a single read transaction, so writers go on while it is made and it
//! holds exactly one committed state. It is self-describing (table names, raw keys and values as
//! redb encodes them) and knows nothing of compression or encryption: that is the backup crate's.
//!
//! Layout: `MAMORU-SNAPSHOT\n`, u32 version; per table: 1, name, then (2, key, value)*, then 3 and
//! the entry count; finally 4 and the table count. Lengths are u32, numbers little-endian.

use std::io::{Read, Write};
use std::path::Path;

use redb::{Database, Key, ReadTransaction, ReadableTable, TableDefinition, TableHandle, Value};

use crate::error::{Error, Result};
use crate::store::tables::{
    AUDIT, AUDIT_TERMS, BIRTHS, CASE_CLOCKS, CASELOADS, CHANGES, CLOCKS, COUNTERS, FILES, GRAM_COUNTS, GRAMS,
    HISTORY, INDEXED, LINKS, META, RECORDS, SEARCH_KEYS, TXLOG, UNIQUE,
};
use crate::store::{FILE_NAME, Reader, Store};

const MAGIC: &[u8] = b"MAMORU-SNAPSHOT\n";
const VERSION: u32 = 1;
const TABLE: u8 = 1;
const ENTRY: u8 = 2;
const TABLE_END: u8 = 3;
const END: u8 = 4;
/// Entries per write transaction while restoring: bounds memory for a large store.
const RESTORE_BATCH: u64 = 50_000;

/// What a snapshot holds.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// Entries per table.
    pub tables: Vec<(String, u64)>,
    /// Records per kind.
    pub kinds: Vec<(String, u64)>,
    /// The last change-log sequence number the snapshot covers.
    pub last_change: u64,
    /// The last redo-log sequence number the snapshot covers: replay starts after it.
    pub last_redo: u64,
    pub store_id: String,
    /// The audit log's newest entry as `SEQ:HASH` (an [`crate::audit::Anchor`]), if any.
    pub audit_head: Option<String>,
}

fn io(context: &'static str) -> impl FnOnce(std::io::Error) -> Error {
    move |source| Error::Io { context, source }
}

fn put_bytes(w: &mut dyn Write, bytes: &[u8]) -> Result<()> {
    let len =
        u32::try_from(bytes.len()).map_err(|_| Error::Corrupt("a stored value exceeds 4 GiB".into()))?;
    w.write_all(&len.to_le_bytes()).map_err(io("writing the snapshot"))?;
    w.write_all(bytes).map_err(io("writing the snapshot"))
}

fn dump<K: Key + 'static, V: Value + 'static>(
    def: TableDefinition<K, V>,
    tx: &ReadTransaction,
    w: &mut dyn Write,
    summary: &mut Summary,
) -> Result<()> {
    let table = tx.open_table(def).map_err(|e| Error::store("opening a table for the snapshot", e))?;
    w.write_all(&[TABLE]).map_err(io("writing the snapshot"))?;
    put_bytes(w, def.name().as_bytes())?;
    let mut n = 0u64;
    for item in table.iter().map_err(|e| Error::store("reading for the snapshot", e))? {
        let (k, v) = item.map_err(|e| Error::store("reading for the snapshot", e))?;
        w.write_all(&[ENTRY]).map_err(io("writing the snapshot"))?;
        put_bytes(w, K::as_bytes(&k.value()).as_ref())?;
        put_bytes(w, V::as_bytes(&v.value()).as_ref())?;
        n += 1;
    }
    w.write_all(&[TABLE_END]).map_err(io("writing the snapshot"))?;
    w.write_all(&n.to_le_bytes()).map_err(io("writing the snapshot"))?;
    summary.tables.push((def.name().to_owned(), n));
    Ok(())
}

impl Store {
    /// Writes the whole store, as of one read transaction, to `w`.
    pub fn write_snapshot(&self, out: &mut dyn Write) -> Result<Summary> {
        // Entries are small: buffer them, so the compressor and hashers below see large writes.
        let mut buffered = std::io::BufWriter::with_capacity(1 << 20, out);
        let w: &mut dyn Write = &mut buffered;
        let tx = self.raw_read()?;
        let mut summary = Summary::default();
        w.write_all(MAGIC).map_err(io("writing the snapshot"))?;
        w.write_all(&VERSION.to_le_bytes()).map_err(io("writing the snapshot"))?;
        crate::every_table!(dump(&tx, w, &mut summary));
        dump(TXLOG, &tx, w, &mut summary)?;
        // The audit search index: derived, but carried so that a restore need not rebuild it.
        dump(AUDIT_TERMS, &tx, w, &mut summary)?;
        dump(INDEXED, &tx, w, &mut summary)?;
        dump(CASELOADS, &tx, w, &mut summary)?;
        w.write_all(&[END]).map_err(io("writing the snapshot"))?;
        w.write_all(&(summary.tables.len() as u64).to_le_bytes()).map_err(io("writing the snapshot"))?;
        buffered.flush().map_err(io("writing the snapshot"))?;
        // Counts and ids from the same transaction.
        describe(&crate::store::ReadTx::from_raw(tx), &mut summary)?;
        Ok(summary)
    }

    /// Builds a new store in `dir` (which must not hold one) from a snapshot stream. Any damage
    /// in the stream is an error; the caller builds into a scratch directory and moves it into
    /// place only after this and its own checks succeed.
    pub fn restore_snapshot(dir: &Path, input: &mut dyn Read) -> Result<(Store, Summary)> {
        // Entries are small: read them from a buffer, not one by one from the decompressor.
        let mut buffered = std::io::BufReader::with_capacity(1 << 20, input);
        let r: &mut dyn Read = &mut buffered;
        std::fs::create_dir_all(dir).map_err(io("creating the restore directory"))?;
        let path = dir.join(FILE_NAME);
        if path.exists() {
            return Err(Error::invalid("data", format!("{} already holds a Mamoru store", dir.display())));
        }
        let mut magic = [0u8; 16];
        r.read_exact(&mut magic).map_err(io("reading the snapshot"))?;
        if magic != MAGIC {
            return Err(Error::Corrupt("not a Mamoru snapshot".into()));
        }
        let version = read_u32(r)?;
        if version != VERSION {
            return Err(Error::Corrupt(format!("snapshot version {version} is not one this program reads")));
        }
        let db = Database::builder()
            .create(&path)
            .map_err(|e| Error::Corrupt(format!("cannot create {}: {e}", path.display())))?;
        let mut loader = Loader { db: &db, summary: Summary::default() };
        loop {
            match read_u8(r)? {
                TABLE => {
                    let name =
                        String::from_utf8(read_bytes(r)?).map_err(|_| Error::Corrupt("table name".into()))?;
                    loader.table(&name, r)?;
                }
                END => {
                    let n = read_u64(r)?;
                    if n != loader.summary.tables.len() as u64 {
                        return Err(Error::Corrupt(format!(
                            "snapshot ends after {} tables, says {n}",
                            loader.summary.tables.len()
                        )));
                    }
                    break;
                }
                other => return Err(Error::Corrupt(format!("unexpected snapshot tag {other}"))),
            }
        }
        let mut rest = [0u8; 1];
        if r.read(&mut rest).map_err(io("reading the snapshot"))? != 0 {
            return Err(Error::Corrupt("data after the end of the snapshot".into()));
        }
        let mut summary = loader.summary;
        // A snapshot without the caseload index (written by an older program, which may still
        // carry this program's marker for it) is indexed afresh by `Store::open`.
        if !summary.tables.iter().any(|(name, _)| name == CASELOADS.name()) {
            crate::store::caseloads::forget(&db)?;
        }
        drop(db);
        let store = Store::open(dir)?;
        describe(&store.read()?, &mut summary)?;
        Ok((store, summary))
    }
}

/// Fills a summary's counts, positions and store id from one read.
fn describe(view: &crate::store::ReadTx, summary: &mut Summary) -> Result<()> {
    for kind in crate::ids::KINDS {
        summary.kinds.push((kind.to_owned(), view.count(kind)?));
    }
    summary.last_change = view.last_change_seq()?;
    summary.last_redo =
        view.meta("tx_seq")?.and_then(|b| b.try_into().ok().map(u64::from_le_bytes)).unwrap_or(0);
    summary.store_id =
        view.meta("store_id")?.map(|b| String::from_utf8_lossy(&b).into_owned()).unwrap_or_default();
    summary.audit_head = view.meta("audit_head")?.map(|b| String::from_utf8_lossy(&b).into_owned());
    Ok(())
}

struct Loader<'d> {
    db: &'d Database,
    summary: Summary,
}

impl Loader<'_> {
    /// Reads one table's entries and inserts them, `RESTORE_BATCH` to a transaction.
    fn table(&mut self, name: &str, r: &mut dyn Read) -> Result<()> {
        fn load<K: Key + 'static, V: Value + 'static>(
            def: TableDefinition<K, V>,
            loader: &mut Loader<'_>,
            name: &str,
            input: &mut dyn Read,
        ) -> Result<()> {
            if def.name() != name {
                return Ok(());
            }
            let mut n = 0u64;
            let mut batch: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
            loop {
                let tag = read_u8(input)?;
                if tag == ENTRY {
                    let key = read_bytes(input)?;
                    let value = read_bytes(input)?;
                    batch.push((key, value));
                    n += 1;
                    if batch.len() as u64 >= RESTORE_BATCH {
                        insert(loader.db, def, &mut batch)?;
                    }
                    continue;
                }
                if tag != TABLE_END {
                    return Err(Error::Corrupt(format!("table {name}: unexpected tag {tag}")));
                }
                let count = read_u64(input)?;
                if count != n {
                    return Err(Error::Corrupt(format!(
                        "table {name}: {n} entries, the snapshot says {count}"
                    )));
                }
                // Also creates the table when it is empty, so the restored store has every table.
                insert(loader.db, def, &mut batch)?;
                loader.summary.tables.push((name.to_owned(), n));
                return Ok(());
            }
        }
        let before = self.summary.tables.len();
        crate::every_table!(load(self, name, r));
        load(TXLOG, self, name, r)?;
        load(AUDIT_TERMS, self, name, r)?;
        load(INDEXED, self, name, r)?;
        load(CASELOADS, self, name, r)?;
        if self.summary.tables.len() == before {
            return Err(Error::Corrupt(format!("unknown table {name:?} in the snapshot")));
        }
        Ok(())
    }
}

/// Inserts a batch of raw entries in one durable transaction and empties the batch.
fn insert<K: Key + 'static, V: Value + 'static>(
    db: &Database,
    def: TableDefinition<K, V>,
    batch: &mut Vec<(Vec<u8>, Vec<u8>)>,
) -> Result<()> {
    let mut tx = db.begin_write().map_err(|e| Error::store("restoring", e))?;
    tx.set_two_phase_commit(true);
    {
        let mut table = tx.open_table(def).map_err(|e| Error::store("restoring", e))?;
        for (key, value) in batch.drain(..) {
            table
                .insert(K::from_bytes(&key), V::from_bytes(&value))
                .map_err(|e| Error::store("restoring", e))?;
        }
    }
    tx.commit().map_err(|e| Error::store("restoring", e))
}

fn read_u8(r: &mut dyn Read) -> Result<u8> {
    let mut b = [0u8; 1];
    r.read_exact(&mut b).map_err(io("reading the snapshot"))?;
    Ok(b[0])
}

fn read_u32(r: &mut dyn Read) -> Result<u32> {
    let mut b = [0u8; 4];
    r.read_exact(&mut b).map_err(io("reading the snapshot"))?;
    Ok(u32::from_le_bytes(b))
}

fn read_u64(r: &mut dyn Read) -> Result<u64> {
    let mut b = [0u8; 8];
    r.read_exact(&mut b).map_err(io("reading the snapshot"))?;
    Ok(u64::from_le_bytes(b))
}

/// A length-prefixed byte string; refuses lengths a damaged stream might claim.
fn read_bytes(r: &mut dyn Read) -> Result<Vec<u8>> {
    let len = read_u32(r)?;
    if len > 256 * 1024 * 1024 {
        return Err(Error::Corrupt(format!("implausible length {len} in the snapshot")));
    }
    let mut v = vec![0u8; len as usize];
    r.read_exact(&mut v).map_err(io("reading the snapshot"))?;
    Ok(v)
}
