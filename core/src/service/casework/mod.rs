//! Case work: opening a case from an intake, the reporter, notes, safety checks, assessments,
//! protection steps, support decisions, meetings, closure, and the board of legal clocks. Every
//! write that can move a clock recomputes the case's clocks in the same transaction.

mod cases;
mod protections;
mod records;
mod supports;

pub use cases::IntakePageView;
use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use crate::assessment::AssessmentSheet;
use crate::case::{
    Assessment, Case, CaseStatus, IntakeKind, Meeting, Message, Note, Photo, SafetyCheck, Support,
};
use crate::code_table::CodeTable;
use crate::deadline::{self, ClockStatus, Deadline};
use crate::error::Why;
use crate::error::{Error, Result};
use crate::ids::{CaseId, ChildId, MessageId, NoteId, RecordId, StaffId, UnitId};
use crate::person::Child;
use crate::protection::{Protection, StepKind};
use crate::service::Service;
use crate::service::access::{self, Actor};
use crate::service::people::{ChildSummary, NewChild};
use crate::staff::{Action, Staff, Unit};
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
    pub code_tables: Vec<Versioned<CodeTable>>,
    pub sheets: Vec<Versioned<AssessmentSheet>>,
    pub staff_names: HashMap<StaffId, String>,
    pub unit_staff: Vec<(StaffId, String)>,
    pub now: Timestamp,
    pub after: u64,
}

/// The home page (ホーム): the board of the reader's unit — every clock due soon or overdue, and
/// the newest messages of the unit's case threads from the last week — or, with `mine`, of the
/// reader's own cases.
#[derive(Clone, Debug)]
pub struct HomeView {
    pub unit: UnitId,
    pub unit_name: String,
    /// The board is of one worker's cases (`Some`: the reader's own when `mine`).
    pub worker: Option<StaffId>,
    pub mine: bool,
    /// The units whose board the reader may choose, by name.
    pub units: Vec<(UnitId, String)>,
    /// The active staff of the unit shown, to filter the board by worker.
    pub unit_staff: Vec<(StaffId, String)>,
    pub clocks: Vec<BoardItem>,
    pub messages: Vec<MessageItem>,
    pub staff_names: HashMap<StaffId, String>,
    pub now: Timestamp,
    /// The change-log position read first (live updates start there).
    pub after: u64,
}

/// Whose board ホーム shows: a unit of the reader's (else their first) and, if given, one worker
/// of it (`mine`: the reader).
#[derive(Clone, Copy, Debug, Default)]
pub struct BoardFilter {
    pub unit: Option<UnitId>,
    pub worker: Option<StaffId>,
    pub mine: bool,
}

/// How far back the home page's messages go, and how many it shows.
const HOME_MESSAGE_DAYS: i64 = 7;
const HOME_MESSAGES: usize = 20;

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
    /// What harms a child first (`ClockKind::urgency`): the board is ordered by it, then by due.
    pub urgency: u8,
    pub case_no: String,
    /// The child's name, so that a card says whom it is about; `None` when the reader may not
    /// see the child (restricted through a sibling's case).
    pub child_name: Option<String>,
    /// The names of the case's workers, in the order assigned.
    pub worker_names: Vec<String>,
    /// The due time in Japan time, `YYYY-MM-DDTHH:MM:SS+09:00`.
    pub due_jst: String,
}

