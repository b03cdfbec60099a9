//! 計画停止 (planned maintenance): a window an administrator announces in advance. Tablets show
//! it from a week before until it ends; the uptime ledger leaves it out of 稼働率.

use serde::{Deserialize, Serialize};

use crate::error::{Counted, Error, Result, Why};
use crate::ids::{MaintenanceId, StaffId};
use crate::record::Record;
use crate::time::{DAY, HOUR, Timestamp};
use crate::uptime::Window;

/// Tablets show an announced stop from this long before it starts.
pub const SHOWN_BEFORE: i64 = 7 * DAY;
/// The longest planned stop.
pub const LONGEST: i64 = 72 * HOUR;
const REASON_MAX: usize = 200;

/// An announced planned stop.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Maintenance {
    pub window: Window,
    /// What is done (for the tablets' notice and the monthly report).
    pub reason: String,
    /// Who last set the window and when: the advance notice counts from here.
    pub announced_by: StaffId,
    pub announced_at: Timestamp,
    /// Called off before it started: no longer shown, not counted as 計画停止. (A stop that has
    /// started is not called off but ended early: its time so far stays planned.)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancelled: Option<Cancelled>,
}

/// Who called a planned stop off, and when.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cancelled {
    pub by: StaffId,
    pub at: Timestamp,
}

/// Where an announced stop stands at a moment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    Cancelled,
    /// Announced, not yet started: anything may change.
    Coming,
    /// Started: it may end earlier, not later (a longer stop is announced in advance as one more).
    Running,
    Over,
}

impl Record for Maintenance {
    type Id = MaintenanceId;
    /// 2: `cancelled` (a program that knows only 1 would count a cancelled stop as planned, so
    /// it refuses these instead of misreading them). Schema 1 reads as it is: no `cancelled`.
    const SCHEMA: u16 = 2;
}

/// A stop as an administrator asks for it.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewMaintenance {
    pub from: Timestamp,
    pub to: Timestamp,
    pub reason: String,
}

/// A change to an announced stop, from the revision it was read at: its new window and reason
/// (what `NewMaintenance` asks, again).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MaintenanceChange {
    pub rev: u64,
    pub from: Timestamp,
    pub to: Timestamp,
    pub reason: String,
}

impl NewMaintenance {
    /// The stop, checked: announced before it starts, ending after it starts, at most 72 hours,
    /// with a reason.
    pub fn check(self, by: StaffId, now: Timestamp) -> Result<Maintenance> {
        if self.from <= now {
            return Err(Error::invalid(
                "from",
                "must be later than now: a planned stop is announced in advance",
            ));
        }
        if self.to <= self.from {
            return Err(Error::invalid("to", Why::Before(crate::error::Point::Start)));
        }
        if self.to.0 - self.from.0 > LONGEST {
            return Err(Error::invalid("to", "a planned stop lasts at most 72 hours"));
        }
        Ok(Maintenance {
            window: Window { from: self.from, to: self.to },
            reason: checked_reason(&self.reason)?,
            announced_by: by,
            announced_at: now,
            cancelled: None,
        })
    }
}

impl Stage {
    /// For scripts (`mamoru maintenance list`).
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Cancelled => "cancelled",
            Self::Coming => "coming",
            Self::Running => "running",
            Self::Over => "over",
        }
    }

    /// For people (the console).
    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            Self::Cancelled => "中止",
            Self::Coming => "予定",
            Self::Running => "実施中",
            Self::Over => "終了",
        }
    }
}

fn checked_reason(reason: &str) -> Result<String> {
    let reason = reason.trim().to_owned();
    Error::require(&[("reason", reason.is_empty())])?;
    crate::text::check("reason", &reason)?;
    if reason.chars().count() > REASON_MAX {
        return Err(Error::invalid("reason", Why::AtMost(REASON_MAX, Counted::Characters)));
    }
    Ok(reason)
}

impl Maintenance {
    #[must_use]
    pub fn stage(&self, now: Timestamp) -> Stage {
        if self.cancelled.is_some() {
            Stage::Cancelled
        } else if now < self.window.from {
            Stage::Coming
        } else if now < self.window.to {
            Stage::Running
        } else {
            Stage::Over
        }
    }

    /// The window the ledger leaves out of 稼働率: none once called off.
    #[must_use]
    pub fn planned(&self) -> Option<Window> {
        self.cancelled.is_none().then_some(self.window)
    }

