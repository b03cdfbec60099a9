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

/// A known miscount to check before filing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WarningKind {
    /// One child, two or more cases received in the span: the same consultation entered twice?
    ChildCountedTwice,
    /// The child's case was also received by another centre in the span (移管, 送致): counted
    /// by both?
    OtherCentre,
    /// An abuse report (虐待通告) filed under another 相談種別: right, if the investigation found
    /// no abuse; else it is missing from the abuse tables.
    ReportNotAbuse,
    /// A 児童虐待相談 without its main type: counted as 未記入.
    AbuseTypeMissing,
    /// A 児童虐待相談 without its main perpetrator: counted as 未記入.
    PerpetratorMissing,
    /// No birth date: counted as 年齢不詳.
    AgeUnknown,
    /// A code the code table does not have.
    UnknownCode,
}

impl WarningKind {
    /// The name the CLI prints and the API sends.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ChildCountedTwice => "child_counted_twice",
            Self::OtherCentre => "other_centre",
            Self::ReportNotAbuse => "report_not_abuse",
            Self::AbuseTypeMissing => "abuse_type_missing",
            Self::PerpetratorMissing => "perpetrator_missing",
            Self::AgeUnknown => "age_unknown",
            Self::UnknownCode => "unknown_code",
        }
    }

    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            Self::ChildCountedTwice => "同じ児童の受付が2件以上",
            Self::OtherCentre => "他の児童相談所でも受付",
            Self::ReportNotAbuse => "虐待通告で相談種別が児童虐待相談以外",
            Self::AbuseTypeMissing => "虐待の種別が未記入",
            Self::PerpetratorMissing => "主たる虐待者が未記入",
            Self::AgeUnknown => "生年月日が不明（年齢不詳に計上）",
            Self::UnknownCode => "コード表にないコード",
        }
    }

    /// What to check.
    #[must_use]
    pub fn advice(self) -> &'static str {
        match self {
            Self::ChildCountedTwice => {
                "同じ相談の重複登録でないか確認してください。別の相談なら正しい計上です。"
            }
            Self::OtherCentre => {
                "移管・送致で両方の児童相談所が計上していないか、相手の所と確認してください。"
            }
            Self::ReportNotAbuse => {
                "調査の結果虐待でなかったのでなければ、相談種別を児童虐待相談に直してください。"
            }
            Self::AbuseTypeMissing => "ケースの虐待内容に主たる種別を記入してください。",
            Self::PerpetratorMissing => "ケースの虐待内容に主たる虐待者を記入してください。",
            Self::AgeUnknown => "児童の生年月日が分かれば記入してください。",
            Self::UnknownCode => "コード表を確認してください（終了したコードや移行データのコード）。",
        }
    }
}

/// A warning and the cases it is about.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Warning {
    pub kind: WarningKind,
    pub cases: Vec<CaseId>,
    /// What else to know: the other centre's name, the unknown code.
    pub detail: String,
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

