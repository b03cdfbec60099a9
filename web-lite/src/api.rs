//! `/api/v1`: each handler parses, makes one service call and answers JSON. `auth.rs` finds the
//! session; `session.rs`, `children.rs`, `family.rs`, `cases.rs`, `casework.rs`, `caseloads.rs`, `approvals.rs` and `server.rs` hold the
//! routes; this file the shared replies and the route table.
#![expect(clippy::result_large_err, reason = "the error side is the finished HTTP response")]

use std::sync::Arc;

use bytes::Bytes;
use mamoru_core::{Error, Service};
use serde::de::DeserializeOwned;
use warp::http::{HeaderValue, StatusCode, header};
use warp::reply::Response;
use warp::{Filter, Reply};

use crate::{error_body, error_response};

pub(crate) use auth::token;
use auth::{
    Authed, AuthedJson, TokenAuthed, authed_json, authenticated, is_json, json_required, session_of_request,
};
use children::{ChildIn, board, create_child_route, get_child, new_child, search};
pub(crate) use server::{backup_now, devices, maintenance, peer, photos, service_report};
pub(crate) use session::totp;
use session::{session_info, sign_in, sign_out};

mod approvals;
mod auth;
mod caseloads;
mod cases;
mod casework;
mod children;
mod family;
mod forms;
mod petitions;
mod server;
mod session;
mod statistics;

/// The session cookie (host-only, Secure, `HttpOnly`, SameSite=Strict).
pub const SESSION_COOKIE: &str = "__Host-mamoru_session";
/// The registered device's secret, kept by the tablet.
pub const DEVICE_COOKIE: &str = "__Host-mamoru_device";
const BODY_LIMIT: u64 = 64 * 1024;

fn json_ok<T: serde::Serialize>(status: StatusCode, body: &T) -> Response {
    warp::reply::with_status(warp::reply::json(body), status).into_response()
}

/// A JSON body as `T`, or the error naming the field that failed (where serde can tell it: not
/// inside a flattened or tagged part): 400 for a body that is not what the operation takes (its
/// document says what that is), 422 for a date that is not one (a value no schema can check:
/// 和暦, a day that does not exist), like any value core refuses.
fn parse_body<T: DeserializeOwned>(bytes: &Bytes) -> Result<T, Response> {
    let mut body = serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(&mut body).map_err(|e| {
        let field = e.path().to_string();
        let message = e.inner().to_string();
        let field = if field == "." { String::new() } else { format!("{field}: ") };
        if mamoru_core::time::DateError::is_date_error(&message) {
            // Without serde's "at line 1 column 9": the date itself says which.
            let message = message.rsplit_once(" at line ").map_or(message.as_str(), |(m, _)| m);
            error_body(StatusCode::UNPROCESSABLE_ENTITY, "invalid", &format!("{field}{message}"))
        } else {
            error_body(StatusCode::BAD_REQUEST, "bad_request", &format!("request body: {field}{message}"))
        }
    })
}

/// The query string as `T`, or the 400 that says what in it was wrong. Never a rejection: a bad
/// query on one route must not turn into another route's 405 for the same path.
pub(crate) fn query<T: DeserializeOwned + Send>()
-> impl warp::Filter<Extract = (Result<T, Response>,), Error = std::convert::Infallible> + Clone {
    warp::query::raw().or(warp::any().map(String::new)).unify().map(|q: String| {
        serde_urlencoded::from_str::<T>(&q)
            .map_err(|e| error_body(StatusCode::BAD_REQUEST, "bad_request", &format!("query string: {e}")))
    })
}

/// Largest request body of a photo upload.
const PHOTO_LIMIT: u64 = mamoru_core::case::PHOTO_MAX_BYTES as u64 + 1024;

/// A file to open or save: its type, `inline` or `attachment`, and its name — an ASCII one for
/// old clients, the Japanese one as RFC 6266 `filename*`; never sniffed, never cached.
fn file_response(
    bytes: Vec<u8>,
    content_type: &'static str,
    disposition: &str,
    (ascii, name): (&str, &str),
) -> Response {
    let mut r = Response::new(bytes.into());
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    let value = format!("{disposition}; filename=\"{ascii}\"; filename*=UTF-8''{}", crate::percent(name));
    if let Ok(v) = HeaderValue::from_str(&value) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert("x-content-type-options", HeaderValue::from_static("nosniff"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

fn respond<T>(r: Result<T, Error>, ok: impl FnOnce(T) -> Response) -> Response {
    match r {
        Ok(v) => ok(v),
        Err(e) => error_response(&e),
    }
}

pub(crate) fn routes(
    service: Arc<Service>,
) -> impl Filter<Extract = (Response,), Error = warp::Rejection> + Clone {
    sign_in(service.clone())
        .or(sign_out(service.clone()))
        .unify()
        .or(session_info(service.clone()))
        .unify()
        .or(create_child_route(service.clone()))
        .unify()
        .or(get_child(service.clone()))
        .unify()
        .or(search(service.clone()))
        .unify()
        .or(board(service.clone()))
        .unify()
        .or(family::routes(service.clone()))
        .unify()
        .or(forms::routes(service.clone()))
        .unify()
        .or(petitions::routes(service.clone()))
        .unify()
        .or(statistics::routes(service.clone()))
        .unify()
        .or(cases::routes(service.clone()))
        .unify()
        .or(casework::routes(service.clone()))
        .unify()
        .or(caseloads::routes(service.clone()))
        .unify()
        .or(approvals::routes(service))
        .unify()
}