    /// Whether tablets show it at `now`: from a week before it starts until it ends.
    #[must_use]
    pub fn shown_at(&self, now: Timestamp) -> bool {
        self.cancelled.is_none() && now.0 >= self.window.from.0 - SHOWN_BEFORE && now < self.window.to
    }

    /// The stop as changed by `by` at `now`. Before it starts anything may change, checked as a
    /// new announcement (a window reaching outside the announced one counts its notice from
    /// now); once it runs, only the reason and an earlier end (not before now); an ended or
    /// called-off stop stays as it was.
    pub fn change(&self, change: MaintenanceChange, by: StaffId, now: Timestamp) -> Result<Self> {
        let asked = NewMaintenance { from: change.from, to: change.to, reason: change.reason };
        match self.stage(now) {
            Stage::Coming => {
                // Only a window reaching outside the one announced is news to the tablets; a
                // shorter one keeps its notice.
                let moved = asked.from < self.window.from || asked.to > self.window.to;
                let mut next = asked.check(by, now)?;
                if !moved {
                    next.announced_by = self.announced_by;
                    next.announced_at = self.announced_at;
                }
                Ok(next)
            }
            Stage::Running => {
                if asked.from != self.window.from {
                    return Err(Error::invalid("from", "a planned stop that has started keeps its start"));
                }
                if asked.to > self.window.to {
                    return Err(Error::invalid(
                        "to",
                        "a planned stop that has started may end earlier, not later: announce a further stop in advance",
                    ));
                }
                if asked.to < now {
                    return Err(Error::invalid("to", "must not be earlier than now"));
                }
                if asked.to <= self.window.from {
                    return Err(Error::invalid("to", Why::Before(crate::error::Point::Start)));
                }
                Ok(Self {
                    window: Window { from: self.window.from, to: asked.to },
                    reason: checked_reason(&asked.reason)?,
                    ..self.clone()
                })
            }
            stage @ (Stage::Over | Stage::Cancelled) => Err(Error::invalid("maintenance", settled(stage))),
        }
    }

    /// The stop called off by `by` at `now`: before it starts, it no longer counts; once it runs,
    /// it ends now (its time so far stays planned).
    pub fn cancel(&self, by: StaffId, now: Timestamp) -> Result<Self> {
        match self.stage(now) {
            Stage::Running if now > self.window.from => {
                Ok(Self { window: Window { from: self.window.from, to: now }, ..self.clone() })
            }
            // Coming, or at its very first second (nothing of it has passed): called off.
            Stage::Coming | Stage::Running => {
                Ok(Self { cancelled: Some(Cancelled { by, at: now }), ..self.clone() })
            }
            stage @ (Stage::Over | Stage::Cancelled) => Err(Error::invalid("maintenance", settled(stage))),
        }
    }
}

