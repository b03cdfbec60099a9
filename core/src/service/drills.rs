//! 復元訓練 as the service keeps them: each drill a record (backed up and restored with the
//! rest, so the report of any month can name its drills), written by the server or the local
//! operator, listed for administrators.

use super::{Actor, Service, Versioned};
use crate::audit::AuditEntry;
use crate::drill::{self, RestoreDrill};
use crate::error::Result;
use crate::ids::{RecordId, RestoreDrillId};
use crate::staff::Action;
use crate::store::Reader;
use crate::time::Timestamp;

impl Service {
    /// Keeps a drill's outcome, audited (`restore_drill`, with its one-line summary: no personal
    /// data). Run by the server's scheduler, the console's host or `mamoru backup drill`, not by
    /// a signed-in user (the console authorizes first: `authorize_backup`).
    pub fn record_drill(&self, d: RestoreDrill) -> Result<Versioned<RestoreDrill>> {
        let now = self.now();
        let mut tx = self.store.begin_write(now, 0, Some("backup".into()))?;
        let mut entry = AuditEntry::new(now, 0, Some("backup".into()), "restore_drill");
        entry.detail = Some(d.summary());
        if !d.succeeded() {
            "failed".clone_into(&mut entry.result);
        }
        let v = tx.insert(d)?;
        tx.append_audit(entry.on(RestoreDrillId::KIND, v.id))?;
        tx.commit()?;
        Ok(v)
    }

    /// Drills started in `from..to`, oldest first: for administrators (the console, the monthly
    /// report). Audited.
    pub fn drills(
        &self,
        actor: &Actor,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Vec<Versioned<RestoreDrill>>> {
        self.read(actor, Action::OperateServer, RestoreDrillId::KIND, None, |r| {
            let all: Vec<Versioned<RestoreDrill>> = r.all()?;
            let list: Vec<_> = all.into_iter().filter(|d| (from..to).contains(&d.body.started_at)).collect();
            let detail = format!("{} restore drills", list.len());
            Ok((list, Some(detail)))
        })
    }

    /// Whether the schedule (every `every_days`, 0 = never) asks for a drill now. The server's
    /// own question: reads no personal data.
    pub fn drill_due(&self, every_days: u32) -> Result<bool> {
        let last = self.store.read()?.all::<RestoreDrill>()?.into_iter().map(|d| d.body.started_at).max();
        Ok(drill::due(last, self.now(), every_days))
    }
}
