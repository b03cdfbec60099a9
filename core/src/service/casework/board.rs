//! ホーム and the board of legal clocks: what is due or overdue for a unit or a worker, the most
//! urgent first, each card naming the child and the workers; and the unit's newest messages.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use super::Service;
use crate::case::{Case, Message};
use crate::deadline::{self, ClockStatus, Deadline};
use crate::error::{Error, Result};
use crate::ids::{CaseId, ChildId, MessageId, RecordId, StaffId, UnitId};
use crate::person::Child;
use crate::service::access::{self, Actor};
use crate::staff::{Action, Staff, Unit};
use crate::store::{Reader, Versioned};
use crate::time::Timestamp;

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
    /// The most urgent clocks: the first `HOME_CLOCKS`, or all with `BoardFilter::all`.
    pub clocks: Vec<BoardItem>,
    /// How many clocks the board has in all (more than `clocks` when only the first are shown).
    pub clocks_total: usize,
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
    /// Every clock, not only the first `HOME_CLOCKS`.
    pub all: bool,
}

/// How many of the most urgent clocks ホーム draws unless asked for all: a screen or two of
/// cards on a tablet, and a page within its size budget on a board of hundreds.
pub const HOME_CLOCKS: usize = 30;

/// How far back the home page's messages go, and how many it shows.
const HOME_MESSAGE_DAYS: i64 = 7;
const HOME_MESSAGES: usize = 20;

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
    pub(super) fn new(
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

/// The names a board shows, each child and staff member read once.
#[derive(Default)]
pub(super) struct BoardNames {
    children: HashMap<ChildId, Option<String>>,
    staff: HashMap<StaffId, String>,
}

impl BoardNames {
    /// The name of the case's child (`None` when the reader may not see the child: restricted
    /// through a sibling case) and its workers' names.
    fn of(
        &mut self,
        r: &impl Reader,
        scope: &access::Scope,
        case: &CaseHead,
    ) -> Result<(Option<String>, Vec<String>)> {
        Ok((self.child(r, scope, case.child)?, self.workers(r, &case.assigned)?))
    }

    /// A child's name, or `None` when the reader may not see the child.
    pub(super) fn child(
        &mut self,
        r: &impl Reader,
        scope: &access::Scope,
        id: ChildId,
    ) -> Result<Option<String>> {
        Ok(match self.children.entry(id) {
            std::collections::hash_map::Entry::Occupied(known) => known.get().clone(),
            std::collections::hash_map::Entry::Vacant(slot) => {
                let child = r.require::<Child>(id)?;
                let name = scope.can_read_child(&child.body).then(|| child.body.name.full());
                slot.insert(name).clone()
            }
        })
    }

    pub(super) fn workers(&mut self, r: &impl Reader, ids: &[StaffId]) -> Result<Vec<String>> {
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

impl Service {
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
            let scope = board_scope(r, actor, unit)?;
            let out = unit_messages(r, &scope, unit, worker, since, limit)?;
            let n = out.len();
            Ok((out, Some(format!("{n} messages"))))
        })
    }

    /// The reader's own units, by name.
    pub(super) fn own_units(&self, actor: &Actor) -> Result<Vec<(UnitId, String)>> {
        Ok(self
            .units()?
            .into_iter()
            .filter(|u| actor.units.contains(&UnitId(u.id)))
            .map(|u| (UnitId(u.id), u.body.name))
            .collect())
    }

    /// The home page of `actor` (`HomeView`): the board of their first unit.
    pub fn home(&self, actor: &Actor, filter: BoardFilter) -> Result<HomeView> {
        // Read first: its change-log position is where the page's live updates start.
        let reference = self.reference()?;
        let after = reference.at;
        let units = self.own_units(actor)?;
        let chosen = filter.unit.filter(|u| units.iter().any(|(id, _)| id == u));
        let unit = chosen
            .or_else(|| actor.units.first().copied())
            .ok_or(Error::Forbidden { action: "read_board" })?;
        let unit_name = units.iter().find(|(id, _)| *id == unit).map(|(_, n)| n.clone()).unwrap_or_default();
        let directory = Self::staff_directory_of(actor, &reference.staff, unit)?;
        let (staff_names, unit_staff) = (directory.names, directory.in_unit);
        // A worker of another unit (a filter kept across a change of unit) is no filter.
        let of_unit = |w: &StaffId| unit_staff.iter().any(|(id, _)| id == w);
        let worker = if filter.mine { Some(actor.staff) } else { filter.worker.filter(of_unit) };
        let limit = if filter.all { usize::MAX } else { HOME_CLOCKS };
        let now = self.now();
        let since = now.plus(-HOME_MESSAGE_DAYS * 86_400);
        // One read, audited once: the clocks and the messages of the same moment.
        let (clocks, clocks_total, messages) =
            self.read(actor, Action::ReadBoard, UnitId::KIND, Some(unit.0), |r| {
                let scope = board_scope(r, actor, unit)?;
                let (clocks, total) = unit_clocks(r, &scope, unit, worker, now, limit)?;
                let messages = unit_messages(r, &scope, unit, worker, since, HOME_MESSAGES)?;
                let detail = format!("{} of {total} clocks, {} messages", clocks.len(), messages.len());
                Ok(((clocks, total, messages), Some(detail)))
            })?;
        Ok(HomeView {
            clocks,
            clocks_total,
            messages,
            staff_names,
            unit_staff,
            now,
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
        Ok(self.board_page(actor, unit, worker, usize::MAX)?.0)
    }

    /// The first `limit` items of `board` (the most urgent), and how many there are in all: only
    /// the items shown are named, so a board of hundreds of clocks reads a page of children.
    pub fn board_page(
        &self,
        actor: &Actor,
        unit: UnitId,
        worker: Option<StaffId>,
        limit: usize,
    ) -> Result<(Vec<BoardItem>, usize)> {
        let now = self.now();
        self.read(actor, Action::ReadBoard, UnitId::KIND, Some(unit.0), |r| {
            let scope = board_scope(r, actor, unit)?;
            let (out, total) = unit_clocks(r, &scope, unit, worker, now, limit)?;
            let detail = format!("{} of {total} clocks", out.len());
            Ok(((out, total), Some(detail)))
        })
    }
}

/// The fields of a case that a board reads, named as `Case` stores them; the rest of the record
/// is parsed past, not built (a board reads hundreds of cases).
#[derive(Deserialize)]
struct CaseHead {
    unit: UnitId,
    case_no: String,
    child: ChildId,
    #[serde(default)]
    assigned: Vec<StaffId>,
    restricted_to: Option<Vec<StaffId>>,
}

impl CaseHead {
    fn read(r: &impl Reader, id: CaseId) -> Result<Self> {
        r.get_part::<Case, Self>(id)?.ok_or_else(|| Error::not_found(CaseId::KIND, id.0))
    }
}

/// The scope of a board read of `unit`: refused unless the reader may read the unit.
fn board_scope<'a>(r: &impl Reader, actor: &'a Actor, unit: UnitId) -> Result<access::Scope<'a>> {
    r.require::<Unit>(unit)?;
    let scope = access::Scope::of(r, actor)?;
    if scope.can_read_unit(unit) {
        Ok(scope)
    } else {
        Err(Error::Forbidden { action: Action::ReadBoard.as_str() })
    }
}

