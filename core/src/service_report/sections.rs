//! The report as sections of tables, once: what the PDF and the XLSX both show, in the
//! words and figures a city office reads (和暦, 時間・分, thousands separators).

use std::time::Duration;

use super::{DETECT_WITHIN, NOTIFY_WITHIN, PAGES_LISTED, RECOVER_WITHIN, ServiceReport, WITHIN_SHARE};
use crate::time::{DAY, Timestamp};
use crate::traffic::Times;
use crate::uptime::{PROBE_EVERY, Problem};
use crate::wareki;

/// One value of a table: text, a count, or a measure with decimals.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Text(String),
    Count(u64),
    Decimal(f64, u8),
}

impl Value {
    fn text(s: impl Into<String>) -> Self {
        Value::Text(s.into())
    }

    pub(super) fn shown(&self) -> String {
        match self {
            Value::Text(s) => s.clone(),
            Value::Count(n) => thousands(*n),
            Value::Decimal(v, places) => format!("{v:.*}", usize::from(*places)),
        }
    }
}

/// A table of the report: relative column widths, a head, rows.
#[derive(Clone, Debug, PartialEq)]
pub struct Table {
    pub widths: Vec<f32>,
    pub head: Vec<&'static str>,
    pub rows: Vec<Vec<Value>>,
}

/// A numbered part of the report: text and tables, in order.
#[derive(Clone, Debug, PartialEq)]
pub struct Section {
    pub title: String,
    /// The 非機能要求グレード items it reports on.
    pub grade: &'static str,
    pub parts: Vec<Part>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Part {
    Text(String),
    Table(Table),
}

fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `11月3日 03:00` (JST).
fn when(t: Timestamp) -> String {
    let d = t.jst_date();
    let (h, m) = t.jst_time();
    format!("{}月{}日 {h:02}:{m:02}", d.month(), d.day())
}

/// `1時間3分`, `45分`, `0分` (the console's 概要 too).
#[must_use]
pub fn span(seconds: i64) -> String {
    let minutes = seconds.max(0).div_euclid(60);
    let (d, h, m) = (minutes / (24 * 60), minutes / 60 % 24, minutes % 60);
    match (d, h) {
        (0, 0) => format!("{m}分"),
        (0, _) => format!("{h}時間{m}分"),
        _ => format!("{d}日{h}時間{m}分"),
    }
}

/// `12.3 MB`, `4.1 GB`.
fn bytes(n: u64) -> String {
    #[expect(clippy::cast_precision_loss, reason = "a size shown to one decimal")]
    let n = n as f64;
    if n >= 1e9 { format!("{:.1} GB", n / 1e9) } else { format!("{:.1} MB", n / 1e6) }
}

fn millis(d: Option<Duration>) -> Value {
    #[expect(clippy::cast_precision_loss, reason = "milliseconds of a request")]
    d.map_or_else(|| Value::text("70秒超"), |d| Value::Decimal(d.as_micros() as f64 / 1000.0, 1))
}

fn share(part: u64, whole: u64) -> Value {
    #[expect(clippy::cast_precision_loss, reason = "a share to two decimals")]
    if whole == 0 { Value::text("—") } else { Value::Decimal(part as f64 * 100.0 / whole as f64, 2) }
}

fn yes(ok: bool) -> &'static str {
    if ok { "達成" } else { "未達" }
}

impl ServiceReport {
    /// The period in words: `令和8年11月1日 0時 〜 令和8年12月1日 0時`.
    fn period(&self) -> String {
        let at = |t: Timestamp| {
            let (h, m) = t.jst_time();
            format!("{} {h}時{m:02}分", wareki::format(t.jst_date()))
        };
        format!("{} 〜 {}", at(self.from), at(self.to))
    }

    /// The report as sections of tables: what the PDF and the XLSX both show.
    #[must_use]
    pub fn sections(&self) -> Vec<Section> {
        vec![
            self.summary(),
            self.availability_section(),
            self.incidents_section(),
            self.performance_section(),
            self.backup_section(),
            self.security_section(),
            self.capacity_section(),
        ]
    }

