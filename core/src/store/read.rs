//! Reading the store: `Reader`, shared by read and write transactions (records with their
//! history, counts, links, unique keys, files, the search and birth-date indexes, the legal
//! clocks, the change log and the audit log), and `ReadTx`, one consistent snapshot.

use std::borrow::Borrow;
use std::ops::RangeBounds;

use redb::{AccessGuard, Key, ReadOnlyTable, ReadTransaction, ReadableTable, Table, TableDefinition, Value};

use super::tables::{
    AUDIT, BIRTHS, CASE_CLOCKS, CHANGES, CLOCKS, FILES, GRAM_COUNTS, GRAMS, HISTORY, LINKS, META, RECORDS,
    SEARCH_KEYS, UNIQUE,
};
use super::{Change, Record, Versioned, decode, decode_part, tables};
use crate::audit::AuditEntry;
use crate::deadline::Deadline;
use crate::error::{Error, Result};
use crate::ids::RecordId;
use crate::search;
use crate::time::Timestamp;

/// A table opened in either kind of transaction.
pub enum Tab<'t, K: Key + 'static, V: Value + 'static> {
    Ro(ReadOnlyTable<K, V>),
    Rw(Table<'t, K, V>),
}

impl<K: Key + 'static, V: Value + 'static> Tab<'_, K, V> {
    pub(super) fn get<'a>(&self, key: impl Borrow<K::SelfType<'a>>) -> Result<Option<AccessGuard<'_, V>>> {
        match self {
            Tab::Ro(t) => t.get(key),
            Tab::Rw(t) => t.get(key),
        }
        .map_err(|e| Error::store("reading", e))
    }

    pub(crate) fn range<'a, KR>(&self, r: impl RangeBounds<KR> + 'a) -> Result<redb::Range<'_, K, V>>
    where
        KR: Borrow<K::SelfType<'a>> + 'a,
    {
        match self {
            Tab::Ro(t) => t.range(r),
            Tab::Rw(t) => t.range(r),
        }
        .map_err(|e| Error::store("scanning", e))
    }

    fn last(&self) -> Result<Option<(AccessGuard<'_, K>, AccessGuard<'_, V>)>> {
        match self {
            Tab::Ro(t) => t.last(),
            Tab::Rw(t) => t.last(),
        }
        .map_err(|e| Error::store("reading", e))
    }

    fn len(&self) -> Result<u64> {
        use redb::ReadableTableMetadata;
        match self {
            Tab::Ro(t) => t.len(),
            Tab::Rw(t) => t.len(),
        }
        .map_err(|e| Error::store("counting", e))
    }
}

/// Reads shared by read and write transactions.
pub trait Reader {
    fn table<K: Key + 'static, V: Value + 'static>(
        &self,
        def: TableDefinition<K, V>,
    ) -> Result<Tab<'_, K, V>>;

    /// `read` of the stored bytes of record `kind`/`id`, if there is one. A read transaction
    /// keeps the records table open for its life (a page reads dozens of records: opening
    /// the table for each was a tenth of a search page's time); a write transaction opens it.
    fn with_record<R>(
        &self,
        kind: &str,
        id: u64,
        read: impl FnOnce(&[u8]) -> Result<R>,
    ) -> Result<Option<R>> {
        let t = self.table(RECORDS)?;
        let found = t.get((kind, id))?;
        found.map(|g| read(g.value())).transpose()
    }

    /// The current version of a record.
    fn get<T: Record>(&self, id: T::Id) -> Result<Option<Versioned<T>>> {
        self.with_record(T::Id::KIND, id.into(), decode)
    }

    /// Some fields of a record's current version (`P`: a struct of some of `T`'s fields); the
    /// rest is parsed past, not built: for lists that read many records for a few fields.
    fn get_part<T: Record, P: serde::de::DeserializeOwned>(&self, id: T::Id) -> Result<Option<P>> {
        self.with_record(T::Id::KIND, id.into(), decode_part::<T, P>)
    }

    fn require<T: Record>(&self, id: T::Id) -> Result<Versioned<T>> {
        self.get::<T>(id)?.ok_or_else(|| Error::not_found(T::Id::KIND, id.into()))
    }