/// The first `limit` clocks of `unit` (or of `worker`) due soon or overdue at `now`, the most
/// urgent first, and how many there are: the cases are read for their unit and restriction,
/// the children only for the cards returned.
fn unit_clocks(
    r: &impl Reader,
    scope: &access::Scope,
    unit: UnitId,
    worker: Option<StaffId>,
    now: Timestamp,
    limit: usize,
) -> Result<(Vec<BoardItem>, usize)> {
    let clock_scope = worker.map_or_else(|| format!("u{}", unit.0), |w| format!("w{}", w.0));
    let mut due = Vec::new();
    let mut cases: BTreeMap<u64, Option<CaseHead>> = BTreeMap::new();
    for (at, case, kind, subject) in r.clocks_due(&clock_scope, now.plus(deadline::max_warning()))? {
        let Some(kind) = deadline::ClockKind::parse(&kind) else { continue };
        if let std::collections::btree_map::Entry::Vacant(slot) = cases.entry(case) {
            let c = CaseHead::read(r, CaseId(case))?;
            let visible = c.unit == unit && scope.can_read_case_in(c.unit, c.restricted_to.as_deref());
            slot.insert(visible.then_some(c));
        }
        let Some(Some(c)) = cases.get(&case) else { continue };
        let d = Deadline {
            case: CaseId(case),
            unit: c.unit,
            workers: c.assigned.clone(),
            kind,
            subject,
            due: Timestamp(at),
        };
        if d.status(now) != ClockStatus::Ok {
            due.push(d);
        }
    }
    due.sort_by_key(|d| d.triage(now));
    let total = due.len();
    let mut names = BoardNames::default();
    let mut out = Vec::with_capacity(total.min(limit));
    for d in due.into_iter().take(limit) {
        let Some(Some(c)) = cases.get(&d.case.0) else { continue };
        let (child_name, worker_names) = names.of(r, scope, c)?;
        out.push(BoardItem::new(d, now, &c.case_no, child_name, worker_names));
    }
    Ok((out, total))
}

/// The newest messages of `unit`'s case threads (or of `worker`'s cases) since `since`, at most
/// `limit`, without the cases the reader may not see.
fn unit_messages(
    r: &impl Reader,
    scope: &access::Scope,
    unit: UnitId,
    worker: Option<StaffId>,
    since: Timestamp,
    limit: usize,
) -> Result<Vec<MessageItem>> {
    let mut cases: BTreeMap<u64, Option<CaseHead>> = BTreeMap::new();
    let mut out = Vec::new();
    // Newest first; a look at a few hundred is enough for a board.
    for id in r.links("unit_message", unit.0, 500)? {
        let m = r.require::<Message>(MessageId(id))?;
        if m.body.at < since || out.len() == limit {
            break;
        }
        let case = cases.entry(m.body.case.0).or_insert_with(|| {
            CaseHead::read(r, m.body.case).ok().filter(|c| {
                scope.can_read_case_in(c.unit, c.restricted_to.as_deref())
                    && worker.is_none_or(|w| c.assigned.contains(&w))
            })
        });
        if let Some(c) = case {
            out.push(MessageItem { case_no: c.case_no.clone(), message: m });
        }
    }
    Ok(out)
}
