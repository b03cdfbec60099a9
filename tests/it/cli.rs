//! The command-line contract: non-interactive init, user management, check, audit verify, demo,
//! and one clear line (never a panic) for every failure a person can cause.

use redb::{Database, ReadableTable, TableDefinition};

use crate::support::{PASSWORD, Server, assert_one_line_failure, init, password_file, run};

#[test]
fn init_sets_up_a_store_that_checks_clean() {
    let dir = tempfile::tempdir().unwrap();
    let data = init(dir.path());
    let d = data.to_str().unwrap();
    assert!(data.join("mamoru.toml").is_file(), "init writes a commented config");
    assert!(std::fs::read_to_string(data.join("mamoru.toml")).unwrap().contains("# "));

    let check = run(&["check", "--data", d]);
    assert_eq!(check.code, 0, "{}", check.stderr);
    for kind in
        ["unit 2", "staff 1", "credential 1", "child 0", "case 0", "code_table 10", "assessment_sheet 1"]
    {
        assert!(check.stdout.lines().any(|l| l == kind), "missing {kind:?} in\n{}", check.stdout);
    }
    assert!(check.stdout.lines().all(|l| l.split(' ').count() == 2), "KIND COUNT lines only");
    let audit = run(&["audit", "verify", "--data", d]);
    assert_eq!(audit.code, 0, "{}", audit.stderr);
    assert!(audit.stdout.contains("intact"));

    // A second init into the same directory is refused and changes nothing.
    let pw = password_file(dir.path(), PASSWORD);
    let again =
        run(&["init", "--data", d, "--admin-login", "other", "--admin-password-file", pw.to_str().unwrap()]);
    assert_one_line_failure(&again, "already holds a Mamoru store");
}

#[test]
fn init_takes_the_password_from_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d");
    let out = crate::support::bin()
        .args(["init", "--data", data.to_str().unwrap(), "--admin-login", "root-admin"])
        .env("MAMORU_ADMIN_PASSWORD", PASSWORD)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let pw = password_file(dir.path(), PASSWORD);
    let ok = run(&[
        "user",
        "verify",
        "root-admin",
        "--data",
        data.to_str().unwrap(),
        "--password-file",
        pw.to_str().unwrap(),
    ]);
    assert_eq!(ok.code, 0, "{}", ok.stderr);
    // Without either source: a clear refusal.
    let none = run(&["init", "--data", dir.path().join("e").to_str().unwrap(), "--admin-login", "x1"]);
    assert_one_line_failure(&none, "MAMORU_ADMIN_PASSWORD");
    let short = password_file(dir.path(), "short");
    let weak = run(&[
        "init",
        "--data",
        dir.path().join("f").to_str().unwrap(),
        "--admin-login",
        "x1",
        "--admin-password-file",
        short.to_str().unwrap(),
    ]);
    assert_one_line_failure(&weak, "at least 10 characters");
}

