//! The console's app and drawing, on ratatui's `TestBackend`, over a real store: scripted keys, then
//! what a person would see.
#![expect(clippy::unwrap_used, reason = "tests fail loudly")]

use mamoru_core::device::{DeviceChange, DeviceName};
use std::sync::Arc;

use mamoru_core::ids::UnitId;
use mamoru_core::service::NewStaff;
use mamoru_core::staff::{Login, Password, Role};
use mamoru_core::store::Store;
use mamoru_core::time::{FixedClock, Timestamp};
use mamoru_core::{Actor, Service};
use mamoru_tui::app::{Certificate, Dialog, Generation, Host, Requests};
use mamoru_tui::keys::Key;
use mamoru_tui::term::{self, Input};
use mamoru_tui::{App, Flow, Screen};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use tokio::sync::mpsc;

mod maintenance;

/// What the server would tell the console, fixed for the test.
struct FixedHost {
    disk_free: u64,
}

const FIXED: FixedHost = FixedHost { disk_free: 52_000_000_000 };

impl Host for FixedHost {
    fn uptime_seconds(&self) -> u64 {
        3 * 86_400 + 4 * 3600
    }
    fn store_bytes(&self) -> Option<u64> {
        Some(3_100_000_000)
    }
    fn disk(&self) -> Option<mamoru_core::store::DiskSpace> {
        Some(mamoru_core::store::DiskSpace { free_bytes: self.disk_free, total_bytes: 200_000_000_000 })
    }
    fn requests(&self) -> Requests {
        Requests { per_minute: 120, p50_ms: 2.1, p99_ms: 8.0, errors: 0 }
    }
    fn generations(&self) -> Result<Vec<Generation>, String> {
        Ok(vec![Generation {
            name: "7 (変更 1200 まで)".into(),
            created: "2026-11-23T02:00:00+09:00".into(),
            bytes: 280_000_000,
            verified: true,
        }])
    }
    fn backup_now(&self) -> Result<String, String> {
        Err("disk full".into())
    }
    fn restore_drill(&self) -> Result<mamoru_core::drill::RestoreDrill, String> {
        Ok(mamoru_core::drill::RestoreDrill {
            started_at: mamoru_core::time::Timestamp(0),
            millis: 3_250,
            generation: Some(7),
            generation_bytes: 280_000_000,
            changes_replayed: 1_200,
            up_to: Some(mamoru_core::time::Timestamp(1_795_000_000)),
            failure: None,
            by: "console".into(),
        })
    }
    fn certificate(&self) -> Option<Certificate> {
        // Thirty days after the world's clock: to be renewed.
        Some(Certificate { not_after: Timestamp::parse("2026-12-23T21:00:00+09:00").unwrap(), own: true })
    }
    fn store_export(
        &self,
        name: &str,
    ) -> Result<(Box<dyn mamoru_core::service::export::Sink>, String), String> {
        let dir = std::env::temp_dir().join(format!("mamoru-tui-test-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        let shown = dir.display().to_string();
        Ok((Box::new(Folder(dir)), shown))
    }
    fn save_export(&self, name: &str, bytes: &[u8]) -> Result<String, String> {
        let path = std::env::temp_dir().join(format!("mamoru-tui-test-{}-{name}", std::process::id()));
        std::fs::write(&path, bytes).map_err(|e| e.to_string())?;
        Ok(path.display().to_string())
    }
}

/// A whole-store export written into a folder.
struct Folder(std::path::PathBuf);

impl mamoru_core::service::export::Sink for Folder {
    fn create(&mut self, name: &str) -> std::io::Result<Box<dyn std::io::Write>> {
        let path = self.0.join(name);
        std::fs::create_dir_all(path.parent().unwrap())?;
        Ok(Box::new(std::fs::File::create(path)?))
    }
}

struct World {
    _dir: tempfile::TempDir,
    svc: Arc<Service>,
    admin: Actor,
    units: Vec<UnitId>,
    clock: Arc<FixedClock>,
}

fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let t0 = Timestamp::parse("2026-11-23T21:00:00+09:00").unwrap();
    let store = Store::create(dir.path(), t0).unwrap();
    let clock = Arc::new(FixedClock::new(t0));
    let svc = Arc::new(Service::new(store, clock.clone()));
    let id = svc
        .bootstrap(
            &Login::parse("admin").unwrap(),
            "管理者",
            &Password::new("correct horse battery").unwrap(),
        )
        .unwrap();
    let units: Vec<UnitId> = svc.units().unwrap().iter().map(|u| UnitId(u.id)).collect();
    let admin = svc.local_actor(id, "console").unwrap();
    World { _dir: dir, svc, admin, units, clock }
}

/// Adds a staff member of the first unit with `password`; returns them as a console actor.
fn staff(w: &World, login: &str, name: &str, role: Role, password: &str) -> Actor {
    let new = NewStaff {
        login: Login::parse(login).unwrap(),
        display_name: name.into(),
        role,
        units: vec![w.units[0]],
    };
    let id = w.svc.add_staff(&w.admin, new, &Password::new(password).unwrap()).unwrap();
    w.svc.local_actor(id, "console").unwrap()
}

fn app(w: &World, actor: &Actor) -> App {
    App::new(w.svc.clone(), Arc::new(FIXED), actor.clone())
}

/// Draws the app at `cols`×`rows` and returns the screen as lines.
fn screen(app: &App, cols: u16, rows: u16) -> Vec<String> {
    let mut t = Terminal::new(TestBackend::new(cols, rows)).unwrap();
    t.draw(|f| mamoru_tui::draw::draw(&app.state, f)).unwrap();
    let buf = t.backend().buffer().clone();
    (0..rows)
        .map(|y| {
            // A wide (Japanese) character fills two cells; the second one is not a character.
            let mut line = String::new();
            let mut x = 0;
            while x < cols {
                let symbol = buf[(x, y)].symbol();
                line.push_str(symbol);
                x += u16::try_from(unicode_width::UnicodeWidthStr::width(symbol).max(1)).unwrap();
            }
            line
        })
        .collect()
}

fn keys(app: &mut App, text: &str) {
    for c in text.chars() {
        assert_eq!(app.handle(Key::Char(c)), Flow::Continue);
    }
}

#[test]
fn the_dashboard_raises_the_low_disk_alarm_before_the_disk_is_full() {
    let w = world();
    for (free, alarm) in [(900_000_000, "残りわずか"), (20_000_000, "満杯・保存不可")] {
        let a = App::new(w.svc.clone(), Arc::new(FixedHost { disk_free: free }), w.admin.clone());
        let all = screen(&a, 80, 24).join("\n");
        assert!(all.contains(alarm), "{free} bytes free: {all}");
    }
    // The latest self-probe: none yet, then what it found.
    let a = app(&w, &w.admin);
    let all = screen(&a, 80, 24).join("\n");
    assert!(all.contains("自己監視 まだ記録がありません"), "{all}");
    let probe = mamoru_core::uptime::Probe {
        at: w.svc.now(),
        web: true,
        store: true,
        disk: Some(mamoru_core::store::DiskState::Low),
        backup: mamoru_core::service::BackupState::Ok,
        archive: true,
        certificate_days: None,
        clock: true,
        store_bytes: None,
        disk_space: None,
    };
    w.svc.record_probe(probe.clone()).unwrap();
    w.svc.update_alerts(&probe, None, 180).unwrap();
    let a = app(&w, &w.admin);
    let all = screen(&a, 80, 24).join("\n");
    assert!(all.contains("要対応: ディスク残りわずか"), "{all}");
    // Its alert is open and not yet told (no mail or hook here).
    assert!(all.contains("警報    ディスク残りわずか 11-23 21:00〜 未通知"), "{all}");
    // One probe is no period yet; three minutes later, this month's 稼働率 so far (a low disk
    // does not stop the service).
    assert!(all.contains("今月稼働率 まだ記録がありません"), "{all}");
    w.clock.advance(180);
    w.svc.record_probe(mamoru_core::uptime::Probe { at: w.svc.now(), ..probe }).unwrap();
    let all = screen(&app(&w, &w.admin), 80, 24).join("\n");
    assert!(all.contains("今月稼働率 100.00% (目標 99.8%)  停止 0分  計画停止 0分"), "{all}");
}

#[test]
fn the_console_opens_on_the_dashboard_with_figures_and_the_help_bar() {
    let w = world();
    let a = app(&w, &w.admin);
    assert_eq!(a.state.screen, Screen::Dashboard);
    let s = screen(&a, 80, 24);
    let all = s.join("\n");
    assert!(s[0].contains("admin（システム管理者）"), "{all}");
    assert!(all.contains("3日 4時間"), "{all}");
    assert!(all.contains("ストア 3.1 GB") && all.contains("ディスク空き 52.0 GB"), "{all}");
    assert!(all.contains("稼働中") && !all.contains("残りわずか"), "{all}");
    assert!(all.contains("120 件/分") && all.contains("p99 8.0 ms"), "{all}");
    assert!(all.contains("バックアップ まだありません"), "{all}");
    assert!(all.contains("証明書  2026-12-23 まで残り 30 日: mamoru tls renew を実行してください"), "{all}");
    assert!(all.contains("警報    なし"), "{all}");
    // Every labelled line whole: nothing wrapped over the start of the next.
    for l in ["稼働    ", "容量    ", "自己監視 ", "通信    ", "バックアップ ", "セッション "]
    {
        assert!(s.iter().any(|row| row.starts_with(l)), "{l:?} not at a line's start: {all}");
    }
    assert!(all.contains("児童相談所: 0 件"), "overdue counts per unit: {all}");
    assert!(s[23].contains("q 終了"), "help bar on the last line: {all}");
}

#[test]
fn every_screen_draws_at_every_size_with_the_help_bar_visible() {
    let w = world();
    w.svc.register_device(&w.admin, &DeviceName::parse("iPad 1 (児相1係)").unwrap()).unwrap();
    let mut a = app(&w, &w.admin);
    for (i, screen_kind) in Screen::ALL.iter().enumerate() {
        keys(&mut a, &(i + 1).to_string());
        assert_eq!(a.state.screen, *screen_kind);
        for (cols, rows) in [(80, 24), (60, 16), (132, 43), (20, 6)] {
            let s = screen(&a, cols, rows);
            let last = &s[usize::from(rows) - 1];
            assert!(
                last.trim_start().starts_with(|c: char| !c.is_whitespace()),
                "{screen_kind:?} {cols}x{rows}"
            );
            // However long the screen's own keys, the way out stays on the help bar.
            if cols >= 20 {
                assert!(last.contains("q 終了"), "{screen_kind:?} {cols}x{rows}: {last}");
            }
            // Tabs name the screen on a wide terminal.
            if cols >= 80 {
                assert!(s[1].contains(screen_kind.label()), "{:?}", s[1]);
            }
        }
    }
    // Tab and BackTab walk the screens in order, wrapping.
    keys(&mut a, "1");
    a.handle(Key::BackTab);
    assert_eq!(a.state.screen, Screen::Activity);
    a.handle(Key::Tab);
    assert_eq!(a.state.screen, Screen::Dashboard);
}

#[test]
fn a_device_is_registered_by_a_code_shown_once_and_revoked_after_one_confirmation() {
    let w = world();
    let mut a = app(&w, &w.admin);
    keys(&mut a, "3n");
    keys(&mut a, "iPad 12 (児相1係)");
    a.handle(Key::Enter);
    let Some(Dialog::Shown { lines, .. }) = a.state.dialog.clone() else { panic!("{:?}", a.state.dialog) };
    let code = lines[1].clone();
    assert_eq!(code.len(), 14, "ABCD-EFGH-JKLM: {code}");
    let drawn = screen(&a, 100, 24).join("\n");
    assert!(drawn.contains(&code), "the code is on screen once: {drawn}");
    a.handle(Key::Char('x'));
    assert!(a.state.dialog.is_none());
    let drawn = screen(&a, 100, 24).join("\n");
    assert!(!drawn.contains(&code), "and gone after a key");
    assert!(drawn.contains("登録待ち"), "{drawn}");
    // The tablet enters the code (lower case, full-width, as an IME may give it).
    let typed: String = code.to_lowercase().chars().map(|c| if c == '-' { ' ' } else { c }).collect();
    let typed = typed.replace('a', "ａ");
    let (device, secret) = w.svc.redeem_device_code(&typed, None).unwrap();
    assert!(w.svc.redeem_device_code(&code, None).is_err(), "once only");
    assert_eq!(w.svc.device_for_secret(&secret).unwrap(), device);
    a.handle(Key::Char('3'));
    assert!(screen(&a, 100, 24).join("\n").contains("有効"));

    // n cancels; the tablet stays active.
    keys(&mut a, "r");
    assert!(matches!(a.state.dialog, Some(Dialog::Confirm { .. })));
    keys(&mut a, "n");
    assert!(w.svc.device_for_secret(&secret).is_ok());
    // r, y revokes it.
    keys(&mut a, "ry");
    assert!(w.svc.device_for_secret(&secret).is_err());
    let drawn = screen(&a, 100, 24).join("\n");
    assert!(drawn.contains("端末を失効させました") && drawn.contains("失効 11-23 21:00"), "{drawn}");
    assert!(w.svc.devices(&w.admin).unwrap()[0].body.revoked.is_some(), "{device:?}");
}

#[test]
fn staff_can_be_disabled_and_given_a_one_time_password() {
    let w = world();
    staff(&w, "cw1", "木下 福祉司", Role::Caseworker, "first password 1");
    let mut a = app(&w, &w.admin);
    keys(&mut a, "2");
    let at = a.state.staff.iter().position(|r| r.cells[0] == "cw1").unwrap();
    for _ in 0..at {
        a.handle(Key::Down);
    }
    keys(&mut a, "p");
    keys(&mut a, "y");
    let Some(Dialog::Shown { lines, .. }) = a.state.dialog.clone() else { panic!("{:?}", a.state.dialog) };
    let one_time = lines[0].clone();
    assert!(w.svc.sign_in("cw1", &Password::attempt(one_time.as_str()), None, None).is_ok());
    assert!(w.svc.sign_in("cw1", &Password::attempt("first password 1"), None, None).is_err());
    a.handle(Key::Esc);
    keys(&mut a, "dy");
    assert!(a.state.staff[at].dim, "shown as disabled");
    assert!(w.svc.sign_in("cw1", &Password::attempt(one_time.as_str()), None, None).is_err());
}

#[test]
fn a_supervisor_sees_what_the_role_allows_and_a_clear_refusal_otherwise() {
    let w = world();
    let sv = staff(&w, "sv", "佐野 SV", Role::Supervisor, "supervisor pass");
    let mut a = app(&w, &sv);
    keys(&mut a, "3");
    let drawn = screen(&a, 80, 24).join("\n");
    assert!(drawn.contains("権限がありません"), "{drawn}");
    // The audit log is theirs to read, and its chain to verify.
    keys(&mut a, "5v");
    let drawn = screen(&a, 100, 24).join("\n");
    assert!(drawn.contains("改ざんなし"), "{drawn}");
    assert!(drawn.contains("manage_devices"), "the refused attempt is in the log: {drawn}");
}

#[test]
fn the_store_is_checked_from_the_backup_screen_while_it_serves() {
    let w = world();
    let mut a = app(&w, &w.admin);
    keys(&mut a, "6");
    assert!(screen(&a, 100, 24).join("\n").contains("i 整合性検査"));
    keys(&mut a, "in");
    assert!(screen(&a, 100, 24).join("\n").contains("取り消しました"));
    keys(&mut a, "iy");
    let drawn = screen(&a, 100, 24).join("\n");
    assert!(drawn.contains("整合性検査") && drawn.contains("問題は見つかりませんでした"), "{drawn}");
    let log = w.svc.audit_log(&w.admin, 1, usize::MAX).unwrap();
    let checks: Vec<_> = log
        .iter()
        .filter(|e| e.detail.as_deref().is_some_and(|d| d.starts_with("integrity check")))
        .collect();
    assert_eq!(checks.len(), 1, "one check, audited (the cancelled one ran nothing)");
    assert_eq!(checks[0].action, "operate_server");
    assert_eq!(checks[0].detail.as_deref(), Some("integrity check: 0 problems"));
}

#[test]
fn the_whole_store_is_exported_from_the_backup_screen_by_an_administrator_only() {
    let w = world();
    let mut a = app(&w, &w.admin);
    keys(&mut a, "6");
    assert!(screen(&a, 100, 24).join("\n").contains("e データ書き出し"));
    keys(&mut a, "ey");
    let drawn = screen(&a, 120, 30).join("\n");
    assert!(
        drawn.contains("データ全体を書き出しました") && drawn.contains("/store-exports/export-"),
        "{drawn}"
    );
    let entry =
        w.svc.audit_log(&w.admin, 1, usize::MAX).unwrap().into_iter().find(|e| e.action == "export_store");
    assert!(entry.is_some_and(|e| e.detail.is_some_and(|d| d.contains("SHA256SUMS"))));
    let dirs: Vec<_> = std::fs::read_dir(std::env::temp_dir())
        .unwrap()
        .flatten()
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with(&format!("mamoru-tui-test-{}-export-", std::process::id()))
        })
        .collect();
    assert_eq!(dirs.len(), 1, "one export folder");
    for d in &dirs {
        assert!(d.path().join("SHA256SUMS").exists() && d.path().join("records.jsonl").exists());
        std::fs::remove_dir_all(d.path()).unwrap();
    }

    let sv = staff(&w, "sv1", "監督", Role::Supervisor, "correct horse battery");
    let mut b = app(&w, &sv);
    keys(&mut b, "6ey");
    let drawn = screen(&b, 120, 30).join("\n");
    assert!(!drawn.contains("データ全体を書き出しました"), "{drawn}");
}

