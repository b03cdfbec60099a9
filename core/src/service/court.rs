//! Papers for the courts: which of a case's records are its documents (疎明資料 of a warrant
//! request, 添付資料 of a petition), and the family-court petitions prepared, revised and filed
//! on a case, each document marked 非開示希望 or not (`crate::case::court`).

use super::casework::{IDEMPOTENCY, idempotency_claim, load_links, replayed};
use super::{Actor, Service, access};
use crate::case::{
    Assessment, Case, CaseStatus, CourtDocument, CourtPetition, Hearing, IntakeKind, Meeting, NewPetition,
    Note, PetitionKind, SafetyCheck, Support,
};
use crate::error::{Error, Result, Why};
use crate::ids::{CaseId, CourtPetitionId, NoteId, RecordId, StaffId};
use crate::protection::{Applied, Protection, ProtectionStep, StepKind};
use crate::staff::Action;
use crate::store::{Reader, Versioned, WriteTx};
use crate::time::{Date, Timestamp};

/// A case's petitions and the documents a new one would attach now.
#[derive(Clone, Debug, serde::Serialize)]
pub struct PetitionsView {
    /// Oldest first.
    pub petitions: Vec<Versioned<CourtPetition>>,
    /// The case's documents now, none marked.
    pub documents: Vec<CourtDocument>,
}

/// What the page of a petition shows: the case (as a task page of it), the petition edited
/// (none for a new one), and its documents — the case's now, marked as the petition marks them;
/// a filed petition's as filed.
#[derive(Clone, Debug)]
pub struct PetitionPageView {
    pub page: super::CasePageView,
    pub petition: Option<Versioned<CourtPetition>>,
    pub documents: Vec<CourtDocument>,
}

/// How a check was made, as papers say it.
pub(super) fn method_label(m: crate::case::SafetyMethod) -> &'static str {
    use crate::case::SafetyMethod;
    match m {
        SafetyMethod::Sighted => "目視",
        SafetyMethod::Interview => "面接",
        SafetyMethod::ByAgency => "関係機関による確認",
    }
}

/// The case's records made up to `until`, as documents for a court, oldest first: the intake
/// sheet without the reporter, each safety check (with its photos), each assessment, each of
/// the child's hearings (`hearings`, keyed as given), each meeting's minutes, and the notes as
/// one document. Each keyed by the record it is (`check:12`), so a mark survives a reload.
pub(super) fn documents(
    r: &impl Reader,
    case: &Versioned<Case>,
    hearings: &[(String, &Hearing)],
    until: Timestamp,
) -> Result<Vec<CourtDocument>> {
    let id = CaseId(case.id);
    let c = &case.body;
    let doc = |key: String, title: String, made: Timestamp| CourtDocument {
        key,
        title,
        made_on: Some(made.jst_date()),
        withhold: false,
    };
    let sheet = if c.intake.kind == IntakeKind::AbuseReport {
        "虐待相談・通告受付票"
    } else {
        "相談受付票"
    };
    let mut out =
        vec![doc("intake".into(), format!("{sheet}（通告者に関する記載を除く）"), c.intake.received_at)];
    for check in load_links::<SafetyCheck>(r, "case_check", id)?.into_iter().filter(|c| c.body.at <= until) {
        let b = &check.body;
        let photos = if b.attachments.is_empty() {
            String::new()
        } else {
            format!("、写真{}枚", b.attachments.len())
        };
        let title = format!("安全確認記録（{}{photos}）", method_label(b.method));
        out.push(doc(format!("check:{}", check.id), title, b.at));
    }
    for a in load_links::<Assessment>(r, "case_assessment", id)?.into_iter().filter(|a| a.body.at <= until) {
        let name = r
            .get::<crate::assessment::AssessmentSheet>(a.body.sheet)?
            .map(|s| s.body.name)
            .unwrap_or_default();
        out.push(doc(
            format!("assessment:{}", a.id),
            format!("{name}（{}）", a.body.result_label),
            a.body.at,
        ));
    }
    for (key, h) in hearings.iter().filter(|(_, h)| h.at <= until) {
        out.push(doc(key.clone(), "意見聴取等措置の記録".into(), h.at));
    }
    let kinds = Service::code_table(r, "meeting_kind")?;
    for m in load_links::<Meeting>(r, "case_meeting", id)?.into_iter().filter(|m| m.body.at <= until) {
        let kind = kinds.body.label(&m.body.kind).unwrap_or(m.body.kind.as_str()).to_owned();
        out.push(doc(format!("meeting:{}", m.id), format!("{kind}録"), m.body.at));
    }
    let mut days: Vec<Date> = Vec::new();
    for n in r.links("case_note", case.id, usize::MAX)? {
        let at = r.require::<Note>(NoteId(n))?.body.at;
        if at <= until {
            days.push(at.jst_date());
        }
    }
    days.sort_unstable();
    if let (Some(first), Some(last)) = (days.first(), days.last()) {
        let span = if first == last {
            String::new()
        } else {
            format!("、{}〜{}", crate::wareki::format_short(*first), crate::wareki::format_short(*last))
        };
        out.push(CourtDocument {
            key: "notes".into(),
            title: format!("経過記録（{}件{span}）", days.len()),
            made_on: Some(*last),
            withhold: false,
        });
    }
    out.sort_by_key(|d| d.made_on);
    Ok(out)
}

