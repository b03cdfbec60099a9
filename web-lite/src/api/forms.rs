//! 帳票 over HTTP: `GET /api/v1/cases/{id}/forms` lists the forms the case has now;
//! `GET /api/v1/cases/{id}/forms/{form}` (`?version=N`; for `notes` `?from=&to=`; for
//! `meeting-minutes` `?meeting=ID`, for `support-notice` `?support=ID`, for `safety-check`
//! `?check=ID`, for `assessment` `?assessment=ID`, for a petition `?petition=ID`, else the
//! latest) is the
//! PDF, as an attachment named after the form and the case number, so the iPad saves or prints
//! it by the iPad print sheet. Core fills, renders and audits; this parses and answers.
//!
//! The templates, for administrators: `GET /api/v1/forms/templates` lists every version;
//! `POST /api/v1/forms/templates` adds the next version of a form (a `TemplateDraft`, as the
//! CLI's `mamoru form show` writes it in TOML), checked and audited by core.

use std::sync::Arc;

use mamoru_core::forms::{FormKind, TemplateDraft};
use mamoru_core::ids::{AssessmentId, CaseId, CourtPetitionId, MeetingId, SafetyCheckId, SupportId};
use mamoru_core::service::forms::{FormOptions, Period, PrintedForm};
use mamoru_core::time::Date;
use mamoru_core::{Error, Service};
use serde::Deserialize;
use serde_json::json;
use warp::Filter;
use warp::http::StatusCode;
use warp::reply::Response;

use super::{Authed, AuthedJson, authed_json, authenticated, json_ok, respond};
use crate::blocking;

#[derive(Deserialize, Default)]
pub(super) struct FormQuery {
    /// Any integer the document allows; a version no form has is not found.
    version: Option<u64>,
    meeting: Option<u64>,
    support: Option<u64>,
    petition: Option<u64>,
    check: Option<u64>,
    assessment: Option<u64>,
    from: Option<String>,
    to: Option<String>,
}

fn day(field: &'static str, s: Option<&str>) -> Result<Option<Date>, Error> {
    match s.map(str::trim).filter(|s| !s.is_empty()) {
        Some(s) => mamoru_core::wareki::read_date(field, s).map(Some),
        None => Ok(None),
    }
}

pub(super) fn routes(
    service: Arc<Service>,
) -> impl Filter<Extract = (Response,), Error = warp::Rejection> + Clone {
    let list = warp::path!("api" / "v1" / "cases" / u64 / "forms")
        .and(warp::get())
        .and(authenticated(service.clone()))
        .then(|case: u64, auth: Authed| async move {
            let (svc, session) = or_respond!(auth);
            let result = blocking(move || svc.case_forms(&session.actor, CaseId(case))).await;
            respond(result, |offers| {
                let forms: Vec<_> = offers
                    .iter()
                    .map(|o| {
                        json!({
                            "form": o.form.slug(),
                            "title": o.title,
                            "version": o.version,
                            "family_facing": o.family_facing,
                            "url": format!("/api/v1/cases/{case}/forms/{}", o.form.slug()),
                        })
                    })
                    .collect();
                json_ok(StatusCode::OK, &json!({ "forms": forms }))
            })
        });
    let get = warp::path!("api" / "v1" / "cases" / u64 / "forms" / String)
        .and(warp::get())
        .and(warp::query::<FormQuery>())
        .and(authenticated(service.clone()))
        .then(|case: u64, form: String, q: FormQuery, auth: Authed| async move {
            let (svc, session) = or_respond!(auth);
            let result = blocking(move || {
                let kind = FormKind::parse(&form)
                    .ok_or_else(|| Error::NotFound { what: "form", id: form.clone() })?;
                let period =
                    Period { from: day("from", q.from.as_deref())?, to: day("to", q.to.as_deref())? };
                let version = match q.version {
                    Some(v) => Some(
                        u32::try_from(v).map_err(|_| Error::NotFound { what: "form", id: form.clone() })?,
                    ),
                    None => None,
                };
                let options = FormOptions {
                    version,
                    period,
                    meeting: q.meeting.map(MeetingId),
                    support: q.support.map(SupportId),
                    petition: q.petition.map(CourtPetitionId),
                    check: q.check.map(SafetyCheckId),
                    assessment: q.assessment.map(AssessmentId),
                };
                svc.print_form(&session.actor, CaseId(case), kind, &options)
            })
            .await;
            respond(result, pdf_response)
        });
    list.or(get).unify().or(templates(service)).unify()
}

fn templates(service: Arc<Service>) -> impl Filter<Extract = (Response,), Error = warp::Rejection> + Clone {
    let list = warp::path!("api" / "v1" / "forms" / "templates")
        .and(warp::get())
        .and(authenticated(service.clone()))
        .then(|auth: Authed| async move {
            let (svc, session) = or_respond!(auth);
            let result = blocking(move || svc.form_templates(&session.actor)).await;
            respond(result, |all| json_ok(StatusCode::OK, &json!({ "templates": all })))
        });
    let add = warp::path!("api" / "v1" / "forms" / "templates")
        .and(warp::post())
        .and(authed_json::<TemplateDraft>(service))
        .then(|input: AuthedJson<TemplateDraft>| async move {
            let (svc, session, draft) = or_respond!(input);
            let result = blocking(move || svc.add_form_template(&session.actor, &draft)).await;
            respond(result, |t| json_ok(StatusCode::CREATED, &t))
        });
    list.or(add).unify()
}

/// The PDF, shown inline (the iPad opens it to print or save): an ASCII name for old clients,
/// the Japanese one as RFC 6266 `filename*`.
pub(crate) fn pdf_response(printed: PrintedForm) -> Response {
    super::file_response(printed.pdf, "application/pdf", "inline", ("form.pdf", &printed.file_name))
}
