//! Registered devices (tablets): a session may be bound to one, and revoking it ends every
//! session of that device on its next request. The device holds a random secret; the store keeps
//! only its hash.

use serde::{Deserialize, Serialize};

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
}

impl Record for Device {
    type Id = DeviceId;
    const SCHEMA: u16 = 1;
    /// The secret's hash stays out of events and exports.
    const SENSITIVE: bool = true;
}
