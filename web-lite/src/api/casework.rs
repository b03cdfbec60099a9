//! The casework on a case over `/api/v1/cases/{id}/...`: the investigation edited against its
//! revision (merged with an edit saved meanwhile, 409 with the fields both changed otherwise),
//! assessments, temporary protection and its later steps (one step a `POST`, or the whole record
//! sent back, which core turns into steps under the same rules), support decisions, meetings,
//! closing and reopening. The same service calls as the pages. A record sent back for a new
//! revision is `{"rev", "body"}`, `body` as `GET /api/v1/cases/{id}` shows it; times may be sent
//! as seconds or as ISO text (Japan time without an offset).

use mamoru_core::case::StatusChange;
use std::collections::BTreeMap;
use std::sync::Arc;

use mamoru_core::case::{Case, NewMeeting, SupportDecision};
use mamoru_core::code_table::Code;
use mamoru_core::ids::{CaseId, ProtectionId, StaffId, SupportId};
use mamoru_core::protection::{ProtectionStep, SentProtection, StartProtection};
use mamoru_core::service::SessionInfo;
use mamoru_core::service::Versioned;
use mamoru_core::time::Timestamp;
use mamoru_core::{Error, Service};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use warp::Filter;
use warp::http::StatusCode;
use warp::reply::Response;

use super::cases::recorded;
use super::{AuthedJson, authed_json, authenticated, json_ok, respond};
use crate::{blocking, error_response};

/// A new revision of a record: the revision it was edited from, and the record.
#[derive(Deserialize)]
struct Revised {
    rev: u64,
    body: Value,
}

#[derive(Deserialize)]
struct AssessmentIn {
    sheet: String,
    answers: BTreeMap<String, bool>,
    #[serde(default)]
    idempotency_key: Option<String>,
}

#[derive(Deserialize)]
struct MeetingIn {
    kind: Code,
    at: Timestamp,
    #[serde(default)]
    attendees: Vec<StaffId>,
    #[serde(default)]
    outside_attendees: Vec<String>,
    /// Further cases discussed, besides the one in the path.
    #[serde(default)]
    cases: Vec<CaseId>,
    #[serde(default)]
    decisions: String,
    #[serde(default)]
    idempotency_key: Option<String>,
}

#[derive(Deserialize)]
struct CloseIn {
    rev: u64,
    #[serde(default)]
    reason: String,
}

/// A record as the client sent it back whole (what core keeps itself, such as its case, is
/// ignored).
pub(super) fn parsed<T: DeserializeOwned>(body: Value) -> Result<T, Error> {
    if !body.is_object() {
        return Err(Error::invalid("body", "must be a JSON object"));
    }
    serde_json::from_value(body).map_err(|e| Error::invalid("body", e.to_string()))
}

/// A start of 一時保護: core's command and the draft's idempotency key.
#[derive(Deserialize)]
struct StartIn {
    #[serde(flatten)]
    start: StartProtection,
    #[serde(default)]
    idempotency_key: Option<String>,
}

fn start_protection(
    svc: &Service,
    session: &SessionInfo,
    case: CaseId,
    input: StartIn,
) -> Result<Value, Error> {
    let key = input.idempotency_key.as_deref();
    let v = svc.start_protection_once(&session.actor, case, input.start, key)?;
    Ok(json!({ "id": v.id, "rev": v.rev }))
}

/// One later step of a protection: the revision it was recorded from, and the step
/// (`{"rev": 2, "step": "end", "at": "…", "reason": "…"}`).
#[derive(Deserialize)]
struct StepIn {
    rev: u64,
    #[serde(flatten)]
    step: ProtectionStep,
}

/// `POST /api/v1/cases/{id}/protections/{p}/steps`: core applies the step by the law's order
/// (the same call as the page's step forms); a step sent again answers the stored revision.
fn protection_step(
    service: Arc<Service>,
) -> impl Filter<Extract = (Response,), Error = warp::Rejection> + Clone {
    warp::path!("api" / "v1" / "cases" / u64 / "protections" / u64 / "steps")
        .and(warp::post())
        .and(authed_json::<StepIn>(service))
        .then(|case: u64, id: u64, input: AuthedJson<StepIn>| async move {
            let (svc, session, input) = or_respond!(input);
            let result = blocking(move || {
                svc.record_protection_step(
                    &session.actor,
                    CaseId(case),
                    ProtectionId(id),
                    input.rev,
                    input.step,
                )
            })
            .await;
            respond(result, |v| {
                json_ok(StatusCode::OK, &json!({ "id": v.id, "rev": v.rev, "protection": v.body }))
            })
        })
}