#[test]
fn users_are_added_listed_disabled_and_their_passwords_checked() {
    let dir = tempfile::tempdir().unwrap();
    let data = init(dir.path());
    let d = data.to_str().unwrap();
    let pw = password_file(dir.path(), PASSWORD);
    let pw = pw.to_str().unwrap();
    let add = run(&[
        "user",
        "add",
        "tanaka",
        "--role",
        "caseworker",
        "--unit",
        "1",
        "--name",
        "田中 花子",
        "--password-file",
        pw,
        "--data",
        d,
    ]);
    assert_eq!(add.code, 0, "{}", add.stderr);
    let list = run(&["user", "list", "--data", d]);
    assert!(
        list.stdout.lines().any(|l| l.starts_with("tanaka\tcaseworker\t1\tactive\t田中 花子")),
        "{}",
        list.stdout
    );

    assert_eq!(run(&["user", "verify", "tanaka", "--data", d, "--password-file", pw]).code, 0);
    let wrong = password_file(dir.path(), "not the password at all");
    assert_one_line_failure(
        &run(&["user", "verify", "tanaka", "--data", d, "--password-file", wrong.to_str().unwrap()]),
        "wrong login or password",
    );
    assert_one_line_failure(
        &run(&["user", "verify", "nobody", "--data", d, "--password-file", pw]),
        "wrong login or password",
    );
    assert_one_line_failure(&run(&["user", "disable", "nobody", "--data", d]), "unknown user nobody");
    assert_one_line_failure(
        &run(&[
            "user",
            "add",
            "tanaka",
            "--role",
            "caseworker",
            "--unit",
            "1",
            "--name",
            "x",
            "--password-file",
            pw,
            "--data",
            d,
        ]),
        "already taken",
    );
    assert_one_line_failure(
        &run(&[
            "user",
            "add",
            "sato",
            "--role",
            "wizard",
            "--unit",
            "1",
            "--name",
            "x",
            "--password-file",
            pw,
            "--data",
            d,
        ]),
        "unknown role",
    );
    assert_one_line_failure(
        &run(&[
            "user",
            "add",
            "sato",
            "--role",
            "clerk",
            "--unit",
            "7",
            "--name",
            "x",
            "--password-file",
            pw,
            "--data",
            d,
        ]),
        "unit 7 not found",
    );

    assert_eq!(run(&["user", "disable", "tanaka", "--data", d]).code, 0);
    assert!(run(&["user", "list", "--data", d]).stdout.contains("tanaka\tcaseworker\t1\tdisabled"));
    assert_ne!(
        run(&["user", "verify", "tanaka", "--data", d, "--password-file", pw]).code,
        0,
        "a disabled account cannot sign in"
    );
    assert_eq!(run(&["user", "enable", "tanaka", "--data", d]).code, 0);
    let newpw = password_file(dir.path(), "a brand new password");
    assert_eq!(
        run(&["user", "passwd", "tanaka", "--data", d, "--password-file", newpw.to_str().unwrap()]).code,
        0
    );
    assert_eq!(
        run(&["user", "verify", "tanaka", "--data", d, "--password-file", newpw.to_str().unwrap()]).code,
        0
    );

    let key = dir.path().join("k.pub");
    std::fs::write(
        &key,
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFakeFakeFakeFakeFakeFakeFakeFakeFakeFakeFake tanaka@pc\n",
    )
    .unwrap();
    assert_eq!(run(&["user", "key", "add", "tanaka", "--file", key.to_str().unwrap(), "--data", d]).code, 0);
    std::fs::write(&key, "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQ tanaka@pc\n").unwrap();
    assert_one_line_failure(
        &run(&["user", "key", "add", "tanaka", "--file", key.to_str().unwrap(), "--data", d]),
        "Ed25519",
    );

    assert!(
        run(&["user", "reset-totp", "tanaka", "--data", d])
            .stdout
            .contains("second factor of tanaka removed")
    );
    assert_one_line_failure(&run(&["user", "reset-totp", "nobody", "--data", d]), "unknown user nobody");

    // Everything above left an intact, checked store.
    assert_eq!(run(&["check", "--data", d]).code, 0);
    assert_eq!(run(&["audit", "verify", "--data", d]).code, 0);
}

#[test]
fn missing_damaged_and_busy_data_directories_are_one_clear_line() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nothing-here");
    assert_one_line_failure(&run(&["check", "--data", missing.to_str().unwrap()]), "no Mamoru store");
    assert_one_line_failure(
        &run(&["audit", "verify", "--data", missing.to_str().unwrap()]),
        "no Mamoru store",
    );

    let broken = dir.path().join("broken");
    std::fs::create_dir(&broken).unwrap();
    std::fs::write(broken.join("mamoru.redb"), vec![0x5a; 8192]).unwrap();
    assert_one_line_failure(&run(&["check", "--data", broken.to_str().unwrap()]), "cannot open");

    let data = init(dir.path());
    let d = data.to_str().unwrap();
    let _server = Server::serve_plain(&data);
    assert_one_line_failure(&run(&["check", "--data", d]), "the server is running");
    assert_one_line_failure(&run(&["user", "list", "--data", d]), "in use by another Mamoru process");
}

