//! What a form is filled from: the facts read from the case and the records the form is of
//! (its protection, meeting, 措置, check, assessment or petition), codes named, the household
//! and the guardians, the reporter only where the template keeps it inside the centre.

use super::{Period, label};
use crate::case::{
    Assessment, Case, CourtPetition, IntakeKind, Meeting, Note, PetitionKind, Reporter, SafetyCheck, Support,
};
use crate::code_table::Code;
use crate::error::{Error, Result};
use crate::forms::{
    EvidenceFacts, Facts, FormKind, InjuryFacts, MemberFacts, NoteFacts, ReporterFacts, Template,
};
use crate::ids::{HouseholdId, NoteId, PersonId, ReporterId, StaffId};
use crate::person::{Child, Household, MemberRef, Person};
use crate::protection::{NoticeKind, Protection};
use crate::service::Service;
use crate::staff::{Staff, Unit};
use crate::store::{Reader, Versioned};
use crate::time::Timestamp;

/// The records a form is filled from besides the case and the child.
pub(super) struct Sources<'a> {
    pub(super) protection: Option<&'a Protection>,
    pub(super) meeting: Option<&'a Meeting>,
    pub(super) support: Option<&'a Support>,
    pub(super) check: Option<&'a SafetyCheck>,
    pub(super) assessment: Option<&'a Assessment>,
    pub(super) petition: Option<&'a CourtPetition>,
    pub(super) period: Period,
}

/// What `form` is filled from, and when it is made: a paper of a record is made as of that
/// record (a notice when it was recorded as issued, minutes when the meeting was held, a
/// petition the day it was filed), so printing it again gives the same paper; anything else now.
pub(super) fn facts(
    r: &impl Reader,
    case: &Versioned<Case>,
    child: &Child,
    sources: &Sources<'_>,
    (form, template): (FormKind, &Template),
    now: Timestamp,
) -> Result<(Facts, Timestamp)> {
    let c = &case.body;
    let unit = r.require::<Unit>(c.unit)?;
    let mut facts = Facts {
        issuer: format!("{}長", unit.body.name),
        case_no: c.case_no.clone(),
        child_name: child.name.full(),
        child_kana: child.name.full_kana(),
        child_birth: child.birth_date.filter(|_| !child.unborn),
        child_address: child.address.clone(),
        guardians: guardians(r, child.household)?,
        ..Facts::default()
    };
    let mut made = now;
    match form {
        FormKind::IntakeSheet => intake_facts(r, case, template, &mut facts)?,
        FormKind::AssessmentSheet => {
            let a = sources.assessment.ok_or_else(|| Error::not_found("form", form.slug()))?;
            made = assessment_facts(r, a, &mut facts)?;
        }
        FormKind::SafetyCheckRecord => {
            let c = sources.check.ok_or_else(|| Error::not_found("form", form.slug()))?;
            check_facts(r, c, &mut facts)?;
            // Dated as the check was made: printed again, the same paper.
            made = c.at;
        }
        FormKind::ChildRecord => record_facts(r, c, child, &mut facts)?,
        FormKind::ExtensionPetition | FormKind::PlacementPetition => {
            let p = sources.petition.ok_or_else(|| Error::not_found("form", form.slug()))?;
            made = petition_facts(r, p, &mut facts)?;
        }
        FormKind::WarrantRequest => {
            let p = sources.protection.ok_or_else(|| Error::not_found("form", form.slug()))?;
            protection_facts(&mut facts, p);
            // The judge is told where the child is; a notice to the family never is.
            if !p.place.trim().is_empty() {
                facts.protection_place = format!("{}（{}）", facts.protection_place, p.place.trim());
            }
            facts.guardian_consent = Some(p.guardian_consent);
            facts.warrant_requested_at = p.warrant.as_ref().map(|w| w.requested_at);
            facts.warrant_due = Some(p.warrant_due());
            // Once the request is made, what it attached: the records made up to it.
            let until = p.warrant.as_ref().map_or(Timestamp(i64::MAX), |w| w.requested_at);
            let hearing: Vec<(String, &crate::case::Hearing)> =
                p.hearing.iter().map(|h| ("hearing".to_owned(), h)).collect();
            facts.evidence = crate::service::court::documents(r, case, &hearing, until)?
                .into_iter()
                .map(|d| EvidenceFacts { title: d.title, made_on: d.made_on, withhold: None })
                .collect();
            // Once requested, dated as requested: printed again, the same paper.
            if let Some(w) = &p.warrant {
                made = w.requested_at;
            }
        }
        FormKind::ProtectionStartNotice | FormKind::ProtectionEndNotice => {
            let p = sources.protection.ok_or_else(|| Error::not_found("form", form.slug()))?;
            protection_facts(&mut facts, p);
            let kind =
                if form == FormKind::ProtectionStartNotice { NoticeKind::Start } else { NoticeKind::End };
            if let Some(n) = p.notices.iter().rev().find(|n| n.kind == kind) {
                made = n.issued_at;
            }
        }
        FormKind::Notes => {
            let kinds = Service::code_table(r, "note_kind")?;
            let mut notes = Vec::new();
            for id in r.links("case_note", case.id, usize::MAX)? {
                let n = r.require::<Note>(NoteId(id))?.body;
                let d = n.at.jst_date();
                let period = sources.period;
                if period.from.is_some_and(|f| d < f) || period.to.is_some_and(|t| d > t) {
                    continue;
                }
                let author = match n.legacy_author() {
                    Some(name) => format!("{name}（移行）"),
                    None => staff_name(r, n.author)?,
                };
                notes.push(NoteFacts { at: n.at, author, kind: label(&kinds, &n.kind), body: n.body });
            }
            notes.sort_by_key(|n| n.at);
            facts.notes = notes;
        }
        FormKind::MeetingMinutes => {
            let m = sources.meeting.ok_or_else(|| Error::not_found("form", form.slug()))?;
            facts.meeting_kind = label(&Service::code_table(r, "meeting_kind")?, &m.kind);
            facts.meeting_at = Some(m.at);
            for s in &m.attendees {
                facts.meeting_attendees.push(staff_name(r, *s)?);
            }
            facts.meeting_attendees.extend(m.outside_attendees.iter().cloned());
            facts.meeting_decisions.clone_from(&m.decisions);
            // Minutes are of the meeting: made as of when it was held, printed again the same.
            made = m.at;
        }
        FormKind::SupportNotice => {
            let s = sources.support.ok_or_else(|| Error::not_found("form", form.slug()))?;
            facts.support_kind = label(&Service::code_table(r, "support_kind")?, &s.kind);
            facts.support_decided_on = Some(s.decided_on);
            facts.support_start = s.start;
            facts.support_facility.clone_from(&s.facility);
            // Dated the day it was issued, once recorded: printed again, the same paper.
            if let Some(day) = s.notice_issued_on {
                made = Timestamp::jst_midnight(day);
            }
        }
    }
    Ok((facts, made))
}

