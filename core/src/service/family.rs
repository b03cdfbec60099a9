//! The family on the face sheet: the adults and children of a child's household and how each
//! stands to the child (続柄, 保護者, 親権者, 同居). One household is shared by siblings; an
//! edit is made against the household's revision and merged member by member with what was
//! saved meanwhile (`Household::merge`), a person's details against the person's revision.
//! The child's search keys carry the family's names, phones and addresses, so a report that
//! names the mother finds the child.

use serde::Serialize;

use super::Service;
use super::access::{self, Actor};
use super::casework::{IDEMPOTENCY, idempotency_claim, replayed};
use super::merging;
use super::people::ChildSummary;
use crate::code_table::Code;
use crate::error::{Error, Result, Why};
use crate::ids::{ChildId, HouseholdId, PersonId, RecordId};
use crate::person::{Child, Household, Member, MemberRef, Person, PersonEdit, PersonName, Sex, Standing};
use crate::search;
use crate::staff::Action;
use crate::store::{Reader, Versioned, WriteTx};
use crate::time::Date;

/// 続柄 `本人`: the child itself, never anyone else.
pub const SELF: &str = "10";
/// 続柄 `きょうだい`: how a child joining a household stands to the children already in it.
pub const SIBLING: &str = "09";

/// Who joins a child's household.
#[derive(Clone, Debug)]
pub enum Joining {
    /// A new adult (guardian, relative, cohabitant); its unit is the child's.
    Adult(Box<PersonEdit>),
    /// A child on file (a sibling), not in another household.
    Child(ChildId),
}

/// A member to add to a child's household, standing to that child as `standing` says.
#[derive(Clone, Debug)]
pub struct NewMember {
    pub who: Joining,
    pub standing: Standing,
    pub cohabiting: bool,
}

/// A change to one member, from the page of `child`: the household revision the form was
/// drawn from, the person's details at the person's revision (adults only), and how the
/// member stands to the child.
#[derive(Clone, Debug)]
pub struct MemberEdit {
    pub who: MemberRef,
    pub household_rev: u64,
    pub person: Option<(u64, PersonEdit)>,
    pub standing: Standing,
    pub cohabiting: bool,
}

/// One member as the family form shows it: the person's record (adults), the standing to the
/// child whose page it is, and the household revision to edit against.
#[derive(Clone, Debug, Serialize)]
pub struct FamilyMember {
    pub who: MemberRef,
    pub name: String,
    pub person: Option<Versioned<Person>>,
    pub standing: Standing,
    pub cohabiting: bool,
    pub household_rev: u64,
}

/// The search keys of a child: its names, phones and address, and its household's adults'
/// names, phones and addresses.
pub(super) fn search_keys(r: &impl Reader, child: &Child) -> Result<Vec<String>> {
    let mut keys = vec![
        search::normalize(&format!("{}{}", child.name.family, child.name.given)),
        search::normalize(&format!("{}{}", child.name.family_kana, child.name.given_kana)),
        search::normalize(&child.address),
    ];
    keys.extend(child.phones.iter().map(|p| search::phone_digits(p)));
    if let Some(h) = child.household {
        let household = r.require::<Household>(h)?;
        for m in &household.body.members {
            let MemberRef::Person(p) = m.who else { continue };
            let p = r.require::<Person>(p)?.body;
            keys.push(search::normalize(&format!("{}{}", p.name.family, p.name.given)));
            keys.push(search::normalize(&format!("{}{}", p.name.family_kana, p.name.given_kana)));
            keys.push(search::normalize(&p.address));
            keys.extend(p.phones.iter().map(|n| search::phone_digits(n)));
        }
    }
    keys.retain(|k| !k.is_empty());
    keys.sort();
    keys.dedup();
    Ok(keys)
}

/// Re-indexes `child` (as now stored, with `old_birth` its birth date as indexed before).
pub(super) fn put_child_index(
    tx: &mut WriteTx,
    id: ChildId,
    child: &Child,
    old_birth: Option<Date>,
) -> Result<()> {
    let keys = search_keys(tx, child)?;
    tx.index_child(id.0, &keys, child.birth_date, old_birth)
}

/// Re-indexes every child of `household` (their keys hold the family's).
fn reindex_members(tx: &mut WriteTx, household: &Household) -> Result<()> {
    for m in &household.members {
        if let MemberRef::Child(c) = m.who {
            let child = tx.require::<Child>(c)?.body;
            put_child_index(tx, c, &child, child.birth_date)?;
        }
    }
    Ok(())
}

