//! The commands that change a 一時保護 (`StartProtection`, `ProtectionStep`) and the rules that
//! apply them in the law's order: which steps are open, what each needs, a step sent again.
//! No store, no clock read: time is an argument.

use serde::{Deserialize, Serialize};

use super::{
    CourtApproval, Extension, Notice, NoticeKind, PlaceKind, Protection, ProtectionEnd, Warrant,
    WarrantOutcome,
};
use crate::case::NewHearing;
use crate::error::Error;
use crate::error::{Point, StepRule, Why};
use crate::ids::{CaseId, ChildId, StaffId};
use crate::time::{Date, Timestamp};

/// How far ahead of the server's clock a recorded time may be (a tablet's clock runs fast).
const FUTURE_SLACK: i64 = 300;

fn not_future(field: &'static str, at: Timestamp, now: Timestamp) -> Result<(), Error> {
    if at > now.plus(FUTURE_SLACK) {
        return Err(Error::invalid(field, Why::InFuture));
    }
    Ok(())
}

/// 一時保護の開始: what the person starting one must say. The place kind, the place and the
/// reason are required; the child's hearing is recorded with the start, or the start says it
/// comes afterwards because of urgency.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StartProtection {
    pub started_at: Timestamp,
    #[serde(default)]
    pub place_kind: Option<PlaceKind>,
    #[serde(default)]
    pub place: String,
    #[serde(default)]
    pub reason: String,
    #[serde(default)]
    pub guardian_consent: bool,
    /// The child's views heard before the decision.
    #[serde(default)]
    pub hearing: Option<NewHearing>,
    /// 緊急のため事後に意見聴取: the hearing follows the start.
    #[serde(default)]
    pub hearing_after_urgency: bool,
}

impl StartProtection {
    /// The new protection of `child` in `case`, recorded by `by` at `now`; `hearing_days`: the
    /// days (counting the start day) an urgent start leaves for the child's hearing.
    pub fn start(
        self,
        case: CaseId,
        child: ChildId,
        by: StaffId,
        now: Timestamp,
        hearing_days: u32,
    ) -> Result<Protection, Error> {
        Error::require(&[
            ("place_kind", self.place_kind.is_none()),
            ("place", self.place.trim().is_empty()),
            ("reason", self.reason.trim().is_empty()),
            ("hearing", self.hearing.is_none() && !self.hearing_after_urgency),
        ])?;
        not_future("started_at", self.started_at, now)?;
        let hearing = self.hearing.map(|h| h.heard_by(by)).transpose()?;
        if let Some(h) = &hearing {
            not_future("hearing", h.at, now)?;
        }
        let hearing_due = hearing
            .is_none()
            .then(|| Timestamp::jst_midnight(self.started_at.jst_date().plus_days(i64::from(hearing_days))));
        Ok(Protection {
            migrated: None,
            case,
            child,
            started_at: self.started_at,
            place_kind: self.place_kind.unwrap_or(PlaceKind::Shelter),
            place: self.place.trim().to_owned(),
            reason: self.reason.trim().to_owned(),
            guardian_consent: self.guardian_consent,
            hearing,
            warrant: None,
            extensions: Vec::new(),
            notices: Vec::new(),
            ended: None,
            hearing_due,
        })
    }

    /// Whether `p` is what this start recorded (a start sent again after a lost answer).
    #[must_use]
    pub fn started(&self, p: &Protection) -> bool {
        p.started_at == self.started_at && Some(p.place_kind) == self.place_kind
    }
}

/// The legal steps of a protection after its start, one command each.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum ProtectionStep {
    /// 意見聴取等措置, when it was not recorded with the start.
    Hearing(NewHearing),
    /// 一時保護状の請求 (no consent: within 7 days of the start).
    WarrantRequest { at: Timestamp },
    /// The judge's decision on the warrant.
    WarrantDecision { at: Timestamp, outcome: WarrantOutcome },
    /// 準抗告 after a refusal (within 3 days).
    Challenge { at: Timestamp },
    /// An extension past the current period, to `last_day` (at most two months more).
    Extension {
        at: Timestamp,
        last_day: Date,
        #[serde(default)]
        guardian_consent: bool,
        /// The family court petition, when the guardian does not consent.
        #[serde(default)]
        petitioned_on: Option<Date>,
    },
    /// The family court petition for the latest extension, filed after it was recorded.
    CourtPetition { petitioned_on: Date },
    /// 家庭裁判所の承認 of the latest extension.
    CourtApproval { approved_on: Date },
    /// 通知書 to the guardian.
    Notice { kind: NoticeKind, at: Timestamp },
    /// 一時保護の解除, with its reason.
    End {
        at: Timestamp,
        #[serde(default)]
        reason: String,
    },
}

