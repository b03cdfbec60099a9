//! コード表: every entry of every table, dimmed when not in force today; add or edit one.

use super::super::{App, Form, Row, code_fields};
use super::Action;

pub(super) fn load(app: &mut App) -> mamoru_core::Result<()> {
    let today = app.service.now().jst_date();
    let tables = app.service.code_tables()?;
    app.code_rows = tables
        .iter()
        .flat_map(|t| t.body.entries.iter().map(|e| (t.body.key.clone(), t.rev, e.code.clone())))
        .collect();
    app.state.codes = tables
        .iter()
        .flat_map(|t| {
            t.body.entries.iter().map(move |e| Row {
                cells: vec![
                    t.body.name.clone(),
                    e.code.clone(),
                    e.label.clone(),
                    e.valid_from.map_or("-".into(), |d| d.to_string()),
                    e.valid_until.map_or("-".into(), |d| d.to_string()),
                ],
                dim: !e.valid_on(today),
            })
        })
        .collect();
    Ok(())
}

/// Add an entry to the selected row's table, or edit the selected entry.
pub(super) fn key(app: &App, c: char, at: usize) -> Option<Action> {
    let (table, rev, code) = app.code_rows.get(at).cloned()?;
    match c {
        'a' => Some(Action::Form(
            format!("コード表「{table}」に追加"),
            code_fields("", "", "", ""),
            Form::CodeEntry { table, rev, code: None },
        )),
        'e' | '\n' => {
            let row = app.state.codes.get(at)?;
            let date = |c: &str| if c == "-" { String::new() } else { c.to_owned() };
            let mut fields = code_fields(&code, &row.cells[2], &date(&row.cells[3]), &date(&row.cells[4]));
            fields.remove(0);
            Some(Action::Form(
                format!("コード表「{table}」のコード {code}"),
                fields,
                Form::CodeEntry { table, rev, code: Some(code) },
            ))
        }
        _ => None,
    }
}
