//! The tablet UI: server-rendered Japanese pages (typed askama views in `views.rs`) with a little
//! plain JavaScript from `assets/`. A page handler finds the session (from the cookie only),
//! makes its service calls, renders. Forms post back the session's form key and get a redirect
//! after a write; a refused write shows the page again with what was typed and why.

mod casework;
mod enrol;
mod facesheet;
mod intake;
mod protection;
mod views;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use askama::Template;
use mamoru_core::case::{NewNote, NewSafetyCheck, SafetyMethod};
use mamoru_core::code_table::Code;
use mamoru_core::ids::{CaseId, ChildId};
use mamoru_core::service::SessionInfo;
use mamoru_core::staff::Password;
use mamoru_core::time::Timestamp;
use mamoru_core::{Error, Service};
use serde::Deserialize;
use warp::http::{HeaderValue, StatusCode, header};
use warp::reply::Response;
use warp::{Filter, Rejection, Reply};

use crate::api::{DEVICE_COOKIE, SESSION_COOKIE};
use crate::{blocking, with};
use views::{
    CaseData, CasePage, ChildPage, Chrome, ErrorPage, HomePage, LoginPage, RegisterPage, ResultRow,
    SearchPage,
};

/// Largest form a page posts (a long note).
const FORM_LIMIT: u64 = 256 * 1024;

const APP_CSS: &str = include_str!("../../assets/app.css");
const APP_JS: &str = include_str!("../../assets/app.js");

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

/// A service error as a Japanese sentence for the person holding the tablet.
pub(crate) fn message(e: &Error) -> String {
    match e {
        Error::NotFound { .. } => "見つかりません。削除されたか、番号が違います。".into(),
        Error::Forbidden { .. } => "この操作の権限がありません。".into(),
        Error::Unauthenticated => "ログインし直してください。".into(),
        Error::BadCredentials => "ログインID、パスワード、または確認コードが正しくありません。".into(),
        Error::DeviceRequired => {
            "この端末は登録されていません。管理者から受け取った登録コードで、先に端末を登録してください。"
                .into()
        }
        Error::SecondFactorRequired => {
            "二段階認証の設定が必要です。認証アプリを登録してからお使いください。".into()
        }
        Error::TooManyAttempts { retry_after } => format!(
            "ログインに続けて失敗したため、しばらくログインできません。{}分ほど待ってからもう一度お試しください。",
            (retry_after + 59) / 60
        ),
        Error::Conflict { .. } => {
            "他の職員が先に更新しました。最新の内容を確認してから、もう一度保存してください。".into()
        }
        Error::Invalid { field, reason } => {
            // Core explains in English for the CLI; the page says it in Japanese.
            let why = if reason.is_ascii() { field_hint(field) } else { reason.as_str() };
            if why.is_empty() {
                format!("「{}」を確認してください。", field_label(field))
            } else {
                format!("「{}」を確認してください（{why}）。", field_label(field))
            }
        }
        Error::Incomplete { fields } => {
            let named: Vec<String> = fields.iter().map(|f| format!("「{}」", field_label(f))).collect();
            format!("{}を入力してください。", named.concat())
        }
        Error::Date(_) => {
            "日付・日時の形式が正しくありません（例: 令和7年4月1日、R7.4.1、2025-04-01）。".into()
        }
        Error::AlreadyOpen { .. } | Error::Store(_) | Error::Corrupt(_) | Error::Io { .. } => {
            tracing::error!(error = %e, "a page request failed in the store");
            "サーバーで問題が起きました。入力内容は消えていません。時間をおいてもう一度保存してください。"
                .into()
        }
    }
}

fn field_label(field: &str) -> &str {
    match field {
        "body" => "内容",
        "at" => "日時",
        "code" | "kind" => "種別",
        "method" => "方法",
        "q" => "検索語",
        "idempotency_key" => "送信番号",
        "form_key" => "フォーム",
        "family_name" => "氏",
        "family_name_kana" => "ふりがな（氏）",
        "given_name_kana" => "ふりがな（名）",
        "birth_date" => "生年月日",
        "sex" => "性別",
        "rev" => "版",
        "attachments" | "photo" => "写真",
        "injuries" => "けがの位置",
        "received_at" => "受付日時",
        "unit" => "所属",
        "child" => "児童",
        "assigned" => "担当者",
        "case" | "cases" => "ケース",
        "started_at" => "開始日時",
        "extensions" | "until" => "延長",
        "ended" => "解除",
        "reason" => "理由",
        "outcome" => "結果",
        "warrant" => "一時保護状",
        "court" | "approved_on" => "家庭裁判所の承認",
        "step" => "操作",
        "hearing" => "子どもの意見聴取",
        "answers" => "回答",
        "decided_on" => "決定日",
        "review_on" => "見直し日",
        "end" => "終了日",
        "status" => "状態",
        "protection" => "一時保護",
        "attendees" => "出席者",
        "place_kind" => "場所の種類",
        "place" => "場所",
        "agency" => "確認した関係機関",
        "child_state" => "子どもの様子",
        "seen_directly" => "直接目視",
        "confirm" => "開始の確認",
        "notice" => "通知",
        "petitioned_on" => "家庭裁判所への申立日",
        other => other,
    }
}

/// A Japanese reason for a field core refused with an English one.
fn field_hint(field: &str) -> &'static str {
    match field {
        "family_name" | "body" => "入力されていません",
        "family_name_kana" | "given_name_kana" => "ひらがなかカタカナで入力してください",
        "birth_date" => "未来の日付（出生前を除く）や25年より前の日付は登録できません",
        "sex" => "選択してください",
        "attachments" => "この事案に送られていない写真か、枚数（20枚まで）を超えています",
        "photo" => "JPEG・PNG・WebP の画像で、10MB までです",
        "injuries" => "図の中に印をつけ、大きさは200cmまで、メモは500字までです",
        "extensions" => "延長は前の期間に続けて、2か月以内の日を満了日にしてください",
        "case" => "終結したケースか、すでに一時保護中です",
        "ended" => "開始より前の日時では解除できません",
        "started_at" | "received_at" => "未来の日時は入力できません",
        "hearing" => {
            "子どもの意見か聴取できなかった理由を入力するか、緊急のため事後に聴取することを選んでください"
        }
        "step" => "解除済みの一時保護には記録できません",
        "seen_directly" => "目視を選んだときは「子どもを直接目視した」にチェックしてください",
        "warrant" => "この段階では記録できません（保護者の同意、請求・結果の順を確認してください）",
        "court" => "最新の延長に、記録できる家庭裁判所の申立て・承認がありません",
        "at" => "未来の日時や、開始・前の手続きより前の日時は入力できません",
        "protection" => "一時保護中は終結できません。先に一時保護を解除してください",
        "status" => "ケースの状態が変わっています。ページを読み込み直してください",
        "end" => "開始日より前の日付は入力できません",
        "review_on" => "決定日より前の日付は入力できません",
        _ => "",
    }
}

fn error_page(session: &SessionInfo, e: &Error) -> Response {
    if matches!(e, Error::Unauthenticated) {
        return to_login();
    }
    let (status, heading) = match e {
        Error::NotFound { .. } => (StatusCode::NOT_FOUND, "見つかりません"),
        Error::Forbidden { .. } => (StatusCode::FORBIDDEN, "権限がありません"),
        Error::Conflict { .. } => (StatusCode::CONFLICT, "更新が重なりました"),
        Error::Invalid { .. } | Error::Incomplete { .. } | Error::Date(_) => {
            (StatusCode::UNPROCESSABLE_ENTITY, "入力を確認してください")
        }
        _ => (StatusCode::INTERNAL_SERVER_ERROR, "エラー"),
    };
    html(&ErrorPage { chrome: Chrome::new(session, heading, ""), heading, message: message(e) }, status)
}

type Page = Result<(Arc<Service>, SessionInfo), Response>;

/// The page's session from the cookie; without one, the way to the sign-in page; for a session
/// that must first enrol its second factor, the way to that (`/totp`).
#[expect(clippy::result_large_err, reason = "a filter's refusal is the response to send")]
fn signed_in(service: Arc<Service>) -> impl Filter<Extract = (Page,), Error = Rejection> + Clone {
    session_of_page(service, false).map(|page: TokenPage| page.map(|(svc, session, _)| (svc, session)))
}

/// A page's session and its token; `Err` is the response to send instead.
type TokenPage = Result<(Arc<Service>, SessionInfo, String), Response>;

