//! Group commit for the audit log. Every read is audited before its data goes out, and each
//! audit entry must be durable first: one write transaction and one fsync pair per read would
//! serialise the whole server on the disk. Instead the entries that threads append at the same
//! time are committed together — one transaction, one fsync pair for the group — and each caller
//! returns only once the transaction holding its own entry has committed.
//!
//! No thread of its own: the first caller that finds no commit under way leads. It takes every
//! entry queued so far, commits them in the order they came (so the hash chain is whole and in
//! order), wakes the others, and returns; entries queued meanwhile wait for the next leader, one
//! of their own callers. A group whose commit failed hands each entry back to its caller, who
//! appends it alone and so gets its own error (a full disk, a closed file) and changes nothing
//! else.

use std::collections::HashMap;
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};

use super::Store;
use crate::audit::AuditEntry;
use crate::error::Result;

/// The queue of audit entries waiting for a commit, and who is committing.
#[derive(Default)]
pub(crate) struct AuditGroup {
    state: Mutex<State>,
    /// Where the callers wait: those of group `n` on `settled[n % 2]`. A group's end wakes all
    /// of its own callers and one of the next group's (its leader), and no one else.
    settled: [Condvar; 2],
}

#[derive(Default)]
struct State {
    /// Entries waiting for a commit, in the order they came: the first holds ticket
    /// `next - queue.len()`.
    queue: Vec<AuditEntry>,
    /// The ticket the next entry gets.
    next: u64,
    /// Every ticket below this one is settled: committed, or handed back in `failed`.
    settled: u64,
    /// Whether a caller is committing a group now.
    leading: bool,
    /// How many groups were taken: the one being committed, if any, is `groups - 1`; the queue
    /// is group `groups`.
    groups: u64,
    /// The ticket after the last one taken.
    taken: u64,
    /// Entries of a group whose commit failed, by ticket, for their callers to append alone.
    failed: HashMap<u64, AuditEntry>,
}

impl AuditGroup {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Where the caller of `ticket` waits.
    fn condvar(&self, state: &State, ticket: u64) -> &Condvar {
        let group = if ticket < state.taken { state.groups - 1 } else { state.groups };
        &self.settled[parity(group)]
    }
}

/// The condition variable of group `n` (see `AuditGroup::settled`).
fn parity(group: u64) -> usize {
    usize::from(!group.is_multiple_of(2))
}

/// The group a leader took, settled when it is dropped: committed when `committed` was set, else
/// handed back (also when the commit panicked, so that no caller waits for ever).
struct Lead<'g> {
    group: &'g AuditGroup,
    entries: Vec<AuditEntry>,
    /// The ticket after the group's last.
    end: u64,
    /// The leader's own ticket: not handed back if the leader panicked (no one would take it).
    own: u64,
    committed: bool,
}

impl Drop for Lead<'_> {
    fn drop(&mut self) {
        let mut state = self.group.lock();
        state.leading = false;
        if !self.committed {
            let first = self.end - self.entries.len() as u64;
            state.failed.extend((first..).zip(self.entries.drain(..)));
            if std::thread::panicking() {
                state.failed.remove(&self.own);
            }
        }
        state.settled = self.end;
        let this = state.groups - 1;
        self.group.settled[parity(this)].notify_all();
        self.group.settled[parity(this + 1)].notify_one();
    }
}

impl Store {
    /// Appends `entry` to the audit log and returns once it is durable, committed together with
    /// the entries other threads append meanwhile (see the module comment). On an error nothing
    /// of this entry was written.
    pub fn append_audit(&self, entry: AuditEntry) -> Result<()> {
        let group = &self.audit_group;
        let mut state = group.lock();
        let ticket = state.next;
        state.next += 1;
        state.queue.push(entry);
        loop {
            if ticket < state.settled {
                return match state.failed.remove(&ticket) {
                    None => Ok(()),
                    Some(entry) => {
                        drop(state);
                        self.append_audits(std::slice::from_ref(&entry))
                    }
                };
            }
            if !state.leading {
                state.leading = true;
                state.groups += 1;
                state.taken = state.next;
                let mut lead = Lead {
                    group,
                    entries: std::mem::take(&mut state.queue),
                    end: state.next,
                    own: ticket,
                    committed: false,
                };
                drop(state);
                lead.committed = self.append_audits(&lead.entries).is_ok();
                drop(lead);
                state = group.lock();
                continue;
            }
            let condvar = group.condvar(&state, ticket);
            state = condvar.wait(state).unwrap_or_else(PoisonError::into_inner);
        }
    }

