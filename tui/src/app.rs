//! The console's state and what keys do to it. `State` is plain data (what is on the screen);
//! `App` owns one `State` for one console session and calls core's service layer as the signed-in
//! console user. Nothing here is shared between sessions.

use std::sync::Arc;

use mamoru_core::audit::{AuditEntry, Verdict};
use mamoru_core::ids::DeviceId;
use mamoru_core::service::BackupHealth;
use mamoru_core::staff::Role;
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
    AuditFilter,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Dialog {
    /// y / n.
    Confirm { question: String, op: Op },
    /// A line of text; Enter submits, Esc cancels.
    Input { prompt: String, text: String, entry: Entry },
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
    pub audit_filter: String,
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
/// How many audit entries the 監査ログ screen lists.
pub const AUDIT_PAGE: usize = 500;

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
    staff_logins: Vec<String>,
    session_ids: Vec<String>,
    /// Last audit sequence number the live feed has shown.
    feed_after: u64,
    /// Whether the live feed's opening has been audited since the screen was entered.
    feed_opened: bool,
    pub state: State,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App").field("actor", &self.actor.login).finish_non_exhaustive()
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
        let user = format!("{}（{}）", actor.login.as_str(), actor.role.label());
        let now = service.now();
        let mut app = Self {
            service,
            host,
            actor,
            device_ids: Vec::new(),
            staff_logins: Vec::new(),
            session_ids: Vec::new(),
            feed_after: 0,
            feed_opened: false,
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
                self.staff_logins = staff.iter().map(|s| s.body.login.as_str().to_owned()).collect();
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
                Ok(())
            }
            Screen::Devices => self.load_devices(),
            Screen::Sessions => self.load_sessions(),
            Screen::Audit => {
                let len = svc.audit_len()?;
                let from = len.saturating_sub(AUDIT_PAGE as u64 * 20).max(1);
                let entries = svc.audit_log(&self.actor, from, AUDIT_PAGE * 20)?;
                let filter = self.state.audit_filter.trim().to_owned();
                self.state.audit = entries
                    .iter()
                    .rev()
                    .map(audit_row)
                    .filter(|r| filter.is_empty() || r.cells.iter().any(|c| c.contains(&filter)))
                    .take(AUDIT_PAGE)
                    .collect();
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
                self.state.codes = svc
                    .code_tables()?
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
                self.state.activity.splice(0..0, entries.iter().rev().map(audit_row));
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
        if self.actor.role == Role::Admin {
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
            (Screen::Staff, 'd') => {
                if let Some(login) = self.staff_logins.get(at).cloned() {
                    let disable = !self.state.staff[at].dim;
                    let verb = if disable { "無効に" } else { "有効に" };
                    self.confirm(format!("{login} を{verb}しますか？"), Op::SetDisabled(login, disable));
                }
            }
            (Screen::Staff, 'p') => {
                if let Some(login) = self.staff_logins.get(at).cloned() {
                    self.confirm(
                        format!("{login} のパスワードを再設定しますか？ 一度だけ表示します。"),
                        Op::ResetPassword(login),
                    );
                }
            }
            (Screen::Staff, 't') => {
                if let Some(login) = self.staff_logins.get(at).cloned() {
                    self.confirm(
                        format!("{login} の二要素認証 (TOTP) をリセットしますか？"),
                        Op::ResetTotp(login),
                    );
                }
            }
            (Screen::Staff, 'k') => {
                if let Some(login) = self.staff_logins.get(at).cloned() {
                    self.ask(
                        &format!("{login} の公開鍵 (ssh-ed25519 AAAA...)"),
                        Entry::AddKey(login),
                        String::new(),
                    );
                }
            }
            (Screen::Sessions, 'e' | '\n') => {
                if let Some(id) = self.session_ids.get(at).cloned() {
                    let login = self.state.sessions[at].cells[1].clone();
                    self.confirm(format!("{login} のセッションを終了しますか？"), Op::EndSession(id));
                }
            }
            (Screen::Audit, '/') => {
                let current = self.state.audit_filter.clone();
                self.ask("絞り込み (職員ID・操作・対象・日付の一部)", Entry::AuditFilter, current);
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
            Dialog::Shown { .. } => {}
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
            Entry::AuditFilter => {
                text.clone_into(&mut self.state.audit_filter);
                self.state.cursor[Screen::Audit.index()] = 0;
            }
            Entry::RegisterDevice => match svc.issue_device_code(&self.actor, text) {
                Ok((id, code, expires)) => {
                    self.state.dialog = Some(Dialog::Shown {
                        title: format!("端末「{text}」(#{id}) の登録コード"),
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
                Err(e) => self.error(&e),
            },
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

fn audit_row(e: &AuditEntry) -> Row {
    Row {
        cells: vec![
            e.seq.to_string(),
            short_time(e.at),
            format!("職員{}", e.actor),
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
