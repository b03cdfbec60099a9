//! How the server is doing, as `/healthz`, the console and the metrics tell it: whether the
//! store can write, how full its disk is, and the backups. Nothing personal is read.

pub use crate::uptime::BackupState;

use super::{BackupHealth, Service};
use crate::store::{DiskSpace, DiskState};

/// One reading of the server's health.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Health {
    /// A write transaction can begin: the store is open and redb has latched no I/O failure.
    pub store_writable: bool,
    /// The disk holding the store, if `statvfs` answers.
    pub disk: Option<DiskSpace>,
    /// The store's file size.
    pub store_bytes: Option<u64>,
    pub backup: BackupHealth,
}

impl Health {
    /// The disk in one word (`None`: `statvfs` did not answer).
    #[must_use]
    pub fn disk_state(&self) -> Option<DiskState> {
        self.disk.map(DiskSpace::state)
    }

    /// The server can take writes: the store is writable and the disk not full. Otherwise
    /// `/healthz` answers 503 (a load balancer or the prober takes it as down).
    #[must_use]
    pub fn serving(&self) -> bool {
        self.store_writable && self.disk_state() != Some(DiskState::Full)
    }

    #[must_use]
    pub fn backup_state(&self) -> BackupState {
        self.backup.state()
    }

    /// Nothing needs an administrator: serving, the disk not low, the backups and the archive
    /// current.
    #[must_use]
    pub fn healthy(&self) -> bool {
        self.serving()
            && self.disk_state() != Some(DiskState::Low)
            && matches!(self.backup_state(), BackupState::Ok | BackupState::None)
            && !self.backup.archive_failing
    }
}

impl Service {
    /// Reads the server's health: probes that a write could begin (writing nothing, and
    /// reopening the store if an I/O failure had closed it and the disk has space again).
    #[must_use]
    pub fn health(&self) -> Health {
        Health {
            store_writable: self.store.writable().is_ok(),
            disk: self.store.disk_space(),
            store_bytes: self.store.file_bytes(),
            backup: self.backup_health(),
        }
    }

    /// Whether a record can be read from the store now (the watchdog's test: a full disk still
    /// reads; a stalled store does not answer, and neither does this).
    #[must_use]
    pub fn store_readable(&self) -> bool {
        use crate::store::Reader;
        let read =
            self.store.read().and_then(|r| r.get::<crate::uptime::Probe>(crate::ids::UptimeProbeId(1)));
        read.is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{DISK_FULL_BELOW, DISK_LOW_BELOW};

    const GIB: u64 = 1 << 30;

    fn health(free: u64, total: u64) -> Health {
        Health {
            store_writable: true,
            disk: Some(DiskSpace { free_bytes: free, total_bytes: total }),
            store_bytes: None,
            backup: BackupHealth { age_seconds: Some(3600), ..BackupHealth::default() },
        }
    }

    #[test]
    fn a_full_disk_stops_serving_and_a_low_one_raises_the_alarm() {
        let plenty = health(100 * GIB, 200 * GIB);
        assert!(plenty.serving() && plenty.healthy());
        assert_eq!(plenty.disk_state(), Some(DiskState::Ok));

        // Low: under 1 GiB, or under 5 % of a large disk.
        let low = health(DISK_LOW_BELOW - 1, 200 * GIB);
        assert_eq!(low.disk_state(), Some(DiskState::Low));
        assert!(low.serving() && !low.healthy());
        let low_share = health(9 * GIB, 200 * GIB);
        assert_eq!(low_share.disk_state(), Some(DiskState::Low));
        assert_eq!(health(11 * GIB, 200 * GIB).disk_state(), Some(DiskState::Ok));

        let full = health(DISK_FULL_BELOW - 1, 200 * GIB);
        assert_eq!(full.disk_state(), Some(DiskState::Full));
        assert!(!full.serving() && !full.healthy());
        assert_eq!(health(DISK_FULL_BELOW, GIB).disk_state(), Some(DiskState::Low));

        let broken = Health { store_writable: false, ..plenty };
        assert!(!broken.serving() && !broken.healthy());
        // No reading of the disk is no alarm (the store's own probe still tells).
        assert!(Health { disk: None, ..plenty }.healthy());
    }

    #[test]
    fn backups_in_one_word() {
        let mut h = health(100 * GIB, 200 * GIB);
        assert_eq!(h.backup_state(), BackupState::Ok);
        h.backup.age_seconds = Some(crate::service::BACKUP_STALE_AFTER + 1);
        assert_eq!(h.backup_state(), BackupState::Stale);
        assert!(h.serving() && !h.healthy());
        h.backup.age_seconds = None;
        assert_eq!(h.backup_state(), BackupState::None);
        assert!(h.healthy());
        h.backup.failing = true;
        assert_eq!(h.backup_state(), BackupState::Failed);
        h.backup.failing = false;
        h.backup.archive_failing = true;
        assert!(!h.healthy());
    }
}
