//! The redo log: every committed write transaction leaves one entry (its commit time and each raw
//! table mutation, in order) in the `txlog` table, in the same transaction. The backup archive
//! ships entries in order and then prunes them here; a restore replays them on top of a snapshot
//! to reach the point of failure. Replaying raw mutations gives back exactly the state the
//! original transactions made — records, indexes, change log and audit chain alike — with no
//! domain logic run twice.
//!
//! Entry: i64 commit time, then ops: `1 name key value` (insert) or `2 name key` (remove); a name
//! is a u8 length and bytes, a key or value a u32 length and bytes; numbers little-endian.

use redb::{Key, ReadableTable, TableDefinition, TableHandle, Value, WriteTransaction};

use crate::error::{Error, Result};
use crate::store::Store;
use crate::store::tables::{
    AUDIT, BIRTHS, CASE_CLOCKS, CHANGES, CLOCKS, COUNTERS, FILES, GRAM_COUNTS, GRAMS, HISTORY, LINKS, META,
    RECORDS, SEARCH_KEYS, TXLOG, UNIQUE,
};
use crate::time::Timestamp;

/// One redo entry with its sequence number.
pub type Entry = (u64, Vec<u8>);

const INSERT: u8 = 1;
const REMOVE: u8 = 2;
/// The META key holding the last redo sequence number (not itself logged).
const SEQ_KEY: &str = "tx_seq";

/// Every logged table's name, as a `'static` str for the ops.
const NAMES: [&str; 15] = [
    "meta",
    "counters",
    "records",
    "history",
    "changes",
    "audit",
    "links",
    "unique",
    "search_grams",
    "search_gram_counts",
    "search_keys",
    "births",
    "clocks",
    "case_clocks",
    "files",
];

pub(crate) fn static_name(name: &str) -> Result<&'static str> {
    NAMES
        .iter()
        .find(|n| **n == name)
        .copied()
        .ok_or_else(|| Error::Corrupt(format!("table {name} is not logged")))
}

#[expect(clippy::cast_possible_truncation, reason = "table names are short constants")]
fn put_name(buf: &mut Vec<u8>, name: &str) {
    buf.push(name.len() as u8);
    buf.extend_from_slice(name.as_bytes());
}

#[expect(clippy::cast_possible_truncation, reason = "redb keys and values are below 4 GiB")]
fn put_bytes(buf: &mut Vec<u8>, bytes: &[u8]) {
    buf.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
    buf.extend_from_slice(bytes);
}

pub(crate) fn record_insert(buf: &mut Vec<u8>, name: &str, key: &[u8], value: &[u8]) {
    buf.push(INSERT);
    put_name(buf, name);
    put_bytes(buf, key);
    put_bytes(buf, value);
}

pub(crate) fn record_remove(buf: &mut Vec<u8>, name: &str, key: &[u8]) {
    buf.push(REMOVE);
    put_name(buf, name);
    put_bytes(buf, key);
}

fn last_seq(tx: &WriteTransaction) -> Result<u64> {
    let meta = tx.open_table(META).map_err(|e| Error::store("reading the redo sequence", e))?;
    let seq = meta.get(SEQ_KEY).map_err(|e| Error::store("reading the redo sequence", e))?;
    Ok(seq.and_then(|g| g.value().try_into().ok().map(u64::from_le_bytes)).unwrap_or(0))
}

fn set_seq(tx: &WriteTransaction, seq: u64) -> Result<()> {
    let mut meta = tx.open_table(META).map_err(|e| Error::store("writing the redo sequence", e))?;
    meta.insert(SEQ_KEY, seq.to_le_bytes().as_slice())
        .map_err(|e| Error::store("writing the redo sequence", e))?;
    Ok(())
}

