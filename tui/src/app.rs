//! The console's state and what keys do to it. `State` is plain data (what is on the screen);
//! `App` owns one `State` for one console session and calls core's service layer as the signed-in
//! console user. Nothing here is shared between sessions.

use std::sync::Arc;

use mamoru_core::audit::{AuditEntry, Verdict};
use mamoru_core::code_table::CodeEntryEdit;
use mamoru_core::ids::DeviceId;
use mamoru_core::ids::UnitId;
use mamoru_core::service::BackupHealth;
use mamoru_core::service::NewStaff;
use mamoru_core::service::Versioned;
use mamoru_core::staff::{Action, Login, Role, Staff};
use mamoru_core::time::Timestamp;
use mamoru_core::{Actor, Error, Service};

use crate::Screen;
use crate::keys::Key;

/// What the server around the console tells it (the binary implements this; the console knows
/// nothing of files, HTTP or backups itself).
pub trait Host: Send + Sync {
    fn uptime_seconds(&self) -> u64;
    fn store_bytes(&self) -> Option<u64>;
    fn disk_free_bytes(&self) -> Option<u64>;
    fn requests(&self) -> Requests;
    /// Backup generations, newest first.
    fn generations(&self) -> Result<Vec<Generation>, String>;
    /// Makes, verifies and keeps a generation now; returns a one-line summary.
    fn backup_now(&self) -> Result<String, String>;
    /// Keeps an export (the audit log as CSV) on the server where an administrator can fetch it;
    /// returns where it is.
    fn save_export(&self, name: &str, bytes: &[u8]) -> Result<String, String>;
    /// The folders the SSH server offers read-only over SFTP (the backup folder, the exports).
    fn folders(&self) -> Vec<crate::files::Folder> {
        Vec::new()
    }
}

/// Web traffic over the last minute.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Requests {
    pub per_minute: u64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    /// Server errors (5xx) over the last minute.
    pub errors: u64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Generation {
    pub name: String,
    pub created: String,
    pub bytes: u64,
    pub verified: bool,
}

/// One line of a list screen, already in words.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Row {
    pub cells: Vec<String>,
    /// Drawn dimmed (a disabled account, a revoked tablet).
    pub dim: bool,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Dashboard {
    pub uptime_seconds: u64,
    pub store_bytes: Option<u64>,
    pub disk_free_bytes: Option<u64>,
    pub sessions: usize,
    /// Sessions per device name (`端末なし` for sessions not bound to a tablet).
    pub sessions_by_device: Vec<(String, usize)>,
    pub requests: Requests,
    pub backup: BackupHealth,
    /// Overdue legal clocks per unit, counts only.
    pub overdue: Vec<(String, usize)>,
}

/// What a confirmed question does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Op {
    ExportAudit,
    ReissueDevice(DeviceId),
    RevokeDevice(DeviceId),
    EndSession(String),
    ResetTotp(String),
    ResetPassword(String),
    SetDisabled(String, bool),
    BackupNow,
}

/// What typed text is for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Entry {
    RegisterDevice,
    AddKey(String),
    /// The number of the key to remove, among the staff member's keys as listed.
    RemoveKey(String),
}

/// One line of a form.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Field {
    pub label: String,
    pub text: String,
    /// What may be typed, shown beside an empty field.
    pub hint: String,
}

impl Field {
    fn new(label: &str, text: &str, hint: &str) -> Self {
        Self { label: label.into(), text: text.into(), hint: hint.into() }
    }
}

/// What a form is for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Form {
    AuditFilter,
    AddStaff,
    /// The staff member's login and the revision the form was drawn from.
    EditStaff {
        login: String,
        rev: u64,
    },
    /// An entry of a code table (its key and revision): a new one, or the one with `code`.
    CodeEntry {
        table: String,
        rev: u64,
        code: Option<String>,
    },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Dialog {
    /// y / n.
    Confirm { question: String, op: Op },
    /// A line of text; Enter submits, Esc cancels.
    Input { prompt: String, text: String, entry: Entry },
    /// Several lines of text: Tab and the arrows move between them, Enter submits, Esc cancels.
    /// A refused submission stays open with the reason.
    Form { title: String, fields: Vec<Field>, focus: usize, form: Form, error: Option<String> },
    /// Something shown once (a tablet's secret, a one-time password); any key closes it.
    Shown { title: String, lines: Vec<String> },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    Info,
    Error,
}

