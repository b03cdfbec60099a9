//! 担当: the supervisor assigns and reassigns a case's 主担当 and 副担当 (kept on the case), a
//! worker lists their open cases with the next deadline and the last contact, the supervisor
//! sees each worker's load and the cases nobody works; the index behind it survives a store
//! written without it.

use mamoru_core::case::{Assign, CaseEdit, IntakeKind, NewNote, StatusChange};
use mamoru_core::code_table::Code;
use mamoru_core::error::Why;
use mamoru_core::ids::{CaseId, StaffId};
use mamoru_core::staff::Role;
use mamoru_core::store::{Reader, Store};
use mamoru_core::time::FixedClock;
use mamoru_core::{Actor, Error, Service};

use mamoru_core::case::NewAbuse;
use mamoru_core::service::NewCase;
use mamoru_core::staff::StaffChange;

use crate::support::{World, intake, t0, world};

struct Centre {
    w: World,
    sv: Actor,
    cw1: Actor,
    cw2: Actor,
    psy: Actor,
    /// An abuse report nobody works yet.
    report: CaseId,
    /// A consultation cw1 took in as their own (「自分が担当」).
    consult: CaseId,
}

fn assign(main: &Actor, subs: &[&Actor], reason: &str) -> Assign {
    Assign { main: Some(main.staff()), subs: subs.iter().map(|a| a.staff()).collect(), reason: reason.into() }
}

fn rev(w: &World, case: CaseId) -> u64 {
    w.svc.store().read().unwrap().get::<mamoru_core::case::Case>(case).unwrap().unwrap().rev
}

fn centre() -> Centre {
    let w = world();
    let sv = w.staff("sv", Role::Supervisor, w.u1);
    let cw1 = w.staff("cw1", Role::Caseworker, w.u1);
    let cw2 = w.staff("cw2", Role::Caseworker, w.u1);
    let psy = w.staff("psy", Role::Psychologist, w.u1);
    let hanako = w.child(&cw1, "架空", "花子", "かくう", "はなこ", "2018-05-01");
    let taro = w.child(&cw1, "仮名", "太郎", "かめい", "たろう", "2016-01-10");
    let report = CaseId(w.case(&cw1, hanako, IntakeKind::AbuseReport, t0()).id);
    let own = NewCase {
        unit: w.u1,
        intake: intake(IntakeKind::Consultation, t0()),
        abuse: NewAbuse::default(),
        reporter: None,
        assigned: vec![cw1.staff()],
    };
    // Naming someone else at intake is the supervisor's; oneself, anyone's who works cases.
    let others = NewCase { assigned: vec![cw2.staff()], ..own.clone() };
    assert_eq!(w.svc.open_case(&cw1, taro, others).unwrap_err().code(), "forbidden");
    let consult = w.svc.open_case(&cw1, taro, own).unwrap();
    let first = &consult.body.assignments[0];
    assert_eq!((first.by, first.assigned.as_slice(), first.at), (cw1.staff(), &[cw1.staff()][..], t0()));
    let consult = CaseId(consult.id);
    Centre { w, sv, cw1, cw2, psy, report, consult }
}

