//! バックアップ: the generations the host keeps, and a backup now.

use super::super::{App, Level, Op, Row, mb};
use super::{Action, dashboard};

pub(super) fn load(app: &mut App) -> mamoru_core::Result<()> {
    app.state.backups = match app.host.generations() {
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
            app.state.message = Some((Level::Error, format!("バックアップ一覧を読めません: {e}")));
            Vec::new()
        }
    };
    dashboard::load(app)
}

pub(super) fn key(c: char) -> Option<Action> {
    match c {
        'b' => Some(Action::Confirm("今すぐバックアップを作成しますか？".into(), Op::BackupNow)),
        // Reads the backups back into a scratch directory: as long as a restore (minutes per GB).
        'r' => Some(Action::Confirm(
            "復元訓練を実行しますか？ (最新の世代と変更アーカイブを作業用の場所に復元して検査し、時間を計ります)".into(),
            Op::RestoreDrill,
        )),
        // The check copies the store file; writes wait meanwhile (seconds per GB).
        'i' => Some(Action::Confirm(
            "データの整合性を検査しますか？ (ファイルを複製する間、書き込みが待たされます)".into(),
            Op::CheckStore,
        )),
        'e' => Some(Action::Confirm(
            "データ全体を書き出しますか？ (次のシステムへの引き継ぎ用。個人情報を含みます)".into(),
            Op::ExportStore,
        )),
        _ => None,
    }
}
