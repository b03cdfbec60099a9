//! 統計: the 児童相談所 tables of the national report (こどもの福祉と保健に関する状況報告, formerly
//! 福祉行政報告例) for a period — 受付件数 by 相談種別 and 経路 and by age, 対応件数 by 対応の種類,
//! 児童虐待相談 by 種別 and age, by 主たる虐待者 and by 経路, and 一時保護 by place, days and outcome.
//!
//! Every cell is a named counting rule (`Table::rule`, `Table::cell_rule`) over the facts the
//! service reads of each case (`CaseFacts`): a table's rule says what is counted, its lines say
//! which codes each row and column holds, and each cell keeps the cases it counts, so that a
//! supervisor can check a number before filing it. The known miscounts (a child counted twice, a
//! case counted by two centres, an abuse report filed under another 相談種別, a blank code) are
//! `Warning`s beside the tables. Pure: no store, no clock.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::case::IntakeKind;
use crate::code_table::{Code, CodeTable};
use crate::error::{Error, Point, Why};
use crate::ids::{CaseId, ChildId, ProtectionId};
use crate::protection::PlaceKind;
use crate::time::Date;
use crate::wareki;
use warnings::warnings;
pub use warnings::{Warning, WarningKind};

mod warnings;
mod workbook;

pub use workbook::workbook;

/// The days counted, both included (a fiscal year: 4月1日 to 3月31日; a half-year).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Span {
    pub from: Date,
    pub to: Date,
}

impl Span {
    /// The days from `from` to `to`; refused when `to` is before `from`.
    pub fn new(from: Date, to: Date) -> Result<Self, Error> {
        if to < from {
            return Err(Error::invalid("to", Why::Before(Point::Start)));
        }
        Ok(Self { from, to })
    }

    #[must_use]
    pub fn holds(self, day: Date) -> bool {
        self.from <= day && day <= self.to
    }

    /// The days of `from..=to` inside the span.
    #[must_use]
    pub fn overlap(self, from: Date, to: Date) -> u64 {
        let (a, b) = (from.max(self.from), to.min(self.to));
        u64::try_from(b.days() - a.days() + 1).unwrap_or(0)
    }
}

/// The periods a report page offers, the first its default: the last whole fiscal year (April to
/// March, the national report's year), its two halves, and this fiscal year to `today`.
#[must_use]
pub fn presets(today: Date) -> Vec<(&'static str, Span)> {
    let fy = if today.month() >= 4 { today.year() } else { today.year() - 1 };
    let day = |y, m, d| Date::new(y, m, d).unwrap_or(today);
    let (last_start, last_end) = (day(fy - 1, 4, 1), day(fy, 3, 31));
    vec![
        ("前年度", Span { from: last_start, to: last_end }),
        ("前年度上半期", Span { from: last_start, to: day(fy - 1, 9, 30) }),
        ("前年度下半期", Span { from: day(fy - 1, 10, 1), to: last_end }),
        ("今年度（今日まで）", Span { from: day(fy, 4, 1), to: today }),
    ]
}

/// The period a request names, as typed (either calendar; both days, or neither for the default
/// of `presets`). A missing or unreadable day is refused naming `from` or `to`.
pub fn span_of(from: Option<&str>, to: Option<&str>, today: Date) -> Result<Span, Error> {
    match (given(from), given(to)) {
        (None, None) => Ok(presets(today)[0].1),
        (from, to) => {
            let day = |field, s: Option<&str>| {
                s.map_or(Err(Error::invalid(field, Why::Required)), |s| wareki::read_date(field, s))
            };
            Span::new(day("from", from)?, day("to", to)?)
        }
    }
}

fn given(s: Option<&str>) -> Option<&str> {
    s.map(str::trim).filter(|s| !s.is_empty())
}

/// The 相談種別 of 児童虐待相談 (code table `consultation_type`).
pub const ABUSE_CONSULTATION: &str = "11";

