//! What a form says: the fields a template's rows name (each with the key its data uses), and
//! the facts of a case they are read from (gathered by the service, codes already named).

use crate::time::{Date, Timestamp};
use crate::wareki;

/// Declares [`Field`]: each variant and the key a template's data names it by.
macro_rules! fields {
    ($($(#[$doc:meta])* $name:ident => $key:literal,)*) => {
        /// What a field of a form says, read from the case's [`Facts`]; named in a template's
        /// data by its key (`child_name`).
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum Field {
            $($(#[$doc])* $name,)*
        }

        impl Field {
            /// Every field, in the order of the enum.
            pub const ALL: &'static [Field] = &[$(Field::$name,)*];

            /// The key a template's data names it by (`child_name`).
            #[must_use]
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Field::$name => $key,)*
                }
            }
        }
    };
}

fields! {
    CaseNo => "case_no",
    ReceivedAt => "received_at",
    IntakeKind => "intake_kind",
    Route => "route",
    ConsultationType => "consultation_type",
    ChiefComplaint => "chief_complaint",
    Content => "content",
    AbuseTypes => "abuse_types",
    ChildName => "child_name",
    ChildKana => "child_kana",
    ChildBirth => "child_birth",
    ChildAddress => "child_address",
    Guardians => "guardians",
    ReporterName => "reporter_name",
    ReporterRelation => "reporter_relation",
    ReporterPhone => "reporter_phone",
    ProtectionStart => "protection_start",
    ProtectionPlace => "protection_place",
    ProtectionReason => "protection_reason",
    ProtectionEnd => "protection_end",
    ProtectionEndReason => "protection_end_reason",
    MeetingKind => "meeting_kind",
    MeetingAt => "meeting_at",
    MeetingAttendees => "meeting_attendees",
    MeetingDecisions => "meeting_decisions",
    SupportKind => "support_kind",
    SupportDecidedOn => "support_decided_on",
    SupportStart => "support_start",
    SupportFacility => "support_facility",
    /// 保護者の同意: the warrant request is for a protection without it.
    GuardianConsent => "guardian_consent",
    WarrantRequestedAt => "warrant_requested_at",
    /// The last day of the 7 (the start day counted).
    WarrantDue => "warrant_due",
    ChildSex => "child_sex",
    ChildPhones => "child_phones",
    ChildAffiliation => "child_affiliation",
    ChildNationality => "child_nationality",
    ChildCertificates => "child_certificates",
    /// 担当: the 主担当 first.
    Workers => "workers",
    Judgement => "judgement",
    WorkerOpinion => "worker_opinion",
    CheckAt => "check_at",
    CheckMethod => "check_method",
    /// Whether the child was seen directly (what closes the 48-hour clock).
    CheckSeen => "check_seen",
    CheckBy => "check_by",
    CheckAgency => "check_agency",
    CheckPlace => "check_place",
    CheckState => "check_state",
    CheckPhotos => "check_photos",
    AssessmentName => "assessment_name",
    AssessmentAt => "assessment_at",
    AssessmentBy => "assessment_by",
    AssessmentResult => "assessment_result",
    /// 申立人: the 児童相談所長.
    Petitioner => "petitioner",
    /// 申立ての趣旨.
    PetitionAim => "petition_aim",
    PetitionGrounds => "petition_grounds",
    /// The 措置 a placement petition asks to approve.
    PetitionPlacement => "petition_placement",
    /// The last day of the protection's current period.
    ProtectionUntil => "protection_until",
    PetitionFiledOn => "petition_filed_on",
}

impl serde::Serialize for Field {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for Field {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let key = String::deserialize(d)?;
        Field::ALL.iter().copied().find(|f| f.as_str() == key).ok_or_else(|| {
            serde::de::Error::custom(format!("no field {key:?} (`mamoru form fields` lists them)"))
        })
    }
}

impl Field {
    /// Whether the field tells who reported (児童虐待防止法7条: never to the family).
    #[must_use]
    pub fn is_reporter(self) -> bool {
        matches!(self, Field::ReporterName | Field::ReporterRelation | Field::ReporterPhone)
    }
}

/// The reporter as a form may show it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReporterFacts {
    pub name: String,
    pub relation: String,
    pub phone: String,
}

/// One note of the 経過記録.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NoteFacts {
    pub at: Timestamp,
    pub author: String,
    pub kind: String,
    pub body: String,
}

