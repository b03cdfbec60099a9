//! Legal clocks with a fixed clock: the 48-hour safety check, the 7-day warrant request, the
//! 2-month limit and extensions, the warrant-refusal challenge, the child's hearing, and the board.

use mamoru_core::Actor;
use mamoru_core::case::StatusChange;
use mamoru_core::case::{Assign, Hearing, IntakeKind, NewSafetyCheck, SafetyMethod};
use mamoru_core::deadline::{ClockKind, ClockStatus};
use mamoru_core::ids::{CaseId, ProtectionId};
use mamoru_core::protection::{ProtectionStep, Warrant, WarrantOutcome};
use mamoru_core::service::BoardItem;
use mamoru_core::staff::Role;
use mamoru_core::store::Reader;
use mamoru_core::time::{DAY, Date, HOUR, Timestamp};

use crate::support::{World, t0, urgent_start, world};

fn at(s: &str) -> Timestamp {
    Timestamp::parse(s).unwrap()
}

fn kinds(items: &[BoardItem]) -> Vec<(ClockKind, ClockStatus)> {
    let mut v: Vec<_> = items.iter().map(|i| (i.deadline.kind, i.status)).collect();
    v.sort();
    v
}

fn board(w: &World, actor: &Actor) -> Vec<(ClockKind, ClockStatus)> {
    kinds(&w.svc.board(actor, w.u1, None).unwrap())
}

fn case_clocks(w: &World, actor: &Actor, case: CaseId) -> Vec<(ClockKind, ClockStatus, Timestamp)> {
    let mut v: Vec<_> = w
        .svc
        .case(actor, case)
        .unwrap()
        .clocks
        .into_iter()
        .map(|c| (c.deadline.kind, c.status, c.deadline.due))
        .collect();
    v.sort_by_key(|c| (c.0, c.2));
    v
}

fn check(at: Timestamp, seen: bool) -> NewSafetyCheck {
    NewSafetyCheck {
        at: Some(at),
        method: Some(if seen { SafetyMethod::Sighted } else { SafetyMethod::Interview }),
        seen_directly: seen,
        child_state: if seen { "外傷なし" } else { "電話で母と話した。本人には会えず" }.into(),
        ..NewSafetyCheck::default()
    }
}

#[test]
fn the_48_hour_safety_check_counts_down_and_closes_when_the_child_is_seen() {
    let w = world();
    let cw = w.staff("cw", Role::Caseworker, w.u1);
    let child = w.child(&cw, "佐藤", "蓮", "さとう", "れん", "2019-01-01");
    let case = CaseId(w.case(&cw, child, IntakeKind::AbuseReport, t0()).id);
    let consult_child = w.child(&cw, "鈴木", "杏", "すずき", "あん", "2018-01-01");
    w.case(&cw, consult_child, IntakeKind::Consultation, t0());

    let due = t0().plus(48 * HOUR);
    assert_eq!(case_clocks(&w, &cw, case), vec![(ClockKind::SafetyCheck48h, ClockStatus::DueSoon, due)]);
    // On the board from the intake's first minute, counting down.
    assert_eq!(board(&w, &cw), vec![(ClockKind::SafetyCheck48h, ClockStatus::DueSoon)]);
    w.clock.set(due.plus(-12 * HOUR));
    assert_eq!(board(&w, &cw), vec![(ClockKind::SafetyCheck48h, ClockStatus::DueSoon)]);
    w.clock.set(due);
    assert_eq!(board(&w, &cw), vec![(ClockKind::SafetyCheck48h, ClockStatus::Overdue)]);

    // A check that did not see the child keeps the clock running; seeing the child closes it.
    w.svc.record_safety_check(&cw, case, check(due, false)).unwrap();
    assert_eq!(board(&w, &cw), vec![(ClockKind::SafetyCheck48h, ClockStatus::Overdue)]);
    w.svc.record_safety_check(&cw, case, check(due, true)).unwrap();
    assert!(board(&w, &cw).is_empty());
    assert!(case_clocks(&w, &cw, case).is_empty());
}

