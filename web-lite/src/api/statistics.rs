//! 統計 over HTTP: `GET /api/v1/statistics` (the tables' figures and the warnings' counts, no
//! case), `GET /api/v1/statistics/cell` (the cases behind one number, named only where the
//! reader may read them) and `GET /api/v1/statistics/xlsx` (the file to submit). Each takes
//! `unit` and the period `from`/`to` (西暦 or 和暦; neither: the last whole fiscal year). Core
//! counts and audits; this parses and answers.

use std::sync::Arc;

use mamoru_core::Service;
use mamoru_core::ids::UnitId;
use mamoru_core::service::statistics::StatisticsFile;
use mamoru_core::statistics::span_of;
use serde::Deserialize;
use serde_json::json;
use warp::Filter;
use warp::http::StatusCode;
use warp::reply::Response;

use super::{Authed, authenticated, json_ok, respond};
use crate::blocking;

#[derive(Deserialize, Default)]
pub(super) struct StatQuery {
    /// Any integer the document allows; a unit that does not exist is not found.
    unit: Option<u64>,
    from: Option<String>,
    to: Option<String>,
    table: Option<String>,
    row: Option<String>,
    col: Option<String>,
}

impl StatQuery {
    /// The period asked for (core's `span_of`: both days or neither, the default's today is the
    /// service's).
    fn span(&self, svc: &Service) -> Result<mamoru_core::statistics::Span, mamoru_core::Error> {
        span_of(self.from.as_deref(), self.to.as_deref(), svc.now().jst_date())
    }
}

pub(super) fn routes(
    service: Arc<Service>,
) -> impl Filter<Extract = (Response,), Error = warp::Rejection> + Clone {
    let figures = warp::path!("api" / "v1" / "statistics")
        .and(warp::get())
        .and(warp::query::<StatQuery>())
        .and(authenticated(service.clone()))
        .then(|q: StatQuery, auth: Authed| async move {
            let (svc, session) = or_respond!(auth);
            let result = blocking(move || {
                let span = q.span(&svc)?;
                svc.statistics(&session.actor, q.unit.map(UnitId), span)
            })
            .await;
            respond(result, |v| {
                let s = &v.statistics;
                let tables: Vec<_> = s
                    .tables
                    .iter()
                    .map(|t| {
                        let line = |l: &mamoru_core::statistics::Line| {
                            json!({ "key": l.key, "label": l.label, "depth": l.depth })
                        };
                        json!({
                            "key": t.key,
                            "title": t.title,
                            "rule": t.rule,
                            "rows": t.rows.iter().map(line).collect::<Vec<_>>(),
                            "columns": t.columns.iter().map(line).collect::<Vec<_>>(),
                            "values": t.cells.iter().map(|r| r.iter().map(|c| c.value).collect::<Vec<_>>()).collect::<Vec<_>>(),
                        })
                    })
                    .collect();
                let warnings: Vec<_> = s
                    .warnings
                    .iter()
                    .map(|w| json!({ "kind": w.kind.as_str(), "label": w.kind.label(), "cases": w.cases.len(), "detail": w.detail }))
                    .collect();
                json_ok(
                    StatusCode::OK,
                    &json!({
                        "unit": v.unit.0,
                        "unit_name": v.unit_name,
                        "from": s.span.from.to_string(),
                        "to": s.span.to.to_string(),
                        "tables": tables,
                        "warnings": warnings,
                    }),
                )
            })
        });
    let cell = warp::path!("api" / "v1" / "statistics" / "cell")
        .and(warp::get())
        .and(warp::query::<StatQuery>())
        .and(authenticated(service.clone()))
        .then(|q: StatQuery, auth: Authed| async move {
            let (svc, session) = or_respond!(auth);
            let result = blocking(move || {
                let span = q.span(&svc)?;
                let key = |k: &Option<String>| k.clone().unwrap_or_default();
                let (table, row, col) = (key(&q.table), key(&q.row), key(&q.col));
                svc.statistics_cell(&session.actor, q.unit.map(UnitId), span, (&table, &row, &col))
            })
            .await;
            respond(result, |v| json_ok(StatusCode::OK, &v))
        });
    let xlsx = warp::path!("api" / "v1" / "statistics" / "xlsx")
        .and(warp::get())
        .and(warp::query::<StatQuery>())
        .and(authenticated(service))
        .then(|q: StatQuery, auth: Authed| async move {
            let (svc, session) = or_respond!(auth);
            let result = blocking(move || {
                let span = q.span(&svc)?;
                svc.statistics_xlsx(&session.actor, q.unit.map(UnitId), span)
            })
            .await;
            respond(result, xlsx_response)
        });
    figures.or(cell).unify().or(xlsx).unify()
}

/// The workbook as a download, its Japanese name as RFC 6266 `filename*`.
fn xlsx_response(file: StatisticsFile) -> Response {
    super::file_response(
        file.xlsx,
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "attachment",
        ("statistics.xlsx", &file.file_name),
    )
}
