//! Signing in and out, and registering a tablet (its one-time code for the device's own
//! secret, kept in an `HttpOnly` cookie).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use mamoru_core::service::SessionInfo;
use mamoru_core::staff::Password;
use mamoru_core::{Error, Service};
use serde::Deserialize;
use warp::http::{HeaderValue, StatusCode, header};
use warp::reply::Response;
use warp::{Filter, Rejection};

use super::views::{LoginPage, RegisterPage};
use super::{
    FORM_LIMIT, TokenPage, check_form, error_page, html, message, redirect, same_origin, session_of_page,
    text,
};
use crate::api::{DEVICE_COOKIE, SESSION_COOKIE};
use crate::{blocking, status_of, with};

#[derive(Deserialize)]
pub(super) struct LoginQuery {
    #[serde(default)]
    expired: Option<String>,
    #[serde(default)]
    bye: Option<String>,
    #[serde(default)]
    registered: Option<String>,
}

pub(super) fn login_page(
    service: Arc<Service>,
) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    warp::path!("login")
        .and(warp::get())
        .and(warp::query::<LoginQuery>())
        .and(warp::cookie::optional::<String>(DEVICE_COOKIE))
        .and(with(service))
        .then(|q: LoginQuery, device: Option<String>, svc: Arc<Service>| async move {
            // A tablet whose registration was revoked (or is unknown here) keeps nothing typed:
            // every other way here (an expired session, a sign-out, a passing store failure)
            // keeps the drafts.
            let revoked = match device {
                Some(secret) => matches!(
                    blocking(move || svc.device_for_secret(&secret)).await,
                    Err(Error::Unauthenticated)
                ),
                None => false,
            };
            let notice = login_notice(&q, revoked).map(str::to_owned);
            let mut r = html(
                &LoginPage { login: String::new(), message: None, notice, wipe: revoked },
                StatusCode::OK,
            );
            if revoked {
                r.headers_mut().insert("clear-site-data", HeaderValue::from_static("\"storage\""));
            }
            r
        })
}

/// What the sign-in page says first: why the person is here.
fn login_notice(q: &LoginQuery, revoked: bool) -> Option<&'static str> {
    if revoked {
        Some("この端末の登録は取り消されました。端末に保存されていた入力中の内容は消去しました。")
    } else if q.bye.is_some() {
        Some("ログアウトしました。")
    } else if q.registered.is_some() {
        Some("この端末を登録しました。ログインしてください。")
    } else {
        q.expired.as_ref().map(|_| {
            "セッションが終了しました（一定時間の無操作、利用時間の上限、または管理者による終了）。もう一度ログインしてください。"
        })
    }
}

pub(super) fn login(service: Arc<Service>) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    warp::path!("login")
        .and(warp::post())
        .and(same_origin())
        .and(warp::body::content_length_limit(FORM_LIMIT))
        .and(warp::body::form::<HashMap<String, String>>())
        .and(warp::cookie::optional::<String>(DEVICE_COOKIE))
        .and(crate::api::peer())
        .and(with(service))
        .then(sign_in)
}

async fn sign_in(
    form: HashMap<String, String>,
    device: Option<String>,
    peer: Option<SocketAddr>,
    svc: Arc<Service>,
) -> Response {
    let field = |k: &str| form.get(k).map(|v| v.trim().to_owned()).unwrap_or_default();
    let (login, otp) = (field("login"), field("otp"));
    let password = form.get("password").cloned().unwrap_or_default();
    let (who, secret) = (login.clone(), device.clone());
    let result = blocking(move || {
        let device = device.map(|secret| svc.device_for_secret(&secret)).transpose()?;
        let otp = Some(otp.as_str()).filter(|o| !o.is_empty());
        svc.sign_in_from(peer.map(|p| p.ip()), &who, &Password::attempt(password), otp, device)
    })
    .await;
    match result {
        Ok((token, info)) => signed_in_page(&token, &info, secret),
        Err(e) => {
            // One message for every refusal: it must not tell which part was wrong.
            let e = match e {
                Error::Unauthenticated | Error::Invalid { .. } => Error::BadCredentials,
                e => e,
            };
            let page = LoginPage { login, message: Some(message(&e)), notice: None, wipe: false };
            html(&page, status_of(&e))
        }
    }
}

