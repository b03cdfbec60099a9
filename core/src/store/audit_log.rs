//! Reading the access log from the store: verifying its hash chain and searching it through its
//! term index. What an entry is and how it is chained is the domain's (`audit.rs`).

use crate::audit::{Anchor, AnchorCheck, AuditEntry, AuditQuery, GENESIS, Verdict};
use crate::error::{Error, Result};
use crate::store::Reader;
use crate::time::Timestamp;

/// Walks the chain from the first entry: sequence numbers must run 1, 2, 3… without a gap, each
/// `prev` must be the previous `hash`, and each `hash` must match its entry.
pub fn verify_audit(reader: &impl Reader) -> Result<Verdict> {
    let mut expected_seq = 1u64;
    let mut prev = GENESIS.to_owned();
    loop {
        let batch = reader.audit_entries(expected_seq, 4096)?;
        if batch.is_empty() {
            return check_head(reader, expected_seq - 1, &prev);
        }
        for (key, bytes) in batch {
            if key != expected_seq {
                return Ok(Verdict::Broken {
                    seq: expected_seq,
                    reason: format!("entry {expected_seq} is missing (next is {key})"),
                });
            }
            let entry = match AuditEntry::decode(&bytes) {
                Ok(e) => e,
                Err(e) => return Ok(Verdict::Broken { seq: key, reason: e.to_string() }),
            };
            if entry.seq != key {
                return Ok(Verdict::Broken {
                    seq: key,
                    reason: format!("entry stored at {key} says it is {}", entry.seq),
                });
            }
            if entry.prev != prev {
                return Ok(Verdict::Broken {
                    seq: key,
                    reason: "does not follow the entry before it (chain broken)".into(),
                });
            }
            if entry.compute_hash() != entry.hash {
                return Ok(Verdict::Broken {
                    seq: key,
                    reason: "content does not match its hash (edited)".into(),
                });
            }
            prev = entry.hash;
            expected_seq += 1;
        }
    }
}

/// Compares the log with anchors from outside the store, `(where it came from, anchor)`: each
/// must name an entry the log holds, with the same hash. Run after [`verify_audit`], which
/// shows the chain is whole: then an entry's hash stands for it and every entry before it.
pub fn check_anchors(reader: &impl Reader, anchors: &[(String, Anchor)]) -> Result<AnchorCheck> {
    let last = reader.last_audit()?.map_or(0, |e| e.seq);
    let mut sorted: Vec<&(String, Anchor)> = anchors.iter().collect();
    sorted.sort_by_key(|(_, a)| a.seq);
    for (source, anchor) in &sorted {
        if anchor.seq == 0 {
            continue;
        }
        let differs =
            |reason: String| AnchorCheck::Differs { seq: anchor.seq, source: source.clone(), reason };
        match entry(reader, anchor.seq)? {
            None if anchor.seq > last => {
                return Ok(differs(format!(
                    "the log ends at entry {last}, but the backup recorded entry {} (entries removed from the end)",
                    anchor.seq
                )));
            }
            None => return Ok(differs("the entry is missing or unreadable".into())),
            Some(e) if e.hash != anchor.hash => {
                return Ok(differs(
                    "the entry is not the one the backup recorded (the log was rewritten from here or before)"
                        .into(),
                ));
            }
            Some(_) => {}
        }
    }
    Ok(AnchorCheck::Agrees { anchors: sorted.len(), newest: sorted.last().map_or(0, |(_, a)| a.seq) })
}

/// The store also keeps the newest entry's number and hash apart from the log, so that removing
/// entries from the end is found too.
fn check_head(reader: &impl Reader, last: u64, last_hash: &str) -> Result<Verdict> {
    let head = reader.meta("audit_head")?.map(|b| String::from_utf8_lossy(&b).into_owned());
    let expected = if last == 0 { None } else { Some(format!("{last}:{last_hash}")) };
    if head == expected {
        return Ok(Verdict::Intact { entries: last });
    }
    let recorded =
        head.as_deref().and_then(|h| h.split_once(':')).and_then(|(n, _)| n.parse::<u64>().ok()).unwrap_or(0);
    let seq = if recorded > last { last + 1 } else { recorded.max(1) };
    Ok(Verdict::Broken {
        seq,
        reason: format!(
            "the log ends at entry {last} but the store recorded its last entry as {}",
            head.unwrap_or_else(|| "none".into())
        ),
    })
}