    fn summary(&self) -> Section {
        let a = &self.availability;
        let rate = a.percent().map_or_else(|| "—".to_owned(), |p| format!("{p:.2} %"));
        let all = self.online();
        let within = if all.requests == 0 {
            "要求なし".to_owned()
        } else {
            #[expect(clippy::cast_precision_loss, reason = "a share to two decimals")]
            let pct = all.within_limit() as f64 * 100.0 / all.requests as f64;
            format!("3秒以内 {pct:.2} %（{} 件中）", thousands(all.requests))
        };
        let drill = self.drills.last();
        let row = |item: &str, grade: &str, need: &str, got: String, verdict: &str| {
            vec![
                Value::text(item),
                Value::text(grade),
                Value::text(need),
                Value::Text(got),
                Value::text(verdict),
            ]
        };
        let rows = vec![
            row(
                "稼働率",
                "可用性／継続性",
                "99.8 %以上（計画停止を除く）",
                rate,
                self.availability_met().map_or("—", yes),
            ),
            row(
                "オンライン応答時間",
                "性能・拡張性／性能目標値",
                "3秒以内（要求の99 %以上）",
                within,
                if all.requests == 0 {
                    "—"
                } else {
                    yes(all.within_limit() * 100 >= all.requests * WITHIN_SHARE)
                },
            ),
            row(
                "障害監視",
                "運用・保守性／通常運用",
                "24時間365日、3分間隔",
                format!(
                    "{}分間隔 {} 回（予定 {} 回）",
                    PROBE_EVERY / 60,
                    thousands(u64::try_from(a.probes_expected - a.probes_missing).unwrap_or(0)),
                    thousands(u64::try_from(a.probes_expected).unwrap_or(0))
                ),
                yes(a.probes_missing == 0),
            ),
            row(
                "障害対応",
                "可用性／回復性",
                "検知 概ね1時間以内、連絡 30分以内、復旧 12時間以内",
                format!("障害 {} 件", self.outages.len()),
                if self.outages.is_empty() { "障害なし" } else { yes(self.incidents_handled()) },
            ),
            row(
                "バックアップ",
                "運用・保守性／通常運用",
                "日次、3世代以上",
                format!("検証済み {} 回、失敗 {} 回", self.backups.verified, self.backups.failed),
                yes(self.backups.days_without.is_empty()),
            ),
            row(
                "復元",
                "可用性／回復性",
                "障害直前の状態に復元できること",
                drill.map_or_else(
                    || "今月の復元訓練なし".to_owned(),
                    |d| format!("復元訓練 {}", when(d.started_at)),
                ),
                drill.map_or("—", |d| if d.succeeded() { "成功" } else { "失敗" }),
            ),
            row(
                "メンテナンス",
                "運用・保守性／保守運用",
                "計画停止は事前に通知",
                format!("計画停止 {} 回", self.planned.len()),
                if self.planned.iter().all(|m| m.window.from.0 - m.announced_at.0 >= DAY) {
                    "達成"
                } else {
                    "未達"
                },
            ),
        ];
        Section {
            title: "1. サービスレベルの達成状況".into(),
            grade: "",
            parts: vec![
                Part::Text(format!("対象期間: {}", self.period())),
                Part::Table(Table {
                    widths: vec![1.3, 1.6, 2.0, 2.4, 0.7],
                    head: vec!["要素", "非機能要求グレード", "要件", "実績", "評価"],
                    rows,
                }),
            ],
        }
    }

