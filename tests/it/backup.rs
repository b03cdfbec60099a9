//! Backups through the command line: create, list, verify, the restore drill, the wrong key,
//! damage, and never writing over a live data directory.

use crate::support::{Server, assert_one_line_failure, run};

fn demo(dir: &std::path::Path, children: &str) -> std::path::PathBuf {
    let data = dir.join("live");
    let r = run(&["demo", "--data", data.to_str().unwrap(), "--children", children, "--no-serve"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    data
}

#[test]
fn the_restore_drill_brings_back_every_acknowledged_write() {
    let dir = tempfile::tempdir().unwrap();
    let data = demo(dir.path(), "20");
    let d = data.to_str().unwrap();
    let r = run(&["backup", "create", "--data", d]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.starts_with("1\t") && r.stdout.contains("verified"), "{}", r.stdout);

    // The server runs: writes are acknowledged; a hand-made backup is refused while it holds the
    // store, with a clear word.
    let acknowledged = {
        let s = Server::serve_plain(&data);
        assert_one_line_failure(&run(&["backup", "create", "--data", d]), "the server is running");
        let h = s.request("GET", "/healthz", None, None).json();
        assert_eq!(h["backup"], "ok", "{h}");
        assert!(h["last_backup_age_seconds"].as_i64().unwrap() < 600);
        // An administrator makes a generation while the server keeps serving; nobody else may.
        let admin = s.sign_in("demo-admin", "mamoru-demo");
        let made = s.request("POST", "/api/v1/backups", Some(&admin), None);
        assert_eq!(made.status, 201, "{}", made.body);
        assert!(made.json()["generation"].as_str().unwrap().starts_with("2\t"), "{}", made.body);
        let token = s.sign_in("demo-cw1", "mamoru-demo");
        assert_eq!(s.request("POST", "/api/v1/backups", Some(&token), None).status, 403);
        let mut ids = Vec::new();
        for i in 0..5 {
            let body = format!(
                r#"{{"family_name":"復元","given_name":"{i}","family_name_kana":"ふくげん","sex":"female"}}"#
            );
            let c = s.request("POST", "/api/v1/children", Some(&token), Some(&body));
            assert_eq!(c.status, 201);
            ids.push(c.json()["id"].as_u64().unwrap());
        }
        ids
    };
    assert_eq!(run(&["backup", "create", "--data", d]).code, 0);
    let list = run(&["backup", "list", "--data", d]);
    assert_eq!(list.stdout.lines().count(), 3, "{}", list.stdout);

    // The disk is lost. Restore on a "new machine" from the backup folder with the offline key.
    let backups = data.join("backups");
    let key = dir.path().join("offline.key");
    std::fs::copy(data.join("demo-backup-identity.txt"), &key).unwrap();
    std::fs::remove_file(data.join("mamoru.redb")).unwrap();
    let to = dir.path().join("restored");
    let r = run(&[
        "backup",
        "restore",
        "--from",
        backups.to_str().unwrap(),
        "--to",
        to.to_str().unwrap(),
        "--identity",
        key.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let t = to.to_str().unwrap();
    let c = run(&["check", "--data", t]);
    assert_eq!(c.code, 0, "{}", c.stderr);
    assert_eq!(run(&["audit", "verify", "--data", t]).code, 0);
    // The old store's backups hold another timeline: compared with them, the restored log is
    // refused as another store's (exit 3), not reported as tampered.
    let against_old = run(&[
        "audit",
        "verify",
        "--data",
        t,
        "--from",
        backups.to_str().unwrap(),
        "--identity",
        key.to_str().unwrap(),
    ]);
    assert_eq!(against_old.code, 3, "{}", against_old.stderr);
    assert!(against_old.stderr.contains("but the key is for store"), "{}", against_old.stderr);
    let check = run(&["check", "--data", t]).stdout;
    assert!(check.lines().any(|l| l == "child 25"), "{check}");
    let s = Server::serve_plain(&to);
    let token = s.sign_in("demo-cw1", "mamoru-demo");
    for id in acknowledged {
        assert_eq!(
            s.request("GET", &format!("/api/v1/children/{id}"), Some(&token), None).status,
            200,
            "child {id} lost"
        );
    }
    drop(s);
    // The restored server goes on backing up to the offline key's pinned recipients, and to
    // them only: not to the lost server's verification key a manifest lists.
    let pinned: Vec<String> = std::fs::read_to_string(&key)
        .unwrap()
        .lines()
        .filter_map(|l| l.strip_prefix("# mamoru-recipient: ").map(ToOwned::to_owned))
        .collect();
    let kept: Vec<String> = std::fs::read_to_string(to.join("backup-recipients.txt"))
        .unwrap()
        .lines()
        .filter(|l| l.starts_with("age1"))
        .map(ToOwned::to_owned)
        .collect();
    assert_eq!(kept, pinned);
    assert_eq!(kept.len(), 1, "the demo's one offline key");
    assert!(r.stdout.contains("backup keygen"), "the restore says to make a new offline key: {}", r.stdout);
    // Pointed back at the old archive, the restored store (a new timeline) is refused.
    let old_dir = data.join("backups");
    let cfg = to.join("mamoru.toml");
    let original = std::fs::read_to_string(&cfg).unwrap();
    std::fs::write(
        &cfg,
        original.replace("# dir = \"backups\"", &format!("dir = \"{}\"", old_dir.display())),
    )
    .unwrap();
    let mixed = run(&["backup", "create", "--data", t]);
    assert_ne!(mixed.code, 0);
    assert!(mixed.stderr.contains("belongs to another store"), "{}", mixed.stderr);
    assert_eq!(
        run(&["backup", "list", "--data", d]).stdout.lines().count(),
        3,
        "the old directory is untouched"
    );
    std::fs::write(&cfg, original).unwrap();
    // And it can back up at once, and again after more work (its new archive starts there).
    let again = run(&["backup", "create", "--data", t]);
    assert_eq!(again.code, 0, "{}", again.stderr);
    let s = Server::serve_plain(&to);
    let token = s.sign_in("demo-cw1", "mamoru-demo");
    let body = r#"{"family_name":"再開","family_name_kana":"さいかい","sex":"female"}"#;
    assert_eq!(s.request("POST", "/api/v1/children", Some(&token), Some(body)).status, 201);
    assert_eq!(s.stop(), 0);
    let third = run(&["backup", "create", "--data", t]);
    assert_eq!(third.code, 0, "{}", third.stderr);
    assert!(!third.stderr.contains("WARN"), "the archive joined up: {}", third.stderr);
}

#[test]
fn restore_refuses_the_wrong_key_and_a_live_directory_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let data = demo(dir.path(), "3");
    let d = data.to_str().unwrap();
    assert_eq!(run(&["backup", "create", "--data", d]).code, 0);
    let other = dir.path().join("other");
    let r = run(&[
        "init",
        "--data",
        other.to_str().unwrap(),
        "--admin-login",
        "admin",
        "--backup-identity-out",
        dir.path().join("other.key").to_str().unwrap(),
    ]);
    assert_ne!(r.code, 0, "init without a password fails");
    let pw = crate::support::password_file(dir.path(), crate::support::PASSWORD);
    // An identity that cannot be written stops init before the store is made: the next try works.
    let nowhere = dir.path().join("no-such-folder/other.key");
    let r = run(&[
        "init",
        "--data",
        other.to_str().unwrap(),
        "--admin-login",
        "admin",
        "--admin-password-file",
        pw.to_str().unwrap(),
        "--backup-identity-out",
        nowhere.to_str().unwrap(),
    ]);
    assert_one_line_failure(&r, "--backup-identity-out");
    assert!(!other.join("mamoru.redb").exists(), "no half-made store");
    let r = run(&[
        "init",
        "--data",
        other.to_str().unwrap(),
        "--admin-login",
        "admin",
        "--admin-password-file",
        pw.to_str().unwrap(),
        "--backup-identity-out",
        dir.path().join("other.key").to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("keep it offline"));
    assert!(std::fs::read_to_string(other.join("backup-recipients.txt")).unwrap().contains("age1"));

    let to = dir.path().join("never");
    let wrong = run(&[
        "backup",
        "restore",
        "--data",
        d,
        "--to",
        to.to_str().unwrap(),
        "--identity",
        dir.path().join("other.key").to_str().unwrap(),
    ]);
    assert_one_line_failure(&wrong, "use the identity made for that store");
    assert_eq!(wrong.code, 3, "a wrong key has its own exit status");
    assert!(!to.exists(), "nothing written");
    let missing = run(&[
        "backup",
        "restore",
        "--data",
        d,
        "--to",
        to.to_str().unwrap(),
        "--identity",
        dir.path().join("nope.key").to_str().unwrap(),
    ]);
    assert_one_line_failure(&missing, "cannot read the identity file");
    assert_eq!(missing.code, 3, "so has a missing one");
    assert!(!to.exists());
    let live = run(&["backup", "restore", "--data", d, "--to", other.to_str().unwrap()]);
    assert_one_line_failure(&live, "restore only into a new directory");
    assert_eq!(run(&["check", "--data", other.to_str().unwrap()]).code, 0, "the live directory is untouched");
}

#[test]
fn backup_drill_restores_the_newest_generation_checks_times_and_keeps_the_result() {
    let dir = tempfile::tempdir().unwrap();
    let data = demo(dir.path(), "5");
    let d = data.to_str().unwrap();
    let drills = || {
        let c = run(&["check", "--data", d]);
        assert_eq!(c.code, 0, "{}", c.stderr);
        c.stdout.lines().find_map(|l| l.strip_prefix("restore_drill ")).unwrap().trim().to_owned()
    };
    assert_eq!(drills(), "0");

    // Nothing to restore yet: the drill fails, says why, and that is kept too.
    assert_one_line_failure(&run(&["backup", "drill", "--data", d]), "no authentic backup generation");
    assert_eq!(drills(), "1");

    assert_eq!(run(&["backup", "create", "--data", d]).code, 0);
    let r = run(&["backup", "drill", "--data", d]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.starts_with("restore drill passed: generation 1 ("), "{}", r.stdout);
    assert!(r.stdout.contains("restored and checked in") && r.stdout.contains("up to 20"), "{}", r.stdout);
    assert!(!data.join(".drill").exists(), "the scratch directory is removed");
    assert_eq!(drills(), "2");

    // The running server holds the store: it drills by itself, the console on demand.
    {
        let _s = Server::serve_plain(&data);
        assert_one_line_failure(&run(&["backup", "drill", "--data", d]), "the server is running");
    }

    // A damaged generation fails the drill, by name.
    let file = data.join("backups/gen-000001.age");
    let mut bytes = std::fs::read(&file).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x20;
    std::fs::write(&file, &bytes).unwrap();
    assert_one_line_failure(&run(&["backup", "drill", "--data", d]), "damaged");
    assert_eq!(drills(), "3");
}

#[test]
fn a_damaged_generation_is_reported_never_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let data = demo(dir.path(), "3");
    let d = data.to_str().unwrap();
    assert_eq!(run(&["backup", "create", "--data", d]).code, 0);
    let file = data.join("backups/gen-000001.age");
    let mut bytes = std::fs::read(&file).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x20;
    std::fs::write(&file, &bytes).unwrap();
    assert_one_line_failure(&run(&["backup", "verify", "--data", d]), "damaged");
    let to = dir.path().join("r");
    assert_one_line_failure(
        &run(&["backup", "restore", "--data", d, "--to", to.to_str().unwrap()]),
        "damaged",
    );
    assert!(!to.exists());
    bytes.truncate(mid);
    std::fs::write(&file, &bytes).unwrap();
    assert_one_line_failure(&run(&["backup", "verify", "--data", d, "1"]), "damaged");
}

/// Makes the server ship its changes every second instead of every minute.
fn archive_every_second(data: &std::path::Path) {
    let cfg = data.join("mamoru.toml");
    let text = std::fs::read_to_string(&cfg)
        .unwrap()
        .replace("# archive_every_seconds = 60", "archive_every_seconds = 1");
    std::fs::write(&cfg, text).unwrap();
}

/// Waits until the archive holds at least `n` segments (the server ships every second).
fn wait_for_segments(archive: &std::path::Path, n: usize) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_mins(1);
    loop {
        let count = std::fs::read_dir(archive).map_or(0, |d| {
            d.filter_map(Result::ok).filter(|e| e.file_name().to_string_lossy().ends_with(".json")).count()
        });
        if count >= n {
            return;
        }
        assert!(std::time::Instant::now() < deadline, "the archive never reached {n} segments");
        std::thread::park_timeout(std::time::Duration::from_millis(20));
    }
}

#[test]
fn the_archive_restores_to_the_point_of_failure_or_a_chosen_time_and_stops_at_a_gap() {
    let dir = tempfile::tempdir().unwrap();
    let data = demo(dir.path(), "5");
    let d = data.to_str().unwrap();
    archive_every_second(&data);
    assert_eq!(run(&["backup", "create", "--data", d]).code, 0);
    let archive = data.join("backups/archive");
    let before = std::fs::read_dir(&archive).unwrap().count() / 2;

    // A stray file in the backup folder does not keep the server from starting.
    std::fs::write(data.join("backups/gen-junk.json"), b"{").unwrap();
    let s = Server::serve_plain(&data);
    let token = s.sign_in("demo-cw1", "mamoru-demo");
    let register = |name: &str| {
        let body = format!(r#"{{"family_name":"{name}","family_name_kana":"あーかいぶ","sex":"male"}}"#);
        let r = s.request("POST", "/api/v1/children", Some(&token), Some(&body));
        assert_eq!(r.status, 201, "{}", r.body);
        r.json()["id"].as_u64().unwrap()
    };
    let early = register("早");
    wait_for_segments(&archive, before + 1);
    let between = s.request("GET", "/healthz", None, None).json();
    assert_eq!(between["archive"], "ok", "{between}");
    // A moment that separates the two batches, in Japan time.
    let cut = {
        let out = std::process::Command::new("date").args(["-u", "+%Y-%m-%dT%H:%M:%SZ"]).output().unwrap();
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    };
    // Commit times are whole seconds: let the clock pass the cut before the late write.
    let tick = std::time::Instant::now();
    while tick.elapsed() < std::time::Duration::from_millis(1100) {
        std::thread::park_timeout(std::time::Duration::from_millis(20));
    }
    let late = register("遅");
    assert_eq!(s.stop(), 0, "a clean stop");
    // The last change went out at shutdown: no write waits for the next interval.
    let segments_after = std::fs::read_dir(&archive).unwrap().count() / 2;
    assert!(segments_after >= before + 2, "{segments_after} segments");

    // The audit log agrees with the chain heads the generation and every segment recorded.
    let audit = run(&["audit", "verify", "--data", d]);
    assert_eq!(audit.code, 0, "{}", audit.stderr);
    assert!(audit.stdout.contains("audit log agrees with the"), "{}", audit.stdout);
    let list = run(&["backup", "list", "--data", d]);
    assert!(list.stderr.contains("left out: gen-junk.json is not a manifest"), "{}", list.stderr);
    std::fs::remove_file(data.join("backups/gen-junk.json")).unwrap();

    // The disk is lost. Restore with the offline key: everything, to the point of failure.
    std::fs::remove_file(data.join("mamoru.redb")).unwrap();
    let key = data.join("demo-backup-identity.txt");
    let restore = |to: &std::path::Path, extra: &[&str]| {
        let mut args = vec![
            "backup",
            "restore",
            "--data",
            d,
            "--to",
            to.to_str().unwrap(),
            "--identity",
            key.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        run(&args)
    };
    let full = dir.path().join("full");
    let r = restore(&full, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("later transactions applied"), "{}", r.stdout);
    let children = |to: &std::path::Path| {
        let s = Server::serve_plain(to);
        let t = s.sign_in("demo-cw1", "mamoru-demo");
        [early, late]
            .map(|id| s.request("GET", &format!("/api/v1/children/{id}"), Some(&t), None).status == 200)
    };
    assert_eq!(children(&full), [true, true]);

    // Up to the cut: the early child only.
    let partial = dir.path().join("partial");
    let r = restore(&partial, &["--until", &cut]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(children(&partial), [true, false]);

    // A damaged last segment (the one shipped at shutdown, with the late child): `verify` reads
    // the archive and says so; a restore stops there like at a gap and keeps what came before.
    let mut ages: Vec<_> = std::fs::read_dir(&archive)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "age"))
        .collect();
    ages.sort();
    let last_segment = ages.last().unwrap().clone();
    let good = std::fs::read(&last_segment).unwrap();
    let mut bad = good.clone();
    let mid = bad.len() / 2;
    bad[mid] ^= 0x01;
    std::fs::write(&last_segment, &bad).unwrap();
    let verify = run(&["backup", "verify", "--from", data.join("backups").to_str().unwrap(), "--identity"]
        .into_iter()
        .chain([key.to_str().unwrap()])
        .collect::<Vec<_>>());
    assert_one_line_failure(&verify, "the archive after it is broken");
    assert!(
        verify.stderr.contains("cannot be used") && verify.stderr.contains("damaged"),
        "{}",
        verify.stderr
    );
    let damaged = dir.path().join("damaged");
    let r = restore(&damaged, &[]);
    assert_one_line_failure(&r, "restore stopped early");
    assert_eq!(children(&damaged), [true, false], "up to the damage");
    std::fs::write(&last_segment, &good).unwrap();
    let verify = run(&["backup", "verify", "--data", d]);
    assert_eq!(verify.code, 0, "{}", verify.stderr);
    assert!(verify.stdout.contains("archive verified"), "{}", verify.stdout);

    // A missing segment: the restore stops at the gap, says so, and keeps what came before.
    let mut segs: Vec<_> = std::fs::read_dir(&archive)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    segs.sort();
    let victim = segs[segs.len() - 2].clone();
    std::fs::remove_file(&victim).unwrap();
    let gapped = dir.path().join("gapped");
    let r = restore(&gapped, &[]);
    assert_one_line_failure(&r, "gap");
    assert_eq!(
        run(&["check", "--data", gapped.to_str().unwrap()]).code,
        0,
        "the part before the gap is usable"
    );
}

/// The forgeries a security probe made with write access to the backup folder only: a
/// generation built from another store and encrypted to the public recipients, a recipient
/// added to a manifest, a manifest's time moved back. `verify` and `restore` refuse each, naming
/// the file; a restore without `--generation` takes the newest authentic generation.
#[test]
fn forged_generations_and_edited_manifests_are_refused_by_verify_and_restore() {
    let dir = tempfile::tempdir().unwrap();
    let data = demo(dir.path(), "3");
    let d = data.to_str().unwrap();
    assert_eq!(run(&["backup", "create", "--data", d]).code, 0);
    let backups = data.join("backups");
    // The attacker's own store, backed up to the victim's public recipients.
    let attacker = dir.path().join("attacker");
    let r = run(&["demo", "--data", attacker.to_str().unwrap(), "--children", "1", "--no-serve"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let verify_key = std::fs::read_to_string(data.join("backup-verify.key")).unwrap();
    let server_recipient = verify_key.lines().find_map(|l| l.strip_prefix("# recipient: ")).unwrap();
    let public =
        std::fs::read_to_string(data.join("backup-recipients.txt")).unwrap() + server_recipient + "\n";
    std::fs::write(attacker.join("backup-recipients.txt"), public).unwrap();
    assert_eq!(run(&["backup", "create", "--data", attacker.to_str().unwrap()]).code, 0);
    let victim_manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(backups.join("gen-000001.json")).unwrap()).unwrap();
    let mut planted: serde_json::Value =
        serde_json::from_slice(&std::fs::read(attacker.join("backups/gen-000001.json")).unwrap()).unwrap();
    planted["generation"] = 2.into();
    planted["source_id"] = victim_manifest["source_id"].clone();
    std::fs::copy(attacker.join("backups/gen-000001.age"), backups.join("gen-000002.age")).unwrap();
    std::fs::write(backups.join("gen-000002.json"), serde_json::to_vec(&planted).unwrap()).unwrap();

    let verify = run(&["backup", "verify", "--data", d, "2"]);
    assert_one_line_failure(&verify, "gen-000002.json was not written by this store's server");
    // Without a number: the newest the server wrote, with a word about the one skipped.
    let verify = run(&["backup", "verify", "--data", d]);
    assert_eq!(verify.code, 0, "{}", verify.stderr);
    assert!(verify.stdout.starts_with("generation 1 verified"), "{}", verify.stdout);
    assert!(verify.stderr.contains("skipped generation 2"), "{}", verify.stderr);
    let list = run(&["backup", "list", "--data", d]);
    assert!(list.stdout.lines().any(|l| l.starts_with("2\tNOT AUTHENTIC")), "{}", list.stdout);
    // From the folder alone, nothing is vouched for unless a key is given.
    let from = ["backup", "list", "--from", backups.to_str().unwrap()];
    assert!(run(&from).stderr.contains("not authenticated"));
    let key_arg = data.join("demo-backup-identity.txt");
    let with_key = run(&[&from[..], &["--identity", key_arg.to_str().unwrap()]].concat());
    assert!(with_key.stdout.lines().any(|l| l.starts_with("2\tNOT AUTHENTIC")), "{}", with_key.stdout);
    let key = data.join("demo-backup-identity.txt");
    let restore = |to: &std::path::Path, extra: &[&str]| {
        let mut args = vec!["backup", "restore", "--data", d, "--to", to.to_str().unwrap(), "--identity"];
        args.push(key.to_str().unwrap());
        args.extend_from_slice(extra);
        run(&args)
    };
    let named = dir.path().join("named");
    assert_one_line_failure(&restore(&named, &["--generation", "2"]), "gen-000002.json was not written");
    assert!(!named.exists(), "nothing written");
    // Without --generation: the newest authentic one, and a word about the one skipped.
    let newest = dir.path().join("newest");
    let r = restore(&newest, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("restored generation 1"), "{}", r.stdout);
    assert!(r.stderr.contains("skipped generation 2"), "{}", r.stderr);
    let users = run(&["user", "list", "--data", newest.to_str().unwrap()]).stdout;
    assert!(users.contains("demo-admin"), "{users}");
    std::fs::remove_file(backups.join("gen-000002.json")).unwrap();
    std::fs::remove_file(backups.join("gen-000002.age")).unwrap();

    // Edits of the real manifest: a recipient added, its time moved back 30 days.
    let path = backups.join("gen-000001.json");
    let original = std::fs::read(&path).unwrap();
    let stranger = "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p";
    for what in ["recipient", "time"] {
        let mut m: serde_json::Value = serde_json::from_slice(&original).unwrap();
        if what == "recipient" {
            m["recipients"].as_array_mut().unwrap().push(stranger.into());
        } else {
            m["created_at"] = (m["created_at"].as_i64().unwrap() - 30 * 86_400).into();
        }
        std::fs::write(&path, serde_json::to_vec_pretty(&m).unwrap()).unwrap();
        let verify = run(&["backup", "verify", "--data", d, "1"]);
        assert_one_line_failure(&verify, "gen-000001.json was not written by this store's server");
        let to = dir.path().join(format!("edited-{what}"));
        assert_one_line_failure(&restore(&to, &["--generation", "1"]), "authentication tag does not match");
        assert!(!to.exists(), "{what}: nothing written");
    }
    std::fs::write(&path, &original).unwrap();
    assert_eq!(run(&["backup", "verify", "--data", d]).code, 0);
}

/// Every file `init`, `demo` and `backup restore` leave is readable by its owner only, whatever
/// the umask the operator had.
#[test]
fn data_directories_are_private_whatever_the_umask() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let with_umask = |args: &[&str]| {
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg("umask 022; exec \"$0\" \"$@\"")
            .arg(env!("CARGO_BIN_EXE_mamoru"))
            .args(args)
            .env("MAMORU_ADMIN_PASSWORD", crate::support::PASSWORD)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    };
    let walk = |root: &std::path::Path| {
        let mut open = Vec::new();
        let mut stack = vec![root.to_owned()];
        while let Some(p) = stack.pop() {
            let meta = std::fs::symlink_metadata(&p).unwrap();
            let mode = meta.permissions().mode() & 0o777;
            let want = if meta.is_dir() { 0o700 } else { 0o600 };
            if mode != want {
                open.push(format!("{} {mode:o}", p.display()));
            }
            if meta.is_dir() {
                stack.extend(std::fs::read_dir(&p).unwrap().map(|e| e.unwrap().path()));
            }
        }
        assert!(open.is_empty(), "files others can read: {open:?}");
    };
    let init = dir.path().join("init");
    // A directory someone made beforehand with the usual mode.
    std::fs::create_dir(&init).unwrap();
    std::fs::set_permissions(&init, std::fs::Permissions::from_mode(0o755)).unwrap();
    let offline = dir.path().join("offline.key");
    with_umask(&[
        "init",
        "--data",
        init.to_str().unwrap(),
        "--admin-login",
        "admin",
        "--backup-identity-out",
        offline.to_str().unwrap(),
    ]);
    walk(&init);
    assert_eq!(std::fs::metadata(&offline).unwrap().permissions().mode() & 0o777, 0o600);
    let demo = dir.path().join("demo");
    with_umask(&["demo", "--data", demo.to_str().unwrap(), "--children", "2", "--no-serve"]);
    with_umask(&["backup", "create", "--data", demo.to_str().unwrap()]);
    walk(&demo);
    let restored = dir.path().join("restored");
    with_umask(&["backup", "restore", "--data", demo.to_str().unwrap(), "--to", restored.to_str().unwrap()]);
    walk(&restored);
}

/// The daily backup reads back the archive since the previous generation: a segment damaged on
/// the NAS during the day is found the next morning, not on the day a restore needs it.
#[test]
fn the_daily_backup_reads_back_the_days_archive() {
    let dir = tempfile::tempdir().unwrap();
    let data = demo(dir.path(), "2");
    let d = data.to_str().unwrap();
    archive_every_second(&data);
    assert_eq!(run(&["backup", "create", "--data", d]).code, 0);
    let s = Server::serve_plain(&data);
    let token = s.sign_in("demo-cw1", "mamoru-demo");
    let body = r#"{"family_name":"日中","family_name_kana":"にっちゅう","sex":"female"}"#;
    assert_eq!(s.request("POST", "/api/v1/children", Some(&token), Some(body)).status, 201);
    assert_eq!(s.stop(), 0);
    let archive = data.join("backups/archive");
    let segment = std::fs::read_dir(&archive)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "age"))
        .expect("the day's changes were shipped");
    let mut bytes = std::fs::read(&segment).unwrap();
    let end = bytes.len() - 1;
    bytes[end] ^= 0x80;
    std::fs::write(&segment, &bytes).unwrap();
    let r = run(&["backup", "create", "--data", d]);
    assert_one_line_failure(&r, "the day's archive is not whole");
    assert!(r.stderr.contains("generation 2 made and verified"), "{}", r.stderr);
    let list = run(&["backup", "list", "--data", d]).stdout;
    assert!(list.lines().any(|l| l.starts_with("2\t") && l.contains("verified 20")), "{list}");
}

/// A change made at the command line while the server is stopped is in the change archive
/// before the command returns: the disk lost right after, the backups alone bring it back. And
/// when it cannot be archived, the command says so (the change is made; the server archives it
/// when it starts).
#[test]
fn a_cli_change_while_the_server_is_stopped_is_archived_before_the_command_returns() {
    let dir = tempfile::tempdir().unwrap();
    let data = demo(dir.path(), "3");
    let d = data.to_str().unwrap();
    assert_eq!(run(&["backup", "create", "--data", d]).code, 0);
    let pw = crate::support::password_file(dir.path(), crate::support::PASSWORD);
    let add = ["user", "add", "late", "--role", "caseworker", "--unit", "1", "--name", "遅番 職員"];
    let r = run(&[&add[..], &["--password-file", pw.to_str().unwrap(), "--data", d]].concat());
    assert_eq!(r.code, 0, "{}", r.stderr);

    let key = dir.path().join("offline.key");
    std::fs::copy(data.join("demo-backup-identity.txt"), &key).unwrap();
    let backups = data.join("backups");
    let to = dir.path().join("restored");
    let (from, t) = (backups.to_str().unwrap(), to.to_str().unwrap());
    let r = run(&["backup", "restore", "--from", from, "--to", t, "--identity", key.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let listed = run(&["user", "list", "--data", t]);
    assert!(listed.stdout.contains("late"), "{}", listed.stdout);

    // The backup folder cannot be reached (a NAS not mounted): one clear line, not silence.
    let config = data.join("mamoru.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    assert!(text.contains("\n[backup]\n"), "{text}");
    std::fs::write(&config, text.replace("\n[backup]\n", "\n[backup]\ndir = \"/dev/null/backups\"\n"))
        .unwrap();
    let r = run(&["user", "disable", "late", "--data", d]);
    assert_one_line_failure(&r, "not yet in the change archive");
}
