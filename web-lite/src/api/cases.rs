//! `/api/v1/cases`: a case as its page shows it, intakes (a child on file or a new one, after a
//! duplicate check), notes and safety checks. The same service calls as the pages; a tablet's
//! retry with the same idempotency key stores nothing twice.

use std::sync::Arc;

use mamoru_core::case::{IntakeKind, NewAbuse, NewIntake, NewNote, NewSafetyCheck, Reporter};
use mamoru_core::code_table::Code;
use mamoru_core::ids::{CaseId, ChildId, StaffId, UnitId};
use mamoru_core::service::{IntakeChild, IntakeOutcome, NewCase, SessionInfo};
use mamoru_core::{Error, Service, wareki};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use warp::Filter;
use warp::http::StatusCode;
use warp::reply::Response;

use super::{AuthedJson, ChildIn, authed_json, authenticated, json_ok, new_child, respond};
use crate::blocking;

#[derive(Deserialize)]
pub(super) struct IntakeIn {
    /// A child on file; or `new_child`, checked for duplicates first.
    #[serde(default)]
    child: Option<u64>,
    #[serde(default)]
    new_child: Option<ChildIn>,
    /// Register `new_child` although children who may be the same were found.
    #[serde(default)]
    confirm_new: bool,
    #[serde(default)]
    unit: Option<u64>,
    kind: IntakeKind,
    received_at: String,
    route: Code,
    consultation_type: Code,
    #[serde(default)]
    chief_complaint: String,
    #[serde(default)]
    content: String,
    #[serde(default)]
    abuse: Option<NewAbuse>,
    #[serde(default)]
    reporter: Option<Reporter>,
    #[serde(default)]
    assigned: Vec<u64>,
    #[serde(default)]
    idempotency_key: Option<String>,
}

/// A progress note: core's command and the draft's idempotency key.
#[derive(Deserialize)]
pub(super) struct NoteIn {
    #[serde(flatten)]
    note: NewNote,
    #[serde(default)]
    idempotency_key: Option<String>,
}

#[derive(Deserialize)]
pub(super) struct MessageIn {
    body: String,
    #[serde(default)]
    idempotency_key: Option<String>,
}

/// A safety check: core's command and the draft's idempotency key. Core names every field a
/// check lacks (the method is never assumed).
#[derive(Deserialize)]
pub(super) struct CheckIn {
    #[serde(flatten)]
    check: NewSafetyCheck,
    #[serde(default)]
    idempotency_key: Option<String>,
}

fn take_intake(svc: &Service, session: &SessionInfo, input: IntakeIn) -> Result<IntakeOutcome, Error> {
    let actor = &session.actor;
    let unit = input
        .unit
        .map(UnitId)
        .or_else(|| actor.units().first().copied())
        .ok_or_else(|| Error::invalid("unit", "required"))?;
    let new = NewCase {
        unit,
        intake: NewIntake {
            kind: input.kind,
            received_at: wareki::read_datetime("received_at", &input.received_at)?,
            route: input.route,
            consultation_type: input.consultation_type,
            chief_complaint: input.chief_complaint,
            content: input.content,
        },
        abuse: input.abuse.unwrap_or_default(),
        reporter: input.reporter,
        assigned: input.assigned.into_iter().map(StaffId).collect(),
    };
    let who = match (input.child, input.new_child) {
        (Some(id), None) => IntakeChild::Existing(ChildId(id), Vec::new()),
        (None, Some(c)) => IntakeChild::New(Box::new(new_child(c, unit)?)),
        _ => return Err(Error::invalid("child", "either child or new_child")),
    };
    svc.take_intake(actor, who, new, input.idempotency_key.as_deref(), input.confirm_new)
}

