//! 決裁: a supervisor's (or the head's) sign-off on an assessment, a support decision and a
//! closure. Whoever records one of these asks for it; someone else who may approve approves it or
//! sends it back with a comment. Nobody signs off what they asked for themselves.

use serde::{Deserialize, Serialize};

use super::{Assessment, Case, CaseStatus, Closure, Support};
use crate::error::{Counted, Error, Why};
use crate::ids::{AssessmentId, CaseId, StaffId, SupportId};
use crate::protection::Applied;
use crate::time::{DAY, Timestamp};

/// Longest comment on a 決裁, in characters.
pub const COMMENT_MAX_CHARS: usize = 500;

/// How long a 決裁 may wait before the board shows it overdue (a service standard of the
/// centre, not a legal limit).
pub const APPROVAL_DAYS: i64 = 7;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// 決裁: approved as recorded.
    Approved,
    /// 差戻し: sent back to whoever asked, with the reason in the comment.
    Returned,
}

/// Where a record's 決裁 stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApprovalState {
    /// 決裁待ち.
    Pending,
    Approved,
    Returned,
}

/// Who decided, when, and what they said.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decided {
    pub verdict: Verdict,
    pub at: Timestamp,
    pub by: StaffId,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub comment: String,
}

/// The 決裁 of one record: asked for when it was recorded (or changed), decided once.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Approval {
    pub asked_at: Timestamp,
    pub asked_by: StaffId,
    /// `None` while it waits.
    #[serde(default)]
    pub decision: Option<Decided>,
    /// The decisions before this request, oldest first: a 差戻し (or an approval of what was
    /// changed since) stays readable when the record is asked for again.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub earlier: Vec<Decided>,
}

/// 決裁 as the approver gives it: the verdict, and a comment (required to send back).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decide {
    pub verdict: Verdict,
    #[serde(default)]
    pub comment: String,
}

/// What a 決裁 is about, on one case.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Subject {
    Assessment(AssessmentId),
    Support(SupportId),
    /// The case's 終結伺い.
    Closure,
}

/// 終結伺い: a worker asks for the case to be closed, for a reason; a supervisor or the head
/// decides. Approved, the case closes; sent back, it stays open with the comment shown until the
/// worker asks again.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClosureRequest {
    pub reason: String,
    pub approval: Approval,
}

/// Whether a record under 決裁 stands decided: approved, or recorded before 決裁 was kept (no
/// approval at all). What the 措置 notices and the statistics count.
#[must_use]
pub fn in_force(approval: Option<&Approval>) -> bool {
    approval.is_none_or(|a| a.state() == ApprovalState::Approved)
}

impl Approval {
    /// A 決裁 asked for by `by`, now.
    #[must_use]
    pub fn asked(by: StaffId, at: Timestamp) -> Self {
        Approval { asked_at: at, asked_by: by, decision: None, earlier: Vec::new() }
    }

    /// Asked for again by `by`, now, keeping the decisions made so far.
    #[must_use]
    pub fn asked_again(&self, by: StaffId, at: Timestamp) -> Self {
        let mut earlier = self.earlier.clone();
        earlier.extend(self.decision.clone());
        Approval { asked_at: at, asked_by: by, decision: None, earlier }
    }

    #[must_use]
    pub fn state(&self) -> ApprovalState {
        match &self.decision {
            None => ApprovalState::Pending,
            Some(d) if d.verdict == Verdict::Approved => ApprovalState::Approved,
            Some(_) => ApprovalState::Returned,
        }
    }

    #[must_use]
    pub fn is_pending(&self) -> bool {
        self.decision.is_none()
    }

    /// Whether `by`, allowed to approve (`Action::Approve`), may decide it now: it waits, and
    /// they did not ask for it.
    #[must_use]
    pub fn may_decide(&self, by: StaffId) -> bool {
        self.is_pending() && self.asked_by != by
    }

    /// When the board shows it overdue.
    #[must_use]
    pub fn due(&self) -> Timestamp {
        self.asked_at.plus(APPROVAL_DAYS * DAY)
    }

    /// Decides the 決裁, asked for at record revision `stored` and decided from revision `seen`.
    /// The same decision by the same person made since `seen` (sent again after its answer was
    /// lost) is `AlreadyRecorded`. Refused: one's own request (`OwnRequest`), one decided already
    /// (`Decided`), sending back without a comment, a comment longer than `COMMENT_MAX_CHARS`.
    pub fn decide(
        &mut self,
        d: &Decide,
        (seen, stored): (u64, u64),
        by: StaffId,
        now: Timestamp,
    ) -> Result<Applied, Error> {
        let comment = d.comment.trim();
        if comment.chars().count() > COMMENT_MAX_CHARS {
            return Err(Error::invalid("comment", Why::AtMost(COMMENT_MAX_CHARS, Counted::Characters)));
        }
        if d.verdict == Verdict::Returned {
            Error::require(&[("comment", comment.is_empty())])?;
        }
        if let Some(done) = &self.decision {
            let resent =
                seen < stored && done.by == by && done.verdict == d.verdict && done.comment == comment;
            return if resent {
                Ok(Applied::AlreadyRecorded)
            } else {
                Err(Error::invalid("approval", Why::Decided))
            };
        }
        if self.asked_by == by {
            return Err(Error::invalid("approval", Why::OwnRequest));
        }
        self.decision = Some(Decided { verdict: d.verdict, at: now, by, comment: comment.to_owned() });
        Ok(Applied::Recorded)
    }
}

