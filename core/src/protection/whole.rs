//! A protection sent back whole (the JSON API's `PUT`) held to the same rules as one sent step by
//! step: `SentProtection` is what the client may send, and `Protection::steps_to` turns it into
//! the later steps it adds, refusing anything else.

use serde::{Deserialize, Serialize};

use super::{
    CourtApproval, Extension, Notice, PlaceKind, Protection, ProtectionEnd, ProtectionStep, Warrant,
};
use crate::case::{Hearing, NewHearing};
use crate::error::Error;
use crate::error::Why;
use crate::time::Timestamp;

/// A protection as a client sends it back whole (the API's `PUT`): the record without what core
/// keeps itself (its case, its child and when a hearing after an urgent start is due). Core turns
/// it into the steps it adds ([`Protection::steps_to`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SentProtection {
    pub started_at: Timestamp,
    pub place_kind: PlaceKind,
    #[serde(default)]
    pub place: String,
    #[serde(default)]
    pub reason: String,
    pub guardian_consent: bool,
    #[serde(default)]
    pub hearing: Option<Hearing>,
    #[serde(default)]
    pub warrant: Option<Warrant>,
    #[serde(default)]
    pub extensions: Vec<Extension>,
    #[serde(default)]
    pub notices: Vec<Notice>,
    #[serde(default)]
    pub ended: Option<ProtectionEnd>,
}

impl SentProtection {
    /// The whole record it would make of `stored`.
    #[must_use]
    pub fn on(self, stored: &Protection) -> Protection {
        Protection {
            migrated: stored.migrated.clone(),
            case: stored.case,
            child: stored.child,
            started_at: self.started_at,
            place_kind: self.place_kind,
            place: self.place,
            reason: self.reason,
            guardian_consent: self.guardian_consent,
            hearing: self.hearing,
            warrant: self.warrant,
            extensions: self.extensions,
            notices: self.notices,
            ended: self.ended,
            hearing_due: stored.hearing_due,
        }
    }
}

impl From<Protection> for SentProtection {
    fn from(p: Protection) -> Self {
        SentProtection {
            started_at: p.started_at,
            place_kind: p.place_kind,
            place: p.place,
            reason: p.reason,
            guardian_consent: p.guardian_consent,
            hearing: p.hearing,
            warrant: p.warrant,
            extensions: p.extensions,
            notices: p.notices,
            ended: p.ended,
        }
    }
}

impl Protection {
    /// The steps that turn this protection into `new`: how a client that sends the whole record
    /// (the JSON API's `PUT`) is held to the same rules as one that sends a step. Anything that
    /// is not a later step (a changed start, a removed or rewritten step) is refused.
    pub fn steps_to(&self, new: &Protection) -> Result<Vec<ProtectionStep>, Error> {
        let fixed = [
            ("started_at", self.started_at == new.started_at),
            ("place_kind", self.place_kind == new.place_kind),
            ("place", self.place == new.place),
            ("reason", self.reason == new.reason),
            ("guardian_consent", self.guardian_consent == new.guardian_consent),
        ];
        if let Some((field, _)) = fixed.iter().find(|(_, same)| !same) {
            return Err(Error::invalid(field, Why::FixedAtStart));
        }
        let mut steps = Vec::new();
        match (&self.hearing, &new.hearing) {
            (None, None) => {}
            (None, Some(h)) => steps.push(ProtectionStep::Hearing(NewHearing::of(h))),
            (Some(was), Some(h)) if was.same_as(h) => {}
            _ => return Err(rewritten("hearing")),
        }
        warrant_steps(self.warrant.as_ref(), new.warrant.as_ref(), &mut steps)?;
        self.extension_steps(&new.extensions, &mut steps)?;
        match (&self.ended, &new.ended) {
            (None, Some(end)) => steps.push(ProtectionStep::End { at: end.at, reason: end.reason.clone() }),
            (Some(_), None) => {
                return Err(Error::invalid("ended", Why::NoResume));
            }
            (a, b) if a == b => {}
            _ => return Err(rewritten("ended")),
        }
        // The notices recorded stay as they are (the PDF kept with one is the store's, not the
        // sender's to change or drop).
        let same = |a: &Notice, b: &Notice| a.kind == b.kind && a.issued_at == b.issued_at;
        if new.notices.len() < self.notices.len()
            || !self.notices.iter().zip(&new.notices).all(|(a, b)| same(a, b))
        {
            return Err(rewritten("notices"));
        }
        for n in &new.notices[self.notices.len()..] {
            steps.push(ProtectionStep::Notice { kind: n.kind, at: n.issued_at });
        }
        Ok(steps)
    }

