//! Backups as the service sees them: the snapshot (audited), the health the console and
//! `/metrics` show, and what a point-in-time restore re-applies from the rest of the archive.

use super::{Actor, Service, Versioned};
use crate::audit::AuditEntry;
use crate::error::{Error, Result};
use crate::ids::{CredentialId, RecordId, StaffId};
use crate::staff::{Action, Credential, Staff};
use crate::store::Reader;
use crate::time::Timestamp;

/// How the backups are doing, for `/healthz`, the console and the metrics.
#[derive(Debug, Default)]
pub struct BackupStatus {
    /// Unix seconds of the last verified backup; 0 if none.
    last_ok_at: std::sync::atomic::AtomicI64,
    failing: std::sync::atomic::AtomicBool,
    /// Unix seconds of the last successful archive shipment; 0 if none.
    archived_at: std::sync::atomic::AtomicI64,
    archive_failing: std::sync::atomic::AtomicBool,
}
/// A reading of `BackupStatus`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BackupHealth {
    /// Seconds since the last verified backup, if there is one.
    pub age_seconds: Option<i64>,
    /// The last attempt failed.
    pub failing: bool,
    /// Seconds since the change archive last caught up, if it has.
    pub archive_age_seconds: Option<i64>,
    pub archive_failing: bool,
}
/// A verified backup older than this (a day and a bit) needs an administrator.
pub const BACKUP_STALE_AFTER: i64 = 26 * 3600;
/// What the archived redo entries after a point-in-time restore say about who may sign in: the
/// newest staff records, the devices revoked, the newest credentials.
pub(super) struct Closed {
    staff: std::collections::BTreeMap<u64, Staff>,
    revoked: std::collections::BTreeSet<u64>,
    credentials: std::collections::BTreeMap<u64, Credential>,
}
/// The body of an archived record.
pub(super) fn archived<T: serde::de::DeserializeOwned>(json: &[u8], what: &str) -> Result<T> {
    serde_json::from_slice::<Versioned<T>>(json)
        .map(|v| v.body)
        .map_err(|e| Error::Corrupt(format!("archived {what} record: {e}")))
}

impl Service {
    /// Writes a consistent snapshot of the whole store (one read transaction; writers go on)
    /// for a backup, and records that it was taken. Run by the server's scheduler or the local
    /// operator, not by a signed-in user.
    pub fn write_snapshot(&self, w: &mut dyn std::io::Write) -> Result<crate::snapshot::Summary> {
        let summary = self.store.write_snapshot(w)?;
        let mut entry = AuditEntry::new(self.now(), 0, Some("backup".into()), "backup_snapshot");
        entry.detail = Some(format!("covers change {}", summary.last_change));
        self.append_audit(entry)?;
        Ok(summary)
    }

    /// Records the outcome of a backup attempt (`at`: when the verified snapshot was taken).
    pub fn record_backup(&self, ok_at: Option<Timestamp>) {
        use std::sync::atomic::Ordering;
        match ok_at {
            Some(at) => {
                self.backup.last_ok_at.fetch_max(at.0, Ordering::SeqCst);
                self.backup.failing.store(false, Ordering::SeqCst);
            }
            None => self.backup.failing.store(true, Ordering::SeqCst),
        }
    }

    /// Records the outcome of a backup the server made (its generation and when the verified
    /// snapshot was taken, or why it failed) for `/healthz`, and as a `backup_verified` audit
    /// entry (result `failed` with the reason) for the monthly report: the generations
    /// themselves are pruned.
    pub fn backup_done(&self, done: std::result::Result<(u64, Timestamp), String>) -> Result<()> {
        let mut entry = AuditEntry::new(self.now(), 0, Some("backup".into()), "backup_verified");
        match done {
            Ok((generation, at)) => {
                self.record_backup(Some(at));
                entry.detail = Some(format!("generation {generation}"));
            }
            Err(why) => {
                self.record_backup(None);
                "failed".clone_into(&mut entry.result);
                entry.detail = Some(why.chars().take(300).collect());
            }
        }
        self.append_audit(entry)
    }

    /// Records a shipment of the change archive (or its failure).
    pub fn record_archive(&self, ok: bool) {
        use std::sync::atomic::Ordering;
        if ok {
            self.backup.archived_at.store(self.now().0, Ordering::SeqCst);
        }
        self.backup.archive_failing.store(!ok, Ordering::SeqCst);
    }

    /// An administrator asks for a backup now: allowed, and recorded in the audit log.
    pub fn authorize_backup(&self, actor: &Actor) -> Result<()> {
        self.read(actor, Action::OperateServer, "backup", None, |_| Ok(((), Some("run backup".into()))))
    }