/// A support decision: core's command and the draft's idempotency key. A hearing's `by`, sent
/// by older clients, is not read: the child is heard by whoever records it.
#[derive(Deserialize)]
struct SupportIn {
    #[serde(flatten)]
    decision: SupportDecision,
    #[serde(default)]
    idempotency_key: Option<String>,
}

fn record_support(
    svc: &Service,
    session: &SessionInfo,
    case: CaseId,
    input: SupportIn,
) -> Result<Value, Error> {
    let key = input.idempotency_key.as_deref();
    let v = svc.record_support_once(&session.actor, case, input.decision, key)?;
    Ok(json!({ "id": v.id, "rev": v.rev }))
}

fn record_assessment(
    svc: &Service,
    session: &SessionInfo,
    case: CaseId,
    a: AssessmentIn,
) -> Result<Value, Error> {
    let v =
        svc.record_assessment_once(&session.actor, case, &a.sheet, a.answers, a.idempotency_key.as_deref())?;
    Ok(json!({ "id": v.id, "result": v.body.result, "result_label": v.body.result_label }))
}

fn record_meeting(svc: &Service, session: &SessionInfo, case: CaseId, m: MeetingIn) -> Result<Value, Error> {
    // The case in the path first: the meeting belongs to its unit.
    let mut cases = vec![case];
    cases.extend(m.cases.into_iter().filter(|c| *c != case));
    let meeting = NewMeeting {
        kind: m.kind,
        at: m.at,
        attendees: m.attendees,
        outside_attendees: m.outside_attendees,
        cases,
        decisions: m.decisions,
    };
    let v = svc.record_meeting_once(&session.actor, meeting, m.idempotency_key.as_deref())?;
    Ok(json!({ "id": v.id }))
}

/// What became of a `PUT` of the case.
enum Edited {
    Saved(Value),
    /// Both changed some of the same fields: nothing written.
    Clash(Value),
}

fn edit_case(svc: &Service, session: &SessionInfo, case: CaseId, r: Revised) -> Result<Edited, Error> {
    let body: Case = serde_json::from_value(r.body).map_err(|e| Error::invalid("body", e.to_string()))?;
    match svc.update_case(&session.actor, case, r.rev, body.clone()) {
        Ok(e) => Ok(Edited::Saved(
            json!({ "id": e.case.id, "rev": e.case.rev, "merged": e.merged, "case": e.case }),
        )),
        Err(e @ Error::Conflict { .. }) => {
            let (current, merged) = svc.merge_case_update(&session.actor, case, r.rev, &body)?;
            Ok(Edited::Clash(json!({
                "error": { "code": e.code(), "message": e.to_string() },
                "clashes": merged.clashes,
                "current": current,
                "merged": merged.body,
            })))
        }
        Err(e) => Err(e),
    }
}