/// Every hearing of the child recorded on the case (each protection's, each support's), keyed.
fn case_hearings<'a>(
    protections: &'a [Versioned<Protection>],
    supports: &'a [Versioned<Support>],
) -> Vec<(String, &'a Hearing)> {
    let p = protections
        .iter()
        .filter_map(|p| Some((format!("hearing:protection:{}", p.id), p.body.hearing.as_ref()?)));
    let s =
        supports.iter().filter_map(|s| Some((format!("hearing:support:{}", s.id), s.body.hearing.as_ref()?)));
    p.chain(s).collect()
}

/// The case's documents now, for a petition.
fn petition_documents(r: &impl Reader, case: &Versioned<Case>, now: Timestamp) -> Result<Vec<CourtDocument>> {
    let id = CaseId(case.id);
    let protections: Vec<Versioned<Protection>> = load_links(r, "case_protection", id)?;
    let supports: Vec<Versioned<Support>> = load_links(r, "case_support", id)?;
    documents(r, case, &case_hearings(&protections, &supports), now)
}

/// Who may prepare a petition of `kind`: those who record the protection (an extension's) or
/// the 措置 (a placement's).
fn action_of(kind: Option<PetitionKind>) -> Action {
    match kind {
        Some(PetitionKind::Placement) => Action::RecordSupport,
        _ => Action::RecordProtection,
    }
}

/// The petition `new` on `case` as prepared now: its documents the case's, marked as asked; an
/// extension's bound to the protection without consent in force, and not filed before it began;
/// a placement's not filed before the intake.
fn prepare(
    tx: &impl Reader,
    case: &Versioned<Case>,
    new: NewPetition,
    by: crate::ids::StaffId,
    now: Timestamp,
) -> Result<CourtPetition> {
    let id = CaseId(case.id);
    let protection = if new.kind == Some(PetitionKind::ProtectionExtension) {
        let p = load_links::<Protection>(tx, "case_protection", id)?
            .into_iter()
            .find(|p| p.body.is_active() && !p.body.guardian_consent)
            .ok_or_else(|| Error::invalid("kind", Why::NoProtectionWithoutConsent))?;
        Some((crate::ids::ProtectionId(p.id), p.body.started_at.jst_date()))
    } else {
        None
    };
    let not_before = protection.map_or(case.body.intake.received_at.jst_date(), |p| p.1);
    let mut petition = new.prepare(id, by, now, not_before, petition_documents(tx, case, now)?)?;
    petition.protection = protection.map(|p| p.0);
    Ok(petition)
}

impl Service {
    /// The case's petitions, and the documents a new one would attach now (audited as a read of
    /// the case).
    pub fn case_petitions(&self, actor: &Actor, id: CaseId) -> Result<PetitionsView> {
        let now = self.now();
        self.read(actor, Action::ReadCase, CaseId::KIND, Some(id.0), |r| {
            let case = r.require::<Case>(id)?;
            let scope = access::Scope::of(r, actor)?;
            scope.check_read_case(&case.body, Action::ReadCase)?;
            scope.check_read_child(
                &r.require::<crate::person::Child>(case.body.child)?.body,
                Action::ReadCase,
            )?;
            let view = PetitionsView {
                petitions: load_links(r, "case_petition", id)?,
                documents: petition_documents(r, &case, now)?,
            };
            Ok((view, Some("petitions listed".to_owned())))
        })
    }

    /// The page of a new petition (`petition` none) or of one to revise: refused unless the
    /// reader may record the case's protection or its 措置 now.
    pub fn petition_page(
        &self,
        actor: &Actor,
        id: CaseId,
        petition: Option<CourtPetitionId>,
    ) -> Result<PetitionPageView> {
        let page = self.case_page(actor, id)?;
        if !(page.case.may(Action::RecordProtection) || page.case.may(Action::RecordSupport)) {
            return Err(Error::Forbidden { action: Action::RecordProtection.as_str() });
        }
        let PetitionsView { petitions, mut documents } = self.case_petitions(actor, id)?;
        let petition = match petition {
            None => None,
            Some(p) => Some(
                petitions
                    .into_iter()
                    .find(|v| v.id == p.0)
                    .ok_or_else(|| Error::not_found("court_petition", p.0))?,
            ),
        };
        if let Some(p) = &petition {
            if p.body.filed_on.is_some() {
                documents.clone_from(&p.body.documents);
            }
            for d in &mut documents {
                d.withhold = p.body.documents.iter().any(|m| m.key == d.key && m.withhold);
            }
        }
        Ok(PetitionPageView { page, petition, documents })
    }

