//! 帳票: a case's forms as PDF. Which forms apply, and each one filled from the case, the child,
//! the household and the protection in one audited read (`print_form`) whose entry names the
//! template's version and the PDF's SHA-256 — so the exact paper can be shown to have been
//! printed, and made again with the same version.

use sha2::{Digest, Sha256};

use super::casework::load_links;
use super::{Actor, Service, access};
use crate::case::{
    Assessment, Case, CourtPetition, IntakeKind, Meeting, Note, PetitionKind, Reporter, SafetyCheck, Support,
};
use crate::code_table::{Code, CodeTable};
use crate::error::{Error, Result};
use crate::forms::{
    self, EvidenceFacts, Facts, FormKind, InjuryFacts, MemberFacts, NoteFacts, ReporterFacts, Template,
};
use crate::ids::{
    AssessmentId, CaseId, CourtPetitionId, HouseholdId, MeetingId, NoteId, PersonId, RecordId, ReporterId,
    SafetyCheckId, StaffId, SupportId,
};
use crate::person::{Child, Household, MemberRef, Person};
use crate::protection::{IssuedPdf, NoticeKind, Protection};
use crate::staff::{Action, Staff, Unit};
use crate::store::{ReadTx, Reader, Versioned, WriteTx};
use crate::time::{Date, Timestamp};

/// A form the case has now.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct FormOffer {
    pub form: FormKind,
    pub title: &'static str,
    pub version: u32,
    /// Addressed to the family (the reporter is never on it).
    pub family_facing: bool,
}

/// Which notes a 経過記録 holds: those of these days (both included), or all.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Period {
    pub from: Option<Date>,
    pub to: Option<Date>,
}

/// What to print besides the form: an older template version (to make an old paper again), the
/// notes' period, the meeting whose minutes (else the case's latest).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FormOptions {
    pub version: Option<u32>,
    pub period: Period,
    pub meeting: Option<MeetingId>,
    /// The 措置 whose notice (else the case's latest approved one).
    pub support: Option<SupportId>,
    /// The petition (else the case's newest of the form's kind).
    pub petition: Option<CourtPetitionId>,
    /// The safety check (else the case's newest).
    pub check: Option<SafetyCheckId>,
    /// The assessment (else the case's newest).
    pub assessment: Option<AssessmentId>,
}

/// A printed form.
#[derive(Clone, Debug)]
pub struct PrintedForm {
    pub pdf: Vec<u8>,
    /// `一時保護決定通知書_児-R7-00001.pdf`.
    pub file_name: String,
    pub template: &'static Template,
    /// Of the PDF, in hex: as the audit entry names it.
    pub sha256: String,
}

fn latest(protections: &[Versioned<Protection>]) -> Option<&Protection> {
    protections.iter().map(|p| &p.body).max_by_key(|p| p.started_at)
}

/// Whether a support decision is a 措置 notified to the family: of a kind the law makes one,
/// and decided (approved, or recorded before 決裁 was kept) — whether it has a 措置決定通知書.
#[must_use]
pub fn is_notified_measure(s: &Support) -> bool {
    forms::MEASURES.contains(&s.kind.as_str()) && crate::case::in_force(s.approval.as_ref())
}

/// A case's newest meeting, its newest 措置 notified to the family, its newest safety check
/// and its newest assessment: whose papers a page offers, and what is printed when no other is
/// named.
#[derive(Clone, Copy, Default)]
pub(super) struct Newest<'a> {
    meeting: Option<&'a Meeting>,
    support: Option<&'a Support>,
    check: Option<&'a SafetyCheck>,
    assessment: Option<&'a Assessment>,
    extension: Option<&'a CourtPetition>,
    placement: Option<&'a CourtPetition>,
}

pub(super) fn newest<'a>(
    meetings: &'a [Versioned<Meeting>],
    supports: &'a [Versioned<Support>],
    checks: &'a [Versioned<SafetyCheck>],
    assessments: &'a [Versioned<Assessment>],
    petitions: &'a [Versioned<CourtPetition>],
) -> Newest<'a> {
    let petition = |kind: PetitionKind| {
        petitions.iter().map(|p| &p.body).filter(|p| p.kind == kind).max_by_key(|p| p.prepared_at)
    };
    Newest {
        extension: petition(PetitionKind::ProtectionExtension),
        placement: petition(PetitionKind::Placement),
        assessment: assessments.iter().map(|a| &a.body).max_by_key(|a| a.at),
        meeting: meetings.iter().map(|m| &m.body).max_by_key(|m| m.at),
        support: supports
            .iter()
            .map(|s| &s.body)
            .filter(|s| is_notified_measure(s))
            .max_by_key(|s| s.decided_on),
        check: checks.iter().map(|c| &c.body).max_by_key(|c| c.at),
    }
}

