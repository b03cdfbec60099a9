//! One write transaction: records inserted and updated with their history, the change log,
//! links, unique claims, files, the search and clock indexes, the audit append and its index;
//! every table mutation also goes to the redo log (`Logged`). Commits together or not at all.

use std::borrow::Borrow;

use redb::{AccessGuard, Key, ReadableTable, Table, TableDefinition, Value, WriteTransaction};
use serde_json::value::RawValue;

use super::tables::{
    AUDIT, BIRTHS, CASE_CLOCKS, CHANGES, CLOCKS, COUNTERS, FILES, GRAM_COUNTS, GRAMS, HISTORY, LINKS, META,
    RECORDS, SEARCH_KEYS, UNIQUE,
};
use super::{Change, Reader, Record, Tab, Versioned, decode, encode, tables};
use crate::audit::AuditEntry;
use crate::deadline::Deadline;
use crate::error::{Error, Result};
use crate::ids::RecordId;
use crate::search;
use crate::time::Timestamp;

/// One write transaction: everything in it commits together or not at all.
pub struct WriteTx {
    pub(super) tx: WriteTransaction,
    pub now: Timestamp,
    pub by: u64,
    pub device: Option<String>,
    /// Every table mutation of this transaction, in order, as raw bytes: the redo log entry
    /// that the archive ships and a restore replays (see `txlog`).
    pub(super) redo: std::cell::RefCell<Vec<u8>>,
}

/// A table opened for writing whose inserts and removals are also written to the redo log.
pub(crate) struct Logged<'t, K: Key + 'static, V: Value + 'static> {
    table: Table<'t, K, V>,
    name: &'static str,
    redo: &'t std::cell::RefCell<Vec<u8>>,
}

impl<K: Key + 'static, V: Value + 'static> Logged<'_, K, V> {
    pub(crate) fn insert<'k, 'v>(
        &mut self,
        key: impl Borrow<K::SelfType<'k>>,
        value: impl Borrow<V::SelfType<'v>>,
    ) -> Result<(), redb::StorageError> {
        crate::txlog::record_insert(
            &mut self.redo.borrow_mut(),
            self.name,
            K::as_bytes(key.borrow()).as_ref(),
            V::as_bytes(value.borrow()).as_ref(),
        );
        self.table.insert(key, value).map(drop)
    }

    pub(crate) fn remove<'k>(&mut self, key: impl Borrow<K::SelfType<'k>>) -> Result<(), redb::StorageError> {
        crate::txlog::record_remove(
            &mut self.redo.borrow_mut(),
            self.name,
            K::as_bytes(key.borrow()).as_ref(),
        );
        self.table.remove(key).map(drop)
    }

    pub(crate) fn get<'a>(
        &self,
        key: impl Borrow<K::SelfType<'a>>,
    ) -> Result<Option<AccessGuard<'_, V>>, redb::StorageError> {
        self.table.get(key)
    }
}

impl Reader for WriteTx {
    fn table<K: Key + 'static, V: Value + 'static>(
        &self,
        def: TableDefinition<K, V>,
    ) -> Result<Tab<'_, K, V>> {
        self.tx.open_table(def).map(Tab::Rw).map_err(|e| Error::store("opening a table", e))
    }
}

