//! Children, households, the adults around them; search and the duplicate check (名寄せ).

use std::collections::HashMap;

use serde::Serialize;

use super::Service;
use super::access::{self, Actor};
use super::family::{self, put_child_index};
use super::merging;
use crate::case::{Case, CaseStatus, Note};
use crate::code_table::{Code, CodeTable};
use crate::error::{Counted, Why};
use crate::error::{Error, Result};
use crate::ids::{AgencyId, CaseId, ChildId, HouseholdId, NoteId, PersonId, RecordId, StaffId, UnitId};
use crate::merge::Merged;
use crate::person::{Agency, Child, FaceSheetEdit, Household, MemberRef, Person, PersonName, Sex, Standing};
use crate::search;
use crate::staff::{Action, Unit};
use crate::store::{Reader, Versioned, WriteTx};
use crate::time::{Date, Timestamp};
use crate::wareki;

/// How many matching children a search looks at before the access filter: enough that a unit's
/// own children are not crowded out by another unit's with the same name.
const SCAN_CAP: usize = 2000;

/// A child as registered at intake.
#[derive(Clone, Debug)]
pub struct NewChild {
    pub unit: UnitId,
    pub name: PersonName,
    pub birth_date: Option<Date>,
    pub unborn: bool,
    pub sex: Sex,
    pub address: String,
    pub phones: Vec<String>,
    pub affiliation: String,
    /// The adults named with the child (at intake: the guardian the reporter named), each
    /// standing to the child as it says; refused with the child when one is not right.
    pub family: Vec<super::family::NewMember>,
}

/// One line of a search result or duplicate list.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct ChildSummary {
    pub id: ChildId,
    pub name: String,
    pub kana: String,
    pub birth_date: Option<Date>,
    pub birth_date_wareki: Option<String>,
    pub sex: Sex,
    /// The child's open cases the reader may see, where a list asks "is this the child?" (the
    /// duplicate check, the child an intake is taken for): a report about a child with an open
    /// case belongs on that case. `None` where it was not looked up (search results).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub open_cases: Option<Vec<CaseRef>>,
}

/// A case by its number, to name and link.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CaseRef {
    pub id: CaseId,
    pub case_no: String,
}

/// The children of a search the reader may see, at most `limit`.
pub(super) fn search_in(
    r: &impl Reader,
    scope: &access::Scope,
    query: &str,
    limit: usize,
) -> Result<Vec<ChildSummary>> {
    let mut out = Vec::new();
    // Up to SCAN_CAP matches are looked at, but only until `limit` visible children are found.
    let mut visit = |id: u64| -> Result<bool> {
        if let Some(c) = r.get_part::<Child, Listed>(ChildId(id))?
            && scope.can_read_child_in(c.unit, &c.units, c.restricted_to.as_deref())
        {
            out.push(c.summary(ChildId(id)));
        }
        Ok(out.len() < limit)
    };
    match wareki::parse(query) {
        Ok(date) => {
            for id in r.children_born(date, SCAN_CAP)? {
                if !visit(id)? {
                    break;
                }
            }
        }
        Err(_) => r.search_children_each(query, SCAN_CAP, &mut visit)?,
    }
    Ok(out)
}

/// An audit entry's detail naming the children a list showed (the first 20), so that the
/// audit log finds every list that showed a child (`AuditEntry::terms`).
pub(super) fn results_detail(shown: &[ChildSummary]) -> String {
    let ids: Vec<String> = shown.iter().take(20).map(|c| c.id.to_string()).collect();
    format!("{} results: {}", ids.len(), ids.join(","))
}

