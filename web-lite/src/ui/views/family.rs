//! The family form: a new adult or a sibling on file joining a child's household, or one member
//! changed (details and how they stand to the child), and the form as typed after a refusal.

use std::collections::HashMap;

use askama::Template;
use mamoru_core::Error;
use mamoru_core::code_table::Code;
use mamoru_core::person::{Person, PersonEdit, PersonName, Sex, Standing};
use mamoru_core::service::{FamilyFormView, NotJoinable, member_key};
use mamoru_core::wareki;

use super::{Chrome, SEXES};

/// The fields as typed (and as shown back after a refusal or a conflict).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct MemberForm {
    pub family: String,
    pub given: String,
    pub family_kana: String,
    pub given_kana: String,
    pub birth: String,
    pub sex: String,
    pub relation: String,
    pub guardian: bool,
    pub custody: bool,
    pub cohabiting: bool,
    pub address: String,
    pub phones: String,
    pub employment: String,
    pub health: String,
}

impl MemberForm {
    /// A new member: living with the child, sex not yet chosen.
    pub(crate) fn blank() -> Self {
        Self { cohabiting: true, sex: "unknown".into(), ..Self::default() }
    }

    pub(crate) fn of(person: Option<&Person>, standing: &Standing, cohabiting: bool) -> Self {
        let mut form = Self {
            relation: standing.relation.0.clone(),
            guardian: standing.guardian,
            custody: standing.custody,
            cohabiting,
            ..Self::blank()
        };
        if let Some(p) = person {
            form.family.clone_from(&p.name.family);
            form.given.clone_from(&p.name.given);
            form.family_kana.clone_from(&p.name.family_kana);
            form.given_kana.clone_from(&p.name.given_kana);
            form.birth = p.birth_date.map(wareki::format).unwrap_or_default();
            SEXES
                .iter()
                .find(|(v, _)| Sex::parse(v).ok() == Some(p.sex))
                .map_or("unknown", |(v, _)| v)
                .clone_into(&mut form.sex);
            form.address.clone_from(&p.address);
            form.phones = p.phones.join("\n");
            form.employment.clone_from(&p.employment);
            form.health.clone_from(&p.health);
        }
        form
    }

    pub(crate) fn from_form(form: &HashMap<String, String>) -> Self {
        let text = |k: &str| form.get(k).map(|v| v.trim().to_owned()).unwrap_or_default();
        Self {
            family: text("family"),
            given: text("given"),
            family_kana: text("family_kana"),
            given_kana: text("given_kana"),
            birth: text("birth"),
            sex: text("sex"),
            relation: text("relation"),
            guardian: form.contains_key("guardian"),
            custody: form.contains_key("custody"),
            cohabiting: form.contains_key("cohabiting"),
            address: text("address"),
            phones: text("phones"),
            employment: text("employment"),
            health: text("health"),
        }
    }

    /// The form as rows to read, the relation by its label from `relations`.
    pub(crate) fn rows(&self, relations: &[(String, String)]) -> Vec<(&'static str, String)> {
        let relation =
            relations.iter().find(|(c, _)| *c == self.relation).map_or(self.relation.as_str(), |(_, l)| l);
        let sex = SEXES.iter().find(|(v, _)| *v == self.sex).map_or(self.sex.as_str(), |(_, l)| l);
        let yes = |b: bool| if b { "はい" } else { "いいえ" }.to_owned();
        let mut rows = vec![
            ("続柄", relation.to_owned()),
            ("保護者", yes(self.guardian)),
            ("親権者", yes(self.custody)),
            ("同居", yes(self.cohabiting)),
        ];
        if !self.family.is_empty() {
            rows.extend([
                ("氏名", format!("{} {}", self.family, self.given).trim().to_owned()),
                ("ふりがな", format!("{} {}", self.family_kana, self.given_kana).trim().to_owned()),
                ("生年月日", self.birth.clone()),
                ("性別", sex.to_owned()),
                ("住所", self.address.clone()),
                ("電話", self.phones.lines().collect::<Vec<_>>().join("、")),
                ("職業", self.employment.clone()),
                ("健康状態", self.health.clone()),
            ]);
        }
        rows
    }