/// `signed_in` with the token. `enrolling_ok`: for the pages a session that must first enrol its
/// second factor may see (the enrolment, logout).
fn session_of_page(
    service: Arc<Service>,
    enrolling_ok: bool,
) -> impl Filter<Extract = (TokenPage,), Error = Rejection> + Clone {
    warp::cookie::optional::<String>(SESSION_COOKIE)
        .and(warp::header::optional::<String>("x-mamoru-live"))
        .and(with(service))
        .then(move |cookie: Option<String>, live: Option<String>, svc: Arc<Service>| async move {
            let Some(token) = cookie else { return Err(to_login()) };
            let (checker, t) = (svc.clone(), token.clone());
            // A live refresh is the page's doing, not the person's: it does not reset the idle timer.
            let found = blocking(move || match (enrolling_ok, live) {
                (true, _) => checker.enrolment_session(&t),
                (false, Some(_)) => checker.peek_session(&t),
                (false, None) => checker.session(&t),
            })
            .await;
            match found {
                Ok(s) => Ok((svc, s, token)),
                Err(Error::SecondFactorRequired) => Err(redirect("/totp")),
                Err(_) => Err(to_login()),
            }
        })
}

/// A form post from one of our own pages: same origin (when the browser says), and the
/// session's form key.
fn check_form(session: &SessionInfo, form: &HashMap<String, String>) -> Result<(), Error> {
    let sent = form.get("form_key").map_or("", String::as_str);
    if sent.is_empty() || sent != session.form_key {
        return Err(Error::Forbidden { action: "a form from another page or an ended session" });
    }
    Ok(())
}

fn same_origin() -> impl Filter<Extract = (), Error = Rejection> + Clone {
    warp::header::optional::<String>("origin")
        .and(warp::header::optional::<String>("sec-fetch-site"))
        .and(warp::host::optional())
        .and_then(
            |origin: Option<String>, site: Option<String>, host: Option<warp::host::Authority>| async move {
                // Browsers say where a form came from; a request that says nothing is not a browser's.
                let from_elsewhere = site.is_some_and(|s| s == "cross-site" || s == "same-site");
                let origin_ok = match (origin.as_deref(), host) {
                    (None, _) => true,
                    (Some(o), Some(h)) => o.split_once("://").is_some_and(|(_, rest)| rest == h.as_str()),
                    (Some(_), None) => false,
                };
                if origin_ok && !from_elsewhere { Ok(()) } else { Err(warp::reject::custom(CrossOrigin)) }
            },
        )
        .untuple_one()
}

#[derive(Debug)]
pub(crate) struct CrossOrigin;
impl warp::reject::Reject for CrossOrigin {}

pub(crate) fn routes(service: Arc<Service>) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    let root = warp::path::end().and(warp::get()).map(|| redirect("/home"));
    let assets = warp::path!("assets" / String).and(warp::get()).map(|name: String| {
        let (body, kind) = match name.as_str() {
            "app.css" => (APP_CSS, "text/css; charset=utf-8"),
            "app.js" => (APP_JS, "text/javascript; charset=utf-8"),
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
        .or(login_page())
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
        .boxed();
    signing.or(work).unify().or(casework::routes(service)).unify()
}

#[derive(Deserialize)]
struct LoginQuery {
    #[serde(default)]
    expired: Option<String>,
    #[serde(default)]
    bye: Option<String>,
    #[serde(default)]
    registered: Option<String>,
}

fn login_page() -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    warp::path!("login").and(warp::get()).and(warp::query::<LoginQuery>()).map(|q: LoginQuery| {
        let notice = if q.bye.is_some() {
            Some("ログアウトしました。".to_owned())
        } else if q.registered.is_some() {
            Some("この端末を登録しました。ログインしてください。".to_owned())
        } else {
            q.expired.map(|_| {
                "ログインしてください（一定時間操作がなかったか、端末の登録が取り消されました）。".to_owned()
            })
        };
        html(&LoginPage { login: String::new(), message: None, notice }, StatusCode::OK)
    })
}

fn login(service: Arc<Service>) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    warp::path!("login")
        .and(warp::post())
        .and(same_origin())
        .and(warp::body::content_length_limit(FORM_LIMIT))
        .and(warp::body::form::<HashMap<String, String>>())
        .and(warp::cookie::optional::<String>(DEVICE_COOKIE))
        .and(crate::api::peer())
        .and(with(service))
        .then(
            |form: HashMap<String, String>,
             device: Option<String>,
             peer: Option<SocketAddr>,
             svc: Arc<Service>| async move {
                let field = |k: &str| form.get(k).map(|v| v.trim().to_owned()).unwrap_or_default();
                let (login, otp) = (field("login"), field("otp"));
                let password = form.get("password").cloned().unwrap_or_default();
                let who = login.clone();
                let secret = device.clone();
                let result = blocking(move || {
                    let device = device.map(|secret| svc.device_for_secret(&secret)).transpose()?;
                    let otp = Some(otp.as_str()).filter(|o| !o.is_empty());
                    svc.sign_in_from(peer.map(|p| p.ip()), &who, &Password::attempt(password), otp, device)
                })
                .await;
                match result {
                    Ok((token, info)) => {
                        let mut r = redirect(if info.enrolling { "/totp" } else { "/home" });
                        let cookie =
                            format!("{SESSION_COOKIE}={token}; Path=/; Secure; HttpOnly; SameSite=Strict");
                        if let Ok(v) = HeaderValue::from_str(&cookie) {
                            r.headers_mut().append(header::SET_COOKIE, v);
                        }
                        // Browsers keep a cookie 400 days at most: each sign-in on the tablet renews it.
                        if let Some(s) = secret.filter(|_| info.actor.device().is_some())
                            && let Ok(v) = HeaderValue::from_str(&device_cookie(&s))
                        {
                            r.headers_mut().append(header::SET_COOKIE, v);
                        }
                        r
                    }
                    Err(e) => {
                        // One message for every refusal: it must not tell which part was wrong.
                        let (text, status) = match e {
                            Error::BadCredentials | Error::Unauthenticated | Error::Invalid { .. } => {
                                (message(&Error::BadCredentials), StatusCode::UNAUTHORIZED)
                            }
                            e @ Error::TooManyAttempts { .. } => (message(&e), StatusCode::TOO_MANY_REQUESTS),
                            e @ Error::DeviceRequired => (message(&e), StatusCode::FORBIDDEN),
                            other => (message(&other), StatusCode::INTERNAL_SERVER_ERROR),
                        };
                        html(&LoginPage { login, message: Some(text), notice: None }, status)
                    }
                }
            },
        )
}

/// The registered tablet's cookie: its secret, for as long as browsers keep one.
fn device_cookie(secret: &str) -> String {
    format!("{DEVICE_COOKIE}={secret}; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=34560000")
}

fn register_page() -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    warp::path!("register")
        .and(warp::get())
        .map(|| html(&RegisterPage { code: String::new(), message: None }, StatusCode::OK))
}

/// `POST /register`: the tablet enters its one-time code and receives its secret as a cookie.
fn register(service: Arc<Service>) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
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
                Err(e) => {
                    let (text, status) = match e {
                        Error::BadCredentials => (
                            "登録コードが正しくないか、有効期限（24時間）が切れているか、使用済みです。管理者に新しいコードを依頼してください。".to_owned(),
                            StatusCode::UNAUTHORIZED,
                        ),
                        e @ Error::TooManyAttempts { .. } => (message(&e), StatusCode::TOO_MANY_REQUESTS),
                        other => (message(&other), StatusCode::INTERNAL_SERVER_ERROR),
                    };
                    html(&RegisterPage { code, message: Some(text) }, status)
                }
            }
        })
}

/// A form an enrolling session may post too (logout, the second factor's first code): from our
/// origin, with the session's form key. `Err` is the response to send instead.
type EnrollingForm = Result<(Arc<Service>, SessionInfo, String, HashMap<String, String>), Response>;

#[expect(clippy::result_large_err, reason = "a filter's refusal is the response to send")]
fn enrolling_form(
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

fn logout(service: Arc<Service>) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    warp::path!("logout").and(warp::post()).and(enrolling_form(service)).then(
        |posted: EnrollingForm| async move {
            let (svc, _, token, _) = match posted {
                Ok(p) => p,
                Err(r) => return r,
            };
            let _ = blocking(move || svc.sign_out(&token)).await;
            let mut r = redirect("/login?bye=1");
            let h = r.headers_mut();
            h.insert(
                header::SET_COOKIE,
                HeaderValue::from_static(
                    "__Host-mamoru_session=; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=0",
                ),
            );
            // Nothing of the session stays readable in the browser: drafts live in its storage.
            h.insert("clear-site-data", HeaderValue::from_static("\"cache\", \"storage\""));
            r
        },
    )
}

#[derive(Deserialize)]
struct HomeQuery {
    #[serde(default)]
    mine: Option<String>,
}

