//! Cases and what is recorded on them: the intake, the protected reporter, abuse details, safety
//! checks, assessments, progress notes, support decisions and meetings.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::code_table::Code;
use crate::error::Error;
use crate::error::Why;
use crate::ids::{
    AssessmentId, CaseId, ChildId, MeetingId, MessageId, NoteId, PhotoId, ReporterId, SafetyCheckId, SheetId,
    StaffId, SupportId, UnitId,
};
use crate::merge::{Fields, Merge, Merged};
use crate::person::Attachment;
use crate::record::Record;
use crate::time::{Date, Timestamp};

mod approval;
mod assignment;
pub mod body;
mod commands;
mod court;
mod intake;

pub use approval::{
    APPROVAL_DAYS, Approvable, Approval, ApprovalState, COMMENT_MAX_CHARS, ClosureRequest, Decide, Decided,
    Subject, Verdict, after_change, in_force,
};
pub use assignment::{Assign, REASON_MAX_CHARS, Reassignment, each_once, same_workers};
pub use commands::{
    CaseEdit, NewHearing, NewMeeting, NewNote, NewSafetyCheck, StatusChange, SupportDecision,
};
pub use court::{
    CourtDocument, CourtPetition, GROUNDS_MAX_CHARS, NewPetition, PLACEMENTS, PetitionKind, petition_aim,
};
pub use intake::{NewAbuse, NewCase, NewIntake};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseStatus {
    Open,
    Closed,
}

/// 相談 or 虐待通告: an abuse report starts the 48-hour safety-check clock.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IntakeKind {
    Consultation,
    AbuseReport,
}

/// 受付.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Intake {
    pub kind: IntakeKind,
    pub received_at: Timestamp,
    /// 相談・通告経路 (code table `route`).
    pub route: Code,
    /// 相談種別 (code table `consultation_type`).
    pub consultation_type: Code,
    /// 主訴.
    #[serde(default)]
    pub chief_complaint: String,
    /// 相談内容 / 通告内容.
    #[serde(default)]
    pub content: String,
    pub received_by: StaffId,
}

/// 虐待内容.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AbuseDetails {
    /// Code table `abuse_type`; several per case.
    pub types: Vec<Code>,
    pub main_type: Option<Code>,
    /// Code table `perpetrator`.
    pub main_perpetrator: Option<Code>,
    #[serde(default)]
    pub severity: String,
    #[serde(default)]
    pub injuries: Vec<Injury>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BodySide {
    Front,
    Back,
}

/// A mark on the body map: position as fractions of the outline's width and height.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Injury {
    pub side: BodySide,
    pub x: f32,
    pub y: f32,
    pub size_cm: Option<f32>,
    pub description: String,
    #[serde(default)]
    pub photo: Option<String>,
}

impl Eq for Injury {}