    fn availability_section(&self) -> Section {
        let a = &self.availability;
        let secs = |s: i64| Value::Text(span(s));
        let count = |n: i64| Value::Count(u64::try_from(n).unwrap_or(0));
        let rows = vec![
            vec![Value::text("提供予定時間（計画停止前）"), secs(a.scheduled_seconds)],
            vec![Value::text("計画停止時間"), secs(a.planned_seconds)],
            vec![Value::text("システム提供時間（予定）"), secs(a.scheduled_seconds - a.planned_seconds)],
            vec![Value::text("障害による停止時間"), secs(a.outage_seconds)],
            vec![Value::text("システム提供時間（実績）"), secs(a.provided_seconds())],
            vec![
                Value::text("稼働率（実績 ÷ 予定 × 100、%）"),
                a.percent().map_or_else(|| Value::text("—"), |p| Value::Decimal(p, 2)),
            ],
            vec![Value::text("監視（予定回数）"), count(a.probes_expected)],
            vec![Value::text("監視で停止を検知した回数"), count(a.probes_failed)],
            vec![Value::text("監視記録のない回数（サーバー停止）"), count(a.probes_missing)],
        ];
        let mut parts = vec![
            Part::Text(format!(
                "{}分ごとの自己監視（Web・データベース・ディスク）の記録から算出。停止を検知した監視と、記録のない監視は各{}分の停止として数える。",
                PROBE_EVERY / 60,
                PROBE_EVERY / 60
            )),
            Part::Table(Table { widths: vec![3.0, 2.0], head: vec!["項目", "実績"], rows }),
        ];
        let stops: Vec<Vec<Value>> = self
            .planned
            .iter()
            .map(|m| {
                vec![
                    Value::Text(when(m.window.from)),
                    Value::Text(when(m.window.to)),
                    Value::Text(span(m.window.to.0 - m.window.from.0)),
                    Value::Text(m.reason.clone()),
                    Value::Text(when(m.announced_at)),
                ]
            })
            .collect();
        parts.push(Part::Text("計画停止".into()));
        parts.push(if stops.is_empty() {
            Part::Text("（計画停止はありません）".into())
        } else {
            Part::Table(Table {
                widths: vec![1.2, 1.2, 0.9, 2.6, 1.2],
                head: vec!["開始", "終了", "時間", "理由", "告知"],
                rows: stops,
            })
        });
        Section { title: "2. 稼働率".into(), grade: "可用性／継続性", parts }
    }

    fn incidents_section(&self) -> Section {
        let mut parts = vec![Part::Text(
            "障害: サービスを提供できなかった期間（自己監視が停止を検知した、または監視記録がない）。検知は停止を最初に記録した監視、発生はその直前の正常な監視（正常確認）以後。通知は自己監視の警報をメール・コマンドで送った日時（電話など、ほかの方法での市への連絡は運用記録による）。評価は ○ 達成、× 未達、— 判定できない。"
                .into(),
        )];
        // ○ within the limit, × beyond it, — when it cannot be told.
        let mark = |seconds: Option<i64>, within: i64| match seconds {
            Some(s) if s <= within => "○",
            Some(_) => "×",
            None => "—",
        };
        if self.outages.is_empty() {
            parts.push(Part::Text("（障害はありません）".into()));
        } else {
            let rows = self
                .outages
                .iter()
                .enumerate()
                .map(|(n, i)| {
                    let detect = i.after.map(|a| i.detected.0 - a.0);
                    let recover = i.recovered.map(|r| r.0 - i.detected.0);
                    // Never told is late.
                    let notify = Some(i.notified.map_or(i64::MAX, |t| t.0 - i.detected.0));
                    vec![
                        Value::Count(n as u64 + 1),
                        Value::Text(i.after.map_or_else(|| "—".into(), when)),
                        Value::Text(when(i.detected)),
                        Value::Text(i.recovered.map_or_else(|| "未復旧".into(), when)),
                        Value::Text(span(i.outage_seconds)),
                        Value::Text(i.causes.iter().map(|c| c.label()).collect::<Vec<_>>().join("、")),
                        Value::Text(i.notified.map_or_else(|| "なし".into(), when)),
                        Value::text(mark(detect, DETECT_WITHIN)),
                        Value::text(mark(notify, NOTIFY_WITHIN)),
                        Value::text(mark(recover, RECOVER_WITHIN)),
                    ]
                })
                .collect();
            parts.push(Part::Table(Table {
                widths: vec![0.4, 1.1, 1.1, 1.1, 0.9, 1.8, 1.1, 0.6, 0.6, 0.6],
                head: vec![
                    "No",
                    "正常確認",
                    "検知",
                    "復旧",
                    "停止時間",
                    "原因",
                    "通知",
                    "検知1時間",
                    "通知30分",
                    "復旧12時間",
                ],
                rows,
            }));
        }
        parts.push(Part::Text("注意事象（サービスは継続）".into()));
        if self.warnings.is_empty() {
            parts.push(Part::Text("（注意事象はありません）".into()));
        } else {
            let rows = self
                .warnings
                .iter()
                .map(|i| {
                    vec![
                        Value::text(i.problem.map_or("", Problem::label)),
                        Value::Text(when(i.detected)),
                        Value::Text(i.recovered.map_or_else(|| "継続中".into(), when)),
                        Value::Text(i.notified.map_or_else(|| "なし".into(), when)),
                    ]
                })
                .collect();
            parts.push(Part::Table(Table {
                widths: vec![2.5, 1.5, 1.5, 1.5],
                head: vec!["事象", "検知", "解消", "通知"],
                rows,
            }));
        }
        Section {
            title: "3. 障害と注意事象".into(),
            grade: "可用性／回復性、運用・保守性／障害時運用",
            parts,
        }
    }

