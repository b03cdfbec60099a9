//! The administrators' console: its sign-in by SSH key, and the operational reads it polls
//! (overdue clocks per unit, the audit feed and log, downloads, metrics).

use std::net::IpAddr;

use super::{Actor, Service};
use crate::audit::{Anchor, AnchorCheck, AuditEntry, Verdict};
use crate::error::{Error, Result};
use crate::ids::CredentialId;
use crate::ids::{RecordId, StaffId};
use crate::staff::{Action, Credential, Staff, Unit};
use crate::store::Reader;
use crate::throttle;
use crate::totp;
use sha2::{Digest, Sha256};

/// What a console sign-in needs after its key ([`Service::console_sign_in`]).
#[derive(Debug)]
pub enum ConsoleStep {
    /// Signed in.
    SignedIn(Actor),
    /// The key is the account's; a code from the authenticator app must follow
    /// ([`Service::console_code`]).
    Code(ConsolePending),
}

/// A console sign-in whose key was accepted, waiting for its second factor. Only
/// [`Service::console_sign_in`] makes one, so a code is never checked for a key that was not.
/// Its `Debug` leaves the key and the secret out.
pub struct ConsolePending {
    actor: Actor,
    key: String,
    /// The `otpauth://` URL of the secret to enrol, when the account has none yet.
    enrol: Option<String>,
}

impl std::fmt::Debug for ConsolePending {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConsolePending")
            .field("staff", &self.actor.staff)
            .field("enrolling", &self.enrol.is_some())
            .finish_non_exhaustive()
    }
}

impl ConsolePending {
    /// The login this sign-in is for (an SSH client may change it between attempts).
    #[must_use]
    pub fn login(&self) -> &str {
        self.actor.login.as_str()
    }

    /// When the account has no second factor yet: the `otpauth://` URL of the secret to add to
    /// an authenticator app, and the same secret as a person types it (base32 in groups of
    /// four). Shown only after the account's key was proven, as the web shows it only after
    /// the password.
    #[must_use]
    pub fn enrolment(&self) -> Option<(&str, String)> {
        let url = self.enrol.as_deref()?;
        Some((url, crate::totp::url_key(url).unwrap_or_default()))
    }
}

impl Service {
    /// The console's sign-in, first step: `login` presents an OpenSSH public key (`algorithm
    /// base64`) whose signature the SSH layer has verified. Accepted when the account is active
    /// and lists that key; unknown logins and unlisted keys give the same error, audited. `from`
    /// is the SSH client's address, which the actor's audit entries record.
    ///
    /// Then, as on the web: an account with a second factor, or any account where the console
    /// requires one (`set_console_totp_required`, the server's `[ssh] require_totp`), must give
    /// a code ([`ConsoleStep::Code`], then [`Service::console_code`]); an account without one
    /// enrols it there, with the secret the web would show. Without either, the key signs in
    /// (audited as the sign-in).
    pub fn console_sign_in(&self, login: &str, key: &str, from: Option<IpAddr>) -> Result<ConsoleStep> {
        let found = match self.store.read().and_then(|r| Self::staff_by_login(&r, login)) {
            Ok(s) => Some(s),
            Err(Error::NotFound { .. }) => None,
            Err(e) => return Err(e),
        };
        let known = found.as_ref().map(|s| s.id);
        let Some(staff) = found.filter(|s| s.body.may_use_console(key)) else {
            let mut entry = self.console_entry(known, from);
            Error::BadCredentials.code().clone_into(&mut entry.result);
            self.append_audit(entry)?;
            return Err(Error::BadCredentials);
        };
        let mut actor = Actor::from_staff(&staff, Some("console".to_owned()));
        actor.address = from;
        if self.has_second_factor(actor.staff)? {
            return Ok(ConsoleStep::Code(ConsolePending { actor, key: key.to_owned(), enrol: None }));
        }
        if self.console_totp_required() {
            // The secret begun and not confirmed (here or on the web) is shown again.
            let url = self.begin(&actor, true, false)?;
            return Ok(ConsoleStep::Code(ConsolePending { actor, key: key.to_owned(), enrol: Some(url) }));
        }
        self.throttle.console_succeeded(login);
        self.append_audit(self.console_entry(Some(staff.id), from))?;
        Ok(ConsoleStep::SignedIn(actor))
    }