/// Everything on the screen.
#[derive(Clone, Debug, PartialEq)]
pub struct State {
    pub screen: Screen,
    /// `demo-admin（管理者）`.
    pub user: String,
    pub now: Timestamp,
    pub dashboard: Dashboard,
    pub staff: Vec<Row>,
    pub devices: Vec<Row>,
    pub sessions: Vec<Row>,
    pub audit: Vec<Row>,
    /// The filter in words (`職員=cw1 操作=read_case`), empty for none.
    pub audit_filter: String,
    /// Whether the list stopped at `AUDIT_PAGE` entries.
    pub audit_more: bool,
    pub audit_verdict: Option<String>,
    pub backups: Vec<Row>,
    pub codes: Vec<Row>,
    /// Newest first.
    pub activity: Vec<Row>,
    /// Selected line per screen.
    pub cursor: [usize; Screen::ALL.len()],
    pub dialog: Option<Dialog>,
    pub message: Option<(Level, String)>,
}

/// How many lines the live feed keeps.
pub const ACTIVITY_LINES: usize = 200;
/// How many audit entries the 監査ログ screen lists (the newest that match).
pub const AUDIT_PAGE: usize = 500;
/// The audit filter form's fields, in order.
const AUDIT_FIELDS: [(&str, &str); 5] = [
    ("職員", "ログイン名 (例 cw1)"),
    ("児童ID", "数字 (タブレットの /children/123 の 123)"),
    ("操作", "例 read_child, read_case, sign_in"),
    ("開始日", "2026-11-01 または R8.11.1"),
    ("終了日", "同上 (その日を含む)"),
];

impl State {
    #[must_use]
    pub fn new(user: String, now: Timestamp) -> Self {
        Self {
            screen: Screen::Dashboard,
            user,
            now,
            dashboard: Dashboard::default(),
            staff: Vec::new(),
            devices: Vec::new(),
            sessions: Vec::new(),
            audit: Vec::new(),
            audit_filter: String::new(),
            audit_more: false,
            audit_verdict: None,
            backups: Vec::new(),
            codes: Vec::new(),
            activity: Vec::new(),
            cursor: [0; Screen::ALL.len()],
            dialog: None,
            message: None,
        }
    }

    /// The rows of the current screen, if it is a list.
    #[must_use]
    pub fn rows(&self) -> Option<&[Row]> {
        match self.screen {
            Screen::Dashboard => None,
            Screen::Staff => Some(&self.staff),
            Screen::Devices => Some(&self.devices),
            Screen::Sessions => Some(&self.sessions),
            Screen::Audit => Some(&self.audit),
            Screen::Backups => Some(&self.backups),
            Screen::CodeTables => Some(&self.codes),
            Screen::Activity => Some(&self.activity),
        }
    }

    #[must_use]
    pub fn cursor(&self) -> usize {
        self.cursor[self.screen.index()]
    }

    fn set_cursor(&mut self, at: usize) {
        let len = self.rows().map_or(0, <[Row]>::len);
        self.cursor[self.screen.index()] = at.min(len.saturating_sub(1));
    }

    fn selected(&self) -> Option<&Row> {
        self.rows().and_then(|r| r.get(self.cursor()))
    }
}

/// After a key: go on, or end the session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flow {
    Continue,
    Quit,
}

/// One console session.
pub struct App {
    service: Arc<Service>,
    host: Arc<dyn Host>,
    actor: Actor,
    /// Ids behind the rows of the list screens, in row order.
    device_ids: Vec<DeviceId>,
    /// The staff behind the 職員 rows, and the units their 所属 names.
    staff_rows: Vec<Versioned<Staff>>,
    units: Vec<(UnitId, String)>,
    /// The code tables behind the コード表 rows: (table key, revision, entry code) per row.
    code_rows: Vec<(String, u64, String)>,
    session_ids: Vec<String>,
    /// Last audit sequence number the live feed has shown.
    feed_after: u64,
    /// Whether the live feed's opening has been audited since the screen was entered.
    feed_opened: bool,
    /// The 監査ログ filter: as typed (to show the form again) and as core takes it.
    audit_texts: [String; 5],
    audit_query: mamoru_core::service::AuditFilter,
    pub state: State,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App").field("actor", &self.actor.login()).finish_non_exhaustive()
    }
}

fn describe(e: &Error) -> String {
    match e {
        Error::Forbidden { .. } => "権限がありません (not permitted for this role)".into(),
        Error::NotFound { .. } => "見つかりません (it no longer exists)".into(),
        Error::Conflict { .. } => {
            "他の人が先に変更しました。もう一度お試しください (changed meanwhile)".into()
        }
        Error::Invalid { field, reason } => format!("入力エラー: {field}: {reason}"),
        other => format!("エラー: {other}"),
    }
}

