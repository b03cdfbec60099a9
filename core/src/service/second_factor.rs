//! The TOTP second factor: enrolment (a secret shown once, confirmed by a first code), the check
//! at sign-in (each time step accepted once), and the administrator's reset.

use super::{Actor, Service};
use crate::audit::AuditEntry;
use crate::error::{Error, Result};
use crate::ids::{CredentialId, RecordId, StaffId};
use crate::staff::{Action, Credential, Staff, TotpState};
use crate::store::{Reader, Versioned};
use crate::totp;

impl Service {
    /// At sign-in, after the password: a staff member with an enrolled second factor must give a
    /// current code not used before; the accepted step is recorded at once.
    pub(super) fn second_factor(&self, cred: &Versioned<Credential>, otp: Option<&str>) -> Result<()> {
        let Some(state) = &cred.body.totp else { return Ok(()) };
        let Some(code) = otp.filter(|c| !c.trim().is_empty()) else { return Err(Error::BadCredentials) };
        let step = totp::check(&state.secret_hex, code, self.now())?.ok_or(Error::BadCredentials)?;
        if step <= state.last_step {
            return Err(Error::BadCredentials);
        }
        let mut tx = self.store.begin_write(self.now(), cred.id, None)?;
        // Re-read inside the transaction: two sign-ins with the same code cannot both pass.
        let current = tx.require::<Credential>(CredentialId(cred.id))?;
        if current.body.totp.as_ref().is_none_or(|t| step <= t.last_step) {
            return Err(Error::BadCredentials);
        }
        let mut body = current.body.clone();
        body.totp = Some(TotpState { secret_hex: state.secret_hex.clone(), last_step: step });
        tx.update(CredentialId(cred.id), current.rev, body)?;
        tx.commit()
    }

    /// Starts enrolment for the signed-in staff member: returns the `otpauth://` URL to show
    /// once (as a QR code). Until a code confirms it, nothing changes at sign-in.
    pub fn begin_totp(&self, actor: &Actor) -> Result<String> {
        let secret = totp::new_secret()?;
        let url = totp::url(&secret, actor.login.as_str())?;
        let mut tx = self.store.begin_write(self.now(), actor.staff.0, actor.device.clone())?;
        let cred = tx.require::<Credential>(CredentialId(actor.staff.0))?;
        let mut body = cred.body.clone();
        body.totp_pending = Some(secret);
        tx.update(CredentialId(actor.staff.0), cred.rev, body)?;
        tx.append_audit(
            AuditEntry::new(self.now(), actor.staff.0, actor.device.clone(), "totp_begin")
                .on(StaffId::KIND, actor.staff.0),
        )?;
        tx.commit()?;
        Ok(url)
    }

    /// Confirms enrolment with a first code from the app.
    pub fn confirm_totp(&self, actor: &Actor, code: &str) -> Result<()> {
        let mut tx = self.store.begin_write(self.now(), actor.staff.0, actor.device.clone())?;
        let cred = tx.require::<Credential>(CredentialId(actor.staff.0))?;
        let pending = cred
            .body
            .totp_pending
            .clone()
            .ok_or_else(|| Error::invalid("code", "no enrolment in progress"))?;
        let step = totp::check(&pending, code, self.now())?
            .ok_or_else(|| Error::invalid("code", "the code does not match; check the device's clock"))?;
        let mut body = cred.body.clone();
        body.totp = Some(TotpState { secret_hex: pending, last_step: step });
        body.totp_pending = None;
        tx.update(CredentialId(actor.staff.0), cred.rev, body)?;
        tx.append_audit(
            AuditEntry::new(self.now(), actor.staff.0, actor.device.clone(), "totp_enrolled")
                .on(StaffId::KIND, actor.staff.0),
        )?;
        tx.commit()
    }

    /// Administrator: removes a staff member's second factor (a lost phone); they enrol again.
    pub fn reset_totp(&self, actor: &Actor, login: &str) -> Result<()> {
        let target = self.store.read()?.unique("login", login)?;
        self.write(actor, Action::ManageStaff, StaffId::KIND, target, |tx| {
            let id = tx.unique("login", login)?.ok_or_else(|| Error::not_found("staff", login))?;
            tx.require::<Staff>(StaffId(id))?;
            let cred = tx.require::<Credential>(CredentialId(id))?;
            let mut body = cred.body.clone();
            body.totp = None;
            body.totp_pending = None;
            tx.update(CredentialId(id), cred.rev, body)?;
            Ok(((), id))
        })?;
        if let Some(id) = target {
            self.sessions.end_staff(StaffId(id));
        }
        self.throttle.forget(login);
        Ok(())
    }
}
