//! The service layer: the only API the front-ends call. Every method names one `Action`, checks the
//! actor's role and scope (unit, 閲覧制限), does its work in one store transaction and appends one
//! audit entry, whatever the outcome. No HTTP, no terminal, no file formats here.

mod access;
mod auditing;
mod casework;
mod devices;
mod events;
mod integrity;
mod merging;
mod people;
mod photos;
pub mod restore;
mod second_factor;
mod sessions;

use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};

pub use crate::case::NewCase;
pub use crate::store::Versioned;
pub use access::Actor;
pub use auditing::AuditFilter;
pub use casework::{BoardItem, CaseEdited, CaseView, IntakeChild, IntakeOutcome, MessageItem};
pub use events::{Event, Events};
pub use integrity::{IntegrityReport, KINDS};
pub use people::{ChildEdited, ChildSummary, ChildView, NewChild};
pub use sessions::{ABSOLUTE_TIMEOUT, IDLE_TIMEOUT, SessionInfo, SessionRow};
// BackupHealth and BackupStatus are defined below.

use crate::assessment::{self, AssessmentSheet};
use crate::audit::{AuditEntry, Verdict};
use crate::code_table::{self, CodeTable};
use crate::error::{Error, Result};
use crate::ids::{CodeTableId, CredentialId, RecordId, StaffId, UnitId};
use crate::staff::{Action, Credential, Login, Password, Role, Staff, Unit, UnitKind};
use crate::store::{ReadTx, Reader, Store, WriteTx};
use crate::throttle;
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
    /// The open import transaction, if the thread that opened it is importing.
    batch: Mutex<Option<Batch>>,
    backup: BackupStatus,
    traffic: crate::traffic::Traffic,
    changed: events::ChangeSignal,
}

/// How the backups are doing, for `/healthz`, the console and the metrics.
#[derive(Debug, Default)]
pub struct BackupStatus {
    /// Unix seconds of the last verified backup; 0 if none.
    last_ok_at: std::sync::atomic::AtomicI64,
    failing: std::sync::atomic::AtomicBool,
    /// Unix seconds of the last successful archive shipment; 0 if none.
    archived_at: std::sync::atomic::AtomicI64,
    archive_failing: std::sync::atomic::AtomicBool,
}

/// A reading of `BackupStatus`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BackupHealth {
    /// Seconds since the last verified backup, if there is one.
    pub age_seconds: Option<i64>,
    /// The last attempt failed.
    pub failing: bool,
    /// Seconds since the change archive last caught up, if it has.
    pub archive_age_seconds: Option<i64>,
    pub archive_failing: bool,
}

/// A verified backup older than this (a day and a bit) needs an administrator.
pub const BACKUP_STALE_AFTER: i64 = 26 * 3600;

