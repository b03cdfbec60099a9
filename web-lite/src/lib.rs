//! mamoru-web: the HTTP face of Mamoru: the tablet UI (`ui`), the JSON API (`api`), live
//! events (`events`) and HTTPS (`tls`). Routes parse a request, call the service, and render;
//! API errors are mapped in one place (`error_response`). No rule about cases lives here.

/// The value of a handler's `Result<T, Response>` (a session, a parsed body), or that response,
/// returned from the handler at once: the one opening every handler shares.
macro_rules! or_respond {
    ($result:expr) => {
        match $result {
            Ok(value) => value,
            Err(response) => return response,
        }
    };
}

mod api;
mod events;
mod metrics;
mod openapi;
mod tls;
mod ui;

pub use tls::{Limits, Tls, serve_tls};

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

use mamoru_core::{Error, Service};
use serde_json::json;
use warp::http::{HeaderValue, StatusCode, header};
use warp::reply::Response;
use warp::{Filter, Reply};

pub use api::{DEVICE_COOKIE, SESSION_COOKIE};

/// `s` percent-encoded but for letters, digits and `-_.`: a value in a link's query, or a
/// Japanese file name in `filename*=UTF-8''…` (RFC 6266).
pub(crate) fn percent(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// What the web crate is told by the binary that wires it: facts it cannot know, and operations
/// it cannot do itself.
#[derive(Clone, Default)]
pub struct Health {
    pub version: &'static str,
    /// Served over HTTPS: adds `Strict-Transport-Security`.
    pub https: bool,
    /// Makes a backup generation now (the binary's backup code); returns a one-line summary.
    pub backup_now: Option<BackupNow>,
}

/// The binary's "back up now" operation.
pub type BackupNow = Arc<dyn Fn() -> Result<String, String> + Send + Sync>;

impl std::fmt::Debug for Health {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Health")
            .field("version", &self.version)
            .field("https", &self.https)
            .finish_non_exhaustive()
    }
}

/// Every route of the server, with errors as JSON.
pub fn routes(
    service: Arc<Service>,
    health: Health,
) -> impl Filter<Extract = (Response,), Error = Infallible> + Clone {
    routes_until(service, health, None)
}

