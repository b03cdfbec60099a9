//! The redb store: every table defined once, versioned records with their history, the change log,
//! the audit chain, and the secondary indexes (links, search grams, birth dates, legal clocks).
//! Knows nothing of who may do what: that is the service's job.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, Instant};

use redb::{Database, ReadTransaction, ReadableDatabase, TransactionError, WriteTransaction};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::error::{Error, Result};
use crate::ids::RecordId;
use crate::time::Timestamp;

/// The on-disk layout version. Bump it only with a migration at open and a fixture-store test.
/// 2: the `files` table (photos). A format-1 store is migrated at open (the table is created and
/// the marker raised), so that an older program, which would leave the files out of its
/// backups, refuses the store instead.
pub const FORMAT: u32 = 2;
/// The store file inside a data directory.
pub const FILE_NAME: &str = "mamoru.redb";

/// Every table, defined once. The shapes are an API boundary (see docs/ARCHITECTURE.md).
pub(crate) mod tables {
    use redb::TableDefinition;
    /// `format`, `store_id`, `created_at`, `audit_head`.
    pub const META: TableDefinition<&str, &[u8]> = TableDefinition::new("meta");
    /// Next id per record kind.
    pub const COUNTERS: TableDefinition<&str, u64> = TableDefinition::new("counters");
    /// (kind, id) → current version: 2-byte schema, then the JSON envelope.
    pub const RECORDS: TableDefinition<(&str, u64), &[u8]> = TableDefinition::new("records");
    /// (kind, id, rev) → every earlier version, same encoding.
    pub const HISTORY: TableDefinition<(&str, u64, u64), &[u8]> = TableDefinition::new("history");
    /// seq → change-log entry (JSON).
    pub const CHANGES: TableDefinition<u64, &[u8]> = TableDefinition::new("changes");
    /// seq → audit entry (JSON, hash-chained).
    pub const AUDIT: TableDefinition<u64, &[u8]> = TableDefinition::new("audit");
    /// (relation, from, to): child→case, case→note, ...
    pub const LINKS: TableDefinition<(&str, u64, u64), ()> = TableDefinition::new("links");
    /// (namespace, key) → id: logins, case numbers.
    pub const UNIQUE: TableDefinition<(&str, &str), u64> = TableDefinition::new("unique");
    /// (gram, child) for name/furigana/phone search.
    pub const GRAMS: TableDefinition<(&str, u64), ()> = TableDefinition::new("search_grams");
    /// gram → number of children holding it (picks the rarest gram of a query).
    pub const GRAM_COUNTS: TableDefinition<&str, u64> = TableDefinition::new("search_gram_counts");
    /// child → its search keys, newline-separated.
    pub const SEARCH_KEYS: TableDefinition<u64, &str> = TableDefinition::new("search_keys");
    /// (days since epoch, child) for birth-date search and the duplicate check.
    pub const BIRTHS: TableDefinition<(i64, u64), ()> = TableDefinition::new("births");
    /// (scope, due, case, kind, subject): scope is `u{unit}` or `w{staff}`.
    pub const CLOCKS: TableDefinition<(&str, i64, u64, &str, u64), ()> = TableDefinition::new("clocks");
    /// case → its open clocks (JSON), to replace index entries on change.
    pub const CASE_CLOCKS: TableDefinition<u64, &[u8]> = TableDefinition::new("case_clocks");
    /// SHA-256 (hex) → a stored file's bytes (photos taken through the app); kept once however
    /// many records name it, and carried by snapshots and the redo log like every other table.
    pub const FILES: TableDefinition<&str, &[u8]> = TableDefinition::new("files");
    /// (term, seq) for searching the audit log: `s:{staff}`, `a:{action}`, `r:{kind}:{id}` (see
    /// `AuditEntry::terms`). Derived from `audit`, so not in the redo log: a replay indexes what
    /// it brought in. Carried by snapshots, so a restore need not rebuild it.
    pub const AUDIT_TERMS: TableDefinition<(&str, u64), ()> = TableDefinition::new("audit_terms");
    /// `audit` → the last audit entry `AUDIT_TERMS` holds; `caseloads` → the last change
    /// `CASELOADS` holds. Derived, like them.
    pub const INDEXED: TableDefinition<&str, u64> = TableDefinition::new("indexed");
    /// `("s", staff, case)` and `("c", case, staff)` for each worker of each open case (staff
    /// `0`: nobody works it): 担当ケース (see `caseloads`). Derived from the case records, so not
    /// in the redo log, and carried by snapshots, like `AUDIT_TERMS`.
    pub const CASELOADS: TableDefinition<(&str, u64, u64), ()> = TableDefinition::new("caseloads");
    /// seq → one committed transaction's redo entry (time + raw table mutations), kept until the
    /// archive has it. Written only by `txlog`, never itself logged.
    pub const TXLOG: TableDefinition<u64, &[u8]> = TableDefinition::new("txlog");
}
/// Applies `$f` to every logged table, in one fixed order (the redo log itself is not among
/// them).
#[macro_export]
#[doc(hidden)]
macro_rules! every_table {
    ($f:ident ( $($arg:expr),* )) => {{
        $f(META, $($arg),*)?;
        $f(COUNTERS, $($arg),*)?;
        $f(RECORDS, $($arg),*)?;
        $f(HISTORY, $($arg),*)?;
        $f(CHANGES, $($arg),*)?;
        $f(AUDIT, $($arg),*)?;
        $f(LINKS, $($arg),*)?;
        $f(UNIQUE, $($arg),*)?;
        $f(GRAMS, $($arg),*)?;
        $f(GRAM_COUNTS, $($arg),*)?;
        $f(SEARCH_KEYS, $($arg),*)?;
        $f(BIRTHS, $($arg),*)?;
        $f(CLOCKS, $($arg),*)?;
        $f(CASE_CLOCKS, $($arg),*)?;
        $f(FILES, $($arg),*)?;
    }};
}

