//! `/api/v1`: sessions, children, search, the board. Each handler: parse, one service call, JSON.
#![expect(clippy::result_large_err, reason = "the error side is the finished HTTP response")]

use std::sync::Arc;

use bytes::Bytes;
use mamoru_core::ids::{CaseId, ChildId, UnitId};
use mamoru_core::person::{PersonName, Sex};
use mamoru_core::service::{NewChild, SessionInfo};
use mamoru_core::staff::Password;
use mamoru_core::{Error, Service, wareki};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::json;
use warp::http::{HeaderValue, StatusCode, header};
use warp::reply::Response;
use warp::{Filter, Reply};

use crate::{blocking, error_body, error_response, with};

mod cases;
mod casework;

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

/// The session token from `Authorization: Bearer` or the session cookie.
pub(crate) fn token(auth: Option<String>, cookie: Option<String>) -> Option<String> {
    auth.and_then(|a| a.strip_prefix("Bearer ").map(|t| t.trim().to_owned())).or(cookie)
}

type Authed = Result<(Arc<Service>, SessionInfo), Response>;

/// Largest request body of a photo upload.
const PHOTO_LIMIT: u64 = mamoru_core::case::PHOTO_MAX_BYTES as u64 + 1024;

/// A JSON write's session and body, or the error response of whichever failed first.
type AuthedJson<T> = Result<(Arc<Service>, SessionInfo, T), Response>;

/// The body (at most `BODY_LIMIT`) and the session of a JSON write, parsed as `T`.
fn authed_json<T: DeserializeOwned + Send>(
    service: Arc<Service>,
) -> impl Filter<Extract = (AuthedJson<T>,), Error = warp::Rejection> + Clone {
    warp::body::content_length_limit(BODY_LIMIT).and(warp::body::bytes()).and(authenticated(service)).map(
        |bytes: Bytes, auth: Authed| {
            let (svc, session) = auth?;
            Ok((svc, session, parse_body(&bytes)?))
        },
    )
}

fn authenticated(service: Arc<Service>) -> impl Filter<Extract = (Authed,), Error = warp::Rejection> + Clone {
    session_of_request(service, false).map(|auth: TokenAuthed| auth.map(|(svc, session, _)| (svc, session)))
}

/// A session and the token that carries it; `Err` is the response to send instead.
type TokenAuthed = Result<(Arc<Service>, SessionInfo, String), Response>;

/// The request's session (bearer token or cookie). `enrolling_ok`: for the calls a session that
/// must first enrol its second factor may make; the others refuse it (403
/// `second_factor_required`).
fn session_of_request(
    service: Arc<Service>,
    enrolling_ok: bool,
) -> impl Filter<Extract = (TokenAuthed,), Error = warp::Rejection> + Clone {
    warp::header::optional::<String>("authorization")
        .and(warp::cookie::optional::<String>(SESSION_COOKIE))
        .and(warp::method())
        .and(warp::header::optional::<String>("content-type"))
        .and(with(service))
        .then(
            move |auth: Option<String>,
                  cookie,
                  method: warp::http::Method,
                  kind: Option<String>,
                  svc: Arc<Service>| async move {
                let bearer = auth.as_deref().is_some_and(|a| a.starts_with("Bearer "));
                // A write carried by the cookie alone must be JSON: a page on another site (or a
                // sibling host) can post a form or text/plain without asking, but not JSON.
                // A photo's image type is no more a "simple" request than JSON.
                let preflighted = kind.as_deref().map(str::trim_start).is_some_and(|k| {
                    ["application/json", "image/jpeg", "image/png", "image/webp"].iter().any(|t| k.starts_with(t))
                });
                if !bearer && method == warp::http::Method::POST && !preflighted {
                    return Err(error_body(
                        StatusCode::UNSUPPORTED_MEDIA_TYPE,
                        "json_required",
                        "a write signed in by cookie needs Content-Type: application/json (or the image type of a photo)",
                    ));
                }
                let Some(t) = token(auth, cookie) else {
                    return Err(error_response(&Error::Unauthenticated));
                };
                let (checker, token) = (svc.clone(), t.clone());
                let found =
                    blocking(
                        move || {
                            if enrolling_ok { checker.enrolment_session(&t) } else { checker.session(&t) }
                        },
                    )
                    .await;
                match found {
                    Ok(s) => Ok((svc, s, token)),
                    Err(e) => Err(error_response(&e)),
                }
            },
        )
}

#[derive(Deserialize)]
struct SignIn {
    login: String,
    password: String,
    #[serde(default)]
    otp: Option<String>,
}

