//! Children, the adults around them, households and the agencies the office works with.

use serde::{Deserialize, Serialize};

use crate::code_table::Code;
use crate::error::Error;
use crate::error::Why;
use crate::ids::{AgencyId, ChildId, HouseholdId, PersonId, StaffId, UnitId};
use crate::merge::{Fields, Merge, Merged};
use crate::record::Record;
use crate::time::{Date, Timestamp};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sex {
    Male,
    Female,
    Unknown,
}

impl Sex {
    /// Accepts `male`/`female`/`unknown`, `M`/`F`, and 男/女/不明.
    pub fn parse(s: &str) -> Result<Self, Error> {
        match s.trim() {
            "male" | "m" | "M" | "男" | "男性" => Ok(Sex::Male),
            "female" | "f" | "F" | "女" | "女性" => Ok(Sex::Female),
            "unknown" | "" | "不明" => Ok(Sex::Unknown),
            _ => Err(Error::invalid("sex", Why::NotOneOf("male, female, unknown (男, 女, 不明)"))),
        }
    }
    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            Sex::Male => "男",
            Sex::Female => "女",
            Sex::Unknown => "不明",
        }
    }
}

/// A name in kanji (or as written) with its furigana.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonName {
    pub family: String,
    pub given: String,
    pub family_kana: String,
    pub given_kana: String,
}

impl PersonName {
    /// Trims, refuses empty family names, furigana that is not kana, and control characters or
    /// bidi overrides anywhere (a name must read as it is stored).
    pub fn new(family: &str, given: &str, family_kana: &str, given_kana: &str) -> Result<Self, Error> {
        for (field, part) in [("family_name", family), ("given_name", given)] {
            crate::text::check(field, part)?;
        }
        let family = family.trim();
        if family.is_empty() {
            return Err(Error::invalid("family_name", Why::Required));
        }
        for (field, kana) in [("family_name_kana", family_kana), ("given_name_kana", given_kana)] {
            if !kana.chars().all(is_kana_or_space) {
                return Err(Error::invalid(field, Why::NotKana));
            }
        }
        if family_kana.trim().is_empty() {
            return Err(Error::invalid("family_name_kana", Why::Required));
        }
        Ok(Self {
            family: family.to_owned(),
            given: given.trim().to_owned(),
            family_kana: family_kana.trim().to_owned(),
            given_kana: given_kana.trim().to_owned(),
        })
    }

    #[must_use]
    pub fn full(&self) -> String {
        format!("{} {}", self.family, self.given).trim().to_owned()
    }
    #[must_use]
    pub fn full_kana(&self) -> String {
        format!("{} {}", self.family_kana, self.given_kana).trim().to_owned()
    }
}

fn is_kana_or_space(c: char) -> bool {
    c.is_whitespace()
        || ('\u{3041}'..='\u{309F}').contains(&c)
        || ('\u{30A0}'..='\u{30FF}').contains(&c)
        || ('\u{FF65}'..='\u{FF9F}').contains(&c)
}

/// 対象児童. A child may be unborn (特定妊婦 cases): then `birth_date` is the expected date.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Child {
    pub name: PersonName,
    pub birth_date: Option<Date>,
    #[serde(default)]
    pub unborn: bool,
    pub sex: Sex,
    #[serde(default)]
    pub address: String,
    #[serde(default)]
    pub phones: Vec<String>,
    /// 所属: school, nursery.
    #[serde(default)]
    pub affiliation: String,
    #[serde(default)]
    pub nationality: String,
    #[serde(default)]
    pub disability_certificates: Vec<String>,
    /// 宛名番号, when known.
    #[serde(default)]
    pub resident_no: Option<String>,
    pub household: Option<HouseholdId>,
    /// The unit that registered the child.
    pub unit: UnitId,
    /// Every unit holding a case on the child (kept by the service).
    #[serde(default)]
    pub units: Vec<UnitId>,
    /// 閲覧制限: only these staff may see the child at all.
    #[serde(default)]
    pub restricted_to: Option<Vec<StaffId>>,
    #[serde(default)]
    pub photo: Option<Attachment>,
    /// Brought in by a migration: the source's id and what its row said (none on records made here).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub migrated: Option<crate::interchange::Migrated>,
}

