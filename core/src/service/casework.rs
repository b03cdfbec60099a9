//! Case work: opening a case from an intake, the reporter, notes, safety checks, assessments,
//! protection steps, support decisions, meetings, closure, and the board of legal clocks. Every
//! write that can move a clock recomputes the case's clocks in the same transaction.

use std::collections::BTreeMap;

use serde::Serialize;

use super::Service;
use super::access::{self, Actor};
use super::merging;
use super::people::{ChildSummary, NewChild, insert_child};
use crate::case::{
    AbuseDetails, Assessment, Case, CaseEdit, CaseStatus, Closure, Hearing, Intake, IntakeKind,
    MESSAGE_MAX_CHARS, Meeting, Message, NewCase, NewMeeting, NewNote, NewSafetyCheck, Note, Photo, Reporter,
    SafetyCheck, Support, SupportDecision,
};
use crate::code_table;
use crate::deadline::{self, ClockStatus, Deadline};
use crate::error::{Error, Result};
use crate::ids::{
    AssessmentId, CaseId, ChildId, MeetingId, MessageId, NoteId, ProtectionId, RecordId, ReporterId,
    SafetyCheckId, StaffId, SupportId, UnitId,
};
use crate::merge::Merged;
use crate::person::{Attachment, Child};
use crate::protection::{Applied, Protection, ProtectionStep, StartProtection, StepKind};
use crate::staff::{Action, Role, Staff, Unit};
use crate::store::{Reader, Versioned, WriteTx};
use crate::time::Timestamp;
use crate::wareki;

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
    /// A child on file (the duplicate check found them, or the intake started from their page).
    Existing(ChildId),
    /// A child not on file, registered with the case.
    New(NewChild),
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
    /// What the reader may do here (action names: role, unit, restriction, and for everything
    /// but `close_case` an open case), so that a page offers only the forms that would be
    /// accepted. `close_case` covers reopening a closed case.
    pub may: Vec<&'static str>,
}

impl CaseView {
    /// Whether the reader may do `action` on this case (see `may`).
    pub fn may(&self, action: Action) -> bool {
        self.may.contains(&action.as_str())
    }
}

/// The actions on a case that the case view says yes or no to.
const CASE_ACTIONS: [Action; 8] = [
    Action::AddNote,
    Action::RecordSafetyCheck,
    Action::RecordProtection,
    Action::EditCase,
    Action::RecordAssessment,
    Action::RecordSupport,
    Action::RecordMeeting,
    Action::CloseCase,
];

/// A message on the board, with the number of its case.
#[derive(Clone, Debug, Serialize)]
pub struct MessageItem {
    pub message: Versioned<Message>,
    pub case_no: String,
}

/// One line of the board: a clock and how near it is.
#[derive(Clone, Debug, Serialize)]
pub struct BoardItem {
    pub deadline: Deadline,
    pub status: ClockStatus,
    pub label: &'static str,
    pub case_no: String,
    /// The due time in Japan time, `YYYY-MM-DDTHH:MM:SS+09:00`.
    pub due_jst: String,
}

impl BoardItem {
    fn new(deadline: Deadline, now: Timestamp, case_no: &str) -> Self {
        Self {
            status: deadline.status(now),
            label: deadline.kind.label(),
            case_no: case_no.to_owned(),
            due_jst: deadline.due.to_jst_string(),
            deadline,
        }
    }
}

fn load_links<T: crate::store::Record>(
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
fn refresh_clocks(tx: &mut WriteTx, case_id: CaseId) -> Result<()> {
    let case = tx.require::<Case>(case_id)?;
    let checks: Vec<SafetyCheck> =
        load_links::<SafetyCheck>(tx, "case_check", case_id)?.into_iter().map(|v| v.body).collect();
    let protections: Vec<(u64, Protection)> = load_links::<Protection>(tx, "case_protection", case_id)?
        .into_iter()
        .map(|v| (v.id, v.body))
        .collect();
    let supports: Vec<(u64, Support)> =
        load_links::<Support>(tx, "case_support", case_id)?.into_iter().map(|v| (v.id, v.body)).collect();
    let clocks = deadline::case_clocks(case_id, &case.body, &checks, &protections, &supports);
    tx.set_case_clocks(case_id.0, &clocks)
}

/// The days an urgent start leaves for the child's hearing, from the code table valid on `on`
/// (the seeded period on a store made before the table existed).
fn hearing_days(tx: &impl Reader, on: crate::time::Date) -> Result<u32> {
    match Service::code_table(tx, code_table::HEARING_AFTER_URGENT_START) {
        Ok(t) => t.body.days_on(on).ok_or_else(|| {
            Error::invalid_code(
                code_table::HEARING_AFTER_URGENT_START,
                "",
                &format!("no entry valid on {on}"),
            )
        }),
        Err(Error::NotFound { .. }) => Ok(code_table::HEARING_AFTER_URGENT_START_DAYS),
        Err(e) => Err(e),
    }
}

/// Checks every code of a case against its table on the intake date.
fn check_codes(tx: &impl Reader, intake: &Intake, abuse: Option<&AbuseDetails>) -> Result<()> {
    let on = intake.received_at.jst_date();
    Service::code_table(tx, "route")?.body.check(&intake.route, on)?;
    Service::code_table(tx, "consultation_type")?.body.check(&intake.consultation_type, on)?;
    if let Some(a) = abuse {
        let types = Service::code_table(tx, "abuse_type")?;
        for t in a.types.iter().chain(a.main_type.iter()) {
            types.body.check(t, on)?;
        }
        if let Some(p) = &a.main_perpetrator {
            Service::code_table(tx, "perpetrator")?.body.check(p, on)?;
        }
    }
    Ok(())
}

/// `body` with what an edit of the case never changes taken from the case as stored: the
/// intake (what was received starts the legal clocks), number, unit, child, status,
/// restriction, closure and links.
fn kept_out_of_edits(mut body: Case, stored: &Case) -> Case {
    body.unit = stored.unit;
    body.intake.clone_from(&stored.intake);
    body.case_no.clone_from(&stored.case_no);
    body.child = stored.child;
    body.status = stored.status;
    body.restricted_to.clone_from(&stored.restricted_to);
    body.closure.clone_from(&stored.closure);
    body.reopened_at.clone_from(&stored.reopened_at);
    body.linked_cases.clone_from(&stored.linked_cases);
    body
}

fn check_staff(tx: &impl Reader, staff: &[StaffId], unit: UnitId) -> Result<()> {
    for s in staff {
        let v = tx.require::<Staff>(*s)?;
        if !v.body.units.contains(&unit) || v.body.disabled {
            return Err(Error::invalid("assigned", format!("staff {s} is not active in the case's unit")));
        }
    }
    Ok(())
}

/// A support decision's code and dates in order, and a hearing that says what was heard or why
/// it could not be.
fn check_support(tx: &impl Reader, s: &Support, before: Option<&Support>) -> Result<()> {
    Service::code_table(tx, "support_kind")?.body.check(&s.kind, s.decided_on)?;
    if let (Some(start), Some(end)) = (s.start, s.end)
        && end < start
    {
        return Err(Error::invalid("end", "ends before it starts"));
    }
    if s.review_on.is_some_and(|r| r < s.decided_on) {
        return Err(Error::invalid("review_on", "is before the decision"));
    }
    if let Some(h) = &s.hearing
        && before.is_none_or(|b| b.hearing.as_ref() != Some(h))
    {
        h.check()?;
    }
    Ok(())
}

/// A hearing sent again unchanged but for who heard it (a form fills in its sender) stays the
/// one recorded: the child was heard by whoever heard them.
fn keep_hearer(new: &mut Option<Hearing>, old: Option<&Hearing>) {
    if let (Some(h), Some(was)) = (new.as_mut(), old)
        && h.same_as(was)
    {
        h.by = was.by;
    }
}

/// The `unique` namespace of idempotency keys.
const IDEMPOTENCY: &str = "idempotency";

/// The claimed key: per author and record kind, so one person's key cannot collide with another's.
fn idempotency_claim(actor: &Actor, kind: &str, key: &str) -> Result<String> {
    let key = key.trim();
    if key.is_empty() || key.len() > 64 || !key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
        return Err(Error::invalid("idempotency_key", "1 to 64 letters, digits or hyphens"));
    }
    Ok(format!("{kind}:{}:{key}", actor.staff.0))
}