#[test]
fn a_failed_backup_is_said_plainly() {
    let w = world();
    let mut a = app(&w, &w.admin);
    keys(&mut a, "6");
    let drawn = screen(&a, 100, 24).join("\n");
    assert!(drawn.contains("検証済み") && drawn.contains("280.0 MB"), "{drawn}");
    keys(&mut a, "by");
    let drawn = screen(&a, 100, 24).join("\n");
    assert!(drawn.contains("バックアップに失敗しました: disk full"), "{drawn}");
    assert!(drawn.contains("r 復元訓練"), "{drawn}");
    keys(&mut a, "ry");
    let drawn = screen(&a, 140, 24).join("\n");
    assert!(
        drawn.contains("復元訓練に合格しました: 世代 7 (280.0 MB) と変更 1200 件を 3.2 秒で復元・検査"),
        "{drawn}"
    );
}

#[test]
fn the_live_feed_shows_actions_as_they_happen_without_personal_details() {
    let w = world();
    let mut a = app(&w, &w.admin);
    keys(&mut a, &(Screen::Activity.index() + 1).to_string());
    w.svc.register_device(&w.admin, &DeviceName::parse("iPad 3").unwrap()).unwrap();
    a.tick();
    let drawn = screen(&a, 100, 24).join("\n");
    assert!(drawn.contains("manage_devices") && drawn.contains("device#1"), "{drawn}");
    assert!(!drawn.contains("iPad 3"), "names stay out of the feed: {drawn}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_over_a_byte_stream_draws_reacts_and_ends() {
    let w = world();
    let a = app(&w, &w.admin);
    let (in_tx, in_rx) = mpsc::channel(8);
    let (out_tx, mut out_rx) = mpsc::unbounded_channel();
    let valid = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let v = valid.clone();
    let task = tokio::spawn(term::run(a, in_rx, out_tx, term::area(0, 0), move || {
        v.load(std::sync::atomic::Ordering::SeqCst)
    }));
    let first = out_rx.recv().await.unwrap();
    let text = String::from_utf8_lossy(&first);
    assert!(text.contains("\x1b[?1049h"), "enters the alternate screen");
    until(&mut out_rx, "q終了").await;
    in_tx.send(Input::Bytes("3".into())).await.unwrap();
    until(&mut out_rx, "(ありません)").await; // the 端末 screen, still empty
    in_tx.send(Input::Resize(100, 30)).await.unwrap();
    until(&mut out_rx, "守る管理コンソール").await; // redrawn whole after a resize
    // Disabling the account ends its console on the next key.
    valid.store(false, std::sync::atomic::Ordering::SeqCst);
    in_tx.send(Input::Bytes("2".into())).await.unwrap();
    task.await.unwrap().unwrap();
    let mut rest = Vec::new();
    while let Ok(chunk) = out_rx.try_recv() {
        rest.extend(chunk);
    }
    assert!(plain(&rest).contains("このアカウントではもう利用できません"), "{}", plain(&rest));
    assert!(String::from_utf8_lossy(&rest).contains("\x1b[?1049l"), "leaves the alternate screen");
}

/// Reads frames until their text shows `needle`.
async fn until(rx: &mut mpsc::UnboundedReceiver<Vec<u8>>, needle: &str) {
    let mut seen = String::new();
    let wait = tokio::time::timeout(std::time::Duration::from_secs(10), async {
        while let Some(chunk) = rx.recv().await {
            seen.push_str(&plain(&chunk));
            if seen.contains(needle) {
                return;
            }
        }
    });
    assert!(wait.await.is_ok(), "never saw {needle:?} in {seen}");
}

/// The text in terminal output, without escape sequences or spaces.
fn plain(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let mut out = String::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            // CSI: ESC [ parameters, then one final byte in @..~.
            if chars.next() == Some('[') {
                for f in chars.by_ref() {
                    if ('@'..='~').contains(&f) {
                        break;
                    }
                }
            }
        } else if !c.is_whitespace() {
            out.push(c);
        }
    }
    out
}