impl Record for Child {
    type Id = ChildId;
    const SCHEMA: u16 = 1;
}

/// The face sheet (フェイスシート) as its edit form holds it: the fields a person edits, put onto
/// the child by core. The household, the units holding cases, the restriction and the photo
/// stay as they are.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FaceSheetEdit {
    pub name: PersonName,
    pub birth_date: Option<Date>,
    #[serde(default)]
    pub unborn: bool,
    pub sex: Sex,
    #[serde(default)]
    pub address: String,
    /// One number each; blank ones are dropped.
    #[serde(default)]
    pub phones: Vec<String>,
    #[serde(default)]
    pub affiliation: String,
    #[serde(default)]
    pub nationality: String,
    #[serde(default)]
    pub resident_no: Option<String>,
}

impl FaceSheetEdit {
    /// What the edit form shows of `child`.
    #[must_use]
    pub fn of(child: &Child) -> Self {
        Self {
            name: child.name.clone(),
            birth_date: child.birth_date,
            unborn: child.unborn,
            sex: child.sex,
            address: child.address.clone(),
            phones: child.phones.clone(),
            affiliation: child.affiliation.clone(),
            nationality: child.nationality.clone(),
            resident_no: child.resident_no.clone(),
        }
    }

    /// `child` with these fields put in.
    #[must_use]
    pub fn applied_to(&self, mut child: Child) -> Child {
        child.name.clone_from(&self.name);
        child.birth_date = self.birth_date;
        child.unborn = self.unborn;
        child.sex = self.sex;
        child.address.clone_from(&self.address);
        child.phones =
            self.phones.iter().map(|p| p.trim()).filter(|p| !p.is_empty()).map(str::to_owned).collect();
        child.affiliation.clone_from(&self.affiliation);
        child.nationality.clone_from(&self.nationality);
        child.resident_no =
            self.resident_no.as_deref().map(str::trim).filter(|r| !r.is_empty()).map(str::to_owned);
        child
    }
}

impl Merge for Child {
    /// The face sheet's fields, the name part by part. Units, restriction and the rest are
    /// `theirs`.
    fn merge(base: &Self, mine: &Self, theirs: &Self) -> Merged<Self> {
        let mut f = Fields::new();
        let mut out = theirs.clone();
        out.name = merge_name(&mut f, &base.name, &mine.name, &theirs.name);
        (out.birth_date, out.unborn) = f.pick(
            "birth_date",
            &(base.birth_date, base.unborn),
            (mine.birth_date, mine.unborn),
            (theirs.birth_date, theirs.unborn),
        );
        out.sex = f.pick("sex", &base.sex, mine.sex, theirs.sex);
        out.address = f.pick("address", &base.address, mine.address.clone(), theirs.address.clone());
        out.phones = f.pick("phones", &base.phones, mine.phones.clone(), theirs.phones.clone());
        out.affiliation =
            f.pick("affiliation", &base.affiliation, mine.affiliation.clone(), theirs.affiliation.clone());
        out.nationality =
            f.pick("nationality", &base.nationality, mine.nationality.clone(), theirs.nationality.clone());
        out.disability_certificates = f.pick_set(
            "disability_certificates",
            &base.disability_certificates,
            &mine.disability_certificates,
            &theirs.disability_certificates,
        );
        out.resident_no =
            f.pick("resident_no", &base.resident_no, mine.resident_no.clone(), theirs.resident_no.clone());
        out.household = f.pick("household", &base.household, mine.household, theirs.household);
        out.photo = f.pick("photo", &base.photo, mine.photo.clone(), theirs.photo.clone());
        Merged { body: out, clashes: f.clashes }
    }
}

