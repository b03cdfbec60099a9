//! The known miscounts a supervisor checks before filing: a child received twice, a child also
//! received by another centre, an abuse report under another 相談種別, blanks and unknown codes.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::{ABUSE_CONSULTATION, AGE_UNKNOWN, CaseFacts, Codes, Elsewhere, age_key};
use crate::case::IntakeKind;
use crate::code_table::{Code, CodeTable};
use crate::ids::{CaseId, ChildId};

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

pub(super) fn warnings(received: &[&CaseFacts], elsewhere: &[Elsewhere], codes: Codes<'_>) -> Vec<Warning> {
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
