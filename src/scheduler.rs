//! The server's backup threads. The daily one wakes at the configured time (Japan time), makes a
//! generation from one read transaction while the server keeps serving, verifies it with the
//! server's key, prunes, and records the outcome for `/healthz`; then, when one is due (monthly
//! by default), runs a restore drill and keeps its result. The archiver ships the redo log to the
//! archive every interval and once more when told to stop.

use std::path::Path;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::Duration;

use mamoru_core::Service;
use mamoru_core::time::{DAY, JST_OFFSET, Timestamp};

/// Seconds from `now` to the next `daily` (seconds after midnight JST).
fn until_next(now: Timestamp, daily: i64) -> i64 {
    let local = (now.0 + JST_OFFSET).rem_euclid(DAY);
    let wait = (daily - local).rem_euclid(DAY);
    if wait == 0 { DAY } else { wait }
}

/// Runs until `stop` receives or is dropped: the daily backup at `daily` (seconds after midnight
/// JST), and a restore drill every `drill_every` days.
pub fn run(service: &Arc<Service>, data: &Path, (daily, drill_every): (i64, u32), stop: &Receiver<()>) {
    loop {
        let wait = until_next(service.now(), daily);
        match stop.recv_timeout(Duration::from_secs(u64::try_from(wait).unwrap_or(60))) {
            Err(RecvTimeoutError::Timeout) => {}
            Ok(()) | Err(RecvTimeoutError::Disconnected) => return,
        }
        let done = match crate::backup::create(data, service) {
            Ok(m) => {
                tracing::info!(generation = m.generation, covers = m.covers_seq, "backup made and verified");
                Ok((m.generation, Timestamp(m.created_at)))
            }
            Err(e) => {
                tracing::error!(error = %format!("{e:#}"), "backup failed");
                Err(format!("{e:#}"))
            }
        };
        if let Err(e) = service.backup_done(done) {
            tracing::error!(error = %e, "the backup's outcome could not be audited");
        }
        match service.drill_due(drill_every) {
            Ok(true) => match crate::drill::run_and_record(data, service, "scheduler") {
                Ok(d) if d.succeeded() => tracing::info!(summary = %d.summary(), "restore drill"),
                Ok(d) => tracing::error!(summary = %d.summary(), "restore drill"),
                Err(e) => {
                    tracing::error!(error = %format!("{e:#}"), "the restore drill could not be recorded");
                }
            },
            Ok(false) => {}
            Err(e) => tracing::error!(error = %e, "cannot tell whether a restore drill is due"),
        }
    }
}

/// Ships the redo log every `every`, and a last time when `stop` receives or is dropped.
pub fn archive(service: &Arc<Service>, data: &Path, every: Duration, stop: &Receiver<()>) {
    loop {
        let last = !matches!(stop.recv_timeout(every), Err(RecvTimeoutError::Timeout));
        match crate::backup::ship(data, service) {
            Ok(Some(s)) => {
                tracing::debug!(first = s.first, last = s.last, "archived changes");
                service.record_archive(true);
            }
            Ok(None) => service.record_archive(true),
            Err(e) => {
                tracing::error!(error = %format!("{e:#}"), "shipping changes to the archive failed");
                service.record_archive(false);
            }
        }
        if last {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_next_run_is_the_next_02_00_japan_time() {
        let at = |s: &str| Timestamp::parse(s).unwrap();
        let two = 2 * 3600;
        assert_eq!(until_next(at("2026-11-24T01:00:00+09:00"), two), 3600);
        assert_eq!(until_next(at("2026-11-24T02:00:00+09:00"), two), DAY);
        assert_eq!(until_next(at("2026-11-24T02:00:01+09:00"), two), DAY - 1);
        assert_eq!(until_next(at("2026-11-23T17:00:00Z"), two), DAY, "17:00 UTC is 02:00 in Japan");
        assert_eq!(until_next(at("2026-11-24T23:30:00+09:00"), two), 9000);
    }
}