impl BoardItem {
    fn new(
        deadline: Deadline,
        now: Timestamp,
        case_no: &str,
        child_name: Option<String>,
        worker_names: Vec<String>,
    ) -> Self {
        Self {
            status: deadline.status(now),
            label: deadline.kind.label(),
            urgency: deadline.kind.urgency(),
            case_no: case_no.to_owned(),
            child_name,
            worker_names,
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

/// A case on the board, with its child's name and its workers' names.
type BoardCase = (Versioned<Case>, Option<String>, Vec<String>);

/// The names a board shows, each staff member read once.
#[derive(Default)]
struct BoardNames {
    staff: HashMap<StaffId, String>,
}

impl BoardNames {
    /// The case with its child's name (`None` when the reader may not see the child: restricted
    /// through a sibling case) and its workers' names.
    fn of(&mut self, r: &impl Reader, scope: &access::Scope, c: Versioned<Case>) -> Result<BoardCase> {
        let child = r.require::<Child>(c.body.child)?;
        let name = scope.can_read_child(&child.body).then(|| child.body.name.full());
        let workers = self.workers(r, &c.body.assigned)?;
        Ok((c, name, workers))
    }

    fn workers(&mut self, r: &impl Reader, ids: &[StaffId]) -> Result<Vec<String>> {
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            if !self.staff.contains_key(id) {
                let name = r.get::<Staff>(*id)?.map(|s| s.body.display_name).unwrap_or_default();
                self.staff.insert(*id, name);
            }
            out.push(self.staff[id].clone());
        }
        Ok(out)
    }
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

/// The `unique` namespace of idempotency keys.
const IDEMPOTENCY: &str = "idempotency";

/// The claimed key: per author and record kind, so one person's key cannot collide with another's.
fn idempotency_claim(actor: &Actor, kind: &str, key: &str) -> Result<String> {
    let key = key.trim();
    if key.is_empty() || key.len() > 64 || !key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
        return Err(Error::invalid("idempotency_key", Why::KeyFormat));
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
                    child: ChildSummary::of(&child),
                    case,
                },
                None,
            ))
        })
    }

    /// What a page about case `id` shows (`CasePageView`).
    pub fn case_page(&self, actor: &Actor, id: CaseId) -> Result<CasePageView> {
        let after = self.last_change()?;
        let case = self.case(actor, id)?;
        let (staff_names, unit_staff) = self.staff_directory(actor, case.case.body.unit)?;
        Ok(CasePageView {
            code_tables: self.code_tables()?,
            sheets: self.assessment_sheets()?,
            staff_names,
            unit_staff,
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

    /// The home page of `actor` (`HomeView`): the board of their first unit.
    pub fn home(&self, actor: &Actor, filter: BoardFilter) -> Result<HomeView> {
        let after = self.last_change()?;
        let units: Vec<(UnitId, String)> = self
            .units()?
            .into_iter()
            .filter(|u| actor.units.contains(&UnitId(u.id)))
            .map(|u| (UnitId(u.id), u.body.name))
            .collect();
        let chosen = filter.unit.filter(|u| units.iter().any(|(id, _)| id == u));
        let unit = chosen
            .or_else(|| actor.units.first().copied())
            .ok_or(Error::Forbidden { action: "read_board" })?;
        let unit_name = units.iter().find(|(id, _)| *id == unit).map(|(_, n)| n.clone()).unwrap_or_default();
        let (staff_names, unit_staff) = self.staff_directory(actor, unit)?;
        // A worker of another unit (a filter kept across a change of unit) is no filter.
        let of_unit = |w: &StaffId| unit_staff.iter().any(|(id, _)| id == w);
        let worker = if filter.mine { Some(actor.staff) } else { filter.worker.filter(of_unit) };
        Ok(HomeView {
            clocks: self.board(actor, unit, worker)?,
            messages: self.recent_messages(actor, unit, worker, HOME_MESSAGE_DAYS, HOME_MESSAGES)?,
            staff_names,
            unit_staff,
            now: self.now(),
            unit,
            unit_name,
            worker,
            mine: worker == Some(actor.staff),
            units,
            after,
        })
    }

    /// What is due or overdue for a unit (or one worker, if given) at `now`: every clock due
    /// before the end of its warning window, without restricted cases the actor may not see;
    /// what harms a child first comes first (`Deadline::triage`), then the soonest due. Each
    /// item names the child and the workers.
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
            let mut cases: BTreeMap<u64, Option<BoardCase>> = BTreeMap::new();
            let mut names = BoardNames::default();
            for (due, case, kind, subject) in r.clocks_due(&clock_scope, now.plus(deadline::max_warning()))? {
                let Some(kind) = deadline::ClockKind::parse(&kind) else { continue };
                if let std::collections::btree_map::Entry::Vacant(slot) = cases.entry(case) {
                    let c = r.require::<Case>(CaseId(case))?;
                    let visible = c.body.unit == unit && scope.can_read_case(&c.body);
                    slot.insert(if visible { Some(names.of(r, &scope, c)?) } else { None });
                }
                let Some(Some((c, child_name, worker_names))) = cases.get(&case) else { continue };
                let d = Deadline {
                    case: CaseId(case),
                    unit: c.body.unit,
                    workers: c.body.assigned.clone(),
                    kind,
                    subject,
                    due: Timestamp(due),
                };
                if d.status(now) != ClockStatus::Ok {
                    out.push(BoardItem::new(
                        d,
                        now,
                        &c.body.case_no,
                        child_name.clone(),
                        worker_names.clone(),
                    ));
                }
            }
            out.sort_by_key(|i| i.deadline.triage(now));
            let n = out.len();
            Ok((out, Some(format!("{n} clocks"))))
        })
    }
}
