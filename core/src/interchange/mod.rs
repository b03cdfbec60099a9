//! The interchange layout: a folder of CSV files through which another system's records come in
//! (`mamoru import`, the prefecture's caseload) and the whole store goes out (`mamoru export`,
//! for the next system). One layout both ways, documented in `docs/operations/migration.md`.
//!
//! This module is the domain's part: which files and columns there are (`Kind`), how a file's
//! bytes are read (`read`: UTF-8 or CP932, 外字, half-width kana) and what a row means (`rows`:
//! each column parsed by the same rules as the tablet's forms, a refusal naming the column). It
//! reads byte streams it is given and writes nothing; the service stores what it accepts.

use serde::{Deserialize, Serialize};

pub mod read;
pub mod rows;

pub use read::{Encoding, Gaiji, Table};
pub use rows::{Codes, Parsed, RowError};

/// What a record brought in by a migration keeps of where it came from: the source's id (or,
/// for a row without one, the key the importer made of it), a digest of the row as it was
/// read (so that a row changed in the source since is told apart from one imported already),
/// and for a note the name of its author (legacy staff are no accounts here).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Migrated {
    pub legacy_id: String,
    pub digest: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
}

/// One file of the layout, in the order an import reads them (what a row names comes first).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    Children,
    Persons,
    Relations,
    Cases,
    Abuse,
    Notes,
    Protections,
    Meetings,
    Supports,
}

impl Kind {
    pub const ALL: [Kind; 9] = [
        Kind::Children,
        Kind::Persons,
        Kind::Relations,
        Kind::Cases,
        Kind::Abuse,
        Kind::Notes,
        Kind::Protections,
        Kind::Meetings,
        Kind::Supports,
    ];

    /// The name in reports (`children`, `notes`).
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Kind::Children => "children",
            Kind::Persons => "persons",
            Kind::Relations => "relations",
            Kind::Cases => "cases",
            Kind::Abuse => "abuse",
            Kind::Notes => "notes",
            Kind::Protections => "protections",
            Kind::Meetings => "meetings",
            Kind::Supports => "supports",
        }
    }

    /// The file's name in the folder.
    #[must_use]
    pub fn file(self) -> String {
        format!("{}.csv", self.name())
    }

    /// The columns a file must have, in the order `export` writes them.
    #[must_use]
    pub fn required(self) -> &'static [&'static str] {
        match self {
            Kind::Children | Kind::Persons => &[
                "legacy_id",
                "family_name",
                "given_name",
                "family_name_kana",
                "given_name_kana",
                "birth_date",
                "sex",
                "address",
                "phone",
            ],
            Kind::Relations => &["child_id", "other_id", "relation", "guardian", "cohabiting"],
            Kind::Cases => &[
                "legacy_id",
                "child_id",
                "received_at",
                "route",
                "consultation_type",
                "chief_complaint",
                "content",
                "status",
                "closed_at",
                "closure_reason",
                "worker_opinion",
            ],
            Kind::Abuse => &["case_id", "types", "main_type", "main_perpetrator"],
            Kind::Notes => &["case_id", "at", "author", "body"],
            Kind::Protections => &[
                "case_id",
                "started_at",
                "place_kind",
                "place",
                "reason",
                "consent",
                "ended_at",
                "end_reason",
            ],
            Kind::Meetings => &["case_id", "held_at", "kind", "summary"],
            Kind::Supports => &["case_id", "decided_at", "kind", "content"],
        }
    }

    /// Columns a file may have besides: what the domain keeps that the minimum layout does not
    /// carry (a note's kind, its own id; a case's last safety check and 閲覧制限; a protection's
    /// hearing, warrant and extension).
    #[must_use]
    pub fn optional(self) -> &'static [&'static str] {
        match self {
            Kind::Cases => &["safety_checked_at", "intake_kind", "restricted_to"],
            Kind::Notes => &["legacy_id", "kind"],
            Kind::Meetings | Kind::Supports => &["legacy_id"],
            Kind::Protections => &[
                "legacy_id",
                "heard_at",
                "hearing",
                "warrant_requested_at",
                "warrant_decided_at",
                "warrant_outcome",
                "extended_at",
                "extended_until",
                "extension_consent",
                "court_petitioned_on",
                "court_approved_on",
            ],
            _ => &[],
        }
    }
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// One CSV field (RFC 4180): quoted when it holds a comma, a quote or a line break. A field a
/// spreadsheet would take for a formula (`=`, `+`, `-`, `@`, after any apostrophes) gets a
/// leading apostrophe, which reading the layout takes off again (`read::unescape`).
#[must_use]
pub fn csv_field(s: &str) -> String {
    let s = if read::looks_like_formula(s) { format!("'{s}") } else { s.to_owned() };
    if s.contains([',', '"', '\r', '\n']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s }
}

/// Writes one CSV line of `fields` ([`csv_field`] each), CRLF-ended.
pub fn write_csv_line<S: AsRef<str>>(out: &mut dyn std::io::Write, fields: &[S]) -> std::io::Result<()> {
    let line: Vec<String> = fields.iter().map(|f| csv_field(f.as_ref())).collect();
    out.write_all(line.join(",").as_bytes())?;
    out.write_all(b"\r\n")
}

#[cfg(test)]
mod tests {
    use super::csv_field;

    #[test]
    fn csv_fields_are_quoted_and_never_formulas() {
        assert_eq!(csv_field("read_case"), "read_case");
        assert_eq!(csv_field("3 results: 1,2,3"), "\"3 results: 1,2,3\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("=cmd()"), "'=cmd()");
        assert_eq!(csv_field("-1"), "'-1");
        assert_eq!(csv_field("'=1"), "''=1");
        assert_eq!(csv_field("'a"), "'a");
    }
}
