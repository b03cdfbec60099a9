//! Signed-in sessions: a random token handed to the client, kept here only as its hash, ended by
//! sign-out, by 15 idle minutes, after 12 hours, or when the account is disabled.

use std::collections::HashMap;
use std::sync::Mutex;

use sha2::{Digest, Sha256};

use super::{Actor, Service};
use crate::audit::AuditEntry;
use crate::error::{Error, Result};
use crate::ids::{DeviceId, RecordId, StaffId};
use crate::staff::{Password, Staff};
use crate::store::Reader;
use crate::time::Timestamp;

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
}

/// What a client may learn about its session.
#[derive(Clone, Debug)]
pub struct SessionInfo {
    pub actor: Actor,
    pub expires_at: Timestamp,
}

#[derive(Default)]
pub(super) struct Sessions(Mutex<HashMap<String, Session>>);

fn token_key(token: &str) -> String {
    crate::to_hex(&Sha256::digest(token.as_bytes()))
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
        if let Some(d) = device
            && !self.device_active(d)
        {
            return Err(Error::Unauthenticated);
        }
        let actor = self.authenticate(login, password, otp, device.map(|d| format!("device:{d}")))?;
        let mut raw = [0u8; 32];
        getrandom::fill(&mut raw).map_err(|e| Error::Corrupt(format!("no randomness: {e}")))?;
        let token = crate::to_hex(&raw);
        let now = self.now();
        let session = Session { actor: actor.clone(), device, started: now, last_seen: now };
        self.sessions.lock().insert(token_key(&token), session);
        Ok((token, SessionInfo { actor, expires_at: now.plus(IDLE_TIMEOUT) }))
    }

    /// The actor behind a token, if the session is alive; touching it resets the idle timer. A
    /// disabled account's sessions end here too.
    pub fn session(&self, token: &str) -> Result<SessionInfo> {
        let now = self.now();
        let key = token_key(token);
        let mut sessions = self.sessions.lock();
        let Some(s) = sessions.get_mut(&key) else { return Err(Error::Unauthenticated) };
        if now.0 - s.last_seen.0 >= IDLE_TIMEOUT || now.0 - s.started.0 >= ABSOLUTE_TIMEOUT {
            sessions.remove(&key);
            return Err(Error::Unauthenticated);
        }
        let staff = s.actor.staff;
        if let Some(d) = s.device
            && !self.device_active(d)
        {
            sessions.remove(&key);
            return Err(Error::Unauthenticated);
        }
        let still_active = self
            .store
            .read()
            .and_then(|r| r.get::<Staff>(staff))
            .ok()
            .flatten()
            .is_some_and(|v| !v.body.disabled);
        if !still_active {
            sessions.remove(&key);
            return Err(Error::Unauthenticated);
        }
        s.last_seen = now;
        let expires_at = now.plus(IDLE_TIMEOUT).min(s.started.plus(ABSOLUTE_TIMEOUT));
        Ok(SessionInfo { actor: s.actor.clone(), expires_at })
    }

    /// How many sessions are open (for the metrics; expired ones are counted until next touched).
    pub fn sessions_open(&self) -> usize {
        self.sessions.lock().len()
    }

    pub fn sign_out(&self, token: &str) -> Result<()> {
        let removed = self.sessions.lock().remove(&token_key(token));
        if let Some(s) = removed {
            let entry = AuditEntry::new(self.now(), s.actor.staff.0, s.actor.device.clone(), "sign_out")
                .on(StaffId::KIND, s.actor.staff.0);
            self.append_audit(entry)?;
        }
        Ok(())
    }
}