#[derive(Deserialize)]
struct ChildIn {
    family_name: String,
    #[serde(default)]
    given_name: String,
    family_name_kana: String,
    #[serde(default)]
    given_name_kana: String,
    birth_date: Option<String>,
    #[serde(default)]
    sex: String,
    #[serde(default)]
    unit: Option<u64>,
    #[serde(default)]
    address: String,
    #[serde(default)]
    phones: Vec<String>,
    #[serde(default)]
    affiliation: String,
    #[serde(default)]
    unborn: bool,
}

#[derive(Deserialize)]
struct SearchQuery {
    #[serde(default)]
    q: String,
}

#[derive(Deserialize)]
struct BoardQuery {
    unit: Option<u64>,
    worker: Option<u64>,
}

fn respond<T>(r: Result<T, Error>, ok: impl FnOnce(T) -> Response) -> Response {
    match r {
        Ok(v) => ok(v),
        Err(e) => error_response(&e),
    }
}

/// The client's address: from the TLS accept loop's extension, or warp's own server.
pub(crate) fn peer()
-> impl Filter<Extract = (Option<std::net::SocketAddr>,), Error = std::convert::Infallible> + Clone {
    warp::ext::optional::<crate::tls::Peer>()
        .and(warp::addr::remote())
        .map(|ext: Option<crate::tls::Peer>, remote| ext.map(|p| p.0).or(remote))
}

/// `GET /metrics`: Prometheus text, for loopback or a signed-in administrator. Nothing personal.
pub(crate) fn metrics(
    service: Arc<Service>,
    version: &'static str,
) -> impl Filter<Extract = (Response,), Error = warp::Rejection> + Clone {
    warp::path!("metrics")
        .and(warp::get())
        .and(peer())
        .and(warp::header::optional::<String>("authorization"))
        .and(warp::cookie::optional::<String>(SESSION_COOKIE))
        .and(with(service))
        .then(move |peer: Option<std::net::SocketAddr>, auth, cookie, svc: Arc<Service>| async move {
            let local = peer.is_some_and(|p| p.ip().is_loopback());
            if !local {
                let Some(t) = token(auth, cookie) else {
                    return error_response(&Error::Unauthenticated);
                };
                let checker = svc.clone();
                let allowed =
                    blocking(move || checker.session(&t).and_then(|s| checker.may_read_metrics(&s.actor)))
                        .await;
                if let Err(e) = allowed {
                    return error_response(&e);
                }
            }
            warp::reply::with_header(metrics_text(&svc, version), "content-type", "text/plain; version=0.0.4")
                .into_response()
        })
}

#[derive(Deserialize)]
struct CodeIn {
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
            let (svc, _, token) = match auth {
                Ok(a) => a,
                Err(r) => return r,
            };
            let result = blocking(move || svc.totp_enrolment(&token, true)).await;
            respond(result, |url| json_ok(StatusCode::OK, &json!({ "otpauth_url": url })))
        });
    let confirm = warp::path!("api" / "v1" / "session" / "totp" / "confirm")
        .and(warp::post())
        .and(warp::body::content_length_limit(BODY_LIMIT))
        .and(warp::body::bytes())
        .and(session_of_request(service, true))
        .then(|bytes: Bytes, auth: TokenAuthed| async move {
            let (svc, _, token) = match auth {
                Ok(a) => a,
                Err(r) => return r,
            };
            let input: CodeIn = match parse_body(&bytes) {
                Ok(i) => i,
                Err(r) => return r,
            };
            let result = blocking(move || svc.confirm_enrolment(&token, &input.code)).await;
            respond(result, |_| StatusCode::NO_CONTENT.into_response())
        });
    begin.or(confirm).unify()
}