/// The open cases on `child` that the reader may see, oldest first; only the few fields needed
/// are read of each case.
fn open_cases(r: &impl Reader, scope: &access::Scope, child: ChildId) -> Result<Vec<CaseRef>> {
    #[derive(serde::Deserialize)]
    struct Head {
        unit: UnitId,
        case_no: String,
        status: CaseStatus,
        restricted_to: Option<Vec<StaffId>>,
    }
    let mut out = Vec::new();
    for id in r.links("child_case", child.0, usize::MAX)? {
        let Some(c) = r.get_part::<Case, Head>(CaseId(id))? else { continue };
        if c.status == CaseStatus::Open && scope.can_read_case_in(c.unit, c.restricted_to.as_deref()) {
            out.push(CaseRef { id: CaseId(id), case_no: c.case_no });
        }
    }
    out.sort_by_key(|c| c.id.0);
    Ok(out)
}

impl ChildSummary {
    /// One line of a list of children, from the record itself.
    pub fn of(v: &Versioned<Child>) -> Self {
        Self::from_parts(ChildId(v.id), &v.body.name, v.body.birth_date, v.body.sex)
    }

    fn from_parts(id: ChildId, name: &PersonName, birth_date: Option<Date>, sex: Sex) -> Self {
        Self {
            id,
            name: name.full(),
            kana: name.full_kana(),
            birth_date,
            birth_date_wareki: birth_date.map(wareki::format),
            sex,
            open_cases: None,
        }
    }
}

/// What a list of children reads of each child's record (`Reader::get_part`): what a line
/// shows and what the reader's scope is checked against — not the address, phones, photo or
/// migration detail a search has no use for (a search reads up to 50 children a page).
#[derive(serde::Deserialize)]
struct Listed {
    name: PersonName,
    birth_date: Option<Date>,
    sex: Sex,
    unit: UnitId,
    #[serde(default)]
    units: Vec<UnitId>,
    #[serde(default)]
    restricted_to: Option<Vec<StaffId>>,
}

impl Listed {
    fn summary(&self, id: ChildId) -> ChildSummary {
        ChildSummary::from_parts(id, &self.name, self.birth_date, self.sex)
    }
}

/// A household member as shown on the child's page.
#[derive(Clone, Debug, Serialize)]
pub struct MemberView {
    pub who: MemberRef,
    pub name: String,
    pub kana: String,
    pub birth_date: Option<Date>,
    pub sex: Sex,
    /// 続柄 to the child whose page it is.
    pub relation: Code,
    pub relation_label: String,
    pub guardian: bool,
    pub custody: bool,
    pub cohabiting: bool,
}

/// Everything the child page shows: the child view (one audited read), the code tables and
/// staff names that draw it, the time, and the change-log position read first.
#[derive(Clone, Debug)]
pub struct ChildPageView {
    pub child: ChildView,
    pub code_tables: std::sync::Arc<[Versioned<CodeTable>]>,
    pub staff_names: HashMap<StaffId, String>,
    pub now: Timestamp,
    pub after: u64,
}

/// A saved face-sheet edit.
#[derive(Clone, Debug, Serialize)]
pub struct ChildEdited {
    pub child: Versioned<Child>,
    /// Someone else saved an edit meanwhile, and both were kept (merged field by field). A
    /// resend of an edit already saved is not merged: nothing was written.
    pub merged: bool,
}

/// Everything the child page shows, read from one snapshot.
#[derive(Clone, Debug, Serialize)]
pub struct ChildView {
    pub child: Versioned<Child>,
    pub household: Option<Versioned<Household>>,
    pub members: Vec<MemberView>,
    pub cases: Vec<Versioned<Case>>,
    /// The newest 50 notes of the cases the reader may see, newest first.
    pub notes: Vec<Versioned<Note>>,
    /// Whether the reader may edit the face sheet (role, unit, restriction).
    pub may_edit: bool,
    /// Whether the reader may take a new intake about this child (新規受付 from the page).
    pub may_open_case: bool,
}

fn check_birth(birth: Option<Date>, unborn: bool, today: Date) -> Result<()> {
    if let Some(b) = birth {
        if !unborn && b > today {
            return Err(Error::invalid("birth_date", Why::BornInFuture));
        }
        if b.age_on(today) > 25 {
            return Err(Error::invalid("birth_date", Why::YearsAgo(25)));
        }
    }
    Ok(())
}

