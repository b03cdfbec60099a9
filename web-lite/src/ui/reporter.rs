//! 通告者: the reporter of a case, on a page of its own, shown only when asked for by a role that
//! may see it (core's `view_reporter`, audited each time), so that it never stands on the case
//! page a caseworker may be holding at a family's door.

use std::sync::Arc;

use askama::Template;
use mamoru_core::Service;
use mamoru_core::ids::CaseId;
use warp::http::StatusCode;
use warp::reply::Response;
use warp::{Filter, Rejection};

use super::views::Chrome;
use super::{Page, blocking, error_page, html, signed_in};

#[derive(Template)]
#[template(path = "reporter.html")]
pub(crate) struct ReporterPage {
    pub chrome: Chrome,
    pub case_id: u64,
    pub case_no: String,
    pub anonymous: bool,
    pub name: String,
    pub relation: String,
    pub phone: String,
    /// The number as a `tel:` link dials it: digits and `+` only.
    pub tel: String,
    pub note: String,
}

pub(super) fn page(service: Arc<Service>) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    warp::path!("cases" / u64 / "reporter").and(warp::get()).and(signed_in(service)).then(
        |id: u64, page: Page| async move {
            let (svc, session) = or_respond!(page);
            let actor = session.actor.clone();
            match blocking(move || svc.reporter_page(&actor, CaseId(id))).await {
                Ok((case_no, reporter)) => {
                    let mut chrome = Chrome::new(&session, "通告者・相談者", "case");
                    chrome.case_id = id;
                    let r = reporter.unwrap_or_default();
                    let tel = r
                        .phone
                        .chars()
                        .map(|c| match c {
                            '０'..='９' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
                            _ => c,
                        })
                        .filter(|c| c.is_ascii_digit() || *c == '+')
                        .collect();
                    let page = ReporterPage {
                        chrome,
                        case_id: id,
                        case_no,
                        anonymous: r.anonymous,
                        name: r.name,
                        relation: r.relation,
                        phone: r.phone,
                        tel,
                        note: r.note,
                    };
                    html(&page, StatusCode::OK)
                }
                Err(e) => error_page(&session, &e),
            }
        },
    )
}