/// Appends one transaction's redo entry inside that transaction.
pub(crate) fn append(tx: &WriteTransaction, at: Timestamp, redo: &[u8]) -> Result<()> {
    let seq = last_seq(tx)? + 1;
    let mut entry = Vec::with_capacity(8 + redo.len());
    entry.extend_from_slice(&at.0.to_le_bytes());
    entry.extend_from_slice(redo);
    let mut log = tx.open_table(TXLOG).map_err(|e| Error::store("appending to the redo log", e))?;
    log.insert(seq, entry.as_slice()).map_err(|e| Error::store("appending to the redo log", e))?;
    drop(log);
    set_seq(tx, seq)
}

/// The commit time of a redo entry.
pub fn entry_time(entry: &[u8]) -> Result<Timestamp> {
    entry
        .first_chunk::<8>()
        .map(|b| Timestamp(i64::from_le_bytes(*b)))
        .ok_or_else(|| Error::Corrupt("redo entry too short".into()))
}

struct Cursor<'a>(&'a [u8]);

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        if self.0.len() < n {
            return Err(Error::Corrupt("redo entry cut short".into()));
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }
    fn byte(&mut self) -> Result<u8> {
        Ok(self.take(1)?[0])
    }
    fn bytes(&mut self) -> Result<&'a [u8]> {
        let len = u32::from_le_bytes(self.take(4)?.try_into().map_err(|_| Error::Corrupt("length".into()))?);
        self.take(len as usize)
    }
}

/// One op, applied raw to its table if `name` is this table's.
fn apply_op<K: Key + 'static, V: Value + 'static>(
    def: TableDefinition<K, V>,
    tx: &WriteTransaction,
    op: u8,
    name: &str,
    key: &[u8],
    value: &[u8],
    done: &mut bool,
) -> Result<()> {
    if *done || def.name() != name {
        return Ok(());
    }
    let mut table = tx.open_table(def).map_err(|e| Error::store("replaying", e))?;
    if op == INSERT {
        table.insert(K::from_bytes(key), V::from_bytes(value)).map_err(|e| Error::store("replaying", e))?;
    } else {
        table.remove(K::from_bytes(key)).map_err(|e| Error::store("replaying", e))?;
    }
    *done = true;
    Ok(())
}

fn apply_entry(tx: &WriteTransaction, entry: &[u8]) -> Result<()> {
    let mut c = Cursor(entry.get(8..).ok_or_else(|| Error::Corrupt("redo entry too short".into()))?);
    while !c.0.is_empty() {
        let op = c.byte()?;
        let name_len = usize::from(c.byte()?);
        let name = std::str::from_utf8(c.take(name_len)?).map_err(|_| Error::Corrupt("table name".into()))?;
        let key = c.bytes()?;
        let value = match op {
            INSERT => c.bytes()?,
            REMOVE => &[],
            other => return Err(Error::Corrupt(format!("redo op {other}"))),
        };
        let mut done = false;
        crate::every_table!(apply_op(tx, op, name, key, value, &mut done));
        if !done {
            return Err(Error::Corrupt(format!("redo entry names unknown table {name}")));
        }
    }
    Ok(())
}

/// The raw inserts into `table` that a redo entry holds, in order.
pub fn inserts_into(entry: &[u8], table: &str) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
    let mut c = Cursor(entry.get(8..).ok_or_else(|| Error::Corrupt("redo entry too short".into()))?);
    let mut out = Vec::new();
    while !c.0.is_empty() {
        let op = c.byte()?;
        let name_len = usize::from(c.byte()?);
        let name = c.take(name_len)?;
        let key = c.bytes()?;
        if op == INSERT {
            let value = c.bytes()?;
            if name == table.as_bytes() {
                out.push((key.to_vec(), value.to_vec()));
            }
        }
    }
    Ok(out)
}

/// What a replay reached.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Replayed {
    /// The last sequence number applied (or already present).
    pub last_seq: u64,
    pub applied: u64,
    /// The commit time of the last applied entry.
    pub last_at: Option<Timestamp>,
}

/// A redo entry as stored: its sequence number and bytes.
pub type RawEntry = (u64, Vec<u8>);

