//! Legal clocks (期限): the 48-hour safety check, the 7-day warrant request, the 2-month
//! protection limit and its extensions, the child's hearing, review dates. Computed from a case's
//! records and a given instant; never read from the wall clock.

use serde::{Deserialize, Serialize};

use crate::case::{APPROVAL_DAYS, Approval, Assessment, Case, CaseStatus, IntakeKind, SafetyCheck, Support};
use crate::ids::{CaseId, StaffId, UnitId};
use crate::protection::{Protection, WarrantOutcome};
use crate::time::{DAY, HOUR, Timestamp};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClockKind {
    /// 48時間以内の安全確認 (目視).
    SafetyCheck48h,
    /// 一時保護状の請求 (7日以内, 同意がない場合).
    WarrantRequest7d,
    /// 一時保護状の却下への準抗告 (3日以内).
    WarrantChallenge3d,
    /// 一時保護の期間 (2か月, 延長後はその期限).
    ProtectionLimit,
    /// 同意のない延長に家庭裁判所の承認の申立てがない.
    CourtApproval,
    /// 意見聴取等措置 (一時保護・措置の決定前).
    ChildHearing,
    /// 援助・措置の見直し.
    SupportReview,
    /// 進行管理の見直し.
    CaseReview,
    /// 決裁待ち: an assessment, a support decision or a 終結伺い waits for a supervisor's sign-off
    /// (one clock per case, due `APPROVAL_DAYS` after the oldest request). The approver's task,
    /// not the workers': on the unit's board, in no worker's list.
    Approval,
}

impl ClockKind {
    pub const ALL: [ClockKind; 9] = [
        ClockKind::SafetyCheck48h,
        ClockKind::WarrantRequest7d,
        ClockKind::WarrantChallenge3d,
        ClockKind::ProtectionLimit,
        ClockKind::CourtApproval,
        ClockKind::ChildHearing,
        ClockKind::SupportReview,
        ClockKind::CaseReview,
        ClockKind::Approval,
    ];

    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            ClockKind::SafetyCheck48h => "safety_check_48h",
            ClockKind::WarrantRequest7d => "warrant_request_7d",
            ClockKind::WarrantChallenge3d => "warrant_challenge_3d",
            ClockKind::ProtectionLimit => "protection_limit",
            ClockKind::CourtApproval => "court_approval",
            ClockKind::ChildHearing => "child_hearing",
            ClockKind::SupportReview => "support_review",
            ClockKind::CaseReview => "case_review",
            ClockKind::Approval => "approval",
        }
    }

    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            ClockKind::SafetyCheck48h => "安全確認（48時間）",
            ClockKind::WarrantRequest7d => "一時保護状の請求（7日）",
            ClockKind::WarrantChallenge3d => "却下への準抗告（3日）",
            ClockKind::ProtectionLimit => "一時保護の期限（2か月）",
            ClockKind::CourtApproval => "家庭裁判所の承認申立て",
            ClockKind::ChildHearing => "子どもの意見聴取",
            ClockKind::SupportReview => "援助・措置の見直し",
            ClockKind::CaseReview => "進行管理の見直し",
            ClockKind::Approval => "決裁待ち",
        }
    }

    /// How long before the due time a clock turns "due soon". The 48-hour check and the 7-day
    /// warrant request are on the board from their first minute, counting down.
    #[must_use]
    pub fn warning(self) -> i64 {
        match self {
            ClockKind::SafetyCheck48h => 48 * HOUR,
            ClockKind::WarrantRequest7d => 8 * DAY,
            ClockKind::WarrantChallenge3d | ClockKind::ChildHearing | ClockKind::CourtApproval => DAY,
            ClockKind::ProtectionLimit => 14 * DAY,
            ClockKind::SupportReview | ClockKind::CaseReview => 7 * DAY,
            // On the board from the request on.
            ClockKind::Approval => APPROVAL_DAYS * DAY,
        }
    }
}

impl ClockKind {
    /// Whether the case's workers are to act on it (all but 決裁待ち, the approver's).
    #[must_use]
    pub fn workers_act(self) -> bool {
        self != ClockKind::Approval
    }