impl App {
    /// Opens a console session on the dashboard.
    pub fn new(service: Arc<Service>, host: Arc<dyn Host>, actor: Actor) -> Self {
        let user = format!("{}（{}）", actor.login().as_str(), actor.role().label());
        let now = service.now();
        let mut app = Self {
            service,
            host,
            actor,
            device_ids: Vec::new(),
            staff_rows: Vec::new(),
            units: Vec::new(),
            code_rows: Vec::new(),
            session_ids: Vec::new(),
            feed_after: 0,
            feed_opened: false,
            audit_texts: Default::default(),
            audit_query: mamoru_core::service::AuditFilter::default(),
            state: State::new(user, now),
        };
        // The feed starts at "now": the past is on the 監査ログ screen.
        app.feed_after = app.service.audit_len().unwrap_or(0);
        app.load(Screen::Dashboard);
        app
    }

    #[must_use]
    pub fn actor(&self) -> &Actor {
        &self.actor
    }

    /// Periodic refresh: the dashboard's figures and the live feed.
    pub fn tick(&mut self) {
        self.state.now = self.service.now();
        match self.state.screen {
            Screen::Dashboard => self.load(Screen::Dashboard),
            Screen::Activity => self.load(Screen::Activity),
            _ => {}
        }
    }

    fn error(&mut self, e: &Error) {
        self.state.message = Some((Level::Error, describe(e)));
    }

    fn info(&mut self, text: impl Into<String>) {
        self.state.message = Some((Level::Info, text.into()));
    }

    /// Reloads what `screen` shows.
    fn load(&mut self, screen: Screen) {
        if let Err(e) = self.try_load(screen) {
            self.error(&e);
        }
        let at = self.state.cursor();
        self.state.set_cursor(at);
    }