fn warnings(received: &[&CaseFacts], elsewhere: &[Elsewhere], codes: Codes<'_>) -> Vec<Warning> {
    let mut out = Vec::new();
    let mut by_child: BTreeMap<ChildId, Vec<CaseId>> = BTreeMap::new();
    for c in received {
        by_child.entry(c.child).or_default().push(c.id);
    }
    for cases in by_child.values().filter(|v| v.len() > 1) {
        out.push(Warning {
            kind: WarningKind::ChildCountedTwice,
            cases: cases.clone(),
            detail: String::new(),
        });
    }
    let other: BTreeSet<(ChildId, &str)> =
        elsewhere.iter().map(|e| (e.child, e.unit_name.as_str())).collect();
    for (child, unit) in other {
        if let Some(cases) = by_child.get(&child) {
            out.push(Warning {
                kind: WarningKind::OtherCentre,
                cases: cases.clone(),
                detail: unit.to_owned(),
            });
        }
    }
    let mut each = |kind: WarningKind, test: &dyn Fn(&CaseFacts) -> bool| {
        let cases: Vec<CaseId> = received.iter().filter(|c| test(c)).map(|c| c.id).collect();
        if !cases.is_empty() {
            out.push(Warning { kind, cases, detail: String::new() });
        }
    };
    let abuse = |c: &CaseFacts| c.consultation_type.as_str() == ABUSE_CONSULTATION;
    each(WarningKind::ReportNotAbuse, &|c| c.kind == IntakeKind::AbuseReport && !abuse(c));
    each(WarningKind::AbuseTypeMissing, &|c| abuse(c) && c.abuse_type.is_none());
    each(WarningKind::PerpetratorMissing, &|c| abuse(c) && c.perpetrator.is_none());
    each(WarningKind::AgeUnknown, &|c| age_key(c) == AGE_UNKNOWN.0);
    let unknown = |table: &CodeTable, code: Option<&Code>| code.is_some_and(|c| table.label(c).is_none());
    let mut bad: BTreeMap<String, Vec<CaseId>> = BTreeMap::new();
    for c in received {
        for (table, code) in [
            (codes.consultation_type, Some(&c.consultation_type)),
            (codes.route, Some(&c.route)),
            (codes.abuse_type, c.abuse_type.as_ref().filter(|_| abuse(c))),
            (codes.perpetrator, c.perpetrator.as_ref().filter(|_| abuse(c))),
        ] {
            if unknown(table, code) {
                let name = format!("{} {}", table.name, code.map_or("", Code::as_str));
                bad.entry(name).or_default().push(c.id);
            }
        }
    }
    for (detail, cases) in bad {
        out.push(Warning { kind: WarningKind::UnknownCode, cases, detail });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::code_table::seed;

    fn d(s: &str) -> Date {
        Date::parse_iso(s).unwrap()
    }

    fn case(id: u64, child: u64, on: &str, ct: &str, route: &str) -> CaseFacts {
        CaseFacts {
            id: CaseId(id),
            case_no: format!("児-R7-{id:05}"),
            child: ChildId(child),
            kind: IntakeKind::Consultation,
            received_on: d(on),
            route: Code::new(route),
            consultation_type: Code::new(ct),
            abuse_type: None,
            perpetrator: None,
            birth_date: Some(d("2015-06-01")),
            closed_on: None,
            supports: Vec::new(),
            protections: Vec::new(),
        }
    }

    fn count_with(cases: &[CaseFacts], elsewhere: &[Elsewhere]) -> Statistics {
        let tables = seed();
        let t = |k: &str| tables.iter().find(|t| t.key == k).unwrap();
        let codes = Codes {
            consultation_type: t("consultation_type"),
            route: t("route"),
            abuse_type: t("abuse_type"),
            perpetrator: t("perpetrator"),
        };
        count(Span::new(d("2025-04-01"), d("2026-03-31")).unwrap(), cases, elsewhere, codes)
    }

    fn value(s: &Statistics, table: &str, row: &str, column: &str) -> u64 {
        s.table(table).unwrap().cell(row, column).unwrap_or_else(|| panic!("{table} {row} {column}")).value
    }

    #[test]
    fn receipts_count_each_case_of_the_span_once_under_its_type_route_and_age() {
        let mut abuse = case(3, 3, "2025-07-01", "11", "11");
        abuse.birth_date = Some(d("2023-07-02")); // one year old on receipt
        let cases = [
            case(1, 1, "2025-04-01", "11", "04"),
            case(2, 2, "2026-03-31", "12", "04"),
            abuse,
            case(4, 4, "2025-03-31", "11", "04"), // the day before the span
            case(5, 5, "2026-04-01", "52", "14"), // the day after
            case(6, 6, "2025-12-01", "52", "14"),
        ];
        let s = count_with(&cases, &[]);
        assert_eq!(value(&s, "receipts_by_route", "total", "total"), 4);
        assert_eq!(value(&s, "receipts_by_route", "ct:10", "total"), 3, "養護相談 holds 11 and 12");
        assert_eq!(value(&s, "receipts_by_route", "ct:11", "route:04"), 1);
        assert_eq!(value(&s, "receipts_by_route", "ct:11", "route:11"), 1);
        assert_eq!(value(&s, "receipts_by_route", "ct:50", "route:14"), 1, "育成相談 holds 不登校");
        assert_eq!(value(&s, "receipts_by_route", "ct:52", "total"), 1);
        assert_eq!(value(&s, "receipts_by_route", "ct:30", "total"), 0);
        assert_eq!(value(&s, "receipts_by_age", "total", "age:0-2"), 1);
        assert_eq!(value(&s, "receipts_by_age", "total", "age:7-12"), 3, "ten years old");
        let t = s.table("receipts_by_route").unwrap();
        assert_eq!(t.cell("ct:10", "total").unwrap().cases, [CaseId(1), CaseId(2), CaseId(3)]);
        assert_eq!(t.cell_rule(0, 0), "receipts_by_route/total/total");
        // Every row and every column adds up to the total (the subtotal lines aside).
        for t in s.tables.iter().filter(|t| t.rows[0].key == "total" && t.columns[0].key == "total") {
            let rows: u64 = t
                .cells
                .iter()
                .zip(&t.rows)
                .skip(1)
                .filter(|(_, l)| l.depth == 0)
                .map(|(r, _)| r[0].value)
                .sum();
            let cols: u64 = t.cells[0].iter().skip(1).map(|c| c.value).sum();
            assert_eq!((rows, cols), (t.cells[0][0].value, t.cells[0][0].value), "{}", t.key);
        }
    }

    #[test]
    fn responses_count_the_strongest_decision_of_the_span_or_a_closing_without_one() {
        let mut placed = case(1, 1, "2025-05-01", "11", "04");
        placed.supports = vec![(Code::new("12"), d("2025-05-10")), (Code::new("32"), d("2025-08-01"))];
        let mut advised = case(2, 2, "2024-05-01", "52", "14");
        advised.supports = vec![(Code::new("11"), d("2025-04-02"))];
        let mut closed = case(3, 3, "2025-06-01", "60", "01");
        closed.closed_on = Some(d("2025-06-20"));
        let mut before = case(4, 4, "2024-06-01", "60", "01"); // decided before the span, closed in it
        before.supports = vec![(Code::new("11"), d("2024-06-10"))];
        before.closed_on = Some(d("2025-06-20"));
        let s = count_with(&[placed, advised, closed, before], &[]);
        assert_eq!(value(&s, "responses", "total", "total"), 3);
        assert_eq!(value(&s, "responses", "ct:11", "resp:facility"), 1);
        assert_eq!(value(&s, "responses", "ct:11", "resp:continued"), 0, "the strongest only");
        assert_eq!(value(&s, "responses", "ct:52", "resp:advice"), 1, "received before the span");
        assert_eq!(value(&s, "responses", "ct:60", "resp:other"), 1);
    }

    #[test]
    fn abuse_counts_by_main_type_perpetrator_age_and_route_and_blanks_are_counted_and_warned() {
        let mut a = case(1, 1, "2025-05-01", "11", "11");
        a.abuse_type = Some(Code::new("3"));
        a.perpetrator = Some(Code::new("3"));
        let mut b = case(2, 2, "2025-05-02", "11", "14");
        b.abuse_type = Some(Code::new("1"));
        b.birth_date = None;
        let mut report = case(3, 3, "2025-05-03", "12", "02");
        report.kind = IntakeKind::AbuseReport;
        let s = count_with(&[a, b, report], &[]);
        assert_eq!(value(&s, "abuse_by_age", "total", "total"), 2, "only 児童虐待相談");
        assert_eq!(value(&s, "abuse_by_age", "abuse:3", "age:7-12"), 1);
        assert_eq!(value(&s, "abuse_by_age", "abuse:1", "age:unknown"), 1);
        assert_eq!(value(&s, "abuse_by_perpetrator", "abuse:3", "perp:3"), 1);
        assert_eq!(value(&s, "abuse_by_perpetrator", "abuse:1", "perp:missing"), 1);
        assert_eq!(value(&s, "abuse_by_route", "route:11", "abuse:3"), 1);
        let kinds: Vec<(WarningKind, Vec<CaseId>)> =
            s.warnings.iter().map(|w| (w.kind, w.cases.clone())).collect();
        assert_eq!(
            kinds,
            [
                (WarningKind::ReportNotAbuse, vec![CaseId(3)]),
                (WarningKind::PerpetratorMissing, vec![CaseId(2)]),
                (WarningKind::AgeUnknown, vec![CaseId(2)]),
            ]
        );
    }

    #[test]
    fn a_child_counted_twice_or_by_another_centre_and_an_unknown_code_are_warned() {
        let cases = [
            case(1, 7, "2025-05-01", "60", "01"),
            case(2, 7, "2025-09-01", "60", "01"),
            case(3, 8, "2025-05-01", "99", "77"),
        ];
        let other = [Elsewhere { child: ChildId(8), unit_name: "架空中央児童相談所".into() }];
        let s = count_with(&cases, &other);
        let w = |k| s.warnings.iter().find(|w| w.kind == k).unwrap();
        assert_eq!(w(WarningKind::ChildCountedTwice).cases, [CaseId(1), CaseId(2)]);
        assert_eq!(w(WarningKind::OtherCentre).cases, [CaseId(3)]);
        assert_eq!(w(WarningKind::OtherCentre).detail, "架空中央児童相談所");
        let unknown: Vec<&str> = s
            .warnings
            .iter()
            .filter(|w| w.kind == WarningKind::UnknownCode)
            .map(|w| w.detail.as_str())
            .collect();
        assert_eq!(unknown, ["相談・通告経路 77", "相談種別 99"]);
        assert_eq!(value(&s, "receipts_by_route", "ct:99", "route:77"), 1, "a line of its own");
        assert_eq!(value(&s, "receipts_by_route", "total", "total"), 3);
        assert_eq!(s.case_nos.len(), 3);
    }

    #[test]
    fn protections_count_starts_ends_days_and_outcomes() {
        let prot = |id, start: &str, end: Option<&str>, place| ProtectionFacts {
            id: ProtectionId(id),
            start: d(start),
            end: end.map(d),
            place,
            extended: false,
        };
        let mut placed = case(1, 1, "2025-03-20", "11", "11");
        // Started before the span, ended in it, then placed in a facility 10 days later.
        placed.protections = vec![prot(1, "2025-03-22", Some("2025-04-10"), PlaceKind::Shelter)];
        placed.supports = vec![(Code::new("32"), d("2025-04-20"))];
        let mut ongoing = case(2, 2, "2026-03-01", "11", "11");
        // Started in the span, still going at its end.
        ongoing.protections = vec![prot(2, "2026-03-30", None, PlaceKind::Entrusted)];
        let mut extended = case(3, 3, "2025-06-01", "11", "11");
        let mut long = prot(3, "2025-06-01", Some("2025-09-30"), PlaceKind::Shelter);
        long.extended = true;
        extended.protections = vec![long];
        let s = count_with(&[placed, ongoing, extended], &[]);
        let v = |row, col| value(&s, "protections", row, col);
        assert_eq!((v("total", "started"), v("place:entrusted", "started")), (2, 1));
        assert_eq!(v("total", "ended"), 2);
        assert_eq!(v("place:shelter", "days_to_end"), 20 + 122, "start and end days included");
        assert_eq!(v("total", "days_in_span"), 10 + 122 + 2, "only the days inside the span");
        assert_eq!(v("total", "extended"), 1);
        assert_eq!((v("total", "out:facility"), v("total", "out:home")), (1, 1));
    }

    #[test]
    fn the_default_period_is_the_last_whole_fiscal_year() {
        let p = presets(d("2026-04-10"));
        assert_eq!((p[0].1.from, p[0].1.to), (d("2025-04-01"), d("2026-03-31")));
        assert_eq!(
            (p[2].1.from, p[3].1.from, p[3].1.to),
            (d("2025-10-01"), d("2026-04-01"), d("2026-04-10"))
        );
        let march = presets(d("2026-03-31"));
        assert_eq!(
            (march[0].1.from, march[0].1.to),
            (d("2024-04-01"), d("2025-03-31")),
            "March is still FY2025"
        );
    }

    #[test]
    fn a_period_is_read_in_either_calendar_and_both_days_or_neither() {
        let today = d("2026-04-10");
        assert_eq!(span_of(None, Some(" "), today).unwrap(), presets(today)[0].1);
        let s = span_of(Some("R7.4.1"), Some("2025-09-30"), today).unwrap();
        assert_eq!((s.from, s.to), (d("2025-04-01"), d("2025-09-30")));
        assert!(matches!(
            span_of(Some("R7.4.1"), None, today),
            Err(Error::Invalid { field: "to", reason: Why::Required })
        ));
        assert!(matches!(
            span_of(Some("R7.4.x"), Some("R7.5.1"), today),
            Err(Error::Invalid { field: "from", .. })
        ));
        assert!(matches!(
            span_of(Some("R7.5.1"), Some("R7.4.1"), today),
            Err(Error::Invalid { field: "to", .. })
        ));
    }

    #[test]
    fn a_span_ends_on_or_after_its_start() {
        assert!(Span::new(d("2025-04-02"), d("2025-04-01")).is_err());
        let one = Span::new(d("2025-04-01"), d("2025-04-01")).unwrap();
        assert!(one.holds(d("2025-04-01")) && !one.holds(d("2025-04-02")));
    }
}