/// The record an earlier call with the same claimed key stored, if any; the same key with other
/// content is refused rather than answered with that record.
fn replayed<T: crate::store::Record>(
    tx: &WriteTx,
    claim: Option<&str>,
    same: impl FnOnce(&T) -> bool,
) -> Result<Option<Versioned<T>>> {
    let Some(id) = claim.map(|c| tx.unique(IDEMPOTENCY, c)).transpose()?.flatten() else { return Ok(None) };
    let v = tx.require::<T>(T::Id::from(id))?;
    if same(&v.body) {
        Ok(Some(v))
    } else {
        Err(Error::invalid("idempotency_key", format!("already used for a different {}", T::Id::KIND)))
    }
}

/// Most marks one safety check's body map may hold.
pub const MAX_INJURIES: usize = 50;

/// Marks on the body map: on the outline (fractions of its width and height), a plausible size,
/// a note of reasonable length.
fn check_injuries(injuries: &[crate::case::Injury]) -> Result<()> {
    if injuries.len() > MAX_INJURIES {
        return Err(Error::invalid("injuries", format!("at most {MAX_INJURIES} marks")));
    }
    for i in injuries {
        if !(0.0..=1.0).contains(&i.x) || !(0.0..=1.0).contains(&i.y) {
            return Err(Error::invalid("injuries", "a mark outside the body map"));
        }
        if i.size_cm.is_some_and(|s| !(s > 0.0 && s <= 200.0)) {
            return Err(Error::invalid("injuries", "a size must be between 0 and 200 cm"));
        }
        if i.description.chars().count() > 500 {
            return Err(Error::invalid("injuries", "a note of at most 500 characters"));
        }
    }
    Ok(())
}

/// Whether a stored record and a retried one name the same photos (a retry is the same request).
fn same_files(stored: &[Attachment], retried: &[Attachment]) -> bool {
    let shas =
        |x: &[Attachment]| x.iter().map(|a| a.sha256.clone()).collect::<std::collections::BTreeSet<_>>();
    shas(stored) == shas(retried)
}

/// Checks and stores a new case from an intake: numbers it (`児-R7-00123`), stores the protected
/// reporter apart, links earlier cases of the child, and starts its clocks.
fn insert_case(tx: &mut WriteTx, actor: &Actor, child_id: ChildId, new: NewCase) -> Result<Versioned<Case>> {
    let unit = tx.require::<Unit>(new.unit)?;
    access::check_own_unit(actor, new.unit, Action::OpenCase)?;
    let child = tx.require::<Child>(child_id)?;
    access::Scope::of(tx, actor)?.check_read_child(&child.body, Action::OpenCase)?;
    let intake = new.intake.received_by(actor.staff);
    let abuse = new.abuse.map(AbuseDetails::with_main_type);
    check_codes(tx, &intake, abuse.as_ref())?;
    check_staff(tx, &new.assigned, new.unit)?;
    if intake.received_at > tx.now.plus(300) {
        return Err(Error::invalid("received_at", "is in the future"));
    }
    let fiscal_year = {
        let d = intake.received_at.jst_date();
        if d.month() >= 4 { d.year() } else { d.year() - 1 }
    };
    let n = tx.bump(&format!("case_no/{}/{fiscal_year}", new.unit.0))?;
    let case_no = format!("{}-{}-{n:05}", unit.body.case_prefix, wareki::fiscal_year_label(fiscal_year));
    let linked_cases: Vec<CaseId> =
        tx.links("child_case", child_id.0, usize::MAX)?.into_iter().map(CaseId).collect();
    let case = tx.insert(Case {
        unit: new.unit,
        case_no: case_no.clone(),
        child: child_id,
        status: CaseStatus::Open,
        intake,
        abuse,
        assigned: new.assigned,
        // A new case on a restricted child is restricted to the same staff.
        restricted_to: child.body.restricted_to.clone(),
        worker_opinion: String::new(),
        diagnoses: Vec::new(),
        judgement: String::new(),
        next_review: None,
        linked_cases,
        closure: None,
        reopened_at: Vec::new(),
    })?;
    tx.claim("case_no", &case_no, case.id)?;
    tx.link("child_case", child_id.0, case.id)?;
    if let Some(rep) = new.reporter {
        tx.insert_at(ReporterId(case.id), rep)?;
    }
    if !child.body.units.contains(&new.unit) {
        let mut body = child.body.clone();
        body.units.push(new.unit);
        tx.update(child_id, child.rev, body)?;
    }
    refresh_clocks(tx, CaseId(case.id))?;
    Ok(case)
}

