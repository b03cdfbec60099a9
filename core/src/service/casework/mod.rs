//! Case work: opening a case from an intake, the reporter, notes, safety checks, assessments,
//! protection steps, support decisions, meetings, closure, and the board of legal clocks. Every
//! write that can move a clock recomputes the case's clocks in the same transaction.

mod approvals;
mod assignments;
mod board;
mod cases;
mod protections;
mod records;
mod supports;

pub use approvals::ApprovalDone;
pub use assignments::{CaseloadItem, CaseloadView, Contact, LoadsView, QUIET_DAYS, WorkerLoad};
use board::BoardNames;
pub use board::{BoardFilter, BoardItem, HOME_CLOCKS, HomeView, MessageItem};
pub use cases::IntakePageView;
use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use crate::assessment::AssessmentSheet;
use crate::case::{
    Assessment, Case, CaseStatus, IntakeKind, Meeting, Message, Note, Photo, Reporter, SafetyCheck, Support,
};
use crate::code_table::CodeTable;
use crate::deadline;
use crate::error::Why;
use crate::error::{Error, Result};
use crate::ids::{CaseId, ChildId, MessageId, NoteId, RecordId, ReporterId, StaffId};
use crate::person::Child;
use crate::protection::{Protection, StepKind};
use crate::service::Service;
use crate::service::access::{self, Actor};
use crate::service::people::{ChildSummary, NewChild};
use crate::staff::Action;
use crate::store::{Reader, Versioned, WriteTx};
use crate::time::Timestamp;

/// A saved edit of a case's investigation.
#[derive(Clone, Debug, Serialize)]
pub struct CaseEdited {
    pub case: Versioned<Case>,
    /// Someone else saved an edit meanwhile, and both were kept (merged field by field). A resend
    /// of an edit already saved is not merged: nothing was written.
    pub merged: bool,
}

/// Who a new intake is about.
#[derive(Clone, Debug)]
pub enum IntakeChild {
    /// A child on file (the duplicate check found them, or the intake started from their page),
    /// with the family the intake names (added to the child's household unless already in it).
    Existing(ChildId, Vec<crate::service::family::NewMember>),
    /// A child not on file, registered with the case.
    New(Box<NewChild>),
}

/// What became of an intake.
#[derive(Clone, Debug)]
pub enum IntakeOutcome {
    Opened(Box<Versioned<Case>>),
    /// Children on file who may be the new child the intake names: nothing was stored; send it
    /// again with one of them, or confirmed as new.
    PossibleDuplicates(Vec<ChildSummary>),
}

/// Everything the case page shows, from one snapshot.
#[derive(Clone, Debug, Serialize)]
pub struct CaseView {
    pub case: Versioned<Case>,
    /// The child the case is about, read with it (no second read of the child is needed to
    /// name them).
    pub child: ChildSummary,
    pub clocks: Vec<BoardItem>,
    pub safety_checks: Vec<Versioned<SafetyCheck>>,
    pub protections: Vec<Versioned<Protection>>,
    /// The steps each protection (by id) can take now (`Protection::open_steps`).
    pub open_steps: BTreeMap<u64, Vec<StepKind>>,
    pub supports: Vec<Versioned<Support>>,
    pub assessments: Vec<Versioned<Assessment>>,
    /// The newest 50 notes, newest first.
    pub notes: Vec<Versioned<Note>>,
    /// The newest 50 messages of the case's thread, newest first.
    pub messages: Vec<Versioned<Message>>,
    /// The photos sent for the case, newest first, with their stamps (who, when); safety checks
    /// and notes name them by SHA-256.
    pub photos: Vec<Versioned<Photo>>,
    /// The meetings that discussed the case, oldest first.
    pub meetings: Vec<Versioned<Meeting>>,
    /// An open abuse report on which no assessment sheet has been filled yet (アセスメント未実施).
    pub assessment_missing: bool,
    /// The petitions to the family court prepared on the case, oldest first.
    pub petitions: Vec<Versioned<crate::case::CourtPetition>>,
    /// The forms (帳票) the case has now, for the reader.
    pub forms: Vec<crate::service::forms::FormOffer>,
    /// What the reader may do here (action names: role, unit, restriction, and for everything
    /// but `close_case` an open case), so that a page offers only the forms that would be
    /// accepted. `close_case` covers reopening a closed case.
    pub may: Vec<&'static str>,
}