    fn performance_section(&self) -> Section {
        let line = |name: &str, t: &Times| {
            vec![
                Value::text(name),
                Value::Count(t.requests),
                millis(t.quantile(0.5)),
                millis(t.quantile(0.99)),
                share(t.within_limit(), t.requests),
                Value::Count(t.server_errors),
            ]
        };
        let mut rows: Vec<Vec<Value>> =
            self.pages.iter().take(PAGES_LISTED).map(|(page, t)| line(page, t)).collect();
        if self.pages.len() > PAGES_LISTED {
            let mut rest = Times::default();
            for (_, t) in &self.pages[PAGES_LISTED..] {
                rest.merge(t);
            }
            rows.push(line(&format!("その他 {} 画面", self.pages.len() - PAGES_LISTED), &rest));
        }
        rows.push(line("全体（/healthz など運用の要求を除く）", &self.online()));
        Section {
            title: "4. オンライン応答時間".into(),
            grade: "性能・拡張性／性能目標値",
            parts: vec![
                Part::Text(
                    "サーバーが要求を受け付けてから応答するまでの時間（回線と端末の時間を含まない）。画面は経路（番号は {id}）ごと、要求の多い順。中央値・99%値は区間の上限（実際の値はこれ以下）。全体と評価には、自己監視・監視装置の要求（/healthz、/metrics）と、時間のかかる運用操作（今すぐバックアップ、この報告書）を含まない。"
                        .into(),
                ),
                Part::Table(Table {
                    widths: vec![2.6, 1.0, 1.0, 1.0, 1.1, 0.9],
                    head: vec!["画面", "要求数", "中央値（ミリ秒）", "99%値（ミリ秒）", "3秒以内（%）", "サーバーエラー"],
                    rows,
                }),
            ],
        }
    }

    fn backup_section(&self) -> Section {
        let b = &self.backups;
        let missed = if b.days_without.is_empty() {
            "なし".to_owned()
        } else {
            b.days_without.iter().map(|d| format!("{}日", d.day())).collect::<Vec<_>>().join("、")
        };
        let mut parts = vec![Part::Table(Table {
            widths: vec![3.0, 2.5],
            head: vec!["項目", "実績"],
            rows: vec![
                vec![Value::text("作成・検証したバックアップ（世代）"), Value::Count(b.verified)],
                vec![Value::text("失敗したバックアップ"), Value::Count(b.failed)],
                vec![Value::text("検証済みバックアップのない日"), Value::Text(missed)],
            ],
        })];
        parts.push(Part::Text(
            "バックアップは暗号化（age）・圧縮（zstd）した世代と、変更の記録（アーカイブ）からなる。復元訓練は最新の世代とアーカイブを別の場所に復元し、整合性と監査ログの連鎖を検査する。"
                .into(),
        ));
        if self.drills.is_empty() {
            parts.push(Part::Text("（この期間の復元訓練はありません）".into()));
        } else {
            let rows = self
                .drills
                .iter()
                .map(|d| {
                    vec![
                        Value::Text(when(d.started_at)),
                        Value::text(if d.succeeded() { "成功" } else { "失敗" }),
                        Value::Text(d.generation.map_or_else(|| "—".into(), |g| g.to_string())),
                        Value::Text(d.up_to.map_or_else(|| "—".into(), when)),
                        #[expect(clippy::cast_precision_loss, reason = "seconds to one decimal")]
                        Value::Decimal(d.millis as f64 / 1000.0, 1),
                        Value::Text(d.failure.clone().unwrap_or_default()),
                    ]
                })
                .collect();
            parts.push(Part::Table(Table {
                widths: vec![1.2, 0.6, 0.6, 1.2, 0.9, 2.5],
                head: vec!["復元訓練", "結果", "世代", "復元できた時点", "所要（秒）", "失敗の理由"],
                rows,
            }));
        }
        Section {
            title: "5. バックアップと復元".into(),
            grade: "運用・保守性／通常運用、可用性／回復性",
            parts,
        }
    }