/// Which step, without its content: what a page offers a form for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepKind {
    Hearing,
    WarrantRequest,
    WarrantDecision,
    Challenge,
    Extension,
    CourtPetition,
    CourtApproval,
    Notice,
    End,
}

impl StepKind {
    pub const ALL: [StepKind; 9] = [
        StepKind::Hearing,
        StepKind::WarrantRequest,
        StepKind::WarrantDecision,
        StepKind::Challenge,
        StepKind::Extension,
        StepKind::CourtPetition,
        StepKind::CourtApproval,
        StepKind::Notice,
        StepKind::End,
    ];

    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            StepKind::Hearing => "hearing",
            StepKind::WarrantRequest => "warrant_request",
            StepKind::WarrantDecision => "warrant_decision",
            StepKind::Challenge => "challenge",
            StepKind::Extension => "extension",
            StepKind::CourtPetition => "court_petition",
            StepKind::CourtApproval => "court_approval",
            StepKind::Notice => "notice",
            StepKind::End => "end",
        }
    }

    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

impl ProtectionStep {
    #[must_use]
    pub fn kind(&self) -> StepKind {
        match self {
            ProtectionStep::Hearing(_) => StepKind::Hearing,
            ProtectionStep::WarrantRequest { .. } => StepKind::WarrantRequest,
            ProtectionStep::WarrantDecision { .. } => StepKind::WarrantDecision,
            ProtectionStep::Challenge { .. } => StepKind::Challenge,
            ProtectionStep::Extension { .. } => StepKind::Extension,
            ProtectionStep::CourtPetition { .. } => StepKind::CourtPetition,
            ProtectionStep::CourtApproval { .. } => StepKind::CourtApproval,
            ProtectionStep::Notice { .. } => StepKind::Notice,
            ProtectionStep::End { .. } => StepKind::End,
        }
    }
}

/// What applying a step did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Applied {
    Recorded,
    /// The step was recorded before (sent again after its answer was lost): nothing changed.
    AlreadyRecorded,
}

/// Why `kind` is not open on `p`.
fn refused(p: &Protection, kind: StepKind) -> Error {
    if !p.is_active() && kind != StepKind::Notice {
        return Error::invalid("step", Why::ProtectionEnded);
    }
    let (field, rule) = match kind {
        StepKind::Hearing => ("hearing", StepRule::HearingRecorded),
        StepKind::WarrantRequest => ("warrant", StepRule::WarrantOnce),
        StepKind::WarrantDecision => ("warrant", StepRule::NoWarrantWaiting),
        StepKind::Challenge => ("warrant", StepRule::ChallengeOnce),
        StepKind::CourtPetition => ("court", StepRule::NoPetitionToRecord),
        StepKind::CourtApproval => ("court", StepRule::NoPetitionWaiting),
        // Open whenever the protection is in force.
        StepKind::Extension | StepKind::Notice | StepKind::End => ("step", StepRule::NotNow),
    };
    Error::invalid(field, Why::StepNotOpen(rule))
}