#[test]
fn the_supervisor_assigns_a_main_and_a_sub_worker_and_the_change_is_kept() {
    let c = centre();
    let loads = c.w.svc.caseloads(&c.sv, None).unwrap();
    assert_eq!(loads.unassigned.iter().map(|i| i.case).collect::<Vec<_>>(), [c.report], "担当未定");
    let cw1 = loads.workers.iter().find(|l| l.staff == c.cw1.staff()).unwrap();
    assert_eq!((cw1.main, cw1.sub), (1, 0));
    assert!(loads.workers.iter().all(|l| l.staff != c.psy.staff()), "a psychologist is not assigned cases");

    // A caseworker does not reassign.
    let err =
        c.w.svc.assign_case(&c.cw1, c.report, rev(&c.w, c.report), &assign(&c.cw1, &[], "")).unwrap_err();
    assert_eq!(err.code(), "forbidden");

    c.w.clock.advance(3600);
    let v =
        c.w.svc
            .assign_case(&c.sv, c.report, rev(&c.w, c.report), &assign(&c.cw1, &[&c.cw2], " 受理会議 "))
            .unwrap();
    assert_eq!(v.body.main_worker(), Some(c.cw1.staff()));
    assert_eq!(v.body.sub_workers(), [c.cw2.staff()]);
    let change = v.body.assignments.last().unwrap();
    assert_eq!((change.by, change.at, change.reason.as_str()), (c.sv.staff(), t0().plus(3600), "受理会議"));
    // The same workers again change nothing.
    let again = c.w.svc.assign_case(&c.sv, c.report, v.rev, &assign(&c.cw1, &[&c.cw2], "")).unwrap();
    assert_eq!((again.rev, again.body.assignments.len()), (v.rev, 1));

    // The sub becomes the main: a second change, the first still there.
    let v = c.w.svc.assign_case(&c.sv, c.report, v.rev, &assign(&c.cw2, &[&c.cw1], "負担の調整")).unwrap();
    assert_eq!(v.body.assigned, [c.cw2.staff(), c.cw1.staff()]);
    assert_eq!(v.body.assignments.len(), 2);

    let loads = c.w.svc.caseloads(&c.sv, None).unwrap();
    assert!(loads.unassigned.is_empty());
    let load = |s: StaffId| loads.workers.iter().find(|l| l.staff == s).map(|l| (l.main, l.sub)).unwrap();
    assert_eq!(load(c.cw1.staff()), (1, 1));
    assert_eq!(load(c.cw2.staff()), (1, 0));
    // 副担当 named again in another order: no change, no history entry.
    let same = c.w.svc.assign_case(&c.sv, c.report, v.rev, &assign(&c.cw2, &[&c.cw1, &c.cw1], "")).unwrap();
    assert_eq!(same.rev, v.rev);
    // The 48-hour clock is on its workers' boards, and leaves the board of one taken off it.
    let on_board = |w: &Actor| {
        c.w.svc.board(&c.sv, c.w.u1, Some(w.staff())).unwrap().iter().any(|b| b.deadline.case == c.report)
    };
    assert!(on_board(&c.cw1) && on_board(&c.cw2));
    c.w.svc.assign_case(&c.sv, c.report, v.rev, &assign(&c.cw2, &[], "")).unwrap();
    assert!(on_board(&c.cw2) && !on_board(&c.cw1));
    assert!(c.w.svc.my_caseload(&c.cw1).unwrap().items.iter().all(|i| i.case != c.report));
}

#[test]
fn workers_are_checked_in_core() {
    let c = centre();
    let other_unit = c.w.staff("cw-city", Role::Caseworker, c.w.u2);
    let r = rev(&c.w, c.report);
    let refused = |a: Assign| c.w.svc.assign_case(&c.sv, c.report, r, &a).unwrap_err();
    assert!(matches!(
        refused(assign(&c.psy, &[], "")),
        Error::Invalid { field: "assigned", reason: Why::NotAWorker(_) }
    ));
    assert!(matches!(
        refused(assign(&c.cw1, &[&other_unit], "")),
        Error::Invalid { field: "assigned", reason: Why::NotInUnit(_) }
    ));
    let subs_only = Assign { main: None, subs: vec![c.cw1.staff()], reason: String::new() };
    assert!(matches!(refused(subs_only), Error::Invalid { field: "main", reason: Why::Required }));
    assert_eq!(rev(&c.w, c.report), r, "nothing written");

    // A closed case keeps its workers.
    let closed =
        c.w.svc
            .change_case_status(
                &c.sv,
                c.consult,
                rev(&c.w, c.consult),
                &StatusChange::Close { reason: "終結".into() },
            )
            .unwrap();
    let err = c.w.svc.assign_case(&c.sv, c.consult, closed.rev, &assign(&c.cw2, &[], "")).unwrap_err();
    assert!(matches!(err, Error::Invalid { field: "status", reason: Why::CaseClosed }), "{err}");
    // And leaves the worker's list.
    assert!(c.w.svc.my_caseload(&c.cw1).unwrap().items.is_empty());
}