/// Checks and stores a new child (its own unit, a plausible birth date) with its search index.
pub(super) fn insert_child(tx: &mut WriteTx, actor: &Actor, new: NewChild, today: Date) -> Result<ChildId> {
    tx.require::<Unit>(new.unit)?;
    access::check_own_unit(actor, new.unit, Action::RegisterChild)?;
    check_birth(new.birth_date, new.unborn, today)?;
    let child = Child {
        migrated: None,
        name: new.name,
        birth_date: new.birth_date,
        unborn: new.unborn,
        sex: new.sex,
        address: new.address.trim().to_owned(),
        phones: new.phones,
        affiliation: new.affiliation.trim().to_owned(),
        nationality: String::new(),
        disability_certificates: Vec::new(),
        resident_no: None,
        household: None,
        unit: new.unit,
        units: vec![new.unit],
        restricted_to: None,
        photo: None,
    };
    let v = tx.insert(child)?;
    put_child_index(tx, ChildId(v.id), &v.body, None)?;
    family::add_named_family(tx, actor, ChildId(v.id), new.family)?;
    Ok(ChildId(v.id))
}

impl Service {
    pub fn register_child(&self, actor: &Actor, new: NewChild) -> Result<ChildId> {
        self.register_child_once(actor, new, None)
    }

    /// `register_child`, once per idempotency key (a client's retry after a lost answer): the
    /// same key again answers with the child the first call registered, its family not added
    /// twice; the same key with another child (name or birth date) is refused.
    pub fn register_child_once(&self, actor: &Actor, new: NewChild, key: Option<&str>) -> Result<ChildId> {
        let claim = key.map(|k| super::casework::idempotency_claim(actor, "child", k)).transpose()?;
        let today = self.now().jst_date();
        self.write(actor, Action::RegisterChild, ChildId::KIND, None, |tx| {
            let (name, birth) = (new.name.clone(), new.birth_date);
            let same = |c: &Child| c.name == name && c.birth_date == birth;
            if let Some(v) = super::casework::replayed::<Child>(tx, claim.as_deref(), same)? {
                return Ok((ChildId(v.id), v.id));
            }
            let id = insert_child(tx, actor, new, today)?;
            if let Some(c) = &claim {
                tx.claim(super::casework::IDEMPOTENCY, c, id.0)?;
            }
            Ok((id, id.0))
        })
    }

    /// Children the actor may see, each with its open cases: born on `birth` with similar
    /// furigana, then born on a date `birth` may have been mistyped for (`Date::near_misses`, in
    /// the last 25 years or the next) with furigana at most one kana apart. Asked before a new
    /// child is registered.
    pub fn duplicate_candidates(&self, actor: &Actor, birth: Date, kana: &str) -> Result<Vec<ChildSummary>> {
        let today = self.now().jst_date();
        let plausible = (today.year() - 25)..=(today.year() + 1);
        let near = birth.near_misses().into_iter().filter(|d| plausible.contains(&d.year()));
        self.read(actor, Action::Search, ChildId::KIND, None, |r| {
            let scope = access::Scope::of(r, actor)?;
            let mut out = Vec::new();
            let wanted = search::normalize(kana);
            let wanted_len = wanted.chars().count();
            for (day, exact) in std::iter::once((birth, true)).chain(near.map(|d| (d, false))) {
                for id in r.children_born(day, 500)? {
                    // Most of a day's births are not read: a child's indexed keys hold its
                    // furigana folded, so one whose keys are all far from it is no candidate
                    // (3 is wider than either test below; a child not indexed is read).
                    let keys = r.child_search_keys(id)?;
                    let near_key = |k: &String| {
                        k.chars().count().abs_diff(wanted_len) <= 3 && search::edit_distance(k, &wanted) <= 3
                    };
                    if !keys.is_empty() && !keys.iter().any(near_key) {
                        continue;
                    }
                    let Some(c) = r.get::<Child>(ChildId(id))? else { continue };
                    let theirs = c.body.name.full_kana();
                    let alike = if exact {
                        search::similar_kana(&theirs, kana)
                    } else {
                        search::edit_distance(&search::normalize(&theirs), &search::normalize(kana)) <= 1
                    };
                    if alike && scope.can_read_child(&c.body) {
                        let open = open_cases(r, &scope, ChildId(c.id))?;
                        out.push(ChildSummary { open_cases: Some(open), ..ChildSummary::of(&c) });
                    }
                }
            }
            let detail = format!("duplicate check: {}", results_detail(&out));
            Ok((out, Some(detail)))
        })
    }

