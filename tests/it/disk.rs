//! Honest health on a full disk: the store's writes fail with a clear 503 (a Japanese page on
//! the tablet) and change nothing, `/healthz` answers 503, and once space is back the server
//! reopens the store by itself — no restart — with every acknowledged write still there.
//!
//! The disk is a small tmpfs mounted for the test (CI runs as root, as `mount` needs).
//!
//! And a disk that stops answering (a hung disk or NAS: an ext4 image frozen with `fsfreeze`)
//! stalls the self-probe, so systemd's watchdog hears nothing until the disk answers again.

use std::io::Write;
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::support::{PASSWORD, Server, init, password_file, run};

/// A tmpfs of `megabytes`, unmounted (lazily, so a crashed server cannot keep it) when dropped.
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(at: &Path, megabytes: u32) -> Self {
        std::fs::create_dir_all(at).unwrap();
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={megabytes}m,mode=0700"), "tmpfs"])
            .arg(at)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "mounting a small tmpfs needs root (CI runs as root): {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Self(at.to_owned())
    }

    /// Writes a file until the disk is full; returns its path.
    fn fill(&self) -> PathBuf {
        let path = self.0.join("filler");
        let mut f = std::fs::File::create(&path).unwrap();
        let chunk = vec![0x5a_u8; 1 << 20];
        loop {
            if let Err(e) = f.write_all(&chunk).and_then(|()| f.sync_data()) {
                assert_eq!(e.raw_os_error(), Some(28), "ENOSPC expected: {e}");
                return path;
            }
        }
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

#[test]
fn an_outage_the_store_cannot_record_is_still_told_by_mail_with_its_end() {
    let dir = tempfile::tempdir().unwrap();
    let disk = Tmpfs::mount(&dir.path().join("disk"), 96);
    let data = init(&disk.0);
    let hooks = dir.path().join("hooks");
    std::fs::create_dir(&hooks).unwrap();
    let (relay, mail) = crate::alerts::smtp_sink();
    crate::alerts::configure(&data, &relay, &hooks);
    add_caseworker(dir.path(), &data);
    let s = Server::serve_plain(&data);
    let token = s.sign_in("cw1", PASSWORD);

    // The disk fills and the store, growing, stops writing: neither the alert nor its delivery
    // can be kept, and the city is told all the same.
    let filler = disk.fill();
    for n in 0.. {
        let r = s.request("POST", "/api/v1/children", Some(&token), Some(CHILD));
        if r.status == 503 {
            break;
        }
        assert_eq!(r.status, 201, "{}", r.body);
        assert!(n < 2000, "the store never met the full disk");
    }
    let mut seen = Vec::new();
    let raised = crate::alerts::wait_for(&mail, "raised store", &mut seen);
    assert!(raised.contains("Subject: =?UTF-8?B?"), "{raised}");

    // Space back: the store writes again and the end is told.
    std::fs::remove_file(filler).unwrap();
    crate::alerts::wait_for(&mail, "cleared store", &mut seen);
    assert_eq!(s.stop(), 0);
    seen.extend(mail.try_iter());
    let told = seen.iter().filter(|m| m.contains("X-Mamoru-Alert: raised store\r\n")).count();
    assert_eq!(told, 1, "told once: {seen:#?}");
}

/// An ext4 image of `megabytes` on a loop device (a tmpfs cannot be frozen), unmounted when
/// dropped.
struct LoopDisk(PathBuf);

impl LoopDisk {
    fn mount(dir: &Path, megabytes: u64) -> Self {
        let (image, at) = (dir.join("disk.img"), dir.join("disk"));
        std::fs::create_dir_all(&at).unwrap();
        std::fs::File::create(&image).unwrap().set_len(megabytes << 20).unwrap();
        let mkfs = Command::new("mkfs.ext4").args(["-q", "-F"]).arg(&image).output().unwrap();
        assert!(mkfs.status.success(), "mkfs.ext4: {}", String::from_utf8_lossy(&mkfs.stderr));
        let out = Command::new("mount").args(["-o", "loop"]).arg(&image).arg(&at).output().unwrap();
        assert!(
            out.status.success(),
            "mounting a loop device needs root (CI runs as root): {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Self(at)
    }

    /// Every write to the disk waits, as on a disk that stopped answering, until the guard
    /// is dropped.
    fn freeze(&self) -> Frozen<'_> {
        let out = Command::new("fsfreeze").arg("--freeze").arg(&self.0).output().unwrap();
        assert!(out.status.success(), "fsfreeze: {}", String::from_utf8_lossy(&out.stderr));
        Frozen(&self.0)
    }
}

impl Drop for LoopDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

/// Thaws the disk when dropped: also when the test fails, or the server and the test would hang.
struct Frozen<'a>(&'a Path);

impl Drop for Frozen<'_> {
    fn drop(&mut self) {
        let _ = Command::new("fsfreeze").arg("--unfreeze").arg(self.0).status();
    }
}