/// An adult in a child's life: guardian, cohabitant, relative.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Person {
    pub name: PersonName,
    pub birth_date: Option<Date>,
    pub sex: Sex,
    #[serde(default)]
    pub address: String,
    #[serde(default)]
    pub phones: Vec<String>,
    #[serde(default)]
    pub employment: String,
    #[serde(default)]
    pub health: String,
    pub unit: UnitId,
    /// Brought in by a migration: the source's id and what its row said (none on records made here).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub migrated: Option<crate::interchange::Migrated>,
}

impl Record for Person {
    type Id = PersonId;
    const SCHEMA: u16 = 1;
}

/// An adult's details as the family form holds them; core gives the person its unit.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonEdit {
    pub name: PersonName,
    pub birth_date: Option<Date>,
    pub sex: Sex,
    #[serde(default)]
    pub address: String,
    /// One number each; blank ones are dropped.
    #[serde(default)]
    pub phones: Vec<String>,
    #[serde(default)]
    pub employment: String,
    #[serde(default)]
    pub health: String,
}

impl PersonEdit {
    /// What the form shows of `person`.
    #[must_use]
    pub fn of(person: &Person) -> Self {
        Self {
            name: person.name.clone(),
            birth_date: person.birth_date,
            sex: person.sex,
            address: person.address.clone(),
            phones: person.phones.clone(),
            employment: person.employment.clone(),
            health: person.health.clone(),
        }
    }

    /// The person in `unit` with these details.
    #[must_use]
    pub fn into_person(self, unit: UnitId) -> Person {
        let trim = |s: String| s.trim().to_owned();
        Person {
            migrated: None,
            name: self.name,
            birth_date: self.birth_date,
            sex: self.sex,
            address: trim(self.address),
            phones: self
                .phones
                .iter()
                .map(|p| p.trim())
                .filter(|p| !p.is_empty())
                .map(str::to_owned)
                .collect(),
            employment: trim(self.employment),
            health: trim(self.health),
            unit,
        }
    }
}

impl Merge for Person {
    /// Field by field, the name part by part; the unit is `theirs`.
    fn merge(base: &Self, mine: &Self, theirs: &Self) -> Merged<Self> {
        let mut f = Fields::new();
        let mut out = theirs.clone();
        out.name = merge_name(&mut f, &base.name, &mine.name, &theirs.name);
        out.birth_date = f.pick("birth_date", &base.birth_date, mine.birth_date, theirs.birth_date);
        out.sex = f.pick("sex", &base.sex, mine.sex, theirs.sex);
        out.address = f.pick("address", &base.address, mine.address.clone(), theirs.address.clone());
        out.phones = f.pick("phones", &base.phones, mine.phones.clone(), theirs.phones.clone());
        out.employment =
            f.pick("employment", &base.employment, mine.employment.clone(), theirs.employment.clone());
        out.health = f.pick("health", &base.health, mine.health.clone(), theirs.health.clone());
        Merged { body: out, clashes: f.clashes }
    }
}

/// A name merged part by part.
fn merge_name(f: &mut Fields, b: &PersonName, m: &PersonName, t: &PersonName) -> PersonName {
    PersonName {
        family: f.pick("family_name", &b.family, m.family.clone(), t.family.clone()),
        given: f.pick("given_name", &b.given, m.given.clone(), t.given.clone()),
        family_kana: f.pick("family_name_kana", &b.family_kana, m.family_kana.clone(), t.family_kana.clone()),
        given_kana: f.pick("given_name_kana", &b.given_kana, m.given_kana.clone(), t.given_kana.clone()),
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "id")]
pub enum MemberRef {
    Child(ChildId),
    Person(PersonId),
}