impl Injury {
    /// The part of the body it is on (`右上腕`, `背部`: `body::part_at`), if on the figure.
    #[must_use]
    pub fn part(&self) -> Option<String> {
        body::part_at(self.side, self.x, self.y)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DiagnosisKind {
    /// 社会診断.
    Social,
    /// 心理診断.
    Psychological,
    /// 医学診断.
    Medical,
    /// 行動診断.
    Behavioural,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Diagnosis {
    pub kind: DiagnosisKind,
    pub at: Timestamp,
    pub by: StaffId,
    pub text: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Closure {
    pub at: Timestamp,
    /// Who closed it: the supervisor or head who closed it, or who approved the 終結伺い.
    pub by: StaffId,
    pub reason: String,
    /// Who asked for it (終結伺い), when the closing was an approval.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub asked_by: Option<StaffId>,
}

/// A case: one consultation or report about one child, in one unit.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Case {
    pub unit: UnitId,
    /// `児-R7-00123`: per unit and fiscal year, never reused.
    pub case_no: String,
    pub child: ChildId,
    pub status: CaseStatus,
    pub intake: Intake,
    #[serde(default)]
    pub abuse: Option<AbuseDetails>,
    /// 担当: the 主担当 first, then the 副担当 (`main_worker`, `sub_workers`).
    #[serde(default)]
    pub assigned: Vec<StaffId>,
    /// Every change of `assigned`, oldest first (none on a case opened before it was kept).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub assignments: Vec<Reassignment>,
    /// 閲覧制限: only these staff may see the case.
    #[serde(default)]
    pub restricted_to: Option<Vec<StaffId>>,
    /// 児童福祉司意見.
    #[serde(default)]
    pub worker_opinion: String,
    #[serde(default)]
    pub diagnoses: Vec<Diagnosis>,
    /// 判定.
    #[serde(default)]
    pub judgement: String,
    /// 進行管理: the next review of an open case.
    #[serde(default)]
    pub next_review: Option<Date>,
    /// Earlier cases about the same child.
    #[serde(default)]
    pub linked_cases: Vec<CaseId>,
    #[serde(default)]
    pub closure: Option<Closure>,
    /// 終結伺い: waiting for its 決裁, or sent back (until asked again or the status changes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closure_request: Option<ClosureRequest>,
    #[serde(default)]
    pub reopened_at: Vec<Timestamp>,
    /// Brought in by a migration: the source's id and what its row said (none on records made here).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub migrated: Option<crate::interchange::Migrated>,
}

impl Record for Case {
    type Id = CaseId;
    const SCHEMA: u16 = 1;
}

const DIAGNOSIS_FIELDS: [(DiagnosisKind, &str); 4] = [
    (DiagnosisKind::Social, "diagnoses.social"),
    (DiagnosisKind::Psychological, "diagnoses.psychological"),
    (DiagnosisKind::Medical, "diagnoses.medical"),
    (DiagnosisKind::Behavioural, "diagnoses.behavioural"),
];

impl DiagnosisKind {
    pub const ALL: [Self; 4] = [Self::Social, Self::Psychological, Self::Medical, Self::Behavioural];
}

impl Case {
    /// The latest diagnosis of a kind.
    #[must_use]
    pub fn diagnosis(&self, kind: DiagnosisKind) -> Option<&Diagnosis> {
        self.diagnoses.iter().rev().find(|d| d.kind == kind)
    }
}

impl Merge for Case {
    /// The working fields an investigation edits; lists compare as sets (but the workers in
    /// order: the first is the 主担当), diagnoses by their text. Intake, status, closure, the
    /// workers' history and the rest are `theirs`.
    fn merge(base: &Self, mine: &Self, theirs: &Self) -> Merged<Self> {
        let mut f = Fields::new();
        let mut out = theirs.clone();
        out.assigned = f.pick("assigned", &base.assigned, mine.assigned.clone(), theirs.assigned.clone());
        let none = AbuseDetails::default();
        let (b, m, t) = (
            base.abuse.as_ref().unwrap_or(&none),
            mine.abuse.as_ref().unwrap_or(&none),
            theirs.abuse.as_ref().unwrap_or(&none),
        );
        let mut abuse = AbuseDetails {
            types: f.pick_set("abuse.types", &b.types, &m.types, &t.types),
            main_type: f.pick("abuse.main_type", &b.main_type, m.main_type.clone(), t.main_type.clone()),
            main_perpetrator: f.pick(
                "abuse.main_perpetrator",
                &b.main_perpetrator,
                m.main_perpetrator.clone(),
                t.main_perpetrator.clone(),
            ),
            severity: f.pick("abuse.severity", &b.severity, m.severity.clone(), t.severity.clone()),
            injuries: f.pick("abuse.injuries", &b.injuries, m.injuries.clone(), t.injuries.clone()),
        };
        if abuse.main_type.as_ref().is_some_and(|t| !abuse.types.contains(t)) {
            abuse.main_type = abuse.types.first().cloned();
        }
        out.abuse = (abuse != none).then_some(abuse);
        out.worker_opinion = f.pick(
            "worker_opinion",
            &base.worker_opinion,
            mine.worker_opinion.clone(),
            theirs.worker_opinion.clone(),
        );
        out.diagnoses = DIAGNOSIS_FIELDS
            .iter()
            .filter_map(|(kind, field)| {
                let text = |c: &Self| c.diagnosis(*kind).map(|d| d.text.clone());
                let chosen = f.pick(field, &text(base), text(mine), text(theirs));
                // The entry that holds the chosen text, with its signature.
                [mine, theirs]
                    .into_iter()
                    .filter_map(|c| c.diagnosis(*kind))
                    .find(|d| Some(&d.text) == chosen.as_ref())
                    .cloned()
            })
            .collect();
        out.judgement =
            f.pick("judgement", &base.judgement, mine.judgement.clone(), theirs.judgement.clone());
        out.next_review = f.pick("next_review", &base.next_review, mine.next_review, theirs.next_review);
        Merged { body: out, clashes: f.clashes }
    }
}

/// 通告者: who reported. Visible only to roles allowed `ViewReporter`, never on notices to guardians.
/// Same numeric id as its case.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reporter {
    pub anonymous: bool,
    #[serde(default)]
    pub name: String,
    /// 児童との関係・所属.
    #[serde(default)]
    pub relation: String,
    #[serde(default)]
    pub phone: String,
    #[serde(default)]
    pub note: String,
}

impl Record for Reporter {
    type Id = ReporterId;
    const SCHEMA: u16 = 1;
    const SENSITIVE: bool = true;
}

/// 経過記録: append-only; a correction is a new revision with its reason.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Note {
    pub case: CaseId,
    pub child: ChildId,
    /// When it happened (not when it was typed).
    pub at: Timestamp,
    /// Code table `note_kind`.
    pub kind: Code,
    pub author: StaffId,
    pub body: String,
    #[serde(default)]
    pub attachments: Vec<Attachment>,
    /// Why this revision replaced the one before.
    #[serde(default)]
    pub correction: Option<String>,
    /// Brought in by a migration: the source's id and what its row said (none on records made here).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub migrated: Option<crate::interchange::Migrated>,
}

impl Record for Note {
    type Id = NoteId;
    const SCHEMA: u16 = 1;
}

impl Note {
    /// Who wrote a note brought in by a migration, as the source names them (legacy staff are
    /// no accounts here): shown instead of `author`, who imported it.
    #[must_use]
    pub fn legacy_author(&self) -> Option<&str> {
        self.migrated.as_ref().and_then(|m| m.author.as_deref())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SafetyMethod {
    /// 目視.
    Sighted,
    /// 面接.
    Interview,
    /// 関係機関による確認.
    ByAgency,
}

/// 安全確認.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SafetyCheck {
    pub case: CaseId,
    pub child: ChildId,
    pub at: Timestamp,
    pub by: Vec<StaffId>,
    pub method: SafetyMethod,
    /// The child was seen directly (by staff or by an agency asked to look): this is what closes
    /// the 48-hour clock.
    pub seen_directly: bool,
    /// The agency that saw the child, when the check was theirs (関係機関による確認).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub agency: String,
    #[serde(default)]
    pub place: String,
    #[serde(default)]
    pub child_state: String,
    #[serde(default)]
    pub injuries: Vec<Injury>,
    #[serde(default)]
    pub attachments: Vec<Attachment>,
    /// Brought in by a migration: the source's id and what its row said (none on records made here).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub migrated: Option<crate::interchange::Migrated>,
}

impl Record for SafetyCheck {
    type Id = SafetyCheckId;
    const SCHEMA: u16 = 1;
}

/// A photo taken through the app for a case, stamped by the server: when it arrived, who took
/// it, which child. The bytes are kept once, under their SHA-256, in the store's `files` table;
/// safety checks and notes name them in their `attachments`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Photo {
    pub case: CaseId,
    pub child: ChildId,
    pub sha256: String,
    /// From the file's first bytes, never from what the client said.
    pub mime: String,
    pub size: u64,
    pub taken_at: Timestamp,
    pub by: StaffId,
}

impl Record for Photo {
    type Id = PhotoId;
    const SCHEMA: u16 = 1;
}

/// Largest photo accepted (the tablet page sends them at most 1600 pixels wide, a few hundred KB).
pub const PHOTO_MAX_BYTES: usize = 10 * 1024 * 1024;

/// The image type of `bytes` by its magic number: JPEG, PNG or WebP; anything else is refused.
#[must_use]
pub fn image_type(bytes: &[u8]) -> Option<&'static str> {
    match bytes {
        [0xFF, 0xD8, 0xFF, ..] => Some("image/jpeg"),
        [0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, ..] => Some("image/png"),
        [b'R', b'I', b'F', b'F', _, _, _, _, b'W', b'E', b'B', b'P', ..] => Some("image/webp"),
        _ => None,
    }
}

