//! The SSH console end to end: the real OpenSSH client, driven in tmux as a person would.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use mamoru_core::store::Reader as _;

use mamoru_core::totp;

use crate::support::{PASSWORD, Server, init, now, run};

/// A new Ed25519 key pair at `DIR/NAME` (and `NAME.pub`).
fn keygen(dir: &Path, name: &str) -> PathBuf {
    let key = dir.join(name);
    let out = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", "test@mamoru", "-f"])
        .arg(&key)
        .output()
        .unwrap_or_else(|e| panic!("ssh-keygen (Debian's openssh-client) must be installed: {e}"));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    key
}

/// The shell command for an interactive `ssh` that prints its exit status when it ends.
fn ssh_command(key: &Path, ssh: &str, login: &str) -> String {
    let quoted: Vec<String> = ssh_args(key, ssh, login).iter().map(|a| format!("'{a}'")).collect();
    format!("ssh {}; echo SSH-EXIT-$?; exec cat", quoted.join(" "))
}

fn ssh_args(key: &Path, ssh: &str, login: &str) -> Vec<String> {
    let (host, port) = ssh.rsplit_once(':').unwrap();
    [
        "-i",
        key.to_str().unwrap(),
        "-o",
        "StrictHostKeyChecking=no",
        "-o",
        "UserKnownHostsFile=/dev/null",
        "-o",
        "IdentitiesOnly=yes",
        "-o",
        "LogLevel=ERROR",
        "-p",
        port,
        &format!("{login}@{host}"),
    ]
    .map(str::to_owned)
    .to_vec()
}

/// A tmux server of this test's own, killed on drop.
struct Tmux {
    socket: String,
}

impl Tmux {
    /// Starts the tmux server with an idle window. Commands end in `exec cat` (waiting on the
    /// terminal) so that their window stays open and a test can read how they ended.
    fn new(name: &str) -> Self {
        let t = Self { socket: format!("mamoru-test-{name}-{}", std::process::id()) };
        t.cmd(&["new-session", "-d", "-s", "main", "-n", "idle", "-x", "100", "-y", "30", "cat"]);
        t
    }

    fn cmd(&self, args: &[&str]) -> String {
        let out = Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("tmux must be installed: {e}"));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Opens a window running `command` at the given size.
    fn open(&self, window: &str, cols: u16, rows: u16, command: &str) {
        self.cmd(&["new-window", "-t", "main", "-n", window, command]);
        let (c, r) = (cols.to_string(), rows.to_string());
        self.cmd(&["resize-window", "-t", &format!("main:{window}"), "-x", &c, "-y", &r]);
    }

    fn screen(&self, window: &str) -> String {
        self.cmd(&["capture-pane", "-p", "-t", &format!("main:{window}")])
    }

    fn keys(&self, window: &str, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t"];
        let target = format!("main:{window}");
        args.push(&target);
        args.extend_from_slice(keys);
        self.cmd(&args);
    }

    /// Waits until the window shows `text`; panics with the screen if it never does.
    fn wait_for(&self, window: &str, text: &str) -> String {
        self.wait_until(window, &format!("{text:?}"), |screen| screen.contains(text))
    }

    /// Polls the window's screen until `done` holds; panics with the screen if it never does.
    fn wait_until(&self, window: &str, what: &str, done: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let screen = self.screen(window);
            if done(&screen) {
                return screen;
            }
            assert!(Instant::now() < deadline, "never saw {what} in window {window}:\n{screen}");
            std::thread::park_timeout(Duration::from_millis(100));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux").arg("-L").arg(&self.socket).arg("kill-server").output();
    }
}

