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
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
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
    /// The store's file size and the disk's space (for the report's store growth and capacity).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub store_bytes: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disk_space: Option<DiskSpace>,
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
            // A full disk is a low one too: its alarm does not end when it gets worse.
            (matches!(self.disk, Some(DiskState::Low | DiskState::Full)), Problem::DiskLow),
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
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
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
    /// No probe was made (the server was not running): found when it runs again.
    NoProbe,
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
            Problem::NoProbe => "no_probe",
        }
    }
}

impl Problem {
    /// What staff read (the console, the report, the alert mail).
    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            Problem::Web => "Web応答なし",
            Problem::Store => "データベース書き込み不可",
            Problem::DiskFull => "ディスク満杯",
            Problem::DiskLow => "ディスク残りわずか",
            Problem::Backup => "バックアップの失敗・遅れ",
            Problem::Archive => "アーカイブ転送の停止",
            Problem::Certificate => "証明書の期限接近",
            Problem::Clock => "時計の逆行",
            Problem::NoProbe => "サーバー停止（監視記録なし）",
        }
    }

    /// The service is not provided while it lasts (an outage, not a warning).
    #[must_use]
    pub fn stops_service(self) -> bool {
        matches!(self, Problem::Web | Problem::Store | Problem::DiskFull | Problem::NoProbe)
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
pub(crate) fn covered(windows: &[Window], from: Timestamp, to: Timestamp) -> i64 {
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

/// A stretch of the ledger something was wrong: an outage (probes that found the service not
/// provided, or probes missing because the server was not running), or one problem that needs
/// an administrator while the service went on (a low disk, a stale backup, a certificate due).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Incident {
    /// `None`: an outage; else the problem this stretch is of.
    pub problem: Option<Problem>,
    /// The first probe that found it (for probes missing: the first made after them, which is
    /// when the server could know).
    pub detected: Timestamp,
    /// The last good probe before it: it began after this.
    pub after: Option<Timestamp>,
    /// The first probe that found it gone (`None`: still there at the period's end).
    pub recovered: Option<Timestamp>,
    /// For an outage: every problem its probes found, in `Problem` order.
    pub causes: Vec<Problem>,
    /// For an outage: the seconds it counts against 稼働率 (its failed and missing probes).
    pub outage_seconds: i64,
    /// When its alert was first delivered (mail or hook; filled in from the alerts kept).
    pub notified: Option<Timestamp>,
}

/// The outages of `[from, to)` from its probes (any order) and the planned stops: each run of
/// probes that were not serving or were never made, with its causes. Probes and gaps inside a
/// planned stop do not count. `to` is the period's end or now, whichever is earlier.
#[must_use]
pub fn outages(probes: &[Probe], planned: &[Window], from: Timestamp, to: Timestamp) -> Vec<Incident> {
    let mut probes: Vec<&Probe> = probes
        .iter()
        .filter(|p| (from..to).contains(&p.at) && !planned.iter().any(|w| (w.from..w.to).contains(&p.at)))
        .collect();
    probes.sort_by_key(|p| p.at);
    // Probes that should have been made between two instants (probes, or the period's ends)
    // and were not: the unplanned time in whole intervals, less the one that ends at `b`. A
    // probe a little late is not a missing one.
    let missing = |a: Timestamp, b: Timestamp| {
        let unplanned = (b.0 - a.0) - covered(planned, a, b);
        if unplanned < PROBE_EVERY + PROBE_EVERY / 2 {
            0
        } else {
            (unplanned + PROBE_EVERY / 2) / PROBE_EVERY - 1
        }
    };
    let begin = |detected, after| Incident {
        problem: None,
        detected,
        after,
        recovered: None,
        causes: Vec::new(),
        outage_seconds: 0,
        notified: None,
    };
    let mut out: Vec<Incident> = Vec::new();
    let mut open: Option<Incident> = None;
    let (mut last_good, mut last_seen) = (None, from);
    for p in probes {
        let gap = missing(last_seen, p.at);
        if gap > 0 {
            let i = open.get_or_insert_with(|| begin(p.at, last_good));
            i.outage_seconds += gap * PROBE_EVERY;
            add_cause(&mut i.causes, Problem::NoProbe);
        }
        if p.serving() {
            if let Some(mut i) = open.take() {
                i.recovered = Some(p.at);
                out.push(i);
            }
            last_good = Some(p.at);
        } else {
            let i = open.get_or_insert_with(|| begin(p.at, last_good));
            i.outage_seconds += PROBE_EVERY;
            for c in p.problems().into_iter().filter(|c| c.stops_service()) {
                add_cause(&mut i.causes, c);
            }
        }
        last_seen = p.at;
    }
    // Probes missing at the end (the server was not running when the period ended, or is not
    // now): the end of the period is when it shows.
    let tail = missing(last_seen, to);
    if tail > 0 {
        let i = open.get_or_insert_with(|| begin(to, last_good));
        i.outage_seconds += tail * PROBE_EVERY;
        add_cause(&mut i.causes, Problem::NoProbe);
    }
    out.extend(open);
    out
}

fn add_cause(causes: &mut Vec<Problem>, c: Problem) {
    if !causes.contains(&c) {
        causes.push(c);
        causes.sort_unstable();
    }
}

/// The problems of `[from, to)` that did not stop the service (a low disk, a failed or stale
/// backup, the archive, the certificate, the clock): each problem's runs of consecutive probes,
/// oldest first. Missing probes neither end nor start one.
#[must_use]
pub fn warnings(probes: &[Probe], from: Timestamp, to: Timestamp) -> Vec<Incident> {
    let mut probes: Vec<&Probe> = probes.iter().filter(|p| (from..to).contains(&p.at)).collect();
    probes.sort_by_key(|p| p.at);
    let mut out = Vec::new();
    for problem in [Problem::DiskLow, Problem::Backup, Problem::Archive, Problem::Certificate, Problem::Clock]
    {
        let mut open: Option<Incident> = None;
        let mut last_good = None;
        for p in &probes {
            if p.problems().contains(&problem) {
                open.get_or_insert_with(|| Incident {
                    problem: Some(problem),
                    detected: p.at,
                    after: last_good,
                    recovered: None,
                    causes: vec![problem],
                    outage_seconds: 0,
                    notified: None,
                });
            } else {
                if let Some(mut i) = open.take() {
                    i.recovered = Some(p.at);
                    out.push(i);
                }
                last_good = Some(p.at);
            }
        }
        out.extend(open);
    }
    out.sort_by_key(|i| i.detected);
    out
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
        let good = probe(Timestamp(0));
        assert!(good.serving() && good.problems().is_empty());
        let bad = Probe {
            disk: Some(DiskState::Full),
            certificate_days: Some(3),
            backup: BackupState::Stale,
            ..good.clone()
        };
        assert!(!bad.serving());
        assert_eq!(bad.problems(), ["disk_full", "disk_low", "backup", "certificate"]);
        assert!(
            Probe { disk: Some(DiskState::Low), ..good.clone() }.serving(),
            "low is an alarm, not an outage"
        );
        assert!(!Probe { web: false, ..good }.serving());
    }

    fn probe(at: Timestamp) -> Probe {
        Probe {
            at,
            web: true,
            store: true,
            disk: Some(DiskState::Ok),
            backup: BackupState::Ok,
            archive: true,
            certificate_days: Some(200),
            clock: true,
            store_bytes: None,
            disk_space: None,
        }
    }

    #[test]
    fn outages_are_runs_of_failed_or_missing_probes_and_add_up_to_the_availability() {
        let (from, to) = (at("2026-11-01T00:00:00+09:00"), at("2026-11-02T00:00:00+09:00"));
        let t = |s: &str| at(&format!("2026-11-01T{s}+09:00"));
        let mut probes: Vec<Probe> = (0..480).map(|i| probe(from.plus(i * PROBE_EVERY + 7))).collect();
        // 03:00–03:09: the web does not answer (three probes), the store too at the second.
        for p in probes.iter_mut().filter(|p| (t("03:00:00")..t("03:09:00")).contains(&p.at)) {
            p.web = false;
        }
        probes[61].store = false;
        // 05:00–06:00: the server is not running (twenty probes missing), and the first probe
        // after finds the disk full: one outage.
        probes.retain(|p| !(t("05:00:00")..t("06:00:00")).contains(&p.at));
        let after = probes.iter_mut().find(|p| p.at > t("06:00:00")).unwrap();
        after.disk = Some(DiskState::Full);
        // 10:00–12:00 a planned stop: nothing probed, nothing missing.
        let stop = Window { from: t("10:00:00"), to: t("12:00:00") };
        probes.retain(|p| !(stop.from..stop.to).contains(&p.at));
        // From 22:00 the disk is low (not an outage) and at 23:00 the server stops for the rest.
        for p in probes.iter_mut().filter(|p| p.at >= t("22:00:00")) {
            p.disk = Some(DiskState::Low);
        }
        probes.retain(|p| p.at < t("23:00:00"));

        let found = outages(&probes, &[stop], from, to);
        assert_eq!(found.len(), 3, "{found:#?}");
        let (web, down, end) = (&found[0], &found[1], &found[2]);
        assert_eq!(web.detected, t("03:00:07"));
        assert_eq!(web.after, Some(t("02:57:07")));
        assert_eq!(web.recovered, Some(t("03:09:07")));
        assert_eq!(web.causes, [Problem::Web, Problem::Store]);
        assert_eq!(web.outage_seconds, 3 * PROBE_EVERY);
        assert_eq!((down.after, down.detected), (Some(t("04:57:07")), t("06:00:07")));
        assert_eq!(down.causes, [Problem::DiskFull, Problem::NoProbe]);
        assert_eq!(down.outage_seconds, 21 * PROBE_EVERY, "twenty missing, one full");
        assert_eq!(down.recovered, Some(t("06:03:07")));
        assert_eq!((end.detected, end.recovered, end.after), (to, None, Some(t("22:57:07"))));
        assert_eq!(end.outage_seconds, 20 * PROBE_EVERY);
        // The outages are what 稼働率 counts.
        let samples: Vec<_> = probes.iter().map(|p| (p.at, p.serving())).collect();
        let a = availability(&samples, &[stop], from, to);
        assert_eq!(found.iter().map(|i| i.outage_seconds).sum::<i64>(), a.outage_seconds);

        // The full disk at 06:00 was a low one too; then low again from 22:00.
        let warned = warnings(&probes, from, to);
        assert_eq!(warned.len(), 2, "{warned:#?}");
        assert!(warned.iter().all(|w| w.problem == Some(Problem::DiskLow)));
        assert_eq!((warned[0].detected, warned[0].recovered), (t("06:00:07"), Some(t("06:03:07"))));
        assert_eq!((warned[1].detected, warned[1].recovered), (t("22:00:07"), None));
        assert!(outages(&[], &[], from, from).is_empty());
    }
}
