//! Drawing: a pure function of `State`. Plain ASCII borders and no arrows or box symbols: East
//! Asian ambiguous-width characters misalign in Japanese terminals.

use mamoru_core::certificate::Expiry;
use mamoru_core::service::BackupState;
use mamoru_core::store::{DiskSpace, DiskState};
use mamoru_core::uptime::Problem;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::symbols::border;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Row as TableRow, Table, TableState, Wrap};

use crate::Screen;
use crate::app::{Dialog, Level, Row, State, mb, short_time};

const ASCII: border::Set = border::Set {
    top_left: "+",
    top_right: "+",
    bottom_left: "+",
    bottom_right: "+",
    vertical_left: "|",
    vertical_right: "|",
    horizontal_top: "-",
    horizontal_bottom: "-",
};

fn reversed() -> Style {
    Style::default().add_modifier(Modifier::REVERSED)
}

/// Draws the whole console.
pub fn draw(state: &State, frame: &mut Frame) {
    let [title, tabs, body, message, help] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Min(1),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(frame.area());
    frame.render_widget(
        Paragraph::new(format!(" 守る 管理コンソール  {}  {}", state.user, short_time(state.now)))
            .style(reversed()),
        title,
    );
    frame.render_widget(Paragraph::new(tab_line(state.screen)), tabs);
    match state.screen {
        Screen::Dashboard => dashboard(state, frame, body),
        screen => list(state, screen, frame, body),
    }
    if let Some((level, text)) = &state.message {
        let style = match level {
            Level::Info => Style::default().fg(Color::Green),
            Level::Error => Style::default().fg(Color::Red).add_modifier(Modifier::BOLD),
        };
        frame.render_widget(Paragraph::new(format!(" {text}")).style(style), message);
    }
    draw_help(state, frame, help);
    if let Some(dialog) = &state.dialog {
        draw_dialog(dialog, frame);
    }
}

fn tab_line(current: Screen) -> Line<'static> {
    let mut spans = Vec::new();
    for (i, s) in Screen::ALL.iter().enumerate() {
        if i > 0 {
            spans.push(Span::raw(" "));
        }
        let style = if *s == current {
            reversed().add_modifier(Modifier::BOLD)
        } else {
            Style::default().fg(Color::Cyan)
        };
        spans.push(Span::styled(s.label(), style));
    }
    Line::from(spans)
}

/// The help bar: the keys that work right now. The keys of every screen (`q 終了` among them)
/// sit at the right and stay visible however narrow the terminal; the screen's own keys fill
/// the rest from the left.
fn draw_help(state: &State, frame: &mut Frame, area: Rect) {
    let (own, general) = help_text(state);
    frame.render_widget(Paragraph::new(format!(" {own}")).style(reversed()), area);
    if general.is_empty() {
        return;
    }
    let text = format!("  {general} ");
    let width = u16::try_from(Line::from(text.as_str()).width()).unwrap_or(u16::MAX).min(area.width);
    let right = Rect { x: area.x + area.width - width, width, ..area };
    frame.render_widget(Paragraph::new(text).style(reversed()), right);
}

/// The help bar's two parts: what this screen's keys do, and the keys of every screen.
#[must_use]
pub fn help_text(state: &State) -> (&'static str, &'static str) {
    match &state.dialog {
        Some(Dialog::Confirm { .. }) => return ("y はい   n いいえ", ""),
        Some(Dialog::Input { .. }) => return ("Enter 決定   Esc 取消", ""),
        Some(Dialog::Form { .. }) => return ("Tab・上下 項目移動   Enter 決定   Esc 取消", ""),
        Some(Dialog::Shown { .. }) => return ("何かキーを押すと閉じます", ""),
        None => {}
    }
    let own = match state.screen {
        Screen::Dashboard => "m 月次報告 (サービス提供報告書)",
        Screen::Devices => "r 失効   g 再登録   n 登録",
        Screen::Staff => {
            "a 追加  e 編集  d 無効/有効  p パスワード再設定  t TOTPリセット  n 鍵追加  x 鍵削除"
        }
        Screen::Sessions => "e 終了",
        Screen::Audit => "/ 絞り込み   c 解除   x CSV出力   v 改ざん検証",
        Screen::Backups => "b 今すぐ作成   r 復元訓練   i 整合性検査   e データ書き出し",
        Screen::Maintenance => "a 告知   e 変更   c 中止 (実施中は今終了)",
        Screen::CodeTables => "a 追加   e 編集 (削除はできません: 有効終了で止めます)",
        Screen::Templates => "Enter 内容   a 追加の方法 (版は変更できません: 新しい版を追加します)",
        Screen::Activity => "",
    };
    (own, "q 終了  j/k 選択  Tab・1-0 画面")
}

