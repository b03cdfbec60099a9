//! The home page (the board of legal clocks) and the search page.

use std::sync::Arc;

use mamoru_core::Service;
use mamoru_core::ids::{StaffId, UnitId};
use mamoru_core::service::BoardFilter;
use serde::Deserialize;
use warp::http::StatusCode;
use warp::reply::Response;
use warp::{Filter, Rejection};

use super::views::{Chrome, HomePage, ResultRow, SearchPage};
use super::{Page, error_page, html, message, signed_in};
use crate::blocking;

#[derive(Deserialize)]
pub(super) struct HomeQuery {
    #[serde(default)]
    mine: Option<String>,
    #[serde(default)]
    unit: Option<String>,
    #[serde(default)]
    worker: Option<String>,
    #[serde(default)]
    all: Option<String>,
}

impl HomeQuery {
    fn filter(&self) -> BoardFilter {
        let id = |v: &Option<String>| v.as_deref().and_then(|v| v.parse::<u64>().ok());
        BoardFilter {
            unit: id(&self.unit).map(UnitId),
            worker: id(&self.worker).map(StaffId),
            mine: self.mine.is_some(),
            all: self.all.is_some(),
        }
    }
}

pub(super) fn home(service: Arc<Service>) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    warp::path!("home").and(warp::get()).and(warp::query::<HomeQuery>()).and(signed_in(service)).then(
        |q: HomeQuery, page: Page| async move {
            let (svc, session) = or_respond!(page);
            let (actor, filter) = (session.actor.clone(), q.filter());
            match blocking(move || svc.home(&actor, filter)).await {
                Ok(v) => {
                    let mut chrome = Chrome::new(&session, "ホーム", "home");
                    chrome.live = "board";
                    chrome.after = v.after;
                    html(&HomePage::of(chrome, &v), StatusCode::OK)
                }
                Err(e) => error_page(&session, &e),
            }
        },
    )
}

#[derive(Deserialize)]
pub(super) struct SearchQuery {
    #[serde(default)]
    q: String,
}

pub(super) fn search(service: Arc<Service>) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    warp::path!("search").and(warp::get()).and(warp::query::<SearchQuery>()).and(signed_in(service)).then(
        |q: SearchQuery, page: Page| async move {
            let (svc, session) = or_respond!(page);
            let chrome = Chrome::new(&session, "検索", "search");
            let query = q.q.trim().to_owned();
            let mut page =
                SearchPage { chrome, q: query.clone(), searched: false, results: Vec::new(), message: None };
            if query.is_empty() {
                return html(&page, StatusCode::OK);
            }
            let actor = session.actor.clone();
            match blocking(move || Ok((svc.search(&actor, &query, 50)?, svc.now().jst_date()))).await {
                Ok((found, today)) => {
                    page.results = found.iter().map(|s| ResultRow::of(s, today)).collect();
                    page.searched = true;
                    html(&page, StatusCode::OK)
                }
                Err(e) if e.is_input() => {
                    page.message = Some(message(&e));
                    page.chrome.mark(&e);
                    html(&page, StatusCode::UNPROCESSABLE_ENTITY)
                }
                Err(e) => error_page(&session, &e),
            }
        },
    )
}
