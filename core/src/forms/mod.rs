//! 帳票: the forms Mamoru prints, as versioned template data, and the one engine that fills them.
//!
//! A template names its fields ([`Field`]), its fixed texts, its 決裁欄 and the day from which it
//! is used; a change in the law is a new version with a new `valid_from`, and a paper is always
//! printed with the version in force on the day of what it records (a protection started in 2015
//! gets the 教示 of 2015: 60 days). The engine, not each template, refuses the reporter (通告者)
//! on anything addressed to a family: such a template may bind no reporter field, and the facts
//! it is filled from may hold no reporter (児童虐待防止法7条).
//!
//! No IO, no clock: the facts and the day come in, a [`mamoru_pdf::Form`] goes out.

use mamoru_pdf::{Align, Block, Cell, Face, Form, Stamp, When};

use crate::error::{Error, Result, Why};
use crate::time::{Date, Timestamp};
use crate::wareki;

mod draft;
mod facts;
mod lists;
mod templates;

pub use draft::{AddedTemplate, TemplateDraft};
pub use facts::{EvidenceFacts, Facts, Field, InjuryFacts, MemberFacts, NoteFacts, ReporterFacts, datetime};
use lists::lists;
pub use templates::{MEASURES, Row, Template, builtin, fields_of, template, version};

/// Each form Mamoru prints.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FormKind {
    /// 虐待相談・通告受付票 (or 相談受付票): the intake as received, the reporter included; kept
    /// inside the centre.
    IntakeSheet,
    /// 一時保護決定通知書: to the guardians, with the 教示.
    ProtectionStartNotice,
    /// 一時保護解除通知書: to the guardians.
    ProtectionEndNotice,
    /// 経過記録: the case's notes, oldest first.
    Notes,
    /// 会議録 (受理会議録, 援助方針会議録, …, titled by the meeting's kind): one meeting.
    MeetingMinutes,
    /// 措置決定通知書: to the guardians, with the 教示, for a 措置 (児童福祉法27条1項) approved.
    SupportNotice,
    /// 一時保護状請求書 and its 疎明資料 list: to the judge, within 7 days of a protection
    /// without the guardian's consent (児童福祉法33条3項); no reporter.
    WarrantRequest,
    /// 児童記録票: the face sheet of the child and the case, with the household, as of today
    /// (for a transfer or a meeting); kept inside the centre, no reporter.
    ChildRecord,
    /// 安全確認記録: the case's newest safety check, with the body map's marks drawn and listed.
    SafetyCheckRecord,
    /// The case's newest assessment (緊急度アセスメントシート, the 一時保護 assessment…), titled by
    /// its sheet, every question with its answer, the 決裁欄 stamped from its 決裁.
    AssessmentSheet,
    /// 一時保護承認申立書: to the family court, for a protection continued past two months
    /// without the guardian's consent (児童福祉法33条5項), its documents each marked 非開示希望
    /// or not; no reporter.
    ExtensionPetition,
    /// 施設入所等承認申立書: to the family court, for a placement the guardian opposes (28条1項),
    /// its documents each marked 非開示希望 or not; no reporter.
    PlacementPetition,
}

impl FormKind {
    pub const ALL: [FormKind; 12] = [
        FormKind::IntakeSheet,
        FormKind::ProtectionStartNotice,
        FormKind::ProtectionEndNotice,
        FormKind::Notes,
        FormKind::MeetingMinutes,
        FormKind::SupportNotice,
        FormKind::WarrantRequest,
        FormKind::ChildRecord,
        FormKind::SafetyCheckRecord,
        FormKind::AssessmentSheet,
        FormKind::ExtensionPetition,
        FormKind::PlacementPetition,
    ];

    /// The name in URLs and the audit log.
    #[must_use]
    pub fn slug(self) -> &'static str {
        match self {
            FormKind::IntakeSheet => "intake-sheet",
            FormKind::ProtectionStartNotice => "protection-start-notice",
            FormKind::ProtectionEndNotice => "protection-end-notice",
            FormKind::Notes => "notes",
            FormKind::MeetingMinutes => "meeting-minutes",
            FormKind::SupportNotice => "support-notice",
            FormKind::WarrantRequest => "warrant-request",
            FormKind::ChildRecord => "child-record",
            FormKind::SafetyCheckRecord => "safety-check",
            FormKind::AssessmentSheet => "assessment",
            FormKind::ExtensionPetition => "extension-petition",
            FormKind::PlacementPetition => "placement-petition",
        }
    }

    #[must_use]
    pub fn parse(slug: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.slug() == slug)
    }

    /// The paper of a petition of `kind`.
    #[must_use]
    pub fn of_petition(kind: crate::case::PetitionKind) -> Self {
        match kind {
            crate::case::PetitionKind::ProtectionExtension => FormKind::ExtensionPetition,
            crate::case::PetitionKind::Placement => FormKind::PlacementPetition,
        }
    }
}

