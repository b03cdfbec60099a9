//! A store rebuilt from its backup: a generation's snapshot stream, then the archive's redo
//! segments in order (up to a moment, for a point-in-time restore), then checked whole. The
//! caller opens and decrypts the files and hands over byte streams; what the streams hold and
//! how they are applied is core's business, here (the store builds and replays; the service
//! re-applies what was closed later and checks). The archive's segment format is written here
//! too ([`RedoBatch::write_to`]), so one module owns both sides of it.
//!
//! A restore works in a scratch directory and reports; moving the store into place is the
//! caller's, once [`Restore::finish`] succeeded.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::Path;
use std::sync::Arc;

use crate::audit::Verdict;
use crate::error::{Error, Result};
use crate::service::Service;
use crate::store::Store;
use crate::time::{Clock, Timestamp};
use crate::txlog::{self, Entry};

/// A store being rebuilt in a scratch directory.
pub struct Restore {
    store: Store,
    counts: BTreeMap<String, u64>,
    covers_seq: u64,
    until: Option<Timestamp>,
    report: ArchiveReplay,
    /// Reached `until`: later segments are read only for what they closed.
    stopped: bool,
    /// Archived changes after `until`, which the restore does not apply.
    later: Vec<Entry>,
}

/// What to do with the archive's next segment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wanted {
    /// Already in the generation.
    Skip,
    /// Replay it ([`Restore::apply_segment`]).
    Apply,
    /// After the moment restored to: read it only for what it closed
    /// ([`Restore::read_later_segment`]); a segment that cannot be read is not fatal.
    Later,
    /// It does not follow on from what was applied: the restore stops here
    /// ([`ArchiveReplay::gap`] says why).
    Gap,
}

/// How far the archive took a restore.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ArchiveReplay {
    pub last_seq: u64,
    pub last_at: Option<Timestamp>,
    pub applied: u64,
    /// Why it stopped before the end of the archive, if it did.
    pub gap: Option<String>,
}

/// What a finished restore reports.
#[derive(Clone, Debug)]
pub struct Restored {
    pub archive: ArchiveReplay,
    /// What was closed again because the archive closed it after `until` (accounts, devices,
    /// console keys, reset passwords), one line each.
    pub revoked: Vec<String>,
    /// The new store id, when the restore began a new timeline.
    pub store_id: String,
}

impl Restore {
    /// Builds a new store in `dir` (which must not hold one) from a generation's snapshot
    /// stream; `until`, for a point-in-time restore, is the last moment the archive is replayed
    /// to.
    pub fn from_snapshot(dir: &Path, snapshot: &mut dyn Read, until: Option<Timestamp>) -> Result<Self> {
        let (store, summary) = Store::restore_snapshot(dir, snapshot)?;
        let mut counts: BTreeMap<String, u64> = summary.kinds.into_iter().collect();
        counts.insert("change".into(), summary.last_change);
        Ok(Self {
            store,
            counts,
            covers_seq: summary.last_redo,
            until,
            report: ArchiveReplay { last_seq: summary.last_redo, ..ArchiveReplay::default() },
            stopped: false,
            later: Vec::new(),
        })
    }

    /// Records per kind (and `change`: the last change) the snapshot held, to compare with the
    /// generation's manifest.
    #[must_use]
    pub fn counts(&self) -> &BTreeMap<String, u64> {
        &self.counts
    }

    /// The last redo sequence number the snapshot covers.
    #[must_use]
    pub fn covers_seq(&self) -> u64 {
        self.covers_seq
    }

    /// What to do with the archive segment holding changes `first..=last`, segments taken in
    /// order. A gap stops the replay for good.
    pub fn wants(&mut self, first: u64, last: u64) -> Wanted {
        if self.report.gap.is_some() {
            return Wanted::Gap;
        }
        if last <= self.covers_seq {
            return Wanted::Skip;
        }
        if self.stopped {
            return Wanted::Later;
        }
        if first > self.report.last_seq + 1 {
            self.report.gap = Some(format!(
                "the archive has a gap: it holds nothing between change {} and change {first}",
                self.report.last_seq
            ));
            return Wanted::Gap;
        }
        Wanted::Apply
    }

    /// Stops the replay here for a reason found outside the stream (a segment that is damaged,
    /// forged or unreadable): like a gap, what came before stays applied and the report says
    /// why it stopped.
    pub fn stop(&mut self, reason: String) {
        if self.report.gap.is_none() && !self.stopped {
            self.report.gap = Some(reason);
        }
    }

    /// Replays one segment's stream on the store, up to `until`.
    pub fn apply_segment(&mut self, segment: &mut dyn Read) -> Result<()> {
        let entries = read_segment(segment)?;
        let r = self.store.replay(&entries, self.until)?;
        self.report.applied += r.applied;
        self.report.last_seq = r.last_seq;
        self.report.last_at = r.last_at.or(self.report.last_at);
        if entries.last().is_some_and(|(seq, _)| r.last_seq < *seq) {
            // Reached `until`: what follows is kept only for what it closed.
            self.stopped = true;
            self.later.extend(entries.into_iter().filter(|(seq, _)| *seq > r.last_seq));
        }
        Ok(())
    }

    /// Reads a segment after the moment restored to, for what it closed.
    pub fn read_later_segment(&mut self, segment: &mut dyn Read) -> Result<()> {
        self.later.extend(read_segment(segment)?);
        Ok(())
    }