/// One document of the 疎明資料 a warrant request lists, or of the 添付資料 of a petition.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EvidenceFacts {
    pub title: String,
    pub made_on: Option<Date>,
    /// 非開示希望 as the petition marks it; `None` on a warrant request (a box to tick by hand).
    pub withhold: Option<bool>,
}

/// A mark on the body map, as the 安全確認記録 draws and lists it.
#[derive(Clone, Debug, PartialEq)]
pub struct InjuryFacts {
    pub front: bool,
    /// Fractions of the figure's width and height.
    pub x: f32,
    pub y: f32,
    /// `右上腕` (empty off the figure).
    pub part: String,
    pub size_cm: Option<f32>,
    pub description: String,
    pub photo: bool,
}

impl Eq for InjuryFacts {}

/// One member of the child's household, as the 児童記録票 lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemberFacts {
    /// Who they are as the genogram places them: name, 続柄 (本人 for the child) and its code,
    /// birth, sex, living with the child or not.
    pub person: crate::genogram::Member,
    pub guardian: bool,
    pub custody: bool,
}

/// What the forms of a case are filled from, read by the service (codes already named).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Facts {
    /// The issuer: `〇〇市児童相談所長`.
    pub issuer: String,
    pub case_no: String,
    pub received_at: Option<Timestamp>,
    pub intake_kind: String,
    pub route: String,
    pub consultation_type: String,
    pub chief_complaint: String,
    pub content: String,
    pub abuse_types: String,
    pub child_name: String,
    pub child_kana: String,
    pub child_birth: Option<Date>,
    pub child_address: String,
    /// The guardians' names, to address a notice to.
    pub guardians: Vec<String>,
    /// Only for forms kept inside the centre.
    pub reporter: Option<ReporterFacts>,
    pub protection_start: Option<Timestamp>,
    pub protection_place: String,
    pub protection_reason: String,
    pub protection_end: Option<Timestamp>,
    pub protection_end_reason: String,
    pub notes: Vec<NoteFacts>,
    /// The meeting's kind by name (受理会議…): the minutes are titled by it.
    pub meeting_kind: String,
    pub meeting_at: Option<Timestamp>,
    /// Staff, then those from outside (関係機関).
    pub meeting_attendees: Vec<String>,
    pub meeting_decisions: String,
    pub support_kind: String,
    pub support_decided_on: Option<Date>,
    pub support_start: Option<Date>,
    pub support_facility: String,
    /// 決裁: who decided, and when, by column head.
    pub approvals: Vec<(String, String, Date)>,
    pub guardian_consent: Option<bool>,
    pub warrant_requested_at: Option<Timestamp>,
    pub warrant_due: Option<Timestamp>,
    /// 疎明資料: the case's records a warrant request attaches, oldest first.
    pub evidence: Vec<EvidenceFacts>,
    pub child_sex: String,
    pub child_phones: Vec<String>,
    pub child_affiliation: String,
    pub child_nationality: String,
    pub child_certificates: Vec<String>,
    pub workers: Vec<String>,
    pub judgement: String,
    pub worker_opinion: String,
    /// The household, the child first.
    pub household: Vec<MemberFacts>,
    pub check_at: Option<Timestamp>,
    pub check_method: String,
    pub check_seen: Option<bool>,
    pub check_by: Vec<String>,
    pub check_agency: String,
    pub check_place: String,
    pub check_state: String,
    pub check_photos: usize,
    /// The check's photos as stored (JPEG), each with its caption, in the order attached.
    pub check_photo_files: Vec<(String, Vec<u8>)>,
    pub injuries: Vec<InjuryFacts>,
    /// The sheet's name (`緊急度アセスメントシート`): the form is titled by it.
    pub assessment_name: String,
    pub assessment_version: u32,
    pub assessment_at: Option<Timestamp>,
    pub assessment_by: String,
    pub assessment_result: String,
    /// Each question and its answer (`None`: not answered).
    pub answers: Vec<(String, Option<bool>)>,
    /// 申立ての趣旨, as the petition's kind says it.
    pub petition_aim: String,
    pub petition_grounds: String,
    pub petition_placement: String,
    pub petition_filed_on: Option<Date>,
    /// The last day of the protection's current period.
    pub protection_until: Option<Date>,
}

/// `令和7年4月1日 10時30分`.
#[must_use]
pub fn datetime(at: Timestamp) -> String {
    let (h, m) = at.jst_time();
    format!("{} {h}時{m:02}分", wareki::format(at.jst_date()))
}

