//! Alerts: a problem the self-probe finds is told once by mail (to a local SMTP sink standing in
//! for the city's relay) and by the command hook, and once more when it is gone; a server that
//! was not running is told after it starts again.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::Path;
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

use crate::support::{PASSWORD, Server, init};

/// A relay that accepts every message and hands each one (headers and body) to the receiver.
pub fn smtp_sink() -> (String, Receiver<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let (tx, rx) = channel();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut w) = conn else { return };
            let mut r = BufReader::new(w.try_clone().unwrap());
            let _ = w.write_all(b"220 sink ESMTP\r\n");
            let mut data: Option<String> = None;
            loop {
                let mut line = String::new();
                if r.read_line(&mut line).unwrap_or(0) == 0 {
                    break;
                }
                if let Some(d) = data.as_mut() {
                    if line == ".\r\n" {
                        let _ = tx.send(data.take().unwrap());
                        let _ = w.write_all(b"250 queued\r\n");
                    } else {
                        d.push_str(&line);
                    }
                    continue;
                }
                let verb = line.get(..4).unwrap_or("").to_ascii_uppercase();
                let reply: &[u8] = match verb.as_str() {
                    "EHLO" => b"250-sink\r\n250 8BITMIME\r\n",
                    "DATA" => {
                        data = Some(String::new());
                        b"354 go on\r\n"
                    }
                    "QUIT" => {
                        let _ = w.write_all(b"221 bye\r\n");
                        break;
                    }
                    _ => b"250 ok\r\n",
                };
                let _ = w.write_all(reply);
            }
        }
    });
    (addr, rx)
}

/// Probes every second; alerts to the sink and to a hook that writes a file per notice.
pub fn configure(data: &Path, relay: &str, hook_dir: &Path) {
    let config = data.join("mamoru.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    let replaced = text
        .replace("# probe_every_seconds = 180", "probe_every_seconds = 1")
        .replace("# smtp = \"relay.city.example:25\"", &format!("smtp = \"{relay}\""))
        .replace("# from = \"mamoru@city.example\"", "from = \"mamoru@city.example\"")
        .replace("# to = [\"jouhou@city.example\", \"jisou@city.example\"]", "to = [\"jouhou@city.example\"]")
        .replace(
            "# command = \"/usr/local/bin/mamoru-alert\"",
            &format!("command = \"cat > {}/$MAMORU_ALERT-$MAMORU_ALERT_PROBLEM.txt\"", hook_dir.display()),
        )
        .replace("# server_name = \"児相サーバー1\"", "server_name = \"試験サーバー\"");
    assert_ne!(replaced, text);
    assert!(
        replaced.contains("smtp = \"127.0.0.1") && replaced.contains("command = \"cat"),
        "the template changed"
    );
    std::fs::write(&config, replaced).unwrap();
}

/// The next message whose `X-Mamoru-Alert` header is `want`, within 30 s; the others seen on
/// the way are kept in `seen`.
pub fn wait_for(rx: &Receiver<String>, want: &str, seen: &mut Vec<String>) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let m = rx.recv_timeout(left).unwrap_or_else(|_| panic!("no {want:?} within 30 s; seen: {seen:#?}"));
        seen.push(m.clone());
        if m.contains(&format!("X-Mamoru-Alert: {want}\r\n")) {
            return m;
        }
    }
}

/// What the hook wrote (it runs after the mail is sent), within 10 s.
fn hook_file(path: &Path) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Ok(text) = std::fs::read_to_string(path)
            && !text.is_empty()
        {
            return text;
        }
        assert!(Instant::now() < deadline, "the hook wrote no {}", path.display());
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_problem_is_told_once_with_its_recovery_by_mail_and_by_the_hook() {
    let dir = tempfile::tempdir().unwrap();
    let data = init(dir.path());
    let hooks = dir.path().join("hooks");
    std::fs::create_dir(&hooks).unwrap();
    let (relay, mail) = smtp_sink();
    configure(&data, &relay, &hooks);
    let s = Server::serve_plain(&data);
    let admin = s.sign_in("admin", PASSWORD);

    // The backup folder is gone (a file in its place): the backup asked for fails.
    let backups = data.join("backups");
    let away = data.join("backups.away");
    std::fs::rename(&backups, &away).unwrap();
    std::fs::write(&backups, b"not a folder").unwrap();
    let failed = s.request("POST", "/api/v1/backups", Some(&admin), None);
    assert_ne!(failed.status, 201, "{}", failed.body);
    let mut seen = Vec::new();
    let raised = wait_for(&mail, "raised backup", &mut seen);
    assert!(raised.contains("To: jouhou@city.example\r\n"), "{raised}");
    assert!(
        raised.contains("Subject: =?UTF-8?B?") && raised.contains("Content-Transfer-Encoding: base64"),
        "{raised}"
    );
    let hook = hook_file(&hooks.join("raised-backup.txt"));
    assert!(hook.contains("バックアップの失敗・遅れ") && hook.contains("試験サーバー"), "{hook}");

    // Put back and backed up: told once that it is over.
    std::fs::remove_file(&backups).unwrap();
    std::fs::rename(&away, &backups).unwrap();
    let made = s.request("POST", "/api/v1/backups", Some(&admin), None);
    assert_eq!(made.status, 201, "{}", made.body);
    wait_for(&mail, "cleared backup", &mut seen);
    let hook = hook_file(&hooks.join("cleared-backup.txt"));
    assert!(hook.contains("解消:"), "{hook}");
    assert_eq!(s.stop(), 0);

    // Not running for a while: told when it runs again (raised and over in one notice). The
    // gap itself is what is tested: more than an interval and a half (1.5 s) must pass.
    std::thread::sleep(Duration::from_millis(2_500));
    let s = Server::serve_plain(&data);
    wait_for(&mail, "cleared no_probe", &mut seen);
    assert!(hook_file(&hooks.join("cleared-no_probe.txt")).contains("サーバー停止"));
    assert_eq!(s.stop(), 0);
    // Over both runs' probes nothing about the backup was told again.
    seen.extend(mail.try_iter());
    let about_backup = seen.iter().filter(|m| m.contains(" backup\r\n")).count();
    assert_eq!(about_backup, 2, "raised once, cleared once: {seen:#?}");
}
