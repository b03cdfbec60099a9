//! 計画停止: the planned stops, the latest start first; announce one, change one, call one off
//! (one that runs ends now). Core decides what may change; a refusal stays in the form.

use mamoru_core::ids::MaintenanceId;
use mamoru_core::maintenance::{Maintenance, Stage};

use super::super::{App, Field, Form, Op, Row, short_time};
use super::Action;

pub(super) fn load(app: &mut App) -> mamoru_core::Result<()> {
    let mut all = app.service.maintenance_list(&app.actor)?;
    all.sort_by_key(|v| std::cmp::Reverse(v.body.window.from));
    let now = app.state.now;
    app.state.maintenance = all
        .iter()
        .map(|v| {
            let m = &v.body;
            let stage = m.stage(now);
            Row {
                cells: vec![
                    v.id.to_string(),
                    stage.label().into(),
                    m.window.from.to_jst_minute(),
                    m.window.to.to_jst_minute(),
                    m.reason.clone(),
                    short_time(m.announced_at),
                ],
                dim: matches!(stage, Stage::Over | Stage::Cancelled),
            }
        })
        .collect();
    app.maintenance_rows = all;
    Ok(())
}

/// The fields of a stop's form: start, end, reason.
fn fields(from: &str, to: &str, reason: &str) -> Vec<Field> {
    vec![
        Field::new("開始", from, "2026-12-20 22:00 または R8.12.20 22:00 (今より後)"),
        Field::new("終了", to, "同上 (72 時間まで)"),
        Field::new("理由", reason, "タブレットに表示されます (200 字まで)"),
    ]
}

pub(super) fn key(app: &App, c: char, at: usize) -> Option<Action> {
    if c == 'a' {
        return Some(Action::Form("計画停止の告知".into(), fields("", "", ""), Form::AnnounceMaintenance));
    }
    let v = app.maintenance_rows.get(at)?;
    let m: &Maintenance = &v.body;
    let id = MaintenanceId(v.id);
    match (c, m.stage(app.state.now)) {
        ('e' | '\n', Stage::Coming | Stage::Running) => Some(Action::Form(
            format!("計画停止 {} の変更", v.id),
            fields(&m.window.from.to_jst_minute(), &m.window.to.to_jst_minute(), &m.reason),
            Form::ChangeMaintenance { id, rev: v.rev, from: m.window.from, to: m.window.to },
        )),
        ('c', Stage::Coming) => Some(Action::Confirm(
            format!(
                "計画停止「{}」({}から) を中止しますか？ タブレットの告知も消えます。",
                m.reason,
                m.window.from.to_jst_minute()
            ),
            Op::CancelMaintenance(id, v.rev),
        )),
        ('c', Stage::Running) => Some(Action::Confirm(
            format!(
                "実施中の計画停止「{}」を今終了しますか？ ここまでの時間は計画停止のままです。",
                m.reason
            ),
            Op::CancelMaintenance(id, v.rev),
        )),
        ('e' | '\n' | 'c', Stage::Over | Stage::Cancelled) => {
            Some(Action::Info("終了・中止した計画停止は変更できません (月次報告のとおり残ります)".into()))
        }
        _ => None,
    }
}
