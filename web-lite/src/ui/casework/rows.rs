//! What the case page shows of the casework: assessment, support and meeting rows, and the
//! work section with what the reader may do.

use mamoru_core::case::{Assessment, Support};
use mamoru_core::ids::StaffId;
use mamoru_core::service::CasePageView;
use mamoru_core::service::Versioned;
use mamoru_core::wareki;

use super::approval::{ApprovalRow, ClosureRequestRow};
use super::{DIAGNOSES, wareki_or_blank};
use crate::ui::views::{datetime, label, staff_name};

/// One filled assessment sheet as the case page lists it.
pub(crate) struct AssessmentRow {
    /// Its sheet as PDF.
    pub pdf: String,
    pub at: String,
    pub by: String,
    pub sheet: String,
    pub result: String,
    /// `danger`, `warn` or `ok`: how urgent the result reads.
    pub class: &'static str,
    /// The questions answered yes, as the sheet words them.
    pub yes: Vec<String>,
    /// 決裁 (none on one recorded before it was asked for).
    pub approval: Option<ApprovalRow>,
}

pub(crate) struct SupportRow {
    pub id: u64,
    pub kind: String,
    pub facility: String,
    /// Decided, started, review, ended: as one line of dates.
    pub dates: String,
    pub hearing: Option<String>,
    /// A placement still waiting for the child's hearing.
    pub hearing_missing: bool,
    pub notice: Option<String>,
    /// Its 措置決定通知書 as PDF, for a 措置 in force (`is_notified_measure`).
    pub notice_pdf: Option<String>,
    pub note: String,
    pub ended: bool,
    /// 決裁 (none on one recorded before it was asked for).
    pub approval: Option<ApprovalRow>,
}

pub(crate) struct MeetingRow {
    /// Its minutes as PDF.
    pub pdf: String,
    pub at: String,
    pub kind: String,
    pub attendees: String,
    pub decisions: String,
}

impl AssessmentRow {
    fn of(v: &Versioned<Assessment>, d: &CasePageView, reader: StaffId) -> Self {
        let a = &v.body;
        let sheet = d.sheets.iter().find(|s| s.id == a.sheet.0);
        Self {
            pdf: format!("/api/v1/cases/{}/forms/assessment?assessment={}", a.case.0, v.id),
            approval: a.approval.as_ref().map(|x| ApprovalRow::of(("assessment", v.id, v.rev), x, d, reader)),
            at: datetime(a.at),
            by: staff_name(&d.staff_names, a.by),
            sheet: sheet.map_or_else(|| "アセスメントシート".to_owned(), |s| s.body.name.clone()),
            result: a.result_label.clone(),
            class: match a.result.as_str() {
                "emergency" | "protection" => "danger",
                "intervention" => "warn",
                _ => "ok",
            },
            yes: sheet
                .map(|s| {
                    s.body
                        .questions
                        .iter()
                        .filter(|q| a.answers.get(&q.id) == Some(&true))
                        .map(|q| q.text.clone())
                        .collect()
                })
                .unwrap_or_default(),
        }
    }
}

impl SupportRow {
    fn of(v: &Versioned<Support>, d: &CasePageView, reader: StaffId) -> Self {
        let s = &v.body;
        let mut dates = vec![format!("決定 {}", wareki::format(s.decided_on))];
        for (label, date) in [("開始", s.start), ("見直し", s.review_on), ("終了", s.end)] {
            if let Some(x) = date {
                dates.push(format!("{label} {}", wareki::format(x)));
            }
        }
        Self {
            id: v.id,
            kind: label(&d.code_tables, "support_kind", &s.kind),
            facility: s.facility.clone(),
            dates: dates.join("・"),
            hearing: s.hearing.as_ref().map(|h| match &h.not_possible_reason {
                Some(r) => format!("{}・聴取できず：{r}", datetime(h.at)),
                None if h.method.is_empty() => format!("{}・{}", datetime(h.at), h.views),
                None => format!("{}・{}：{}", datetime(h.at), h.method, h.views),
            }),
            hearing_missing: s.hearing.is_none() && mamoru_core::deadline::is_placement(s.kind.as_str()),
            notice: s.notice_issued_on.map(wareki::format),
            notice_pdf: mamoru_core::service::forms::is_notified_measure(s)
                .then(|| format!("/api/v1/cases/{}/forms/support-notice?support={}", s.case.0, v.id)),
            note: s.note.clone(),
            ended: s.end.is_some_and(|e| e <= d.now.jst_date()),
            approval: s.approval.as_ref().map(|x| ApprovalRow::of(("support", v.id, v.rev), x, d, reader)),
        }
    }
}

/// A petition to the family court as the case page lists it.
pub(crate) struct PetitionRow {
    pub id: u64,
    pub kind: &'static str,
    /// `令和7年7月27日 10時00分・cw1`.
    pub prepared: String,
    /// The day filed, once it is.
    pub filed: Option<String>,
    pub documents: usize,
    pub withheld: usize,
    /// The paper as PDF.
    pub url: String,
}

impl PetitionRow {
    fn of(v: &Versioned<mamoru_core::case::CourtPetition>, d: &CasePageView) -> Self {
        let p = &v.body;
        let form = mamoru_core::forms::FormKind::of_petition(p.kind);
        Self {
            id: v.id,
            kind: p.kind.label(),
            prepared: format!("{}・{}", datetime(p.prepared_at), staff_name(&d.staff_names, p.prepared_by)),
            filed: p.filed_on.map(mamoru_core::wareki::format),
            documents: p.documents.len(),
            withheld: p.documents.iter().filter(|x| x.withhold).count(),
            url: format!("/api/v1/cases/{}/forms/{}?petition={}", p.case.0, form.slug(), v.id),
        }
    }
}