impl Service {
    /// Opens a case on a child from an intake (see `insert_case`).
    pub fn open_case(&self, actor: &Actor, child: ChildId, new: NewCase) -> Result<Versioned<Case>> {
        self.write(actor, Action::OpenCase, CaseId::KIND, None, |tx| {
            let case = insert_case(tx, actor, child, new)?;
            Ok((case.clone(), case.id))
        })
    }

    /// Posts a message to the case's thread (field and office); anyone who may add notes to the
    /// case may post. A client may retry with the same idempotency key: one message is kept.
    pub fn post_message_once(
        &self,
        actor: &Actor,
        case: CaseId,
        body: &str,
        key: Option<&str>,
    ) -> Result<Versioned<Message>> {
        let claim = key.map(|k| idempotency_claim(actor, "message", k)).transpose()?;
        let body = body.trim().to_owned();
        self.write(actor, Action::AddNote, MessageId::KIND, None, |tx| {
            if let Some(done) =
                replayed::<Message>(tx, claim.as_deref(), |m| m.case == case && m.body == body)?
            {
                return Ok((done.clone(), done.id));
            }
            let c = tx.require::<Case>(case)?;
            access::check_write_case(actor, &c.body, Action::AddNote)?;
            if body.is_empty() {
                return Err(Error::invalid("body", "a message needs text"));
            }
            if body.chars().count() > MESSAGE_MAX_CHARS {
                return Err(Error::invalid("body", format!("at most {MESSAGE_MAX_CHARS} characters")));
            }
            let v =
                tx.insert(Message { case, child: c.body.child, at: tx.now, author: actor.staff, body })?;
            tx.link("case_message", case.0, v.id)?;
            tx.link("unit_message", c.body.unit.0, v.id)?;
            if let Some(c) = &claim {
                tx.claim(IDEMPOTENCY, c, v.id)?;
            }
            Ok((v.clone(), v.id))
        })
    }

    /// 新規受付: an intake or abuse report about a child on file (chosen after the duplicate
    /// check) or a new one, in one transaction, so that a refused case leaves no child behind.
    /// Before a new child is registered, children on file who may be the same are returned
    /// instead and nothing is stored, unless `confirmed_new`. A tablet may send it again (an
    /// idempotency key per draft): the same intake is answered with the case it opened the first
    /// time, without the duplicate check (which would find the child that intake registered).
    pub fn take_intake(
        &self,
        actor: &Actor,
        child: IntakeChild,
        new: NewCase,
        key: Option<&str>,
        confirmed_new: bool,
    ) -> Result<IntakeOutcome> {
        let claim = key.map(|k| idempotency_claim(actor, "intake", k)).transpose()?;
        let resent = match &claim {
            Some(c) => self.store.read()?.unique(IDEMPOTENCY, c)?.is_some(),
            None => false,
        };
        if let IntakeChild::New(c) = &child
            && !confirmed_new
            && !resent
        {
            let found = self.possible_duplicates(actor, c)?;
            if !found.is_empty() {
                return Ok(IntakeOutcome::PossibleDuplicates(found));
            }
        }
        let today = self.now().jst_date();
        let opened = self.write(actor, Action::OpenCase, CaseId::KIND, None, |tx| {
            let same = |c: &Case| {
                c.intake.received_at == new.intake.received_at && c.intake.content == new.intake.content
            };
            if let Some(done) = replayed::<Case>(tx, claim.as_deref(), same)? {
                return Ok((done.clone(), done.id));
            }
            let child = match child {
                IntakeChild::Existing(id) => id,
                IntakeChild::New(c) => {
                    if !actor.role.may(Action::RegisterChild) {
                        return Err(Error::Forbidden { action: Action::RegisterChild.as_str() });
                    }
                    insert_child(tx, actor, c, today)?
                }
            };
            let case = insert_case(tx, actor, child, new)?;
            if let Some(c) = &claim {
                tx.claim(IDEMPOTENCY, c, case.id)?;
            }
            Ok((case.clone(), case.id))
        })?;
        Ok(IntakeOutcome::Opened(Box::new(opened)))
    }