#[test]
fn a_reassignment_merges_with_an_edit_but_not_with_another_reassignment() {
    let c = centre();
    let seen = rev(&c.w, c.report);
    // A caseworker's edit meanwhile: merged; the edit form cannot change the workers.
    let mut edit = CaseEdit::of(&c.w.svc.case(&c.cw1, c.report).unwrap().case.body);
    edit.worker_opinion = "継続して見守る".into();
    c.w.svc.edit_case(&c.cw1, c.report, seen, &edit).unwrap();
    let v = c.w.svc.assign_case(&c.sv, c.report, seen, &assign(&c.cw1, &[], "")).unwrap();
    assert_eq!(
        (v.body.worker_opinion.as_str(), v.body.assigned.as_slice()),
        ("継続して見守る", &[c.cw1.staff()][..])
    );
    // A second supervisor working from before that: a conflict, nothing written.
    let sv2 = c.w.staff("sv2", Role::Head, c.w.u1);
    let err = c.w.svc.assign_case(&sv2, c.report, seen, &assign(&c.cw2, &[], "")).unwrap_err();
    assert_eq!(err.code(), "conflict");

    // The whole record sent back (the API's PUT) with other workers: the supervisor's to make,
    // kept in the history like any other.
    let mut body = v.body.clone();
    body.assigned = vec![c.cw2.staff()];
    let err = c.w.svc.update_case(&c.cw1, c.report, v.rev, body.clone()).unwrap_err();
    assert_eq!(err.code(), "forbidden");
    let saved = c.w.svc.update_case(&c.sv, c.report, v.rev, body).unwrap().case;
    assert_eq!(saved.body.assigned, [c.cw2.staff()]);
    assert_eq!(saved.body.assignments.last().unwrap().assigned, [c.cw2.staff()]);
    assert_eq!(saved.body.assignments.len(), 2);
}

#[test]
fn a_workers_list_holds_the_next_deadline_and_the_last_contact() {
    let c = centre();
    c.w.svc.assign_case(&c.sv, c.report, rev(&c.w, c.report), &assign(&c.cw2, &[&c.cw1], "")).unwrap();
    let note = |kind: &str, hours: i64| NewNote {
        at: t0().plus(hours * 3600),
        kind: Code::new(kind),
        body: "記録".into(),
        photos: vec![],
    };
    c.w.clock.advance(5 * 3600);
    c.w.svc.add_note(&c.cw1, c.consult, note("1", 2)).unwrap();
    // A call to a school is no contact with the family.
    c.w.svc.add_note(&c.cw1, c.consult, note("4", 4)).unwrap();

    let list = c.w.svc.my_caseload(&c.cw1).unwrap();
    let cases: Vec<(CaseId, bool)> = list.items.iter().map(|i| (i.case, i.main)).collect();
    // The 48-hour safety check first: what harms a child first.
    assert_eq!(cases, [(c.report, false), (c.consult, true)]);
    let report = &list.items[0];
    assert_eq!(report.next.as_ref().unwrap().label, "安全確認（48時間）", "{:?}", report.next);
    assert_eq!(report.worker_names, ["cw2", "cw1"]);
    assert_eq!(report.child_name.as_deref(), Some("架空 花子"));
    assert!(report.last_contact.is_none());
    let contact = list.items[1].last_contact.as_ref().unwrap();
    assert_eq!((contact.at, contact.what.as_str()), (t0().plus(2 * 3600), "家庭訪問"));

    // The supervisor opens cw1's list; a caseworker may not open another's.
    let theirs = c.w.svc.worker_caseload(&c.sv, c.cw1.staff()).unwrap();
    assert_eq!(theirs.items.len(), 2);
    assert!(theirs.may_assign);
    // Reading it is audited, naming the worker whose list it is.
    let newest_entry = || c.w.svc.store().read().unwrap().last_audit().unwrap().unwrap();
    let entry = newest_entry();
    assert_eq!(
        (entry.action.as_str(), entry.record, entry.result.as_str()),
        ("assign_cases", Some(c.cw1.staff().0), "ok")
    );
    assert_eq!(c.w.svc.worker_caseload(&c.cw2, c.cw1.staff()).unwrap_err().code(), "forbidden");
    assert_ne!(newest_entry().result, "ok", "the refusal is audited too");
    // A 30-day-quiet case counts on the load page.
    c.w.clock.advance(40 * 86_400);
    let loads = c.w.svc.caseloads(&c.sv, None).unwrap();
    let cw1 = loads.workers.iter().find(|l| l.staff == c.cw1.staff()).unwrap();
    assert_eq!((cw1.quiet, cw1.overdue), (2, 1), "{cw1:?}");
}