/// Which petitions form `form` prints.
pub(super) fn petition_kind(form: FormKind) -> Option<PetitionKind> {
    PetitionKind::ALL.into_iter().find(|k| FormKind::of_petition(*k) == form)
}

/// What a petition says: its aim, grounds and documents as prepared (each marked 非開示希望 or
/// not), the protection it continues (where the child is, the judge may know; the period's last
/// day) or the placement it asks for. Dated the day filed, else when last prepared: printed
/// again, the same paper.
fn petition_facts(r: &impl Reader, p: &CourtPetition, facts: &mut Facts) -> Result<Timestamp> {
    facts.petition_grounds.clone_from(&p.grounds);
    facts.petition_filed_on = p.filed_on;
    facts.petition_aim = crate::case::petition_aim(p.kind, p.placement.as_ref().map(Code::as_str));
    facts.evidence = p
        .documents
        .iter()
        .map(|d| EvidenceFacts { title: d.title.clone(), made_on: d.made_on, withhold: Some(d.withhold) })
        .collect();
    if let Some(code) = &p.placement {
        facts.petition_placement = label(&Service::code_table(r, "support_kind")?, code);
    }
    if let Some(id) = p.protection
        && let Some(pr) = r.get::<Protection>(id)?
    {
        protection_facts(facts, &pr.body);
        if !pr.body.place.trim().is_empty() {
            facts.protection_place = format!("{}（{}）", facts.protection_place, pr.body.place.trim());
        }
        facts.guardian_consent = Some(pr.body.guardian_consent);
        facts.protection_until = Some(pr.body.period_end().plus_days(-1));
    }
    Ok(p.filed_on.map_or(p.prepared_at, Timestamp::jst_midnight))
}

/// What the 児童記録票 says besides the child's name and birth: the intake, the face sheet, the
/// workers, the 判定 and opinion, and the household.
fn record_facts(r: &impl Reader, c: &Case, child: &Child, facts: &mut Facts) -> Result<()> {
    facts.received_at = Some(c.intake.received_at);
    facts.route = label(&Service::code_table(r, "route")?, &c.intake.route);
    facts.consultation_type =
        label(&Service::code_table(r, "consultation_type")?, &c.intake.consultation_type);
    facts.chief_complaint.clone_from(&c.intake.chief_complaint);
    child.sex.label().clone_into(&mut facts.child_sex);
    facts.child_phones.clone_from(&child.phones);
    facts.child_affiliation.clone_from(&child.affiliation);
    facts.child_nationality.clone_from(&child.nationality);
    facts.child_certificates.clone_from(&child.disability_certificates);
    for s in &c.assigned {
        facts.workers.push(staff_name(r, *s)?);
    }
    facts.judgement.clone_from(&c.judgement);
    facts.worker_opinion.clone_from(&c.worker_opinion);
    facts.household = household(r, c.child, child)?;
    Ok(())
}

