//! mamoru-tui: the administrators' console (ratatui), served over SSH (russh) and on the local
//! terminal. Calls core's service layer only. `app` holds one session's state and what keys do;
//! `draw` is a pure function of that state; `keys` turns terminal bytes into keys; `ssh` serves
//! it to OpenSSH clients; `local` to the server's own terminal; `term` runs it over any byte
//! stream (an SSH channel, a Unix socket); `files` is the SSH server's read-only SFTP (backups
//! and exports to a PC).

pub mod app;
pub mod draw;
pub mod files;
pub mod keys;
pub mod local;
pub mod ssh;
pub mod term;

pub use app::{App, Flow, Host, State};

/// The console's screens, in menu order, with their Japanese labels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Screen {
    Dashboard,
    Staff,
    Devices,
    Sessions,
    Audit,
    Backups,
    Maintenance,
    CodeTables,
    Templates,
    Activity,
}

impl Screen {
    pub const ALL: [Screen; 10] = [
        Screen::Dashboard,
        Screen::Staff,
        Screen::Devices,
        Screen::Sessions,
        Screen::Audit,
        Screen::Backups,
        Screen::Maintenance,
        Screen::CodeTables,
        Screen::Templates,
        Screen::Activity,
    ];

    /// Position in `ALL`.
    #[must_use]
    pub fn index(self) -> usize {
        Self::ALL.iter().position(|s| *s == self).unwrap_or(0)
    }

    #[must_use]
    pub fn next(self) -> Self {
        Self::ALL[(self.index() + 1) % Self::ALL.len()]
    }

    #[must_use]
    pub fn prev(self) -> Self {
        Self::ALL[(self.index() + Self::ALL.len() - 1) % Self::ALL.len()]
    }

    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            Screen::Dashboard => "概要",
            Screen::Staff => "職員",
            Screen::Devices => "端末",
            Screen::Sessions => "セッション",
            Screen::Audit => "監査ログ",
            Screen::Backups => "バックアップ",
            Screen::Maintenance => "計画停止",
            Screen::CodeTables => "コード表",
            Screen::Templates => "様式",
            Screen::Activity => "稼働状況",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_console_opens_on_the_dashboard() {
        assert_eq!(Screen::ALL[0], Screen::Dashboard);
        assert_eq!(Screen::ALL[0].label(), "概要");
    }
}