fn home(service: Arc<Service>) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    warp::path!("home").and(warp::get()).and(warp::query::<HomeQuery>()).and(signed_in(service)).then(
        |q: HomeQuery, page: Page| async move {
            let (svc, session) = match page {
                Ok(p) => p,
                Err(r) => return r,
            };
            let mine = q.mine.is_some();
            let actor = session.actor.clone();
            let result = blocking(move || {
                let after = svc.last_change()?;
                let unit = actor.units().first().copied().ok_or(Error::Forbidden { action: "read_board" })?;
                let name = svc
                    .units()?
                    .into_iter()
                    .find(|u| u.id == unit.0)
                    .map(|u| u.body.name)
                    .unwrap_or_default();
                let worker = mine.then_some(actor.staff());
                let items = svc.board(&actor, unit, worker)?;
                let messages = svc.recent_messages(&actor, unit, worker, 7, 20)?;
                let names = svc.staff_names(&actor)?;
                Ok((name, items, messages, names, svc.now(), after))
            })
            .await;
            match result {
                Ok((unit, items, messages, names, now, after)) => {
                    let mut chrome = Chrome::new(&session, "ホーム", "home");
                    chrome.live = "board";
                    chrome.after = after;
                    let clocks = items.iter().map(|i| views::ClockRow::of(i, now)).collect();
                    let messages = messages.iter().map(|m| views::BoardMessage::of(m, &names)).collect();
                    html(&HomePage { chrome, unit, mine, clocks, messages }, StatusCode::OK)
                }
                Err(e) => error_page(&session, &e),
            }
        },
    )
}

#[derive(Deserialize)]
struct SearchQuery {
    #[serde(default)]
    q: String,
}

fn search(service: Arc<Service>) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    warp::path!("search").and(warp::get()).and(warp::query::<SearchQuery>()).and(signed_in(service)).then(
        |q: SearchQuery, page: Page| async move {
            let (svc, session) = match page {
                Ok(p) => p,
                Err(r) => return r,
            };
            let chrome = Chrome::new(&session, "検索", "search");
            let query = q.q.trim().to_owned();
            if query.is_empty() {
                let page = SearchPage {
                    chrome,
                    q: String::new(),
                    searched: false,
                    results: Vec::new(),
                    message: None,
                };
                return html(&page, StatusCode::OK);
            }
            let actor = session.actor.clone();
            let text = query.clone();
            let result = blocking(move || Ok((svc.search(&actor, &text, 50)?, svc.now().jst_date()))).await;
            match result {
                Ok((found, today)) => {
                    let results = found.iter().map(|s| ResultRow::of(s, today)).collect();
                    html(
                        &SearchPage { chrome, q: query, searched: true, results, message: None },
                        StatusCode::OK,
                    )
                }
                Err(e @ (Error::Invalid { .. } | Error::Incomplete { .. } | Error::Date(_))) => {
                    let page = SearchPage {
                        chrome,
                        q: query,
                        searched: false,
                        results: Vec::new(),
                        message: Some(message(&e)),
                    };
                    html(&page, StatusCode::UNPROCESSABLE_ENTITY)
                }
                Err(e) => error_page(&session, &e),
            }
        },
    )
}

#[derive(Deserialize)]
struct ChildQuery {
    #[serde(default)]
    saved: Option<String>,
}

fn child(service: Arc<Service>) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    warp::path!("children" / u64)
        .and(warp::get())
        .and(warp::query::<ChildQuery>())
        .and(signed_in(service))
        .then(|id: u64, q: ChildQuery, page: Page| async move {
            let (svc, session) = match page {
                Ok(p) => p,
                Err(r) => return r,
            };
            let actor = session.actor.clone();
            let result = blocking(move || {
                let after = svc.last_change()?;
                let view = svc.child(&actor, ChildId(id))?;
                Ok((view, svc.code_tables()?, svc.staff_names(&actor)?, svc.now().jst_date(), after))
            })
            .await;
            match result {
                Ok((view, tables, names, today, after)) => {
                    let mut chrome = Chrome::new(&session, view.child.body.name.full(), "child");
                    chrome.after = after;
                    let mut page = ChildPage::of(chrome, &view, &tables, &names, today);
                    page.notice = q.saved.map(|how| {
                        if how == "merged" {
                            "フェイスシートを保存しました。編集中にほかの人が保存した別の項目の変更も、そのまま残っています。"
                        } else {
                            "フェイスシートを保存しました。"
                        }
                        .to_owned()
                    });
                    html(&page, StatusCode::OK)
                }
                Err(e) => error_page(&session, &e),
            }
        })
}

/// Everything the case page needs, read for `session`.
fn case_data(svc: &Service, session: &SessionInfo, id: CaseId) -> Result<CaseData, Error> {
    let actor = &session.actor;
    let after = svc.last_change()?;
    let view = svc.case(actor, id)?;
    let child = svc.child(actor, view.case.body.child)?;
    Ok(CaseData {
        child_name: child.child.body.name.full(),
        child_kana: child.child.body.name.full_kana(),
        view,
        tables: svc.code_tables()?,
        sheets: svc.assessment_sheets()?,
        names: svc.staff_names(actor)?,
        now: svc.now(),
        reader: actor.staff(),
        after,
    })
}

#[derive(Deserialize)]
struct CaseQuery {
    #[serde(default)]
    saved: Option<String>,
}

fn case(service: Arc<Service>) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    warp::path!("cases" / u64).and(warp::get()).and(warp::query::<CaseQuery>()).and(signed_in(service)).then(
        |id: u64, q: CaseQuery, page: Page| async move {
            let (svc, session) = match page {
                Ok(p) => p,
                Err(r) => return r,
            };
            let s = session.clone();
            match blocking(move || case_data(&svc, &s, CaseId(id))).await {
                Ok(data) => {
                    let mut page = CasePage::of(
                        Chrome::new(&session, data.view.case.body.case_no.clone(), "case"),
                        &data,
                    );
                    page.notice = match q.saved.as_deref() {
                        Some("note") => Some("経過記録を保存しました。".into()),
                        Some("check") => Some("安全確認を保存しました。".into()),
                        Some("intake") => Some("受付しました。".into()),
                        Some("protection") => Some("一時保護の記録を保存しました。".into()),
                        Some("message") => Some("連絡を送りました。".into()),
                        Some("case") => Some("調査・判定を保存しました。".into()),
                        Some("case_merged") => Some(
                            "調査・判定を保存しました。編集中にほかの人が保存した別の項目の変更も、そのまま残っています。"
                                .into(),
                        ),
                        Some("assessment") => {
                            Some("アセスメントを保存しました。結果は下のとおりです。".into())
                        }
                        Some("support") => Some("援助・措置を保存しました。".into()),
                        Some("meeting") => Some("会議を記録しました。".into()),
                        Some("closed") => Some("ケースを終結しました。".into()),
                        Some("reopened") => Some("ケースを再開しました。".into()),
                        _ => None,
                    };
                    html(&page, StatusCode::OK)
                }
                Err(e) => error_page(&session, &e),
            }
        },
    )
}

/// A form's text field, trimmed at the ends only.
fn text(form: &HashMap<String, String>, key: &str) -> String {
    form.get(key).map(|v| v.trim().to_owned()).unwrap_or_default()
}

/// The revision a form was drawn from.
fn rev(form: &HashMap<String, String>) -> Result<u64, Error> {
    text(form, "rev").parse::<u64>().map_err(|_| Error::invalid("rev", "版がありません"))
}

fn idempotency_key(form: &HashMap<String, String>) -> Option<String> {
    Some(text(form, "idempotency_key")).filter(|k| !k.is_empty())
}

/// The filter of a form post to `/cases/{id}/{what}`: the case id, the form, the page session.
fn case_form(
    service: Arc<Service>,
    what: &'static str,
) -> impl Filter<Extract = (u64, HashMap<String, String>, Page), Error = Rejection> + Clone {
    warp::path("cases")
        .and(warp::path::param::<u64>())
        .and(warp::path(what))
        .and(warp::path::end())
        .and(warp::post())
        .and(same_origin())
        .and(warp::body::content_length_limit(FORM_LIMIT))
        .and(warp::body::form::<HashMap<String, String>>())
        .and(signed_in(service))
}