/// Refuses a standing the code table does not hold, and 本人 for anyone but the child.
fn check_standing(tx: &WriteTx, standing: &Standing) -> Result<()> {
    if standing.relation.as_str() == SELF {
        return Err(Error::invalid("relation", Why::NotTheChild));
    }
    match Service::code_table(tx, "relation")?.body.check(&standing.relation, tx.now.jst_date()) {
        Ok(_) => Ok(()),
        Err(Error::Invalid { reason, .. }) => Err(Error::invalid("relation", reason)),
        Err(e) => Err(e),
    }
}

/// Refuses an adult's name that is not one (no family name, furigana not kana) and a birth date
/// in the future or more than 120 years ago.
fn check_person(person: &Person, today: Date) -> Result<()> {
    // Whatever front-end built the name, it is checked here as a typed one is.
    let n = &person.name;
    PersonName::new(&n.family, &n.given, &n.family_kana, &n.given_kana)?;
    if let Some(b) = person.birth_date {
        if b > today {
            return Err(Error::invalid("birth_date", Why::InFuture));
        }
        if b.age_on(today) > 120 {
            return Err(Error::invalid("birth_date", Why::YearsAgo(120)));
        }
    }
    Ok(())
}

/// Whether the household holds a child other than `child` (and other than `who` itself).
fn other_children(household: &Household, child: ChildId, who: MemberRef) -> bool {
    household
        .members
        .iter()
        .any(|m| m.who != who && m.who != MemberRef::Child(child) && matches!(m.who, MemberRef::Child(_)))
}

/// The child, checked writable by the actor, with its household (a new one when it has none).
fn child_and_household(
    tx: &mut WriteTx,
    actor: &Actor,
    id: ChildId,
) -> Result<(Versioned<Child>, Versioned<Household>)> {
    let child = tx.require::<Child>(id)?;
    access::check_write_child(actor, &child.body, Action::EditChild)?;
    if let Some(h) = child.body.household {
        return Ok((child, tx.require::<Household>(h)?));
    }
    let sibling = Standing { relation: Code::new(SIBLING), guardian: false, custody: false };
    let household = tx.insert(Household {
        migrated: None,
        unit: child.body.unit,
        address: String::new(),
        phones: Vec::new(),
        public_assistance: false,
        members: vec![Member::new(MemberRef::Child(id), sibling, true)],
        notes: String::new(),
    })?;
    let mut body = child.body.clone();
    body.household = Some(HouseholdId(household.id));
    let child = tx.update(id, child.rev, body)?;
    Ok((child, household))
}

/// Adds `new` to the household of `child` (made when it has none), in `tx`.
pub(super) fn add_member(
    tx: &mut WriteTx,
    actor: &Actor,
    child: ChildId,
    new: NewMember,
    claim: Option<&str>,
) -> Result<Versioned<Household>> {
    check_standing(tx, &new.standing)?;
    let (_, household) = child_and_household(tx, actor, child)?;
    let who = match new.who {
        Joining::Adult(person) => {
            let person = person.into_person(household.body.unit);
            let same = |p: &Person| p.name == person.name && p.birth_date == person.birth_date;
            if replayed::<Person>(tx, claim, same)?.is_some() {
                return Ok(household);
            }
            check_person(&person, tx.now.jst_date())?;
            let v = tx.insert(person)?;
            if let Some(c) = claim {
                tx.claim(IDEMPOTENCY, c, v.id)?;
            }
            MemberRef::Person(PersonId(v.id))
        }
        Joining::Child(other) => {
            if other == child {
                return Err(Error::invalid("child", Why::TheChildItself));
            }
            let joining = tx.require::<Child>(other)?;
            access::check_write_child(actor, &joining.body, Action::EditChild)?;
            match joining.body.household {
                Some(h) if h.0 == household.id => return Ok(household),
                Some(_) => return Err(Error::invalid("child", Why::OtherHousehold)),
                None => {}
            }
            let mut body = joining.body.clone();
            body.household = Some(HouseholdId(household.id));
            tx.update(other, joining.rev, body)?;
            MemberRef::Child(other)
        }
    };
    let mut body = household.body.clone();
    // Stands so to every child of the household, until said otherwise on a child's page.
    body.members.push(Member::new(who, new.standing, new.cohabiting));
    let v = tx.update(HouseholdId(household.id), household.rev, body)?;
    reindex_members(tx, &v.body)?;
    Ok(v)
}

