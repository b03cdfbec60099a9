//! What is recorded on a case in the field: progress notes (and their corrections), safety
//! checks with the body map, assessments, messages in the case's thread.

use std::collections::BTreeMap;

use super::{IDEMPOTENCY, idempotency_claim, refresh_clocks, replayed};
use crate::case::{
    Approval, Assessment, Case, MESSAGE_MAX_CHARS, Message, NewNote, NewSafetyCheck, Note, SafetyCheck,
};
use crate::error::{Counted, Why};
use crate::error::{Error, Result};
use crate::ids::{AssessmentId, CaseId, MessageId, NoteId, RecordId, SafetyCheckId};
use crate::person::Attachment;
use crate::service::Service;
use crate::service::access::{self, Actor};
use crate::staff::{Action, Role};
use crate::store::{Reader, Versioned};

/// Most marks one safety check's body map may hold.
pub const MAX_INJURIES: usize = 50;
/// Marks on the body map: on the outline (fractions of its width and height), a plausible size,
/// a note of reasonable length.
pub(super) fn check_injuries(injuries: &[crate::case::Injury]) -> Result<()> {
    if injuries.len() > MAX_INJURIES {
        return Err(Error::invalid("injuries", Why::AtMost(MAX_INJURIES, Counted::Marks)));
    }
    for i in injuries {
        if !(0.0..=1.0).contains(&i.x) || !(0.0..=1.0).contains(&i.y) {
            return Err(Error::invalid("injuries", Why::OffTheBodyMap));
        }
        if i.size_cm.is_some_and(|s| !(s > 0.0 && s <= 200.0)) {
            return Err(Error::invalid("injuries", Why::SizeOutOfRange));
        }
        if i.description.chars().count() > 500 {
            return Err(Error::invalid("injuries", Why::AtMost(500, Counted::MarkNote)));
        }
    }
    Ok(())
}
/// Whether a stored record and a retried one name the same photos (a retry is the same request).
pub(super) fn same_files(stored: &[Attachment], retried: &[Attachment]) -> bool {
    let shas =
        |x: &[Attachment]| x.iter().map(|a| a.sha256.clone()).collect::<std::collections::BTreeSet<_>>();
    shas(stored) == shas(retried)
}

impl Service {
    /// Posts a message to the case's thread (field and office); anyone who may add notes to the
    /// case may post. A client may retry with the same idempotency key: one message is kept.
    pub fn post_message_once(
        &self,
        actor: &Actor,
        case: CaseId,
        body: &str,
        key: Option<&str>,
    ) -> Result<Versioned<Message>> {
        let claim = key.map(|k| idempotency_claim(actor, "message", k)).transpose()?;
        let body = body.trim().to_owned();
        self.write(actor, Action::AddNote, MessageId::KIND, None, |tx| {
            if let Some(done) =
                replayed::<Message>(tx, claim.as_deref(), |m| m.case == case && m.body == body)?
            {
                return Ok((done.clone(), done.id));
            }
            let c = tx.require::<Case>(case)?;
            access::check_write_case(actor, &c.body, Action::AddNote)?;
            if body.is_empty() {
                return Err(Error::invalid("body", Why::Required));
            }
            if body.chars().count() > MESSAGE_MAX_CHARS {
                return Err(Error::invalid("body", Why::AtMost(MESSAGE_MAX_CHARS, Counted::Characters)));
            }
            let v =
                tx.insert(Message { case, child: c.body.child, at: tx.now, author: actor.staff, body })?;
            tx.link("case_message", case.0, v.id)?;
            tx.link("unit_message", c.body.unit.0, v.id)?;
            if let Some(c) = &claim {
                tx.claim(IDEMPOTENCY, c, v.id)?;
            }
            Ok((v.clone(), v.id))
        })
    }

    /// 経過記録: appended to the case; never changed except by `correct_note`.
    pub fn add_note(&self, actor: &Actor, case: CaseId, note: NewNote) -> Result<Versioned<Note>> {
        self.add_note_once(actor, case, note, None)
    }

    /// `add_note` that a client may retry: the first call with a given idempotency key (per
    /// author) stores the note, and every later call with that key returns the same note without
    /// storing another. An offline tablet resending a draft saves it exactly once.
    pub fn add_note_once(
        &self,
        actor: &Actor,
        case_id: CaseId,
        note: NewNote,
        key: Option<&str>,
    ) -> Result<Versioned<Note>> {
        let claim = key.map(|k| idempotency_claim(actor, "note", k)).transpose()?;
        self.write(actor, Action::AddNote, NoteId::KIND, None, |tx| {
            let case = tx.require::<Case>(case_id)?;
            access::check_write_case(actor, &case.body, Action::AddNote)?;
            let mut note = note.write(case_id, case.body.child, actor.staff, tx.now)?;
            let same = |v: &Note| {
                v.case == note.case && v.body == note.body && same_files(&v.attachments, &note.attachments)
            };
            if let Some(done) = replayed::<Note>(tx, claim.as_deref(), same)? {
                return Ok((done.clone(), done.id));
            }
            Service::code_table(tx, "note_kind")?.body.check(&note.kind, note.at.jst_date())?;
            crate::service::photos::stamp_attachments(tx, note.case, &mut note.attachments)?;
            let v = tx.insert(note)?;
            tx.link("case_note", v.body.case.0, v.id)?;
            tx.link("child_note", v.body.child.0, v.id)?;
            if let Some(c) = &claim {
                tx.claim(IDEMPOTENCY, c, v.id)?;
            }
            Ok((v.clone(), v.id))
        })
    }

