//! The pages driven through warp's test client: sign-in, forms, refusals, conflicts.

use mamoru_core::case::{IntakeKind, NewIntake};
use mamoru_core::code_table::Code;
use mamoru_core::device::DeviceName;
use mamoru_core::ids::{CaseId, ChildId, UnitId};
use mamoru_core::person::{MemberRef, PersonName, Sex};
use mamoru_core::service::{HOME_CLOCKS, NewCase, NewChild, NewStaff};
use mamoru_core::staff::{Login, Password, Role};
use mamoru_core::time::{FixedClock, Timestamp};

use super::*;
use crate::Health;

mod approvals;
mod board_and_access;
mod caseloads;
mod dates;
mod family;
mod forms;
mod reporter;
mod statistics;

const PW: &str = "correct horse battery";

/// A store with a caseworker and one open case on one child: (dir, service, case id).
fn world() -> (tempfile::TempDir, Arc<Service>, u64) {
    let dir = tempfile::tempdir().unwrap();
    let now = Timestamp::parse("2026-11-24T10:00").unwrap();
    let svc = Service::create(dir.path(), Arc::new(FixedClock::new(now))).unwrap();
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
                family: Vec::new(),
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
            NewCase {
                unit,
                intake,
                abuse: mamoru_core::case::NewAbuse::default(),
                reporter: None,
                assigned: vec![],
            },
        )
        .unwrap();
    (dir, Arc::new(svc), case.id)
}

fn api(
    svc: &Arc<Service>,
) -> impl Filter<Extract = (Response,), Error = std::convert::Infallible> + Clone + use<> {
    crate::routes(svc.clone(), Health { version: "test", https: false, backup_now: None })
}

/// Adds the supervisor `sv` (password `PW`) to the first unit; returns the administrator's session.
fn add_supervisor(svc: &Service) -> mamoru_core::service::SessionInfo {
    let (_, admin) = svc.sign_in("admin", &Password::attempt(PW), None, None).unwrap();
    let sv = NewStaff {
        login: Login::parse("sv").unwrap(),
        display_name: "佐野 スーパーバイザー".into(),
        role: Role::Supervisor,
        units: vec![UnitId(svc.units().unwrap()[0].id)],
    };
    svc.add_staff(&admin.actor, sv, &Password::new(PW).unwrap()).unwrap();
    admin
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
    let key = page.split("name=\"form_key\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
    (cookie, key)
}

/// `s` percent-encoded, as a form sends it.
fn enc(s: &str) -> String {
    use std::fmt::Write;
    s.bytes().fold(String::new(), |mut out, b| {
        let _ = write!(out, "%{b:02X}");
        out
    })
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
    // A first visit is sent to sign in, without being told a session ended; an ended one is.
    let r = warp::test::request().path(&format!("/cases/{case}")).reply(&api(&svc)).await;
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/login");
    let r = warp::test::request()
        .path(&format!("/cases/{case}"))
        .header("cookie", format!("{}=ended", crate::api::SESSION_COOKIE))
        .reply(&api(&svc))
        .await;
    assert_eq!(r.headers()["location"], "/login?expired=1");
    let r = warp::test::request().path("/login?expired=1").reply(&api(&svc)).await;
    assert!(body(&r).contains("セッションが終了しました"));
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
    // The tab's and the home screen's icon, named by every page.
    assert!(page.contains("href=\"/assets/icon.svg\"") && page.contains("href=\"/assets/icon-180.png\""));
    let r = warp::test::request().path("/assets/icon-180.png").reply(&api(&svc)).await;
    assert_eq!(r.headers()["content-type"], "image/png");
    assert!(r.body().starts_with(b"\x89PNG"));
    let r = warp::test::request().path("/assets/icon.svg").reply(&api(&svc)).await;
    assert_eq!(r.headers()["content-type"], "image/svg+xml");
    let r = warp::test::request().path("/favicon.ico").reply(&api(&svc)).await;
    assert_eq!((r.status(), r.headers()["content-type"].to_str().unwrap()), (StatusCode::OK, "image/png"));
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
    let r = post(&svc, &cookie, &path, note_form(&key, "k1", "x"), Some("http://mamoru.example")).await;
    assert_eq!(r.status(), 403, "a page served in clear under our own name is another site");
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
            Some("https://mamoru.example"),
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
    let bad = edit(2, "x").replace("family_kana=%E3%81%9F%E3%81%8B%E3%81%95%E3%81%8D", "family_kana=taka");
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

    let (_, code, _) = svc.issue_device_code(&admin.actor, &DeviceName::parse("iPad 5").unwrap()).unwrap();
    let r = form("/register", format!("code={code}"), None).await;
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/login?registered=1");
    let set = r.headers()["set-cookie"].to_str().unwrap();
    assert!(set.starts_with("__Host-mamoru_device=") && set.contains("HttpOnly") && set.contains("Secure"));
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
    let jpeg = mamoru_core::photo::sample(7, 32);
    assert_eq!(send("text/plain", jpeg.clone()).await.status(), 415, "not a cross-site simple request");
    let r = send("image/jpeg", b"<html><script>alert(1)</script>".to_vec()).await;
    assert_eq!(r.status(), 422, "the first bytes decide: {}", body(&r));
    let r = send("image/jpeg", jpeg[..100].to_vec()).await;
    assert_eq!(r.status(), 422, "a picture cut short: {}", body(&r));
    let refused: serde_json::Value = serde_json::from_slice(r.body()).unwrap();
    assert_eq!(refused["error"]["message"], "invalid photo: not a JPEG, PNG or WebP image");
    let ja = refused["error"]["message_ja"].as_str().unwrap();
    assert!(ja.contains("「写真」を確認してください") && ja.contains("JPEG・PNG・WebP"), "{ja}");
    let r = send("image/jpeg", jpeg.clone()).await;
    assert_eq!(r.status(), 201, "{}", body(&r));
    let stored: serde_json::Value = serde_json::from_slice(r.body()).unwrap();
    let url = stored["url"].as_str().unwrap().to_owned();

    let r = warp::test::request().path(&url).header("cookie", &cookie).reply(&routes).await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.body().as_ref(),
        mamoru_core::photo::normalise(&jpeg).unwrap().as_slice(),
        "the picture as kept"
    );
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
    let r = post(&svc, &cookie, &format!("/cases/{case}/safety-checks"), form(&"0".repeat(64)), None).await;
    assert_eq!(r.status(), 422);
    assert!(body(&r).contains("「写真」を確認してください"), "{}", body(&r));
    let sha = stored["sha256"].as_str().unwrap();
    let r = post(&svc, &cookie, &format!("/cases/{case}/safety-checks"), form(sha), None).await;
    assert_eq!(r.status(), 303, "{}", body(&r));
    let page =
        warp::test::request().path(&format!("/cases/{case}")).header("cookie", &cookie).reply(&routes).await;
    assert!(body(&page).contains(&format!("<img src=\"{url}\"")), "{}", body(&page));
    assert!(body(&page).contains("撮影・木下 福祉司・髙﨑 さくら"), "the stamp: {}", body(&page));
}

