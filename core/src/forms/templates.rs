//! The templates: every version of every form as data — its fields, its fixed texts (the 教示
//! with the limits of its day), its 決裁欄, the first day it is used — and the choice of the
//! version in force on a day. The versions below ship with the binary; an administrator adds
//! later ones as data ([`TemplateDraft`], checked here and by the engine), kept in the store.

use std::sync::LazyLock;

use serde::{Deserialize, Serialize};

use super::{Field, FormKind};
use crate::time::Date;
use crate::wareki;

/// One version of a form.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Template {
    pub form: FormKind,
    pub version: u32,
    /// The first day of what it records that this version is used for.
    pub valid_from: Date,
    pub title: String,
    /// Addressed to the child's family: no reporter, ever.
    pub family_facing: bool,
    /// Sent out of the centre (to a court, whose records the family may read): no reporter
    /// either, and addressed to `addressee` (with its honorific: `裁判官 殿`).
    pub addressee: Option<String>,
    pub landscape: bool,
    /// The 決裁欄's columns, left to right.
    pub approvals: Vec<String>,
    /// The line under the title (the legal ground of a notice).
    pub lead: String,
    /// Each row of the form's table.
    pub rows: Vec<Row>,
    /// 教示: how to appeal, with the limits of its day.
    pub appeal: Option<String>,
}

/// A row of a form's table: its label and the field it shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Row {
    pub label: String,
    pub field: Field,
}

impl Template {
    /// Whether the paper leaves the centre (to the family, or to a court whose file the family
    /// may read): then it never names the reporter.
    #[must_use]
    pub fn goes_out(&self) -> bool {
        self.family_facing || self.addressee.is_some()
    }

    /// `一時保護決定通知書 様式 v2（平成28年4月1日から）`: at the foot of every page (a first
    /// version, in use from the start, says no day).
    #[must_use]
    pub fn label(&self) -> String {
        if self.valid_from == base() {
            format!("{} 様式 v{}", self.title, self.version)
        } else {
            format!("{} 様式 v{}（{}から）", self.title, self.version, wareki::format(self.valid_from))
        }
    }
}

/// One version as the binary ships it (static data, turned into a [`Template`] once).
#[derive(Clone, Copy, Debug)]
struct Spec {
    form: FormKind,
    version: u32,
    valid_from: (i32, u32, u32),
    title: &'static str,
    family_facing: bool,
    addressee: Option<&'static str>,
    landscape: bool,
    approvals: &'static [&'static str],
    lead: &'static str,
    rows: &'static [(&'static str, Field)],
    appeal: Option<&'static str>,
}

impl Spec {
    fn template(&self) -> Template {
        let (y, m, d) = self.valid_from;
        Template {
            form: self.form,
            version: self.version,
            // The table's dates are checked by its tests; day 0 (1970-01-01) is no template's.
            valid_from: Date::new(y, m, d).unwrap_or_else(|_| Date::from_days(0)),
            title: self.title.to_owned(),
            family_facing: self.family_facing,
            addressee: self.addressee.map(str::to_owned),
            landscape: self.landscape,
            approvals: self.approvals.iter().map(|&a| a.to_owned()).collect(),
            lead: self.lead.to_owned(),
            rows: self.rows.iter().map(|&(label, field)| Row { label: label.to_owned(), field }).collect(),
            appeal: self.appeal.map(str::to_owned),
        }
    }
}

/// The day from which a first version is in use (before any change it records).
fn base() -> Date {
    let (y, m, d) = BASE;
    Date::new(y, m, d).unwrap_or_else(|_| Date::from_days(0))
}

/// The first day of a template in use from the start (before any change it records).
const BASE: (i32, u32, u32) = (1970, 1, 1);

const APPROVALS: &[&str] = &["所長", "次長", "課長", "係長", "担当"];

/// 行政不服審査法 (2014年改正) and 行政事件訴訟法 as in force since 2016-04-01.
const APPEAL_2016: &str = "1 この処分に不服がある場合は、この処分があったことを知った日の翌日から起算して3か月以内に、\
市長に対して審査請求をすることができます（なお、この処分があったことを知った日の翌日から起算して3か月以内であっても、\
この処分の日の翌日から起算して1年を経過すると審査請求をすることができなくなります。）。\n\
2 この処分の取消しの訴えは、この処分があったことを知った日の翌日から起算して6か月以内に、市を被告として\
（訴訟において市を代表する者は市長となります。）提起することができます（なお、この処分があったことを知った日の翌日から\
起算して6か月以内であっても、この処分の日の翌日から起算して1年を経過すると処分の取消しの訴えを提起することができなくなります。）。";

