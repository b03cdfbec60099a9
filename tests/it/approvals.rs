//! 決裁 over the API and on the tablet: a worker's assessment and 終結伺い wait on the
//! supervisor's board as 決裁待ち; the worker may not approve them; the supervisor approves the
//! assessment over the API and the closure from the case page, which closes the case.

use crate::browser::{Browser, TABLET};
use crate::web::{demo_server, screens, sign_in};

/// A consultation about a new child, received an hour ago and taken in by `token`; its id.
#[expect(clippy::disallowed_methods, reason = "the server runs on the wall clock")]
fn consultation(server: &crate::support::Server, token: &str) -> u64 {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let received = mamoru_core::time::Timestamp(i64::try_from(now).unwrap() - 3600).to_jst_string();
    let intake = format!(
        r#"{{"new_child":{{"family_name":"架空","given_name":"みのり","family_name_kana":"かくう","given_name_kana":"みのり","birth_date":"2017-10-10"}},"confirm_new":true,"kind":"consultation","received_at":"{received}","route":"01","consultation_type":"52","idempotency_key":"approval-1"}}"#
    );
    let r = server.request("POST", "/api/v1/cases", Some(token), Some(&intake));
    assert_eq!(r.status, 201, "{}", r.body);
    r.json()["id"].as_u64().unwrap()
}

#[test]
fn a_worker_asks_and_the_supervisor_approves_over_the_api_and_from_the_case_page() {
    let dir = tempfile::tempdir().unwrap();
    let server = demo_server(dir.path());
    let base = format!("http://{}", server.addr);
    let cw1 = server.sign_in("demo-cw1", "mamoru-demo");
    let sv = server.sign_in("demo-sv", "mamoru-demo");
    let case = consultation(&server, &cw1);

    // An assessment asks for 決裁 when recorded; the worker may not give it.
    let answers = r#"{"sheet":"protection_decision","answers":{"q1":false,"q2":false,"q3":false,"q4":false,"q5":false,"q6":false,"q7":false}}"#;
    let a = server.request("POST", &format!("/api/v1/cases/{case}/assessments"), Some(&cw1), Some(answers));
    assert_eq!(a.status, 201, "{}", a.body);
    let a_id = a.json()["id"].as_u64().unwrap();
    let path = format!("/api/v1/cases/{case}/assessments/{a_id}/approval");
    let view = server.request("GET", &format!("/api/v1/cases/{case}"), Some(&sv), None).json();
    let a_rev = view["assessments"][0]["rev"].as_u64().unwrap();
    let approve = format!(r#"{{"rev":{a_rev},"verdict":"approved"}}"#);
    let approve = approve.as_str();
    assert_eq!(server.request("POST", &path, Some(&cw1), Some(approve)).status, 403);
    let board = server.request("GET", "/api/v1/board", Some(&sv), None).json();
    let waiting = |board: &serde_json::Value| {
        board["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["deadline"]["case"] == case && i["deadline"]["kind"] == "approval")
    };
    assert!(waiting(&board), "{board}");
    let done = server.request("POST", &path, Some(&sv), Some(approve));
    assert_eq!(done.status, 200, "{}", done.body);
    assert_eq!(
        (done.json()["state"].as_str(), done.json()["rev"].as_u64()),
        (Some("approved"), Some(a_rev + 1))
    );
    let view = server.request("GET", &format!("/api/v1/cases/{case}"), Some(&cw1), None).json();
    assert_eq!(view["assessments"][0]["body"]["approval"]["decision"]["verdict"], "approved", "{view}");
    assert!(!waiting(&server.request("GET", "/api/v1/board", Some(&sv), None).json()));

    // 終結伺い over the API, then the supervisor decides it on the case page.
    let rev = view["case"]["rev"].as_u64().unwrap();
    let ask = format!(r#"{{"rev":{rev},"reason":"助言指導により終了"}}"#);
    let asked =
        server.request("POST", &format!("/api/v1/cases/{case}/closure-request"), Some(&cw1), Some(&ask));
    assert_eq!((asked.status, asked.json()["state"].as_str()), (200, Some("pending")), "{}", asked.body);
    assert!(waiting(&server.request("GET", "/api/v1/board", Some(&sv), None).json()));

    let mut office = Browser::start(TABLET);
    sign_in(&mut office, &base, "demo-sv", None);
    office.goto(&format!("{base}/cases/{case}#closure"));
    let section = office.text("#closure");
    assert!(
        section.contains("終結伺い") && section.contains("決裁待ち") && section.contains("伺い 木下 福祉司"),
        "{section}"
    );
    office.scroll_to("#closure");
    office.screenshot(&screens().join("24-approval.png"));
    // Sent back without a comment: refused, and the comment field is marked where it is, with
    // the reason beside it.
    office.click("#closure form.approve button[value=returned]");
    office.wait_until("document.readyState === 'complete' && !!document.querySelector('p.error')", "refused");
    let marked = office.eval(
        "(() => { const i = document.querySelector('#closure input[name=comment]'); \
         return i.getAttribute('aria-invalid') + '|' + i.closest('label').querySelector('.why').textContent; })()",
    );
    let marked = marked.as_str().unwrap_or_default().to_owned();
    assert!(marked.starts_with("true|") && marked.contains("決裁のコメント"), "{marked}");
    office.screenshot(&screens().join("25-field-marked.png"));
    office.click("#closure form.approve button[value=approved]");
    office.wait_until(
        "location.search === '?saved=approved_closure' && document.readyState === 'complete'",
        "closed",
    );
    let section = office.text("#closure");
    assert!(section.contains("決裁 佐野 スーパーバイザー（伺い 木下 福祉司）"), "{section}");
    let view = server.request("GET", &format!("/api/v1/cases/{case}"), Some(&cw1), None).json();
    assert_eq!(view["case"]["body"]["status"], "closed", "{view}");
    assert_eq!(
        view["case"]["body"]["closure"]["asked_by"],
        server.request("GET", "/api/v1/session", Some(&cw1), None).json()["staff"]
    );
}