/// What the counting reads of one case of the unit.
#[derive(Clone, Debug)]
pub struct CaseFacts {
    pub id: CaseId,
    pub case_no: String,
    pub child: ChildId,
    pub kind: IntakeKind,
    pub received_on: Date,
    pub route: Code,
    pub consultation_type: Code,
    /// 主たる虐待の種別 (code table `abuse_type`).
    pub abuse_type: Option<Code>,
    pub perpetrator: Option<Code>,
    pub birth_date: Option<Date>,
    pub closed_on: Option<Date>,
    /// The decided 援助・措置 (approved, or recorded before 決裁 was kept): kind and day.
    pub supports: Vec<(Code, Date)>,
    pub protections: Vec<ProtectionFacts>,
}

/// What the counting reads of one 一時保護.
#[derive(Clone, Debug)]
pub struct ProtectionFacts {
    pub id: ProtectionId,
    pub start: Date,
    /// The day it ended (解除), if it has.
    pub end: Option<Date>,
    pub place: PlaceKind,
    /// Extended past its first two months.
    pub extended: bool,
}

/// A case about the same child received in the span by another centre (unit).
#[derive(Clone, Debug)]
pub struct Elsewhere {
    pub child: ChildId,
    pub unit_name: String,
}

/// The code tables the tables' lines come from.
#[derive(Clone, Copy, Debug)]
pub struct Codes<'a> {
    pub consultation_type: &'a CodeTable,
    pub route: &'a CodeTable,
    pub abuse_type: &'a CodeTable,
    pub perpetrator: &'a CodeTable,
}

/// A row or a column: the keys it holds (`None`: every key, the 総数).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Line {
    pub key: String,
    pub label: String,
    pub holds: Option<BTreeSet<String>>,
    /// 0: a total or a top-level code; 1: a code under the line above (indented).
    pub depth: u8,
}

impl Line {
    fn total(label: &str) -> Self {
        Self { key: "total".into(), label: label.into(), holds: None, depth: 0 }
    }

    fn of(key: &str, label: &str, holds: &[&str]) -> Self {
        Self {
            key: key.into(),
            label: label.into(),
            holds: Some(holds.iter().map(|k| (*k).to_owned()).collect()),
            depth: 0,
        }
    }

    fn takes(&self, key: &str) -> bool {
        self.holds.as_ref().is_none_or(|h| h.contains(key))
    }

    /// The line as the rules tab writes it: `養護相談: 10, 11, 12` (the codes it holds).
    #[must_use]
    pub fn definition(&self) -> String {
        match &self.holds {
            None => format!("{}: すべて", self.label),
            Some(h) => {
                let codes: Vec<&str> =
                    h.iter().map(|k| k.split_once(':').map_or(k.as_str(), |(_, c)| c)).collect();
                format!("{}: {}", self.label, codes.join(", "))
            }
        }
    }
}

/// One number and the cases behind it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Cell {
    pub value: u64,
    pub cases: Vec<CaseId>,
}

/// One table of the report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Table {
    /// `receipts_by_route`: the rule's name, and the key of its cells' names.
    pub key: &'static str,
    pub title: &'static str,
    /// The spreadsheet tab's name (at most 31 characters).
    pub sheet: &'static str,
    /// What is counted, in Japanese (the rules sheet and the page say it).
    pub rule: &'static str,
    pub rows: Vec<Line>,
    pub columns: Vec<Line>,
    /// `cells[row][column]`.
    pub cells: Vec<Vec<Cell>>,
}

impl Table {
    /// A cell's rule name: `receipts_by_route/ct:11/route:04`.
    #[must_use]
    pub fn cell_rule(&self, row: usize, column: usize) -> String {
        let key = |lines: &[Line], i: usize| lines.get(i).map_or("?", |l| l.key.as_str()).to_owned();
        format!("{}/{}/{}", self.key, key(&self.rows, row), key(&self.columns, column))
    }

