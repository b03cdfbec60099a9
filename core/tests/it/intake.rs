//! 新規受付: an intake about a child on file or a new one, in one transaction, sent again safely.

use mamoru_core::case::{IntakeKind, NewAbuse, Reporter};
use mamoru_core::code_table::Code;
use mamoru_core::deadline::ClockKind;
use mamoru_core::service::{IntakeChild, IntakeOutcome, NewCase};
use mamoru_core::staff::Role;

use crate::support::{bare_child, intake, t0, world};

fn opened(
    outcome: mamoru_core::Result<IntakeOutcome>,
) -> mamoru_core::store::Versioned<mamoru_core::case::Case> {
    match outcome.unwrap() {
        IntakeOutcome::Opened(case) => *case,
        IntakeOutcome::PossibleDuplicates(found) => panic!("asked about {found:?}"),
    }
}

#[test]
fn an_intake_registers_a_new_child_with_its_case_or_neither_and_a_resend_opens_nothing_more() {
    let w = world();
    let cw = w.staff("cw", Role::Caseworker, w.u1);
    let new_case = |kind| NewCase {
        unit: w.u1,
        intake: intake(kind, t0()),
        abuse: NewAbuse::default(),
        reporter: None,
        assigned: vec![cw.staff()],
    };
    let child = || IntakeChild::New(Box::new(bare_child(w.u1, "架空", "花子", "かくう")));
    let children = || w.svc.search(&cw, "かくう", 10).unwrap().len();

    // A refused case (an unknown route code) leaves no child behind.
    let mut bad = new_case(IntakeKind::AbuseReport);
    bad.intake.route = Code::new("zz");
    assert!(w.svc.take_intake(&cw, child(), bad, Some("draft-1"), true).is_err());
    assert_eq!(children(), 0);

    // An abuse report about a new child: both stored, the 48-hour clock running.
    let case =
        opened(w.svc.take_intake(&cw, child(), new_case(IntakeKind::AbuseReport), Some("draft-2"), false));
    assert_eq!(children(), 1);
    let view = w.svc.case(&cw, case.id.into()).unwrap();
    assert!(view.clocks.iter().any(|c| c.deadline.kind == ClockKind::SafetyCheck48h), "{:?}", view.clocks);

    // The tablet sends the same draft again (its answer was lost): the same case, no new child.
    let again =
        opened(w.svc.take_intake(&cw, child(), new_case(IntakeKind::AbuseReport), Some("draft-2"), false));
    assert_eq!(again.id, case.id);
    assert_eq!(children(), 1);
    // The same key with another intake is refused rather than answered with that case.
    let mut other = new_case(IntakeKind::AbuseReport);
    other.intake.content = "別の内容".into();
    assert_eq!(w.svc.take_intake(&cw, child(), other, Some("draft-2"), true).unwrap_err().code(), "invalid");

    // A later consultation about the same child, chosen at the duplicate check: linked to the first.
    let existing = IntakeChild::Existing(case.body.child, Vec::new());
    let second = opened(w.svc.take_intake(&cw, existing, new_case(IntakeKind::Consultation), None, false));
    assert_eq!(second.body.child, case.body.child);
    assert_eq!(second.body.linked_cases, vec![mamoru_core::ids::CaseId(case.id)]);
    assert_eq!(children(), 1);

    // A psychologist does not take intakes: refused, and no child registered.
    let psy = w.staff("psy", Role::Psychologist, w.u1);
    let refused =
        w.svc.take_intake(&psy, child(), new_case(IntakeKind::Consultation), None, true).unwrap_err();
    assert_eq!(refused.code(), "forbidden");
    assert_eq!(children(), 1);
    // Nor is the intake page theirs; a caseworker's lists their own unit and the chosen child.
    assert_eq!(w.svc.intake_page(&psy, None).unwrap_err().code(), "forbidden");
    let page = w.svc.intake_page(&cw, Some(case.body.child)).unwrap();
    assert_eq!(page.units.iter().map(|(u, _)| *u).collect::<Vec<_>>(), [w.u1]);
    assert_eq!(page.child.map(|c| c.id), Some(case.body.child));
    assert!(page.may_be_assigned && page.code_tables.iter().any(|t| t.body.key == "route"));
}