/// The day whose template version a form takes, or `None` when the case has no such form now.
fn form_day(
    case: &Case,
    protections: &[Versioned<Protection>],
    recent: Newest<'_>,
    form: FormKind,
    today: Date,
) -> Option<Date> {
    let Newest { meeting, support, check, assessment, extension, placement } = recent;
    match form {
        FormKind::ExtensionPetition => extension.map(|p| p.prepared_at.jst_date()),
        FormKind::PlacementPetition => placement.map(|p| p.prepared_at.jst_date()),
        FormKind::AssessmentSheet => assessment.map(|a| a.at.jst_date()),
        FormKind::SafetyCheckRecord => check.map(|c| c.at.jst_date()),
        FormKind::SupportNotice => support.map(|s| s.decided_on),
        FormKind::MeetingMinutes => meeting.map(|m| m.at.jst_date()),
        FormKind::IntakeSheet => Some(case.intake.received_at.jst_date()),
        FormKind::Notes | FormKind::ChildRecord => Some(today),
        FormKind::ProtectionStartNotice => latest(protections).map(|p| p.started_at.jst_date()),
        FormKind::ProtectionEndNotice => {
            latest(protections).and_then(|p| p.ended.as_ref().map(|e| e.at.jst_date()))
        }
        // A protection without the guardian's consent, from its start: the request is prepared
        // before it is made.
        FormKind::WarrantRequest => {
            latest(protections).filter(|p| !p.guardian_consent).map(|p| p.started_at.jst_date())
        }
    }
}

/// The forms the case has now, in the order a page offers them: the intake sheet (with its
/// reporter) only to those who may see the reporter.
pub(super) fn offers(
    actor: &Actor,
    case: &Case,
    protections: &[Versioned<Protection>],
    latest: Newest<'_>,
    today: Date,
) -> Vec<FormOffer> {
    FormKind::ALL
        .into_iter()
        .filter(|f| *f != FormKind::IntakeSheet || reporter_allowed(actor, case))
        .filter_map(|form| {
            let t = forms::template(form, form_day(case, protections, latest, form, today)?)?;
            Some(FormOffer { form, title: t.title, version: t.version, family_facing: t.family_facing })
        })
        .collect()
}

fn label(table: &Versioned<CodeTable>, code: &Code) -> String {
    table.body.label(code).map_or_else(|| code.as_str().to_owned(), str::to_owned)
}

fn reporter_allowed(actor: &Actor, case: &Case) -> bool {
    actor.role.may(Action::ViewReporter)
        && access::check_own_unit(actor, case.unit, Action::ViewReporter).is_ok()
}

impl Service {
    /// The forms the case has now, in the order the page offers them. The intake sheet (with its
    /// reporter) only to those who may see the reporter.
    pub fn case_forms(&self, actor: &Actor, id: CaseId) -> Result<Vec<FormOffer>> {
        let today = self.now().jst_date();
        self.read(actor, Action::ReadCase, CaseId::KIND, Some(id.0), |r| {
            let case = r.require::<Case>(id)?;
            let scope = access::Scope::of(r, actor)?;
            scope.check_read_case(&case.body, Action::ReadCase)?;
            scope.check_read_child(&r.require::<Child>(case.body.child)?.body, Action::ReadCase)?;
            let (meetings, supports) =
                (load_links(r, "case_meeting", id)?, load_links(r, "case_support", id)?);
            let checks = load_links(r, "case_check", id)?;
            let assessments = load_links(r, "case_assessment", id)?;
            let petitions = load_links(r, "case_petition", id)?;
            let latest = newest(&meetings, &supports, &checks, &assessments, &petitions);
            let offers = offers(actor, &case.body, &load_links(r, "case_protection", id)?, latest, today);
            Ok((offers, Some("forms listed".to_owned())))
        })
    }

