//! 計画停止 on the console: announced, changed, ended while running, called off; core's rules
//! and refusals, drawn in the form.

use mamoru_core::time::Timestamp;
use mamoru_tui::app::Dialog;
use mamoru_tui::keys::Key;
use mamoru_tui::{App, Screen};

use crate::{app, keys, screen, world};

/// Types into the focused field of a form after clearing what it holds.
fn retype(app: &mut App, text: &str) {
    for _ in 0..40 {
        app.handle(Key::Backspace);
    }
    keys(app, text);
}

fn form_error(app: &App) -> String {
    match &app.state.dialog {
        Some(Dialog::Form { error: Some(e), .. }) => e.clone(),
        other => format!("no refusal in a form: {other:?}"),
    }
}

#[test]
fn planned_stops_are_announced_changed_ended_and_cancelled_on_the_console() {
    let w = world();
    let mut a = app(&w, &w.admin);
    // Ten screens fit 80 columns; 7 opens 計画停止 and 0 the tenth.
    let shown = screen(&a, 80, 24);
    let tabs = shown.iter().find(|l| l.contains("概要")).unwrap().clone();
    assert!(
        tabs.contains("概要") && tabs.contains("計画停止") && tabs.trim_end().ends_with("稼働状況"),
        "{tabs}"
    );
    keys(&mut a, "0");
    assert_eq!(a.state.screen, Screen::Activity);
    keys(&mut a, &(Screen::Maintenance.index() + 1).to_string());
    assert_eq!(a.state.screen, Screen::Maintenance);
    assert!(a.state.maintenance.is_empty());

    // Announced: a start already past is refused in the form, naming 開始.
    keys(&mut a, "a");
    keys(&mut a, "2026-11-23 20:00");
    a.handle(Key::Tab);
    keys(&mut a, "2026-11-29 02:00");
    a.handle(Key::Tab);
    keys(&mut a, "OSの更新");
    a.handle(Key::Enter);
    assert!(form_error(&a).starts_with("開始:"), "{}", form_error(&a));
    a.handle(Key::Up);
    a.handle(Key::Up);
    retype(&mut a, "R8.11.28 22:00");
    a.handle(Key::Enter);
    assert!(a.state.dialog.is_none(), "{:?}", a.state.dialog);
    let row = &a.state.maintenance[0].cells;
    assert_eq!(row[1..5], ["予定", "2026-11-28 22:00", "2026-11-29 02:00", "OSの更新"].map(String::from));

    // Changed: longer than 72 hours is refused naming 終了; an earlier end is taken.
    keys(&mut a, "e");
    let form = screen(&a, 100, 30).join("\n");
    assert!(form.contains("[2026-11-28 22:00_]") && form.contains("[OSの更新]"), "{form}");
    a.handle(Key::Tab);
    retype(&mut a, "2026-12-02 02:00");
    a.handle(Key::Enter);
    assert!(form_error(&a).starts_with("終了:"), "{}", form_error(&a));
    retype(&mut a, "2026-11-29 01:00");
    a.handle(Key::Enter);
    assert!(a.state.dialog.is_none(), "{:?}", a.state.dialog);
    assert_eq!(a.state.maintenance[0].cells[3], "2026-11-29 01:00");

    // While it runs, c ends it now: its time so far stays planned, and it is then settled.
    w.clock.set(Timestamp::parse("2026-11-28T23:00:00+09:00").unwrap());
    keys(&mut a, "7");
    assert_eq!(a.state.maintenance[0].cells[1], "実施中");
    keys(&mut a, "c");
    let Some(Dialog::Confirm { question, .. }) = &a.state.dialog else { panic!("{:?}", a.state.dialog) };
    assert!(question.contains("今終了"), "{question}");
    keys(&mut a, "y");
    let row = &a.state.maintenance[0];
    assert_eq!((row.cells[1].as_str(), row.cells[3].as_str(), row.dim), ("終了", "2026-11-28 23:00", true));
    keys(&mut a, "e");
    assert!(a.state.dialog.is_none());
    assert!(screen(&a, 100, 24).join("\n").contains("変更できません"));

    // A coming one, called off: no longer shown to tablets, listed as 中止.
    let next = mamoru_core::maintenance::NewMaintenance {
        from: Timestamp::parse("2026-12-05T22:00:00+09:00").unwrap(),
        to: Timestamp::parse("2026-12-06T01:00:00+09:00").unwrap(),
        reason: "UPS の点検".into(),
    };
    w.svc.announce_maintenance(&w.admin, next).unwrap();
    keys(&mut a, "7");
    a.handle(Key::Home);
    assert_eq!(a.state.maintenance[0].cells[4], "UPS の点検");
    keys(&mut a, "cy");
    assert_eq!(a.state.maintenance[0].cells[1], "中止");

    // A stop announced over the API to the second, reworded here: not moved, its notice kept.
    let exact = mamoru_core::maintenance::NewMaintenance {
        from: Timestamp::parse("2026-12-10T22:00:30+09:00").unwrap(),
        to: Timestamp::parse("2026-12-11T01:00:30+09:00").unwrap(),
        reason: "回線工事".into(),
    };
    let before = w.svc.announce_maintenance(&w.admin, exact.clone()).unwrap();
    keys(&mut a, "7");
    a.handle(Key::Home);
    keys(&mut a, "e");
    a.handle(Key::Tab);
    a.handle(Key::Tab);
    keys(&mut a, "（NTT）");
    a.handle(Key::Enter);
    assert!(a.state.dialog.is_none(), "{:?}", a.state.dialog);
    let after = w.svc.maintenance(&w.admin, mamoru_core::ids::MaintenanceId(before.id)).unwrap();
    assert_eq!(after.body.reason, "回線工事（NTT）");
    assert_eq!((after.body.window.from, after.body.announced_at), (exact.from, before.body.announced_at));
    let all = w.svc.maintenance_list(&w.admin).unwrap();
    assert!(all.iter().all(|v| !v.body.shown_at(w.svc.now())), "{all:?}");
}
