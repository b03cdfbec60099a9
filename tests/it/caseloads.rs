//! 担当 on the tablet and over the API: a new report nobody works shows on the supervisor's 担当状況
//! as 担当未定; the supervisor assigns a 主担当 and a 副担当 from the case page, with a reason;
//! the caseworker finds it at the top of their 担当ケース with its 48-hour clock.

use crate::browser::{Browser, TABLET};
use crate::web::{demo_server, screens, sign_in};

/// An abuse report about a new child, received 100 hours ago (its 48 hours over before any of
/// the demo's) and taken in through the API with nobody assigned; its id.
#[expect(clippy::disallowed_methods, reason = "the server runs on the wall clock")]
fn unassigned_report(server: &crate::support::Server, token: &str) -> u64 {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let received = mamoru_core::time::Timestamp(i64::try_from(now).unwrap() - 100 * 3600).to_jst_string();
    let intake = format!(
        r#"{{"new_child":{{"family_name":"架空","given_name":"ひかり","family_name_kana":"かくう","given_name_kana":"ひかり","birth_date":"2019-07-07"}},"confirm_new":true,"kind":"abuse_report","received_at":"{received}","route":"14","consultation_type":"11","abuse":{{"types":["1"]}},"idempotency_key":"unassigned-1"}}"#
    );
    let r = server.request("POST", "/api/v1/cases", Some(token), Some(&intake));
    assert_eq!(r.status, 201, "{}", r.body);
    r.json()["id"].as_u64().unwrap()
}

#[test]
fn a_supervisor_assigns_a_new_report_and_the_worker_finds_it_first_in_their_caseload() {
    let dir = tempfile::tempdir().unwrap();
    let server = demo_server(dir.path());
    let base = format!("http://{}", server.addr);
    let clerk = server.sign_in("demo-clerk", "mamoru-demo");
    let case = unassigned_report(&server, &clerk);
    let cw1 = server.sign_in("demo-cw1", "mamoru-demo");
    let me = server.request("GET", "/api/v1/session", Some(&cw1), None).json();
    let cw1_id = me["staff"].as_u64().unwrap();

    let mut office = Browser::start(TABLET);
    sign_in(&mut office, &base, "demo-sv", None);
    office.goto(&format!("{base}/caseloads"));
    let unassigned = office.text("#unassigned");
    assert!(unassigned.contains("架空 ひかり") && unassigned.contains("安全確認（48時間）"), "{unassigned}");
    let table = office.text("table.loads");
    assert!(table.contains("木下 福祉司") && table.contains("大森 福祉司"), "{table}");
    assert!(
        !table.contains("水野 心理司") && !table.contains("南 事務"),
        "only those who work cases: {table}"
    );
    office.screenshot(&screens().join("21-caseloads.png"));
    // The longest list of the demo, opened from the table, stays within a page's budget.
    office.click("table.loads tbody tr:nth-child(3) th a");
    office.wait_until(
        "location.pathname === '/caseload' && document.readyState === 'complete'",
        "a worker's list",
    );
    assert!(office.text("h1").contains("大森 福祉司"), "{}", office.text("h1"));
    let bytes = office.eval("new Blob([document.documentElement.outerHTML]).size").as_u64().unwrap();
    let cards = office.eval("document.querySelectorAll('ul.caseload li').length").as_u64().unwrap();
    eprintln!("担当ケース of 大森: {cards} cases, {bytes} bytes");
    assert!(bytes < 60 * 1024, "{bytes} bytes for {cards} cases");
    office.goto(&format!("{base}/caseloads"));

    // From 担当未定 to the case's 担当 section; 木下 as 主担当, 大森 as 副担当, with a reason.
    office.click(&format!("#unassigned a[href='/cases/{case}#assignment']"));
    office.wait_until(
        "location.pathname.startsWith('/cases/') && document.readyState === 'complete'",
        "the case",
    );
    office.eval(
        "(() => { const s = document.querySelector('#assignment select[name=main]'); \
         s.value = [...s.options].find(o => o.text === '木下 福祉司').value; return true; })()",
    );
    office.eval(
        "(() => { [...document.querySelectorAll('#assignment label.check')].find(l => l.textContent.includes('大森 福祉司')).querySelector('input').checked = true; return true; })()",
    );
    office.fill("#assignment input[name=reason]", "受理会議で決定");
    office.click("#assignment button[type=submit]");
    office.wait_until("location.search === '?saved=assigned' && document.readyState === 'complete'", "saved");
    let section = office.text("#assignment");
    assert!(section.contains("主担当 木下 福祉司・副担当 大森 福祉司（受理会議で決定）"), "{section}");
    assert!(office.text("p.notice").contains("担当を変更しました"));
    office.scroll_to("#assignment");
    office.screenshot(&screens().join("22-assignment.png"));

    // The caseworker's 担当ケース: the new report first (its 48 hours the longest over), as 主担当.
    let mut field = Browser::start(TABLET);
    sign_in(&mut field, &base, "demo-cw1", None);
    field.click("header nav a[href='/caseload']");
    field.wait_until("location.pathname === '/caseload' && document.readyState === 'complete'", "担当ケース");
    let first = field.text("ul.caseload li:first-child");
    assert!(
        first.contains("架空 ひかり") && first.contains("主担当") && first.contains("安全確認（48時間）"),
        "{first}"
    );
    assert!(field.text("main").contains("最終接触"), "the other cases' last contact");
    field.screenshot(&screens().join("23-caseload.png"));

    // The same over the API: the worker's list and the history on the case.
    let list = server.request("GET", "/api/v1/caseload", Some(&cw1), None).json();
    assert_eq!(list["items"][0]["case"], case, "{list}");
    assert_eq!(list["items"][0]["main"], true);
    let view = server.request("GET", &format!("/api/v1/cases/{case}"), Some(&cw1), None).json();
    let body = &view["case"]["body"];
    assert_eq!(body["assigned"][0], cw1_id, "{body}");
    assert_eq!(body["assignments"][0]["reason"], "受理会議で決定");
    // A caseworker may not reassign over the API either; the supervisor may, from the revision.
    let rev = view["case"]["rev"].as_u64().unwrap();
    let change = format!(r#"{{"rev":{rev},"main":{cw1_id},"subs":[],"reason":"負担の調整"}}"#);
    let path = format!("/api/v1/cases/{case}/assignment");
    assert_eq!(server.request("PUT", &path, Some(&cw1), Some(&change)).status, 403);
    let sv = server.sign_in("demo-sv", "mamoru-demo");
    let done = server.request("PUT", &path, Some(&sv), Some(&change));
    assert_eq!(done.status, 200, "{}", done.body);
    assert_eq!(done.json()["assignments"].as_array().unwrap().len(), 2);
    let loads = server.request("GET", "/api/v1/caseloads", Some(&sv), None).json();
    assert!(loads["unassigned"].as_array().unwrap().iter().all(|i| i["case"] != case), "{loads}");
    assert_eq!(server.request("GET", "/api/v1/caseloads", Some(&cw1), None).status, 403);
}
