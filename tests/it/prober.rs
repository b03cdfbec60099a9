//! The server's watch on itself: it fetches its own `/healthz` through the real HTTP(S) stack
//! every interval and keeps each probe in the uptime ledger; the metrics show the last one.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::support::{PASSWORD, Server, assert_one_line_failure, init, run, trusting};

/// Probes every second instead of every 180.
pub fn probe_every_second(data: &Path) {
    let config = data.join("mamoru.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    assert!(text.contains("# probe_every_seconds = 180"), "the config template changed: {text}");
    std::fs::write(&config, text.replace("# probe_every_seconds = 180", "probe_every_seconds = 1")).unwrap();
}

/// Waits for the metrics to show a probe that reached the web and found the service provided.
fn a_good_probe_is_kept(s: Server, data: &Path) {
    let token = std::fs::read_to_string(data.join("metrics.token")).unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let m = s.request("GET", "/metrics", Some(token.trim()), None);
        assert_eq!(m.status, 200, "{}", m.body);
        if m.body.contains("mamoru_probe_web 1") && m.body.contains("mamoru_probe_serving 1") {
            assert!(m.body.contains("mamoru_probe_age_seconds"), "{}", m.body);
            break;
        }
        assert!(Instant::now() < deadline, "no good probe within 30 s: {}", m.body);
        std::thread::park_timeout(Duration::from_millis(200));
    }
    assert_eq!(s.stop(), 0);
    let c = run(&["check", "--data", data.to_str().unwrap()]);
    assert_eq!(c.code, 0, "{}", c.stderr);
    let probes: u64 =
        c.stdout.lines().find_map(|l| l.strip_prefix("uptime_probe ")).unwrap().trim().parse().unwrap();
    assert!(probes >= 1, "kept in the ledger: {}", c.stdout);
}

#[test]
fn the_server_probes_itself_over_https_and_keeps_the_ledger() {
    let dir = tempfile::tempdir().unwrap();
    let data = init(dir.path());
    probe_every_second(&data);
    let cert = std::fs::read(data.join("tls/cert.pem")).unwrap();
    let s = Server::start_https(
        &["serve", "--data", data.to_str().unwrap(), "--listen", "127.0.0.1:0"],
        trusting(&cert),
    );
    a_good_probe_is_kept(s, &data);
}

#[test]
fn the_server_probes_itself_over_plain_http() {
    let dir = tempfile::tempdir().unwrap();
    let data = init(dir.path());
    probe_every_second(&data);
    a_good_probe_is_kept(Server::serve_plain(&data), &data);
}

#[test]
fn systemd_hears_ready_then_the_watchdog_after_each_good_probe_then_stopping() {
    let dir = tempfile::tempdir().unwrap();
    let data = init(dir.path());
    probe_every_second(&data);
    let socket = dir.path().join("notify.sock");
    let systemd = std::os::unix::net::UnixDatagram::bind(&socket).unwrap();
    systemd.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let s = Server::serve_plain_with(
        &data,
        &[("NOTIFY_SOCKET", socket.to_str().unwrap()), ("WATCHDOG_USEC", "30000000")],
    );
    let mut heard = Vec::new();
    let mut next = || {
        let mut buf = [0u8; 256];
        let n = systemd.recv(&mut buf).expect("a notification within 30 s");
        let text = String::from_utf8_lossy(&buf[..n]).trim().to_owned();
        heard.push(text.clone());
        text
    };
    assert_eq!(next(), "READY=1");
    // Two pets: one probe after another found the web and the store answering.
    assert_eq!(next(), "WATCHDOG=1");
    assert_eq!(next(), "WATCHDOG=1");
    assert_eq!(s.stop(), 0);
    while next() != "STOPPING=1" {}
}