use tables::{
    AUDIT, BIRTHS, CASE_CLOCKS, CHANGES, CLOCKS, COUNTERS, FILES, GRAM_COUNTS, GRAMS, HISTORY, LINKS, META,
    RECORDS, SEARCH_KEYS, UNIQUE,
};

pub use crate::record::{Record, Versioned};

mod audit_log;
pub(crate) mod caseloads;
mod group;
mod pages;
mod read;
pub mod snapshot;
pub mod txlog;
mod write;

pub use audit_log::{audit_count, check_anchors, search_audit, verify_audit};
pub use caseloads::UNASSIGNED;
pub(crate) use caseloads::index as index_caseloads;
pub use read::{ReadTx, Reader, Tab};
pub use write::WriteTx;
pub(crate) use write::index_audit;

/// One committed change, in commit order: feeds events, the backup archive and replication.
#[derive(Debug, Serialize, Deserialize)]
pub struct Change {
    pub seq: u64,
    pub at: Timestamp,
    pub by: u64,
    #[serde(default)]
    pub device: Option<String>,
    pub kind: String,
    pub id: u64,
    pub rev: u64,
    pub sensitive: bool,
    pub record: Box<RawValue>,
}

fn encode<T: Record>(v: &Versioned<T>) -> Result<Vec<u8>> {
    let mut out = T::SCHEMA.to_le_bytes().to_vec();
    serde_json::to_writer(&mut out, v)
        .map_err(|e| Error::Corrupt(format!("encoding {}: {e}", T::Id::KIND)))?;
    Ok(out)
}