    /// Every version of a record, oldest first, the current one last.
    fn history<T: Record>(&self, id: T::Id) -> Result<Vec<Versioned<T>>> {
        let raw: u64 = id.into();
        let mut out = Vec::new();
        {
            let t = self.table(HISTORY)?;
            for item in t.range((T::Id::KIND, raw, 0)..=(T::Id::KIND, raw, u64::MAX))? {
                let (_, v) = item.map_err(|e| Error::store("reading history", e))?;
                out.push(decode(v.value())?);
            }
        }
        out.extend(self.get::<T>(id)?);
        Ok(out)
    }

    /// All records of a kind, in id order (for small kinds: units, staff, code tables).
    fn all<T: Record>(&self) -> Result<Vec<Versioned<T>>> {
        let t = self.table(RECORDS)?;
        let mut out = Vec::new();
        for item in t.range((T::Id::KIND, 0)..=(T::Id::KIND, u64::MAX))? {
            let (_, v) = item.map_err(|e| Error::store("listing", e))?;
            out.push(decode(v.value())?);
        }
        Ok(out)
    }

    /// Some fields (`P`, as in `get_part`) of every record of a kind, in id order: for counts
    /// over many records (the statistics), without building them whole.
    fn each_part<T: Record, P: serde::de::DeserializeOwned>(
        &self,
        f: &mut dyn FnMut(u64, P) -> Result<()>,
    ) -> Result<()> {
        let t = self.table(RECORDS)?;
        for item in t.range((T::Id::KIND, 0)..=(T::Id::KIND, u64::MAX))? {
            let (k, v) = item.map_err(|e| Error::store("listing", e))?;
            f(k.value().1, decode_part::<T, P>(v.value())?)?;
        }
        Ok(())
    }

    /// A child's search keys as indexed (none if not indexed).
    fn child_search_keys(&self, child: u64) -> Result<Vec<String>> {
        Ok(self
            .table(SEARCH_KEYS)?
            .get(child)?
            .map(|v| v.value().split('\n').filter(|k| !k.is_empty()).map(str::to_owned).collect())
            .unwrap_or_default())
    }

    /// The ids of every record of a kind, in order.
    fn ids(&self, kind: &str) -> Result<Vec<u64>> {
        let t = self.table(RECORDS)?;
        let mut out = Vec::new();
        for item in t.range((kind, 0)..=(kind, u64::MAX))? {
            out.push(item.map_err(|e| Error::store("listing", e))?.0.value().1);
        }
        Ok(out)
    }

    /// The highest id of a kind (`None`: none kept), without reading the others.
    fn last_id(&self, kind: &str) -> Result<Option<u64>> {
        let t = self.table(RECORDS)?;
        match t.range((kind, 0)..=(kind, u64::MAX))?.next_back() {
            Some(item) => Ok(Some(item.map_err(|e| Error::store("listing", e))?.0.value().1)),
            None => Ok(None),
        }
    }

    /// Number of records of a kind.
    fn count(&self, kind: &str) -> Result<u64> {
        let t = self.table(RECORDS)?;
        let mut n = 0;
        for item in t.range((kind, 0)..=(kind, u64::MAX))? {
            item.map_err(|e| Error::store("counting", e))?;
            n += 1;
        }
        Ok(n)
    }

    /// Targets of a relation from `from`, newest (highest id) first, at most `limit`.
    fn links(&self, rel: &str, from: u64, limit: usize) -> Result<Vec<u64>> {
        let t = self.table(LINKS)?;
        let mut out = Vec::new();
        for item in t.range((rel, from, 0)..=(rel, from, u64::MAX))?.rev().take(limit) {
            let (k, ()) = item.map_err(|e| Error::store("reading links", e)).map(|(k, _)| (k, ()))?;
            out.push(k.value().2);
        }
        Ok(out)
    }

    fn unique(&self, ns: &str, key: &str) -> Result<Option<u64>> {
        Ok(self.table(UNIQUE)?.get((ns, key))?.map(|g| g.value()))
    }

    fn meta(&self, key: &str) -> Result<Option<Vec<u8>>> {
        Ok(self.table(META)?.get(key)?.map(|g| g.value().to_vec()))
    }

    /// A stored file's bytes by its SHA-256 (hex).
    fn file(&self, sha256: &str) -> Result<Option<Vec<u8>>> {
        Ok(self.table(FILES)?.get(sha256)?.map(|g| g.value().to_vec()))
    }

