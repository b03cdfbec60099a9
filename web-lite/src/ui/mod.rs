//! The tablet UI: server-rendered Japanese pages (typed askama views in `views.rs`) with a little
//! plain JavaScript from `assets/`. A page handler finds the session (from the cookie only),
//! makes its service calls, renders. Forms post back the session's form key and get a redirect
//! after a write; a refused write shows the page again with what was typed and why.

mod case;
mod caseloads;
mod casework;
mod child;
mod enrol;
mod errors;
mod facesheet;
mod family;
mod fields;
mod form;
mod home;
mod intake;
mod protection;
mod reporter;
mod session;
mod signin;
mod statistics;
#[cfg(test)]
mod tests;
mod views;

use std::sync::Arc;

use askama::Template;
use mamoru_core::Service;
use warp::http::{HeaderValue, StatusCode, header};
use warp::reply::Response;
use warp::{Filter, Rejection, Reply};

use crate::blocking;
use case::{add_check, add_message, add_note, case, case_write};
use child::child;
pub(crate) use errors::message as japanese_message;
use errors::{error_page, message, status_of};
pub(crate) use form::CrossOrigin;
use form::{case_form, check_form, date, form_post, idempotency_key, photo_list, rev, same_origin, text};
use home::{home, search};
use session::{Page, TokenPage, session_of_page, signed_in};
use signin::{EnrollingForm, enrolling_form, login, login_page, logout, register, register_page};

/// Largest form a page posts (a long note).
const FORM_LIMIT: u64 = 256 * 1024;

const APP_CSS: &str = include_str!("../../assets/app.css");
const APP_JS: &str = include_str!("../../assets/app.js");
/// The tab's icon, and the home-screen icon a tablet keeps (drawn by `scripts/gen-icon.py`).
const ICON_SVG: &str = include_str!("../../assets/icon.svg");
const ICON_PNG: &[u8] = include_bytes!("../../assets/icon-180.png");

fn html(page: &impl Template, status: StatusCode) -> Response {
    match page.render() {
        Ok(body) => warp::reply::with_status(warp::reply::html(body), status).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "rendering a page failed");
            warp::reply::with_status("表示できませんでした", StatusCode::INTERNAL_SERVER_ERROR)
                .into_response()
        }
    }
}

fn redirect(to: &str) -> Response {
    let mut r = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(to) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    r
}

fn to_login() -> Response {
    redirect("/login?expired=1")
}

pub(crate) fn routes(service: Arc<Service>) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    let root = warp::path::end().and(warp::get()).map(|| redirect("/home"));
    // Browsers that do not read the SVG icon (Safari before 26) ask for this one.
    let favicon = warp::path!("favicon.ico").and(warp::get()).map(|| {
        let mut r = warp::reply::with_header(ICON_PNG, "content-type", "image/png").into_response();
        r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("max-age=300"));
        r
    });
    let assets = warp::path!("assets" / String).and(warp::get()).map(|name: String| {
        let (body, kind): (&'static [u8], _) = match name.as_str() {
            "app.css" => (APP_CSS.as_bytes(), "text/css; charset=utf-8"),
            "app.js" => (APP_JS.as_bytes(), "text/javascript; charset=utf-8"),
            "icon.svg" => (ICON_SVG.as_bytes(), "image/svg+xml"),
            "icon-180.png" => (ICON_PNG, "image/png"),
            _ => return StatusCode::NOT_FOUND.into_response(),
        };
        let mut r = warp::reply::with_header(body, "content-type", kind).into_response();
        r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("max-age=300"));
        r
    });
    // Boxed parts: one long chain of `or` makes a type too deep for the compiler.
    let signing = root
        .or(assets)
        .unify()
        .or(favicon)
        .unify()
        .or(login_page(service.clone()))
        .unify()
        .or(login(service.clone()))
        .unify()
        .or(register_page())
        .unify()
        .or(register(service.clone()))
        .unify()
        .or(logout(service.clone()))
        .unify()
        .or(enrol::page(service.clone()))
        .unify()
        .or(enrol::confirm(service.clone()))
        .unify()
        .boxed();
    let work = home(service.clone())
        .or(search(service.clone()))
        .unify()
        .or(child(service.clone()))
        .unify()
        .or(case(service.clone()))
        .unify()
        .or(add_note(service.clone()))
        .unify()
        .or(add_check(service.clone()))
        .unify()
        .or(add_message(service.clone()))
        .unify()
        .or(protection::start(service.clone()))
        .unify()
        .or(protection::step(service.clone()))
        .unify()
        .or(intake::page(service.clone()))
        .unify()
        .or(intake::take(service.clone()))
        .unify()
        .or(facesheet::edit_page(service.clone()))
        .unify()
        .or(facesheet::save(service.clone()))
        .unify()
        .or(reporter::page(service.clone()))
        .unify()
        .or(caseloads::caseload(service.clone()))
        .unify()
        .or(caseloads::loads(service.clone()))
        .unify()
        .or(statistics::routes(service.clone()))
        .unify()
        .boxed();
    signing.or(work).unify().or(family::routes(service.clone())).unify().or(casework::routes(service)).unify()
}
