//! 一時保護 (temporary protection, Child Welfare Act art. 33) and its legal steps: the warrant
//! request when the guardian does not consent, extensions past two months with the family court's
//! approval, the notices, the end. This module holds the record; `steps` holds the commands
//! (`StartProtection`, `ProtectionStep`) and the rules that apply them; `whole` a protection sent
//! back whole (`SentProtection`, `Protection::steps_to`).

use serde::{Deserialize, Serialize};

use crate::case::Hearing;
use crate::ids::{CaseId, ChildId, ProtectionId};
use crate::record::Record;
use crate::time::{Date, Timestamp};

mod steps;
mod whole;

pub use steps::{Applied, ProtectionStep, StartProtection, StepKind};
pub use whole::SentProtection;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlaceKind {
    /// 一時保護所.
    Shelter,
    /// 委託一時保護: foster parent, facility, hospital.
    Entrusted,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WarrantOutcome {
    Issued,
    Refused,
}

/// 一時保護状: requested from a judge within 7 days when the guardian does not consent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Warrant {
    pub requested_at: Timestamp,
    #[serde(default)]
    pub decided_at: Option<Timestamp>,
    #[serde(default)]
    pub outcome: Option<WarrantOutcome>,
    /// After a refusal, when release would gravely endanger the child: the challenge (準抗告),
    /// within 3 days.
    #[serde(default)]
    pub challenge_filed_at: Option<Timestamp>,
}

/// 家庭裁判所の承認 for an extension against the guardian's will.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CourtApproval {
    pub petitioned_on: Date,
    #[serde(default)]
    pub approved_on: Option<Date>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Extension {
    pub decided_at: Timestamp,
    /// The first day after the extended period.
    pub until: Date,
    pub guardian_consent: bool,
    #[serde(default)]
    pub court: Option<CourtApproval>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoticeKind {
    Start,
    Extension,
    End,
}

/// 通知書 to the guardian; states how to appeal (不服申立て).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    pub kind: NoticeKind,
    pub issued_at: Timestamp,
    /// The notice as issued, kept (PDF/A, in the store's files) when Mamoru made it: the exact
    /// paper, produced again whatever later versions of Mamoru would lay it out as.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pdf: Option<IssuedPdf>,
}

/// A form as issued: its PDF's SHA-256 (the store's file) and its template version.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuedPdf {
    pub sha256: String,
    pub template: u32,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProtectionEnd {
    pub at: Timestamp,
    pub reason: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Protection {
    pub case: CaseId,
    pub child: ChildId,
    pub started_at: Timestamp,
    pub place_kind: PlaceKind,
    #[serde(default)]
    pub place: String,
    #[serde(default)]
    pub reason: String,
    pub guardian_consent: bool,
    #[serde(default)]
    pub hearing: Option<Hearing>,
    #[serde(default)]
    pub warrant: Option<Warrant>,
    #[serde(default)]
    pub extensions: Vec<Extension>,
    #[serde(default)]
    pub notices: Vec<Notice>,
    #[serde(default)]
    pub ended: Option<ProtectionEnd>,
    /// Started in urgency with the child's hearing to follow: by when it is due (the start day
    /// plus the days the code table `hearing_after_urgent_start` gave on that day). Without it, a
    /// missing hearing is due from the start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hearing_due: Option<Timestamp>,
    /// Brought in by a migration: the source's id and what its row said (none on records made here).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub migrated: Option<crate::interchange::Migrated>,
}

impl Record for Protection {
    type Id = ProtectionId;
    const SCHEMA: u16 = 1;
}

impl Protection {
    /// The first day after the current period: two months from the start day (counted), or the
    /// end of the latest extension.
    #[must_use]
    pub fn period_end(&self) -> Date {
        self.extensions.last().map_or_else(|| self.started_at.jst_date().legal_period_end(2), |e| e.until)
    }

    /// When the 一時保護状 must have been requested by, without the guardian's consent: the end
    /// of the seventh day, the start day counted (児童福祉法33条3項).
    #[must_use]
    pub fn warrant_due(&self) -> Timestamp {
        Timestamp::jst_midnight(self.started_at.jst_date().plus_days(7))
    }

    #[must_use]
    pub fn is_active(&self) -> bool {
        self.ended.is_none()
    }
}
