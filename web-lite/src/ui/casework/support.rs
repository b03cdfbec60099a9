//! 援助・措置: support and placement decisions with the child's hearing; one form records a
//! new one and revises one.

use std::collections::HashMap;
use std::sync::Arc;

use askama::Template;
use mamoru_core::case::{NewHearing, Support, SupportDecision};
use mamoru_core::code_table::Code;
use mamoru_core::ids::{CaseId, SupportId};
use mamoru_core::service::Versioned;
use mamoru_core::service::{CasePageView, SessionInfo};
use mamoru_core::staff::Action;
use mamoru_core::{Error, Service, wareki};
use serde::Deserialize;
use warp::reply::Response;
use warp::{Filter, Rejection};

use super::{CaseHead, case_get, chrome, redraw, task_page, wareki_or_blank};
use crate::ui::views::{Chrome, ConflictView, datetime, label, options};
use crate::ui::{Page, blocking, case_form, check_form, date, idempotency_key, redirect, text};

/// A support decision as typed; the same form records a new one and edits one (review date,
/// hearing, notice, end) against the revision it was drawn from.
#[derive(Clone, Debug, Default)]
pub(crate) struct SupportForm {
    /// The support edited (0: a new one) and its revision.
    pub id: u64,
    pub rev: u64,
    pub kind: String,
    pub decided_on: String,
    pub start: String,
    pub review_on: String,
    pub end: String,
    pub facility: String,
    pub notice_issued_on: String,
    pub note: String,
    pub hearing_at: String,
    pub hearing_method: String,
    pub hearing_views: String,
    pub hearing_not_possible: String,
}

impl SupportForm {
    fn of(v: &Versioned<Support>) -> Self {
        let s = &v.body;
        let h = s.hearing.as_ref();
        Self {
            id: v.id,
            rev: v.rev,
            kind: s.kind.as_str().to_owned(),
            decided_on: wareki::format(s.decided_on),
            start: wareki_or_blank(s.start),
            review_on: wareki_or_blank(s.review_on),
            end: wareki_or_blank(s.end),
            facility: s.facility.clone(),
            notice_issued_on: wareki_or_blank(s.notice_issued_on),
            note: s.note.clone(),
            hearing_at: h.map(|h| datetime(h.at)).unwrap_or_default(),
            hearing_method: h.map(|h| h.method.clone()).unwrap_or_default(),
            hearing_views: h.map(|h| h.views.clone()).unwrap_or_default(),
            hearing_not_possible: h.and_then(|h| h.not_possible_reason.clone()).unwrap_or_default(),
        }
    }

    fn from_form(form: &HashMap<String, String>) -> Self {
        Self {
            id: text(form, "support").parse().unwrap_or(0),
            rev: text(form, "rev").parse().unwrap_or(0),
            kind: text(form, "kind"),
            decided_on: text(form, "decided_on"),
            start: text(form, "start"),
            review_on: text(form, "review_on"),
            end: text(form, "end"),
            facility: text(form, "facility"),
            notice_issued_on: text(form, "notice_issued_on"),
            note: text(form, "note"),
            hearing_at: text(form, "hearing_at"),
            hearing_method: text(form, "hearing_method"),
            hearing_views: text(form, "hearing_views"),
            hearing_not_possible: text(form, "hearing_not_possible"),
        }
    }

    /// The decision as core's command; who heard the child is whoever records it.
    fn decision(&self, form: &HashMap<String, String>) -> Result<SupportDecision, Error> {
        let heard = !(self.hearing_at.is_empty()
            && self.hearing_method.is_empty()
            && self.hearing_views.is_empty()
            && self.hearing_not_possible.is_empty());
        let hearing = if heard {
            if self.hearing_at.is_empty() {
                return Err(Error::invalid("hearing", "聴取した日時を入力してください"));
            }
            Some(NewHearing {
                at: wareki::read_datetime("hearing_at", &self.hearing_at)?,
                method: self.hearing_method.clone(),
                views: self.hearing_views.clone(),
                not_possible_reason: Some(self.hearing_not_possible.clone()),
            })
        } else {
            None
        };
        Ok(SupportDecision {
            kind: Some(self.kind.as_str()).filter(|k| !k.is_empty()).map(Code::new),
            decided_on: date(form, "decided_on")?,
            start: date(form, "start")?,
            review_on: date(form, "review_on")?,
            end: date(form, "end")?,
            facility: self.facility.clone(),
            hearing,
            notice_issued_on: date(form, "notice_issued_on")?,
            note: self.note.clone(),
        })
    }
}