    /// The cell named `row`/`column` (line keys), if the table has it.
    #[must_use]
    pub fn cell(&self, row: &str, column: &str) -> Option<&Cell> {
        let r = self.rows.iter().position(|l| l.key == row)?;
        let c = self.columns.iter().position(|l| l.key == column)?;
        Some(&self.cells[r][c])
    }
}

/// The report for a span: the tables, the warnings, and the case numbers of every case named.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Statistics {
    pub span: Span,
    pub tables: Vec<Table>,
    pub warnings: Vec<Warning>,
    pub case_nos: BTreeMap<CaseId, String>,
}

impl Statistics {
    #[must_use]
    pub fn table(&self, key: &str) -> Option<&Table> {
        self.tables.iter().find(|t| t.key == key)
    }
}

/// Ages at receipt (満年齢 on the day the case was received), as the report bands them.
pub const AGE_BANDS: [(&str, &str, i32, i32); 6] = [
    ("age:0-2", "0〜2歳", 0, 2),
    ("age:3-6", "3〜6歳", 3, 6),
    ("age:7-12", "7〜12歳", 7, 12),
    ("age:13-15", "13〜15歳", 13, 15),
    ("age:16-18", "16〜18歳", 16, 18),
    ("age:19-", "19歳以上", 19, i32::MAX),
];
const AGE_UNKNOWN: (&str, &str) = ("age:unknown", "年齢不詳");

/// 対応の種類, the strongest first: a case counts under the first whose 援助・措置 codes it has.
pub const RESPONSES: [(&str, &str, &[&str]); 8] = [
    ("resp:facility", "施設入所", &["31", "32", "33", "34", "35"]),
    ("resp:foster", "里親委託等", &["41", "42"]),
    ("resp:court", "家庭裁判所送致・申立て", &["51", "52"]),
    ("resp:guidance", "児童福祉司指導", &["22"]),
    ("resp:caution", "訓戒・誓約", &["21"]),
    ("resp:continued", "継続指導", &["12"]),
    ("resp:referral", "他機関あっせん", &["13"]),
    ("resp:advice", "助言指導", &["11"]),
];
const RESPONSE_OTHER: (&str, &str) = ("resp:other", "その他");

const MISSING: &str = "missing";
const MISSING_LABEL: &str = "未記入";

/// How many days after a protection's end a 措置 decided still counts as its outcome (the
/// decision often follows the 解除 by a few days).
pub const OUTCOME_DAYS: i64 = 14;

const RECEIPTS_RULE: &str = "受付日（受付の日時の日本時間の日付）が期間内のケースを1件と数える。\
相談種別・経路は受付で記録したもの。年齢は受付日現在の満年齢。";
const RESPONSES_RULE: &str = "期間内に決定した援助・措置（決裁済み）のあるケースを、最も強い対応の種類に1件と数える。\
援助・措置なしで期間内に終結したケースは「その他」。期間前に援助を決めて期間内に終結したケースは数えない。";
const ABUSE_RULE: &str = "受付日が期間内で、相談種別が児童虐待相談（11）のケースを1件と数える。\
種別は主たる虐待の種別、虐待者は主たる虐待者。未記入は「未記入」に計上。";
const PROTECTION_RULE: &str = "一時保護ごとに数える。開始件数は開始日が期間内、解除件数は解除日が期間内のもの。\
保護日数は開始日と解除日を含む。期間内の延べ日数は期間に入る日数の合計（継続中も含む）。\
解除後の対応は、保護の開始日から解除日の14日後までに決定した施設入所・里親委託の措置（なければ家庭復帰・その他）。";