impl WriteTx {
    pub(super) fn open<K: Key + 'static, V: Value + 'static>(
        &self,
        def: TableDefinition<K, V>,
    ) -> Result<Logged<'_, K, V>> {
        use redb::TableHandle;
        let name = crate::txlog::static_name(def.name())?;
        let table = self.tx.open_table(def).map_err(|e| Error::store("opening a table", e))?;
        Ok(Logged { table, name, redo: &self.redo })
    }

    fn next_id(&mut self, kind: &str) -> Result<u64> {
        let mut t = self.open(COUNTERS)?;
        let next = t.get(kind).map_err(|e| Error::store("reading a counter", e))?.map_or(1, |g| g.value());
        t.insert(kind, next + 1).map_err(|e| Error::store("writing a counter", e))?;
        Ok(next)
    }

    /// Increments a named counter (case numbers per unit and year) and returns the new value.
    pub fn bump(&mut self, name: &str) -> Result<u64> {
        self.next_id(name)
    }

    fn log_change<T: Record>(&mut self, v: &Versioned<T>, encoded: &[u8]) -> Result<()> {
        let seq = self.last_change_seq()? + 1;
        let record = RawValue::from_string(String::from_utf8_lossy(&encoded[2..]).into_owned())
            .map_err(|e| Error::Corrupt(format!("change log: {e}")))?;
        let change = Change {
            seq,
            at: self.now,
            by: self.by,
            device: self.device.clone(),
            kind: T::Id::KIND.to_owned(),
            id: v.id,
            rev: v.rev,
            sensitive: T::SENSITIVE,
            record,
        };
        let bytes = serde_json::to_vec(&change).map_err(|e| Error::Corrupt(format!("change log: {e}")))?;
        self.open(CHANGES)?
            .insert(seq, bytes.as_slice())
            .map_err(|e| Error::store("appending to the change log", e))?;
        // Indexed in the same transaction (or, if the index is behind, the oldest changes it
        // lacks: `Store::open` catches up on the rest).
        super::index_caseloads(&self.tx, 64).map(drop)
    }

    fn put<T: Record>(&mut self, v: &Versioned<T>) -> Result<()> {
        let bytes = encode(v)?;
        // No stored text holds a control character or a bidi override, whatever wrote it.
        crate::text::check_record(bytes.get(2..).unwrap_or_default())?;
        self.open(RECORDS)?
            .insert((T::Id::KIND, v.id), bytes.as_slice())
            .map_err(|e| Error::store("writing a record", e))?;
        self.log_change(v, &bytes)
    }

    /// Stores a new record under the next id of its kind.
    pub fn insert<T: Record>(&mut self, body: T) -> Result<Versioned<T>> {
        let id = self.next_id(T::Id::KIND)?;
        self.insert_at(T::Id::from(id), body)
    }

    /// Stores a new record under a chosen id (a credential shares its staff member's id).
    pub fn insert_at<T: Record>(&mut self, id: T::Id, body: T) -> Result<Versioned<T>> {
        if self.get::<T>(id)?.is_some() {
            return Err(Error::Corrupt(format!("{} {} already exists", T::Id::KIND, id.into())));
        }
        let v =
            Versioned { id: id.into(), rev: 1, at: self.now, by: self.by, device: self.device.clone(), body };
        self.put(&v)?;
        Ok(v)
    }

    /// Replaces a record, refusing if it is no longer at `expected_rev`. The old version moves to
    /// history.
    pub fn update<T: Record>(&mut self, id: T::Id, expected_rev: u64, body: T) -> Result<Versioned<T>> {
        let raw: u64 = id.into();
        let old_bytes = {
            let t = self.open(RECORDS)?;
            let g = t
                .get((T::Id::KIND, raw))
                .map_err(|e| Error::store("reading a record", e))?
                .ok_or_else(|| Error::not_found(T::Id::KIND, raw))?;
            g.value().to_vec()
        };
        let old: Versioned<T> = decode(&old_bytes)?;
        if old.rev != expected_rev {
            return Err(Error::Conflict {
                record: format!("{} {raw}", T::Id::KIND),
                expected: expected_rev,
                found: old.rev,
            });
        }
        self.open(HISTORY)?
            .insert((T::Id::KIND, raw, old.rev), old_bytes.as_slice())
            .map_err(|e| Error::store("writing history", e))?;
        let v = Versioned {
            id: raw,
            rev: old.rev + 1,
            at: self.now,
            by: self.by,
            device: self.device.clone(),
            body,
        };
        self.put(&v)?;
        Ok(v)
    }

    pub fn link(&mut self, rel: &str, from: u64, to: u64) -> Result<()> {
        self.open(LINKS)?.insert((rel, from, to), ()).map_err(|e| Error::store("writing a link", e))?;
        Ok(())
    }

    /// Claims a unique key (a login, a case number); fails if taken.
    pub fn claim(&mut self, ns: &str, key: &str, id: u64) -> Result<()> {
        if let Some(other) = self.unique(ns, key)?
            && other != id
        {
            return Err(Error::invalid("unique", format!("{ns} {key:?} is already taken")));
        }
        self.open(UNIQUE)?.insert((ns, key), id).map_err(|e| Error::store("writing a unique key", e))?;
        Ok(())
    }

    /// Stores a file under its SHA-256 (hex), once: the same bytes again change nothing.
    pub fn put_file(&mut self, sha256: &str, bytes: &[u8]) -> Result<()> {
        let mut files = self.open(FILES)?;
        if files.get(sha256).map_err(|e| Error::store("reading a file", e))?.is_none() {
            files.insert(sha256, bytes).map_err(|e| Error::store("writing a file", e))?;
        }
        Ok(())
    }

    pub fn set_meta(&mut self, key: &str, value: &[u8]) -> Result<()> {
        self.open(META)?.insert(key, value).map_err(|e| Error::store("writing meta", e))?;
        Ok(())
    }

    /// Replaces a child's search keys and birth date in the indexes.
    pub fn index_child(
        &mut self,
        child: u64,
        keys: &[String],
        birth: Option<crate::time::Date>,
        old_birth: Option<crate::time::Date>,
    ) -> Result<()> {
        let old_keys = self.child_search_keys(child)?;
        let grams_of = |ks: &[String]| {
            let mut g: Vec<String> = ks.iter().flat_map(|k| search::grams(k)).collect();
            g.sort();
            g.dedup();
            g
        };
        let (old, new) = (grams_of(&old_keys), grams_of(keys));
        {
            let mut postings = self.open(GRAMS)?;
            let mut counts = self.open(GRAM_COUNTS)?;
            let err = |e| Error::store("updating the search index", e);
            for g in old.iter().filter(|g| new.binary_search(g).is_err()) {
                postings.remove((g.as_str(), child)).map_err(err)?;
                let n = counts.get(g.as_str()).map_err(err)?.map_or(0, |v| v.value());
                if n <= 1 {
                    counts.remove(g.as_str()).map_err(err)?;
                } else {
                    counts.insert(g.as_str(), n - 1).map_err(err)?;
                }
            }
            for g in new.iter().filter(|g| old.binary_search(g).is_err()) {
                postings.insert((g.as_str(), child), ()).map_err(err)?;
                let n = counts.get(g.as_str()).map_err(err)?.map_or(0, |v| v.value());
                counts.insert(g.as_str(), n + 1).map_err(err)?;
            }
        }
        let joined = keys.join("\n");
        self.open(SEARCH_KEYS)?
            .insert(child, joined.as_str())
            .map_err(|e| Error::store("updating the search index", e))?;
        let mut births = self.open(BIRTHS)?;
        if let Some(d) = old_birth {
            births.remove((d.days(), child)).map_err(|e| Error::store("updating births", e))?;
        }
        if let Some(d) = birth {
            births.insert((d.days(), child), ()).map_err(|e| Error::store("updating births", e))?;
        }
        Ok(())
    }

    /// Replaces a case's clocks in the due-time index.
    pub fn set_case_clocks(&mut self, case: u64, clocks: &[Deadline]) -> Result<()> {
        let old = self.case_clocks(case)?;
        let scopes = |d: &Deadline| {
            let mut s = vec![format!("u{}", d.unit.0)];
            s.extend(d.workers.iter().map(|w| format!("w{}", w.0)));
            s
        };
        {
            let mut t = self.open(CLOCKS)?;
            let err = |e| Error::store("updating clocks", e);
            for d in &old {
                for s in scopes(d) {
                    t.remove((s.as_str(), d.due.0, d.case.0, d.kind.as_str(), d.subject)).map_err(err)?;
                }
            }
            for d in clocks {
                for s in scopes(d) {
                    t.insert((s.as_str(), d.due.0, d.case.0, d.kind.as_str(), d.subject), ()).map_err(err)?;
                }
            }
        }
        let json = serde_json::to_vec(clocks).map_err(|e| Error::Corrupt(format!("clocks: {e}")))?;
        self.open(CASE_CLOCKS)?
            .insert(case, json.as_slice())
            .map_err(|e| Error::store("updating clocks", e))?;
        Ok(())
    }

    /// Appends to the hash chain.
    pub fn append_audit(&mut self, entry: AuditEntry) -> Result<()> {
        self.append_audits(std::iter::once(entry))
    }

    /// Appends `entries` to the hash chain in order (a group commit's).
    pub fn append_audits(&mut self, entries: impl IntoIterator<Item = AuditEntry>) -> Result<()> {
        let last = self.last_audit()?;
        let (mut seq, mut hash) = last.map_or((0, crate::audit::GENESIS.to_owned()), |l| (l.seq, l.hash));
        let mut appended = 0u64;
        {
            let mut table = self.open(AUDIT)?;
            for mut entry in entries {
                seq += 1;
                entry.seq = seq;
                entry.seal(&hash);
                let bytes = entry.encode()?;
                table
                    .insert(entry.seq, bytes.as_slice())
                    .map_err(|e| Error::store("appending to the audit log", e))?;
                hash = entry.hash;
                appended += 1;
            }
        }
        if appended == 0 {
            return Ok(());
        }
        self.set_meta("audit_head", format!("{seq}:{hash}").as_bytes())?;
        // Index them in the same transaction (or, if the index is behind, as many of the oldest
        // entries it lacks: `Store::open` catches up on the rest).
        index_audit(&self.tx, appended).map(drop)
    }

    /// Commits: appends this transaction's redo entry to the log (in the same transaction), then
    /// commits durably.
    pub fn commit(self) -> Result<()> {
        let redo = self.redo.take();
        if !redo.is_empty() {
            crate::txlog::append(&self.tx, self.now, &redo)?;
        }
        self.tx.commit().map_err(|e| Error::store("committing", e))
    }
}