/// The old 行政不服審査法: 異議申立て within 60 days.
const APPEAL_OLD: &str = "1 この処分に不服がある場合は、この処分があったことを知った日の翌日から起算して60日以内に、\
市長に対して異議申立てをすることができます。\n\
2 この処分の取消しの訴えは、この処分があったことを知った日の翌日から起算して6か月以内に、市を被告として\
（訴訟において市を代表する者は市長となります。）提起することができます（なお、この処分があったことを知った日の翌日から\
起算して6か月以内であっても、この処分の日の翌日から起算して1年を経過すると処分の取消しの訴えを提起することができなくなります。）。";

const START_ROWS: &[(&str, Field)] = &[
    ("児童氏名", Field::ChildName),
    ("ふりがな", Field::ChildKana),
    ("生年月日", Field::ChildBirth),
    ("住所", Field::ChildAddress),
    ("一時保護の開始日時", Field::ProtectionStart),
    ("一時保護の場所", Field::ProtectionPlace),
    ("一時保護の理由", Field::ProtectionReason),
];

const END_ROWS: &[(&str, Field)] = &[
    ("児童氏名", Field::ChildName),
    ("生年月日", Field::ChildBirth),
    ("一時保護の開始日時", Field::ProtectionStart),
    ("一時保護の解除日時", Field::ProtectionEnd),
    ("解除の理由", Field::ProtectionEndReason),
];

const INTAKE_ROWS: &[(&str, Field)] = &[
    ("ケース番号", Field::CaseNo),
    ("受付日時", Field::ReceivedAt),
    ("受付の種類", Field::IntakeKind),
    ("経路", Field::Route),
    ("相談種別", Field::ConsultationType),
    ("主訴", Field::ChiefComplaint),
    ("内容", Field::Content),
    ("虐待種別", Field::AbuseTypes),
    ("児童氏名", Field::ChildName),
    ("ふりがな", Field::ChildKana),
    ("生年月日", Field::ChildBirth),
    ("住所", Field::ChildAddress),
    ("保護者", Field::Guardians),
    ("通告者", Field::ReporterName),
    ("通告者と児童の関係", Field::ReporterRelation),
    ("通告者の連絡先", Field::ReporterPhone),
];

const MEETING_ROWS: &[(&str, Field)] = &[
    ("会議の種類", Field::MeetingKind),
    ("日時", Field::MeetingAt),
    ("ケース番号", Field::CaseNo),
    ("児童氏名", Field::ChildName),
    ("生年月日", Field::ChildBirth),
    ("出席者", Field::MeetingAttendees),
    ("決定事項", Field::MeetingDecisions),
];

const SUPPORT_ROWS: &[(&str, Field)] = &[
    ("児童氏名", Field::ChildName),
    ("生年月日", Field::ChildBirth),
    ("措置の種類", Field::SupportKind),
    ("措置決定日", Field::SupportDecidedOn),
    ("措置の開始日", Field::SupportStart),
    ("施設・里親等", Field::SupportFacility),
];

/// The 援助・措置種別 codes that are 措置 under 児童福祉法27条1項 (訓戒・誓約, 児童福祉司指導,
/// 施設入所, 里親・ファミリーホーム委託): a disposition notified with its 教示.
pub const MEASURES: &[&str] = &["21", "22", "31", "32", "33", "34", "35", "41", "42"];

/// What most templates share: a first version, in use from the start, kept inside the centre,
/// portrait, with the full 決裁欄.
const FIRST: Spec = Spec {
    form: FormKind::Notes,
    version: 1,
    valid_from: BASE,
    title: "",
    family_facing: false,
    addressee: None,
    landscape: false,
    approvals: APPROVALS,
    lead: "",
    rows: &[],
    appeal: None,
};

const START_NOTICE: Spec = Spec {
    form: FormKind::ProtectionStartNotice,
    title: "一時保護決定通知書",
    family_facing: true,
    lead: "児童福祉法第33条第1項の規定により、下記のとおり児童を一時保護したので通知します。",
    rows: START_ROWS,
    appeal: Some(APPEAL_OLD),
    ..FIRST
};

const SUPPORT_NOTICE: Spec = Spec {
    form: FormKind::SupportNotice,
    title: "措置決定通知書",
    family_facing: true,
    lead: "児童福祉法第27条第1項の規定により、下記のとおり措置を決定したので通知します。",
    rows: SUPPORT_ROWS,
    appeal: Some(APPEAL_OLD),
    ..FIRST
};