    /// What harms a child first, the board's order: 1 for the clocks of the child's safety and
    /// liberty (the 48-hour check, the warrant's request and its challenge), 2 for the limits of
    /// a protection (two months, the court's approval), 3 for the rest.
    #[must_use]
    pub fn urgency(self) -> u8 {
        match self {
            ClockKind::SafetyCheck48h | ClockKind::WarrantRequest7d | ClockKind::WarrantChallenge3d => 1,
            ClockKind::ProtectionLimit | ClockKind::CourtApproval => 2,
            ClockKind::ChildHearing
            | ClockKind::SupportReview
            | ClockKind::CaseReview
            | ClockKind::Approval => 3,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClockStatus {
    Ok,
    DueSoon,
    Overdue,
}

/// One open legal clock of one case.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deadline {
    pub case: CaseId,
    pub unit: UnitId,
    pub workers: Vec<StaffId>,
    pub kind: ClockKind,
    /// The record the clock belongs to (the protection, the support decision), or the case.
    pub subject: u64,
    pub due: Timestamp,
}

impl Deadline {
    #[must_use]
    pub fn status(&self, now: Timestamp) -> ClockStatus {
        if now >= self.due {
            ClockStatus::Overdue
        } else if self.due.0 - now.0 <= self.kind.warning() {
            ClockStatus::DueSoon
        } else {
            ClockStatus::Ok
        }
    }
}

impl Deadline {
    /// The board's order, what harms a child first: an overdue clock of the child's safety,
    /// liberty or a protection's limits (urgency 1 or 2: the child may be held unlawfully or
    /// unseen); then the running clocks of urgency 1, then of urgency 2, then the rest; each
    /// group by due.
    #[must_use]
    pub fn triage(&self, now: Timestamp) -> (u8, Timestamp) {
        let urgency = self.kind.urgency();
        let group = if urgency <= 2 && self.status(now) == ClockStatus::Overdue { 0 } else { urgency };
        (group, self.due)
    }
}

/// The longest warning window: the board query looks this far ahead.
#[must_use]
pub fn max_warning() -> i64 {
    ClockKind::ALL.iter().map(|k| k.warning()).max().unwrap_or(0)
}

/// Placements (施設入所, 里親委託) need the child's hearing before the decision.
#[must_use]
pub fn is_placement(kind: &str) -> bool {
    kind.starts_with('3') || kind.starts_with('4')
}

/// Every open clock of a case. Closed cases have none but 決裁待ち.
#[must_use]
pub fn case_clocks(
    case_id: CaseId,
    case: &Case,
    checks: &[SafetyCheck],
    protections: &[(u64, Protection)],
    supports: &[(u64, Support)],
    assessments: &[Assessment],
) -> Vec<Deadline> {
    let mut out = Vec::new();
    // 決裁待ち: the approver's, not the workers' (indexed for the unit only), and still waiting
    // on a case closed meanwhile.
    let waiting = assessments
        .iter()
        .filter_map(|a| a.approval.as_ref())
        .chain(supports.iter().filter_map(|(_, s)| s.approval.as_ref()))
        .chain(case.closure_request.as_ref().map(|r| &r.approval))
        .filter(|a| a.is_pending())
        .map(Approval::due)
        .min();
    if let Some(due) = waiting {
        out.push(Deadline {
            case: case_id,
            unit: case.unit,
            workers: Vec::new(),
            kind: ClockKind::Approval,
            subject: case_id.0,
            due,
        });
    }
    if case.status == CaseStatus::Closed {
        return out;
    }
    let mut clock = |kind, subject, due| {
        out.push(Deadline {
            case: case_id,
            unit: case.unit,
            workers: case.assigned.clone(),
            kind,
            subject,
            due,
        });
    };
    if case.intake.kind == IntakeKind::AbuseReport && !checks.iter().any(|c| c.seen_directly) {
        clock(ClockKind::SafetyCheck48h, case_id.0, case.intake.received_at.plus(48 * HOUR));
    }
    for (id, p) in protections.iter().filter(|(_, p)| p.is_active()) {
        let start_day = p.started_at.jst_date();
        if !p.guardian_consent && p.warrant.is_none() {
            clock(ClockKind::WarrantRequest7d, *id, p.warrant_due());
        }
        if let Some(w) = &p.warrant
            && w.outcome == Some(WarrantOutcome::Refused)
            && w.challenge_filed_at.is_none()
            && let Some(decided) = w.decided_at
        {
            clock(
                ClockKind::WarrantChallenge3d,
                *id,
                Timestamp::jst_midnight(decided.jst_date().plus_days(3)),
            );
        }
        clock(ClockKind::ProtectionLimit, *id, Timestamp::jst_midnight(p.period_end()));
        let mut previous_end = start_day.legal_period_end(2);
        for e in &p.extensions {
            if !e.guardian_consent && e.court.is_none() {
                clock(ClockKind::CourtApproval, *id, Timestamp::jst_midnight(previous_end));
            }
            previous_end = e.until;
        }
        if p.hearing.is_none() {
            // Heard afterwards after an urgent start: due when the code table said; otherwise
            // missing from the start.
            clock(ClockKind::ChildHearing, *id, p.hearing_due.unwrap_or(p.started_at));
        }
    }
    for (id, s) in supports.iter().filter(|(_, s)| s.end.is_none()) {
        if is_placement(s.kind.as_str()) && s.hearing.is_none() {
            clock(ClockKind::ChildHearing, *id, Timestamp::jst_midnight(s.decided_on));
        }
        if let Some(review) = s.review_on {
            clock(ClockKind::SupportReview, *id, Timestamp::jst_midnight(review));
        }
    }
    if let Some(review) = case.next_review {
        clock(ClockKind::CaseReview, case_id.0, Timestamp::jst_midnight(review));
    }
    out
}