impl BackupHealth {
    /// The last verified backup is too old (a daily backup was missed).
    #[must_use]
    pub fn stale(&self) -> bool {
        self.age_seconds.is_some_and(|age| age > BACKUP_STALE_AFTER)
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

/// A new staff member as an administrator enters it.
#[derive(Clone, Debug)]
pub struct NewStaff {
    pub login: Login,
    pub display_name: String,
    pub role: Role,
    pub units: Vec<UnitId>,
}

/// What every code-table entry must be: a short code of letters, digits, `-` or `_`, unique in
/// its table; a label of 1–40 characters; a validity that does not end before it starts.
fn check_code_entries(entries: &[code_table::CodeEntry]) -> Result<()> {
    let mut seen = std::collections::HashSet::new();
    for e in entries {
        let code_ok = (1..=8).contains(&e.code.len())
            && e.code.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !code_ok {
            return Err(Error::invalid("code", format!("{:?}: 1 to 8 letters, digits, - or _", e.code)));
        }
        if !seen.insert(e.code.as_str()) {
            return Err(Error::invalid("code", format!("{} appears twice", e.code)));
        }
        let label = e.label.trim();
        if label.is_empty() || label.chars().count() > 40 || label.len() != e.label.len() {
            return Err(Error::invalid(
                "label",
                format!("code {}: 1 to 40 characters, no outer spaces", e.code),
            ));
        }
        if let (Some(f), Some(u)) = (e.valid_from, e.valid_until)
            && u <= f
        {
            return Err(Error::invalid("valid_until", format!("code {}: must be after valid_from", e.code)));
        }
    }
    Ok(())
}

/// A random password to be handed over once: 14 letters and digits without the ones misread
/// when read aloud over the phone (0/O, 1/l/I).
pub fn one_time_password() -> Result<String> {
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzACDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut raw = [0u8; 14];
    getrandom::fill(&mut raw).map_err(|e| Error::Corrupt(format!("no randomness: {e}")))?;
    Ok(raw.iter().map(|b| char::from(ALPHABET[usize::from(*b) % ALPHABET.len()])).collect())
}

/// Hashes a password with Argon2id and a fresh salt.
pub fn hash_password(password: &Password) -> Result<String> {
    Argon2::default()
        .hash_password(password.expose().as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| Error::Corrupt(format!("password hashing failed: {e}")))
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
    pub fn open(dir: &std::path::Path, clock: Arc<dyn Clock>) -> Result<Self> {
        Ok(Self::new(Store::open(dir)?, clock))
    }

    /// The service over a new, empty store in `dir`, which must not hold one.
    pub fn create(dir: &std::path::Path, clock: Arc<dyn Clock>) -> Result<Self> {
        let store = Store::create(dir, clock.now())?;
        Ok(Self::new(store, clock))
    }

    #[must_use]
    pub fn new(store: Store, clock: Arc<dyn Clock>) -> Self {
        Self {
            store,
            clock,
            sessions: sessions::Sessions::default(),
            throttle: crate::throttle::Throttle::default(),
            require_device: std::sync::atomic::AtomicBool::new(false),
            require_totp: std::sync::atomic::AtomicBool::new(false),
            batch: Mutex::new(None),
            backup: BackupStatus::default(),
            traffic: crate::traffic::Traffic::default(),
            changed: events::ChangeSignal::default(),
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

    /// Whether the store answers a read (`/healthz`); nothing personal is read.
    pub fn store_ok(&self) -> Result<()> {
        self.store.read().map(drop)
    }

    /// The size of the store's file in bytes (the metrics and the dashboard).
    #[must_use]
    pub fn store_bytes(&self) -> u64 {
        self.store.file_size()
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

    /// Sets up a new store: the two organisation units, the code tables, the assessment sheet and
    /// the first administrator. Run once, by `mamoru init`.
    pub fn bootstrap(&self, admin: &Login, display_name: &str, password: &Password) -> Result<StaffId> {
        let hash = hash_password(password)?;
        let mut tx = self.store.begin_write(self.now(), 0, None)?;
        if !tx.all::<Staff>()?.is_empty() {
            return Err(Error::invalid("data", "this store is already set up"));
        }
        let centre = tx.insert(Unit {
            name: "児童相談所".into(),
            kind: UnitKind::ChildGuidanceCentre,
            case_prefix: "児".into(),
            may_read_units: Vec::new(),
        })?;
        let municipal = tx.insert(Unit {
            name: "こども家庭センター".into(),
            kind: UnitKind::Municipal,
            case_prefix: "市".into(),
            may_read_units: Vec::new(),
        })?;
        for table in code_table::seed() {
            let key = table.key.clone();
            let v = tx.insert(table)?;
            tx.claim("code_table", &key, v.id)?;
        }
        let sheet = tx.insert(assessment::protection_sheet())?;
        tx.claim("assessment_sheet", "protection_decision", sheet.id)?;
        let staff = tx.insert(Staff {
            login: admin.clone(),
            display_name: display_name.to_owned(),
            role: Role::Admin,
            units: vec![UnitId(centre.id), UnitId(municipal.id)],
            disabled: false,
            console_keys: Vec::new(),
        })?;
        tx.claim("login", admin.as_str(), staff.id)?;
        tx.insert_at(
            CredentialId(staff.id),
            Credential { password_hash: hash, totp: None, totp_pending: None },
        )?;
        let mut entry = AuditEntry::new(self.now(), 0, None, "bootstrap").on(StaffId::KIND, staff.id);
        entry.detail = Some("store initialised".into());
        tx.append_audit(entry)?;
        tx.commit()?;
        Ok(StaffId(staff.id))
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
                        Ok(()) => (Some(staff.id), Ok(Actor::from_staff(&staff, device.clone()))),
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
        let mut entry = AuditEntry::new(self.now(), actor.unwrap_or(0), device, "sign_in");
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
        let mut tx = self.store.begin_write(entry.at, entry.actor, entry.device.clone())?;
        tx.append_audit(entry)?;
        tx.commit()
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
        let mut entry = AuditEntry::new(now, actor.staff.0, actor.device.clone(), action.as_str());
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
        let mut entry = AuditEntry::new(now, actor.staff.0, actor.device.clone(), Action::Import.as_str());
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
        let mut entry = AuditEntry::new(self.now(), actor.staff.0, actor.device.clone(), action.as_str());
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

    // ---- staff and units -------------------------------------------------------------------

    pub fn units(&self) -> Result<Vec<Versioned<Unit>>> {
        self.store.read()?.all::<Unit>()
    }

    /// Sets which other units a unit's staff may read (a policy setting).
    pub fn set_unit_policy(&self, actor: &Actor, unit: UnitId, may_read: Vec<UnitId>) -> Result<()> {
        self.write(actor, Action::ManageStaff, UnitId::KIND, Some(unit.0), |tx| {
            let u = tx.require::<Unit>(unit)?;
            let mut body = u.body.clone();
            body.may_read_units = may_read;
            tx.update(unit, u.rev, body)?;
            Ok(((), unit.0))
        })
    }

    pub fn add_staff(&self, actor: &Actor, new: NewStaff, password: &Password) -> Result<StaffId> {
        let hash = hash_password(password)?;
        self.write(actor, Action::ManageStaff, StaffId::KIND, None, |tx| {
            if new.units.is_empty() {
                return Err(Error::invalid("units", "at least one unit"));
            }
            for u in &new.units {
                tx.require::<Unit>(*u)?;
            }
            if tx.unique("login", new.login.as_str())?.is_some() {
                return Err(Error::invalid("login", format!("{} is already taken", new.login)));
            }
            let v = tx.insert(Staff {
                login: new.login.clone(),
                display_name: new.display_name.trim().to_owned(),
                role: new.role,
                units: new.units,
                disabled: false,
                console_keys: Vec::new(),
            })?;
            tx.claim("login", new.login.as_str(), v.id)?;
            tx.insert_at(
                CredentialId(v.id),
                Credential { password_hash: hash, totp: None, totp_pending: None },
            )?;
            Ok((StaffId(v.id), v.id))
        })
    }

    pub fn list_staff(&self, actor: &Actor) -> Result<Vec<Versioned<Staff>>> {
        self.read(actor, Action::ManageStaff, StaffId::KIND, None, |r| {
            let all = r.all::<Staff>()?;
            let n = all.len();
            Ok((all, Some(format!("{n} staff"))))
        })
    }

    /// Every staff member's display name, to show who wrote a note or made a check. A staff
    /// directory, not personal data about a child: permission-checked, not audited (see `permit`).
    pub fn staff_names(&self, actor: &Actor) -> Result<std::collections::HashMap<StaffId, String>> {
        Self::permit(actor, Action::ReadCase)?;
        Ok(self
            .store
            .read()?
            .all::<Staff>()?
            .into_iter()
            .map(|s| (StaffId(s.id), s.body.display_name))
            .collect())
    }

    /// The staff of `unit` who may still sign in, by name: whom a case can be assigned to and who
    /// can be named at a meeting. A directory, like `staff_names`.
    pub fn unit_staff(&self, actor: &Actor, unit: UnitId) -> Result<Vec<(StaffId, String)>> {
        Self::permit(actor, Action::ReadCase)?;
        let mut out: Vec<(StaffId, String)> = self
            .store
            .read()?
            .all::<Staff>()?
            .into_iter()
            .filter(|s| !s.body.disabled && s.body.units.contains(&unit))
            .map(|s| (StaffId(s.id), s.body.display_name))
            .collect();
        out.sort_by_key(|(id, _)| id.0);
        Ok(out)
    }

    fn staff_by_login(tx: &impl Reader, login: &str) -> Result<Versioned<Staff>> {
        let id = tx.unique("login", login)?.ok_or_else(|| Error::not_found("staff", login))?;
        tx.require::<Staff>(StaffId(id))
    }

    pub fn set_staff_disabled(&self, actor: &Actor, login: &str, disabled: bool) -> Result<()> {
        let target = self.store.read()?.unique("login", login)?;
        self.write(actor, Action::ManageStaff, StaffId::KIND, target, |tx| {
            let s = Self::staff_by_login(tx, login)?;
            if s.id == actor.staff.0 && disabled {
                return Err(Error::invalid("login", "you cannot disable your own account"));
            }
            let mut body = s.body.clone();
            body.disabled = disabled;
            tx.update(StaffId(s.id), s.rev, body)?;
            Ok(((), s.id))
        })?;
        if disabled && let Some(id) = target {
            self.sessions.end_staff(StaffId(id));
        }
        Ok(())
    }

    pub fn set_password(&self, actor: &Actor, login: &str, password: &Password) -> Result<()> {
        let hash = hash_password(password)?;
        let target = self.store.read()?.unique("login", login)?;
        self.write(actor, Action::ManageStaff, StaffId::KIND, target, |tx| {
            let s = Self::staff_by_login(tx, login)?;
            let cred = tx.require::<Credential>(CredentialId(s.id))?;
            tx.update(
                CredentialId(s.id),
                cred.rev,
                Credential { password_hash: hash, totp: None, totp_pending: None },
            )?;
            Ok(((), s.id))
        })?;
        // A new password ends every session signed in with the old one, and lifts a sign-in lock.
        if let Some(id) = target {
            self.sessions.end_staff(StaffId(id));
        }
        self.throttle.forget(login);
        Ok(())
    }

    /// Sets a new random password for `login` and returns it, to be handed over once (the
    /// console's パスワード再設定). Like `set_password`, it ends that account's sessions.
    pub fn reset_password(&self, actor: &Actor, login: &str) -> Result<String> {
        let text = one_time_password()?;
        self.set_password(actor, login, &Password::new(text.clone())?)?;
        Ok(text)
    }

    /// Adds a staff member with a random first password, returned to be handed over once (the
    /// console's 職員 → 追加).
    pub fn add_staff_with_one_time_password(
        &self,
        actor: &Actor,
        new: NewStaff,
    ) -> Result<(StaffId, String)> {
        let text = one_time_password()?;
        let id = self.add_staff(actor, new, &Password::new(text.clone())?)?;
        Ok((id, text))
    }

    /// Changes a staff member's name, role and units, if their record is still at `rev` (else
    /// `Conflict`: someone else changed it meanwhile). A change of role or units ends their
    /// sessions, so that what they may do changes at once. Administrators cannot take the
    /// administrator role from themselves (the last way back in would go with it).
    pub fn edit_staff(
        &self,
        actor: &Actor,
        login: &str,
        rev: u64,
        display_name: &str,
        role: Role,
        units: Vec<UnitId>,
    ) -> Result<()> {
        let name = display_name.trim();
        if name.is_empty() || name.chars().count() > 40 {
            return Err(Error::invalid("display_name", "1 to 40 characters"));
        }
        let target = self.store.read()?.unique("login", login)?;
        let changed = self.write(actor, Action::ManageStaff, StaffId::KIND, target, |tx| {
            let s = Self::staff_by_login(tx, login)?;
            if units.is_empty() {
                return Err(Error::invalid("units", "at least one unit"));
            }
            for u in &units {
                tx.require::<Unit>(*u)?;
            }
            if s.id == actor.staff.0 && s.body.role == Role::Admin && role != Role::Admin {
                return Err(Error::invalid("role", "you cannot take the administrator role from yourself"));
            }
            let mut body = s.body.clone();
            let changed = body.role != role || body.units != units;
            name.clone_into(&mut body.display_name);
            body.role = role;
            body.units = units;
            tx.update(StaffId(s.id), rev, body)?;
            Ok((changed, s.id))
        })?;
        if changed && let Some(id) = target {
            self.sessions.end_staff(StaffId(id));
        }
        Ok(())
    }

    /// Removes one of a staff member's console keys (matched by its key data, as
    /// `lists_console_key` does). A console signed in with it ends at its next keystroke.
    pub fn remove_console_key(&self, actor: &Actor, login: &str, key: &str) -> Result<()> {
        let blob = key.split_whitespace().nth(1).unwrap_or(key.trim()).to_owned();
        let target = self.store.read()?.unique("login", login)?;
        self.write(actor, Action::ManageStaff, StaffId::KIND, target, |tx| {
            let s = Self::staff_by_login(tx, login)?;
            let mut body = s.body.clone();
            let before = body.console_keys.len();
            body.console_keys.retain(|k| k.split_whitespace().nth(1) != Some(blob.as_str()));
            if body.console_keys.len() == before {
                return Err(Error::not_found("console key", login));
            }
            tx.update(StaffId(s.id), s.rev, body)?;
            Ok(((), s.id))
        })
    }

    /// Adds an OpenSSH public key to a staff member's console keys.
    pub fn add_console_key(&self, actor: &Actor, login: &str, key: &str) -> Result<()> {
        let key = key.trim();
        let mut parts = key.split_whitespace();
        let (Some(algo), Some(data)) = (parts.next(), parts.next()) else {
            return Err(Error::invalid(
                "key",
                "expected an OpenSSH public key line: 'ssh-ed25519 AAAA... comment'",
            ));
        };
        if !matches!(
            algo,
            "ssh-ed25519" | "ecdsa-sha2-nistp256" | "ecdsa-sha2-nistp384" | "ecdsa-sha2-nistp521"
        ) || data.len() < 16
        {
            return Err(Error::invalid("key", "only Ed25519 and ECDSA keys are accepted"));
        }
        let target = self.store.read()?.unique("login", login)?;
        self.write(actor, Action::ManageStaff, StaffId::KIND, target, |tx| {
            let s = Self::staff_by_login(tx, login)?;
            let mut body = s.body.clone();
            if !body.lists_console_key(key) {
                body.console_keys.push(key.to_owned());
            }
            tx.update(StaffId(s.id), s.rev, body)?;
            Ok(((), s.id))
        })
    }

    /// After a point-in-time restore: what the rest of the archive (`later`, redo entries the
    /// restore did not apply) did to who may sign in is done here too, so that a restore to an
    /// earlier moment never brings back a way in that was closed: an account disabled, a device
    /// revoked, a console key removed, a password or second factor reset (a leaked one stays
    /// replaced). Each is one audited transaction. Returns one line per change, for the restore's
    /// report (no personal data beyond logins and device names).
    pub fn reapply_revocations(&self, later: &[(u64, Vec<u8>)]) -> Result<Vec<String>> {
        let Closed { staff, revoked, credentials } = Closed::read(later)?;
        let mut out = Vec::new();
        let write =
            |kind: &'static str, id: u64, f: &mut dyn FnMut(&mut crate::store::WriteTx) -> Result<bool>| {
                let mut tx = self.store.begin_write(self.now(), 0, Some("restore".into()))?;
                if !f(&mut tx)? {
                    return Ok(false);
                }
                let mut entry =
                    AuditEntry::new(self.now(), 0, Some("restore".into()), "reapply_revocation").on(kind, id);
                entry.detail = Some("changed later in the archive".into());
                tx.append_audit(entry)?;
                tx.commit()?;
                Ok::<bool, Error>(true)
            };
        for (id, newest) in &staff {
            let mut login = String::new();
            let mut what = Vec::new();
            write(StaffId::KIND, *id, &mut |tx| {
                let Some(s) = tx.get::<Staff>(StaffId(*id))? else { return Ok(false) };
                let mut body = s.body.clone();
                if newest.disabled && !body.disabled {
                    body.disabled = true;
                    what.push("disabled again");
                }
                let kept: Vec<String> =
                    body.console_keys.iter().filter(|k| newest.lists_console_key(k)).cloned().collect();
                if kept.len() < body.console_keys.len() {
                    body.console_keys = kept;
                    what.push("console keys removed again");
                }
                if what.is_empty() {
                    return Ok(false);
                }
                login = s.body.login.to_string();
                tx.update(StaffId(*id), s.rev, body)?;
                Ok(true)
            })?;
            if !what.is_empty() {
                out.push(format!("account {login}: {}", what.join(", ")));
            }
        }
        for id in revoked {
            let mut name = String::new();
            let done = write(crate::ids::DeviceId::KIND, id, &mut |tx| {
                let Some(d) = tx.get::<crate::device::Device>(crate::ids::DeviceId(id))? else {
                    return Ok(false);
                };
                if !d.body.is_active() {
                    return Ok(false);
                }
                name.clone_from(&d.body.name);
                let mut body = d.body.clone();
                body.revoked = Some(crate::device::Revocation { at: self.now(), by: StaffId(0) });
                tx.update(crate::ids::DeviceId(id), d.rev, body)?;
                Ok(true)
            })?;
            if done {
                out.push(format!("device {id} ({name}): revoked again"));
            }
        }
        for (id, newest) in credentials {
            let mut login = String::new();
            let done = write(CredentialId::KIND, id, &mut |tx| {
                let Some(c) = tx.get::<Credential>(CredentialId(id))? else { return Ok(false) };
                let secret = |c: &Credential| c.totp.as_ref().map(|t| t.secret_hex.clone());
                if c.body.password_hash == newest.password_hash && secret(&c.body) == secret(&newest) {
                    return Ok(false);
                }
                login = tx.get::<Staff>(StaffId(id))?.map(|s| s.body.login.to_string()).unwrap_or_default();
                tx.update(CredentialId(id), c.rev, newest.clone())?;
                Ok(true)
            })?;
            if done {
                out.push(format!("account {login}: password or second factor as reset later"));
            }
        }
        Ok(out)
    }

    // ---- code tables -----------------------------------------------------------------------

    pub fn code_tables(&self) -> Result<Vec<Versioned<CodeTable>>> {
        self.store.read()?.all::<CodeTable>()
    }

    pub fn code_table(reader: &impl Reader, key: &str) -> Result<Versioned<CodeTable>> {
        let id = reader.unique("code_table", key)?.ok_or_else(|| Error::not_found("code table", key))?;
        reader.require::<CodeTable>(CodeTableId(id))
    }

    /// Replaces a code table (at the revision the administrator edited). A code in use may be
    /// ended with `valid_until`, never removed.
    pub fn edit_code_table(&self, actor: &Actor, key: &str, rev: u64, table: CodeTable) -> Result<()> {
        self.change_code_table(actor, key, rev, |current| {
            if table.key != key {
                return Err(Error::invalid("key", "a table's key cannot change"));
            }
            *current = table;
            Ok(())
        })
    }

    /// Adds an entry to a code table, or changes one (`CodeEntryEdit`), at the revision the
    /// administrator's form was drawn from; the same checks as `edit_code_table`.
    pub fn put_code_entry(
        &self,
        actor: &Actor,
        key: &str,
        rev: u64,
        edit: code_table::CodeEntryEdit,
        adding: bool,
    ) -> Result<()> {
        self.change_code_table(actor, key, rev, |table| table.put(edit, adding))
    }

    /// One change of a code table in one write: `change` turns the current table into the new
    /// one, which is checked (entries, values, none removed) and stored at revision `rev`.
    fn change_code_table(
        &self,
        actor: &Actor,
        key: &str,
        rev: u64,
        change: impl FnOnce(&mut CodeTable) -> Result<()>,
    ) -> Result<()> {
        let target = self.store.read()?.unique("code_table", key)?;
        self.write(actor, Action::EditCodeTables, CodeTableId::KIND, target, |tx| {
            let current = Self::code_table(tx, key)?;
            let mut table = current.body.clone();
            change(&mut table)?;
            check_code_entries(&table.entries)?;
            table.check_values()?;
            for old in &current.body.entries {
                if !table.entries.iter().any(|e| e.code == old.code) {
                    return Err(Error::invalid(
                        "entries",
                        format!("code {} cannot be removed; end it with valid_until instead", old.code),
                    ));
                }
            }
            tx.update(CodeTableId(current.id), rev, table)?;
            Ok(((), current.id))
        })
    }

    /// Every assessment sheet on file (questions and flow; no personal data).
    pub fn assessment_sheets(&self) -> Result<Vec<Versioned<AssessmentSheet>>> {
        self.store.read()?.all::<AssessmentSheet>()
    }

    pub fn assessment_sheet(reader: &impl Reader, key: &str) -> Result<Versioned<AssessmentSheet>> {
        let id = reader
            .unique("assessment_sheet", key)?
            .ok_or_else(|| Error::not_found("assessment sheet", key))?;
        reader.require::<AssessmentSheet>(crate::ids::SheetId(id))
    }

    // ---- backups ---------------------------------------------------------------------------

    /// Writes a consistent snapshot of the whole store (one read transaction; writers go on)
    /// for a backup, and records that it was taken. Run by the server's scheduler or the local
    /// operator, not by a signed-in user.
    pub fn write_snapshot(&self, w: &mut dyn std::io::Write) -> Result<crate::snapshot::Summary> {
        let summary = self.store.write_snapshot(w)?;
        let mut entry = AuditEntry::new(self.now(), 0, Some("backup".into()), "backup_snapshot");
        entry.detail = Some(format!("covers change {}", summary.last_change));
        self.append_audit(entry)?;
        Ok(summary)
    }

    /// Records the outcome of a backup attempt (`at`: when the verified snapshot was taken).
    pub fn record_backup(&self, ok_at: Option<Timestamp>) {
        use std::sync::atomic::Ordering;
        match ok_at {
            Some(at) => {
                self.backup.last_ok_at.fetch_max(at.0, Ordering::SeqCst);
                self.backup.failing.store(false, Ordering::SeqCst);
            }
            None => self.backup.failing.store(true, Ordering::SeqCst),
        }
    }

    /// Records a shipment of the change archive (or its failure).
    pub fn record_archive(&self, ok: bool) {
        use std::sync::atomic::Ordering;
        if ok {
            self.backup.archived_at.store(self.now().0, Ordering::SeqCst);
        }
        self.backup.archive_failing.store(!ok, Ordering::SeqCst);
    }

    /// An administrator asks for a backup now: allowed, and recorded in the audit log.
    pub fn authorize_backup(&self, actor: &Actor) -> Result<()> {
        self.read(actor, Action::OperateServer, "backup", None, |_| Ok(((), Some("run backup".into()))))
    }

    /// A console user fetches a file (a backup generation, an audit export) over SFTP: allowed
    /// when their role has `needs`; audited either way as `download_file`, naming the file as the
    /// console shows it (`backups/gen-000007.age`; file names hold no personal data).
    pub fn authorize_download(&self, actor: &Actor, needs: Action, file: &str) -> Result<()> {
        let mut entry = AuditEntry::new(self.now(), actor.staff.0, actor.device.clone(), "download_file");
        entry.detail = Some(file.to_owned());
        let outcome = Self::permit(actor, needs);
        if let Err(e) = &outcome {
            e.code().clone_into(&mut entry.result);
        }
        self.append_audit(entry)?;
        outcome
    }

    /// Only administrators read the metrics from another machine (loopback needs no sign-in: the
    /// web layer decides that). Metrics hold no personal data.
    pub fn may_read_metrics(&self, actor: &Actor) -> Result<()> {
        self.read(actor, Action::OperateServer, "metrics", None, |_| Ok(((), Some("read metrics".into()))))
    }

    /// Checks a permission without writing an audit entry: only for the operational views that
    /// a console polls every second and that hold no personal data (counts, tablet names, the
    /// live feed after its opening was audited).
    fn permit(actor: &Actor, action: Action) -> Result<()> {
        if actor.role.may(action) { Ok(()) } else { Err(Error::Forbidden { action: action.as_str() }) }
    }

    /// Overdue legal clocks per unit, counts only (the console's dashboard): unit name, count.
    /// Polled; not audited (see `permit`).
    pub fn overdue_by_unit(&self, actor: &Actor) -> Result<Vec<(String, usize)>> {
        Self::permit(actor, Action::OperateServer)?;
        let now = self.now();
        let r = self.store.read()?;
        let mut out = Vec::new();
        for unit in r.all::<Unit>()? {
            let n = r.clocks_due(&format!("u{}", unit.id), now)?.len();
            out.push((unit.body.name.clone(), n));
        }
        Ok(out)
    }

    /// Audit entries after `after`, at most `limit`, for a live feed that polls. Not audited
    /// itself: the view audits its opening with `audit_log`.
    pub fn audit_feed(&self, actor: &Actor, after: u64, limit: usize) -> Result<Vec<AuditEntry>> {
        Self::permit(actor, Action::ReadAudit)?;
        self.store
            .read()?
            .audit_entries(after.saturating_add(1), limit)?
            .into_iter()
            .map(|(_, b)| AuditEntry::decode(&b))
            .collect()
    }

    /// The console's sign-in: `login` presents an OpenSSH public key (`algorithm base64`) whose
    /// signature the SSH layer has verified. Accepted when the account is active and lists that
    /// key. Audited either way; unknown logins and unlisted keys give the same error.
    pub fn console_sign_in(&self, login: &str, key: &str) -> Result<Actor> {
        let found = match self.store.read().and_then(|r| Self::staff_by_login(&r, login)) {
            Ok(s) => Some(s),
            Err(Error::NotFound { .. }) => None,
            Err(e) => return Err(e),
        };
        let device = Some("console".to_owned());
        let mut entry = AuditEntry::new(
            self.now(),
            found.as_ref().map_or(0, |s| s.id),
            device.clone(),
            "console_sign_in",
        );
        if let Some(s) = &found {
            entry = entry.on(StaffId::KIND, s.id);
        }
        let result = match found {
            Some(s) if s.body.may_use_console(key) => Ok(Actor::from_staff(&s, device)),
            _ => Err(Error::BadCredentials),
        };
        match &result {
            Ok(_) => self.throttle.console_succeeded(login),
            Err(e) => e.code().clone_into(&mut entry.result),
        }
        self.append_audit(entry)?;
        result
    }

    /// Whether `key` (`algorithm base64`) is one of `login`'s console keys on an active account.
    /// Reads only and writes nothing: the SSH server's answer to a key offered before its
    /// signature is checked, so that a client holding many keys is not refused once per key.
    pub fn console_key_listed(&self, login: &str, key: &str) -> bool {
        self.store
            .read()
            .and_then(|r| Self::staff_by_login(&r, login))
            .is_ok_and(|s| s.body.may_use_console(key))
    }

    /// A console connection from `address` ended without signing in, after `attempts` keys or
    /// passwords for `login` were turned away. It counts as one failed sign-in (see
    /// `crate::throttle`: the console's own count per login, and the address's count shared with
    /// the web) and is audited once, unless that login or address is already locked: a flood
    /// writes one entry when its lock starts and nothing more until it ends (nor is it counted).
    /// A listed key is never refused for a lock (a public key cannot be guessed; an administrator
    /// cutting off a stolen tablet must get in), so the lock only keeps the log from filling.
    pub fn console_refused(&self, address: Option<IpAddr>, login: &str, attempts: u32) -> Result<()> {
        let keys = throttle::console_keys(login, address);
        let now = self.now();
        if self.throttle.wait(&keys, now) > 0 {
            // As on the web, attempts during a lock are not counted (it would only lengthen).
            return Ok(());
        }
        let staff = self.store.read()?.unique("login", login)?;
        let mut entry = AuditEntry::new(now, staff.unwrap_or(0), Some("console".into()), "console_sign_in");
        if let Some(id) = staff {
            entry = entry.on(StaffId::KIND, id);
        }
        Error::BadCredentials.code().clone_into(&mut entry.result);
        entry.detail = Some(match address {
            Some(a) => format!("{attempts} refused from {a}"),
            None => format!("{attempts} refused"),
        });
        self.append_audit(entry)?;
        self.count_failure(&keys, Some("console"), "console_sign_in_locked")
    }

    /// Counts a failed sign-in under `keys` (see `crate::throttle`) and audits each lock it
    /// starts, once, as `locked_action`. Attempts refused during a lock are not written (a flood
    /// must not fill the disk). The login as typed is not written either (it may hold a mistyped
    /// password); the address is.
    fn count_failure(&self, keys: &[(String, u32)], device: Option<&str>, locked_action: &str) -> Result<()> {
        let now = self.now();
        for (key, secs) in self.throttle.failed(keys, now) {
            let mut entry = AuditEntry::new(now, 0, device.map(str::to_owned), locked_action);
            entry.detail = Some(match key.strip_prefix("addr:") {
                Some(a) => format!("address {a} locked for {secs} s"),
                None => format!("login locked for {secs} s"),
            });
            self.append_audit(entry)?;
        }
        Ok(())
    }

    /// Whether a console user still may be signed in (active, key still listed); checked on
    /// every keystroke so that disabling an account or removing its key ends its console.
    pub fn console_still_valid(&self, actor: &Actor, key: &str) -> bool {
        // A changed role or units end it too: the open console acts with the ones it signed in
        // with (as `edit_staff` ends web sessions).
        self.store.read().and_then(|r| r.get::<Staff>(actor.staff)).ok().flatten().is_some_and(|s| {
            s.body.may_use_console(key) && s.body.role == actor.role && s.body.units == actor.units
        })
    }

    #[must_use]
    pub fn backup_health(&self) -> BackupHealth {
        use std::sync::atomic::Ordering;
        let now = self.now().0;
        let last = self.backup.last_ok_at.load(Ordering::SeqCst);
        let archived = self.backup.archived_at.load(Ordering::SeqCst);
        BackupHealth {
            age_seconds: (last > 0).then(|| now - last),
            failing: self.backup.failing.load(Ordering::SeqCst),
            archive_age_seconds: (archived > 0).then(|| now - archived),
            archive_failing: self.backup.archive_failing.load(Ordering::SeqCst),
        }
    }

    // ---- audit and integrity ---------------------------------------------------------------

    /// Verifies the audit chain. For `mamoru audit verify`, run by whoever holds the data
    /// directory; not an action of a signed-in user.
    pub fn verify_audit(&self) -> Result<Verdict> {
        crate::store::verify_audit(&self.store.read()?)
    }

    /// How many audit entries there are (the newest one's sequence number). No personal data.
    pub fn audit_len(&self) -> Result<u64> {
        self.store.read()?.audit_len()
    }

    /// Reads audit entries (supervisors, the head and administrators).
    pub fn audit_log(&self, actor: &Actor, from: u64, limit: usize) -> Result<Vec<AuditEntry>> {
        self.read(actor, Action::ReadAudit, "audit", None, |r| {
            let entries = r
                .audit_entries(from, limit)?
                .into_iter()
                .map(|(_, b)| AuditEntry::decode(&b))
                .collect::<Result<Vec<_>>>()?;
            let n = entries.len();
            Ok((entries, Some(format!("{n} entries"))))
        })
    }
}

/// What the archived redo entries after a point-in-time restore say about who may sign in: the
/// newest staff records, the devices revoked, the newest credentials.
struct Closed {
    staff: std::collections::BTreeMap<u64, Staff>,
    revoked: std::collections::BTreeSet<u64>,
    credentials: std::collections::BTreeMap<u64, Credential>,
}

/// The body of an archived record.
fn archived<T: serde::de::DeserializeOwned>(json: &[u8], what: &str) -> Result<T> {
    serde_json::from_slice::<Versioned<T>>(json)
        .map(|v| v.body)
        .map_err(|e| Error::Corrupt(format!("archived {what} record: {e}")))
}

impl Closed {
    fn read(later: &[(u64, Vec<u8>)]) -> Result<Self> {
        let mut out = Self {
            staff: std::collections::BTreeMap::new(),
            revoked: std::collections::BTreeSet::new(),
            credentials: std::collections::BTreeMap::new(),
        };
        for (_, entry) in later {
            for (key, value) in crate::txlog::inserts_into(entry, "records")? {
                let (kind, id) = <(&str, u64) as redb::Value>::from_bytes(&key);
                let json = value.get(2..).unwrap_or_default();
                if kind == StaffId::KIND {
                    out.staff.insert(id, archived(json, "staff")?);
                } else if kind == crate::ids::DeviceId::KIND {
                    if !archived::<crate::device::Device>(json, "device")?.is_active() {
                        out.revoked.insert(id);
                    }
                } else if kind == CredentialId::KIND {
                    out.credentials.insert(id, archived(json, "credential")?);
                }
            }
        }
        Ok(out)
    }
}
