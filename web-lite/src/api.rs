//! `/api/v1`: each handler parses, makes one service call and answers JSON. `auth.rs` finds the
//! session; `session.rs`, `children.rs`, `family.rs`, `cases.rs`, `casework.rs`, `caseloads.rs`, `approvals.rs` and `server.rs` hold the
//! routes; this file the shared replies and the route table.
#![expect(clippy::result_large_err, reason = "the error side is the finished HTTP response")]

use std::sync::Arc;

use bytes::Bytes;
use mamoru_core::{Error, Service};
use serde::de::DeserializeOwned;
use warp::http::StatusCode;
use warp::reply::Response;
use warp::{Filter, Reply};

use crate::{error_body, error_response};

pub(crate) use auth::token;
use auth::{
    Authed, AuthedJson, TokenAuthed, authed_json, authenticated, is_json, json_required, session_of_request,
};
use children::{ChildIn, board, create_child_route, get_child, new_child, search};
pub(crate) use server::{backup_now, devices, metrics, peer, photos};
pub(crate) use session::totp;
use session::{session_info, sign_in, sign_out};

mod approvals;
mod auth;
mod caseloads;
mod cases;
mod casework;
mod children;
mod family;
mod server;
mod session;

/// The session cookie (host-only, Secure, `HttpOnly`, SameSite=Strict).
pub const SESSION_COOKIE: &str = "__Host-mamoru_session";
/// The registered device's secret, kept by the tablet.
pub const DEVICE_COOKIE: &str = "__Host-mamoru_device";
const BODY_LIMIT: u64 = 64 * 1024;

fn json_ok<T: serde::Serialize>(status: StatusCode, body: &T) -> Response {
    warp::reply::with_status(warp::reply::json(body), status).into_response()
}

fn parse_body<T: DeserializeOwned>(bytes: &Bytes) -> Result<T, Response> {
    serde_json::from_slice(bytes)
        .map_err(|e| error_body(StatusCode::BAD_REQUEST, "bad_request", &format!("request body: {e}")))
}

/// Largest request body of a photo upload.
const PHOTO_LIMIT: u64 = mamoru_core::case::PHOTO_MAX_BYTES as u64 + 1024;

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
        .or(cases::routes(service.clone()))
        .unify()
        .or(casework::routes(service.clone()))
        .unify()
        .or(caseloads::routes(service.clone()))
        .unify()
        .or(approvals::routes(service))
        .unify()
}