    /// The form as PDF: the template version in force on the day of what it records (or the
    /// version asked for, to make an old paper again), filled from the case. Audited as
    /// `print_form` with the form, the version and the PDF's SHA-256.
    pub fn print_form(
        &self,
        actor: &Actor,
        id: CaseId,
        form: FormKind,
        options: &FormOptions,
    ) -> Result<PrintedForm> {
        let now = self.now();
        self.read(actor, Action::PrintForm, CaseId::KIND, Some(id.0), |r| {
            let case = r.require::<Case>(id)?;
            let scope = access::Scope::of(r, actor)?;
            scope.check_read_case(&case.body, Action::PrintForm)?;
            let child = r.require::<Child>(case.body.child)?;
            scope.check_read_child(&child.body, Action::PrintForm)?;
            if form == FormKind::IntakeSheet && !reporter_allowed(actor, &case.body) {
                return Err(Error::Forbidden { action: Action::ViewReporter.as_str() });
            }
            let protections: Vec<Versioned<Protection>> = load_links(r, "case_protection", id)?;
            let meetings: Vec<Versioned<Meeting>> = load_links(r, "case_meeting", id)?;
            let supports: Vec<Versioned<Support>> = load_links(r, "case_support", id)?;
            let checks: Vec<Versioned<SafetyCheck>> = load_links(r, "case_check", id)?;
            let assessments: Vec<Versioned<Assessment>> = load_links(r, "case_assessment", id)?;
            let petitions: Vec<Versioned<CourtPetition>> = load_links(r, "case_petition", id)?;
            let mut recent = newest(&meetings, &supports, &checks, &assessments, &petitions);
            // What the options name, of this case only (a 措置 notified, a petition of the
            // form's kind); else the newest.
            if let Some(m) = one(&meetings, options.meeting.map(|m| m.0), "meeting", |_| true)? {
                recent.meeting = Some(m);
            }
            if let Some(s) = one(&supports, options.support.map(|s| s.0), "support", is_notified_measure)? {
                recent.support = Some(s);
            }
            if let Some(c) = one(&checks, options.check.map(|c| c.0), "safety_check", |_| true)? {
                recent.check = Some(c);
            }
            if let Some(a) = one(&assessments, options.assessment.map(|a| a.0), "assessment", |_| true)? {
                recent.assessment = Some(a);
            }
            let kind = petition_kind(form);
            let petition =
                one(&petitions, options.petition.map(|p| p.0), "court_petition", |p| Some(p.kind) == kind)?;
            match (petition, form) {
                (Some(p), FormKind::ExtensionPetition) => recent.extension = Some(p),
                (Some(p), _) => recent.placement = Some(p),
                (None, _) => {}
            }
            let day = form_day(&case.body, &protections, recent, form, now.jst_date())
                .ok_or_else(|| Error::not_found("form", form.slug()))?;
            // A notice as issued, kept when it was recorded: the exact paper, audited as printed.
            if let Some((issued, bytes)) = issued(r, (latest(&protections), recent.support), form, options)? {
                let detail =
                    format!("form {} v{} sha256 {} (as issued)", form.slug(), issued.version, sha_of(&bytes));
                let file_name = format!("{}_{}.pdf", issued.title, case.body.case_no);
                let sha256 = sha_of(&bytes);
                return Ok((PrintedForm { pdf: bytes, file_name, template: issued, sha256 }, Some(detail)));
            }
            let template = match options.version {
                Some(v) => forms::version(form, v),
                None => forms::template(form, day),
            }
            .ok_or_else(|| Error::not_found("form", form.slug()))?;
            let sources = Sources {
                protection: latest(&protections),
                meeting: recent.meeting,
                support: recent.support,
                check: recent.check,
                assessment: recent.assessment,
                petition: if form == FormKind::ExtensionPetition {
                    recent.extension
                } else {
                    recent.placement
                },
                period: options.period,
            };
            let (facts, made) = facts(r, &case, &child.body, &sources, (form, template), now)?;
            let composed = forms::compose(template, &facts, made.jst_date(), made)?;
            let pdf = mamoru_pdf::render(&composed).map_err(|e| match e {
                mamoru_pdf::Error::MissingGlyph { ch, code, .. } => {
                    Error::invalid("form", crate::error::Why::Unprintable(format!("「{ch}」(U+{code:04X})")))
                }
                other => Error::Corrupt(format!("form {}: {other}", form.slug())),
            })?;
            let sha256 = crate::to_hex(&Sha256::digest(&pdf));
            let detail = format!("form {} v{} sha256 {sha256}", form.slug(), template.version);
            let file_name = format!("{}_{}.pdf", template.title, case.body.case_no);
            Ok((PrintedForm { pdf, file_name, template, sha256 }, Some(detail)))
        })
    }
}