impl serde::Serialize for FormKind {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(self.slug())
    }
}

impl<'de> serde::Deserialize<'de> for FormKind {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let slug = String::deserialize(d)?;
        FormKind::parse(&slug).ok_or_else(|| serde::de::Error::custom(format!("no form {slug:?}")))
    }
}

/// The form `t` filled from `facts`, dated `day` and made at `made`. Refuses a family-facing
/// template that binds a reporter field or facts that hold a reporter, and a character the
/// fonts lack (naming it).
pub fn compose(t: &Template, facts: &Facts, day: Date, made: Timestamp) -> Result<Form> {
    if t.goes_out() && (t.rows.iter().any(|r| r.field.is_reporter()) || facts.reporter.is_some()) {
        return Err(Error::invalid("form", Why::ReporterOnFamilyForm));
    }
    let mut blocks = Vec::new();
    let mut head = Vec::new();
    if !facts.case_no.is_empty() {
        head.push(facts.case_no.clone());
    }
    head.push(wareki::format(day));
    blocks.push(Block::aligned(head.join("\n"), Align::Right));
    if t.family_facing {
        let to =
            if facts.guardians.is_empty() { "保護者".to_owned() } else { facts.guardians.join("、") };
        blocks.push(Block::text(format!("{to} 様")));
        blocks.push(Block::aligned(facts.issuer.clone(), Align::Right));
    } else if let Some(to) = &t.addressee {
        blocks.push(Block::text(to.clone()));
        blocks.push(Block::aligned(facts.issuer.clone(), Align::Right));
    }
    blocks.push(Block::Space(6.0));
    // Minutes are titled by their meeting: 援助方針会議録.
    let title = if t.form == FormKind::MeetingMinutes && !facts.meeting_kind.is_empty() {
        format!("{}録", facts.meeting_kind)
    } else if t.form == FormKind::AssessmentSheet && !facts.assessment_name.is_empty() {
        facts.assessment_name.clone()
    } else {
        t.title.clone()
    };
    blocks.push(Block::Title(title.clone()));
    // The 決裁欄 is the centre's own: never on a paper that leaves it.
    if !t.goes_out() {
        let stamps = t
            .approvals
            .iter()
            .map(|h| {
                let decided = facts.approvals.iter().find(|(head, _, _)| head == h);
                Stamp {
                    head: h.clone(),
                    name: decided.map(|d| d.1.clone()).unwrap_or_default(),
                    date: decided.map(|d| wareki::format_short(d.2)).unwrap_or_default(),
                }
            })
            .collect();
        blocks.push(Block::Approvals(stamps));
    }
    if !t.lead.is_empty() {
        blocks.push(Block::Text { text: t.lead.clone(), align: Align::Left, face: Face::Mincho, size: 10.5 });
        blocks.push(Block::aligned("記", Align::Centre));
    }
    let rows =
        t.rows.iter().map(|r| vec![Cell::head(r.label.clone()), Cell::text(facts.value(r.field))]).collect();
    blocks.push(Block::Table { widths: vec![1.0, 3.2], rows });
    blocks.extend(lists(t.form, facts, day));
    if let Some(appeal) = &t.appeal {
        blocks.push(Block::Space(8.0));
        blocks.push(Block::Boxed { title: "教示".into(), text: appeal.clone(), face: Face::Mincho });
    }
    let (h, m) = made.jst_time();
    let d = made.jst_date();
    let form = Form {
        title: format!("{title} {}", facts.case_no).trim().to_owned(),
        landscape: t.landscape,
        #[expect(clippy::cast_possible_truncation, clippy::cast_sign_loss, reason = "a calendar year")]
        made: When {
            year: d.year() as u16,
            month: d.month() as u8,
            day: d.day() as u8,
            hour: h as u8,
            minute: m as u8,
        },
        footer: t.label(),
        blocks,
    };
    // A character the fonts lack is refused here, naming it, not printed as a blank box.
    if let Some(text) = unprintable(&form) {
        return Err(Error::invalid("form", Why::Unprintable(text)));
    }
    Ok(form)
}