fn ago(seconds: i64) -> String {
    match seconds {
        s if s < 120 => format!("{s}秒前"),
        s if s < 7200 => format!("{}分前", s / 60),
        s if s < 172_800 => format!("{}時間前", s / 3600),
        s => format!("{}日前", s / 86_400),
    }
}

fn uptime(seconds: u64) -> String {
    let (d, h, m) = (seconds / 86_400, seconds % 86_400 / 3600, seconds % 3600 / 60);
    if d > 0 { format!("{d}日 {h}時間") } else { format!("{h}時間 {m}分") }
}

fn bytes(b: Option<u64>) -> String {
    b.map_or("不明".into(), |b| {
        if b >= 1_000_000_000 { format!("{:.1} GB", mb(b) / 1000.0) } else { format!("{:.1} MB", mb(b)) }
    })
}

fn dashboard(state: &State, frame: &mut Frame, area: Rect) {
    let d = &state.dashboard;
    let bad = Style::default().fg(Color::Red).add_modifier(Modifier::BOLD);
    let good = Style::default().fg(Color::Green);
    let label = |s: &'static str| Span::styled(s, Style::default().add_modifier(Modifier::BOLD));
    let b = d.backup;
    let age = ago(b.age_seconds.unwrap_or_default());
    let backup = match b.state() {
        BackupState::Failed => Span::styled("失敗しています".to_owned(), bad),
        BackupState::None => Span::styled("まだありません".to_owned(), bad),
        BackupState::Stale => Span::styled(format!("{age} (古すぎます)"), bad),
        BackupState::Ok => Span::styled(format!("{age} (正常)"), good),
    };
    let archive = match (b.archive_age_seconds, b.archive_failing) {
        (_, true) => Span::styled("失敗しています".to_owned(), bad),
        (None, false) => Span::raw("未送信".to_owned()),
        (Some(lag), false) if lag > 300 => Span::styled(ago(lag), bad),
        (Some(lag), false) => Span::styled(ago(lag), good),
    };
    let r = d.requests;
    let mut lines = vec![
        Line::from(vec![
            label("稼働    "),
            if d.store_writable {
                Span::styled("稼働中  ", good)
            } else {
                Span::styled("書き込み不可（ディスクを確認）  ", bad)
            },
            Span::raw(uptime(d.uptime_seconds)),
        ]),
        Line::from(vec![
            label("容量    "),
            Span::raw(format!(
                "ストア {}   ディスク空き {}",
                bytes(d.store_bytes),
                bytes(d.disk.map(|s| s.free_bytes))
            )),
            match d.disk.map(DiskSpace::state) {
                Some(DiskState::Full) => Span::styled("  満杯・保存不可", bad),
                Some(DiskState::Low) => Span::styled("  残りわずか", bad),
                _ => Span::raw(""),
            },
        ]),
        Line::from(vec![label("自己監視 "), probe(d.last_probe.as_ref(), good, bad)]),
        Line::from(vec![label("今月稼働率 "), month(d.month_uptime.as_ref(), good, bad)]),
        Line::from(vec![label("警報    "), alerts(&d.open_alerts, good, bad)]),
        Line::from(vec![
            label("通信    "),
            Span::raw(format!("{} 件/分   p50 {:.1} ms   p99 {:.1} ms   ", r.per_minute, r.p50_ms, r.p99_ms)),
            Span::styled(format!("エラー {}", r.errors), if r.errors > 0 { bad } else { Style::default() }),
        ]),
        Line::from(vec![label("バックアップ "), backup, Span::raw("   アーカイブ "), archive]),
        Line::from(vec![label("セッション "), Span::raw(format!("{} 件", d.sessions))]),
    ];
    if let Some((cert, expiry)) = d.certificate {
        let until = cert.not_after.to_jst_string();
        let until = until.get(..10).unwrap_or(&until);
        let how = if cert.own {
            // Within 80 columns with the date: a wide character wrapped at the edge would hide
            // the first of the next line.
            "mamoru tls renew を実行してください"
        } else {
            "発行元に更新を依頼してください"
        };
        let state = match expiry {
            Expiry::Valid { days_left } => Span::styled(format!("{until} まで (残り {days_left} 日)"), good),
            Expiry::RenewSoon { days_left } => {
                Span::styled(format!("{until} まで残り {days_left} 日: {how}"), bad)
            }
            Expiry::Expired => Span::styled(format!("{until} 期限切れ・接続不可: {how}"), bad),
        };
        lines.insert(6, Line::from(vec![label("証明書  "), state]));
    }
    for (device, n) in &d.sessions_by_device {
        lines.push(Line::from(format!("    {device}: {n}")));
    }
    lines.push(Line::from(label("期限超過 (法定期限、件数のみ)")));
    for (unit, n) in &d.overdue {
        let style = if *n > 0 { bad } else { Style::default() };
        lines.push(Line::from(vec![
            Span::raw(format!("    {unit}: ")),
            Span::styled(format!("{n} 件"), style),
        ]));
    }
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), area);
}