    #[must_use]
    pub fn backup_health(&self) -> BackupHealth {
        use std::sync::atomic::Ordering;
        let now = self.now().0;
        let last = self.backup.last_ok_at.load(Ordering::SeqCst);
        let archived = self.backup.archived_at.load(Ordering::SeqCst);
        BackupHealth {
            age_seconds: (last > 0).then(|| now - last),
            failing: self.backup.failing.load(Ordering::SeqCst),
            archive_age_seconds: (archived > 0).then(|| now - archived),
            archive_failing: self.backup.archive_failing.load(Ordering::SeqCst),
        }
    }

    /// After a point-in-time restore: what the rest of the archive (`later`, redo entries the
    /// restore did not apply) did to who may sign in is done here too, so that a restore to an
    /// earlier moment never brings back a way in that was closed: an account disabled, a device
    /// revoked, a console key removed, a password or second factor reset (a leaked one stays
    /// replaced). Each is one audited transaction. Returns one line per change, for the restore's
    /// report (no personal data beyond logins and device names).
    pub fn reapply_revocations(&self, later: &[(u64, Vec<u8>)]) -> Result<Vec<String>> {
        let Closed { staff, revoked, credentials } = Closed::read(later)?;
        let mut out = Vec::new();
        let write =
            |kind: &'static str, id: u64, f: &mut dyn FnMut(&mut crate::store::WriteTx) -> Result<bool>| {
                let mut tx = self.store.begin_write(self.now(), 0, Some("restore".into()))?;
                if !f(&mut tx)? {
                    return Ok(false);
                }
                let mut entry =
                    AuditEntry::new(self.now(), 0, Some("restore".into()), "reapply_revocation").on(kind, id);
                entry.detail = Some("changed later in the archive".into());
                tx.append_audit(entry)?;
                tx.commit()?;
                Ok::<bool, Error>(true)
            };
        for (id, newest) in &staff {
            let mut login = String::new();
            let mut what = Vec::new();
            write(StaffId::KIND, *id, &mut |tx| {
                let Some(s) = tx.get::<Staff>(StaffId(*id))? else { return Ok(false) };
                let mut body = s.body.clone();
                if newest.disabled && !body.disabled {
                    body.disabled = true;
                    what.push("disabled again");
                }
                let kept: Vec<String> =
                    body.console_keys.iter().filter(|k| newest.lists_console_key(k)).cloned().collect();
                if kept.len() < body.console_keys.len() {
                    body.console_keys = kept;
                    what.push("console keys removed again");
                }
                if what.is_empty() {
                    return Ok(false);
                }
                login = s.body.login.to_string();
                tx.update(StaffId(*id), s.rev, body)?;
                Ok(true)
            })?;
            if !what.is_empty() {
                out.push(format!("account {login}: {}", what.join(", ")));
            }
        }
        for id in revoked {
            let mut name = String::new();
            let done = write(crate::ids::DeviceId::KIND, id, &mut |tx| {
                let Some(d) = tx.get::<crate::device::Device>(crate::ids::DeviceId(id))? else {
                    return Ok(false);
                };
                let mut body = d.body.clone();
                if !body.revoke(self.now(), StaffId(0)) {
                    return Ok(false);
                }
                name.clone_from(&d.body.name);
                tx.update(crate::ids::DeviceId(id), d.rev, body)?;
                Ok(true)
            })?;
            if done {
                out.push(format!("device {id} ({name}): revoked again"));
            }
        }
        for (id, newest) in credentials {
            let mut login = String::new();
            let done = write(CredentialId::KIND, id, &mut |tx| {
                let Some(c) = tx.get::<Credential>(CredentialId(id))? else { return Ok(false) };
                let secret = |c: &Credential| c.totp.as_ref().map(|t| t.secret_hex.clone());
                if c.body.password_hash == newest.password_hash && secret(&c.body) == secret(&newest) {
                    return Ok(false);
                }
                login = tx.get::<Staff>(StaffId(id))?.map(|s| s.body.login.to_string()).unwrap_or_default();
                tx.update(CredentialId(id), c.rev, newest.clone())?;
                Ok(true)
            })?;
            if done {
                out.push(format!("account {login}: password or second factor as reset later"));
            }
        }
        Ok(out)
    }
}

impl Closed {
    fn read(later: &[(u64, Vec<u8>)]) -> Result<Self> {
        let mut out = Self {
            staff: std::collections::BTreeMap::new(),
            revoked: std::collections::BTreeSet::new(),
            credentials: std::collections::BTreeMap::new(),
        };
        for (_, entry) in later {
            for (key, value) in crate::txlog::inserts_into(entry, "records")? {
                let (kind, id) = <(&str, u64) as redb::Value>::from_bytes(&key);
                let json = value.get(2..).unwrap_or_default();
                if kind == StaffId::KIND {
                    out.staff.insert(id, archived(json, "staff")?);
                } else if kind == crate::ids::DeviceId::KIND {
                    if !archived::<crate::device::Device>(json, "device")?.is_active() {
                        out.revoked.insert(id);
                    }
                } else if kind == CredentialId::KIND {
                    out.credentials.insert(id, archived(json, "credential")?);
                }
            }
        }
        Ok(out)
    }
}