/// A caseworker registers a child and reads it twice; returns the child's id.
fn some_casework(w: &World) -> u64 {
    let cw = staff(w, "cw1", "木下 福祉司", Role::Caseworker, "first password 1");
    let child = w
        .svc
        .register_child(
            &cw,
            mamoru_core::service::NewChild {
                family: Vec::new(),
                unit: w.units[0],
                name: mamoru_core::person::PersonName::new("架空", "一郎", "かくう", "いちろう").unwrap(),
                birth_date: None,
                unborn: false,
                sex: mamoru_core::person::Sex::Male,
                address: String::new(),
                phones: vec![],
                affiliation: String::new(),
            },
        )
        .unwrap();
    w.svc.child(&cw, child).unwrap();
    w.svc.child(&cw, child).unwrap();
    child.0
}

#[test]
fn the_audit_log_is_filtered_through_a_form_and_exported_as_csv() {
    let w = world();
    let child = some_casework(&w);
    let sv = staff(&w, "sv", "佐野 SV", Role::Supervisor, "supervisor pass");
    let mut a = app(&w, &sv);
    keys(&mut a, "5");
    assert!(a.state.audit.iter().any(|r| r.cells[2] == "cw1"), "logins, not ids: {:?}", a.state.audit);

    // Staff and action.
    keys(&mut a, "/cw1");
    a.handle(Key::Tab);
    a.handle(Key::Tab);
    keys(&mut a, "read_child");
    let form = screen(&a, 80, 24).join("\n");
    assert!(form.contains("監査ログの絞り込み") && form.contains("[read_child_]"), "{form}");
    assert!(form.contains("例 read_child"), "the focused field's hint: {form}");
    a.handle(Key::Enter);
    assert!(a.state.dialog.is_none(), "{:?}", a.state.dialog);
    assert_eq!(a.state.audit.len(), 2, "{:?}", a.state.audit);
    assert!(a.state.audit.iter().all(|r| r.cells[2] == "cw1" && r.cells[3] == "read_child"));
    let drawn = screen(&a, 100, 24).join("\n");
    assert!(drawn.contains("絞り込み: 職員=cw1 操作=read_child") && drawn.contains("2 件"), "{drawn}");

    // The form opens again with what was typed; a child and a date range narrow it further.
    keys(&mut a, "/");
    a.handle(Key::Down);
    keys(&mut a, &child.to_string());
    a.handle(Key::Down);
    a.handle(Key::Down);
    keys(&mut a, "R8.11.23");
    a.handle(Key::Down);
    keys(&mut a, "2026-11-23");
    a.handle(Key::Enter);
    assert_eq!(a.state.audit.len(), 2, "{:?}", a.state.dialog);
    // A day with nothing.
    keys(&mut a, "/");
    a.handle(Key::Up);
    for _ in 0..10 {
        a.handle(Key::Backspace);
    }
    keys(&mut a, "2026-11-24");
    a.handle(Key::Up);
    for _ in 0..8 {
        a.handle(Key::Backspace);
    }
    keys(&mut a, "R8.11.24");
    a.handle(Key::Enter);
    assert!(a.state.audit.is_empty());

    // What cannot be read keeps the form open and says why; Esc leaves the filter as it was.
    keys(&mut a, "/");
    a.handle(Key::Up);
    keys(&mut a, "x");
    a.handle(Key::Enter);
    let Some(Dialog::Form { error: Some(e), .. }) = &a.state.dialog else { panic!("{:?}", a.state.dialog) };
    assert!(e.contains("終了日: 日付が読めません"), "{e}");
    assert!(screen(&a, 80, 24).join("\n").contains("日付が読めません"));
    a.handle(Key::Esc);
    keys(&mut a, "c/nobody");
    a.handle(Key::Enter);
    let Some(Dialog::Form { error: Some(e), .. }) = &a.state.dialog else { panic!("{:?}", a.state.dialog) };
    assert!(e.contains("見つかりません"), "an unknown login: {e}");
    a.handle(Key::Esc);
    keys(&mut a, "/");
    a.handle(Key::Tab);
    a.handle(Key::Tab);
    keys(&mut a, "Read-Case");
    a.handle(Key::Enter);
    let Some(Dialog::Form { error: Some(e), .. }) = &a.state.dialog else { panic!("{:?}", a.state.dialog) };
    assert!(e.starts_with("操作: 英小文字と _"), "said in Japanese: {e}");
    a.handle(Key::Esc);
    assert!(a.state.audit_filter.is_empty(), "c cleared it: {}", a.state.audit_filter);

    // Export what the filter shows, after one confirmation.
    keys(&mut a, "/cw1");
    a.handle(Key::Enter);
    let shown = a.state.audit.len();
    keys(&mut a, "x");
    assert!(matches!(a.state.dialog, Some(Dialog::Confirm { .. })));
    keys(&mut a, "y");
    let Some(Dialog::Shown { lines, .. }) = a.state.dialog.clone() else { panic!("{:?}", a.state.dialog) };
    let path = lines[1].clone();
    let csv = std::fs::read_to_string(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    assert!(path.contains("audit-20261123-210000.csv"), "{path}");
    assert!(csv.starts_with("\u{feff}番号,日時,職員ID,ログイン名"), "{csv}");
    assert_eq!(csv.lines().count() - 1, shown, "{csv}");
    assert!(csv.lines().skip(1).all(|l| l.split(',').nth(3) == Some("cw1")), "{csv}");
    assert!(!csv.contains("架空") && !csv.contains("かくう"), "no child's name: {csv}");
    a.handle(Key::Esc);
    // The export is in the log, by the supervisor (after it, only the list's own reload).
    keys(&mut a, "c");
    let export = a.state.audit.iter().position(|r| r.cells[3] == "export_audit").unwrap();
    assert!(export <= 1 && a.state.audit[export].cells[2] == "sv", "{:?}", a.state.audit);
}

/// Moves the cursor to the row whose first cell is `first`.
fn select(a: &mut App, rows: impl Fn(&App) -> Vec<String>, first: &str) {
    a.handle(Key::Home);
    let at = rows(a).iter().position(|c| c == first).unwrap();
    for _ in 0..at {
        a.handle(Key::Down);
    }
}

fn staff_logins(a: &App) -> Vec<String> {
    a.state.staff.iter().map(|r| r.cells[0].clone()).collect()
}

#[test]
fn staff_are_added_edited_and_lose_a_key_from_the_staff_screen() {
    let w = world();
    let mut a = app(&w, &w.admin);
    keys(&mut a, "2a");
    let form = screen(&a, 100, 30).join("\n");
    assert!(form.contains("職員の追加") && form.contains("英小文字で始まる"), "{form}");
    // A login that cannot be one is said in the form.
    keys(&mut a, "Tanaka");
    a.handle(Key::Enter);
    let Some(Dialog::Form { error: Some(e), .. }) = &a.state.dialog else { panic!("{:?}", a.state.dialog) };
    assert!(e.starts_with("ログイン名"), "{e}");
    for _ in 0..6 {
        a.handle(Key::Backspace);
    }
    keys(&mut a, "tanaka");
    a.handle(Key::Tab);
    keys(&mut a, "田中 一郎");
    a.handle(Key::Tab);
    keys(&mut a, "1");
    a.handle(Key::Tab);
    keys(&mut a, "3");
    a.handle(Key::Enter);
    let Some(Dialog::Form { error: Some(e), .. }) = &a.state.dialog else { panic!("{:?}", a.state.dialog) };
    assert!(e.contains("所属") && e.contains('3'), "no third unit: {e}");
    a.handle(Key::Backspace);
    keys(&mut a, "1");
    a.handle(Key::Enter);
    let Some(Dialog::Shown { lines, .. }) = a.state.dialog.clone() else { panic!("{:?}", a.state.dialog) };
    let password = lines[1].clone();
    let (_, info) = w.svc.sign_in("tanaka", &Password::attempt(password.as_str()), None, None).unwrap();
    assert_eq!((info.actor.role(), info.actor.units().to_vec()), (Role::Caseworker, vec![w.units[0]]));
    a.handle(Key::Esc);

    // Edit: the form shows what is stored; a promotion to SV in both units.
    select(&mut a, staff_logins, "tanaka");
    keys(&mut a, "e");
    let form = screen(&a, 100, 30).join("\n");
    assert!(
        form.contains("tanaka の編集") && form.contains("[田中 一郎_]") && form.contains("[1]"),
        "{form}"
    );
    a.handle(Key::Tab);
    a.handle(Key::Backspace);
    keys(&mut a, "3");
    a.handle(Key::Tab);
    keys(&mut a, ",2");
    a.handle(Key::Enter);
    assert!(a.state.dialog.is_none(), "{:?}", a.state.dialog);
    let row = &a.state.staff[a.state.cursor[Screen::Staff.index()]];
    assert_eq!(row.cells[2], "スーパーバイザー");
    assert!(row.cells[3].contains('・'), "two units: {:?}", row.cells);
    let (_, info) = w.svc.sign_in("tanaka", &Password::attempt(password.as_str()), None, None).unwrap();
    assert_eq!(info.actor.role(), Role::Supervisor);

    // A form drawn before someone else's save is refused, not saved over it.
    keys(&mut a, "e");
    let rev =
        w.svc.list_staff(&w.admin).unwrap().into_iter().find(|s| s.body.login.as_str() == "tanaka").unwrap();
    let edit = mamoru_core::staff::StaffChange::Edit {
        rev: rev.rev,
        display_name: "田中 一郎 (異動)".into(),
        role: Role::Supervisor,
        units: rev.body.units,
    };
    w.svc.change_staff(&w.admin, "tanaka", &edit).unwrap();
    a.handle(Key::Enter);
    let Some(Dialog::Form { error: Some(e), .. }) = &a.state.dialog else { panic!("{:?}", a.state.dialog) };
    assert!(e.contains("他の人が先に変更しました"), "{e}");
    a.handle(Key::Esc);

    // Keys: add two, remove the first by its number.
    let key_a = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa tanaka@pc";
    let key_b = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb tanaka@home";
    for key in [key_a, key_b] {
        keys(&mut a, "n");
        keys(&mut a, key);
        a.handle(Key::Enter);
    }
    keys(&mut a, "x");
    let Some(Dialog::Input { prompt, .. }) = &a.state.dialog else { panic!("{:?}", a.state.dialog) };
    assert!(
        prompt.contains("1 ssh-ed25519") && prompt.contains("tanaka@pc") && prompt.contains("2 ssh-ed25519")
    );
    keys(&mut a, "1");
    a.handle(Key::Enter);
    assert!(w.svc.console_sign_in("tanaka", key_a, None).is_err());
    assert!(w.svc.console_sign_in("tanaka", key_b, None).is_ok());
    let drawn = screen(&a, 100, 30).join("\n");
    assert!(drawn.contains("公開鍵") && drawn.contains("削除しました"), "{drawn}");
}

#[test]
fn a_revoked_tablet_is_registered_again_and_code_entries_are_added_and_ended() {
    let w = world();
    let mut a = app(&w, &w.admin);
    let (device, code, _) = w.svc.issue_device_code(&w.admin, &DeviceName::parse("iPad 5").unwrap()).unwrap();
    let (_, old_secret) = w.svc.redeem_device_code(&code, None).unwrap();
    w.svc.change_device(&w.admin, device, DeviceChange::Revoke).unwrap();
    keys(&mut a, "3gy");
    let Some(Dialog::Shown { lines, .. }) = a.state.dialog.clone() else { panic!("{:?}", a.state.dialog) };
    a.handle(Key::Esc);
    assert!(screen(&a, 100, 24).join("\n").contains("登録待ち"));
    let (again, secret) = w.svc.redeem_device_code(&lines[1], None).unwrap();
    assert_eq!(again, device);
    assert!(w.svc.device_for_secret(&secret).is_ok() && w.svc.device_for_secret(&old_secret).is_err());

    // コード表: add an entry to the selected row's table, then end it from a date.
    keys(&mut a, &(Screen::CodeTables.index() + 1).to_string());
    let table = a.state.codes[0].cells[0].clone();
    keys(&mut a, "a");
    keys(&mut a, "X1");
    a.handle(Key::Tab);
    keys(&mut a, "試行の区分");
    a.handle(Key::Tab);
    keys(&mut a, "R8.4.1");
    a.handle(Key::Enter);
    assert!(a.state.dialog.is_none(), "{:?}", a.state.dialog);
    let at = a.state.codes.iter().position(|r| r.cells[0] == table && r.cells[1] == "X1").unwrap();
    assert_eq!(a.state.codes[at].cells[2..4], ["試行の区分".to_owned(), "2026-04-01".to_owned()]);
    a.handle(Key::Home);
    for _ in 0..at {
        a.handle(Key::Down);
    }
    keys(&mut a, "e");
    let form = screen(&a, 100, 30).join("\n");
    assert!(form.contains("[試行の区分_]") && form.contains("[2026-04-01]"), "{form}");
    a.handle(Key::Up);
    keys(&mut a, "2026-03-01");
    a.handle(Key::Enter);
    let Some(Dialog::Form { error: Some(e), .. }) = &a.state.dialog else { panic!("{:?}", a.state.dialog) };
    assert!(e.contains("valid_until"), "an end before the start is refused: {e}");
    for _ in 0..10 {
        a.handle(Key::Backspace);
    }
    keys(&mut a, "2027-04-01");
    a.handle(Key::Enter);
    assert!(a.state.dialog.is_none(), "{:?}", a.state.dialog);
    let row = a.state.codes.iter().find(|r| r.cells[0] == table && r.cells[1] == "X1").unwrap();
    assert_eq!(row.cells[4], "2027-04-01");
    assert!(
        screen(&a, 100, 24).join("\n").contains("削除はできません"),
        "the help bar says how to end a code"
    );
}

#[test]
fn the_form_templates_are_listed_with_the_version_in_use_and_shown_in_full() {
    let w = world();
    let mut a = app(&w, &w.admin);
    keys(&mut a, &(Screen::Templates.index() + 1).to_string());
    assert_eq!(a.state.screen, Screen::Templates);
    let rows = &a.state.templates;
    let start: Vec<&mamoru_tui::app::Row> =
        rows.iter().filter(|r| r.cells[4] == "protection-start-notice").collect();
    assert_eq!(start.len(), 2, "{rows:?}");
    // Version 1 (60 days) is no longer used for what happens today; version 2 is.
    assert!(start[0].dim && !start[1].dim, "{start:?}");
    assert_eq!(start[1].cells[2], "平成28年4月1日");
    assert_eq!(start[1].cells[3], "出荷時");
    let at = rows.iter().position(|r| r.cells[4] == "protection-start-notice" && r.cells[1] == "v2").unwrap();
    a.handle(Key::Home);
    for _ in 0..at {
        a.handle(Key::Down);
    }
    a.handle(Key::Enter);
    let all = screen(&a, 100, 40).join("\n");
    assert!(all.contains("一時保護決定通知書 v2") && all.contains("教示"), "{all}");
    assert!(all.contains("保護者 (通告者は載りません)") && all.contains("child_name"), "{all}");
    // Not for a supervisor.
    let sup = staff(&w, "sv", "架空 監督", Role::Supervisor, "kakuu-pass-1234");
    let mut b = app(&w, &sup);
    keys(&mut b, &(Screen::Templates.index() + 1).to_string());
    assert!(b.state.templates.is_empty());
}

#[test]
fn the_monthly_service_report_is_made_from_the_dashboard() {
    let w = world();
    let mut a = app(&w, &w.admin);
    assert!(screen(&a, 100, 24).join("\n").contains("m 月次報告"));
    // A month not yet begun: refused, naming the field, nothing written.
    keys(&mut a, "m");
    keys(&mut a, "2099-01");
    a.handle(Key::Enter);
    assert!(a.state.dialog.is_none());
    let drawn = screen(&a, 100, 24).join("\n");
    assert!(drawn.contains("入力エラー: month"), "{drawn}");
    // Empty: last month, as PDF and XLSX where the exports are fetched.
    keys(&mut a, "m");
    a.handle(Key::Enter);
    let Some(Dialog::Shown { title, lines }) = a.state.dialog.clone() else {
        panic!("{:?}", a.state.message)
    };
    assert!(title.contains("サービス提供報告書") && title.contains("分）を作成しました"), "{title}");
    assert!(lines[0].contains("稼働率"), "{lines:?}");
    let pdf = std::fs::read(&lines[1]).unwrap();
    assert!(pdf.starts_with(b"%PDF-"), "{}", lines[1]);
    assert!(std::fs::read(&lines[2]).unwrap().starts_with(b"PK"), "{}", lines[2]);
    assert!(lines[4].contains("scp") && lines[4].contains("service-report-"), "{lines:?}");
    // Administrators only: core says so.
    let sv = staff(&w, "sv1", "木下 SV", Role::Supervisor, "first password 1");
    let mut a = app(&w, &sv);
    keys(&mut a, "m");
    a.handle(Key::Enter);
    assert!(a.state.dialog.is_none());
    assert!(screen(&a, 100, 24).join("\n").contains("権限がありません"));
}