    /// The case page.
    pub fn case(&self, actor: &Actor, id: CaseId) -> Result<CaseView> {
        let now = self.now();
        self.read(actor, Action::ReadCase, CaseId::KIND, Some(id.0), |r| {
            let case = r.require::<Case>(id)?;
            access::Scope::of(r, actor)?.check_read_case(&case.body, Action::ReadCase)?;
            let clocks = r
                .case_clocks(id.0)?
                .into_iter()
                .map(|d| BoardItem::new(d, now, &case.body.case_no))
                .collect();
            let mut notes = Vec::new();
            for n in r.links("case_note", id.0, 50)? {
                notes.push(r.require::<Note>(NoteId(n))?);
            }
            let mut messages = Vec::new();
            for m in r.links("case_message", id.0, 50)? {
                messages.push(r.require::<Message>(MessageId(m))?);
            }
            let may = |action: &Action| {
                actor.role.may(*action)
                    && (case.body.status == CaseStatus::Open || *action == Action::CloseCase)
                    && access::check_write_case(actor, &case.body, *action).is_ok()
            };
            let assessments: Vec<Versioned<Assessment>> = load_links(r, "case_assessment", id)?;
            let protections: Vec<Versioned<Protection>> = load_links(r, "case_protection", id)?;
            Ok((
                CaseView {
                    open_steps: protections.iter().map(|p| (p.id, p.body.open_steps())).collect(),
                    may: CASE_ACTIONS.iter().filter(|a| may(a)).map(|a| a.as_str()).collect(),
                    assessment_missing: case.body.status == CaseStatus::Open
                        && case.body.intake.kind == IntakeKind::AbuseReport
                        && assessments.is_empty(),
                    meetings: load_links(r, "case_meeting", id)?,
                    clocks,
                    messages,
                    safety_checks: load_links(r, "case_check", id)?,
                    protections,
                    supports: load_links(r, "case_support", id)?,
                    assessments,
                    photos: load_links(r, "case_photo", id)?,
                    notes,
                    case,
                },
                None,
            ))
        })
    }

    /// Edits a case's working fields (assignment, abuse details, opinion, diagnoses, judgement,
    /// review date) as the edit form holds them, at the revision the editor started from:
    /// [`CaseEdit::applied_to`] the case as stored. Status, number, unit, child and restriction
    /// change only through their own calls.
    ///
    /// When someone else saved since `rev`, the two edits are merged field by field
    /// ([`Merge::merge`](crate::merge::Merge::merge) for `Case`); only a field both changed
    /// differently is a conflict, and then nothing is written. A diagnosis whose text is new is
    /// signed by the actor, now. An edit that changes nothing (a resend of one already saved)
    /// writes nothing and answers the current version; `merged` says whether an edit saved
    /// meanwhile was kept beside this one.
    pub fn edit_case(&self, actor: &Actor, id: CaseId, rev: u64, edit: &CaseEdit) -> Result<CaseEdited> {
        self.save_case(actor, id, rev, |current, now| edit.applied_to(current.clone(), actor.staff, now))
    }

    /// `edit_case` with the whole record sent back (the API's `PUT`), which may also change the
    /// main abuse type and the injuries; what only other calls change is kept as stored.
    pub fn update_case(&self, actor: &Actor, id: CaseId, rev: u64, body: Case) -> Result<CaseEdited> {
        self.save_case(actor, id, rev, |_, _| body)
    }

    fn save_case(
        &self,
        actor: &Actor,
        id: CaseId,
        rev: u64,
        mine: impl FnOnce(&Case, Timestamp) -> Case,
    ) -> Result<CaseEdited> {
        let (case, merged) = self.write(actor, Action::EditCase, CaseId::KIND, Some(id.0), |tx| {
            let old = tx.require::<Case>(id)?;
            access::check_write_case(actor, &old.body, Action::EditCase)?;
            let mut body = merging::edit(tx, &old, rev, mine(&old.body, tx.now))?;
            check_codes(tx, &body.intake, body.abuse.as_ref())?;
            check_staff(tx, &body.assigned, old.body.unit)?;
            for d in &mut body.diagnoses {
                match old.body.diagnosis(d.kind) {
                    Some(kept) if kept.text == d.text => d.clone_from(kept),
                    _ => {
                        d.at = tx.now;
                        d.by = actor.staff;
                    }
                }
            }
            body = kept_out_of_edits(body, &old.body);
            if body == old.body {
                return Ok(((old, false), id.0));
            }
            // Saved over an edit someone else saved meanwhile: theirs kept beside this one.
            let merged = rev != old.rev;
            let v = tx.update(id, old.rev, body)?;
            refresh_clocks(tx, id)?;
            Ok(((v, merged), id.0))
        })?;
        Ok(CaseEdited { case, merged })
    }

    /// What an edit of the case started from revision `rev` would become if saved now: the
    /// current version, the two edits merged, and the fields both changed (which `edit_case`
    /// refuses as a conflict until the editor has chosen). A read of the case, audited as one.
    pub fn merge_case_edit(
        &self,
        actor: &Actor,
        id: CaseId,
        rev: u64,
        edit: &CaseEdit,
    ) -> Result<(Versioned<Case>, Merged<Case>)> {
        self.merge_case(actor, id, rev, |current| edit.applied_to(current.clone(), actor.staff, self.now()))
    }

    /// `merge_case_edit` of the whole record sent back (`update_case`).
    pub fn merge_case_update(
        &self,
        actor: &Actor,
        id: CaseId,
        rev: u64,
        mine: &Case,
    ) -> Result<(Versioned<Case>, Merged<Case>)> {
        self.merge_case(actor, id, rev, |_| mine.clone())
    }

    fn merge_case(
        &self,
        actor: &Actor,
        id: CaseId,
        rev: u64,
        mine: impl FnOnce(&Case) -> Case,
    ) -> Result<(Versioned<Case>, Merged<Case>)> {
        self.read(actor, Action::ReadCase, CaseId::KIND, Some(id.0), |r| {
            let current = r.require::<Case>(id)?;
            access::Scope::of(r, actor)?.check_read_case(&current.body, Action::ReadCase)?;
            let merged = merging::with_current(r, &current, rev, &mine(&current.body))?;
            Ok(((current, merged), None))
        })
    }

