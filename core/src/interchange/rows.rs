//! What a row of the layout means: each column parsed by the rules the tablet's forms follow
//! (names and furigana by `PersonName`, dates in 西暦 or 和暦 by `wareki`, codes checked against
//! the code tables valid on the record's day), every refusal naming its column.

use std::collections::HashMap;

use sha2::{Digest, Sha256};

use super::Kind;
use super::read::Row;
use crate::case::NewHearing;
use crate::case::{AbuseDetails, CaseStatus, IntakeKind};
use crate::code_table::{Code, CodeTable};
use crate::error::Error;
use crate::ids::{CaseId, ChildId, StaffId};
use crate::person::{PersonName, Sex};
use crate::protection::{PlaceKind, Protection, ProtectionStep, StartProtection, WarrantOutcome};
use crate::time::{Date, Timestamp};
use crate::wareki;

/// A column refused, and why (English: the CLI prints it as `FILE:LINE: column: reason`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RowError {
    pub column: String,
    pub reason: String,
}

impl RowError {
    fn new(column: &str, reason: impl Into<String>) -> Self {
        Self { column: column.to_owned(), reason: reason.into() }
    }
    fn from_error(column: &str, e: &Error) -> Self {
        match e {
            Error::Invalid { field, reason } => Self::new(field, reason.to_string()),
            other => Self::new(column, other.to_string()),
        }
    }
}

/// The code tables and the source's own codes translated (`codes.csv`: table, source, code).
/// A value is taken as the source's code when `codes.csv` names it, else as Mamoru's code, else
/// as an entry's label (`実母`); then checked valid on the record's day.
#[derive(Clone, Debug, Default)]
pub struct Codes {
    tables: HashMap<String, CodeTable>,
    translated: HashMap<(String, String), String>,
}

impl Codes {
    #[must_use]
    pub fn new(tables: Vec<CodeTable>) -> Self {
        Self { tables: tables.into_iter().map(|t| (t.key.clone(), t)).collect(), translated: HashMap::new() }
    }

    /// Adds one line of `codes.csv`; a table that does not exist or a code it lacks is refused.
    pub fn translate(&mut self, table: &str, source: &str, code: &str) -> Result<(), RowError> {
        let t = self
            .tables
            .get(table.trim())
            .ok_or_else(|| RowError::new("table", format!("no code table {table:?}")))?;
        if !t.entries.iter().any(|e| e.code == code.trim()) {
            return Err(RowError::new("code", format!("{table} has no code {code:?}")));
        }
        self.translated.insert((table.trim().to_owned(), source.trim().to_owned()), code.trim().to_owned());
        Ok(())
    }

    /// The days an urgent protection leaves for the child's hearing, from the code table valid
    /// on `on` (the seeded period where the store has no such table).
    #[must_use]
    pub fn hearing_days(&self, on: Date) -> u32 {
        self.tables
            .get(crate::code_table::HEARING_AFTER_URGENT_START)
            .and_then(|t| t.days_on(on))
            .unwrap_or(crate::code_table::HEARING_AFTER_URGENT_START_DAYS)
    }

    /// The code `value` means in `table`, valid on `on`.
    pub fn code(&self, table: &str, value: &str, on: Date) -> Result<Code, String> {
        let value = value.trim();
        let t = self.tables.get(table).ok_or_else(|| format!("no code table {table:?}"))?;
        let code = self
            .translated
            .get(&(table.to_owned(), value.to_owned()))
            .cloned()
            .or_else(|| t.entries.iter().find(|e| e.code == value).map(|e| e.code.clone()))
            .or_else(|| t.entries.iter().find(|e| e.label == value).map(|e| e.code.clone()))
            .ok_or_else(|| format!("{value:?} is no {table} code (and codes.csv does not translate it)"))?;
        let code = Code(code);
        t.check(&code, on).map_err(|e| match e {
            Error::Invalid { reason, .. } => reason.to_string(),
            other => other.to_string(),
        })?;
        Ok(code)
    }
}