impl MeetingRow {
    fn of(v: &Versioned<mamoru_core::case::Meeting>, case: u64, d: &CasePageView) -> Self {
        let m = &v.body;
        let mut who: Vec<String> = m.attendees.iter().map(|s| staff_name(&d.staff_names, *s)).collect();
        who.extend(m.outside_attendees.iter().cloned());
        Self {
            pdf: format!("/api/v1/cases/{case}/forms/meeting-minutes?meeting={}", v.id),
            at: datetime(m.at),
            kind: label(&d.code_tables, "meeting_kind", &m.kind),
            attendees: who.join("、"),
            decisions: m.decisions.clone(),
        }
    }
}

/// The investigation, assessments, support, meetings and closure, as the case page shows them.
pub(crate) struct WorkView {
    pub rev: u64,
    /// 担当: the workers and their history.
    pub assignment: super::AssignmentView,
    pub abuse: Option<String>,
    pub opinion: String,
    /// (label, text, signed).
    pub diagnoses: Vec<(&'static str, String, String)>,
    pub judgement: String,
    pub next_review: String,
    pub assessments: Vec<AssessmentRow>,
    /// An abuse report with no assessment sheet yet.
    pub assessment_missing: bool,
    pub supports: Vec<SupportRow>,
    pub meetings: Vec<MeetingRow>,
    /// 家庭裁判所への申立て, newest first.
    pub petitions: Vec<PetitionRow>,
    /// 終結: when, by whom, why.
    pub closure: Option<String>,
    /// 終結伺い waiting for its 決裁, or sent back.
    pub closure_request: Option<ClosureRequestRow>,
    /// A 終結伺い waits: neither another nor a direct closing is offered.
    pub closure_waiting: bool,
    pub reopened: Vec<String>,
    /// 閲覧制限: the names of the only staff who may see the case, when restricted.
    pub restricted: Option<String>,
    /// The unit's active staff to restrict the case to: (id, name, on the list now).
    pub restrict_to: Vec<(u64, String, bool)>,
}

impl WorkView {
    pub(crate) fn of(d: &CasePageView, reader: StaffId) -> Self {
        let case = &d.case.case.body;
        let name = |s: StaffId| staff_name(&d.staff_names, s);
        let abuse = case.abuse.as_ref().map(|a| {
            let mut parts: Vec<String> =
                a.types.iter().map(|t| label(&d.code_tables, "abuse_type", t)).collect();
            if let Some(p) = &a.main_perpetrator {
                parts.push(format!("主たる虐待者：{}", label(&d.code_tables, "perpetrator", p)));
            }
            if !a.severity.is_empty() {
                parts.push(format!("程度：{}", a.severity));
            }
            parts.join("、")
        });
        let assessments = d.case.assessments.iter().rev().map(|v| AssessmentRow::of(v, d, reader)).collect();
        let supports = d.case.supports.iter().rev().map(|v| SupportRow::of(v, d, reader)).collect();
        let case_id = d.case.case.id;
        let meetings = d.case.meetings.iter().rev().map(|v| MeetingRow::of(v, case_id, d)).collect();
        let petitions = d.case.petitions.iter().rev().map(|v| PetitionRow::of(v, d)).collect();
        Self {
            rev: d.case.case.rev,
            assignment: super::AssignmentView::of(d),
            abuse,
            opinion: case.worker_opinion.clone(),
            diagnoses: DIAGNOSES
                .iter()
                .filter_map(|(kind, _, label)| {
                    case.diagnoses
                        .iter()
                        .rev()
                        .find(|x| x.kind == *kind)
                        .map(|x| (*label, x.text.clone(), format!("{}・{}", name(x.by), datetime(x.at))))
                })
                .collect(),
            judgement: case.judgement.clone(),
            next_review: wareki_or_blank(case.next_review),
            assessment_missing: d.case.assessment_missing,
            assessments,
            supports,
            meetings,
            petitions,
            closure: case.closure.as_ref().map(|c| match c.asked_by {
                Some(asker) => {
                    format!("{}・{}・決裁 {}（伺い {}）", datetime(c.at), c.reason, name(c.by), name(asker))
                }
                None => format!("{}・{}・{}", datetime(c.at), name(c.by), c.reason),
            }),
            closure_waiting: case.closure_request.as_ref().is_some_and(|r| r.approval.is_pending()),
            closure_request: ClosureRequestRow::of(d, reader),
            reopened: case.reopened_at.iter().map(|t| datetime(*t)).collect(),
            restricted: case
                .restricted_to
                .as_ref()
                .map(|to| to.iter().map(|s| name(*s)).collect::<Vec<_>>().join("、")),
            // Not yet restricted: the case's workers are offered ticked, so that restricting
            // does not shut out those who work the case unless someone unticks them.
            restrict_to: {
                let list = case.restricted_to.as_ref().unwrap_or(&case.assigned);
                d.unit_staff.iter().map(|(id, n)| (id.0, n.clone(), list.contains(id))).collect()
            },
        }
    }
}

impl WorkView {
    /// Puts back the comment typed into the approver's form of `subject` `record` after a
    /// refusal.
    pub(crate) fn keep_typed(&mut self, subject: &str, record: &str, comment: String) {
        let rows = self
            .assessments
            .iter_mut()
            .filter_map(|a| a.approval.as_mut())
            .chain(self.supports.iter_mut().filter_map(|s| s.approval.as_mut()))
            .chain(self.closure_request.as_mut().map(|r| &mut r.approval));
        for row in rows {
            if row.subject == subject && row.record.to_string() == record {
                row.typed = comment;
                return;
            }
        }
    }
}