    /// A petition to the family court prepared on an open case (by those who record its
    /// protection, or its 措置 for a placement), its documents the case's now, each marked as
    /// asked. A client may retry it with the same key, as `add_note_once`.
    pub fn prepare_petition(
        &self,
        actor: &Actor,
        case: CaseId,
        new: NewPetition,
        key: Option<&str>,
    ) -> Result<Versioned<CourtPetition>> {
        let claim = key.map(|k| idempotency_claim(actor, "petition", k)).transpose()?;
        let new = new.normalised();
        self.write(actor, action_of(new.kind), CourtPetitionId::KIND, None, |tx| {
            let now = tx.now;
            let c = tx.require::<Case>(case)?;
            access::check_write_case(actor, &c.body, action_of(new.kind))?;
            let same = |p: &CourtPetition| NewPetition::of(p) == new;
            if let Some(done) = replayed::<CourtPetition>(tx, claim.as_deref(), same)? {
                return Ok((done.clone(), done.id));
            }
            if c.body.status == CaseStatus::Closed {
                return Err(Error::invalid("case", Why::CaseClosed));
            }
            let petition = prepare(&*tx, &c, new, actor.staff, now)?;
            let v = tx.insert(petition)?;
            tx.link("case_petition", case.0, v.id)?;
            record_filing(tx, &v.body, actor.staff)?;
            if let Some(c) = &claim {
                tx.claim(IDEMPOTENCY, c, v.id)?;
            }
            Ok((v.clone(), v.id))
        })
    }

    /// A petition revised from revision `rev` — its grounds, its marks, the day filed — its
    /// documents those of the case now. One filed is not changed; nor is its kind.
    pub fn revise_petition(
        &self,
        actor: &Actor,
        case: CaseId,
        id: CourtPetitionId,
        rev: u64,
        new: NewPetition,
    ) -> Result<Versioned<CourtPetition>> {
        self.write(actor, action_of(new.kind), CourtPetitionId::KIND, Some(id.0), |tx| {
            let now = tx.now;
            let old = tx.require::<CourtPetition>(id)?;
            let c = tx.require::<Case>(old.body.case)?;
            access::check_write_case(actor, &c.body, action_of(new.kind))?;
            if old.body.case != case {
                return Err(Error::not_found("court_petition", id.0));
            }
            if old.body.filed_on.is_some() {
                return Err(Error::invalid("filed_on", Why::PetitionFiled));
            }
            if new.kind != Some(old.body.kind) {
                return Err(Error::invalid(
                    "kind",
                    Why::NotOneOf("the petition's own kind (prepare a new one)"),
                ));
            }
            // Still about what it was prepared for, by whom — whether or not that protection is
            // still in force (its filing may be recorded after it ended).
            let started = match old.body.protection {
                Some(p) => tx.get::<Protection>(p)?.map(|p| p.body.started_at.jst_date()),
                None => None,
            };
            let not_before = started.unwrap_or_else(|| c.body.intake.received_at.jst_date());
            let documents = petition_documents(&*tx, &c, now)?;
            let mut petition = new.prepare(case, old.body.prepared_by, now, not_before, documents)?;
            petition.protection = old.body.protection;
            let v = tx.update(id, rev, petition)?;
            record_filing(tx, &v.body, actor.staff)?;
            Ok((v, id.0))
        })
    }
}

/// A 33条5項 petition's filing, recorded on its protection as well: the step 家庭裁判所への申立て
/// of the protection's latest extension without consent, when that step is open (the extension
/// recorded, no filing yet) — so the day is typed once and the protection's clocks see it. Else
/// (no such extension yet, a filing already recorded, the protection ended) nothing more.
fn record_filing(tx: &mut WriteTx, petition: &CourtPetition, by: StaffId) -> Result<()> {
    let (PetitionKind::ProtectionExtension, Some(filed_on), Some(id)) =
        (petition.kind, petition.filed_on, petition.protection)
    else {
        return Ok(());
    };
    let Some(p) = tx.get::<Protection>(id)? else { return Ok(()) };
    if !p.body.open_steps().contains(&StepKind::CourtPetition) {
        return Ok(());
    }
    let mut body = p.body.clone();
    let now = tx.now;
    if body.apply(ProtectionStep::CourtPetition { petitioned_on: filed_on }, by, now)? == Applied::Recorded {
        tx.update(id, p.rev, body)?;
        super::casework::refresh_clocks(tx, p.body.case)?;
    }
    Ok(())
}
