//! Units and staff: accounts, roles, passwords (Argon2id), one-time passwords, console keys.

use argon2::Argon2;
use argon2::password_hash::PasswordHasher;

use super::{Actor, Service, Versioned};
use crate::assessment::{self};
use crate::audit::AuditEntry;
use crate::code_table::{self};
use crate::error::{Error, Result};
use crate::ids::{CredentialId, RecordId, StaffId, UnitId};
use crate::staff::{Action, Credential, Login, Password, Role, Staff, StaffChange, Unit, UnitKind};
use crate::store::Reader;

/// A new staff member as an administrator enters it.
#[derive(Clone, Debug)]
pub struct NewStaff {
    pub login: Login,
    pub display_name: String,
    pub role: Role,
    pub units: Vec<UnitId>,
}
/// A random password to be handed over once: 14 letters and digits without the ones misread
/// when read aloud over the phone (0/O, 1/l/I).
pub fn one_time_password() -> Result<String> {
    pub(super) const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzACDEFGHJKLMNPQRSTUVWXYZ23456789";
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

impl Service {
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
        Self::staff_names_of(actor, &self.reference()?.staff)
    }

    /// `staff_names` from `all` the staff (`Service::reference`'s).
    pub(super) fn staff_names_of(
        actor: &Actor,
        all: &[Versioned<Staff>],
    ) -> Result<std::collections::HashMap<StaffId, String>> {
        Self::permit(actor, Action::ReadCase)?;
        Ok(all.iter().map(|s| (StaffId(s.id), s.body.display_name.clone())).collect())
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

    /// [`Service::staff_names`], [`Service::unit_staff`] and those of the unit who may be
    /// assigned cases, from `all` the staff, by id (`Service::reference`'s).
    pub(super) fn staff_directory_of(
        actor: &Actor,
        all: &[Versioned<Staff>],
        unit: UnitId,
    ) -> Result<StaffDirectory> {
        Self::permit(actor, Action::ReadCase)?;
        let entry = |s: &Versioned<Staff>| (StaffId(s.id), s.body.display_name.clone());
        let in_unit =
            all.iter().filter(|s| !s.body.disabled && s.body.units.contains(&unit)).map(entry).collect();
        let workers = all.iter().filter(|s| s.body.works_cases_in(unit)).map(entry).collect();
        let names = all.iter().map(entry).collect();
        Ok(StaffDirectory { names, in_unit, workers })
    }

    pub(super) fn staff_by_login(tx: &impl Reader, login: &str) -> Result<Versioned<Staff>> {
        let id = tx.unique("login", login)?.ok_or_else(|| Error::not_found("staff", login))?;
        tx.require::<Staff>(StaffId(id))
    }

    /// Makes `change` to the staff member `login`, checked by the domain ([`StaffChange::apply`])
    /// from the revision the editor saw (else `Conflict`: someone else changed it meanwhile).
    /// Disabling them, or changing their role or units, ends their sessions at once.
    pub fn change_staff(&self, actor: &Actor, login: &str, change: &StaffChange) -> Result<()> {
        let target = self.store.read()?.unique("login", login)?;
        let end_sessions = self.write(actor, Action::ManageStaff, StaffId::KIND, target, |tx| {
            let s = Self::staff_by_login(tx, login)?;
            if let StaffChange::Edit { units, .. } = change {
                for u in units {
                    tx.require::<Unit>(*u)?;
                }
            }
            let mut body = s.body.clone();
            let ends = change.apply(&mut body, StaffId(s.id), actor.staff)?;
            tx.update(StaffId(s.id), change.rev().unwrap_or(s.rev), body)?;
            Ok((ends, s.id))
        })?;
        if end_sessions && let Some(id) = target {
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
}

/// Every member of staff by name, and the active staff of one unit, by id.
pub(super) struct StaffDirectory {
    pub names: std::collections::HashMap<StaffId, String>,
    pub in_unit: Vec<(StaffId, String)>,
    /// Those of `in_unit` who may be assigned cases (`Staff::works_cases_in`).
    pub workers: Vec<(StaffId, String)>,
}