#[test]
fn an_anonymous_reporter_keeps_no_name_or_phone_over_any_front_end() {
    let w = world();
    let cw = w.staff("cw", Role::Caseworker, w.u1);
    let reporter = Reporter {
        anonymous: true,
        name: "架空 一郎".into(),
        relation: "近隣住民".into(),
        phone: "000-0000-0000".into(),
        note: String::new(),
    };
    let new = NewCase {
        unit: w.u1,
        intake: intake(IntakeKind::AbuseReport, t0()),
        abuse: NewAbuse { types: vec![Code::new("1")], ..NewAbuse::default() },
        reporter: Some(reporter),
        assigned: vec![],
    };
    let case = opened(w.svc.take_intake(
        &cw,
        IntakeChild::New(Box::new(bare_child(w.u1, "架空", "花子", "かくう"))),
        new,
        None,
        true,
    ));
    let kept = w.svc.reporter(&cw, case.id.into()).unwrap().unwrap();
    assert!(kept.anonymous && kept.name.is_empty() && kept.phone.is_empty(), "{kept:?}");
    assert_eq!(kept.relation, "近隣住民");
    assert_eq!(case.body.abuse.unwrap().main_type, Some(Code::new("1")));
}

#[test]
fn the_intake_and_the_duplicate_check_name_the_childs_open_cases_and_not_the_closed_ones() {
    use mamoru_core::case::StatusChange;
    use mamoru_core::ids::CaseId;
    use mamoru_core::service::CaseRef;
    use mamoru_core::time::Date;
    let w = world();
    let cw = w.staff("cw", Role::Caseworker, w.u1);
    let sv = w.staff("sv", Role::Supervisor, w.u1);
    let child = w.child(&cw, "伊藤", "律", "いとう", "りつ", "2017-07-12");
    let closed = w.case(&cw, child, IntakeKind::Consultation, t0());
    let close = StatusChange::Close { reason: "助言指導で終結".into() };
    w.svc.change_case_status(&sv, CaseId(closed.id), closed.rev, &close).unwrap();
    let open = w.case(&cw, child, IntakeKind::AbuseReport, t0());

    let expected = vec![CaseRef { id: CaseId(open.id), case_no: open.body.case_no.clone() }];
    let page = w.svc.intake_page(&cw, Some(child)).unwrap();
    assert_eq!(page.child.unwrap().open_cases, Some(expected.clone()));
    // The same child found by the duplicate check, its birth date typed with two digits swapped.
    let found =
        w.svc.duplicate_candidates(&cw, Date::parse_iso("2017-07-21").unwrap(), "いとう りつ").unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].open_cases, Some(expected));
    // A search does not look them up, and says nothing rather than "none".
    assert_eq!(w.svc.search(&cw, "いとう", 10).unwrap()[0].open_cases, None);
    // Without a birth date the furigana finds the child, with the same open cases.
    let new = NewCase {
        unit: w.u1,
        intake: intake(IntakeKind::AbuseReport, t0()),
        abuse: NewAbuse::default(),
        reporter: None,
        assigned: vec![],
    };
    let no_birth = IntakeChild::New(Box::new(bare_child(w.u1, "伊藤", "律", "いとう")));
    match w.svc.take_intake(&cw, no_birth, new, None, false).unwrap() {
        IntakeOutcome::PossibleDuplicates(found) => {
            assert_eq!(found.iter().map(|c| c.id).collect::<Vec<_>>(), [child]);
            assert_eq!(found[0].open_cases.as_ref().map(Vec::len), Some(1));
        }
        IntakeOutcome::Opened(case) => panic!("opened {}", case.body.case_no),
    }
}