    /// The console's sign-in, second step: the code from the authenticator app, for a key
    /// `console_sign_in` accepted. Each time step is accepted once (as on the web); enrolment's
    /// first code confirms the secret. Audited either way; a wrong code counts as a failed
    /// sign-in (`crate::throttle`'s console count for the login, and the address's), and while
    /// either is locked no code is looked at. The account must still list the key. When the
    /// second factor changed since the key (reset, or enrolled or restarted elsewhere), the
    /// sign-in ends (`Error::Unauthenticated`): the client must connect again.
    pub fn console_code(&self, pending: &ConsolePending, code: &str) -> Result<Actor> {
        let actor = &pending.actor;
        let keys = throttle::console_keys(actor.login.as_str(), actor.address);
        let wait = self.throttle.wait(&keys, self.now());
        if wait > 0 {
            return Err(Error::TooManyAttempts { retry_after: wait });
        }
        let (staff, cred) = {
            let r = self.store.read()?;
            (r.get::<Staff>(actor.staff)?, r.get::<Credential>(CredentialId(actor.staff.0))?)
        };
        let checked = match (staff, cred) {
            (Some(s), Some(cred)) if s.body.may_use_console(&pending.key) => {
                match &pending.enrol {
                    // The secret shown must still be the one waiting: an enrolment restarted
                    // (on the web) or finished meanwhile ends this sign-in.
                    Some(url) => match &cred.body.totp_pending {
                        Some(secret)
                            if cred.body.totp.is_none()
                                && totp::url(secret, actor.login.as_str())? == *url =>
                        {
                            self.confirm(actor, true, code).map_err(|e| match e {
                                Error::Invalid { .. } => Error::BadCredentials,
                                e => e,
                            })
                        }
                        _ => Err(Error::Unauthenticated),
                    },
                    // A second factor reset meanwhile ends it too: no code, however right,
                    // stands in for one the account no longer has.
                    None if cred.body.totp.is_none() => Err(Error::Unauthenticated),
                    None => self.second_factor(&cred, Some(code)),
                }
            }
            _ => Err(Error::BadCredentials),
        };
        let mut entry = actor.audit_entry(self.now(), "console_sign_in").on(StaffId::KIND, actor.staff.0);
        entry.detail = Some("second factor".to_owned());
        if let Err(e) = &checked {
            e.code().clone_into(&mut entry.result);
        }
        self.append_audit(entry)?;
        match checked {
            Ok(()) => {
                self.throttle.console_succeeded(actor.login.as_str());
                Ok(actor.clone())
            }
            Err(e @ Error::BadCredentials) => {
                self.count_failure(&keys, actor.address, Some("console"), "console_sign_in_locked")?;
                Err(e)
            }
            Err(e) => Err(e),
        }
    }

    /// Whether the console needs a second factor for every sign-in (set by the server from its
    /// configuration; off in a new `Service`, as for the demo).
    pub fn set_console_totp_required(&self, required: bool) {
        self.require_console_totp.store(required, std::sync::atomic::Ordering::Relaxed);
    }

