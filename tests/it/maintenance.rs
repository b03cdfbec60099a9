//! 計画停止 from the command line: with the store free the verb opens it; while the server runs
//! it goes through the server's control socket, and the same rules answer.

use crate::support::{PASSWORD, Server, assert_one_line_failure, init, now, run};

#[test]
fn planned_stops_are_announced_changed_and_cancelled_from_the_command_line_with_or_without_a_server() {
    let dir = tempfile::tempdir().unwrap();
    let data = init(dir.path());
    let d = data.to_str().unwrap();
    let at = |seconds: i64| mamoru_core::time::Timestamp(now().0 + seconds).to_jst_string();
    let from = at(2 * 86_400);
    // As people type it: a date, a space, the time of day.
    let to = at(2 * 86_400 + 3 * 3600)[..16].replace('T', " ");

    // No server: the verb opens the store.
    let made =
        run(&["maintenance", "announce", "--data", d, "--from", &from, "--to", &to, "--reason", "OSの更新"]);
    assert_eq!(made.code, 0, "{}", made.stderr);
    assert!(
        made.stdout.starts_with("announced: 1 1 coming ") && made.stdout.contains("OSの更新"),
        "{}",
        made.stdout
    );
    assert_one_line_failure(
        &run(&["maintenance", "announce", "--data", d, "--from", &at(-60), "--to", &to, "--reason", "x"]),
        "from",
    );
    assert_one_line_failure(
        &run(&["maintenance", "announce", "--data", d, "--from", "明日", "--to", &to, "--reason", "x"]),
        "from",
    );

    // A server runs: the same verbs through it.
    let s = Server::serve_plain(&data);
    assert!(data.join("control.sock").exists());
    let changed = run(&["maintenance", "change", "--data", d, "1", "--reason", "OSとDBの更新"]);
    assert_eq!(changed.code, 0, "{}", changed.stderr);
    assert!(changed.stdout.starts_with("changed: 1 2 coming "), "{}", changed.stdout);
    let admin = s.sign_in("admin", PASSWORD);
    let list = s.request("GET", "/api/v1/maintenance", Some(&admin), None).json();
    assert_eq!(list["maintenance"][0]["body"]["reason"], "OSとDBの更新", "{list}");
    // A revision changed meanwhile is refused, in one line; the rules are core's.
    assert_one_line_failure(&run(&["maintenance", "cancel", "--data", d, "1", "--rev", "1"]), "changed");
    assert_one_line_failure(
        &run(&["maintenance", "change", "--data", d, "1", "--to", &at(2 * 86_400 + 73 * 3600)]),
        "72",
    );
    assert_one_line_failure(&run(&["maintenance", "cancel", "--data", d, "9"]), "not found");
    let cancelled = run(&["maintenance", "cancel", "--data", d, "1"]);
    assert_eq!(cancelled.code, 0, "{}", cancelled.stderr);
    assert!(cancelled.stdout.starts_with("cancelled: 1 3 cancelled "), "{}", cancelled.stdout);
    assert_eq!(s.stop(), 0);
    assert!(!data.join("control.sock").exists());

    // Stopped again: the list reads the store; each change is in the audit log as the command line's.
    let list = run(&["maintenance", "list", "--data", d]);
    assert_eq!(list.code, 0, "{}", list.stderr);
    assert_eq!(list.stdout.lines().count(), 1, "{}", list.stdout);
    assert!(list.stdout.starts_with("1 3 cancelled "), "{}", list.stdout);
    let audit = run(&["audit", "verify", "--data", d]);
    assert_eq!(audit.code, 0, "{}", audit.stderr);
}
