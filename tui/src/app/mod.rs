//! The console's state and what keys do to it. `State` is plain data (what is on the screen);
//! `App` owns one `State` for one console session and calls core's service layer as the signed-in
//! console user. Nothing here is shared between sessions.

mod input;
mod ops;
mod screens;
mod text;

use std::sync::Arc;

use mamoru_core::audit::Verdict;
use mamoru_core::ids::DeviceId;
use mamoru_core::ids::UnitId;
use mamoru_core::service::BackupHealth;
use mamoru_core::service::Versioned;
use mamoru_core::staff::Staff;
use mamoru_core::time::Timestamp;
use mamoru_core::{Actor, Error, Service};

use crate::Screen;
use crate::keys::Key;
use ops::{code_fields, role_hint};
use screens::Action;
use text::{file_time, key_label};

/// What the server around the console tells it (the binary implements this; the console knows
/// nothing of files, HTTP or backups itself).
pub trait Host: Send + Sync {
    fn uptime_seconds(&self) -> u64;
    fn store_bytes(&self) -> Option<u64>;
    /// The disk holding the store (`statvfs`); core says how full that is.
    fn disk(&self) -> Option<mamoru_core::store::DiskSpace>;
    fn requests(&self) -> Requests;
    /// Backup generations, newest first.
    fn generations(&self) -> Result<Vec<Generation>, String>;
    /// Makes, verifies and keeps a generation now; returns a one-line summary.
    fn backup_now(&self) -> Result<String, String>;
    /// Runs a restore drill (the newest generation and the archive restored into a scratch
    /// directory, checked, timed) and keeps its result; an error when it could not be kept.
    fn restore_drill(&self) -> Result<mamoru_core::drill::RestoreDrill, String>;
    /// Keeps an export (the audit log as CSV) on the server where an administrator can fetch it;
    /// returns where it is.
    fn save_export(&self, name: &str, bytes: &[u8]) -> Result<String, String>;
    /// Where a whole-store export named `name` is written (a new folder of the store exports,
    /// which only administrators fetch), and the path to show.
    fn store_export(
        &self,
        name: &str,
    ) -> Result<(Box<dyn mamoru_core::service::export::Sink>, String), String> {
        let _ = name;
        Err("this console cannot write exports".into())
    }
    /// The folders the SSH server offers read-only over SFTP (the backup folder, the exports).
    fn folders(&self) -> Vec<crate::files::Folder> {
        Vec::new()
    }
    /// The web server's certificate, where it serves HTTPS and the file can be read.
    fn certificate(&self) -> Option<Certificate> {
        None
    }
}

/// The web server's certificate, as the dashboard shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Certificate {
    pub not_after: mamoru_core::time::Timestamp,
    /// Made by Mamoru, so `mamoru tls renew` renews it; else whoever issued it does.
    pub own: bool,
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
    pub disk: Option<mamoru_core::store::DiskSpace>,
    /// The store can begin a write (false after an I/O failure, until it is reopened).
    pub store_writable: bool,
    pub sessions: usize,
    /// Sessions per device name (`端末なし` for sessions not bound to a tablet).
    pub sessions_by_device: Vec<(String, usize)>,
    pub requests: Requests,
    pub backup: BackupHealth,
    /// Overdue legal clocks per unit, counts only.
    pub overdue: Vec<(String, usize)>,
    /// The server's latest probe of itself.
    pub last_probe: Option<mamoru_core::uptime::Probe>,
    /// The alerts still open (whether each was told, and how the last try failed).
    pub open_alerts: Vec<mamoru_core::alert::Alert>,
    /// The web's certificate and where it stands now.
    pub certificate: Option<(Certificate, mamoru_core::certificate::Expiry)>,
    /// This month's 稼働率 so far (core's, from the ledger).
    pub month_uptime: Option<mamoru_core::uptime::Availability>,
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
    RestoreDrill,
    CheckStore,
    /// The whole store for the next system (`Service::export_store`).
    ExportStore,
    /// Calls off a planned stop read at a revision (one that runs ends now).
    CancelMaintenance(mamoru_core::ids::MaintenanceId, u64),
}

/// What typed text is for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Entry {
    RegisterDevice,
    AddKey(String),
    /// The number of the key to remove, among the staff member's keys as listed.
    RemoveKey(String),
    /// The month of a サービス提供報告書 (empty: last month).
    ServiceReport,
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
    /// A new planned stop.
    AnnounceMaintenance,
    /// A planned stop (its id) as read at `rev`, with its times (a field left as drawn keeps
    /// the time to the second).
    ChangeMaintenance {
        id: mamoru_core::ids::MaintenanceId,
        rev: u64,
        from: Timestamp,
        to: Timestamp,
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
    /// 計画停止, the latest start first.
    pub maintenance: Vec<Row>,
    pub codes: Vec<Row>,
    pub templates: Vec<Row>,
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
            maintenance: Vec::new(),
            codes: Vec::new(),
            templates: Vec::new(),
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
            Screen::Maintenance => Some(&self.maintenance),
            Screen::CodeTables => Some(&self.codes),
            Screen::Templates => Some(&self.templates),
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
    /// The planned stops behind the 計画停止 rows.
    maintenance_rows: Vec<Versioned<mamoru_core::maintenance::Maintenance>>,
    /// What Enter shows of each 帳票様式 row: its title and lines.
    template_details: Vec<(String, Vec<String>)>,
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
            maintenance_rows: Vec::new(),
            template_details: Vec::new(),
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
            // 1-9 and 0 for the tenth.
            Key::Char(c @ '0'..='9') => {
                let i = (usize::from(c as u8 - b'0') + 9) % 10;
                if let Some(s) = Screen::ALL.get(i) {
                    self.switch(*s);
                }
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

    /// Carries out what a screen's key asked for.
    fn perform(&mut self, action: Action) {
        match action {
            Action::Confirm(question, op) => self.state.dialog = Some(Dialog::Confirm { question, op }),
            Action::Ask(prompt, entry) => {
                self.state.dialog = Some(Dialog::Input { prompt, text: String::new(), entry });
            }
            Action::Form(title, fields, form) => {
                self.state.dialog = Some(Dialog::Form { title, fields, focus: 0, form, error: None });
            }
            Action::Info(text) => self.info(text),
            Action::Show(title, lines) => self.state.dialog = Some(Dialog::Shown { title, lines }),
            Action::ClearAuditFilter => {
                self.audit_texts = Default::default();
                self.audit_query = mamoru_core::service::AuditFilter::default();
                self.state.audit_filter.clear();
                self.state.cursor[Screen::Audit.index()] = 0;
                self.load(Screen::Audit);
            }
            Action::VerifyAudit => {
                self.state.audit_verdict = Some(match self.service.verify_audit() {
                    Ok(Verdict::Intact { entries }) => format!("改ざんなし ({entries} 件を検証)"),
                    Ok(Verdict::Broken { seq, reason }) => format!("改ざんを検出: #{seq}: {reason}"),
                    Err(e) => describe(&e),
                });
            }
        }
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
