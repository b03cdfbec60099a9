//! The service layer: the only API the front-ends call. Every method names one `Action`, checks the
//! actor's role and scope (unit, 閲覧制限), does its work in one store transaction and appends one
//! audit entry, whatever the outcome. No HTTP, no terminal, no file formats here.

mod access;
mod alerts;
mod auditing;
mod backups;
mod casework;
mod code_tables;
mod console;
mod console_views;
pub mod court;
mod devices;
mod drills;
mod events;
pub mod export;
mod family;
pub mod forms;
mod health;
mod integrity;
mod maintenance;
mod merging;
pub mod migration;
mod people;
mod photos;
pub use photos::{PHOTOS_PER_CASE, PHOTOS_PER_DAY};
mod reference;
mod reindex;
pub use reindex::Reindexed;
pub mod restore;
mod second_factor;
mod service_report;
pub use service_report::{ServiceReportFiles, last_month};
mod sessions;
mod staff;
pub mod statistics;
mod uptime;

use std::sync::{Arc, Mutex};

use argon2::Argon2;
use argon2::password_hash::PasswordVerifier;
use argon2::password_hash::phc::PasswordHash;

pub use crate::case::NewCase;
pub use crate::store::Versioned;
pub use access::Actor;
pub use auditing::AuditFilter;
pub use backups::{BACKUP_STALE_AFTER, BackupHealth, BackupStatus};
pub use casework::{
    ApprovalDone, BoardFilter, BoardItem, CaseEdited, CasePageView, CaseView, CaseloadItem, CaseloadView,
    Contact, HOME_CLOCKS, HomeView, IntakeChild, IntakeOutcome, IntakePageView, LoadsView, MessageItem,
    QUIET_DAYS, WorkerLoad,
};
pub use console::{ConsolePending, ConsoleStep};
pub use console_views::{DeviceState, DeviceView, ServerView, device_label};
pub use court::{PetitionPageView, PetitionsView};
pub use events::{Event, Events};
pub use family::{
    FamilyFormView, FamilyMember, Joining, MemberEdit, NewMember, NotJoinable, SELF as SELF_RELATION,
    SIBLING, SiblingCandidate, as_guardian, member_key, parse_member_key,
};
pub use health::{BackupState, Health};
pub use integrity::{IntegrityReport, KINDS};
pub use people::{CaseRef, ChildEdited, ChildPageView, ChildSummary, ChildView, MemberView, NewChild};
pub use sessions::{ABSOLUTE_TIMEOUT, DraftKey, IDLE_TIMEOUT, SessionInfo, SessionRow};
pub use staff::{NewStaff, hash_password, one_time_password};
pub use uptime::UptimeView;

use crate::audit::AuditEntry;
use crate::error::{Error, Result};
use crate::ids::{CredentialId, RecordId, StaffId, UnitId};
use crate::staff::{Action, Credential, Login, Password, Role, Staff};
use crate::store::{ReadTx, Reader, Store, WriteTx};
use crate::time::{Clock, Timestamp};

/// The service over one open store.
pub struct Service {
    store: Store,
    clock: Arc<dyn Clock>,
    sessions: sessions::Sessions,
    throttle: crate::throttle::Throttle,
    /// Sign-in only on a registered device (the server's `[web] require_device`).
    require_device: std::sync::atomic::AtomicBool,
    /// Every session needs a second factor (the server's `[web] require_totp`): a staff member
    /// without one may only enrol it.
    require_totp: std::sync::atomic::AtomicBool,
    /// Every console sign-in needs a second factor (the server's `[ssh] require_totp`).
    require_console_totp: std::sync::atomic::AtomicBool,
    /// The hash of the token a metrics scraper presents (the server's `[web] metrics_token_file`);
    /// `None`: only administrators read the metrics.
    metrics_token: Mutex<Option<[u8; 32]>>,
    /// The open import transaction, if the thread that opened it is importing.
    batch: Mutex<Option<Batch>>,
    backup: BackupStatus,
    traffic: crate::traffic::Traffic,
    /// Since when `traffic`'s per-page times have gathered (`Service::keep_traffic`).
    traffic_since: Mutex<Option<Timestamp>>,
    changed: events::ChangeSignal,
    /// The store's secret behind every `DraftKey`, once read (`Service::drafts_secret`).
    drafts_secret: std::sync::OnceLock<[u8; 32]>,
    /// The prober's latest probe, once made or read (`Service::last_probe`).
    last_probe: Mutex<Option<crate::uptime::Probe>>,
    /// This month's 稼働率 so far and the probe it was computed at (`Service::month_so_far`).
    month_uptime: Mutex<Option<(Timestamp, crate::uptime::Availability)>>,
    /// The open alerts, once read (`Service::open_alerts`); emptied at each change.
    open_alerts: Mutex<Option<Vec<crate::alert::Alert>>>,
    /// Every announced planned stop, once read (`Service::maintenance_windows`).
    maintenance: Mutex<Option<Vec<crate::maintenance::Maintenance>>>,
    /// The code tables, sheets and staff, decoded once per change (`reference.rs`).
    reference: reference::Kept,
}