fn settled(stage: Stage) -> &'static str {
    if stage == Stage::Cancelled {
        "this planned stop was cancelled: announce a new one"
    } else {
        "this planned stop is over and stays as it was for the monthly report"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ask(from: i64, to: i64, reason: &str) -> NewMaintenance {
        NewMaintenance { from: Timestamp(from), to: Timestamp(to), reason: reason.into() }
    }

    #[test]
    fn a_stop_is_announced_in_advance_ends_after_it_starts_and_says_why() {
        let now = Timestamp(1_000_000);
        let m = ask(now.0 + DAY, now.0 + DAY + 3 * HOUR, "  OS の更新 ").check(StaffId(1), now).unwrap();
        assert_eq!(m.reason, "OS の更新");
        let field = |r: Result<Maintenance>| match r {
            Err(Error::Invalid { field, .. }) => field,
            Err(Error::Incomplete { fields }) => fields[0],
            other => panic!("{other:?}"),
        };
        assert_eq!(field(ask(now.0, now.0 + HOUR, "x").check(StaffId(1), now)), "from");
        assert_eq!(field(ask(now.0 + HOUR, now.0 + HOUR, "x").check(StaffId(1), now)), "to");
        assert_eq!(field(ask(now.0 + HOUR, now.0 + HOUR + LONGEST + 1, "x").check(StaffId(1), now)), "to");
        assert_eq!(field(ask(now.0 + HOUR, now.0 + 2 * HOUR, " ").check(StaffId(1), now)), "reason");
        assert_eq!(
            field(ask(now.0 + HOUR, now.0 + 2 * HOUR, &"長".repeat(201)).check(StaffId(1), now)),
            "reason"
        );

        // Shown from a week before until it ends.
        assert!(!m.shown_at(Timestamp(m.window.from.0 - SHOWN_BEFORE - 1)));
        assert!(m.shown_at(Timestamp(m.window.from.0 - SHOWN_BEFORE)));
        assert!(m.shown_at(m.window.from) && !m.shown_at(m.window.to));
    }

    fn field(r: Result<Maintenance>) -> &'static str {
        match r {
            Err(Error::Invalid { field, .. }) => field,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_coming_stop_changes_freely_a_running_one_only_ends_earlier_and_a_settled_one_not_at_all() {
        let now = Timestamp(1_000_000);
        let (from, to) = (now.0 + 2 * DAY, now.0 + 2 * DAY + 4 * HOUR);
        let m = ask(from, to, "OS の更新").check(StaffId(1), now).unwrap();
        let change = |from: i64, to: i64, reason: &str| MaintenanceChange {
            rev: 1,
            from: Timestamp(from),
            to: Timestamp(to),
            reason: reason.into(),
        };

        // Coming: the reason alone keeps the notice; a moved window counts it from the change.
        let later = Timestamp(now.0 + DAY);
        let worded = m.change(change(from, to, "OS とミドルウェアの更新"), StaffId(2), later).unwrap();
        assert_eq!((worded.announced_by, worded.announced_at), (StaffId(1), now));
        let moved = m.change(change(from + HOUR, to + HOUR, "OS の更新"), StaffId(2), later).unwrap();
        assert_eq!((moved.announced_by, moved.announced_at), (StaffId(2), later));
        let shorter = m.change(change(from + HOUR, to - HOUR, "OS の更新"), StaffId(2), later).unwrap();
        assert_eq!((shorter.announced_by, shorter.announced_at), (StaffId(1), now));
        assert_eq!(field(m.change(change(later.0, to, "x"), StaffId(2), later)), "from");
        assert_eq!(field(m.change(change(from, from + LONGEST + 1, "x"), StaffId(2), later)), "to");

        // Running: the start stays, the end may come earlier (not before now), never later.
        let during = Timestamp(from + HOUR);
        assert_eq!(m.stage(during), Stage::Running);
        let shorter = m.change(change(from, from + 2 * HOUR, "OS の更新"), StaffId(2), during).unwrap();
        assert_eq!(shorter.window, Window { from: Timestamp(from), to: Timestamp(from + 2 * HOUR) });
        assert_eq!(shorter.announced_at, now);
        assert_eq!(field(m.change(change(from, to + 1, "x"), StaffId(2), during)), "to");
        assert_eq!(field(m.change(change(from, during.0 - 1, "x"), StaffId(2), during)), "to");
        assert_eq!(field(m.change(change(from + 1, to, "x"), StaffId(2), during)), "from");
        assert_eq!(field(m.change(change(from, from, "x"), StaffId(2), Timestamp(from))), "to");

        // Cancelled before it starts: no longer planned or shown; while it runs: it ends now.
        let off = m.cancel(StaffId(2), later).unwrap();
        assert_eq!(off.cancelled, Some(Cancelled { by: StaffId(2), at: later }));
        assert_eq!((off.planned(), off.shown_at(later), off.stage(later)), (None, false, Stage::Cancelled));
        let at_start = m.cancel(StaffId(2), Timestamp(from)).unwrap();
        assert_eq!(at_start.stage(Timestamp(from)), Stage::Cancelled, "nothing of it passed");
        let ended = m.cancel(StaffId(2), during).unwrap();
        assert_eq!(ended.planned(), Some(Window { from: Timestamp(from), to: during }));
        assert_eq!(ended.stage(during), Stage::Over);

        // Settled: nothing changes.
        assert_eq!(field(off.change(change(from, to, "x"), StaffId(2), later)), "maintenance");
        assert_eq!(field(off.cancel(StaffId(2), later)), "maintenance");
        assert_eq!(field(m.cancel(StaffId(2), Timestamp(to))), "maintenance");
        assert_eq!(field(m.change(change(from, to, "x"), StaffId(2), Timestamp(to))), "maintenance");

        // Records written before `cancelled` existed still read.
        let old = serde_json::json!({"window": {"from": from, "to": to}, "reason": "r", "announced_by": 1, "announced_at": now.0});
        assert_eq!(serde_json::from_value::<Maintenance>(old).unwrap().cancelled, None);
    }
}