    /// 終結.
    pub fn close_case(&self, actor: &Actor, id: CaseId, rev: u64, reason: &str) -> Result<Versioned<Case>> {
        let reason = reason.trim();
        self.write(actor, Action::CloseCase, CaseId::KIND, Some(id.0), |tx| {
            let old = tx.require::<Case>(id)?;
            access::check_write_case(actor, &old.body, Action::CloseCase)?;
            if reason.is_empty() {
                return Err(Error::invalid("reason", "a closure needs a reason"));
            }
            // The same closing sent again after its answer was lost: already closed.
            let resent = |c: &Closure| c.by == actor.staff && c.reason == reason;
            if rev < old.rev
                && old.body.status == CaseStatus::Closed
                && old.body.closure.as_ref().is_some_and(resent)
            {
                return Ok((old, id.0));
            }
            if old.body.status == CaseStatus::Closed {
                return Err(Error::invalid("status", "the case is already closed"));
            }
            let active =
                load_links::<Protection>(tx, "case_protection", id)?.iter().any(|p| p.body.is_active());
            if active {
                return Err(Error::invalid(
                    "protection",
                    "end the temporary protection before closing the case",
                ));
            }
            let mut body = old.body.clone();
            body.status = CaseStatus::Closed;
            body.closure = Some(Closure { at: tx.now, by: actor.staff, reason: reason.to_owned() });
            let v = tx.update(id, rev, body)?;
            refresh_clocks(tx, id)?;
            Ok((v, id.0))
        })
    }

    pub fn reopen_case(&self, actor: &Actor, id: CaseId, rev: u64) -> Result<Versioned<Case>> {
        self.write(actor, Action::CloseCase, CaseId::KIND, Some(id.0), |tx| {
            let old = tx.require::<Case>(id)?;
            access::check_write_case(actor, &old.body, Action::CloseCase)?;
            // Reopened since the revision the request saw (a resend after a lost answer, or
            // someone else): what it asked for is done.
            if rev < old.rev && old.body.status == CaseStatus::Open && !old.body.reopened_at.is_empty() {
                return Ok((old, id.0));
            }
            if old.body.status == CaseStatus::Open {
                return Err(Error::invalid("status", "the case is open"));
            }
            let mut body = old.body.clone();
            body.status = CaseStatus::Open;
            body.reopened_at.push(tx.now);
            let v = tx.update(id, rev, body)?;
            refresh_clocks(tx, id)?;
            Ok((v, id.0))
        })
    }

    /// 閲覧制限: names the only staff who may see the case (and the child), or lifts it. The
    /// restricting supervisor is always kept on the list.
    pub fn restrict_case(
        &self,
        actor: &Actor,
        id: CaseId,
        rev: u64,
        to: Option<Vec<StaffId>>,
    ) -> Result<Versioned<Case>> {
        self.write(actor, Action::RestrictCase, CaseId::KIND, Some(id.0), |tx| {
            let old = tx.require::<Case>(id)?;
            access::check_write_case(actor, &old.body, Action::RestrictCase)?;
            let to = to.map(|mut names| {
                if !names.contains(&actor.staff) {
                    names.push(actor.staff);
                }
                names
            });
            let mut body = old.body.clone();
            body.restricted_to = to;
            let v = tx.update(id, rev, body)?;
            // The child is restricted while any of its cases is, to everyone those cases name:
            // lifting one case's restriction never opens a child another case still protects.
            let mut names: Option<Vec<StaffId>> = None;
            for case_id in tx.links("child_case", old.body.child.0, usize::MAX)? {
                let c = tx.require::<Case>(CaseId(case_id))?;
                if let Some(list) = &c.body.restricted_to {
                    let all = names.get_or_insert_with(Vec::new);
                    all.extend(list.iter().copied().filter(|s| !all.contains(s)).collect::<Vec<_>>());
                }
            }
            let child = tx.require::<Child>(old.body.child)?;
            if child.body.restricted_to != names {
                let mut cb = child.body.clone();
                cb.restricted_to = names;
                tx.update(old.body.child, child.rev, cb)?;
            }
            Ok((v, id.0))
        })
    }

    /// 通告者: only for roles allowed to see it.
    pub fn reporter(&self, actor: &Actor, case: CaseId) -> Result<Option<Reporter>> {
        self.read(actor, Action::ViewReporter, CaseId::KIND, Some(case.0), |r| {
            let c = r.require::<Case>(case)?;
            access::Scope::of(r, actor)?.check_read_case(&c.body, Action::ViewReporter)?;
            // The reporter is protected (児童虐待防止法7条): never shown across units, whatever the
            // read policy says.
            access::check_own_unit(actor, c.body.unit, Action::ViewReporter)?;
            Ok((r.get::<Reporter>(ReporterId(case.0))?.map(|v| v.body), None))
        })
    }

    /// 経過記録: appended to the case; never changed except by `correct_note`.
    pub fn add_note(&self, actor: &Actor, case: CaseId, note: NewNote) -> Result<Versioned<Note>> {
        self.add_note_once(actor, case, note, None)
    }

    /// `add_note` that a client may retry: the first call with a given idempotency key (per
    /// author) stores the note, and every later call with that key returns the same note without
    /// storing another. An offline tablet resending a draft saves it exactly once.
    pub fn add_note_once(
        &self,
        actor: &Actor,
        case_id: CaseId,
        note: NewNote,
        key: Option<&str>,
    ) -> Result<Versioned<Note>> {
        let claim = key.map(|k| idempotency_claim(actor, "note", k)).transpose()?;
        self.write(actor, Action::AddNote, NoteId::KIND, None, |tx| {
            let case = tx.require::<Case>(case_id)?;
            access::check_write_case(actor, &case.body, Action::AddNote)?;
            let mut note = note.write(case_id, case.body.child, actor.staff, tx.now)?;
            let same = |v: &Note| {
                v.case == note.case && v.body == note.body && same_files(&v.attachments, &note.attachments)
            };
            if let Some(done) = replayed::<Note>(tx, claim.as_deref(), same)? {
                return Ok((done.clone(), done.id));
            }
            Service::code_table(tx, "note_kind")?.body.check(&note.kind, note.at.jst_date())?;
            super::photos::stamp_attachments(tx, note.case, &mut note.attachments)?;
            let v = tx.insert(note)?;
            tx.link("case_note", v.body.case.0, v.id)?;
            tx.link("child_note", v.body.child.0, v.id)?;
            if let Some(c) = &claim {
                tx.claim(IDEMPOTENCY, c, v.id)?;
            }
            Ok((v.clone(), v.id))
        })
    }