    /// The extensions (and court steps) `new` adds to this protection's.
    fn extension_steps(&self, new: &[Extension], steps: &mut Vec<ProtectionStep>) -> Result<(), Error> {
        if new.len() < self.extensions.len() {
            return Err(rewritten("extensions"));
        }
        for (i, e) in new.iter().enumerate() {
            let Some(was) = self.extensions.get(i) else {
                steps.push(ProtectionStep::Extension {
                    at: e.decided_at,
                    last_day: e.until.plus_days(-1),
                    guardian_consent: e.guardian_consent,
                    petitioned_on: None,
                });
                court_steps(None, e.court.as_ref(), steps)?;
                continue;
            };
            let same = was.decided_at == e.decided_at
                && was.until == e.until
                && was.guardian_consent == e.guardian_consent;
            // Court steps name the latest extension: an earlier one's are history.
            if !same || (i + 1 < self.extensions.len() && was.court != e.court) {
                return Err(rewritten("extensions"));
            }
            court_steps(was.court.as_ref(), e.court.as_ref(), steps)?;
        }
        Ok(())
    }
}

fn rewritten(field: &'static str) -> Error {
    Error::invalid(field, Why::StepRecorded)
}

/// The warrant steps from `was` to `now`: a request, its decision, the challenge.
fn warrant_steps(
    was: Option<&Warrant>,
    now: Option<&Warrant>,
    steps: &mut Vec<ProtectionStep>,
) -> Result<(), Error> {
    let Some(w) = now else {
        return if was.is_none() { Ok(()) } else { Err(rewritten("warrant")) };
    };
    if was.is_some_and(|was| was.requested_at != w.requested_at) {
        return Err(rewritten("warrant"));
    }
    if was.is_none() {
        steps.push(ProtectionStep::WarrantRequest { at: w.requested_at });
    }
    match (was.and_then(|x| x.decided_at.zip(x.outcome)), w.decided_at.zip(w.outcome)) {
        (None, Some((at, outcome))) => steps.push(ProtectionStep::WarrantDecision { at, outcome }),
        (a, b) if a == b => {}
        _ => return Err(rewritten("warrant")),
    }
    match (was.and_then(|x| x.challenge_filed_at), w.challenge_filed_at) {
        (None, Some(at)) => steps.push(ProtectionStep::Challenge { at }),
        (a, b) if a == b => {}
        _ => return Err(rewritten("warrant")),
    }
    Ok(())
}

/// The court steps of the latest extension from `was` to `now`: the petition, the approval.
fn court_steps(
    was: Option<&CourtApproval>,
    now: Option<&CourtApproval>,
    steps: &mut Vec<ProtectionStep>,
) -> Result<(), Error> {
    let approval = |c: &CourtApproval, steps: &mut Vec<ProtectionStep>| {
        if let Some(d) = c.approved_on {
            steps.push(ProtectionStep::CourtApproval { approved_on: d });
        }
    };
    match (was, now) {
        (a, b) if a == b => {}
        (None, Some(c)) => {
            steps.push(ProtectionStep::CourtPetition { petitioned_on: c.petitioned_on });
            approval(c, steps);
        }
        (Some(a), Some(c)) if a.petitioned_on == c.petitioned_on && a.approved_on.is_none() => {
            approval(c, steps);
        }
        _ => return Err(rewritten("court")),
    }
    Ok(())
}
