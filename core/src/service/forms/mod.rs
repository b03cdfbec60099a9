//! 帳票: a case's forms as PDF. Which forms apply, and each one filled from the case, the child,
//! the household and the protection in one audited read (`print_form`) whose entry names the
//! template's version and the PDF's SHA-256 — so the exact paper can be shown to have been
//! printed, and made again with the same version.

use sha2::{Digest, Sha256};

mod facts;
mod templates;

pub use templates::{Added, TemplateEntry};

use super::casework::load_links;
use super::{Actor, Service, access};
use crate::case::{Assessment, Case, CourtPetition, Meeting, PetitionKind, SafetyCheck, Support};
use crate::code_table::{Code, CodeTable};
use crate::error::{Error, Result};
use crate::forms::{self, FormKind, Template};
use crate::ids::{AssessmentId, CaseId, CourtPetitionId, MeetingId, RecordId, SafetyCheckId, SupportId};
use crate::person::Child;
use crate::protection::{IssuedPdf, NoticeKind, Protection};
use crate::staff::Action;
use crate::store::{ReadTx, Reader, Versioned, WriteTx};
use crate::time::Date;
use facts::{Sources, facts, petition_kind};

/// A form the case has now.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct FormOffer {
    pub form: FormKind,
    pub title: String,
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
    pub template: Template,
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
    r: &impl Reader,
    actor: &Actor,
    case: &Case,
    protections: &[Versioned<Protection>],
    latest: Newest<'_>,
    today: Date,
) -> Result<Vec<FormOffer>> {
    let added = templates::added(r)?;
    Ok(FormKind::ALL
        .into_iter()
        .filter(|f| *f != FormKind::IntakeSheet || reporter_allowed(actor, case))
        .filter_map(|form| {
            let day = form_day(case, protections, latest, form, today)?;
            let t = forms::template(forms::builtin().iter().chain(&added), form, day)?;
            Some(FormOffer {
                form,
                title: t.title.clone(),
                version: t.version,
                family_facing: t.family_facing,
            })
        })
        .collect())
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
            let offers = offers(r, actor, &case.body, &load_links(r, "case_protection", id)?, latest, today)?;
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
            let templates = templates::all(r)?;
            let template = match options.version {
                Some(v) => forms::version(&templates, form, v),
                None => forms::template(&templates, form, day),
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
            let pdf = mamoru_pdf::render(&composed).map_err(|e| pdf_error(form, e))?;
            let sha256 = crate::to_hex(&Sha256::digest(&pdf));
            let detail = format!("form {} v{} sha256 {sha256}", form.slug(), template.version);
            let file_name = format!("{}_{}.pdf", template.title, case.body.case_no);
            Ok((PrintedForm { pdf, file_name, template: template.clone(), sha256 }, Some(detail)))
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

/// A PDF the engine could not make: a character the fonts lack (named, the user's to fix), or
/// something wrong in the engine.
fn pdf_error(form: FormKind, e: mamoru_pdf::Error) -> Error {
    match e {
        mamoru_pdf::Error::MissingGlyph { ch, code, .. } => {
            Error::invalid("form", crate::error::Why::Unprintable(format!("「{ch}」(U+{code:04X})")))
        }
        other => Error::Corrupt(format!("form {}: {other}", form.slug())),
    }
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
) -> Result<Option<(Template, Vec<u8>)>> {
    let kept = match (notice_kind(form), protection) {
        (Some(kind), Some(p)) => p.notices.iter().rev().find(|n| n.kind == kind).and_then(|n| n.pdf.as_ref()),
        _ if form == FormKind::SupportNotice => support.and_then(|s| s.notice_pdf.as_ref()),
        _ => None,
    };
    let Some(pdf) = kept else { return Ok(None) };
    if options.version.is_some_and(|v| v != pdf.template) {
        return Ok(None);
    }
    let templates = templates::all(r)?;
    let (Some(template), Some(bytes)) =
        (forms::version(&templates, form, pdf.template), r.file(&pdf.sha256)?)
    else {
        return Ok(None);
    };
    Ok(Some((template.clone(), bytes)))
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
    let templates = templates::all(&*tx)?;
    let Some(template) = forms::template(&templates, form, day) else { return Ok(None) };
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
    let templates = templates::all(&*tx)?;
    let Some(template) = forms::template(&templates, form, s.decided_on) else { return Ok(None) };
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
