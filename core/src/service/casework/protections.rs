//! 一時保護: a start and each legal step, applied by the domain (`Protection::apply`).

use super::{IDEMPOTENCY, idempotency_claim, load_links, refresh_clocks, replayed};
use crate::case::{Case, CaseStatus};
use crate::code_table;
use crate::error::Why;
use crate::error::{Error, Result};
use crate::ids::{CaseId, ProtectionId, RecordId};
use crate::protection::{Applied, Protection, ProtectionStep, SentProtection, StartProtection};
use crate::service::Service;
use crate::service::access::{self, Actor};
use crate::staff::Action;
use crate::store::{Reader, Versioned};

/// The days an urgent start leaves for the child's hearing, from the code table valid on `on`
/// (the seeded period on a store made before the table existed).
pub(super) fn hearing_days(tx: &impl Reader, on: crate::time::Date) -> Result<u32> {
    match Service::code_table(tx, code_table::HEARING_AFTER_URGENT_START) {
        Ok(t) => t.body.days_on(on).ok_or_else(|| {
            Error::invalid_code(
                code_table::HEARING_AFTER_URGENT_START,
                "",
                &format!("no entry valid on {on}"),
            )
        }),
        Err(Error::NotFound { .. }) => Ok(code_table::HEARING_AFTER_URGENT_START_DAYS),
        Err(e) => Err(e),
    }
}

impl Service {
    /// 一時保護の開始.
    pub fn start_protection(
        &self,
        actor: &Actor,
        case: CaseId,
        start: StartProtection,
    ) -> Result<Versioned<Protection>> {
        self.start_protection_once(actor, case, start, None)
    }

    /// `start_protection` that a client may retry, as `add_note_once`: the same key again
    /// answers with the protection it started.
    pub fn start_protection_once(
        &self,
        actor: &Actor,
        case_id: CaseId,
        start: StartProtection,
        key: Option<&str>,
    ) -> Result<Versioned<Protection>> {
        let claim = key.map(|k| idempotency_claim(actor, "protection", k)).transpose()?;
        self.write(actor, Action::RecordProtection, ProtectionId::KIND, None, |tx| {
            let same = |d: &Protection| d.case == case_id && start.started(d);
            if let Some(done) = replayed::<Protection>(tx, claim.as_deref(), same)? {
                return Ok((done.clone(), done.id));
            }
            let case = tx.require::<Case>(case_id)?;
            access::check_write_case(actor, &case.body, Action::RecordProtection)?;
            if case.body.status == CaseStatus::Closed {
                return Err(Error::invalid("case", Why::CaseClosed));
            }
            let active =
                load_links::<Protection>(tx, "case_protection", case_id)?.iter().any(|x| x.body.is_active());
            if active {
                return Err(Error::invalid("case", Why::ProtectionInForce));
            }
            let days = hearing_days(tx, start.started_at.jst_date())?;
            let p = start.start(case_id, case.body.child, actor.staff, tx.now, days)?;
            let v = tx.insert(p)?;
            tx.link("case_protection", v.body.case.0, v.id)?;
            if let Some(c) = &claim {
                tx.claim(IDEMPOTENCY, c, v.id)?;
            }
            refresh_clocks(tx, v.body.case)?;
            Ok((v.clone(), v.id))
        })
    }

    /// Records one later step of a protection of `case` (the hearing, the warrant, an
    /// extension, a notice, the end), applied by the domain's rules, as a new revision made
    /// from `rev`. The same step sent again answers the stored version.
    pub fn record_protection_step(
        &self,
        actor: &Actor,
        case: CaseId,
        id: ProtectionId,
        rev: u64,
        step: ProtectionStep,
    ) -> Result<Versioned<Protection>> {
        self.protection_steps(actor, case, id, rev, |_| Ok(vec![step]))
    }

    /// A protection sent whole (the JSON API's `PUT`): core works out the steps that lead there
    /// (`Protection::steps_to`) and records them by the same rules as `record_protection_step`.
    pub fn update_protection(
        &self,
        actor: &Actor,
        case: CaseId,
        id: ProtectionId,
        rev: u64,
        sent: SentProtection,
    ) -> Result<Versioned<Protection>> {
        self.protection_steps(actor, case, id, rev, |old| old.steps_to(&sent.on(old)))
    }

    pub(super) fn protection_steps(
        &self,
        actor: &Actor,
        case: CaseId,
        id: ProtectionId,
        rev: u64,
        steps: impl FnOnce(&Protection) -> Result<Vec<ProtectionStep>>,
    ) -> Result<Versioned<Protection>> {
        self.write(actor, Action::RecordProtection, ProtectionId::KIND, Some(id.0), |tx| {
            let old = tx.require::<Protection>(id)?;
            // Named through another case: not this one's.
            if old.body.case != case {
                return Err(Error::NotFound { what: "protection", id: id.0.to_string() });
            }
            let case = tx.require::<Case>(old.body.case)?;
            access::check_write_case(actor, &case.body, Action::RecordProtection)?;
            let mut p = old.body.clone();
            let mut recorded = false;
            let applied = steps(&old.body).and_then(|steps| {
                for step in steps {
                    recorded |= p.apply(step, actor.staff, tx.now)? == Applied::Recorded;
                }
                Ok(())
            });
            // Refused against a revision the sender did not see: say that, not the rule.
            if let Err(e) = applied {
                return Err(if rev == old.rev {
                    e
                } else {
                    Error::Conflict { record: format!("protection {}", id.0), expected: rev, found: old.rev }
                });
            }
            // Every step sent again after its answer was lost: already recorded.
            if !recorded {
                return Ok((old, id.0));
            }
            // A notice recorded now is kept as the paper Mamoru makes of it (a start's or an end's).
            for i in old.body.notices.len()..p.notices.len() {
                p.notices[i].pdf = crate::service::forms::issue_notice(tx, &case, &p, i)?;
            }
            let v = tx.update(id, rev, p)?;
            refresh_clocks(tx, v.body.case)?;
            Ok((v, id.0))
        })
    }
}