/// The open alerts: each problem since when, and whether it was told (未通知: not yet, or the
/// mail and the hook failed — the last failure is in the log).
fn alerts(open: &[mamoru_core::alert::Alert], good: Style, bad: Style) -> Span<'static> {
    if open.is_empty() {
        return Span::styled("なし".to_owned(), good);
    }
    let each: Vec<String> = open
        .iter()
        .map(|a| {
            let told = if a.raised_sent.is_some() { "通知済み" } else { "未通知" };
            format!("{} {}〜 {told}", a.problem.label(), short_time(a.raised_at))
        })
        .collect();
    Span::styled(each.join("、"), bad)
}

/// This month's 稼働率 so far against the specification's target, with the unplanned and the
/// planned time without service.
fn month(a: Option<&mamoru_core::uptime::Availability>, good: Style, bad: Style) -> Span<'static> {
    use mamoru_core::service_report::{AVAILABILITY_TARGET, span};
    let Some((a, percent)) = a.and_then(|a| Some((a, a.percent()?))) else {
        return Span::raw("まだ記録がありません".to_owned());
    };
    let text = format!(
        "{percent:.2}% (目標 {AVAILABILITY_TARGET}%)  停止 {}  計画停止 {}",
        span(a.outage_seconds),
        span(a.planned_seconds)
    );
    Span::styled(text, if percent >= AVAILABILITY_TARGET { good } else { bad })
}

/// The latest self-probe: when, and what needs an administrator.
fn probe(p: Option<&mamoru_core::uptime::Probe>, good: Style, bad: Style) -> Span<'static> {
    let Some(p) = p else { return Span::styled("まだ記録がありません".to_owned(), bad) };
    let problems: Vec<&str> = p.problems().into_iter().map(Problem::label).collect();
    let at = short_time(p.at);
    if problems.is_empty() {
        Span::styled(format!("{at} 正常"), good)
    } else {
        Span::styled(format!("{at} 要対応: {}", problems.join("、")), bad)
    }
}

fn columns(screen: Screen) -> (&'static [&'static str], &'static [Constraint]) {
    use Constraint::{Length, Min};
    match screen {
        Screen::Staff => (
            &["ログイン", "氏名", "役割", "所属", "状態", "鍵"],
            &[Length(14), Length(14), Length(18), Min(10), Length(4), Length(4)],
        ),
        Screen::Devices => (
            &["番号", "名前", "状態", "最終利用", "利用者", "登録者"],
            &[Length(5), Min(14), Length(17), Length(11), Length(12), Length(12)],
        ),
        Screen::Sessions => (
            &["ID", "ログイン", "氏名", "端末", "開始", "最終"],
            &[Length(8), Length(12), Length(14), Min(10), Length(11), Length(8)],
        ),
        Screen::Audit | Screen::Activity => (
            &["番号", "日時", "職員", "操作", "対象", "結果", "端末・接続元"],
            &[Length(7), Length(11), Length(12), Length(20), Length(14), Length(10), Min(8)],
        ),
        Screen::Backups => {
            (&["世代", "作成日時", "サイズ", "検証"], &[Min(24), Length(26), Length(10), Length(8)])
        }
        Screen::Maintenance => (
            &["番号", "状態", "開始", "終了", "理由", "告知"],
            &[Length(5), Length(7), Length(17), Length(17), Min(16), Length(12)],
        ),
        Screen::CodeTables => (
            &["表", "コード", "名称", "有効開始", "有効終了"],
            &[Length(18), Length(6), Min(16), Length(10), Length(10)],
        ),
        Screen::Templates => (
            &["様式", "版", "使用開始", "追加者", "名前"],
            &[Length(22), Length(4), Length(16), Length(14), Min(16)],
        ),
        Screen::Dashboard => (&[], &[]),
    }
}