#[test]
fn protection_without_consent_runs_the_warrant_limit_and_hearing_clocks() {
    let w = world();
    let cw = w.staff("cw", Role::Caseworker, w.u1);
    let child = w.child(&cw, "高橋", "湊", "たかはし", "みなと", "2014-03-03");
    let case = CaseId(w.case(&cw, child, IntakeKind::Consultation, t0()).id);
    // Started Monday 2025-06-02 10:00 JST without the guardian's consent, in urgency: the
    // child's hearing follows.
    let p = w.svc.start_protection(&cw, case, urgent_start(t0(), false)).unwrap();
    let pid = ProtectionId(p.id);
    let clocks = case_clocks(&w, &cw, case);
    assert_eq!(
        clocks,
        vec![
            // Seven days counting the first: the request is due by the end of 6/8.
            // Counting down from the first minute.
            (ClockKind::WarrantRequest7d, ClockStatus::DueSoon, at("2025-06-09T00:00:00+09:00")),
            // Two months counting the first day: the period ends at the end of 8/1.
            (ClockKind::ProtectionLimit, ClockStatus::Ok, at("2025-08-02T00:00:00+09:00")),
            // Heard afterwards: within the seeded 3 days counting the start day (6/2–6/4), so
            // not overdue from the first second.
            (ClockKind::ChildHearing, ClockStatus::Ok, at("2025-06-05T00:00:00+09:00")),
        ]
    );
    w.clock.set(at("2025-06-07T00:00:00+09:00"));
    assert!(board(&w, &cw).contains(&(ClockKind::WarrantRequest7d, ClockStatus::DueSoon)));
    assert!(board(&w, &cw).contains(&(ClockKind::ChildHearing, ClockStatus::Overdue)));
    w.clock.set(at("2025-06-09T00:00:00+09:00"));
    assert!(board(&w, &cw).contains(&(ClockKind::WarrantRequest7d, ClockStatus::Overdue)));

    // The hearing and the warrant request close their clocks; a refusal starts the 3-day one.
    // (Sent whole, as an API client may: core turns it into the steps it adds.)
    let mut body = p.body.clone();
    body.hearing = Some(Hearing {
        at: t0(),
        by: cw.staff(),
        method: "面接".into(),
        views: "家に帰りたくない".into(),
        not_possible_reason: None,
    });
    body.warrant = Some(Warrant {
        requested_at: at("2025-06-05T09:00:00+09:00"),
        decided_at: Some(at("2025-06-06T15:00:00+09:00")),
        outcome: Some(WarrantOutcome::Refused),
        challenge_filed_at: None,
    });
    let p = w.svc.update_protection(&cw, case, pid, p.rev, body.into()).unwrap();
    let kinds_now: Vec<ClockKind> = case_clocks(&w, &cw, case).iter().map(|c| c.0).collect();
    assert_eq!(kinds_now, vec![ClockKind::WarrantChallenge3d, ClockKind::ProtectionLimit]);
    assert_eq!(case_clocks(&w, &cw, case)[0].2, at("2025-06-09T00:00:00+09:00"));

    // Challenge filed; later an extension to 10/1 without consent and without a court petition.
    let step = |rev, s| w.svc.record_protection_step(&cw, case, pid, rev, s);
    let p = step(p.rev, ProtectionStep::Challenge { at: at("2025-06-07T10:00:00+09:00") }).unwrap();
    w.clock.set(at("2025-07-25T12:00:00+09:00"));
    let extension = |day: &str, consent| ProtectionStep::Extension {
        at: at("2025-07-25T10:00:00+09:00"),
        last_day: Date::parse_iso(day).unwrap(),
        guardian_consent: consent,
        petitioned_on: None,
    };
    let p = step(p.rev, extension("2025-10-01", false)).unwrap();
    assert_eq!(
        case_clocks(&w, &cw, case),
        vec![
            (ClockKind::ProtectionLimit, ClockStatus::Ok, at("2025-10-02T00:00:00+09:00")),
            // Extending past two months against the guardian's will needs the family court.
            (ClockKind::CourtApproval, ClockStatus::Ok, at("2025-08-02T00:00:00+09:00")),
        ]
    );
    let petition = ProtectionStep::CourtPetition { petitioned_on: Date::parse_iso("2025-07-20").unwrap() };
    let p = step(p.rev, petition).unwrap();
    assert_eq!(
        case_clocks(&w, &cw, case).iter().map(|c| c.0).collect::<Vec<_>>(),
        vec![ClockKind::ProtectionLimit]
    );

    // An extension must move the end later, and by at most two months.
    assert!(step(p.rev, extension("2025-08-31", true)).is_err());
    assert!(step(p.rev, extension("2026-01-04", true)).is_err());

    // Ending the protection ends its clocks; then the case can close, and has none.
    w.clock.set(at("2025-09-01T12:00:00+09:00"));
    let end = ProtectionStep::End { at: at("2025-09-01T10:00:00+09:00"), reason: "家庭復帰".into() };
    step(p.rev, end).unwrap();
    assert!(case_clocks(&w, &cw, case).is_empty());
}

#[test]
fn the_two_month_limit_follows_the_civil_code_at_month_ends() {
    let w = world();
    let cw = w.staff("cw", Role::Caseworker, w.u1);
    let child = w.child(&cw, "田中", "紬", "たなか", "つむぎ", "2012-02-02");
    w.clock.set(at("2025-01-10T00:00:00+09:00"));
    let case = CaseId(w.case(&cw, child, IntakeKind::Consultation, at("2024-12-31T08:00:00+09:00")).id);
    w.svc.start_protection(&cw, case, urgent_start(at("2024-12-31T09:00:00+09:00"), true)).unwrap();
    let limit = case_clocks(&w, &cw, case).into_iter().find(|c| c.0 == ClockKind::ProtectionLimit).unwrap();
    // 12/31 + 2 months has no 2/31: the period ends with the last day of February.
    assert_eq!(limit.2, at("2025-03-01T00:00:00+09:00"));
}

