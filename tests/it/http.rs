//! The HTTP contract against a real server process: health, sessions, children, search, board,
//! JSON errors with the right statuses, the OpenAPI document.

use crate::support::{Server, init};
use mamoru_core::store::Reader as _;

fn demo_server(dir: &std::path::Path) -> Server {
    Server::demo(dir, 30)
}

#[test]
fn health_needs_no_sign_in_and_shows_nothing_personal() {
    let dir = tempfile::tempdir().unwrap();
    let data = init(dir.path());
    let s = Server::serve_plain(&data);
    let r = s.request("GET", "/healthz", None, None);
    assert_eq!(r.status, 200);
    let j = r.json();
    assert_eq!(j["status"], "ok");
    assert_eq!(j["store"], "ok");
    assert!(j["version"].as_str().is_some());
    assert!(j.as_object().unwrap().contains_key("last_backup_age_seconds"));
    assert_eq!(r.header("cache-control"), Some("no-store"));
}

#[test]
fn sign_in_register_read_and_search_a_child() {
    let dir = tempfile::tempdir().unwrap();
    let s = demo_server(dir.path());
    let token = s.sign_in("demo-cw1", "mamoru-demo");

    let body = r#"{"family_name":"髙﨑","given_name":"陽翔","family_name_kana":"タカサキ","given_name_kana":"ハルト","birth_date":"R2.5.1","sex":"male","phones":["000-9876-5432"]}"#;
    let created = s.request("POST", "/api/v1/children", Some(&token), Some(body));
    assert_eq!(created.status, 201, "{}", created.body);
    let id = created.json()["id"].as_u64().unwrap();
    assert!(created.json()["possible_duplicates"].as_array().unwrap().is_empty());

    // Registering the same child again warns of the duplicate (and still registers: the
    // caseworker decides).
    let again = s.request("POST", "/api/v1/children", Some(&token), Some(body));
    assert_eq!(again.status, 201);
    assert_eq!(again.json()["possible_duplicates"][0]["id"].as_u64(), Some(id));

    let child = s.request("GET", &format!("/api/v1/children/{id}"), Some(&token), None);
    assert_eq!(child.status, 200, "{}", child.body);
    let c = child.json();
    assert_eq!(c["child"]["body"]["birth_date"], "2020-05-01");
    assert_eq!(c["child"]["rev"], 1);
    assert_eq!(child.header("cache-control"), Some("no-store"));

    for q in ["高崎", "たかさき%20はると", "R2.5.1", "00098765432"] {
        let r = s.request("GET", &format!("/api/v1/search?q={}", encode(q)), Some(&token), None);
        assert_eq!(r.status, 200, "{q}: {}", r.body);
        let results = r.json()["results"].as_array().unwrap().clone();
        assert!(results.iter().any(|x| x["id"].as_u64() == Some(id)), "{q}: {results:?}");
        let first = &results[0];
        for field in ["id", "name", "kana", "birth_date"] {
            assert!(first.get(field).is_some(), "{field} missing");
        }
    }

    let board = s.request("GET", "/api/v1/board", Some(&token), None);
    assert_eq!(board.status, 200, "{}", board.body);
    assert!(!board.json()["items"].as_array().unwrap().is_empty(), "the demo has due and overdue clocks");

    // Enrolling a second factor starts with an otpauth URL; a wrong first code is refused.
    let begin = s.request("POST", "/api/v1/session/totp", Some(&token), None);
    assert_eq!(begin.status, 200, "{}", begin.body);
    assert!(begin.json()["otpauth_url"].as_str().unwrap().starts_with("otpauth://totp/Mamoru:demo-cw1"));
    let bad = s.request("POST", "/api/v1/session/totp/confirm", Some(&token), Some(r#"{"code":"12"}"#));
    assert_eq!(bad.status, 422, "{}", bad.body);

    let out = s.request("DELETE", "/api/v1/session", Some(&token), None);
    assert_eq!(out.status, 204);
    assert_eq!(s.request("GET", &format!("/api/v1/children/{id}"), Some(&token), None).status, 401);
    // Signed out once: the token signs nothing out again.
    let again = s.request("DELETE", "/api/v1/session", Some(&token), None);
    assert_eq!(again.status, 401, "{}", again.body);
    assert!(
        again.header("set-cookie").is_some_and(|c| c.contains("Max-Age=0")),
        "the browser forgets it anyway"
    );
}

#[test]
fn an_intake_over_the_api_asks_about_possible_duplicates_then_notes_and_a_safety_check_close_its_clock() {
    let dir = tempfile::tempdir().unwrap();
    let s = demo_server(dir.path());
    let token = s.sign_in("demo-cw1", "mamoru-demo");
    let child = r#""family_name":"架空","given_name":"一郎","family_name_kana":"かくう","given_name_kana":"いちろう","birth_date":"R3.6.1""#;
    let intake = |who: &str, key: &str| {
        format!(
            r#"{{{who},"kind":"abuse_report","received_at":"2026-11-24T09:30","route":"14","consultation_type":"11","content":"近隣から通告","abuse":{{"types":["1"]}},"reporter":{{"anonymous":true}},"idempotency_key":"{key}"}}"#
        )
    };
    // A child nobody has: opened at once, with the 48-hour clock.
    let r = s.request(
        "POST",
        "/api/v1/cases",
        Some(&token),
        Some(&intake(&format!(r#""new_child":{{{child}}}"#), "k1")),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let case = r.json()["id"].as_u64().unwrap();
    let view = s.request("GET", &format!("/api/v1/cases/{case}"), Some(&token), None);
    assert_eq!(view.status, 200, "{}", view.body);
    let v = view.json();
    let child_id = v["case"]["body"]["child"].as_u64().unwrap();
    assert!(
        v["clocks"].as_array().unwrap().iter().any(|c| c["deadline"]["kind"] == "safety_check48h"),
        "{v}"
    );
    // The same draft again: the same case.
    let again = s.request(
        "POST",
        "/api/v1/cases",
        Some(&token),
        Some(&intake(&format!(r#""new_child":{{{child}}}"#), "k1")),
    );
    assert_eq!(again.json()["id"].as_u64(), Some(case), "{}", again.body);

    // A second report naming the same child as new: nothing stored, the candidate named.
    let ask = s.request(
        "POST",
        "/api/v1/cases",
        Some(&token),
        Some(&intake(&format!(r#""new_child":{{{child}}}"#), "k2")),
    );
    assert_eq!(ask.status, 409, "{}", ask.body);
    assert_eq!(ask.json()["error"]["code"], "possible_duplicates");
    assert_eq!(ask.json()["candidates"][0]["id"].as_u64(), Some(child_id));
    let chosen = s.request(
        "POST",
        "/api/v1/cases",
        Some(&token),
        Some(&intake(&format!(r#""child":{child_id}"#), "k2")),
    );
    assert_eq!(chosen.status, 201, "{}", chosen.body);

    // A note and a safety check, each once however often sent.
    let note = r#"{"at":"2026-11-24T10:00","kind":"4","body":"学校に在籍を確認","idempotency_key":"n1"}"#;
    let n1 = s.request("POST", &format!("/api/v1/cases/{case}/notes"), Some(&token), Some(note));
    assert_eq!(n1.status, 201, "{}", n1.body);
    let n2 = s.request("POST", &format!("/api/v1/cases/{case}/notes"), Some(&token), Some(note));
    assert_eq!(n1.json()["id"], n2.json()["id"]);
    let check = r#"{"at":"令和8年11月24日 11:00","method":"sighted","seen_directly":true,"place":"自宅","child_state":"落ち着いている","injuries":[{"side":"front","x":0.4,"y":0.3,"size_cm":2,"description":"あざ"}]}"#;
    let c = s.request("POST", &format!("/api/v1/cases/{case}/safety-checks"), Some(&token), Some(check));
    assert_eq!(c.status, 201, "{}", c.body);
    let v = s.request("GET", &format!("/api/v1/cases/{case}"), Some(&token), None).json();
    assert_eq!(v["safety_checks"].as_array().unwrap().len(), 1);
    assert_eq!(v["safety_checks"][0]["body"]["at"], 1_795_485_600, "和暦 read as the tablet does: {v}");
    assert_eq!(v["notes"].as_array().unwrap().len(), 1);
    assert!(
        !v["clocks"].as_array().unwrap().iter().any(|c| c["deadline"]["kind"] == "safety_check48h"),
        "closed: {v}"
    );
    // The thread between field and office.
    let m = s.request(
        "POST",
        &format!("/api/v1/cases/{case}/messages"),
        Some(&token),
        Some(r#"{"body":"確認しました","idempotency_key":"m1"}"#),
    );
    assert_eq!(m.status, 201, "{}", m.body);
    let v = s.request("GET", &format!("/api/v1/cases/{case}"), Some(&token), None).json();
    assert_eq!(v["messages"][0]["body"]["body"], "確認しました");
    // Bad input is refused with its reason and stores nothing.
    let bad = s.request(
        "POST",
        &format!("/api/v1/cases/{case}/safety-checks"),
        Some(&token),
        Some(r#"{"at":"2026-11-24T11:00","method":"telepathy","seen_directly":true}"#),
    );
    assert_eq!(bad.status, 400, "{}", bad.body);
    assert!(bad.body.contains("unknown variant `telepathy`"), "{}", bad.body);
    // A body that is not what the operation takes names the field where serde can tell it.
    let bad = s.request(
        "POST",
        &format!("/api/v1/cases/{case}/close"),
        Some(&token),
        Some(r#"{"rev":"2","reason":"x"}"#),
    );
    assert_eq!(bad.status, 400, "{}", bad.body);
    assert!(bad.body.contains("request body: rev: invalid type"), "{}", bad.body);
    // A date that is none is a refused value (422), as core refuses any other.
    let bad = s.request(
        "POST",
        &format!("/api/v1/cases/{case}/safety-checks"),
        Some(&token),
        Some(r#"{"at":"令和8年13月1日","method":"sighted","seen_directly":true}"#),
    );
    assert_eq!(bad.status, 422, "{}", bad.body);
    assert!(
        bad.body.contains(r#"invalid date \"令和8年13月1日\""#) && !bad.body.contains("column"),
        "{}",
        bad.body
    );
    // An empty check is refused with every missing field named (#16: nothing assumed).
    let empty = s.request(
        "POST",
        &format!("/api/v1/cases/{case}/safety-checks"),
        Some(&token),
        Some(r#"{"at":"2026-11-24T11:00","seen_directly":true}"#),
    );
    assert_eq!(empty.status, 422, "{}", empty.body);
    assert!(empty.body.contains("missing: method, child_state"), "{}", empty.body);
    let v = s.request("GET", &format!("/api/v1/cases/{case}"), Some(&token), None).json();
    assert_eq!(v["safety_checks"].as_array().unwrap().len(), 1, "nothing stored");
}

/// Percent-encodes a query value (UTF-8 bytes outside unreserved ASCII).
fn encode(q: &str) -> String {
    q.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~%".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[test]
fn errors_are_json_with_the_right_status() {
    let dir = tempfile::tempdir().unwrap();
    let s = demo_server(dir.path());
    let expect_error = |r: crate::support::Response, status: u16, code: &str| {
        assert_eq!(r.status, status, "{}", r.body);
        let j = r.json();
        assert_eq!(j["error"]["code"], code, "{}", r.body);
        assert!(j["error"]["message"].as_str().is_some_and(|m| !m.is_empty()));
    };
    expect_error(
        s.request(
            "POST",
            "/api/v1/session",
            None,
            Some(r#"{"login":"demo-cw1","password":"wrong password"}"#),
        ),
        401,
        "bad_credentials",
    );
    expect_error(
        s.request("POST", "/api/v1/session", None, Some(r#"{"login":"nobody","password":"x"}"#)),
        401,
        "bad_credentials",
    );
    expect_error(s.request("POST", "/api/v1/session", None, Some("{not json")), 400, "bad_request");
    expect_error(s.request("GET", "/api/v1/children/1", None, None), 401, "unauthenticated");
    expect_error(s.request("GET", "/api/v1/children/1", Some("forged-token"), None), 401, "unauthenticated");
    let token = s.sign_in("demo-city-cw", "mamoru-demo");
    expect_error(s.request("GET", "/api/v1/children/999999", Some(&token), None), 404, "not_found");
    expect_error(
        s.request(
            "POST",
            "/api/v1/children",
            Some(&token),
            Some(r#"{"family_name":"山田","family_name_kana":"やまだ","birth_date":"R7.2.29"}"#),
        ),
        422,
        "invalid",
    );
    expect_error(
        s.request(
            "POST",
            "/api/v1/children",
            Some(&token),
            Some(r#"{"family_name":"山田","family_name_kana":"Yamada"}"#),
        ),
        422,
        "invalid",
    );
    expect_error(s.request("GET", "/api/v1/search?q=", Some(&token), None), 422, "invalid");
    // A NUL or a bidi override in a name is refused over the API as on the pages, naming the
    // field and the character.
    for (name, shown) in [("山\\u0000田", "U+0000"), ("山\\u202e田", "U+202E")] {
        let body = format!(r#"{{"family_name":"{name}","family_name_kana":"やまだ"}}"#);
        let r = s.request("POST", "/api/v1/children", Some(&token), Some(&body));
        assert_eq!(r.status, 422, "{}", r.body);
        let message = r.json()["error"]["message"].as_str().unwrap().to_owned();
        assert!(message.contains("family") && message.contains(shown), "{message}");
    }
    expect_error(s.request("GET", "/api/v1/nowhere", Some(&token), None), 404, "not_found");
    let big = format!(r#"{{"family_name":"{}"}}"#, "あ".repeat(40_000));
    expect_error(s.request("POST", "/api/v1/children", Some(&token), Some(&big)), 413, "too_large");

    // The municipal caseworker may not read the centre's children (no policy that way).
    let centre = s.sign_in("demo-cw1", "mamoru-demo");
    let created = s.request(
        "POST",
        "/api/v1/children",
        Some(&centre),
        Some(r#"{"family_name":"守","family_name_kana":"まもり","sex":"female"}"#),
    );
    let id = created.json()["id"].as_u64().unwrap();
    expect_error(s.request("GET", &format!("/api/v1/children/{id}"), Some(&token), None), 403, "forbidden");
    // An administrator has no access to children at all.
    let admin = s.sign_in("demo-admin", "mamoru-demo");
    expect_error(s.request("GET", &format!("/api/v1/children/{id}"), Some(&admin), None), 403, "forbidden");
}

#[test]
fn the_openapi_document_covers_every_route() {
    let dir = tempfile::tempdir().unwrap();
    let s = demo_server(dir.path());
    let doc = s.request("GET", "/api/v1/openapi.json", None, None);
    assert_eq!(doc.status, 200);
    let j = doc.json();
    assert_eq!(j["openapi"], "3.0.3");
    let paths = j["paths"].as_object().unwrap();
    for (path, method) in [
        ("/healthz", "get"),
        ("/api/v1/session", "post"),
        ("/api/v1/session", "delete"),
        ("/api/v1/session", "get"),
        ("/api/v1/events", "get"),
        ("/api/v1/children", "post"),
        ("/api/v1/children/{id}", "get"),
        ("/api/v1/search", "get"),
        ("/api/v1/board", "get"),
        ("/api/v1/backups", "post"),
        ("/api/v1/maintenance", "get"),
        ("/api/v1/maintenance", "post"),
        ("/api/v1/maintenance/{id}", "put"),
        ("/api/v1/maintenance/{id}/cancel", "post"),
        ("/api/v1/reports/service", "get"),
        ("/api/v1/session/totp", "post"),
        ("/api/v1/session/totp/confirm", "post"),
        ("/api/v1/cases", "post"),
        ("/api/v1/cases/{id}", "get"),
        ("/api/v1/cases/{id}/notes", "post"),
        ("/api/v1/cases/{id}/safety-checks", "post"),
        ("/api/v1/cases/{id}/messages", "post"),
        ("/api/v1/cases/{id}/photos", "post"),
        ("/api/v1/cases/{id}/photos/{sha256}", "get"),
        ("/api/v1/cases/{id}", "put"),
        ("/api/v1/cases/{id}/close", "post"),
        ("/api/v1/cases/{id}/assignment", "put"),
        ("/api/v1/caseload", "get"),
        ("/api/v1/caseloads", "get"),
        ("/api/v1/cases/{id}/reopen", "post"),
        ("/api/v1/cases/{id}/assessments", "post"),
        ("/api/v1/cases/{id}/protections", "post"),
        ("/api/v1/cases/{id}/protections/{protection}", "put"),
        ("/api/v1/cases/{id}/protections/{protection}/steps", "post"),
        ("/api/v1/cases/{id}/supports", "post"),
        ("/api/v1/cases/{id}/supports/{support}", "put"),
        ("/api/v1/cases/{id}/meetings", "post"),
        ("/api/v1/cases/{id}/petitions", "get"),
        ("/api/v1/cases/{id}/petitions", "post"),
        ("/api/v1/cases/{id}/petitions/{petition}", "put"),
        ("/api/v1/cases/{id}/closure-request", "post"),
        ("/api/v1/cases/{id}/closure-request/approval", "post"),
        ("/api/v1/cases/{id}/assessments/{assessment}/approval", "post"),
        ("/api/v1/cases/{id}/supports/{support}/approval", "post"),
        ("/api/v1/assessment-sheets", "get"),
        ("/api/v1/devices", "post"),
        ("/api/v1/devices", "get"),
        ("/api/v1/devices/{id}", "delete"),
        ("/api/v1/forms/templates", "get"),
        ("/api/v1/forms/templates", "post"),
        ("/api/v1/openapi.json", "get"),
    ] {
        assert!(paths.get(path).and_then(|p| p.get(method)).is_some(), "{method} {path} missing");
    }
    // And nothing is documented that the server does not answer.
    for path in paths.keys() {
        let probe = path
            .replace("{id}", "1")
            .replace("{protection}", "1")
            .replace("{support}", "1")
            .replace("{petition}", "1")
            .replace("{assessment}", "1");
        let r = s.request("GET", &probe, None, None);
        assert_ne!(r.json()["error"]["code"], "not_found", "{path} documented but not served");
        // Every method the document names is taken; any other is 405 naming those it does
        // (`Allow`), so a client learns the API from its answers as from the document.
        let named: Vec<String> = ["GET", "POST", "PUT", "DELETE", "PATCH"]
            .into_iter()
            .filter(|m| paths[path].get(m.to_ascii_lowercase()).is_some())
            .map(String::from)
            .collect();
        for method in ["GET", "POST", "PUT", "DELETE", "PATCH"] {
            let r = s.request(method, &probe, None, None);
            if named.iter().any(|m| m == method) {
                assert_ne!(r.status, 405, "{method} {path} documented but refused: {}", r.body);
            } else {
                assert_eq!(r.status, 405, "{method} {path} answered though not documented: {}", r.body);
                assert_eq!(r.header("allow"), Some(named.join(", ").as_str()), "{method} {path}");
            }
        }
    }
    // The document is as strict as the handlers: an integer is unsigned 64-bit wherever it is,
    // and an operation that reads input says it may answer 400.
    let text = doc.body.clone();
    assert!(!text.contains(r#""type":["integer","null"]"#), "OpenAPI 3.0 has no type arrays");
    let board = &paths["/api/v1/board"]["get"];
    assert_eq!(board["parameters"][1]["schema"]["minimum"], 0);
    assert_eq!(board["parameters"][1]["schema"]["maximum"], u64::MAX);
    assert!(board["responses"]["400"].is_object() && board["responses"]["401"].is_object());
    assert!(paths["/healthz"]["get"]["responses"].get("401").is_none(), "open to all: no 401");
    let r = s.request("GET", "/api/v1/board?worker=-1", Some(&s.sign_in("demo-cw1", "mamoru-demo")), None);
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body.contains("query string"), "{}", r.body);
}

#[test]
fn serve_speaks_https_with_the_certificate_init_made() {
    let dir = tempfile::tempdir().unwrap();
    let data = init(dir.path());
    let cert = std::fs::read(data.join("tls/cert.pem")).unwrap();
    let s = crate::support::Server::start_https(
        &["serve", "--data", data.to_str().unwrap(), "--listen", "127.0.0.1:0"],
        crate::support::trusting(&cert),
    );
    let r = s.request("GET", "/healthz", None, None);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.header("strict-transport-security"), Some("max-age=31536000"));
    let token = s.sign_in("admin", crate::support::PASSWORD);
    assert!(!token.is_empty());
    // A scraper reads the metrics with the token the first start made (private); loopback
    // alone is no pass.
    assert_eq!(s.request("GET", "/metrics", None, None).status, 401);
    let scraper = data.join("metrics.token");
    let mode = std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&scraper).unwrap().permissions());
    assert_eq!(mode & 0o777, 0o600);
    let scraper = std::fs::read_to_string(scraper).unwrap();
    let m = s.request("GET", "/metrics", Some(scraper.trim()), None);
    assert_eq!(m.status, 200, "{}", m.body);
    assert!(m.body.contains("mamoru_archive_failing 0"), "{}", m.body);
    // OpenMetrics: per page since the start — requests, server errors, a histogram of times
    // with 3 s as a bound —, the gauges read now, the version.
    assert_eq!(m.header("content-type"), Some("application/openmetrics-text; version=1.0.0; charset=utf-8"));
    for expected in [
        "mamoru_http_requests_total{page=\"/healthz\"} ",
        "mamoru_http_requests_total{page=\"/api/v1/session\"} 1\n",
        "mamoru_http_request_duration_seconds_count{page=\"/api/v1/session\"} 1\n",
        "le=\"3.0\"",
        "mamoru_devices_active 0\n",
        "mamoru_sessions 1\n",
        "mamoru_store_writable 1\n",
        &format!("mamoru_build_info{{version=\"{}\"}} 1\n", env!("CARGO_PKG_VERSION")),
    ] {
        assert!(m.body.contains(expected), "{expected} missing: {}", m.body);
    }
    assert!(m.body.ends_with("# EOF\n"), "{}", m.body);
    assert!(m.body.contains("mamoru_http_server_errors_total{page=\"/healthz\"} 0\n"), "{}", m.body);

    // Plain HTTP to the HTTPS port gets no answer a browser would take.
    let mut tcp = std::net::TcpStream::connect(&s.addr).unwrap();
    std::io::Write::write_all(&mut tcp, b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut raw = Vec::new();
    let _ = std::io::Read::read_to_end(&mut tcp, &mut raw);
    assert!(!String::from_utf8_lossy(&raw).contains("\"status\""), "served clear text on the TLS port");

    // A client that does not trust the certificate is refused.
    let other = tempfile::tempdir().unwrap();
    let stranger = init(other.path());
    let untrusted = crate::support::trusting(&std::fs::read(stranger.join("tls/cert.pem")).unwrap());
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    let conn = rustls::ClientConnection::new(untrusted, name).unwrap();
    let mut stream = rustls::StreamOwned::new(conn, std::net::TcpStream::connect(&s.addr).unwrap());
    assert!(
        std::io::Write::write_all(&mut stream, b"GET / HTTP/1.1\r\n\r\n")
            .and_then(|()| std::io::Write::flush(&mut stream))
            .is_err()
    );

    // The audit log records where each request came from, through the TLS accept loop.
    assert_eq!(s.stop(), 0);
    let store = mamoru_core::store::Store::open(&data).unwrap();
    let entries = store.read().unwrap().audit_entries(1, 10_000).unwrap();
    let sign_in = entries
        .iter()
        .map(|(_, b)| mamoru_core::audit::AuditEntry::decode(b).unwrap())
        .find(|e| e.action == "sign_in" && e.result == "ok")
        .unwrap();
    assert_eq!(sign_in.address.as_deref(), Some("127.0.0.1"));
}

/// 300 slow clients from one address (a TLS handshake, then half a request, then nothing): the
/// server holds at most `max_connections_per_address` of them, closes the rest at once and the
/// held ones when their headers are late, and answers another address all along.
#[test]
fn slow_connections_from_one_address_do_not_take_the_web_down() {
    use std::io::{Read, Write};
    let dir = tempfile::tempdir().unwrap();
    let data = init(dir.path());
    let cfg = data.join("mamoru.toml");
    let text = std::fs::read_to_string(&cfg)
        .unwrap()
        .replace("# header_timeout_seconds = 20", "header_timeout_seconds = 6")
        .replace("# max_connections_per_address = 256", "max_connections_per_address = 100");
    std::fs::write(&cfg, text).unwrap();
    let tls = crate::support::trusting(&std::fs::read(data.join("tls/cert.pem")).unwrap());
    let s = crate::support::Server::start_https(
        &["serve", "--data", data.to_str().unwrap(), "--listen", "127.0.0.1:0"],
        tls.clone(),
    );
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    let open = |tcp: std::net::TcpStream| {
        tcp.set_read_timeout(Some(std::time::Duration::from_secs(20))).unwrap();
        let conn = rustls::ClientConnection::new(tls.clone(), name.clone()).unwrap();
        rustls::StreamOwned::new(conn, tcp)
    };
    let mut slow = Vec::new();
    let mut refused = 0;
    for _ in 0..300 {
        let mut stream = open(std::net::TcpStream::connect(&s.addr).unwrap());
        let half =
            stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n").and_then(|()| stream.flush());
        match half {
            Ok(()) => slow.push(stream),
            Err(_) => refused += 1,
        }
    }
    assert!(slow.len() <= 100, "{} slow connections held", slow.len());
    assert!(refused >= 200, "only {refused} refused");
    // Another address on the same network is served while they hang.
    let other = {
        let rt = tokio::runtime::Builder::new_current_thread().enable_io().build().unwrap();
        let addr: std::net::SocketAddr = s.addr.parse().unwrap();
        let tcp = rt
            .block_on(async {
                let socket = tokio::net::TcpSocket::new_v4()?;
                socket.bind("127.0.0.2:0".parse().unwrap())?;
                socket.connect(addr).await
            })
            .unwrap()
            .into_std()
            .unwrap();
        tcp.set_nonblocking(false).unwrap();
        tcp
    };
    let mut stream = open(other);
    stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").unwrap();
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    // The held ones are closed once their headers are late.
    for mut stream in slow {
        let mut buf = [0u8; 512];
        match stream.read(&mut buf) {
            Ok(n) => {
                let text = String::from_utf8_lossy(&buf[..n]);
                assert!(n == 0 || text.starts_with("HTTP/1.1 408"), "a slow request was answered: {text}");
            }
            Err(e) => assert!(
                !matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut),
                "a slow connection was still open after 20 s"
            ),
        }
    }
    // And the address is served again.
    assert_eq!(s.request("GET", "/healthz", None, None).status, 200);
}

#[test]
fn a_missing_certificate_is_one_clear_line() {
    let dir = tempfile::tempdir().unwrap();
    let data = init(dir.path());
    std::fs::remove_file(data.join("tls/key.pem")).unwrap();
    let r = crate::support::run(&["serve", "--data", data.to_str().unwrap(), "--listen", "127.0.0.1:0"]);
    crate::support::assert_one_line_failure(&r, "cannot read the TLS key");
}

#[test]
fn a_revoked_tablet_is_signed_out_on_its_next_request() {
    let dir = tempfile::tempdir().unwrap();
    let s = demo_server(dir.path());
    let admin = s.sign_in("demo-admin", "mamoru-demo");
    let reg = s.request("POST", "/api/v1/devices", Some(&admin), Some(r#"{"name":"iPad 12 (児相 1係)"}"#));
    assert_eq!(reg.status, 201, "{}", reg.body);
    let id = reg.json()["id"].as_u64().unwrap();
    let secret = reg.json()["secret"].as_str().unwrap().to_owned();
    // Only administrators register tablets.
    let cw_plain = s.sign_in("demo-cw1", "mamoru-demo");
    assert_eq!(s.request("POST", "/api/v1/devices", Some(&cw_plain), Some(r#"{"name":"x"}"#)).status, 403);

    // The caseworker signs in on the tablet (its secret in the device cookie).
    let cookie = format!("{}={secret}", mamoru_web::DEVICE_COOKIE);
    let signed = s.request_with_cookie(
        "POST",
        "/api/v1/session",
        &cookie,
        Some(r#"{"login":"demo-cw1","password":"mamoru-demo"}"#),
    );
    assert_eq!(signed.status, 200, "{}", signed.body);
    let token = signed.json()["token"].as_str().unwrap().to_owned();
    assert_eq!(s.request("GET", "/api/v1/board", Some(&token), None).status, 200);

    // "My tablet was stolen": the administrator revokes it.
    assert_eq!(s.request("DELETE", &format!("/api/v1/devices/{id}"), Some(&admin), None).status, 204);
    assert_eq!(
        s.request("GET", "/api/v1/board", Some(&token), None).status,
        401,
        "the stolen tablet's session ended"
    );
    let again = s.request_with_cookie(
        "POST",
        "/api/v1/session",
        &cookie,
        Some(r#"{"login":"demo-cw1","password":"mamoru-demo"}"#),
    );
    assert_eq!(again.status, 401, "and it cannot sign in again");
    // Its sign-in page tells the browser to wipe what it kept (drafts typed on it), and says so;
    // any other tablet's sign-in page keeps them (an ended session is not a revocation).
    let login = s.request_with_cookie("GET", "/login?expired=1", &cookie, None);
    assert_eq!(login.header("clear-site-data"), Some("\"storage\""));
    assert!(
        login.body.contains("data-wipe") && login.body.contains("登録は取り消されました"),
        "{}",
        login.body
    );
    let other = s.request("GET", "/login?expired=1", None, None);
    assert_eq!(other.header("clear-site-data"), None);
    assert!(
        !other.body.contains("data-wipe") && other.body.contains("セッションが終了しました"),
        "{}",
        other.body
    );
    // Other sessions of the same person go on.
    assert_eq!(s.request("GET", "/api/v1/board", Some(&cw_plain), None).status, 200);
    let list = s.request("GET", "/api/v1/devices", Some(&admin), None).json();
    assert_eq!(list["devices"][0]["active"], false);
}

#[test]
fn the_casework_of_a_case_over_the_api_merges_edits_and_refuses_what_the_pages_refuse() {
    let dir = tempfile::tempdir().unwrap();
    let s = demo_server(dir.path());
    let cw = s.sign_in("demo-cw1", "mamoru-demo");
    let sv = s.sign_in("demo-sv", "mamoru-demo");
    let intake = r#"{"new_child":{"family_name":"架空","given_name":"三郎","family_name_kana":"かくう","given_name_kana":"さぶろう","birth_date":"2016-04-02"},"kind":"abuse_report","received_at":"2026-11-24T09:00","route":"14","consultation_type":"11","abuse":{"types":["1"]},"idempotency_key":"cw-k1"}"#;
    let r = s.request("POST", "/api/v1/cases", Some(&cw), Some(intake));
    assert_eq!(r.status, 201, "{}", r.body);
    let case = r.json()["id"].as_u64().unwrap();
    let path = format!("/api/v1/cases/{case}");
    let view = s.request("GET", &path, Some(&cw), None).json();
    let (rev, body) = (view["case"]["rev"].as_u64().unwrap(), view["case"]["body"].clone());

    // Two edits from the same revision, of different fields: both kept.
    let edit = |field: &str, text: &str| {
        let mut b = body.clone();
        b[field] = text.into();
        serde_json::json!({ "rev": rev, "body": b }).to_string()
    };
    let first = s.request("PUT", &path, Some(&cw), Some(&edit("worker_opinion", "見守りを継続")));
    assert_eq!(first.status, 200, "{}", first.body);
    assert_eq!(first.json()["merged"], false);
    let second = s.request("PUT", &path, Some(&sv), Some(&edit("judgement", "在宅指導")));
    assert_eq!(second.status, 200, "{}", second.body);
    assert_eq!(second.json()["merged"], true);
    let now = s.request("GET", &path, Some(&cw), None).json()["case"].clone();
    assert_eq!(
        (now["body"]["worker_opinion"].as_str(), now["body"]["judgement"].as_str()),
        (Some("見守りを継続"), Some("在宅指導"))
    );
    // The same field, differently: 409 naming it, with the merge to start again from.
    let clash = s.request("PUT", &path, Some(&sv), Some(&edit("worker_opinion", "一時保護を検討")));
    assert_eq!(clash.status, 409, "{}", clash.body);
    let c = clash.json();
    assert_eq!(c["error"]["code"], "conflict");
    assert_eq!(c["clashes"], serde_json::json!(["worker_opinion"]));
    assert_eq!(c["merged"]["judgement"], "在宅指導");
    assert_eq!(c["current"]["rev"], now["rev"]);
    assert_eq!(s.request("GET", &path, Some(&cw), None).json()["case"]["rev"], now["rev"], "nothing written");

    // An assessment: the result computed; a missing answer refused.
    let sheets = s.request("GET", "/api/v1/assessment-sheets", Some(&cw), None);
    assert_eq!(sheets.status, 200, "{}", sheets.body);
    assert!(sheets.body.contains("protection_decision"), "{}", sheets.body);
    let answers = (1..=7).map(|i| format!(r#""q{i}":{}"#, i == 1)).collect::<Vec<_>>().join(",");
    let a = s.request(
        "POST",
        &format!("{path}/assessments"),
        Some(&cw),
        Some(&format!(r#"{{"sheet":"protection_decision","answers":{{{answers}}},"idempotency_key":"a1"}}"#)),
    );
    assert_eq!(a.status, 201, "{}", a.body);
    assert_eq!(a.json()["result"], "emergency", "{}", a.body);
    let short = s.request(
        "POST",
        &format!("{path}/assessments"),
        Some(&cw),
        Some(r#"{"sheet":"protection_decision","answers":{"q1":true}}"#),
    );
    assert_eq!(short.status, 422, "{}", short.body);

    // 一時保護 without the guardian's consent: the place, the reason and the hearing (here: to
    // follow, for urgency) are required.
    let bare = r#"{"started_at":"2026-11-24T12:00","place_kind":"shelter","guardian_consent":false}"#;
    let refused = s.request("POST", &format!("{path}/protections"), Some(&cw), Some(bare));
    assert_eq!(refused.status, 422, "{}", refused.body);
    assert!(refused.body.contains("missing: place, reason, hearing"), "{}", refused.body);
    let start = r#"{"started_at":"2026-11-24T12:00","place_kind":"shelter","place":"架空市一時保護所","reason":"顔にあざ","guardian_consent":false,"hearing_after_urgency":true,"idempotency_key":"p1"}"#;
    let p = s.request("POST", &format!("{path}/protections"), Some(&cw), Some(start));
    assert_eq!(p.status, 201, "{}", p.body);
    let pid = p.json()["id"].as_u64().unwrap();
    let again = s.request("POST", &format!("{path}/protections"), Some(&cw), Some(start));
    assert_eq!(again.json()["id"].as_u64(), Some(pid), "the same key: the same protection");
    let view = s.request("GET", &path, Some(&cw), None).json();
    let stored = view["protections"][0].clone();
    assert_eq!(stored["body"]["started_at"].as_i64(), Some(1_795_489_200), "text read as Japan time");
    let open = &view["open_steps"][pid.to_string()];
    assert!(open.as_array().unwrap().contains(&"warrant_request".into()), "{open}");
    // The warrant request sent whole, as a new revision: core turns it into its step.
    let mut step = stored["body"].clone();
    step["warrant"] = serde_json::json!({ "requested_at": "2026-11-25T10:00" });
    let put =
        |rev: u64, body: &serde_json::Value| serde_json::json!({ "rev": rev, "body": body }).to_string();
    let w = s.request("PUT", &format!("{path}/protections/{pid}"), Some(&cw), Some(&put(1, &step)));
    assert_eq!(w.status, 200, "{}", w.body);
    assert_eq!(w.json()["rev"], 2);
    // Sent again (the answer was lost): already recorded. Something else from revision 1: stale.
    let again = s.request("PUT", &format!("{path}/protections/{pid}"), Some(&cw), Some(&put(1, &step)));
    assert_eq!((again.status, again.json()["rev"].as_u64()), (200, Some(2)), "{}", again.body);
    let mut other = step.clone();
    other["place"] = "架空市児童相談所一時保護所".into();
    let stale = s.request("PUT", &format!("{path}/protections/{pid}"), Some(&cw), Some(&put(1, &other)));
    assert_eq!(stale.status, 409, "{}", stale.body);
    // At the current revision, the start is still fixed.
    let moved = s.request("PUT", &format!("{path}/protections/{pid}"), Some(&cw), Some(&put(2, &other)));
    assert_eq!(moved.status, 422, "{}", moved.body);
    // Named through another case: not found.
    let elsewhere =
        s.request("PUT", &format!("/api/v1/cases/1/protections/{pid}"), Some(&cw), Some(&put(2, &step)));
    assert_eq!(elsewhere.status, 404, "{}", elsewhere.body);
    // One step a POST: the child's hearing, recorded once however often sent.
    let steps = format!("{path}/protections/{pid}/steps");
    let hearing = r#"{"rev":2,"step":"hearing","at":"2026-11-24T15:00","method":"面接","views":"おうちに帰りたくない"}"#;
    let h = s.request("POST", &steps, Some(&cw), Some(hearing));
    assert_eq!((h.status, h.json()["rev"].as_u64()), (200, Some(3)), "{}", h.body);
    let h = s.request("POST", &steps, Some(&cw), Some(hearing));
    assert_eq!((h.status, h.json()["rev"].as_u64()), (200, Some(3)), "{}", h.body);
    // A step that is not open (no refusal to challenge) is refused.
    let challenge =
        s.request("POST", &steps, Some(&cw), Some(r#"{"rev":3,"step":"challenge","at":"2026-11-25T12:00"}"#));
    assert_eq!(challenge.status, 422, "{}", challenge.body);

    // A placement decision and a meeting, each once per key.
    let support = r#"{"kind":"32","decided_on":"2026-11-24","facility":"架空学園","idempotency_key":"s1"}"#;
    let s1 = s.request("POST", &format!("{path}/supports"), Some(&cw), Some(support));
    assert_eq!(s1.status, 201, "{}", s1.body);
    let s2 = s.request("POST", &format!("{path}/supports"), Some(&cw), Some(support));
    assert_eq!(s1.json()["id"], s2.json()["id"]);
    let meeting = r#"{"kind":"4","at":"2026-11-24T13:00","outside_attendees":["架空市子ども家庭課"],"decisions":"一時保護を継続","idempotency_key":"m1"}"#;
    let m = s.request("POST", &format!("{path}/meetings"), Some(&cw), Some(meeting));
    assert_eq!(m.status, 201, "{}", m.body);
    let v = s.request("GET", &path, Some(&cw), None).json();
    assert_eq!(v["supports"].as_array().unwrap().len(), 1);
    assert_eq!(v["meetings"].as_array().unwrap().len(), 1);
    // The support sent back whole with a change: checked as every decision is; without its kind
    // it is refused with the field named.
    let sid = s1.json()["id"].as_u64().unwrap();
    let mut whole = v["supports"][0]["body"].clone();
    whole["review_on"] = serde_json::json!("2027-05-24");
    let revised = s.request("PUT", &format!("{path}/supports/{sid}"), Some(&cw), Some(&put(1, &whole)));
    assert_eq!((revised.status, revised.json()["rev"].as_u64()), (200, Some(2)), "{}", revised.body);
    whole.as_object_mut().unwrap().remove("kind");
    let no_kind = s.request("PUT", &format!("{path}/supports/{sid}"), Some(&cw), Some(&put(2, &whole)));
    assert_eq!(no_kind.status, 422, "{}", no_kind.body);
    assert!(no_kind.body.contains("missing: kind"), "{}", no_kind.body);
    let v = s.request("GET", &path, Some(&cw), None).json();

    // Closing: not by a caseworker, not while the child is in protection; then closed and reopened.
    let rev = v["case"]["rev"].as_u64().unwrap();
    let close = format!(r#"{{"rev":{rev},"reason":"施設入所"}}"#);
    assert_eq!(s.request("POST", &format!("{path}/close"), Some(&cw), Some(&close)).status, 403);
    let busy = s.request("POST", &format!("{path}/close"), Some(&sv), Some(&close));
    assert_eq!(busy.status, 422, "{}", busy.body);
    assert!(busy.body.contains("protection"), "{}", busy.body);
    // #16: over the API a protection could be ended with an empty reason; whether sent whole
    // or as a step, it is refused now and nothing changes.
    let mut end = s.request("GET", &path, Some(&cw), None).json()["protections"][0]["body"].clone();
    end["ended"] = serde_json::json!({ "at": "2026-11-26T09:00", "reason": "" });
    let no_reason = s.request("PUT", &format!("{path}/protections/{pid}"), Some(&cw), Some(&put(3, &end)));
    assert_eq!(no_reason.status, 422, "{}", no_reason.body);
    assert!(no_reason.body.contains("missing: reason"), "{}", no_reason.body);
    let no_reason =
        s.request("POST", &steps, Some(&cw), Some(r#"{"rev":3,"step":"end","at":"2026-11-26T09:00"}"#));
    assert_eq!(no_reason.status, 422, "{}", no_reason.body);
    let ended = s.request(
        "POST",
        &steps,
        Some(&cw),
        Some(r#"{"rev":3,"step":"end","at":"2026-11-26T09:00","reason":"施設入所"}"#),
    );
    assert_eq!(ended.status, 200, "{}", ended.body);
    assert_eq!(ended.json()["protection"]["ended"]["reason"], "施設入所");
    let closed = s.request("POST", &format!("{path}/close"), Some(&sv), Some(&close));
    assert_eq!(closed.status, 200, "{}", closed.body);
    assert_eq!(closed.json()["status"], "closed");
    let again = closed.json()["rev"].as_u64().unwrap();
    let reopened =
        s.request("POST", &format!("{path}/reopen"), Some(&sv), Some(&format!(r#"{{"rev":{again}}}"#)));
    assert_eq!(reopened.json()["status"], "open", "{}", reopened.body);
}

#[test]
fn an_open_event_stream_outlives_the_idle_timeout_and_a_silent_connection_does_not() {
    use std::io::{Read, Write};
    use std::time::{Duration, Instant};
    let dir = tempfile::tempdir().unwrap();
    let data = init(dir.path());
    let cfg = data.join("mamoru.toml");
    let text = std::fs::read_to_string(&cfg)
        .unwrap()
        .replace("# header_timeout_seconds = 20", "header_timeout_seconds = 5")
        .replace("# idle_timeout_seconds = 120", "idle_timeout_seconds = 30");
    std::fs::write(&cfg, text).unwrap();
    let pw = crate::support::password_file(dir.path(), crate::support::PASSWORD);
    let add = ["user", "add", "cw", "--role", "caseworker", "--unit", "1", "--name", "福祉 司"];
    let r = crate::support::run(
        &[&add[..], &["--password-file", pw.to_str().unwrap(), "--data", data.to_str().unwrap()]].concat(),
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let tls = crate::support::trusting(&std::fs::read(data.join("tls/ca.pem")).unwrap());
    let s = crate::support::Server::start_https(
        &["serve", "--data", data.to_str().unwrap(), "--listen", "127.0.0.1:0"],
        tls.clone(),
    );
    let token = s.sign_in("cw", crate::support::PASSWORD);
    let open = || {
        let tcp = std::net::TcpStream::connect(&s.addr).unwrap();
        tcp.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
        rustls::StreamOwned::new(rustls::ClientConnection::new(tls.clone(), name).unwrap(), tcp)
    };
    // A page's event stream: it says something every 15 s, so it outlives the 30 s idle limit.
    let mut events = open();
    write!(events, "GET /api/v1/events HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {token}\r\n\r\n")
        .unwrap();
    // A kept-alive connection that asks nothing more is closed once its next request is late.
    let mut silent = open();
    silent.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n").unwrap();
    let started = Instant::now();
    let mut heard = String::new();
    let mut buf = [0u8; 4096];
    while started.elapsed() < Duration::from_secs(40) {
        match events.read(&mut buf) {
            Ok(0) => panic!("the event stream was closed after {:?}:\n{heard}", started.elapsed()),
            Ok(n) => heard.push_str(&String::from_utf8_lossy(&buf[..n])),
            Err(e) => panic!("the event stream went silent after {:?} ({e}):\n{heard}", started.elapsed()),
        }
    }
    assert!(heard.starts_with("HTTP/1.1 200"), "{heard}");
    assert!(heard.matches("\n:").count() >= 2, "a comment every 15 s:\n{heard}");
    let mut answer = Vec::new();
    let closed = silent.read_to_end(&mut answer);
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    // Closed (cleanly or not), not still open when the read timed out.
    assert!(
        closed
            .as_ref()
            .map_err(std::io::Error::kind)
            .err()
            .is_none_or(|k| k == std::io::ErrorKind::UnexpectedEof),
        "the silent connection was still open: {closed:?}"
    );
}