/// Every route, the event streams ending when `stopping` turns true (the server stops).
pub(crate) fn routes_until(
    service: Arc<Service>,
    health: Health,
    stopping: Option<tokio::sync::watch::Receiver<bool>>,
) -> impl Filter<Extract = (Response,), Error = Infallible> + Clone {
    let Health { version, https, backup_now } = health;
    let healthz = warp::path!("healthz").and(warp::get()).and(with(service.clone())).then(
        move |svc: Arc<Service>| async move {
            let Ok(h) = blocking(move || Ok(svc.health())).await else {
                return StatusCode::SERVICE_UNAVAILABLE.into_response();
            };
            let body = json!({
                "status": if h.healthy() { "ok" } else { "degraded" },
                "version": version,
                "store": if h.store_writable { "ok" } else { "unavailable" },
                "disk": h.disk_state(),
                "disk_free_bytes": h.disk.map(|d| d.free_bytes),
                "backup": h.backup_state(),
                "last_backup_age_seconds": h.backup.age_seconds,
                "archive": if h.backup.archive_failing { "failed" } else { "ok" },
                "last_archive_age_seconds": h.backup.archive_age_seconds,
            });
            let status = if h.serving() { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
            warp::reply::with_status(warp::reply::json(&body), status).into_response()
        },
    );
    let openapi = warp::path!("api" / "v1" / "openapi.json")
        .and(warp::get())
        .map(|| warp::reply::json(openapi::served()).into_response());
    let timed = service.clone();
    let metrics = Arc::new(metrics::Metrics::default());
    let counted = metrics.clone();
    let wake = events::Wake::of(&service, stopping);
    let all = healthz
        .or(openapi)
        .unify()
        .or(metrics::route(service.clone(), metrics, version))
        .unify()
        .or(api::backup_now(service.clone(), backup_now))
        .unify()
        .or(api::maintenance(service.clone()))
        .unify()
        .or(api::service_report(service.clone()))
        .unify()
        .or(api::devices(service.clone()))
        .unify()
        .or(api::totp(service.clone()))
        .unify()
        .or(api::photos(service.clone()))
        .unify()
        .or(events::route(service.clone(), wake))
        .unify()
        .or(ui::routes(service.clone()))
        .unify()
        .or(api::routes(service))
        .unify()
        .recover(|r: warp::Rejection| async move { Ok::<_, Infallible>(rejection_response(&r)) })
        .unify();
    let all = warp::path::full().and(warp::method()).and(all).map(
        move |path: warp::path::FullPath, method: warp::http::Method, mut r: Response| {
            // A method the path does not take: say which it does (the API's, from its document).
            if r.status() == StatusCode::METHOD_NOT_ALLOWED
                && let Some(allow) = openapi::allowed(path.as_str())
                && !allow.split(", ").any(|m| m == method.as_str())
                && let Ok(allow) = HeaderValue::from_str(&allow)
            {
                r.headers_mut().insert(header::ALLOW, allow);
            }
            {
                let h = r.headers_mut();
                h.entry(header::CACHE_CONTROL).or_insert(HeaderValue::from_static("no-store"));
                h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
                h.insert("x-frame-options", HeaderValue::from_static("DENY"));
                h.insert("x-content-type-options", HeaderValue::from_static("nosniff"));
                // `same-origin`, not `no-referrer`: with no referrer, browsers send `Origin: null` on form
                // posts, and the forms' origin check needs the real one.
                h.insert("referrer-policy", HeaderValue::from_static("same-origin"));
                if https {
                    h.insert("strict-transport-security", HeaderValue::from_static("max-age=31536000"));
                }
            }
            r
        },
    );
    // Every request's time goes to the dashboard's figures, the monthly report and /metrics, by
    // page (its route without ids: no record, no user).
    warp::any().map(std::time::Instant::now).and(warp::path::full()).and(all).map(
        move |started: std::time::Instant, path: warp::path::FullPath, r: Response| {
            let page = page_of(path.as_str(), r.status());
            let (elapsed, failed) = (started.elapsed(), r.status().is_server_error());
            timed.traffic().record(&page, elapsed, failed);
            counted.observe(&page, elapsed, failed);
            r
        },
    )
}

/// The page a request was for, as the monthly report lists it: the path with every segment that
/// is not a plain word of letters (`v1` aside) as `{id}` — an id, a member key (`person-12`), a
/// code, a file name —, at most four segments. A path nothing answers, or a request refused
/// before any page (a bad header, too large), is one line each, so paths a client makes up do
/// not become pages.
fn page_of(path: &str, status: StatusCode) -> String {
    match status.as_u16() {
        404 | 405 => return "(not found)".into(),
        400 | 413 | 414 | 431 => return "(bad request)".into(),
        _ => {}
    }
    let word = |s: &str| {
        let version =
            s.len() <= 3 && s.starts_with('v') && s.len() > 1 && s[1..].bytes().all(|b| b.is_ascii_digit());
        version
            || (s.len() <= 24
                && s.bytes().next().is_some_and(|b| b.is_ascii_lowercase())
                && s.bytes().all(|b| b.is_ascii_lowercase() || b == b'-' || b == b'_'))
    };
    let mut page = String::new();
    for (i, seg) in path.split('/').filter(|s| !s.is_empty()).enumerate() {
        if i == 4 {
            page.push_str("/…");
            break;
        }
        page.push('/');
        page.push_str(if word(seg) { seg } else { "{id}" });
    }
    if page.is_empty() { "/".into() } else { page }
}

/// No inline script or style, nothing from elsewhere: every asset is embedded and served here.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

pub(crate) fn with<T: Clone + Send>(t: T) -> impl Filter<Extract = (T,), Error = Infallible> + Clone {
    warp::any().map(move || t.clone())
}

/// Runs a blocking service call (redb commits fsync) off the async workers.
pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, Error> + Send + 'static,
) -> Result<T, Error> {
    tokio::task::spawn_blocking(f)
        .await
        .unwrap_or_else(|e| Err(Error::Corrupt(format!("request worker failed: {e}"))))
}

