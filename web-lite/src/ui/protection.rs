//! 一時保護 on the case page: starting one, and its legal steps one form each (the child's
//! hearing, the warrant request, its outcome, the challenge after a refusal, an extension, the family court's approval,
//! the end). Each step is written against the revision the page showed: if someone recorded a
//! step meanwhile, the page comes back with the refusal and the current state, and nothing is
//! overwritten. The forms are drafts like the others: kept offline, sent once when the tablet
//! is back (a start by its idempotency key; a step sent again finds it already recorded). Core
//! recomputes the 7-day, 3-day and 2-month clocks with every step.

use std::collections::HashMap;
use std::sync::Arc;

use mamoru_core::Service;
use mamoru_core::case::Hearing;
use mamoru_core::error::Error;
use mamoru_core::ids::{CaseId, ChildId, ProtectionId, StaffId};
use mamoru_core::protection::{
    CourtApproval, Extension, PlaceKind, Protection, ProtectionEnd, Warrant, WarrantOutcome,
};
use mamoru_core::time::{Date, Timestamp};
use warp::reply::Response;
use warp::{Filter, Rejection};

use super::{FORM_LIMIT, Page, case_write, idempotency_key, rev, same_origin, signed_in, text};

fn form_filter(
    service: Arc<Service>,
) -> impl Filter<Extract = (HashMap<String, String>, Page), Error = Rejection> + Clone {
    warp::post()
        .and(same_origin())
        .and(warp::body::content_length_limit(FORM_LIMIT))
        .and(warp::body::form::<HashMap<String, String>>())
        .and(signed_in(service))
}

fn at(form: &HashMap<String, String>) -> Result<Timestamp, Error> {
    Ok(Timestamp::parse(&text(form, "at"))?)
}

fn date(form: &HashMap<String, String>, key: &str) -> Result<Option<Date>, Error> {
    let t = text(form, key);
    if t.is_empty() { Ok(None) } else { Ok(Some(mamoru_core::wareki::parse(&t)?)) }
}

fn required_date(form: &HashMap<String, String>, key: &'static str) -> Result<Date, Error> {
    date(form, key)?.ok_or_else(|| Error::invalid(key, "日付を入力してください"))
}

/// Puts the step the form names into `p` (`by`: who records it).
fn apply(p: &mut Protection, form: &HashMap<String, String>, by: StaffId) -> Result<(), Error> {
    let no_warrant = || Error::invalid("warrant", "一時保護状の請求が記録されていません");
    match text(form, "step").as_str() {
        "warrant_request" => {
            p.warrant = Some(Warrant {
                requested_at: at(form)?,
                decided_at: None,
                outcome: None,
                challenge_filed_at: None,
            });
        }
        "hearing" => {
            let reason = text(form, "not_possible");
            p.hearing = Some(Hearing {
                at: at(form)?,
                by,
                method: text(form, "method"),
                views: text(form, "views"),
                not_possible_reason: Some(reason).filter(|r| !r.is_empty()),
            });
        }
        "warrant_decision" => {
            let outcome = match text(form, "outcome").as_str() {
                "issued" => WarrantOutcome::Issued,
                "refused" => WarrantOutcome::Refused,
                _ => return Err(Error::invalid("outcome", "選択してください")),
            };
            let w = p.warrant.as_mut().ok_or_else(no_warrant)?;
            w.decided_at = Some(at(form)?);
            w.outcome = Some(outcome);
        }
        "challenge" => p.warrant.as_mut().ok_or_else(no_warrant)?.challenge_filed_at = Some(at(form)?),
        "extension" => {
            // The form asks for the last day; core keeps the first day after it.
            let until = required_date(form, "until")?.plus_days(1);
            let court =
                date(form, "petitioned_on")?.map(|d| CourtApproval { petitioned_on: d, approved_on: None });
            let extension = Extension {
                decided_at: at(form)?,
                until,
                guardian_consent: form.contains_key("consent"),
                court,
            };
            // Sent again after its answer was lost: recorded once.
            if p.extensions.last() != Some(&extension) {
                p.extensions.push(extension);
            }
        }
        "court_approval" => {
            let approved = required_date(form, "approved_on")?;
            let court = p.extensions.last_mut().and_then(|e| e.court.as_mut());
            court
                .ok_or_else(|| Error::invalid("court", "家庭裁判所への申立てが記録されていません"))?
                .approved_on = Some(approved);
        }
        "end" => {
            let reason = text(form, "reason");
            if reason.is_empty() {
                return Err(Error::invalid("reason", "入力されていません"));
            }
            p.ended = Some(ProtectionEnd { at: at(form)?, reason });
        }
        _ => return Err(Error::invalid("step", "不明な操作です")),
    }
    Ok(())
}

pub(super) fn start(service: Arc<Service>) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    warp::path!("cases" / u64 / "protections").and(form_filter(service)).then(
        |id: u64, form: HashMap<String, String>, page: Page| {
            case_write(
                page,
                id,
                form,
                "protection#protection",
                |_| {},
                move |svc, session, form| {
                    let place_kind = match text(form, "place_kind").as_str() {
                        "entrusted" => PlaceKind::Entrusted,
                        _ => PlaceKind::Shelter,
                    };
                    let p = Protection {
                        case: CaseId(id),
                        child: ChildId(0),
                        started_at: at(form)?,
                        place_kind,
                        place: text(form, "place"),
                        reason: text(form, "reason"),
                        guardian_consent: form.contains_key("consent"),
                        hearing: None,
                        warrant: None,
                        extensions: Vec::new(),
                        notices: Vec::new(),
                        ended: None,
                    };
                    svc.start_protection_once(&session.actor, p, idempotency_key(form).as_deref())
                },
            )
        },
    )
}

pub(super) fn step(service: Arc<Service>) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    warp::path!("cases" / u64 / "protections" / u64).and(form_filter(service)).then(
        |id: u64, pid: u64, form: HashMap<String, String>, page: Page| {
            case_write(
                page,
                id,
                form,
                "protection#protection",
                |_| {},
                move |svc, session, form| {
                    let rev = rev(form)?;
                    let current = svc
                        .case(&session.actor, CaseId(id))?
                        .protections
                        .into_iter()
                        .find(|p| p.id == pid)
                        .ok_or_else(|| Error::NotFound { what: "protection", id: pid.to_string() })?;
                    let mut body = current.body;
                    apply(&mut body, form, session.actor.staff)?;
                    svc.update_protection(&session.actor, ProtectionId(pid), rev, body)
                },
            )
        },
    )
}