#[test]
fn bad_arguments_are_refused_with_usage() {
    let r = run(&["serve", "--listen", "not-an-address", "--data", "/tmp"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.starts_with("error:"), "{}", r.stderr);
    let r = run(&["frobnicate"]);
    assert_eq!(r.code, 2);
    let help = run(&["--help"]);
    assert_eq!(help.code, 0);
    for verb in ["init", "serve", "demo", "user", "check", "audit"] {
        assert!(help.stdout.contains(verb), "{verb} missing from --help");
        assert_eq!(run(&[verb, "--help"]).code, 0, "{verb} --help");
    }
    // Plain HTTP is for loopback only.
    let dir = tempfile::tempdir().unwrap();
    let data = init(dir.path());
    let r = run(&["serve", "--data", data.to_str().unwrap(), "--listen", "0.0.0.0:0", "--plain-http"]);
    assert_one_line_failure(&r, "only allowed on a loopback address");
}

#[test]
fn the_demo_fills_a_store_that_checks_clean() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("demo");
    let d = data.to_str().unwrap();
    let r = run(&["demo", "--data", d, "--children", "40", "--no-serve"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("demo-admin") && r.stdout.contains("mamoru-demo"));
    let check = run(&["check", "--data", d]);
    assert_eq!(check.code, 0, "{}", check.stderr);
    assert!(check.stdout.lines().any(|l| l == "child 40"), "{}", check.stdout);
    assert_eq!(run(&["audit", "verify", "--data", d]).code, 0);
    // Not into a directory that holds something.
    assert_one_line_failure(&run(&["demo", "--data", d, "--no-serve"]), "not empty");
}

#[test]
fn audit_verify_names_the_first_tampered_entry() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("demo");
    let d = data.to_str().unwrap();
    assert_eq!(run(&["demo", "--data", d, "--children", "5", "--no-serve"]).code, 0);
    {
        const AUDIT: TableDefinition<u64, &[u8]> = TableDefinition::new("audit");
        let db = Database::open(data.join("mamoru.redb")).unwrap();
        let tx = db.begin_write().unwrap();
        {
            let mut t = tx.open_table(AUDIT).unwrap();
            let mut bytes = t.get(12).unwrap().unwrap().value().to_vec();
            let pos = bytes.iter().position(u8::is_ascii_digit).unwrap();
            bytes[pos] = if bytes[pos] == b'9' { b'8' } else { bytes[pos] + 1 };
            t.insert(12, bytes.as_slice()).unwrap();
        }
        tx.commit().unwrap();
    }
    let r = run(&["audit", "verify", "--data", d]);
    assert_one_line_failure(&r, "broken at entry 12");
    let check = run(&["check", "--data", d]);
    assert_ne!(check.code, 0);
    assert!(check.stderr.contains("audit entry 12"), "{}", check.stderr);
}

#[test]
fn devices_are_registered_listed_and_revoked() {
    let dir = tempfile::tempdir().unwrap();
    let data = init(dir.path());
    let d = data.to_str().unwrap();
    let add = run(&["device", "add", "iPad 3 (市 相談係)", "--data", d]);
    assert_eq!(add.code, 0, "{}", add.stderr);
    assert!(
        add.stdout.contains("device 1 added") && add.stdout.contains("code (shown once"),
        "{}",
        add.stdout
    );
    assert!(add.stdout.contains("/register"), "{}", add.stdout);
    assert!(run(&["device", "list", "--data", d]).stdout.contains("1\tpending\tiPad 3 (市 相談係)"));
    assert_eq!(run(&["device", "revoke", "1", "--data", d]).code, 0);
    assert!(run(&["device", "list", "--data", d]).stdout.contains("1\trevoked\t"));
    assert_one_line_failure(&run(&["device", "revoke", "7", "--data", d]), "unknown device 7");
    assert_one_line_failure(&run(&["device", "add", "  ", "--data", d]), "invalid name");
    assert_eq!(run(&["check", "--data", d]).code, 0);
}

#[test]
fn report_statistics_writes_the_xlsx_prints_the_totals_and_refuses_what_it_cannot_do() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d");
    let d = data.to_str().unwrap();
    let demo = run(&["demo", "--data", d, "--children", "12", "--no-serve"]);
    assert_eq!(demo.code, 0, "{}", demo.stderr);
    let out = dir.path().join("統計.xlsx");
    let today = crate::support::now().jst_date().to_string();
    let args = |from: &str, to: &str| {
        vec!["report", "statistics", "--data", d, "--from", from, "--to", to, "--out", out.to_str().unwrap()]
            .into_iter()
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    let call = |a: Vec<String>| run(&a.iter().map(String::as_str).collect::<Vec<_>>());
    let r = call(args("H12.1.1", &today));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("unit: 児童相談所 (1)"), "{}", r.stdout);
    let total = r
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("receipts_by_route total "))
        .and_then(|n| n.parse::<u64>().ok())
        .unwrap_or_else(|| panic!("no total in {}", r.stdout));
    assert!(total > 0, "the demo's cases are counted");
    assert!(std::fs::read(&out).unwrap().starts_with(b"PK"), "an XLSX (a zip)");
    assert_one_line_failure(&call(args("2000-01-01", &today)), "exists");
    std::fs::remove_file(&out).unwrap();
    assert_one_line_failure(&call(args("2025-04-01", "2025-03-31")), "--to is before --from");
    assert_one_line_failure(&call(args("R7.13.1", "2025-03-31")), "--from");
    assert!(!out.exists(), "nothing written on a refusal");
    let check = run(&["check", "--data", d]);
    assert_eq!(check.code, 0, "{}", check.stderr);
}