/// `POST /api/v1/cases/{id}/photos`: one photo taken for the case, the raw image as the body
/// (JPEG, PNG or WebP by its first bytes; at most 10 MB); the same bytes again give back the same
/// photo. `GET /api/v1/cases/{id}/photos/{sha256}`: its bytes, for whoever may read the case.
pub(crate) fn photos(
    service: Arc<Service>,
) -> impl Filter<Extract = (Response,), Error = warp::Rejection> + Clone {
    let add = warp::path!("api" / "v1" / "cases" / u64 / "photos")
        .and(warp::post())
        .and(warp::body::content_length_limit(PHOTO_LIMIT))
        .and(warp::body::bytes())
        .and(authenticated(service.clone()))
        .then(|case: u64, bytes: Bytes, auth: Authed| async move {
            let (svc, session) = match auth {
                Ok(a) => a,
                Err(r) => return r,
            };
            let result = blocking(move || svc.add_photo(&session.actor, CaseId(case), &bytes)).await;
            respond(result, |p| {
                let body = json!({
                    "id": p.id,
                    "sha256": p.body.sha256,
                    "mime": p.body.mime,
                    "size": p.body.size,
                    "taken_at": p.body.taken_at,
                    "url": format!("/api/v1/cases/{case}/photos/{}", p.body.sha256),
                });
                json_ok(StatusCode::CREATED, &body)
            })
        });
    let get = warp::path!("api" / "v1" / "cases" / u64 / "photos" / String)
        .and(warp::get())
        .and(authenticated(service))
        .then(|case: u64, sha: String, auth: Authed| async move {
            let (svc, session) = match auth {
                Ok(a) => a,
                Err(r) => return r,
            };
            if sha.len() != 64 || !sha.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
                return error_response(&Error::NotFound { what: "photo", id: sha });
            }
            let result = blocking(move || svc.photo(&session.actor, CaseId(case), &sha)).await;
            respond(result, |(photo, bytes)| {
                let ext = photo.body.mime.trim_start_matches("image/").replace("jpeg", "jpg");
                let mut r = Response::new(bytes.into());
                let h = r.headers_mut();
                if let Ok(v) = HeaderValue::from_str(&photo.body.mime) {
                    h.insert(header::CONTENT_TYPE, v);
                }
                if let Ok(v) =
                    HeaderValue::from_str(&format!("inline; filename=\"photo-{}.{ext}\"", photo.id))
                {
                    h.insert(header::CONTENT_DISPOSITION, v);
                }
                h.insert("x-content-type-options", HeaderValue::from_static("nosniff"));
                r
            })
        });
    add.or(get).unify()
}

#[derive(Deserialize)]
struct DeviceIn {
    name: String,
}

/// `POST /api/v1/devices` registers a tablet (administrators; the secret is shown once),
/// `GET` lists them, `DELETE /api/v1/devices/{id}` revokes one: its sessions end at once.
pub(crate) fn devices(
    service: Arc<Service>,
) -> impl Filter<Extract = (Response,), Error = warp::Rejection> + Clone {
    let register = warp::path!("api" / "v1" / "devices")
        .and(warp::post())
        .and(authed_json::<DeviceIn>(service.clone()))
        .then(|input: AuthedJson<DeviceIn>| async move {
            let (svc, session, input) = match input {
                Ok(v) => v,
                Err(r) => return r,
            };
            let result = blocking(move || svc.register_device(&session.actor, &input.name)).await;
            respond(result, |(id, secret)| {
                json_ok(StatusCode::CREATED, &json!({ "id": id, "secret": secret }))
            })
        });
    // A one-time code the tablet enters on /register (24 hours); the usual way to register.
    let code = warp::path!("api" / "v1" / "devices" / "codes")
        .and(warp::post())
        .and(authed_json::<DeviceIn>(service.clone()))
        .then(|input: AuthedJson<DeviceIn>| async move {
            let (svc, session, input) = match input {
                Ok(v) => v,
                Err(r) => return r,
            };
            let result = blocking(move || svc.issue_device_code(&session.actor, &input.name)).await;
            respond(result, |(id, code, expires)| {
                json_ok(StatusCode::CREATED, &json!({ "id": id, "code": code, "expires_at": expires }))
            })
        });
    let list = warp::path!("api" / "v1" / "devices")
        .and(warp::get())
        .and(authenticated(service.clone()))
        .then(|auth: Authed| async move {
            let (svc, session) = match auth {
                Ok(a) => a,
                Err(r) => return r,
            };
            let result = blocking(move || svc.devices(&session.actor)).await;
            respond(result, |all| {
                let items: Vec<_> = all
                    .iter()
                    .map(|d| {
                        json!({ "id": d.id, "name": d.body.name, "active": d.body.is_active(),
                                "pending": d.body.is_pending(), "rev": d.rev })
                    })
                    .collect();
                json_ok(StatusCode::OK, &json!({ "devices": items }))
            })
        });
    let revoke = warp::path!("api" / "v1" / "devices" / u64)
        .and(warp::delete())
        .and(authenticated(service))
        .then(|id: u64, auth: Authed| async move {
            let (svc, session) = match auth {
                Ok(a) => a,
                Err(r) => return r,
            };
            let result =
                blocking(move || svc.revoke_device(&session.actor, mamoru_core::ids::DeviceId(id))).await;
            respond(result, |()| StatusCode::NO_CONTENT.into_response())
        });
    register.or(code).unify().or(list).unify().or(revoke).unify()
}

