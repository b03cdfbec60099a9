//! 計画停止 as the service keeps them: announced by an administrator, shown on every tablet
//! from a week before (`SessionInfo::maintenance`), left out of 稼働率 by the ledger.

use super::{Actor, Service, Versioned};
use crate::error::Result;
use crate::ids::{MaintenanceId, RecordId};
use crate::maintenance::{Maintenance, MaintenanceChange, NewMaintenance};
use crate::staff::Action;
use crate::store::Reader;

impl Service {
    /// Announces a planned stop (checked by `NewMaintenance::check`); audited.
    pub fn announce_maintenance(&self, actor: &Actor, new: NewMaintenance) -> Result<Versioned<Maintenance>> {
        let now = self.now();
        let v = self.write(actor, Action::OperateServer, MaintenanceId::KIND, None, |tx| {
            let v = tx.insert(new.check(actor.staff, now)?)?;
            let id = v.id;
            Ok((v, id))
        })?;
        *self.maintenance.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = None;
        Ok(v)
    }

    /// Changes an announced stop read at `change.rev` (`Maintenance::change`: before it starts
    /// anything, while it runs an earlier end); audited.
    pub fn change_maintenance(
        &self,
        actor: &Actor,
        id: MaintenanceId,
        change: MaintenanceChange,
    ) -> Result<Versioned<Maintenance>> {
        let now = self.now();
        let rev = change.rev;
        self.alter_maintenance(actor, id, rev, |m| m.change(change, actor.staff, now))
    }

    /// Calls off an announced stop read at `rev` (`Maintenance::cancel`: before it starts it no
    /// longer counts, while it runs it ends now); audited.
    pub fn cancel_maintenance(
        &self,
        actor: &Actor,
        id: MaintenanceId,
        rev: u64,
    ) -> Result<Versioned<Maintenance>> {
        let now = self.now();
        self.alter_maintenance(actor, id, rev, |m| m.cancel(actor.staff, now))
    }

    fn alter_maintenance(
        &self,
        actor: &Actor,
        id: MaintenanceId,
        rev: u64,
        alter: impl FnOnce(&Maintenance) -> Result<Maintenance>,
    ) -> Result<Versioned<Maintenance>> {
        let v = self.write(actor, Action::OperateServer, MaintenanceId::KIND, Some(id.0), |tx| {
            let old: Versioned<Maintenance> = tx.require(id)?;
            let v = tx.update(id, rev, alter(&old.body)?)?;
            Ok((v, id.0))
        })?;
        *self.maintenance.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = None;
        Ok(v)
    }

    /// One announced stop, for administrators; audited.
    pub fn maintenance(&self, actor: &Actor, id: MaintenanceId) -> Result<Versioned<Maintenance>> {
        self.read(actor, Action::OperateServer, MaintenanceId::KIND, Some(id.0), |r| {
            Ok((r.require(id)?, None))
        })
    }

    /// Every announced stop, oldest first, for administrators; audited.
    pub fn maintenance_list(&self, actor: &Actor) -> Result<Vec<Versioned<Maintenance>>> {
        self.read(actor, Action::OperateServer, MaintenanceId::KIND, None, |r| {
            let all: Vec<Versioned<Maintenance>> = r.all()?;
            let detail = format!("{} planned stops", all.len());
            Ok((all, Some(detail)))
        })
    }

    /// Every announced stop (kept in memory: each page's notice asks).
    pub(super) fn maintenance_windows(&self) -> Result<Vec<Maintenance>> {
        let mut cached = self.maintenance.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if cached.is_none() {
            let all: Vec<Versioned<Maintenance>> = self.store.read()?.all()?;
            *cached = Some(all.into_iter().map(|v| v.body).collect());
        }
        Ok(cached.clone().unwrap_or_default())
    }

    /// The stop tablets show now (the soonest from a week before it starts until it ends).
    pub(super) fn shown_maintenance(&self) -> Option<Maintenance> {
        let now = self.now();
        let all = self.maintenance_windows().ok()?;
        all.into_iter().filter(|m| m.shown_at(now)).min_by_key(|m| m.window.from)
    }
}