/// Everything a page about one case shows, from one call: the case view (one audited read of
/// the case), and what draws it: code tables, assessment sheets, staff names, the active staff
/// of the case's unit (assignment, attendees), the time it was read, and the change-log position
/// read first (live updates start there, so a change made meanwhile still arrives).
#[derive(Clone, Debug)]
pub struct CasePageView {
    pub case: CaseView,
    pub code_tables: std::sync::Arc<[Versioned<CodeTable>]>,
    pub sheets: std::sync::Arc<[Versioned<AssessmentSheet>]>,
    pub staff_names: HashMap<StaffId, String>,
    pub unit_staff: Vec<(StaffId, String)>,
    /// Those of `unit_staff` who may be assigned the case (a role that works cases).
    pub workers: Vec<(StaffId, String)>,
    pub now: Timestamp,
    pub after: u64,
}

impl CaseView {
    /// Whether the reader may do `action` on this case (see `may`).
    pub fn may(&self, action: Action) -> bool {
        self.may.contains(&action.as_str())
    }
}

/// The actions on a case that the case view says yes or no to.
const CASE_ACTIONS: [Action; 13] = [
    Action::AddNote,
    Action::RecordSafetyCheck,
    Action::RecordProtection,
    Action::EditCase,
    Action::RecordAssessment,
    Action::RecordSupport,
    Action::RecordMeeting,
    Action::CloseCase,
    Action::AskClosure,
    Action::Approve,
    Action::RestrictCase,
    Action::ViewReporter,
    Action::AssignCases,
];

/// The records of a kind linked to a case (`case_protection`, `case_meeting`…), oldest first.
pub(in crate::service) fn load_links<T: crate::store::Record>(
    r: &impl Reader,
    rel: &str,
    case: CaseId,
) -> Result<Vec<Versioned<T>>> {
    let mut out = Vec::new();
    for id in r.links(rel, case.0, usize::MAX)? {
        out.push(r.require::<T>(T::Id::from(id))?);
    }
    out.reverse();
    Ok(out)
}

/// Recomputes and re-indexes a case's clocks (inside the caller's transaction).
pub(in crate::service) fn refresh_clocks(tx: &mut WriteTx, case_id: CaseId) -> Result<()> {
    let case = tx.require::<Case>(case_id)?;
    let checks: Vec<SafetyCheck> =
        load_links::<SafetyCheck>(tx, "case_check", case_id)?.into_iter().map(|v| v.body).collect();
    let protections: Vec<(u64, Protection)> = load_links::<Protection>(tx, "case_protection", case_id)?
        .into_iter()
        .map(|v| (v.id, v.body))
        .collect();
    let supports: Vec<(u64, Support)> =
        load_links::<Support>(tx, "case_support", case_id)?.into_iter().map(|v| (v.id, v.body)).collect();
    let assessments: Vec<Assessment> =
        load_links::<Assessment>(tx, "case_assessment", case_id)?.into_iter().map(|v| v.body).collect();
    let clocks = deadline::case_clocks(case_id, &case.body, &checks, &protections, &supports, &assessments);
    tx.set_case_clocks(case_id.0, &clocks)
}

/// The `unique` namespace of idempotency keys.
pub(super) const IDEMPOTENCY: &str = "idempotency";

/// The claimed key: per author and record kind, so one person's key cannot collide with another's.
pub(super) fn idempotency_claim(actor: &Actor, kind: &str, key: &str) -> Result<String> {
    let key = key.trim();
    if key.is_empty() || key.len() > 64 || !key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
        return Err(Error::invalid("idempotency_key", Why::KeyFormat));
    }
    Ok(format!("{kind}:{}:{key}", actor.staff.0))
}

/// The record an earlier call with the same claimed key stored, if any; the same key with other
/// content is refused rather than answered with that record.
pub(super) fn replayed<T: crate::store::Record>(
    tx: &WriteTx,
    claim: Option<&str>,
    same: impl FnOnce(&T) -> bool,
) -> Result<Option<Versioned<T>>> {
    let Some(id) = claim.map(|c| tx.unique(IDEMPOTENCY, c)).transpose()?.flatten() else { return Ok(None) };
    let v = tx.require::<T>(T::Id::from(id))?;
    if same(&v.body) {
        Ok(Some(v))
    } else {
        Err(Error::invalid("idempotency_key", Why::KeyReused(T::Id::KIND)))
    }
}