/// The status of a page that shows a refused write again.
fn status_of(e: &Error) -> StatusCode {
    match e {
        Error::Conflict { .. } => StatusCode::CONFLICT,
        Error::Forbidden { .. } => StatusCode::FORBIDDEN,
        Error::NotFound { .. } => StatusCode::NOT_FOUND,
        Error::Invalid { .. } | Error::Incomplete { .. } | Error::Date(_) => StatusCode::UNPROCESSABLE_ENTITY,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// After a refused write: the case page again, with the message and everything typed.
async fn refused(
    svc: Arc<Service>,
    session: SessionInfo,
    id: CaseId,
    e: Error,
    keep: impl FnOnce(&mut CasePage) + Send + 'static,
) -> Response {
    let s = session.clone();
    match blocking(move || case_data(&svc, &s, id)).await {
        Ok(data) => {
            let mut page =
                CasePage::of(Chrome::new(&session, data.view.case.body.case_no.clone(), "case"), &data);
            keep(&mut page);
            page.message = Some(message(&e));
            html(&page, status_of(&e))
        }
        Err(other) => error_page(&session, &other),
    }
}

/// The photos a form names (comma-separated SHA-256s, each sent to the server already); core
/// fills in what it stamped when each arrived.
fn photo_list(photos: &str) -> Vec<String> {
    photos.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect()
}

/// One write from a case page's small forms (protection steps, closing): checked, done off the
/// async workers, and answered with the case page at `saved` (`what#section`), or with the
/// refusal, what `keep` puts back, and the current state.
async fn case_write<T: Send + 'static>(
    page: Page,
    id: u64,
    form: HashMap<String, String>,
    saved: &'static str,
    keep: impl FnOnce(&mut CasePage) + Send + 'static,
    work: impl FnOnce(&Service, &SessionInfo, &HashMap<String, String>) -> Result<T, Error> + Send + 'static,
) -> Response {
    let (svc, session) = match page {
        Ok(p) => p,
        Err(r) => return r,
    };
    let (s, svc2) = (session.clone(), svc.clone());
    let result = blocking(move || {
        check_form(&s, &form)?;
        work(&svc2, &s, &form)
    })
    .await;
    match result {
        Ok(_) => redirect(&format!("/cases/{id}?saved={saved}")),
        Err(e) => refused(svc, session, CaseId(id), e, keep).await,
    }
}

fn add_note(service: Arc<Service>) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    case_form(service, "notes").then(|id: u64, form: HashMap<String, String>, page: Page| async move {
        let (svc, session) = match page {
            Ok(p) => p,
            Err(r) => return r,
        };
        let (at, kind, body, photos) =
            (text(&form, "at"), text(&form, "kind"), text(&form, "body"), text(&form, "photos"));
        let result = async {
            check_form(&session, &form)?;
            let note = NewNote {
                at: Timestamp::parse(&at)?,
                kind: Code::new(&kind),
                body: body.clone(),
                photos: photo_list(&photos),
            };
            let (svc, actor, key) = (svc.clone(), session.actor.clone(), idempotency_key(&form));
            blocking(move || svc.add_note_once(&actor, CaseId(id), note, key.as_deref())).await
        }
        .await;
        match result {
            Ok(_) => redirect(&format!("/cases/{id}?saved=note#notes")),
            Err(e) => {
                refused(svc, session, CaseId(id), e, move |p| {
                    p.note_form = views::NoteForm { at, kind, body, photos };
                })
                .await
            }
        }
    })
}

fn add_message(service: Arc<Service>) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    case_form(service, "messages").then(|id: u64, form: HashMap<String, String>, page: Page| async move {
        let (svc, session) = match page {
            Ok(p) => p,
            Err(r) => return r,
        };
        let body = text(&form, "body");
        let result = async {
            check_form(&session, &form)?;
            let (svc, actor, key, text) =
                (svc.clone(), session.actor.clone(), idempotency_key(&form), body.clone());
            blocking(move || svc.post_message_once(&actor, CaseId(id), &text, key.as_deref())).await
        }
        .await;
        match result {
            Ok(_) => redirect(&format!("/cases/{id}?saved=message#thread")),
            Err(e) => refused(svc, session, CaseId(id), e, move |p| p.thread_form = body).await,
        }
    })
}

fn add_check(service: Arc<Service>) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    case_form(service, "safety-checks").then(
        |id: u64, form: HashMap<String, String>, page: Page| async move {
            let (svc, session) = match page {
                Ok(p) => p,
                Err(r) => return r,
            };
            let kept = views::CheckForm {
                at: text(&form, "at"),
                method: text(&form, "method"),
                seen_directly: form.contains_key("seen_directly"),
                agency: text(&form, "agency"),
                place: text(&form, "place"),
                child_state: text(&form, "child_state"),
                photos: text(&form, "photos"),
                injuries: text(&form, "injuries"),
            };
            let result = async {
                check_form(&session, &form)?;
                let check = NewSafetyCheck {
                    at: Some(kept.at.as_str()).filter(|t| !t.is_empty()).map(Timestamp::parse).transpose()?,
                    method: match kept.method.as_str() {
                        "sighted" => Some(SafetyMethod::Sighted),
                        "interview" => Some(SafetyMethod::Interview),
                        "by_agency" => Some(SafetyMethod::ByAgency),
                        _ => None,
                    },
                    seen_directly: kept.seen_directly,
                    agency: kept.agency.clone(),
                    place: kept.place.clone(),
                    child_state: kept.child_state.clone(),
                    injuries: if kept.injuries.is_empty() {
                        Vec::new()
                    } else {
                        serde_json::from_str(&kept.injuries)
                            .map_err(|_| Error::invalid("injuries", "not a list of marks"))?
                    },
                    photos: photo_list(&kept.photos),
                };
                let (svc, actor, key) = (svc.clone(), session.actor.clone(), idempotency_key(&form));
                blocking(move || svc.record_safety_check_once(&actor, CaseId(id), check, key.as_deref()))
                    .await
            }
            .await;
            match result {
                Ok(_) => redirect(&format!("/cases/{id}?saved=check#checks")),
                Err(e) => refused(svc, session, CaseId(id), e, move |p| p.check_form = kept).await,
            }
        },
    )
}

#[cfg(test)]
mod tests {
    use mamoru_core::case::{IntakeKind, NewIntake};
    use mamoru_core::ids::UnitId;
    use mamoru_core::person::{PersonName, Sex};
    use mamoru_core::service::{NewCase, NewChild, NewStaff};
    use mamoru_core::staff::{Login, Role};
    use mamoru_core::store::Store;
    use mamoru_core::time::FixedClock;

    use super::*;
    use crate::Health;

    const PW: &str = "correct horse battery";

    /// A store with a caseworker and one open case on one child: (dir, service, case id).
    fn world() -> (tempfile::TempDir, Arc<Service>, u64) {
        let dir = tempfile::tempdir().unwrap();
        let now = Timestamp::parse("2026-11-24T10:00").unwrap();
        let svc = Service::new(Store::create(dir.path(), now).unwrap(), Arc::new(FixedClock::new(now)));
        let admin_login = Login::parse("admin").unwrap();
        svc.bootstrap(&admin_login, "管理者", &Password::new(PW).unwrap()).unwrap();
        let (_, admin) = svc.sign_in("admin", &Password::attempt(PW), None, None).unwrap();
        let unit = UnitId(svc.units().unwrap()[0].id);
        let new = NewStaff {
            login: Login::parse("cw").unwrap(),
            display_name: "木下 福祉司".into(),
            role: Role::Caseworker,
            units: vec![unit],
        };
        svc.add_staff(&admin.actor, new, &Password::new(PW).unwrap()).unwrap();
        let (_, cw) = svc.sign_in("cw", &Password::attempt(PW), None, None).unwrap();
        let child = svc
            .register_child(
                &cw.actor,
                NewChild {
                    unit,
                    name: PersonName::new("髙﨑", "さくら", "たかさき", "さくら").unwrap(),
                    birth_date: None,
                    unborn: false,
                    sex: Sex::Female,
                    address: String::new(),
                    phones: vec![],
                    affiliation: String::new(),
                },
            )
            .unwrap();
        let intake = NewIntake {
            kind: IntakeKind::AbuseReport,
            received_at: now,
            route: Code::new("14"),
            consultation_type: Code::new("11"),
            chief_complaint: "テスト".into(),
            content: String::new(),
        };
        let case = svc
            .open_case(
                &cw.actor,
                child,
                NewCase { unit, intake, abuse: None, reporter: None, assigned: vec![] },
            )
            .unwrap();
        (dir, Arc::new(svc), case.id)
    }

    fn api(
        svc: &Arc<Service>,
    ) -> impl Filter<Extract = (Response,), Error = std::convert::Infallible> + Clone + use<> {
        crate::routes(svc.clone(), Health { version: "test", https: false, backup_now: None })
    }

    fn body(r: &warp::http::Response<bytes::Bytes>) -> String {
        String::from_utf8_lossy(r.body()).into_owned()
    }

    /// Signs in through the page: the session cookie and the form key from the home page.
    async fn sign_in(svc: &Arc<Service>) -> (String, String) {
        sign_in_as(svc, "cw").await
    }

    /// The session cookie and form key of `login` (password `PW`), signed in through the page.
    async fn sign_in_as(svc: &Arc<Service>, login: &str) -> (String, String) {
        let r = warp::test::request()
            .method("POST")
            .path("/login")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!("login={login}&password=correct+horse+battery"))
            .reply(&api(svc))
            .await;
        assert_eq!(r.status(), 303, "{}", body(&r));
        let cookie = r.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_owned();
        let home = warp::test::request().path("/home").header("cookie", &cookie).reply(&api(svc)).await;
        assert_eq!(home.status(), 200);
        let page = body(&home);
        let key =
            page.split("name=\"form_key\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
        (cookie, key)
    }

    fn note_form(key: &str, idem: &str, text: &str) -> String {
        format!("form_key={key}&idempotency_key={idem}&at=2026-11-24T09%3A30&kind=3&body={text}")
    }

