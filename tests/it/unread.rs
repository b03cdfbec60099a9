//! 未読 on the tablet: a message from the field shows 未読 on the supervisor's board and in the
//! case's thread until the supervisor has had the case open; their own messages never do.

use crate::browser::{Browser, TABLET};
use crate::web::{demo_server, screens, sign_in};

#[test]
fn a_new_message_is_unread_on_the_board_and_the_thread_until_the_case_is_opened() {
    let dir = tempfile::tempdir().unwrap();
    let server = demo_server(dir.path());
    let base = format!("http://{}", server.addr);
    let cw1 = server.sign_in("demo-cw1", "mamoru-demo");
    let sv = server.sign_in("demo-sv", "mamoru-demo");
    let list = server.request("GET", "/api/v1/caseload", Some(&cw1), None).json();
    let case = list["items"][0]["case"].as_u64().unwrap();
    let post = |token: &str, text: &str| {
        let body = format!(r#"{{"body":"{text}"}}"#);
        let r = server.request("POST", &format!("/api/v1/cases/{case}/messages"), Some(token), Some(&body));
        assert_eq!(r.status, 201, "{}", r.body);
        r.json()["id"].as_u64().unwrap()
    };
    let mut office = Browser::start(TABLET);
    sign_in(&mut office, &base, "demo-sv", None);
    // Seen once: what is there now is read. Then away from the case (its page would take in
    // the new messages live).
    office.goto(&format!("{base}/cases/{case}"));
    office.goto(&format!("{base}/search"));
    let theirs = post(&cw1, "家庭訪問を終えました。母親は落ち着いています。");
    let own = post(&sv, "了解しました。明日の会議で共有します。");

    let class = |b: &mut Browser, selector: &str| {
        b.eval(&format!(
            "(() => {{ const e = document.querySelector('{selector}'); return e ? e.className : 'none'; }})()"
        ))
        .as_str()
        .unwrap_or_default()
        .to_owned()
    };
    office.goto(&format!("{base}/home"));
    office.wait_until("document.readyState === 'complete'", "the board");
    assert!(class(&mut office, &format!("li[data-message=\"{theirs}\"]")).contains("unread"));
    assert!(office.text(&format!("li[data-message=\"{theirs}\"]")).contains("未読"));
    assert!(!class(&mut office, &format!("li[data-message=\"{own}\"]")).contains("unread"), "one's own");
    office.scroll_to("#board-messages");
    office.screenshot(&screens().join("26-unread.png"));

    // The case page marks it, and counts it seen: not unread on the next visit, nor on the board.
    office.goto(&format!("{base}/cases/{case}"));
    assert!(class(&mut office, &format!("#m{theirs}")).contains("unread"));
    office.goto(&format!("{base}/cases/{case}"));
    assert!(!class(&mut office, &format!("#m{theirs}")).contains("unread"));
    office.goto(&format!("{base}/home"));
    assert!(!class(&mut office, &format!("li[data-message=\"{theirs}\"]")).contains("unread"));
}
