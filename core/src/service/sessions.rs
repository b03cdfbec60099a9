//! Signed-in sessions: a random token handed to the client, kept here only as its hash, ended by
//! sign-out, by 15 idle minutes, after 12 hours, or when the account is disabled.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;

use sha2::{Digest, Sha256};

use super::{Actor, Service};
use crate::error::{Error, Result};
use crate::ids::{DeviceId, RecordId, StaffId};
use crate::staff::{Action, Password, Staff};
use crate::store::Reader;
use crate::throttle;
use crate::time::Timestamp;

/// The meta row of the secret behind every `DraftKey`.
const DRAFTS_SECRET: &str = "drafts_secret";

/// HMAC-SHA256 of the device and the person under the store's secret.
fn derive_draft_key(secret: &[u8; 32], device: Option<DeviceId>, staff: StaffId) -> DraftKey {
    use hmac::{KeyInit, Mac};
    let mut mac =
        hmac::Hmac::<Sha256>::new_from_slice(secret).unwrap_or_else(|_| unreachable!("any key length"));
    mac.update(b"mamoru drafts v1\0");
    mac.update(&device.map_or(0, |d| d.0).to_le_bytes());
    mac.update(&staff.0.to_le_bytes());
    DraftKey(mac.finalize().into_bytes().into())
}

/// A session unused this long ends.
pub const IDLE_TIMEOUT: i64 = 15 * 60;
/// No session lasts longer than this.
pub const ABSOLUTE_TIMEOUT: i64 = 12 * 3600;

#[derive(Clone, Debug)]
struct Session {
    actor: Actor,
    device: Option<DeviceId>,
    started: Timestamp,
    last_seen: Timestamp,
    /// Signed in without a second factor where one is required: may only enrol it.
    enrolling: bool,
}

/// An open session as the console lists it: no token, only a short id derived from its hash.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionRow {
    /// The first 16 hex digits of the token's hash: enough to end it, useless to sign in.
    pub id: String,
    pub staff: StaffId,
    pub login: String,
    pub display_name: String,
    pub device: Option<DeviceId>,
    pub started: Timestamp,
    pub last_seen: Timestamp,
}

/// Length of a `SessionRow::id`.
const ROW_ID_LEN: usize = 16;

fn alive(s: &Session, now: Timestamp) -> bool {
    now.0 - s.last_seen.0 < IDLE_TIMEOUT && now.0 - s.started.0 < ABSOLUTE_TIMEOUT
}

/// The key a tablet's pages encrypt what they keep in the browser with (drafts, photos waiting
/// to be sent): one per device and person, derived from a secret only the store holds, handed to
/// each page of a signed-in session and kept by the page in memory only. A revoked tablet is
/// never handed its key again, so what it kept stays unreadable on it; the same person signing in
/// again on the same tablet gets the same key, and their drafts back.
#[derive(Clone, PartialEq, Eq)]
pub struct DraftKey([u8; 32]);

impl DraftKey {
    /// The key as 64 hex digits, for the page.
    #[must_use]
    pub fn to_hex(&self) -> String {
        crate::to_hex(&self.0)
    }
}

impl std::fmt::Debug for DraftKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DraftKey(..)")
    }
}

/// What a client may learn about its session.
#[derive(Clone, Debug)]
pub struct SessionInfo {
    pub actor: Actor,
    /// The key its pages keep drafts with in the browser (`DraftKey`).
    pub draft_key: DraftKey,
    pub expires_at: Timestamp,
    /// A value derived from the token that forms carry back (against cross-site requests): only
    /// a page served to this session can know it, and it is useless for signing in.
    pub form_key: String,
    /// The staff member has no second factor yet and one is required: until they enrol it
    /// (`Service::totp_enrolment`), every other call refuses with `Error::SecondFactorRequired`.
    pub enrolling: bool,
    /// The planned stop to tell this person of (from a week before it until it ends).
    pub maintenance: Option<crate::maintenance::Maintenance>,
}

#[derive(Default)]
pub(super) struct Sessions(Mutex<HashMap<String, Session>>);

fn token_key(token: &str) -> String {
    crate::to_hex(&Sha256::digest(token.as_bytes()))
}

