//! The casework on a case beyond the field forms, each on a page of its own reached from the case
//! page: editing the investigation (担当, 虐待の内容, 児童福祉司意見, the four diagnoses, 判定, the
//! next review) against the revision it started from, with both versions side by side when
//! someone saved meanwhile; assessment sheets whose result core computes from the answers;
//! support and placement decisions (援助・措置) with the child's hearing; meetings; and, on the
//! case page itself, closing and reopening. Every new record is sent with an idempotency key, so
//! a form sent again after a lost answer is stored once.

mod approval;
mod assessment;
mod assignment;
mod investigation;
mod meeting;
mod petition;
mod rows;
mod support;

use mamoru_core::case::StatusChange;
use std::collections::HashMap;
use std::sync::Arc;

use askama::Template;
use mamoru_core::case::DiagnosisKind;
use mamoru_core::ids::{CaseId, StaffId};
use mamoru_core::service::{CasePageView, SessionInfo};
use mamoru_core::staff::Action;
use mamoru_core::time::Date;
use mamoru_core::{Error, Service, wareki};
use warp::http::StatusCode;
use warp::reply::Response;
use warp::{Filter, Rejection};

use crate::ui::views::Chrome;
use crate::ui::{
    Page, blocking, case_form, case_write, error_page, html, message, rev, signed_in, status_of, text,
};
use assessment::{assess, assessment_page};
pub(crate) use assignment::AssignmentView;
pub(crate) use investigation::CaseEditPage;
use investigation::{edit_page, save_case};
pub(crate) use meeting::MeetingPage;
use meeting::{meet, meeting_page};
use petition::{petition, petition_page};
pub(crate) use rows::WorkView;
pub(crate) use support::SupportPage;
use support::{support, support_page};

/// The four diagnoses, in the order the page shows them: kind, form field, label.
const DIAGNOSES: [(DiagnosisKind, &str, &str); 4] = [
    (DiagnosisKind::Social, "social", "社会診断"),
    (DiagnosisKind::Psychological, "psychological", "心理診断"),
    (DiagnosisKind::Medical, "medical", "医学診断"),
    (DiagnosisKind::Behavioural, "behavioural", "行動診断"),
];

/// The codes of the checkboxes named `{prefix}{code}` that are ticked, sorted.
fn ticked(form: &HashMap<String, String>, prefix: &str) -> Vec<String> {
    let mut out: Vec<String> =
        form.keys().filter_map(|k| k.strip_prefix(prefix)).map(str::to_owned).collect();
    out.sort();
    out
}

/// A date as shown and as a date input holds it (`令和8年4月1日`), or blank.
fn wareki_or_blank(d: Option<Date>) -> String {
    d.map(wareki::format).unwrap_or_default()
}

/// The case a task page is about, as its heading shows it.
pub(crate) struct CaseHead {
    pub id: u64,
    pub no: String,
    pub child: String,
}

impl CaseHead {
    fn of(cx: &CasePageView) -> Self {
        Self { id: cx.case.case.id, no: cx.case.case.body.case_no.clone(), child: cx.case.child.name.clone() }
    }
}

fn chrome(session: &SessionInfo, title: &str, cx: &CasePageView) -> Chrome {
    let mut c = Chrome::new(session, format!("{title} {}", cx.case.case.body.case_no), "case");
    c.case_id = cx.case.case.id;
    c.child_id = cx.case.case.body.child.0;
    c
}

/// A staff checkbox list: (id, name, ticked).
fn staff_boxes(cx: &CasePageView, ticked: &[u64]) -> Vec<(u64, String, bool)> {
    cx.unit_staff.iter().map(|(id, name)| (id.0, name.clone(), ticked.contains(&id.0))).collect()
}

fn close(service: Arc<Service>) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    case_form(service, "close").then(|id: u64, form: HashMap<String, String>, page: Page| {
        let reason = text(&form, "reason");
        case_write(
            page,
            id,
            form,
            "closed",
            move |p| p.closure_form = reason,
            move |svc, s, form| {
                let close = StatusChange::Close { reason: text(form, "reason") };
                svc.change_case_status(&s.actor, CaseId(id), rev(form)?, &close)
            },
        )
    })
}

