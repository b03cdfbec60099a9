//! Registering and revoking devices, and the device a session is bound to.

use std::net::IpAddr;

use sha2::{Digest, Sha256};
use unicode_normalization::UnicodeNormalization;

use super::{Actor, Service};
use crate::audit::AuditEntry;
use crate::device::{Device, DeviceChange, DeviceName, PendingCode};
use crate::error::{Error, Result};
use crate::ids::{DeviceId, RecordId};
use crate::staff::Action;
use crate::store::{Reader, Versioned};
use crate::throttle;
use crate::time::Timestamp;

/// How long a registration code may be entered.
pub const DEVICE_CODE_HOURS: i64 = 24;
/// The code's letters: no I/O/0/1, which are misread when read aloud or typed from paper.
const CODE_ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";

/// A registration code as typed: full-width letters (a Japanese IME) and lower case are folded,
/// hyphens and spaces dropped.
fn normalise_code(code: &str) -> String {
    code.nfkc().filter(char::is_ascii_alphanumeric).map(|c| c.to_ascii_uppercase()).collect()
}

fn random_secret() -> Result<String> {
    let mut raw = [0u8; 32];
    getrandom::fill(&mut raw).map_err(|e| Error::Corrupt(format!("no randomness: {e}")))?;
    Ok(crate::to_hex(&raw))
}

/// A one-time registration code (`ABCD-EFGH-JKLM`, about 60 bits) and the hash stored of it.
fn new_code() -> Result<(String, String)> {
    let mut raw = [0u8; 12];
    getrandom::fill(&mut raw).map_err(|e| Error::Corrupt(format!("no randomness: {e}")))?;
    let plain: String =
        raw.iter().map(|b| char::from(CODE_ALPHABET[usize::from(*b) % CODE_ALPHABET.len()])).collect();
    let hash = secret_hash(&plain);
    Ok((format!("{}-{}-{}", &plain[..4], &plain[4..8], &plain[8..]), hash))
}

fn secret_hash(secret: &str) -> String {
    crate::to_hex(&Sha256::digest(secret.as_bytes()))
}

impl Service {
    /// Registers a tablet at once. Returns its id and its secret, shown once, for a provisioning
    /// script that sets the device cookie itself; the store keeps only its hash. People use
    /// `issue_device_code` instead.
    pub fn register_device(&self, actor: &Actor, name: &DeviceName) -> Result<(DeviceId, String)> {
        let secret = random_secret()?;
        let hash = secret_hash(&secret);
        let id = self.write(actor, Action::ManageDevices, DeviceId::KIND, None, |tx| {
            let v = tx.insert(Device::with_secret(name, actor.staff, hash.clone()))?;
            tx.claim("device_secret", &hash, v.id)?;
            Ok((DeviceId(v.id), v.id))
        })?;
        Ok((id, secret))
    }

    /// Registers a tablet by a one-time code: the administrator reads the code out or hands it
    /// over on paper; the tablet enters it on its registration page (`redeem_device_code`) within
    /// 24 hours and then holds its own secret. Returns the id, the code (`ABCD-EFGH-JKLM`, about
    /// 60 bits) and until when it is valid.
    pub fn issue_device_code(
        &self,
        actor: &Actor,
        name: &DeviceName,
    ) -> Result<(DeviceId, String, Timestamp)> {
        let (code, hash) = new_code()?;
        let expires = self.now().plus(DEVICE_CODE_HOURS * 3600);
        let id = self.write(actor, Action::ManageDevices, DeviceId::KIND, None, |tx| {
            let pending = PendingCode { code_hash: hash.clone(), expires };
            let v = tx.insert(Device::awaiting_code(name, actor.staff, pending))?;
            tx.claim("device_code", &hash, v.id)?;
            Ok((DeviceId(v.id), v.id))
        })?;
        Ok((id, code, expires))
    }

    /// Makes `change` to the tablet `id` ([`DeviceChange`]); its sessions end at once. A reissue
    /// returns the new one-time code, shown once, and until when it may be entered; a
    /// revocation returns `None`.
    pub fn change_device(
        &self,
        actor: &Actor,
        id: DeviceId,
        change: DeviceChange,
    ) -> Result<Option<(String, Timestamp)>> {
        let issued = match change {
            DeviceChange::Reissue => Some(self.reissue_device(actor, id)?),
            DeviceChange::Revoke => {
                self.write(actor, Action::ManageDevices, DeviceId::KIND, Some(id.0), |tx| {
                    let d = tx.require::<Device>(id)?;
                    let mut body = d.body.clone();
                    if body.revoke(tx.now, actor.staff) {
                        tx.update(id, d.rev, body)?;
                    }
                    Ok(((), id.0))
                })?;
                None
            }
        };
        self.sessions.end_device(id);
        Ok(issued)
    }

