//! What people say when they record casework (a case edit, a support decision, closing and
//! reopening, a note, a safety check, the child's hearing, a meeting; the intake is in
//! `intake.rs`), checked into the records beside them: who recorded it, the child and the unit
//! come from core, never from the sender; every missing field is named.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{
    AbuseDetails, Case, CaseStatus, Closure, Diagnosis, DiagnosisKind, Hearing, Injury, Meeting, Note,
    SafetyCheck, SafetyMethod, Support,
};
use crate::code_table::Code;
use crate::error::Error;
use crate::error::Why;
use crate::ids::{CaseId, ChildId, StaffId, UnitId};
use crate::person::Attachment;
use crate::protection::Applied;
use crate::time::{Date, Timestamp};

/// 調査・判定 as the edit form holds them: the working fields of a case, put onto it by core.
/// What the form does not show (the injuries marked on the body map, the intake, the status,
/// the workers: the supervisor's `Service::assign_case`) stays as it is.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseEdit {
    /// Code table `abuse_type`.
    #[serde(default)]
    pub abuse_types: Vec<Code>,
    /// Code table `perpetrator`.
    #[serde(default)]
    pub main_perpetrator: Option<Code>,
    #[serde(default)]
    pub severity: String,
    /// 児童福祉司意見.
    #[serde(default)]
    pub worker_opinion: String,
    /// The text of each diagnosis; an empty or missing one is no diagnosis of that kind.
    #[serde(default)]
    pub diagnoses: BTreeMap<DiagnosisKind, String>,
    /// 判定.
    #[serde(default)]
    pub judgement: String,
    #[serde(default)]
    pub next_review: Option<Date>,
}

impl CaseEdit {
    /// What the edit form shows of `case`.
    #[must_use]
    pub fn of(case: &Case) -> Self {
        let abuse = case.abuse.clone().unwrap_or_default();
        Self {
            abuse_types: abuse.types,
            main_perpetrator: abuse.main_perpetrator,
            severity: abuse.severity,
            worker_opinion: case.worker_opinion.clone(),
            diagnoses: DiagnosisKind::ALL
                .into_iter()
                .filter_map(|k| case.diagnosis(k).map(|d| (k, d.text.clone())))
                .collect(),
            judgement: case.judgement.clone(),
            next_review: case.next_review,
        }
    }

    /// `case` with these fields put in. A diagnosis whose text is unchanged keeps its
    /// signature; a changed one is signed by `by` at `at` (the earlier text stays in the
    /// case's history). The main abuse type stays while it is still one of the types.
    #[must_use]
    pub fn applied_to(&self, mut case: Case, by: StaffId, at: Timestamp) -> Case {
        let old = case.abuse.take();
        // The injuries marked on the case stay, whatever the form says about the rest.
        let injuries = old.as_ref().map(|a| a.injuries.clone()).unwrap_or_default();
        let severity = self.severity.trim();
        let empty = self.abuse_types.is_empty()
            && self.main_perpetrator.is_none()
            && severity.is_empty()
            && injuries.is_empty();
        case.abuse = (!empty).then(|| {
            AbuseDetails {
                types: self.abuse_types.clone(),
                main_type: old.and_then(|a| a.main_type),
                main_perpetrator: self.main_perpetrator.clone(),
                severity: severity.to_owned(),
                injuries,
            }
            .with_main_type()
        });
        case.worker_opinion.clone_from(&self.worker_opinion);
        let diagnoses = DiagnosisKind::ALL.into_iter().filter_map(|kind| {
            let text = self.diagnoses.get(&kind).filter(|t| !t.trim().is_empty())?;
            Some(match case.diagnosis(kind) {
                Some(kept) if kept.text == *text => kept.clone(),
                _ => Diagnosis { kind, at, by, text: text.clone() },
            })
        });
        case.diagnoses = diagnoses.collect();
        case.judgement.clone_from(&self.judgement);
        case.next_review = self.next_review;
        case
    }
}