impl Facts {
    pub(super) fn value(&self, field: Field) -> String {
        let reporter = self.reporter.clone().unwrap_or_default();
        let at = |t: Option<Timestamp>| t.map(datetime).unwrap_or_default();
        match field {
            Field::CaseNo => self.case_no.clone(),
            Field::ReceivedAt => at(self.received_at),
            Field::IntakeKind => self.intake_kind.clone(),
            Field::Route => self.route.clone(),
            Field::ConsultationType => self.consultation_type.clone(),
            Field::ChiefComplaint => self.chief_complaint.clone(),
            Field::Content => self.content.clone(),
            Field::AbuseTypes => self.abuse_types.clone(),
            Field::ChildName => self.child_name.clone(),
            Field::ChildKana => self.child_kana.clone(),
            Field::ChildBirth => self.child_birth.map(wareki::format).unwrap_or_default(),
            Field::ChildAddress => self.child_address.clone(),
            Field::Guardians => self.guardians.join("、"),
            Field::ReporterName => reporter.name,
            Field::ReporterRelation => reporter.relation,
            Field::ReporterPhone => reporter.phone,
            Field::ProtectionStart => at(self.protection_start),
            Field::ProtectionPlace => self.protection_place.clone(),
            Field::ProtectionReason => self.protection_reason.clone(),
            Field::ProtectionEnd => at(self.protection_end),
            Field::ProtectionEndReason => self.protection_end_reason.clone(),
            Field::MeetingKind => self.meeting_kind.clone(),
            Field::MeetingAt => at(self.meeting_at),
            Field::MeetingAttendees => self.meeting_attendees.join("、"),
            Field::MeetingDecisions => self.meeting_decisions.clone(),
            Field::SupportKind => self.support_kind.clone(),
            Field::SupportDecidedOn => self.support_decided_on.map(wareki::format).unwrap_or_default(),
            Field::SupportStart => self.support_start.map(wareki::format).unwrap_or_default(),
            Field::SupportFacility => self.support_facility.clone(),
            Field::GuardianConsent => match self.guardian_consent {
                Some(true) => "同意あり".into(),
                Some(false) => "同意が得られていない".into(),
                None => String::new(),
            },
            Field::WarrantRequestedAt => {
                self.warrant_requested_at.map_or_else(|| "（未請求）".to_owned(), datetime)
            }
            // Due at midnight after the seventh day: that day is the last.
            Field::WarrantDue => self.warrant_due.map_or_else(String::new, |due| {
                format!("{}まで（開始日を含めて7日以内）", wareki::format(due.plus(-1).jst_date()))
            }),
            Field::ChildSex => self.child_sex.clone(),
            Field::ChildPhones => self.child_phones.join("、"),
            Field::ChildAffiliation => self.child_affiliation.clone(),
            Field::ChildNationality => self.child_nationality.clone(),
            Field::ChildCertificates => self.child_certificates.join("、"),
            Field::Workers => self.workers.join("、"),
            Field::Judgement => self.judgement.clone(),
            Field::WorkerOpinion => self.worker_opinion.clone(),
            Field::CheckAt => at(self.check_at),
            Field::CheckMethod => self.check_method.clone(),
            Field::CheckSeen => match self.check_seen {
                Some(true) => "直接確認した".into(),
                Some(false) => "直接確認できていない".into(),
                None => String::new(),
            },
            Field::CheckBy => self.check_by.join("、"),
            Field::CheckAgency => self.check_agency.clone(),
            Field::CheckPlace => self.check_place.clone(),
            Field::CheckState => self.check_state.clone(),
            Field::AssessmentName => format!("{}（第{}版）", self.assessment_name, self.assessment_version),
            Field::AssessmentAt => at(self.assessment_at),
            Field::AssessmentBy => self.assessment_by.clone(),
            Field::AssessmentResult => self.assessment_result.clone(),
            Field::Petitioner => self.issuer.clone(),
            Field::PetitionAim => self.petition_aim.clone(),
            Field::PetitionGrounds => self.petition_grounds.clone(),
            Field::PetitionPlacement => self.petition_placement.clone(),
            Field::ProtectionUntil => self.protection_until.map(wareki::format).unwrap_or_default(),
            Field::PetitionFiledOn => {
                self.petition_filed_on.map_or_else(|| "（未提出）".to_owned(), wareki::format)
            }
            Field::CheckPhotos => {
                if self.check_photos == 0 {
                    "なし".into()
                } else {
                    format!("{}枚（末尾に掲載）", self.check_photos)
                }
            }
        }
    }
}