    /// Finishes the restore: what the rest of the archive closed is closed again
    /// ([`Service::reapply_revocations`]), the store is checked whole (records and indexes,
    /// the audit chain), and, with `new_timeline`, the store gets a new id so that it never
    /// continues the old archive (whose history may already go on beyond the point restored
    /// to). Any problem is an error, and the scratch store is the caller's to remove.
    pub fn finish(self, clock: Arc<dyn Clock>, new_timeline: bool) -> Result<Restored> {
        let service = Service::new(self.store, clock);
        let revoked = service.reapply_revocations(&self.later)?;
        let report = service.check()?;
        if let Some(p) = report.problems.first() {
            return Err(Error::Corrupt(format!("the restored store is inconsistent: {p}")));
        }
        if let Verdict::Broken { seq, reason } = service.verify_audit()? {
            return Err(Error::Corrupt(format!("the restored audit log is broken at entry {seq}: {reason}")));
        }
        let store_id =
            if new_timeline { service.store.begin_new_timeline()? } else { service.store.store_id()? };
        Ok(Restored { archive: self.report, revoked, store_id })
    }
}

/// Redo entries on their way to the archive: one segment's worth.
#[derive(Clone, Debug)]
pub struct RedoBatch {
    pub first: u64,
    pub last: u64,
    /// The commit time of the last entry.
    pub last_at: Timestamp,
    /// The audit chain's head (`SEQ:HASH`) in the same read as the entries, for the segment's
    /// manifest to carry.
    pub audit_head: Option<String>,
    entries: Vec<Entry>,
}

impl RedoBatch {
    pub(crate) fn new(entries: Vec<Entry>, audit_head: Option<String>) -> Result<Option<Self>> {
        let (Some(first), Some(last)) = (entries.first(), entries.last()) else { return Ok(None) };
        let (first, last, last_at) = (first.0, last.0, txlog::entry_time(&last.1)?);
        Ok(Some(Self { first, last, last_at, audit_head, entries }))
    }

    /// The segment's content: (seq u64, length u32, entry)*, little-endian.
    pub fn write_to(&self, w: &mut dyn Write) -> std::io::Result<()> {
        for (seq, entry) in &self.entries {
            let len =
                u32::try_from(entry.len()).map_err(|_| std::io::Error::other("a redo entry over 4 GiB"))?;
            w.write_all(&seq.to_le_bytes())?;
            w.write_all(&len.to_le_bytes())?;
            w.write_all(entry)?;
        }
        Ok(())
    }
}

/// A segment's entries, as [`RedoBatch::write_to`] wrote them.
fn read_segment(r: &mut dyn Read) -> Result<Vec<Entry>> {
    let damaged = |e: std::io::Error| Error::Corrupt(format!("an archive segment is cut short: {e}"));
    let mut out = Vec::new();
    let mut seq = [0u8; 8];
    loop {
        match r.read_exact(&mut seq) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(out),
            Err(e) => return Err(Error::Io { context: "reading an archive segment", source: e }),
        }
        let mut len = [0u8; 4];
        r.read_exact(&mut len).map_err(damaged)?;
        let mut entry = vec![0u8; u32::from_le_bytes(len) as usize];
        r.read_exact(&mut entry).map_err(damaged)?;
        out.push((u64::from_le_bytes(seq), entry));
    }
}

impl Service {
    /// The redo entries after `after` (at most `limit`), for the archive; `None` when there
    /// are none.
    pub fn redo_batch(&self, after: u64, limit: usize) -> Result<Option<RedoBatch>> {
        let (entries, audit_head) = self.store.redo_after_with_head(after, limit)?;
        RedoBatch::new(entries, audit_head)
    }

    /// How far the archive holds the redo log: the entry before the first the store still keeps
    /// (the store drops entries only once they are archived), or, when it keeps none, the last
    /// committed. A read of the archive that stops short of it has lost segments.
    pub fn archived_position(&self) -> Result<u64> {
        match self.store.redo_after(0, 1)?.first() {
            Some((seq, _)) => Ok(seq.saturating_sub(1)),
            None => self.store.redo_seq(),
        }
    }

    /// The archive holds the changes through `through`: they leave the store's redo log.
    pub fn archived_through(&self, through: u64) -> Result<u64> {
        self.store.prune_redo(through)
    }

    /// The store's id: a backup directory and its archive belong to one store.
    pub fn store_id(&self) -> Result<String> {
        self.store.store_id()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_segment_reads_back_what_was_written_and_a_cut_one_is_an_error() {
        let mut entry = 1_750_000_000i64.to_le_bytes().to_vec();
        entry.extend_from_slice(b"change");
        let batch = RedoBatch::new(vec![(7, entry.clone()), (8, entry.clone())], None).unwrap().unwrap();
        assert_eq!((batch.first, batch.last, batch.last_at), (7, 8, Timestamp(1_750_000_000)));
        let mut bytes = Vec::new();
        batch.write_to(&mut bytes).unwrap();
        assert_eq!(read_segment(&mut bytes.as_slice()).unwrap(), batch.entries);
        let cut = &bytes[..bytes.len() - 3];
        assert!(matches!(read_segment(&mut &cut[..]), Err(Error::Corrupt(_))));
        assert!(RedoBatch::new(Vec::new(), None).unwrap().is_none());
    }
}