/// What an assessment sheet says: the sheet, who filled it when, the result, each question with
/// its answer; its 決裁欄 stamped — 担当 by who asked, the approver's column by their role —
/// once approved. Returns when the paper is dated: its 決裁, else when it was filled.
fn assessment_facts(r: &impl Reader, a: &Assessment, facts: &mut Facts) -> Result<Timestamp> {
    let sheet = r
        .history::<crate::assessment::AssessmentSheet>(a.sheet)?
        .into_iter()
        .rev()
        .find(|s| s.body.version == a.sheet_version)
        .or(r.get::<crate::assessment::AssessmentSheet>(a.sheet)?)
        .ok_or_else(|| Error::not_found("assessment_sheet", a.sheet.0))?
        .body;
    facts.assessment_name.clone_from(&sheet.name);
    facts.assessment_version = a.sheet_version;
    facts.assessment_at = Some(a.at);
    facts.assessment_by = staff_name(r, a.by)?;
    facts.assessment_result.clone_from(&a.result_label);
    facts.answers = sheet.questions.iter().map(|q| (q.text.clone(), a.answers.get(&q.id).copied())).collect();
    let mut made = a.at;
    if let Some(approval) = &a.approval
        && let Some(d) = approval.decision.as_ref().filter(|d| d.verdict == crate::case::Verdict::Approved)
    {
        let approver = r.get::<Staff>(d.by)?;
        let column = match approver.as_ref().map(|s| s.body.role) {
            Some(crate::staff::Role::Head) => "所長",
            _ => "係長",
        };
        facts.approvals = vec![
            (column.to_owned(), approver.map(|s| s.body.display_name).unwrap_or_default(), d.at.jst_date()),
            ("担当".to_owned(), staff_name(r, approval.asked_by)?, approval.asked_at.jst_date()),
        ];
        made = d.at;
    }
    Ok(made)
}

/// What the 安全確認記録 says of a check: how, by whom, where, the child's state, each mark on
/// the body map named by the figure's regions, and how many photos were attached.
fn check_facts(r: &impl Reader, c: &SafetyCheck, facts: &mut Facts) -> Result<()> {
    use crate::case::BodySide;
    facts.check_at = Some(c.at);
    crate::service::court::method_label(c.method).clone_into(&mut facts.check_method);
    facts.check_seen = Some(c.seen_directly);
    for s in &c.by {
        facts.check_by.push(staff_name(r, *s)?);
    }
    facts.check_agency.clone_from(&c.agency);
    facts.check_place.clone_from(&c.place);
    facts.check_state.clone_from(&c.child_state);
    facts.check_photos = c.attachments.len();
    // Each photo as stored (re-encoded as JPEG when it was received: `crate::photo`), numbered
    // as the list of marks names them; one missing from the files is said, not skipped.
    for (i, a) in c.attachments.iter().enumerate() {
        let when = a.taken_at.map(|t| format!("（{}）", crate::forms::datetime(t))).unwrap_or_default();
        let caption = if a.caption.trim().is_empty() {
            format!("写真{}{when}", i + 1)
        } else {
            format!("写真{} {}{when}", i + 1, a.caption.trim())
        };
        match r.file(&a.sha256)? {
            Some(bytes) if crate::case::image_type(&bytes) == Some("image/jpeg") => {
                facts.check_photo_files.push((caption, bytes));
            }
            _ => {
                return Err(Error::Corrupt(format!(
                    "the photo {} of a safety check is not in the store",
                    a.sha256
                )));
            }
        }
    }
    facts.injuries = c
        .injuries
        .iter()
        .map(|i| InjuryFacts {
            front: i.side == BodySide::Front,
            x: i.x,
            y: i.y,
            part: i.part().unwrap_or_default(),
            size_cm: i.size_cm,
            description: i.description.clone(),
            photo: i.photo.is_some(),
        })
        .collect();
    Ok(())
}