/// The record `id` of `list` (the case's) when it `fits`, or none asked for (`Ok(None)`); one
/// the case does not have is not found.
fn one<'a, T>(
    list: &'a [Versioned<T>],
    id: Option<u64>,
    what: &'static str,
    fits: impl Fn(&T) -> bool,
) -> Result<Option<&'a T>> {
    id.map(|id| {
        list.iter()
            .find(|v| v.id == id && fits(&v.body))
            .map(|v| &v.body)
            .ok_or_else(|| Error::not_found(what, id))
    })
    .transpose()
}

/// The SHA-256 of `bytes`, in hex (as the audit entry and the store's files name a PDF).
fn sha_of(bytes: &[u8]) -> String {
    crate::to_hex(&Sha256::digest(bytes))
}

fn notice_kind(form: FormKind) -> Option<NoticeKind> {
    match form {
        FormKind::ProtectionStartNotice => Some(NoticeKind::Start),
        FormKind::ProtectionEndNotice => Some(NoticeKind::End),
        _ => None,
    }
}

/// The notice `form` as it was issued (a protection's latest of that kind, the 措置's), when the
/// store keeps it and no other version is asked for.
fn issued(
    r: &ReadTx,
    (protection, support): (Option<&Protection>, Option<&Support>),
    form: FormKind,
    options: &FormOptions,
) -> Result<Option<(&'static Template, Vec<u8>)>> {
    let kept = match (notice_kind(form), protection) {
        (Some(kind), Some(p)) => p.notices.iter().rev().find(|n| n.kind == kind).and_then(|n| n.pdf.as_ref()),
        _ if form == FormKind::SupportNotice => support.and_then(|s| s.notice_pdf.as_ref()),
        _ => None,
    };
    let Some(pdf) = kept else { return Ok(None) };
    if options.version.is_some_and(|v| v != pdf.template) {
        return Ok(None);
    }
    let (Some(template), Some(bytes)) = (forms::version(form, pdf.template), r.file(&pdf.sha256)?) else {
        return Ok(None);
    };
    Ok(Some((template, bytes)))
}

/// The PDF of notice `i` of `p` (a start's or an end's) as issued: filled from the records as
/// they stand in `tx`, made at the notice's time, kept in the store's files. None for a notice
/// Mamoru has no form for (an extension's) or cannot print (a character the fonts lack): the
/// step is recorded all the same.
pub(super) fn issue_notice(
    tx: &mut WriteTx,
    case: &Versioned<Case>,
    p: &Protection,
    i: usize,
) -> Result<Option<IssuedPdf>> {
    let n = &p.notices[i];
    let (form, day) = match n.kind {
        NoticeKind::Start => (FormKind::ProtectionStartNotice, p.started_at.jst_date()),
        NoticeKind::End => match &p.ended {
            Some(e) => (FormKind::ProtectionEndNotice, e.at.jst_date()),
            None => return Ok(None),
        },
        NoticeKind::Extension => return Ok(None),
    };
    let Some(template) = forms::template(form, day) else { return Ok(None) };
    let child = tx.require::<Child>(case.body.child)?;
    let sources = Sources {
        protection: Some(p),
        meeting: None,
        support: None,
        check: None,
        assessment: None,
        petition: None,
        period: Period::default(),
    };
    let (facts, _) = facts(&*tx, case, &child.body, &sources, (form, template), n.issued_at)?;
    let Ok(composed) = forms::compose(template, &facts, n.issued_at.jst_date(), n.issued_at) else {
        return Ok(None);
    };
    let Ok(pdf) = mamoru_pdf::render(&composed) else { return Ok(None) };
    let sha256 = sha_of(&pdf);
    tx.put_file(&sha256, &pdf)?;
    Ok(Some(IssuedPdf { sha256, template: template.version }))
}

/// The 措置決定通知書 of `s` as issued: filled from the records as they stand in `tx`, dated
/// the day recorded as issued, kept in the store's files. None for a decision not notified (no
/// 措置, not in force under 決裁, no day issued) or one that cannot print (a character the fonts
/// lack): the decision is recorded all the same.
pub(super) fn issue_support_notice(
    tx: &mut WriteTx,
    case: &Versioned<Case>,
    s: &Support,
) -> Result<Option<IssuedPdf>> {
    if s.notice_issued_on.is_none() || !is_notified_measure(s) {
        return Ok(None);
    }
    let form = FormKind::SupportNotice;
    let Some(template) = forms::template(form, s.decided_on) else { return Ok(None) };
    let child = tx.require::<Child>(case.body.child)?;
    let sources = Sources {
        protection: None,
        meeting: None,
        support: Some(s),
        check: None,
        assessment: None,
        petition: None,
        period: Period::default(),
    };
    let now = tx.now;
    let (facts, made) = facts(&*tx, case, &child.body, &sources, (form, template), now)?;
    let Ok(composed) = forms::compose(template, &facts, made.jst_date(), made) else { return Ok(None) };
    let Ok(pdf) = mamoru_pdf::render(&composed) else { return Ok(None) };
    let sha256 = sha_of(&pdf);
    tx.put_file(&sha256, &pdf)?;
    Ok(Some(IssuedPdf { sha256, template: template.version }))
}

