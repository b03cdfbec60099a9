//! What each screen shows, read from core when the screen opens or the clock ticks.

use std::sync::Arc;

use mamoru_core::audit::AuditEntry;
use mamoru_core::ids::DeviceId;
use mamoru_core::ids::UnitId;
use mamoru_core::staff::Action;
use mamoru_core::time::Timestamp;
use mamoru_core::{Actor, Service};

use super::{ACTIVITY_LINES, AUDIT_PAGE, App, Dashboard, Level, Row, mb, short_time};
use crate::Screen;

pub(super) fn device_names(svc: &Service, actor: &Actor) -> Vec<(DeviceId, String)> {
    svc.device_names(actor).unwrap_or_default()
}
pub(super) fn device_label(names: &[(DeviceId, String)], id: DeviceId) -> String {
    names.iter().find(|(d, _)| *d == id).map_or_else(|| format!("#{id}"), |(_, n)| n.clone())
}
/// A console key as people can tell keys apart: its type, the end of its data, its comment.
pub(super) fn key_label(key: &str) -> String {
    let mut parts = key.split_whitespace();
    let algo = parts.next().unwrap_or_default();
    let data = parts.next().unwrap_or_default();
    let tail = data.get(data.len().saturating_sub(8)..).unwrap_or_default();
    let comment = parts.collect::<Vec<_>>().join(" ");
    format!("{algo} …{tail} {comment}").trim_end().to_owned()
}
/// `20261124-210530` in JST, for file names.
pub(super) fn file_time(t: Timestamp) -> String {
    let s = t.to_jst_string();
    format!("{}{}{}-{}{}{}", &s[0..4], &s[5..7], &s[8..10], &s[11..13], &s[14..16], &s[17..19])
}
pub(super) fn audit_row(e: &AuditEntry, logins: &std::collections::HashMap<u64, String>) -> Row {
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
            e.device.clone().unwrap_or_default(),
        ],
        dim: e.result != "ok",
    }
}

