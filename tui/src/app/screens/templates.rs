//! 帳票様式: every version of every form, those shipped with the program and those an
//! administrator added (`mamoru form add`, or the API while the server runs); Enter shows one.
//! A version is never changed here: a new one is written as TOML and added, checked by core.

use mamoru_core::wareki;

use super::super::{App, Row};
use super::Action;

pub(super) fn load(app: &mut App) -> mamoru_core::Result<()> {
    let list = app.service.form_templates(&app.actor)?;
    app.template_details = list
        .iter()
        .map(|e| {
            let t = &e.template;
            let mut lines = vec![t.label()];
            if let Some(a) = &e.added {
                lines.push(format!("追加: {} {}  理由: {}", a.by, a.at, a.reason));
            }
            let readers = match (&t.addressee, t.family_facing) {
                (Some(to), _) => format!("あて先: {to} (通告者は載りません)"),
                (None, true) => "あて先: 保護者 (通告者は載りません)".to_owned(),
                (None, false) => format!("所内用  決裁欄: {}", t.approvals.join("・")),
            };
            lines.push(readers);
            if !t.lead.is_empty() {
                lines.push(t.lead.clone());
            }
            lines.extend(t.rows.iter().map(|r| format!("  {}  ({})", r.label, r.field.as_str())));
            if let Some(appeal) = &t.appeal {
                lines.push("教示:".into());
                lines.extend(appeal.lines().map(str::to_owned));
            }
            (format!("{} v{}", t.title, t.version), lines)
        })
        .collect();
    app.state.templates = list
        .iter()
        .map(|e| {
            let t = &e.template;
            Row {
                cells: vec![
                    t.title.clone(),
                    format!("v{}", t.version),
                    if t.version == 1 { "-".into() } else { wareki::format(t.valid_from) },
                    e.added.as_ref().map_or_else(|| "出荷時".to_owned(), |a| a.by.clone()),
                    t.form.slug().to_owned(),
                ],
                // Bright: the version a paper of today takes.
                dim: !e.in_use_today,
            }
        })
        .collect();
    Ok(())
}

/// Enter: the selected version in full.
pub(super) fn key(app: &App, c: char, at: usize) -> Option<Action> {
    match c {
        '\n' | 'v' => {
            let (title, lines) = app.template_details.get(at)?.clone();
            Some(Action::Show(title, lines))
        }
        'a' => Some(Action::Info(
            "新しい版は `mamoru form show 様式名` で書き出し、編集して `mamoru form add` で追加します".into(),
        )),
        _ => None,
    }
}
