//! What people say when they record casework (a note, a safety check, the child's hearing, a
//! meeting), checked into the records beside them: who recorded it, the child and the unit come
//! from core, never from the sender; every missing field is named.

use serde::{Deserialize, Serialize};

use super::{Hearing, Injury, Meeting, Note, SafetyCheck, SafetyMethod};
use crate::code_table::Code;
use crate::error::Error;
use crate::ids::{CaseId, ChildId, StaffId, UnitId};
use crate::person::Attachment;
use crate::time::Timestamp;

/// A progress note as someone writes it: the author is whoever writes it, the child is the
/// case's, photos are named by SHA-256.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewNote {
    /// When it happened (not when it was typed).
    pub at: Timestamp,
    /// Code table `note_kind`.
    pub kind: Code,
    #[serde(default)]
    pub body: String,
    /// The SHA-256 of each photo already sent for the case.
    #[serde(default)]
    pub photos: Vec<String>,
}

impl NewNote {
    /// The note of `child` in `case` that `author` writes at `now`: text or a photo, not in the
    /// future.
    pub fn write(self, case: CaseId, child: ChildId, author: StaffId, now: Timestamp) -> Result<Note, Error> {
        if self.body.trim().is_empty() && self.photos.iter().all(|p| p.trim().is_empty()) {
            return Err(Error::invalid("body", "a note needs text or an attachment"));
        }
        if self.at > now.plus(300) {
            return Err(Error::invalid("at", "is in the future"));
        }
        Ok(Note {
            case,
            child,
            at: self.at,
            kind: self.kind,
            author,
            body: self.body,
            attachments: self
                .photos
                .iter()
                .filter(|p| !p.trim().is_empty())
                .map(|sha| Attachment::named(sha))
                .collect(),
            correction: None,
        })
    }
}

/// A safety check as someone records it. Nothing is assumed: the method is chosen, never
/// defaulted to 目視, and a check that says the child was seen directly (the only kind that
/// closes the 48-hour clock) names who saw the child — the staff recording it, or for 関係機関に
/// よる確認 the agency — and how the child was.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewSafetyCheck {
    pub at: Option<Timestamp>,
    #[serde(default)]
    pub method: Option<SafetyMethod>,
    #[serde(default)]
    pub seen_directly: bool,
    /// The agency that saw the child, for 関係機関による確認.
    #[serde(default)]
    pub agency: String,
    #[serde(default)]
    pub place: String,
    #[serde(default)]
    pub child_state: String,
    #[serde(default)]
    pub injuries: Vec<Injury>,
    /// The SHA-256 of each photo already sent for the case.
    #[serde(default)]
    pub photos: Vec<String>,
}

impl NewSafetyCheck {
    /// The check of `child` in `case`, recorded by `by` at `now`; every missing field named.
    pub fn check(
        self,
        case: CaseId,
        child: ChildId,
        by: StaffId,
        now: Timestamp,
    ) -> Result<SafetyCheck, Error> {
        let agency = self.agency.trim();
        let by_agency = self.method == Some(SafetyMethod::ByAgency);
        Error::require(&[
            ("at", self.at.is_none()),
            ("method", self.method.is_none()),
            ("agency", self.seen_directly && by_agency && agency.is_empty()),
            ("child_state", self.child_state.trim().is_empty()),
        ])?;
        let (Some(at), Some(method)) = (self.at, self.method) else {
            return Err(Error::Incomplete { fields: vec!["at", "method"] });
        };
        if method == SafetyMethod::Sighted && !self.seen_directly {
            return Err(Error::invalid(
                "seen_directly",
                "目視 means the child was seen directly: tick it or choose another method",
            ));
        }
        if at > now.plus(300) {
            return Err(Error::invalid("at", "is in the future"));
        }
        Ok(SafetyCheck {
            case,
            child,
            at,
            by: vec![by],
            method,
            seen_directly: self.seen_directly,
            agency: if by_agency { agency.to_owned() } else { String::new() },
            place: self.place.trim().to_owned(),
            child_state: self.child_state.trim().to_owned(),
            injuries: self.injuries,
            attachments: self.photos.iter().map(|sha| Attachment::named(sha)).collect(),
        })
    }
}

/// A hearing as someone records it: who heard the child is the person recording it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewHearing {
    pub at: Timestamp,
    #[serde(default)]
    pub method: String,
    #[serde(default)]
    pub views: String,
    #[serde(default)]
    pub not_possible_reason: Option<String>,
}

impl NewHearing {
    /// The hearing `by` records, checked.
    pub fn heard_by(self, by: StaffId) -> Result<Hearing, Error> {
        let reason = self.not_possible_reason.map(|r| r.trim().to_owned()).filter(|r| !r.is_empty());
        let h =
            Hearing { at: self.at, by, method: self.method, views: self.views, not_possible_reason: reason };
        h.check()?;
        Ok(h)
    }
}

/// A meeting as someone records it: it belongs to the unit of the first case it discussed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewMeeting {
    /// Code table `meeting_kind`.
    pub kind: Code,
    pub at: Timestamp,
    #[serde(default)]
    pub attendees: Vec<StaffId>,
    #[serde(default)]
    pub outside_attendees: Vec<String>,
    pub cases: Vec<CaseId>,
    #[serde(default)]
    pub decisions: String,
}

impl NewMeeting {
    /// The first case discussed: its unit holds the meeting. A meeting discusses at least one.
    pub fn first_case(&self) -> Result<CaseId, Error> {
        self.cases
            .first()
            .copied()
            .ok_or_else(|| Error::invalid("cases", "a meeting discusses at least one case"))
    }

    /// The meeting held by `unit`, recorded at `now`: about at least one case, not in the future.
    pub fn hold(self, unit: UnitId, now: Timestamp) -> Result<Meeting, Error> {
        self.first_case()?;
        if self.at > now.plus(300) {
            return Err(Error::invalid("at", "is in the future"));
        }
        let outside = self.outside_attendees.iter().map(|a| a.trim()).filter(|a| !a.is_empty());
        Ok(Meeting {
            unit,
            kind: self.kind,
            at: self.at,
            attendees: self.attendees,
            outside_attendees: outside.map(str::to_owned).collect(),
            cases: self.cases,
            decisions: self.decisions,
        })
    }
}
