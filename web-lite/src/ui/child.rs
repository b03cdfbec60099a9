//! The child page: the face sheet, the household, the child's cases and latest notes.

use std::sync::Arc;

use mamoru_core::Service;
use mamoru_core::ids::ChildId;
use serde::Deserialize;
use warp::http::StatusCode;
use warp::reply::Response;
use warp::{Filter, Rejection};

use super::views::{ChildPage, Chrome};
use super::{Page, error_page, html, signed_in};
use crate::blocking;

#[derive(Deserialize)]
pub(super) struct ChildQuery {
    #[serde(default)]
    saved: Option<String>,
}

pub(super) fn child(service: Arc<Service>) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    warp::path!("children" / u64)
        .and(warp::get())
        .and(warp::query::<ChildQuery>())
        .and(signed_in(service))
        .then(|id: u64, q: ChildQuery, page: Page| async move {
            let (svc, session) = or_respond!(page);
            let actor = session.actor.clone();
            match blocking(move || svc.child_page(&actor, ChildId(id))).await {
                Ok(v) => {
                    let mut chrome = Chrome::new(&session, v.child.child.body.name.full(), "child");
                    chrome.after = v.after;
                    if q.saved.as_deref() == Some("family") {
                        chrome.scroll_to = "family".into();
                    }
                    let mut page = ChildPage::of(chrome, &v.child, &v.code_tables, &v.staff_names, v.now.jst_date());
                    page.notice = q.saved.map(|how| {
                        match how.as_str() {
                            "merged" => "フェイスシートを保存しました。編集中にほかの人が保存した別の項目の変更も、そのまま残っています。",
                            "family" => "家族・世帯を保存しました。",
                            _ => "フェイスシートを保存しました。",
                        }
                        .to_owned()
                    });
                    html(&page, StatusCode::OK)
                }
                Err(e) => error_page(&session, &e),
            }
        })
}