impl BackupHealth {
    /// The last verified backup is too old (a daily backup was missed).
    #[must_use]
    pub fn stale(&self) -> bool {
        self.age_seconds.is_some_and(|age| age > BACKUP_STALE_AFTER)
    }

    /// The backups in one word (`/healthz`, the probes, the console).
    #[must_use]
    pub fn state(&self) -> BackupState {
        match self.age_seconds {
            _ if self.failing => BackupState::Failed,
            None => BackupState::None,
            Some(_) if self.stale() => BackupState::Stale,
            Some(_) => BackupState::Ok,
        }
    }
}

/// Aborts an import's transaction when the import unwinds.
struct BatchGuard<'a>(&'a Service);

impl Drop for BatchGuard<'_> {
    fn drop(&mut self) {
        drop(self.0.lock_batch().take());
    }
}

struct Batch {
    thread: std::thread::ThreadId,
    tx: WriteTx,
    failed: bool,
    writes: u64,
}

impl std::fmt::Debug for Service {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Service").field("store", &self.store).finish_non_exhaustive()
    }
}

fn password_matches(hash: &str, password: &Password) -> bool {
    PasswordHash::new(hash)
        .is_ok_and(|h| Argon2::default().verify_password(password.expose().as_bytes(), &h).is_ok())
}

/// A hash that never matches, verified when the login is unknown so that an unknown login takes
/// as long as a wrong password.
const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$Y2x3eU8xS0pMV1ZzR2x1eW4zUHRlQQ";

impl Service {
    /// The service over the store in `dir` (made by `create`): `NotFound` when there is none.
    /// Opening writes nothing; a server re-indexes search keys first (`reindex_search`).
    pub fn open(dir: &std::path::Path, clock: Arc<dyn Clock>) -> Result<Self> {
        Ok(Self::new(Store::open(dir)?, clock))
    }

    /// The service over a new, empty store in `dir`, which must not hold one.
    pub fn create(dir: &std::path::Path, clock: Arc<dyn Clock>) -> Result<Self> {
        let store = Store::create(dir, clock.now())?;
        let service = Self::new(store, clock);
        service.mark_search_keys()?;
        Ok(service)
    }

    #[must_use]
    pub fn new(store: Store, clock: Arc<dyn Clock>) -> Self {
        Self {
            store,
            clock,
            sessions: sessions::Sessions::default(),
            throttle: crate::throttle::Throttle::default(),
            require_device: std::sync::atomic::AtomicBool::new(false),
            metrics_token: Mutex::new(None),
            require_totp: std::sync::atomic::AtomicBool::new(false),
            require_console_totp: std::sync::atomic::AtomicBool::new(false),
            batch: Mutex::new(None),
            backup: BackupStatus::default(),
            traffic: crate::traffic::Traffic::default(),
            traffic_since: Mutex::new(None),
            changed: events::ChangeSignal::default(),
            drafts_secret: std::sync::OnceLock::new(),
            last_probe: Mutex::new(None),
            month_uptime: Mutex::new(None),
            maintenance: Mutex::new(None),
            reference: reference::Kept::default(),
            open_alerts: Mutex::new(None),
        }
    }

    /// The store behind the service, for core's own tests only (feature `test-support`):
    /// everything else goes through the service's calls.
    #[cfg(any(test, feature = "test-support"))]
    #[must_use]
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The operator at the server's own command line (or its local console), acting with
    /// administrator rights over every unit: whoever holds the data directory holds the data.
    /// Audited as staff 0 from `device` (`local-cli`, `local-console`).
    pub fn local_admin(&self, device: &str) -> Result<Actor> {
        let units = self.units()?.into_iter().map(|u| UnitId(u.id)).collect();
        Ok(Actor {
            staff: StaffId(0),
            login: Login::parse("local-cli")?,
            display_name: "local command line".into(),
            role: Role::Admin,
            units,
            device: Some(device.to_owned()),
            address: None,
        })
    }

