//! 担当: who works which case. The supervisor (or the head) changes a case's workers — the
//! 主担当 and any 副担当 — and the change is kept on the case; a worker lists their open cases
//! (担当ケース) with the next deadline and the last contact; the supervisor and the head see
//! each worker's load in a unit (担当状況), the open cases nobody works, and any worker's list.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::board::{BoardItem, BoardNames};
use super::cases::check_staff;
use super::refresh_clocks;
use crate::case::{Assign, CONTACT_NOTE_KINDS, Case, CaseStatus, Note, SafetyCheck};
use crate::code_table::Code;
use crate::deadline::ClockStatus;
use crate::error::{Error, Result, Why};
use crate::ids::{CaseId, ChildId, NoteId, RecordId, SafetyCheckId, StaffId, UnitId};
use crate::service::Service;
use crate::service::access::{self, Actor};
use crate::service::merging;
use crate::staff::{Action, Role, Staff, Unit};
use crate::store::{Reader, UNASSIGNED, Versioned};
use crate::time::Timestamp;

/// A case without a contact recorded for this many days counts as quiet on 担当状況.
pub const QUIET_DAYS: i64 = 30;

/// One open case in a list of cases (担当ケース, 担当未定).
#[derive(Clone, Debug, Serialize)]
pub struct CaseloadItem {
    pub case: CaseId,
    pub case_no: String,
    pub child: ChildId,
    /// `None` when the reader may not see the child (restricted through a sibling's case).
    pub child_name: Option<String>,
    /// The worker whose list this is is its 主担当 (else a 副担当; false on 担当未定).
    pub main: bool,
    /// The names of its workers, the 主担当 first.
    pub worker_names: Vec<String>,
    pub received_at: Timestamp,
    /// Its most urgent running clock, in the board's order (`Deadline::triage`).
    pub next: Option<BoardItem>,
    /// When the child or family was last seen or spoken to, as recorded.
    pub last_contact: Option<Contact>,
}

/// A recorded contact with the child or family: a safety check, or a note of a visit, an
/// interview or a call (`CONTACT_NOTE_KINDS`).
#[derive(Clone, Debug, Serialize)]
pub struct Contact {
    pub at: Timestamp,
    /// What it was: 安全確認, or the note kind's label.
    pub what: String,
}

/// 担当ケース: one worker's open cases, the most urgent first.
#[derive(Clone, Debug, Serialize)]
pub struct CaseloadView {
    pub worker: StaffId,
    pub worker_name: String,
    pub items: Vec<CaseloadItem>,
    /// The worker's open cases the reader may not see (閲覧制限): counted, not shown.
    pub hidden: usize,
    /// The reader may change the workers of these cases (a supervisor or the head).
    pub may_assign: bool,
    pub now: Timestamp,
}

/// One worker's load on 担当状況.
#[derive(Clone, Debug, Serialize)]
pub struct WorkerLoad {
    pub staff: StaffId,
    pub name: String,
    pub role: Role,
    /// Open cases of the unit they work as 主担当, and as 副担当.
    pub main: usize,
    pub sub: usize,
    /// Of those, the cases with a clock overdue, and with one due soon (none overdue).
    pub overdue: usize,
    pub due_soon: usize,
    /// Of those, the cases without a contact recorded in the last `QUIET_DAYS`.
    pub quiet: usize,
}

/// 担当状況: each worker's load in a unit, and the unit's open cases nobody works.
#[derive(Clone, Debug, Serialize)]
pub struct LoadsView {
    pub unit: UnitId,
    pub unit_name: String,
    /// The units whose loads the reader may choose, by name.
    pub units: Vec<(UnitId, String)>,
    /// The unit's active staff who may be assigned, by name order of id.
    pub workers: Vec<WorkerLoad>,
    /// 担当未定: the unit's open cases nobody works — no 主担当, or one who has left the unit,
    /// been disabled or taken a role that works no cases — the most urgent first.
    pub unassigned: Vec<CaseloadItem>,
    pub now: Timestamp,
}