/// The family named with an intake (`NewChild::family`, `IntakeChild::Existing`'s), added to
/// `child`'s household in the intake's transaction; an error names the guardian's field. An
/// adult already in the household before the intake, under the same name and furigana, is not
/// added again (two named alike in one intake both are); one named without a sex (the intake
/// asks none) takes the one its relation says.
pub(super) fn add_named_family(
    tx: &mut WriteTx,
    actor: &Actor,
    child: ChildId,
    family: Vec<NewMember>,
) -> Result<()> {
    let mut known = Vec::new();
    if let Some(h) = tx.require::<Child>(child)?.body.household {
        for m in &tx.require::<Household>(h)?.body.members {
            if let MemberRef::Person(id) = m.who {
                known.push(tx.require::<Person>(id)?.body.name);
            }
        }
    }
    for mut member in family {
        if let Joining::Adult(p) = &mut member.who {
            if p.sex == Sex::Unknown {
                p.sex = implied_sex(&member.standing.relation);
            }
            if known.contains(&p.name) {
                continue;
            }
        }
        add_member(tx, actor, child, member, None).map_err(as_guardian)?;
    }
    Ok(())
}

/// The sex a relation says: 実父, 継父, 養父, 祖父 a man; 実母, 継母, 養母, 祖母 a woman.
fn implied_sex(relation: &Code) -> Sex {
    match relation.as_str() {
        "01" | "03" | "05" | "07" => Sex::Male,
        "02" | "04" | "06" | "08" => Sex::Female,
        _ => Sex::Unknown,
    }
}

impl Service {
    /// Adds a member to the household of `child` (made when the child has none): a new adult,
    /// or a child on file as a sibling. A client may retry an adult with the same idempotency
    /// key: one person is added. Audited as an edit of the child.
    pub fn add_family_member(
        &self,
        actor: &Actor,
        child: ChildId,
        new: NewMember,
        key: Option<&str>,
    ) -> Result<Versioned<Household>> {
        let claim = key.map(|k| idempotency_claim(actor, "family", k)).transpose()?;
        self.write(actor, Action::EditChild, ChildId::KIND, Some(child.0), |tx| {
            let v = add_member(tx, actor, child, new, claim.as_deref())?;
            Ok((v, child.0))
        })
    }

    /// Changes one member of the household of `child`: the person's details (merged with an
    /// edit saved meanwhile, field by field) and how the member stands to the child. Where the
    /// household has other children, their relation to the member stays as it was.
    pub fn edit_family_member(
        &self,
        actor: &Actor,
        child: ChildId,
        edit: MemberEdit,
    ) -> Result<Versioned<Household>> {
        self.write(actor, Action::EditChild, ChildId::KIND, Some(child.0), |tx| {
            check_standing(tx, &edit.standing)?;
            let (_, household) = child_and_household(tx, actor, child)?;
            let Some(member) = household.body.members.iter().find(|m| m.who == edit.who).cloned() else {
                return Err(Error::not_found("household member", format!("{:?}", edit.who)));
            };
            if edit.who == MemberRef::Child(child) {
                return Err(Error::invalid("who", Why::TheChildItself));
            }
            if let MemberRef::Child(k) = edit.who {
                // A sibling's standing is part of its record too.
                access::check_write_child(actor, &tx.require::<Child>(k)?.body, Action::EditChild)?;
            }
            match (edit.who, edit.person) {
                (MemberRef::Person(p), Some((rev, edit))) => {
                    let old = tx.require::<Person>(p)?;
                    let mut person = edit.into_person(old.body.unit);
                    person.migrated.clone_from(&old.body.migrated);
                    check_person(&person, tx.now.jst_date())?;
                    let body = merging::edit(tx, &old, rev, person)?;
                    if body != old.body {
                        tx.update(p, old.rev, body)?;
                    }
                }
                (MemberRef::Child(_), Some(_)) => {
                    return Err(Error::invalid("who", "a child's details are edited on its own face sheet"));
                }
                (_, None) => {}
            }
            let mut changed = member.clone();
            changed.set_standing(child, edit.standing, other_children(&household.body, child, edit.who));
            changed.cohabiting = edit.cohabiting;
            let mut mine = household.body.clone();
            for m in &mut mine.members {
                if m.who == edit.who {
                    *m = changed.clone();
                }
            }
            let body = merging::edit(tx, &household, edit.household_rev, mine)?;
            let v = if body == household.body {
                household
            } else {
                tx.update(HouseholdId(household.id), household.rev, body)?
            };
            reindex_members(tx, &v.body)?;
            Ok((v, child.0))
        })
    }

