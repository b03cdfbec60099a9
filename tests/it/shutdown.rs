//! Clean stops: SIGTERM (systemd's stop) with tablets' event streams open ends the streams and
//! exits within seconds, on plain HTTP (behind a TLS terminator, the demo) and on HTTPS, so the
//! final archive shipment is never skipped by systemd's kill.

use std::io::Read;
use std::time::Duration;

use crate::support::{PASSWORD, Server, init, password_file, run, trusting};

/// Far more than a clean stop takes, far less than systemd's default stop timeout (90 s) or
/// the event stream's own 15 s keep-alive.
const STOP_LIMIT: Duration = Duration::from_secs(10);

/// A store with a caseworker, whose tablet page keeps an event stream open.
fn store(dir: &std::path::Path) -> std::path::PathBuf {
    let data = init(dir);
    let pw = password_file(dir, PASSWORD);
    let (d, pw) = (data.to_str().unwrap(), pw.to_str().unwrap());
    let args = ["user", "add", "cw1", "--role", "caseworker", "--unit", "1", "--name", "架空 職員"];
    let r = run(&[&args[..], &["--password-file", pw, "--data", d]].concat());
    assert_eq!(r.code, 0, "{}", r.stderr);
    data
}

fn stops_with_a_stream_open(s: Server) {
    let token = s.sign_in("cw1", PASSWORD);
    let mut stream = s.open_events(&token);
    let reader = std::thread::spawn(move || {
        // Until the server ends the stream: EOF (or a reset) rather than the 30 s read timeout.
        let mut buf = [0u8; 1024];
        loop {
            match stream.read(&mut buf) {
                Ok(0) => return true,
                Ok(_) => {}
                Err(e) => {
                    return e.kind() != std::io::ErrorKind::WouldBlock
                        && e.kind() != std::io::ErrorKind::TimedOut;
                }
            }
        }
    });
    let code = s.stop_within(STOP_LIMIT);
    assert_eq!(
        code,
        Some(0),
        "SIGTERM with an event stream open: exited with {code:?} within {STOP_LIMIT:?}"
    );
    assert!(reader.join().unwrap(), "the stream was ended by the server");
}

#[test]
fn sigterm_with_an_event_stream_open_exits_promptly_on_plain_http() {
    let dir = tempfile::tempdir().unwrap();
    let data = store(dir.path());
    stops_with_a_stream_open(Server::serve_plain(&data));
}

#[test]
fn sigterm_with_an_event_stream_open_exits_promptly_on_https() {
    let dir = tempfile::tempdir().unwrap();
    let data = store(dir.path());
    let cert = std::fs::read(data.join("tls/cert.pem")).unwrap();
    let s = Server::start_https(
        &["serve", "--data", data.to_str().unwrap(), "--listen", "127.0.0.1:0"],
        trusting(&cert),
    );
    stops_with_a_stream_open(s);
}
