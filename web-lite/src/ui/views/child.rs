//! The child page and the face-sheet form.

use std::collections::HashMap;

use askama::Template;
use mamoru_core::Error;
use mamoru_core::case::Note;
use mamoru_core::code_table::CodeTable;
use mamoru_core::ids::StaffId;
use mamoru_core::person::{Child, FaceSheetEdit, MemberRef, PersonName, Sex};
use mamoru_core::service::Versioned;
use mamoru_core::service::{ChildView, member_key};
use mamoru_core::time::Date;
use mamoru_core::wareki;

use super::genogram::Genogram;
use super::{Chrome, ConflictView, PhotoView, birth, datetime, intake_kind, label, staff_name, status};

pub(crate) struct MemberRow {
    /// `person-12` / `child-7`: the member's edit form.
    pub key: String,
    pub name: String,
    pub kana: String,
    pub relation: String,
    pub age: String,
    pub child_id: Option<u64>,
    pub guardian: bool,
    pub custody: bool,
    pub cohabiting: bool,
}

pub(crate) struct CaseRow {
    pub id: u64,
    pub case_no: String,
    pub status: &'static str,
    pub status_class: &'static str,
    pub kind: &'static str,
    pub received: String,
}

pub(crate) struct NoteRow {
    pub at: String,
    pub kind: String,
    pub author: String,
    pub body: String,
    pub correction: Option<String>,
    pub case_no: Option<String>,
    /// Shown on the case page (the child page lists notes without them).
    pub photos: Vec<PhotoView>,
}

impl NoteRow {
    pub(super) fn of(
        n: &Versioned<Note>,
        tables: &[Versioned<CodeTable>],
        names: &HashMap<StaffId, String>,
    ) -> Self {
        Self {
            at: datetime(n.body.at),
            kind: label(tables, "note_kind", &n.body.kind),
            author: n
                .body
                .legacy_author()
                .map_or_else(|| staff_name(names, n.body.author), |a| format!("{a}（移行）")),
            body: n.body.body.clone(),
            correction: n.body.correction.clone(),
            case_no: None,
            photos: Vec::new(),
        }
    }
}

/// One message of a case's thread, oldest first on the page (as a conversation reads).
pub(crate) struct ThreadRow {
    /// The message's id: the page is sent back to it after it is sent (`#m{id}`).
    pub id: u64,
    pub at: String,
    pub author: String,
    pub body: String,
    /// Written by the reader.
    pub mine: bool,
}

#[derive(Template)]
#[template(path = "child.html")]
pub(crate) struct ChildPage {
    pub chrome: Chrome,
    pub name: String,
    pub kana: String,
    pub birth: String,
    pub sex: &'static str,
    pub address: String,
    pub phones: String,
    pub affiliation: String,
    pub members: Vec<MemberRow>,
    pub genogram: Option<Genogram>,
    pub cases: Vec<CaseRow>,
    pub notes: Vec<NoteRow>,
    pub may_edit: bool,
    pub may_open_case: bool,
    /// The face sheet's revision, shown so an editor knows which version they read.
    pub rev: u64,
    pub notice: Option<String>,
}

impl ChildPage {
    pub(crate) fn of(
        mut chrome: Chrome,
        v: &ChildView,
        tables: &[Versioned<CodeTable>],
        names: &HashMap<StaffId, String>,
        today: Date,
    ) -> Self {
        let c = &v.child.body;
        chrome.child_id = v.child.id;
        chrome.live = "child";
        let case_nos: HashMap<u64, String> = v.cases.iter().map(|k| (k.id, k.body.case_no.clone())).collect();
        Self {
            chrome,
            name: c.name.full(),
            kana: c.name.full_kana(),
            birth: if c.unborn {
                format!("出生予定 {}", birth(c.birth_date, today))
            } else {
                birth(c.birth_date, today)
            },
            sex: c.sex.label(),
            address: c.address.clone(),
            phones: c.phones.join("、"),
            affiliation: c.affiliation.clone(),
            members: v
                .members
                .iter()
                .filter(|m| m.who != MemberRef::Child(mamoru_core::ids::ChildId(v.child.id)))
                .map(|m| MemberRow {
                    key: member_key(m.who),
                    name: m.name.clone(),
                    kana: m.kana.clone(),
                    relation: m.relation_label.clone(),
                    age: m.birth_date.map(|b| format!("{}歳", b.age_on(today).max(0))).unwrap_or_default(),
                    child_id: match m.who {
                        MemberRef::Child(id) => Some(id.0),
                        MemberRef::Person(_) => None,
                    },
                    guardian: m.guardian,
                    custody: m.custody,
                    cohabiting: m.cohabiting,
                })
                .collect(),
            genogram: Genogram::of(&v.members, mamoru_core::ids::ChildId(v.child.id), today),
            cases: v
                .cases
                .iter()
                .map(|k| {
                    let (status, status_class) = status(k.body.status);
                    CaseRow {
                        id: k.id,
                        case_no: k.body.case_no.clone(),
                        status,
                        status_class,
                        kind: intake_kind(k.body.intake.kind),
                        received: wareki::format(k.body.intake.received_at.jst_date()),
                    }
                })
                .collect(),
            notes: v
                .notes
                .iter()
                .map(|n| NoteRow {
                    case_no: case_nos.get(&n.body.case.0).cloned(),
                    ..NoteRow::of(n, tables, names)
                })
                .collect(),
            may_edit: v.may_edit,
            may_open_case: v.may_open_case,
            rev: v.child.rev,
            notice: None,
        }
    }
}