/// What a list reads of a case; the rest of the record is parsed past.
#[derive(Deserialize)]
struct Head {
    unit: UnitId,
    case_no: String,
    child: ChildId,
    status: CaseStatus,
    #[serde(default)]
    assigned: Vec<StaffId>,
    restricted_to: Option<Vec<StaffId>>,
    intake: IntakeHead,
}

#[derive(Deserialize)]
struct IntakeHead {
    received_at: Timestamp,
}

#[derive(Deserialize)]
struct NoteHead {
    at: Timestamp,
    kind: Code,
}

#[derive(Deserialize)]
struct CheckHead {
    at: Timestamp,
}

/// How many of a case's newest safety checks are looked at for its last contact, and how many
/// notes past the newest contact note (a note typed offline may be stored after a later one).
const CONTACT_LOOKBACK: usize = 12;
/// How many of a case's newest notes are looked at, at most, for a contact note.
const NOTE_LOOKBACK: usize = 100;

/// The last recorded contact of a case among its newest notes and safety checks.
fn last_contact(
    r: &impl Reader,
    case: CaseId,
    note_kinds: &HashMap<String, String>,
) -> Result<Option<Contact>> {
    let mut best: Option<Contact> = None;
    let mut consider = |at: Timestamp, what: &str| {
        if best.as_ref().is_none_or(|b| at > b.at) {
            best = Some(Contact { at, what: what.to_owned() });
        }
    };
    for id in r.links("case_check", case.0, CONTACT_LOOKBACK)? {
        if let Some(c) = r.get_part::<SafetyCheck, CheckHead>(SafetyCheckId(id))? {
            consider(c.at, "安全確認");
        }
    }
    let mut first_found = None;
    for (i, id) in r.links("case_note", case.0, NOTE_LOOKBACK)?.into_iter().enumerate() {
        if first_found.is_some_and(|f| i > f + CONTACT_LOOKBACK) {
            break;
        }
        if let Some(n) = r.get_part::<Note, NoteHead>(NoteId(id))?
            && CONTACT_NOTE_KINDS.contains(&n.kind.as_str())
        {
            let label = note_kinds.get(n.kind.as_str()).map_or(n.kind.as_str(), String::as_str);
            consider(n.at, label);
            first_found.get_or_insert(i);
        }
    }
    Ok(best)
}

/// Reads lists of open cases in one snapshot, each case, child and staff name once.
struct Lists<'s, 'a, R: Reader> {
    r: &'s R,
    scope: &'s access::Scope<'a>,
    now: Timestamp,
    names: BoardNames,
    heads: HashMap<u64, Option<Head>>,
    note_kinds: HashMap<String, String>,
}

impl<'s, 'a, R: Reader> Lists<'s, 'a, R> {
    fn new(r: &'s R, scope: &'s access::Scope<'a>, now: Timestamp) -> Result<Self> {
        let note_kinds = Service::code_table(r, "note_kind")?
            .body
            .entries
            .into_iter()
            .map(|e| (e.code, e.label))
            .collect();
        Ok(Self { r, scope, now, names: BoardNames::default(), heads: HashMap::new(), note_kinds })
    }

    /// The case, if it is still open (the index is of open cases; a closed one is skipped).
    fn head(&mut self, case: u64) -> Result<Option<&Head>> {
        if !self.heads.contains_key(&case) {
            let head = self.r.get_part::<Case, Head>(CaseId(case))?.filter(|h| h.status == CaseStatus::Open);
            self.heads.insert(case, head);
        }
        Ok(self.heads[&case].as_ref())
    }

    /// The running clocks of a case: whether one is overdue, and whether one is due soon.
    fn clock_state(&self, case: u64) -> Result<(bool, bool)> {
        let clocks = self.r.case_clocks(case)?;
        let status = |s| clocks.iter().any(|d| d.kind.workers_act() && d.status(self.now) == s);
        Ok((status(ClockStatus::Overdue), status(ClockStatus::DueSoon)))
    }