/// A child or another person (guardian, relative) as the source has them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LegacyPerson {
    pub name: PersonName,
    pub birth_date: Option<Date>,
    pub sex: Sex,
    pub address: String,
    pub phones: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LegacyRelation {
    pub child: String,
    pub other: String,
    pub relation: Code,
    pub guardian: bool,
    pub cohabiting: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LegacyCase {
    pub child: String,
    pub received_at: Timestamp,
    pub route: Code,
    pub consultation_type: Code,
    pub chief_complaint: String,
    pub content: String,
    pub status: CaseStatus,
    /// Closed: when, and why (a reason the source left empty is kept as `NO_REASON`).
    pub closed: Option<(Timestamp, String)>,
    pub worker_opinion: String,
    /// When the child was last seen directly, if the source says.
    pub safety_checked_at: Option<Timestamp>,
    /// 相談 or 虐待通告, when the source says (else an abuse report when `abuse.csv` has a row).
    pub intake: Option<IntakeKind>,
    /// 閲覧制限: the logins of the only staff who may see the case (none: not restricted).
    pub restricted_to: Vec<String>,
}

/// 続柄 `本人` (the code `family` keeps for the child itself).
const SELF_RELATION: &str = "10";

/// What a closing, ending or decision the source gave no reason for keeps as its reason.
pub const NO_REASON: &str = "（移行元に記載なし）";

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LegacyAbuse {
    pub case: String,
    pub details: AbuseDetails,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LegacyNote {
    pub case: String,
    pub at: Timestamp,
    pub author: String,
    pub body: String,
    pub kind: Code,
}

/// A protection as the domain's commands make it (`StartProtection`, then each step the source
/// records, in the law's order): its case, child and whoever recorded its steps are put in when
/// it is stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LegacyProtection {
    pub case: String,
    pub protection: Protection,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LegacyMeeting {
    pub case: String,
    pub at: Timestamp,
    pub kind: Code,
    pub summary: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LegacySupport {
    pub case: String,
    pub decided_on: Date,
    pub kind: Code,
    pub content: String,
}

/// One row read and accepted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Record {
    Child(LegacyPerson),
    Person(LegacyPerson),
    Relation(LegacyRelation),
    Case(LegacyCase),
    Abuse(LegacyAbuse),
    Note(LegacyNote),
    Protection(LegacyProtection),
    Meeting(LegacyMeeting),
    Support(LegacySupport),
}

/// A row accepted: its key (the source's id, or one made of what identifies the row), the
/// digest of what it says, and the record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Parsed {
    pub key: String,
    pub digest: String,
    pub record: Record,
}

/// The columns of one file, by name.
pub struct Columns(pub HashMap<String, usize>);

struct Fields<'a> {
    columns: &'a Columns,
    row: &'a Row,
    errors: Vec<RowError>,
}

impl Fields<'_> {
    /// The cleaned text of `name` ("" when the file lacks an optional column).
    fn text(&mut self, name: &str) -> String {
        let Some(&i) = self.columns.0.get(name) else { return String::new() };
        match self.row.fields.get(i) {
            Some(Ok(s)) => s.trim().to_owned(),
            Some(Err(reason)) => {
                self.fail(name, reason.clone());
                String::new()
            }
            None => String::new(),
        }
    }

    fn required(&mut self, name: &str) -> String {
        let s = self.text(name);
        if s.is_empty() {
            self.fail(name, "required");
        }
        s
    }

    /// Refuses column `name`: once (its first reason is the one to fix).
    fn fail(&mut self, name: &str, reason: impl Into<String>) {
        self.push(RowError::new(name, reason));
    }

    fn push(&mut self, e: RowError) {
        if !self.errors.iter().any(|x| x.column == e.column) {
            self.errors.push(e);
        }
    }

    fn date(&mut self, name: &str) -> Option<Date> {
        let s = self.text(name);
        if s.is_empty() {
            return None;
        }
        wareki::parse(&s).map_err(|e| self.fail(name, e.reason)).ok()
    }

    /// A date and time; a date alone is the start of that day in Japan (the legacy system kept
    /// no time).
    fn datetime(&mut self, name: &str) -> Option<Timestamp> {
        let s = self.text(name);
        if s.is_empty() {
            return None;
        }
        if let Ok(at) = wareki::parse_datetime(&s) {
            return Some(at);
        }
        match wareki::parse(&s) {
            Ok(d) => Some(Timestamp::jst_midnight(d)),
            Err(e) => {
                self.fail(name, e.reason);
                None
            }
        }
    }

    fn required_datetime(&mut self, name: &str) -> Option<Timestamp> {
        let at = self.datetime(name);
        if at.is_none() {
            self.fail(name, "required");
        }
        at
    }

    fn code(&mut self, codes: &Codes, table: &str, name: &str, on: Date) -> Option<Code> {
        let s = self.required(name);
        if s.is_empty() {
            return None;
        }
        codes.code(table, &s, on).map_err(|e| self.fail(name, e)).ok()
    }

    fn flag(&mut self, name: &str) -> bool {
        let s = self.text(name);
        match s.as_str() {
            "" | "0" | "false" | "no" | "n" | "いいえ" | "無" | "なし" | "×" | "否" => false,
            "1" | "true" | "yes" | "y" | "はい" | "有" | "あり" | "○" | "〇" | "◯" | "要" => true,
            _ => {
                self.fail(name, "expected 1 or 0 (はい/いいえ, 有/無)");
                false
            }
        }
    }
}