impl Store {
    /// The last redo sequence number committed.
    pub fn redo_seq(&self) -> Result<u64> {
        let tx = self.raw_read()?;
        let meta = tx.open_table(META).map_err(|e| Error::store("reading the redo sequence", e))?;
        let seq = meta.get(SEQ_KEY).map_err(|e| Error::store("reading the redo sequence", e))?;
        Ok(seq.and_then(|g| g.value().try_into().ok().map(u64::from_le_bytes)).unwrap_or(0))
    }

    /// Redo entries after `after`, oldest first, at most `limit`.
    pub fn redo_after(&self, after: u64, limit: usize) -> Result<Vec<(u64, Vec<u8>)>> {
        self.redo_after_with_head(after, limit).map(|(entries, _)| entries)
    }

    /// [`Store::redo_after`] and the audit chain's head (`SEQ:HASH`) from the same read: the
    /// head the entries lead to, or a later one if the batch stopped at `limit`.
    pub fn redo_after_with_head(&self, after: u64, limit: usize) -> Result<(Vec<RawEntry>, Option<String>)> {
        let tx = self.raw_read()?;
        let head = {
            let meta = tx.open_table(META).map_err(|e| Error::store("reading the audit head", e))?;
            let g = meta.get("audit_head").map_err(|e| Error::store("reading the audit head", e))?;
            g.map(|v| String::from_utf8_lossy(v.value()).into_owned())
        };
        let log = tx.open_table(TXLOG).map_err(|e| Error::store("reading the redo log", e))?;
        let mut out = Vec::new();
        for item in log
            .range(after.saturating_add(1)..)
            .map_err(|e| Error::store("reading the redo log", e))?
            .take(limit)
        {
            let (k, v) = item.map_err(|e| Error::store("reading the redo log", e))?;
            out.push((k.value(), v.value().to_vec()));
        }
        Ok((out, head))
    }

    /// Removes redo entries up to and including `through` once the archive holds them.
    pub fn prune_redo(&self, through: u64) -> Result<u64> {
        let mut tx = self.raw_write()?;
        tx.set_two_phase_commit(true);
        let removed = {
            let mut log = tx.open_table(TXLOG).map_err(|e| Error::store("pruning the redo log", e))?;
            let gone = log
                .extract_from_if(..=through, |_, _| true)
                .map_err(|e| Error::store("pruning the redo log", e))?;
            gone.count() as u64
        };
        tx.commit().map_err(|e| Error::store("pruning the redo log", e))?;
        Ok(removed)
    }

    /// Replays redo entries in order on this store (a restored snapshot). Entries at or below the
    /// store's own sequence are skipped; the first entry that does not follow on is a gap and
    /// stops the replay with an error naming it; an entry committed after `until` stops it
    /// quietly. One durable transaction per call.
    pub fn replay(&self, entries: &[(u64, Vec<u8>)], until: Option<Timestamp>) -> Result<Replayed> {
        let tx = self.raw_write()?;
        let mut last = last_seq(&tx)?;
        let mut applied = 0;
        let mut last_at = None;
        for (seq, entry) in entries {
            if *seq <= last {
                continue;
            }
            if *seq != last + 1 {
                return Err(Error::Corrupt(format!(
                    "the archive has a gap: after change {last} comes {seq}"
                )));
            }
            let at = entry_time(entry)?;
            if until.is_some_and(|u| at > u) {
                break;
            }
            apply_entry(&tx, entry)?;
            last = *seq;
            last_at = Some(at);
            applied += 1;
        }
        set_seq(&tx, last)?;
        // The audit entries it brought in are searched like the store's own.
        crate::store::index_audit(&tx, u64::MAX)?;
        // And the cases it brought in are in their workers' caseloads.
        crate::store::index_caseloads(&tx, u64::MAX)?;
        tx.commit().map_err(|e| Error::store("replaying", e))?;
        Ok(Replayed { last_seq: last, applied, last_at })
    }
}