    /// Takes a member out of the household of `child` (the person's record stays, with its
    /// history; a sibling keeps its own record and cases and leaves with no household).
    pub fn remove_family_member(
        &self,
        actor: &Actor,
        child: ChildId,
        who: MemberRef,
        household_rev: u64,
    ) -> Result<Versioned<Household>> {
        self.write(actor, Action::EditChild, ChildId::KIND, Some(child.0), |tx| {
            if tx.require::<Child>(child)?.body.household.is_none() {
                // Nothing to take out, and no household made for it.
                return Err(Error::not_found("household member", member_key(who)));
            }
            let (_, household) = child_and_household(tx, actor, child)?;
            if who == MemberRef::Child(child) {
                return Err(Error::invalid("who", Why::TheChildItself));
            }
            if !household.body.members.iter().any(|m| m.who == who) {
                return Ok((household, child.0));
            }
            let mut mine = household.body.clone();
            mine.members.retain(|m| m.who != who);
            if let MemberRef::Child(c) = who {
                for m in &mut mine.members {
                    m.ties.retain(|t| t.child != c);
                }
            }
            let body = merging::edit(tx, &household, household_rev, mine)?;
            let v = tx.update(HouseholdId(household.id), household.rev, body)?;
            if let MemberRef::Child(c) = who {
                let leaving = tx.require::<Child>(c)?;
                access::check_write_child(actor, &leaving.body, Action::EditChild)?;
                let mut body = leaving.body.clone();
                body.household = None;
                let left = tx.update(c, leaving.rev, body)?;
                put_child_index(tx, c, &left.body, left.body.birth_date)?;
            }
            reindex_members(tx, &v.body)?;
            Ok((v, child.0))
        })
    }

    /// One member of the household of `child` as its edit form shows it. A read of the child,
    /// audited as one.
    pub fn family_member(&self, actor: &Actor, child: ChildId, who: MemberRef) -> Result<FamilyMember> {
        self.read(actor, Action::ReadChild, ChildId::KIND, Some(child.0), |r| {
            let c = r.require::<Child>(child)?;
            let scope = access::Scope::of(r, actor)?;
            scope.check_read_child(&c.body, Action::ReadChild)?;
            let view = member_of(r, &scope, child, &c.body, who)?;
            Ok((view, Some(format!("family member {}", member_key(who)))))
        })
    }
}

/// Everything the family form shows: the child, the member edited (none when adding), the
/// relations to choose from, and, when a sibling on file is looked for, the children found.
#[derive(Clone, Debug)]
pub struct FamilyFormView {
    pub child: ChildId,
    pub child_name: String,
    pub member: Option<FamilyMember>,
    /// 続柄 to choose from (本人 left out), valid today.
    pub relations: Vec<(Code, String)>,
    pub candidates: Vec<SiblingCandidate>,
}

/// A child found by the sibling search, and whether it may join this child's household.
#[derive(Clone, Debug)]
pub struct SiblingCandidate {
    pub child: ChildSummary,
    /// Why it cannot join, if it cannot.
    pub refused: Option<NotJoinable>,
}

/// Why a child found cannot join the household.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NotJoinable {
    TheChildItself,
    InThisHousehold,
    InAnotherHousehold,
    /// Another unit's child, or one restricted from the reader.
    NotYours,
}

