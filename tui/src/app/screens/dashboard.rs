//! 概要: the server's state (core's `ServerView`) and what the host measures.

use super::super::{App, Dashboard, Entry};
use super::Action;

pub(super) fn load(app: &mut App) -> mamoru_core::Result<()> {
    let server = app.service.server_view(&app.actor)?;
    app.state.dashboard = Dashboard {
        uptime_seconds: app.host.uptime_seconds(),
        store_bytes: app.host.store_bytes(),
        disk: app.host.disk(),
        store_writable: app.service.health().store_writable,
        sessions: server.sessions,
        sessions_by_device: server
            .sessions_by_device
            .into_iter()
            .map(|(device, n)| (device.unwrap_or_else(|| "端末なし".into()), n))
            .collect(),
        requests: app.host.requests(),
        backup: server.backup,
        overdue: server.overdue,
        last_probe: server.last_probe,
        open_alerts: server.open_alerts,
        month_uptime: server.month_uptime,
        certificate: app
            .host
            .certificate()
            .map(|c| (c, mamoru_core::certificate::expiry(c.not_after, app.service.now()))),
    };
    Ok(())
}

pub(super) fn key(c: char) -> Option<Action> {
    match c {
        'm' => Some(Action::Ask(
            "サービス提供報告書の対象月 (例 2026-11。空欄なら先月)".into(),
            Entry::ServiceReport,
        )),
        _ => None,
    }
}