fn decode<T: Record>(bytes: &[u8]) -> Result<Versioned<T>> {
    let kind = T::Id::KIND;
    let (schema, json) = bytes
        .split_first_chunk::<2>()
        .map(|(s, rest)| (u16::from_le_bytes(*s), rest))
        .ok_or_else(|| Error::Corrupt(format!("{kind} record too short")))?;
    if schema == T::SCHEMA {
        return serde_json::from_slice(json).map_err(|e| Error::Corrupt(format!("{kind} record: {e}")));
    }
    if schema > T::SCHEMA {
        return Err(Error::Corrupt(format!(
            "{kind} record has schema {schema}, newer than this program's {}: upgrade Mamoru",
            T::SCHEMA
        )));
    }
    let mut raw: Versioned<serde_json::Value> =
        serde_json::from_slice(json).map_err(|e| Error::Corrupt(format!("{kind} record: {e}")))?;
    raw.body = T::upgrade(schema, raw.body)
        .map_err(|e| Error::Corrupt(format!("{kind} record schema {schema}: {e}")))?;
    let body = serde_json::from_value(raw.body)
        .map_err(|e| Error::Corrupt(format!("{kind} record after upgrade: {e}")))?;
    Ok(Versioned { id: raw.id, rev: raw.rev, at: raw.at, by: raw.by, device: raw.device, body })
}

/// Some fields of a record (`P`: a struct of some of `T`'s fields, named as stored); the rest
/// is parsed past, not built. A record of another schema is decoded whole first (upgraded, or
/// refused when newer).
fn decode_part<T: Record, P: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<P> {
    #[derive(Deserialize)]
    struct Part<P> {
        body: P,
    }
    let kind = T::Id::KIND;
    let part = match bytes.split_first_chunk::<2>() {
        Some((schema, json)) if u16::from_le_bytes(*schema) == T::SCHEMA => {
            serde_json::from_slice::<Part<P>>(json).map(|p| p.body)
        }
        _ => serde_json::to_value(decode::<T>(bytes)?.body).and_then(serde_json::from_value),
    };
    part.map_err(|e| Error::Corrupt(format!("{kind} record: {e}")))
}

/// The open store of one data directory.
pub struct Store {
    /// `None` once redb failed on the file (a full disk, an I/O error) and the store closed it,
    /// until it is reopened (see `with_db`).
    db: RwLock<Option<Arc<Database>>>,
    path: PathBuf,
    /// Not before then does the store try to reopen its file again.
    next_reopen: Mutex<Instant>,
    /// Audit entries waiting to be committed together (`group.rs`).
    audit_group: group::AuditGroup,
}

/// How often at most a store whose file failed tries to reopen it.
const REOPEN_EVERY: Duration = Duration::from_secs(1);

pub use crate::uptime::{DISK_FULL_BELOW, DISK_LOW_BELOW, DiskSpace, DiskState};

/// The space of the file system holding `path`, as `statvfs` sees it (the space an
/// unprivileged process may use).
#[must_use]
pub fn disk_space(path: &Path) -> Option<DiskSpace> {
    let s = rustix::fs::statvfs(path).ok()?;
    Some(DiskSpace {
        free_bytes: s.f_bavail.saturating_mul(s.f_frsize),
        total_bytes: s.f_blocks.saturating_mul(s.f_frsize),
    })
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("path", &self.path).finish_non_exhaustive()
    }
}

fn open_error(path: &Path, e: redb::DatabaseError) -> Error {
    match e {
        redb::DatabaseError::DatabaseAlreadyOpen => Error::AlreadyOpen { path: path.display().to_string() },
        other => Error::Corrupt(format!("cannot open {}: {other}", path.display())),
    }
}

