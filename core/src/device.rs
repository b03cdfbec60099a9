//! Registered devices (tablets): a session may be bound to one, and revoking it ends every
//! session of that device on its next request. The device holds a random secret; the store keeps
//! only its hash.

use serde::{Deserialize, Serialize};

use crate::error::{Counted, Error, Why};
use crate::ids::{DeviceId, StaffId};
use crate::record::Record;
use crate::time::Timestamp;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Revocation {
    pub at: Timestamp,
    pub by: StaffId,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Device {
    /// What the administrator calls it (`iPad 12 (児相 1係)`).
    pub name: String,
    pub registered_by: StaffId,
    /// SHA-256 (hex) of the device's secret.
    pub secret_hash: String,
    #[serde(default)]
    pub revoked: Option<Revocation>,
    /// While the tablet has not yet entered its one-time registration code: the code's hash and
    /// until when it may be entered. The secret is made when the code is redeemed.
    #[serde(default)]
    pub pending: Option<PendingCode>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingCode {
    /// SHA-256 (hex) of the normalised code.
    pub code_hash: String,
    pub expires: Timestamp,
}

impl Device {
    #[must_use]
    pub fn is_active(&self) -> bool {
        self.revoked.is_none()
    }

    /// Still waiting for its registration code (no session can be bound to it yet).
    #[must_use]
    pub fn is_pending(&self) -> bool {
        self.pending.is_some()
    }

    /// A new entry named `name`, registered by `by`, holding the hash of its secret at once.
    #[must_use]
    pub fn with_secret(name: &DeviceName, by: StaffId, secret_hash: String) -> Self {
        Self { name: name.0.clone(), registered_by: by, secret_hash, revoked: None, pending: None }
    }

    /// A new entry named `name`, registered by `by`, waiting for its one-time `code` (no secret
    /// yet).
    #[must_use]
    pub fn awaiting_code(name: &DeviceName, by: StaffId, code: PendingCode) -> Self {
        let secret_hash = String::new();
        Self { name: name.0.clone(), registered_by: by, secret_hash, revoked: None, pending: Some(code) }
    }

    /// 再登録 (`DeviceChange::Reissue`) with the new one-time `code`.
    pub fn reissue(&mut self, code: PendingCode) {
        self.secret_hash = String::new();
        self.revoked = None;
        self.pending = Some(code);
    }

    /// 失効 (`DeviceChange::Revoke`) by `by` at `at`. Returns whether the record changed
    /// (revoking a revoked tablet keeps the first revocation).
    pub fn revoke(&mut self, at: Timestamp, by: StaffId) -> bool {
        let active = self.is_active();
        if active {
            self.revoked = Some(Revocation { at, by });
        }
        active
    }
}

impl Record for Device {
    type Id = DeviceId;
    const SCHEMA: u16 = 1;
    /// The secret's hash stays out of events and exports.
    const SENSITIVE: bool = true;
}

/// What an administrator calls a tablet (`iPad 12 (児相 1係)`): 1 to 60 characters, trimmed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceName(String);

impl DeviceName {
    /// The longest name, in characters.
    pub const MAX: usize = 60;

    /// The name as typed, trimmed; refused when empty or longer than [`DeviceName::MAX`].
    pub fn parse(name: &str) -> Result<Self, Error> {
        let name = name.trim();
        if name.is_empty() {
            return Err(Error::invalid("name", Why::Required));
        }
        if name.chars().count() > Self::MAX {
            return Err(Error::invalid("name", Why::AtMost(Self::MAX, Counted::Characters)));
        }
        Ok(Self(name.to_owned()))
    }

    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A change to a registered tablet, made by an administrator (the console's 端末 screen; a
/// revocation also by the CLI's `device revoke` and `DELETE /api/v1/devices/{id}`). Either way
/// the tablet's sessions end at once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeviceChange {
    /// 再登録: a revoked tablet that was found, or one whose browser lost its cookie, gets a new
    /// one-time code under the same entry. Its old secret stops working and a revocation is
    /// lifted (the entry's history keeps it); until the code is entered it can carry no session.
    Reissue,
    /// 失効: every session signed in from the tablet ends on its next request.
    Revoke,
}