impl Service {
    /// The family form of `child` (one audited read): for `who`, or for a new member, with the
    /// children found by `sibling_query`. Only for whoever may edit the child's family.
    pub fn family_form(
        &self,
        actor: &Actor,
        child: ChildId,
        who: Option<MemberRef>,
        sibling_query: Option<&str>,
    ) -> Result<FamilyFormView> {
        let today = self.now().jst_date();
        self.read(actor, Action::ReadChild, ChildId::KIND, Some(child.0), |r| {
            let c = r.require::<Child>(child)?;
            access::check_write_child(actor, &c.body, Action::EditChild)?;
            let scope = access::Scope::of(r, actor)?;
            scope.check_read_child(&c.body, Action::ReadChild)?;
            let member = who.map(|w| member_of(r, &scope, child, &c.body, w)).transpose()?;
            let relations = Service::code_table(r, "relation")?
                .body
                .entries
                .iter()
                .filter(|e| e.valid_on(today) && e.code != SELF)
                .map(|e| (Code::new(&e.code), e.label.clone()))
                .collect();
            let mut candidates = Vec::new();
            if let Some(q) = sibling_query.map(str::trim).filter(|q| !q.is_empty()) {
                for found in super::people::search_in(r, &scope, q, 20)? {
                    let other = r.require::<Child>(found.id)?.body;
                    let refused = if found.id == child {
                        Some(NotJoinable::TheChildItself)
                    } else if other.household.is_some() && other.household == c.body.household {
                        Some(NotJoinable::InThisHousehold)
                    } else if other.household.is_some() {
                        Some(NotJoinable::InAnotherHousehold)
                    } else {
                        access::check_write_child(actor, &other, Action::EditChild)
                            .err()
                            .map(|_| NotJoinable::NotYours)
                    };
                    candidates.push(SiblingCandidate { child: found, refused });
                }
            }
            // Names the member shown and the children the search showed.
            let mut said = Vec::new();
            if let Some(w) = who {
                said.push(format!("family member {}", member_key(w)));
            }
            if !candidates.is_empty() {
                let shown: Vec<ChildSummary> = candidates.iter().map(|c| c.child.clone()).collect();
                said.push(format!("family form: {}", super::people::results_detail(&shown)));
            }
            let detail = (!said.is_empty()).then(|| said.join("; "));
            let view =
                FamilyFormView { child, child_name: c.body.name.full(), member, relations, candidates };
            Ok((view, detail))
        })
    }
}

/// Member `who` of the household of `child` (read as `body`) as its form shows it; a sibling the
/// reader may not see is refused here too.
fn member_of(
    r: &impl Reader,
    scope: &access::Scope,
    child: ChildId,
    body: &Child,
    who: MemberRef,
) -> Result<FamilyMember> {
    let not_found = || Error::not_found("household member", format!("{who:?}"));
    let household = body.household.map(|h| r.require::<Household>(h)).transpose()?.ok_or_else(not_found)?;
    let member = household.body.members.iter().find(|m| m.who == who).ok_or_else(not_found)?;
    let (name, person) = match who {
        MemberRef::Person(p) => {
            let v = r.require::<Person>(p)?;
            (v.body.name.full(), Some(v))
        }
        MemberRef::Child(k) => {
            let sibling = r.require::<Child>(k)?.body;
            scope.check_read_child(&sibling, Action::ReadChild)?;
            (sibling.name.full(), None)
        }
    };
    Ok(FamilyMember {
        who,
        name,
        person,
        standing: member.standing_to(child),
        cohabiting: member.cohabiting,
        household_rev: household.rev,
    })
}

/// A member as a path segment and form value: `person-12`, `child-7`.
#[must_use]
pub fn member_key(who: MemberRef) -> String {
    match who {
        MemberRef::Person(p) => format!("person-{}", p.0),
        MemberRef::Child(c) => format!("child-{}", c.0),
    }
}

/// The member a path segment or form value names.
pub fn parse_member_key(key: &str) -> Result<MemberRef> {
    let bad = || Error::invalid("who", "person-N or child-N");
    let (kind, id) = key.split_once('-').ok_or_else(bad)?;
    let id: u64 = id.parse().map_err(|_| bad())?;
    match kind {
        "person" => Ok(MemberRef::Person(PersonId(id))),
        "child" => Ok(MemberRef::Child(ChildId(id))),
        _ => Err(bad()),
    }
}

/// An error about a family member named with a new child, its field named as the guardian's
/// (`guardian_family_name_kana`), so that a form holding both says whose field it is.
pub fn as_guardian(e: Error) -> Error {
    match e {
        Error::Invalid { field, reason } => {
            let field = match field {
                "family_name" => "guardian_family_name",
                "family_name_kana" => "guardian_family_name_kana",
                "given_name_kana" => "guardian_given_name_kana",
                "birth_date" => "guardian_birth_date",
                "relation" => "guardian_relation",
                other => other,
            };
            Error::Invalid { field, reason }
        }
        other => other,
    }
}