    /// Appends `entries` in order in one durable transaction, dated as the latest of them.
    fn append_audits(&self, entries: &[AuditEntry]) -> Result<()> {
        let Some(latest) = entries.iter().max_by_key(|e| e.at) else { return Ok(()) };
        let mut tx = self.begin_write(latest.at, latest.actor, latest.device.clone())?;
        tx.append_audits(entries.iter().cloned())?;
        tx.commit()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::Verdict;
    use crate::store::{Reader, verify_audit};
    use crate::time::Timestamp;

    fn entry(i: u64) -> AuditEntry {
        AuditEntry::new(
            Timestamp(1_800_000_000 + i64::try_from(i).unwrap()),
            i,
            Some(format!("t{i}")),
            "read_child",
        )
    }

    /// Waits (yielding) until `ready` holds of the group's state.
    fn until(store: &Store, ready: impl Fn(&State) -> bool) {
        while !ready(&store.audit_group.lock()) {
            std::thread::yield_now();
        }
    }

    #[test]
    fn entries_queued_while_a_commit_waits_are_committed_as_one_group() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::create(dir.path(), Timestamp(1_800_000_000)).unwrap();
        let redo_before = store.redo_seq().unwrap();
        // A write transaction holds redb's lock: the first appender leads with its own entry
        // and waits for the lock; the seven after it queue behind.
        let held = store.begin_write(Timestamp(1_800_000_000), 0, None).unwrap();
        std::thread::scope(|s| {
            for i in 1..=8 {
                let store = &store;
                s.spawn(move || store.append_audit(entry(i)).unwrap());
            }
            until(&store, |st| st.leading && st.queue.len() == 7);
            drop(held);
        });
        let r = store.read().unwrap();
        assert_eq!(verify_audit(&r).unwrap(), Verdict::Intact { entries: 8 });
        let devices: Vec<_> = r
            .audit_entries(1, 8)
            .unwrap()
            .iter()
            .map(|(_, b)| AuditEntry::decode(b).unwrap().device)
            .collect();
        assert_eq!(devices.iter().flatten().count(), 8);
        // Two commits: the leader's own entry, then the seven queued behind it.
        assert_eq!(store.redo_seq().unwrap() - redo_before, 2);
        assert_eq!(r.audit_indexed().unwrap(), 8);
    }

    #[test]
    fn an_entry_of_a_group_that_failed_is_appended_alone_by_its_caller() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::create(dir.path(), Timestamp(1_800_000_000)).unwrap();
        let group = &store.audit_group;
        {
            let mut st = group.lock();
            st.leading = true;
            st.groups = 1;
        }
        std::thread::scope(|s| {
            let waiting = s.spawn(|| store.append_audit(entry(1)));
            until(&store, |st| st.queue.len() == 1);
            // The leader takes the entry and its commit fails (or panics): dropped uncommitted.
            let lead = {
                let mut st = group.lock();
                st.groups += 1;
                st.taken = st.next;
                Lead {
                    group,
                    entries: std::mem::take(&mut st.queue),
                    end: st.next,
                    own: u64::MAX,
                    committed: false,
                }
            };
            drop(lead);
            waiting.join().unwrap().unwrap();
        });
        let r = store.read().unwrap();
        assert_eq!(verify_audit(&r).unwrap(), Verdict::Intact { entries: 1 });
        assert_eq!(AuditEntry::decode(&r.audit_entries(1, 1).unwrap()[0].1).unwrap().actor, 1);
        assert!(group.lock().failed.is_empty());
    }
}
