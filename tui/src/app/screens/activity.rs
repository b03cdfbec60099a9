//! 操作履歴: the live feed of audit entries, newest first.

use super::super::{ACTIVITY_LINES, App};
use super::audit_row;

pub(super) fn load(app: &mut App) -> mamoru_core::Result<()> {
    let svc = &app.service;
    // Entering the feed is an audited read; its polls after that are not.
    let entries = if app.feed_opened {
        svc.audit_feed(&app.actor, app.feed_after, ACTIVITY_LINES)?
    } else {
        app.feed_opened = true;
        svc.audit_log(&app.actor, app.feed_after + 1, ACTIVITY_LINES)?
    };
    if let Some(last) = entries.last() {
        app.feed_after = last.seq;
    }
    let logins = svc.audit_logins(&app.actor).unwrap_or_default();
    app.state.activity.splice(0..0, entries.iter().rev().map(|e| audit_row(e, &logins)));
    app.state.activity.truncate(ACTIVITY_LINES);
    Ok(())
}