    pub(crate) fn standing(&self) -> Result<Standing, Error> {
        Error::require(&[("relation", self.relation.is_empty())])?;
        Ok(Standing { relation: Code::new(&self.relation), guardian: self.guardian, custody: self.custody })
    }

    /// The adult's details as core's command takes them.
    pub(crate) fn person(&self) -> Result<PersonEdit, Error> {
        Ok(PersonEdit {
            name: PersonName::new(&self.family, &self.given, &self.family_kana, &self.given_kana)?,
            birth_date: Some(self.birth.as_str())
                .filter(|b| !b.is_empty())
                .map(|b| wareki::read_date("birth_date", b))
                .transpose()?,
            sex: Sex::parse(&self.sex)?,
            address: self.address.clone(),
            phones: self.phones.lines().map(str::to_owned).collect(),
            employment: self.employment.clone(),
            health: self.health.clone(),
        })
    }
}

/// A child found by the sibling search.
pub(crate) struct CandidateRow {
    pub id: u64,
    pub name: String,
    pub kana: String,
    pub birth: String,
    /// Why it cannot be added, in Japanese; empty when it can.
    pub refused: &'static str,
}

#[derive(Template)]
#[template(path = "family.html")]
pub(crate) struct FamilyPage {
    pub chrome: Chrome,
    pub child_id: u64,
    pub child_name: String,
    /// `person-12` / `child-7` of the member edited; empty for a new one.
    pub who: String,
    /// A sibling on file: only how they stand to the child is edited here.
    pub sibling: bool,
    pub name: String,
    pub household_rev: u64,
    pub person_rev: u64,
    pub form: MemberForm,
    pub relations: Vec<(String, String)>,
    pub sexes: Vec<(String, String)>,
    pub query: String,
    pub candidates: Vec<CandidateRow>,
    pub message: Option<String>,
    /// After a conflict: what was typed and not saved, as (label, value) rows.
    pub unsaved: Option<Vec<(&'static str, String)>>,
}

impl FamilyPage {
    pub(crate) fn new(chrome: Chrome, view: &FamilyFormView, form: Option<MemberForm>, query: &str) -> Self {
        let member = view.member.as_ref();
        let form = form.unwrap_or_else(|| {
            member.map_or_else(MemberForm::blank, |m| {
                MemberForm::of(m.person.as_ref().map(|p| &p.body), &m.standing, m.cohabiting)
            })
        });
        Self {
            chrome,
            child_id: view.child.0,
            child_name: view.child_name.clone(),
            who: member.map(|m| member_key(m.who)).unwrap_or_default(),
            sibling: member.is_some_and(|m| m.person.is_none()),
            name: member.map(|m| m.name.clone()).unwrap_or_default(),
            household_rev: member.map_or(0, |m| m.household_rev),
            person_rev: member.and_then(|m| m.person.as_ref()).map_or(0, |p| p.rev),
            form,
            relations: view.relations.iter().map(|(c, l)| (c.0.clone(), l.clone())).collect(),
            sexes: SEXES.iter().map(|(v, l)| ((*v).to_owned(), (*l).to_owned())).collect(),
            query: query.to_owned(),
            candidates: view
                .candidates
                .iter()
                .map(|c| CandidateRow {
                    id: c.child.id.0,
                    name: c.child.name.clone(),
                    kana: c.child.kana.clone(),
                    birth: c.child.birth_date_wareki.clone().unwrap_or_else(|| "生年月日不明".into()),
                    refused: match c.refused {
                        None => "",
                        Some(NotJoinable::TheChildItself) => "この児童です",
                        Some(NotJoinable::InThisHousehold) => "すでにこの世帯にいます",
                        Some(NotJoinable::InAnotherHousehold) => "別の世帯に登録されています",
                        Some(NotJoinable::NotYours) => "担当外の児童です",
                    },
                })
                .collect(),
            message: None,
            unsaved: None,
        }
    }
}
