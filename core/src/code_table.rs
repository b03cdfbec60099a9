//! Code tables (コード表): every coded field names a table; entries carry validity dates so that a
//! law or national format change is an edit of data, not of code. Seeded from the national
//! 福祉行政報告例 categories.

use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::ids::CodeTableId;
use crate::record::Record;
use crate::time::Date;

/// A code from some table, e.g. `11` in `consultation_type` (児童虐待相談).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Code(pub String);

impl Code {
    #[must_use]
    pub fn new(s: &str) -> Self {
        Self(s.to_owned())
    }
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodeEntry {
    pub code: String,
    pub label: String,
    #[serde(default)]
    pub parent: Option<String>,
    #[serde(default)]
    pub valid_from: Option<Date>,
    /// First day the entry is no longer valid.
    #[serde(default)]
    pub valid_until: Option<Date>,
}

impl CodeEntry {
    #[must_use]
    pub fn valid_on(&self, on: Date) -> bool {
        self.valid_from.is_none_or(|f| f <= on) && self.valid_until.is_none_or(|u| on < u)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodeTable {
    /// Machine name (`consultation_type`).
    pub key: String,
    /// Japanese name (`相談種別`).
    pub name: String,
    pub entries: Vec<CodeEntry>,
}

impl Record for CodeTable {
    type Id = CodeTableId;
    const SCHEMA: u16 = 1;
}

impl CodeTable {
    /// The entry for `code` valid on `on`, or a clear error naming the table.
    pub fn check(&self, code: &Code, on: Date) -> Result<&CodeEntry, Error> {
        let entry = self
            .entries
            .iter()
            .find(|e| e.code == code.0)
            .ok_or_else(|| Error::invalid_code(&self.key, &code.0, "no such code"))?;
        if !entry.valid_on(on) {
            return Err(Error::invalid_code(&self.key, &code.0, &format!("not valid on {on}")));
        }
        Ok(entry)
    }

    #[must_use]
    pub fn label(&self, code: &Code) -> Option<&str> {
        self.entries.iter().find(|e| e.code == code.0).map(|e| e.label.as_str())
    }
}

/// Every table key a record field may name.
pub const TABLE_KEYS: [&str; 9] = [
    "consultation_type",
    "abuse_type",
    "perpetrator",
    "route",
    "support_kind",
    "meeting_kind",
    "note_kind",
    "relation",
    "agency_kind",
];

fn table(key: &str, name: &str, entries: &[(&str, &str, Option<&str>)]) -> CodeTable {
    CodeTable {
        key: key.to_owned(),
        name: name.to_owned(),
        entries: entries
            .iter()
            .map(|(code, label, parent)| CodeEntry {
                code: (*code).to_owned(),
                label: (*label).to_owned(),
                parent: parent.map(str::to_owned),
                valid_from: None,
                valid_until: None,
            })
            .collect(),
    }
}

/// The tables a new store starts with (DOMAIN.md "Code tables").
#[must_use]
#[expect(clippy::too_many_lines, reason = "a data table, one line an entry")]
pub fn seed() -> Vec<CodeTable> {
    vec![
        table(
            "consultation_type",
            "相談種別",
            &[
                ("10", "養護相談", None),
                ("11", "児童虐待相談", Some("10")),
                ("12", "その他の養護相談", Some("10")),
                ("20", "保健相談", None),
                ("30", "障害相談", None),
                ("31", "肢体不自由相談", Some("30")),
                ("32", "視聴覚障害相談", Some("30")),
                ("33", "言語発達障害等相談", Some("30")),
                ("34", "重症心身障害相談", Some("30")),
                ("35", "知的障害相談", Some("30")),
                ("36", "発達障害相談", Some("30")),
                ("40", "非行相談", None),
                ("41", "ぐ犯行為等相談", Some("40")),
                ("42", "触法行為等相談", Some("40")),
                ("50", "育成相談", None),
                ("51", "性格行動相談", Some("50")),
                ("52", "不登校相談", Some("50")),
                ("53", "適性相談", Some("50")),
                ("54", "育児・しつけ相談", Some("50")),
                ("60", "その他の相談", None),
            ],
        ),
        table(
            "abuse_type",
            "虐待種別",
            &[
                ("1", "身体的虐待", None),
                ("2", "ネグレクト", None),
                ("3", "心理的虐待", None),
                ("4", "性的虐待", None),
            ],
        ),
        table(
            "perpetrator",
            "主たる虐待者",
            &[
                ("1", "実父", None),
                ("2", "実父以外の父", None),
                ("3", "実母", None),
                ("4", "実母以外の母", None),
                ("5", "その他", None),
            ],
        ),
        table(
            "route",
            "相談・通告経路",
            &[
                ("01", "家族・親戚", None),
                ("02", "近隣・知人", None),
                ("03", "児童本人", None),
                ("04", "市町村", None),
                ("05", "都道府県・福祉事務所", None),
                ("06", "児童委員", None),
                ("07", "保健所", None),
                ("08", "医療機関", None),
                ("09", "児童福祉施設", None),
                ("10", "里親", None),
                ("11", "警察等", None),
                ("12", "家庭裁判所", None),
                ("13", "幼稚園・保育所", None),
                ("14", "学校", None),
                ("15", "教育委員会", None),
                ("99", "その他", None),
            ],
        ),
        table(
            "support_kind",
            "援助・措置種別",
            &[
                ("11", "助言指導", None),
                ("12", "継続指導", None),
                ("13", "他機関あっせん", None),
                ("21", "訓戒・誓約", None),
                ("22", "児童福祉司指導", None),
                ("31", "施設入所（乳児院）", None),
                ("32", "施設入所（児童養護施設）", None),
                ("33", "施設入所（児童心理治療施設）", None),
                ("34", "施設入所（児童自立支援施設）", None),
                ("35", "施設入所（障害児入所施設）", None),
                ("41", "里親委託", None),
                ("42", "ファミリーホーム委託", None),
                ("51", "家庭裁判所送致・申立て（28条）", None),
                ("52", "親権停止の申立て", None),
            ],
        ),
        table(
            "meeting_kind",
            "会議種別",
            &[
                ("1", "受理会議", None),
                ("2", "緊急受理会議", None),
                ("3", "判定会議", None),
                ("4", "援助方針会議", None),
                ("5", "要対協", None),
                ("51", "代表者会議", Some("5")),
                ("52", "実務者会議", Some("5")),
                ("53", "個別ケース検討会議", Some("5")),
            ],
        ),
        table(
            "note_kind",
            "経過記録の種別",
            &[
                ("1", "家庭訪問", None),
                ("2", "来所面接", None),
                ("3", "電話", None),
                ("4", "関係機関連絡", None),
                ("5", "会議", None),
                ("6", "一時保護所での様子", None),
                ("9", "その他", None),
            ],
        ),
        table(
            "relation",
            "続柄",
            &[
                ("01", "実父", None),
                ("02", "実母", None),
                ("03", "継父", None),
                ("04", "継母", None),
                ("05", "養父", None),
                ("06", "養母", None),
                ("07", "祖父", None),
                ("08", "祖母", None),
                ("09", "きょうだい", None),
                ("10", "本人", None),
                ("11", "同居人", None),
                ("12", "母の交際相手", None),
                ("99", "その他", None),
            ],
        ),
        table(
            "agency_kind",
            "関係機関の種別",
            &[
                ("01", "学校", None),
                ("02", "保育所・幼稚園", None),
                ("03", "警察", None),
                ("04", "医療機関", None),
                ("05", "保健センター・保健所", None),
                ("06", "福祉事務所", None),
                ("07", "児童福祉施設", None),
                ("08", "家庭裁判所", None),
                ("99", "その他", None),
            ],
        ),
        hearing_after_urgent_start(),
    ]
}

/// The table giving the days (counting the start day) within which the child's hearing must
/// follow a protection started in urgency (意見聴取等措置, in force from 令和6年4月1日): each
/// entry's code is a number of days, valid from a date, so the centre changes the period by
/// ending one entry and adding another, never in code.
pub const HEARING_AFTER_URGENT_START: &str = "hearing_after_urgent_start";

/// The seeded period, for a store made before the table existed.
pub const HEARING_AFTER_URGENT_START_DAYS: u32 = 3;

fn hearing_after_urgent_start() -> CodeTable {
    CodeTable {
        key: HEARING_AFTER_URGENT_START.to_owned(),
        name: "緊急時の事後の意見聴取の期限（日数）".to_owned(),
        entries: vec![CodeEntry {
            code: HEARING_AFTER_URGENT_START_DAYS.to_string(),
            label: "一時保護の開始日を含めて3日以内".to_owned(),
            parent: None,
            valid_from: Date::new(2024, 4, 1).ok(),
            valid_until: None,
        }],
    }
}

/// One entry as an administrator adds or changes it (the console's コード表 form). An entry is
/// never removed: it ends with `valid_until`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodeEntryEdit {
    pub code: String,
    pub label: String,
    #[serde(default)]
    pub valid_from: Option<Date>,
    #[serde(default)]
    pub valid_until: Option<Date>,
}

impl CodeTable {
    /// Adds `edit` as a new entry (`adding`; a code the table has already is refused), or
    /// changes the label and validity of the entry with its code (its parent stays).
    pub fn put(&mut self, edit: CodeEntryEdit, adding: bool) -> Result<(), Error> {
        let existing = self.entries.iter_mut().find(|e| e.code == edit.code);
        match (existing, adding) {
            (Some(_), true) => Err(Error::invalid("code", format!("{} is in the table already", edit.code))),
            (None, false) => Err(Error::not_found("code", &edit.code)),
            (Some(e), false) => {
                e.label = edit.label;
                e.valid_from = edit.valid_from;
                e.valid_until = edit.valid_until;
                Ok(())
            }
            (None, true) => {
                self.entries.push(CodeEntry {
                    code: edit.code,
                    label: edit.label,
                    parent: None,
                    valid_from: edit.valid_from,
                    valid_until: edit.valid_until,
                });
                Ok(())
            }
        }
    }

    /// A table whose codes carry numbers (`hearing_after_urgent_start`: days) takes only such
    /// codes, so a typo cannot silently stop the period from applying.
    pub fn check_values(&self) -> Result<(), Error> {
        if self.key == HEARING_AFTER_URGENT_START {
            for e in &self.entries {
                if !e.code.parse::<u32>().is_ok_and(|d| (1..=60).contains(&d)) {
                    return Err(Error::invalid(
                        "code",
                        format!("{:?}: a number of days from 1 to 60", e.code),
                    ));
                }
            }
        }
        Ok(())
    }

    /// The number of days the entry valid on `on` names (tables whose codes are day counts).
    #[must_use]
    pub fn days_on(&self, on: Date) -> Option<u32> {
        self.entries.iter().filter(|e| e.valid_on(on)).find_map(|e| e.code.parse().ok())
    }
}
