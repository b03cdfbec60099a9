//! The tablet UI end to end, in a real headless Chromium at tablet size: what a caseworker at a
//! family's door and a supervisor at the office see. Screenshots go to docs/manual/screens/.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use mamoru_core::time::Timestamp;
use mamoru_core::totp;
use serde_json::Value;

use crate::browser::{Browser, TABLET};
use crate::support::{Server, now};

const DEMO_PASSWORD: &str = "mamoru-demo";

pub(crate) fn screens() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/manual/screens")
}

/// The demo, served over plain HTTP on loopback as `mamoru demo` does.
pub(crate) fn demo_server(dir: &Path) -> Server {
    Server::demo(dir, 160)
}

/// A child whose registered name uses an old character form (異体字) found by its common form,
/// with an open case in the caseworker's unit: (query, child id, case id, child's name).
fn child_with_variant_name(server: &Server, token: &str) -> (String, u64, u64, String) {
    let unit = server.request("GET", "/api/v1/session", Some(token), None).json()["units"][0].clone();
    for query in ["高崎", "高橋", "山崎", "渡辺", "斎藤", "高木"] {
        let q = query.bytes().fold(String::new(), |mut q, b| {
            write!(q, "%{b:02X}").unwrap();
            q
        });
        let found = server.request("GET", &format!("/api/v1/search?q={q}"), Some(token), None).json();
        for r in found["results"].as_array().unwrap() {
            let name = r["name"].as_str().unwrap();
            if name.starts_with(query) {
                continue; // the common form itself: not what this test is about
            }
            let id = r["id"].as_u64().unwrap();
            let child = server.request("GET", &format!("/api/v1/children/{id}"), Some(token), None).json();
            let open = child["cases"]
                .as_array()
                .unwrap()
                .iter()
                .find(|c| c["body"]["status"] == "open" && c["body"]["unit"] == unit);
            if let Some(case) = open {
                return (query.to_owned(), id, case["id"].as_u64().unwrap(), name.to_owned());
            }
        }
    }
    panic!("the demo store has no open case on a child with a variant-form name");
}

/// What the camera does: a picture (drawn on a canvas here) handed to the file input of the form
/// posting to `.../{form}`, which the page shrinks, stamps and sends.
fn take_photo(form: &str) -> String {
    format!(
        "(() => {{ const c = document.createElement('canvas'); c.width = 1200; c.height = 900; \
        const g = c.getContext('2d'); g.fillStyle = '#7a9cc6'; g.fillRect(0, 0, 1200, 900); \
        g.fillStyle = '#f3d2b3'; g.beginPath(); g.arc(600, 450, 260, 0, 7); g.fill(); \
        c.toBlob(b => {{ const dt = new DataTransfer(); dt.items.add(new File([b], 'camera.jpg', {{ type: 'image/jpeg' }})); \
          const input = document.querySelector('form[action$={form}] input[type=file]'); \
          input.files = dt.files; input.dispatchEvent(new Event('change')); }}, 'image/jpeg', 0.9); return true; }})()"
    )
}

/// No draft waits in the tablet's storage (every person's drafts are kept apart).
/// Everything the tablet keeps as drafts in its storage, as stored.
const STORED_DRAFTS: &str = "Object.keys(localStorage).filter(k => k.startsWith('mamoru-drafts')).map(k => localStorage.getItem(k)).join('\\n')";
const NO_DRAFTS: &str = "Object.keys(localStorage).filter(k => k.startsWith('mamoru-drafts')).every(k => ['{}', null].includes(localStorage.getItem(k)))";

/// A recorded safety check's photo has loaded from the server.
const PHOTO_SHOWN: &str =
    "[...document.querySelectorAll('#checks ul.photos img')].some(i => i.complete && i.naturalWidth > 0)";

pub(crate) fn sign_in(b: &mut Browser, base: &str, login: &str, otp: Option<&str>) {
    b.goto(&format!("{base}/login"));
    b.fill("input[name=login]", login);
    b.fill("input[name=password]", DEMO_PASSWORD);
    if let Some(code) = otp {
        b.fill("input[name=otp]", code);
    }
    b.click("form button[type=submit]");
    b.wait_until(
        "location.pathname === '/home' && document.readyState === 'complete'",
        "the home page after sign-in",
    );
}