impl Service {
    /// The case page.
    pub fn case(&self, actor: &Actor, id: CaseId) -> Result<CaseView> {
        let now = self.now();
        self.read(actor, Action::ReadCase, CaseId::KIND, Some(id.0), |r| {
            let case = r.require::<Case>(id)?;
            let scope = access::Scope::of(r, actor)?;
            scope.check_read_case(&case.body, Action::ReadCase)?;
            let child = r.require::<Child>(case.body.child)?;
            scope.check_read_child(&child.body, Action::ReadCase)?;
            let workers = BoardNames::default().workers(r, &case.body.assigned)?;
            let clocks = r
                .case_clocks(id.0)?
                .into_iter()
                .map(|d| {
                    BoardItem::new(d, now, &case.body.case_no, Some(child.body.name.full()), workers.clone())
                })
                .collect();
            let mut notes = Vec::new();
            for n in r.links("case_note", id.0, 50)? {
                notes.push(r.require::<Note>(NoteId(n))?);
            }
            let mut messages = Vec::new();
            for m in r.links("case_message", id.0, 50)? {
                messages.push(r.require::<Message>(MessageId(m))?);
            }
            // Whether a reporter is on file (not who): the page offers to show them only then.
            let reporter_kept = r.get::<Reporter>(ReporterId(id.0))?.is_some();
            let may = |action: &Action| {
                actor.role.may(*action)
                    && (case.body.status == CaseStatus::Open
                        || matches!(
                            action,
                            Action::CloseCase | Action::RestrictCase | Action::ViewReporter | Action::Approve
                        ))
                    && (*action != Action::ViewReporter || reporter_kept)
                    && access::check_write_case(actor, &case.body, *action).is_ok()
            };
            let assessments: Vec<Versioned<Assessment>> = load_links(r, "case_assessment", id)?;
            let protections: Vec<Versioned<Protection>> = load_links(r, "case_protection", id)?;
            let meetings: Vec<Versioned<Meeting>> = load_links(r, "case_meeting", id)?;
            let supports: Vec<Versioned<Support>> = load_links(r, "case_support", id)?;
            let safety_checks = load_links(r, "case_check", id)?;
            let petitions: Vec<Versioned<crate::case::CourtPetition>> = load_links(r, "case_petition", id)?;
            Ok((
                CaseView {
                    forms: crate::service::forms::offers(
                        r,
                        actor,
                        &case.body,
                        &protections,
                        crate::service::forms::newest(
                            &meetings,
                            &supports,
                            &safety_checks,
                            &assessments,
                            &petitions,
                        ),
                        now.jst_date(),
                    )?,
                    open_steps: protections.iter().map(|p| (p.id, p.body.open_steps())).collect(),
                    may: CASE_ACTIONS.iter().filter(|a| may(a)).map(|a| a.as_str()).collect(),
                    assessment_missing: case.body.status == CaseStatus::Open
                        && case.body.intake.kind == IntakeKind::AbuseReport
                        && assessments.is_empty(),
                    meetings,
                    petitions,
                    clocks,
                    messages,
                    safety_checks,
                    protections,
                    supports,
                    assessments,
                    photos: load_links(r, "case_photo", id)?,
                    notes,
                    child: ChildSummary::of(&child),
                    case,
                },
                None,
            ))
        })
    }

    /// What a page about case `id` shows (`CasePageView`).
    pub fn case_page(&self, actor: &Actor, id: CaseId) -> Result<CasePageView> {
        // Read first: its change-log position is where the page's live updates start.
        let reference = self.reference()?;
        let after = reference.at;
        let case = self.case(actor, id)?;
        let directory = Self::staff_directory_of(actor, &reference.staff, case.case.body.unit)?;
        Ok(CasePageView {
            workers: directory.workers,
            code_tables: reference.code_tables.clone(),
            sheets: reference.sheets.clone(),
            staff_names: directory.names,
            unit_staff: directory.in_unit,
            now: self.now(),
            after,
            case,
        })
    }

    /// The case page for a task on the case (調査・判定, アセスメント, 援助・措置, 会議): refused
    /// unless the reader may do `action` on this case now, as the case page offers it.
    pub fn case_task_page(&self, actor: &Actor, id: CaseId, action: Action) -> Result<CasePageView> {
        let view = self.case_page(actor, id)?;
        if view.case.may(action) { Ok(view) } else { Err(Error::Forbidden { action: action.as_str() }) }
    }
}
