//! 援助・措置 and 会議: support decisions with the child's hearing, and meetings.

use super::{IDEMPOTENCY, idempotency_claim, refresh_clocks, replayed};
use crate::case::{Approval, Case, Hearing, Meeting, NewMeeting, Support, SupportDecision, after_change};
use crate::error::{Error, Result};
use crate::error::{Point, Why};
use crate::ids::{CaseId, MeetingId, RecordId, SupportId};
use crate::service::Service;
use crate::service::access::{self, Actor};
use crate::staff::{Action, Staff};
use crate::store::{Reader, Versioned};

/// A support decision's code and dates in order, and a hearing that says what was heard or why
/// it could not be.
pub(super) fn check_support(tx: &impl Reader, s: &Support, before: Option<&Support>) -> Result<()> {
    Service::code_table(tx, "support_kind")?.body.check(&s.kind, s.decided_on)?;
    if let (Some(start), Some(end)) = (s.start, s.end)
        && end < start
    {
        return Err(Error::invalid("end", Why::Before(Point::Start)));
    }
    if s.review_on.is_some_and(|r| r < s.decided_on) {
        return Err(Error::invalid("review_on", Why::Before(Point::Decision)));
    }
    if let Some(h) = &s.hearing
        && before.is_none_or(|b| b.hearing.as_ref() != Some(h))
    {
        h.check()?;
    }
    Ok(())
}
/// A hearing sent again unchanged but for who heard it (a form fills in its sender) stays the
/// one recorded: the child was heard by whoever heard them.
pub(super) fn keep_hearer(new: &mut Option<Hearing>, old: Option<&Hearing>) {
    if let (Some(h), Some(was)) = (new.as_mut(), old)
        && h.same_as(was)
    {
        h.by = was.by;
    }
}

/// The 措置決定通知書 kept for `s` as revised from `old`: the one kept already while the day it
/// was issued stands; made now (and kept) when that day is first recorded or changes on a 措置
/// in force; none otherwise.
fn issued_notice(
    tx: &mut crate::store::WriteTx,
    case: &Versioned<Case>,
    old: &Support,
    s: &Support,
) -> Result<Option<crate::protection::IssuedPdf>> {
    if s.notice_issued_on.is_none() {
        return Ok(None);
    }
    if s.notice_issued_on == old.notice_issued_on && old.notice_pdf.is_some() {
        return Ok(old.notice_pdf.clone());
    }
    crate::service::forms::issue_support_notice(tx, case, s)
}

impl Service {
    /// 援助・措置: a support decision recorded on `case`; the child's hearing, if any, is heard by
    /// the actor.
    pub fn record_support(
        &self,
        actor: &Actor,
        case: CaseId,
        d: SupportDecision,
    ) -> Result<Versioned<Support>> {
        self.record_support_once(actor, case, d, None)
    }

    /// `record_support` that a client may retry, as `add_note_once`.
    pub fn record_support_once(
        &self,
        actor: &Actor,
        case: CaseId,
        d: SupportDecision,
        key: Option<&str>,
    ) -> Result<Versioned<Support>> {
        let claim = key.map(|k| idempotency_claim(actor, "support", k)).transpose()?;
        self.write(actor, Action::RecordSupport, SupportId::KIND, None, |tx| {
            // Decided inside the write, so that a refused decision is audited too.
            let mut s = d.decide(case, actor.staff)?;
            // The same decision sent again, whenever its 決裁 was asked for.
            let same = |d: &Support| {
                Support { approval: d.approval.clone(), notice_pdf: d.notice_pdf.clone(), ..s.clone() } == *d
            };
            if let Some(done) = replayed::<Support>(tx, claim.as_deref(), same)? {
                return Ok((done.clone(), done.id));
            }
            let case = tx.require::<Case>(s.case)?;
            access::check_write_case(actor, &case.body, Action::RecordSupport)?;
            check_support(tx, &s, None)?;
            s.approval = Some(Approval::asked(actor.staff, tx.now));
            // Not yet in force (its 決裁 is asked for now): no notice is kept before it is.
            let v = tx.insert(s)?;
            tx.link("case_support", v.body.case.0, v.id)?;
            if let Some(c) = &claim {
                tx.claim(IDEMPOTENCY, c, v.id)?;
            }
            refresh_clocks(tx, v.body.case)?;
            Ok((v.clone(), v.id))
        })
    }