    /// The local operator acting as an active staff member on file, from `device` (the demo's
    /// setup, imports run at the server, tests). Never offered to a tablet or the SSH console,
    /// which sign in (`scripts/check-layers` keeps it out of web-lite and tui).
    pub fn local_actor(&self, staff: StaffId, device: &str) -> Result<Actor> {
        let s = self.store.read()?.require::<Staff>(staff)?;
        if s.body.disabled {
            return Err(Error::invalid("staff", "this account is disabled"));
        }
        Ok(Actor::from_staff(&s, Some(device.to_owned())))
    }

    /// The size of the store's file in bytes (the metrics and the dashboard).
    #[must_use]
    pub fn store_bytes(&self) -> u64 {
        self.store.file_size()
    }

    /// The disk holding the store (the metrics and the dashboard).
    #[must_use]
    pub fn disk_space(&self) -> Option<crate::store::DiskSpace> {
        self.store.disk_space()
    }

    /// Request timings the front-ends record, for the dashboard and the metrics.
    #[must_use]
    pub fn traffic(&self) -> &crate::traffic::Traffic {
        &self.traffic
    }

    #[must_use]
    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// Checks a login and password; the audit log records the attempt either way. Unknown logins
    /// and wrong passwords give the same error, after the same work.
    pub fn authenticate(
        &self,
        login: &str,
        password: &Password,
        otp: Option<&str>,
        device: Option<String>,
    ) -> Result<Actor> {
        self.authenticate_from(None, login, password, otp, device)
    }

    /// `authenticate` for a client at `address`, which the actor and its audit entries carry.
    pub(crate) fn authenticate_from(
        &self,
        address: Option<std::net::IpAddr>,
        login: &str,
        password: &Password,
        otp: Option<&str>,
        device: Option<String>,
    ) -> Result<Actor> {
        let found = {
            let r = self.store.read()?;
            match r.unique("login", login)? {
                Some(id) => {
                    let staff = r.get::<Staff>(StaffId(id))?;
                    let cred = r.get::<Credential>(CredentialId(id))?;
                    staff.zip(cred)
                }
                None => None,
            }
        };
        let (actor, result) = match found {
            Some((staff, cred)) if password_matches(&cred.body.password_hash, password) => {
                if staff.body.disabled {
                    (None, Err(Error::BadCredentials))
                } else {
                    match self.second_factor(&cred, otp) {
                        Ok(()) => {
                            let mut actor = Actor::from_staff(&staff, device.clone());
                            actor.address = address;
                            (Some(staff.id), Ok(actor))
                        }
                        Err(e) => (Some(staff.id), Err(e)),
                    }
                }
            }
            Some((staff, _)) => (Some(staff.id), Err(Error::BadCredentials)),
            None => {
                let _ = password_matches(DUMMY_HASH, password);
                (None, Err(Error::BadCredentials))
            }
        };
        let mut entry =
            AuditEntry::new(self.now(), actor.unwrap_or(0), device, "sign_in").from_address(address);
        if let Some(id) = actor {
            entry = entry.on(StaffId::KIND, id);
        }
        if let Err(e) = &result {
            e.code().clone_into(&mut entry.result);
        }
        self.append_audit(entry)?;
        result
    }

    fn append_audit(&self, entry: AuditEntry) -> Result<()> {
        if let Some(mut batch) = self.take_batch() {
            let result = batch.tx.append_audit(entry);
            *self.lock_batch() = Some(batch);
            return result;
        }
        self.store.append_audit(entry)
    }

    /// Runs a write for `actor` as `action`: role check, one transaction, one audit entry. `f`
    /// returns its result and the id of the record it touched, for the audit entry.
    fn write<R>(
        &self,
        actor: &Actor,
        action: Action,
        kind: &'static str,
        target: Option<u64>,
        f: impl FnOnce(&mut WriteTx) -> Result<(R, u64)>,
    ) -> Result<R> {
        let now = self.now();
        let mut entry = actor.audit_entry(now, action.as_str());
        if let Some(id) = target {
            entry = entry.on(kind, id);
        }
        if !actor.role.may(action) {
            let e = Error::Forbidden { action: action.as_str() };
            e.code().clone_into(&mut entry.result);
            // Inside an import, a refused write fails the whole import.
            if let Some(mut batch) = self.take_batch() {
                batch.failed = true;
                *self.lock_batch() = Some(batch);
            }
            self.append_audit(entry)?;
            return Err(e);
        }
        if let Some(mut batch) = self.take_batch() {
            let outcome = f(&mut batch.tx);
            let result = match outcome {
                Ok((value, id)) => batch.tx.append_audit(entry.on(kind, id)).map(|()| value),
                Err(e) => Err(e),
            };
            batch.failed |= result.is_err();
            batch.writes += 1;
            *self.lock_batch() = Some(batch);
            return result;
        }
        let outcome = self.store.begin_write(now, actor.staff.0, actor.device.clone()).and_then(|mut tx| {
            let (value, id) = f(&mut tx)?;
            Ok((tx, value, id))
        });
        match outcome {
            Ok((mut tx, value, id)) => {
                tx.append_audit(entry.on(kind, id))?;
                tx.commit()?;
                self.changed.fire();
                Ok(value)
            }
            Err(e) => {
                e.code().clone_into(&mut entry.result);
                if let Error::Conflict { found, .. } = &e {
                    entry.detail = Some(format!("stale edit; current revision {found}"));
                }
                self.append_audit(entry)?;
                Err(e)
            }
        }
    }