    /// A correction: a new revision with its reason; the earlier text stays in the history.
    pub fn correct_note(
        &self,
        actor: &Actor,
        id: NoteId,
        rev: u64,
        body: &str,
        reason: &str,
    ) -> Result<Versioned<Note>> {
        self.write(actor, Action::AddNote, NoteId::KIND, Some(id.0), |tx| {
            let old = tx.require::<Note>(id)?;
            let case = tx.require::<Case>(old.body.case)?;
            access::check_write_case(actor, &case.body, Action::AddNote)?;
            if old.body.author != actor.staff && !matches!(actor.role, Role::Supervisor | Role::Head) {
                return Err(Error::Forbidden { action: "correct another author's note" });
            }
            if reason.trim().is_empty() {
                return Err(Error::invalid("reason", "a correction needs a reason"));
            }
            let mut new = old.body.clone();
            body.clone_into(&mut new.body);
            new.correction = Some(reason.trim().to_owned());
            let v = tx.update(id, rev, new)?;
            Ok((v, id.0))
        })
    }

    pub fn note_history(&self, actor: &Actor, id: NoteId) -> Result<Vec<Versioned<Note>>> {
        self.read(actor, Action::ReadCase, NoteId::KIND, Some(id.0), |r| {
            let note = r.require::<Note>(id)?;
            let case = r.require::<Case>(note.body.case)?;
            access::Scope::of(r, actor)?.check_read_case(&case.body, Action::ReadCase)?;
            Ok((r.history::<Note>(id)?, None))
        })
    }

    /// 安全確認.
    pub fn record_safety_check(
        &self,
        actor: &Actor,
        case: CaseId,
        check: NewSafetyCheck,
    ) -> Result<Versioned<SafetyCheck>> {
        self.record_safety_check_once(actor, case, check, None)
    }

    /// `record_safety_check` that a client may retry, as `add_note_once`.
    pub fn record_safety_check_once(
        &self,
        actor: &Actor,
        case_id: CaseId,
        check: NewSafetyCheck,
        key: Option<&str>,
    ) -> Result<Versioned<SafetyCheck>> {
        let claim = key.map(|k| idempotency_claim(actor, "safety_check", k)).transpose()?;
        self.write(actor, Action::RecordSafetyCheck, SafetyCheckId::KIND, None, |tx| {
            let case = tx.require::<Case>(case_id)?;
            access::check_write_case(actor, &case.body, Action::RecordSafetyCheck)?;
            let mut check = check.check(case_id, case.body.child, actor.staff, tx.now)?;
            let same = |v: &SafetyCheck| {
                v.case == check.case
                    && v.at == check.at
                    && v.place == check.place
                    && v.child_state == check.child_state
                    && v.injuries == check.injuries
                    && same_files(&v.attachments, &check.attachments)
            };
            if let Some(done) = replayed::<SafetyCheck>(tx, claim.as_deref(), same)? {
                return Ok((done.clone(), done.id));
            }
            check_injuries(&check.injuries)?;
            super::photos::stamp_attachments(tx, check.case, &mut check.attachments)?;
            let v = tx.insert(check)?;
            tx.link("case_check", v.body.case.0, v.id)?;
            if let Some(c) = &claim {
                tx.claim(IDEMPOTENCY, c, v.id)?;
            }
            refresh_clocks(tx, v.body.case)?;
            Ok((v.clone(), v.id))
        })
    }

    /// Fills an assessment sheet; the result is computed here, never typed.
    pub fn record_assessment(
        &self,
        actor: &Actor,
        case_id: CaseId,
        sheet_key: &str,
        answers: BTreeMap<String, bool>,
    ) -> Result<Versioned<Assessment>> {
        self.record_assessment_once(actor, case_id, sheet_key, answers, None)
    }

    /// `record_assessment` that a client may retry, as `add_note_once`.
    pub fn record_assessment_once(
        &self,
        actor: &Actor,
        case_id: CaseId,
        sheet_key: &str,
        answers: BTreeMap<String, bool>,
        key: Option<&str>,
    ) -> Result<Versioned<Assessment>> {
        let claim = key.map(|k| idempotency_claim(actor, "assessment", k)).transpose()?;
        self.write(actor, Action::RecordAssessment, AssessmentId::KIND, None, |tx| {
            let same = |a: &Assessment| a.case == case_id && a.answers == answers;
            if let Some(done) = replayed::<Assessment>(tx, claim.as_deref(), same)? {
                return Ok((done.clone(), done.id));
            }
            let case = tx.require::<Case>(case_id)?;
            access::check_write_case(actor, &case.body, Action::RecordAssessment)?;
            let sheet = Service::assessment_sheet(tx, sheet_key)?;
            let (result, result_label) = sheet.body.evaluate(&answers)?;
            let v = tx.insert(Assessment {
                case: case_id,
                sheet: crate::ids::SheetId(sheet.id),
                sheet_version: sheet.body.version,
                answers,
                result,
                result_label,
                at: tx.now,
                by: actor.staff,
            })?;
            tx.link("case_assessment", case_id.0, v.id)?;
            if let Some(c) = &claim {
                tx.claim(IDEMPOTENCY, c, v.id)?;
            }
            Ok((v.clone(), v.id))
        })
    }

    /// 一時保護の開始.
    pub fn start_protection(
        &self,
        actor: &Actor,
        case: CaseId,
        start: StartProtection,
    ) -> Result<Versioned<Protection>> {
        self.start_protection_once(actor, case, start, None)
    }