/// The records a form is filled from besides the case and the child.
struct Sources<'a> {
    protection: Option<&'a Protection>,
    meeting: Option<&'a Meeting>,
    support: Option<&'a Support>,
    check: Option<&'a SafetyCheck>,
    assessment: Option<&'a Assessment>,
    petition: Option<&'a CourtPetition>,
    period: Period,
}

/// What `form` is filled from, and when it is made: a paper of a record is made as of that
/// record (a notice when it was recorded as issued, minutes when the meeting was held, a
/// petition the day it was filed), so printing it again gives the same paper; anything else now.
fn facts(
    r: &impl Reader,
    case: &Versioned<Case>,
    child: &Child,
    sources: &Sources<'_>,
    (form, template): (FormKind, &Template),
    now: Timestamp,
) -> Result<(Facts, Timestamp)> {
    let c = &case.body;
    let unit = r.require::<Unit>(c.unit)?;
    let mut facts = Facts {
        issuer: format!("{}長", unit.body.name),
        case_no: c.case_no.clone(),
        child_name: child.name.full(),
        child_kana: child.name.full_kana(),
        child_birth: child.birth_date.filter(|_| !child.unborn),
        child_address: child.address.clone(),
        guardians: guardians(r, child.household)?,
        ..Facts::default()
    };
    let mut made = now;
    match form {
        FormKind::IntakeSheet => intake_facts(r, case, template, &mut facts)?,
        FormKind::AssessmentSheet => {
            let a = sources.assessment.ok_or_else(|| Error::not_found("form", form.slug()))?;
            made = assessment_facts(r, a, &mut facts)?;
        }
        FormKind::SafetyCheckRecord => {
            let c = sources.check.ok_or_else(|| Error::not_found("form", form.slug()))?;
            check_facts(r, c, &mut facts)?;
            // Dated as the check was made: printed again, the same paper.
            made = c.at;
        }
        FormKind::ChildRecord => record_facts(r, c, child, &mut facts)?,
        FormKind::ExtensionPetition | FormKind::PlacementPetition => {
            let p = sources.petition.ok_or_else(|| Error::not_found("form", form.slug()))?;
            made = petition_facts(r, p, &mut facts)?;
        }
        FormKind::WarrantRequest => {
            let p = sources.protection.ok_or_else(|| Error::not_found("form", form.slug()))?;
            protection_facts(&mut facts, p);
            // The judge is told where the child is; a notice to the family never is.
            if !p.place.trim().is_empty() {
                facts.protection_place = format!("{}（{}）", facts.protection_place, p.place.trim());
            }
            facts.guardian_consent = Some(p.guardian_consent);
            facts.warrant_requested_at = p.warrant.as_ref().map(|w| w.requested_at);
            facts.warrant_due = Some(p.warrant_due());
            // Once the request is made, what it attached: the records made up to it.
            let until = p.warrant.as_ref().map_or(Timestamp(i64::MAX), |w| w.requested_at);
            let hearing: Vec<(String, &crate::case::Hearing)> =
                p.hearing.iter().map(|h| ("hearing".to_owned(), h)).collect();
            facts.evidence = super::court::documents(r, case, &hearing, until)?
                .into_iter()
                .map(|d| EvidenceFacts { title: d.title, made_on: d.made_on, withhold: None })
                .collect();
            // Once requested, dated as requested: printed again, the same paper.
            if let Some(w) = &p.warrant {
                made = w.requested_at;
            }
        }
        FormKind::ProtectionStartNotice | FormKind::ProtectionEndNotice => {
            let p = sources.protection.ok_or_else(|| Error::not_found("form", form.slug()))?;
            protection_facts(&mut facts, p);
            let kind =
                if form == FormKind::ProtectionStartNotice { NoticeKind::Start } else { NoticeKind::End };
            if let Some(n) = p.notices.iter().rev().find(|n| n.kind == kind) {
                made = n.issued_at;
            }
        }
        FormKind::Notes => {
            let kinds = Service::code_table(r, "note_kind")?;
            let mut notes = Vec::new();
            for id in r.links("case_note", case.id, usize::MAX)? {
                let n = r.require::<Note>(NoteId(id))?.body;
                let d = n.at.jst_date();
                let period = sources.period;
                if period.from.is_some_and(|f| d < f) || period.to.is_some_and(|t| d > t) {
                    continue;
                }
                let author = match n.legacy_author() {
                    Some(name) => format!("{name}（移行）"),
                    None => staff_name(r, n.author)?,
                };
                notes.push(NoteFacts { at: n.at, author, kind: label(&kinds, &n.kind), body: n.body });
            }
            notes.sort_by_key(|n| n.at);
            facts.notes = notes;
        }
        FormKind::MeetingMinutes => {
            let m = sources.meeting.ok_or_else(|| Error::not_found("form", form.slug()))?;
            facts.meeting_kind = label(&Service::code_table(r, "meeting_kind")?, &m.kind);
            facts.meeting_at = Some(m.at);
            for s in &m.attendees {
                facts.meeting_attendees.push(staff_name(r, *s)?);
            }
            facts.meeting_attendees.extend(m.outside_attendees.iter().cloned());
            facts.meeting_decisions.clone_from(&m.decisions);
            // Minutes are of the meeting: made as of when it was held, printed again the same.
            made = m.at;
        }
        FormKind::SupportNotice => {
            let s = sources.support.ok_or_else(|| Error::not_found("form", form.slug()))?;
            facts.support_kind = label(&Service::code_table(r, "support_kind")?, &s.kind);
            facts.support_decided_on = Some(s.decided_on);
            facts.support_start = s.start;
            facts.support_facility.clone_from(&s.facility);
            // Dated the day it was issued, once recorded: printed again, the same paper.
            if let Some(day) = s.notice_issued_on {
                made = Timestamp::jst_midnight(day);
            }
        }
    }
    Ok((facts, made))
}