impl SupportForm {
    fn rows(&self, cx: &CasePageView) -> Vec<(&'static str, String)> {
        let day = |d: &str| wareki::parse(d).map_or_else(|_| d.to_owned(), wareki::format);
        let kind = Some(self.kind.as_str())
            .filter(|k| !k.is_empty())
            .map(|k| label(&cx.code_tables, "support_kind", &Code::new(k)))
            .unwrap_or_default();
        let hearing = [
            self.hearing_at.replace('T', " "),
            self.hearing_method.clone(),
            self.hearing_views.clone(),
            self.hearing_not_possible.clone(),
        ]
        .into_iter()
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("・");
        vec![
            ("種別", kind),
            ("決定日", day(&self.decided_on)),
            ("開始", day(&self.start)),
            ("見直し", day(&self.review_on)),
            ("終了", day(&self.end)),
            ("施設・機関", self.facility.clone()),
            ("決定通知", day(&self.notice_issued_on)),
            ("意見聴取", hearing),
            ("備考", self.note.clone()),
        ]
    }
}

#[derive(Template)]
#[template(path = "support.html")]
pub(crate) struct SupportPage {
    pub chrome: Chrome,
    pub head: CaseHead,
    pub form: SupportForm,
    pub kinds: Vec<(String, String)>,
    pub message: Option<String>,
    pub conflict: Option<ConflictView>,
}

impl SupportPage {
    fn new(chrome: Chrome, cx: &CasePageView, form: SupportForm) -> Self {
        Self {
            chrome,
            head: CaseHead::of(cx),
            kinds: options(&cx.code_tables, "support_kind", cx.now.jst_date()),
            form,
            message: None,
            conflict: None,
        }
    }

    /// After someone else saved the support meanwhile: both versions side by side, the typed
    /// form kept at the revision now stored, so that saving again is a choice, not a dead end.
    fn stale(mut self, cx: &CasePageView) -> Self {
        if let Some(current) = cx.case.supports.iter().find(|v| v.id == self.form.id) {
            self.conflict = Some(ConflictView::new(
                self.form.rows(cx),
                SupportForm::of(current).rows(cx),
                current,
                &cx.staff_names,
                format!("/cases/{}#supports", cx.case.case.id),
            ));
            self.form.rev = current.rev;
        }
        self
    }
}

#[derive(Deserialize)]
pub(super) struct SupportQuery {
    #[serde(default)]
    id: Option<u64>,
}

pub(super) fn support_page(
    service: Arc<Service>,
) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    case_get(service, "support").and(warp::query::<SupportQuery>()).then(
        |id: u64, page: Page, q: SupportQuery| {
            task_page(page, id, Action::RecordSupport, move |s, cx| {
                let form = match q.id {
                    Some(sid) => SupportForm::of(
                        cx.case
                            .supports
                            .iter()
                            .find(|v| v.id == sid)
                            .ok_or_else(|| Error::NotFound { what: "support", id: sid.to_string() })?,
                    ),
                    None => SupportForm {
                        decided_on: wareki::format(cx.now.jst_date()),
                        ..SupportForm::default()
                    },
                };
                Ok(SupportPage::new(chrome(s, "援助・措置", cx), cx, form))
            })
        },
    )
}

pub(super) fn support(
    service: Arc<Service>,
) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    case_form(service, "support").then(|id: u64, form: HashMap<String, String>, page: Page| async move {
        let (svc, session) = or_respond!(page);
        let typed = SupportForm::from_form(&form);
        let (s, svc2, mine) = (session.clone(), svc.clone(), typed.clone());
        let result = blocking(move || {
            check_form(&s, &form)?;
            save(&svc2, &s, CaseId(id), &mine, &form)
        })
        .await;
        match result {
            Ok(()) => redirect(&format!("/cases/{id}?saved=support#supports")),
            Err(e) => {
                let stale = matches!(e, Error::Conflict { .. });
                redraw(svc, session, id, e, move |session, cx| {
                    let page = SupportPage::new(chrome(session, "援助・措置", cx), cx, typed);
                    if stale { page.stale(cx) } else { page }
                })
                .await
            }
        }
    })
}

/// A new support decision, or a change to the one the form was drawn from (core refuses a
/// support of another case).
fn save(
    svc: &Service,
    session: &SessionInfo,
    case: CaseId,
    form: &SupportForm,
    raw: &HashMap<String, String>,
) -> Result<(), Error> {
    let decision = form.decision(raw)?;
    if form.id == 0 {
        svc.record_support_once(&session.actor, case, decision, idempotency_key(raw).as_deref()).map(drop)
    } else {
        svc.revise_support(&session.actor, case, SupportId(form.id), form.rev, decision).map(drop)
    }
}
