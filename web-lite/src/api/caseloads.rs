//! 担当 over the API: `PUT /api/v1/cases/{id}/assignment` (the supervisor's change of a case's
//! workers), `GET /api/v1/caseload` (one's own open cases, or `?worker=` a worker's) and
//! `GET /api/v1/caseloads` (each worker's load in a unit, and the cases nobody works).

use std::sync::Arc;

use mamoru_core::Service;
use mamoru_core::case::Assign;
use mamoru_core::ids::{CaseId, StaffId, UnitId};
use serde::Deserialize;
use serde_json::json;
use warp::Filter;
use warp::http::StatusCode;
use warp::reply::Response;

use super::{Authed, AuthedJson, authed_json, authenticated, json_ok, query, respond};
use crate::blocking;

/// A change of workers from the case's revision `rev`.
#[derive(Deserialize)]
pub(super) struct AssignIn {
    rev: u64,
    #[serde(flatten)]
    assign: Assign,
}

#[derive(Deserialize)]
pub(super) struct Who {
    worker: Option<u64>,
    unit: Option<u64>,
}

pub(super) fn routes(
    service: Arc<Service>,
) -> impl Filter<Extract = (Response,), Error = warp::Rejection> + Clone {
    let assign = warp::path!("api" / "v1" / "cases" / u64 / "assignment")
        .and(warp::put())
        .and(authed_json::<AssignIn>(service.clone()))
        .then(|id: u64, input: AuthedJson<AssignIn>| async move {
            let (svc, session, input) = or_respond!(input);
            let result =
                blocking(move || svc.assign_case(&session.actor, CaseId(id), input.rev, &input.assign)).await;
            respond(result, |v| {
                let body = json!({ "id": v.id, "rev": v.rev, "assigned": v.body.assigned, "assignments": v.body.assignments });
                json_ok(StatusCode::OK, &body)
            })
        });
    let caseload = warp::path!("api" / "v1" / "caseload")
        .and(warp::get())
        .and(query::<Who>())
        .and(authenticated(service.clone()))
        .then(|who: Result<Who, Response>, auth: Authed| async move {
            let (svc, session) = or_respond!(auth);
            let who = or_respond!(who);
            let result = blocking(move || match who.worker.map(StaffId) {
                Some(w) if w != session.actor.staff() => svc.worker_caseload(&session.actor, w),
                _ => svc.my_caseload(&session.actor),
            })
            .await;
            respond(result, |v| json_ok(StatusCode::OK, &v))
        });
    let loads = warp::path!("api" / "v1" / "caseloads")
        .and(warp::get())
        .and(query::<Who>())
        .and(authenticated(service))
        .then(|who: Result<Who, Response>, auth: Authed| async move {
            let (svc, session) = or_respond!(auth);
            let who = or_respond!(who);
            let result = blocking(move || svc.caseloads(&session.actor, who.unit.map(UnitId))).await;
            respond(result, |v| json_ok(StatusCode::OK, &v))
        });
    assign.or(caseload).unify().or(loads).unify()
}