pub(super) fn routes(
    service: Arc<Service>,
) -> impl Filter<Extract = (Response,), Error = warp::Rejection> + Clone {
    let get = warp::path!("api" / "v1" / "cases" / u64)
        .and(warp::get())
        .and(authenticated(service.clone()))
        .then(|id: u64, auth: super::Authed| async move {
            let (svc, session) = or_respond!(auth);
            let result = blocking(move || svc.case(&session.actor, CaseId(id))).await;
            respond(result, |view| json_ok(StatusCode::OK, &view))
        });
    let intake = warp::path!("api" / "v1" / "cases").and(warp::post()).and(authed_json::<IntakeIn>(service.clone())).then(
        |input: AuthedJson<IntakeIn>| async move {
            let (svc, session, input) = or_respond!(input);
            let result = blocking(move || take_intake(&svc, &session, input)).await;
            respond(result, |taken| match taken {
                IntakeOutcome::Opened(case) => json_ok(StatusCode::CREATED, &json!({ "id": case.id, "case_no": case.body.case_no })),
                IntakeOutcome::PossibleDuplicates(found) => json_ok(
                    StatusCode::CONFLICT,
                    &json!({
                        "error": { "code": "possible_duplicates",
                            "message": "children who may be the same are on file: send `child` with one of them, or `confirm_new: true`" },
                        "candidates": found,
                    }),
                ),
            })
        },
    );
    let note = recorded(service.clone(), "notes", add_note);
    let check = recorded(service.clone(), "safety-checks", record_check);
    let message = recorded(service.clone(), "messages", post_message);
    // 通告者: only for the roles that may see it, each read audited as `view_reporter`.
    let reporter = warp::path!("api" / "v1" / "cases" / u64 / "reporter")
        .and(warp::get())
        .and(authenticated(service))
        .then(|id: u64, auth: super::Authed| async move {
            let (svc, session) = or_respond!(auth);
            let result = blocking(move || svc.reporter_page(&session.actor, CaseId(id))).await;
            respond(result, |(case_no, reporter)| {
                json_ok(StatusCode::OK, &json!({ "case_no": case_no, "reporter": reporter }))
            })
        });
    get.or(intake).unify().or(note).unify().or(check).unify().or(message).unify().or(reporter).unify()
}

/// `POST /api/v1/cases/{id}/WHAT` with a JSON body: `work` records it, and the answer is 201 with
/// what `work` says of the new record (its id at least).
pub(super) fn recorded<T: DeserializeOwned + Send + 'static>(
    service: Arc<Service>,
    what: &'static str,
    work: fn(&Service, &SessionInfo, CaseId, T) -> Result<Value, Error>,
) -> impl Filter<Extract = (Response,), Error = warp::Rejection> + Clone {
    warp::path!("api" / "v1" / "cases" / u64 / ..)
        .and(warp::path(what))
        .and(warp::path::end())
        .and(warp::post())
        .and(authed_json::<T>(service))
        .then(move |id: u64, input: AuthedJson<T>| async move {
            let (svc, session, input) = or_respond!(input);
            let result = blocking(move || work(&svc, &session, CaseId(id), input)).await;
            respond(result, |made| json_ok(StatusCode::CREATED, &made))
        })
}

fn add_note(svc: &Service, session: &SessionInfo, case: CaseId, input: NoteIn) -> Result<Value, Error> {
    let key = input.idempotency_key.clone();
    Ok(json!({ "id": svc.add_note_once(&session.actor, case, input.note, key.as_deref())?.id }))
}

fn record_check(svc: &Service, session: &SessionInfo, case: CaseId, input: CheckIn) -> Result<Value, Error> {
    let key = input.idempotency_key.clone();
    let v = svc.record_safety_check_once(&session.actor, case, input.check, key.as_deref())?;
    Ok(json!({ "id": v.id }))
}

#[expect(clippy::needless_pass_by_value, reason = "the shape `recorded` takes: every body is owned")]
fn post_message(
    svc: &Service,
    session: &SessionInfo,
    case: CaseId,
    input: MessageIn,
) -> Result<Value, Error> {
    Ok(
        json!({ "id": svc.post_message_once(&session.actor, case, &input.body, input.idempotency_key.as_deref())?.id }),
    )
}
