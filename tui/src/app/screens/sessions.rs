//! セッション: who is signed in, from which tablet; end one.

use mamoru_core::service::device_label;

use super::super::{App, Op, Row, short_time};
use super::Action;

pub(super) fn load(app: &mut App) -> mamoru_core::Result<()> {
    let svc = &app.service;
    let now = svc.now();
    let sessions = svc.open_sessions(&app.actor)?;
    let names = svc.device_names(&app.actor).unwrap_or_default();
    app.session_ids = sessions.iter().map(|s| s.id.clone()).collect();
    app.state.sessions = sessions
        .iter()
        .map(|s| Row {
            cells: vec![
                s.id[..8].to_owned(),
                s.login.clone(),
                s.display_name.clone(),
                s.device.map_or("端末なし".into(), |d| device_label(&names, d)),
                short_time(s.started),
                format!("{}分前", (now.0 - s.last_seen.0) / 60),
            ],
            dim: false,
        })
        .collect();
    Ok(())
}

pub(super) fn key(app: &App, c: char, at: usize) -> Option<Action> {
    if !matches!(c, 'e' | '\n') {
        return None;
    }
    let id = app.session_ids.get(at)?.clone();
    let login = app.state.sessions.get(at)?.cells[1].clone();
    Some(Action::Confirm(format!("{login} のセッションを終了しますか？"), Op::EndSession(id)))
}
