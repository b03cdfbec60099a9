//! The tablet pages on a phone (390 × 844, an iPhone held upright): every page a caseworker or a
//! supervisor opens in the field fits the width (nothing scrolls sideways, nothing is cut off at
//! either side), and no text of the header is broken into lines.

use crate::browser::Browser;
use crate::web::{demo_server, screens, sign_in};

const PHONE: (u32, u32) = (390, 844);

/// What sticks out past the right edge of the page, as `tag.class: width`; empty when it fits.
const OVERFLOW: &str = "(() => { \
    const w = document.documentElement.clientWidth; \
    const out = []; \
    if (document.documentElement.scrollWidth > w) out.push('page: ' + document.documentElement.scrollWidth); \
    for (const e of document.querySelectorAll('body *')) { \
        const r = e.getBoundingClientRect(); \
        if (r.width > 0 && (r.right > w + 1 || r.left < -1) && getComputedStyle(e).position !== 'fixed') \
            out.push(e.tagName.toLowerCase() + '.' + e.className + ': ' + Math.round(r.right)); \
    } \
    return out.slice(0, 8).join(', '); })()";

/// The most lines any text in the header is broken into: more than one means letters stacked
/// vertically in a squeezed box.
const HEADER_LINES: &str = "(() => { \
    let most = 0; \
    for (const e of document.querySelectorAll('header.bar a, header.bar span, header.bar button')) { \
        if (e.offsetParent === null || e.textContent.trim() === '') continue; \
        const r = document.createRange(); r.selectNodeContents(e); \
        const tops = new Set([...r.getClientRects()].filter(b => b.width > 0).map(b => Math.round(b.top))); \
        most = Math.max(most, tops.size); \
    } \
    return most; })()";

#[test]
fn every_page_fits_a_phone_held_upright() {
    let dir = tempfile::tempdir().unwrap();
    let server = demo_server(dir.path());
    let base = format!("http://{}", server.addr);
    let cw = server.sign_in("demo-cw1", "mamoru-demo");
    let list = server.request("GET", "/api/v1/caseload", Some(&cw), None).json();
    let case = list["items"][0]["case"].as_u64().unwrap();
    let child = list["items"][0]["child"].as_u64().unwrap();

    let pages = [
        ("/home", "board"),
        ("/caseload", "caseload"),
        ("/search?q=%E3%81%95", "search"),
        ("/intake", "intake"),
        (&*format!("/children/{child}"), "child"),
        (&*format!("/children/{child}/edit"), "child edit"),
        (&*format!("/children/{child}/family/new"), "family member"),
        (&*format!("/cases/{case}"), "case"),
        (&*format!("/cases/{case}/edit"), "case edit"),
        (&*format!("/cases/{case}/assessment"), "assessment"),
        (&*format!("/cases/{case}/support"), "support"),
        (&*format!("/cases/{case}/meeting"), "meeting"),
    ];
    // The caseworker's case page and the supervisor's board (the longest menu) are kept as
    // screenshots.
    for (login, shot, file) in
        [("demo-cw1", "case", "27-phone-case.png"), ("demo-sv", "board", "28-phone-board.png")]
    {
        let mut phone = Browser::start(PHONE);
        sign_in(&mut phone, &base, login, None);
        let supervisor = [("/caseloads", "caseloads")];
        let extra: &[(&str, &str)] = if login == "demo-sv" { &supervisor } else { &[] };
        for (path, what) in pages.iter().chain(extra) {
            phone.goto(&format!("{base}{path}"));
            phone.wait_until("document.readyState === 'complete'", what);
            let heading = phone.text("h1");
            assert!(
                !["見つかりません", "権限がありません", "エラー"].contains(&heading.as_str()),
                "{login}: {what} ({path}) is an error page: {heading}"
            );
            let out = phone.eval(OVERFLOW);
            assert_eq!(out.as_str(), Some(""), "{login}: {what} ({path}) is wider than the phone");
            let lines = phone.eval(HEADER_LINES).as_u64().unwrap();
            assert!(lines <= 1, "{login}: {what}: a header text breaks into {lines} lines");
            if *what == shot {
                phone.screenshot(&screens().join(file));
            }
        }
    }
}