    fn reissue_device(&self, actor: &Actor, id: DeviceId) -> Result<(String, Timestamp)> {
        let (code, hash) = new_code()?;
        let expires = self.now().plus(DEVICE_CODE_HOURS * 3600);
        self.write(actor, Action::ManageDevices, DeviceId::KIND, Some(id.0), |tx| {
            let d = tx.require::<Device>(id)?;
            let mut body = d.body.clone();
            body.reissue(PendingCode { code_hash: hash.clone(), expires });
            tx.update(id, d.rev, body)?;
            tx.claim("device_code", &hash, id.0)?;
            Ok(((), id.0))
        })?;
        Ok((code, expires))
    }

    /// The tablet's side of `issue_device_code`: a valid, unused, unexpired code makes the
    /// device's secret (returned once, for the tablet to keep) and ends the code. Anyone may try,
    /// so wrong codes count against the address like failed sign-ins. Audited either way.
    pub fn redeem_device_code(&self, code: &str, address: Option<IpAddr>) -> Result<(DeviceId, String)> {
        let keys = throttle::address_keys(address);
        let now = self.now();
        let wait = self.throttle.wait(&keys, now);
        if wait > 0 {
            return Err(Error::TooManyAttempts { retry_after: wait });
        }
        let hash = secret_hash(&normalise_code(code));
        let mut tx = self.store.begin_write(now, 0, Some("registration".into()))?;
        let found = match tx.unique("device_code", &hash)? {
            Some(id) => tx.get::<Device>(DeviceId(id))?,
            None => None,
        };
        let usable = found.filter(|d| {
            d.body.is_active()
                && d.body.pending.as_ref().is_some_and(|p| p.code_hash == hash && p.expires > now)
        });
        let mut entry =
            AuditEntry::new(now, 0, Some("registration".into()), "redeem_device_code").from_address(address);
        let Some(device) = usable else {
            drop(tx);
            self.throttle.failed(&keys, now);
            Error::BadCredentials.code().clone_into(&mut entry.result);
            self.append_audit(entry)?;
            return Err(Error::BadCredentials);
        };
        let secret = random_secret()?;
        let mut body = device.body.clone();
        body.secret_hash = secret_hash(&secret);
        body.pending = None;
        tx.update(DeviceId(device.id), device.rev, body.clone())?;
        tx.claim("device_secret", &body.secret_hash, device.id)?;
        tx.append_audit(entry.on(DeviceId::KIND, device.id))?;
        tx.commit()?;
        self.changed.fire();
        Ok((DeviceId(device.id), secret))
    }

    pub fn devices(&self, actor: &Actor) -> Result<Vec<Versioned<Device>>> {
        self.read(actor, Action::ManageDevices, DeviceId::KIND, None, |r| {
            let all = r.all::<Device>()?;
            let n = all.len();
            Ok((all, Some(format!("{n} devices"))))
        })
    }

    /// How many tablets are registered and not revoked (their codes entered), for `/metrics`:
    /// a count, nothing about any one of them.
    pub fn devices_active(&self) -> Result<usize> {
        let all = self.store.read()?.all::<Device>()?;
        Ok(all.iter().filter(|d| d.body.is_active() && !d.body.is_pending()).count())
    }

    /// Every device's id and name (no secrets), for labels on the console's polled views.
    pub fn device_names(&self, actor: &Actor) -> Result<Vec<(DeviceId, String)>> {
        Self::permit(actor, Action::ManageDevices)?;
        Ok(self.store.read()?.all::<Device>()?.into_iter().map(|d| (DeviceId(d.id), d.body.name)).collect())
    }

    /// The active device a secret belongs to. A revoked or unknown device is not signed in.
    pub fn device_for_secret(&self, secret: &str) -> Result<DeviceId> {
        let r = self.store.read()?;
        let id = r.unique("device_secret", &secret_hash(secret))?.ok_or(Error::Unauthenticated)?;
        let d = r.require::<Device>(DeviceId(id))?;
        // The entry names the secret it holds now: one from before a re-registration is over.
        if d.body.is_active() && d.body.secret_hash == secret_hash(secret) {
            Ok(DeviceId(id))
        } else {
            Err(Error::Unauthenticated)
        }
    }

    /// Whether a device is registered and not revoked (sessions check it on every request). A
    /// store that cannot be read is an error, not a revocation: nobody is signed out by a full
    /// disk.
    pub(crate) fn device_active(&self, id: DeviceId) -> Result<bool> {
        device_active_in(&self.store.read()?, id)
    }
}

/// `Service::device_active` in a read the caller holds.
pub(crate) fn device_active_in(r: &impl Reader, id: DeviceId) -> Result<bool> {
    // A device still waiting for its code has no secret yet: nothing can be bound to it.
    Ok(r.get::<Device>(id)?.is_some_and(|d| d.body.is_active() && !d.body.is_pending()))
}