impl App {
    pub(super) fn try_load(&mut self, screen: Screen) -> mamoru_core::Result<()> {
        let svc = Arc::clone(&self.service);
        let now = svc.now();
        match screen {
            Screen::Dashboard => self.load_dashboard(),
            Screen::Staff => {
                let units = svc.units()?;
                let unit_name = |id| units.iter().find(|u| u.id == id).map_or("?", |u| u.body.name.as_str());
                let staff = svc.list_staff(&self.actor)?;
                self.units = units.iter().map(|u| (UnitId(u.id), u.body.name.clone())).collect();
                self.state.staff = staff
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
                self.staff_rows = staff;
                Ok(())
            }
            Screen::Devices => self.load_devices(),
            Screen::Sessions => self.load_sessions(),
            Screen::Audit => {
                let entries = svc.search_audit(&self.actor, &self.audit_query, AUDIT_PAGE + 1)?;
                let logins = svc.audit_logins(&self.actor).unwrap_or_default();
                self.state.audit_more = entries.len() > AUDIT_PAGE;
                self.state.audit = entries.iter().take(AUDIT_PAGE).map(|e| audit_row(e, &logins)).collect();
                Ok(())
            }
            Screen::Backups => {
                self.state.backups = match self.host.generations() {
                    Ok(gens) => gens
                        .into_iter()
                        .map(|g| Row {
                            cells: vec![
                                g.name,
                                g.created,
                                format!("{:.1} MB", mb(g.bytes)),
                                if g.verified { "検証済み".into() } else { "未検証".into() },
                            ],
                            dim: !g.verified,
                        })
                        .collect(),
                    Err(e) => {
                        self.state.message =
                            Some((Level::Error, format!("バックアップ一覧を読めません: {e}")));
                        Vec::new()
                    }
                };
                self.load_dashboard()
            }
            Screen::CodeTables => {
                let today = now.jst_date();
                let tables = svc.code_tables()?;
                self.code_rows = tables
                    .iter()
                    .flat_map(|t| t.body.entries.iter().map(|e| (t.body.key.clone(), t.rev, e.code.clone())))
                    .collect();
                self.state.codes = tables
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
            Screen::Activity => {
                // Entering the feed is an audited read; its polls after that are not.
                let entries = if self.feed_opened {
                    svc.audit_feed(&self.actor, self.feed_after, ACTIVITY_LINES)?
                } else {
                    self.feed_opened = true;
                    svc.audit_log(&self.actor, self.feed_after + 1, ACTIVITY_LINES)?
                };
                if let Some(last) = entries.last() {
                    self.feed_after = last.seq;
                }
                let logins = svc.audit_logins(&self.actor).unwrap_or_default();
                self.state.activity.splice(0..0, entries.iter().rev().map(|e| audit_row(e, &logins)));
                self.state.activity.truncate(ACTIVITY_LINES);
                Ok(())
            }
        }
    }

    pub(super) fn load_devices(&mut self) -> mamoru_core::Result<()> {
        let svc = Arc::clone(&self.service);
        let devices = svc.devices(&self.actor)?;
        let now = svc.now();
        let sessions = svc.open_sessions(&self.actor).unwrap_or_default();
        let staff = svc.list_staff(&self.actor).unwrap_or_default();
        let login_of =
            |id: u64| staff.iter().find(|s| s.id == id).map_or(String::new(), |s| s.body.login.to_string());
        self.device_ids = devices.iter().map(|d| DeviceId(d.id)).collect();
        self.state.devices = devices
            .iter()
            .map(|d| {
                let last =
                    sessions.iter().filter(|s| s.device == Some(DeviceId(d.id))).max_by_key(|s| s.last_seen);
                let state = match (&d.body.revoked, &d.body.pending) {
                    (Some(r), _) => format!("失効 {}", short_time(r.at)),
                    (None, Some(p)) if p.expires > now => format!("登録待ち {}まで", short_time(p.expires)),
                    (None, Some(_)) => "コード期限切れ".into(),
                    (None, None) => "有効".into(),
                };
                Row {
                    cells: vec![
                        d.id.to_string(),
                        d.body.name.clone(),
                        state,
                        last.map_or("-".into(), |s| short_time(s.last_seen)),
                        last.map_or("-".into(), |s| s.login.clone()),
                        login_of(d.body.registered_by.0),
                    ],
                    dim: !d.body.is_active(),
                }
            })
            .collect();
        Ok(())
    }

    pub(super) fn load_sessions(&mut self) -> mamoru_core::Result<()> {
        let svc = Arc::clone(&self.service);
        let now = svc.now();
        let sessions = svc.open_sessions(&self.actor)?;
        let names = device_names(&svc, &self.actor);
        self.session_ids = sessions.iter().map(|s| s.id.clone()).collect();
        self.state.sessions = sessions
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

    pub(super) fn load_dashboard(&mut self) -> mamoru_core::Result<()> {
        let svc = Arc::clone(&self.service);
        let mut d = Dashboard {
            uptime_seconds: self.host.uptime_seconds(),
            store_bytes: self.host.store_bytes(),
            disk_free_bytes: self.host.disk_free_bytes(),
            sessions: 0,
            sessions_by_device: Vec::new(),
            requests: self.host.requests(),
            backup: svc.backup_health(),
            overdue: Vec::new(),
        };
        if self.actor.may(Action::OperateServer) {
            let sessions = svc.sessions_summary(&self.actor)?;
            let names = device_names(&svc, &self.actor);
            d.sessions = sessions.iter().map(|(_, n)| n).sum();
            d.sessions_by_device = sessions
                .into_iter()
                .map(|(dev, n)| (dev.map_or("端末なし".into(), |id| device_label(&names, id)), n))
                .collect();
            d.overdue = svc.overdue_by_unit(&self.actor)?;
        }
        self.state.dashboard = d;
        Ok(())
    }
}
