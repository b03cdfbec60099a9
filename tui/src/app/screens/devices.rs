//! 端末: the tablets and their state (core's `DeviceView`); register, re-register, revoke.

use mamoru_core::service::DeviceState;

use super::super::{App, Entry, Op, Row, short_time};
use super::Action;

pub(super) fn load(app: &mut App) -> mamoru_core::Result<()> {
    let devices = app.service.device_list(&app.actor)?;
    app.device_ids = devices.iter().map(|d| d.id).collect();
    app.state.devices = devices
        .iter()
        .map(|d| Row {
            cells: vec![
                d.id.to_string(),
                d.name.clone(),
                match d.state {
                    DeviceState::Revoked { at } => format!("失効 {}", short_time(at)),
                    DeviceState::Pending { until } => format!("登録待ち {}まで", short_time(until)),
                    DeviceState::CodeExpired => "コード期限切れ".into(),
                    DeviceState::Active => "有効".into(),
                },
                d.last_used.as_ref().map_or("-".into(), |(at, _)| short_time(*at)),
                d.last_used.as_ref().map_or("-".into(), |(_, login)| login.clone()),
                d.registered_by.clone(),
            ],
            dim: !d.active(),
        })
        .collect();
    Ok(())
}

pub(super) fn key(app: &App, c: char, at: usize) -> Option<Action> {
    if c == 'n' {
        return Some(Action::Ask("新しい端末の名前".into(), Entry::RegisterDevice));
    }
    let id = *app.device_ids.get(at)?;
    let name = app.state.devices.get(at)?.cells[1].clone();
    match c {
        'r' | '\n' => Some(Action::Confirm(
            format!("端末「{name}」を失効させますか？ この端末のセッションはすべて終了します。"),
            Op::RevokeDevice(id),
        )),
        'g' => Some(Action::Confirm(
            format!(
                "端末「{name}」を登録し直しますか？ 新しい登録コードを発行します。今の登録は使えなくなり、この端末のセッションは終了します。"
            ),
            Op::ReissueDevice(id),
        )),
        _ => None,
    }
}