fn form_key(token: &str) -> String {
    let mut h = Sha256::new();
    h.update(b"mamoru form key\0");
    h.update(token.as_bytes());
    crate::to_hex(&h.finalize()[..16])
}

impl Sessions {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Session>> {
        self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub(super) fn end_staff(&self, staff: StaffId) {
        self.lock().retain(|_, s| s.actor.staff != staff);
    }

    pub(super) fn end_device(&self, device: DeviceId) {
        self.lock().retain(|_, s| s.device != Some(device));
    }

    /// The second factor is enrolled through the session `token`: it becomes a full session,
    /// and the staff member's other enrolling sessions (signed in with the password alone) end.
    pub(super) fn enrolled(&self, token: &str, staff: StaffId) {
        let key = token_key(token);
        let mut sessions = self.lock();
        sessions.retain(|k, s| *k == key || s.actor.staff != staff || !s.enrolling);
        if let Some(s) = sessions.get_mut(&key) {
            s.enrolling = false;
        }
    }

    /// Ends one session (its enrolment was refused: someone else enrolled first).
    pub(super) fn end_token(&self, token: &str) {
        self.lock().remove(&token_key(token));
    }
}

impl Service {
    /// Signs in and returns a new session token (32 random bytes, hex).
    pub fn sign_in(
        &self,
        login: &str,
        password: &Password,
        otp: Option<&str>,
        device: Option<DeviceId>,
    ) -> Result<(String, SessionInfo)> {
        self.sign_in_from(None, login, password, otp, device)
    }

    /// `sign_in` from a client address, throttled per login and per address (see
    /// `crate::throttle`): while locked, attempts are refused before the password is looked at.
    pub fn sign_in_from(
        &self,
        address: Option<IpAddr>,
        login: &str,
        password: &Password,
        otp: Option<&str>,
        device: Option<DeviceId>,
    ) -> Result<(String, SessionInfo)> {
        let keys = throttle::keys(login, address);
        let wait = self.throttle.wait(&keys, self.now());
        if wait > 0 {
            return Err(Error::TooManyAttempts { retry_after: wait });
        }
        if let Some(d) = device
            && !self.device_active(d)?
        {
            return Err(Error::Unauthenticated);
        }
        // Before the password is looked at: the refusal says nothing about the account.
        if device.is_none() && self.device_required() {
            return Err(Error::DeviceRequired);
        }
        let actor = match self.authenticate_from(
            address,
            login,
            password,
            otp,
            device.map(|d| format!("device:{d}")),
        ) {
            Ok(a) => a,
            Err(e @ Error::BadCredentials) => {
                self.count_failure(&keys, address, None, "sign_in_locked")?;
                return Err(e);
            }
            Err(e) => return Err(e),
        };
        self.throttle.succeeded(login);
        let enrolling = self.totp_required() && !self.has_second_factor(actor.staff)?;
        let mut raw = [0u8; 32];
        getrandom::fill(&mut raw).map_err(|e| Error::Corrupt(format!("no randomness: {e}")))?;
        let token = crate::to_hex(&raw);
        let now = self.now();
        let draft_key = self.draft_key(device, actor.staff)?;
        let session = Session { actor: actor.clone(), device, started: now, last_seen: now, enrolling };
        self.sessions.lock().insert(token_key(&token), session);
        let info = SessionInfo {
            actor,
            draft_key,
            expires_at: now.plus(IDLE_TIMEOUT),
            form_key: form_key(&token),
            enrolling,
            maintenance: self.shown_maintenance(),
        };
        Ok((token, info))
    }

    /// Whether web sign-in needs a registered device (set by the server from its configuration;
    /// off in a new `Service`, as for the demo and the local verbs).
    pub fn set_device_required(&self, required: bool) {
        self.require_device.store(required, std::sync::atomic::Ordering::Relaxed);
    }

