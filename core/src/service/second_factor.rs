//! The TOTP second factor: enrolment (a secret shown once, confirmed by a first code), the check
//! at sign-in (each time step accepted once), and the administrator's reset.

use std::net::IpAddr;

use super::{Actor, Service, SessionInfo};
use crate::error::Why;
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

    /// Whether the staff member has an enrolled second factor.
    pub(super) fn has_second_factor(&self, staff: StaffId) -> Result<bool> {
        Ok(self
            .store
            .read()?
            .get::<Credential>(CredentialId(staff.0))?
            .is_some_and(|c| c.body.totp.is_some()))
    }

    /// Starts enrolment for the signed-in staff member: returns the `otpauth://` URL to show
    /// once (as a QR code). Until a code confirms it, nothing changes at sign-in.
    pub fn begin_totp(&self, actor: &Actor) -> Result<String> {
        self.begin(actor, false, true)
    }

    /// Confirms enrolment with a first code from the app.
    pub fn confirm_totp(&self, actor: &Actor, code: &str) -> Result<()> {
        self.confirm(actor, false, code)
    }

    /// Enrolment through a session, the enrolling one included (see `SessionInfo::enrolling`):
    /// the `otpauth://` URL of a new secret (`restart`), or of the one begun and not yet
    /// confirmed, so that a page drawn again shows the code the person may have scanned already.
    /// It is shown only to the staff member, only until confirmed.
    pub fn totp_enrolment(&self, token: &str, from: Option<IpAddr>, restart: bool) -> Result<String> {
        let session = self.enrolment_session(token, from)?;
        self.begin(&session.actor, session.enrolling, restart).inspect_err(|e| {
            if matches!(e, Error::Unauthenticated) {
                self.sessions.end_token(token);
            }
        })
    }

    /// Confirms the enrolment begun through `totp_enrolment`: an enrolling session becomes a
    /// full one; the same person's other enrolling sessions end.
    pub fn confirm_enrolment(&self, token: &str, from: Option<IpAddr>, code: &str) -> Result<SessionInfo> {
        let session = self.enrolment_session(token, from)?;
        if let Err(e) = self.confirm(&session.actor, session.enrolling, code) {
            if matches!(e, Error::Unauthenticated) {
                self.sessions.end_token(token);
            }
            return Err(e);
        }
        self.sessions.enrolled(token, session.actor.staff);
        self.enrolment_session(token, from)
    }

    /// `first`: from an enrolling session, which proved only the password; it may enrol a second
    /// factor where there is none, never replace one (someone else enrolled meanwhile).
    pub(super) fn begin(&self, actor: &Actor, first: bool, restart: bool) -> Result<String> {
        let mut tx = self.store.begin_write(self.now(), actor.staff.0, actor.device.clone())?;
        let cred = tx.require::<Credential>(CredentialId(actor.staff.0))?;
        if first && cred.body.totp.is_some() {
            return Err(Error::Unauthenticated);
        }
        if let Some(pending) = cred.body.totp_pending.as_ref().filter(|_| !restart) {
            return totp::url(pending, actor.login.as_str());
        }
        let secret = totp::new_secret()?;
        let url = totp::url(&secret, actor.login.as_str())?;
        let mut body = cred.body.clone();
        body.totp_pending = Some(secret);
        tx.update(CredentialId(actor.staff.0), cred.rev, body)?;
        tx.append_audit(actor.audit_entry(self.now(), "totp_begin").on(StaffId::KIND, actor.staff.0))?;
        tx.commit()?;
        Ok(url)
    }

    pub(super) fn confirm(&self, actor: &Actor, first: bool, code: &str) -> Result<()> {
        let mut tx = self.store.begin_write(self.now(), actor.staff.0, actor.device.clone())?;
        let cred = tx.require::<Credential>(CredentialId(actor.staff.0))?;
        if first && cred.body.totp.is_some() {
            return Err(Error::Unauthenticated);
        }
        let pending =
            cred.body.totp_pending.clone().ok_or_else(|| Error::invalid("code", Why::NoEnrolment))?;
        let step = totp::check(&pending, code, self.now())?
            .ok_or_else(|| Error::invalid("code", Why::CodeMismatch))?;
        let mut body = cred.body.clone();
        body.totp = Some(TotpState { secret_hex: pending, last_step: step });
        body.totp_pending = None;
        tx.update(CredentialId(actor.staff.0), cred.rev, body)?;
        tx.append_audit(actor.audit_entry(self.now(), "totp_enrolled").on(StaffId::KIND, actor.staff.0))?;
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
