//! A case's life: opened from an intake (numbered, its reporter kept apart, linked to the
//! child's earlier cases), its investigation edited and merged, closed and reopened,
//! restricted; the protected reporter read.

use super::{
    CaseEdited, IDEMPOTENCY, IntakeChild, IntakeOutcome, idempotency_claim, refresh_clocks, replayed,
};
use crate::case::{
    AbuseDetails, Case, CaseEdit, CaseStatus, Intake, NewCase, Reassignment, Reporter, StatusChange,
    each_once, same_workers,
};
use crate::code_table::CodeTable;
use crate::error::Why;
use crate::error::{Error, Result};
use crate::ids::{CaseId, ChildId, RecordId, ReporterId, StaffId, UnitId};
use crate::merge::Merged;
use crate::person::Child;
use crate::protection::Applied;
use crate::service::Service;
use crate::service::access::{self, Actor};
use crate::service::merging;
use crate::service::people::insert_child;
use crate::service::people::{CaseRef, ChildSummary, ChildView};
use crate::staff::{Action, Staff, Unit};
use crate::store::{Reader, Versioned, WriteTx};
use crate::time::Timestamp;
use crate::wareki;

/// Checks every code of a case against its table on the intake date.
pub(super) fn check_codes(tx: &impl Reader, intake: &Intake, abuse: Option<&AbuseDetails>) -> Result<()> {
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
/// restriction, closure, links and the history of its workers (a change of workers is added
/// to it by whoever saves it).
pub(super) fn kept_out_of_edits(mut body: Case, stored: &Case) -> Case {
    body.unit = stored.unit;
    body.intake.clone_from(&stored.intake);
    body.case_no.clone_from(&stored.case_no);
    body.child = stored.child;
    body.status = stored.status;
    body.restricted_to.clone_from(&stored.restricted_to);
    body.closure.clone_from(&stored.closure);
    body.reopened_at.clone_from(&stored.reopened_at);
    body.linked_cases.clone_from(&stored.linked_cases);
    body.assignments.clone_from(&stored.assignments);
    body.closure_request.clone_from(&stored.closure_request);
    body
}
/// Refuses a worker who is not active in `unit` or whose role does not work cases.
pub(super) fn check_staff(tx: &impl Reader, staff: &[StaffId], unit: UnitId) -> Result<()> {
    check_staff_in("assigned", tx, staff, unit)?;
    for s in staff {
        if tx.get::<Staff>(*s)?.is_some_and(|v| !v.body.role.may(Action::EditCase)) {
            return Err(Error::invalid("assigned", Why::NotAWorker(s.0)));
        }
    }
    Ok(())
}

/// Refuses (as `field`) a staff member who is not active in `unit`.
fn check_staff_in(field: &'static str, tx: &impl Reader, staff: &[StaffId], unit: UnitId) -> Result<()> {
    for s in staff {
        let v = tx.get::<Staff>(*s)?;
        if !v.is_some_and(|v| v.body.units.contains(&unit) && !v.body.disabled) {
            return Err(Error::invalid(field, Why::NotInUnit(s.0)));
        }
    }
    Ok(())
}
/// Checks and stores a new case from an intake: numbers it (`児-R7-00123`), stores the protected
/// reporter apart, links earlier cases of the child, and starts its clocks.
pub(super) fn insert_case(
    tx: &mut WriteTx,
    actor: &Actor,
    child_id: ChildId,
    new: NewCase,
) -> Result<Versioned<Case>> {
    let unit = tx.require::<Unit>(new.unit)?;
    access::check_own_unit(actor, new.unit, Action::OpenCase)?;
    let child = tx.require::<Child>(child_id)?;
    access::Scope::of(tx, actor)?.check_read_child(&child.body, Action::OpenCase)?;
    let abuse = new.abuse.details(new.intake.kind);
    let intake = new.intake.received_by(actor.staff);
    check_codes(tx, &intake, abuse.as_ref())?;
    // Whoever takes the intake may take it as their own; naming others is the supervisor's.
    let assigned = each_once(&new.assigned);
    if !(assigned.is_empty() || assigned == [actor.staff] || actor.role.may(Action::AssignCases)) {
        return Err(Error::Forbidden { action: Action::AssignCases.as_str() });
    }
    check_staff(tx, &assigned, new.unit)?;
    if intake.received_at > tx.now.plus(300) {
        return Err(Error::invalid("received_at", Why::InFuture));
    }
    let fiscal_year = {
        let d = intake.received_at.jst_date();
        if d.month() >= 4 { d.year() } else { d.year() - 1 }
    };
    let n = tx.bump(&format!("case_no/{}/{fiscal_year}", new.unit.0))?;
    let case_no = format!("{}-{}-{n:05}", unit.body.case_prefix, wareki::fiscal_year_label(fiscal_year));
    let linked_cases: Vec<CaseId> =
        tx.links("child_case", child_id.0, usize::MAX)?.into_iter().map(CaseId).collect();
    // The workers it opens with start its history of workers.
    let assignments = if assigned.is_empty() {
        Vec::new()
    } else {
        vec![Reassignment { at: tx.now, by: actor.staff, assigned: assigned.clone(), reason: String::new() }]
    };
    let case = tx.insert(Case {
        migrated: None,
        unit: new.unit,
        case_no: case_no.clone(),
        child: child_id,
        status: CaseStatus::Open,
        intake,
        abuse,
        assigned,
        assignments,
        // A new case on a restricted child is restricted to the same staff.
        restricted_to: child.body.restricted_to.clone(),
        worker_opinion: String::new(),
        diagnoses: Vec::new(),
        judgement: String::new(),
        next_review: None,
        linked_cases,
        closure: None,
        closure_request: None,
        reopened_at: Vec::new(),
    })?;
    tx.claim("case_no", &case_no, case.id)?;
    tx.link("child_case", child_id.0, case.id)?;
    if let Some(rep) = new.reporter.and_then(Reporter::as_given) {
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

/// What 新規受付 shows before anything is typed: the units the reader may take an intake for
/// (their own, the first preselected), the code tables, the child it is about when chosen on
/// the child's page, whether the reader may be assigned, and the time.
#[derive(Clone, Debug)]
pub struct IntakePageView {
    pub units: Vec<(UnitId, String)>,
    pub code_tables: std::sync::Arc<[Versioned<CodeTable>]>,
    pub child: Option<ChildSummary>,
    pub may_be_assigned: bool,
    pub now: Timestamp,
}

/// The child an intake is taken for, with their open cases (a report about a child with an
/// open case belongs on that case: the page says so and links it).
fn intake_child(v: &ChildView) -> ChildSummary {
    let open = v.cases.iter().filter(|c| c.body.status == CaseStatus::Open);
    let open_cases = open.map(|c| CaseRef { id: CaseId(c.id), case_no: c.body.case_no.clone() }).collect();
    ChildSummary { open_cases: Some(open_cases), ..ChildSummary::of(&v.child) }
}

impl Service {
    /// Opens a case on a child from an intake (see `insert_case`).
    pub fn open_case(&self, actor: &Actor, child: ChildId, new: NewCase) -> Result<Versioned<Case>> {
        self.write(actor, Action::OpenCase, CaseId::KIND, None, |tx| {
            let case = insert_case(tx, actor, child, new)?;
            Ok((case.clone(), case.id))
        })
    }

    /// The 新規受付 page, for whoever may open a case (else `Forbidden`); reading the chosen child
    /// is audited as every read of a child.
    pub fn intake_page(&self, actor: &Actor, child: Option<ChildId>) -> Result<IntakePageView> {
        Self::permit(actor, Action::OpenCase)?;
        let units = self.own_units(actor)?;
        let child = child.map(|id| self.child(actor, id).map(|v| intake_child(&v))).transpose()?;
        Ok(IntakePageView {
            units,
            code_tables: self.reference()?.code_tables.clone(),
            child,
            may_be_assigned: actor.may_be_assigned(),
            now: self.now(),
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
            let (child, family) = match child {
                IntakeChild::Existing(id, family) => (id, family),
                IntakeChild::New(c) => {
                    if !actor.role.may(Action::RegisterChild) {
                        return Err(Error::Forbidden { action: Action::RegisterChild.as_str() });
                    }
                    (insert_child(tx, actor, *c, today)?, Vec::new())
                }
            };
            let case = insert_case(tx, actor, child, new)?;
            // After the case: a child on file held by another unit is now this unit's too.
            crate::service::family::add_named_family(tx, actor, child, family)?;
            if let Some(c) = &claim {
                tx.claim(IDEMPOTENCY, c, case.id)?;
            }
            Ok((case.clone(), case.id))
        })?;
        Ok(IntakeOutcome::Opened(Box::new(opened)))
    }

    /// Edits a case's working fields (abuse details, opinion, diagnoses, judgement, review date)
    /// as the edit form holds them, at the revision the editor started from:
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

    pub(super) fn save_case(
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
            // A change of workers sent with an edit (the API's PUT) is a reassignment: the
            // supervisor's on an open case, checked like `assign_case` and kept in its history.
            // The same workers (副担当 in another order) are no change, and an edit of a case
            // whose worker has left is not refused for it.
            let workers = std::mem::replace(&mut body.assigned, old.body.assigned.clone());
            if !same_workers(&workers, &old.body.assigned) {
                Self::permit(actor, Action::AssignCases)?;
                if old.body.status != CaseStatus::Open {
                    return Err(Error::invalid("status", Why::CaseClosed));
                }
                check_staff(tx, &each_once(&workers), old.body.unit)?;
                body.reassign(&workers, actor.staff, tx.now, "");
            }
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

    pub(super) fn merge_case(
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

    /// 終結 or 再開 (`StatusChange::apply`), from the revision the request saw. A closing is
    /// refused while the child is in 一時保護.
    pub fn change_case_status(
        &self,
        actor: &Actor,
        id: CaseId,
        rev: u64,
        change: &StatusChange,
    ) -> Result<Versioned<Case>> {
        self.write(actor, Action::CloseCase, CaseId::KIND, Some(id.0), |tx| {
            let old = tx.require::<Case>(id)?;
            access::check_write_case(actor, &old.body, Action::CloseCase)?;
            // Only a closing of an open case asks whether the child is in 一時保護.
            let in_protection = matches!(change, StatusChange::Close { .. })
                && old.body.status == CaseStatus::Open
                && super::approvals::in_protection(tx, id)?;
            let mut body = old.body.clone();
            if change.apply(&mut body, (rev, old.rev), in_protection, actor.staff, tx.now)?
                == Applied::AlreadyRecorded
            {
                return Ok((old, id.0));
            }
            let v = tx.update(id, rev, body)?;
            refresh_clocks(tx, id)?;
            Ok((v, id.0))
        })
    }

    /// 閲覧制限: names the only staff who may see the case (and the child), active staff of the
    /// case's unit, or lifts it (`None`), from the revision the reader saw. The restricting
    /// supervisor is always kept on the list.
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
            check_staff_in("restricted_to", tx, to.as_deref().unwrap_or_default(), old.body.unit)?;
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
        Ok(self.reporter_page(actor, case)?.1)
    }

    /// The reporter's page: the case number and the reporter, one audited `view_reporter`.
    pub fn reporter_page(&self, actor: &Actor, case: CaseId) -> Result<(String, Option<Reporter>)> {
        self.read(actor, Action::ViewReporter, CaseId::KIND, Some(case.0), |r| {
            let c = r.require::<Case>(case)?;
            let scope = access::Scope::of(r, actor)?;
            scope.check_read_case(&c.body, Action::ViewReporter)?;
            // A child restricted through another of its cases keeps its reporters shut too.
            scope.check_read_child(&r.require::<Child>(c.body.child)?.body, Action::ViewReporter)?;
            // The reporter is protected (児童虐待防止法7条): never shown across units, whatever the
            // read policy says.
            access::check_own_unit(actor, c.body.unit, Action::ViewReporter)?;
            Ok(((c.body.case_no.clone(), r.get::<Reporter>(ReporterId(case.0))?.map(|v| v.body)), None))
        })
    }
}