    /// The list item of an open case the reader may see, or `None`.
    fn item(&mut self, case: u64, worker: Option<StaffId>) -> Result<Option<CaseloadItem>> {
        let (r, scope, now) = (self.r, self.scope, self.now);
        let Some(h) = self.head(case)? else { return Ok(None) };
        if !scope.can_read_case_in(h.unit, h.restricted_to.as_deref()) {
            return Ok(None);
        }
        let (child, case_no, received_at) = (h.child, h.case_no.clone(), h.intake.received_at);
        let assigned = h.assigned.clone();
        let child_name = self.names.child(r, scope, child)?;
        let worker_names = self.names.workers(r, &assigned)?;
        let next = r
            .case_clocks(case)?
            .into_iter()
            .filter(|d| d.kind.workers_act())
            .min_by_key(|d| d.triage(now))
            .map(|d| BoardItem::new(d, now, &case_no, child_name.clone(), worker_names.clone()));
        Ok(Some(CaseloadItem {
            case: CaseId(case),
            case_no,
            child,
            child_name,
            main: worker.is_some() && assigned.first() == worker.as_ref(),
            worker_names,
            received_at,
            next,
            last_contact: last_contact(r, CaseId(case), &self.note_kinds)?,
        }))
    }

    /// The open cases of `staff` the reader may see, the most urgent first, and how many more
    /// they may not see.
    fn list(&mut self, staff: StaffId) -> Result<(Vec<CaseloadItem>, usize)> {
        let cases = self.r.caseload(staff.0)?;
        self.items(cases, Some(staff), |_| true)
    }

    /// Of `cases`, the open ones `keep` keeps that the reader may see, as items of `worker`'s
    /// list (if any), the most urgent first; and how many more they may not see.
    fn items(
        &mut self,
        cases: Vec<u64>,
        worker: Option<StaffId>,
        keep: impl Fn(&Head) -> bool,
    ) -> Result<(Vec<CaseloadItem>, usize)> {
        let (mut items, mut hidden) = (Vec::new(), 0);
        for case in cases {
            match self.head(case)? {
                Some(h) if keep(h) => {}
                _ => continue,
            }
            match self.item(case, worker)? {
                Some(item) => items.push(item),
                None => hidden += 1,
            }
        }
        // The most urgent first (the board's order), then cases without a running clock,
        // the oldest first.
        items.sort_by_key(|i| {
            (
                i.next.as_ref().map_or((u8::MAX, Timestamp(i64::MAX)), |n| n.deadline.triage(self.now)),
                i.received_at,
            )
        });
        Ok((items, hidden))
    }

    /// A worker's load in `unit`.
    fn load(&mut self, staff: &Versioned<Staff>, unit: UnitId) -> Result<WorkerLoad> {
        let mut load = WorkerLoad {
            staff: StaffId(staff.id),
            name: staff.body.display_name.clone(),
            role: staff.body.role,
            main: 0,
            sub: 0,
            overdue: 0,
            due_soon: 0,
            quiet: 0,
        };
        let quiet_since = self.now.plus(-QUIET_DAYS * 86_400);
        for case in self.r.caseload(staff.id)? {
            let Some(h) = self.head(case)? else { continue };
            if h.unit != unit {
                continue;
            }
            if h.assigned.first() == Some(&StaffId(staff.id)) {
                load.main += 1;
            } else {
                load.sub += 1;
            }
            match self.clock_state(case)? {
                (true, _) => load.overdue += 1,
                (false, true) => load.due_soon += 1,
                _ => {}
            }
            if last_contact(self.r, CaseId(case), &self.note_kinds)?.is_none_or(|c| c.at < quiet_since) {
                load.quiet += 1;
            }
        }
        Ok(load)
    }
}

impl Service {
    /// 担当の変更: makes `assign` the workers of an open case (the 主担当 first), from the
    /// revision the supervisor saw: a change of workers saved meanwhile by someone else is a
    /// conflict, an edit of the rest of the case is not. Each worker must be active in the
    /// case's unit in a role that works cases. The change, with its reason, is kept on the case;
    /// the same workers again change nothing.
    pub fn assign_case(
        &self,
        actor: &Actor,
        id: CaseId,
        rev: u64,
        assign: &Assign,
    ) -> Result<Versioned<Case>> {
        self.write(actor, Action::AssignCases, CaseId::KIND, Some(id.0), |tx| {
            let old = tx.require::<Case>(id)?;
            access::check_write_case(actor, &old.body, Action::AssignCases)?;
            if old.body.status != CaseStatus::Open {
                return Err(Error::invalid("status", Why::CaseClosed));
            }
            let workers = assign.workers()?;
            check_staff(tx, &workers, old.body.unit)?;
            let mut mine = old.body.clone();
            mine.assigned = workers;
            let merged = merging::edit(tx, &old, rev, mine)?;
            let mut body = old.body.clone();
            if !body.reassign(&merged.assigned, actor.staff, tx.now, &assign.reason) {
                return Ok((old, id.0));
            }
            let v = tx.update(id, old.rev, body)?;
            // The workers' boards follow their cases.
            refresh_clocks(tx, id)?;
            Ok((v, id.0))
        })
    }