    #[must_use]
    pub fn console_totp_required(&self) -> bool {
        self.require_console_totp.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// A `console_sign_in` entry for the staff member `staff` (0: no such login) at `from`.
    fn console_entry(&self, staff: Option<u64>, from: Option<IpAddr>) -> AuditEntry {
        let entry =
            AuditEntry::new(self.now(), staff.unwrap_or(0), Some("console".to_owned()), "console_sign_in")
                .from_address(from);
        match staff {
            Some(id) => entry.on(StaffId::KIND, id),
            None => entry,
        }
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
        let mut entry = AuditEntry::new(now, staff.unwrap_or(0), Some("console".into()), "console_sign_in")
            .from_address(address);
        if let Some(id) = staff {
            entry = entry.on(StaffId::KIND, id);
        }
        Error::BadCredentials.code().clone_into(&mut entry.result);
        entry.detail = Some(match address {
            Some(a) => format!("{attempts} refused from {a}"),
            None => format!("{attempts} refused"),
        });
        self.append_audit(entry)?;
        self.count_failure(&keys, address, Some("console"), "console_sign_in_locked")
    }

    /// Counts a failed sign-in under `keys` (see `crate::throttle`) and audits each lock it
    /// starts, once, as `locked_action`. Attempts refused during a lock are not written (a flood
    /// must not fill the disk). The login as typed is not written either (it may hold a mistyped
    /// password); the address is.
    pub(super) fn count_failure(
        &self,
        keys: &[(String, u32)],
        address: Option<IpAddr>,
        device: Option<&str>,
        locked_action: &str,
    ) -> Result<()> {
        let now = self.now();
        for (key, secs) in self.throttle.failed(keys, now) {
            let mut entry =
                AuditEntry::new(now, 0, device.map(str::to_owned), locked_action).from_address(address);
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
        // with (as `change_staff` ends web sessions).
        self.store.read().and_then(|r| r.get::<Staff>(actor.staff)).ok().flatten().is_some_and(|s| {
            s.body.may_use_console(key) && s.body.role == actor.role && s.body.units == actor.units
        })
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

    /// A console user fetches a file (a backup generation, an audit export) over SFTP: allowed
    /// when their role has `needs`; audited either way as `download_file`, naming the file as the
    /// console shows it (`backups/gen-000007.age`; file names hold no personal data).
    pub fn authorize_download(&self, actor: &Actor, needs: Action, file: &str) -> Result<()> {
        let mut entry = actor.audit_entry(self.now(), "download_file");
        entry.detail = Some(file.to_owned());
        let outcome = Self::permit(actor, needs);
        if let Err(e) = &outcome {
            e.code().clone_into(&mut entry.result);
        }
        self.append_audit(entry)?;
        outcome
    }

    /// Only administrators read the metrics (audited), or a scraper presenting the configured
    /// token (`Service::metrics_access`). Metrics hold no personal data.
    pub fn may_read_metrics(&self, actor: &Actor) -> Result<()> {
        self.read(actor, Action::OperateServer, "metrics", None, |_| Ok(((), Some("read metrics".into()))))
    }

    /// The token a metrics scraper (the city's Prometheus or Zabbix) presents as a bearer token;
    /// `None`: only administrators read the metrics. Kept as its hash. Set by the server from
    /// its configuration.
    pub fn set_metrics_token(&self, token: Option<&str>) {
        let hash = token.map(|t| <[u8; 32]>::from(Sha256::digest(t.as_bytes())));
        *self.metrics_token.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = hash;
    }

    /// Whether the bearer of `token` (from `from`) may read the metrics: the scraper's token, not
    /// audited (it is read every few seconds and holds nothing personal), or a signed-in
    /// administrator's session, audited. Where the request came from does not matter: behind a
    /// TLS terminator on the same host every client is loopback.
    pub fn metrics_access(&self, token: &str, from: Option<IpAddr>) -> Result<()> {
        let presented = <[u8; 32]>::from(Sha256::digest(token.as_bytes()));
        let expected = *self.metrics_token.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        // Hashes compared whole: the time it takes says nothing about the token.
        if expected.is_some_and(|e| e.iter().zip(presented).fold(0u8, |d, (a, b)| d | (a ^ b)) == 0) {
            return Ok(());
        }
        let session = self.session(token, from)?;
        self.may_read_metrics(&session.actor)
    }

    /// Verifies the audit chain. For `mamoru audit verify`, run by whoever holds the data
    /// directory; not an action of a signed-in user.
    pub fn verify_audit(&self) -> Result<Verdict> {
        crate::store::verify_audit(&self.store.read()?)
    }

    /// The newest audit entry as an anchor to keep outside the store (in a backup manifest).
    /// A number and a hash: nothing personal.
    pub fn audit_anchor(&self) -> Result<Option<Anchor>> {
        let head = self.store.read()?.meta("audit_head")?;
        Ok(head.and_then(|b| Anchor::parse(&String::from_utf8_lossy(&b))))
    }

    /// Compares the audit log with anchors kept outside the store (`(where from, anchor)`), for
    /// `mamoru audit verify`, after [`Service::verify_audit`].
    pub fn check_audit_anchors(&self, anchors: &[(String, Anchor)]) -> Result<AnchorCheck> {
        crate::store::check_anchors(&self.store.read()?, anchors)
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