/// Which petitions form `form` prints.
fn petition_kind(form: FormKind) -> Option<PetitionKind> {
    match form {
        FormKind::ExtensionPetition => Some(PetitionKind::ProtectionExtension),
        FormKind::PlacementPetition => Some(PetitionKind::Placement),
        _ => None,
    }
}

/// What a petition says: its aim, grounds and documents as prepared (each marked 非開示希望 or
/// not), the protection it continues (where the child is, the judge may know; the period's last
/// day) or the placement it asks for. Dated the day filed, else when last prepared: printed
/// again, the same paper.
fn petition_facts(r: &impl Reader, p: &CourtPetition, facts: &mut Facts) -> Result<Timestamp> {
    facts.petition_grounds.clone_from(&p.grounds);
    facts.petition_filed_on = p.filed_on;
    facts.petition_aim = crate::case::petition_aim(p.kind, p.placement.as_ref().map(Code::as_str));
    facts.evidence = p
        .documents
        .iter()
        .map(|d| EvidenceFacts { title: d.title.clone(), made_on: d.made_on, withhold: Some(d.withhold) })
        .collect();
    if let Some(code) = &p.placement {
        facts.petition_placement = label(&Service::code_table(r, "support_kind")?, code);
    }
    if let Some(id) = p.protection
        && let Some(pr) = r.get::<Protection>(id)?
    {
        protection_facts(facts, &pr.body);
        if !pr.body.place.trim().is_empty() {
            facts.protection_place = format!("{}（{}）", facts.protection_place, pr.body.place.trim());
        }
        facts.guardian_consent = Some(pr.body.guardian_consent);
        facts.protection_until = Some(pr.body.period_end().plus_days(-1));
    }
    Ok(p.filed_on.map_or(p.prepared_at, Timestamp::jst_midnight))
}

/// What the 児童記録票 says besides the child's name and birth: the intake, the face sheet, the
/// workers, the 判定 and opinion, and the household.
fn record_facts(r: &impl Reader, c: &Case, child: &Child, facts: &mut Facts) -> Result<()> {
    facts.received_at = Some(c.intake.received_at);
    facts.route = label(&Service::code_table(r, "route")?, &c.intake.route);
    facts.consultation_type =
        label(&Service::code_table(r, "consultation_type")?, &c.intake.consultation_type);
    facts.chief_complaint.clone_from(&c.intake.chief_complaint);
    child.sex.label().clone_into(&mut facts.child_sex);
    facts.child_phones.clone_from(&child.phones);
    facts.child_affiliation.clone_from(&child.affiliation);
    facts.child_nationality.clone_from(&child.nationality);
    facts.child_certificates.clone_from(&child.disability_certificates);
    for s in &c.assigned {
        facts.workers.push(staff_name(r, *s)?);
    }
    facts.judgement.clone_from(&c.judgement);
    facts.worker_opinion.clone_from(&c.worker_opinion);
    facts.household = household(r, c.child, child)?;
    Ok(())
}