/// A filled assessment sheet. The result is computed from the answers by the sheet's rules.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assessment {
    pub case: CaseId,
    pub sheet: SheetId,
    pub sheet_version: u32,
    pub answers: BTreeMap<String, bool>,
    pub result: String,
    pub result_label: String,
    pub at: Timestamp,
    pub by: StaffId,
    /// 決裁 (none on an assessment recorded before it was asked for).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval: Option<Approval>,
}

impl Record for Assessment {
    type Id = AssessmentId;
    const SCHEMA: u16 = 1;
}

/// 意見聴取等措置: the child's own views, heard before a protection or placement decision.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hearing {
    pub at: Timestamp,
    pub by: StaffId,
    #[serde(default)]
    pub method: String,
    #[serde(default)]
    pub views: String,
    /// Why the views could not be heard (age, state), if so.
    #[serde(default)]
    pub not_possible_reason: Option<String>,
}

impl Hearing {
    /// A hearing says what the child said, or why it could not be heard.
    pub fn check(&self) -> Result<(), Error> {
        let reason = self.not_possible_reason.as_deref().map_or("", str::trim);
        if self.views.trim().is_empty() && reason.is_empty() {
            return Err(Error::invalid("hearing", Why::NoViews));
        }
        Ok(())
    }

    /// The same hearing, whoever recorded it: a hearing sent back unchanged keeps its hearer.
    #[must_use]
    pub fn same_as(&self, other: &Hearing) -> bool {
        Hearing { by: other.by, ..self.clone() } == *other
    }
}

