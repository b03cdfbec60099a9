//! 稼働率 (availability): the server's own watch every 180 s — the specification's interval —
//! kept as a ledger of probes, and a period's availability by the specification's formula:
//! 提供時間実績 ÷ 提供予定時間, planned stops (計画停止) excluded. A probe that failed and a
//! probe that is missing (the server was not running to make it) both count as 180 s without
//! service: 28 such probes are the 86.4 minutes a month that 99.8 % allows.

use serde::{Deserialize, Serialize};

use crate::ids::UptimeProbeId;
use crate::record::Record;
use crate::time::Timestamp;

/// Free space below which the disk counts as full: the store is not reopened, and `/healthz`
/// answers 503. Below what the store needs to grow its file by one region.
pub const DISK_FULL_BELOW: u64 = 32 << 20;
/// Free space below which the disk counts as low (an administrator is needed soon): 1 GiB, or
/// 5 % of the file system if that is more.
pub const DISK_LOW_BELOW: u64 = 1 << 30;

/// The file system holding a store (`store::disk_space` reads it).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct DiskSpace {
    pub free_bytes: u64,
    pub total_bytes: u64,
}

/// How full the disk is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DiskState {
    Ok,
    /// Below [`DISK_LOW_BELOW`] (or 5 %): the low-disk alarm.
    Low,
    /// Below [`DISK_FULL_BELOW`]: writes fail or soon will.
    Full,
}

impl DiskSpace {
    #[must_use]
    pub fn state(self) -> DiskState {
        if self.free_bytes < DISK_FULL_BELOW {
            DiskState::Full
        } else if self.free_bytes < DISK_LOW_BELOW.max(self.total_bytes / 20) {
            DiskState::Low
        } else {
            DiskState::Ok
        }
    }
}

/// The backups in one word.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BackupState {
    Ok,
    /// None made yet (a new store).
    None,
    /// The last verified one is older than a day and a bit.
    Stale,
    Failed,
}

/// Seconds between probes.
pub const PROBE_EVERY: i64 = 180;

/// One probe: what the server found when it checked itself. No personal data.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[expect(clippy::struct_excessive_bools, reason = "each is one check's outcome, kept as found")]
pub struct Probe {
    pub at: Timestamp,
    /// Its own `/healthz` answered over the network, through the real HTTP(S) stack (a 503
    /// too: the store's state is its own check).
    pub web: bool,
    /// A write transaction could begin.
    pub store: bool,
    pub disk: Option<DiskState>,
    pub backup: BackupState,
    /// The change archive is being shipped.
    pub archive: bool,
    /// Days the web certificate has left (`None`: plain HTTP behind a terminator).
    pub certificate_days: Option<i64>,
    /// The clock has not gone back behind the previous probe.
    pub clock: bool,
}

impl Record for Probe {
    type Id = UptimeProbeId;
    const SCHEMA: u16 = 1;
}

impl Probe {
    /// The service was provided: the web answered, the store could write, the disk not full.
    #[must_use]
    pub fn serving(&self) -> bool {
        self.web && self.store && self.disk != Some(DiskState::Full)
    }

    /// What an administrator must see to (empty: nothing), in this order.
    #[must_use]
    pub fn problems(&self) -> Vec<Problem> {
        [
            (!self.web, Problem::Web),
            (!self.store, Problem::Store),
            (self.disk == Some(DiskState::Full), Problem::DiskFull),
            (self.disk == Some(DiskState::Low), Problem::DiskLow),
            (matches!(self.backup, BackupState::Stale | BackupState::Failed), Problem::Backup),
            (!self.archive, Problem::Archive),
            (
                self.certificate_days.is_some_and(|d| d < crate::certificate::RENEW_WITHIN_DAYS),
                Problem::Certificate,
            ),
            (!self.clock, Problem::Clock),
        ]
        .into_iter()
        .filter_map(|(found, problem)| found.then_some(problem))
        .collect()
    }
}

/// What a probe found that needs an administrator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Problem {
    /// `/healthz` did not answer over the network.
    Web,
    /// The store cannot write.
    Store,
    DiskFull,
    DiskLow,
    /// The last backup failed or is too old.
    Backup,
    /// The change archive is not being shipped.
    Archive,
    /// The web certificate is due for renewal.
    Certificate,
    /// The clock went back.
    Clock,
}