/// The first character no face has, as `「X」(U+XXXX)`.
fn unprintable(form: &Form) -> Option<String> {
    let texts = form.blocks.iter().flat_map(|b| -> Vec<&str> {
        match b {
            Block::Title(t) | Block::Text { text: t, .. } => vec![t],
            Block::Table { rows, .. } => rows.iter().flatten().map(|c| c.text.as_str()).collect(),
            Block::Boxed { title, text, .. } => vec![title, text],
            Block::Approvals(s) => s.iter().flat_map(|s| [&*s.head, &*s.name, &*s.date]).collect(),
            Block::Figures { figures, .. } => figures
                .iter()
                .flat_map(|f| {
                    std::iter::once(f.caption.as_str()).chain(f.shapes.iter().filter_map(|s| match s {
                        mamoru_pdf::Shape::Mark { label, .. }
                        | mamoru_pdf::Shape::Label { text: label, .. } => Some(label.as_str()),
                        _ => None,
                    }))
                })
                .collect(),
            Block::Photos { photos, .. } => photos.iter().map(|p| p.caption.as_str()).collect(),
            Block::Space(_) => Vec::new(),
        }
    });
    for text in texts {
        if let Err(mamoru_pdf::Error::MissingGlyph { ch, code, .. }) =
            mamoru_pdf::check_text(Face::Mincho, text)
                .and_then(|()| mamoru_pdf::check_text(Face::Gothic, text))
        {
            return Some(format!("「{ch}」(U+{code:04X})"));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::{Facts, FormKind, ReporterFacts, builtin, compose, template, version};
    use crate::time::{Date, Timestamp};

    fn day(y: i32, m: u32, d: u32) -> Date {
        Date::new(y, m, d).unwrap()
    }

    #[test]
    fn the_version_in_force_on_the_day_is_chosen_and_old_notices_keep_60_days() {
        let old = template(builtin(), FormKind::ProtectionStartNotice, day(2015, 6, 1)).unwrap();
        let new = template(builtin(), FormKind::ProtectionStartNotice, day(2016, 4, 1)).unwrap();
        assert_eq!((old.version, new.version), (1, 2));
        assert!(old.appeal.as_ref().unwrap().contains("60日以内"));
        let appeal = new.appeal.as_ref().unwrap();
        assert!(appeal.contains("3か月以内") && appeal.contains("6か月以内"));
        assert_eq!(version(builtin(), FormKind::ProtectionStartNotice, 1), Some(old));
        // Every form has a version for every day, and versions are numbered in order.
        for f in FormKind::ALL {
            assert!(template(builtin(), f, day(1990, 1, 1)).is_some(), "{f:?}");
            let vs: Vec<u32> = builtin().iter().filter(|t| t.form == f).map(|t| t.version).collect();
            assert_eq!(vs, (1..=u32::try_from(vs.len()).unwrap()).collect::<Vec<_>>());
        }
    }

    #[test]
    fn the_engine_refuses_the_reporter_on_anything_addressed_to_a_family() {
        let made = Timestamp::parse("2025-06-02T10:00:00+09:00").unwrap();
        let reporter = Some(ReporterFacts { name: "架空 通告者".into(), ..ReporterFacts::default() });
        let facts = Facts { reporter, child_name: "架空 一郎".into(), ..Facts::default() };
        for t in builtin().iter().filter(|t| t.goes_out()) {
            assert!(t.rows.iter().all(|r| !r.field.is_reporter()), "{t:?}");
            let err = compose(t, &facts, day(2025, 6, 2), made).unwrap_err();
            assert!(err.to_string().contains("reporter"), "{err}");
        }
        let sheet = template(builtin(), FormKind::IntakeSheet, day(2025, 6, 2)).unwrap();
        assert!(compose(sheet, &facts, day(2025, 6, 2), made).is_ok(), "kept inside the centre");
    }

    #[test]
    fn a_character_the_fonts_lack_is_named() {
        let made = Timestamp::parse("2025-06-02T10:00:00+09:00").unwrap();
        let facts = Facts { child_name: "架空 \u{F8F0}郎".into(), ..Facts::default() };
        let t = template(builtin(), FormKind::ProtectionStartNotice, day(2025, 6, 2)).unwrap();
        let err = compose(t, &facts, day(2025, 6, 2), made).unwrap_err();
        assert!(err.to_string().contains("U+F8F0"), "{err}");
    }
}