#[test]
fn the_board_hides_restricted_cases_and_closed_cases_have_no_clocks() {
    let w = world();
    let cw = w.staff("cw", Role::Caseworker, w.u1);
    let sv = w.staff("sv", Role::Supervisor, w.u1);
    let named = w.staff("named", Role::Caseworker, w.u1);
    let child = w.child(&cw, "伊藤", "律", "いとう", "りつ", "2017-07-07");
    let case = w.case(&cw, child, IntakeKind::AbuseReport, t0());
    w.clock.advance(47 * HOUR);
    assert_eq!(board(&w, &sv).len(), 1);
    let restricted = w.svc.restrict_case(&sv, CaseId(case.id), case.rev, Some(vec![named.staff()])).unwrap();
    assert!(board(&w, &cw).is_empty(), "restricted cases stay off other people's boards");
    assert_eq!(board(&w, &named).len(), 1);
    assert_eq!(board(&w, &sv).len(), 1, "the restricting supervisor stays on the list");

    // Worker scope: the assigned worker's own board.
    let to_named = Assign { main: Some(named.staff()), ..Assign::default() };
    let v = w.svc.assign_case(&sv, CaseId(case.id), restricted.rev, &to_named).unwrap();
    assert_eq!(w.svc.board(&named, w.u1, Some(named.staff())).unwrap().len(), 1);
    assert!(w.svc.board(&named, w.u1, Some(cw.staff())).unwrap().is_empty());

    w.svc.record_safety_check(&named, CaseId(case.id), check(t0().plus(DAY), true)).unwrap();
    w.svc
        .change_case_status(&sv, CaseId(case.id), v.rev, &StatusChange::Close { reason: "助言指導".into() })
        .unwrap();
    assert!(w.svc.store().read().unwrap().case_clocks(case.id).unwrap().is_empty());
}

#[test]
fn the_board_puts_what_harms_a_child_first_and_names_the_child_and_the_workers() {
    let w = world();
    let cw = w.staff("cw", Role::Caseworker, w.u1);
    // A protection without consent, started Monday 2025-06-02 10:00 in urgency: its hearing is
    // due 6/5, its warrant request by the end of 6/8.
    let held = w.child(&cw, "高橋", "湊", "たかはし", "みなと", "2014-03-03");
    let held_case = CaseId(w.case(&cw, held, IntakeKind::Consultation, t0()).id);
    w.svc.start_protection(&cw, held_case, urgent_start(t0(), false)).unwrap();
    // A report received 6/5 12:00: its 48 hours run to 6/7 12:00.
    w.clock.set(at("2025-06-05T12:00:00+09:00"));
    let reported = w.child(&cw, "伊藤", "律", "いとう", "りつ", "2017-07-07");
    let report = w.case(&cw, reported, IntakeKind::AbuseReport, at("2025-06-05T12:00:00+09:00"));
    let sv = w.staff("sv", Role::Supervisor, w.u1);
    let to_cw = Assign { main: Some(cw.staff()), ..Assign::default() };
    w.svc.assign_case(&sv, CaseId(report.id), report.rev, &to_cw).unwrap();

    w.clock.set(at("2025-06-06T00:00:00+09:00"));
    let items = w.svc.board(&cw, w.u1, None).unwrap();
    let order: Vec<_> = items.iter().map(|i| (i.deadline.kind, i.status)).collect();
    assert_eq!(
        order,
        vec![
            // The child's safety first, then the warrant, though the hearing is the one overdue.
            (ClockKind::SafetyCheck48h, ClockStatus::DueSoon),
            (ClockKind::WarrantRequest7d, ClockStatus::DueSoon),
            (ClockKind::ChildHearing, ClockStatus::Overdue),
        ]
    );
    assert_eq!(items[0].child_name.as_deref(), Some("伊藤 律"));
    assert_eq!(items[0].worker_names, vec!["cw".to_owned()]);
    assert_eq!(items[1].child_name.as_deref(), Some("高橋 湊"));
    assert!(items[1].worker_names.is_empty(), "nobody assigned yet, and the card says so");
    // A page of the board is its most urgent cards, named, with the count of all.
    let (page, total) = w.svc.board_page(&cw, w.u1, None, 2).unwrap();
    assert_eq!(total, 3);
    let first: Vec<_> = page.iter().map(|i| (i.deadline.kind, i.child_name.clone())).collect();
    let expected: Vec<_> = items[..2].iter().map(|i| (i.deadline.kind, i.child_name.clone())).collect();
    assert_eq!(first, expected);

    // A sibling case restricted to the supervisor restricts the child: the report's clock stays
    // on the caseworker's board, without the child's name.
    let other = w.case(&sv, reported, IntakeKind::Consultation, at("2025-06-05T12:00:00+09:00"));
    w.svc.restrict_case(&sv, CaseId(other.id), other.rev, Some(vec![sv.staff()])).unwrap();
    let cards = w.svc.board(&cw, w.u1, None).unwrap();
    assert_eq!(cards[0].deadline.case, CaseId(report.id));
    assert_eq!(cards[0].child_name, None, "a restricted child is not named to those outside the list");
    assert_eq!(w.svc.board(&sv, w.u1, None).unwrap()[0].child_name.as_deref(), Some("伊藤 律"));
}