impl Problem {
    /// Its name in logs and the API.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Problem::Web => "web",
            Problem::Store => "store",
            Problem::DiskFull => "disk_full",
            Problem::DiskLow => "disk_low",
            Problem::Backup => "backup",
            Problem::Archive => "archive",
            Problem::Certificate => "certificate",
            Problem::Clock => "clock",
        }
    }
}

impl PartialEq<&str> for Problem {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// A planned stop, from `from` until `to`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Window {
    pub from: Timestamp,
    pub to: Timestamp,
}

/// A period's availability, in seconds and probes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Availability {
    /// The period (提供予定時間 before planned stops).
    pub scheduled_seconds: i64,
    /// Inside planned stops (計画停止), excluded from the formula.
    pub planned_seconds: i64,
    /// Without service: failed and missing probes, each `PROBE_EVERY` seconds.
    pub outage_seconds: i64,
    pub probes_expected: i64,
    pub probes_failed: i64,
    /// Probes that should have been made and were not (the server was not running).
    pub probes_missing: i64,
}

impl Availability {
    /// 提供時間実績.
    #[must_use]
    pub fn provided_seconds(&self) -> i64 {
        self.scheduled_seconds - self.planned_seconds - self.outage_seconds
    }

    /// 稼働率 in per cent, to two decimals as the report prints it (`None`: nothing was
    /// scheduled).
    #[must_use]
    pub fn percent(&self) -> Option<f64> {
        let due = self.scheduled_seconds - self.planned_seconds;
        #[expect(clippy::cast_precision_loss, reason = "seconds of a month fit f64 exactly")]
        (due > 0).then(|| (self.provided_seconds() as f64 * 10_000.0 / due as f64).round() / 100.0)
    }
}

/// Seconds of `[from, to)` inside any of `windows` (overlapping windows counted once).
fn covered(windows: &[Window], from: Timestamp, to: Timestamp) -> i64 {
    let mut spans: Vec<(i64, i64)> =
        windows.iter().map(|w| (w.from.0.max(from.0), w.to.0.min(to.0))).filter(|(a, b)| a < b).collect();
    spans.sort_unstable();
    let (mut total, mut reach) = (0, from.0);
    for (a, b) in spans {
        let a = a.max(reach);
        if b > a {
            total += b - a;
            reach = b;
        }
    }
    total
}