/// Counts `cases` for `span`. `elsewhere`: cases received in the span by other centres.
#[must_use]
pub fn count(span: Span, cases: &[CaseFacts], elsewhere: &[Elsewhere], codes: Codes<'_>) -> Statistics {
    let received: Vec<&CaseFacts> = cases.iter().filter(|c| span.holds(c.received_on)).collect();
    let mut warnings = warnings(&received, elsewhere, codes);
    let consultation_rows =
        code_lines("ct", codes.consultation_type, span, received.iter().map(|c| &c.consultation_type));
    let route_lines = code_lines("route", codes.route, span, received.iter().map(|c| &c.route));
    let ages = age_lines();
    let abuse: Vec<&CaseFacts> =
        received.iter().copied().filter(|c| c.consultation_type.as_str() == ABUSE_CONSULTATION).collect();
    let abuse_types = with_missing(
        code_lines("abuse", codes.abuse_type, span, abuse.iter().filter_map(|c| c.abuse_type.as_ref())),
        "abuse",
    );
    let perpetrators = with_missing(
        code_lines("perp", codes.perpetrator, span, abuse.iter().filter_map(|c| c.perpetrator.as_ref())),
        "perp",
    );

    let item = |c: &CaseFacts, row: String, column: String| Item { case: c.id, row, column, value: 1 };
    let ct = |c: &CaseFacts| format!("ct:{}", c.consultation_type.as_str());
    let by_route: Vec<Item> =
        received.iter().map(|c| item(c, ct(c), format!("route:{}", c.route.as_str()))).collect();
    let by_age: Vec<Item> = received.iter().map(|c| item(c, ct(c), age_key(c).to_owned())).collect();
    let responded: Vec<Item> =
        cases.iter().filter_map(|c| response(c, span).map(|r| item(c, ct(c), r.to_owned()))).collect();
    let abuse_key = |c: &CaseFacts| {
        c.abuse_type.as_ref().map_or_else(|| format!("abuse:{MISSING}"), |t| format!("abuse:{}", t.as_str()))
    };
    let perp_key = |c: &CaseFacts| {
        c.perpetrator.as_ref().map_or_else(|| format!("perp:{MISSING}"), |t| format!("perp:{}", t.as_str()))
    };
    let abuse_by_age: Vec<Item> =
        abuse.iter().map(|c| item(c, abuse_key(c), age_key(c).to_owned())).collect();
    let abuse_by_perp: Vec<Item> = abuse.iter().map(|c| item(c, abuse_key(c), perp_key(c))).collect();
    let abuse_by_route: Vec<Item> =
        abuse.iter().map(|c| item(c, format!("route:{}", c.route.as_str()), abuse_key(c))).collect();

    let total = |label: &str, lines: &[Line]| [vec![Line::total(label)], lines.to_vec()].concat();
    let mut responses: Vec<Line> = RESPONSES.iter().map(|(k, l, _)| Line::of(k, l, &[k])).collect();
    responses.push(Line::of(RESPONSE_OTHER.0, RESPONSE_OTHER.1, &[RESPONSE_OTHER.0]));
    let tables = vec![
        build(
            ("receipts_by_route", "受付（種類・経路）"),
            "受付件数（相談の種類別・経路別）",
            RECEIPTS_RULE,
            total("総数", &consultation_rows),
            total("総数", &route_lines),
            &by_route,
        ),
        build(
            ("receipts_by_age", "受付（種類・年齢）"),
            "受付件数（相談の種類別・年齢別）",
            RECEIPTS_RULE,
            total("総数", &consultation_rows),
            total("総数", &ages),
            &by_age,
        ),
        build(
            ("responses", "対応（種類・対応）"),
            "対応件数（相談の種類別・対応の種類別）",
            RESPONSES_RULE,
            total("総数", &consultation_rows),
            total("総数", &responses),
            &responded,
        ),
        build(
            ("abuse_by_age", "虐待（種別・年齢）"),
            "児童虐待相談の対応件数（虐待の種別・被虐待児の年齢別）",
            ABUSE_RULE,
            total("総数", &abuse_types),
            total("総数", &ages),
            &abuse_by_age,
        ),
        build(
            ("abuse_by_perpetrator", "虐待（種別・虐待者）"),
            "児童虐待相談の対応件数（虐待の種別・主たる虐待者別）",
            ABUSE_RULE,
            total("総数", &abuse_types),
            total("総数", &perpetrators),
            &abuse_by_perp,
        ),
        build(
            ("abuse_by_route", "虐待（経路・種別）"),
            "児童虐待相談の対応件数（経路別・虐待の種別）",
            ABUSE_RULE,
            total("総数", &route_lines),
            total("総数", &abuse_types),
            &abuse_by_route,
        ),
        protections(span, cases),
    ];
    let mut named: BTreeSet<CaseId> =
        tables.iter().flat_map(|t| t.cells.iter().flatten().flat_map(|c| c.cases.iter().copied())).collect();
    warnings.sort_by(|a, b| (a.kind, &a.cases).cmp(&(b.kind, &b.cases)));
    named.extend(warnings.iter().flat_map(|w| w.cases.iter().copied()));
    let case_nos =
        cases.iter().filter(|c| named.contains(&c.id)).map(|c| (c.id, c.case_no.clone())).collect();
    Statistics { span, tables, warnings, case_nos }
}