    /// `start_protection` that a client may retry, as `add_note_once`: the same key again
    /// answers with the protection it started.
    pub fn start_protection_once(
        &self,
        actor: &Actor,
        case_id: CaseId,
        start: StartProtection,
        key: Option<&str>,
    ) -> Result<Versioned<Protection>> {
        let claim = key.map(|k| idempotency_claim(actor, "protection", k)).transpose()?;
        self.write(actor, Action::RecordProtection, ProtectionId::KIND, None, |tx| {
            let same = |d: &Protection| d.case == case_id && start.started(d);
            if let Some(done) = replayed::<Protection>(tx, claim.as_deref(), same)? {
                return Ok((done.clone(), done.id));
            }
            let case = tx.require::<Case>(case_id)?;
            access::check_write_case(actor, &case.body, Action::RecordProtection)?;
            if case.body.status == CaseStatus::Closed {
                return Err(Error::invalid("case", "the case is closed"));
            }
            let active =
                load_links::<Protection>(tx, "case_protection", case_id)?.iter().any(|x| x.body.is_active());
            if active {
                return Err(Error::invalid("case", "a temporary protection is already in force"));
            }
            let days = hearing_days(tx, start.started_at.jst_date())?;
            let p = start.start(case_id, case.body.child, actor.staff, tx.now, days)?;
            let v = tx.insert(p)?;
            tx.link("case_protection", v.body.case.0, v.id)?;
            if let Some(c) = &claim {
                tx.claim(IDEMPOTENCY, c, v.id)?;
            }
            refresh_clocks(tx, v.body.case)?;
            Ok((v.clone(), v.id))
        })
    }

    /// Records one later step of a protection of `case` (the hearing, the warrant, an
    /// extension, a notice, the end), applied by the domain's rules, as a new revision made
    /// from `rev`. The same step sent again answers the stored version.
    pub fn record_protection_step(
        &self,
        actor: &Actor,
        case: CaseId,
        id: ProtectionId,
        rev: u64,
        step: ProtectionStep,
    ) -> Result<Versioned<Protection>> {
        self.protection_steps(actor, case, id, rev, |_| Ok(vec![step]))
    }

    /// A protection sent whole (the JSON API's `PUT`): core works out the steps that lead there
    /// (`Protection::steps_to`) and records them by the same rules as `record_protection_step`.
    pub fn update_protection(
        &self,
        actor: &Actor,
        case: CaseId,
        id: ProtectionId,
        rev: u64,
        p: &Protection,
    ) -> Result<Versioned<Protection>> {
        self.protection_steps(actor, case, id, rev, |old| old.steps_to(p))
    }

    fn protection_steps(
        &self,
        actor: &Actor,
        case: CaseId,
        id: ProtectionId,
        rev: u64,
        steps: impl FnOnce(&Protection) -> Result<Vec<ProtectionStep>>,
    ) -> Result<Versioned<Protection>> {
        self.write(actor, Action::RecordProtection, ProtectionId::KIND, Some(id.0), |tx| {
            let old = tx.require::<Protection>(id)?;
            // Named through another case: not this one's.
            if old.body.case != case {
                return Err(Error::NotFound { what: "protection", id: id.0.to_string() });
            }
            let case = tx.require::<Case>(old.body.case)?;
            access::check_write_case(actor, &case.body, Action::RecordProtection)?;
            let mut p = old.body.clone();
            let mut recorded = false;
            let applied = steps(&old.body).and_then(|steps| {
                for step in steps {
                    recorded |= p.apply(step, actor.staff, tx.now)? == Applied::Recorded;
                }
                Ok(())
            });
            // Refused against a revision the sender did not see: say that, not the rule.
            if let Err(e) = applied {
                return Err(if rev == old.rev {
                    e
                } else {
                    Error::Conflict { record: format!("protection {}", id.0), expected: rev, found: old.rev }
                });
            }
            // Every step sent again after its answer was lost: already recorded.
            if !recorded {
                return Ok((old, id.0));
            }
            let v = tx.update(id, rev, p)?;
            refresh_clocks(tx, v.body.case)?;
            Ok((v, id.0))
        })
    }

    /// 援助・措置: a support decision recorded on `case`; the child's hearing, if any, is heard by
    /// the actor.
    pub fn record_support(
        &self,
        actor: &Actor,
        case: CaseId,
        d: SupportDecision,
    ) -> Result<Versioned<Support>> {
        self.record_support_once(actor, case, d, None)
    }

    /// `record_support` that a client may retry, as `add_note_once`.
    pub fn record_support_once(
        &self,
        actor: &Actor,
        case: CaseId,
        d: SupportDecision,
        key: Option<&str>,
    ) -> Result<Versioned<Support>> {
        let claim = key.map(|k| idempotency_claim(actor, "support", k)).transpose()?;
        let s = d.decide(case, actor.staff)?;
        self.write(actor, Action::RecordSupport, SupportId::KIND, None, |tx| {
            if let Some(done) = replayed::<Support>(tx, claim.as_deref(), |d| *d == s)? {
                return Ok((done.clone(), done.id));
            }
            let case = tx.require::<Case>(s.case)?;
            access::check_write_case(actor, &case.body, Action::RecordSupport)?;
            check_support(tx, &s, None)?;
            let v = tx.insert(s)?;
            tx.link("case_support", v.body.case.0, v.id)?;
            if let Some(c) = &claim {
                tx.claim(IDEMPOTENCY, c, v.id)?;
            }
            refresh_clocks(tx, v.body.case)?;
            Ok((v.clone(), v.id))
        })
    }

    /// A support of `case` revised (review date, hearing, notice, end...) from revision `rev`;
    /// a hearing sent back unchanged keeps who heard the child.
    pub fn revise_support(
        &self,
        actor: &Actor,
        case: CaseId,
        id: SupportId,
        rev: u64,
        d: SupportDecision,
    ) -> Result<Versioned<Support>> {
        self.update_support(actor, id, rev, d.decide(case, actor.staff)?)
    }