    fn try_load(&mut self, screen: Screen) -> mamoru_core::Result<()> {
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

    fn load_devices(&mut self) -> mamoru_core::Result<()> {
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

    fn load_sessions(&mut self) -> mamoru_core::Result<()> {
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

    fn load_dashboard(&mut self) -> mamoru_core::Result<()> {
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

    /// Handles one key.
    pub fn handle(&mut self, key: Key) -> Flow {
        self.state.now = self.service.now();
        if let Some(dialog) = self.state.dialog.take() {
            self.dialog_key(dialog, key);
            return Flow::Continue;
        }
        if key != Key::Esc {
            self.state.message = None;
        }
        let screen = self.state.screen;
        let at = self.state.cursor();
        match key {
            Key::CtrlC | Key::Char('q') => return Flow::Quit,
            Key::Tab | Key::Right => self.switch(screen.next()),
            Key::BackTab | Key::Left => self.switch(screen.prev()),
            Key::Char(c @ '1'..='8') => {
                let i = usize::from(c as u8 - b'1');
                self.switch(Screen::ALL[i]);
            }
            Key::Up | Key::Char('k') => self.state.set_cursor(at.saturating_sub(1)),
            Key::Down | Key::Char('j') => self.state.set_cursor(at + 1),
            Key::PageUp => self.state.set_cursor(at.saturating_sub(10)),
            Key::PageDown => self.state.set_cursor(at + 10),
            Key::Home => self.state.set_cursor(0),
            Key::End => self.state.set_cursor(usize::MAX),
            Key::Esc => self.state.message = None,
            Key::Char(c) => self.screen_key(screen, c),
            Key::Enter => self.screen_key(screen, '\n'),
            _ => {}
        }
        Flow::Continue
    }

    fn switch(&mut self, screen: Screen) {
        self.state.screen = screen;
        self.feed_opened = false;
        self.load(screen);
    }

    fn confirm(&mut self, question: String, op: Op) {
        self.state.dialog = Some(Dialog::Confirm { question, op });
    }

    /// Shows a tablet's one-time registration code, once.
    fn show_code(&mut self, title: String, code: String, expires: Timestamp) {
        self.state.dialog = Some(Dialog::Shown {
            title,
            lines: vec![
                "タブレットで /register を開き、このコードを入力してください:".into(),
                code,
                format!(
                    "有効期限 {}（1回限り）。この画面を閉じると二度と表示されません。",
                    short_time(expires)
                ),
            ],
        });
    }

    fn open_form(&mut self, title: &str, fields: Vec<Field>, form: Form) {
        self.state.dialog = Some(Dialog::Form { title: title.into(), fields, focus: 0, form, error: None });
    }

    /// `1 児童相談所  2 子ども家庭支援課` for the 所属 field.
    fn unit_hint(&self) -> String {
        let units =
            self.units.iter().enumerate().map(|(i, (_, n))| format!("{} {n}", i + 1)).collect::<Vec<_>>();
        format!("番号をカンマ区切りで: {}", units.join("  "))
    }

    /// The 所属 field: unit numbers as listed (or names), comma-separated.
    fn parse_units(&self, text: &str) -> Result<Vec<UnitId>, String> {
        let mut out = Vec::new();
        for part in text.split([',', '、', '，', ' ']).map(str::trim).filter(|p| !p.is_empty()) {
            let found = match part.parse::<usize>() {
                Ok(n) => self.units.get(n.wrapping_sub(1)),
                Err(_) => self.units.iter().find(|(_, name)| name == part),
            };
            match found {
                Some((id, _)) if !out.contains(id) => out.push(*id),
                Some(_) => {}
                None => return Err(format!("所属: 「{part}」という所属はありません")),
            }
        }
        if out.is_empty() {
            return Err("所属: 少なくとも一つ入力してください".into());
        }
        Ok(out)
    }

    fn ask(&mut self, prompt: &str, entry: Entry, text: String) {
        self.state.dialog = Some(Dialog::Input { prompt: prompt.into(), text, entry });
    }

    fn screen_key(&mut self, screen: Screen, c: char) {
        let at = self.state.cursor();
        let name = self.state.selected().and_then(|r| r.cells.get(1)).cloned().unwrap_or_default();
        match (screen, c) {
            (Screen::Devices, 'r' | '\n') => {
                if let Some(&id) = self.device_ids.get(at) {
                    self.confirm(
                        format!("端末「{name}」を失効させますか？ この端末のセッションはすべて終了します。"),
                        Op::RevokeDevice(id),
                    );
                }
            }
            (Screen::Devices, 'n') => self.ask("新しい端末の名前", Entry::RegisterDevice, String::new()),
            (Screen::Devices, 'g') => {
                if let Some(&id) = self.device_ids.get(at) {
                    self.confirm(
                        format!(
                            "端末「{name}」を登録し直しますか？ 新しい登録コードを発行します。今の登録は使えなくなり、この端末のセッションは終了します。"
                        ),
                        Op::ReissueDevice(id),
                    );
                }
            }
            (Screen::Sessions, 'e' | '\n') => {
                if let Some(id) = self.session_ids.get(at).cloned() {
                    let login = self.state.sessions[at].cells[1].clone();
                    self.confirm(format!("{login} のセッションを終了しますか？"), Op::EndSession(id));
                }
            }
            (Screen::Audit, '/' | 'f') => {
                let fields = AUDIT_FIELDS
                    .iter()
                    .zip(&self.audit_texts)
                    .map(|((label, hint), text)| Field::new(label, text, hint))
                    .collect();
                self.state.dialog = Some(Dialog::Form {
                    title: "監査ログの絞り込み".into(),
                    fields,
                    focus: 0,
                    form: Form::AuditFilter,
                    error: None,
                });
            }
            (Screen::Audit, 'c') => {
                self.audit_texts = Default::default();
                self.audit_query = mamoru_core::service::AuditFilter::default();
                self.state.audit_filter.clear();
                self.state.cursor[Screen::Audit.index()] = 0;
                self.load(Screen::Audit);
            }
            (Screen::Audit, 'x') => {
                let what = if self.state.audit_filter.is_empty() {
                    "監査ログ全体".to_owned()
                } else {
                    format!("絞り込み ({}) の結果", self.state.audit_filter)
                };
                self.confirm(
                    format!("{what}を CSV に出力しますか？ 出力も監査ログに記録されます。"),
                    Op::ExportAudit,
                );
            }
            (Screen::Audit, 'v') => {
                self.state.audit_verdict = Some(match self.service.verify_audit() {
                    Ok(Verdict::Intact { entries }) => format!("改ざんなし ({entries} 件を検証)"),
                    Ok(Verdict::Broken { seq, reason }) => format!("改ざんを検出: #{seq}: {reason}"),
                    Err(e) => describe(&e),
                });
            }
            (Screen::Backups, 'b') => {
                self.confirm("今すぐバックアップを作成しますか？".into(), Op::BackupNow);
            }
            (Screen::Staff, _) => self.staff_key(c, at),
            (Screen::CodeTables, _) => self.code_key(c, at),
            _ => {}
        }
    }

    /// 職員: add, edit, disable, password, TOTP, console keys.
    fn staff_key(&mut self, c: char, at: usize) {
        let login = self.staff_rows.get(at).map(|s| s.body.login.as_str().to_owned());
        match c {
            'd' => {
                if let Some(login) = login {
                    let disable = !self.state.staff[at].dim;
                    let verb = if disable { "無効に" } else { "有効に" };
                    self.confirm(format!("{login} を{verb}しますか？"), Op::SetDisabled(login, disable));
                }
            }
            'p' => {
                if let Some(login) = login {
                    self.confirm(
                        format!("{login} のパスワードを再設定しますか？ 一度だけ表示します。"),
                        Op::ResetPassword(login),
                    );
                }
            }
            't' => {
                if let Some(login) = login {
                    self.confirm(
                        format!("{login} の二要素認証 (TOTP) をリセットしますか？"),
                        Op::ResetTotp(login),
                    );
                }
            }
            'n' => {
                if let Some(login) = login {
                    self.ask(
                        &format!("{login} の公開鍵 (ssh-ed25519 AAAA...)"),
                        Entry::AddKey(login),
                        String::new(),
                    );
                }
            }
            'a' => self.open_form(
                "職員の追加",
                vec![
                    Field::new("ログイン名", "", "英小文字で始まる 2〜32 字 (a-z 0-9 . _ -)"),
                    Field::new("氏名", "", "表示名 (40 字まで)"),
                    Field::new("役割", "", &role_hint()),
                    Field::new("所属", "", &self.unit_hint()),
                ],
                Form::AddStaff,
            ),
            'e' | '\n' => {
                if let Some(s) = self.staff_rows.get(at).cloned() {
                    let units = s
                        .body
                        .units
                        .iter()
                        .map(|u| {
                            self.units.iter().position(|(id, _)| id == u).map_or(0, |i| i + 1).to_string()
                        })
                        .collect::<Vec<_>>()
                        .join(",");
                    let role = Role::ALL.iter().position(|r| *r == s.body.role).map_or(0, |i| i + 1);
                    self.open_form(
                        &format!("{} の編集", s.body.login),
                        vec![
                            Field::new("氏名", &s.body.display_name, "表示名 (40 字まで)"),
                            Field::new("役割", &role.to_string(), &role_hint()),
                            Field::new("所属", &units, &self.unit_hint()),
                        ],
                        Form::EditStaff { login: s.body.login.as_str().to_owned(), rev: s.rev },
                    );
                }
            }
            'x' => {
                if let Some(s) = self.staff_rows.get(at) {
                    if s.body.console_keys.is_empty() {
                        self.info(format!("{} には公開鍵がありません", s.body.login));
                    } else {
                        let list = s
                            .body
                            .console_keys
                            .iter()
                            .enumerate()
                            .map(|(i, k)| format!("{} {}", i + 1, key_label(k)))
                            .collect::<Vec<_>>()
                            .join(" / ");
                        let login = s.body.login.as_str().to_owned();
                        self.ask(
                            &format!("{login} の削除する公開鍵の番号: {list}"),
                            Entry::RemoveKey(login),
                            String::new(),
                        );
                    }
                }
            }
            _ => {}
        }
    }

    /// コード表: add an entry to the selected row's table, or edit the selected entry.
    fn code_key(&mut self, c: char, at: usize) {
        match c {
            'a' => {
                if let Some((table, rev, _)) = self.code_rows.get(at).cloned() {
                    self.open_form(
                        &format!("コード表「{table}」に追加"),
                        code_fields("", "", "", ""),
                        Form::CodeEntry { table, rev, code: None },
                    );
                }
            }
            'e' | '\n' => {
                if let (Some((table, rev, code)), Some(row)) =
                    (self.code_rows.get(at).cloned(), self.state.codes.get(at).cloned())
                {
                    let date = |c: &str| if c == "-" { String::new() } else { c.to_owned() };
                    let mut fields =
                        code_fields(&code, &row.cells[2], &date(&row.cells[3]), &date(&row.cells[4]));
                    fields.remove(0);
                    self.open_form(
                        &format!("コード表「{table}」のコード {code}"),
                        fields,
                        Form::CodeEntry { table, rev, code: Some(code) },
                    );
                }
            }
            _ => {}
        }
    }

    fn dialog_key(&mut self, dialog: Dialog, key: Key) {
        match dialog {
            Dialog::Confirm { question, op } => match key {
                Key::Char('y' | 'Y') => self.run(op),
                Key::Char('n' | 'N') | Key::Esc | Key::CtrlC => self.info("取り消しました"),
                _ => self.state.dialog = Some(Dialog::Confirm { question, op }),
            },
            Dialog::Input { prompt, mut text, entry } => match key {
                Key::Enter => self.submit(entry, text.trim()),
                Key::Esc | Key::CtrlC => self.info("取り消しました"),
                Key::Backspace => {
                    text.pop();
                    self.state.dialog = Some(Dialog::Input { prompt, text, entry });
                }
                Key::Char(c) => {
                    if text.chars().count() < 400 {
                        text.push(c);
                    }
                    self.state.dialog = Some(Dialog::Input { prompt, text, entry });
                }
                _ => self.state.dialog = Some(Dialog::Input { prompt, text, entry }),
            },
            Dialog::Form { title, mut fields, mut focus, form, error } => {
                let last = fields.len().saturating_sub(1);
                match key {
                    Key::Enter => {
                        let texts: Vec<String> = fields.iter().map(|f| f.text.trim().to_owned()).collect();
                        if let Err(reason) = self.submit_form(&form, &texts) {
                            self.state.dialog =
                                Some(Dialog::Form { title, fields, focus, form, error: Some(reason) });
                        }
                        return;
                    }
                    Key::Esc | Key::CtrlC => {
                        self.info("取り消しました");
                        return;
                    }
                    Key::Tab | Key::Down => focus = if focus >= last { 0 } else { focus + 1 },
                    Key::BackTab | Key::Up => focus = if focus == 0 { last } else { focus - 1 },
                    Key::Backspace => {
                        if let Some(f) = fields.get_mut(focus) {
                            f.text.pop();
                        }
                    }
                    Key::Char(c) => {
                        if let Some(f) = fields.get_mut(focus)
                            && f.text.chars().count() < 200
                        {
                            f.text.push(c);
                        }
                    }
                    _ => {}
                }
                self.state.dialog = Some(Dialog::Form { title, fields, focus, form, error });
            }
            Dialog::Shown { .. } => {}
        }
    }

    /// A form's Enter. `Err` keeps the form open with the reason.
    fn submit_form(&mut self, form: &Form, texts: &[String]) -> Result<(), String> {
        match form {
            Form::AuditFilter => {
                let filter = audit_filter(texts)?;
                // Asked once here, so a refusal (an unknown login or child) is said in the form.
                self.service.search_audit(&self.actor, &filter, 1).map_err(|e| describe(&e))?;
                self.audit_query = filter;
                for (kept, text) in self.audit_texts.iter_mut().zip(texts) {
                    kept.clone_from(text);
                }
                self.state.audit_filter = AUDIT_FIELDS
                    .iter()
                    .zip(texts)
                    .filter(|(_, t)| !t.is_empty())
                    .map(|((label, _), t)| format!("{label}={t}"))
                    .collect::<Vec<_>>()
                    .join(" ");
                self.state.cursor[Screen::Audit.index()] = 0;
                self.load(Screen::Audit);
                Ok(())
            }
            Form::AddStaff => {
                let login = Login::parse(&texts[0]).map_err(|_| {
                    "ログイン名: 英小文字で始まる 2〜32 字 (a-z 0-9 . _ -) にしてください".to_owned()
                })?;
                let new = NewStaff {
                    login: login.clone(),
                    display_name: texts[1].clone(),
                    role: parse_role(&texts[2])?,
                    units: self.parse_units(&texts[3])?,
                };
                if new.display_name.is_empty() {
                    return Err("氏名: 入力してください".into());
                }
                let (_, password) = self
                    .service
                    .add_staff_with_one_time_password(&self.actor, new)
                    .map_err(|e| describe(&e))?;
                self.state.dialog = Some(Dialog::Shown {
                    title: format!("{login} を追加しました"),
                    lines: vec![
                        "最初のパスワード (一度だけ表示します):".into(),
                        password,
                        "本人に直接伝えてください。初回のサインインで二要素認証 (TOTP) を登録します。".into(),
                    ],
                });
                self.load(Screen::Staff);
                Ok(())
            }
            Form::EditStaff { login, rev } => {
                let role = parse_role(&texts[1])?;
                let units = self.parse_units(&texts[2])?;
                self.service
                    .edit_staff(&self.actor, login, *rev, &texts[0], role, units)
                    .map_err(|e| describe(&e))?;
                self.info(format!("{login} を変更しました (役割・所属が変わったときはサインインし直しです)"));
                self.load(Screen::Staff);
                Ok(())
            }
            Form::CodeEntry { table, rev, code } => {
                let editing = code.is_some();
                let (code, texts) = match code {
                    Some(c) => (c.clone(), texts),
                    None => (texts[0].clone(), &texts[1..]),
                };
                let date = |t: &str, label: &str| {
                    (!t.is_empty())
                        .then(|| {
                            mamoru_core::wareki::parse(t)
                                .map_err(|_| format!("{label}: 日付が読めません ({t})"))
                        })
                        .transpose()
                };
                let entry = CodeEntryEdit {
                    code,
                    label: texts[0].clone(),
                    valid_from: date(&texts[1], "有効開始")?,
                    valid_until: date(&texts[2], "有効終了")?,
                };
                // Core adds or changes the one entry at the revision the form was drawn from.
                self.service
                    .put_code_entry(&self.actor, table, *rev, entry, !editing)
                    .map_err(|e| describe(&e))?;
                self.info(format!("コード表「{table}」を保存しました"));
                self.load(Screen::CodeTables);
                Ok(())
            }
        }
    }

    fn run(&mut self, op: Op) {
        let svc = Arc::clone(&self.service);
        let screen = self.state.screen;
        let outcome = match op {
            Op::RevokeDevice(id) => {
                svc.revoke_device(&self.actor, id).map(|()| "端末を失効させました".to_owned())
            }
            Op::EndSession(id) => {
                svc.end_session(&self.actor, &id).map(|()| "セッションを終了しました".to_owned())
            }
            Op::ResetTotp(login) => {
                svc.reset_totp(&self.actor, &login).map(|()| format!("{login} の TOTP をリセットしました"))
            }
            Op::SetDisabled(login, disabled) => svc
                .set_staff_disabled(&self.actor, &login, disabled)
                .map(|()| format!("{login} を{}にしました", if disabled { "無効" } else { "有効" })),
            Op::ResetPassword(login) => match svc.reset_password(&self.actor, &login) {
                Ok(password) => {
                    self.state.dialog = Some(Dialog::Shown {
                        title: format!("{login} の新しいパスワード"),
                        lines: vec![
                            password,
                            String::new(),
                            "本人に直接伝えてください。この画面を閉じると二度と表示されません。".into(),
                        ],
                    });
                    Ok(format!("{login} のパスワードを再設定しました"))
                }
                Err(e) => Err(e),
            },
            Op::ReissueDevice(id) => match svc.reissue_device_code(&self.actor, id) {
                Ok((code, expires)) => {
                    self.show_code(format!("端末 #{id} の新しい登録コード"), code, expires);
                    Ok("登録コードを発行しました".to_owned())
                }
                Err(e) => Err(e),
            },
            Op::ExportAudit => {
                let mut csv = Vec::new();
                let name = format!("audit-{}.csv", file_time(svc.now()));
                match svc.export_audit(&self.actor, &self.audit_query, &mut csv) {
                    Ok(n) => match self.host.save_export(&name, &csv) {
                        Ok(path) => {
                            self.state.dialog = Some(Dialog::Shown {
                                title: "監査ログを出力しました".into(),
                                lines: vec![
                                    format!("{n} 件を CSV (UTF-8、Excel で開けます) に書き出しました:"),
                                    path,
                                    "PC へはこのコンソールと同じ鍵・ポートの SFTP で取り出し、監査担当者に渡してください。例:"
                                        .into(),
                                    format!("scp -P 2222 '{}@サーバー名:/exports/{name}' .", self.actor.login().as_str()),
                                ],
                            });
                            Ok(format!("監査ログ {n} 件を出力しました"))
                        }
                        Err(e) => {
                            self.state.message = Some((Level::Error, format!("ファイルに書けません: {e}")));
                            self.load(screen);
                            return;
                        }
                    },
                    Err(e) => Err(e),
                }
            }
            Op::BackupNow => {
                match svc
                    .authorize_backup(&self.actor)
                    .map_err(|e| describe(&e))
                    .and_then(|()| self.host.backup_now())
                {
                    Ok(summary) => Ok(format!("バックアップを作成しました: {summary}")),
                    Err(e) => {
                        self.state.message = Some((Level::Error, format!("バックアップに失敗しました: {e}")));
                        self.load(screen);
                        return;
                    }
                }
            }
        };
        match outcome {
            Ok(text) => self.info(text),
            Err(e) => self.error(&e),
        }
        self.load(screen);
    }

    fn submit(&mut self, entry: Entry, text: &str) {
        let svc = Arc::clone(&self.service);
        match entry {
            Entry::RegisterDevice => match svc.issue_device_code(&self.actor, text) {
                Ok((id, code, expires)) => {
                    self.show_code(format!("端末「{text}」(#{id}) の登録コード"), code, expires);
                }
                Err(e) => self.error(&e),
            },
            Entry::RemoveKey(login) => {
                let key = self
                    .staff_rows
                    .iter()
                    .find(|s| s.body.login.as_str() == login)
                    .and_then(|s| {
                        text.parse::<usize>().ok().and_then(|n| s.body.console_keys.get(n.wrapping_sub(1)))
                    })
                    .cloned();
                match key {
                    None => self.state.message = Some((Level::Error, format!("番号が違います: {text}"))),
                    Some(key) => match svc.remove_console_key(&self.actor, &login, &key) {
                        Ok(()) => self.info(format!("{login} の公開鍵 {} を削除しました", key_label(&key))),
                        Err(e) => self.error(&e),
                    },
                }
            }
            Entry::AddKey(login) => match svc.add_console_key(&self.actor, &login, text) {
                Ok(()) => self.info(format!("{login} に公開鍵を追加しました")),
                Err(e) => self.error(&e),
            },
        }
        self.load(self.state.screen);
    }
}

fn device_names(svc: &Service, actor: &Actor) -> Vec<(DeviceId, String)> {
    svc.device_names(actor).unwrap_or_default()
}

fn device_label(names: &[(DeviceId, String)], id: DeviceId) -> String {
    names.iter().find(|(d, _)| *d == id).map_or_else(|| format!("#{id}"), |(_, n)| n.clone())
}

/// `1 児童福祉司・相談員  2 児童心理司 …` for the 役割 field.
fn role_hint() -> String {
    let roles =
        Role::ALL.iter().enumerate().map(|(i, r)| format!("{} {}", i + 1, r.label())).collect::<Vec<_>>();
    format!("番号: {}", roles.join("  "))
}

/// The 役割 field: a number as listed, a label, or the English name.
fn parse_role(text: &str) -> Result<Role, String> {
    let text = text.trim();
    let found = match text.parse::<usize>() {
        Ok(n) => Role::ALL.get(n.wrapping_sub(1)).copied(),
        Err(_) => Role::ALL.iter().copied().find(|r| r.label() == text || r.as_str() == text),
    };
    found.ok_or_else(|| format!("役割: 「{text}」は役割の番号ではありません"))
}

/// A console key as people can tell keys apart: its type, the end of its data, its comment.
fn key_label(key: &str) -> String {
    let mut parts = key.split_whitespace();
    let algo = parts.next().unwrap_or_default();
    let data = parts.next().unwrap_or_default();
    let tail = data.get(data.len().saturating_sub(8)..).unwrap_or_default();
    let comment = parts.collect::<Vec<_>>().join(" ");
    format!("{algo} …{tail} {comment}").trim_end().to_owned()
}

/// The fields of a code-table entry (the code first, dropped when editing one).
fn code_fields(code: &str, label: &str, from: &str, until: &str) -> Vec<Field> {
    vec![
        Field::new("コード", code, "英数字 (8 字まで)"),
        Field::new("名称", label, "画面に出る名前 (40 字まで)"),
        Field::new("有効開始", from, "空欄は制限なし。2026-04-01 または R8.4.1"),
        Field::new("有効終了", until, "この日から使えません。空欄は制限なし"),
    ]
}

/// The audit filter form's texts as core takes them: a login (or staff id), a child id, an
/// action, and two dates (ISO or 和暦).
fn audit_filter(texts: &[String]) -> Result<mamoru_core::service::AuditFilter, String> {
    let text = |i: usize| texts.get(i).map(String::as_str).filter(|t| !t.is_empty());
    let date = |i: usize, label: &str| {
        text(i)
            .map(|t| mamoru_core::wareki::parse(t).map_err(|_| format!("{label}: 日付が読めません ({t})")))
            .transpose()
    };
    let child = text(1)
        .map(|t| {
            t.trim_start_matches('#')
                .parse::<u64>()
                .map(mamoru_core::ids::ChildId)
                .map_err(|_| format!("児童ID: 数字で入力してください ({t})"))
        })
        .transpose()?;
    if let Some(t) = text(2)
        && !t.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
    {
        return Err(format!("操作: 英小文字と _ で入力してください (例 read_case) ({t})"));
    }
    Ok(mamoru_core::service::AuditFilter {
        staff: text(0).map(str::to_owned),
        child,
        action: text(2).map(str::to_owned),
        from: date(3, "開始日")?,
        until: date(4, "終了日")?,
    })
}

/// `20261124-210530` in JST, for file names.
fn file_time(t: Timestamp) -> String {
    let s = t.to_jst_string();
    format!("{}{}{}-{}{}{}", &s[0..4], &s[5..7], &s[8..10], &s[11..13], &s[14..16], &s[17..19])
}

fn audit_row(e: &AuditEntry, logins: &std::collections::HashMap<u64, String>) -> Row {
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

/// `11-23 21:05` in JST.
#[must_use]
pub fn short_time(t: Timestamp) -> String {
    let s = t.to_jst_string();
    // YYYY-MM-DDTHH:MM:SS+09:00
    format!("{} {}", &s[5..10], &s[11..16])
}

#[allow(clippy::cast_precision_loss, reason = "a figure for people to read")]
#[must_use]
pub fn mb(bytes: u64) -> f64 {
    bytes as f64 / 1_000_000.0
}
