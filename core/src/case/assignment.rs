//! 担当: who works a case — the 主担当 first in `Case::assigned`, then the 副担当 — and every
//! change of it, kept on the case with who changed it, when and why.

use serde::{Deserialize, Serialize};

use super::Case;
use crate::error::{Counted, Error, Why};
use crate::ids::StaffId;
use crate::time::Timestamp;

/// Longest reason for a change of workers, in characters.
pub const REASON_MAX_CHARS: usize = 200;

/// One change of a case's workers (the first, when the case was opened with workers, too).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reassignment {
    pub at: Timestamp,
    pub by: StaffId,
    /// The workers from then on: the 主担当 first (empty: nobody).
    pub assigned: Vec<StaffId>,
    /// Why (異動, 負担の調整, …); empty when none was given.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub reason: String,
}

impl Reassignment {
    /// The 主担当 from then on.
    #[must_use]
    pub fn main(&self) -> Option<StaffId> {
        self.assigned.first().copied()
    }
}

/// 担当の変更 as a supervisor gives it: a 主担当 (or nobody) and any 副担当.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assign {
    #[serde(default)]
    pub main: Option<StaffId>,
    #[serde(default)]
    pub subs: Vec<StaffId>,
    #[serde(default)]
    pub reason: String,
}

impl Assign {
    /// The case's workers this gives: the 主担当 first, then each 副担当 once, in the order
    /// given (the 主担当 named again among them is dropped). 副担当 without a 主担当 are refused
    /// (`main` is required), as is a reason longer than `REASON_MAX_CHARS`.
    pub fn workers(&self) -> Result<Vec<StaffId>, Error> {
        if self.reason.trim().chars().count() > REASON_MAX_CHARS {
            return Err(Error::invalid("reason", Why::AtMost(REASON_MAX_CHARS, Counted::Characters)));
        }
        let Some(main) = self.main else {
            return if self.subs.is_empty() {
                Ok(Vec::new())
            } else {
                Err(Error::invalid("main", Why::Required))
            };
        };
        Ok(each_once(&[&[main][..], &self.subs].concat()))
    }
}

/// `list` with each worker once, in the order first named.
#[must_use]
pub fn each_once(list: &[StaffId]) -> Vec<StaffId> {
    let mut out: Vec<StaffId> = Vec::with_capacity(list.len());
    for s in list {
        if !out.contains(s) {
            out.push(*s);
        }
    }
    out
}

/// Whether two lists of workers name the same 主担当 and the same 副担当 (in any order: the
/// order of the 副担当 means nothing).
#[must_use]
pub fn same_workers(a: &[StaffId], b: &[StaffId]) -> bool {
    let (a, b) = (each_once(a), each_once(b));
    a.first() == b.first() && a.len() == b.len() && a.iter().all(|s| b.contains(s))
}

impl Case {
    /// 主担当.
    #[must_use]
    pub fn main_worker(&self) -> Option<StaffId> {
        self.assigned.first().copied()
    }

    /// 副担当, in the order assigned.
    #[must_use]
    pub fn sub_workers(&self) -> &[StaffId] {
        self.assigned.get(1..).unwrap_or(&[])
    }

    /// Makes `assigned` (each once) the case's workers and keeps the change in its history;
    /// `false`, and nothing changed, when they are its workers already (`same_workers`).
    pub fn reassign(&mut self, assigned: &[StaffId], by: StaffId, at: Timestamp, reason: &str) -> bool {
        let assigned = each_once(assigned);
        if same_workers(&assigned, &self.assigned) {
            return false;
        }
        self.assigned.clone_from(&assigned);
        self.assignments.push(Reassignment { at, by, assigned, reason: reason.trim().to_owned() });
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workers_put_the_main_first_and_name_each_once() {
        let a = Assign {
            main: Some(StaffId(3)),
            subs: vec![StaffId(5), StaffId(3), StaffId(5)],
            reason: String::new(),
        };
        assert_eq!(a.workers().unwrap(), vec![StaffId(3), StaffId(5)]);
        assert_eq!(Assign::default().workers().unwrap(), Vec::<StaffId>::new());
    }

    #[test]
    fn the_same_workers_in_another_order_of_subs_are_no_change() {
        let (a, b, c) = (StaffId(3), StaffId(9), StaffId(10));
        assert!(same_workers(&[a, b, c], &[a, c, b, c]));
        assert!(!same_workers(&[a, b], &[b, a]), "another 主担当");
        assert!(!same_workers(&[a, b], &[a, b, c]));
        assert!(same_workers(&[], &[]));
    }

    #[test]
    fn subs_without_a_main_or_a_long_reason_are_refused() {
        let subs = Assign { main: None, subs: vec![StaffId(5)], reason: String::new() };
        assert!(matches!(subs.workers(), Err(Error::Invalid { field: "main", reason: Why::Required })));
        let long =
            Assign { main: Some(StaffId(3)), subs: vec![], reason: "理".repeat(REASON_MAX_CHARS + 1) };
        assert!(matches!(long.workers(), Err(Error::Invalid { field: "reason", .. })));
    }
}