/// A session lookup (`Service::session` and its kin): a few checks in memory and one short
/// read of the open store, so done on the request's own thread while the store is open — one
/// hand-off to the blocking threads fewer per request (about +10 % pages a second,
/// docs/PERFORMANCE.md). A store to be reopened first (after a full disk) is reopened on a
/// blocking thread, never on the server's own.
pub(crate) async fn session_lookup<T: Send + 'static>(
    service: &Service,
    lookup: impl FnOnce() -> Result<T, Error> + Send + 'static,
) -> Result<T, Error> {
    if service.sessions_readable_now() { lookup() } else { blocking(lookup).await }
}

/// The JSON error body of the contract: `{"error": {"code", "message"}}`.
pub(crate) fn error_body(status: StatusCode, code: &str, message: &str) -> Response {
    let body = json!({ "error": { "code": code, "message": message } });
    warp::reply::with_status(warp::reply::json(&body), status).into_response()
}

/// The one place where service errors become HTTP statuses, for the JSON API and the pages
/// alike.
pub(crate) fn status_of(e: &Error) -> StatusCode {
    match e {
        Error::NotFound { .. } => StatusCode::NOT_FOUND,
        Error::Forbidden { .. } | Error::DeviceRequired | Error::SecondFactorRequired => {
            StatusCode::FORBIDDEN
        }
        Error::Unauthenticated | Error::BadCredentials => StatusCode::UNAUTHORIZED,
        Error::TooManyAttempts { .. } => StatusCode::TOO_MANY_REQUESTS,
        Error::Conflict { .. } => StatusCode::CONFLICT,
        Error::Invalid { .. } | Error::Incomplete { .. } | Error::Date(_) => StatusCode::UNPROCESSABLE_ENTITY,
        Error::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        Error::AlreadyOpen { .. } | Error::Store(_) | Error::Corrupt(_) | Error::Io { .. } => {
            StatusCode::INTERNAL_SERVER_ERROR
        }
    }
}

/// Seconds a client is asked to wait before trying again while the store cannot write.
pub(crate) const UNAVAILABLE_RETRY_AFTER: u32 = 30;

/// A service error as the API's JSON error body, with the status from `status_of`. Store
/// failures are logged (without personal data) and reported without detail.
pub(crate) fn error_response(e: &Error) -> Response {
    let status = status_of(e);
    if status == StatusCode::INTERNAL_SERVER_ERROR {
        tracing::error!(error = %e, "request failed in the store");
        return error_body(status, "internal", "internal error; see the server log");
    }
    if let Error::Unavailable(_) = e {
        tracing::error!(error = %e, "request found the store unable to write");
        let mut r = error_body(
            status,
            e.code(),
            "the store cannot write now (disk full or I/O error); nothing was changed, try again shortly",
        );
        r.headers_mut().insert(warp::http::header::RETRY_AFTER, UNAVAILABLE_RETRY_AFTER.into());
        return r;
    }
    let mut r = error_body(status, e.code(), &e.to_string());
    if let Error::TooManyAttempts { retry_after } = e {
        r.headers_mut().insert(warp::http::header::RETRY_AFTER, (*retry_after).into());
    }
    r
}

