//! 復元訓練 (restore drill): the newest backup generation and the archive after it restored
//! into a scratch directory, checked and timed, as a real restore after a failure would be —
//! the specification's 障害直前への復元 shown to work, month by month. The record holds no
//! personal data: numbers, times, and why a drill failed.

use serde::{Deserialize, Serialize};

use crate::ids::RestoreDrillId;
use crate::record::Record;
use crate::time::{DAY, Timestamp};

/// A drill every this many days unless configured otherwise: monthly.
pub const EVERY_DAYS: u32 = 30;

/// One drill and what it found.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RestoreDrill {
    pub started_at: Timestamp,
    /// From start to a checked store, in milliseconds.
    pub millis: u64,
    /// The generation restored (`None`: none could be read).
    pub generation: Option<u64>,
    /// Its size on the backup disk (encrypted).
    pub generation_bytes: u64,
    /// Transactions of the archive replayed after it.
    pub changes_replayed: u64,
    /// The time of the last change the restore reached: how close to the point of failure.
    pub up_to: Option<Timestamp>,
    /// Why it failed, in English; `None`: the restored store was whole.
    pub failure: Option<String>,
    /// Who ran it: `scheduler`, `cli` or `console`.
    pub by: String,
}

impl Record for RestoreDrill {
    type Id = RestoreDrillId;
    const SCHEMA: u16 = 1;
}

impl RestoreDrill {
    #[must_use]
    pub fn succeeded(&self) -> bool {
        self.failure.is_none()
    }

    /// One line for the log, the CLI and the console (English).
    #[must_use]
    pub fn summary(&self) -> String {
        let generation =
            self.generation.map_or_else(|| "no generation".to_owned(), |g| format!("generation {g}"));
        let up_to = self.up_to.map_or_else(|| "-".to_owned(), Timestamp::to_jst_string);
        let took = format!("{}.{:03} s", self.millis / 1000, self.millis % 1000);
        match &self.failure {
            None => format!(
                "restore drill passed: {generation} ({} bytes) and {} archived transactions restored and checked in {took}, up to {up_to}",
                self.generation_bytes, self.changes_replayed
            ),
            Some(why) => format!("restore drill FAILED after {took} ({generation}): {why}"),
        }
    }
}

/// Whether a drill is due: none yet, or the last one started `every_days` ago or more (`0`:
/// never by schedule).
#[must_use]
pub fn due(last: Option<Timestamp>, now: Timestamp, every_days: u32) -> bool {
    every_days > 0 && last.is_none_or(|at| now.0 - at.0 >= i64::from(every_days) * DAY)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_drill_is_due_monthly_and_never_when_switched_off() {
        let now = Timestamp(1_800_000_000);
        assert!(due(None, now, EVERY_DAYS), "no drill yet");
        assert!(!due(Some(now.plus(-29 * DAY)), now, EVERY_DAYS));
        assert!(due(Some(now.plus(-30 * DAY)), now, EVERY_DAYS));
        assert!(!due(None, now, 0), "0 switches the schedule off");
    }

    #[test]
    fn the_summary_says_what_was_restored_or_why_not() {
        let mut d = RestoreDrill {
            started_at: Timestamp(0),
            millis: 3_250,
            generation: Some(4),
            generation_bytes: 1_200,
            changes_replayed: 17,
            up_to: Some(Timestamp(0)),
            failure: None,
            by: "cli".into(),
        };
        assert!(
            d.summary().starts_with("restore drill passed: generation 4 (1200 bytes) and 17 archived"),
            "{}",
            d.summary()
        );
        assert!(d.summary().contains("in 3.250 s"));
        d.failure = Some("no authentic generation".into());
        assert!(!d.succeeded());
        assert!(d.summary().contains("FAILED") && d.summary().contains("no authentic generation"));
    }
}
