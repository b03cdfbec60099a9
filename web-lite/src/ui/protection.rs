//! 一時保護 on the case page: starting one (place kind, place, reason, the child's hearing or
//! that it follows for urgency, and a confirmation), and its legal steps one form each (the
//! child's hearing, the warrant request, its outcome, the challenge after a refusal, an
//! extension, the family court's petition and approval, the end). The page parses each form
//! into core's command (`StartProtection`, `ProtectionStep`); core decides whether it may be
//! recorded and which steps are open. Each step is written against the revision the page
//! showed: if someone recorded a step meanwhile, the page comes back with the refusal and the
//! current state, and nothing is overwritten. The forms are drafts like the others: kept
//! offline, sent once when the tablet is back (a start by its idempotency key; a step sent again
//! finds it already recorded). Core recomputes the 7-day, 3-day and 2-month clocks with every
//! step.

use std::collections::HashMap;
use std::sync::Arc;

use mamoru_core::Service;
use mamoru_core::case::NewHearing;
use mamoru_core::error::Error;
use mamoru_core::ids::{CaseId, ProtectionId};
use mamoru_core::protection::{
    NoticeKind, PlaceKind, ProtectionStep, StartProtection, StepKind, WarrantOutcome,
};
use mamoru_core::time::{Date, Timestamp};
use mamoru_core::wareki;
use warp::reply::Response;
use warp::{Filter, Rejection};

use super::{Page, case_write, date, form_post, idempotency_key, rev, text};

fn at(form: &HashMap<String, String>) -> Result<Timestamp, Error> {
    wareki::read_datetime("at", &text(form, "at"))
}

fn required_date(form: &HashMap<String, String>, key: &'static str) -> Result<Date, Error> {
    date(form, key)?.ok_or_else(|| Error::Incomplete { fields: vec![key] })
}

/// The hearing the form holds; `at`: the field of its time.
fn hearing(form: &HashMap<String, String>, at: &'static str) -> Result<NewHearing, Error> {
    Ok(NewHearing {
        at: wareki::read_datetime(at, &text(form, at))?,
        method: text(form, "method"),
        views: text(form, "views"),
        not_possible_reason: Some(text(form, "not_possible")).filter(|r| !r.is_empty()),
    })
}

/// The step the form names, as core's command; core decides whether it may be recorded.
fn step_of(form: &HashMap<String, String>) -> Result<ProtectionStep, Error> {
    let kind =
        StepKind::parse(&text(form, "step")).ok_or_else(|| Error::invalid("step", "不明な操作です"))?;
    Ok(match kind {
        StepKind::Hearing => ProtectionStep::Hearing(hearing(form, "at")?),
        StepKind::WarrantRequest => ProtectionStep::WarrantRequest { at: at(form)? },
        StepKind::WarrantDecision => ProtectionStep::WarrantDecision {
            at: at(form)?,
            outcome: match text(form, "outcome").as_str() {
                "issued" => WarrantOutcome::Issued,
                "refused" => WarrantOutcome::Refused,
                _ => return Err(Error::Incomplete { fields: vec!["outcome"] }),
            },
        },
        StepKind::Challenge => ProtectionStep::Challenge { at: at(form)? },
        StepKind::Extension => ProtectionStep::Extension {
            at: at(form)?,
            last_day: required_date(form, "until")?,
            guardian_consent: form.contains_key("consent"),
            petitioned_on: date(form, "petitioned_on")?,
        },
        StepKind::CourtPetition => {
            ProtectionStep::CourtPetition { petitioned_on: required_date(form, "petitioned_on")? }
        }
        StepKind::CourtApproval => {
            ProtectionStep::CourtApproval { approved_on: required_date(form, "approved_on")? }
        }
        StepKind::Notice => ProtectionStep::Notice {
            kind: match text(form, "kind").as_str() {
                "start" => NoticeKind::Start,
                "extension" => NoticeKind::Extension,
                "end" => NoticeKind::End,
                _ => return Err(Error::Incomplete { fields: vec!["notice"] }),
            },
            at: at(form)?,
        },
        StepKind::End => ProtectionStep::End { at: at(form)?, reason: text(form, "reason") },
    })
}

/// The start as core's command: nothing chosen for the person (the place kind has no default).
fn start_of(form: &HashMap<String, String>) -> Result<StartProtection, Error> {
    let heard = !text(form, "views").is_empty() || !text(form, "not_possible").is_empty();
    Ok(StartProtection {
        started_at: at(form)?,
        place_kind: match text(form, "place_kind").as_str() {
            "shelter" => Some(PlaceKind::Shelter),
            "entrusted" => Some(PlaceKind::Entrusted),
            _ => None,
        },
        place: text(form, "place"),
        reason: text(form, "reason"),
        guardian_consent: form.contains_key("consent"),
        hearing: heard.then(|| hearing(form, "hearing_at")).transpose()?,
        hearing_after_urgency: form.contains_key("hearing_after"),
    })
}

pub(super) fn start(service: Arc<Service>) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    warp::path!("cases" / u64 / "protections").and(form_post(service)).then(
        |id: u64, form: HashMap<String, String>, page: Page| {
            case_write(
                page,
                id,
                form,
                "protection#protection",
                |_| {},
                move |svc, session, form| {
                    // Starting one is an administrative decision: the page asks the person to confirm.
                    if !form.contains_key("confirm") {
                        return Err(Error::Incomplete { fields: vec!["confirm"] });
                    }
                    let key = idempotency_key(form);
                    svc.start_protection_once(&session.actor, CaseId(id), start_of(form)?, key.as_deref())
                },
            )
        },
    )
}

pub(super) fn step(service: Arc<Service>) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    warp::path!("cases" / u64 / "protections" / u64).and(form_post(service)).then(
        |id: u64, pid: u64, form: HashMap<String, String>, page: Page| {
            case_write(
                page,
                id,
                form,
                "protection#protection",
                |_| {},
                move |svc, session, form| {
                    let (rev, step) = (rev(form)?, step_of(form)?);
                    svc.record_protection_step(&session.actor, CaseId(id), ProtectionId(pid), rev, step)
                },
            )
        },
    )
}