fn reopen(service: Arc<Service>) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    case_form(service, "reopen").then(|id: u64, form: HashMap<String, String>, page: Page| {
        case_write(
            page,
            id,
            form,
            "reopened",
            |_| {},
            move |svc, s, form| {
                svc.change_case_status(&s.actor, CaseId(id), rev(form)?, &StatusChange::Reopen)
            },
        )
    })
}

/// 閲覧制限: the staff ticked (`staff_{id}`), or lifted with `lift`.
fn restrict(service: Arc<Service>) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    case_form(service, "restriction").then(|id: u64, form: HashMap<String, String>, page: Page| {
        let saved = if form.contains_key("lift") { "unrestricted" } else { "restricted" };
        case_write(
            page,
            id,
            form,
            saved,
            |_| {},
            move |svc, s, form| {
                let to = (!form.contains_key("lift")).then(|| {
                    ticked(form, "staff_").iter().filter_map(|v| v.parse().ok()).map(StaffId).collect()
                });
                svc.restrict_case(&s.actor, CaseId(id), rev(form)?, to)
            },
        )
    })
}

/// The pages and forms of this module, boxed (see `ui::routes`).
pub(super) fn routes(service: Arc<Service>) -> warp::filters::BoxedFilter<(Response,)> {
    edit_page(service.clone())
        .or(save_case(service.clone()))
        .unify()
        .or(assessment_page(service.clone()))
        .unify()
        .or(assess(service.clone()))
        .unify()
        .or(support_page(service.clone()))
        .unify()
        .or(support(service.clone()))
        .unify()
        .or(meeting_page(service.clone()))
        .unify()
        .or(meet(service.clone()))
        .unify()
        .or(petition_page(service.clone()))
        .unify()
        .or(petition(service.clone()))
        .unify()
        .or(close(service.clone()))
        .unify()
        .or(reopen(service.clone()))
        .unify()
        .or(restrict(service.clone()))
        .unify()
        .or(approval::approve(service.clone()))
        .unify()
        .or(approval::ask_closure(service.clone()))
        .unify()
        .or(assignment::assign(service))
        .unify()
        .boxed()
}

/// The filter of a page at `/cases/{id}/{what}`: the case id and the page session.
fn case_get(
    service: Arc<Service>,
    what: &'static str,
) -> impl Filter<Extract = (u64, Page), Error = Rejection> + Clone {
    warp::path("cases")
        .and(warp::path::param::<u64>())
        .and(warp::path(what))
        .and(warp::path::end())
        .and(warp::get())
        .and(signed_in(service))
}

/// A task page of the case, drawn by `draw` when core lets this reader do `action` here.
async fn task_page<P: Template + Send + 'static>(
    page: Page,
    id: u64,
    action: Action,
    draw: impl FnOnce(&SessionInfo, &CasePageView) -> Result<P, Error> + Send + 'static,
) -> Response {
    let (svc, session) = or_respond!(page);
    let s = session.clone();
    let drawn = blocking(move || {
        let cx = svc.case_task_page(&s.actor, CaseId(id), action)?;
        draw(&s, &cx)
    })
    .await;
    match drawn {
        Ok(page) => html(&page, StatusCode::OK),
        Err(e) => error_page(&session, &e),
    }
}

/// After a refused save: the task page again, drawn by `draw`, with what was typed and why.
async fn redraw<P: Template + HasMessage + Send + 'static>(
    svc: Arc<Service>,
    session: SessionInfo,
    id: u64,
    e: Error,
    draw: impl FnOnce(&SessionInfo, &CasePageView) -> P + Send + 'static,
) -> Response {
    let s = session.clone();
    match blocking(move || svc.case_page(&s.actor, CaseId(id)).map(|cx| draw(&s, &cx))).await {
        Ok(mut page) => {
            page.refused_for(&e);
            html(&page, status_of(&e))
        }
        Err(other) => error_page(&session, &other),
    }
}

/// A task page that shows why a save was refused, and marks the fields named.
trait HasMessage {
    fn refused_for(&mut self, e: &Error);
}

macro_rules! has_message {
    ($($page:ty),*) => {$(
        impl HasMessage for $page {
            fn refused_for(&mut self, e: &Error) {
                self.message = Some(message(e));
                self.chrome.mark(e);
            }
        }
    )*};
}

has_message!(CaseEditPage, SupportPage, MeetingPage);