/// 援助・措置 as someone decides or revises it: the case is the one it is recorded on, and the
/// child's hearing is heard by whoever records it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SupportDecision {
    /// Code table `support_kind`.
    #[serde(default)]
    pub kind: Option<Code>,
    #[serde(default)]
    pub decided_on: Option<Date>,
    #[serde(default)]
    pub start: Option<Date>,
    #[serde(default)]
    pub review_on: Option<Date>,
    #[serde(default)]
    pub end: Option<Date>,
    #[serde(default)]
    pub facility: String,
    /// 意見聴取等措置.
    #[serde(default)]
    pub hearing: Option<NewHearing>,
    /// 措置決定通知書 issued on.
    #[serde(default)]
    pub notice_issued_on: Option<Date>,
    #[serde(default)]
    pub note: String,
}

impl SupportDecision {
    /// The decision as an edit form shows a stored support.
    #[must_use]
    pub fn of(s: &Support) -> Self {
        SupportDecision {
            kind: Some(s.kind.clone()),
            decided_on: Some(s.decided_on),
            start: s.start,
            review_on: s.review_on,
            end: s.end,
            facility: s.facility.clone(),
            hearing: s.hearing.as_ref().map(NewHearing::of),
            notice_issued_on: s.notice_issued_on,
            note: s.note.clone(),
        }
    }

    /// The support of `case` that `by` records: kind and decision date named. The hearing is
    /// checked where the support is stored, when it is new or changed.
    pub fn decide(self, case: CaseId, by: StaffId) -> Result<Support, Error> {
        Error::require(&[("kind", self.kind.is_none()), ("decided_on", self.decided_on.is_none())])?;
        let (Some(kind), Some(decided_on)) = (self.kind, self.decided_on) else {
            return Err(Error::Incomplete { fields: vec!["kind", "decided_on"] });
        };
        Ok(Support {
            migrated: None,
            case,
            kind,
            decided_on,
            start: self.start,
            review_on: self.review_on,
            end: self.end,
            facility: self.facility.trim().to_owned(),
            hearing: self.hearing.map(|h| h.recorded_by(by)),
            notice_issued_on: self.notice_issued_on,
            notice_pdf: None,
            note: self.note,
            approval: None,
        })
    }
}

/// 終結 and 再開 of a case, as a supervisor says them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "to", rename_all = "snake_case")]
pub enum StatusChange {
    /// 終結, with its reason.
    Close {
        reason: String,
    },
    Reopen,
}

impl StatusChange {
    /// Applies the change to `case`, stored at revision `stored`, asked for from revision `seen`.
    /// The same change made since `seen` (sent again after its answer was lost) is
    /// `AlreadyRecorded` and changes nothing. Refused: a closing without a reason, closing a
    /// closed case or one whose child is in 一時保護 (`in_protection`), reopening an open case.
    pub fn apply(
        &self,
        case: &mut Case,
        (seen, stored): (u64, u64),
        in_protection: bool,
        by: StaffId,
        now: Timestamp,
    ) -> Result<Applied, Error> {
        let closed = case.status == CaseStatus::Closed;
        match self {
            StatusChange::Close { reason } => {
                let reason = reason.trim();
                Error::require(&[("reason", reason.is_empty())])?;
                let resent = |c: &Closure| c.by == by && c.reason == reason;
                if seen < stored && closed && case.closure.as_ref().is_some_and(resent) {
                    return Ok(Applied::AlreadyRecorded);
                }
                if closed {
                    return Err(Error::invalid("status", Why::CaseClosed));
                }
                if in_protection {
                    return Err(Error::invalid("protection", Why::ProtectionInForce));
                }
                case.status = CaseStatus::Closed;
                case.closure = Some(Closure { at: now, by, reason: reason.to_owned(), asked_by: None });
                // A 終結伺い waiting or sent back is settled by the closing.
                case.closure_request = None;
            }
            StatusChange::Reopen => {
                // Reopened since the revision the request saw (a resend, or someone else): done.
                if seen < stored && !closed && !case.reopened_at.is_empty() {
                    return Ok(Applied::AlreadyRecorded);
                }
                if !closed {
                    return Err(Error::invalid("status", Why::CaseOpen));
                }
                case.status = CaseStatus::Open;
                case.reopened_at.push(now);
                case.closure_request = None;
            }
        }
        Ok(Applied::Recorded)
    }
}