fn sex(s: &str) -> Result<Sex, String> {
    match s {
        "1" => Ok(Sex::Male),
        "2" => Ok(Sex::Female),
        "0" | "9" => Ok(Sex::Unknown),
        other => Sex::parse(other).map_err(|_| "expected 男/女/不明 or 1/2/9".to_owned()),
    }
}

fn status(s: &str) -> Result<CaseStatus, String> {
    match s {
        "open" | "対応中" | "継続" | "1" => Ok(CaseStatus::Open),
        "closed" | "終結" | "2" => Ok(CaseStatus::Closed),
        _ => Err("expected open or closed (対応中/終結)".into()),
    }
}

fn place_kind(s: &str) -> Result<PlaceKind, String> {
    match s {
        "shelter" | "一時保護所" | "1" => Ok(PlaceKind::Shelter),
        "entrusted" | "委託" | "委託一時保護" | "2" => Ok(PlaceKind::Entrusted),
        _ => Err("expected shelter or entrusted (一時保護所/委託)".into()),
    }
}

/// The digest kept with a migrated record: SHA-256 (its first 128 bits, in hex) of the
/// layout's columns the file has, by name, each as read and trimmed. Columns the layout does
/// not name (a `rejection` column, the vendor's own) and their order do not change it; nor
/// does an optional column left empty or absent, so a column the layout gains later changes no
/// digest of a row that does not use it.
#[must_use]
pub fn digest(kind: Kind, columns: &Columns, row: &Row) -> String {
    let mut h = Sha256::new();
    let value = |name: &str| columns.0.get(name).and_then(|i| row.fields.get(*i));
    for name in kind.required() {
        match value(name) {
            Some(Ok(s)) => h.update(s.trim().as_bytes()),
            Some(Err(e)) => h.update(e.as_bytes()),
            None => {}
        }
        h.update([0x1F]);
    }
    for name in kind.optional() {
        let text = match value(name) {
            Some(Ok(s)) => s.trim(),
            Some(Err(e)) => e.as_str(),
            None => "",
        };
        if !text.is_empty() {
            h.update(name.as_bytes());
            h.update([0x1E]);
            h.update(text.as_bytes());
            h.update([0x1F]);
        }
    }
    crate::to_hex(&h.finalize()[..16])
}

