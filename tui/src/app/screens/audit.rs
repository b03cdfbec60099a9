//! 監査ログ: the newest entries a filter matches; filter, export to CSV, verify the chain.

use std::collections::HashMap;

use mamoru_core::audit::AuditEntry;

use super::super::{AUDIT_FIELDS, AUDIT_PAGE, App, Field, Form, Op, Row, short_time};
use super::Action;

pub(super) fn load(app: &mut App) -> mamoru_core::Result<()> {
    let svc = &app.service;
    let entries = svc.search_audit(&app.actor, &app.audit_query, AUDIT_PAGE + 1)?;
    let logins = svc.audit_logins(&app.actor).unwrap_or_default();
    app.state.audit_more = entries.len() > AUDIT_PAGE;
    app.state.audit = entries.iter().take(AUDIT_PAGE).map(|e| audit_row(e, &logins)).collect();
    Ok(())
}

pub(super) fn key(app: &App, c: char) -> Option<Action> {
    match c {
        '/' | 'f' => {
            let fields = AUDIT_FIELDS
                .iter()
                .zip(&app.audit_texts)
                .map(|((label, hint), text)| Field::new(label, text, hint))
                .collect();
            Some(Action::Form("監査ログの絞り込み".into(), fields, Form::AuditFilter))
        }
        'c' => Some(Action::ClearAuditFilter),
        'x' => {
            let what = if app.state.audit_filter.is_empty() {
                "監査ログ全体".to_owned()
            } else {
                format!("絞り込み ({}) の結果", app.state.audit_filter)
            };
            Some(Action::Confirm(
                format!("{what}を CSV に出力しますか？ 出力も監査ログに記録されます。"),
                Op::ExportAudit,
            ))
        }
        'v' => Some(Action::VerifyAudit),
        _ => None,
    }
}

/// One audit entry as a line of the 監査ログ and 操作履歴 screens.
pub(in super::super) fn audit_row(e: &AuditEntry, logins: &HashMap<u64, String>) -> Row {
    Row {
        cells: vec![
            e.seq.to_string(),
            short_time(e.at),
            match (e.actor, logins.get(&e.actor)) {
                // No staff member: a sign-in with an unknown login, or the server itself.
                (0, _) if e.action.contains("sign_in") => "不明".into(),
                (0, _) => "システム".into(),
                (_, Some(login)) => login.clone(),
                (id, None) => format!("職員{id}"),
            },
            e.action.clone(),
            match (&e.kind, e.record) {
                (Some(k), Some(id)) => format!("{k}#{id}"),
                _ => String::new(),
            },
            e.result.clone(),
            // Where from: the device, then the client's address where there was one.
            [e.device.as_deref(), e.address.as_deref()].into_iter().flatten().collect::<Vec<_>>().join(" "),
        ],
        dim: e.result != "ok",
    }
}
