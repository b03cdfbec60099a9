//! 担当ケース (one's own open cases, or a worker's for a supervisor) and 担当状況 (each worker's
//! load in a unit, and the open cases nobody works): lists core makes, drawn as cards and a table.

use std::sync::Arc;

use askama::Template;
use mamoru_core::Service;
use mamoru_core::deadline::ClockStatus;
use mamoru_core::ids::{StaffId, UnitId};
use mamoru_core::service::{CaseloadItem, CaseloadView, LoadsView, QUIET_DAYS};
use mamoru_core::time::Timestamp;
use serde::Deserialize;
use warp::http::StatusCode;
use warp::reply::Response;
use warp::{Filter, Rejection};

use super::views::{Chrome, datetime, remaining};
use super::{Page, error_page, html, signed_in};
use crate::blocking;

/// One open case as a card.
pub(crate) struct CaseCard {
    pub case_id: u64,
    pub case_no: String,
    pub child: String,
    /// 主担当 or 副担当 of the worker whose list it is; empty on 担当未定.
    pub role: &'static str,
    pub workers: String,
    pub received: String,
    /// The most urgent clock: (label, due, remaining, due epoch), if one runs.
    pub next: Option<(&'static str, String, String, i64)>,
    /// `overdue`, `soon` or `ok`, as the board colours a clock.
    pub class: &'static str,
    /// 「R7.6.2 家庭訪問（3日前）」, or empty when no contact is recorded.
    pub contact: String,
    /// No contact recorded in the last `QUIET_DAYS`.
    pub quiet: bool,
}

impl CaseCard {
    fn of(i: &CaseloadItem, now: Timestamp, worker: bool) -> Self {
        let quiet_since = now.plus(-QUIET_DAYS * 86_400);
        Self {
            case_id: i.case.0,
            case_no: i.case_no.clone(),
            child: i.child_name.clone().unwrap_or_else(|| "（閲覧制限の児童）".to_owned()),
            role: match (worker, i.main) {
                (false, _) => "",
                (true, true) => "主担当",
                (true, false) => "副担当",
            },
            workers: i.worker_names.join("・"),
            received: datetime(i.received_at),
            next: i.next.as_ref().map(|n| {
                (n.label, datetime(n.deadline.due), remaining(n.deadline.due, now), n.deadline.due.0)
            }),
            class: match i.next.as_ref().map(|n| n.status) {
                Some(ClockStatus::Overdue) => "overdue",
                Some(ClockStatus::DueSoon) => "soon",
                _ => "ok",
            },
            contact: i.last_contact.as_ref().map_or_else(String::new, |c| {
                let days = (now.0 - c.at.0).max(0) / 86_400;
                let ago = if days == 0 { "今日".to_owned() } else { format!("{days}日前") };
                format!("{} {}（{ago}）", datetime(c.at), c.what)
            }),
            quiet: i.last_contact.as_ref().is_none_or(|c| c.at < quiet_since),
        }
    }
}

/// How many cases 担当ケース draws unless asked for all: a caseload's page within its size budget
/// (about 560 bytes a card), the most urgent first.
const CASELOAD_CARDS: usize = 80;

#[derive(Template)]
#[template(path = "caseload.html")]
pub(crate) struct CaseloadPage {
    pub chrome: Chrome,
    pub worker_name: String,
    /// The reader's own list (else a worker's, opened from 担当状況).
    pub own: bool,
    pub cards: Vec<CaseCard>,
    pub main: usize,
    pub sub: usize,
    pub hidden: usize,
    /// How many cases are not drawn (only the first `CASELOAD_CARDS` are, unless all are asked
    /// for), and this list with all drawn.
    pub more: usize,
    pub all_href: String,
    /// The reader may change the workers (a link to each case's 担当 section, and 担当状況).
    pub may_assign: bool,
    pub quiet_days: i64,
}

impl CaseloadPage {
    fn of(chrome: Chrome, v: &CaseloadView, own: bool, all: bool) -> Self {
        let main = v.items.iter().filter(|i| i.main).count();
        let drawn = if all { v.items.len() } else { CASELOAD_CARDS.min(v.items.len()) };
        Self {
            chrome,
            worker_name: v.worker_name.clone(),
            own,
            cards: v.items.iter().take(drawn).map(|i| CaseCard::of(i, v.now, true)).collect(),
            main,
            sub: v.items.len() - main,
            hidden: v.hidden,
            more: v.items.len() - drawn,
            all_href: if own {
                "/caseload?all=1".into()
            } else {
                format!("/caseload?worker={}&all=1", v.worker.0)
            },
            may_assign: v.may_assign,
            quiet_days: QUIET_DAYS,
        }
    }
}

/// One worker's row on 担当状況.
pub(crate) struct LoadRow {
    pub staff: u64,
    pub name: String,
    pub role: &'static str,
    pub main: usize,
    pub sub: usize,
    pub overdue: usize,
    pub due_soon: usize,
    pub quiet: usize,
}

#[derive(Template)]
#[template(path = "caseloads.html")]
pub(crate) struct LoadsPage {
    pub chrome: Chrome,
    pub unit: String,
    pub unit_id: u64,
    pub units: Vec<(u64, String)>,
    pub rows: Vec<LoadRow>,
    pub unassigned: Vec<CaseCard>,
    pub quiet_days: i64,
}

impl LoadsPage {
    fn of(chrome: Chrome, v: &LoadsView) -> Self {
        Self {
            chrome,
            unit: v.unit_name.clone(),
            unit_id: v.unit.0,
            units: v.units.iter().map(|(id, n)| (id.0, n.clone())).collect(),
            rows: v
                .workers
                .iter()
                .map(|w| LoadRow {
                    staff: w.staff.0,
                    name: w.name.clone(),
                    role: w.role.label(),
                    main: w.main,
                    sub: w.sub,
                    overdue: w.overdue,
                    due_soon: w.due_soon,
                    quiet: w.quiet,
                })
                .collect(),
            unassigned: v.unassigned.iter().map(|i| CaseCard::of(i, v.now, false)).collect(),
            quiet_days: QUIET_DAYS,
        }
    }
}

#[derive(Deserialize)]
pub(super) struct WhoQuery {
    #[serde(default)]
    worker: Option<String>,
    #[serde(default)]
    unit: Option<String>,
    #[serde(default)]
    all: Option<String>,
}

fn id_of(v: Option<&str>) -> Option<u64> {
    v.and_then(|v| v.parse().ok())
}

/// `GET /caseload`: the reader's 担当ケース, or with `?worker=` a worker's (for a supervisor or
/// the head).
pub(super) fn caseload(
    service: Arc<Service>,
) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    warp::path!("caseload").and(warp::get()).and(warp::query::<WhoQuery>()).and(signed_in(service)).then(
        |q: WhoQuery, page: Page| async move {
            let (svc, session) = or_respond!(page);
            let actor = session.actor.clone();
            let worker = id_of(q.worker.as_deref()).map(StaffId).filter(|w| *w != actor.staff());
            let (own, all) = (worker.is_none(), q.all.is_some());
            let found = blocking(move || match worker {
                Some(w) => svc.worker_caseload(&actor, w),
                None => svc.my_caseload(&actor),
            })
            .await;
            match found {
                Ok(v) => {
                    let title = if own {
                        "担当ケース".to_owned()
                    } else {
                        format!("担当ケース {}", v.worker_name)
                    };
                    // Another worker's list is reached from 担当状況.
                    let chrome = Chrome::new(&session, title, if own { "caseload" } else { "caseloads" });
                    html(&CaseloadPage::of(chrome, &v, own, all), StatusCode::OK)
                }
                Err(e) => error_page(&session, &e),
            }
        },
    )
}

/// `GET /caseloads`: 担当状況 of one of the reader's units (`?unit=`), for a supervisor or the
/// head.
pub(super) fn loads(service: Arc<Service>) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    warp::path!("caseloads").and(warp::get()).and(warp::query::<WhoQuery>()).and(signed_in(service)).then(
        |q: WhoQuery, page: Page| async move {
            let (svc, session) = or_respond!(page);
            let actor = session.actor.clone();
            let unit = id_of(q.unit.as_deref()).map(UnitId);
            match blocking(move || svc.caseloads(&actor, unit)).await {
                Ok(v) => {
                    let chrome = Chrome::new(&session, "担当状況", "caseloads");
                    html(&LoadsPage::of(chrome, &v), StatusCode::OK)
                }
                Err(e) => error_page(&session, &e),
            }
        },
    )
}