impl Store {
    /// Creates a new store in `dir` (created if missing); refuses if one is there already.
    pub fn create(dir: &Path, now: Timestamp) -> Result<Self> {
        std::fs::create_dir_all(dir)
            .map_err(|e| Error::invalid("data", format!("cannot create {}: {e}", dir.display())))?;
        let path = dir.join(FILE_NAME);
        if path.exists() {
            return Err(Error::invalid("data", format!("{} already holds a Mamoru store", dir.display())));
        }
        let db = Database::builder().create(&path).map_err(|e| open_error(&path, e))?;
        let store = Self::holding(db, path);
        store.ensure_tables(now)?;
        let mut tx = store.begin_write(now, 0, None)?;
        tx.set_meta("format", &FORMAT.to_le_bytes())?;
        let mut id = [0u8; 16];
        getrandom::fill(&mut id).map_err(|e| Error::Corrupt(format!("no randomness: {e}")))?;
        let hex = crate::to_hex(&id);
        tx.set_meta("store_id", hex.as_bytes())?;
        tx.set_meta("created_at", &now.0.to_le_bytes())?;
        // Nothing to index yet: the caseload index starts at the first change.
        tx.tx
            .open_table(tables::INDEXED)
            .and_then(|mut t| t.insert("caseloads", 0).map(drop).map_err(Into::into))
            .map_err(|e| Error::store("creating", e))?;
        tx.commit()?;
        Ok(store)
    }

    /// Opens the store in `dir`: a clear error if there is none, it is in use, or it is damaged.
    pub fn open(dir: &Path) -> Result<Self> {
        let path = dir.join(FILE_NAME);
        if !path.is_file() {
            return Err(Error::NotFound {
                what: "store",
                id: format!("{} (run `mamoru init`)", dir.display()),
            });
        }
        let db = Database::builder().open(&path).map_err(|e| open_error(&path, e))?;
        // A copy an integrity check left when its process was killed (it holds records that
        // may since have been erased).
        let _ = std::fs::remove_file(pages::check_copy_path(&path));
        let store = Self::holding(db, path);
        let format = store
            .read()?
            .meta("format")?
            .and_then(|b| b.try_into().ok().map(u32::from_le_bytes))
            .ok_or_else(|| Error::Corrupt(format!("{} has no format marker", store.path.display())))?;
        if format > FORMAT {
            return Err(Error::Corrupt(format!(
                "store format {format} is newer than this program's {FORMAT}: upgrade Mamoru"
            )));
        }
        store.ensure_tables(Timestamp(0))?;
        if format < FORMAT {
            // Outside the redo log: a logged write here would take the next redo number, and a
            // restored snapshot being migrated would then skip the archive's first entry.
            let tx = store.raw_write()?;
            tx.open_table(META)
                .and_then(|mut m| {
                    m.insert("format", FORMAT.to_le_bytes().as_slice()).map(drop).map_err(Into::into)
                })
                .map_err(|e| Error::store("raising the format marker", e))?;
            tx.commit().map_err(|e| Error::store("raising the format marker", e))?;
        }
        store.index_audit()?;
        store.index_caseloads()?;
        Ok(store)
    }

    /// Indexes the case changes the caseload index has not reached yet (the whole store, from its
    /// case records, the first time). Unlogged (the index is derived), in transactions of a few
    /// thousand changes. Returns how many changes or records it read.
    pub fn index_caseloads(&self) -> Result<u64> {
        const BATCH: u64 = 5000;
        let mut total = 0;
        loop {
            let tx = self.raw_write()?;
            let (read, changed) = caseloads::index(&tx, BATCH)?;
            if !changed {
                // Caught up: nothing written, so dropped, not committed.
                return Ok(total);
            }
            tx.commit().map_err(|e| Error::store("indexing caseloads", e))?;
            total += read;
            if read < BATCH {
                return Ok(total);
            }
        }
    }

    /// Indexes the audit entries the term index has not reached yet: every entry of a store
    /// written before the index existed or restored from a snapshot without it. Unlogged (the
    /// index is derived), in transactions of a few thousand entries. Returns how many.
    pub fn index_audit(&self) -> Result<u64> {
        let mut total = 0;
        loop {
            let tx = self.raw_write()?;
            let done = index_audit(&tx, 5000)?;
            if done == 0 {
                // Caught up, or at a gap or a damaged entry (`audit verify` names it; searches
                // read the entries after it one by one). Nothing written: dropped, not committed.
                return Ok(total);
            }
            tx.commit().map_err(|e| Error::store("indexing the audit log", e))?;
            total += done;
        }
    }

    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn holding(db: Database, path: PathBuf) -> Self {
        Self {
            db: RwLock::new(Some(Arc::new(db))),
            path,
            next_reopen: Mutex::new(Instant::now()),
            audit_group: group::AuditGroup::default(),
        }
    }