/// Reads `row` of a file of `kind`: the record, or every column refused. `now` bounds birth
/// dates and records (nothing in the future) and dates codes without a day of their own.
pub fn parse(
    kind: Kind,
    columns: &Columns,
    row: &Row,
    codes: &Codes,
    now: Timestamp,
) -> Result<Parsed, Vec<RowError>> {
    let today = now.jst_date();
    let mut f = Fields { columns, row, errors: Vec::new() };
    let (key, record) = match kind {
        Kind::Children | Kind::Persons => {
            let key = f.required("legacy_id");
            let person = person(&mut f, today);
            (key, person.map(|p| if kind == Kind::Children { Record::Child(p) } else { Record::Person(p) }))
        }
        Kind::Relations => {
            let child = f.required("child_id");
            let other = f.required("other_id");
            if !child.is_empty() && child == other {
                f.fail("other_id", "the same as child_id");
            }
            let relation = f.code(codes, "relation", "relation", today);
            if relation.as_ref().is_some_and(|r| r.as_str() == SELF_RELATION) {
                f.fail("relation", "本人 (10) is the child itself, never another");
            }
            let guardian = f.flag("guardian");
            let cohabiting = f.flag("cohabiting");
            let key = format!("{child}/{other}");
            (
                key,
                relation.map(|relation| {
                    Record::Relation(LegacyRelation { child, other, relation, guardian, cohabiting })
                }),
            )
        }
        Kind::Cases => (f.required("legacy_id"), case(&mut f, codes, today).map(Record::Case)),
        Kind::Abuse => {
            let case = f.required("case_id");
            let details = abuse(&mut f, codes, today);
            (case.clone(), Some(Record::Abuse(LegacyAbuse { case, details })))
        }
        Kind::Notes => note(&mut f, codes, today),
        Kind::Protections => {
            let case = f.required("case_id");
            let started_at = f.required_datetime("started_at");
            let key = own_or(&mut f, format!("{case}/{}", when(started_at)));
            (key, protection(&mut f, case, started_at, codes, now).map(Record::Protection))
        }
        Kind::Meetings => {
            let case = f.required("case_id");
            let at = f.required_datetime("held_at");
            let on = at.map_or(today, Timestamp::jst_date);
            let kind = f.code(codes, "meeting_kind", "kind", on);
            let summary = f.text("summary");
            future(&mut f, "held_at", at, today);
            let key =
                own_or(&mut f, format!("{case}/{}/{}", when(at), kind.as_ref().map_or("", Code::as_str)));
            (key, at.zip(kind).map(|(at, kind)| Record::Meeting(LegacyMeeting { case, at, kind, summary })))
        }
        Kind::Supports => {
            let case = f.required("case_id");
            let decided_on = f.date("decided_at");
            if decided_on.is_none() {
                f.fail("decided_at", "required");
            }
            if decided_on.is_some_and(|d| d > today) {
                f.fail("decided_at", "in the future");
            }
            let kind = f.code(codes, "support_kind", "kind", decided_on.unwrap_or(today));
            let content = f.text("content");
            let key = own_or(
                &mut f,
                format!(
                    "{case}/{}/{}",
                    decided_on.map(|d| d.to_string()).unwrap_or_default(),
                    kind.as_ref().map_or("", Code::as_str)
                ),
            );
            (
                key,
                decided_on.zip(kind).map(|(decided_on, kind)| {
                    Record::Support(LegacySupport { case, decided_on, kind, content })
                }),
            )
        }
    };
    // 外字 or unreadable bytes anywhere in the row, in a column read above or not.
    for (i, field) in row.fields.iter().enumerate() {
        if let Err(reason) = field {
            let name = columns
                .0
                .iter()
                .find(|(_, j)| **j == i)
                .map_or_else(|| format!("column {}", i + 1), |(n, _)| n.clone());
            f.fail(&name, reason.clone());
        }
    }
    match record {
        Some(record) if f.errors.is_empty() => Ok(Parsed { key, digest: digest(kind, columns, row), record }),
        _ => {
            let mut errors = f.errors;
            if errors.is_empty() {
                errors.push(RowError::new("-", "unreadable row"));
            }
            Err(errors)
        }
    }
}

/// The row's own `legacy_id` when the file has one, else the key made of what identifies it.
fn own_or(f: &mut Fields<'_>, made: String) -> String {
    let own = f.text("legacy_id");
    if own.is_empty() { made } else { own }
}

/// A time as a made key holds it: `2025-04-03T14:00` (JST).
fn when(at: Option<Timestamp>) -> String {
    at.map(|t| t.to_jst_string().chars().take(16).collect()).unwrap_or_default()
}

fn or_no_reason(reason: String) -> String {
    if reason.is_empty() { NO_REASON.to_owned() } else { reason }
}

fn future(f: &mut Fields<'_>, name: &str, at: Option<Timestamp>, today: Date) {
    if at.is_some_and(|t| t.jst_date() > today) {
        f.fail(name, "in the future");
    }
}

/// A note: its case, time, author, text and kind; its key its own id, or what it says.
fn note(f: &mut Fields<'_>, codes: &Codes, today: Date) -> (String, Option<Record>) {
    let case = f.required("case_id");
    let at = f.required_datetime("at");
    let author = f.required("author");
    // A note may be only its photos on the tablet: an empty text is kept as it is.
    let body = f.text("body");
    let kind_text = f.text("kind");
    let on = at.map_or(today, Timestamp::jst_date);
    let kind_text = if kind_text.is_empty() { "9".to_owned() } else { kind_text };
    let kind = codes.code("note_kind", &kind_text, on).map_err(|e| f.fail("kind", e)).ok();
    future(f, "at", at, today);
    let own = f.text("legacy_id");
    // Without an id of its own, a note is known by what it says: its case, time, author and a
    // digest of its kind and text (a changed note is then a new one; give legacy_id to have
    // changes reported as differences).
    let key = if own.is_empty() {
        let text = Sha256::digest(format!("{kind_text}\u{1F}{body}").as_bytes());
        format!("{case}/{}/{author}/{}", when(at), crate::to_hex(&text[..6]))
    } else {
        own
    };
    let note = at.zip(kind).map(|(at, kind)| Record::Note(LegacyNote { case, at, author, body, kind }));
    (key, note)
}