/// A progress note as someone writes it: the author is whoever writes it, the child is the
/// case's, photos are named by SHA-256.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewNote {
    /// When it happened (not when it was typed).
    pub at: Timestamp,
    /// Code table `note_kind`.
    pub kind: Code,
    #[serde(default)]
    pub body: String,
    /// The SHA-256 of each photo already sent for the case.
    #[serde(default)]
    pub photos: Vec<String>,
}

impl NewNote {
    /// The note of `child` in `case` that `author` writes at `now`: text or a photo, not in the
    /// future.
    pub fn write(self, case: CaseId, child: ChildId, author: StaffId, now: Timestamp) -> Result<Note, Error> {
        if self.body.trim().is_empty() && self.photos.iter().all(|p| p.trim().is_empty()) {
            return Err(Error::invalid("body", Why::NeedsTextOrPhoto));
        }
        if self.at > now.plus(300) {
            return Err(Error::invalid("at", Why::InFuture));
        }
        Ok(Note {
            migrated: None,
            case,
            child,
            at: self.at,
            kind: self.kind,
            author,
            body: self.body,
            attachments: self
                .photos
                .iter()
                .filter(|p| !p.trim().is_empty())
                .map(|sha| Attachment::named(sha))
                .collect(),
            correction: None,
        })
    }
}

/// A safety check as someone records it. Nothing is assumed: the method is chosen, never
/// defaulted to 目視, and a check that says the child was seen directly (the only kind that
/// closes the 48-hour clock) names who saw the child — the staff recording it, or for 関係機関に
/// よる確認 the agency — and how the child was.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewSafetyCheck {
    pub at: Option<Timestamp>,
    #[serde(default)]
    pub method: Option<SafetyMethod>,
    #[serde(default)]
    pub seen_directly: bool,
    /// The agency that saw the child, for 関係機関による確認.
    #[serde(default)]
    pub agency: String,
    #[serde(default)]
    pub place: String,
    #[serde(default)]
    pub child_state: String,
    #[serde(default)]
    pub injuries: Vec<Injury>,
    /// The SHA-256 of each photo already sent for the case.
    #[serde(default)]
    pub photos: Vec<String>,
}

impl NewSafetyCheck {
    /// The check of `child` in `case`, recorded by `by` at `now`; every missing field named.
    pub fn check(
        self,
        case: CaseId,
        child: ChildId,
        by: StaffId,
        now: Timestamp,
    ) -> Result<SafetyCheck, Error> {
        let agency = self.agency.trim();
        let by_agency = self.method == Some(SafetyMethod::ByAgency);
        Error::require(&[
            ("at", self.at.is_none()),
            ("method", self.method.is_none()),
            ("agency", self.seen_directly && by_agency && agency.is_empty()),
            ("child_state", self.child_state.trim().is_empty()),
        ])?;
        let (Some(at), Some(method)) = (self.at, self.method) else {
            return Err(Error::Incomplete { fields: vec!["at", "method"] });
        };
        if method == SafetyMethod::Sighted && !self.seen_directly {
            return Err(Error::invalid("seen_directly", Why::NotSeenDirectly));
        }
        if at > now.plus(300) {
            return Err(Error::invalid("at", Why::InFuture));
        }
        Ok(SafetyCheck {
            migrated: None,
            case,
            child,
            at,
            by: vec![by],
            method,
            seen_directly: self.seen_directly,
            agency: if by_agency { agency.to_owned() } else { String::new() },
            place: self.place.trim().to_owned(),
            child_state: self.child_state.trim().to_owned(),
            injuries: self.injuries,
            attachments: self.photos.iter().map(|sha| Attachment::named(sha)).collect(),
        })
    }
}

/// A hearing as someone records it: who heard the child is the person recording it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewHearing {
    pub at: Timestamp,
    #[serde(default)]
    pub method: String,
    #[serde(default)]
    pub views: String,
    #[serde(default)]
    pub not_possible_reason: Option<String>,
}

impl NewHearing {
    /// The hearing as it was said, without who recorded it.
    #[must_use]
    pub fn of(h: &Hearing) -> Self {
        NewHearing {
            at: h.at,
            method: h.method.clone(),
            views: h.views.clone(),
            not_possible_reason: h.not_possible_reason.clone(),
        }
    }

    /// The hearing `by` records, checked.
    pub fn heard_by(self, by: StaffId) -> Result<Hearing, Error> {
        let h = self.recorded_by(by);
        h.check()?;
        Ok(h)
    }

