//! Alerts as the service keeps them: opened and cleared from each probe in one transaction (not
//! audited: no personal data, but in the change log, so backups carry them), the notices still
//! to deliver, and each delivery or failure. The binary delivers; the console shows the open
//! ones; the monthly report the time each was notified.

use super::{Service, Versioned};
use crate::alert::{self, Alert, Notice};
use crate::error::Result;
use crate::ids::AlertId;
use crate::maintenance::Maintenance;
use crate::store::Reader;
use crate::time::Timestamp;
use crate::uptime::Probe;

impl Service {
    /// Opens an alert for each problem `probe` found that none has, and clears those it no
    /// longer finds; after a gap since the `previous` probe longer than the prober's interval
    /// (`every` seconds) allows — the server was not running —, keeps the alert of it, already
    /// over. The prober's, after each probe.
    pub fn update_alerts(&self, probe: &Probe, previous: Option<Timestamp>, every: i64) -> Result<()> {
        let planned: Vec<crate::uptime::Window> =
            self.maintenance_windows()?.iter().filter_map(Maintenance::planned).collect();
        let mut tx = self.store.begin_write(self.now(), 0, Some("prober".into()))?;
        let open: Vec<Versioned<Alert>> =
            tx.all::<Alert>()?.into_iter().filter(|v| v.body.is_open()).collect();
        let bodies: Vec<(u64, Alert)> = open.iter().map(|v| (v.id, v.body.clone())).collect();
        let (mut raise, clear) = alert::changes(&bodies, probe);
        // Within a planned stop what goes wrong is expected: nothing new is raised (what ends is
        // still cleared).
        if planned.iter().any(|w| (w.from..w.to).contains(&probe.at)) {
            raise.clear();
        }
        for (id, a) in clear {
            let rev = open.iter().find(|v| v.id == *id).map_or(0, |v| v.rev);
            tx.update(AlertId(*id), rev, Alert { cleared_at: Some(probe.at), ..a.clone() })?;
        }
        for problem in raise {
            tx.insert(Alert::raise(problem, probe.at))?;
        }
        if let Some(gap) = previous.and_then(|p| alert::after_gap(p, probe.at, every, &planned)) {
            tx.insert(gap)?;
        }
        tx.commit()?;
        *self.open_alerts.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = None;
        Ok(())
    }

    /// The notices to deliver now, oldest alert first.
    pub fn pending_alerts(&self) -> Result<Vec<(Versioned<Alert>, Notice)>> {
        let r = self.store.read()?;
        Ok(r.all::<Alert>()?.into_iter().filter_map(|v| v.body.pending().map(|n| (v, n))).collect())
    }

    /// Keeps a delivery of `notice` for alert `id` (its time), or why it failed.
    pub fn alert_delivered(
        &self,
        id: AlertId,
        notice: Notice,
        outcome: std::result::Result<(), String>,
    ) -> Result<()> {
        let now = self.now();
        let mut tx = self.store.begin_write(now, 0, Some("prober".into()))?;
        let v = tx.require::<Alert>(id)?;
        let mut body = v.body.clone();
        body.delivered(notice, now, outcome);
        tx.update(id, v.rev, body)?;
        tx.commit()?;
        *self.open_alerts.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = None;
        Ok(())
    }

    /// The alerts still open, oldest first (the console's dashboard: no personal data, not
    /// audited; cached until the next change).
    pub fn open_alerts(&self) -> Result<Vec<Alert>> {
        let mut cached = self.open_alerts.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(open) = cached.as_ref() {
            return Ok(open.clone());
        }
        let open: Vec<Alert> =
            self.store.read()?.all::<Alert>()?.into_iter().map(|v| v.body).filter(Alert::is_open).collect();
        *cached = Some(open.clone());
        Ok(open)
    }
}