const WARRANT_ROWS: &[(&str, Field)] = &[
    ("児童氏名", Field::ChildName),
    ("ふりがな", Field::ChildKana),
    ("生年月日", Field::ChildBirth),
    ("住所", Field::ChildAddress),
    ("親権を行う者・未成年後見人", Field::Guardians),
    ("一時保護の開始日時", Field::ProtectionStart),
    ("一時保護の場所", Field::ProtectionPlace),
    ("一時保護を必要とする理由", Field::ProtectionReason),
    ("親権者等の同意", Field::GuardianConsent),
    ("請求の期限", Field::WarrantDue),
    ("請求日時", Field::WarrantRequestedAt),
];

const CHILD_RECORD_ROWS: &[(&str, Field)] = &[
    ("ケース番号", Field::CaseNo),
    ("受付日時", Field::ReceivedAt),
    ("経路", Field::Route),
    ("相談種別", Field::ConsultationType),
    ("主訴", Field::ChiefComplaint),
    ("児童氏名", Field::ChildName),
    ("ふりがな", Field::ChildKana),
    ("生年月日", Field::ChildBirth),
    ("性別", Field::ChildSex),
    ("住所", Field::ChildAddress),
    ("電話", Field::ChildPhones),
    ("所属（学校・保育所等）", Field::ChildAffiliation),
    ("国籍", Field::ChildNationality),
    ("障害者手帳等", Field::ChildCertificates),
    ("担当", Field::Workers),
    ("判定", Field::Judgement),
    ("児童福祉司意見", Field::WorkerOpinion),
];

const CHECK_ROWS: &[(&str, Field)] = &[
    ("ケース番号", Field::CaseNo),
    ("児童氏名", Field::ChildName),
    ("生年月日", Field::ChildBirth),
    ("確認日時", Field::CheckAt),
    ("確認の方法", Field::CheckMethod),
    ("児童の直接確認", Field::CheckSeen),
    ("確認者", Field::CheckBy),
    ("確認した関係機関", Field::CheckAgency),
    ("場所", Field::CheckPlace),
    ("児童の様子", Field::CheckState),
    ("写真", Field::CheckPhotos),
];

const ASSESSMENT_ROWS: &[(&str, Field)] = &[
    ("ケース番号", Field::CaseNo),
    ("児童氏名", Field::ChildName),
    ("生年月日", Field::ChildBirth),
    ("シート", Field::AssessmentName),
    ("記入日時", Field::AssessmentAt),
    ("記入者", Field::AssessmentBy),
    ("結果", Field::AssessmentResult),
];

const EXTENSION_PETITION_ROWS: &[(&str, Field)] = &[
    ("申立人", Field::Petitioner),
    ("児童氏名", Field::ChildName),
    ("ふりがな", Field::ChildKana),
    ("生年月日", Field::ChildBirth),
    ("住所", Field::ChildAddress),
    ("親権を行う者・未成年後見人", Field::Guardians),
    ("申立ての趣旨", Field::PetitionAim),
    ("一時保護の開始日時", Field::ProtectionStart),
    ("一時保護の場所", Field::ProtectionPlace),
    ("現在の一時保護の期間の末日", Field::ProtectionUntil),
    ("親権者等の同意", Field::GuardianConsent),
    ("申立ての理由", Field::PetitionGrounds),
    ("申立日", Field::PetitionFiledOn),
];

const PLACEMENT_PETITION_ROWS: &[(&str, Field)] = &[
    ("申立人", Field::Petitioner),
    ("児童氏名", Field::ChildName),
    ("ふりがな", Field::ChildKana),
    ("生年月日", Field::ChildBirth),
    ("住所", Field::ChildAddress),
    ("親権を行う者・未成年後見人", Field::Guardians),
    ("承認を求める措置", Field::PetitionPlacement),
    ("申立ての趣旨", Field::PetitionAim),
    ("申立ての理由", Field::PetitionGrounds),
    ("申立日", Field::PetitionFiledOn),
];