#[test]
fn a_planned_stop_is_announced_by_an_administrator_and_shown_on_every_page() {
    let dir = tempfile::tempdir().unwrap();
    let s = crate::support::Server::demo(dir.path(), 3);
    let admin = s.sign_in("demo-admin", "mamoru-demo");
    let cw = s.sign_in("demo-cw1", "mamoru-demo");
    let now = crate::support::now().0;
    let (from, to) = (now + 86_400, now + 86_400 + 3 * 3600);
    let body = format!(r#"{{"from":{from},"to":{to},"reason":"サーバーOSの更新"}}"#);
    assert_eq!(s.request("POST", "/api/v1/maintenance", Some(&cw), Some(&body)).status, 403);
    let past = format!(r#"{{"from":{},"to":{to},"reason":"更新"}}"#, now - 60);
    let refused = s.request("POST", "/api/v1/maintenance", Some(&admin), Some(&past));
    assert_eq!(refused.status, 422, "{}", refused.body);
    assert!(refused.body.contains("from"), "{}", refused.body);
    let made = s.request("POST", "/api/v1/maintenance", Some(&admin), Some(&body));
    assert_eq!(made.status, 201, "{}", made.body);
    let list = s.request("GET", "/api/v1/maintenance", Some(&admin), None).json();
    assert_eq!(list["maintenance"].as_array().unwrap().len(), 1, "{list}");
    assert_eq!(list["maintenance"][0]["body"]["reason"], "サーバーOSの更新");

    // Every tablet page tells of it, with its times in Japanese.
    let home = s.request_with_cookie("GET", "/home", &format!("__Host-mamoru_session={cw}"), None);
    assert_eq!(home.status, 200);
    assert!(
        home.body.contains("計画停止のお知らせ") && home.body.contains("サーバーOSの更新"),
        "{}",
        home.body
    );

    // Changed from the revision read (a stale one is 409), then called off: the notice goes.
    let id = made.json()["id"].as_u64().unwrap();
    let path = format!("/api/v1/maintenance/{id}");
    let moved =
        format!(r#"{{"rev":1,"from":{},"to":{},"reason":"サーバーOSとDBの更新"}}"#, from + 3600, to + 3600);
    let changed = s.request("PUT", &path, Some(&admin), Some(&moved));
    assert_eq!(changed.status, 200, "{}", changed.body);
    assert_eq!(changed.json()["body"]["window"]["from"], from + 3600);
    assert_eq!(s.request("PUT", &path, Some(&admin), Some(&moved)).status, 409);
    assert_eq!(
        s.request("PUT", &path, Some(&cw), Some(&moved.replace("\"rev\":1", "\"rev\":2"))).status,
        403
    );
    let home = s.request_with_cookie("GET", "/home", &format!("__Host-mamoru_session={cw}"), None);
    assert!(home.body.contains("サーバーOSとDBの更新"), "{}", home.body);
    let cancelled = s.request("POST", &format!("{path}/cancel"), Some(&admin), Some(r#"{"rev":2}"#));
    assert_eq!(cancelled.status, 200, "{}", cancelled.body);
    assert!(cancelled.json()["body"]["cancelled"]["at"].is_i64(), "{}", cancelled.body);
    let again = s.request("POST", &format!("{path}/cancel"), Some(&admin), Some(r#"{"rev":3}"#));
    assert_eq!(again.status, 422, "{}", again.body);
    assert!(again.body.contains("maintenance"), "{}", again.body);
    let home = s.request_with_cookie("GET", "/home", &format!("__Host-mamoru_session={cw}"), None);
    assert!(!home.body.contains("計画停止のお知らせ"), "{}", home.body);
}

#[test]
fn the_monthly_report_comes_from_what_the_server_measured() {
    let dir = tempfile::tempdir().unwrap();
    let data = init(dir.path());
    probe_every_second(&data);
    let d = data.to_str().unwrap();
    let month = {
        let day = crate::support::now().jst_date();
        format!("{:04}-{:02}", day.year(), day.month())
    };
    let s = Server::serve_plain(&data);
    let admin = s.sign_in("admin", PASSWORD);
    for _ in 0..5 {
        assert_eq!(s.request("GET", "/api/v1/devices", Some(&admin), None).status, 200);
    }
    // While serving: over the API (administrators), and the CLI says where to go instead.
    let path = format!("/api/v1/reports/service?month={month}");
    let pdf = s.request("GET", &path, Some(&admin), None);
    assert_eq!(pdf.status, 200, "{}", pdf.body);
    assert!(pdf.body.starts_with("%PDF-"));
    assert!(
        pdf.headers.iter().any(|(k, v)| k.eq_ignore_ascii_case("content-type") && v == "application/pdf")
    );
    let xlsx = s.request("GET", &format!("{path}&format=xlsx"), Some(&admin), None);
    assert_eq!(xlsx.status, 200);
    assert!(xlsx.body.starts_with("PK"));
    let bad = s.request("GET", &format!("{path}&format=doc"), Some(&admin), None);
    assert_eq!(bad.status, 422, "{}", bad.body);
    assert!(bad.body.contains("format"), "{}", bad.body);
    let out = dir.path().join("report");
    let o = out.to_str().unwrap();
    assert_one_line_failure(
        &run(&["report", "service", "--data", d, "--month", &month, "--out", o]),
        "the console (月次報告)",
    );
    a_good_probe_is_kept(s, &data);

    // Stopped: the CLI writes both files from the ledger and the request times kept at the stop.
    let r = run(&["report", "service", "--data", d, "--month", &month, "--out", &format!("{o}.pdf")]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("availability: ") && r.stdout.contains("requests: "), "{}", r.stdout);
    let pdf = out.with_extension("pdf");
    assert!(std::fs::read(out.with_extension("xlsx")).unwrap().starts_with(b"PK"));
    let text = std::process::Command::new("pdftotext").args([pdf.to_str().unwrap(), "-"]).output().unwrap();
    let text = String::from_utf8(text.stdout).unwrap();
    for expected in ["サービス提供報告書", "稼働率", "/api/v1/devices", "/healthz"] {
        assert!(text.contains(expected), "{expected} missing: {text}");
    }
    // Not over an existing file; a month that is not one.
    assert_one_line_failure(
        &run(&["report", "service", "--data", d, "--month", &month, "--out", o]),
        "exists",
    );
    let other = dir.path().join("other");
    assert_one_line_failure(
        &run(&["report", "service", "--data", d, "--month", "2026-13", "--out", other.to_str().unwrap()]),
        "month",
    );
}
