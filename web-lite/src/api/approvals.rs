//! 決裁 over the API: `POST /api/v1/cases/{id}/closure-request` (終結伺い, `{"rev", "reason"}`),
//! and the approver's decision on what waits, `{"rev", "verdict": "approved" | "returned",
//! "comment"}` to `POST /api/v1/cases/{id}/assessments/{a}/approval`, `…/supports/{s}/approval`
//! or `…/closure-request/approval` (`rev`: of the record decided; of the case for a 終結伺い).
//! Each answers `{"id", "rev", "state", "status"}`. The same service calls as the case page.

use std::sync::Arc;

use mamoru_core::Service;
use mamoru_core::case::{Decide, Subject};
use mamoru_core::ids::{AssessmentId, CaseId, SupportId};
use serde::Deserialize;
use warp::Filter;
use warp::http::StatusCode;
use warp::reply::Response;

use super::{AuthedJson, authed_json, json_ok, respond};
use crate::blocking;

#[derive(Deserialize)]
struct AskIn {
    rev: u64,
    #[serde(default)]
    reason: String,
}

#[derive(Deserialize)]
struct DecideIn {
    rev: u64,
    #[serde(flatten)]
    decide: Decide,
}

/// The subject a path names.
type Of = fn(u64) -> Subject;

/// `POST …/{what}/{record}/approval`, or `…/closure-request/approval` with no record.
fn decide(
    service: Arc<Service>,
    route: impl Filter<Extract = (u64, u64), Error = warp::Rejection> + Clone,
    of: Of,
) -> impl Filter<Extract = (Response,), Error = warp::Rejection> + Clone {
    route.and(warp::post()).and(authed_json::<DecideIn>(service)).then(
        move |case: u64, record: u64, input: AuthedJson<DecideIn>| async move {
            let (svc, session, input) = or_respond!(input);
            let result = blocking(move || {
                svc.decide_approval(&session.actor, CaseId(case), of(record), input.rev, &input.decide)
            })
            .await;
            respond(result, |v| json_ok(StatusCode::OK, &v))
        },
    )
}

pub(super) fn routes(
    service: Arc<Service>,
) -> impl Filter<Extract = (Response,), Error = warp::Rejection> + Clone {
    let ask = warp::path!("api" / "v1" / "cases" / u64 / "closure-request")
        .and(warp::post())
        .and(authed_json::<AskIn>(service.clone()))
        .then(|id: u64, input: AuthedJson<AskIn>| async move {
            let (svc, session, input) = or_respond!(input);
            let result =
                blocking(move || svc.ask_closure(&session.actor, CaseId(id), input.rev, &input.reason)).await;
            respond(result, |v| json_ok(StatusCode::OK, &v))
        });
    let assessment = decide(
        service.clone(),
        warp::path!("api" / "v1" / "cases" / u64 / "assessments" / u64 / "approval"),
        |a| Subject::Assessment(AssessmentId(a)),
    );
    let support = decide(
        service.clone(),
        warp::path!("api" / "v1" / "cases" / u64 / "supports" / u64 / "approval"),
        |s| Subject::Support(SupportId(s)),
    );
    let closure = decide(
        service,
        warp::path!("api" / "v1" / "cases" / u64 / "closure-request" / "approval").and(warp::any().map(|| 0)),
        |_| Subject::Closure,
    );
    ask.or(assessment).unify().or(support).unify().or(closure).unify()
}
