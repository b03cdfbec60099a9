//! The family on a tablet: a caseworker records a child's mother, the father living apart and a
//! sibling on file from the face sheet; the page draws them as a genogram, and a search for the
//! father's name finds the child.

use serde_json::Value;

use crate::browser::{Browser, TABLET};
use crate::web::{demo_server, screens, sign_in};

/// Registers a child through the API; its id.
fn register(server: &crate::support::Server, token: &str, given: &str, kana: &str, born: &str) -> u64 {
    let body = format!(
        r#"{{"family_name":"森野","given_name":"{given}","family_name_kana":"もりの","given_name_kana":"{kana}","birth_date":"{born}","sex":"female","address":"架空市みずき町2-8-14"}}"#
    );
    let r = server.request("POST", "/api/v1/children", Some(token), Some(&body));
    assert_eq!(r.status, 201, "{}", r.body);
    r.json()["id"].as_u64().unwrap()
}

/// Fills the family form and saves it; waits for the child page.
fn add_adult(b: &mut Browser, fields: &[(&str, &str)], ticks: &[&str]) {
    for (name, value) in fields {
        b.fill(&format!("[name={name}]"), value);
    }
    for tick in ticks {
        b.click(&format!("input[name={tick}]"));
    }
    b.click("form[data-draft] button[type=submit]");
}

fn saved(b: &mut Browser) {
    b.wait_until(
        "location.search === '?saved=family' && document.readyState === 'complete'",
        "the child page after saving the family",
    );
}

#[test]
fn a_family_recorded_on_the_tablet_is_drawn_as_a_genogram_and_found_by_a_parents_name() {
    let dir = tempfile::tempdir().unwrap();
    let server = demo_server(dir.path());
    let base = format!("http://{}", server.addr);
    let token = server.sign_in("demo-cw1", "mamoru-demo");
    let hinata = register(&server, &token, "ひなた", "ひなた", "2017-05-05");
    let sora = register(&server, &token, "そら", "そら", "2020-02-02");

    let mut tablet = Browser::start(TABLET);
    sign_in(&mut tablet, &base, "demo-cw1", None);
    tablet.goto(&format!("{base}/children/{hinata}"));
    assert!(tablet.text("#family").contains("家族の登録はありません"), "{}", tablet.text("#family"));
    tablet.click("a[href$='/family/new']");
    tablet.wait_until("location.pathname.endsWith('/family/new') && !!document.forms[1]", "the family form");

    // Furigana typed in romaji is refused, naming the field; what was typed stays.
    let mother = [
        ("relation", "02"),
        ("family", "森野"),
        ("given", "美月"),
        ("family_kana", "morino"),
        ("given_kana", "みづき"),
        ("birth", "平成2年3月3日"),
        ("sex", "female"),
        ("phones", "090-3141-5926"),
        ("employment", "パート"),
    ];
    add_adult(&mut tablet, &mother, &["guardian", "custody"]);
    tablet.wait_until("!!document.querySelector('p.error')", "the refusal");
    assert!(tablet.text("p.error").contains("ふりがな（氏）"), "{}", tablet.text("p.error"));
    assert_eq!(tablet.eval("document.querySelector('[name=given]').value"), Value::from("美月"));
    assert_eq!(tablet.eval("document.querySelector('[name=guardian]').checked"), Value::from(true));
    tablet.screenshot(&screens().join("20-family-refused.png"));
    tablet.fill("[name=family_kana]", "もりの");
    tablet.click("form[data-draft] button[type=submit]");
    saved(&mut tablet);

    // The father lives apart: 同居 unticked.
    tablet.goto(&format!("{base}/children/{hinata}/family/new"));
    let father = [
        ("relation", "01"),
        ("family", "川端"),
        ("given", "大輔"),
        ("family_kana", "かわばた"),
        ("given_kana", "だいすけ"),
        ("birth", "S63.10.10"),
        ("sex", "male"),
    ];
    add_adult(&mut tablet, &father, &["guardian", "cohabiting"]);
    saved(&mut tablet);

    // The sister, on file already, found by name and added as a sibling.
    tablet.goto(&format!(
        "{base}/children/{hinata}/family/new?q=%E3%82%82%E3%82%8A%E3%81%AE%20%E3%81%9D%E3%82%89"
    ));
    tablet.wait_until("!!document.querySelector('#sibling ul.results li form')", "the sibling found");
    tablet.click("#sibling ul.results li form button");
    saved(&mut tablet);

    let family = tablet.text("#family");
    for shown in ["森野 美月", "実母", "親権者", "川端 大輔", "実父", "別居", "森野 そら", "きょうだい"]
    {
        assert!(family.contains(shown), "{shown}: {family}");
    }
    let count = |b: &mut Browser, css: &str| b.eval(&format!("document.querySelectorAll('{css}').length"));
    assert_eq!(count(&mut tablet, ".genogram path.person:not(.me)"), Value::from(4), "four people");
    assert_eq!(count(&mut tablet, ".genogram path.person.me"), Value::from(1), "the child marked");
    assert_eq!(count(&mut tablet, ".genogram path.household"), Value::from(1), "one household outline");
    tablet.scroll_to("#family");
    tablet.screenshot(&screens().join("20-family.png"));

    // The sister's page shows the same family from her side; the father's name finds both.
    let sister = server.request("GET", &format!("/api/v1/children/{sora}"), Some(&token), None).json();
    let relations: Vec<&str> =
        sister["members"].as_array().unwrap().iter().map(|m| m["relation_label"].as_str().unwrap()).collect();
    assert_eq!(relations, ["きょうだい", "実母", "実父", "本人"], "{relations:?}");
    let found = server.request("GET", "/api/v1/search?q=%E5%B7%9D%E7%AB%AF", Some(&token), None).json();
    let ids: Vec<u64> =
        found["results"].as_array().unwrap().iter().map(|r| r["id"].as_u64().unwrap()).collect();
    assert!(ids.contains(&hinata) && ids.contains(&sora), "{ids:?}");
}