#[test]
fn a_safety_check_from_the_field_reaches_the_office_live_and_an_offline_note_is_saved_once() {
    let dir = tempfile::tempdir().unwrap();
    let server = demo_server(dir.path());
    let base = format!("http://{}", server.addr);

    // The caseworker has a second factor.
    let token = server.sign_in("demo-cw1", DEMO_PASSWORD);
    let begin = server.request("POST", "/api/v1/session/totp", Some(&token), None).json();
    let secret = totp::url_secret(begin["otpauth_url"].as_str().unwrap()).unwrap();
    let code = totp::code_at(&secret, now()).unwrap();
    let r = server.request(
        "POST",
        "/api/v1/session/totp/confirm",
        Some(&token),
        Some(&format!(r#"{{"code":"{code}"}}"#)),
    );
    assert_eq!(r.status, 204, "{}", r.body);
    let (query, child, case, name) = child_with_variant_name(&server, &token);

    // In the field: sign in with the second factor (the next time step: each is used once).
    let mut field = Browser::start(TABLET);
    b_sign_in_refused_without_code(&mut field, &base);
    let first_step = (now().0 + 30) / 30;
    sign_in(&mut field, &base, "demo-cw1", Some(&totp::code_at(&secret, now().plus(30)).unwrap()));
    field.screenshot(&screens().join("01-home.png"));
    // The board triages: the clocks of a child's safety and liberty first, each card naming the
    // child; a worker's board shows only cases that worker holds.
    let labels = field.eval("[...document.querySelectorAll('.clock .label')].map(e => e.textContent)");
    let labels: Vec<&str> = labels.as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    let urgent = |l: &str| l.starts_with("安全確認") || l.starts_with("一時保護状") || l.starts_with("却下");
    assert!(!labels.is_empty() && urgent(labels[0]), "{labels:?}");
    let first_other = labels.iter().position(|l| !urgent(l)).unwrap_or(labels.len());
    assert!(labels[first_other..].iter().all(|l| !urgent(l)), "urgent clocks first: {labels:?}");
    let unnamed = "[...document.querySelectorAll('.clock .who')].filter(e => !e.textContent.trim()).length";
    assert_eq!(field.eval(unnamed), 0, "every card names its child");
    field.eval(
        "const s = document.querySelector('select[name=worker]'); \
         s.value = document.body.dataset.staff; \
         document.querySelector('.board-filter button').click()",
    );
    field.wait_until(
        "location.search.includes('worker=') && document.readyState === 'complete'",
        "a worker's board",
    );
    let me = "document.querySelector('select[name=worker]').selectedOptions[0].text";
    let me = field.eval(me).as_str().unwrap().to_owned();
    assert!(!me.is_empty() && me != "係の全員", "the worker chosen: {me}");
    let others = format!(
        "[...document.querySelectorAll('.clock .caseno')].filter(e => !e.textContent.includes({me:?})).length"
    );
    assert_eq!(field.eval(&others), 0, "only the worker's own cases");
    assert!(field.eval("document.querySelectorAll('.clock').length").as_u64().unwrap() > 0);

    // At the office: the supervisor has the case open.
    let mut office = Browser::start((1180, 820));
    sign_in(&mut office, &base, "demo-sv", None);
    office.goto(&format!("{base}/cases/{case}"));
    office.eval("window.stillTheSamePage = true");

    // Search by the common form of the name; the variant-form child is found.
    field.goto(&format!("{base}/search"));
    field.fill("input[name=q]", &query);
    field.click("form.search button");
    field.wait_until(
        "document.readyState === 'complete' && document.querySelectorAll('.results li').length > 0",
        "search results",
    );
    assert!(field.text(".results").contains(&name), "{name} not in {}", field.text(".results"));
    field.screenshot(&screens().join("02-search.png"));
    // By furigana too, in katakana although it is stored in hiragana.
    let kana = field.text(&format!(".results a[href='/children/{child}'] .kana"));
    let katakana: String = kana
        .chars()
        .map(|c| if ('ぁ'..='ゖ').contains(&c) { char::from_u32(c as u32 + 0x60).unwrap() } else { c })
        .collect();
    field.fill("input[name=q]", &katakana);
    field.click("form.search button");
    // The new results page, not the old one still on screen: the query in the address is the new one.
    field.wait_until(
        &format!(
            "new URLSearchParams(location.search).get('q') === {} && document.readyState === 'complete' && \
             !!document.querySelector(\"a[href='/children/{child}']\")",
            serde_json::json!(katakana)
        ),
        "the child by furigana",
    );

    // The child's page, then the case.
    field.click(&format!("a[href='/children/{child}']"));
    field.wait_until(
        &format!("location.pathname === '/children/{child}' && document.readyState === 'complete'"),
        "the child's page",
    );
    assert!(field.text("h1").contains(&name));
    field.screenshot(&screens().join("03-child.png"));
    field.click(&format!("a[href='/cases/{case}']"));
    field.wait_until(
        &format!("location.pathname === '/cases/{case}' && document.readyState === 'complete'"),
        "the case page",
    );

    // Record a safety check with a photo taken through the page (the camera's picture is made
    // here: a canvas drawn and handed to the file input as the camera would).
    // Nothing is chosen for the person: the method and the sighting are theirs to mark (#16).
    assert_eq!(
        field.eval("document.querySelector('form[action$=safety-checks] select[name=method]').value"),
        ""
    );
    assert_eq!(
        field.eval("document.querySelector('form[action$=safety-checks] input[name=seen_directly]').checked"),
        false
    );
    field.fill("form[action$=safety-checks] select[name=method]", "sighted");
    field.click("form[action$=safety-checks] input[name=seen_directly]");
    field.fill("form[action$=safety-checks] input[name=place]", "自宅玄関（テスト）");
    field.fill("form[action$=safety-checks] textarea[name=child_state]", "表情は明るく、目立つけがはない。");
    // A bruise on the right forearm (the child's right: the viewer's left on the front outline).
    field.tap("form[action$=safety-checks] svg[data-side=front]", 0.24, 0.4);
    assert!(
        field.text("ol.injuries li").contains("1. 前・右前腕"),
        "named as placed: {}",
        field.text("ol.injuries")
    );
    field.fill("ol.injuries li input[type=number]", "3");
    field.fill("ol.injuries li input:not([type=number])", "青あざ（テスト）");
    field.eval(&take_photo("safety-checks"));
    field.wait_until(
        "[...document.querySelectorAll('.thumbs .photo-state')].some(s => s.textContent === '送信済み')",
        "the photo sent",
    );
    field.scroll_to("form[action$=safety-checks] [data-bodymap]");
    field.screenshot(&screens().join("09-body-map-and-photo.png"));
    let sent = field.eval("document.querySelector('form[action$=safety-checks] input[name=photos]').value");
    assert_eq!(sent.as_str().map(str::len), Some(64), "the form carries the photo's SHA-256: {sent}");
    field.click("form[action$=safety-checks] button[type=submit]");
    field.wait_until("document.body.innerText.includes('安全確認を保存しました')", "the saved check");
    field.wait_until(PHOTO_SHOWN, "the photo on the case page");
    assert!(field.text("#checks figcaption").contains("木下 福祉司"), "{}", field.text("#checks"));
    assert!(
        field.text("#checks .injury-list").contains("前・右前腕・3cm・青あざ（テスト）"),
        "{}",
        field.text("#checks")
    );
    let mark = field.eval("(() => { const c = document.querySelector('#checks .bodymaps circle.mark'); return [+c.getAttribute('cx'), +c.getAttribute('cy')]; })()");
    let (cx, cy) = (mark[0].as_f64().unwrap(), mark[1].as_f64().unwrap());
    assert!((cx - 24.0).abs() < 2.0 && (cy - 80.0).abs() < 2.0, "the mark where it was tapped: {mark}");
    field.scroll_to("#checks");
    field.screenshot(&screens().join("04-case-after-check.png"));

    // The office sees it, photo and all, without reloading.
    office.wait_until(
        "document.getElementById('checks').innerText.includes('自宅玄関（テスト）')",
        "the check, live",
    );
    office.wait_until(PHOTO_SHOWN, "the photo, live");
    assert_eq!(office.eval("window.stillTheSamePage === true"), Value::from(true), "the page was reloaded");
    office.scroll_to("#checks");
    office.screenshot(&screens().join("05-office-live.png"));

    // A message from the door reaches the office's open page the same way, and the reply comes back.
    field.fill("form[action$=messages] textarea[name=body]", "玄関前です。母親と話せました（テスト）");
    field.click("form[action$=messages] button[type=submit]");
    field.wait_until(
        "location.search === '?saved=message' && document.readyState === 'complete'",
        "the message sent",
    );
    // The page stays at the message just sent (below the sticky header), not at its top.
    let in_view = "(() => { const m = document.getElementById(document.body.dataset.scroll); \
        const r = m.getBoundingClientRect(), bar = document.querySelector('header.bar').getBoundingClientRect(); \
        return r.top >= bar.bottom && r.bottom <= innerHeight && m.innerText.includes('母親と話せました'); })()";
    assert_eq!(field.eval(in_view), Value::from(true));
    office.wait_until(
        "document.getElementById('thread').innerText.includes('母親と話せました（テスト）')",
        "the message, live",
    );
    assert_eq!(office.eval("window.stillTheSamePage === true"), Value::from(true), "the page was reloaded");
    office.fill("form[action$=messages] textarea[name=body]", "了解です。終わったら電話ください（テスト）");
    office.click("form[action$=messages] button[type=submit]");
    field.wait_until(
        "document.getElementById('thread').innerText.includes('終わったら電話ください（テスト）')",
        "the reply, live",
    );
    field.scroll_to("#thread");
    field.screenshot(&screens().join("14-thread.png"));

    // Back at the board, the office sees the next message from the door arrive there too.
    office.goto(&format!("{base}/home"));
    office.eval("window.stillTheSamePage = true");
    field
        .fill("form[action$=messages] textarea[name=body]", "父親が帰宅しました。いったん離れます（テスト）");
    field.click("form[action$=messages] button[type=submit]");
    office.wait_until(
        "document.getElementById('board-messages').innerText.includes('父親が帰宅しました')",
        "the message on the board, live",
    );
    assert_eq!(office.eval("window.stillTheSamePage === true"), Value::from(true), "the board was reloaded");
    office.screenshot(&screens().join("18-board-messages.png"));
    office.goto(&format!("{base}/cases/{case}"));
    office.eval("window.stillTheSamePage = true");

    // Offline: the note typed in a stairwell waits, then is saved exactly once.
    let note = "階段で入力した経過記録（テスト）";
    field.set_offline(true);
    field.fill("form[action$=notes] textarea[name=body]", note);
    field.click("form[action$=notes] button[type=submit]");
    field.wait_until(
        "document.querySelector('form[action$=notes] .draft-state').innerText.includes('送信待ち')",
        "送信待ち",
    );
    field.scroll_to("form[action$=notes]");
    field.screenshot(&screens().join("06-offline-draft.png"));
    field.set_offline(false);
    field.eval("window.dispatchEvent(new Event('online')); true");
    field.wait_until(
        "document.body.innerText.includes('経過記録を保存しました')",
        "the note sent after reconnecting",
    );
    let page = server.request("GET", &format!("/api/v1/children/{child}"), Some(&token), None).json();
    let saved = page["notes"].as_array().unwrap().iter().filter(|n| n["body"]["body"] == note).count();
    assert_eq!(saved, 1, "the note must be saved exactly once");
    office.wait_until(
        &format!("document.getElementById('notes').innerText.includes('{note}')"),
        "the note, live",
    );
    assert_eq!(field.eval(NO_DRAFTS), Value::from(true), "a sent draft leaves nothing behind");

    // #17: a note typed offline survives a session that ended meanwhile (here ended on the
    // server, as the idle timeout or an administrator would end it). Back online, the tablet
    // asks for a sign-in, keeps the note, and sends it once signed in again.
    let kept = "セッションが切れた間に入力した経過記録（テスト）";
    field.set_offline(true);
    field.wait_until("!document.getElementById('conn').hidden", "offline said at once");
    field.fill("form[action$=notes] textarea[name=body]", kept);
    field.click("form[action$=notes] button[type=submit]");
    field.wait_until(
        "document.querySelector('form[action$=notes] .draft-state').innerText.includes('送信待ち')",
        "送信待ち",
    );
    // #18: kept encrypted with the key of this person on this tablet, held by the page alone:
    // the storage (what a lost tablet's finder reads) holds nothing typed.
    field.wait_until(&format!("{STORED_DRAFTS}.includes('\"v\":1')"), "the draft kept, encrypted");
    let stored = field.eval(STORED_DRAFTS);
    assert!(!stored.as_str().unwrap().contains(kept), "the typed text is not readable: {stored}");
    assert_eq!(
        field.eval("document.body.hasAttribute('data-vault')"),
        Value::from(false),
        "the key left the page"
    );
    let session = field.cookie("__Host-mamoru_session").expect("the tablet's session cookie");
    assert_eq!(server.request("DELETE", "/api/v1/session", Some(&session), None).status, 204);
    field.set_offline(false);
    field.eval("window.dispatchEvent(new Event('online')); true");
    field.wait_until(
        "location.pathname === '/login' && !document.getElementById('waiting').hidden",
        "the sign-in page, saying a record waits",
    );
    assert!(field.text("#waiting").contains("送信待ちの記録が1件"), "{}", field.text("#waiting"));
    field.screenshot(&screens().join("19-relogin-waiting.png"));
    // Each TOTP code signs in once: sign in with the code of a time step after the one used
    // first, waiting for the clock to reach the step before it when it has not yet.
    let step_wait = u64::try_from(first_step * 30 - now().0).unwrap_or(0);
    std::thread::sleep(std::time::Duration::from_secs(step_wait));
    // Signed in again, the first page sends the note at once and shows it saved on its case (so
    // the home page may not stay long enough to be seen).
    field.fill("input[name=login]", "demo-cw1");
    field.fill("input[name=password]", DEMO_PASSWORD);
    field.fill("input[name=otp]", &totp::code_at(&secret, now().plus(30)).unwrap());
    field.click("form button[type=submit]");
    field.wait_until(
        "location.pathname.startsWith('/cases/') && document.body.innerText.includes('経過記録を保存しました')",
        "the kept note sent after signing in again",
    );
    let page = server.request("GET", &format!("/api/v1/children/{child}"), Some(&token), None).json();
    let saved = page["notes"].as_array().unwrap().iter().filter(|n| n["body"]["body"] == kept).count();
    assert_eq!(saved, 1, "the kept note must be saved exactly once");
    assert_eq!(field.eval(NO_DRAFTS), Value::from(true), "nothing left waiting");

    // A photo taken offline waits with its safety check, and both are sent when the connection
    // returns: the check arrives with its photo.
    field.set_offline(true);
    field.fill("form[action$=safety-checks] select[name=method]", "interview");
    field.fill("form[action$=safety-checks] input[name=place]", "階段の踊り場（テスト）");
    field.fill("form[action$=safety-checks] textarea[name=child_state]", "母と面接。本人は登校中（テスト）");
    field.eval(&take_photo("safety-checks"));
    field.wait_until(
        "[...document.querySelectorAll('.thumbs .photo-state')].some(s => s.textContent.startsWith('送信待ち'))",
        "the photo waiting",
    );
    field.click("form[action$=safety-checks] button[type=submit]");
    field.wait_until(
        "document.querySelector('form[action$=safety-checks] .draft-state').innerText.includes('送信待ち')",
        "the check waiting",
    );
    let stored = field.eval(STORED_DRAFTS);
    let stored = stored.as_str().unwrap();
    assert!(
        !stored.contains("data:image") && !stored.contains("階段の踊り場"),
        "the photo and the check sealed"
    );
    field.set_offline(false);
    field.eval("window.dispatchEvent(new Event('online')); true");
    field.wait_until(
        "location.search === '?saved=check' && document.getElementById('checks').innerText.includes('階段の踊り場（テスト）')",
        "the check sent after reconnecting",
    );
    field.wait_until(
        "document.querySelectorAll('#checks > ol > li')[0].querySelectorAll('ul.photos img').length === 1",
        "the newest check with its photo",
    );

    // Signing out with something typed and not sent asks first: "no" keeps both the session
    // and the draft; "yes" discards the draft.
    field.fill("form[action$=notes] textarea[name=body]", "送らずにログアウトする入力（テスト）");
    field.wait_until(&format!("!({NO_DRAFTS})"), "the typed text kept as a draft");
    field.eval("window.asked = false; window.confirm = () => { window.asked = true; return false; }; true");
    field.click("form.logout button");
    field.wait_until("window.asked === true", "the question before signing out");
    assert!(field.path().starts_with("/cases/"), "still signed in: {}", field.path());
    assert_eq!(field.eval(NO_DRAFTS), Value::from(false), "the draft is kept");
    field.eval("window.confirm = () => true; true");
    field.click("form.logout button");
    field.wait_until("location.search === '?bye=1'", "signed out");
    assert_eq!(field.eval(NO_DRAFTS), Value::from(true), "the draft discarded on purpose");
}

/// A password without the second factor is refused with the one message that names nothing.
fn b_sign_in_refused_without_code(b: &mut Browser, base: &str) {
    b.goto(&format!("{base}/login"));
    b.fill("input[name=login]", "demo-cw1");
    b.fill("input[name=password]", DEMO_PASSWORD);
    b.click("form button[type=submit]");
    b.wait_until("!!document.querySelector('.error')", "the refusal");
    assert!(b.text(".error").contains("ログインID、パスワード、または確認コードが正しくありません"));
    assert_eq!(b.path(), "/login");
}

#[test]
fn a_revoked_tablet_is_signed_out_on_its_next_action() {
    let dir = tempfile::tempdir().unwrap();
    let server = demo_server(dir.path());
    let base = format!("http://{}", server.addr);
    let admin = server.sign_in("demo-admin", DEMO_PASSWORD);
    // The administrator gives a one-time code; the tablet enters it on its registration page.
    let issued = server
        .request("POST", "/api/v1/devices/codes", Some(&admin), Some(r#"{"name":"テスト端末"}"#))
        .json();
    let code = issued["code"].as_str().unwrap().to_lowercase();
    let mut tablet = Browser::start(TABLET);
    tablet.goto(&format!("{base}/login"));
    tablet.click("a[href='/register']");
    tablet.wait_until("location.pathname === '/register' && !!document.forms[0]", "the registration page");
    tablet.fill("input[name=code]", "zzzz-zzzz-zzzz");
    tablet.click("form button[type=submit]");
    tablet.wait_until("!!document.querySelector('.error')", "the refusal of a wrong code");
    assert!(tablet.text(".error").contains("登録コードが正しくない"), "{}", tablet.text("body"));
    tablet.fill("input[name=code]", &code);
    tablet.screenshot(&screens().join("00-register.png"));
    tablet.click("form button[type=submit]");
    tablet.wait_until(
        "location.search === '?registered=1' && document.readyState === 'complete'",
        "the sign-in page after registering",
    );
    assert!(tablet.text(".notice").contains("この端末を登録しました"));
    sign_in(&mut tablet, &base, "demo-cw1", None);
    tablet.goto(&format!("{base}/search"));
    assert_eq!(tablet.path(), "/search");

    // Something typed on it and kept as a draft goes with the revocation.
    tablet.eval("localStorage.setItem('mamoru-drafts-9', JSON.stringify({ x: { queued: true } })); true");
    let r = server.request("DELETE", &format!("/api/v1/devices/{}", issued["id"]), Some(&admin), None);
    assert_eq!(r.status, 204);
    tablet.click("a[href='/home']");
    tablet.wait_until(
        "location.pathname === '/login' && document.readyState === 'complete'",
        "the sign-in page",
    );
    assert!(tablet.text(".notice").contains("この端末の登録は取り消されました"), "{}", tablet.text("body"));
    tablet.wait_until(NO_DRAFTS, "the drafts wiped");
    tablet.screenshot(&screens().join("07-revoked.png"));
}

#[test]
fn a_stale_face_sheet_edit_shows_both_versions_side_by_side() {
    let dir = tempfile::tempdir().unwrap();
    let server = demo_server(dir.path());
    let base = format!("http://{}", server.addr);
    let token = server.sign_in("demo-cw1", DEMO_PASSWORD);
    let (_, child, _, _) = child_with_variant_name(&server, &token);
    let edit = format!("{base}/children/{child}/edit");

    // Both open the face sheet at the same revision.
    let mut field = Browser::start(TABLET);
    sign_in(&mut field, &base, "demo-cw1", None);
    field.goto(&format!("{base}/children/{child}"));
    field.click("a[href$='/edit']");
    field.wait_until("location.pathname.endsWith('/edit') && !!document.forms[1]", "the edit form");
    let mut office = Browser::start((1180, 820));
    sign_in(&mut office, &base, "demo-sv", None);
    office.goto(&edit);

    // The caseworker saves first.
    field.fill("input[name=address]", "架空市東町1-2-3");
    field.click("form[data-draft] button[type=submit]");
    field.wait_until(
        "location.search === '?saved=1' && document.readyState === 'complete'",
        "the child page after saving",
    );
    assert!(field.text(".facesheet").contains("架空市東町1-2-3"));

    // The supervisor, still on the older revision, saves something else: both are shown.
    office.fill("input[name=address]", "架空市西町4-5");
    office.fill("input[name=affiliation]", "架空市立第二小学校");
    office.click("form[data-draft] button[type=submit]");
    office.wait_until("!!document.querySelector('.conflict')", "the conflict view");
    let diff = office.text("table.diff");
    assert!(diff.contains("架空市西町4-5") && diff.contains("架空市東町1-2-3"), "{diff}");
    assert!(office.text(".conflict").contains("木下 福祉司さん"), "who saved: {}", office.text(".conflict"));
    let differing = office.eval("document.querySelectorAll('table.diff tr.differs').length");
    assert_eq!(differing, 2, "address and affiliation differ");
    // Only the address was changed by both: the one row to decide.
    assert_eq!(office.eval("document.querySelectorAll('table.diff tr.clash').length"), 1, "{diff}");
    assert!(office.text("table.diff tr.clash").contains("住所"), "{diff}");
    office.screenshot(&screens().join("08-edit-conflict.png"));

    // Nothing was overwritten; saving again on purpose keeps the supervisor's version.
    let now = server.request("GET", &format!("/api/v1/children/{child}"), Some(&token), None).json();
    assert_eq!(now["child"]["body"]["address"], "架空市東町1-2-3");
    office.click("form[data-draft] button[type=submit]");
    office.wait_until(
        "location.search === '?saved=1' && document.readyState === 'complete'",
        "the child page after the deliberate save",
    );
    assert!(office.text(".facesheet").contains("架空市西町4-5"));
}

#[test]
fn a_first_sign_in_without_a_second_factor_enrols_it_from_the_qr_code_page() {
    let dir = tempfile::tempdir().unwrap();
    let data = crate::support::init(dir.path());
    // The default policy, which the other tests turn off for their API clients.
    let config = data.join("mamoru.toml");
    let text =
        std::fs::read_to_string(&config).unwrap().replace("require_totp = false", "require_totp = true");
    std::fs::write(&config, text).unwrap();
    let server = Server::serve_plain(&data);
    let base = format!("http://{}", server.addr);

    let mut tablet = Browser::start(TABLET);
    let sign_in_with = |b: &mut Browser, otp: Option<&str>| {
        b.goto(&format!("{base}/login"));
        b.fill("input[name=login]", "admin");
        b.fill("input[name=password]", crate::support::PASSWORD);
        if let Some(code) = otp {
            b.fill("input[name=otp]", code);
        }
        b.click("form button[type=submit]");
    };
    sign_in_with(&mut tablet, None);
    tablet.wait_until(
        "location.pathname === '/totp' && document.readyState === 'complete'",
        "the enrolment page",
    );
    // Nothing else opens before the second factor is set up.
    tablet.goto(&format!("{base}/search"));
    assert_eq!(tablet.path(), "/totp");
    let qr = tablet.eval("(() => { const r = document.querySelector('.qr svg').getBoundingClientRect(); return r.width >= 200 && r.width === r.height; })()");
    assert_eq!(qr, Value::from(true), "a QR code large enough to scan");
    tablet.screenshot(&screens().join("00-totp.png"));

    // What an authenticator app does with the key shown under the QR code.
    let key = tablet.text("#totp-key").replace(' ', "");
    let secret = totp::url_secret(&format!("otpauth://totp/Mamoru:admin?secret={key}")).unwrap();
    let valid = [-30, 0, 30].map(|d| totp::code_at(&secret, now().plus(d)).unwrap());
    let wrong = ["000000", "111111", "222222", "333333"].into_iter().find(|c| !valid.iter().any(|v| v == c));
    tablet.fill("input[name=code]", wrong.unwrap());
    tablet.click("form[action='/totp'] button[type=submit]");
    tablet.wait_until("!!document.querySelector('.error')", "the refusal of a wrong code");
    assert_eq!(tablet.text("#totp-key").replace(' ', ""), key, "the same key again after a typo");
    tablet.fill("input[name=code]", &totp::code_at(&secret, now()).unwrap());
    tablet.click("form[action='/totp'] button[type=submit]");
    tablet.wait_until("location.pathname === '/home' && document.readyState === 'complete'", "home");

    // Signed out, the next sign-in needs the code from the app (the next time step: each is
    // accepted once).
    tablet.click("form.logout button");
    tablet.wait_until("location.search === '?bye=1'", "signed out");
    sign_in_with(&mut tablet, None);
    tablet.wait_until("!!document.querySelector('.error')", "the refusal without a code");
    sign_in_with(&mut tablet, Some(&totp::code_at(&secret, now().plus(30)).unwrap()));
    tablet.wait_until("location.pathname === '/home' && document.readyState === 'complete'", "home again");
}

#[test]
fn an_intake_checks_for_the_same_child_first_and_opens_the_case_on_the_one_chosen() {
    let dir = tempfile::tempdir().unwrap();
    let server = demo_server(dir.path());
    let base = format!("http://{}", server.addr);
    let token = server.sign_in("demo-cw1", DEMO_PASSWORD);
    let (_, child, _, _) = child_with_variant_name(&server, &token);
    let on_file = server.request("GET", &format!("/api/v1/children/{child}"), Some(&token), None).json();
    let body = &on_file["child"]["body"];
    let cases_before = on_file["cases"].as_array().unwrap().len();

    let mut field = Browser::start(TABLET);
    sign_in(&mut field, &base, "demo-cw1", None);
    field.click("nav a[href='/intake']");
    field.wait_until("location.pathname === '/intake' && !!document.forms.intake", "the intake form");
    // A neighbour calls about a child: the name as heard, the furigana in katakana, the birth date.
    field.fill("input[name=family]", body["name"]["family"].as_str().unwrap());
    field.fill("input[name=given]", body["name"]["given"].as_str().unwrap());
    let kana = |k: &str| {
        body["name"][k]
            .as_str()
            .unwrap()
            .chars()
            .map(|c| char::from_u32(c as u32 + 0x60).unwrap())
            .collect::<String>()
    };
    field.fill("input[name=family_kana]", &kana("family_kana"));
    field.fill("input[name=given_kana]", &kana("given_kana"));
    field.fill("input[name=birth]", body["birth_date"].as_str().unwrap());
    field.click("input[name=kind][value=abuse_report]");
    field.fill("input[name=chief_complaint]", "夜間に大きな泣き声と怒鳴り声");
    field.fill(
        "textarea[name=content]",
        "近隣住民から電話。昨夜22時ごろ、子どもの泣き声と大人の怒鳴り声が続いた。",
    );
    field.click("input[name^=abuse_]");
    field.fill("input[name=reporter_relation]", "近隣住民");
    field.click("input[name=anonymous]");
    field.screenshot(&screens().join("10-intake.png"));
    field.click("form#intake button[type=submit].primary");

    // The child on file is offered before anyone new is registered; nothing typed is lost.
    field.wait_until("!!document.querySelector('.duplicates')", "the duplicate check");
    assert!(field.text(".duplicates").contains(body["name"]["family"].as_str().unwrap()));
    assert_eq!(
        field.eval("document.querySelector('textarea[name=content]').value.length > 10"),
        Value::Bool(true)
    );
    // Each candidate names its open cases: a report about a child with an open case belongs there.
    let open: Vec<&str> = on_file["cases"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["body"]["status"] == "open")
        .map(|c| c["body"]["case_no"].as_str().unwrap())
        .collect();
    assert!(!open.is_empty(), "the demo child has an open case: {on_file}");
    let said = field.text(".duplicates .open-cases");
    assert!(open.iter().all(|no| said.contains(no)), "{said}");
    field.screenshot(&screens().join("11-intake-duplicate.png"));
    field.click(&format!(".duplicates button[name=child][value='{child}']"));
    field.wait_until(
        "location.search === '?saved=intake' && document.readyState === 'complete'",
        "the new case after the intake",
    );
    assert!(field.text("main").contains("受付しました"), "{}", field.text("main"));
    assert!(field.text("#clocks").contains("安全確認"), "the 48-hour clock runs: {}", field.text("#clocks"));
    let case: u64 = field.path().trim_start_matches("/cases/").split('?').next().unwrap().parse().unwrap();
    let after = server.request("GET", &format!("/api/v1/children/{child}"), Some(&token), None).json();
    let cases = after["cases"].as_array().unwrap();
    assert_eq!(cases.len(), cases_before + 1);
    assert!(cases.iter().any(|c| c["id"] == case), "opened on the child chosen: {after}");
    field.screenshot(&screens().join("12-intake-case.png"));

    // A child nobody has heard of: no question, registered with the case.
    field.goto(&format!("{base}/intake"));
    field.fill("input[name=family]", "架空");
    field.fill("input[name=given]", "新太");
    field.fill("input[name=family_kana]", "かくう");
    field.fill("input[name=given_kana]", "あらた");
    field.fill("textarea[name=content]", "保育園から、登園時の様子について相談。");
    field.click("form#intake button[type=submit].primary");
    field.wait_until(
        "location.search === '?saved=intake' && document.readyState === 'complete'",
        "the new case of a new child",
    );
    assert!(field.text("main").contains("架空 新太"), "{}", field.text("main"));
    let found =
        server.request("GET", "/api/v1/search?q=%E3%81%8B%E3%81%8F%E3%81%86", Some(&token), None).json();
    let named: Vec<&Value> =
        found["results"].as_array().unwrap().iter().filter(|r| r["name"] == "架空 新太").collect();
    assert_eq!(named.len(), 1, "registered once: {found}");
}

#[test]
fn a_temporary_protection_is_started_and_its_warrant_steps_are_recorded_against_their_clocks() {
    let dir = tempfile::tempdir().unwrap();
    let server = demo_server(dir.path());
    let base = format!("http://{}", server.addr);
    let token = server.sign_in("demo-cw1", DEMO_PASSWORD);
    let (_, child, _, _) = child_with_variant_name(&server, &token);
    let intake = format!(
        r#"{{"child":{child},"kind":"abuse_report","received_at":"{}","route":"14","consultation_type":"11"}}"#,
        mamoru_core::time::Timestamp(now().0 - 3600).to_jst_string()
    );
    let r = server.request("POST", "/api/v1/cases", Some(&token), Some(&intake));
    assert_eq!(r.status, 201, "{}", r.body);
    let case = r.json()["id"].as_u64().unwrap();

    let mut b = Browser::start(TABLET);
    sign_in(&mut b, &base, "demo-cw1", None);
    b.goto(&format!("{base}/cases/{case}"));
    b.wait_until("!!document.querySelector('#protection')", "the protection section");
    assert!(b.text("#protection").contains("一時保護はしていません"));
    // Started without the guardian's consent: the 7-day warrant clock runs.
    // The place kind is chosen, the hearing follows for urgency, and the start is confirmed.
    b.fill("form[action$='/protections'] select[name=place_kind]", "shelter");
    b.fill("form[action$='/protections'] input[name=place]", "架空市児童相談所 一時保護所");
    b.fill("form[action$='/protections'] input[name=reason]", "身体的虐待の疑い。帰宅させると危険");
    b.click("form[action$='/protections'] input[name=hearing_after]");
    b.click("form[action$='/protections'] input[name=confirm]");
    b.scroll_to("form[action$='/protections']");
    b.screenshot(&screens().join("13-protection-start.png"));
    b.click("form[action$='/protections'] button[type=submit]");
    b.wait_until(
        "location.search === '?saved=protection' && document.readyState === 'complete'",
        "the case after starting",
    );
    assert!(b.text("#clocks").contains("一時保護状の請求（7日）"), "{}", b.text("#clocks"));
    assert!(b.text("#protection").contains("保護中"));
    assert!(b.text("#protection").contains("緊急のため事後に聴取（令和"), "{}", b.text("#protection"));
    b.scroll_to("#protection");
    b.screenshot(&screens().join("13-protection.png"));

    // The warrant is requested: that clock stops.
    b.click("form.step:has(input[value=warrant_request]) button");
    b.wait_until("document.readyState === 'complete' && !!document.querySelector('form.step input[value=warrant_decision]')", "the outcome form");
    assert!(!b.text("#clocks").contains("一時保護状の請求（7日）"), "{}", b.text("#clocks"));
    assert!(b.text("#protection").contains("請求 "), "{}", b.text("#protection"));

    // An extension beyond two months is refused in Japanese and changes nothing.
    let far = mamoru_core::time::Timestamp(now().0 + 200 * 86_400).to_jst_string();
    b.fill("form.step:has(input[value=extension]) input[name=until]", &far[..10]);
    b.click("form.step:has(input[value=extension]) button");
    b.wait_until("document.readyState === 'complete' && !!document.querySelector('p.error')", "the refusal");
    assert!(b.text("p.error").contains("延長"), "{}", b.text("p.error"));
    assert!(!b.text("#protection").contains("決定・"), "no extension stored: {}", b.text("#protection"));

    // Two months would not do: the extension's approval is petitioned for, the intake sheet
    // marked 非開示希望 (the reporter's account stays from the guardians).
    b.click("#court a[href$='/petition']");
    b.wait_until(
        "location.pathname.endsWith('/petition') && document.readyState === 'complete'",
        "the petition",
    );
    assert!(b.text("main").contains("通告者に関する記載を除く"), "{}", b.text("main"));
    b.click("input[name=kind][value=protection_extension]");
    b.fill("textarea[name=grounds]", "保護者は引取りを求めているが、家庭環境の改善が確認できない。");
    b.click("input[name='withhold:intake']");
    b.screenshot(&screens().join("31-petition.png"));
    b.click("form[action$='/petition'] button[type=submit]");
    saved(&mut b, "petition");
    assert!(b.text("#court").contains("うち非開示希望 1点"), "{}", b.text("#court"));
    assert!(b.text("#court").contains("未提出"), "{}", b.text("#court"));

    // Ended: the protection's clocks stop and a new one could start.
    b.fill("form.step:has(input[value=end]) input[name=reason]", "家庭復帰（見守り継続）");
    b.click("form.step:has(input[value=end]) button");
    b.wait_until(
        "location.search === '?saved=protection' && document.readyState === 'complete'",
        "the case after ending",
    );
    assert!(b.text("#protection").contains("解除"), "{}", b.text("#protection"));
    assert!(!b.text("#clocks").contains("一時保護"), "{}", b.text("#clocks"));
    assert!(b.eval("!!document.querySelector(\"form[action$='/protections']\")").as_bool().unwrap());
}

/// Waits for the case page after a save that answers with `?saved={what}`.
fn saved(b: &mut Browser, what: &str) {
    b.wait_until(
        &format!("location.search === '?saved={what}' && document.readyState === 'complete'"),
        &format!("the case page after saving ({what})"),
    );
}

#[test]
fn the_casework_of_a_report_is_recorded_from_assessment_to_closure_and_a_stale_edit_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let server = demo_server(dir.path());
    let base = format!("http://{}", server.addr);
    let token = server.sign_in("demo-cw1", DEMO_PASSWORD);
    let (_, child, _, _) = child_with_variant_name(&server, &token);
    let intake = format!(
        r#"{{"child":{child},"kind":"abuse_report","received_at":"{}","route":"14","consultation_type":"11"}}"#,
        Timestamp(now().0 - 7200).to_jst_string()
    );
    let r = server.request("POST", "/api/v1/cases", Some(&token), Some(&intake));
    assert_eq!(r.status, 201, "{}", r.body);
    let case = r.json()["id"].as_u64().unwrap();
    let page = format!("{base}/cases/{case}");

    // A new abuse report says its assessment sheet is missing, and links to it.
    let mut field = Browser::start(TABLET);
    sign_in(&mut field, &base, "demo-cw1", None);
    field.goto(&page);
    assert!(field.text(".intake").contains("アセスメント未実施"), "{}", field.text(".intake"));
    field.click(".intake a[href$='/assessment']");
    field.wait_until(
        "location.pathname.endsWith('/assessment') && !!document.querySelector('ol.sheet')",
        "the sheet",
    );
    assert_eq!(field.eval("document.querySelectorAll('ol.sheet fieldset').length"), 7);
    // (4) serious harm likely next time and (5) likely to recur: the flow says protect first.
    for (q, answer) in [(1, "no"), (2, "no"), (3, "no"), (4, "yes"), (5, "yes"), (6, "no"), (7, "yes")] {
        field.click(&format!("input[name=q_q{q}][value={answer}]"));
    }
    // Answers survive a reload (a draft), each on its own button.
    field.goto(&format!("{page}/assessment"));
    let kept = "document.querySelector('input[name=q_q4][value=yes]').checked \
        && document.querySelector('input[name=q_q1][value=no]').checked \
        && document.querySelector('input[name=q_q1][value=yes]').value === 'yes'";
    field.wait_until(kept, "the answers put back from the draft");
    field.screenshot(&screens().join("15-assessment.png"));
    field.click("form[data-draft] button[type=submit]");
    saved(&mut field, "assessment");
    let work = field.text("#work");
    assert!(work.contains("次の虐待が発生しないうちに保護する必要性を検討"), "computed, not typed: {work}");
    assert!(!field.text(".intake").contains("アセスメント未実施"));

    // Both open the investigation at the same revision; the caseworker saves first.
    field.goto(&format!("{page}/edit"));
    field.wait_until("!!document.querySelector('textarea[name=opinion]')", "the edit form");
    let mut office = Browser::start((1180, 820));
    sign_in(&mut office, &base, "demo-sv", None);
    office.goto(&format!("{page}/edit"));
    office.wait_until("!!document.querySelector('textarea[name=judgement]')", "the edit form");
    field.fill("textarea[name=opinion]", "母の養育負担が大きく、父の暴力が続くおそれがある。");
    field.click("form[data-draft] button[type=submit]");
    saved(&mut field, "case");
    assert!(field.text("#work").contains("父の暴力が続くおそれ"));

    // The supervisor, still on the older revision, writes the judgement: another field, so the
    // two edits are merged and both kept.
    office.fill("textarea[name=judgement]", "在宅指導（児童福祉司指導）とする。");
    office.click("form[data-draft] button[type=submit]");
    saved(&mut office, "case_merged");
    let work = office.text("#work");
    assert!(work.contains("父の暴力が続くおそれ") && work.contains("在宅指導"), "{work}");

    // Both open it again and change the opinion differently: the supervisor's save shows both
    // versions, the opinion marked 要確認, and overwrites nothing.
    field.goto(&format!("{page}/edit"));
    field.wait_until("!!document.querySelector('textarea[name=opinion]')", "the edit form");
    office.goto(&format!("{page}/edit"));
    office.wait_until("!!document.querySelector('textarea[name=opinion]')", "the edit form");
    field.fill("textarea[name=opinion]", "父の暴力は止まったと母が話す。見守りを続ける。");
    field.fill("textarea[name=judgement]", "在宅指導（児童福祉司指導）とする。次回は12月に家庭訪問。");
    field.click("form[data-draft] button[type=submit]");
    saved(&mut field, "case");
    office.fill("textarea[name=opinion]", "一時保護の要否を会議で検討する。");
    office.click("form[data-draft] button[type=submit]");
    office.wait_until("!!document.querySelector('.conflict')", "the conflict view");
    let diff = office.text("table.diff");
    assert!(diff.contains("見守りを続ける") && diff.contains("会議で検討"), "{diff}");
    assert_eq!(office.eval("document.querySelectorAll('table.diff tr.clash').length"), 1, "{diff}");
    assert!(office.text("table.diff tr.clash").contains("児童福祉司意見"), "{diff}");
    // The form holds the supervisor's opinion and the caseworker's new judgement.
    assert_eq!(
        office.eval("document.querySelector('textarea[name=opinion]').value"),
        "一時保護の要否を会議で検討する。"
    );
    let judgement = office.eval("document.querySelector('textarea[name=judgement]').value");
    assert!(judgement.as_str().unwrap().contains("12月に家庭訪問"), "{judgement}");
    office.screenshot(&screens().join("16-case-conflict.png"));
    let stored = server.request("GET", &format!("/api/v1/cases/{case}"), Some(&token), None).json();
    assert!(
        stored["case"]["body"]["worker_opinion"].as_str().unwrap().contains("見守りを続ける"),
        "nothing overwritten"
    );
    // Chosen and saved again: now at the current revision.
    office.fill("textarea[name=opinion]", "父の暴力は止まったと母が話す。一時保護の要否を会議で検討する。");
    office.click("form[data-draft] button[type=submit]");
    saved(&mut office, "case");
    let work = office.text("#work");
    assert!(work.contains("会議で検討") && work.contains("12月に家庭訪問"), "{work}");

    // A placement without the child's hearing: marked missing, with its clock; then recorded.
    field.goto(&format!("{page}/support"));
    field.wait_until("!!document.querySelector('select[name=kind]')", "the support form");
    field.fill("select[name=kind]", "32");
    field.fill("input[name=facility]", "架空市立こども園");
    field.click("form[data-draft] button[type=submit]");
    saved(&mut field, "support");
    assert!(field.text("#supports").contains("子どもの意見聴取が未記録"), "{}", field.text("#supports"));
    assert!(field.text("#clocks").contains("子どもの意見聴取"), "{}", field.text("#clocks"));
    field.click("#supports a[href*='support?id=']");
    field.wait_until("!!document.querySelector('textarea[name=hearing_views]')", "the support update");
    field.fill("input[name=hearing_at]", &Timestamp(now().0 - 600).to_jst_string()[..16]);
    field.fill("input[name=hearing_method]", "面接");
    field.fill("textarea[name=hearing_views]", "施設で暮らしたい。妹にも会いたい。");
    field.click("form[data-draft] button[type=submit]");
    saved(&mut field, "support");
    assert!(field.text("#supports").contains("施設で暮らしたい"), "{}", field.text("#supports"));
    assert!(!field.text("#supports").contains("未記録"));
    assert!(!field.text("#clocks").contains("子どもの意見聴取"), "{}", field.text("#clocks"));

    // A case conference.
    field.goto(&format!("{page}/meeting"));
    field.wait_until("!!document.querySelector('textarea[name=decisions]')", "the meeting form");
    field.fill("select[name=kind]", "4");
    field.fill("textarea[name=outside]", "架空市子ども家庭課");
    field.fill("textarea[name=decisions]", "施設入所の方向で保護者と協議する。");
    field.click("form[data-draft] button[type=submit]");
    saved(&mut field, "meeting");
    let meetings = field.text("#meetings");
    assert!(meetings.contains("援助方針会議") && meetings.contains("架空市子ども家庭課"), "{meetings}");

    // A note of the conference's visit, with a photo taken through the app.
    field.eval(&take_photo("notes"));
    field.wait_until(
        "[...document.querySelectorAll('form[action$=notes] .thumbs .photo-state')].some(s => s.textContent === '送信済み')",
        "the note's photo sent",
    );
    field.fill("form[action$=notes] textarea[name=body]", "施設見学に同行した（テスト）");
    field.click("form[action$=notes] button[type=submit]");
    saved(&mut field, "note");
    field.scroll_to("#notes");
    field.wait_until(
        "[...document.querySelectorAll('#notes ul.photos img')].some(i => i.complete && i.naturalWidth > 0)",
        "the note's photo on the case page",
    );
    assert!(field.text("#notes figcaption").contains("木下 福祉司"), "stamped: {}", field.text("#notes"));

    // Closing is the supervisor's: the caseworker's page does not offer it.
    assert!(field.eval("!document.querySelector(\"form[action$='/close']\")").as_bool().unwrap());
    // Closed with a reason: the field forms go; reopened: they return.
    office.goto(&page);
    let reason = "form[action$='/close'] input[name=reason]";
    office.fill(reason, "施設入所により終結");
    // Meanwhile the field records a note. The supervisor's page shows it live, but the part
    // being typed in is not redrawn under their fingers (nor their IME interrupted); it is
    // redrawn once they leave it, with what they typed put back from the draft.
    let note = server.request(
        "POST",
        &format!("/api/v1/cases/{case}/notes"),
        Some(&token),
        Some(r#"{"at":"2026-11-24T10:00","kind":"4","body":"学校から連絡あり"}"#),
    );
    assert_eq!(note.status, 201, "{}", note.body);
    office.wait_until(
        "document.querySelector('#notes').innerText.includes('学校から連絡あり')",
        "the note, live",
    );
    office.wait_until("document.querySelector('#closure').dataset.stale === '1'", "the closing form kept");
    assert_eq!(office.eval(&format!("document.querySelector({reason:?}).value")), "施設入所により終結");
    assert_eq!(office.eval("document.activeElement.name"), "reason", "still typing there");
    office.eval("document.activeElement.blur()");
    office.wait_until("!document.querySelector('#closure').dataset.stale", "the closing part redrawn");
    assert_eq!(
        office.eval(&format!("document.querySelector({reason:?}).value")),
        "施設入所により終結",
        "put back"
    );
    office.click("form[action$='/close'] button");
    saved(&mut office, "closed");
    assert!(office.text("h1").contains("終結"), "{}", office.text("h1"));
    assert!(office.text("#closure").contains("施設入所により終結"));
    assert!(office.eval("!document.querySelector(\"form[action$='/notes']\")").as_bool().unwrap());
    field.goto(&page);
    field.scroll_to("#work");
    field.screenshot(&screens().join("17-casework.png"));
    assert!(field.eval("!document.querySelector(\"form[action$='/notes']\")").as_bool().unwrap());
    office.click("form[action$='/reopen'] button");
    saved(&mut office, "reopened");
    assert!(office.text("h1").contains("対応中"), "{}", office.text("h1"));
    assert!(office.text("#closure").contains("再開"));
    assert!(office.eval("!!document.querySelector(\"form[action$='/notes']\")").as_bool().unwrap());

    // 閲覧制限: the supervisor restricts the case to themself from its page (the caseworker's
    // page offers no such form); the caseworker can no longer open it; lifted, they can again.
    // The caseworker is typing a note meanwhile: refused, it stays on their tablet.
    field.goto(&page);
    field.wait_until("!!document.querySelector('form[action$=notes] textarea[name=body]')", "the note form");
    assert!(field.eval("!document.querySelector(\"form[action$='/restriction']\")").as_bool().unwrap());
    field.fill("form[action$=notes] textarea[name=body]", "制限の直前に書いた記録");
    office.scroll_to("#restriction");
    // The case's workers would be offered ticked; nobody ticked keeps it to the supervisor.
    let ticked = "[...document.querySelectorAll(\"form[action$='/restriction'] input:checked\")]";
    office.eval(&format!("{ticked}.forEach(c => c.checked = false)"));
    office.click("form[action$='/restriction'] button[type=submit]");
    saved(&mut office, "restricted");
    assert!(office.text("#restriction").contains("閲覧制限中"), "{}", office.text("#restriction"));
    office.scroll_to("#restriction");
    office.screenshot(&screens().join("18-restriction.png"));
    let shut = server.request("GET", &format!("/api/v1/cases/{case}"), Some(&token), None);
    assert_eq!(shut.status, 403, "{}", shut.body);
    field.click("form[action$=notes] button[type=submit]");
    field.wait_until("!!document.querySelector('form[action$=notes] .draft-state.refused')", "the refusal");
    assert_eq!(
        field.eval("document.querySelector('form[action$=notes] textarea[name=body]').value"),
        "制限の直前に書いた記録",
        "the text is kept"
    );
    assert!(field.text("form[action$=notes] .draft-state").contains("入力した内容はこの端末に残っています"));
    office.click("form[action$='/restriction'] button[name=lift]");
    saved(&mut office, "unrestricted");
    assert!(!office.text("#restriction").contains("閲覧制限中"));
    assert_eq!(server.request("GET", &format!("/api/v1/cases/{case}"), Some(&token), None).status, 200);
}

#[test]
fn a_supervisor_checks_a_number_of_the_statistics_before_filing_it() {
    let dir = tempfile::tempdir().unwrap();
    let server = demo_server(dir.path());
    let base = format!("http://{}", server.addr);
    let mut b = Browser::start(TABLET);
    sign_in(&mut b, &base, "demo-sv", None);
    b.click("nav a[href='/statistics']");
    b.wait_until("location.pathname === '/statistics' && document.readyState === 'complete'", "統計");
    // This fiscal year to today: the demo's cases are recent.
    b.click("p.tabs a:last-child");
    b.wait_until("location.search.includes('from=') && document.readyState === 'complete'", "the period");
    let tables = b.text("main");
    assert!(
        tables.contains("受付件数（相談の種類別・経路別）") && tables.contains("提出前の確認"),
        "{tables}"
    );
    b.screenshot(&screens().join("29-statistics.png"));
    let total = b.eval("Number(document.querySelector('table.stat tbody tr td a').textContent)");
    assert!(total.as_u64().is_some_and(|n| n > 0), "the demo's cases are counted: {total}");
    b.click("table.stat tbody tr td a");
    b.wait_until(
        "location.pathname === '/statistics/cell' && document.readyState === 'complete'",
        "the cases",
    );
    let rows = b.eval("document.querySelectorAll('main table tbody tr').length");
    let hidden = b.eval("(document.querySelector('main p.more:last-of-type')||{textContent:''}).textContent");
    assert!(rows.as_u64().unwrap() > 0, "the number's cases are listed: {hidden}");
    assert!(b.text("main").contains("receipts_by_route/total/total"), "the rule is named");
    b.screenshot(&screens().join("30-statistics-cell.png"));
}