/// 援助・措置: a support or placement decision.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Support {
    pub case: CaseId,
    /// Code table `support_kind`.
    pub kind: Code,
    pub decided_on: Date,
    pub start: Option<Date>,
    pub review_on: Option<Date>,
    pub end: Option<Date>,
    #[serde(default)]
    pub facility: String,
    #[serde(default)]
    pub hearing: Option<Hearing>,
    /// 措置決定通知書 issued on.
    #[serde(default)]
    pub notice_issued_on: Option<Date>,
    /// The 措置決定通知書 as issued, kept (PDF/A, in the store's files) when Mamoru made it on
    /// the day it was recorded as issued: the exact paper, produced again (core's, whatever a
    /// client sends).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notice_pdf: Option<crate::protection::IssuedPdf>,
    #[serde(default)]
    pub note: String,
    /// 決裁 (none on a decision recorded before it was asked for).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval: Option<Approval>,
    /// Brought in by a migration: the source's id and what its row said (none on records made here).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub migrated: Option<crate::interchange::Migrated>,
}

impl Support {
    /// Whether `self` decides something else than `before`: another kind, decision date, start
    /// or facility (what the 決裁 approved). Reviews, the end, the notice, the hearing and the
    /// note are recorded on the decision afterwards.
    #[must_use]
    pub fn decides_otherwise(&self, before: &Support) -> bool {
        (&self.kind, self.decided_on, self.start, &self.facility)
            != (&before.kind, before.decided_on, before.start, &before.facility)
    }
}

impl Record for Support {
    type Id = SupportId;
    const SCHEMA: u16 = 1;
}

/// 会議: intake meeting, case conference, regional council...
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Meeting {
    pub unit: UnitId,
    /// Code table `meeting_kind`.
    pub kind: Code,
    pub at: Timestamp,
    pub attendees: Vec<StaffId>,
    #[serde(default)]
    pub outside_attendees: Vec<String>,
    pub cases: Vec<CaseId>,
    #[serde(default)]
    pub decisions: String,
    /// Brought in by a migration: the source's id and what its row said (none on records made here).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub migrated: Option<crate::interchange::Migrated>,
}

/// A message in a case's thread between the field and the office (連絡): short, plain, kept.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    pub case: CaseId,
    pub child: ChildId,
    pub at: Timestamp,
    pub author: StaffId,
    pub body: String,
}

impl Record for Message {
    type Id = MessageId;
    const SCHEMA: u16 = 1;
}

/// The note kinds (code table `note_kind`) that record a contact with the child or family:
/// 家庭訪問, 来所面接, 電話. With the safety checks, they are a case's last contact.
pub const CONTACT_NOTE_KINDS: [&str; 3] = ["1", "2", "3"];

/// Longest message, in characters.
pub const MESSAGE_MAX_CHARS: usize = 2000;

impl Record for Meeting {
    type Id = MeetingId;
    const SCHEMA: u16 = 1;
}