/// Puts the search terms of up to `limit` audit entries after the index's last into
/// `AUDIT_TERMS`, straight into `tx` (the index is not in the redo log). Stops at a gap or an
/// unreadable entry. Returns how many it indexed.
pub(crate) fn index_audit(tx: &WriteTransaction, limit: u64) -> Result<u64> {
    let err = |e| Error::store("indexing the audit log", e);
    let mut marker = tx.open_table(tables::INDEXED).map_err(|e| Error::store("opening a table", e))?;
    let mut last = marker.get("audit").map_err(err)?.map_or(0, |g| g.value());
    let start = last;
    let audit = tx.open_table(AUDIT).map_err(|e| Error::store("opening a table", e))?;
    let mut terms = tx.open_table(tables::AUDIT_TERMS).map_err(|e| Error::store("opening a table", e))?;
    for item in audit.range(last + 1..).map_err(err)?.take(usize::try_from(limit).unwrap_or(usize::MAX)) {
        let (k, v) = item.map_err(err)?;
        let seq = k.value();
        let Ok(entry) = AuditEntry::decode(v.value()) else { break };
        if seq != last + 1 || entry.seq != seq {
            break;
        }
        for term in entry.terms() {
            terms.insert((term.as_str(), seq), ()).map_err(err)?;
        }
        last = seq;
    }
    if last != start {
        marker.insert("audit", last).map_err(err)?;
    }
    Ok(last - start)
}