fn rejection_response(r: &warp::Rejection) -> Response {
    if r.find::<ui::CrossOrigin>().is_some() {
        error_body(StatusCode::FORBIDDEN, "cross_origin", "a form from another site")
    } else if r.is_not_found() {
        error_body(StatusCode::NOT_FOUND, "not_found", "no such resource")
    } else if r.find::<warp::reject::PayloadTooLarge>().is_some() {
        error_body(StatusCode::PAYLOAD_TOO_LARGE, "too_large", "request body too large")
    } else if r.find::<warp::reject::LengthRequired>().is_some() {
        error_body(StatusCode::LENGTH_REQUIRED, "length_required", "a request body needs Content-Length")
    } else if r.find::<warp::reject::InvalidHeader>().is_some() {
        error_body(StatusCode::BAD_REQUEST, "bad_request", "a malformed header")
    } else if r.find::<warp::reject::MethodNotAllowed>().is_some() {
        // Another route's refusal of the method: only after every other reason, so that a route
        // of this method that refused the request is heard.
        error_body(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", "method not allowed here")
    } else {
        error_body(StatusCode::BAD_REQUEST, "bad_request", "malformed request")
    }
}

/// Serves plain HTTP on `listener` until `shutdown` resolves. Only for loopback (the demo, or
/// behind a TLS terminator): the caller refuses anything else. Then the event streams end and
/// the requests in flight are answered before it returns.
pub async fn serve_plain(
    listener: tokio::net::TcpListener,
    service: Arc<Service>,
    health: Health,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) {
    let (stop, stopping) = tokio::sync::watch::channel(false);
    let shutdown = async move {
        shutdown.await;
        let _ = stop.send(true);
    };
    warp::serve(routes_until(service, health, Some(stopping)))
        .incoming(listener)
        .graceful(shutdown)
        .run()
        .await;
}

/// Whether an address may serve plain HTTP.
#[must_use]
pub fn plain_http_allowed(addr: &SocketAddr) -> bool {
    addr.ip().is_loopback()
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_page_is_its_route_without_ids() {
        use warp::http::StatusCode;
        let ok = StatusCode::OK;
        assert_eq!(super::page_of("/", ok), "/");
        assert_eq!(super::page_of("/cases/123", ok), "/cases/{id}");
        assert_eq!(super::page_of("/cases/123/notes/", ok), "/cases/{id}/notes");
        assert_eq!(super::page_of("/api/v1/children/7", ok), "/api/v1/children/{id}");
        assert_eq!(super::page_of("/static/app.js", ok), "/static/{id}");
        assert_eq!(super::page_of("/photos/ab12%E5", ok), "/photos/{id}");
        assert_eq!(super::page_of("/a/b/c/d/e/f", ok), "/a/b/c/d/…");
        assert_eq!(super::page_of("/whatever/%00", StatusCode::NOT_FOUND), "(not found)");
        assert_eq!(super::page_of("/children/7/family/person-12", ok), "/children/{id}/family/{id}");
        assert_eq!(super::page_of("/made/up/words", StatusCode::BAD_REQUEST), "(bad request)");
    }

    use std::sync::Arc;

    use mamoru_core::staff::{Login, Password};
    use mamoru_core::store::Store;
    use mamoru_core::time::{FixedClock, Timestamp};

    use super::*;

    fn service() -> (tempfile::TempDir, Arc<Service>) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::create(dir.path(), Timestamp(1_750_000_000)).unwrap();
        let svc = Service::new(store, Arc::new(FixedClock::new(Timestamp(1_750_000_000))));
        svc.bootstrap(
            &Login::parse("admin").unwrap(),
            "管理者",
            &Password::new("correct horse battery").unwrap(),
        )
        .unwrap();
        (dir, Arc::new(svc))
    }

    #[tokio::test]
    async fn errors_map_to_statuses_in_one_place() {
        let cases = [
            (Error::NotFound { what: "child", id: "1".into() }, 404, "not_found"),
            (Error::Forbidden { action: "read_child" }, 403, "forbidden"),
            (Error::Unauthenticated, 401, "unauthenticated"),
            (Error::Conflict { record: "child 1".into(), expected: 1, found: 2 }, 409, "conflict"),
            (Error::invalid("q", "empty"), 422, "invalid"),
            (Error::Corrupt("secret detail".into()), 500, "internal"),
        ];
        for (e, status, code) in cases {
            let e = Arc::new(e);
            let filter = warp::any().map(move || error_response(&e));
            let r = warp::test::request().reply(&filter).await;
            assert_eq!(r.status().as_u16(), status);
            let text = String::from_utf8_lossy(r.body()).into_owned();
            assert!(text.contains(code), "{text}");
            assert!(!text.contains("secret detail"), "store failures carry no detail to the client");
        }
    }

    #[tokio::test]
    async fn routes_answer_in_process() {
        let (_dir, svc) = service();
        let scraper = "a-fictional-scraper-token-of-forty-chars!";
        svc.set_metrics_token(Some(scraper));
        let api = routes(svc, Health { version: "test", https: false, backup_now: None });
        let r = warp::test::request().path("/healthz").reply(&api).await;
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["cache-control"], "no-store");
        let json = ("content-type", "application/json");
        let r = warp::test::request()
            .method("POST")
            .path("/api/v1/session")
            .header(json.0, json.1)
            .body("{}")
            .reply(&api)
            .await;
        assert_eq!(r.status(), 400, "missing fields are a bad request");
        let admin = r#"{"login":"admin","password":"correct horse battery"}"#;
        // A form or text/plain post (what a page on another site can send unasked) signs no one in.
        for kind in [None, Some("text/plain"), Some("application/x-www-form-urlencoded")] {
            let mut post = warp::test::request().method("POST").path("/api/v1/session").body(admin);
            if let Some(kind) = kind {
                post = post.header("content-type", kind);
            }
            let r = post.reply(&api).await;
            assert_eq!(r.status(), 415, "{kind:?}");
            assert!(r.headers().get("set-cookie").is_none());
        }
        let r = warp::test::request()
            .method("POST")
            .path("/api/v1/session")
            .header(json.0, json.1)
            .body(admin)
            .reply(&api)
            .await;
        assert_eq!(r.status(), 200);
        let cookie = r.headers()["set-cookie"].to_str().unwrap();
        assert!(cookie.starts_with("__Host-mamoru_session="));
        for attr in ["Secure", "HttpOnly", "SameSite=Strict", "Path=/"] {
            assert!(cookie.contains(attr), "{cookie}");
        }
        let token = cookie.split(';').next().unwrap().split_once('=').unwrap().1;
        // The cookie alone authenticates; an administrator may not search children.
        let r = warp::test::request()
            .path("/api/v1/search?q=x")
            .header("cookie", format!("__Host-mamoru_session={token}"))
            .reply(&api)
            .await;
        assert_eq!(r.status(), 403);
        let r = warp::test::request().method("PUT").path("/api/v1/search").reply(&api).await;
        assert_eq!(r.status(), 405);
        assert_eq!(r.headers()["allow"], "GET");
        // A body too large for the route of its method is 413, not another route's 405 (nor an
        // `Allow` naming the method sent).
        let big = vec![b' '; 70 * 1024];
        let r = warp::test::request()
            .method("POST")
            .path("/api/v1/session")
            .header(json.0, json.1)
            .body(big)
            .reply(&api)
            .await;
        assert_eq!(r.status(), 413);
        assert!(r.headers().get("allow").is_none());

        // Metrics: the scraper's token or an administrator, from anywhere; loopback is no pass
        // (behind a TLS terminator on the same host, every client is loopback).
        let local: std::net::SocketAddr = "127.0.0.1:50000".parse().unwrap();
        let remote: std::net::SocketAddr = "192.0.2.10:50000".parse().unwrap();
        let r = warp::test::request().path("/metrics").remote_addr(local).reply(&api).await;
        assert_eq!(r.status(), 401);
        let r = warp::test::request()
            .path("/metrics")
            .remote_addr(remote)
            .header("authorization", format!("Bearer {scraper}"))
            .reply(&api)
            .await;
        assert_eq!(r.status(), 200);
        let text = String::from_utf8_lossy(r.body()).into_owned();
        assert!(text.contains("mamoru_up 1") && text.contains("mamoru_backup_failing 0"), "{text}");
        let wrong = format!("Bearer {}x", &scraper[..scraper.len() - 1]);
        let r = warp::test::request()
            .path("/metrics")
            .remote_addr(local)
            .header("authorization", wrong)
            .reply(&api)
            .await;
        assert_eq!(r.status(), 401);
        let r = warp::test::request()
            .path("/metrics")
            .remote_addr(remote)
            .header("authorization", format!("Bearer {token}"))
            .reply(&api)
            .await;
        assert_eq!(r.status(), 200, "an administrator may read them");
    }
}
