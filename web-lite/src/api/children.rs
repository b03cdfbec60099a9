//! `/api/v1/children`, `/api/v1/search` and `/api/v1/board`: registering and reading children,
//! the name search, the board of legal clocks.

use std::sync::Arc;

use mamoru_core::ids::{ChildId, UnitId};
use mamoru_core::person::{PersonName, Sex};
use mamoru_core::service::{NewChild, SessionInfo, as_guardian};
use mamoru_core::{Error, Service, wareki};
use serde::Deserialize;
use serde_json::json;
use warp::Filter;
use warp::http::StatusCode;
use warp::reply::Response;

use super::{Authed, AuthedJson, authed_json, authenticated, json_ok, query, respond};
use crate::{blocking, error_response};

#[derive(Deserialize)]
pub(super) struct ChildIn {
    family_name: String,
    #[serde(default)]
    given_name: String,
    family_name_kana: String,
    #[serde(default)]
    given_name_kana: String,
    birth_date: Option<String>,
    #[serde(default)]
    sex: String,
    #[serde(default)]
    unit: Option<u64>,
    #[serde(default)]
    address: String,
    #[serde(default)]
    phones: Vec<String>,
    #[serde(default)]
    affiliation: String,
    #[serde(default)]
    unborn: bool,
    /// Guardians, other adults and siblings on file, registered with the child in one write.
    #[serde(default)]
    family: Vec<super::family::MemberIn>,
}

/// `POST /api/v1/children`: the child, and the key that makes a retry register it once.
#[derive(Deserialize)]
pub(super) struct RegisterIn {
    #[serde(flatten)]
    child: ChildIn,
    #[serde(default)]
    idempotency_key: Option<String>,
}

#[derive(Deserialize)]
pub(super) struct SearchQuery {
    #[serde(default)]
    q: String,
}

#[derive(Deserialize)]
pub(super) struct BoardQuery {
    unit: Option<u64>,
    worker: Option<u64>,
}

pub(super) fn create_child_route(
    service: Arc<Service>,
) -> impl Filter<Extract = (Response,), Error = warp::Rejection> + Clone {
    warp::path!("api" / "v1" / "children").and(warp::post()).and(authed_json::<RegisterIn>(service)).then(
        |input: AuthedJson<RegisterIn>| async move {
            let (svc, session, input) = or_respond!(input);
            let result =
                blocking(move || create_child(&svc, &session, input.child, input.idempotency_key.as_deref()))
                    .await;
            respond(result, |(id, dups)| {
                json_ok(StatusCode::CREATED, &json!({"id": id, "possible_duplicates": dups}))
            })
        },
    )
}

pub(super) fn get_child(
    service: Arc<Service>,
) -> impl Filter<Extract = (Response,), Error = warp::Rejection> + Clone {
    warp::path!("api" / "v1" / "children" / u64).and(warp::get()).and(authenticated(service)).then(
        |id: u64, auth: Authed| async move {
            let (svc, session) = or_respond!(auth);
            let result = blocking(move || svc.child(&session.actor, ChildId(id))).await;
            respond(result, |view| json_ok(StatusCode::OK, &view))
        },
    )
}

pub(super) fn search(
    service: Arc<Service>,
) -> impl Filter<Extract = (Response,), Error = warp::Rejection> + Clone {
    warp::path!("api" / "v1" / "search")
        .and(warp::get())
        .and(query::<SearchQuery>())
        .and(authenticated(service))
        .then(|q: Result<SearchQuery, Response>, auth: Authed| async move {
            let (svc, session) = or_respond!(auth);
            let q = or_respond!(q);
            let result = blocking(move || svc.search(&session.actor, &q.q, 50)).await;
            respond(result, |results| json_ok(StatusCode::OK, &json!({ "results": results })))
        })
}

pub(super) fn board(
    service: Arc<Service>,
) -> impl Filter<Extract = (Response,), Error = warp::Rejection> + Clone {
    warp::path!("api" / "v1" / "board")
        .and(warp::get())
        .and(query::<BoardQuery>())
        .and(authenticated(service))
        .then(|q: Result<BoardQuery, Response>, auth: Authed| async move {
            let (svc, session) = or_respond!(auth);
            let q = or_respond!(q);
            let Some(unit) = q.unit.map(UnitId).or_else(|| session.actor.units().first().copied()) else {
                return error_response(&Error::invalid("unit", "required"));
            };
            let worker = q.worker.map(mamoru_core::ids::StaffId);
            let result = blocking(move || svc.board(&session.actor, unit, worker)).await;
            respond(result, |items| json_ok(StatusCode::OK, &json!({ "items": items })))
        })
}

pub(super) fn create_child(
    svc: &Service,
    session: &SessionInfo,
    input: ChildIn,
    key: Option<&str>,
) -> Result<(ChildId, Vec<mamoru_core::service::ChildSummary>), Error> {
    let unit = input
        .unit
        .map(UnitId)
        .or_else(|| session.actor.units().first().copied())
        .ok_or_else(|| Error::invalid("unit", "required"))?;
    let new = new_child(input, unit)?;
    let dups = match new.birth_date {
        Some(b) => svc.duplicate_candidates(&session.actor, b, &new.name.full_kana())?,
        None => Vec::new(),
    };
    let id = svc.register_child_once(&session.actor, new, key)?;
    // A retry finds the child it registered the first time: not a duplicate of itself.
    let dups = dups.into_iter().filter(|d| d.id != id).collect();
    Ok((id, dups))
}

/// A new child as the API describes one (birth date ISO or 和暦), in `unit` unless it names one.
pub(super) fn new_child(input: ChildIn, unit: UnitId) -> Result<NewChild, Error> {
    Ok(NewChild {
        family: input
            .family
            .into_iter()
            .map(|m| m.member_of_new_child().map_err(as_guardian))
            .collect::<Result<_, _>>()?,
        unit: input.unit.map_or(unit, UnitId),
        name: PersonName::new(
            &input.family_name,
            &input.given_name,
            &input.family_name_kana,
            &input.given_name_kana,
        )?,
        birth_date: input
            .birth_date
            .as_deref()
            .filter(|s| !s.trim().is_empty())
            .map(|b| wareki::read_date("birth_date", b))
            .transpose()?,
        unborn: input.unborn,
        sex: Sex::parse(&input.sex)?,
        address: input.address,
        phones: input.phones,
        affiliation: input.affiliation,
    })
}
