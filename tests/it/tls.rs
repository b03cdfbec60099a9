//! The web's certificate: `init` makes an authority of the server's own and a certificate from
//! it; `tls renew` makes a new one from the same authority, which a running server presents
//! without a restart; what Mamoru did not make is left to its issuer.

use std::path::Path;

use crate::support::{Server, assert_one_line_failure, init, run, trusting};

/// The certificate the server at `addr` presents to a client trusting only `ca_pem`.
fn presented(addr: &str, ca_pem: &[u8]) -> Vec<u8> {
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    let mut conn = rustls::ClientConnection::new(trusting(ca_pem), name).unwrap();
    let mut tcp = std::net::TcpStream::connect(addr).unwrap();
    while conn.is_handshaking() {
        conn.complete_io(&mut tcp).unwrap();
    }
    conn.peer_certificates().unwrap()[0].to_vec()
}

fn config_with(data: &Path, from: &str, to: &str) {
    let config = data.join("mamoru.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    assert!(text.contains(from), "the config template changed: {text}");
    std::fs::write(&config, text.replace(from, to)).unwrap();
}

#[test]
fn the_certificate_is_renewed_from_the_servers_own_authority_while_it_serves() {
    let dir = tempfile::tempdir().unwrap();
    let data = init(dir.path());
    let d = data.to_str().unwrap();
    let ca = std::fs::read(data.join("tls/ca.pem")).unwrap();
    for file in ["ca.pem", "ca-key.pem", "cert.pem", "key.pem"] {
        let mode = std::os::unix::fs::PermissionsExt::mode(
            &std::fs::metadata(data.join("tls").join(file)).unwrap().permissions(),
        );
        assert_eq!(mode & 0o777, 0o600, "{file}");
    }
    let shown = run(&["tls", "show", "--data", d]);
    assert_eq!(shown.code, 0, "{}", shown.stderr);
    assert!(
        shown.stdout.contains("names: ") && shown.stdout.contains("localhost, 127.0.0.1, ::1"),
        "{}",
        shown.stdout
    );
    assert!(shown.stdout.contains("made by: this server"), "{}", shown.stdout);
    // Until 00:00 UTC, 396 days on: the count depends on the hour.
    assert!(
        shown.stdout.contains("(395 days left)") || shown.stdout.contains("(396 days left)"),
        "{}",
        shown.stdout
    );

    // A tablet trusting only the authority reaches the server before and after a renewal, and
    // the server presents the new certificate at SIGHUP (`systemctl reload`), still running.
    let s = Server::start_https(&["serve", "--data", d, "--listen", "127.0.0.1:0"], trusting(&ca));
    let before = presented(&s.addr, &ca);
    let renewed = run(&["tls", "renew", "--data", d]);
    assert_eq!(renewed.code, 0, "{}", renewed.stderr);
    assert!(renewed.stdout.contains("nothing changes on them"), "{}", renewed.stdout);
    assert!(renewed.stdout.contains("localhost, 127.0.0.1, ::1"), "the names kept: {}", renewed.stdout);
    assert_eq!(std::fs::read(data.join("tls/ca.pem")).unwrap(), ca, "the same authority");
    s.hangup();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while presented(&s.addr, &ca) == before {
        assert!(std::time::Instant::now() < deadline, "the renewed certificate was never presented");
        std::thread::park_timeout(std::time::Duration::from_millis(100));
    }
    assert_eq!(s.request("GET", "/healthz", None, None).status, 200, "still serving");
    assert_eq!(s.stop(), 0);

    // The authority signs only for the names it was made for (its key, on the server, cannot
    // impersonate another site to the tablets): a new name needs a new authority.
    assert_one_line_failure(
        &run(&["tls", "renew", "--data", d, "--tls-name", "bank.example"]),
        "may not sign for bank.example",
    );

    // A certificate from before the authority (an older init): renewing needs --new-ca, since
    // every tablet must then trust the authority once.
    std::fs::remove_file(data.join("tls/ca.pem")).unwrap();
    std::fs::remove_file(data.join("tls/ca-key.pem")).unwrap();
    assert_one_line_failure(&run(&["tls", "renew", "--data", d]), "run again with --new-ca");
    let made = run(&["tls", "renew", "--data", d, "--new-ca", "--tls-name", "mamoru.example.lg.jp"]);
    assert_eq!(made.code, 0, "{}", made.stderr);
    assert!(made.stdout.contains("every tablet must trust it once"), "{}", made.stdout);
    assert_ne!(std::fs::read(data.join("tls/ca.pem")).unwrap(), ca, "a new authority");
    let shown = run(&["tls", "show", "--data", d]);
    assert!(shown.stdout.contains("names: mamoru.example.lg.jp, localhost"), "{}", shown.stdout);

    // A restored data directory has no certificate: the same verb makes one.
    std::fs::remove_dir_all(data.join("tls")).unwrap();
    assert_one_line_failure(&run(&["tls", "renew", "--data", d]), "a restored data directory carries none");
    let made = run(&["tls", "renew", "--data", d, "--new-ca", "--tls-name", "10.1.2.3"]);
    assert_eq!(made.code, 0, "{}", made.stderr);
    let shown = run(&["tls", "show", "--data", d]);
    assert!(shown.stdout.contains("names: 10.1.2.3, localhost"), "{}", shown.stdout);
}

#[test]
fn a_certificate_mamoru_did_not_make_is_shown_with_its_end_and_left_to_its_issuer() {
    let dir = tempfile::tempdir().unwrap();
    let data = init(dir.path());
    let d = data.to_str().unwrap();
    // The city's certificate, 30 days before its end.
    let now = crate::support::now();
    let mut params = rcgen::CertificateParams::new(vec!["mamoru.city.example".to_owned()]).unwrap();
    params.distinguished_name.push(rcgen::DnType::OrganizationName, "Example City");
    let day = |offset: i64| {
        let on = mamoru_core::time::Timestamp(now.0 + offset * 86_400).jst_date();
        rcgen::date_time_ymd(on.year(), u8::try_from(on.month()).unwrap(), u8::try_from(on.day()).unwrap())
    };
    params.not_before = day(-300);
    params.not_after = day(31);
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = params.self_signed(&key).unwrap();
    std::fs::create_dir(data.join("city")).unwrap();
    std::fs::write(data.join("city/cert.pem"), cert.pem()).unwrap();
    std::fs::write(data.join("city/key.pem"), key.serialize_pem()).unwrap();
    config_with(&data, "# cert = \"tls/cert.pem\"", "cert = \"city/cert.pem\"");
    config_with(&data, "# key = \"tls/key.pem\"", "key = \"city/key.pem\"");

    let shown = run(&["tls", "show", "--data", d]);
    assert_eq!(shown.code, 1, "to be renewed: {}", shown.stdout);
    assert!(shown.stdout.contains("made by: another issuer"), "{}", shown.stdout);
    assert!(shown.stdout.contains("names: mamoru.city.example"), "{}", shown.stdout);
    assert!(shown.stderr.contains("days left): renew it now"), "{}", shown.stderr);
    assert_one_line_failure(&run(&["tls", "renew", "--data", d]), "renew it with whoever issued it");
    assert!(!data.join("tls/cert.pem.new").exists());
}