    /// Children on file who may be `new`: `duplicate_candidates`, or, without a birth date,
    /// the first ten found by the furigana; each with its open cases. Asked before a new child
    /// is registered with an intake.
    pub(super) fn possible_duplicates(&self, actor: &Actor, new: &NewChild) -> Result<Vec<ChildSummary>> {
        let kana = new.name.full_kana();
        let Some(birth) = new.birth_date else {
            return self.read(actor, Action::Search, ChildId::KIND, None, |r| {
                let scope = access::Scope::of(r, actor)?;
                let mut out = search_in(r, &scope, &kana, 10)?;
                for c in &mut out {
                    c.open_cases = Some(open_cases(r, &scope, c.id)?);
                }
                let detail = format!("duplicate check: {}", results_detail(&out));
                Ok((out, Some(detail)))
            });
        };
        self.duplicate_candidates(actor, birth, &kana)
    }

    /// Name, furigana, phone or birth-date search (either calendar), limited to what the actor
    /// may see.
    pub fn search(&self, actor: &Actor, query: &str, limit: usize) -> Result<Vec<ChildSummary>> {
        let query = query.trim();
        if query.is_empty() {
            return Err(Error::invalid("q", "enter a name, furigana, birth date or phone number"));
        }
        if query.chars().count() > 100 {
            return Err(Error::invalid("q", Why::AtMost(100, Counted::Characters)));
        }
        self.read(actor, Action::Search, ChildId::KIND, None, |r| {
            let out = search_in(r, &access::Scope::of(r, actor)?, query, limit)?;
            let detail = results_detail(&out);
            Ok((out, Some(detail)))
        })
    }

    /// What the child page shows (`ChildPageView`), from one call and one audited read.
    pub fn child_page(&self, actor: &Actor, id: ChildId) -> Result<ChildPageView> {
        // Read first: its change-log position is where the page's live updates start.
        let reference = self.reference()?;
        Ok(ChildPageView {
            child: self.child(actor, id)?,
            code_tables: reference.code_tables.clone(),
            staff_names: Self::staff_names_of(actor, &reference.staff)?,
            after: reference.at,
            now: self.now(),
        })
    }

