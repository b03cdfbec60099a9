//! 統計: the national report's tables of a unit for a period (`GET /statistics`), each number a
//! link to the cases it counts (`GET /statistics/cell`), the warnings to check before filing, and
//! the XLSX to file (`/api/v1/statistics/xlsx`). Core counts, names and audits; this parses the
//! period and draws.

use std::sync::Arc;

use askama::Template;
use mamoru_core::Service;
use mamoru_core::ids::UnitId;
use mamoru_core::service::statistics::{CellCases, StatisticsView};
use mamoru_core::statistics::{Span, presets};
use mamoru_core::wareki;
use serde::Deserialize;
use warp::http::StatusCode;
use warp::reply::Response;
use warp::{Filter, Rejection};

use super::views::Chrome;
use super::{Page, error_page, html, signed_in};
use crate::blocking;

/// The query both pages read: the unit, the period (either calendar), and for a cell its table,
/// row and column keys.
#[derive(Deserialize, Default)]
pub(super) struct StatQuery {
    unit: Option<String>,
    from: Option<String>,
    to: Option<String>,
    table: Option<String>,
    row: Option<String>,
    col: Option<String>,
}

/// The period asked for (core's `span_of`: both days or neither).
fn span_of(q: &StatQuery, today: mamoru_core::time::Date) -> Result<Span, mamoru_core::Error> {
    mamoru_core::statistics::span_of(q.from.as_deref(), q.to.as_deref(), today)
}

fn unit_of(q: &StatQuery) -> Option<UnitId> {
    q.unit.as_deref().and_then(|u| u.parse().ok()).map(UnitId)
}

/// The query of a unit and a period, for links.
fn period_query(unit: UnitId, span: Span) -> String {
    format!("unit={}&from={}&to={}", unit.0, span.from, span.to)
}

pub(crate) struct TableView {
    pub title: &'static str,
    pub rule: &'static str,
    pub heads: Vec<String>,
    /// (label, depth, total, cells).
    pub rows: Vec<(String, u8, bool, Vec<NumberView>)>,
}

/// A number: (value, the link to its cases or empty when it counts none, its rule's name).
pub(crate) type NumberView = (u64, String, String);

pub(crate) struct WarningView {
    pub label: &'static str,
    pub advice: &'static str,
    pub detail: String,
    /// (case id, case number): the first `LISTED`.
    pub cases: Vec<(u64, String)>,
    /// The cases not listed (the XLSX lists every one).
    pub more: usize,
}

/// The cases a warning links to on the page; a tablet is not the place for thousands of links.
const LISTED: usize = 100;