    /// Every stored version of every record of `kind`, raw (its schema version and the JSON of
    /// the `Versioned` record): the earlier versions in (id, revision) order, then the current
    /// ones in id order. For the export.
    fn each_version(&self, kind: &str, f: &mut dyn FnMut(u16, &[u8]) -> Result<()>) -> Result<()> {
        let mut one = |bytes: &[u8]| -> Result<()> {
            let (schema, json) = bytes
                .split_first_chunk::<2>()
                .map(|(s, rest)| (u16::from_le_bytes(*s), rest))
                .ok_or_else(|| Error::Corrupt(format!("{kind} record too short")))?;
            f(schema, json)
        };
        let t = self.table(HISTORY)?;
        for item in t.range((kind, 0, 0)..=(kind, u64::MAX, u64::MAX))? {
            one(item.map_err(|e| Error::store("reading history", e))?.1.value())?;
        }
        let t = self.table(RECORDS)?;
        for item in t.range((kind, 0)..=(kind, u64::MAX))? {
            one(item.map_err(|e| Error::store("listing", e))?.1.value())?;
        }
        Ok(())
    }

    /// Every stored file (photos), by SHA-256, in hash order.
    fn each_file(&self, f: &mut dyn FnMut(&str, &[u8]) -> Result<()>) -> Result<()> {
        let t = self.table(FILES)?;
        for item in t.range::<&str>(..)? {
            let (k, v) = item.map_err(|e| Error::store("reading files", e))?;
            f(k.value(), v.value())?;
        }
        Ok(())
    }

    /// Children whose name, furigana or phone contains the query (after folding), in id order.
    fn search_children(&self, query: &str, limit: usize) -> Result<Vec<u64>> {
        let mut out = Vec::new();
        self.search_children_each(query, limit, &mut |child| {
            out.push(child);
            Ok(true)
        })?;
        Ok(out)
    }