#[test]
fn a_disk_that_stops_answering_stops_the_watchdog_until_it_answers_again() {
    let dir = tempfile::tempdir().unwrap();
    let disk = LoopDisk::mount(dir.path(), 64);
    let data = init(&disk.0);
    crate::prober::probe_every_second(&data);
    // systemd's end of the notify socket, on a disk that keeps answering.
    let socket = dir.path().join("notify.sock");
    let systemd = UnixDatagram::bind(&socket).unwrap();
    let heard = |within: Duration| -> Option<String> {
        systemd.set_read_timeout(Some(within)).unwrap();
        let mut buf = [0u8; 256];
        let n = systemd.recv(&mut buf).ok()?;
        Some(String::from_utf8_lossy(&buf[..n]).trim().to_owned())
    };
    let s = Server::serve_plain_with(
        &data,
        &[("NOTIFY_SOCKET", socket.to_str().unwrap()), ("WATCHDOG_USEC", "30000000")],
    );
    let within = Duration::from_secs(30);
    assert_eq!(heard(within).as_deref(), Some("READY=1"));
    assert_eq!(heard(within).as_deref(), Some("WATCHDOG=1"));

    let frozen = disk.freeze();
    // A probe or two past their store writes when the disk froze may still pet; after them,
    // nothing for five probe intervals.
    let mut pets = 0;
    while let Some(said) = heard(Duration::from_secs(5)) {
        assert_eq!(said, "WATCHDOG=1");
        pets += 1;
        assert!(pets <= 2, "the watchdog was petted while the store could not write");
    }
    drop(frozen);
    assert_eq!(heard(within).as_deref(), Some("WATCHDOG=1"), "petted again once the disk answers");
    assert_eq!(s.stop(), 0);
}

/// The caseworker `cw1` who records the children.
fn add_caseworker(dir: &Path, data: &Path) {
    let pw = password_file(dir, PASSWORD);
    let (d, pw) = (data.to_str().unwrap(), pw.to_str().unwrap());
    let args = ["user", "add", "cw1", "--role", "caseworker", "--unit", "1", "--name", "架空 職員"];
    let r = run(&[&args[..], &["--password-file", pw, "--data", d]].concat());
    assert_eq!(r.code, 0, "{}", r.stderr);
}

const CHILD: &str = r#"{"family_name":"架空","given_name":"満杯","family_name_kana":"カクウ","given_name_kana":"マンパイ","birth_date":"R3.4.1","sex":"female"}"#;

#[test]
fn a_full_disk_answers_503_changes_nothing_and_recovers_without_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let disk = Tmpfs::mount(&dir.path().join("disk"), 96);
    let data = init(&disk.0);
    add_caseworker(dir.path(), &data);
    let d = data.to_str().unwrap();

    let s = Server::serve_plain(&data);
    let token = s.sign_in("cw1", PASSWORD);
    let first = s.request("POST", "/api/v1/children", Some(&token), Some(CHILD));
    assert_eq!(first.status, 201, "{}", first.body);
    let first = first.json()["id"].as_u64().unwrap();
    // A 96 MB disk is low already: the alarm, while still serving.
    let h = s.request("GET", "/healthz", None, None);
    assert_eq!(h.status, 200, "{}", h.body);
    assert_eq!((h.json()["disk"].as_str(), h.json()["status"].as_str()), (Some("low"), Some("degraded")));

    let filler = disk.fill();
    let h = s.request("GET", "/healthz", None, None);
    assert_eq!(h.status, 503, "a full disk is no health: {}", h.body);
    assert_eq!(h.json()["disk"], "full", "{}", h.body);

    // Writes go on into the free pages of the store's file until it must grow; then each one
    // fails, clearly, and is not acknowledged.
    let mut acknowledged = vec![first];
    let refused = loop {
        let r = s.request("POST", "/api/v1/children", Some(&token), Some(CHILD));
        if r.status == 201 {
            acknowledged.push(r.json()["id"].as_u64().unwrap());
            assert!(acknowledged.len() < 2000, "the store never met the full disk");
            continue;
        }
        break r;
    };
    assert_eq!(refused.status, 503, "{}", refused.body);
    assert_eq!(refused.json()["error"]["code"], "unavailable", "{}", refused.body);
    assert_eq!(refused.header("retry-after"), Some("30"));
    // Reads are audited, so they cannot be served either: the tablet gets a Japanese page.
    let cookie = format!("__Host-mamoru_session={token}");
    let page = s.request_with_cookie("GET", &format!("/children/{first}"), &cookie, None);
    assert_eq!(page.status, 503, "{}", page.body);
    assert!(page.body.contains("一時的に使えません") && page.body.contains("入力内容は消えていません"));
    assert!(!page.body.contains("満杯"), "nothing of the child on the error page");
    // Still signed in (a full disk ends no session): もう一度試す asks for the same page.
    assert!(page.body.contains(&format!("href=\"/children/{first}\"")), "{}", page.body);
    let again = s.request("POST", "/api/v1/children", Some(&token), Some(CHILD));
    assert_eq!(again.status, 503, "still full: {}", again.body);

    // Space back: the next request reopens the store, with no restart.
    std::fs::remove_file(filler).unwrap();
    let h = s.request("GET", "/healthz", None, None);
    assert_eq!(h.status, 200, "recovered: {}", h.body);
    assert_eq!(h.json()["store"], "ok");
    let after = s.request("POST", "/api/v1/children", Some(&token), Some(CHILD));
    assert_eq!(after.status, 201, "{}", after.body);
    let after = after.json()["id"].as_u64().unwrap();
    assert_eq!(Some(&(after - 1)), acknowledged.last(), "no refused child took a number");
    acknowledged.push(after);
    for id in &acknowledged {
        let c = s.request("GET", &format!("/api/v1/children/{id}"), Some(&token), None);
        assert_eq!(c.status, 200, "acknowledged child {id} kept: {}", c.body);
    }
    let page = s.request_with_cookie("GET", &format!("/children/{first}"), &cookie, None);
    assert_eq!(page.status, 200);
    assert_eq!(s.stop(), 0);

    // Nothing refused was half-written: the audit chain is whole.
    let verify = run(&["audit", "verify", "--data", d]);
    assert_eq!(verify.code, 0, "{}{}", verify.stdout, verify.stderr);
}
