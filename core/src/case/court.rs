//! 家庭裁判所への申立て: the petitions a 児童相談所長 files with the family court — the approval
//! of a protection continued past two months against the guardian's will (児童福祉法33条5項)
//! and the approval of a placement the guardian opposes (28条1項) — each with the case's
//! documents attached, every one marked whether the centre asks the court not to disclose it
//! (非開示希望: a party may read the court's file, 家事事件手続法47条). The petition keeps the
//! list as it was prepared; once filed, it is the paper the court has and is not changed.

use serde::{Deserialize, Serialize};

use crate::code_table::Code;
use crate::error::{Error, Result, Why};
use crate::ids::{CaseId, CourtPetitionId, ProtectionId, StaffId};
use crate::record::Record;
use crate::time::{Date, Timestamp};

/// Longest 申立ての理由, in characters (about ten A4 pages).
pub const GROUNDS_MAX_CHARS: usize = 20_000;

/// What the court is asked to approve.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PetitionKind {
    /// 一時保護の承認 (33条5項): continuing a protection past two months without consent.
    ProtectionExtension,
    /// 施設入所等の承認 (28条1項): a placement the guardian opposes.
    Placement,
}

impl PetitionKind {
    pub const ALL: [PetitionKind; 2] = [PetitionKind::ProtectionExtension, PetitionKind::Placement];

    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            PetitionKind::ProtectionExtension => "protection_extension",
            PetitionKind::Placement => "placement",
        }
    }

    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// As pages and papers name it.
    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            PetitionKind::ProtectionExtension => "一時保護の承認（児童福祉法第33条第5項）",
            PetitionKind::Placement => "施設入所等の承認（児童福祉法第28条第1項）",
        }
    }
}

/// The 援助・措置種別 codes a 28条 petition may ask for — a placement in a facility or with
/// foster parents (27条1項3号) — and what the court is asked to approve, as the 申立ての趣旨
/// says it.
pub const PLACEMENTS: &[(&str, &str)] = &[
    ("31", "乳児院に入所させること"),
    ("32", "児童養護施設に入所させること"),
    ("33", "児童心理治療施設に入所させること"),
    ("34", "児童自立支援施設に入所させること"),
    ("35", "障害児入所施設に入所させること"),
    ("41", "里親に委託すること"),
    ("42", "小規模住居型児童養育事業を行う者（ファミリーホーム）に委託すること"),
];

/// 申立ての趣旨 of a petition of `kind` (for a placement, of placement `code`).
#[must_use]
pub fn petition_aim(kind: PetitionKind, code: Option<&str>) -> String {
    match kind {
        PetitionKind::ProtectionExtension => {
            "申立人が児童について行っている一時保護を、引き続き行うことを承認するとの審判を求める。".into()
        }
        PetitionKind::Placement => {
            let what = PLACEMENTS.iter().find(|(c, _)| Some(*c) == code).map_or("措置を採ること", |p| p.1);
            format!("申立人が児童を{what}を承認するとの審判を求める。")
        }
    }
}

/// One document attached to a petition.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CourtDocument {
    /// Which of the case's records it is: `intake`, `check:12`, `assessment:3`, `hearing:7`,
    /// `meeting:5`, `notes` (see `service::court::documents`).
    pub key: String,
    /// `安全確認記録（目視、写真2枚）`.
    pub title: String,
    pub made_on: Option<Date>,
    /// 非開示希望: the centre asks the court not to let the parties read or copy it.
    pub withhold: bool,
}

/// A petition to the family court, as prepared and (once `filed_on`) as filed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CourtPetition {
    pub case: CaseId,
    pub kind: PetitionKind,
    /// The protection to be continued (an extension's).
    #[serde(default)]
    pub protection: Option<ProtectionId>,
    /// The 措置 to be approved (a placement's): code table `support_kind`, one of `PLACEMENTS`.
    #[serde(default)]
    pub placement: Option<Code>,
    /// 申立ての理由.
    pub grounds: String,
    pub documents: Vec<CourtDocument>,
    pub prepared_by: StaffId,
    pub prepared_at: Timestamp,
    /// The day it was filed with the court; from then on the petition is not changed.
    #[serde(default)]
    pub filed_on: Option<Date>,
}

impl Record for CourtPetition {
    type Id = CourtPetitionId;
    const SCHEMA: u16 = 1;
}

/// A petition as a worker prepares it: what is asked, why, which of the case's documents the
/// centre asks the court not to disclose (by key), and the day filed once it is.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewPetition {
    pub kind: Option<PetitionKind>,
    #[serde(default)]
    pub placement: Option<Code>,
    #[serde(default)]
    pub grounds: String,
    /// Keys of the documents marked 非開示希望.
    #[serde(default)]
    pub withhold: Vec<String>,
    #[serde(default)]
    pub filed_on: Option<Date>,
}