/// Calls `visit` with the entries `query` matches, newest first, until it returns false.
///
/// The staff, action and record parts are looked up in the term index and intersected there
/// (each step seeks the largest entry number at or below the candidate in every part), so only
/// matching entries are read. A date range becomes a range of entry numbers by bisecting the log,
/// which is in time order as it is appended; each entry's time is checked again before it is
/// shown, so an entry written while the server clock stood earlier than its predecessor can be
/// left out near a boundary, never shown outside the range.
pub fn search_audit(
    reader: &impl Reader,
    query: &AuditQuery,
    mut visit: impl FnMut(AuditEntry) -> bool,
) -> Result<()> {
    let last = reader.last_audit()?.map_or(0, |e| e.seq);
    // Entries after the index's last (a damaged entry stops it) are read one by one.
    let indexed = reader.audit_indexed()?.min(last);
    let lo = match query.from {
        Some(t) => first_at_or_after(reader, t, last)?,
        None => 1,
    };
    let hi = match query.until {
        Some(t) => first_at_or_after(reader, t, last)?.saturating_sub(1),
        None => last,
    };
    // The tail the index has not reached yet: read entry by entry.
    if !scan(reader, query, hi, lo.max(indexed + 1), &mut visit)? {
        return Ok(());
    }
    let hi = hi.min(indexed);
    if hi < lo {
        return Ok(());
    }
    let mut parts: Vec<Part> = Vec::new();
    if let Some(s) = query.staff {
        parts.push(Part::Term(format!("s:{s}")));
    }
    if let Some(a) = &query.action {
        parts.push(Part::Term(format!("a:{a}")));
    }
    if let Some(records) = &query.records {
        // A child's records each have a few entries: gather them all, then seek in memory.
        let terms = reader.table(crate::store::tables::AUDIT_TERMS)?;
        let mut seqs = Vec::new();
        for r in records {
            for item in terms.range((r.as_str(), lo)..=(r.as_str(), hi))? {
                let (k, ()) =
                    item.map_err(|e| Error::store("searching the audit log", e)).map(|(k, _)| (k, ()))?;
                seqs.push(k.value().1);
            }
        }
        seqs.sort_unstable();
        seqs.dedup();
        parts.push(Part::Set(seqs));
    }
    if parts.is_empty() {
        return scan(reader, query, hi, lo, &mut visit).map(drop);
    }
    let terms = reader.table(crate::store::tables::AUDIT_TERMS)?;
    let mut candidate = hi;
    'next: while candidate >= lo && candidate > 0 {
        for part in &parts {
            let found = match part {
                Part::Term(t) => terms
                    .range((t.as_str(), lo)..=(t.as_str(), candidate))?
                    .next_back()
                    .transpose()
                    .map_err(|e| Error::store("searching the audit log", e))?
                    .map(|(k, _)| k.value().1),
                Part::Set(s) => match s.binary_search(&candidate) {
                    Ok(i) => Some(s[i]),
                    Err(0) => None,
                    Err(i) => Some(s[i - 1]),
                },
            };
            match found {
                None => return Ok(()),
                Some(s) if s < candidate => {
                    candidate = s;
                    continue 'next;
                }
                Some(_) => {}
            }
        }
        if let Some(e) = entry(reader, candidate)?
            && query.matches(&e)
            && !visit(e)
        {
            return Ok(());
        }
        candidate -= 1;
    }
    Ok(())
}

/// Reads entries `from` down to `down_to` (both included), visiting those `query` matches.
/// Returns false once `visit` has asked to stop.
fn scan(
    reader: &impl Reader,
    query: &AuditQuery,
    from: u64,
    down_to: u64,
    visit: &mut impl FnMut(AuditEntry) -> bool,
) -> Result<bool> {
    let mut seq = from;
    while seq >= down_to.max(1) {
        if let Some(e) = entry(reader, seq)?
            && query.matches(&e)
            && !visit(e)
        {
            return Ok(false);
        }
        seq -= 1;
    }
    Ok(true)
}

enum Part {
    /// One term of the index (a staff member, an action).
    Term(String),
    /// Entry numbers gathered from several terms, ascending.
    Set(Vec<u64>),
}

/// Entry `seq`, if it is there and readable: a damaged entry is left out of searches (`verify`
/// names it) rather than making the whole log unsearchable.
fn entry(reader: &impl Reader, seq: u64) -> Result<Option<AuditEntry>> {
    Ok(reader
        .audit_entries(seq, 1)?
        .into_iter()
        .find(|(k, _)| *k == seq)
        .and_then(|(_, b)| AuditEntry::decode(&b).ok()))
}

/// How many audit entries were written in `[from, until)` (by their sequence numbers: the log
/// is in time order).
pub fn audit_count(reader: &impl Reader, from: Timestamp, until: Timestamp) -> Result<u64> {
    let last = reader.last_audit()?.map_or(0, |e| e.seq);
    let (lo, hi) = (first_at_or_after(reader, from, last)?, first_at_or_after(reader, until, last)?);
    Ok(hi.saturating_sub(lo))
}

/// The number of the first entry written at or after `t` (`last + 1` if none), by bisection.
fn first_at_or_after(reader: &impl Reader, t: Timestamp, last: u64) -> Result<u64> {
    let (mut lo, mut hi) = (1u64, last + 1);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        match entry(reader, mid)? {
            Some(e) if e.at < t => lo = mid + 1,
            _ => hi = mid,
        }
    }
    Ok(lo)
}
