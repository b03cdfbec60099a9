//! The caseload index: which open cases each staff member works (`担当ケース`), and which open
//! cases nobody works (staff `0`). Derived from the case records the change log carries, so it
//! is written outside the redo log, like the audit search index: a case is indexed in the
//! transaction that writes it, a replay indexes what it brought in, and `Store::open` catches up
//! on a store written without it (from the current case records, in one pass).
//!
//! Keys of `tables::CASELOADS`: `("s", staff, case)` for each worker of an open case (and
//! `("s", 0, case)` for an open case without one); `("c", case, staff)` the same pairs the other
//! way round, so that a case's old entries can be taken out when it changes.

use redb::{ReadableTable, WriteTransaction};
use serde::Deserialize;
use serde_json::value::RawValue;

use super::tables::{CASELOADS, CHANGES, INDEXED, RECORDS};
use crate::error::{Error, Result};

/// The record kind whose changes the index follows (`CaseId::KIND`).
const CASE: &str = "case";
/// The `INDEXED` key holding the last change indexed.
const MARKER: &str = "caseloads";
/// The staff id that stands for "nobody": an open case without workers.
pub const UNASSIGNED: u64 = 0;

/// What the index reads of a case: its status and workers, as `Case` stores them.
#[derive(Deserialize)]
struct Head {
    status: String,
    #[serde(default)]
    assigned: Vec<u64>,
}

#[derive(Deserialize)]
struct Envelope {
    body: Head,
}

#[derive(Deserialize)]
struct ChangeHead<'a> {
    kind: &'a str,
    id: u64,
    #[serde(borrow)]
    record: &'a RawValue,
}

fn err(e: impl Into<redb::Error>) -> Error {
    Error::store("indexing caseloads", e)
}

/// The staff a case is indexed under: its workers while open (nobody: `UNASSIGNED`), none once
/// closed.
fn workers_of(envelope_json: &[u8]) -> Result<Vec<u64>> {
    let e: Envelope =
        serde_json::from_slice(envelope_json).map_err(|e| Error::Corrupt(format!("case record: {e}")))?;
    Ok(match e.body.status.as_str() {
        "open" if e.body.assigned.is_empty() => vec![UNASSIGNED],
        "open" => e.body.assigned,
        _ => Vec::new(),
    })
}

/// Puts `case` under `staff` (and nobody else) in the index.
fn set(tx: &WriteTransaction, case: u64, staff: &[u64]) -> Result<()> {
    let mut t = tx.open_table(CASELOADS).map_err(err)?;
    let mut old = Vec::new();
    for item in t.range(("c", case, 0)..=("c", case, u64::MAX)).map_err(err)? {
        old.push(item.map_err(err)?.0.value().2);
    }
    for s in old.iter().filter(|s| !staff.contains(s)) {
        t.remove(("c", case, *s)).map_err(err)?;
        t.remove(("s", *s, case)).map_err(err)?;
    }
    for s in staff.iter().filter(|s| !old.contains(s)) {
        t.insert(("c", case, *s), ()).map_err(err)?;
        t.insert(("s", *s, case), ()).map_err(err)?;
    }
    Ok(())
}

/// Indexes the changes after the last one indexed, at most `limit` of them, straight into `tx`
/// (not logged). A store that has never been indexed is indexed whole from its case records
/// instead. Returns how many changes (or, the first time, case records) it read, and whether
/// it wrote anything.
pub(crate) fn index(tx: &WriteTransaction, limit: u64) -> Result<(u64, bool)> {
    let last_change = tx.open_table(CHANGES).map_err(err)?.last().map_err(err)?.map_or(0, |(k, _)| k.value());
    let marker = tx.open_table(INDEXED).map_err(err)?.get(MARKER).map_err(err)?.map(|g| g.value());
    let mut read = 0;
    let done = match marker {
        None => {
            let records = tx.open_table(RECORDS).map_err(err)?;
            for item in records.range((CASE, 0)..=(CASE, u64::MAX)).map_err(err)? {
                let (k, v) = item.map_err(err)?;
                let bytes = v.value();
                // The JSON envelope after the two schema bytes; `Case`'s schema never moved
                // `status` or `assigned`.
                set(tx, k.value().1, &workers_of(bytes.get(2..).unwrap_or_default())?)?;
                read += 1;
            }
            last_change
        }
        Some(from) => {
            let changes = tx.open_table(CHANGES).map_err(err)?;
            let mut at = from;
            for item in
                changes.range(from + 1..).map_err(err)?.take(usize::try_from(limit).unwrap_or(usize::MAX))
            {
                let (k, v) = item.map_err(err)?;
                let c: ChangeHead = serde_json::from_slice(v.value())
                    .map_err(|e| Error::Corrupt(format!("change log: {e}")))?;
                if c.kind == CASE {
                    set(tx, c.id, &workers_of(c.record.get().as_bytes())?)?;
                }
                at = k.value();
                read += 1;
            }
            at
        }
    };
    let changed = marker != Some(done);
    if changed {
        tx.open_table(INDEXED).map_err(err)?.insert(MARKER, done).map_err(err)?;
    }
    Ok((read, changed))
}

/// Takes the index's marker away, so that the next `Store::open` indexes the store afresh.
pub(crate) fn forget(db: &redb::Database) -> Result<()> {
    let tx = db.begin_write().map_err(err)?;
    tx.open_table(INDEXED).map_err(err)?.remove(MARKER).map_err(err)?;
    tx.open_table(CASELOADS).map_err(err)?.retain(|_, ()| false).map_err(err)?;
    tx.commit().map_err(err)
}

/// The open cases `staff` works (`UNASSIGNED`: the open cases nobody works), oldest first.
pub(crate) fn cases_of(t: &super::Tab<'_, (&'static str, u64, u64), ()>, staff: u64) -> Result<Vec<u64>> {
    let mut out = Vec::new();
    for item in t.range(("s", staff, 0)..=("s", staff, u64::MAX))? {
        out.push(item.map_err(|e| Error::store("reading caseloads", e))?.0.value().2);
    }
    Ok(out)
}
