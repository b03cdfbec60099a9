//! One file per console screen, in gitui's shape: each screen loads what it shows from core
//! (`load`) and turns a key into an [`Action`] (`key`) without acting; `App::perform` carries
//! the action out, and the confirmed operations and forms run in `ops`.

mod activity;
mod audit;
mod backups;
mod codes;
mod dashboard;
mod devices;
mod maintenance;
mod sessions;
mod staff;
mod templates;

use super::{App, Entry, Field, Form, Op};
use crate::Screen;

pub(super) use audit::audit_row;

/// What a key on a screen asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Action {
    /// A y / n question before `Op` runs.
    Confirm(String, Op),
    /// A line of text for `Entry`.
    Ask(String, Entry),
    /// A form (its title and fields) for `Form`.
    Form(String, Vec<Field>, Form),
    /// A line in the message bar.
    Info(String),
    /// Lines to read (a title and its lines), closed by any key.
    Show(String, Vec<String>),
    /// 監査ログ: drop the filter and list everything again.
    ClearAuditFilter,
    /// 監査ログ: check the hash chain now.
    VerifyAudit,
}

impl App {
    /// What `screen` shows, read from core.
    pub(super) fn try_load(&mut self, screen: Screen) -> mamoru_core::Result<()> {
        match screen {
            Screen::Dashboard => dashboard::load(self),
            Screen::Staff => staff::load(self),
            Screen::Devices => devices::load(self),
            Screen::Sessions => sessions::load(self),
            Screen::Audit => audit::load(self),
            Screen::Backups => backups::load(self),
            Screen::Maintenance => maintenance::load(self),
            Screen::CodeTables => codes::load(self),
            Screen::Templates => templates::load(self),
            Screen::Activity => activity::load(self),
        }
    }

    /// A key (a character, or `'\n'` for Enter) on `screen`, on the selected line.
    pub(super) fn screen_key(&mut self, screen: Screen, c: char) {
        let at = self.state.cursor();
        let action = match screen {
            Screen::Dashboard => dashboard::key(c),
            Screen::Activity => None,
            Screen::Staff => staff::key(self, c, at),
            Screen::Devices => devices::key(self, c, at),
            Screen::Sessions => sessions::key(self, c, at),
            Screen::Audit => audit::key(self, c),
            Screen::Backups => backups::key(c),
            Screen::Maintenance => maintenance::key(self, c, at),
            Screen::CodeTables => codes::key(self, c, at),
            Screen::Templates => templates::key(self, c, at),
        };
        if let Some(action) = action {
            self.perform(action);
        }
    }
}
