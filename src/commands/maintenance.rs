//! `maintenance list|announce|change|cancel`: the planned stops (計画停止). While a server runs,
//! the verb goes through its control socket (`crate::control`) and the server answers with the
//! same `answer`, as the local administrator; otherwise it opens the store itself. Core checks
//! every rule; this file reads the times and prints what a script can read.

use anyhow::Result;
use mamoru_core::ids::MaintenanceId;
use mamoru_core::maintenance::{Maintenance, MaintenanceChange, NewMaintenance};
use mamoru_core::service::Versioned;
use mamoru_core::time::Timestamp;
use mamoru_core::wareki::read_datetime;
use mamoru_core::{Actor, Service};

use super::{in_use, local_admin, open};
use crate::cli::MaintenanceCommand;
use crate::control::{self, Request};

/// Runs `cmd` through the running server, or on the store when none runs; prints the answer.
pub(super) fn maintenance(cmd: &MaintenanceCommand) -> Result<()> {
    let data = cmd.data();
    let text = if let Some(answered) = control::ask(data, &Request::Maintenance(cmd.clone()))? {
        answered?
    } else {
        let service = open(data).map_err(|e| {
            if in_use(&e) {
                e.context(
                    "a server runs but its control socket does not answer: use its console (mamoru console)",
                )
            } else {
                e
            }
        })?;
        answer(&service, &local_admin(&service)?, cmd)?
    };
    print!("{text}");
    Ok(())
}

/// What `cmd` prints, done as `actor`.
pub(crate) fn answer(service: &Service, actor: &Actor, cmd: &MaintenanceCommand) -> Result<String> {
    let now = service.now();
    match cmd {
        MaintenanceCommand::List(_) => {
            let all = service.maintenance_list(actor)?;
            Ok(all.iter().map(|v| line(v, now)).collect())
        }
        MaintenanceCommand::Announce { from, to, reason, .. } => {
            let new = NewMaintenance {
                from: read_datetime("from", from)?,
                to: read_datetime("to", to)?,
                reason: reason.clone(),
            };
            let v = service.announce_maintenance(actor, new)?;
            Ok(format!("announced: {}", line(&v, now)))
        }
        MaintenanceCommand::Change { id, rev, from, to, reason, .. } => {
            let old = current(service, actor, *id)?;
            let time = |field, given: &Option<String>, was: Timestamp| {
                given.as_deref().map_or(Ok(was), |s| read_datetime(field, s))
            };
            let change = MaintenanceChange {
                rev: rev.unwrap_or(old.rev),
                from: time("from", from, old.body.window.from)?,
                to: time("to", to, old.body.window.to)?,
                reason: reason.clone().unwrap_or_else(|| old.body.reason.clone()),
            };
            let v = service.change_maintenance(actor, MaintenanceId(*id), change)?;
            Ok(format!("changed: {}", line(&v, now)))
        }
        MaintenanceCommand::Cancel { id, rev, .. } => {
            let rev = match rev {
                Some(rev) => *rev,
                None => current(service, actor, *id)?.rev,
            };
            let v = service.cancel_maintenance(actor, MaintenanceId(*id), rev)?;
            let done = if v.body.cancelled.is_some() { "cancelled" } else { "ended now" };
            Ok(format!("{done}: {}", line(&v, now)))
        }
    }
}

fn current(service: &Service, actor: &Actor, id: u64) -> Result<Versioned<Maintenance>> {
    Ok(service.maintenance(actor, MaintenanceId(id))?)
}

/// `3 2 coming 2026-12-20 22:00 2026-12-21 02:00 サーバーOSの更新` (Japan time).
fn line(v: &Versioned<Maintenance>, now: Timestamp) -> String {
    let m = &v.body;
    format!(
        "{} {} {} {} {} {}\n",
        v.id,
        v.rev,
        m.stage(now).as_str(),
        m.window.from.to_jst_minute(),
        m.window.to.to_jst_minute(),
        m.reason
    )
}