/// One counted thing: a case (or a protection's case) under a row key and a column key.
struct Item {
    case: CaseId,
    row: String,
    column: String,
    value: u64,
}

fn build(
    (key, sheet): (&'static str, &'static str),
    title: &'static str,
    rule: &'static str,
    rows: Vec<Line>,
    columns: Vec<Line>,
    items: &[Item],
) -> Table {
    let cells = rows
        .iter()
        .map(|r| {
            let in_row: Vec<&Item> = items.iter().filter(|i| r.takes(&i.row)).collect();
            columns
                .iter()
                .map(|c| {
                    let mut cell = Cell::default();
                    for i in in_row.iter().filter(|i| c.takes(&i.column)) {
                        cell.value += i.value;
                        cell.cases.push(i.case);
                    }
                    cell.cases.sort_unstable();
                    cell.cases.dedup();
                    cell
                })
                .collect()
        })
        .collect();
    Table { key, title, sheet, rule, rows, columns, cells }
}

/// The lines of a code table: every entry valid on some day of the span, or counted; a parent
/// holds its own code and its children's (a subtotal), the children follow it indented. A code
/// counted that the table lacks gets a line of its own.
fn code_lines<'a>(
    prefix: &str,
    table: &CodeTable,
    span: Span,
    used: impl Iterator<Item = &'a Code>,
) -> Vec<Line> {
    let used: BTreeSet<&str> = used.map(Code::as_str).collect();
    let shown = |e: &crate::code_table::CodeEntry| {
        let valid = e.valid_from.is_none_or(|f| f <= span.to) && e.valid_until.is_none_or(|u| span.from < u);
        valid || used.contains(e.code.as_str())
    };
    let key = |code: &str| format!("{prefix}:{code}");
    let mut out = Vec::new();
    for top in table.entries.iter().filter(|e| e.parent.is_none()) {
        let children: Vec<_> = table
            .entries
            .iter()
            .filter(|e| e.parent.as_deref() == Some(top.code.as_str()) && shown(e))
            .collect();
        if !shown(top) && children.is_empty() {
            continue;
        }
        let mut holds: BTreeSet<String> = children.iter().map(|c| key(&c.code)).collect();
        holds.insert(key(&top.code));
        out.push(Line { key: key(&top.code), label: top.label.clone(), holds: Some(holds), depth: 0 });
        for c in children {
            out.push(Line {
                key: key(&c.code),
                label: c.label.clone(),
                holds: Some(BTreeSet::from([key(&c.code)])),
                depth: 1,
            });
        }
    }
    for code in used.into_iter().filter(|c| !table.entries.iter().any(|e| e.code == *c)) {
        out.push(Line {
            key: key(code),
            label: format!("{code}（コード表にない）"),
            holds: Some(BTreeSet::from([key(code)])),
            depth: 0,
        });
    }
    out
}

fn with_missing(mut lines: Vec<Line>, prefix: &str) -> Vec<Line> {
    let key = format!("{prefix}:{MISSING}");
    lines.push(Line::of(&key, MISSING_LABEL, &[&key]));
    lines
}

