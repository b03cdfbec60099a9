//! 決裁 on the case page: where each assessment, support decision and 終結伺い stands, the
//! approver's form under each one waiting (決裁する / 差し戻す with a comment), and the worker's
//! 終結伺い. Core decides who may decide what; the page offers only that.

use std::collections::HashMap;
use std::sync::Arc;

use mamoru_core::case::{Approval, ApprovalState, Decide, Subject, Verdict};
use mamoru_core::ids::{AssessmentId, CaseId, StaffId, SupportId};
use mamoru_core::service::CasePageView;
use mamoru_core::staff::Action;
use mamoru_core::{Error, Service};
use warp::reply::Response;
use warp::{Filter, Rejection};

use crate::ui::views::{datetime, staff_name};
use crate::ui::{Page, case_form, case_write, rev, text};

/// Where one record's 決裁 stands, and the approver's form when the reader may decide it.
pub(crate) struct ApprovalRow {
    /// `assessment`, `support` or `closure`: what the form decides.
    pub subject: &'static str,
    /// The record's id (the case's for a 終結伺い) and the revision the reader sees.
    pub record: u64,
    pub rev: u64,
    /// 決裁待ち, 決裁済み, 差戻し.
    pub state: &'static str,
    pub class: &'static str,
    /// Who asked when, and who decided when.
    pub line: String,
    /// The approver's comment.
    pub comment: String,
    /// The 差戻し before this request, as the worker answered it: who, when, what they said.
    pub previous: Option<String>,
    /// The reader may approve or send it back now.
    pub may_decide: bool,
    /// The comment being typed, kept when the server refuses it.
    pub typed: String,
}

impl ApprovalRow {
    pub(crate) fn of(
        (subject, record, rev): (&'static str, u64, u64),
        a: &Approval,
        d: &CasePageView,
        reader: StaffId,
    ) -> Self {
        let name = |s| staff_name(&d.staff_names, s);
        let (state, class) = match a.state() {
            ApprovalState::Pending => ("決裁待ち", "warn"),
            ApprovalState::Approved => ("決裁済み", "ok"),
            ApprovalState::Returned => ("差戻し", "danger"),
        };
        let asked = format!("伺い {}・{}", name(a.asked_by), datetime(a.asked_at));
        let line = match &a.decision {
            None => asked,
            Some(done) => {
                let verb = if done.verdict == Verdict::Approved { "決裁" } else { "差戻し" };
                format!("{asked}／{verb} {}・{}", name(done.by), datetime(done.at))
            }
        };
        Self {
            subject,
            record,
            rev,
            state,
            class,
            line,
            comment: a.decision.as_ref().map(|x| x.comment.clone()).unwrap_or_default(),
            previous: a
                .earlier
                .last()
                .filter(|x| x.verdict == Verdict::Returned)
                .map(|x| format!("前回の差戻し（{}・{}）：{}", name(x.by), datetime(x.at), x.comment)),
            may_decide: d.case.may(Action::Approve) && a.may_decide(reader),
            typed: String::new(),
        }
    }
}

/// 終結伺い: the reason asked for, and its 決裁.
pub(crate) struct ClosureRequestRow {
    pub reason: String,
    pub approval: ApprovalRow,
}

impl ClosureRequestRow {
    pub(crate) fn of(d: &CasePageView, reader: StaffId) -> Option<Self> {
        let case = &d.case.case;
        case.body.closure_request.as_ref().map(|r| Self {
            reason: r.reason.clone(),
            approval: ApprovalRow::of(("closure", case.id, case.rev), &r.approval, d, reader),
        })
    }
}

/// What the approver's form names, as core's subject.
fn subject(form: &HashMap<String, String>, case: u64) -> Result<Subject, Error> {
    let record =
        || text(form, "record").parse::<u64>().map_err(|_| Error::invalid("approval", "対象がありません"));
    match text(form, "subject").as_str() {
        "assessment" => Ok(Subject::Assessment(AssessmentId(record()?))),
        "support" => Ok(Subject::Support(SupportId(record()?))),
        "closure" if record()? == case => Ok(Subject::Closure),
        _ => Err(Error::invalid("approval", "対象がありません")),
    }
}

/// `POST /cases/{id}/approval`: 決裁する (`verdict=approved`) or 差し戻す (`returned`, with a
/// comment); back at the section of what was decided.
pub(super) fn approve(
    service: Arc<Service>,
) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    case_form(service, "approval").then(|id: u64, form: HashMap<String, String>, page: Page| {
        let approved = text(&form, "verdict") == "approved";
        let saved = match (text(&form, "subject").as_str(), approved) {
            ("closure", true) => "approved_closure",
            ("support", true) => "approved_support",
            (_, true) => "approved",
            ("closure", false) => "returned_closure",
            ("support", false) => "returned_support",
            (_, false) => "returned",
        };
        let (subject_key, record, comment) =
            (text(&form, "subject"), text(&form, "record"), text(&form, "comment"));
        case_write(
            page,
            id,
            form,
            saved,
            move |p| p.work.keep_typed(&subject_key, &record, comment),
            move |svc, s, form| {
                let verdict = match text(form, "verdict").as_str() {
                    "approved" => Verdict::Approved,
                    "returned" => Verdict::Returned,
                    _ => return Err(Error::invalid("approval", "決裁するか差し戻すかを選んでください")),
                };
                let d = Decide { verdict, comment: text(form, "comment") };
                svc.decide_approval(&s.actor, CaseId(id), subject(form, id)?, rev(form)?, &d)
            },
        )
    })
}

/// `POST /cases/{id}/ask-closure`: 終結伺い with its reason.
pub(super) fn ask_closure(
    service: Arc<Service>,
) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    case_form(service, "ask-closure").then(|id: u64, form: HashMap<String, String>, page: Page| {
        let reason = text(&form, "reason");
        case_write(
            page,
            id,
            form,
            "asked_closure",
            move |p| p.closure_form = reason,
            move |svc, s, form| svc.ask_closure(&s.actor, CaseId(id), rev(form)?, &text(form, "reason")),
        )
    })
}