impl Protection {
    /// The steps that can be recorded now. An ended protection takes only notices.
    #[must_use]
    pub fn open_steps(&self) -> Vec<StepKind> {
        let w = self.warrant.as_ref();
        let latest_court = self.extensions.last().map(|e| (e.guardian_consent, e.court.as_ref()));
        let active = self.is_active();
        let open = |kind| match kind {
            StepKind::Hearing => self.hearing.is_none(),
            StepKind::WarrantRequest => !self.guardian_consent && w.is_none(),
            StepKind::WarrantDecision => w.is_some_and(|w| w.outcome.is_none()),
            StepKind::Challenge => w.is_some_and(|w| {
                w.outcome == Some(WarrantOutcome::Refused) && w.challenge_filed_at.is_none()
            }),
            StepKind::Extension | StepKind::End => true,
            StepKind::CourtPetition => matches!(latest_court, Some((false, None))),
            StepKind::CourtApproval => {
                matches!(latest_court, Some((_, Some(c))) if c.approved_on.is_none())
            }
            StepKind::Notice => return true,
        } && active;
        StepKind::ALL.into_iter().filter(|k| open(*k)).collect()
    }

    /// Records `step`, taken by `by` at `now`, checking it against the law's order: only an
    /// open step is recorded, and a step already recorded (the same content again) changes
    /// nothing.
    pub fn apply(&mut self, step: ProtectionStep, by: StaffId, now: Timestamp) -> Result<Applied, Error> {
        if self.already_has(&step) {
            return Ok(Applied::AlreadyRecorded);
        }
        let kind = step.kind();
        if !self.open_steps().contains(&kind) {
            return Err(refused(self, kind));
        }
        match step {
            ProtectionStep::Hearing(h) => {
                let h = h.heard_by(by)?;
                not_future("at", h.at, now)?;
                self.hearing = Some(h);
            }
            ProtectionStep::WarrantRequest { at } => {
                self.check_at(at, now)?;
                self.warrant = Some(Warrant {
                    requested_at: at,
                    decided_at: None,
                    outcome: None,
                    challenge_filed_at: None,
                });
            }
            ProtectionStep::WarrantDecision { at, outcome } => {
                self.check_at(at, now)?;
                let w = self
                    .warrant
                    .as_mut()
                    .ok_or_else(|| Error::invalid("step", Why::StepNotOpen(StepRule::NotNow)))?;
                if at < w.requested_at {
                    return Err(Error::invalid("at", Why::Before(Point::WarrantRequest)));
                }
                w.decided_at = Some(at);
                w.outcome = Some(outcome);
            }
            ProtectionStep::Challenge { at } => {
                self.check_at(at, now)?;
                let w = self
                    .warrant
                    .as_mut()
                    .ok_or_else(|| Error::invalid("step", Why::StepNotOpen(StepRule::NotNow)))?;
                if w.decided_at.is_some_and(|d| at < d) {
                    return Err(Error::invalid("at", Why::Before(Point::Refusal)));
                }
                w.challenge_filed_at = Some(at);
            }
            ProtectionStep::Extension { at, last_day, guardian_consent, petitioned_on } => {
                self.check_at(at, now)?;
                let until = last_day.plus_days(1);
                let previous = self.period_end();
                if until <= previous || until > previous.legal_period_end(2) {
                    return Err(Error::invalid("extensions", Why::ExtensionPeriod));
                }
                let court = petitioned_on.map(|d| CourtApproval { petitioned_on: d, approved_on: None });
                self.extensions.push(Extension { decided_at: at, until, guardian_consent, court });
            }
            ProtectionStep::CourtPetition { petitioned_on } => {
                let e = self
                    .extensions
                    .last_mut()
                    .ok_or_else(|| Error::invalid("step", Why::StepNotOpen(StepRule::NotNow)))?;
                e.court = Some(CourtApproval { petitioned_on, approved_on: None });
            }
            ProtectionStep::CourtApproval { approved_on } => {
                let c = self
                    .extensions
                    .last_mut()
                    .and_then(|e| e.court.as_mut())
                    .ok_or_else(|| Error::invalid("step", Why::StepNotOpen(StepRule::NotNow)))?;
                if approved_on < c.petitioned_on {
                    return Err(Error::invalid("approved_on", Why::Before(Point::Petition)));
                }
                c.approved_on = Some(approved_on);
            }
            ProtectionStep::Notice { kind: notice, at } => {
                not_future("at", at, now)?;
                let about = match notice {
                    NoticeKind::Start => true,
                    NoticeKind::Extension => !self.extensions.is_empty(),
                    NoticeKind::End => self.ended.is_some(),
                };
                if !about {
                    return Err(Error::invalid("notice", Why::StepNotOpen(StepRule::NothingToNotice)));
                }
                self.notices.push(Notice { kind: notice, issued_at: at, pdf: None });
            }
            ProtectionStep::End { at, reason } => {
                let reason = reason.trim();
                Error::require(&[("reason", reason.is_empty())])?;
                self.check_at(at, now)?;
                self.ended = Some(ProtectionEnd { at, reason: reason.to_owned() });
            }
        }
        Ok(Applied::Recorded)
    }