/// On to the home page (or to enrolling a second factor) with the session's cookie, and the
/// tablet's cookie renewed: browsers keep a cookie 400 days at most.
fn signed_in_page(token: &str, info: &SessionInfo, device_secret: Option<String>) -> Response {
    let mut r = redirect(if info.enrolling { "/totp" } else { "/home" });
    let cookie = format!("{SESSION_COOKIE}={token}; Path=/; Secure; HttpOnly; SameSite=Strict");
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
    if let Some(s) = device_secret.filter(|_| info.actor.device().is_some())
        && let Ok(v) = HeaderValue::from_str(&device_cookie(&s))
    {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
    r
}

/// The registered tablet's cookie: its secret, for as long as browsers keep one.
pub(super) fn device_cookie(secret: &str) -> String {
    format!("{DEVICE_COOKIE}={secret}; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=34560000")
}

pub(super) fn register_page() -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    warp::path!("register")
        .and(warp::get())
        .map(|| html(&RegisterPage { code: String::new(), message: None }, StatusCode::OK))
}

/// `POST /register`: the tablet enters its one-time code and receives its secret as a cookie.
pub(super) fn register(
    service: Arc<Service>,
) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    warp::path!("register")
        .and(warp::post())
        .and(same_origin())
        .and(warp::body::content_length_limit(FORM_LIMIT))
        .and(warp::body::form::<HashMap<String, String>>())
        .and(crate::api::peer())
        .and(with(service))
        .then(|form: HashMap<String, String>, peer: Option<SocketAddr>, svc: Arc<Service>| async move {
            let code = text(&form, "code");
            let typed = code.clone();
            match blocking(move || svc.redeem_device_code(&typed, peer.map(|p| p.ip()))).await {
                Ok((_, secret)) => {
                    let mut r = redirect("/login?registered=1");
                    if let Ok(v) = HeaderValue::from_str(&device_cookie(&secret)) {
                        r.headers_mut().insert(header::SET_COOKIE, v);
                    }
                    r
                }
                Err(e) => registration_refused(code, &e),
            }
        })
}

/// The registration page again: a wrong, expired or used code is said as one.
fn registration_refused(code: String, e: &Error) -> Response {
    let said = match e {
        Error::BadCredentials => "登録コードが正しくないか、有効期限（24時間）が切れているか、使用済みです。管理者に新しいコードを依頼してください。".to_owned(),
        e => message(e),
    };
    html(&RegisterPage { code, message: Some(said) }, status_of(e))
}

/// A form an enrolling session may post too (logout, the second factor's first code): from our
/// origin, with the session's form key. `Err` is the response to send instead.
pub(super) type EnrollingForm =
    Result<(Arc<Service>, SessionInfo, String, HashMap<String, String>), Response>;

#[expect(clippy::result_large_err, reason = "a filter's refusal is the response to send")]
pub(super) fn enrolling_form(
    service: Arc<Service>,
) -> impl Filter<Extract = (EnrollingForm,), Error = Rejection> + Clone {
    same_origin()
        .and(warp::body::content_length_limit(FORM_LIMIT))
        .and(warp::body::form::<HashMap<String, String>>())
        .and(session_of_page(service, true))
        .map(|form: HashMap<String, String>, page: TokenPage| {
            let (svc, session, token) = page?;
            match check_form(&session, &form) {
                Ok(()) => Ok((svc, session, token, form)),
                Err(e) => Err(error_page(&session, &e)),
            }
        })
}

pub(super) fn logout(service: Arc<Service>) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    warp::path!("logout").and(warp::post()).and(enrolling_form(service)).then(
        |posted: EnrollingForm| async move {
            let (svc, session, token, _) = or_respond!(posted);
            let from = session.actor.address();
            let _ = blocking(move || svc.sign_out(&token, from)).await;
            let mut r = redirect("/login?bye=1");
            let h = r.headers_mut();
            h.insert(
                header::SET_COOKIE,
                HeaderValue::from_static(
                    "__Host-mamoru_session=; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=0",
                ),
            );
            // Nothing of the session stays in the browser's cache. Its storage keeps the drafts of
            // the others who use this tablet; the script has discarded this person's own, after
            // asking.
            h.insert("clear-site-data", HeaderValue::from_static("\"cache\""));
            r
        },
    )
}