/// What an assessment sheet says: the sheet, who filled it when, the result, each question with
/// its answer; its 決裁欄 stamped — 担当 by who asked, the approver's column by their role —
/// once approved. Returns when the paper is dated: its 決裁, else when it was filled.
fn assessment_facts(r: &impl Reader, a: &Assessment, facts: &mut Facts) -> Result<Timestamp> {
    let sheet = r
        .history::<crate::assessment::AssessmentSheet>(a.sheet)?
        .into_iter()
        .rev()
        .find(|s| s.body.version == a.sheet_version)
        .or(r.get::<crate::assessment::AssessmentSheet>(a.sheet)?)
        .ok_or_else(|| Error::not_found("assessment_sheet", a.sheet.0))?
        .body;
    facts.assessment_name.clone_from(&sheet.name);
    facts.assessment_version = a.sheet_version;
    facts.assessment_at = Some(a.at);
    facts.assessment_by = staff_name(r, a.by)?;
    facts.assessment_result.clone_from(&a.result_label);
    facts.answers = sheet.questions.iter().map(|q| (q.text.clone(), a.answers.get(&q.id).copied())).collect();
    let mut made = a.at;
    if let Some(approval) = &a.approval
        && let Some(d) = approval.decision.as_ref().filter(|d| d.verdict == crate::case::Verdict::Approved)
    {
        let approver = r.get::<Staff>(d.by)?;
        let column = match approver.as_ref().map(|s| s.body.role) {
            Some(crate::staff::Role::Head) => "所長",
            _ => "係長",
        };
        facts.approvals = vec![
            (column.to_owned(), approver.map(|s| s.body.display_name).unwrap_or_default(), d.at.jst_date()),
            ("担当".to_owned(), staff_name(r, approval.asked_by)?, approval.asked_at.jst_date()),
        ];
        made = d.at;
    }
    Ok(made)
}

/// What the 安全確認記録 says of a check: how, by whom, where, the child's state, each mark on
/// the body map named by the figure's regions, and how many photos were attached.
fn check_facts(r: &impl Reader, c: &SafetyCheck, facts: &mut Facts) -> Result<()> {
    use crate::case::BodySide;
    facts.check_at = Some(c.at);
    super::court::method_label(c.method).clone_into(&mut facts.check_method);
    facts.check_seen = Some(c.seen_directly);
    for s in &c.by {
        facts.check_by.push(staff_name(r, *s)?);
    }
    facts.check_agency.clone_from(&c.agency);
    facts.check_place.clone_from(&c.place);
    facts.check_state.clone_from(&c.child_state);
    facts.check_photos = c.attachments.len();
    // Each photo as stored (re-encoded as JPEG when it was received: `crate::photo`), numbered
    // as the list of marks names them; one missing from the files is said, not skipped.
    for (i, a) in c.attachments.iter().enumerate() {
        let when = a.taken_at.map(|t| format!("（{}）", crate::forms::datetime(t))).unwrap_or_default();
        let caption = if a.caption.trim().is_empty() {
            format!("写真{}{when}", i + 1)
        } else {
            format!("写真{} {}{when}", i + 1, a.caption.trim())
        };
        match r.file(&a.sha256)? {
            Some(bytes) if crate::case::image_type(&bytes) == Some("image/jpeg") => {
                facts.check_photo_files.push((caption, bytes));
            }
            _ => {
                return Err(Error::Corrupt(format!(
                    "the photo {} of a safety check is not in the store",
                    a.sha256
                )));
            }
        }
    }
    facts.injuries = c
        .injuries
        .iter()
        .map(|i| InjuryFacts {
            front: i.side == BodySide::Front,
            x: i.x,
            y: i.y,
            part: i.part().unwrap_or_default(),
            size_cm: i.size_cm,
            description: i.description.clone(),
            photo: i.photo.is_some(),
        })
        .collect();
    Ok(())
}

