//! 警報 (alerts): what the self-probe found, told to people once when it appears and once when
//! it is gone. An alert is one problem over one stretch of time (`Alert`, kind `alert`); the
//! service opens and clears them from each probe (`changes`), the binary delivers the notices
//! (mail to the city's relay, a command hook) and the service keeps when each was delivered,
//! which the monthly report shows as the time the incident was notified. No personal data.

use serde::{Deserialize, Serialize};

use crate::ids::AlertId;
use crate::record::Record;
use crate::time::Timestamp;
use crate::uptime::{Probe, Problem, Window};
use crate::wareki;

/// A notice is tried at most this often before it is given up (one a probe).
pub const MAX_ATTEMPTS: u32 = 10;

/// One problem from when a probe found it until a probe found it gone.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Alert {
    pub problem: Problem,
    pub raised_at: Timestamp,
    #[serde(default)]
    pub cleared_at: Option<Timestamp>,
    /// When the notice of it was delivered (`None`: not yet, or never configured).
    #[serde(default)]
    pub raised_sent: Option<Timestamp>,
    /// When the notice of its end was delivered.
    #[serde(default)]
    pub cleared_sent: Option<Timestamp>,
    /// Deliveries tried and failed, and the last failure (for the console).
    #[serde(default)]
    pub attempts: u32,
    #[serde(default)]
    pub last_error: Option<String>,
}

impl Record for Alert {
    type Id = AlertId;
    const SCHEMA: u16 = 1;
}

/// Which notice is due.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Notice {
    Raised,
    Cleared,
}

impl Notice {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Notice::Raised => "raised",
            Notice::Cleared => "cleared",
        }
    }
}

impl Alert {
    #[must_use]
    pub fn raise(problem: Problem, at: Timestamp) -> Self {
        Self {
            problem,
            raised_at: at,
            cleared_at: None,
            raised_sent: None,
            cleared_sent: None,
            attempts: 0,
            last_error: None,
        }
    }

    #[must_use]
    pub fn is_open(&self) -> bool {
        self.cleared_at.is_none()
    }

    /// The notice still to deliver: its end once it has ended (which also tells of its start when
    /// that was never delivered), else its start; none once given up.
    #[must_use]
    pub fn pending(&self) -> Option<Notice> {
        if self.attempts >= MAX_ATTEMPTS {
            return None;
        }
        match (self.cleared_at, self.cleared_sent, self.raised_sent) {
            (Some(_), None, _) => Some(Notice::Cleared),
            (None, _, None) => Some(Notice::Raised),
            _ => None,
        }
    }

    /// Records a delivery of `notice` at `at`, or its failure.
    pub fn delivered(&mut self, notice: Notice, at: Timestamp, outcome: Result<(), String>) {
        match outcome {
            Ok(()) => {
                self.attempts = 0;
                self.last_error = None;
                match notice {
                    Notice::Raised => self.raised_sent = Some(at),
                    Notice::Cleared => self.cleared_sent = Some(at),
                }
            }
            Err(why) => {
                self.attempts += 1;
                self.last_error = Some(why.chars().take(300).collect());
            }
        }
    }

    /// The notice as mail: a subject and a body in Japanese, about `server`.
    #[must_use]
    pub fn message(&self, notice: Notice, server: &str) -> (String, String) {
        let label = self.problem.label();
        let at = |t: Timestamp| {
            let (h, m) = t.jst_time();
            format!("{} {h:02}:{m:02}", wareki::format(t.jst_date()))
        };
        let (subject, mut body) = match notice {
            Notice::Raised => {
                let effect = if self.problem.stops_service() {
                    "影響: サービスを提供できていません。検知から30分以内に市へ連絡してください。"
                } else {
                    "影響: サービスは続いています。早めに対処してください。"
                };
                (
                    format!("[Mamoru 障害] {label}"),
                    format!(
                        "児童相談情報管理システム Mamoru（サーバー {server}）の自己監視が問題を検知しました。\n\n事象: {label}\n検知: {}\n{effect}\n",
                        at(self.raised_at)
                    ),
                )
            }
            Notice::Cleared => (
                format!("[Mamoru 復旧] {label}"),
                format!(
                    "児童相談情報管理システム Mamoru（サーバー {server}）の自己監視で、次の事象の解消を確認しました。\n\n事象: {label}\n検知: {}\n解消: {}\n",
                    at(self.raised_at),
                    self.cleared_at.map_or_else(String::new, at)
                ),
            ),
        };
        body.push_str(
            "\n対処の手順: docs/operations/monitoring.md（監視とディスク）。現在の状態は管理コンソールの「概要」で確認できます。\n\
             この通知は事象ごとに検知時と解消時の1回ずつ送られます。個人情報は含みません。\n",
        );
        (subject, body)
    }
}

/// What a probe changes among the open alerts: the problems it found that no open alert has
/// (to raise at the probe's time), and the open alerts whose problem it did not find (to clear).
#[must_use]
pub fn changes<'a>(open: &'a [(u64, Alert)], probe: &Probe) -> (Vec<Problem>, Vec<&'a (u64, Alert)>) {
    let found = probe.problems();
    let raise = found.iter().copied().filter(|p| !open.iter().any(|(_, a)| a.problem == *p)).collect();
    let clear = open.iter().filter(|(_, a)| !found.contains(&a.problem)).collect();
    (raise, clear)
}