    /// The child page: face sheet, household, visible cases and the latest notes.
    pub fn child(&self, actor: &Actor, id: ChildId) -> Result<ChildView> {
        self.read(actor, Action::ReadChild, ChildId::KIND, Some(id.0), |r| {
            let child = r.require::<Child>(id)?;
            let scope = access::Scope::of(r, actor)?;
            scope.check_read_child(&child.body, Action::ReadChild)?;
            let household = child.body.household.map(|h| r.require::<Household>(h)).transpose()?;
            let relations = Service::code_table(r, "relation")?;
            let mut members = Vec::new();
            for m in household.iter().flat_map(|h| h.body.members.iter()) {
                // Members the reader may not see (a restricted sibling, another unit's adult) are
                // left out of the page.
                // The household's adults are part of the child's record: whoever reads the
                // child reads them.
                let found = match m.who {
                    MemberRef::Child(c) => r
                        .get::<Child>(c)?
                        .map(|c| (scope.can_read_child(&c.body), c.body.name, c.body.birth_date, c.body.sex)),
                    MemberRef::Person(p) => {
                        r.get::<Person>(p)?.map(|p| (true, p.body.name, p.body.birth_date, p.body.sex))
                    }
                };
                let (visible, name, birth_date, sex) = found
                    .ok_or_else(|| Error::Corrupt(format!("household member {:?} is missing", m.who)))?;
                if !visible {
                    continue;
                }
                let standing = if m.who == MemberRef::Child(id) {
                    Standing { relation: Code::new(family::SELF), guardian: false, custody: false }
                } else {
                    m.standing_to(id)
                };
                members.push(MemberView {
                    who: m.who,
                    name: name.full(),
                    kana: name.full_kana(),
                    birth_date,
                    sex,
                    relation_label: relations.body.label(&standing.relation).unwrap_or("").to_owned(),
                    relation: standing.relation,
                    guardian: standing.guardian,
                    custody: standing.custody,
                    cohabiting: m.cohabiting,
                });
            }
            let mut cases = Vec::new();
            for case_id in r.links("child_case", id.0, usize::MAX)? {
                let case = r.require::<Case>(CaseId(case_id))?;
                if scope.can_read_case(&case.body) {
                    cases.push(case);
                }
            }
            let mut notes = Vec::new();
            for note_id in r.links("child_note", id.0, usize::MAX)? {
                let note = r.require::<Note>(NoteId(note_id))?;
                if cases.iter().any(|c| c.id == note.body.case.0) {
                    notes.push(note);
                    if notes.len() == 50 {
                        break;
                    }
                }
            }
            let may_edit = actor.role.may(Action::EditChild)
                && access::check_write_child(actor, &child.body, Action::EditChild).is_ok();
            let may_open_case = actor.role.may(Action::OpenCase);
            Ok((ChildView { child, household, members, cases, notes, may_edit, may_open_case }, None))
        })
    }

    /// Edits the face sheet at the revision the editor started from: [`FaceSheetEdit`] put
    /// onto the child as stored. An edit saved meanwhile is merged in field by field (both
    /// changing one field is a conflict, and nothing is written); `merged` says whether one was.
    pub fn edit_child(
        &self,
        actor: &Actor,
        id: ChildId,
        rev: u64,
        edit: &FaceSheetEdit,
    ) -> Result<ChildEdited> {
        let today = self.now().jst_date();
        let (child, merged) = self.write(actor, Action::EditChild, ChildId::KIND, Some(id.0), |tx| {
            let old = tx.require::<Child>(id)?;
            access::check_write_child(actor, &old.body, Action::EditChild)?;
            let mut body = merging::edit(tx, &old, rev, edit.applied_to(old.body.clone()))?;
            // The birth date is held to the intake's rule when it changes: a child who has grown
            // past 25 since (or a historical case brought in by a migration) keeps a face sheet
            // that can be edited.
            if (body.birth_date, body.unborn) != (old.body.birth_date, old.body.unborn) {
                check_birth(body.birth_date, body.unborn, today)?;
            }
            // Which units hold the child, and who may see it, are kept by the service.
            body.unit = old.body.unit;
            body.units.clone_from(&old.body.units);
            body.restricted_to.clone_from(&old.body.restricted_to);
            // The household is not on the face sheet (`FaceSheetEdit`): it stays as stored.
            body.household = old.body.household;
            if body == old.body {
                return Ok(((old, false), id.0));
            }
            let merged = rev != old.rev;
            let v = tx.update(id, old.rev, body)?;
            put_child_index(tx, id, &v.body, old.body.birth_date)?;
            Ok(((v, merged), id.0))
        })?;
        Ok(ChildEdited { child, merged })
    }