    /// The hearing `by` records, to be checked where it is stored (a revision sending back a
    /// hearing recorded before is not checked again).
    fn recorded_by(self, by: StaffId) -> Hearing {
        let reason = self.not_possible_reason.map(|r| r.trim().to_owned()).filter(|r| !r.is_empty());
        Hearing { at: self.at, by, method: self.method, views: self.views, not_possible_reason: reason }
    }
}

/// A meeting as someone records it: it belongs to the unit of the first case it discussed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewMeeting {
    /// Code table `meeting_kind`.
    pub kind: Code,
    pub at: Timestamp,
    #[serde(default)]
    pub attendees: Vec<StaffId>,
    #[serde(default)]
    pub outside_attendees: Vec<String>,
    pub cases: Vec<CaseId>,
    #[serde(default)]
    pub decisions: String,
}

impl NewMeeting {
    /// The first case discussed: its unit holds the meeting. A meeting discusses at least one.
    pub fn first_case(&self) -> Result<CaseId, Error> {
        self.cases.first().copied().ok_or_else(|| Error::invalid("cases", Why::NoCase))
    }

    /// The meeting held by `unit`, recorded at `now`: about at least one case, not in the future.
    pub fn hold(self, unit: UnitId, now: Timestamp) -> Result<Meeting, Error> {
        self.first_case()?;
        if self.at > now.plus(300) {
            return Err(Error::invalid("at", Why::InFuture));
        }
        let outside = self.outside_attendees.iter().map(|a| a.trim()).filter(|a| !a.is_empty());
        Ok(Meeting {
            migrated: None,
            unit,
            kind: self.kind,
            at: self.at,
            attendees: self.attendees,
            outside_attendees: outside.map(str::to_owned).collect(),
            cases: self.cases,
            decisions: self.decisions,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::case::{BodySide, CaseStatus};
    use crate::case::{IntakeKind, NewIntake};

    fn case() -> Case {
        Case {
            migrated: None,
            unit: UnitId(1),
            case_no: "児-R7-00001".into(),
            child: ChildId(1),
            status: CaseStatus::Open,
            intake: NewIntake {
                kind: IntakeKind::AbuseReport,
                received_at: Timestamp(1_000),
                route: Code::new("14"),
                consultation_type: Code::new("11"),
                chief_complaint: String::new(),
                content: String::new(),
            }
            .received_by(StaffId(7)),
            abuse: Some(AbuseDetails {
                types: vec![Code::new("1"), Code::new("2")],
                main_type: Some(Code::new("2")),
                main_perpetrator: None,
                severity: String::new(),
                injuries: vec![Injury {
                    side: BodySide::Front,
                    x: 0.5,
                    y: 0.5,
                    size_cm: None,
                    description: "あざ".into(),
                    photo: None,
                }],
            }),
            assigned: vec![StaffId(7)],
            assignments: vec![],
            restricted_to: None,
            worker_opinion: String::new(),
            diagnoses: vec![Diagnosis {
                kind: DiagnosisKind::Social,
                at: Timestamp(2_000),
                by: StaffId(7),
                text: "祖母の支援あり".into(),
            }],
            judgement: String::new(),
            next_review: None,
            linked_cases: vec![],
            closure: None,
            closure_request: None,
            reopened_at: vec![],
        }
    }

    #[test]
    fn a_case_edit_keeps_what_the_form_does_not_show_and_signs_only_changed_diagnoses() {
        let before = case();
        let mut edit = CaseEdit::of(&before);
        assert_eq!(edit.abuse_types, [Code::new("1"), Code::new("2")]);
        assert_eq!(CaseEdit::of(&edit.applied_to(before.clone(), StaffId(9), Timestamp(5_000))), edit);
        assert_eq!(edit.applied_to(before.clone(), StaffId(9), Timestamp(5_000)), before, "unchanged");

        edit.abuse_types = vec![Code::new("1")];
        edit.diagnoses.insert(DiagnosisKind::Medical, "所見なし".into());
        edit.judgement = "在宅指導".into();
        let after = edit.applied_to(before.clone(), StaffId(9), Timestamp(5_000));
        let abuse = after.abuse.as_ref().unwrap();
        assert_eq!(abuse.main_type, Some(Code::new("1")), "the main type follows the types");
        assert_eq!(abuse.injuries, before.abuse.as_ref().unwrap().injuries, "the body map stays");
        assert_eq!(after.diagnoses[0], before.diagnoses[0], "the unchanged diagnosis keeps its signature");
        let medical = after.diagnosis(DiagnosisKind::Medical).unwrap();
        assert_eq!((medical.by, medical.at), (StaffId(9), Timestamp(5_000)));
        assert_eq!((after.intake.received_by, after.status), (StaffId(7), CaseStatus::Open));

        // Everything cleared but the injuries: the abuse details stay for the body map.
        let cleared = CaseEdit::default().applied_to(before.clone(), StaffId(9), Timestamp(5_000));
        let abuse = cleared.abuse.unwrap();
        assert!(abuse.types.is_empty() && abuse.main_type.is_none() && abuse.injuries.len() == 1);
        assert!(cleared.diagnoses.is_empty());
        assert_eq!(cleared.assigned, [StaffId(7)], "the workers change only by reassignment");
        let mut bare = before;
        bare.abuse.as_mut().unwrap().injuries.clear();
        assert_eq!(CaseEdit::default().applied_to(bare, StaffId(9), Timestamp(5_000)).abuse, None);
    }

    #[test]
    fn a_support_decision_names_what_is_missing_and_is_heard_by_who_records_it() {
        let err = SupportDecision::default().decide(CaseId(3), StaffId(9)).unwrap_err();
        assert!(matches!(&err, Error::Incomplete { fields } if *fields == ["kind", "decided_on"]), "{err}");
        let s = SupportDecision {
            kind: Some(Code::new("12")),
            decided_on: Some(Date::new(2026, 4, 1).unwrap()),
            facility: " 架空学園 ".into(),
            hearing: Some(NewHearing {
                at: Timestamp(1_000),
                method: "面接".into(),
                views: "帰りたい".into(),
                not_possible_reason: Some("  ".into()),
            }),
            ..SupportDecision::default()
        }
        .decide(CaseId(3), StaffId(9))
        .unwrap();
        assert_eq!((s.case, s.facility.as_str()), (CaseId(3), "架空学園"));
        let h = s.hearing.unwrap();
        assert_eq!((h.by, h.not_possible_reason), (StaffId(9), None));
    }

    #[test]
    fn a_case_closes_with_a_reason_not_in_protection_and_a_resend_changes_nothing() {
        let (by, at) = (StaffId(9), Timestamp(5_000));
        let close = |reason: &str| StatusChange::Close { reason: reason.into() };
        let mut c = case();
        let err = close(" ").apply(&mut c, (3, 3), false, by, at).unwrap_err();
        assert!(matches!(&err, Error::Incomplete { fields } if *fields == ["reason"]), "{err}");
        let err = close("家庭復帰").apply(&mut c, (3, 3), true, by, at).unwrap_err();
        assert!(matches!(err, Error::Invalid { field: "protection", .. }));
        assert_eq!(c.status, CaseStatus::Open, "a refusal changes nothing");
        assert_eq!(close(" 家庭復帰 ").apply(&mut c, (3, 3), false, by, at).unwrap(), Applied::Recorded);
        assert_eq!(c.closure.as_ref().map(|x| x.reason.as_str()), Some("家庭復帰"));
        // Sent again from the revision before: already done; from the closed one: refused.
        assert_eq!(close("家庭復帰").apply(&mut c, (3, 4), false, by, at).unwrap(), Applied::AlreadyRecorded);
        assert!(close("家庭復帰").apply(&mut c, (4, 4), false, by, at).is_err());
        assert_eq!(StatusChange::Reopen.apply(&mut c, (4, 4), false, by, at).unwrap(), Applied::Recorded);
        assert_eq!((c.status, c.reopened_at.as_slice()), (CaseStatus::Open, [at].as_slice()));
        assert_eq!(
            StatusChange::Reopen.apply(&mut c, (4, 5), false, by, at).unwrap(),
            Applied::AlreadyRecorded
        );
        assert!(StatusChange::Reopen.apply(&mut c, (5, 5), false, by, at).is_err(), "an open case");
    }
}