/// The availability of `[from, to)` from the probes made in it (`(time, serving)`, any order)
/// and the planned stops. A probe inside a planned stop does not count either way.
#[must_use]
pub fn availability(
    probes: &[(Timestamp, bool)],
    planned: &[Window],
    from: Timestamp,
    to: Timestamp,
) -> Availability {
    let scheduled_seconds = (to.0 - from.0).max(0);
    let planned_seconds = covered(planned, from, to);
    let probes_expected = (scheduled_seconds - planned_seconds) / PROBE_EVERY;
    let counted = probes
        .iter()
        .filter(|(at, _)| (from..to).contains(at) && !planned.iter().any(|w| (w.from..w.to).contains(at)));
    let (mut ok, mut failed) = (0_i64, 0_i64);
    for (_, serving) in counted {
        if *serving {
            ok += 1;
        } else {
            failed += 1;
        }
    }
    // A jittering prober may fit one probe more into a period than expected.
    let ok = ok.min(probes_expected);
    let failed = failed.min(probes_expected - ok);
    let probes_missing = probes_expected - ok - failed;
    Availability {
        scheduled_seconds,
        planned_seconds,
        outage_seconds: (failed + probes_missing) * PROBE_EVERY,
        probes_expected,
        probes_failed: failed,
        probes_missing,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::DAY;

    fn at(s: &str) -> Timestamp {
        Timestamp::parse(s).unwrap()
    }

    /// Every probe of `[from, to)`, one per interval, failing where `down` says.
    fn every_probe(
        from: Timestamp,
        to: Timestamp,
        down: impl Fn(Timestamp) -> bool,
    ) -> Vec<(Timestamp, bool)> {
        (0..(to.0 - from.0) / PROBE_EVERY)
            .map(|i| from.plus(i * PROBE_EVERY + 7))
            .map(|t| (t, !down(t)))
            .collect()
    }

    #[test]
    fn a_month_of_good_probes_is_100_and_28_failed_probes_are_the_998_limit() {
        let (from, to) = (at("2026-11-01T00:00:00+09:00"), at("2026-12-01T00:00:00+09:00"));
        let all = every_probe(from, to, |_| false);
        let a = availability(&all, &[], from, to);
        assert_eq!((a.scheduled_seconds, a.probes_expected), (30 * DAY, 14_400));
        assert_eq!((a.outage_seconds, a.percent()), (0, Some(100.0)));

        // 28 failed probes: 84 minutes, within the 86.4 a 30-day month at 99.8 % allows.
        let mut failing = all.clone();
        for p in failing.iter_mut().skip(100).take(28) {
            p.1 = false;
        }
        let a = availability(&failing, &[], from, to);
        assert_eq!((a.probes_failed, a.outage_seconds), (28, 28 * 180));
        assert_eq!(a.percent(), Some(99.81));
        assert!(a.percent().unwrap() >= 99.8);

        // An hour with no probe at all (the server was not running) is an hour's outage.
        let hole: Vec<_> = all
            .iter()
            .copied()
            .filter(|(t, _)| !(at("2026-11-10T03:00:00+09:00")..at("2026-11-10T04:00:00+09:00")).contains(t))
            .collect();
        let a = availability(&hole, &[], from, to);
        assert_eq!((a.probes_missing, a.outage_seconds), (20, 3600));
    }

    #[test]
    fn planned_stops_are_excluded_whatever_the_probes_said_and_counted_once() {
        let (from, to) = (at("2026-11-01T00:00:00+09:00"), at("2026-11-02T00:00:00+09:00"));
        let stop = Window { from: at("2026-11-01T22:00:00+09:00"), to: at("2026-11-02T01:00:00+09:00") };
        // Down during the planned stop (the server was stopped): no outage.
        let probes = every_probe(from, to, |t| (stop.from..stop.to).contains(&t));
        let overlapping =
            Window { from: at("2026-11-01T23:00:00+09:00"), to: at("2026-11-01T23:30:00+09:00") };
        let a = availability(&probes, &[stop, overlapping], from, to);
        assert_eq!(a.planned_seconds, 2 * 3600, "two hours of it fall in the day, the overlap once");
        assert_eq!((a.outage_seconds, a.probes_expected), (0, (DAY - 2 * 3600) / PROBE_EVERY));
        assert_eq!(a.percent(), Some(100.0));
        assert_eq!(a.provided_seconds(), DAY - 2 * 3600);

        // An unplanned failure outside it still counts.
        let probes = every_probe(from, to, |t| {
            (stop.from..stop.to).contains(&t)
                || (at("2026-11-01T09:00:00+09:00")..at("2026-11-01T09:30:00+09:00")).contains(&t)
        });
        let a = availability(&probes, &[stop], from, to);
        assert_eq!((a.probes_failed, a.outage_seconds), (10, 1800));
        assert_eq!(a.percent(), Some(97.73), "1800 s of 79 200");
        assert_eq!(availability(&[], &[], from, from).percent(), None, "nothing scheduled");
    }

    #[test]
    fn a_probe_names_what_needs_an_administrator() {
        let good = Probe {
            at: Timestamp(0),
            web: true,
            store: true,
            disk: Some(DiskState::Ok),
            backup: BackupState::Ok,
            archive: true,
            certificate_days: Some(200),
            clock: true,
        };
        assert!(good.serving() && good.problems().is_empty());
        let bad = Probe {
            disk: Some(DiskState::Full),
            certificate_days: Some(3),
            backup: BackupState::Stale,
            ..good.clone()
        };
        assert!(!bad.serving());
        assert_eq!(bad.problems(), ["disk_full", "backup", "certificate"]);
        assert!(
            Probe { disk: Some(DiskState::Low), ..good.clone() }.serving(),
            "low is an alarm, not an outage"
        );
        assert!(!Probe { web: false, ..good }.serving());
    }
}