    #[must_use]
    pub fn device_required(&self) -> bool {
        self.require_device.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Whether every session needs a second factor (set by the server from its configuration;
    /// off in a new `Service`, as for the demo and the local verbs). A staff member without one
    /// then signs in to an enrolling session (`SessionInfo::enrolling`).
    pub fn set_totp_required(&self, required: bool) {
        self.require_totp.store(required, std::sync::atomic::Ordering::Relaxed);
    }

    #[must_use]
    pub fn totp_required(&self) -> bool {
        self.require_totp.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The actor behind a token, if the session is alive; touching it resets the idle timer. A
    /// disabled account's sessions end here too. An enrolling session gets
    /// `Error::SecondFactorRequired`.
    /// `from` is the client's address, which the session's audit entries record.
    pub fn session(&self, token: &str, from: Option<IpAddr>) -> Result<SessionInfo> {
        self.find_session(token, from, true, false)
    }

    /// `session` without resetting the idle timer: for what a page does by itself (live
    /// refreshes, event streams), which must not keep an unattended tablet signed in.
    pub fn peek_session(&self, token: &str, from: Option<IpAddr>) -> Result<SessionInfo> {
        self.find_session(token, from, false, false)
    }

    /// `session` for the calls an enrolling session may make (its enrolment, who am I): it is
    /// returned with `enrolling` set instead of refused.
    pub fn enrolment_session(&self, token: &str, from: Option<IpAddr>) -> Result<SessionInfo> {
        self.find_session(token, from, true, true)
    }

    /// Whether a session's lookup would only read the open store (the file is not to be
    /// reopened first): a server may then look it up without handing it to a blocking thread.
    pub fn sessions_readable_now(&self) -> bool {
        self.store.is_open()
    }

    fn find_session(
        &self,
        token: &str,
        from: Option<IpAddr>,
        touch: bool,
        enrolling_ok: bool,
    ) -> Result<SessionInfo> {
        let now = self.now();
        let key = token_key(token);
        let (staff, device) = {
            let mut sessions = self.sessions.lock();
            let Some(s) = sessions.get(&key) else { return Err(Error::Unauthenticated) };
            if !alive(s, now) {
                sessions.remove(&key);
                return Err(Error::Unauthenticated);
            }
            (s.actor.staff, s.device)
        };
        // Outside the lock: the sign-in that began the session made the secret, so this reads it
        // (a lookup of no session writes nothing).
        let secret = self.drafts_secret()?;
        // The store is read outside the sessions' lock (every request of every tablet takes
        // it), in one read transaction. A store that cannot be read now (a full disk) signs
        // nobody out: the error is returned.
        let still_active = {
            let r = self.store.read()?;
            device.map_or(Ok(true), |d| super::devices::device_active_in(&r, d))?
                && r.get::<Staff>(staff)?.is_some_and(|v| !v.body.disabled)
        };
        let mut sessions = self.sessions.lock();
        if !still_active {
            sessions.remove(&key);
            return Err(Error::Unauthenticated);
        }
        // Ended meanwhile (signed out, revoked): as if it had not been found.
        let Some(s) = sessions.get_mut(&key) else { return Err(Error::Unauthenticated) };
        if s.enrolling && !enrolling_ok {
            return Err(Error::SecondFactorRequired);
        }
        if touch {
            s.last_seen = now;
        }
        let expires_at = s.last_seen.plus(IDLE_TIMEOUT).min(s.started.plus(ABSOLUTE_TIMEOUT));
        let mut actor = s.actor.clone();
        actor.address = from;
        let draft_key = derive_draft_key(&secret, s.device, staff);
        let enrolling = s.enrolling;
        drop(sessions);
        let maintenance = self.shown_maintenance();
        Ok(SessionInfo { actor, draft_key, expires_at, form_key: form_key(token), enrolling, maintenance })
    }

    /// `DraftKey` of a person on a device (`None`: signed in where no device is required).
    fn draft_key(&self, device: Option<DeviceId>, staff: StaffId) -> Result<DraftKey> {
        Ok(derive_draft_key(&self.drafts_secret()?, device, staff))
    }

    /// The store's secret behind every `DraftKey`, made the first time one is needed.
    fn drafts_secret(&self) -> Result<[u8; 32]> {
        if let Some(s) = self.drafts_secret.get() {
            return Ok(*s);
        }
        let bytes = self.store.meta_or_insert(self.now(), DRAFTS_SECRET, || {
            let mut raw = [0u8; 32];
            getrandom::fill(&mut raw).map_err(|e| Error::Corrupt(format!("no randomness: {e}")))?;
            Ok(raw.to_vec())
        })?;
        let secret: [u8; 32] =
            bytes.try_into().map_err(|_| Error::Corrupt(format!("meta {DRAFTS_SECRET} is not 32 bytes")))?;
        Ok(*self.drafts_secret.get_or_init(|| secret))
    }

    /// How many sessions are open (for the metrics; expired ones are counted until next touched).
    pub fn sessions_open(&self) -> usize {
        self.sessions.lock().len()
    }

    /// The open sessions, oldest first (administrators; the console's セッション screen).
    pub fn open_sessions(&self, actor: &Actor) -> Result<Vec<SessionRow>> {
        let now = self.now();
        self.read(actor, Action::OperateServer, "session", None, |_| {
            let mut sessions = self.sessions.lock();
            sessions.retain(|_, s| alive(s, now));
            let mut rows: Vec<SessionRow> = sessions
                .iter()
                .map(|(key, s)| SessionRow {
                    id: key[..ROW_ID_LEN].to_owned(),
                    staff: s.actor.staff,
                    login: s.actor.login.as_str().to_owned(),
                    display_name: s.actor.display_name.clone(),
                    device: s.device,
                    started: s.started,
                    last_seen: s.last_seen,
                })
                .collect();
            rows.sort_by(|a, b| (a.started, &a.id).cmp(&(b.started, &b.id)));
            let n = rows.len();
            Ok((rows, Some(format!("{n} sessions"))))
        })
    }

    /// Each tablet's latest open session: when it was last used, and by whom (login). For the
    /// console's device list, whose read is audited.
    pub(super) fn last_use_by_device(&self) -> std::collections::BTreeMap<DeviceId, (Timestamp, String)> {
        let now = self.now();
        let mut last = std::collections::BTreeMap::new();
        for s in self.sessions.lock().values().filter(|s| alive(s, now)) {
            if let Some(d) = s.device
                && last.get(&d).is_none_or(|(seen, _): &(Timestamp, String)| *seen < s.last_seen)
            {
                last.insert(d, (s.last_seen, s.actor.login.as_str().to_owned()));
            }
        }
        last
    }

    /// Open sessions per device (`None`: not bound to a tablet), for the dashboard. Polled; not
    /// audited (counts only).
    pub fn sessions_summary(&self, actor: &Actor) -> Result<Vec<(Option<DeviceId>, usize)>> {
        Self::permit(actor, Action::OperateServer)?;
        let now = self.now();
        let mut counts = std::collections::BTreeMap::new();
        for s in self.sessions.lock().values().filter(|s| alive(s, now)) {
            *counts.entry(s.device).or_insert(0) += 1;
        }
        Ok(counts.into_iter().collect())
    }

    /// Ends the session whose row id is `id` (administrators).
    pub fn end_session(&self, actor: &Actor, id: &str) -> Result<()> {
        self.read(actor, Action::OperateServer, "session", None, |_| {
            let mut sessions = self.sessions.lock();
            let before = sessions.len();
            if id.len() == ROW_ID_LEN {
                sessions.retain(|key, _| !key.starts_with(id));
            }
            if sessions.len() == before {
                return Err(Error::not_found("session", id));
            }
            Ok(((), Some(format!("ended session {id}"))))
        })
    }

    /// Ends the session `token` (from the client at `from`), audited.
    ///
    /// # Errors
    /// `Unauthenticated` when `token` is no open session (never one, ended, or expired): nothing
    /// is ended, and the caller is told so rather than thanked.
    pub fn sign_out(&self, token: &str, from: Option<IpAddr>) -> Result<()> {
        let removed = self.sessions.lock().remove(&token_key(token));
        let Some(mut s) = removed.filter(|s| alive(s, self.now())) else {
            return Err(Error::Unauthenticated);
        };
        s.actor.address = from;
        let entry = s.actor.audit_entry(self.now(), "sign_out").on(StaffId::KIND, s.actor.staff.0);
        self.append_audit(entry)
    }
}