#[tokio::test]
async fn a_refused_intake_keeps_what_was_typed_and_registers_nobody_and_a_form_from_elsewhere_is_refused() {
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
    assert!(body(&r).contains("他の職員が先に更新しました") && body(&r).contains("請求 "), "{}", body(&r));
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
    let unconfirmed =
        format!("form_key={key}&at=2026-11-24T09%3A00&place_kind=shelter&place=x&reason=x&hearing_after=1");
    let r = post(&svc, &cookie, &format!("/cases/{case}/protections"), unconfirmed, None).await;
    assert!(body(&r).contains("「開始の確認」を入力してください"), "{}", body(&r));
    let check = format!("form_key={key}&at=2026-11-24T09%3A45&method=&place=x");
    let r = post(&svc, &cookie, &format!("/cases/{case}/safety-checks"), check, None).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{}", body(&r));
    assert!(body(&r).contains("「方法」「子どもの様子」を入力してください"), "{}", body(&r));
    assert!(body(&r).contains("value=\"x\""), "the place typed is kept: {}", body(&r));
    // 目視 without the child seen directly: core's reason, said in Japanese.
    let sighted = format!("form_key={key}&at=2026-11-24T09%3A45&method=sighted&place=x&child_state=x");
    let r = post(&svc, &cookie, &format!("/cases/{case}/safety-checks"), sighted, None).await;
    assert!(
        body(&r).contains("「直接目視」を確認してください（目視を選んだときは「子どもを直接目視した」にチェックしてください）"),
        "{}",
        body(&r)
    );
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
    add_supervisor(&svc);
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
    let menu = |page: &str| page.split("<nav>").nth(1).unwrap().split("</nav>").next().unwrap().to_owned();
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
    let r = post(&svc, &cookie, &path, format!("form_key={key}&kind=32&decided_on=2026-11-24"), None).await;
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
        let r = post(&svc, &cookie, &format!("/cases/{case}/protections/{pid}"), step.clone(), None).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{}", body(&r));
    }
    let p = &svc.case(&s.actor, CaseId(case)).unwrap().protections[0];
    assert_eq!((p.rev, p.body.extensions.len()), (2, 1), "one extension");
}