/// `POST /api/v1/backups`: an administrator makes a backup generation now, while the server
/// keeps serving (the console's "run now" uses the same service call).
pub(crate) fn backup_now(
    service: Arc<Service>,
    op: Option<crate::BackupNow>,
) -> impl Filter<Extract = (Response,), Error = warp::Rejection> + Clone {
    warp::path!("api" / "v1" / "backups").and(warp::post()).and(authenticated(service)).then(
        move |auth: Authed| {
            let op = op.clone();
            async move {
                let (svc, session) = match auth {
                    Ok(a) => a,
                    Err(r) => return r,
                };
                let Some(op) = op else {
                    return error_body(
                        StatusCode::SERVICE_UNAVAILABLE,
                        "unavailable",
                        "backups are not configured here",
                    );
                };
                let result = blocking(move || {
                    svc.authorize_backup(&session.actor)?;
                    op().map_err(|e| Error::invalid("backup", e))
                })
                .await;
                respond(result, |summary| json_ok(StatusCode::CREATED, &json!({ "generation": summary })))
            }
        },
    )
}

fn metrics_text(svc: &Service, version: &str) -> String {
    use std::fmt::Write as _;
    let b = svc.backup_health();
    let mut text = String::new();
    let mut metric = |name: &str, help: &str, value: Option<i64>| {
        if let Some(v) = value {
            let _ = write!(text, "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {v}\n");
        }
    };
    metric("mamoru_up", "1 while the server runs.", Some(1));
    metric("mamoru_store_bytes", "Size of the store file.", i64::try_from(svc.store_bytes()).ok());
    metric("mamoru_sessions", "Open sign-in sessions.", i64::try_from(svc.sessions_open()).ok());
    metric("mamoru_backup_age_seconds", "Seconds since the last verified backup generation.", b.age_seconds);
    metric("mamoru_backup_failing", "1 if the last backup attempt failed.", Some(i64::from(b.failing)));
    metric(
        "mamoru_archive_age_seconds",
        "Seconds since the change archive last caught up.",
        b.archive_age_seconds,
    );
    metric(
        "mamoru_archive_failing",
        "1 if the last archive shipment failed.",
        Some(i64::from(b.archive_failing)),
    );
    let _ = write!(
        text,
        "# HELP mamoru_build_info Version.\n# TYPE mamoru_build_info gauge\nmamoru_build_info{{version=\"{version}\"}} 1\n"
    );
    text
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
        .or(cases::routes(service.clone()))
        .unify()
        .or(casework::routes(service))
        .unify()
}

fn sign_in(service: Arc<Service>) -> impl Filter<Extract = (Response,), Error = warp::Rejection> + Clone {
    warp::path!("api" / "v1" / "session")
        .and(warp::post())
        .and(warp::body::content_length_limit(BODY_LIMIT))
        .and(warp::body::bytes())
        .and(warp::cookie::optional::<String>(DEVICE_COOKIE))
        .and(peer())
        .and(with(service))
        .then(|bytes: Bytes, device: Option<String>, peer: Option<std::net::SocketAddr>, svc: Arc<Service>| async move {
            let input: SignIn = match parse_body(&bytes) {
                Ok(i) => i,
                Err(r) => return r,
            };
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
            respond(result, |(token, info)| {
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
            })
        })
}