#[test]
fn the_family_over_the_api_goes_against_revisions_and_is_in_the_openapi_document() {
    let dir = tempfile::tempdir().unwrap();
    let server = demo_server(dir.path());
    let token = server.sign_in("demo-cw1", "mamoru-demo");
    let child = register(&server, &token, "みお", "みお", "2019-09-09");
    let family = format!("/api/v1/children/{child}/family");
    let mother = r#"{"person":{"family_name":"森野","given_name":"千尋","family_name_kana":"もりの","given_name_kana":"ちひろ","birth_date":"H3.1.1","sex":"female","phones":["090-2718-2818"]},"relation":"02","guardian":true,"custody":true,"idempotency_key":"api-mother-1"}"#;
    let added = server.request("POST", &family, Some(&token), Some(mother));
    assert_eq!(added.status, 201, "{}", added.body);
    let again = server.request("POST", &family, Some(&token), Some(mother));
    assert_eq!(again.status, 201, "a retry answers with the household: {}", again.body);
    let household = again.json();
    assert_eq!(household["body"]["members"].as_array().unwrap().len(), 2, "one mother: {household}");
    let who = format!("person-{}", household["body"]["members"][1]["who"]["id"]);

    // 本人 for an adult is refused, naming the field.
    let wrong = server.request("POST", &family, Some(&token), Some(r#"{"child":999999,"relation":"10"}"#));
    assert_eq!(wrong.status, 422, "{}", wrong.body);
    assert!(wrong.body.contains("relation"), "{}", wrong.body);

    let member = server.request("GET", &format!("{family}/{who}"), Some(&token), None).json();
    assert_eq!(member["standing"]["relation"], "02", "{member}");
    let (rev, person_rev) =
        (member["household_rev"].as_u64().unwrap(), member["person"]["rev"].as_u64().unwrap());
    let change = |relation: &str, phone: &str| {
        format!(
            r#"{{"household_rev":{rev},"person_rev":{person_rev},"relation":"{relation}","guardian":true,"person":{{"family_name":"森野","given_name":"千尋","family_name_kana":"もりの","given_name_kana":"ちひろ","sex":"female","phones":["{phone}"]}}}}"#
        )
    };
    let first =
        server.request("PUT", &format!("{family}/{who}"), Some(&token), Some(&change("02", "090-0000-1111")));
    assert_eq!(first.status, 200, "{}", first.body);
    // The same fields changed again from the older revisions: a conflict, nothing overwritten.
    let stale =
        server.request("PUT", &format!("{family}/{who}"), Some(&token), Some(&change("06", "090-9999-8888")));
    assert_eq!(stale.status, 409, "{}", stale.body);
    let now = server.request("GET", &format!("{family}/{who}"), Some(&token), None).json();
    assert_eq!(now["person"]["body"]["phones"][0], "090-0000-1111", "{now}");
    assert_eq!(now["standing"]["custody"], false, "the first change took custody off: {now}");

    let rev = now["household_rev"].as_u64().unwrap();
    let gone = server.request("DELETE", &format!("{family}/{who}?household_rev={rev}"), Some(&token), None);
    assert_eq!(gone.status, 200, "{}", gone.body);
    assert_eq!(gone.json()["body"]["members"].as_array().unwrap().len(), 1);

    let doc = server.request("GET", "/api/v1/openapi.json", Some(&token), None).json();
    for path in ["/api/v1/children/{id}/family", "/api/v1/children/{id}/family/{member}"] {
        assert!(doc["paths"][path].is_object(), "{path} in the OpenAPI document");
    }
    assert!(doc["components"]["schemas"]["MemberIn"].is_object(), "the family of a new child");
}

#[test]
fn an_intake_over_the_api_registers_the_new_child_with_its_guardian_or_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let server = demo_server(dir.path());
    let token = server.sign_in("demo-cw1", "mamoru-demo");
    let intake = |relation: &str, key: &str| {
        format!(
            r#"{{"new_child":{{"family_name":"霧島","given_name":"るい","family_name_kana":"きりしま","given_name_kana":"るい","birth_date":"R2.3.3","sex":"male","family":[{{"person":{{"family_name":"霧島","given_name":"紗枝","family_name_kana":"きりしま","given_name_kana":"さえ","birth_date":"H4.2.2","sex":"female","phones":["080-3141-5926"]}},"relation":"{relation}","guardian":true,"custody":true}},{{"person":{{"family_name":"霧島","family_name_kana":"きりしま"}},"relation":"01","cohabiting":false}},{{"person":{{"family_name":"霧島","family_name_kana":"きりしま"}},"relation":"08"}}]}},"confirm_new":true,"kind":"abuse_report","received_at":"令和8年11月24日 9:30","route":"14","consultation_type":"11","abuse":{{"types":["1"]}},"idempotency_key":"{key}"}}"#
        )
    };
    let search = |q: &str| {
        let found = server.request("GET", &format!("/api/v1/search?q={q}"), Some(&token), None).json();
        found["results"].as_array().unwrap().len()
    };
    // The guardian named as 本人: refused, naming the guardian's field; neither the child nor a
    // case stored. So is a guardian's birth date that cannot be read, and a member's own key.
    let wrong = server.request("POST", "/api/v1/cases", Some(&token), Some(&intake("10", "kirishima-1")));
    assert_eq!(wrong.status, 422, "{}", wrong.body);
    assert!(wrong.body.contains("invalid guardian_relation"), "{}", wrong.body);
    let bad_birth = intake("02", "kirishima-3").replace("H4.2.2", "4.2.2");
    let wrong = server.request("POST", "/api/v1/cases", Some(&token), Some(&bad_birth));
    assert_eq!(wrong.status, 422, "{}", wrong.body);
    assert!(
        wrong.body.contains("invalid guardian_birth_date") && wrong.body.contains("four digits"),
        "{}",
        wrong.body
    );
    let keyed = intake("02", "kirishima-4")
        .replace(r#""relation":"08"}"#, r#""relation":"08","idempotency_key":"x"}"#);
    let wrong = server.request("POST", "/api/v1/cases", Some(&token), Some(&keyed));
    assert_eq!(wrong.status, 422, "{}", wrong.body);
    assert!(wrong.body.contains("invalid idempotency_key"), "{}", wrong.body);
    assert_eq!(search("%E3%81%8D%E3%82%8A%E3%81%97%E3%81%BE"), 0, "nobody registered");

    let r = server.request("POST", "/api/v1/cases", Some(&token), Some(&intake("02", "kirishima-2")));
    assert_eq!(r.status, 201, "{}", r.body);
    let case = server.request("GET", &format!("/api/v1/cases/{}", r.json()["id"]), Some(&token), None).json();
    assert_eq!(case["case"]["body"]["intake"]["received_at"], 1_795_480_200, "和暦 read: {case}");
    let child = case["case"]["body"]["child"].as_u64().unwrap();
    let view = server.request("GET", &format!("/api/v1/children/{child}"), Some(&token), None).json();
    let members = view["members"].as_array().unwrap();
    let mother = members.iter().find(|m| m["relation"] == "02").expect("the mother");
    assert_eq!(mother["guardian"], true, "{view}");
    // The father and the grandmother, named alike (family name only), are both recorded, each
    // with the sex the relation says.
    let father = members.iter().find(|m| m["relation"] == "01").expect("the father");
    let grandmother = members.iter().find(|m| m["relation"] == "08").expect("the grandmother");
    assert_eq!(
        (father["sex"].as_str(), grandmother["sex"].as_str()),
        (Some("male"), Some("female")),
        "{view}"
    );
    assert_eq!(father["cohabiting"], false, "{view}");
    assert_eq!(search("080-3141-5926"), 1, "found by the guardian's phone");

    // Registered on its own with a key: a retry after a lost answer registers nobody twice.
    let child = |given: &str| {
        format!(
            r#"{{"family_name":"霧島","given_name":"{given}","family_name_kana":"きりしま","given_name_kana":"{given}","birth_date":"R5.5.5","family":[{{"person":{{"family_name":"霧島","given_name":"紗枝","family_name_kana":"きりしま","given_name_kana":"さえ"}},"relation":"02","guardian":true}}],"idempotency_key":"kirishima-child-1"}}"#
        )
    };
    let first = server.request("POST", "/api/v1/children", Some(&token), Some(&child("なぎ")));
    assert_eq!(first.status, 201, "{}", first.body);
    let again = server.request("POST", "/api/v1/children", Some(&token), Some(&child("なぎ")));
    assert_eq!(again.status, 201, "{}", again.body);
    let (first, again) = (first.json(), again.json());
    assert_eq!(first["id"], again["id"], "one child: {again}");
    assert!(
        again["possible_duplicates"].as_array().unwrap().iter().all(|d| d["id"] != again["id"]),
        "{again}"
    );
    let view = server.request("GET", &format!("/api/v1/children/{}", again["id"]), Some(&token), None).json();
    assert_eq!(view["members"].as_array().unwrap().len(), 2, "the child and one mother: {view}");
    let other = server.request("POST", "/api/v1/children", Some(&token), Some(&child("ゆい")));
    assert_eq!(other.status, 422, "the key of another child: {}", other.body);
}