/// A record that asks for a 決裁 of its own: an assessment, a support decision.
pub trait Approvable {
    /// The case it is recorded on.
    fn case_of(&self) -> CaseId;
    /// Its 決裁 (none on one recorded before it was asked for).
    fn approval_mut(&mut self) -> Option<&mut Approval>;
}

impl Approvable for Assessment {
    fn case_of(&self) -> CaseId {
        self.case
    }
    fn approval_mut(&mut self) -> Option<&mut Approval> {
        self.approval.as_mut()
    }
}

impl Approvable for Support {
    fn case_of(&self) -> CaseId {
        self.case
    }
    fn approval_mut(&mut self) -> Option<&mut Approval> {
        self.approval.as_mut()
    }
}

impl Case {
    /// 終結伺い by `by`, for `reason`, asked at case revision `stored` from revision `seen`:
    /// refused on a closed case, while the child is in 一時保護 (`in_protection`, as closing is),
    /// and while one is waiting already. The same request sent again (waiting, or approved since
    /// and become the closure) changes nothing. A request sent back is replaced, its decision
    /// kept in `earlier`.
    pub fn ask_closure(
        &mut self,
        reason: &str,
        (seen, stored): (u64, u64),
        in_protection: bool,
        by: StaffId,
        now: Timestamp,
    ) -> Result<Applied, Error> {
        let reason = reason.trim();
        Error::require(&[("reason", reason.is_empty())])?;
        if reason.chars().count() > COMMENT_MAX_CHARS {
            return Err(Error::invalid("reason", Why::AtMost(COMMENT_MAX_CHARS, Counted::Characters)));
        }
        let became_closure = |c: &Closure| c.asked_by == Some(by) && c.reason == reason;
        let closed = self.status == CaseStatus::Closed;
        if closed && seen < stored && self.closure.as_ref().is_some_and(became_closure) {
            return Ok(Applied::AlreadyRecorded);
        }
        if closed {
            return Err(Error::invalid("status", Why::CaseClosed));
        }
        if let Some(r) = &self.closure_request
            && r.approval.is_pending()
        {
            let resent = r.approval.asked_by == by && r.reason == reason;
            return if resent {
                Ok(Applied::AlreadyRecorded)
            } else {
                Err(Error::invalid("approval", Why::Pending))
            };
        }
        if in_protection {
            return Err(Error::invalid("protection", Why::ProtectionInForce));
        }
        let approval = match &self.closure_request {
            Some(returned) => returned.approval.asked_again(by, now),
            None => Approval::asked(by, now),
        };
        self.closure_request = Some(ClosureRequest { reason: reason.to_owned(), approval });
        Ok(Applied::Recorded)
    }

    /// The 決裁 of the waiting 終結伺い (`Approval::decide`); approved, the case closes for the
    /// request's reason, by the approver, refused while the child is in 一時保護.
    pub fn decide_closure(
        &mut self,
        d: &Decide,
        revs: (u64, u64),
        in_protection: bool,
        by: StaffId,
        now: Timestamp,
    ) -> Result<Applied, Error> {
        // Approved since (the answer lost): the request has become the closure.
        if let Some(c) = &self.closure
            && self.status == CaseStatus::Closed
            && revs.0 < revs.1
            && c.by == by
            && c.asked_by.is_some()
            && d.verdict == Verdict::Approved
        {
            return Ok(Applied::AlreadyRecorded);
        }
        let Some(request) = self.closure_request.as_mut() else {
            return Err(Error::invalid("approval", Why::NothingAsked));
        };
        // Refused for the protection only what the approver could otherwise approve.
        if d.verdict == Verdict::Approved && request.approval.may_decide(by) && in_protection {
            return Err(Error::invalid("protection", Why::ProtectionInForce));
        }
        if request.approval.decide(d, revs, by, now)? == Applied::AlreadyRecorded {
            return Ok(Applied::AlreadyRecorded);
        }
        if d.verdict == Verdict::Approved {
            let asked_by = request.approval.asked_by;
            let reason = std::mem::take(&mut request.reason);
            self.status = CaseStatus::Closed;
            self.closure = Some(Closure { at: now, by, reason, asked_by: Some(asked_by) });
            self.closure_request = None;
        }
        Ok(Applied::Recorded)
    }
}

