//! Typed record ids: a `ChildId` cannot be passed where a `CaseId` is wanted. Each id type names
//! its record kind, the key the store files it under.

use std::fmt;

use serde::{Deserialize, Serialize};

/// What a record kind is called in the store, the change log and the audit log.
pub trait RecordId: Copy + Into<u64> + From<u64> {
    const KIND: &'static str;
}

macro_rules! ids {
    ($($name:ident => $kind:literal),* $(,)?) => {$(
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub u64);

        impl RecordId for $name {
            const KIND: &'static str = $kind;
        }
        impl From<$name> for u64 {
            fn from(id: $name) -> u64 { id.0 }
        }
        impl From<u64> for $name {
            fn from(id: u64) -> Self { Self(id) }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result { self.0.fmt(f) }
        }
    )*};
}

ids! {
    UnitId => "unit",
    StaffId => "staff",
    ChildId => "child",
    PersonId => "person",
    HouseholdId => "household",
    AgencyId => "agency",
    CaseId => "case",
    ReporterId => "reporter",
    NoteId => "note",
    SafetyCheckId => "safety_check",
    AssessmentId => "assessment",
    ProtectionId => "protection",
    SupportId => "support",
    MeetingId => "meeting",
    CodeTableId => "code_table",
    SheetId => "assessment_sheet",
    CredentialId => "credential",
    DeviceId => "device",
    PhotoId => "photo",
    MessageId => "message",
    CourtPetitionId => "court_petition",
    FormTemplateId => "form_template",
    RestoreDrillId => "restore_drill",
    UptimeProbeId => "uptime_probe",
    MaintenanceId => "maintenance",
    TrafficPeriodId => "traffic_period",
    AlertId => "alert",
}

/// Every record kind, in the order `check` prints them.
pub const KINDS: [&str; 27] = [
    UnitId::KIND,
    StaffId::KIND,
    CredentialId::KIND,
    ChildId::KIND,
    PersonId::KIND,
    HouseholdId::KIND,
    AgencyId::KIND,
    CaseId::KIND,
    ReporterId::KIND,
    NoteId::KIND,
    SafetyCheckId::KIND,
    AssessmentId::KIND,
    ProtectionId::KIND,
    SupportId::KIND,
    MeetingId::KIND,
    CodeTableId::KIND,
    SheetId::KIND,
    DeviceId::KIND,
    PhotoId::KIND,
    MessageId::KIND,
    CourtPetitionId::KIND,
    FormTemplateId::KIND,
    RestoreDrillId::KIND,
    UptimeProbeId::KIND,
    MaintenanceId::KIND,
    TrafficPeriodId::KIND,
    AlertId::KIND,
];