/// Why the domain refused a command, without the field it names (the column is named).
fn reason(e: &Error) -> String {
    match e {
        Error::Invalid { reason, .. } => reason.to_string(),
        other => other.to_string(),
    }
}

fn outcome(s: &str) -> Result<WarrantOutcome, String> {
    match s {
        "issued" | "発付" | "1" => Ok(WarrantOutcome::Issued),
        "refused" | "却下" | "2" => Ok(WarrantOutcome::Refused),
        _ => Err("expected issued or refused (発付/却下)".into()),
    }
}

/// A protection made by `StartProtection` and the steps its columns record, each refused step
/// naming its column. A place or reason the source left empty is kept as `NO_REASON`; a start
/// without `heard_at` is taken as urgent (the hearing to follow).
fn protection(
    f: &mut Fields<'_>,
    case: String,
    started_at: Option<Timestamp>,
    codes: &Codes,
    now: Timestamp,
) -> Option<LegacyProtection> {
    let kind = f.required("place_kind");
    let place_kind =
        if kind.is_empty() { None } else { place_kind(&kind).map_err(|e| f.fail("place_kind", e)).ok() };
    let place = or_no_reason(f.text("place"));
    let reason_text = or_no_reason(f.text("reason"));
    let consent = f.flag("consent");
    let heard_at = f.datetime("heard_at");
    let views = f.text("hearing");
    let warrant_requested_at = f.datetime("warrant_requested_at");
    let warrant_decided_at = f.datetime("warrant_decided_at");
    let outcome_text = f.text("warrant_outcome");
    let extended_at = f.datetime("extended_at");
    let extended_until = f.date("extended_until");
    let extension_consent = f.flag("extension_consent");
    let petitioned_on = f.date("court_petitioned_on");
    let approved_on = f.date("court_approved_on");
    let ended_at = f.datetime("ended_at");
    let end_reason = f.text("end_reason");
    if !end_reason.is_empty() && ended_at.is_none() {
        f.fail("ended_at", "required with end_reason");
    }
    let start = StartProtection {
        started_at: started_at?,
        place_kind: Some(place_kind?),
        place,
        reason: reason_text,
        guardian_consent: consent,
        hearing: heard_at.map(|at| NewHearing {
            at,
            method: String::new(),
            views: if views.is_empty() { NO_REASON.to_owned() } else { views },
            not_possible_reason: None,
        }),
        hearing_after_urgency: heard_at.is_none(),
    };
    let days = codes.hearing_days(start.started_at.jst_date());
    let mut p = start
        .start(CaseId(0), ChildId(0), StaffId(0), now, days)
        .map_err(|e| f.fail("started_at", reason(&e)))
        .ok()?;
    let mut steps: Vec<(&str, ProtectionStep)> = Vec::new();
    if let Some(at) = warrant_requested_at {
        steps.push(("warrant_requested_at", ProtectionStep::WarrantRequest { at }));
    }
    match (warrant_decided_at, outcome_text.as_str()) {
        (None, "") => {}
        (Some(at), text) => match outcome(text) {
            Ok(outcome) => {
                steps.push(("warrant_decided_at", ProtectionStep::WarrantDecision { at, outcome }));
            }
            Err(e) => f.fail("warrant_outcome", e),
        },
        (None, _) => f.fail("warrant_decided_at", "required with warrant_outcome"),
    }
    match (extended_at, extended_until) {
        (None, None) => {}
        (Some(at), Some(last_day)) => steps.push((
            "extended_at",
            ProtectionStep::Extension { at, last_day, guardian_consent: extension_consent, petitioned_on },
        )),
        (None, Some(_)) => f.fail("extended_at", "required with extended_until"),
        (Some(_), None) => f.fail("extended_until", "required with extended_at"),
    }
    if let Some(approved_on) = approved_on {
        steps.push(("court_approved_on", ProtectionStep::CourtApproval { approved_on }));
    }
    if let Some(at) = ended_at {
        steps.push(("ended_at", ProtectionStep::End { at, reason: or_no_reason(end_reason) }));
    }
    for (column, step) in steps {
        if let Err(e) = p.apply(step, StaffId(0), now) {
            f.fail(column, reason(&e));
        }
    }
    Some(LegacyProtection { case, protection: p })
}