    /// `search_children`, handing each match to `visit` as it is found, until `visit` says
    /// no more (`false`) or `limit` matches were handed: a caller that filters the matches
    /// reads only as many as it needs.
    fn search_children_each(
        &self,
        query: &str,
        limit: usize,
        visit: &mut dyn FnMut(u64) -> Result<bool>,
    ) -> Result<()> {
        let key = search::normalize(query);
        if key.is_empty() {
            return Ok(());
        }
        // Every gram of the query with its count of children, rarest first; none holds a gram
        // no child has.
        let counts = self.table(GRAM_COUNTS)?;
        let mut grams = Vec::new();
        for g in search::query_grams(&key) {
            let n = counts.get(g.as_str())?.map_or(0, |v| v.value());
            if n == 0 {
                return Ok(());
            }
            grams.push((n, g));
        }
        grams.sort();
        let Some(((_, rarest), others)) = grams.split_first() else { return Ok(()) };
        let postings = self.table(GRAMS)?;
        let keys = self.table(SEARCH_KEYS)?;
        // The rarest gram's children in order; each is a candidate only if every other gram
        // has it too (a seek into that gram's children, kept while it is ahead), and a match
        // only if one of its keys holds the whole query. A common reading's children are thus
        // skipped in the index, not read one by one.
        let mut ahead: Vec<u64> = vec![0; others.len()];
        let mut handed = 0;
        'children: for item in postings.range((rarest.as_str(), 0)..=(rarest.as_str(), u64::MAX))? {
            let (k, _) = item.map_err(|e| Error::store("searching", e))?;
            let child = k.value().1;
            for ((_, gram), next) in others.iter().zip(&mut ahead) {
                if *next < child {
                    let found = postings.range((gram.as_str(), child)..=(gram.as_str(), u64::MAX))?.next();
                    match found {
                        None => return Ok(()),
                        Some(item) => *next = item.map_err(|e| Error::store("searching", e))?.0.value().1,
                    }
                }
                if *next > child {
                    continue 'children;
                }
            }
            let hit =
                keys.get(child)?.is_some_and(|v| v.value().split('\n').any(|k| k.contains(key.as_str())));
            if hit {
                handed += 1;
                if !visit(child)? || handed >= limit {
                    break;
                }
            }
        }
        Ok(())
    }

    /// Children born on a day.
    fn children_born(&self, date: crate::time::Date, limit: usize) -> Result<Vec<u64>> {
        let t = self.table(BIRTHS)?;
        let d = date.days();
        let mut out = Vec::new();
        for item in t.range((d, 0)..=(d, u64::MAX))?.take(limit) {
            let (k, _) = item.map_err(|e| Error::store("searching births", e))?;
            out.push(k.value().1);
        }
        Ok(out)
    }

    /// Clocks of a scope due before `until`, soonest first.
    fn clocks_due(&self, scope: &str, until: Timestamp) -> Result<Vec<(i64, u64, String, u64)>> {
        let t = self.table(CLOCKS)?;
        let mut out = Vec::new();
        for item in t.range((scope, i64::MIN, 0, "", 0)..(scope, until.0, 0, "", 0))? {
            let (k, _) = item.map_err(|e| Error::store("reading clocks", e))?;
            let (_, due, case, kind, subject) = k.value();
            out.push((due, case, kind.to_owned(), subject));
        }
        Ok(out)
    }

    fn case_clocks(&self, case: u64) -> Result<Vec<Deadline>> {
        match self.table(CASE_CLOCKS)?.get(case)? {
            None => Ok(Vec::new()),
            Some(v) => {
                serde_json::from_slice(v.value()).map_err(|e| Error::Corrupt(format!("case clocks: {e}")))
            }
        }
    }

    /// The open cases `staff` works (`UNASSIGNED`: those nobody works), by id.
    fn caseload(&self, staff: u64) -> Result<Vec<u64>> {
        super::caseloads::cases_of(&self.table(tables::CASELOADS)?, staff)
    }

    /// Change-log entries from `after` (exclusive), at most `limit`.
    fn changes_after(&self, after: u64, limit: usize) -> Result<Vec<Change>> {
        let t = self.table(CHANGES)?;
        let mut out = Vec::new();
        for item in t.range(after.saturating_add(1)..)?.take(limit) {
            let (_, v) = item.map_err(|e| Error::store("reading the change log", e))?;
            out.push(
                serde_json::from_slice(v.value()).map_err(|e| Error::Corrupt(format!("change log: {e}")))?,
            );
        }
        Ok(out)
    }

    fn last_change_seq(&self) -> Result<u64> {
        Ok(self.table(CHANGES)?.last()?.map_or(0, |(k, _)| k.value()))
    }

    /// Audit entries in sequence order from `from` (inclusive).
    fn audit_entries(&self, from: u64, limit: usize) -> Result<Vec<(u64, Vec<u8>)>> {
        let t = self.table(AUDIT)?;
        let mut out = Vec::new();
        for item in t.range(from..)?.take(limit) {
            let (k, v) = item.map_err(|e| Error::store("reading the audit log", e))?;
            out.push((k.value(), v.value().to_vec()));
        }
        Ok(out)
    }

    /// The last audit entry the search index holds (see `tables::AUDIT_TERMS`).
    fn audit_indexed(&self) -> Result<u64> {
        Ok(self.table(tables::INDEXED)?.get("audit")?.map_or(0, |g| g.value()))
    }

    fn audit_len(&self) -> Result<u64> {
        self.table(AUDIT)?.len()
    }

    fn last_audit(&self) -> Result<Option<AuditEntry>> {
        match self.table(AUDIT)?.last()? {
            None => Ok(None),
            Some((_, v)) => AuditEntry::decode(v.value()).map(Some),
        }
    }
}

/// A consistent snapshot for reading.
pub struct ReadTx {
    tx: ReadTransaction,
    /// The records table, opened at the first record read (`Reader::with_record`).
    records: std::cell::OnceCell<ReadOnlyTable<(&'static str, u64), &'static [u8]>>,
}

impl ReadTx {
    pub(crate) fn from_raw(tx: ReadTransaction) -> Self {
        Self { tx, records: std::cell::OnceCell::new() }
    }
}

impl Reader for ReadTx {
    fn table<K: Key + 'static, V: Value + 'static>(
        &self,
        def: TableDefinition<K, V>,
    ) -> Result<Tab<'_, K, V>> {
        self.tx.open_table(def).map(Tab::Ro).map_err(|e| Error::store("opening a table", e))
    }

    fn with_record<R>(
        &self,
        kind: &str,
        id: u64,
        read: impl FnOnce(&[u8]) -> Result<R>,
    ) -> Result<Option<R>> {
        let t = if let Some(t) = self.records.get() {
            t
        } else {
            let t = self.tx.open_table(RECORDS).map_err(|e| Error::store("opening a table", e))?;
            self.records.get_or_init(|| t)
        };
        let found = t.get((kind, id)).map_err(|e| Error::store("reading", e))?;
        found.map(|g| read(g.value())).transpose()
    }
}
