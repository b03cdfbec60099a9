//! 受付: what an intake says (the intake, the abuse, the reporter), and what core keeps of it.

use serde::{Deserialize, Serialize};

use super::{AbuseDetails, Intake, IntakeKind, Reporter};
use crate::code_table::Code;
use crate::ids::{StaffId, UnitId};
use crate::time::Timestamp;

/// A new case as an intake (受付) opens it; the child is named beside it. Who received it is
/// whoever takes the intake.
#[derive(Clone, Debug)]
pub struct NewCase {
    pub unit: UnitId,
    pub intake: NewIntake,
    /// What the report says about the abuse (see [`NewAbuse::details`]).
    pub abuse: NewAbuse,
    /// 通告者, stored apart (see [`Reporter::as_given`]).
    pub reporter: Option<Reporter>,
    pub assigned: Vec<StaffId>,
}

/// 受付 as someone takes it: the stored [`Intake`] without who received it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewIntake {
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
}

impl NewIntake {
    /// The intake as `by` received it.
    #[must_use]
    pub fn received_by(self, by: StaffId) -> Intake {
        Intake {
            kind: self.kind,
            received_at: self.received_at,
            route: self.route,
            consultation_type: self.consultation_type,
            chief_complaint: self.chief_complaint,
            content: self.content,
            received_by: by,
        }
    }
}

/// 虐待内容 as an intake records it; the body map is marked later, on the case.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewAbuse {
    /// Code table `abuse_type`.
    #[serde(default)]
    pub types: Vec<Code>,
    /// One of `types`; the first type when not named or not among them.
    #[serde(default)]
    pub main_type: Option<Code>,
    /// Code table `perpetrator`.
    #[serde(default)]
    pub main_perpetrator: Option<Code>,
    #[serde(default)]
    pub severity: String,
}

impl NewAbuse {
    /// The case's abuse details: an abuse report always has them (filled in during the
    /// investigation when the reporter could not say); a consultation only when something is
    /// said about abuse.
    #[must_use]
    pub fn details(self, kind: IntakeKind) -> Option<AbuseDetails> {
        let said =
            !self.types.is_empty() || self.main_perpetrator.is_some() || !self.severity.trim().is_empty();
        (kind == IntakeKind::AbuseReport || said).then(|| {
            AbuseDetails {
                types: self.types,
                main_type: self.main_type,
                main_perpetrator: self.main_perpetrator,
                severity: self.severity,
                injuries: Vec::new(),
            }
            .with_main_type()
        })
    }
}

impl Reporter {
    /// The reporter as stored: nobody when nothing is said about one; an anonymous reporter's
    /// name and phone are never kept, whatever the form sent.
    #[must_use]
    pub fn as_given(mut self) -> Option<Reporter> {
        if self.anonymous {
            self.name.clear();
            self.phone.clear();
        }
        let said = self.anonymous
            || [&self.name, &self.relation, &self.phone, &self.note].iter().any(|f| !f.trim().is_empty());
        said.then_some(self)
    }
}

impl AbuseDetails {
    /// The main type kept only while it is one of the types; else the first type.
    #[must_use]
    pub fn with_main_type(mut self) -> Self {
        if self.main_type.as_ref().is_none_or(|t| !self.types.contains(t)) {
            self.main_type = self.types.first().cloned();
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_intake_says_about_abuse_and_the_reporter_only_what_was_said() {
        let types = NewAbuse { types: vec![Code::new("2"), Code::new("1")], ..NewAbuse::default() };
        let d = types.clone().details(IntakeKind::Consultation).unwrap();
        assert_eq!(d.main_type, Some(Code::new("2")), "the first type is the main one");
        let named = NewAbuse { main_type: Some(Code::new("1")), ..types };
        assert_eq!(named.details(IntakeKind::Consultation).unwrap().main_type, Some(Code::new("1")));
        assert_eq!(NewAbuse::default().details(IntakeKind::Consultation), None);
        let report = NewAbuse::default().details(IntakeKind::AbuseReport).unwrap();
        assert!(report.types.is_empty() && report.main_type.is_none(), "filled in by the investigation");

        let said = |anonymous, name: &str| Reporter {
            anonymous,
            name: name.into(),
            relation: String::new(),
            phone: "000-0000-0000".into(),
            note: String::new(),
        };
        let anon = said(true, "架空 一郎").as_given().unwrap();
        assert!(anon.name.is_empty() && anon.phone.is_empty(), "never kept for an anonymous reporter");
        assert_eq!(said(false, "架空 一郎").as_given().unwrap().name, "架空 一郎");
        let blank = Reporter { phone: " ".into(), ..said(false, "") };
        assert_eq!(blank.as_given(), None);
    }
}
