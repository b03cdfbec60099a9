//! Registering and revoking devices, and the device a session is bound to.

use sha2::{Digest, Sha256};

use super::{Actor, Service};
use crate::device::{Device, Revocation};
use crate::error::{Error, Result};
use crate::ids::{DeviceId, RecordId};
use crate::staff::Action;
use crate::store::{Reader, Versioned};

fn secret_hash(secret: &str) -> String {
    crate::to_hex(&Sha256::digest(secret.as_bytes()))
}

impl Service {
    /// Registers a tablet. Returns its id and its secret, shown once: the tablet keeps it (the
    /// setup page stores it in a cookie); the store keeps only its hash.
    pub fn register_device(&self, actor: &Actor, name: &str) -> Result<(DeviceId, String)> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 60 {
            return Err(Error::invalid("name", "1 to 60 characters"));
        }
        let mut raw = [0u8; 32];
        getrandom::fill(&mut raw).map_err(|e| Error::Corrupt(format!("no randomness: {e}")))?;
        let secret = crate::to_hex(&raw);
        let hash = secret_hash(&secret);
        let id = self.write(actor, Action::ManageDevices, DeviceId::KIND, None, |tx| {
            let v = tx.insert(Device {
                name: name.to_owned(),
                registered_by: actor.staff,
                secret_hash: hash.clone(),
                revoked: None,
            })?;
            tx.claim("device_secret", &hash, v.id)?;
            Ok((DeviceId(v.id), v.id))
        })?;
        Ok((id, secret))
    }

    pub fn devices(&self, actor: &Actor) -> Result<Vec<Versioned<Device>>> {
        self.read(actor, Action::ManageDevices, DeviceId::KIND, None, |r| {
            let all = r.all::<Device>()?;
            let n = all.len();
            Ok((all, Some(format!("{n} devices"))))
        })
    }

    /// Every device's id and name (no secrets), for labels on the console's polled views.
    pub fn device_names(&self, actor: &Actor) -> Result<Vec<(DeviceId, String)>> {
        Self::permit(actor, Action::ManageDevices)?;
        Ok(self.store.read()?.all::<Device>()?.into_iter().map(|d| (DeviceId(d.id), d.body.name)).collect())
    }

    /// Revokes a device: every session signed in from it ends on its next request.
    pub fn revoke_device(&self, actor: &Actor, id: DeviceId) -> Result<()> {
        self.write(actor, Action::ManageDevices, DeviceId::KIND, Some(id.0), |tx| {
            let d = tx.require::<Device>(id)?;
            if d.body.is_active() {
                let mut body = d.body.clone();
                body.revoked = Some(Revocation { at: tx.now, by: actor.staff });
                tx.update(id, d.rev, body)?;
            }
            Ok(((), id.0))
        })?;
        self.sessions.end_device(id);
        Ok(())
    }

    /// The active device a secret belongs to. A revoked or unknown device is not signed in.
    pub fn device_for_secret(&self, secret: &str) -> Result<DeviceId> {
        let r = self.store.read()?;
        let id = r.unique("device_secret", &secret_hash(secret))?.ok_or(Error::Unauthenticated)?;
        let d = r.require::<Device>(DeviceId(id))?;
        if d.body.is_active() { Ok(DeviceId(id)) } else { Err(Error::Unauthenticated) }
    }

    /// Whether a device is still active (sessions check it on every request).
    pub(crate) fn device_active(&self, id: DeviceId) -> bool {
        self.store.read().and_then(|r| r.get::<Device>(id)).ok().flatten().is_some_and(|d| d.body.is_active())
    }
}