pub(super) fn routes(
    service: Arc<Service>,
) -> impl Filter<Extract = (Response,), Error = warp::Rejection> + Clone {
    let edit = warp::path!("api" / "v1" / "cases" / u64)
        .and(warp::put())
        .and(authed_json::<Revised>(service.clone()))
        .then(|id: u64, input: AuthedJson<Revised>| async move {
            let (svc, session, input) = or_respond!(input);
            match blocking(move || edit_case(&svc, &session, CaseId(id), input)).await {
                Ok(Edited::Saved(v)) => json_ok(StatusCode::OK, &v),
                Ok(Edited::Clash(v)) => json_ok(StatusCode::CONFLICT, &v),
                Err(e) => error_response(&e),
            }
        });
    let close = status(service.clone(), "close", |svc, s, case, input| {
        let close = StatusChange::Close { reason: input.reason.clone() };
        svc.change_case_status(&s.actor, case, input.rev, &close)
    });
    let reopen = status(service.clone(), "reopen", |svc, s, case, input| {
        svc.change_case_status(&s.actor, case, input.rev, &StatusChange::Reopen)
    });
    let protection = recorded(service.clone(), "protections", start_protection);
    let support = recorded(service.clone(), "supports", record_support);
    let assessment = recorded(service.clone(), "assessments", record_assessment);
    let meeting = recorded(service.clone(), "meetings", record_meeting);
    // The whole record sent back: core turns it into the steps it adds, under the same rules.
    let whole = revision(service.clone(), "protections", |svc, s, case, id, rev, body| {
        let sent: SentProtection = parsed(body)?;
        svc.update_protection(&s.actor, case, ProtectionId(id), rev, sent).map(|v| (v.id, v.rev))
    });
    let step = protection_step(service.clone());
    // The whole record sent back: a decision as core checks every decision (the hearer of an
    // unchanged hearing kept).
    let support_rev = revision(service.clone(), "supports", |svc, s, case, id, rev, body| {
        let d: SupportDecision = parsed(body)?;
        svc.revise_support(&s.actor, case, SupportId(id), rev, d).map(|v| (v.id, v.rev))
    });
    let sheets = warp::path!("api" / "v1" / "assessment-sheets")
        .and(warp::get())
        .and(authenticated(service))
        .then(|auth: super::Authed| async move {
            let (svc, _session) = or_respond!(auth);
            let result = blocking(move || svc.assessment_sheets()).await;
            respond(result, |sheets| json_ok(StatusCode::OK, &json!({ "sheets": sheets })))
        });
    edit.or(close)
        .unify()
        .or(reopen)
        .unify()
        .or(protection)
        .unify()
        .or(support)
        .unify()
        .or(assessment)
        .unify()
        .or(meeting)
        .unify()
        .or(step)
        .unify()
        .or(whole)
        .unify()
        .or(support_rev)
        .unify()
        .or(sheets)
        .unify()
}

/// The work of a `PUT`: the case in the path, the record's id, the revision it was edited from
/// and the record; answers the record's id and new revision.
type Revise = fn(&Service, &SessionInfo, CaseId, u64, u64, Value) -> Result<(u64, u64), Error>;

/// `PUT /api/v1/cases/{id}/WHAT/{record}` with `{"rev", "body"}`: a new revision of a record of
/// the case; 409 when someone else saved since `rev`.
pub(super) fn revision(
    service: Arc<Service>,
    what: &'static str,
    work: Revise,
) -> impl Filter<Extract = (Response,), Error = warp::Rejection> + Clone {
    warp::path!("api" / "v1" / "cases" / u64 / ..)
        .and(warp::path(what))
        .and(warp::path::param::<u64>())
        .and(warp::path::end())
        .and(warp::put())
        .and(authed_json::<Revised>(service))
        .then(move |case: u64, id: u64, input: AuthedJson<Revised>| async move {
            let (svc, session, input) = or_respond!(input);
            let result =
                blocking(move || work(&svc, &session, CaseId(case), id, input.rev, input.body)).await;
            respond(result, |(id, rev)| json_ok(StatusCode::OK, &json!({ "id": id, "rev": rev })))
        })
}

/// The work of closing or reopening a case.
type ChangeStatus = fn(&Service, &SessionInfo, CaseId, CloseIn) -> Result<Versioned<Case>, Error>;

/// `POST /api/v1/cases/{id}/WHAT` with `{"rev", "reason"?}`: closing or reopening the case;
/// answers its new revision and status.
fn status(
    service: Arc<Service>,
    what: &'static str,
    work: ChangeStatus,
) -> impl Filter<Extract = (Response,), Error = warp::Rejection> + Clone {
    warp::path!("api" / "v1" / "cases" / u64 / ..)
        .and(warp::path(what))
        .and(warp::path::end())
        .and(warp::post())
        .and(authed_json::<CloseIn>(service))
        .then(move |id: u64, input: AuthedJson<CloseIn>| async move {
            let (svc, session, input) = or_respond!(input);
            let result = blocking(move || work(&svc, &session, CaseId(id), input)).await;
            respond(result, |v| {
                json_ok(StatusCode::OK, &json!({ "id": v.id, "rev": v.rev, "status": v.body.status }))
            })
        })
}
