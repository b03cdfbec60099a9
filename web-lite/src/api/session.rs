//! `/api/v1/session`: signing in and out, the session's own view, and enrolling the second
//! factor.

use std::sync::Arc;

use bytes::Bytes;
use mamoru_core::service::SessionInfo;
use mamoru_core::staff::Password;
use mamoru_core::{Error, Service};
use serde::Deserialize;
use serde_json::json;
use warp::http::StatusCode;
use warp::reply::Response;
use warp::{Filter, Reply};

use super::{
    BODY_LIMIT, DEVICE_COOKIE, SESSION_COOKIE, TokenAuthed, is_json, json_ok, json_required, parse_body,
    peer, respond, session_of_request, token,
};
use crate::{blocking, error_response, with};

#[derive(Deserialize)]
pub(super) struct SignIn {
    login: String,
    password: String,
    #[serde(default)]
    otp: Option<String>,
}

#[derive(Deserialize)]
pub(super) struct CodeIn {
    code: String,
}

/// `POST /api/v1/session/totp` starts enrolment of the signed-in person's second factor (returns
/// the otpauth URL, shown once); `POST /api/v1/session/totp/confirm` with `{code}` finishes it.
/// Both serve a session that must enrol first (`enrolling`); confirming makes it a full one.
pub(crate) fn totp(
    service: Arc<Service>,
) -> impl Filter<Extract = (Response,), Error = warp::Rejection> + Clone {
    let begin = warp::path!("api" / "v1" / "session" / "totp")
        .and(warp::post())
        .and(session_of_request(service.clone(), true))
        .then(|auth: TokenAuthed| async move {
            let (svc, session, token) = or_respond!(auth);
            let from = session.actor.address();
            let result = blocking(move || svc.totp_enrolment(&token, from, true)).await;
            respond(result, |url| json_ok(StatusCode::OK, &json!({ "otpauth_url": url })))
        });
    let confirm = warp::path!("api" / "v1" / "session" / "totp" / "confirm")
        .and(warp::post())
        .and(warp::body::content_length_limit(BODY_LIMIT))
        .and(warp::body::bytes())
        .and(session_of_request(service, true))
        .then(|bytes: Bytes, auth: TokenAuthed| async move {
            let (svc, session, token) = or_respond!(auth);
            let input: CodeIn = or_respond!(parse_body(&bytes));
            let from = session.actor.address();
            let result = blocking(move || svc.confirm_enrolment(&token, from, &input.code)).await;
            respond(result, |_| StatusCode::NO_CONTENT.into_response())
        });
    begin.or(confirm).unify()
}

pub(super) fn sign_in(
    service: Arc<Service>,
) -> impl Filter<Extract = (Response,), Error = warp::Rejection> + Clone {
    warp::path!("api" / "v1" / "session")
        .and(warp::post())
        .and(warp::body::content_length_limit(BODY_LIMIT))
        .and(warp::body::bytes())
        .and(warp::cookie::optional::<String>(DEVICE_COOKIE))
        .and(warp::header::optional::<String>("content-type"))
        .and(peer())
        .and(with(service))
        .then(
            |bytes: Bytes,
             device: Option<String>,
             kind: Option<String>,
             peer: Option<std::net::SocketAddr>,
             svc: Arc<Service>| async move {
                // JSON only: a page on another site must not sign this browser in (to an account
                // of its choosing) with a form or text/plain post.
                if !is_json(kind.as_deref()) {
                    return json_required();
                }
                let input: SignIn = or_respond!(parse_body(&bytes));
                let result = blocking(move || {
                    // A registered tablet presents its secret; a session is then bound to it.
                    let device = device.map(|secret| svc.device_for_secret(&secret)).transpose()?;
                    svc.sign_in_from(
                        peer.map(|p| p.ip()),
                        &input.login,
                        &Password::attempt(input.password),
                        input.otp.as_deref(),
                        device,
                    )
                })
                .await;
                respond(result, |(token, info)| signed_in(&token, &info))
            },
        )
}

/// Who signed in, with the token both as the body and as the session cookie.
fn signed_in(token: &str, info: &SessionInfo) -> Response {
    let body = json!({
        "token": token,
        "login": info.actor.login(),
        "display_name": info.actor.display_name(),
        "role": info.actor.role(),
        "units": info.actor.units(),
        "expires_at": info.expires_at,
        "enrolling": info.enrolling,
    });
    let cookie = format!("{SESSION_COOKIE}={token}; Path=/; Secure; HttpOnly; SameSite=Strict");
    warp::reply::with_header(json_ok(StatusCode::OK, &body), "set-cookie", cookie).into_response()
}

/// `GET /api/v1/session`: who is signed in and until when; counts as activity (the pages ping it
/// while someone types, so a long note does not outlast the idle timeout).
pub(super) fn session_info(
    service: Arc<Service>,
) -> impl Filter<Extract = (Response,), Error = warp::Rejection> + Clone {
    warp::path!("api" / "v1" / "session").and(warp::get()).and(session_of_request(service, true)).map(
        |auth: TokenAuthed| match auth {
            Ok((_, s, _)) => json_ok(
                StatusCode::OK,
                &json!({
                    "staff": s.actor.staff(),
                    "login": s.actor.login(),
                    "display_name": s.actor.display_name(),
                    "role": s.actor.role(),
                    "units": s.actor.units(),
                    "expires_at": s.expires_at,
                    "enrolling": s.enrolling,
                }),
            ),
            Err(r) => r,
        },
    )
}

pub(super) fn sign_out(
    service: Arc<Service>,
) -> impl Filter<Extract = (Response,), Error = warp::Rejection> + Clone {
    warp::path!("api" / "v1" / "session")
        .and(warp::delete())
        .and(warp::header::optional::<String>("authorization"))
        .and(warp::cookie::optional::<String>(SESSION_COOKIE))
        .and(peer())
        .and(with(service))
        .then(|auth, cookie, peer: Option<std::net::SocketAddr>, svc: Arc<Service>| async move {
            let Some(t) = token(auth, cookie) else {
                return error_response(&Error::Unauthenticated);
            };
            let result = blocking(move || svc.sign_out(&t, peer.map(|p| p.ip()))).await;
            // Signed out now or before: the browser forgets the cookie either way.
            let mut r = respond(result, |()| StatusCode::NO_CONTENT.into_response());
            let clear = format!("{SESSION_COOKIE}=; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=0");
            if let Ok(v) = warp::http::HeaderValue::from_str(&clear) {
                r.headers_mut().insert(warp::http::header::SET_COOKIE, v);
            }
            r
        })
}