/// What the intake sheet says: the intake as received, and the reporter (a form kept inside
/// the centre only).
fn intake_facts(
    r: &impl Reader,
    case: &Versioned<Case>,
    template: &Template,
    facts: &mut Facts,
) -> Result<()> {
    let c = &case.body;
    facts.received_at = Some(c.intake.received_at);
    (if c.intake.kind == IntakeKind::AbuseReport { "虐待通告" } else { "相談" })
        .clone_into(&mut facts.intake_kind);
    facts.route = label(&Service::code_table(r, "route")?, &c.intake.route);
    facts.consultation_type =
        label(&Service::code_table(r, "consultation_type")?, &c.intake.consultation_type);
    facts.chief_complaint.clone_from(&c.intake.chief_complaint);
    facts.content.clone_from(&c.intake.content);
    if let Some(a) = &c.abuse {
        let table = Service::code_table(r, "abuse_type")?;
        facts.abuse_types = a.types.iter().map(|t| label(&table, t)).collect::<Vec<_>>().join("、");
    }
    if !template.goes_out()
        && let Some(rep) = r.get::<Reporter>(ReporterId(case.id))?
    {
        let rep = rep.body;
        facts.reporter = Some(if rep.anonymous {
            ReporterFacts { name: "（匿名）".into(), relation: rep.relation, phone: String::new() }
        } else {
            ReporterFacts { name: rep.name, relation: rep.relation, phone: rep.phone }
        });
    }
    Ok(())
}

/// What the protection forms say of the protection (the kind of place, never where: a notice
/// goes to the family).
fn protection_facts(facts: &mut Facts, p: &Protection) {
    facts.protection_start = Some(p.started_at);
    facts.protection_place = match p.place_kind {
        crate::protection::PlaceKind::Shelter => "一時保護所".to_owned(),
        crate::protection::PlaceKind::Entrusted => "一時保護委託先".to_owned(),
    };
    facts.protection_reason.clone_from(&p.reason);
    if let Some(end) = &p.ended {
        facts.protection_end = Some(end.at);
        facts.protection_end_reason.clone_from(&end.reason);
    }
}

fn staff_name(r: &impl Reader, id: StaffId) -> Result<String> {
    Ok(r.get::<Staff>(id)?.map(|s| s.body.display_name).unwrap_or_default())
}

/// The child's household as the 児童記録票 lists it: the child first (本人), then each member
/// with their standing to this child. A sibling restricted (閲覧制限) is never named on paper.
fn household(r: &impl Reader, id: crate::ids::ChildId, child: &Child) -> Result<Vec<MemberFacts>> {
    let Some(h) = child.household else { return Ok(Vec::new()) };
    let Some(h) = r.get::<Household>(h)? else { return Ok(Vec::new()) };
    let relations = Service::code_table(r, "relation")?;
    let mut out = Vec::new();
    for m in &h.body.members {
        let standing = m.standing_to(id);
        let relation = label(&relations, &standing.relation);
        let (name, birth, relation, sex) = match m.who {
            MemberRef::Child(c) if c == id => {
                (child.name.full(), child.birth_date.filter(|_| !child.unborn), "本人".to_owned(), child.sex)
            }
            MemberRef::Child(c) => match r.get::<Child>(c)? {
                Some(s) if s.body.restricted_to.is_none() => {
                    (s.body.name.full(), s.body.birth_date, relation, s.body.sex)
                }
                // Restricted: neither name nor sex on paper.
                _ => ("（閲覧制限）".to_owned(), None, relation, crate::person::Sex::Unknown),
            },
            MemberRef::Person(p) => match r.get::<Person>(PersonId(p.0))? {
                Some(p) => (p.body.name.full(), p.body.birth_date, relation, p.body.sex),
                None => continue,
            },
        };
        let person = crate::genogram::Member {
            me: m.who == MemberRef::Child(id),
            child: matches!(m.who, MemberRef::Child(_)),
            name,
            birth_date: birth,
            sex,
            relation: standing.relation.as_str().to_owned(),
            relation_label: relation,
            cohabiting: m.cohabiting,
        };
        out.push(MemberFacts { person, guardian: standing.guardian, custody: standing.custody });
    }
    // The child first, as the sheet is of them.
    out.sort_by_key(|m| !m.person.me);
    Ok(out)
}

/// The names of the household's guardians (保護者), as a notice is addressed.
fn guardians(r: &impl Reader, household: Option<HouseholdId>) -> Result<Vec<String>> {
    let Some(h) = household else { return Ok(Vec::new()) };
    let Some(h) = r.get::<Household>(h)? else { return Ok(Vec::new()) };
    let mut names = Vec::new();
    for m in h.body.members.iter().filter(|m| m.guardian) {
        if let MemberRef::Person(p) = m.who
            && let Some(p) = r.get::<Person>(PersonId(p.0))?
        {
            names.push(p.body.name.full());
        }
    }
    Ok(names)
}