/// One member of a household and how they stand to its children.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    pub who: MemberRef,
    /// 続柄 (code table `relation`) to the household's children: 実父, 実母, 継父, 祖母,
    /// きょうだい... Where the member stands otherwise to one child, `ties` says so.
    pub relation: Code,
    /// 保護者.
    #[serde(default)]
    pub guardian: bool,
    /// 親権者.
    #[serde(default)]
    pub custody: bool,
    #[serde(default = "yes")]
    pub cohabiting: bool,
    /// How the member stands to one child where it differs from the above: half-siblings in
    /// one household have one 実父 and one 継父 in the same man.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ties: Vec<Tie>,
}

impl Member {
    /// One member changed on both sides: its own standing, living together, and each tie (one
    /// per child) merged apart, so two people setting the member's standing to two different
    /// children both keep theirs.
    fn merge(f: &mut Fields, base: &Self, mine: &Self, theirs: &Self) -> Self {
        let own = |m: &Self| (m.relation.clone(), m.guardian, m.custody);
        let (relation, guardian, custody) = f.pick("members", &own(base), own(mine), own(theirs));
        let cohabiting = f.pick("members", &base.cohabiting, mine.cohabiting, theirs.cohabiting);
        let tie = |m: &Self, c: ChildId| m.ties.iter().find(|t| t.child == c).cloned();
        let mut children: Vec<ChildId> = Vec::new();
        for t in theirs.ties.iter().chain(&mine.ties) {
            if !children.contains(&t.child) {
                children.push(t.child);
            }
        }
        let ties = children
            .into_iter()
            .filter_map(|c| f.pick("members", &tie(base, c), tie(mine, c), tie(theirs, c)))
            .collect();
        Self { who: theirs.who, relation, guardian, custody, cohabiting, ties }
    }
}

/// A member's standing to one child of the household, where it differs from the member's own.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tie {
    pub child: ChildId,
    #[serde(flatten)]
    pub standing: Standing,
}

/// How someone stands to a child: 続柄, 保護者, 親権者.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Standing {
    pub relation: Code,
    #[serde(default)]
    pub guardian: bool,
    #[serde(default)]
    pub custody: bool,
}

impl Member {
    /// A member standing to every child of the household as `standing` says.
    #[must_use]
    pub fn new(who: MemberRef, standing: Standing, cohabiting: bool) -> Self {
        let Standing { relation, guardian, custody } = standing;
        Self { who, relation, guardian, custody, cohabiting, ties: Vec::new() }
    }

    /// How the member stands to `child`.
    #[must_use]
    pub fn standing_to(&self, child: ChildId) -> Standing {
        self.ties.iter().find(|t| t.child == child).map_or_else(
            || Standing { relation: self.relation.clone(), guardian: self.guardian, custody: self.custody },
            |t| t.standing.clone(),
        )
    }

    /// Sets how the member stands to `child`. With no other child in the household (`others`)
    /// the member's own standing changes; else a tie to `child` holds the difference, so the
    /// other children's relation to the member stays as it was.
    pub fn set_standing(&mut self, child: ChildId, standing: Standing, others: bool) {
        self.ties.retain(|t| t.child != child);
        if others {
            if standing != self.standing_to(child) {
                self.ties.push(Tie { child, standing });
            }
        } else {
            let Standing { relation, guardian, custody } = standing;
            (self.relation, self.guardian, self.custody) = (relation, guardian, custody);
        }
    }
}

