//! The one session extractor of the JSON API: a bearer token or the pages' cookie (a write
//! carried by the cookie alone must be JSON, so another site cannot post through it).

use std::sync::Arc;

use bytes::Bytes;
use mamoru_core::service::SessionInfo;
use mamoru_core::{Error, Service};
use serde::de::DeserializeOwned;
use warp::Filter;
use warp::http::StatusCode;
use warp::reply::Response;

use super::{BODY_LIMIT, SESSION_COOKIE, parse_body};
use crate::{error_body, error_response, with};

/// The session token from `Authorization: Bearer` or the session cookie.
pub(crate) fn token(auth: Option<String>, cookie: Option<String>) -> Option<String> {
    auth.and_then(|a| a.strip_prefix("Bearer ").map(|t| t.trim().to_owned())).or(cookie)
}

/// Whether a body is declared JSON: a type a page on another site cannot send without asking
/// (a CORS preflight, which is never granted).
pub(super) fn is_json(kind: Option<&str>) -> bool {
    kind.map(str::trim_start).is_some_and(|k| k.starts_with("application/json"))
}

/// The refusal of a write whose body type a page on another site could send unasked.
pub(super) fn json_required() -> Response {
    error_body(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "json_required",
        "this write needs Content-Type: application/json (or, signed in by cookie, the image type of a photo)",
    )
}

pub(super) type Authed = Result<(Arc<Service>, SessionInfo), Response>;

/// A JSON write's session and body, or the error response of whichever failed first.
pub(super) type AuthedJson<T> = Result<(Arc<Service>, SessionInfo, T), Response>;

/// The body (at most `BODY_LIMIT`) and the session of a JSON write, parsed as `T`.
pub(super) fn authed_json<T: DeserializeOwned + Send>(
    service: Arc<Service>,
) -> impl Filter<Extract = (AuthedJson<T>,), Error = warp::Rejection> + Clone {
    warp::body::content_length_limit(BODY_LIMIT).and(warp::body::bytes()).and(authenticated(service)).map(
        |bytes: Bytes, auth: Authed| {
            let (svc, session) = auth?;
            Ok((svc, session, parse_body(&bytes)?))
        },
    )
}

pub(super) fn authenticated(
    service: Arc<Service>,
) -> impl Filter<Extract = (Authed,), Error = warp::Rejection> + Clone {
    session_of_request(service, false).map(|auth: TokenAuthed| auth.map(|(svc, session, _)| (svc, session)))
}

/// A session and the token that carries it; `Err` is the response to send instead.
pub(super) type TokenAuthed = Result<(Arc<Service>, SessionInfo, String), Response>;

/// The request's session (bearer token or cookie). `enrolling_ok`: for the calls a session that
/// must first enrol its second factor may make; the others refuse it (403
/// `second_factor_required`).
pub(super) fn session_of_request(
    service: Arc<Service>,
    enrolling_ok: bool,
) -> impl Filter<Extract = (TokenAuthed,), Error = warp::Rejection> + Clone {
    warp::header::optional::<String>("authorization")
        .and(warp::cookie::optional::<String>(SESSION_COOKIE))
        .and(warp::method())
        .and(warp::header::optional::<String>("content-type"))
        .and(super::peer())
        .and(with(service))
        .then(
            move |auth: Option<String>,
                  cookie,
                  method: warp::http::Method,
                  kind: Option<String>,
                  peer: Option<std::net::SocketAddr>,
                  svc: Arc<Service>| async move {
                let bearer = auth.as_deref().is_some_and(|a| a.starts_with("Bearer "));
                // A write carried by the cookie alone must be JSON: a page on another site (or a
                // sibling host) can post a form or text/plain without asking, but not JSON.
                // A photo's image type is no more a "simple" request than JSON.
                let preflighted = is_json(kind.as_deref())
                    || kind.as_deref().map(str::trim_start).is_some_and(|k| {
                        ["image/jpeg", "image/png", "image/webp"].iter().any(|t| k.starts_with(t))
                    });
                // Nobody signed in is told so first, whatever they sent.
                let Some(t) = token(auth, cookie) else {
                    return Err(error_response(&Error::Unauthenticated));
                };
                let from = peer.map(|p| p.ip());
                if !bearer && method == warp::http::Method::POST && !preflighted {
                    // A cookie that is no session is told so too; a look that is no activity (a
                    // page elsewhere posting on its own keeps no one signed in).
                    let (checker, t) = (svc.clone(), t.clone());
                    let live = crate::session_lookup(&svc, move || checker.peek_session(&t, from)).await;
                    return Err(match live {
                        Err(e @ Error::Unauthenticated) => error_response(&e),
                        _ => json_required(),
                    });
                }
                let (checker, token) = (svc.clone(), t.clone());
                let found = crate::session_lookup(&svc, move || {
                    if enrolling_ok { checker.enrolment_session(&t, from) } else { checker.session(&t, from) }
                })
                .await;
                match found {
                    Ok(s) => Ok((svc, s, token)),
                    Err(e) => Err(error_response(&e)),
                }
            },
        )
}