fn person(f: &mut Fields<'_>, today: Date) -> Option<LegacyPerson> {
    let family = f.text("family_name");
    let given = f.text("given_name");
    let family_kana = f.text("family_name_kana");
    let given_kana = f.text("given_name_kana");
    let name = PersonName::new(&family, &given, &family_kana, &given_kana)
        .map_err(|e| f.push(RowError::from_error("family_name", &e)))
        .ok();
    let birth_date = f.date("birth_date");
    if birth_date.is_some_and(|d| d > today) {
        f.fail("birth_date", "in the future");
    }
    let sex_text = f.text("sex");
    let sex = sex(&sex_text).map_err(|e| f.fail("sex", e)).ok();
    let address = f.text("address");
    let phones = f
        .text("phone")
        .split([';', '／', '/'])
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(str::to_owned)
        .collect();
    Some(LegacyPerson { name: name?, birth_date, sex: sex?, address, phones })
}

fn case(f: &mut Fields<'_>, codes: &Codes, today: Date) -> Option<LegacyCase> {
    let child = f.required("child_id");
    let received_at = f.required_datetime("received_at");
    let on = received_at.map_or(today, Timestamp::jst_date);
    let route = f.code(codes, "route", "route", on);
    let consultation_type = f.code(codes, "consultation_type", "consultation_type", on);
    let chief_complaint = f.text("chief_complaint");
    let content = f.text("content");
    let status_text = f.required("status");
    let status = if status_text.is_empty() {
        None
    } else {
        status(&status_text).map_err(|e| f.fail("status", e)).ok()
    };
    let closed_at = f.datetime("closed_at");
    let closure_reason = f.text("closure_reason");
    let worker_opinion = f.text("worker_opinion");
    let safety_checked_at = f.datetime("safety_checked_at");
    let restricted_to = f
        .text("restricted_to")
        .split([';', '；'])
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect();
    let intake = match f.text("intake_kind").as_str() {
        "" => None,
        "consultation" | "相談" => Some(IntakeKind::Consultation),
        "abuse_report" | "虐待通告" | "通告" => Some(IntakeKind::AbuseReport),
        _ => {
            f.fail("intake_kind", "expected consultation or abuse_report (相談/虐待通告)");
            None
        }
    };
    future(f, "received_at", received_at, today);
    future(f, "closed_at", closed_at, today);
    future(f, "safety_checked_at", safety_checked_at, today);
    let closed = match (status, closed_at) {
        (Some(CaseStatus::Closed), None) => {
            f.fail("closed_at", "required for a closed case");
            None
        }
        (Some(CaseStatus::Open), Some(_)) => {
            f.fail("closed_at", "given for an open case");
            None
        }
        (_, Some(at)) => Some((at, or_no_reason(closure_reason))),
        (_, None) => None,
    };
    if let (Some(r), Some((c, _))) = (received_at, &closed)
        && *c < r
    {
        f.fail("closed_at", "before received_at");
    }
    Some(LegacyCase {
        child,
        received_at: received_at?,
        route: route?,
        consultation_type: consultation_type?,
        chief_complaint,
        content,
        status: status?,
        closed,
        worker_opinion,
        safety_checked_at,
        intake,
        restricted_to,
    })
}

fn abuse(f: &mut Fields<'_>, codes: &Codes, today: Date) -> AbuseDetails {
    // An abuse report may have no type yet (before the investigation names one).
    let types_text = f.text("types");
    let mut types = Vec::new();
    for t in types_text.split([';', '；', '、']).map(str::trim).filter(|t| !t.is_empty()) {
        match codes.code("abuse_type", t, today) {
            Ok(c) if !types.contains(&c) => types.push(c),
            Ok(_) => {}
            Err(e) => f.fail("types", e),
        }
    }
    let main_text = f.text("main_type");
    let main_type = if main_text.is_empty() {
        None
    } else {
        codes.code("abuse_type", &main_text, today).map_err(|e| f.fail("main_type", e)).ok()
    };
    if main_type.as_ref().is_some_and(|m| !types.contains(m)) {
        f.fail("main_type", "not one of types");
    }
    let perp_text = f.text("main_perpetrator");
    let main_perpetrator = if perp_text.is_empty() {
        None
    } else {
        codes.code("perpetrator", &perp_text, today).map_err(|e| f.fail("main_perpetrator", e)).ok()
    };
    let main_type = main_type.or_else(|| types.first().cloned());
    AbuseDetails { types, main_type, main_perpetrator, severity: String::new(), injuries: Vec::new() }
}
