//! The HTTP contract against a real server process: health, sessions, children, search, board,
//! JSON errors with the right statuses, the OpenAPI document.

use crate::support::{Server, init};

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
    let check = r#"{"at":"2026-11-24T11:00","method":"sighted","seen_directly":true,"place":"自宅","child_state":"落ち着いている","injuries":[{"side":"front","x":0.4,"y":0.3,"size_cm":2,"description":"あざ"}]}"#;
    let c = s.request("POST", &format!("/api/v1/cases/{case}/safety-checks"), Some(&token), Some(check));
    assert_eq!(c.status, 201, "{}", c.body);
    let v = s.request("GET", &format!("/api/v1/cases/{case}"), Some(&token), None).json();
    assert_eq!(v["safety_checks"].as_array().unwrap().len(), 1);
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
        ("/api/v1/session/totp", "post"),
        ("/api/v1/session/totp/confirm", "post"),
        ("/api/v1/cases", "post"),
        ("/api/v1/cases/{id}", "get"),
        ("/api/v1/cases/{id}/notes", "post"),
        ("/api/v1/cases/{id}/safety-checks", "post"),
        ("/api/v1/cases/{id}/messages", "post"),
        ("/api/v1/cases/{id}/photos", "post"),
        ("/api/v1/cases/{id}/photos/{sha256}", "get"),
        ("/api/v1/devices", "post"),
        ("/api/v1/devices", "get"),
        ("/api/v1/devices/{id}", "delete"),
        ("/api/v1/openapi.json", "get"),
    ] {
        assert!(paths.get(path).and_then(|p| p.get(method)).is_some(), "{method} {path} missing");
    }
    // And nothing is documented that the server does not answer.
    for path in paths.keys() {
        let probe = path.replace("{id}", "1");
        let r = s.request("GET", &probe, None, None);
        assert_ne!(r.json()["error"]["code"], "not_found", "{path} documented but not served");
    }
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
    // The accept loop passes the peer on: loopback reads the metrics without signing in.
    let m = s.request("GET", "/metrics", None, None);
    assert_eq!(m.status, 200, "{}", m.body);
    assert!(m.body.contains("mamoru_archive_failing 0"), "{}", m.body);

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
    // Other sessions of the same person go on.
    assert_eq!(s.request("GET", "/api/v1/board", Some(&cw_plain), None).status, 200);
    let list = s.request("GET", "/api/v1/devices", Some(&admin), None).json();
    assert_eq!(list["devices"][0]["active"], false);
}