#[test]
fn a_case_whose_worker_has_left_is_unassigned_and_still_edited() {
    let c = centre();
    let v =
        c.w.svc.assign_case(&c.sv, c.report, rev(&c.w, c.report), &assign(&c.cw2, &[&c.cw1], "")).unwrap();
    // cw2 is taken off work (利用停止).
    c.w.svc.change_staff(&c.w.admin, "cw2", &StaffChange::Disable).unwrap();
    let loads = c.w.svc.caseloads(&c.sv, None).unwrap();
    assert_eq!(loads.unassigned.iter().map(|i| i.case).collect::<Vec<_>>(), [c.report], "担当未定");
    assert!(loads.workers.iter().all(|l| l.staff != c.cw2.staff()));
    // The investigation is still saved (the workers unchanged are not checked again).
    let mut edit = CaseEdit::of(&v.body);
    edit.judgement = "在宅指導".into();
    c.w.svc.edit_case(&c.cw1, c.report, v.rev, &edit).unwrap();
    // Reassigning to the departed worker is refused; to an active one, done.
    let r = rev(&c.w, c.report);
    let err = c.w.svc.assign_case(&c.sv, c.report, r, &assign(&c.cw2, &[&c.cw1], "")).unwrap_err();
    assert!(matches!(err, Error::Invalid { field: "assigned", reason: Why::NotInUnit(_) }), "{err}");
    c.w.svc.assign_case(&c.sv, c.report, r, &assign(&c.cw1, &[], "異動")).unwrap();
    assert!(c.w.svc.caseloads(&c.sv, None).unwrap().unassigned.is_empty());
    // A supervisor of another unit opens no list of this unit's worker.
    let city_sv = c.w.staff("city-sv", Role::Supervisor, c.w.u2);
    assert_eq!(c.w.svc.worker_caseload(&city_sv, c.cw1.staff()).unwrap_err().code(), "forbidden");
    assert_eq!(c.w.svc.worker_caseload(&city_sv, StaffId(9999)).unwrap_err().code(), "forbidden");
}

/// Takes the caseload index away, as in a store written before it existed (`marker`: `None`
/// takes the marker too, `Some(0)` leaves the index behind at the first change), and reopens.
fn reopen_without_index(w: World, marker: Option<u64>) -> (tempfile::TempDir, Service) {
    let dir = w.dir;
    drop(w.svc);
    {
        let db = redb::Database::open(dir.path().join(mamoru_core::store::FILE_NAME)).unwrap();
        let tx = db.begin_write().unwrap();
        tx.delete_table(redb::TableDefinition::<(&str, u64, u64), ()>::new("caseloads")).unwrap();
        {
            let mut indexed = tx.open_table(redb::TableDefinition::<&str, u64>::new("indexed")).unwrap();
            match marker {
                None => drop(indexed.remove("caseloads").unwrap()),
                Some(m) => drop(indexed.insert("caseloads", m).unwrap()),
            }
        }
        tx.commit().unwrap();
    }
    let store = Store::open(dir.path()).unwrap();
    (dir, Service::new(store, std::sync::Arc::new(FixedClock::new(t0().plus(86_400)))))
}

#[test]
fn a_store_without_the_index_is_indexed_at_open_from_its_cases_or_its_changes() {
    for marker in [None, Some(0)] {
        let c = centre();
        c.w.svc.assign_case(&c.sv, c.report, rev(&c.w, c.report), &assign(&c.cw2, &[&c.cw1], "")).unwrap();
        let cases = |svc: &Service, a: &Actor| {
            let mut v: Vec<CaseId> = svc.my_caseload(a).unwrap().items.iter().map(|i| i.case).collect();
            v.sort();
            v
        };
        let want = (cases(&c.w.svc, &c.cw1), cases(&c.w.svc, &c.cw2));
        assert_eq!(want.0.len(), 2);
        let (cw1, cw2) = (c.cw1.clone(), c.cw2.clone());
        let (_dir, svc) = reopen_without_index(c.w, marker);
        assert_eq!((cases(&svc, &cw1), cases(&svc, &cw2)), want, "{marker:?}");
    }
}