    /// A support replaced by the whole record sent back (the API's `PUT`), as `revise_support`.
    pub fn update_support(
        &self,
        actor: &Actor,
        id: SupportId,
        rev: u64,
        mut s: Support,
    ) -> Result<Versioned<Support>> {
        self.write(actor, Action::RecordSupport, SupportId::KIND, Some(id.0), |tx| {
            let old = tx.require::<Support>(id)?;
            let case = tx.require::<Case>(old.body.case)?;
            access::check_write_case(actor, &case.body, Action::RecordSupport)?;
            if s.case != old.body.case {
                return Err(Error::NotFound { what: "support", id: id.0.to_string() });
            }
            keep_hearer(&mut s.hearing, old.body.hearing.as_ref());
            check_support(tx, &s, Some(&old.body))?;
            let v = tx.update(id, rev, s)?;
            refresh_clocks(tx, v.body.case)?;
            Ok((v, id.0))
        })
    }

    /// 会議: all the cases it discusses must be the actor's unit's.
    pub fn record_meeting(&self, actor: &Actor, m: NewMeeting) -> Result<Versioned<Meeting>> {
        self.record_meeting_once(actor, m, None)
    }

    /// `record_meeting` that a client may retry, as `add_note_once`. The meeting belongs to the
    /// unit of the first case it discussed; every case must be one the actor may write to.
    pub fn record_meeting_once(
        &self,
        actor: &Actor,
        m: NewMeeting,
        key: Option<&str>,
    ) -> Result<Versioned<Meeting>> {
        let claim = key.map(|k| idempotency_claim(actor, "meeting", k)).transpose()?;
        self.write(actor, Action::RecordMeeting, MeetingId::KIND, None, |tx| {
            let unit = tx.require::<Case>(m.first_case()?)?.body.unit;
            let m = m.hold(unit, tx.now)?;
            if let Some(done) = replayed::<Meeting>(tx, claim.as_deref(), |d| *d == m)? {
                return Ok((done.clone(), done.id));
            }
            access::check_own_unit(actor, m.unit, Action::RecordMeeting)?;
            Service::code_table(tx, "meeting_kind")?.body.check(&m.kind, m.at.jst_date())?;
            for s in &m.attendees {
                tx.require::<Staff>(*s)?;
            }
            for c in &m.cases {
                let case = tx.require::<Case>(*c)?;
                access::check_write_case(actor, &case.body, Action::RecordMeeting)?;
            }
            let v = tx.insert(m)?;
            for c in &v.body.cases {
                tx.link("case_meeting", c.0, v.id)?;
            }
            if let Some(c) = &claim {
                tx.claim(IDEMPOTENCY, c, v.id)?;
            }
            Ok((v.clone(), v.id))
        })
    }

    /// The newest messages of a unit's case threads (or of one worker's cases, if given) from
    /// the last `days`, at most `limit`, without the restricted cases the actor may not see: so
    /// that a message from the field reaches the supervisor's board, not only the open case.
    pub fn recent_messages(
        &self,
        actor: &Actor,
        unit: UnitId,
        worker: Option<StaffId>,
        days: i64,
        limit: usize,
    ) -> Result<Vec<MessageItem>> {
        let since = self.now().plus(-days * 86_400);
        self.read(actor, Action::ReadBoard, UnitId::KIND, Some(unit.0), |r| {
            r.require::<Unit>(unit)?;
            let scope = access::Scope::of(r, actor)?;
            if !scope.can_read_unit(unit) {
                return Err(Error::Forbidden { action: Action::ReadBoard.as_str() });
            }
            let mut cases: BTreeMap<u64, Option<Versioned<Case>>> = BTreeMap::new();
            let mut out = Vec::new();
            // Newest first; a look at a few hundred is enough for a board.
            for id in r.links("unit_message", unit.0, 500)? {
                let m = r.require::<Message>(MessageId(id))?;
                if m.body.at < since || out.len() == limit {
                    break;
                }
                let case = cases.entry(m.body.case.0).or_insert_with(|| {
                    r.require::<Case>(m.body.case).ok().filter(|c| {
                        scope.can_read_case(&c.body) && worker.is_none_or(|w| c.body.assigned.contains(&w))
                    })
                });
                if let Some(c) = case {
                    out.push(MessageItem { case_no: c.body.case_no.clone(), message: m });
                }
            }
            let n = out.len();
            Ok((out, Some(format!("{n} messages"))))
        })
    }

    /// What is due or overdue for a unit (or one worker, if given) at `now`: every clock due
    /// before the end of its warning window, soonest first, without restricted cases the actor
    /// may not see.
    pub fn board(&self, actor: &Actor, unit: UnitId, worker: Option<StaffId>) -> Result<Vec<BoardItem>> {
        let now = self.now();
        self.read(actor, Action::ReadBoard, UnitId::KIND, Some(unit.0), |r| {
            r.require::<Unit>(unit)?;
            let scope = access::Scope::of(r, actor)?;
            if !scope.can_read_unit(unit) {
                return Err(Error::Forbidden { action: Action::ReadBoard.as_str() });
            }
            let clock_scope = worker.map_or_else(|| format!("u{}", unit.0), |w| format!("w{}", w.0));
            let mut out = Vec::new();
            let mut cases: BTreeMap<u64, Option<Versioned<Case>>> = BTreeMap::new();
            for (due, case, kind, subject) in r.clocks_due(&clock_scope, now.plus(deadline::max_warning()))? {
                let Some(kind) = deadline::ClockKind::parse(&kind) else { continue };
                if let std::collections::btree_map::Entry::Vacant(slot) = cases.entry(case) {
                    let c = r.require::<Case>(CaseId(case))?;
                    let visible = c.body.unit == unit && scope.can_read_case(&c.body);
                    slot.insert(visible.then_some(c));
                }
                let Some(Some(c)) = cases.get(&case) else { continue };
                let d = Deadline {
                    case: CaseId(case),
                    unit: c.body.unit,
                    workers: c.body.assigned.clone(),
                    kind,
                    subject,
                    due: Timestamp(due),
                };
                if d.status(now) != ClockStatus::Ok {
                    out.push(BoardItem::new(d, now, &c.body.case_no));
                }
            }
            let n = out.len();
            Ok((out, Some(format!("{n} clocks"))))
        })
    }
}