/// `mamoru serve` over a store whose administrator `admin` has a console key.
fn console_server(dir: &Path) -> (Server, PathBuf) {
    let data = init(dir);
    let key = keygen(dir, "admin_key");
    let pubkey = key.with_extension("pub");
    let r = run(&[
        "user",
        "key",
        "add",
        "admin",
        "--file",
        pubkey.to_str().unwrap(),
        "--data",
        data.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let s = Server::serve_plain(&data);
    (s, key)
}

#[test]
fn a_tablet_revoked_in_the_console_is_signed_out_on_its_next_request() {
    let dir = tempfile::tempdir().unwrap();
    let (s, key) = console_server(dir.path());
    // The tablet: registered, and a session signed in on it.
    let admin = s.sign_in("admin", PASSWORD);
    let reg = s.request("POST", "/api/v1/devices", Some(&admin), Some(r#"{"name":"iPad 12 (児相 1係)"}"#));
    assert_eq!(reg.status, 201, "{}", reg.body);
    let secret = reg.json()["secret"].as_str().unwrap().to_owned();
    let cookie = format!("{}={secret}", mamoru_web::DEVICE_COOKIE);
    let signed = s.request_with_cookie(
        "POST",
        "/api/v1/session",
        &cookie,
        Some(&format!(r#"{{"login":"admin","password":"{PASSWORD}"}}"#)),
    );
    assert_eq!(signed.status, 200, "{}", signed.body);
    let tablet = signed.json()["token"].as_str().unwrap().to_owned();
    assert_eq!(s.request("GET", "/api/v1/devices", Some(&tablet), None).status, 200);

    // 21:00, "my tablet was stolen": the administrator opens the console...
    let tmux = Tmux::new("revoke");
    tmux.open("a", 100, 30, &ssh_command(&key, &s.ssh, "admin"));
    let home = tmux.wait_for("a", "概要");
    assert!(home.contains("admin（システム管理者）"), "{home}");
    assert!(home.contains("q 終了"), "the help bar is always there:\n{home}");
    // ... a second console at the same time, on another screen, does not interfere.
    tmux.open("b", 90, 24, &ssh_command(&key, &s.ssh, "admin"));
    tmux.wait_for("b", "概要");
    tmux.keys("b", &["2"]);
    tmux.wait_for("b", "ログイン");

    // ... opens 端末, revokes the tablet (confirming once).
    tmux.keys("a", &["3"]);
    tmux.wait_for("a", "iPad 12 (児相 1係)");
    tmux.keys("a", &["r"]);
    tmux.wait_for("a", "失効させますか");
    tmux.keys("a", &["y"]);
    let after = tmux.wait_for("a", "端末を失効させました");
    assert!(after.contains("失効 "), "{after}");

    // The stolen tablet's session is refused on its next request; the other console is unmoved.
    assert_eq!(s.request("GET", "/api/v1/devices", Some(&tablet), None).status, 401);
    let other = tmux.screen("b");
    assert!(other.contains("ログイン") && !other.contains("失効させますか"), "{other}");

    // A resize redraws at the new size.
    tmux.cmd(&["resize-window", "-t", "main:a", "-x", "64", "-y", "18"]);
    tmux.wait_until("a", "a redraw at 64x18", |screen| {
        let lines: Vec<&str> = screen.lines().collect();
        lines.len() == 18 && lines[17].contains("終了")
    });

    // q ends the session cleanly.
    tmux.keys("a", &["q"]);
    tmux.wait_for("a", "SSH-EXIT-0");
    tmux.keys("b", &["q"]);
    tmux.wait_for("b", "SSH-EXIT-0");
}

#[test]
fn the_console_asks_for_a_code_after_the_key_and_someone_without_one_enrols_at_the_first_sign_in() {
    let dir = tempfile::tempdir().unwrap();
    let data = init(dir.path());
    // On, as by default (the shared setup turns it off for the other tests).
    let config = data.join("mamoru.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    let (web, ssh) = text.split_at(text.find("[ssh]").unwrap());
    assert!(ssh.contains("require_totp = false"), "{ssh}");
    std::fs::write(&config, format!("{web}{}", ssh.replace("require_totp = false", "require_totp = true")))
        .unwrap();
    let key = keygen(dir.path(), "admin_key");
    let pubkey = key.with_extension("pub");
    let data_arg = data.to_str().unwrap();
    let r = run(&["user", "key", "add", "admin", "--file", pubkey.to_str().unwrap(), "--data", data_arg]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let s = Server::serve_plain(&data);

    // The key alone no longer opens anything (a batch client cannot answer the prompt).
    let out = Command::new("ssh")
        .args(["-o", "BatchMode=yes"])
        .args(ssh_args(&key, &s.ssh, "admin"))
        .args(["-s", "sftp"])
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(255), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("Permission denied"), "{out:?}");

    // The first sign-in shows the key to add to the app (in the prompt, which `LogLevel=ERROR`
    // does not hide), refuses a wrong code and asks again, and takes the app's code.
    let tmux = Tmux::new("totp");
    tmux.open("a", 110, 30, &ssh_command(&key, &s.ssh, "admin"));
    let screen = tmux.wait_for("a", "First code for key ");
    let typed = screen.split("First code for key ").nth(1).unwrap().split(':').next().unwrap();
    let secret = totp::url_secret(&format!("otpauth://totp/x?secret={}", typed.replace(' ', ""))).unwrap();
    let right = totp::code_at(&secret, now()).unwrap();
    let wrong = if right == "000000" { "111111" } else { "000000" };
    tmux.keys("a", &[wrong, "Enter"]);
    tmux.wait_until("a", "the prompt again", |screen| screen.matches("First code for key ").count() == 2);
    tmux.keys("a", &[&totp::code_at(&secret, now()).unwrap(), "Enter"]);
    tmux.wait_for("a", "概要");
    tmux.keys("a", &["q"]);
    tmux.wait_for("a", "SSH-EXIT-0");

    // From now on: the key, then a code (a new one: each is taken once).
    tmux.open("b", 110, 30, &ssh_command(&key, &s.ssh, "admin"));
    tmux.wait_for("b", "Authenticator code:");
    tmux.keys("b", &[&totp::code_at(&secret, now().plus(30)).unwrap(), "Enter"]);
    tmux.wait_for("b", "概要");
    tmux.keys("b", &["5"]);
    let log = tmux.wait_for("b", "totp_enrolled");
    let signed: Vec<&str> = log.lines().filter(|l| l.contains("console_sign_in")).collect();
    assert_eq!(signed.len(), 3, "the wrong code and two sign-ins:\n{log}");
    assert_eq!(signed.iter().filter(|l| l.contains(" ok ")).count(), 2, "{log}");
    tmux.keys("b", &["q"]);
    tmux.wait_for("b", "SSH-EXIT-0");
}

#[test]
fn unlisted_keys_passwords_and_commands_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (s, key) = console_server(dir.path());
    let stranger = keygen(dir.path(), "stranger_key");
    let batch = |extra: &[&str], key: &Path, login: &str| {
        let out = Command::new("ssh")
            .args(["-o", "BatchMode=yes", "-o", "ConnectTimeout=10"])
            .args(extra)
            .args(ssh_args(key, &s.ssh, login))
            .arg("echo")
            .arg("hello")
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap();
        (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned())
    };
    // An unlisted key, and a listed key under another login.
    let (code, err) = batch(&[], &stranger, "admin");
    assert_eq!(code, Some(255), "{err}");
    assert!(err.contains("Permission denied (publickey)"), "{err}");
    let (code, err) = batch(&[], &key, "nobody");
    assert_eq!(code, Some(255), "{err}");
    // Passwords and keyboard-interactive are not even offered.
    let (code, err) = batch(
        &["-o", "PubkeyAuthentication=no", "-o", "PreferredAuthentications=password,keyboard-interactive"],
        &key,
        "admin",
    );
    assert_eq!(code, Some(255), "{err}");
    assert!(err.contains("Permission denied (publickey)"), "only publickey is listed: {err}");
    // A listed key gets in, but this server runs the console, not commands.
    let (code, err) = batch(&[], &key, "admin");
    assert_ne!(code, Some(0), "{err}");
    assert!(!err.contains("Permission denied"), "{err}");
    // A client offering a stranger's key before the listed one gets in, and is not counted.
    let out = Command::new("ssh")
        .args(["-o", "BatchMode=yes", "-i", stranger.to_str().unwrap()])
        .args(ssh_args(&key, &s.ssh, "admin"))
        .args(["-s", "sftp"])
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert!(!String::from_utf8_lossy(&out.stderr).contains("Permission denied"), "{out:?}");

    // The refusals are in the audit log, one per connection: the administrator finds them in
    // 監査ログ by filtering on the action.
    let tmux = Tmux::new("refused");
    tmux.open("a", 110, 30, &ssh_command(&key, &s.ssh, "admin"));
    tmux.wait_for("a", "概要");
    tmux.keys("a", &["5"]);
    tmux.wait_for("a", "console_sign_in");
    tmux.keys("a", &["/"]);
    tmux.wait_for("a", "監査ログの絞り込み");
    tmux.keys("a", &["Tab", "Tab", "console_sign_in", "Enter"]);
    let screen = tmux.wait_for("a", "操作=console_sign_in");
    let refused: Vec<&str> = screen.lines().filter(|l| l.contains("bad_cred")).collect();
    assert_eq!(refused.len(), 2, "the stranger's key as admin, the admin's key as nobody:\n{screen}");
    assert!(
        refused.iter().any(|l| l.contains("admin")) && refused.iter().any(|l| l.contains("不明")),
        "{screen}"
    );
    assert_eq!(screen.matches(" ok ").count(), 3, "the command, the sftp and this console:\n{screen}");
    tmux.keys("a", &["q"]);
    tmux.wait_for("a", "SSH-EXIT-0");
}

#[test]
fn the_local_console_attaches_to_the_running_server_and_opens_the_store_without_one() {
    let dir = tempfile::tempdir().unwrap();
    let (s, _key) = console_server(dir.path());
    let data = dir.path().join("data");
    let console = format!("{} console --data {}", env!("CARGO_BIN_EXE_mamoru"), data.display());
    let tmux = Tmux::new("local");
    let open =
        |window: &str| tmux.open(window, 100, 30, &format!("{console}; echo CONSOLE-EXIT-$?; exec cat"));
    // With the server running: the same app, through the server's socket.
    open("served");
    let home = tmux.wait_for("served", "概要");
    assert!(home.contains("local-cli（システム管理者）"), "{home}");
    tmux.keys("served", &["3"]);
    tmux.wait_for("served", "(ありません)");
    // The store is checked by the running server (redb's page check on a copy); the CLI, which
    // cannot open a store in use, says where to go.
    let refused = crate::support::run(&["check", "--data", data.to_str().unwrap()]);
    crate::support::assert_one_line_failure(&refused, "check it from the console");
    tmux.keys("served", &["6", "i", "y"]);
    tmux.wait_for("served", "問題は見つかりませんでした");
    tmux.keys("served", &["Escape"]);
    tmux.keys("served", &["q"]);
    tmux.wait_for("served", "CONSOLE-EXIT-0");
    assert_eq!(s.stop(), 0);

    // Without a server (it removed its socket on the way out): the console opens the store itself.
    open("alone");
    tmux.wait_for("alone", "概要");
    tmux.keys("alone", &["2"]);
    tmux.wait_for("alone", "admin");
    tmux.keys("alone", &["q"]);
    tmux.wait_for("alone", "CONSOLE-EXIT-0");
}

/// Runs OpenSSH's `sftp` in batch mode with `commands` (a leading `-` lets a command fail).
fn sftp(key: &Path, ssh: &str, login: &str, commands: &str) -> (Option<i32>, String) {
    let (host, port) = ssh.rsplit_once(':').unwrap();
    let mut child = Command::new("sftp")
        .args(["-b", "-", "-i", key.to_str().unwrap(), "-P", port])
        .args([
            "-o",
            "StrictHostKeyChecking=no",
            "-o",
            "UserKnownHostsFile=/dev/null",
            "-o",
            "IdentitiesOnly=yes",
        ])
        .args(["-o", "LogLevel=ERROR", "-o", "BatchMode=yes"])
        .arg(format!("{login}@{host}"))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("sftp (Debian's openssh-client) must be installed: {e}"));
    std::io::Write::write_all(child.stdin.as_mut().unwrap(), commands.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.code(), text)
}

#[test]
fn backups_and_exports_are_fetched_read_only_over_sftp_and_scp_and_each_download_is_audited() {
    let dir = tempfile::tempdir().unwrap();
    let data = init(dir.path());
    let d = data.to_str().unwrap();
    assert_eq!(run(&["backup", "create", "--data", d]).code, 0);
    // An administrator, and a supervisor (who may export the audit log but not run the server).
    let admin_key = keygen(dir.path(), "admin_key");
    let sup_key = keygen(dir.path(), "sup_key");
    let pw = crate::support::password_file(dir.path(), PASSWORD);
    let add = ["user", "add", "sup", "--role", "supervisor", "--unit", "1", "--name", "監査 担当"];
    let r = run(&[&add[..], &["--password-file", pw.to_str().unwrap(), "--data", d]].concat());
    assert_eq!(r.code, 0, "{}", r.stderr);
    for (login, key) in [("admin", &admin_key), ("sup", &sup_key)] {
        let pubkey = key.with_extension("pub");
        let r = run(&["user", "key", "add", login, "--file", pubkey.to_str().unwrap(), "--data", d]);
        assert_eq!(r.code, 0, "{}", r.stderr);
    }
    std::fs::create_dir_all(data.join("exports")).unwrap();
    std::fs::write(data.join("exports/audit-20261124-090000.csv"), "\u{feff}seq,at\n1,x\n").unwrap();
    std::fs::write(data.join("exports/.audit-20261124-100000.csv.tmp"), "half").unwrap();
    std::os::unix::fs::symlink("/etc/passwd", data.join("exports/passwd")).unwrap();
    // A folder of thousands (the archive gains a segment a minute) lists in several replies.
    for i in 0..3000 {
        std::fs::write(data.join(format!("exports/audit-20250101-{i:06}-many-files-listed.csv")), "x")
            .unwrap();
    }
    let s = Server::serve_plain(&data);
    let pc = dir.path().join("pc");
    std::fs::create_dir(&pc).unwrap();

    // The administrator sees both folders and fetches a generation with sftp: the same bytes.
    let (code, out) = sftp(
        &admin_key,
        &s.ssh,
        "admin",
        &format!("ls\nls backups\nget backups/gen-000001.age {}\n", pc.display()),
    );
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("backups") && out.contains("exports") && out.contains("gen-000001.json"), "{out}");
    let fetched = std::fs::read(pc.join("gen-000001.age")).unwrap();
    let backups = data.join("backups");
    assert_eq!(fetched, std::fs::read(backups.join("gen-000001.age")).unwrap());

    // Nothing can be changed, nothing outside the two folders named, no link or half-file seen.
    let (code, out) = sftp(
        &admin_key,
        &s.ssh,
        "admin",
        &format!(
            "-put {} backups/x\n-rm backups/gen-000001.json\n-rename backups/gen-000001.json backups/y\n\
             -mkdir backups/z\n-chmod 777 backups/gen-000001.age\n-get ../../etc/hostname {pc}/h\n\
             -get exports/passwd {pc}/p\n",
            pw.display(),
            pc = pc.display()
        ),
    );
    assert_eq!(code, Some(0), "{out}");
    assert_eq!(out.matches("Permission denied").count(), 5, "{out}");
    assert_eq!(out.matches("not found").count(), 2, "{out}");
    assert!(!pc.join("h").exists() && !pc.join("p").exists());
    let (code, out) = sftp(&admin_key, &s.ssh, "admin", "ls -1a exports\n");
    assert_eq!(code, Some(0), "{out}");
    assert_eq!(
        out.lines().filter(|l| l.contains("-many-files-listed.csv")).count(),
        3000,
        "every file listed"
    );
    assert!(out.contains("audit-20261124-090000.csv"), "{out}");
    assert!(!out.contains("passwd") && !out.contains(".audit-"), "{out}");
    let mut names: Vec<String> = std::fs::read_dir(&backups)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["archive", "gen-000001.age", "gen-000001.json"]);

    // OpenSSH's scp (SFTP underneath) fetches the whole folder and reports success.
    let (host, port) = s.ssh.rsplit_once(':').unwrap();
    let scp = Command::new("scp")
        .args(["-r", "-i", admin_key.to_str().unwrap(), "-P", port])
        .args(["-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "BatchMode=yes"])
        .args(["-o", "LogLevel=ERROR", "-o", "IdentitiesOnly=yes"])
        .arg(format!("admin@{host}:/backups"))
        .arg(pc.join("copy"))
        .output()
        .unwrap();
    assert!(scp.status.success(), "{}", String::from_utf8_lossy(&scp.stderr));
    assert_eq!(std::fs::read(pc.join("copy/gen-000001.age")).unwrap(), fetched);

    // The supervisor sees the exports only.
    let (code, out) =
        sftp(&sup_key, &s.ssh, "sup", &format!("ls\n-get backups/gen-000001.age {}/s\n", pc.display()));
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("exports") && !out.contains("backups\n") && out.contains("not found"), "{out}");
    assert!(!pc.join("s").exists());

    // Each download is in the audit log, by whom and which file.
    assert_eq!(s.stop(), 0);
    let store = mamoru_core::store::Store::open(&data).unwrap();
    let r = store.read().unwrap();
    let downloads: Vec<String> = r
        .audit_entries(1, 10_000)
        .unwrap()
        .into_iter()
        .map(|(_, b)| mamoru_core::audit::AuditEntry::decode(&b).unwrap())
        .filter(|e| e.action == "download_file")
        .inspect(|e| assert_eq!(e.address.as_deref(), Some("127.0.0.1"), "the SSH peer is recorded"))
        .map(|e| format!("{} {} {}", e.actor, e.detail.unwrap_or_default(), e.result))
        .collect();
    assert_eq!(
        downloads,
        [
            "1 backups/gen-000001.age ok",
            "1 backups/archive/seg-000000000001-000000000003.age ok",
            "1 backups/archive/seg-000000000001-000000000003.json ok",
            // The backup's own audit entry (backup_verified, shipped with the next command's
            // changes) and the three CLI changes after the generation, each archived before
            // its command returned (the server was not running).
            "1 backups/archive/seg-000000000004-000000000006.age ok",
            "1 backups/archive/seg-000000000004-000000000006.json ok",
            "1 backups/archive/seg-000000000007-000000000007.age ok",
            "1 backups/archive/seg-000000000007-000000000007.json ok",
            "1 backups/archive/seg-000000000008-000000000008.age ok",
            "1 backups/archive/seg-000000000008-000000000008.json ok",
            "1 backups/gen-000001.age ok",
            "1 backups/gen-000001.json ok",
        ],
        "sftp's get, then scp's whole folder; the supervisor's refused get opened nothing"
    );
}