    /// What a face-sheet edit started from revision `rev` would become if saved now (as
    /// `merge_case_edit`). A read of the child, audited as one.
    pub fn merge_child_edit(
        &self,
        actor: &Actor,
        id: ChildId,
        rev: u64,
        edit: &FaceSheetEdit,
    ) -> Result<(Versioned<Child>, Merged<Child>)> {
        self.read(actor, Action::ReadChild, ChildId::KIND, Some(id.0), |r| {
            let current = r.require::<Child>(id)?;
            access::Scope::of(r, actor)?.check_read_child(&current.body, Action::ReadChild)?;
            let merged = merging::with_current(r, &current, rev, &edit.applied_to(current.body.clone()))?;
            Ok(((current, merged), None))
        })
    }

    /// Adds an adult (guardian, cohabitant) in the actor's unit.
    pub fn add_person(&self, actor: &Actor, person: Person) -> Result<PersonId> {
        self.write(actor, Action::EditChild, PersonId::KIND, None, |tx| {
            access::check_own_unit(actor, person.unit, Action::EditChild)?;
            let v = tx.insert(person)?;
            Ok((PersonId(v.id), v.id))
        })
    }

    /// Creates a household and links each child member to it.
    pub fn create_household(&self, actor: &Actor, household: Household) -> Result<HouseholdId> {
        self.write(actor, Action::EditChild, HouseholdId::KIND, None, |tx| {
            access::check_own_unit(actor, household.unit, Action::EditChild)?;
            let relations = Service::code_table(tx, "relation")?;
            let today = tx.now.jst_date();
            for m in &household.members {
                relations.body.check(&m.relation, today)?;
                if let MemberRef::Person(p) = m.who {
                    tx.require::<Person>(p)?;
                }
            }
            let members = household.members.clone();
            let v = tx.insert(household)?;
            for m in members {
                if let MemberRef::Child(c) = m.who {
                    let child = tx.require::<Child>(c)?;
                    access::check_write_child(actor, &child.body, Action::EditChild)?;
                    let mut body = child.body.clone();
                    body.household = Some(HouseholdId(v.id));
                    let new = tx.update(c, child.rev, body)?;
                    put_child_index(tx, c, &new.body, new.body.birth_date)?;
                }
            }
            Ok((HouseholdId(v.id), v.id))
        })
    }

    /// 関係機関: adds an agency (shared by every unit) after checking its kind code.
    pub fn add_agency(&self, actor: &Actor, agency: Agency) -> Result<AgencyId> {
        self.write(actor, Action::ManageAgencies, AgencyId::KIND, None, |tx| {
            if agency.name.trim().is_empty() {
                return Err(Error::invalid("name", "required"));
            }
            let today = tx.now.jst_date();
            Service::code_table(tx, "agency_kind")?.body.check(&agency.kind, today)?;
            let v = tx.insert(agency)?;
            Ok((AgencyId(v.id), v.id))
        })
    }

    /// Edits an agency at the revision the editor started from.
    pub fn edit_agency(
        &self,
        actor: &Actor,
        id: AgencyId,
        rev: u64,
        agency: Agency,
    ) -> Result<Versioned<Agency>> {
        self.write(actor, Action::ManageAgencies, AgencyId::KIND, Some(id.0), |tx| {
            let today = tx.now.jst_date();
            Service::code_table(tx, "agency_kind")?.body.check(&agency.kind, today)?;
            let v = tx.update(id, rev, agency)?;
            Ok((v, id.0))
        })
    }

    /// All agencies (no personal data: names of institutions and their contact desks).
    pub fn agencies(&self) -> Result<Vec<Versioned<Agency>>> {
        self.store.read()?.all::<Agency>()
    }

    /// The history of a child's face sheet: every revision, who and when.
    pub fn child_history(&self, actor: &Actor, id: ChildId) -> Result<Vec<Versioned<Child>>> {
        self.read(actor, Action::ReadChild, ChildId::KIND, Some(id.0), |r| {
            let current = r.require::<Child>(id)?;
            access::Scope::of(r, actor)?.check_read_child(&current.body, Action::ReadChild)?;
            Ok((r.history::<Child>(id)?, Some("history".into())))
        })
    }
}