    /// A correction: a new revision with its reason; the earlier text stays in the history.
    pub fn correct_note(
        &self,
        actor: &Actor,
        id: NoteId,
        rev: u64,
        body: &str,
        reason: &str,
    ) -> Result<Versioned<Note>> {
        self.write(actor, Action::AddNote, NoteId::KIND, Some(id.0), |tx| {
            let old = tx.require::<Note>(id)?;
            let case = tx.require::<Case>(old.body.case)?;
            access::check_write_case(actor, &case.body, Action::AddNote)?;
            if old.body.author != actor.staff && !matches!(actor.role, Role::Supervisor | Role::Head) {
                return Err(Error::Forbidden { action: "correct another author's note" });
            }
            if reason.trim().is_empty() {
                return Err(Error::invalid("reason", Why::Required));
            }
            let mut new = old.body.clone();
            body.clone_into(&mut new.body);
            new.correction = Some(reason.trim().to_owned());
            let v = tx.update(id, rev, new)?;
            Ok((v, id.0))
        })
    }

    pub fn note_history(&self, actor: &Actor, id: NoteId) -> Result<Vec<Versioned<Note>>> {
        self.read(actor, Action::ReadCase, NoteId::KIND, Some(id.0), |r| {
            let note = r.require::<Note>(id)?;
            let case = r.require::<Case>(note.body.case)?;
            access::Scope::of(r, actor)?.check_read_case(&case.body, Action::ReadCase)?;
            Ok((r.history::<Note>(id)?, None))
        })
    }

    /// 安全確認.
    pub fn record_safety_check(
        &self,
        actor: &Actor,
        case: CaseId,
        check: NewSafetyCheck,
    ) -> Result<Versioned<SafetyCheck>> {
        self.record_safety_check_once(actor, case, check, None)
    }

    /// `record_safety_check` that a client may retry, as `add_note_once`.
    pub fn record_safety_check_once(
        &self,
        actor: &Actor,
        case_id: CaseId,
        check: NewSafetyCheck,
        key: Option<&str>,
    ) -> Result<Versioned<SafetyCheck>> {
        let claim = key.map(|k| idempotency_claim(actor, "safety_check", k)).transpose()?;
        self.write(actor, Action::RecordSafetyCheck, SafetyCheckId::KIND, None, |tx| {
            let case = tx.require::<Case>(case_id)?;
            access::check_write_case(actor, &case.body, Action::RecordSafetyCheck)?;
            let mut check = check.check(case_id, case.body.child, actor.staff, tx.now)?;
            let same = |v: &SafetyCheck| {
                v.case == check.case
                    && v.at == check.at
                    && v.place == check.place
                    && v.child_state == check.child_state
                    && v.injuries == check.injuries
                    && same_files(&v.attachments, &check.attachments)
            };
            if let Some(done) = replayed::<SafetyCheck>(tx, claim.as_deref(), same)? {
                return Ok((done.clone(), done.id));
            }
            check_injuries(&check.injuries)?;
            crate::service::photos::stamp_attachments(tx, check.case, &mut check.attachments)?;
            let v = tx.insert(check)?;
            tx.link("case_check", v.body.case.0, v.id)?;
            if let Some(c) = &claim {
                tx.claim(IDEMPOTENCY, c, v.id)?;
            }
            refresh_clocks(tx, v.body.case)?;
            Ok((v.clone(), v.id))
        })
    }

    /// Fills an assessment sheet; the result is computed here, never typed.
    pub fn record_assessment(
        &self,
        actor: &Actor,
        case_id: CaseId,
        sheet_key: &str,
        answers: BTreeMap<String, bool>,
    ) -> Result<Versioned<Assessment>> {
        self.record_assessment_once(actor, case_id, sheet_key, answers, None)
    }

    /// `record_assessment` that a client may retry, as `add_note_once`.
    pub fn record_assessment_once(
        &self,
        actor: &Actor,
        case_id: CaseId,
        sheet_key: &str,
        answers: BTreeMap<String, bool>,
        key: Option<&str>,
    ) -> Result<Versioned<Assessment>> {
        let claim = key.map(|k| idempotency_claim(actor, "assessment", k)).transpose()?;
        self.write(actor, Action::RecordAssessment, AssessmentId::KIND, None, |tx| {
            let same = |a: &Assessment| a.case == case_id && a.answers == answers;
            if let Some(done) = replayed::<Assessment>(tx, claim.as_deref(), same)? {
                return Ok((done.clone(), done.id));
            }
            let case = tx.require::<Case>(case_id)?;
            access::check_write_case(actor, &case.body, Action::RecordAssessment)?;
            let sheet = Service::assessment_sheet(tx, sheet_key)?;
            let (result, result_label) = sheet.body.evaluate(&answers)?;
            let v = tx.insert(Assessment {
                case: case_id,
                sheet: crate::ids::SheetId(sheet.id),
                sheet_version: sheet.body.version,
                answers,
                result,
                result_label,
                at: tx.now,
                by: actor.staff,
                approval: Some(Approval::asked(actor.staff, tx.now)),
            })?;
            tx.link("case_assessment", case_id.0, v.id)?;
            if let Some(c) = &claim {
                tx.claim(IDEMPOTENCY, c, v.id)?;
            }
            refresh_clocks(tx, case_id)?;
            Ok((v.clone(), v.id))
        })
    }
}