/// Every version of every form, oldest first within a form. A notice of a disposition made
/// from 2016-04-01 (改正行政不服審査法) takes version 2's 教示.
const SPECS: &[Spec] = &[
    Spec { form: FormKind::IntakeSheet, title: "虐待相談・通告受付票", rows: INTAKE_ROWS, ..FIRST },
    START_NOTICE,
    Spec { version: 2, valid_from: (2016, 4, 1), appeal: Some(APPEAL_2016), ..START_NOTICE },
    Spec {
        form: FormKind::ProtectionEndNotice,
        title: "一時保護解除通知書",
        family_facing: true,
        lead: "下記の児童の一時保護を解除したので通知します。",
        rows: END_ROWS,
        ..FIRST
    },
    Spec {
        form: FormKind::Notes,
        title: "経過記録",
        approvals: &["課長", "係長", "担当"],
        rows: &[
            ("ケース番号", Field::CaseNo),
            ("児童氏名", Field::ChildName),
            ("生年月日", Field::ChildBirth),
        ],
        ..FIRST
    },
    Spec { form: FormKind::MeetingMinutes, title: "会議録", rows: MEETING_ROWS, ..FIRST },
    SUPPORT_NOTICE,
    Spec { version: 2, valid_from: (2016, 4, 1), appeal: Some(APPEAL_2016), ..SUPPORT_NOTICE },
    Spec { form: FormKind::ChildRecord, title: "児童記録票", rows: CHILD_RECORD_ROWS, ..FIRST },
    Spec { form: FormKind::SafetyCheckRecord, title: "安全確認記録", rows: CHECK_ROWS, ..FIRST },
    Spec {
        form: FormKind::AssessmentSheet, title: "アセスメントシート", rows: ASSESSMENT_ROWS, ..FIRST
    },
    Spec {
        form: FormKind::WarrantRequest,
        title: "一時保護状請求書",
        addressee: Some("裁判官 殿"),
        lead: "児童福祉法第33条第3項の規定により、下記の児童について一時保護状を請求します。",
        rows: WARRANT_ROWS,
        ..FIRST
    },
    Spec {
        form: FormKind::ExtensionPetition,
        title: "一時保護承認申立書",
        addressee: Some("家庭裁判所 御中"),
        lead: "児童福祉法第33条第5項の規定により、下記のとおり申し立てます。",
        rows: EXTENSION_PETITION_ROWS,
        ..FIRST
    },
    Spec {
        form: FormKind::PlacementPetition,
        title: "施設入所等承認申立書",
        addressee: Some("家庭裁判所 御中"),
        lead: "児童福祉法第28条第1項の規定により、下記のとおり申し立てます。",
        rows: PLACEMENT_PETITION_ROWS,
        ..FIRST
    },
];

static BUILTIN: LazyLock<Vec<Template>> = LazyLock::new(|| SPECS.iter().map(Spec::template).collect());

/// Every version the binary ships, oldest first within a form.
#[must_use]
pub fn builtin() -> &'static [Template] {
    &BUILTIN
}

/// What every form is filled with, whatever it records: the case's number and the child.
const COMMON: &[Field] = &[
    Field::CaseNo,
    Field::ChildName,
    Field::ChildKana,
    Field::ChildBirth,
    Field::ChildAddress,
    Field::Guardians,
];

/// The fields a row of `form` may show: those every form is filled with, and those its shipped
/// versions show (what the form is filled from); any other would print empty.
#[must_use]
pub fn fields_of(form: FormKind) -> Vec<Field> {
    let shipped = SPECS.iter().filter(|s| s.form == form).flat_map(|s| s.rows.iter().map(|&(_, f)| f));
    let mut fields: Vec<Field> = Vec::new();
    for f in COMMON.iter().copied().chain(shipped) {
        if !fields.contains(&f) {
            fields.push(f);
        }
    }
    fields
}

/// The version of `form` in force on `day` among `templates`: the highest version valid by then.
#[must_use]
pub fn template<'a>(
    templates: impl IntoIterator<Item = &'a Template>,
    form: FormKind,
    day: Date,
) -> Option<&'a Template> {
    templates.into_iter().filter(|t| t.form == form && t.valid_from <= day).max_by_key(|t| t.version)
}

/// Version `version` of `form` among `templates`.
#[must_use]
pub fn version(templates: &[Template], form: FormKind, version: u32) -> Option<&Template> {
    templates.iter().find(|t| t.form == form && t.version == version)
}

#[cfg(test)]
mod tests {
    use super::{SPECS, Spec};
    use crate::time::Date;

    #[test]
    fn every_shipped_day_is_a_date() {
        for &Spec { form, version, valid_from: (y, m, d), .. } in SPECS {
            assert!(Date::new(y, m, d).is_ok(), "{form:?} v{version}");
        }
    }
}
