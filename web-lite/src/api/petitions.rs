//! 家庭裁判所への申立て over `/api/v1/cases/{id}/petitions`: `GET` lists the case's petitions
//! and the documents a new one would attach now; `POST` prepares one (`kind`, `placement` for a
//! 28条 petition, `grounds`, `withhold`: the keys of the documents marked 非開示希望, `filed_on`);
//! `PUT …/petitions/{petition}` with `{"rev", "body"}` revises one until it is filed. The same
//! service calls as the page; the paper itself is a form (`…/forms/extension-petition`,
//! `…/forms/placement-petition`, `?petition=ID`).

use std::sync::Arc;

use mamoru_core::case::NewPetition;
use mamoru_core::ids::{CaseId, CourtPetitionId};
use mamoru_core::service::SessionInfo;
use mamoru_core::{Error, Service};
use serde::Deserialize;
use serde_json::{Value, json};
use warp::Filter;
use warp::http::StatusCode;
use warp::reply::Response;

use super::cases::recorded;
use super::casework::{parsed, revision};
use super::{Authed, authenticated, json_ok, respond};
use crate::blocking;

/// A petition: core's command and the draft's idempotency key.
#[derive(Deserialize)]
struct PetitionIn {
    #[serde(flatten)]
    petition: NewPetition,
    #[serde(default)]
    idempotency_key: Option<String>,
}

fn prepare(svc: &Service, session: &SessionInfo, case: CaseId, input: PetitionIn) -> Result<Value, Error> {
    let key = input.idempotency_key.as_deref();
    let v = svc.prepare_petition(&session.actor, case, input.petition, key)?;
    Ok(json!({ "id": v.id, "rev": v.rev }))
}

pub(super) fn routes(
    service: Arc<Service>,
) -> impl Filter<Extract = (Response,), Error = warp::Rejection> + Clone {
    let list = warp::path!("api" / "v1" / "cases" / u64 / "petitions")
        .and(warp::get())
        .and(authenticated(service.clone()))
        .then(|case: u64, auth: Authed| async move {
            let (svc, session) = or_respond!(auth);
            let result = blocking(move || svc.case_petitions(&session.actor, CaseId(case))).await;
            respond(result, |view| json_ok(StatusCode::OK, &view))
        });
    let post = recorded(service.clone(), "petitions", prepare);
    let put = revision(service, "petitions", |svc, s, case, id, rev, body| {
        let p: NewPetition = parsed(body)?;
        svc.revise_petition(&s.actor, case, CourtPetitionId(id), rev, p).map(|v| (v.id, v.rev))
    });
    list.or(post).unify().or(put).unify()
}
