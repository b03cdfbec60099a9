//! 会議: meetings that discussed the case.

use std::collections::HashMap;
use std::sync::Arc;

use askama::Template;
use mamoru_core::case::NewMeeting;
use mamoru_core::code_table::Code;
use mamoru_core::ids::{CaseId, StaffId};
use mamoru_core::service::CasePageView;
use mamoru_core::staff::Action;

use mamoru_core::{Error, Service, wareki};
use warp::reply::Response;
use warp::{Filter, Rejection};

use super::{CaseHead, case_get, chrome, redraw, staff_boxes, task_page, ticked};
use crate::ui::views::{Chrome, datetime, options};
use crate::ui::{Page, blocking, case_form, check_form, idempotency_key, redirect, text};

#[derive(Clone, Debug, Default)]
pub(crate) struct MeetingForm {
    pub kind: String,
    pub at: String,
    pub attendees: Vec<u64>,
    /// Attendees from outside, one per line.
    pub outside: String,
    pub decisions: String,
}

#[derive(Template)]
#[template(path = "meeting.html")]
pub(crate) struct MeetingPage {
    pub chrome: Chrome,
    pub head: CaseHead,
    pub kinds: Vec<(String, String)>,
    pub staff: Vec<(u64, String, bool)>,
    pub form: MeetingForm,
    pub message: Option<String>,
}

impl MeetingPage {
    fn new(chrome: Chrome, cx: &CasePageView, form: MeetingForm) -> Self {
        Self {
            chrome,
            head: CaseHead::of(cx),
            kinds: options(&cx.code_tables, "meeting_kind", cx.now.jst_date()),
            staff: staff_boxes(cx, &form.attendees),
            form,
            message: None,
        }
    }
}

pub(super) fn meeting_page(
    service: Arc<Service>,
) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    case_get(service, "meeting").then(|id: u64, page: Page| {
        task_page(page, id, Action::RecordMeeting, |s, cx| {
            let form = MeetingForm {
                at: datetime(cx.now),
                attendees: vec![s.actor.staff().0],
                ..MeetingForm::default()
            };
            Ok(MeetingPage::new(chrome(s, "会議の記録", cx), cx, form))
        })
    })
}

pub(super) fn meet(service: Arc<Service>) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    case_form(service, "meeting").then(|id: u64, form: HashMap<String, String>, page: Page| async move {
        let (svc, session) = or_respond!(page);
        let typed = MeetingForm::from_form(&form);
        let (s, svc2, mine) = (session.clone(), svc.clone(), typed.clone());
        let result = blocking(move || {
            check_form(&s, &form)?;
            svc2.record_meeting_once(&s.actor, mine.meeting(CaseId(id))?, idempotency_key(&form).as_deref())
        })
        .await;
        match result {
            Ok(_) => redirect(&format!("/cases/{id}?saved=meeting#meetings")),
            Err(e) => {
                redraw(svc, session, id, e, move |session, cx| {
                    MeetingPage::new(chrome(session, "会議の記録", cx), cx, typed)
                })
                .await
            }
        }
    })
}

impl MeetingForm {
    fn from_form(form: &HashMap<String, String>) -> Self {
        MeetingForm {
            kind: text(form, "kind"),
            at: text(form, "at"),
            attendees: ticked(form, "attendee_").iter().filter_map(|s| s.parse().ok()).collect(),
            outside: text(form, "outside"),
            decisions: text(form, "decisions"),
        }
    }

    /// The meeting as core's command, on the case whose page it was recorded from.
    fn meeting(&self, case: CaseId) -> Result<NewMeeting, Error> {
        Ok(NewMeeting {
            kind: Code::new(&self.kind),
            at: wareki::read_datetime("at", &self.at)?,
            attendees: self.attendees.iter().map(|a| StaffId(*a)).collect(),
            outside_attendees: self.outside.lines().map(str::to_owned).collect(),
            cases: vec![case],
            decisions: self.decisions.clone(),
        })
    }
}