fn age_lines() -> Vec<Line> {
    let mut out: Vec<Line> = AGE_BANDS.iter().map(|(k, l, _, _)| Line::of(k, l, &[k])).collect();
    out.push(Line::of(AGE_UNKNOWN.0, AGE_UNKNOWN.1, &[AGE_UNKNOWN.0]));
    out
}

fn age_key(c: &CaseFacts) -> &'static str {
    let Some(born) = c.birth_date.filter(|b| *b <= c.received_on) else { return AGE_UNKNOWN.0 };
    let age = born.age_on(c.received_on);
    AGE_BANDS.iter().find(|(_, _, lo, hi)| (*lo..=*hi).contains(&age)).map_or(AGE_UNKNOWN.0, |b| b.0)
}

/// The 対応 a case counts under in the span, if it counts (`RESPONSES_RULE`).
fn response(c: &CaseFacts, span: Span) -> Option<&'static str> {
    let decided: Vec<&str> =
        c.supports.iter().filter(|(_, on)| span.holds(*on)).map(|(k, _)| k.as_str()).collect();
    if !decided.is_empty() {
        let strongest = RESPONSES.iter().find(|(_, _, codes)| decided.iter().any(|d| codes.contains(d)));
        return Some(strongest.map_or(RESPONSE_OTHER.0, |r| r.0));
    }
    (c.supports.is_empty() && c.closed_on.is_some_and(|d| span.holds(d))).then_some(RESPONSE_OTHER.0)
}

const PLACES: [(&str, &str, PlaceKind); 2] = [
    ("place:shelter", "一時保護所", PlaceKind::Shelter),
    ("place:entrusted", "委託一時保護", PlaceKind::Entrusted),
];

fn protections(span: Span, cases: &[CaseFacts]) -> Table {
    let columns: Vec<Line> = [
        ("started", "開始件数"),
        ("ended", "解除件数"),
        ("days_to_end", "解除までの保護日数の合計（日）"),
        ("days_in_span", "期間内の延べ保護日数（日）"),
        ("extended", "2か月を超えて延長したもの（解除）"),
        ("out:facility", "解除後 施設入所"),
        ("out:foster", "解除後 里親委託等"),
        ("out:home", "解除後 家庭復帰・その他"),
    ]
    .iter()
    .map(|(k, l)| Line::of(k, l, &[k]))
    .collect();
    let rows =
        [vec![Line::total("総数")], PLACES.iter().map(|(k, l, _)| Line::of(k, l, &[k])).collect()].concat();
    let mut items = Vec::new();
    for c in cases {
        for p in &c.protections {
            let row = PLACES.iter().find(|pl| pl.2 == p.place).map_or("place:shelter", |pl| pl.0).to_owned();
            let mut add = |column: &str, value: u64| {
                if value > 0 {
                    items.push(Item { case: c.id, row: row.clone(), column: column.to_owned(), value });
                }
            };
            add("started", u64::from(span.holds(p.start)));
            let last = p.end.unwrap_or(span.to);
            if p.start <= span.to && last >= span.from {
                add("days_in_span", span.overlap(p.start, last));
            }
            let Some(end) = p.end.filter(|e| span.holds(*e)) else { continue };
            add("ended", 1);
            add("days_to_end", u64::try_from(end.days() - p.start.days() + 1).unwrap_or(0));
            add("extended", u64::from(p.extended));
            let until = end.plus_days(OUTCOME_DAYS);
            let placed = |codes: &[&str]| {
                c.supports.iter().any(|(k, on)| codes.contains(&k.as_str()) && p.start <= *on && *on <= until)
            };
            add(
                if placed(RESPONSES[0].2) {
                    "out:facility"
                } else if placed(RESPONSES[1].2) {
                    "out:foster"
                } else {
                    "out:home"
                },
                1,
            );
        }
    }
    build(
        ("protections", "一時保護"),
        "一時保護（保護の場所別・日数・解除後の対応）",
        PROTECTION_RULE,
        rows,
        columns,
        &items,
    )
}

#[cfg(test)]
mod tests;