    /// 担当ケース: the reader's own open cases, the most urgent first, each with its next
    /// deadline and last contact.
    pub fn my_caseload(&self, actor: &Actor) -> Result<CaseloadView> {
        self.caseload_of(actor, actor.staff, Action::ReadCaseload)
    }

    /// Another worker's 担当ケース, for a supervisor or the head of a unit the worker is in.
    pub fn worker_caseload(&self, actor: &Actor, worker: StaffId) -> Result<CaseloadView> {
        self.caseload_of(actor, worker, Action::AssignCases)
    }

    fn caseload_of(&self, actor: &Actor, worker: StaffId, action: Action) -> Result<CaseloadView> {
        let now = self.now();
        self.read(actor, action, StaffId::KIND, Some(worker.0), |r| {
            // Someone of none of the reader's units, or no one: the same refusal.
            let staff = r
                .get::<Staff>(worker)?
                .filter(|s| worker == actor.staff || s.body.units.iter().any(|u| actor.units.contains(u)))
                .ok_or(Error::Forbidden { action: action.as_str() })?;
            let scope = access::Scope::of(r, actor)?;
            let (items, hidden) = Lists::new(r, &scope, now)?.list(worker)?;
            let detail = format!("{} open cases, {hidden} not shown", items.len());
            let view = CaseloadView {
                worker,
                worker_name: staff.body.display_name,
                items,
                hidden,
                may_assign: actor.role.may(Action::AssignCases),
                now,
            };
            Ok((view, Some(detail)))
        })
    }

    /// 担当状況 of one of the reader's units (else their first): each worker's load and the open
    /// cases nobody works. For a supervisor or the head.
    pub fn caseloads(&self, actor: &Actor, unit: Option<UnitId>) -> Result<LoadsView> {
        let units = self.own_units(actor)?;
        let unit = unit
            .filter(|u| units.iter().any(|(id, _)| id == u))
            .or_else(|| units.first().map(|(id, _)| *id))
            .ok_or(Error::Forbidden { action: Action::AssignCases.as_str() })?;
        let now = self.now();
        self.read(actor, Action::AssignCases, UnitId::KIND, Some(unit.0), |r| {
            let unit_name = r.require::<Unit>(unit)?.body.name;
            let scope = access::Scope::of(r, actor)?;
            let mut lists = Lists::new(r, &scope, now)?;
            let mut all = r.all::<Staff>()?;
            all.sort_by_key(|s| s.id);
            let (active, others): (Vec<_>, Vec<_>) =
                all.into_iter().partition(|s| s.body.works_cases_in(unit));
            let mut workers = Vec::new();
            for s in &active {
                workers.push(lists.load(s, unit)?);
            }
            // Nobody works them: the cases of nobody, and those whose 主担当 has left the unit,
            // been disabled or taken a role that works no cases.
            let mut cases = r.caseload(UNASSIGNED)?;
            for s in &others {
                cases.extend(r.caseload(s.id)?);
            }
            cases.sort_unstable();
            cases.dedup();
            let works = |h: &Head| h.assigned.first().is_some_and(|m| active.iter().any(|a| a.id == m.0));
            let (unassigned, _) = lists.items(cases, None, |h| h.unit == unit && !works(h))?;
            let detail = format!("{} workers, {} unassigned", workers.len(), unassigned.len());
            Ok((LoadsView { unit, unit_name, units, workers, unassigned, now }, Some(detail)))
        })
    }
}