/// The approval of a record changed by `by`: asked again, by `by`, when what was decided changed
/// (whatever its state: whoever changed it does not approve their change), or when it had been
/// sent back (so that the change goes back to the approver); else kept, decisions before kept in
/// `earlier`. A record from before 決裁 existed (`None`) is asked for when its decision changes.
#[must_use]
pub fn after_change(
    old: Option<&Approval>,
    decision_changed: bool,
    by: StaffId,
    now: Timestamp,
) -> Option<Approval> {
    match old {
        Some(a) if decision_changed || a.state() == ApprovalState::Returned => Some(a.asked_again(by, now)),
        None if decision_changed => Some(Approval::asked(by, now)),
        kept => kept.cloned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ASKER: StaffId = StaffId(1);
    const SV: StaffId = StaffId(2);

    fn approve() -> Decide {
        Decide { verdict: Verdict::Approved, comment: String::new() }
    }

    #[test]
    fn nobody_approves_their_own_request() {
        let mut a = Approval::asked(ASKER, Timestamp(0));
        let e = a.decide(&approve(), (1, 1), ASKER, Timestamp(5)).unwrap_err();
        assert!(matches!(e, Error::Invalid { field: "approval", reason: Why::OwnRequest }), "{e:?}");
        assert_eq!(a.state(), ApprovalState::Pending);
        assert_eq!(a.decide(&approve(), (1, 1), SV, Timestamp(5)).unwrap(), Applied::Recorded);
        assert_eq!(a.state(), ApprovalState::Approved);
    }

    #[test]
    fn sending_back_needs_a_comment_and_a_decision_is_made_once() {
        let mut a = Approval::asked(ASKER, Timestamp(0));
        let back = Decide { verdict: Verdict::Returned, comment: "  ".into() };
        let e = a.decide(&back, (1, 1), SV, Timestamp(5)).unwrap_err();
        assert!(matches!(e, Error::Incomplete { ref fields } if fields == &["comment"]), "{e:?}");
        let back = Decide { verdict: Verdict::Returned, comment: " 家族構成を確認のこと ".into() };
        assert_eq!(a.decide(&back, (1, 1), SV, Timestamp(5)).unwrap(), Applied::Recorded);
        assert_eq!(a.decision.as_ref().unwrap().comment, "家族構成を確認のこと");
        // The same decision sent again after the answer was lost: nothing changes.
        assert_eq!(a.decide(&back, (1, 2), SV, Timestamp(9)).unwrap(), Applied::AlreadyRecorded);
        assert_eq!(a.decision.as_ref().unwrap().at, Timestamp(5));
        // Another decision on a decided record: refused.
        let e = a.decide(&approve(), (2, 2), SV, Timestamp(9)).unwrap_err();
        assert!(matches!(e, Error::Invalid { reason: Why::Decided, .. }), "{e:?}");
        let long = Decide { verdict: Verdict::Returned, comment: "あ".repeat(COMMENT_MAX_CHARS + 1) };
        let e = Approval::asked(ASKER, Timestamp(0)).decide(&long, (1, 1), SV, Timestamp(5)).unwrap_err();
        assert!(matches!(e, Error::Invalid { field: "comment", .. }), "{e:?}");
    }

    #[test]
    fn a_change_goes_back_to_the_approver_when_it_must() {
        let mut approved = Approval::asked(ASKER, Timestamp(0));
        approved.decide(&approve(), (1, 1), SV, Timestamp(5)).unwrap();
        // A review date or an end recorded later: the decision stands.
        assert_eq!(after_change(Some(&approved), false, ASKER, Timestamp(9)), Some(approved.clone()));
        // The decision itself changed: asked again.
        let again = after_change(Some(&approved), true, ASKER, Timestamp(9)).unwrap();
        assert_eq!((again.state(), again.asked_at), (ApprovalState::Pending, Timestamp(9)));
        // Sent back, then corrected in any way: asked again.
        let mut back = Approval::asked(ASKER, Timestamp(0));
        back.decide(&Decide { verdict: Verdict::Returned, comment: "日付".into() }, (1, 1), SV, Timestamp(5))
            .unwrap();
        assert!(after_change(Some(&back), false, ASKER, Timestamp(9)).unwrap().is_pending());
        assert_eq!(again.earlier.len(), 1, "the approval stays readable");
        // Waiting and changed by the supervisor: asked by them now, so not theirs to approve.
        let waiting = Approval::asked(ASKER, Timestamp(0));
        let changed = after_change(Some(&waiting), true, SV, Timestamp(9)).unwrap();
        assert!(!changed.may_decide(SV) && changed.may_decide(ASKER));
        // Waiting, and only a later detail recorded: still waiting, asked when it was.
        assert_eq!(after_change(Some(&waiting), false, SV, Timestamp(9)), Some(waiting));
        // Recorded before 決裁 existed: only a change of the decision asks for one.
        assert_eq!(after_change(None, false, ASKER, Timestamp(9)), None);
        assert!(after_change(None, true, ASKER, Timestamp(9)).unwrap().is_pending());
    }
}
