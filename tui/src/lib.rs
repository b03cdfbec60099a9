//! mamoru-tui: the administrators' console (ratatui), served over SSH (russh) and on the local
//! terminal. Calls core's service layer only. So far it names its screens; the app, its pure
//! `draw` and the SSH server arrive with the console issue.

/// The console's screens, in menu order, with their Japanese labels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Screen {
    Dashboard,
    Staff,
    Devices,
    Sessions,
    Audit,
    Backups,
    CodeTables,
    Activity,
}

impl Screen {
    pub const ALL: [Screen; 8] = [
        Screen::Dashboard,
        Screen::Staff,
        Screen::Devices,
        Screen::Sessions,
        Screen::Audit,
        Screen::Backups,
        Screen::CodeTables,
        Screen::Activity,
    ];

    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            Screen::Dashboard => "ダッシュボード",
            Screen::Staff => "職員",
            Screen::Devices => "端末",
            Screen::Sessions => "セッション",
            Screen::Audit => "監査ログ",
            Screen::Backups => "バックアップ",
            Screen::CodeTables => "コード表",
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
        assert_eq!(Screen::ALL[0].label(), "ダッシュボード");
    }
}
