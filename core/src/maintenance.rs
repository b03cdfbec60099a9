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
    pub announced_by: StaffId,
    pub announced_at: Timestamp,
}

impl Record for Maintenance {
    type Id = MaintenanceId;
    const SCHEMA: u16 = 1;
}

/// A stop as an administrator asks for it.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewMaintenance {
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
        let reason = self.reason.trim().to_owned();
        Error::require(&[("reason", reason.is_empty())])?;
        crate::text::check("reason", &reason)?;
        if reason.chars().count() > REASON_MAX {
            return Err(Error::invalid("reason", Why::AtMost(REASON_MAX, Counted::Characters)));
        }
        Ok(Maintenance {
            window: Window { from: self.from, to: self.to },
            reason,
            announced_by: by,
            announced_at: now,
        })
    }
}

impl Maintenance {
    /// Whether tablets show it at `now`: from a week before it starts until it ends.
    #[must_use]
    pub fn shown_at(&self, now: Timestamp) -> bool {
        now.0 >= self.window.from.0 - SHOWN_BEFORE && now < self.window.to
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
}