/// `GET /api/v1/session`: who is signed in and until when; counts as activity (the pages ping it
/// while someone types, so a long note does not outlast the idle timeout).
fn session_info(
    service: Arc<Service>,
) -> impl Filter<Extract = (Response,), Error = warp::Rejection> + Clone {
    warp::path!("api" / "v1" / "session").and(warp::get()).and(session_of_request(service, true)).map(
        |auth: TokenAuthed| match auth {
            Ok((_, s, _)) => json_ok(
                StatusCode::OK,
                &json!({
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

fn sign_out(service: Arc<Service>) -> impl Filter<Extract = (Response,), Error = warp::Rejection> + Clone {
    warp::path!("api" / "v1" / "session")
        .and(warp::delete())
        .and(warp::header::optional::<String>("authorization"))
        .and(warp::cookie::optional::<String>(SESSION_COOKIE))
        .and(with(service))
        .then(|auth, cookie, svc: Arc<Service>| async move {
            let Some(t) = token(auth, cookie) else {
                return error_response(&Error::Unauthenticated);
            };
            let result = blocking(move || svc.sign_out(&t)).await;
            respond(result, |()| {
                let clear =
                    format!("{SESSION_COOKIE}=; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=0");
                warp::reply::with_header(StatusCode::NO_CONTENT, "set-cookie", clear).into_response()
            })
        })
}

fn create_child_route(
    service: Arc<Service>,
) -> impl Filter<Extract = (Response,), Error = warp::Rejection> + Clone {
    warp::path!("api" / "v1" / "children").and(warp::post()).and(authed_json::<ChildIn>(service)).then(
        |input: AuthedJson<ChildIn>| async move {
            let (svc, session, input) = match input {
                Ok(v) => v,
                Err(r) => return r,
            };
            let result = blocking(move || create_child(&svc, &session, input)).await;
            respond(result, |(id, dups)| {
                json_ok(StatusCode::CREATED, &json!({"id": id, "possible_duplicates": dups}))
            })
        },
    )
}

fn get_child(service: Arc<Service>) -> impl Filter<Extract = (Response,), Error = warp::Rejection> + Clone {
    warp::path!("api" / "v1" / "children" / u64).and(warp::get()).and(authenticated(service)).then(
        |id: u64, auth: Authed| async move {
            let (svc, session) = match auth {
                Ok(a) => a,
                Err(r) => return r,
            };
            let result = blocking(move || svc.child(&session.actor, ChildId(id))).await;
            respond(result, |view| json_ok(StatusCode::OK, &view))
        },
    )
}

fn search(service: Arc<Service>) -> impl Filter<Extract = (Response,), Error = warp::Rejection> + Clone {
    warp::path!("api" / "v1" / "search")
        .and(warp::get())
        .and(warp::query::<SearchQuery>())
        .and(authenticated(service))
        .then(|q: SearchQuery, auth: Authed| async move {
            let (svc, session) = match auth {
                Ok(a) => a,
                Err(r) => return r,
            };
            let result = blocking(move || svc.search(&session.actor, &q.q, 50)).await;
            respond(result, |results| json_ok(StatusCode::OK, &json!({ "results": results })))
        })
}

fn board(service: Arc<Service>) -> impl Filter<Extract = (Response,), Error = warp::Rejection> + Clone {
    warp::path!("api" / "v1" / "board")
        .and(warp::get())
        .and(warp::query::<BoardQuery>())
        .and(authenticated(service))
        .then(|q: BoardQuery, auth: Authed| async move {
            let (svc, session) = match auth {
                Ok(a) => a,
                Err(r) => return r,
            };
            let Some(unit) = q.unit.map(UnitId).or_else(|| session.actor.units().first().copied()) else {
                return error_response(&Error::invalid("unit", "required"));
            };
            let worker = q.worker.map(mamoru_core::ids::StaffId);
            let result = blocking(move || svc.board(&session.actor, unit, worker)).await;
            respond(result, |items| json_ok(StatusCode::OK, &json!({ "items": items })))
        })
}

fn create_child(
    svc: &Service,
    session: &SessionInfo,
    input: ChildIn,
) -> Result<(ChildId, Vec<mamoru_core::service::ChildSummary>), Error> {
    let unit = input
        .unit
        .map(UnitId)
        .or_else(|| session.actor.units().first().copied())
        .ok_or_else(|| Error::invalid("unit", "required"))?;
    let new = new_child(input, unit)?;
    let dups = match new.birth_date {
        Some(b) => svc.duplicate_candidates(&session.actor, b, &new.name.full_kana())?,
        None => Vec::new(),
    };
    let id = svc.register_child(&session.actor, new)?;
    Ok((id, dups))
}

/// A new child as the API describes one (birth date ISO or 和暦), in `unit` unless it names one.
fn new_child(input: ChildIn, unit: UnitId) -> Result<NewChild, Error> {
    Ok(NewChild {
        unit: input.unit.map_or(unit, UnitId),
        name: PersonName::new(
            &input.family_name,
            &input.given_name,
            &input.family_name_kana,
            &input.given_name_kana,
        )?,
        birth_date: input
            .birth_date
            .as_deref()
            .filter(|s| !s.trim().is_empty())
            .map(wareki::parse)
            .transpose()?,
        unborn: input.unborn,
        sex: Sex::parse(if input.sex.is_empty() { "unknown" } else { &input.sex })?,
        address: input.address,
        phones: input.phones,
        affiliation: input.affiliation,
    })
}