    /// Runs `f` on the database. redb latches its first I/O failure on the file (a commit that
    /// met a full disk) and refuses every transaction after it until the file is reopened: then
    /// the store closes the file, reopens it once the disk has space again, and runs `f` once
    /// more. Until then every call fails with [`Error::Unavailable`] and changes nothing; no
    /// restart is needed.
    fn with_db<T, E: Into<redb::Error>>(
        &self,
        context: &'static str,
        f: impl Fn(&Database) -> std::result::Result<T, E>,
    ) -> Result<T> {
        let db = self.database(context)?;
        match f(&db).map_err(Into::into) {
            Ok(t) => Ok(t),
            Err(e) if crate::error::is_io(&e) => {
                self.close_failed(&db);
                drop(db);
                let db = self.database(context).map_err(|_| Error::store(context, e))?;
                f(&db).map_err(|e| Error::store(context, e))
            }
            Err(e) => Err(Error::store(context, e)),
        }
    }

    /// The open database; reopened first when an I/O failure closed it.
    fn database(&self, context: &'static str) -> Result<Arc<Database>> {
        if let Some(db) = self.db.read().unwrap_or_else(PoisonError::into_inner).as_ref() {
            return Ok(db.clone());
        }
        let mut slot = self.db.write().unwrap_or_else(PoisonError::into_inner);
        if let Some(db) = slot.as_ref() {
            return Ok(db.clone());
        }
        let unavailable =
            |source: redb::Error| Error::Unavailable(crate::error::StoreError { context, source });
        if self.disk_space().is_some_and(|d| d.state() == DiskState::Full) {
            return Err(unavailable(std::io::Error::from(std::io::ErrorKind::StorageFull).into()));
        }
        {
            let mut next = self.next_reopen.lock().unwrap_or_else(PoisonError::into_inner);
            if Instant::now() < *next {
                return Err(unavailable(redb::Error::PreviousIo));
            }
            *next = Instant::now() + REOPEN_EVERY;
        }
        // Fails while a transaction begun on the closed file still holds it (redb closes it
        // when that ends); the next call tries again.
        let db = Database::builder().open(&self.path).map_err(|e| unavailable(e.into()))?;
        let db = Arc::new(db);
        *slot = Some(db.clone());
        Ok(db)
    }

    /// Whether the file is open: a transaction begins without reopening it (which, after an
    /// I/O failure closed it, may take as long as redb's check of the file).
    pub fn is_open(&self) -> bool {
        self.db.read().unwrap_or_else(PoisonError::into_inner).is_some()
    }

    /// Closes the file after redb failed on it (unless it was reopened meanwhile).
    fn close_failed(&self, failed: &Arc<Database>) {
        let mut slot = self.db.write().unwrap_or_else(PoisonError::into_inner);
        if slot.as_ref().is_some_and(|db| Arc::ptr_eq(db, failed)) {
            *slot = None;
        }
    }

    /// Whether the store can write now: a write transaction can begin (none is refused for an
    /// earlier I/O failure). Begins none when another one is running, and writes nothing.
    pub fn writable(&self) -> Result<()> {
        self.with_db("probing a write", |db| match db.try_begin_write() {
            Ok(_) | Err(TransactionError::WouldBlock) => Ok(()),
            Err(e) => Err(e),
        })
    }

    /// The size of the store's file.
    #[must_use]
    pub fn file_bytes(&self) -> Option<u64> {
        std::fs::metadata(&self.path).ok().map(|m| m.len())
    }

    /// The space of the disk holding the store.
    #[must_use]
    pub fn disk_space(&self) -> Option<DiskSpace> {
        disk_space(self.path.parent().unwrap_or(Path::new(".")))
    }