/// When the server was not running: the previous probe and this one further apart than an
/// interval (`every` seconds, the prober's) and a half, not counting planned stops. The alert of
/// it, raised when the next probe was due and cleared now.
#[must_use]
pub fn after_gap(previous: Timestamp, now: Timestamp, every: i64, planned: &[Window]) -> Option<Alert> {
    let unplanned = (now.0 - previous.0) - crate::uptime::covered(planned, previous, now);
    (unplanned >= every + every / 2)
        .then(|| Alert { cleared_at: Some(now), ..Alert::raise(Problem::NoProbe, previous.plus(every)) })
}

/// When `incident` was first told: the earliest delivery of an alert of one of its problems
/// that began within it (from its last good probe until its recovery).
#[must_use]
pub fn notified(alerts: &[Alert], incident: &crate::uptime::Incident) -> Option<Timestamp> {
    let from = incident.after.unwrap_or(incident.detected);
    let until = incident.recovered.unwrap_or(Timestamp(i64::MAX));
    alerts
        .iter()
        .filter(|a| incident.causes.contains(&a.problem) && (from..=until).contains(&a.raised_at))
        .filter_map(|a| a.raised_sent.or(a.cleared_sent))
        .min()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::uptime::{BackupState, DiskState, PROBE_EVERY};

    fn probe(web: bool, disk: DiskState) -> Probe {
        Probe {
            at: Timestamp(1_000),
            web,
            store: true,
            disk: Some(disk),
            backup: BackupState::Ok,
            archive: true,
            certificate_days: None,
            clock: true,
            store_bytes: None,
            disk_space: None,
        }
    }

    #[test]
    fn a_problem_is_raised_once_and_cleared_once() {
        let (raise, clear) = changes(&[], &probe(false, DiskState::Low));
        assert_eq!(raise, [Problem::Web, Problem::DiskLow]);
        assert!(clear.is_empty());
        let open = vec![
            (1, Alert::raise(Problem::Web, Timestamp(1_000))),
            (2, Alert::raise(Problem::DiskLow, Timestamp(1_000))),
        ];
        // The same problems again: nothing new.
        let (raise, clear) = changes(&open, &probe(false, DiskState::Low));
        assert!(raise.is_empty() && clear.is_empty());
        // The web is back, the disk still low.
        let (raise, clear) = changes(&open, &probe(true, DiskState::Low));
        assert!(raise.is_empty());
        assert_eq!(clear.iter().map(|(id, _)| *id).collect::<Vec<_>>(), [1]);
    }

    #[test]
    fn a_notice_is_due_until_delivered_and_given_up_after_ten_failures() {
        let mut a = Alert::raise(Problem::Backup, Timestamp(1_000));
        assert_eq!(a.pending(), Some(Notice::Raised));
        a.delivered(Notice::Raised, Timestamp(1_010), Err("connection refused".into()));
        assert_eq!((a.pending(), a.attempts), (Some(Notice::Raised), 1));
        a.delivered(Notice::Raised, Timestamp(1_020), Ok(()));
        assert_eq!((a.pending(), a.raised_sent, a.attempts), (None, Some(Timestamp(1_020)), 0));
        a.cleared_at = Some(Timestamp(2_000));
        assert_eq!(a.pending(), Some(Notice::Cleared));
        for _ in 0..MAX_ATTEMPTS {
            a.delivered(Notice::Cleared, Timestamp(2_000), Err("relay down".into()));
        }
        assert_eq!(a.pending(), None, "given up");
        // Never told of its start, then gone: the end's notice tells both.
        let mut b = Alert::raise(Problem::Web, Timestamp(1_000));
        b.cleared_at = Some(Timestamp(1_360));
        assert_eq!(b.pending(), Some(Notice::Cleared));
        let (subject, body) = b.message(Notice::Cleared, "mamoru01");
        assert_eq!(subject, "[Mamoru 復旧] Web応答なし");
        assert!(body.contains("mamoru01") && body.contains("検知:") && body.contains("解消:"), "{body}");
        let (subject, body) = b.message(Notice::Raised, "mamoru01");
        assert_eq!(subject, "[Mamoru 障害] Web応答なし");
        assert!(body.contains("30分以内に市へ連絡"), "{body}");
    }

    #[test]
    fn a_gap_in_the_probes_is_an_alert_already_over() {
        assert_eq!(after_gap(Timestamp(0), Timestamp(PROBE_EVERY + 10), PROBE_EVERY, &[]), None);
        let stop = Window { from: Timestamp(100), to: Timestamp(3_500) };
        assert_eq!(after_gap(Timestamp(0), Timestamp(3_600), PROBE_EVERY, &[stop]), None, "a planned stop");
        let a = after_gap(Timestamp(0), Timestamp(3_600), PROBE_EVERY, &[]).unwrap();
        assert_eq!(
            (a.problem, a.raised_at, a.cleared_at),
            (Problem::NoProbe, Timestamp(PROBE_EVERY), Some(Timestamp(3_600)))
        );
        assert_eq!(a.pending(), Some(Notice::Cleared));
    }
}