    /// A support of `case` revised (review date, hearing, notice, end...) from revision `rev`;
    /// a hearing sent back unchanged keeps who heard the child.
    pub fn revise_support(
        &self,
        actor: &Actor,
        case: CaseId,
        id: SupportId,
        rev: u64,
        d: SupportDecision,
    ) -> Result<Versioned<Support>> {
        self.save_support(actor, id, rev, || d.decide(case, actor.staff))
    }

    /// A support revised to what `revised` makes, checked and audited in one write.
    fn save_support(
        &self,
        actor: &Actor,
        id: SupportId,
        rev: u64,
        revised: impl FnOnce() -> Result<Support>,
    ) -> Result<Versioned<Support>> {
        self.write(actor, Action::RecordSupport, SupportId::KIND, Some(id.0), |tx| {
            let mut s = revised()?;
            let old = tx.require::<Support>(id)?;
            let case = tx.require::<Case>(old.body.case)?;
            access::check_write_case(actor, &case.body, Action::RecordSupport)?;
            if s.case != old.body.case {
                return Err(Error::NotFound { what: "support", id: id.0.to_string() });
            }
            keep_hearer(&mut s.hearing, old.body.hearing.as_ref());
            s.migrated.clone_from(&old.body.migrated);
            check_support(tx, &s, Some(&old.body))?;
            // A changed decision, or any change of one sent back, goes to the approver again.
            let changed = s.decides_otherwise(&old.body);
            s.approval = after_change(old.body.approval.as_ref(), changed, actor.staff, tx.now);
            s.notice_pdf = issued_notice(tx, &case, &old.body, &s)?;
            let v = tx.update(id, rev, s)?;
            refresh_clocks(tx, v.body.case)?;
            Ok((v, id.0))
        })
    }

    /// 会議: all the cases it discusses must be the actor's unit's.
    pub fn record_meeting(&self, actor: &Actor, m: NewMeeting) -> Result<Versioned<Meeting>> {
        self.record_meeting_once(actor, m, None)
    }

    /// `record_meeting` that a client may retry, as `add_note_once`. The meeting belongs to the
    /// unit of the first case it discussed; every case must be one the actor may write to.
    pub fn record_meeting_once(
        &self,
        actor: &Actor,
        m: NewMeeting,
        key: Option<&str>,
    ) -> Result<Versioned<Meeting>> {
        let claim = key.map(|k| idempotency_claim(actor, "meeting", k)).transpose()?;
        self.write(actor, Action::RecordMeeting, MeetingId::KIND, None, |tx| {
            let unit = tx.require::<Case>(m.first_case()?)?.body.unit;
            let m = m.hold(unit, tx.now)?;
            if let Some(done) = replayed::<Meeting>(tx, claim.as_deref(), |d| *d == m)? {
                return Ok((done.clone(), done.id));
            }
            access::check_own_unit(actor, m.unit, Action::RecordMeeting)?;
            Service::code_table(tx, "meeting_kind")?.body.check(&m.kind, m.at.jst_date())?;
            for s in &m.attendees {
                tx.require::<Staff>(*s)?;
            }
            for c in &m.cases {
                let case = tx.require::<Case>(*c)?;
                access::check_write_case(actor, &case.body, Action::RecordMeeting)?;
            }
            let v = tx.insert(m)?;
            for c in &v.body.cases {
                tx.link("case_meeting", c.0, v.id)?;
            }
            if let Some(c) = &claim {
                tx.claim(IDEMPOTENCY, c, v.id)?;
            }
            Ok((v.clone(), v.id))
        })
    }
}
