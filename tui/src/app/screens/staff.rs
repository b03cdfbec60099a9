//! 職員: the staff with role, units and console keys; add, edit, disable, password, TOTP, keys.

use mamoru_core::ids::UnitId;
use mamoru_core::staff::Role;

use super::super::{App, Entry, Field, Form, Op, Row, key_label, role_hint};
use super::Action;

pub(super) fn load(app: &mut App) -> mamoru_core::Result<()> {
    let units = app.service.units()?;
    let unit_name = |id| units.iter().find(|u| u.id == id).map_or("?", |u| u.body.name.as_str());
    let staff = app.service.list_staff(&app.actor)?;
    app.units = units.iter().map(|u| (UnitId(u.id), u.body.name.clone())).collect();
    app.state.staff = staff
        .iter()
        .map(|s| Row {
            cells: vec![
                s.body.login.as_str().to_owned(),
                s.body.display_name.clone(),
                s.body.role.label().to_owned(),
                s.body.units.iter().map(|u| unit_name(u.0)).collect::<Vec<_>>().join("・"),
                if s.body.disabled { "無効".into() } else { "有効".into() },
                format!("{}本", s.body.console_keys.len()),
            ],
            dim: s.body.disabled,
        })
        .collect();
    app.staff_rows = staff;
    Ok(())
}

pub(super) fn key(app: &App, c: char, at: usize) -> Option<Action> {
    if c == 'a' {
        return Some(Action::Form(
            "職員の追加".into(),
            vec![
                Field::new("ログイン名", "", "英小文字で始まる 2〜32 字 (a-z 0-9 . _ -)"),
                Field::new("氏名", "", "表示名 (40 字まで)"),
                Field::new("役割", "", &role_hint()),
                Field::new("所属", "", &app.unit_hint()),
            ],
            Form::AddStaff,
        ));
    }
    let s = app.staff_rows.get(at)?;
    let login = s.body.login.as_str().to_owned();
    match c {
        'd' => {
            let disable = !s.body.disabled;
            let verb = if disable { "無効に" } else { "有効に" };
            Some(Action::Confirm(format!("{login} を{verb}しますか？"), Op::SetDisabled(login, disable)))
        }
        'p' => Some(Action::Confirm(
            format!("{login} のパスワードを再設定しますか？ 一度だけ表示します。"),
            Op::ResetPassword(login),
        )),
        't' => Some(Action::Confirm(
            format!("{login} の二要素認証 (TOTP) をリセットしますか？"),
            Op::ResetTotp(login),
        )),
        'n' => Some(Action::Ask(format!("{login} の公開鍵 (ssh-ed25519 AAAA...)"), Entry::AddKey(login))),
        'e' | '\n' => {
            let units = s
                .body
                .units
                .iter()
                .map(|u| app.units.iter().position(|(id, _)| id == u).map_or(0, |i| i + 1).to_string())
                .collect::<Vec<_>>()
                .join(",");
            let role = Role::ALL.iter().position(|r| *r == s.body.role).map_or(0, |i| i + 1);
            Some(Action::Form(
                format!("{login} の編集"),
                vec![
                    Field::new("氏名", &s.body.display_name, "表示名 (40 字まで)"),
                    Field::new("役割", &role.to_string(), &role_hint()),
                    Field::new("所属", &units, &app.unit_hint()),
                ],
                Form::EditStaff { login, rev: s.rev },
            ))
        }
        'x' if s.body.console_keys.is_empty() => {
            Some(Action::Info(format!("{login} には公開鍵がありません")))
        }
        'x' => {
            let list = s
                .body
                .console_keys
                .iter()
                .enumerate()
                .map(|(i, k)| format!("{} {}", i + 1, key_label(k)))
                .collect::<Vec<_>>()
                .join(" / ");
            Some(Action::Ask(format!("{login} の削除する公開鍵の番号: {list}"), Entry::RemoveKey(login)))
        }
        _ => None,
    }
}
