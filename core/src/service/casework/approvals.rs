//! 決裁: the 終結伺い, and a supervisor's or the head's sign-off on an assessment, a support
//! decision or a 終結伺い (the rules in `case::approval`). Each is an audited write of its own.

use serde::Serialize;

use super::{load_links, refresh_clocks};
use crate::case::{Approvable, ApprovalState, Assessment, Case, CaseStatus, Decide, Subject, Support};
use crate::error::{Error, Result, Why};
use crate::ids::{AssessmentId, CaseId, RecordId, StaffId, SupportId};
use crate::protection::{Applied, Protection};
use crate::service::Service;
use crate::service::access::{self, Actor};
use crate::staff::Action;
use crate::store::{Reader, Record, Versioned, WriteTx};

/// What a 決裁 or a 終結伺い left: the record (the assessment, the support, or the case for a
/// 終結伺い), its revision, where its 決裁 stands, and the case's status (closed when a
/// 終結伺い was approved).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ApprovalDone {
    pub id: u64,
    pub rev: u64,
    pub state: ApprovalState,
    pub status: CaseStatus,
}

/// Whether the child of case `id` is in 一時保護 now (a case is not closed then).
pub(super) fn in_protection(r: &impl Reader, id: CaseId) -> Result<bool> {
    Ok(load_links::<Protection>(r, "case_protection", id)?.iter().any(|p| p.body.is_active()))
}

/// The 決裁 of the assessment or support `id` of `case` (not found when it is another case's),
/// decided from revision `rev`; its new version (the stored one when the decision was sent
/// again) and where its 決裁 stands.
fn decide_record<T: Record + Approvable>(
    tx: &mut WriteTx,
    id: T::Id,
    case: CaseId,
    rev: u64,
    d: &Decide,
    by: StaffId,
) -> Result<(Versioned<T>, ApprovalState)> {
    let v = tx.require::<T>(id)?;
    if v.body.case_of() != case {
        return Err(Error::NotFound { what: T::Id::KIND, id: id.into().to_string() });
    }
    let mut body = v.body.clone();
    let approval = body.approval_mut().ok_or_else(|| Error::invalid("approval", Why::NothingAsked))?;
    let applied = approval.decide(d, (rev, v.rev), by, tx.now)?;
    let state = approval.state();
    let v = if applied == Applied::Recorded { tx.update(id, rev, body)? } else { v };
    Ok((v, state))
}

impl Service {
    /// 終結伺い: asks a supervisor or the head to close `case` for `reason`, from the revision
    /// the worker saw (`Case::ask_closure`).
    pub fn ask_closure(&self, actor: &Actor, id: CaseId, rev: u64, reason: &str) -> Result<ApprovalDone> {
        self.write(actor, Action::AskClosure, CaseId::KIND, Some(id.0), |tx| {
            let old = tx.require::<Case>(id)?;
            access::check_write_case(actor, &old.body, Action::AskClosure)?;
            let protected = old.body.status == CaseStatus::Open && in_protection(tx, id)?;
            let mut body = old.body.clone();
            let v = match body.ask_closure(reason, (rev, old.rev), protected, actor.staff, tx.now)? {
                Applied::AlreadyRecorded => old,
                Applied::Recorded => {
                    let v = tx.update(id, rev, body)?;
                    refresh_clocks(tx, id)?;
                    v
                }
            };
            // None: approved since (this was a resend), the request become the closure.
            let state =
                v.body.closure_request.as_ref().map_or(ApprovalState::Approved, |r| r.approval.state());
            Ok((ApprovalDone { id: v.id, rev: v.rev, state, status: v.body.status }, id.0))
        })
    }

    /// 決裁 of `subject` on `case`: approved or sent back, by a supervisor or the head who did not
    /// ask for it, from revision `rev` of the record they read (the case, for a 終結伺い; a
    /// record changed since is a conflict, so nobody approves what they have not seen).
    /// Approving a 終結伺い closes the case.
    pub fn decide_approval(
        &self,
        actor: &Actor,
        case: CaseId,
        subject: Subject,
        rev: u64,
        d: &Decide,
    ) -> Result<ApprovalDone> {
        let (kind, id) = match subject {
            Subject::Assessment(a) => (AssessmentId::KIND, a.0),
            Subject::Support(s) => (SupportId::KIND, s.0),
            Subject::Closure => (CaseId::KIND, case.0),
        };
        self.write(actor, Action::Approve, kind, Some(id), |tx| {
            let c = tx.require::<Case>(case)?;
            access::check_write_case(actor, &c.body, Action::Approve)?;
            let done = match subject {
                Subject::Assessment(a) => {
                    let (v, state) = decide_record::<Assessment>(tx, a, case, rev, d, actor.staff)?;
                    ApprovalDone { id: v.id, rev: v.rev, state, status: c.body.status }
                }
                Subject::Support(s) => {
                    let (mut v, state) = decide_record::<Support>(tx, s, case, rev, d, actor.staff)?;
                    // Its notice recorded as issued before the 決裁: kept now it is in force.
                    if v.body.notice_pdf.is_none()
                        && let Some(pdf) = crate::service::forms::issue_support_notice(tx, &c, &v.body)?
                    {
                        let mut body = v.body.clone();
                        body.notice_pdf = Some(pdf);
                        v = tx.update(s, v.rev, body)?;
                    }
                    ApprovalDone { id: v.id, rev: v.rev, state, status: c.body.status }
                }
                Subject::Closure => {
                    let protected = c.body.status == CaseStatus::Open && in_protection(tx, case)?;
                    let mut body = c.body.clone();
                    let applied = body.decide_closure(d, (rev, c.rev), protected, actor.staff, tx.now)?;
                    let v = if applied == Applied::Recorded { tx.update(case, rev, body)? } else { c };
                    let state = match &v.body.closure_request {
                        Some(r) => r.approval.state(),
                        // Approved: the request became the closure.
                        None => ApprovalState::Approved,
                    };
                    ApprovalDone { id: v.id, rev: v.rev, state, status: v.body.status }
                }
            };
            refresh_clocks(tx, case)?;
            Ok((done, id))
        })
    }
}