impl NewPetition {
    /// The petition on `case`, its documents those of the case now (`documents`, each marked as
    /// asked), checked: a kind, the grounds, a placement for a 28条 petition (and none for an
    /// extension), only keys of documents the case has, a filing day neither in the future nor
    /// before what it is about began (`not_before`: the protection's start, the intake).
    pub fn prepare(
        self,
        case: CaseId,
        by: StaffId,
        now: Timestamp,
        not_before: Date,
        mut documents: Vec<CourtDocument>,
    ) -> Result<CourtPetition> {
        Error::require(&[("kind", self.kind.is_none()), ("grounds", self.grounds.trim().is_empty())])?;
        let Some(kind) = self.kind else { return Err(Error::Incomplete { fields: vec!["kind"] }) };
        if self.grounds.chars().count() > GROUNDS_MAX_CHARS {
            return Err(Error::invalid(
                "grounds",
                Why::AtMost(GROUNDS_MAX_CHARS, crate::error::Counted::Characters),
            ));
        }
        let placement = match kind {
            PetitionKind::Placement => {
                let code = self.placement.filter(|c| PLACEMENTS.iter().any(|p| p.0 == c.as_str()));
                Some(code.ok_or_else(|| {
                    Error::invalid("placement", Why::NotOneOf("a placement (施設入所 or 里親委託)"))
                })?)
            }
            PetitionKind::ProtectionExtension => None,
        };
        if let Some(key) = self.withhold.iter().find(|k| !documents.iter().any(|d| d.key == **k)) {
            return Err(Error::invalid("withhold", Why::NoSuchDocument(key.clone())));
        }
        if let Some(day) = self.filed_on {
            if day > now.jst_date() {
                return Err(Error::invalid("filed_on", Why::InFuture));
            }
            if day < not_before {
                return Err(Error::invalid("filed_on", Why::Before(crate::error::Point::Start)));
            }
        }
        for d in &mut documents {
            d.withhold = self.withhold.contains(&d.key);
        }
        Ok(CourtPetition {
            case,
            kind,
            protection: None,
            placement,
            grounds: self.grounds.trim().to_owned(),
            documents,
            prepared_by: by,
            prepared_at: now,
            filed_on: self.filed_on,
        })
    }

    /// The same petition however it was typed: the grounds trimmed, each mark once, in order.
    #[must_use]
    pub fn normalised(mut self) -> Self {
        self.grounds = self.grounds.trim().to_owned();
        self.withhold.sort();
        self.withhold.dedup();
        self
    }

    /// The petition as an edit form shows it.
    #[must_use]
    pub fn of(p: &CourtPetition) -> Self {
        NewPetition {
            kind: Some(p.kind),
            placement: p.placement.clone(),
            grounds: p.grounds.clone(),
            withhold: p.documents.iter().filter(|d| d.withhold).map(|d| d.key.clone()).collect(),
            filed_on: p.filed_on,
        }
        .normalised()
    }
}

#[cfg(test)]
mod tests {
    use super::{CourtDocument, NewPetition, PetitionKind};
    use crate::code_table::Code;
    use crate::ids::{CaseId, StaffId};
    use crate::time::{Date, Timestamp};

    fn docs() -> Vec<CourtDocument> {
        ["intake", "check:3", "notes"]
            .map(|k| CourtDocument { key: k.into(), title: k.into(), made_on: None, withhold: false })
            .to_vec()
    }

    fn now() -> Timestamp {
        Timestamp::parse("2025-08-01T10:00:00+09:00").unwrap()
    }

    fn prepare(p: NewPetition) -> crate::error::Result<super::CourtPetition> {
        p.prepare(CaseId(1), StaffId(2), now(), Date::new(2025, 6, 1).unwrap(), docs())
    }

    #[test]
    fn a_petition_marks_the_documents_asked_and_refuses_what_cannot_be_filed() {
        let ok = NewPetition {
            kind: Some(PetitionKind::Placement),
            placement: Some(Code::new("31")),
            grounds: " 保護者が入所に同意しない。 ".into(),
            withhold: vec!["check:3".into()],
            filed_on: Some(Date::new(2025, 8, 1).unwrap()),
        };
        let p = prepare(ok.clone()).unwrap();
        assert_eq!(p.grounds, "保護者が入所に同意しない。");
        let marked: Vec<bool> = p.documents.iter().map(|d| d.withhold).collect();
        assert_eq!(marked, [false, true, false]);
        assert_eq!(NewPetition::of(&p), NewPetition { grounds: p.grounds.clone(), ..ok.clone() });

        let field = |p: NewPetition| match prepare(p).unwrap_err() {
            crate::Error::Invalid { field, .. } => vec![field],
            crate::Error::Incomplete { fields } => fields,
            other => panic!("{other}"),
        };
        assert_eq!(field(NewPetition::default()), ["kind", "grounds"]);
        assert_eq!(field(NewPetition { placement: None, ..ok.clone() }), ["placement"]);
        // 訓戒・誓約 is no placement.
        assert_eq!(field(NewPetition { placement: Some(Code::new("21")), ..ok.clone() }), ["placement"]);
        assert_eq!(field(NewPetition { withhold: vec!["check:4".into()], ..ok.clone() }), ["withhold"]);
        let tomorrow = Some(Date::new(2025, 8, 2).unwrap());
        assert_eq!(field(NewPetition { filed_on: tomorrow, ..ok.clone() }), ["filed_on"]);
        let before = Some(Date::new(2025, 5, 31).unwrap());
        assert_eq!(field(NewPetition { filed_on: before, ..ok.clone() }), ["filed_on"]);
        let long = "あ".repeat(super::GROUNDS_MAX_CHARS + 1);
        assert_eq!(field(NewPetition { grounds: long, ..ok.clone() }), ["grounds"]);
        // An extension asks for no placement.
        let ext = NewPetition { kind: Some(PetitionKind::ProtectionExtension), ..ok };
        assert_eq!(prepare(ext).unwrap().placement, None);
    }
}