fn list(state: &State, screen: Screen, frame: &mut Frame, area: Rect) {
    let rows: &[Row] = state.rows().unwrap_or_default();
    let mut area = area;
    let note = match screen {
        Screen::Audit => {
            let shown = match (state.audit.len(), state.audit_more) {
                (n, true) => format!("新しい順に {n} 件 (ほかにもあります)"),
                (n, false) => format!("{n} 件"),
            };
            let filter = if state.audit_filter.is_empty() {
                format!("絞り込みなし   {shown}")
            } else {
                format!("絞り込み: {}   {shown}", state.audit_filter)
            };
            Some(match &state.audit_verdict {
                Some(v) => format!("{filter}   {v}"),
                None => filter,
            })
        }
        Screen::Activity => Some("操作の流れ (個人情報は表示しません)".to_owned()),
        Screen::Backups => Some(format!(
            "最終バックアップ {}   アーカイブ {}",
            state.dashboard.backup.age_seconds.map_or("なし".into(), ago),
            state.dashboard.backup.archive_age_seconds.map_or("未送信".into(), ago),
        )),
        _ => None,
    };
    if let Some(note) = note {
        let [top, rest] = Layout::vertical([Constraint::Length(1), Constraint::Min(1)]).areas(area);
        frame.render_widget(Paragraph::new(note), top);
        area = rest;
    }
    if rows.is_empty() {
        frame.render_widget(Paragraph::new(" (ありません)"), area);
        return;
    }
    let (headers, widths) = columns(screen);
    let header = TableRow::new(headers.iter().copied())
        .style(Style::default().add_modifier(Modifier::BOLD | Modifier::UNDERLINED));
    let body = rows.iter().map(|r| {
        let row = TableRow::new(r.cells.iter().map(String::as_str));
        if r.dim { row.style(Style::default().fg(Color::DarkGray)) } else { row }
    });
    let table = Table::new(body, widths.iter().copied())
        .header(header)
        .row_highlight_style(reversed())
        .column_spacing(1);
    let mut ts = TableState::default().with_selected(Some(state.cursor()));
    frame.render_stateful_widget(table, area, &mut ts);
}

fn draw_dialog(dialog: &Dialog, frame: &mut Frame) {
    let area = frame.area();
    let width = area.width.saturating_sub(4).min(72);
    let (title, lines): (&str, Vec<Line>) = match dialog {
        Dialog::Confirm { question, .. } => ("確認", vec![Line::from(question.as_str())]),
        Dialog::Input { prompt, text, .. } => {
            ("入力", vec![Line::from(prompt.as_str()), Line::from(format!("> {text}_"))])
        }
        Dialog::Form { title, fields, focus, error, .. } => {
            let label_width = fields.iter().map(|f| Line::from(f.label.as_str()).width()).max().unwrap_or(0);
            let mut lines: Vec<Line> = fields
                .iter()
                .enumerate()
                .map(|(i, f)| {
                    let pad = " ".repeat(label_width - Line::from(f.label.as_str()).width());
                    let label = format!("{}{pad} ", f.label);
                    let (text, style) = if i == *focus {
                        (format!("[{}_]", f.text), Style::default().add_modifier(Modifier::BOLD))
                    } else if f.text.is_empty() {
                        (format!("[ ] {}", f.hint), Style::default().fg(Color::DarkGray))
                    } else {
                        (format!("[{}]", f.text), Style::default())
                    };
                    Line::from(vec![Span::raw(label), Span::styled(text, style)])
                })
                .collect();
            if let Some(hint) = fields.get(*focus).map(|f| f.hint.as_str()).filter(|h| !h.is_empty()) {
                lines.push(Line::from(Span::styled(format!("  {hint}"), Style::default().fg(Color::Cyan))));
            }
            if let Some(e) = error {
                lines.push(Line::from(Span::styled(
                    e.as_str(),
                    Style::default().fg(Color::Red).add_modifier(Modifier::BOLD),
                )));
            }
            (title.as_str(), lines)
        }
        Dialog::Shown { title, lines } => (
            title.as_str(),
            lines
                .iter()
                .map(|l| Line::from(Span::styled(l.as_str(), Style::default().add_modifier(Modifier::BOLD))))
                .collect(),
        ),
    };
    let inner_width = usize::from(width.saturating_sub(2)).max(1);
    let needed: usize = lines.iter().map(|l| l.width().div_ceil(inner_width).max(1)).sum();
    let height = u16::try_from(needed + 2).unwrap_or(u16::MAX).min(area.height);
    let rect = Rect {
        x: area.x + (area.width.saturating_sub(width)) / 2,
        y: area.y + (area.height.saturating_sub(height)) / 2,
        width,
        height,
    };
    frame.render_widget(Clear, rect);
    let block = Block::default().borders(Borders::ALL).border_set(ASCII).title(format!(" {title} "));
    frame.render_widget(Paragraph::new(lines).block(block).wrap(Wrap { trim: false }), rect);
}