fn yes() -> bool {
    true
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Household {
    pub unit: UnitId,
    #[serde(default)]
    pub address: String,
    #[serde(default)]
    pub phones: Vec<String>,
    /// 生活保護 received.
    #[serde(default)]
    pub public_assistance: bool,
    pub members: Vec<Member>,
    #[serde(default)]
    pub notes: String,
    /// Brought in by a migration: the source's id and what its row said (none on records made here).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub migrated: Option<crate::interchange::Migrated>,
}

impl Record for Household {
    type Id = HouseholdId;
    const SCHEMA: u16 = 1;
}

impl Merge for Household {
    /// The household's own fields one by one; its members one by one (an added, removed or
    /// changed member is a change to that member only), in `theirs`' order with new ones after.
    fn merge(base: &Self, mine: &Self, theirs: &Self) -> Merged<Self> {
        let mut f = Fields::new();
        let mut out = theirs.clone();
        out.address = f.pick("address", &base.address, mine.address.clone(), theirs.address.clone());
        out.phones = f.pick("phones", &base.phones, mine.phones.clone(), theirs.phones.clone());
        out.public_assistance = f.pick(
            "public_assistance",
            &base.public_assistance,
            mine.public_assistance,
            theirs.public_assistance,
        );
        out.notes = f.pick("notes", &base.notes, mine.notes.clone(), theirs.notes.clone());
        let find = |h: &Household, who: MemberRef| h.members.iter().find(|m| m.who == who).cloned();
        let mut order: Vec<MemberRef> = theirs.members.iter().map(|m| m.who).collect();
        order.extend(mine.members.iter().map(|m| m.who).filter(|w| find(theirs, *w).is_none()));
        out.members = order
            .into_iter()
            .filter_map(|who| match (find(base, who), find(mine, who), find(theirs, who)) {
                (Some(b), Some(m), Some(t)) => Some(Member::merge(&mut f, &b, &m, &t)),
                (b, m, t) => f.pick("members", &b, m, t),
            })
            .collect();
        f.clashes.dedup();
        Merged { body: out, clashes: f.clashes }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    pub name: String,
    #[serde(default)]
    pub role: String,
    #[serde(default)]
    pub phone: String,
    #[serde(default)]
    pub email: String,
}

/// 関係機関: a school, nursery, police station, hospital, health centre, welfare office...
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Agency {
    pub name: String,
    /// Code table `agency_kind`.
    pub kind: Code,
    #[serde(default)]
    pub address: String,
    #[serde(default)]
    pub contacts: Vec<Contact>,
}

impl Record for Agency {
    type Id = AgencyId;
    const SCHEMA: u16 = 1;
}

/// A stored file (photo, scan): content-addressed by its SHA-256.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    pub sha256: String,
    pub mime: String,
    pub size: u64,
    pub taken_at: Option<Timestamp>,
    #[serde(default)]
    pub caption: String,
}

impl Attachment {
    /// A photo named by its SHA-256; the server fills in the rest from what it stamped.
    #[must_use]
    pub fn named(sha256: &str) -> Self {
        Attachment {
            sha256: sha256.trim().to_owned(),
            mime: String::new(),
            size: 0,
            taken_at: None,
            caption: String::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_face_sheet_edit_changes_only_the_face_sheet() {
        let child = Child {
            migrated: None,
            name: PersonName::new("架空", "花子", "かくう", "はなこ").unwrap(),
            birth_date: None,
            unborn: false,
            sex: Sex::Female,
            address: String::new(),
            phones: vec![],
            affiliation: String::new(),
            nationality: String::new(),
            disability_certificates: vec!["療育手帳B".into()],
            resident_no: Some("123".into()),
            household: Some(HouseholdId(4)),
            unit: UnitId(1),
            units: vec![UnitId(1), UnitId(2)],
            restricted_to: Some(vec![StaffId(3)]),
            photo: None,
        };
        let mut edit = FaceSheetEdit::of(&child);
        assert_eq!(edit.applied_to(child.clone()), child, "unchanged");
        edit.phones = vec![" 090-0000-0000 ".into(), "  ".into()];
        edit.resident_no = Some(" ".into());
        edit.address = "架空市ひかり野1-1".into();
        let after = edit.applied_to(child.clone());
        assert_eq!(after.phones, ["090-0000-0000"]);
        assert_eq!(after.resident_no, None);
        assert_eq!(after.address, "架空市ひかり野1-1");
        assert_eq!(
            (after.household, after.units, after.restricted_to, after.disability_certificates),
            (child.household, child.units, child.restricted_to, child.disability_certificates),
            "what the form does not show stays"
        );
    }
}