    fn lock_batch(&self) -> std::sync::MutexGuard<'_, Option<Batch>> {
        self.batch.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The import transaction, if this thread holds one.
    fn take_batch(&self) -> Option<Batch> {
        let mut guard = self.lock_batch();
        if guard.as_ref().is_some_and(|b| b.thread == std::thread::current().id()) {
            guard.take()
        } else {
            None
        }
    }

    /// Runs `f` as one import: every service write it makes (with the same rules and checks as
    /// ever) goes into a single transaction that commits only if all of them succeeded. Bad
    /// input anywhere changes nothing. For migration, fixtures and the reference store.
    pub fn import<R>(&self, actor: &Actor, f: impl FnOnce(&Service) -> Result<R>) -> Result<R> {
        let now = self.now();
        let mut entry = actor.audit_entry(now, Action::Import.as_str());
        if !actor.role.may(Action::Import) {
            let e = Error::Forbidden { action: Action::Import.as_str() };
            e.code().clone_into(&mut entry.result);
            self.append_audit(entry)?;
            return Err(e);
        }
        let tx = self.store.begin_write(now, actor.staff.0, actor.device.clone())?;
        *self.lock_batch() =
            Some(Batch { thread: std::thread::current().id(), tx, failed: false, writes: 0 });
        // If `f` panics, the guard drops (aborts) the import transaction, so that no writer
        // waits forever on it.
        let guard = BatchGuard(self);
        let result = f(self);
        std::mem::forget(guard);
        let batch = self.lock_batch().take();
        let Some(mut batch) = batch else {
            return Err(Error::Corrupt("import transaction lost".into()));
        };
        match result {
            Ok(value) if !batch.failed => {
                entry.detail = Some(format!("{} writes", batch.writes));
                batch.tx.append_audit(entry)?;
                batch.tx.commit()?;
                self.changed.fire();
                Ok(value)
            }
            Ok(_) => {
                drop(batch);
                entry.result = "invalid".into();
                self.append_audit(entry)?;
                Err(Error::invalid("import", "a write in the import failed; nothing was imported"))
            }
            Err(e) => {
                drop(batch);
                e.code().clone_into(&mut entry.result);
                self.append_audit(entry)?;
                Err(e)
            }
        }
    }

    /// Runs a read for `actor` as `action` on a consistent snapshot, then records it in the audit
    /// log. The data is returned only once the audit entry is durable.
    fn read<R>(
        &self,
        actor: &Actor,
        action: Action,
        kind: &'static str,
        target: Option<u64>,
        f: impl FnOnce(&ReadTx) -> Result<(R, Option<String>)>,
    ) -> Result<R> {
        let mut entry = actor.audit_entry(self.now(), action.as_str());
        if let Some(id) = target {
            entry = entry.on(kind, id);
        }
        let outcome = if actor.role.may(action) {
            self.store.read().and_then(|r| f(&r))
        } else {
            Err(Error::Forbidden { action: action.as_str() })
        };
        match outcome {
            Ok((value, detail)) => {
                entry.detail = detail;
                self.append_audit(entry)?;
                Ok(value)
            }
            Err(e) => {
                e.code().clone_into(&mut entry.result);
                self.append_audit(entry)?;
                Err(e)
            }
        }
    }

    /// Checks a permission without writing an audit entry: only for the operational views that
    /// a console polls every second and that hold no personal data (counts, tablet names, the
    /// live feed after its opening was audited).
    fn permit(actor: &Actor, action: Action) -> Result<()> {
        if actor.role.may(action) { Ok(()) } else { Err(Error::Forbidden { action: action.as_str() }) }
    }
}