#[derive(Template)]
#[template(path = "statistics.html")]
pub(crate) struct StatisticsPage {
    pub chrome: Chrome,
    pub unit: String,
    pub unit_id: u64,
    pub units: Vec<(u64, String)>,
    pub from: String,
    pub to: String,
    pub period: String,
    /// (label, query) of each preset period.
    pub presets: Vec<(&'static str, String)>,
    pub xlsx: String,
    pub tables: Vec<TableView>,
    pub warnings: Vec<WarningView>,
}

impl StatisticsPage {
    fn of(chrome: Chrome, v: &StatisticsView, today: mamoru_core::time::Date) -> Self {
        let s = &v.statistics;
        let query = period_query(v.unit, s.span);
        let tables = s
            .tables
            .iter()
            .map(|t| TableView {
                title: t.title,
                rule: t.rule,
                heads: t.columns.iter().map(|c| c.label.clone()).collect(),
                rows: t
                    .rows
                    .iter()
                    .zip(&t.cells)
                    .enumerate()
                    .map(|(ri, (line, cells))| {
                        let cells = cells
                            .iter()
                            .enumerate()
                            .map(|(ci, c)| {
                                let link = if c.cases.is_empty() {
                                    String::new()
                                } else {
                                    format!(
                                        "/statistics/cell?{query}&table={}&row={}&col={}",
                                        t.key,
                                        crate::percent(&line.key),
                                        crate::percent(&t.columns[ci].key)
                                    )
                                };
                                (c.value, link, t.cell_rule(ri, ci))
                            })
                            .collect();
                        (line.label.clone(), line.depth, line.holds.is_none(), cells)
                    })
                    .collect(),
            })
            .collect();
        let warnings = s
            .warnings
            .iter()
            .map(|w| WarningView {
                label: w.kind.label(),
                advice: w.kind.advice(),
                detail: w.detail.clone(),
                cases: w
                    .cases
                    .iter()
                    .take(LISTED)
                    .filter_map(|c| s.case_nos.get(c).map(|n| (c.0, n.clone())))
                    .collect(),
                more: w.cases.len().saturating_sub(LISTED),
            })
            .collect();
        Self {
            chrome,
            unit: v.unit_name.clone(),
            unit_id: v.unit.0,
            units: v.units.iter().map(|(id, n)| (id.0, n.clone())).collect(),
            from: wareki::format_short(s.span.from),
            to: wareki::format_short(s.span.to),
            period: format!("{}〜{}", wareki::format(s.span.from), wareki::format(s.span.to)),
            presets: presets(today)
                .into_iter()
                .map(|(label, span)| (label, period_query(v.unit, span)))
                .collect(),
            xlsx: format!("/api/v1/statistics/xlsx?{query}"),
            tables,
            warnings,
        }
    }
}

#[derive(Template)]
#[template(path = "statistics_cell.html")]
pub(crate) struct CellPage {
    pub chrome: Chrome,
    pub unit: String,
    pub period: String,
    pub back: String,
    pub table: &'static str,
    pub row: String,
    pub column: String,
    pub rule: String,
    pub rule_text: &'static str,
    pub value: u64,
    /// (case id, case number, child, received).
    pub cases: Vec<(u64, String, String, String)>,
    pub hidden: usize,
    pub more: usize,
}

impl CellPage {
    fn of(chrome: Chrome, v: &CellCases, unit: Option<UnitId>) -> Self {
        let back = match unit {
            Some(u) => format!("/statistics?{}", period_query(u, v.span)),
            None => format!("/statistics?from={}&to={}", v.span.from, v.span.to),
        };
        Self {
            chrome,
            unit: v.unit_name.clone(),
            period: format!("{}〜{}", wareki::format(v.span.from), wareki::format(v.span.to)),
            back,
            table: v.table,
            row: v.row.clone(),
            column: v.column.clone(),
            rule: v.rule.clone(),
            rule_text: v.rule_text,
            value: v.value,
            cases: v
                .cases
                .iter()
                .map(|c| (c.case.0, c.case_no.clone(), c.child_name.clone(), wareki::format(c.received_on)))
                .collect(),
            hidden: v.hidden,
            more: v.more,
        }
    }
}

/// `GET /statistics` and `GET /statistics/cell`.
pub(super) fn routes(service: Arc<Service>) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    let page = warp::path!("statistics")
        .and(warp::get())
        .and(warp::query::<StatQuery>())
        .and(signed_in(service.clone()))
        .then(|q: StatQuery, page: Page| async move {
            let (svc, session) = or_respond!(page);
            let today = svc.now().jst_date();
            let span = match span_of(&q, today) {
                Ok(s) => s,
                Err(e) => return error_page(&session, &e),
            };
            let actor = session.actor.clone();
            let unit = unit_of(&q);
            match blocking(move || svc.statistics(&actor, unit, span)).await {
                Ok(v) => html(
                    &StatisticsPage::of(Chrome::new(&session, "統計", "statistics"), &v, today),
                    StatusCode::OK,
                ),
                Err(e) => error_page(&session, &e),
            }
        });
    let cell = warp::path!("statistics" / "cell")
        .and(warp::get())
        .and(warp::query::<StatQuery>())
        .and(signed_in(service))
        .then(|q: StatQuery, page: Page| async move {
            let (svc, session) = or_respond!(page);
            let span = match span_of(&q, svc.now().jst_date()) {
                Ok(s) => s,
                Err(e) => return error_page(&session, &e),
            };
            let actor = session.actor.clone();
            let unit = unit_of(&q);
            let (table, row, col) = (
                q.table.clone().unwrap_or_default(),
                q.row.clone().unwrap_or_default(),
                q.col.clone().unwrap_or_default(),
            );
            match blocking(move || svc.statistics_cell(&actor, unit, span, (&table, &row, &col))).await {
                Ok(v) => html(
                    &CellPage::of(Chrome::new(&session, "統計の内訳", "statistics"), &v, unit),
                    StatusCode::OK,
                ),
                Err(e) => error_page(&session, &e),
            }
        });
    page.or(cell).unify()
}