    /// A write transaction outside the redo log: for the log's own bookkeeping and replay.
    pub(crate) fn raw_write(&self) -> Result<WriteTransaction> {
        self.with_db("starting a write", Database::begin_write)
    }

    pub(crate) fn raw_read(&self) -> Result<ReadTransaction> {
        self.with_db("starting a read", Database::begin_read)
    }

    pub fn read(&self) -> Result<ReadTx> {
        self.raw_read().map(ReadTx::from_raw)
    }

    /// Starts a durable write (two-phase commit, fsync before `commit` returns).
    pub fn begin_write(&self, now: Timestamp, by: u64, device: Option<String>) -> Result<WriteTx> {
        let mut tx = self.raw_write()?;
        tx.set_two_phase_commit(true);
        Ok(WriteTx { tx, now, by, device, redo: std::cell::RefCell::default() })
    }

    /// Creates any table that does not exist yet, so readers never meet a missing table.
    fn ensure_tables(&self, now: Timestamp) -> Result<()> {
        let w = self.begin_write(now, 0, None)?;
        w.open(META)?;
        w.open(COUNTERS)?;
        w.open(RECORDS)?;
        w.open(HISTORY)?;
        w.open(CHANGES)?;
        w.open(AUDIT)?;
        w.open(LINKS)?;
        w.open(UNIQUE)?;
        w.open(GRAMS)?;
        w.open(GRAM_COUNTS)?;
        w.open(SEARCH_KEYS)?;
        w.open(BIRTHS)?;
        w.open(CLOCKS)?;
        w.open(CASE_CLOCKS)?;
        w.open(FILES)?;
        w.tx.open_table(tables::TXLOG).map_err(|e| Error::store("opening a table", e))?;
        w.tx.open_table(tables::AUDIT_TERMS).map_err(|e| Error::store("opening a table", e))?;
        w.tx.open_table(tables::INDEXED).map_err(|e| Error::store("opening a table", e))?;
        w.tx.open_table(tables::CASELOADS).map_err(|e| Error::store("opening a table", e))?;
        w.commit()
    }

    /// After a restore: the store gets a new id (its history from here on is a new timeline), and
    /// remembers the id it was restored from. The old archive then refuses it, so two histories
    /// never mix in one archive. Returns the new id.
    pub fn begin_new_timeline(&self) -> Result<String> {
        let old = self.store_id()?;
        let mut id = [0u8; 16];
        getrandom::fill(&mut id).map_err(|e| Error::Corrupt(format!("no randomness: {e}")))?;
        let new = crate::to_hex(&id);
        let mut tx = self.begin_write(Timestamp(0), 0, Some("restore".into()))?;
        tx.set_meta("store_id", new.as_bytes())?;
        tx.set_meta("restored_from", old.as_bytes())?;
        tx.commit()?;
        Ok(new)
    }

    /// The meta value `key`, made by `make` and stored the first time it is asked for: in one
    /// write, so two first askers agree on it. Kept by backups and restores like every row.
    pub fn meta_or_insert(
        &self,
        now: Timestamp,
        key: &str,
        make: impl FnOnce() -> Result<Vec<u8>>,
    ) -> Result<Vec<u8>> {
        if let Some(v) = self.read()?.meta(key)? {
            return Ok(v);
        }
        let mut tx = self.begin_write(now, 0, None)?;
        if let Some(v) = tx.meta(key)? {
            return Ok(v);
        }
        let v = make()?;
        tx.set_meta(key, &v)?;
        tx.commit()?;
        Ok(v)
    }

    /// The random id given to this store when it was created (a restore gives it a new one).
    pub fn store_id(&self) -> Result<String> {
        Ok(self
            .read()?
            .meta("store_id")?
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default())
    }

    /// Bytes the store file takes on disk.
    pub fn file_size(&self) -> u64 {
        std::fs::metadata(&self.path).map_or(0, |m| m.len())
    }
}

#[cfg(test)]
mod tests;