/// What the intake sheet says: the intake as received, and the reporter (a form kept inside
/// the centre only).
fn intake_facts(
    r: &impl Reader,
    case: &Versioned<Case>,
    template: &Template,
    facts: &mut Facts,
) -> Result<()> {
    let c = &case.body;
    facts.received_at = Some(c.intake.received_at);
    (if c.intake.kind == IntakeKind::AbuseReport { "虐待通告" } else { "相談" })
        .clone_into(&mut facts.intake_kind);
    facts.route = label(&Service::code_table(r, "route")?, &c.intake.route);
    facts.consultation_type =
        label(&Service::code_table(r, "consultation_type")?, &c.intake.consultation_type);
    facts.chief_complaint.clone_from(&c.intake.chief_complaint);
    facts.content.clone_from(&c.intake.content);
    if let Some(a) = &c.abuse {
        let table = Service::code_table(r, "abuse_type")?;
        facts.abuse_types = a.types.iter().map(|t| label(&table, t)).collect::<Vec<_>>().join("、");
    }
    if !template.goes_out()
        && let Some(rep) = r.get::<Reporter>(ReporterId(case.id))?
    {
        let rep = rep.body;
        facts.reporter = Some(if rep.anonymous {
            ReporterFacts { name: "（匿名）".into(), relation: rep.relation, phone: String::new() }
        } else {
            ReporterFacts { name: rep.name, relation: rep.relation, phone: rep.phone }
        });
    }
    Ok(())
}

/// What the protection forms say of the protection (the kind of place, never where: a notice
/// goes to the family).
fn protection_facts(facts: &mut Facts, p: &Protection) {
    facts.protection_start = Some(p.started_at);
    facts.protection_place = match p.place_kind {
        crate::protection::PlaceKind::Shelter => "一時保護所".to_owned(),
        crate::protection::PlaceKind::Entrusted => "一時保護委託先".to_owned(),
    };
    facts.protection_reason.clone_from(&p.reason);
    if let Some(end) = &p.ended {
        facts.protection_end = Some(end.at);
        facts.protection_end_reason.clone_from(&end.reason);
    }
}

fn staff_name(r: &impl Reader, id: StaffId) -> Result<String> {
    Ok(r.get::<Staff>(id)?.map(|s| s.body.display_name).unwrap_or_default())
}

/// The child's household as the 児童記録票 lists it: the child first (本人), then each member
/// with their standing to this child. A sibling restricted (閲覧制限) is never named on paper.
fn household(r: &impl Reader, id: crate::ids::ChildId, child: &Child) -> Result<Vec<MemberFacts>> {
    let Some(h) = child.household else { return Ok(Vec::new()) };
    let Some(h) = r.get::<Household>(h)? else { return Ok(Vec::new()) };
    let relations = Service::code_table(r, "relation")?;
    let mut out = Vec::new();
    for m in &h.body.members {
        let standing = m.standing_to(id);
        let relation = label(&relations, &standing.relation);
        let (name, birth, relation, sex) = match m.who {
            MemberRef::Child(c) if c == id => {
                (child.name.full(), child.birth_date.filter(|_| !child.unborn), "本人".to_owned(), child.sex)
            }
            MemberRef::Child(c) => match r.get::<Child>(c)? {
                Some(s) if s.body.restricted_to.is_none() => {
                    (s.body.name.full(), s.body.birth_date, relation, s.body.sex)
                }
                // Restricted: neither name nor sex on paper.
                _ => ("（閲覧制限）".to_owned(), None, relation, crate::person::Sex::Unknown),
            },
            MemberRef::Person(p) => match r.get::<Person>(PersonId(p.0))? {
                Some(p) => (p.body.name.full(), p.body.birth_date, relation, p.body.sex),
                None => continue,
            },
        };
        let person = crate::genogram::Member {
            me: m.who == MemberRef::Child(id),
            child: matches!(m.who, MemberRef::Child(_)),
            name,
            birth_date: birth,
            sex,
            relation: standing.relation.as_str().to_owned(),
            relation_label: relation,
            cohabiting: m.cohabiting,
        };
        out.push(MemberFacts { person, guardian: standing.guardian, custody: standing.custody });
    }
    // The child first, as the sheet is of them.
    out.sort_by_key(|m| !m.person.me);
    Ok(out)
}

/// The names of the household's guardians (保護者), as a notice is addressed.
fn guardians(r: &impl Reader, household: Option<HouseholdId>) -> Result<Vec<String>> {
    let Some(h) = household else { return Ok(Vec::new()) };
    let Some(h) = r.get::<Household>(h)? else { return Ok(Vec::new()) };
    let mut names = Vec::new();
    for m in h.body.members.iter().filter(|m| m.guardian) {
        if let MemberRef::Person(p) = m.who
            && let Some(p) = r.get::<Person>(PersonId(p.0))?
        {
            names.push(p.body.name.full());
        }
    }
    Ok(names)
}