    /// A step's time: not in the future, not before the start.
    fn check_at(&self, at: Timestamp, now: Timestamp) -> Result<(), Error> {
        not_future("at", at, now)?;
        if at < self.started_at {
            return Err(Error::invalid("at", Why::Before(Point::Start)));
        }
        Ok(())
    }

    /// Whether `step`'s result is already on the record.
    fn already_has(&self, step: &ProtectionStep) -> bool {
        let w = self.warrant.as_ref();
        match step {
            ProtectionStep::Hearing(h) => self.hearing.as_ref().is_some_and(|was| {
                was.at == h.at
                    && was.method == h.method
                    && was.views == h.views
                    && was.not_possible_reason.as_deref().unwrap_or("")
                        == h.not_possible_reason.as_deref().map_or("", str::trim)
            }),
            ProtectionStep::WarrantRequest { at } => w.is_some_and(|w| w.requested_at == *at),
            ProtectionStep::WarrantDecision { at, outcome } => {
                w.is_some_and(|w| w.decided_at == Some(*at) && w.outcome == Some(*outcome))
            }
            ProtectionStep::Challenge { at } => w.is_some_and(|w| w.challenge_filed_at == Some(*at)),
            ProtectionStep::Extension { at, last_day, guardian_consent, .. } => {
                self.extensions.last().is_some_and(|e| {
                    e.decided_at == *at
                        && e.until == last_day.plus_days(1)
                        && e.guardian_consent == *guardian_consent
                })
            }
            ProtectionStep::CourtPetition { petitioned_on } => self
                .extensions
                .last()
                .and_then(|e| e.court.as_ref())
                .is_some_and(|c| c.petitioned_on == *petitioned_on),
            ProtectionStep::CourtApproval { approved_on } => self
                .extensions
                .last()
                .and_then(|e| e.court.as_ref())
                .is_some_and(|c| c.approved_on == Some(*approved_on)),
            ProtectionStep::Notice { kind, at } => {
                self.notices.last().is_some_and(|n| n.kind == *kind && n.issued_at == *at)
            }
            ProtectionStep::End { at, reason } => {
                self.ended.as_ref().is_some_and(|e| e.at == *at && e.reason == reason.trim())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Timestamp {
        Timestamp::parse(s).unwrap()
    }

    fn d(s: &str) -> Date {
        Date::parse_iso(s).unwrap()
    }

    const BY: StaffId = StaffId(7);

    fn start(consent: bool) -> StartProtection {
        StartProtection {
            started_at: t("2025-06-02T10:00"),
            place_kind: Some(PlaceKind::Shelter),
            place: "一時保護所".into(),
            reason: "顔にあざ".into(),
            guardian_consent: consent,
            hearing: None,
            hearing_after_urgency: true,
        }
    }

    fn started(consent: bool) -> Protection {
        start(consent).start(CaseId(1), ChildId(2), BY, t("2025-06-02T10:00"), 3).unwrap()
    }

    fn now() -> Timestamp {
        t("2025-07-30T12:00")
    }

    /// One example of each step, valid wherever it is open.
    fn example(kind: StepKind) -> ProtectionStep {
        let at = t("2025-06-05T09:00");
        match kind {
            StepKind::Hearing => ProtectionStep::Hearing(NewHearing {
                at,
                method: "面接".into(),
                views: "帰りたくない".into(),
                not_possible_reason: None,
            }),
            StepKind::WarrantRequest => ProtectionStep::WarrantRequest { at },
            StepKind::WarrantDecision => ProtectionStep::WarrantDecision {
                at: t("2025-06-06T09:00"),
                outcome: WarrantOutcome::Refused,
            },
            StepKind::Challenge => ProtectionStep::Challenge { at: t("2025-06-07T09:00") },
            StepKind::Extension => ProtectionStep::Extension {
                at: t("2025-07-25T10:00"),
                last_day: d("2025-09-30"),
                guardian_consent: false,
                petitioned_on: None,
            },
            StepKind::CourtPetition => ProtectionStep::CourtPetition { petitioned_on: d("2025-07-26") },
            StepKind::CourtApproval => ProtectionStep::CourtApproval { approved_on: d("2025-07-29") },
            StepKind::Notice => ProtectionStep::Notice { kind: NoticeKind::Start, at },
            StepKind::End => ProtectionStep::End { at: t("2025-07-30T09:00"), reason: "家庭復帰".into() },
        }
    }

    fn after(mut p: Protection, steps: &[StepKind]) -> Protection {
        for k in steps {
            p.apply(example(*k), BY, now()).unwrap();
        }
        p
    }

    #[test]
    fn a_step_is_recorded_exactly_when_it_is_open() {
        use StepKind as S;
        // (state, the steps open in it)
        let states = [
            (started(false), vec![S::Hearing, S::WarrantRequest, S::Extension, S::Notice, S::End]),
            (started(true), vec![S::Hearing, S::Extension, S::Notice, S::End]),
            (
                after(started(false), &[S::WarrantRequest]),
                vec![S::Hearing, S::WarrantDecision, S::Extension, S::Notice, S::End],
            ),
            (
                after(started(false), &[S::WarrantRequest, S::WarrantDecision]),
                vec![S::Hearing, S::Challenge, S::Extension, S::Notice, S::End],
            ),
            (
                after(started(false), &[S::Hearing, S::Extension]),
                vec![S::WarrantRequest, S::Extension, S::CourtPetition, S::Notice, S::End],
            ),
            (
                after(started(false), &[S::Hearing, S::Extension, S::CourtPetition]),
                vec![S::WarrantRequest, S::Extension, S::CourtApproval, S::Notice, S::End],
            ),
            (after(started(false), &[S::End]), vec![S::Notice]),
        ];
        for (n, (p, open)) in states.iter().enumerate() {
            assert_eq!(&p.open_steps(), open, "state {n}");
            for kind in StepKind::ALL {
                let mut q = p.clone();
                let r = q.apply(example(kind), BY, now());
                // A second extension from this state would overlap the first: content, not order.
                let overlapping = kind == S::Extension && !p.extensions.is_empty();
                if open.contains(&kind) && !overlapping {
                    assert!(r.is_ok(), "state {n}: {kind:?} is open but refused: {r:?}");
                } else if !open.contains(&kind) {
                    assert!(
                        matches!(r, Ok(Applied::AlreadyRecorded) | Err(Error::Invalid { .. })),
                        "state {n}: {kind:?} is not open but {r:?}"
                    );
                    assert!(r.is_err() || q == *p, "state {n}: {kind:?} changed a closed state");
                }
            }
        }
    }

    #[test]
    fn ending_needs_a_reason_and_a_step_sent_again_changes_nothing() {
        let mut p = started(false);
        let empty = ProtectionStep::End { at: t("2025-07-30T09:00"), reason: "  ".into() };
        assert!(
            matches!(p.apply(empty, BY, now()), Err(Error::Incomplete { fields }) if fields == ["reason"])
        );
        assert!(p.is_active(), "nothing changed");
        assert_eq!(p.apply(example(StepKind::End), BY, now()).unwrap(), Applied::Recorded);
        assert_eq!(p.apply(example(StepKind::End), BY, now()).unwrap(), Applied::AlreadyRecorded);
        let other = ProtectionStep::End { at: t("2025-07-30T09:00"), reason: "施設入所".into() };
        assert!(p.apply(other, BY, now()).is_err(), "a different end of an ended protection");
        // After the end, a missing hearing is refused as "ended", not as "already recorded".
        let late = p.apply(example(StepKind::Hearing), BY, now());
        assert!(matches!(late, Err(Error::Invalid { field: "step", .. })), "{late:?}");
        // The whole record sent back with an empty reason is held to the same rule.
        let mut whole = started(false);
        whole.ended = Some(ProtectionEnd { at: t("2025-07-30T09:00"), reason: String::new() });
        let steps = started(false).steps_to(&whole).unwrap();
        let mut q = started(false);
        let r: Result<Vec<Applied>, Error> = steps.into_iter().map(|s| q.apply(s, BY, now())).collect();
        assert!(matches!(r, Err(Error::Incomplete { .. })), "{r:?}");
    }

    #[test]
    fn steps_keep_the_law_s_times() {
        let p = started(false);
        let future = ProtectionStep::WarrantRequest { at: now().plus(3600) };
        assert!(p.clone().apply(future, BY, now()).is_err());
        let before_start = ProtectionStep::WarrantRequest { at: t("2025-06-01T10:00") };
        assert!(p.clone().apply(before_start, BY, now()).is_err());
        let p = after(p, &[StepKind::WarrantRequest]);
        let decided_first =
            ProtectionStep::WarrantDecision { at: t("2025-06-04T10:00"), outcome: WarrantOutcome::Issued };
        assert!(p.clone().apply(decided_first, BY, now()).is_err());
        // An extension runs on from the period before it, by at most two months.
        for (last_day, ok) in
            [("2025-08-01", false), ("2025-08-02", true), ("2025-10-01", true), ("2025-10-02", false)]
        {
            let e = ProtectionStep::Extension {
                at: t("2025-07-25T10:00"),
                last_day: d(last_day),
                guardian_consent: true,
                petitioned_on: None,
            };
            assert_eq!(p.clone().apply(e, BY, now()).is_ok(), ok, "{last_day}");
        }
    }

    #[test]
    fn a_start_names_every_missing_field_and_dates_the_hearing_from_the_table() {
        let empty = StartProtection {
            started_at: t("2025-06-02T10:00"),
            place_kind: None,
            place: " ".into(),
            reason: String::new(),
            guardian_consent: false,
            hearing: None,
            hearing_after_urgency: false,
        };
        let r = empty.start(CaseId(1), ChildId(2), BY, now(), 3);
        assert!(
            matches!(&r, Err(Error::Incomplete { fields }) if *fields == ["place_kind", "place", "reason", "hearing"]),
            "{r:?}"
        );
        // In urgency the hearing is due at the end of the third day counting the start day.
        let p = started(false);
        assert_eq!(p.hearing_due, Some(t("2025-06-05T00:00")));
        // Heard with the start: nothing is due, and the hearing is checked.
        let mut heard = start(false);
        heard.hearing = match example(StepKind::Hearing) {
            ProtectionStep::Hearing(h) => Some(NewHearing { at: t("2025-06-02T09:00"), ..h }),
            _ => None,
        };
        let p = heard.clone().start(CaseId(1), ChildId(2), BY, now(), 3).unwrap();
        assert_eq!((p.hearing_due, p.hearing.map(|h| h.by)), (None, Some(BY)));
        heard.hearing = Some(NewHearing {
            at: t("2025-06-02T09:00"),
            method: String::new(),
            views: String::new(),
            not_possible_reason: None,
        });
        assert!(heard.start(CaseId(1), ChildId(2), BY, now(), 3).is_err(), "a hearing says something");
    }

    #[test]
    fn a_whole_record_becomes_its_later_steps_and_nothing_else() {
        let p = started(false);
        let target = after(
            p.clone(),
            &[
                StepKind::Hearing,
                StepKind::WarrantRequest,
                StepKind::WarrantDecision,
                StepKind::Extension,
                StepKind::CourtPetition,
            ],
        );
        let mut replayed = p.clone();
        for s in p.steps_to(&target).unwrap() {
            replayed.apply(s, BY, now()).unwrap();
        }
        assert_eq!(replayed, target);
        assert!(target.steps_to(&target).unwrap().is_empty());
        // A changed start, a removed step, a resumed protection: refused.
        let moved = Protection { reason: "別の理由".into(), ..target.clone() };
        assert!(target.steps_to(&moved).is_err());
        let removed = Protection { warrant: None, ..target.clone() };
        assert!(target.steps_to(&removed).is_err());
        let ended = after(target.clone(), &[StepKind::End]);
        assert!(ended.steps_to(&target).is_err());
    }
}