    fn security_section(&self) -> Section {
        let a = &self.access;
        let row = |name: &str, n: u64| vec![Value::text(name), Value::Count(n)];
        Section {
            title: "6. アクセスと端末".into(),
            grade: "セキュリティ／アクセス・利用制限、不正追跡・監視",
            parts: vec![
                Part::Table(Table {
                    widths: vec![3.5, 1.5],
                    head: vec!["項目", "件数"],
                    rows: vec![
                        row("サインイン（タブレット・Web）", a.sign_ins),
                        row("拒否したサインイン", a.sign_ins_refused),
                        row("管理コンソールへのサインイン", a.console_sign_ins),
                        row("拒否した管理コンソールへのサインイン", a.console_sign_ins_refused),
                        row("連続失敗によるロック", a.locks),
                        row("登録した端末", a.devices_registered),
                        row("利用を停止した端末", a.devices_revoked),
                        row("利用できる端末（作成時点）", a.devices_active),
                        row("監査ログの記録", a.audit_entries),
                    ],
                }),
                Part::Text("児童の記録の閲覧はすべて監査ログに記録している。件数は監査ログによる。".into()),
            ],
        }
    }

    fn capacity_section(&self) -> Section {
        let s = &self.storage;
        let mut rows = Vec::new();
        if let Some((first, last)) = s.store_bytes {
            rows.push(vec![Value::text("データベース（期間の初め）"), Value::Text(bytes(first))]);
            rows.push(vec![Value::text("データベース（期間の終わり）"), Value::Text(bytes(last))]);
            let growth = i128::from(last) - i128::from(first);
            let sign = if growth < 0 { "−" } else { "+" };
            rows.push(vec![
                Value::text("増加量"),
                Value::Text(format!("{sign}{}", bytes(u64::try_from(growth.unsigned_abs()).unwrap_or(0)))),
            ]);
            if let Some(free) = s.disk_free_bytes
                && growth > 0
            {
                #[expect(clippy::cast_precision_loss, reason = "an estimate in months")]
                let months = {
                    let days = ((self.to.0 - self.from.0) as f64 / DAY as f64).max(1.0);
                    free as f64 / (growth as f64 / days * 30.0)
                };
                rows.push(vec![
                    Value::text("今の増え方で空き容量が尽きるまで"),
                    Value::Text(if months > 1200.0 {
                        "100年以上".into()
                    } else {
                        format!("約{months:.0}か月")
                    }),
                ]);
            }
        }
        if let (Some(free), Some(total)) = (s.disk_free_bytes, s.disk_total_bytes) {
            rows.push(vec![
                Value::text("ディスクの空き / 全体"),
                Value::Text(format!("{} / {}", bytes(free), bytes(total))),
            ]);
        }
        let parts = if rows.is_empty() {
            vec![Part::Text("（容量の記録はまだありません）".into())]
        } else {
            vec![Part::Table(Table { widths: vec![3.0, 2.5], head: vec!["項目", "実績"], rows })]
        };
        Section {
            title: "7. データ量と容量".into(), grade: "性能・拡張性／リソース拡張性", parts
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_are_written_the_japanese_way() {
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(thousands(999), "999");
        assert_eq!(span(59), "0分");
        assert_eq!(span(3 * 3600 + 7 * 60), "3時間7分");
        assert_eq!(span(2 * DAY + 60), "2日0時間1分");
        assert_eq!(bytes(12_345_678), "12.3 MB");
        assert_eq!(bytes(4_100_000_000), "4.1 GB");
        assert_eq!(when(Timestamp::parse("2026-11-03T03:05:00+09:00").unwrap()), "11月3日 03:05");
    }
}