/// The face-sheet fields as typed (and as shown back after a refusal or a conflict).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct ChildForm {
    pub family: String,
    pub given: String,
    pub family_kana: String,
    pub given_kana: String,
    pub birth: String,
    pub unborn: bool,
    pub sex: String,
    pub address: String,
    pub phones: String,
    pub affiliation: String,
    pub nationality: String,
    pub resident_no: String,
}

pub(crate) const SEXES: [(&str, &str); 3] = [("female", "女"), ("male", "男"), ("unknown", "不明")];

impl ChildForm {
    pub(crate) fn of(c: &Child) -> Self {
        Self {
            family: c.name.family.clone(),
            given: c.name.given.clone(),
            family_kana: c.name.family_kana.clone(),
            given_kana: c.name.given_kana.clone(),
            birth: c.birth_date.map(wareki::format).unwrap_or_default(),
            unborn: c.unborn,
            sex: match c.sex {
                Sex::Female => "female",
                Sex::Male => "male",
                Sex::Unknown => "unknown",
            }
            .to_owned(),
            address: c.address.clone(),
            phones: c.phones.join("\n"),
            affiliation: c.affiliation.clone(),
            nationality: c.nationality.clone(),
            resident_no: c.resident_no.clone().unwrap_or_default(),
        }
    }

    pub(crate) fn from_form(form: &HashMap<String, String>) -> Self {
        let text = |k: &str| form.get(k).map(|v| v.trim().to_owned()).unwrap_or_default();
        Self {
            family: text("family"),
            given: text("given"),
            family_kana: text("family_kana"),
            given_kana: text("given_kana"),
            birth: text("birth"),
            unborn: form.contains_key("unborn"),
            sex: text("sex"),
            address: text("address"),
            phones: text("phones"),
            affiliation: text("affiliation"),
            nationality: text("nationality"),
            resident_no: text("resident_no"),
        }
    }

    /// The edit as core's command; core puts it onto the child (the fields the form does not
    /// show are kept).
    pub(crate) fn edit(&self) -> Result<FaceSheetEdit, Error> {
        Ok(FaceSheetEdit {
            name: PersonName::new(&self.family, &self.given, &self.family_kana, &self.given_kana)?,
            birth_date: Some(self.birth.as_str())
                .filter(|b| !b.is_empty())
                .map(|b| wareki::read_date("birth_date", b))
                .transpose()?,
            unborn: self.unborn,
            sex: Sex::parse(&self.sex)?,
            address: self.address.clone(),
            phones: self.phones.lines().map(str::to_owned).collect(),
            affiliation: self.affiliation.clone(),
            nationality: self.nationality.clone(),
            resident_no: Some(self.resident_no.clone()),
        })
    }

    pub(crate) fn rows(&self) -> Vec<(&'static str, String)> {
        let sex = SEXES.iter().find(|(v, _)| *v == self.sex).map_or(self.sex.as_str(), |(_, l)| l);
        vec![
            ("氏名", format!("{} {}", self.family, self.given).trim().to_owned()),
            ("ふりがな", format!("{} {}", self.family_kana, self.given_kana).trim().to_owned()),
            ("生年月日", if self.unborn { format!("出生予定 {}", self.birth) } else { self.birth.clone() }),
            ("性別", sex.to_owned()),
            ("住所", self.address.clone()),
            ("電話", self.phones.lines().collect::<Vec<_>>().join("、")),
            ("所属", self.affiliation.clone()),
            ("国籍", self.nationality.clone()),
            ("宛名番号", self.resident_no.clone()),
        ]
    }
}

#[derive(Template)]
#[template(path = "child_edit.html")]
pub(crate) struct ChildEditPage {
    pub chrome: Chrome,
    pub child_id: u64,
    /// The revision the edit started from (after a conflict: the one now stored).
    pub rev: u64,
    pub name: String,
    pub form: ChildForm,
    pub sexes: Vec<(String, String)>,
    pub message: Option<String>,
    pub conflict: Option<ConflictView>,
}

impl ChildEditPage {
    pub(crate) fn new(chrome: Chrome, child: &Versioned<Child>, form: ChildForm) -> Self {
        Self {
            chrome,
            child_id: child.id,
            rev: child.rev,
            name: child.body.name.full(),
            form,
            sexes: SEXES.iter().map(|(v, l)| ((*v).to_owned(), (*l).to_owned())).collect(),
            message: None,
            conflict: None,
        }
    }
}
