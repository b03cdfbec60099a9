//! What the console's screens show, decided in core: the server's state on the dashboard (what an
//! administrator may see of sessions and overdue clocks, and what others may not), and the
//! tablets with their state, never their secrets.

use super::backups::BackupHealth;
use super::{Actor, Service};
use crate::device::Device;
use crate::error::Result;
use crate::ids::{DeviceId, RecordId};
use crate::staff::{Action, Staff};
use crate::store::Reader;
use crate::time::Timestamp;

/// The dashboard's figures from core (the host adds uptime, disk and request counts).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ServerView {
    /// Open sessions; 0 for someone who may not operate the server.
    pub sessions: usize,
    /// Open sessions per tablet name, `None` for sessions bound to no tablet (the console).
    pub sessions_by_device: Vec<(Option<String>, usize)>,
    /// Overdue legal clocks per unit name, counts only; empty for someone who may not operate
    /// the server.
    pub overdue: Vec<(String, usize)>,
    pub backup: BackupHealth,
    /// The server's latest probe of itself (the uptime ledger's newest entry); `None` for
    /// someone who may not operate the server, or before the first.
    pub last_probe: Option<crate::uptime::Probe>,
    /// The alerts still open, oldest first.
    pub open_alerts: Vec<crate::alert::Alert>,
    /// This month's 稼働率 so far (from the first of the month, Japan time, to now; planned stops
    /// left out); `None` before the first probe.
    pub month_uptime: Option<crate::uptime::Availability>,
}

/// Where a tablet stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeviceState {
    Active,
    /// Registered, waiting for its one-time code until then.
    Pending {
        until: Timestamp,
    },
    /// Its one-time code expired unused: issue a new one.
    CodeExpired,
    Revoked {
        at: Timestamp,
    },
}

/// A tablet as the console's 端末 screen lists it: no secret, no code.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceView {
    pub id: DeviceId,
    pub name: String,
    pub state: DeviceState,
    /// The latest open session on it: when it was last used, and by whom (login).
    pub last_used: Option<(Timestamp, String)>,
    /// The login of who registered it.
    pub registered_by: String,
}

impl DeviceView {
    /// Whether sessions may sign in from it (not revoked).
    #[must_use]
    pub fn active(&self) -> bool {
        !matches!(self.state, DeviceState::Revoked { .. })
    }
}

impl DeviceState {
    fn of(d: &Device, now: Timestamp) -> Self {
        match (&d.revoked, &d.pending) {
            (Some(r), _) => DeviceState::Revoked { at: r.at },
            (None, Some(p)) if p.expires > now => DeviceState::Pending { until: p.expires },
            (None, Some(_)) => DeviceState::CodeExpired,
            (None, None) => DeviceState::Active,
        }
    }
}

impl Service {
    /// The dashboard's figures. Sessions and overdue clocks only for whoever may operate the
    /// server; the backup's health for every console user.
    pub fn server_view(&self, actor: &Actor) -> Result<ServerView> {
        let mut view = ServerView { backup: self.backup_health(), ..ServerView::default() };
        if !actor.may(Action::OperateServer) {
            return Ok(view);
        }
        let names = self.device_names(actor)?;
        let summary = self.sessions_summary(actor)?;
        view.sessions = summary.iter().map(|(_, n)| n).sum();
        view.sessions_by_device =
            summary.into_iter().map(|(dev, n)| (dev.map(|id| device_label(&names, id)), n)).collect();
        view.overdue = self.overdue_by_unit(actor)?;
        view.last_probe = self.last_probe()?;
        view.open_alerts = self.open_alerts()?;
        view.month_uptime = self.month_so_far()?;
        Ok(view)
    }

    /// Every tablet with its state, its latest open session and who registered it (one audited
    /// read of the devices).
    pub fn device_list(&self, actor: &Actor) -> Result<Vec<DeviceView>> {
        let now = self.now();
        let mut out = self.read(actor, Action::ManageDevices, DeviceId::KIND, None, |r| {
            let devices = r.all::<Device>()?;
            let mut out = Vec::with_capacity(devices.len());
            for d in devices {
                let registered_by = r
                    .get::<Staff>(d.body.registered_by)?
                    .map(|s| s.body.login.to_string())
                    .unwrap_or_default();
                out.push(DeviceView {
                    id: DeviceId(d.id),
                    state: DeviceState::of(&d.body, now),
                    name: d.body.name,
                    last_used: None,
                    registered_by,
                });
            }
            let n = out.len();
            Ok((out, Some(format!("{n} devices"))))
        })?;
        let mut last = self.last_use_by_device();
        for d in &mut out {
            d.last_used = last.remove(&d.id);
        }
        Ok(out)
    }
}

/// A tablet's name, or `#id` for one no longer on file.
#[must_use]
pub fn device_label(names: &[(DeviceId, String)], id: DeviceId) -> String {
    names.iter().find(|(d, _)| *d == id).map_or_else(|| format!("#{id}"), |(_, n)| n.clone())
}