    async fn post(
        svc: &Arc<Service>,
        cookie: &str,
        path: &str,
        form: String,
        origin: Option<&str>,
    ) -> warp::http::Response<bytes::Bytes> {
        let mut req = warp::test::request()
            .method("POST")
            .path(path)
            .header("host", "mamoru.example")
            .header("cookie", cookie)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form);
        if let Some(o) = origin {
            req = req.header("origin", o);
        }
        req.reply(&api(svc)).await
    }

    fn notes(svc: &Service, case: u64) -> usize {
        let (_, s) = svc.sign_in("cw", &Password::attempt(PW), None, None).unwrap();
        svc.case(&s.actor, CaseId(case)).unwrap().notes.len()
    }

    #[tokio::test]
    async fn pages_need_a_session_and_carry_the_security_headers() {
        let (_dir, svc, case) = world();
        let r = warp::test::request().path(&format!("/cases/{case}")).reply(&api(&svc)).await;
        assert_eq!(r.status(), 303);
        assert_eq!(r.headers()["location"], "/login?expired=1");
        let r = warp::test::request().path("/login").reply(&api(&svc)).await;
        assert_eq!(r.status(), 200);
        let csp = r.headers()["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"), "{csp}");
        assert_eq!(r.headers()["cache-control"], "no-store");
        let page = body(&r);
        assert!(!page.contains("<script>") && !page.contains("style="), "no inline script or style");
        assert!(page.len() < 60 * 1024);

        // Every refusal says the same thing: it must not reveal whether the login exists.
        for form in ["login=cw&password=wrong", "login=nobody&password=wrong"] {
            let r = warp::test::request()
                .method("POST")
                .path("/login")
                .header("content-type", "application/x-www-form-urlencoded")
                .body(form)
                .reply(&api(&svc))
                .await;
            assert_eq!(r.status(), 401);
            assert!(body(&r).contains("ログインID、パスワード、または確認コードが正しくありません"));
        }
        let (cookie, _) = sign_in(&svc).await;
        let r = warp::test::request()
            .path(&format!("/cases/{case}"))
            .header("cookie", &cookie)
            .reply(&api(&svc))
            .await;
        assert_eq!(r.status(), 200);
        let page = body(&r);
        assert!(page.contains("髙﨑 さくら") && page.contains("虐待通告"), "{page}");
        // The page tells its event stream where it was drawn, so no change falls in between.
        let after = svc.last_change().unwrap();
        assert!(after > 0 && page.contains(&format!("data-after=\"{after}\"")), "{page}");
        assert!(page.len() < 60 * 1024, "pages stay under 60 KB: {}", page.len());
        let r = warp::test::request()
            .path("/search?q=%E9%AB%98%E5%B4%8E")
            .header("cookie", &cookie)
            .reply(&api(&svc))
            .await;
        assert!(body(&r).contains("髙﨑 さくら"), "高崎 finds 髙﨑");
        let r = warp::test::request().path("/assets/app.js").reply(&api(&svc)).await;
        assert_eq!(r.headers()["content-type"], "text/javascript; charset=utf-8");
    }

    #[tokio::test]
    async fn forms_need_the_form_key_and_our_origin_and_a_resent_note_is_saved_once() {
        let (_dir, svc, case) = world();
        let (cookie, key) = sign_in(&svc).await;
        let path = format!("/cases/{case}/notes");

        let r = post(&svc, &cookie, &path, note_form("forged", "k1", "x"), None).await;
        assert_eq!(r.status(), 403, "a wrong form key is refused");
        let r = post(&svc, &cookie, &path, note_form(&key, "k1", "x"), Some("https://evil.example")).await;
        assert_eq!(r.status(), 403, "a post from another site is refused");
        assert_eq!(notes(&svc, case), 0, "nothing was saved");

        // Bad input: the page again, with the reason and what was typed.
        let r = post(
            &svc,
            &cookie,
            &path,
            note_form(&key, "k2", "%E5%86%85%E5%AE%B9").replace("kind=3", "kind=zz"),
            None,
        )
        .await;
        assert_eq!(r.status(), 422);
        let page = body(&r);
        assert!(page.contains("「種別」を確認してください") && page.contains("内容</textarea>"), "{page}");
        assert_eq!(notes(&svc, case), 0);

        for _ in 0..2 {
            let r = post(
                &svc,
                &cookie,
                &path,
                note_form(&key, "k3", "%E8%A8%AA%E5%95%8F"),
                Some("http://mamoru.example"),
            )
            .await;
            assert_eq!(r.status(), 303);
            assert_eq!(r.headers()["location"].to_str().unwrap(), format!("/cases/{case}?saved=note#notes"));
        }
        assert_eq!(notes(&svc, case), 1, "the same draft sent twice is one note");

        let check = format!(
            "form_key={key}&idempotency_key=c1&at=2026-11-24T09%3A45&method=sighted&seen_directly=1&place=%E8%87%AA%E5%AE%85&child_state=%E5%85%83%E6%B0%97"
        );
        let r = post(&svc, &cookie, &format!("/cases/{case}/safety-checks"), check, None).await;
        assert_eq!(r.status(), 303, "{}", body(&r));
        let r = warp::test::request()
            .path(&format!("/cases/{case}"))
            .header("cookie", &cookie)
            .reply(&api(&svc))
            .await;
        assert!(body(&r).contains("目視済み"));
    }

    #[tokio::test]
    async fn a_stale_face_sheet_edit_shows_both_versions_and_loses_neither() {
        let (_dir, svc, case) = world();
        let (cookie, key) = sign_in(&svc).await;
        let child = {
            let (_, s) = svc.sign_in("cw", &Password::attempt(PW), None, None).unwrap();
            svc.case(&s.actor, CaseId(case)).unwrap().case.body.child.0
        };
        let r = warp::test::request()
            .path(&format!("/children/{child}/edit"))
            .header("cookie", &cookie)
            .reply(&api(&svc))
            .await;
        assert_eq!(r.status(), 200);
        assert!(body(&r).contains("name=\"rev\" value=\"1\""), "{}", body(&r));
        let path = format!("/children/{child}/edit");
        let edit = |rev: u64, address: &str| {
            format!(
                "form_key={key}&rev={rev}&family=%E9%AB%99%E5%B4%8E&given=%E3%81%95%E3%81%8F%E3%82%89\
                 &family_kana=%E3%81%9F%E3%81%8B%E3%81%95%E3%81%8D&given_kana=%E3%81%95%E3%81%8F%E3%82%89\
                 &birth=R2.4.1&sex=female&address={address}"
            )
        };
        // The first editor saves (rev 1 → 2); a resend of the same form is not a conflict.
        for _ in 0..2 {
            let r = post(&svc, &cookie, &path, edit(1, "%E6%9D%B1%E7%94%BA1"), None).await;
            assert_eq!(r.status(), 303, "{}", body(&r));
            assert_eq!(r.headers()["location"].to_str().unwrap(), format!("/children/{child}?saved=1"));
        }
        // A second editor who started from rev 1 gets both versions, and the store keeps the first.
        let r = post(&svc, &cookie, &path, edit(1, "%E8%A5%BF%E7%94%BA2"), None).await;
        assert_eq!(r.status(), 409);
        let page = body(&r);
        assert!(page.contains("更新が重なりました") && page.contains("第2版"), "{page}");
        assert!(page.contains("<td>西町2</td><td>東町1</td>"), "mine beside theirs: {page}");
        assert!(page.contains("name=\"address\" value=\"西町2\""), "what was typed stays in the form");
        assert!(page.contains("name=\"rev\" value=\"2\""), "a deliberate save goes over rev 2");
        let (_, s) = svc.sign_in("cw", &Password::attempt(PW), None, None).unwrap();
        assert_eq!(svc.child(&s.actor, ChildId(child)).unwrap().child.body.address, "東町1");

        // Bad furigana: the reason in Japanese, the typed text kept, nothing saved.
        let bad =
            edit(2, "x").replace("family_kana=%E3%81%9F%E3%81%8B%E3%81%95%E3%81%8D", "family_kana=taka");
        let r = post(&svc, &cookie, &path, bad, None).await;
        assert_eq!(r.status(), 422);
        let page = body(&r);
        assert!(
            page.contains("「ふりがな（氏）」を確認してください（ひらがなかカタカナで入力してください）"),
            "{page}"
        );
        assert!(page.contains("value=\"taka\""));
        assert_eq!(svc.child(&s.actor, ChildId(child)).unwrap().child.rev, 2);
    }

    #[tokio::test]
    async fn repeated_failed_sign_ins_are_throttled_with_a_japanese_message_and_retry_after() {
        let (_dir, svc, _) = world();
        let routes = api(&svc);
        let login = |form: &'static str| {
            warp::test::request()
                .method("POST")
                .path("/login")
                .header("content-type", "application/x-www-form-urlencoded")
                .body(form)
                .reply(&routes)
        };
        for _ in 0..5 {
            assert_eq!(login("login=cw&password=wrong").await.status(), 401);
        }
        let r = login("login=cw&password=correct+horse+battery").await;
        assert_eq!(r.status(), 429, "locked, even with the right password");
        assert!(body(&r).contains("しばらくログインできません。1分ほど待って"), "{}", body(&r));
        let r = warp::test::request()
            .method("POST")
            .path("/api/v1/session")
            .header("content-type", "application/json")
            .body(r#"{"login":"cw","password":"correct horse battery"}"#)
            .reply(&api(&svc))
            .await;
        assert_eq!(r.status(), 429);
        assert_eq!(r.headers()["retry-after"], "60");
    }

    #[tokio::test]
    async fn an_api_write_carried_by_the_cookie_alone_must_be_json() {
        let (_dir, svc, _) = world();
        let (cookie, _) = sign_in(&svc).await;
        let routes = api(&svc);
        let write = |kind: &'static str| {
            warp::test::request()
                .method("POST")
                .path("/api/v1/session/totp")
                .header("cookie", &cookie)
                .header("content-type", kind)
                .body("{}")
                .reply(&routes)
        };
        // What a page on another site (or a sibling host) could send without asking first.
        for kind in ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"] {
            let r = write(kind).await;
            assert_eq!(r.status(), 415, "{kind}: {}", body(&r));
        }
        assert_eq!(write("application/json").await.status(), 200);
    }

    #[tokio::test]
    async fn with_the_device_policy_only_a_tablet_registered_by_its_code_may_sign_in() {
        let (_dir, svc, _) = world();
        let (_, admin) = svc.sign_in("admin", &Password::attempt(PW), None, None).unwrap();
        svc.set_device_required(true);
        let routes = api(&svc);
        let form = |path: &'static str, body: String, cookie: Option<String>| {
            let mut r = warp::test::request()
                .method("POST")
                .path(path)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body);
            if let Some(c) = cookie {
                r = r.header("cookie", c);
            }
            r.reply(&routes)
        };
        let pw = "login=cw&password=correct+horse+battery".to_owned();
        let r = form("/login", pw.clone(), None).await;
        assert_eq!(r.status(), 403);
        assert!(body(&r).contains("この端末は登録されていません") && body(&r).contains("href=\"/register\""));

        let (_, code, _) = svc.issue_device_code(&admin.actor, "iPad 5").unwrap();
        let r = form("/register", format!("code={code}"), None).await;
        assert_eq!(r.status(), 303);
        assert_eq!(r.headers()["location"], "/login?registered=1");
        let set = r.headers()["set-cookie"].to_str().unwrap();
        assert!(
            set.starts_with("__Host-mamoru_device=") && set.contains("HttpOnly") && set.contains("Secure")
        );
        let device = set.split(';').next().unwrap().to_owned();

        let r = form("/login", pw, Some(device.clone())).await;
        assert_eq!(r.status(), 303, "{}", body(&r));
        let cookies: Vec<_> = r.headers().get_all("set-cookie").iter().map(|v| v.to_str().unwrap()).collect();
        assert!(cookies.iter().any(|c| c.starts_with("__Host-mamoru_session=")));
        assert!(cookies.iter().any(|c| c.starts_with(&device)), "the sign-in renews the device cookie");
    }

    #[tokio::test]
    async fn with_the_second_factor_required_a_first_sign_in_enrols_it_from_a_qr_code() {
        let (_dir, svc, case) = world();
        svc.set_totp_required(true);
        let routes = api(&svc);
        let password_only = || {
            warp::test::request()
                .method("POST")
                .path("/login")
                .header("content-type", "application/x-www-form-urlencoded")
                .body("login=cw&password=correct+horse+battery")
                .reply(&routes)
        };
        let r = password_only().await;
        assert_eq!(r.status(), 303);
        assert_eq!(r.headers()["location"], "/totp");
        let cookie = r.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_owned();
        let get = |path: String| warp::test::request().path(&path).header("cookie", &cookie).reply(&routes);

        // Nothing else opens until the second factor is enrolled: pages lead to /totp, the API
        // says why.
        let r = get(format!("/cases/{case}")).await;
        assert_eq!((r.status().as_u16(), r.headers()["location"].to_str().unwrap()), (303, "/totp"));
        let r = get("/api/v1/search?q=x".into()).await;
        assert_eq!(r.status(), 403);
        assert!(body(&r).contains("second_factor_required"), "{}", body(&r));
        let r = get("/api/v1/session".into()).await;
        assert!(body(&r).contains(r#""enrolling":true"#), "{}", body(&r));

        let r = get("/totp".into()).await;
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["cache-control"], "no-store");
        let page = body(&r);
        assert!(page.contains("<svg") && page.contains("二段階認証"), "{page}");
        let key = page.split("id=\"totp-key\">").nth(1).unwrap().split('<').next().unwrap().replace(' ', "");
        let url = page.split("href=\"otpauth://").nth(1).unwrap().split('"').next().unwrap();
        let url = format!("otpauth://{}", url.replace("&#38;", "&"));
        assert!(url.contains(&format!("secret={key}")), "the key shown is the QR code's: {url}");
        let form_key =
            page.split("name=\"form_key\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
        assert_eq!(body(&get("/totp".into()).await), page, "drawn again, the same secret");

        // A wrong code shows the same code again; the right one opens the app.
        let secret = mamoru_core::totp::url_secret(&url).unwrap();
        let right = mamoru_core::totp::code_at(&secret, svc.now()).unwrap();
        let wrong = if right == "123456" { "654321" } else { "123456" };
        let r = post(&svc, &cookie, "/totp", format!("form_key={form_key}&code={wrong}"), None).await;
        assert_eq!(r.status(), 422);
        assert!(
            body(&r).contains("確認コードが一致しません") && body(&r).contains(&url.replace('&', "&#38;")),
            "{}",
            body(&r)
        );
        let r = post(&svc, &cookie, "/totp", format!("form_key=other&code={right}"), None).await;
        assert_eq!(r.status(), 403, "the form key is checked");
        let r = post(&svc, &cookie, "/totp", format!("form_key={form_key}&code={right}"), None).await;
        assert_eq!((r.status().as_u16(), r.headers()["location"].to_str().unwrap()), (303, "/home"));
        assert_eq!(get(format!("/cases/{case}")).await.status(), 200);

        // From now on the password alone is refused.
        let r = password_only().await;
        assert_eq!(r.status(), 401);
    }

    #[tokio::test]
    async fn a_photo_is_sent_as_an_image_and_read_back_by_those_who_may_read_the_case() {
        let (_dir, svc, case) = world();
        let (cookie, key) = sign_in(&svc).await;
        let routes = api(&svc);
        let send = |kind: &'static str, bytes: Vec<u8>| {
            warp::test::request()
                .method("POST")
                .path(&format!("/api/v1/cases/{case}/photos"))
                .header("cookie", &cookie)
                .header("content-type", kind)
                .body(bytes)
                .reply(&routes)
        };
        let jpeg = [&[0xFF, 0xD8, 0xFF, 0xE0][..], &[7; 200]].concat();
        assert_eq!(send("text/plain", jpeg.clone()).await.status(), 415, "not a cross-site simple request");
        let r = send("image/jpeg", b"<html><script>alert(1)</script>".to_vec()).await;
        assert_eq!(r.status(), 422, "the first bytes decide: {}", body(&r));
        let r = send("image/jpeg", jpeg.clone()).await;
        assert_eq!(r.status(), 201, "{}", body(&r));
        let stored: serde_json::Value = serde_json::from_slice(r.body()).unwrap();
        let url = stored["url"].as_str().unwrap().to_owned();

        let r = warp::test::request().path(&url).header("cookie", &cookie).reply(&routes).await;
        assert_eq!(r.status(), 200);
        assert_eq!(r.body().as_ref(), jpeg.as_slice());
        assert_eq!(r.headers()["content-type"], "image/jpeg");
        assert_eq!(r.headers()["x-content-type-options"], "nosniff");
        assert_eq!(r.headers()["cache-control"], "no-store");
        let r = warp::test::request().path(&url).reply(&routes).await;
        assert_eq!(r.status(), 401, "no session, no photo");

        // The safety check names it; one not sent for this case is refused in Japanese.
        let form = |photos: &str| {
            format!(
                "form_key={key}&idempotency_key=&at=2026-11-24T09%3A30&method=sighted&seen_directly=1&place=x&child_state=%E5%85%83%E6%B0%97&photos={photos}"
            )
        };
        let r =
            post(&svc, &cookie, &format!("/cases/{case}/safety-checks"), form(&"0".repeat(64)), None).await;
        assert_eq!(r.status(), 422);
        assert!(body(&r).contains("「写真」を確認してください"), "{}", body(&r));
        let sha = stored["sha256"].as_str().unwrap();
        let r = post(&svc, &cookie, &format!("/cases/{case}/safety-checks"), form(sha), None).await;
        assert_eq!(r.status(), 303, "{}", body(&r));
        let page = warp::test::request()
            .path(&format!("/cases/{case}"))
            .header("cookie", &cookie)
            .reply(&routes)
            .await;
        assert!(body(&page).contains(&format!("<img src=\"{url}\"")), "{}", body(&page));
        assert!(body(&page).contains("撮影・木下 福祉司・髙﨑 さくら"), "the stamp: {}", body(&page));
    }

    #[tokio::test]
    async fn a_refused_intake_keeps_what_was_typed_and_registers_nobody_and_a_form_from_elsewhere_is_refused()
    {
        let (_dir, svc, _) = world();
        let (cookie, key) = sign_in(&svc).await;
        let unit = svc.units().unwrap()[0].id;
        let children = |svc: &Service| {
            let (_, s) = svc.sign_in("cw", &Password::attempt(PW), None, None).unwrap();
            svc.search(&s.actor, "かくう", 10).unwrap().len()
        };
        // An unknown route code: the page comes back with the reason and every field as typed.
        let form = format!(
            "form_key={key}&family=%E6%9E%B6%E7%A9%BA&given=%E8%8A%B1&family_kana=%E3%81%8B%E3%81%8F%E3%81%86\
             &given_kana=%E3%81%AF%E3%81%AA&kind=abuse_report&received_at=2026-11-24T09%3A30&route=zz\
             &consultation_type=11&content=%E6%B3%A3%E3%81%8D%E5%A3%B0&unit={unit}&confirm_new=1"
        );
        let r = post(&svc, &cookie, "/intake", form.clone(), None).await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{}", body(&r));
        let page = body(&r);
        assert!(page.contains("class=\"error\""), "{page}");
        assert!(page.contains("value=\"かくう\"") && page.contains(">泣き声</textarea>"), "kept: {page}");
        assert_eq!(children(&svc), 0, "no child without its case");
        // Another site's form (no form key) changes nothing either.
        let foreign = form.replace(&format!("form_key={key}"), "form_key=").replace("route=zz", "route=14");
        let r = post(&svc, &cookie, "/intake", foreign, None).await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{}", body(&r));
        assert_eq!(children(&svc), 0);
        // Put right: the case opens on a new child, and a resend of the same draft opens nothing more.
        let good = format!("{}&idempotency_key=k1", form.replace("route=zz", "route=14"));
        let r = post(&svc, &cookie, "/intake", good.clone(), None).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{}", body(&r));
        let to = r.headers()[header::LOCATION].to_str().unwrap().to_owned();
        assert!(to.ends_with("?saved=intake"), "{to}");
        // The resend is answered with that case, not with the question whether the child it
        // registered is the same one.
        let again = post(&svc, &cookie, "/intake", good.replace("&confirm_new=1", ""), None).await;
        assert_eq!(again.headers()[header::LOCATION].to_str().unwrap(), to);
        assert_eq!(children(&svc), 1);
    }

    #[tokio::test]
    async fn a_protection_step_from_a_stale_page_is_refused_and_overwrites_nothing() {
        let (_dir, svc, case) = world();
        let (cookie, key) = sign_in(&svc).await;
        let start = format!(
            "form_key={key}&at=2026-11-24T09%3A00&place_kind=shelter&place=%E4%B8%80%E6%99%82%E4%BF%9D%E8%AD%B7%E6%89%80&reason=x&hearing_after=1&confirm=1"
        );
        let r = post(&svc, &cookie, &format!("/cases/{case}/protections"), start, None).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{}", body(&r));
        let (_, s) = svc.sign_in("cw", &Password::attempt(PW), None, None).unwrap();
        let p = svc.case(&s.actor, CaseId(case)).unwrap().protections[0].clone();
        let path = format!("/cases/{case}/protections/{}", p.id);
        // Two pages drawn at the same revision: the supervisor records the request first...
        let request = format!("form_key={key}&rev={}&step=warrant_request&at=2026-11-24T09%3A30", p.rev);
        let r = post(&svc, &cookie, &path, request, None).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{}", body(&r));
        // ... the second, stale page's end of the protection is refused with the current state shown.
        let end =
            format!("form_key={key}&rev={}&step=end&at=2026-11-24T09%3A50&reason=%E5%B8%B0%E5%AE%85", p.rev);
        let r = post(&svc, &cookie, &path, end, None).await;
        assert_eq!(r.status(), StatusCode::CONFLICT, "{}", body(&r));
        assert!(
            body(&r).contains("他の職員が先に更新しました") && body(&r).contains("請求 "),
            "{}",
            body(&r)
        );
        let now = svc.case(&s.actor, CaseId(case)).unwrap().protections[0].clone();
        assert!(now.body.is_active() && now.body.warrant.is_some(), "the request stays, nothing ended");
    }

    /// #16: the page's start had 一時保護所 chosen for the person and no place or reason needed;
    /// the check form had 目視 ticked before anyone saw the child.
    #[tokio::test]
    async fn a_start_and_a_safety_check_name_what_they_lack_and_nothing_is_chosen_for_the_person() {
        let (_dir, svc, case) = world();
        let (cookie, key) = sign_in(&svc).await;
        let page = warp::test::request()
            .path(&format!("/cases/{case}"))
            .header("cookie", &cookie)
            .reply(&routes(svc.clone()))
            .await;
        let page = String::from_utf8_lossy(page.body()).into_owned();
        assert!(!page.contains("name=\"seen_directly\" value=\"1\" checked"), "目視 is not pre-ticked");
        assert!(page.contains("<option value=\"\">選択してください</option>"), "no method chosen");
        let start = format!("form_key={key}&at=2026-11-24T09%3A00&place_kind=&confirm=1");
        let r = post(&svc, &cookie, &format!("/cases/{case}/protections"), start, None).await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{}", body(&r));
        assert!(
            body(&r).contains("「場所の種類」「場所」「理由」「子どもの意見聴取」を入力してください"),
            "{}",
            body(&r)
        );
        let unconfirmed = format!(
            "form_key={key}&at=2026-11-24T09%3A00&place_kind=shelter&place=x&reason=x&hearing_after=1"
        );
        let r = post(&svc, &cookie, &format!("/cases/{case}/protections"), unconfirmed, None).await;
        assert!(body(&r).contains("「開始の確認」を入力してください"), "{}", body(&r));
        let check = format!("form_key={key}&at=2026-11-24T09%3A45&method=&place=x");
        let r = post(&svc, &cookie, &format!("/cases/{case}/safety-checks"), check, None).await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{}", body(&r));
        assert!(body(&r).contains("「方法」「子どもの様子」を入力してください"), "{}", body(&r));
        assert!(body(&r).contains("value=\"x\""), "the place typed is kept: {}", body(&r));
        let (_, s) = svc.sign_in("cw", &Password::attempt(PW), None, None).unwrap();
        let view = svc.case(&s.actor, CaseId(case)).unwrap();
        assert!(view.protections.is_empty() && view.safety_checks.is_empty(), "nothing stored");
    }

    #[tokio::test]
    async fn an_unanswered_question_is_named_and_stores_nothing_and_a_resent_sheet_is_stored_once() {
        let (_dir, svc, case) = world();
        let (cookie, key) = sign_in(&svc).await;
        let path = format!("/cases/{case}/assessment");
        let answers = |n: usize| (1..=n).map(|i| format!("&q_q{i}=yes")).collect::<Vec<_>>().concat();
        let form = format!("form_key={key}&sheet=protection_decision{}", answers(6));
        let r = post(&svc, &cookie, &path, form, None).await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{}", body(&r));
        let page = body(&r);
        assert!(page.contains("質問7に「はい」か「いいえ」で答えてください"), "{page}");
        assert!(page.contains("name=\"q_q6\" value=\"yes\" required checked"), "kept: {page}");
        let (_, s) = svc.sign_in("cw", &Password::attempt(PW), None, None).unwrap();
        assert!(svc.case(&s.actor, CaseId(case)).unwrap().assessments.is_empty());
        let full = format!("form_key={key}&idempotency_key=a1&sheet=protection_decision{}", answers(7));
        for _ in 0..2 {
            let r = post(&svc, &cookie, &path, full.clone(), None).await;
            assert_eq!(r.status(), StatusCode::SEE_OTHER, "{}", body(&r));
        }
        let stored = svc.case(&s.actor, CaseId(case)).unwrap().assessments;
        assert_eq!(stored.len(), 1, "a resend is stored once");
        assert_eq!(stored[0].body.result, "emergency", "computed from the answers");
    }

    #[tokio::test]
    async fn a_resent_case_edit_is_saved_once_a_stale_one_is_merged_and_a_clash_shows_both_versions() {
        let (_dir, svc, case) = world();
        let (cookie, key) = sign_in(&svc).await;
        let path = format!("/cases/{case}/edit");
        let edit = |text: &str| format!("form_key={key}&rev=1&opinion={text}&next_review=R9.1.15");
        let r = post(&svc, &cookie, &path, edit("%E8%A6%8B%E5%AE%88%E3%82%8A"), None).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{}", body(&r));
        // The answer was lost and the tablet sends the same form again: already saved.
        let r = post(&svc, &cookie, &path, edit("%E8%A6%8B%E5%AE%88%E3%82%8A"), None).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{}", body(&r));
        let (_, s) = svc.sign_in("cw", &Password::attempt(PW), None, None).unwrap();
        let now = svc.case(&s.actor, CaseId(case)).unwrap().case;
        assert_eq!((now.rev, now.body.worker_opinion.as_str()), (2, "見守り"));
        assert_eq!(now.body.next_review.unwrap().to_string(), "2027-01-15", "和暦 typed");
        // From the same old revision, another field only (判定): merged, the opinion kept.
        let other = format!("form_key={key}&rev=1&judgement=%E5%9C%A8%E5%AE%85&next_review=R9.1.15");
        let r = post(&svc, &cookie, &path, other, None).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{}", body(&r));
        assert!(r.headers()["location"].to_str().unwrap().contains("saved=case_merged"));
        let now = svc.case(&s.actor, CaseId(case)).unwrap().case;
        assert_eq!(
            (now.rev, now.body.worker_opinion.as_str(), now.body.judgement.as_str()),
            (3, "見守り", "在宅")
        );
        // The opinion changed differently from the same old revision: both versions, nothing
        // overwritten, the clashing row marked, the other person's 判定 taken into the form.
        let r = post(&svc, &cookie, &path, edit("%E4%BF%9D%E8%AD%B7"), None).await;
        assert_eq!(r.status(), StatusCode::CONFLICT, "{}", body(&r));
        let page = body(&r);
        assert!(page.contains("見守り") && page.contains("class=\"differs clash\""), "{page}");
        assert!(page.contains("児童福祉司意見<span class=\"tag danger\">要確認"), "{page}");
        assert!(page.contains("name=\"rev\" value=\"3\""), "{page}");
        assert!(page.contains(">保護</textarea>"), "mine in the form: {page}");
        assert!(page.contains(">在宅</textarea>"), "their 判定 in the form: {page}");
        assert_eq!(svc.case(&s.actor, CaseId(case)).unwrap().case.rev, 3);
    }

    #[tokio::test]
    async fn a_case_is_closed_by_a_supervisor_only_and_not_while_the_child_is_in_protection() {
        let (_dir, svc, case) = world();
        let (_, admin) = svc.sign_in("admin", &Password::attempt(PW), None, None).unwrap();
        let unit = UnitId(svc.units().unwrap()[0].id);
        let sv = NewStaff {
            login: Login::parse("sv").unwrap(),
            display_name: "佐野 スーパーバイザー".into(),
            role: Role::Supervisor,
            units: vec![unit],
        };
        svc.add_staff(&admin.actor, sv, &Password::new(PW).unwrap()).unwrap();
        let (cookie, key) = sign_in(&svc).await;
        let path = format!("/cases/{case}/close");
        let close = format!("form_key={key}&rev=1&reason=%E8%BB%A2%E5%87%BA");
        let r = post(&svc, &cookie, &path, close.clone(), None).await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "the caseworker may not close: {}", body(&r));
        // The supervisor may, but not while the child is in temporary protection.
        let (sv_cookie, sv_key) = sign_in_as(&svc, "sv").await;
        let start = format!(
            "form_key={key}&at=2026-11-24T09%3A00&place_kind=shelter&consent=1&place=%E4%B8%80%E6%99%82%E4%BF%9D%E8%AD%B7%E6%89%80&reason=x&hearing_after=1&confirm=1"
        );
        let r = post(&svc, &cookie, &format!("/cases/{case}/protections"), start, None).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{}", body(&r));
        let close = format!("form_key={sv_key}&rev=1&reason=%E8%BB%A2%E5%87%BA");
        let r = post(&svc, &sv_cookie, &path, close, None).await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{}", body(&r));
        assert!(body(&r).contains("一時保護中は終結できません"), "{}", body(&r));
        assert!(body(&r).contains("value=\"転出\""), "the reason is kept: {}", body(&r));
        let (_, s) = svc.sign_in("cw", &Password::attempt(PW), None, None).unwrap();
        assert_eq!(
            svc.case(&s.actor, CaseId(case)).unwrap().case.body.status,
            mamoru_core::case::CaseStatus::Open
        );
    }

    #[tokio::test]
    async fn the_menu_offers_only_what_the_role_may_do() {
        let (_dir, svc, _case) = world();
        let (_, admin) = svc.sign_in("admin", &Password::attempt(PW), None, None).unwrap();
        let unit = UnitId(svc.units().unwrap()[0].id);
        let psy = NewStaff {
            login: Login::parse("psy").unwrap(),
            display_name: "架空 心理司".into(),
            role: Role::Psychologist,
            units: vec![unit],
        };
        svc.add_staff(&admin.actor, psy, &Password::new(PW).unwrap()).unwrap();
        let menu =
            |page: &str| page.split("<nav>").nth(1).unwrap().split("</nav>").next().unwrap().to_owned();
        let (cookie, _) = sign_in(&svc).await;
        let home = warp::test::request().path("/home").header("cookie", &cookie).reply(&api(&svc)).await;
        let cw = menu(&body(&home));
        assert!(cw.contains("href=\"/search\"") && cw.contains("href=\"/intake\""), "{cw}");
        // A psychologist searches and writes notes but opens no cases.
        let (cookie, _) = sign_in_as(&svc, "psy").await;
        let home = warp::test::request().path("/home").header("cookie", &cookie).reply(&api(&svc)).await;
        let psy = menu(&body(&home));
        assert!(psy.contains("href=\"/search\"") && !psy.contains("新規受付"), "{psy}");
    }

    #[tokio::test]
    async fn a_stale_support_update_shows_both_versions_and_saves_at_the_stored_revision_next() {
        let (_dir, svc, case) = world();
        let (cookie, key) = sign_in(&svc).await;
        let path = format!("/cases/{case}/support");
        let r =
            post(&svc, &cookie, &path, format!("form_key={key}&kind=32&decided_on=2026-11-24"), None).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{}", body(&r));
        let (_, s) = svc.sign_in("cw", &Password::attempt(PW), None, None).unwrap();
        let id = svc.case(&s.actor, CaseId(case)).unwrap().supports[0].id;
        let update = |rev: u64, facility: &str| {
            format!("form_key={key}&support={id}&rev={rev}&kind=32&decided_on=2026-11-24&facility={facility}")
        };
        let r = post(&svc, &cookie, &path, update(1, "A"), None).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{}", body(&r));
        // Another update from revision 1: both versions, the typed form at revision 2.
        let r = post(&svc, &cookie, &path, update(1, "B"), None).await;
        assert_eq!(r.status(), StatusCode::CONFLICT, "{}", body(&r));
        let page = body(&r);
        assert!(page.contains("更新が重なりました") && page.contains("class=\"differs\""), "{page}");
        assert!(page.contains("name=\"rev\" value=\"2\"") && page.contains("value=\"B\""), "{page}");
        // Saved again from there: a choice, not a dead end.
        let r = post(&svc, &cookie, &path, update(2, "B"), None).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{}", body(&r));
        let stored = &svc.case(&s.actor, CaseId(case)).unwrap().supports[0];
        assert_eq!((stored.rev, stored.body.facility.as_str()), (3, "B"));
    }

    #[tokio::test]
    async fn a_protection_and_its_steps_sent_again_after_a_lost_answer_are_recorded_once() {
        let (_dir, svc, case) = world();
        let (cookie, key) = sign_in(&svc).await;
        let start = format!(
            "form_key={key}&idempotency_key=k1&at=2026-11-24T09%3A00&place_kind=shelter&place=%E4%B8%80%E6%99%82%E4%BF%9D%E8%AD%B7%E6%89%80&reason=x&hearing_after=1&confirm=1"
        );
        for _ in 0..2 {
            let r = post(&svc, &cookie, &format!("/cases/{case}/protections"), start.clone(), None).await;
            assert_eq!(r.status(), StatusCode::SEE_OTHER, "{}", body(&r));
        }
        let (_, s) = svc.sign_in("cw", &Password::attempt(PW), None, None).unwrap();
        let protections = svc.case(&s.actor, CaseId(case)).unwrap().protections;
        assert_eq!(protections.len(), 1, "one protection");
        let pid = protections[0].id;
        let step =
            format!("form_key={key}&rev=1&step=extension&at=2026-11-24T10%3A00&until=2027-03-01&consent=1");
        for _ in 0..2 {
            let r =
                post(&svc, &cookie, &format!("/cases/{case}/protections/{pid}"), step.clone(), None).await;
            assert_eq!(r.status(), StatusCode::SEE_OTHER, "{}", body(&r));
        }
        let p = &svc.case(&s.actor, CaseId(case)).unwrap().protections[0];
        assert_eq!((p.rev, p.body.extensions.len()), (2, 1), "one extension");
    }
}
