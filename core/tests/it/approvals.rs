//! 決裁: assessments, support decisions and 終結伺い wait for a supervisor's or the head's
//! sign-off, shown on the case and the board; nobody signs off their own; every decision is
//! audited; a changed decision goes back to the approver.

use std::collections::BTreeMap;

use mamoru_core::case::{ApprovalState, CaseStatus, Decide, StatusChange, Subject, SupportDecision, Verdict};
use mamoru_core::code_table::Code;
use mamoru_core::deadline::{ClockKind, ClockStatus};
use mamoru_core::error::Why;
use mamoru_core::ids::{AssessmentId, CaseId, SupportId};
use mamoru_core::staff::{Action, Role};
use mamoru_core::store::Reader;
use mamoru_core::{Actor, Error};

use crate::support::{World, t0, urgent_start, world};

fn approve() -> Decide {
    Decide { verdict: Verdict::Approved, comment: String::new() }
}

fn send_back(comment: &str) -> Decide {
    Decide { verdict: Verdict::Returned, comment: comment.into() }
}

fn answers() -> BTreeMap<String, bool> {
    ["q1", "q2", "q3", "q4", "q5", "q6", "q7"].iter().map(|q| ((*q).to_owned(), false)).collect()
}

/// The 決裁待ち clock of `case` on the unit's board, if any.
fn waiting(w: &World, sv: &Actor, case: CaseId) -> Option<(ClockStatus, mamoru_core::time::Timestamp)> {
    w.svc
        .board(sv, w.u1, None)
        .unwrap()
        .into_iter()
        .find(|b| b.deadline.case == case && b.deadline.kind == ClockKind::Approval)
        .map(|b| (b.status, b.deadline.due))
}

fn newest_entry(w: &World) -> mamoru_core::audit::AuditEntry {
    w.svc.store().read().unwrap().last_audit().unwrap().unwrap()
}

fn invalid(e: &Error) -> Option<(&'static str, &Why)> {
    match e {
        Error::Invalid { field, reason } => Some((*field, reason)),
        _ => None,
    }
}

#[test]
fn an_assessment_waits_on_the_board_until_someone_else_approves_it() {
    let w = world();
    let cw = w.staff("cw", Role::Caseworker, w.u1);
    let sv = w.staff("sv", Role::Supervisor, w.u1);
    let head = w.staff("head", Role::Head, w.u1);
    let child = w.child(&cw, "架空", "一郎", "かくう", "いちろう", "2016-04-01");
    let case = CaseId(w.case(&cw, child, mamoru_core::case::IntakeKind::Consultation, t0()).id);
    assert_eq!(waiting(&w, &sv, case), None);

    let a = w.svc.record_assessment(&cw, case, "protection_decision", answers()).unwrap();
    let approval = a.body.approval.clone().unwrap();
    assert_eq!((approval.state(), approval.asked_by), (ApprovalState::Pending, cw.staff()));
    // On the board from the first minute, due a week later.
    assert_eq!(waiting(&w, &sv, case), Some((ClockStatus::DueSoon, t0().plus(7 * 86_400))));
    w.clock.advance(8 * 86_400);
    assert_eq!(waiting(&w, &sv, case).map(|c| c.0), Some(ClockStatus::Overdue));
    // The case view says who may decide it.
    assert!(!w.svc.case(&cw, case).unwrap().may(Action::Approve));
    assert!(w.svc.case(&sv, case).unwrap().may(Action::Approve));

    // A caseworker may not approve; nor may the supervisor from a revision they did not read.
    let id = AssessmentId(a.id);
    let e = w.svc.decide_approval(&cw, case, Subject::Assessment(id), a.rev, &approve()).unwrap_err();
    assert_eq!(e.code(), "forbidden");
    assert_eq!(
        (newest_entry(&w).action.as_str(), newest_entry(&w).result.as_str()),
        ("approve", "forbidden")
    );
    let e = w.svc.decide_approval(&sv, case, Subject::Assessment(id), a.rev - 1, &approve()).unwrap_err();
    assert_eq!(e.code(), "conflict");
    // Another case's assessment, named through this case: not found.
    let other = CaseId(w.case(&cw, child, mamoru_core::case::IntakeKind::Consultation, t0()).id);
    let e = w.svc.decide_approval(&sv, other, Subject::Assessment(id), a.rev, &approve()).unwrap_err();
    assert_eq!(e.code(), "not_found");

    let done = w.svc.decide_approval(&sv, case, Subject::Assessment(id), a.rev, &approve()).unwrap();
    assert_eq!((done.state, done.rev), (ApprovalState::Approved, a.rev + 1));
    let entry = newest_entry(&w);
    assert_eq!(
        (entry.action.as_str(), entry.kind.as_deref(), entry.record, entry.result.as_str()),
        ("approve", Some("assessment"), Some(a.id), "ok")
    );
    assert_eq!(waiting(&w, &sv, case), None, "off the board once decided");
    let stored = &w.svc.case(&cw, case).unwrap().assessments[0];
    let decision = stored.body.approval.as_ref().unwrap().decision.clone().unwrap();
    assert_eq!((decision.by, decision.at, decision.verdict), (sv.staff(), w.svc.now(), Verdict::Approved));
    // Sent again after a lost answer: the same revision. Decided otherwise: refused.
    let again = w.svc.decide_approval(&sv, case, Subject::Assessment(id), a.rev, &approve()).unwrap();
    assert_eq!(again.rev, done.rev);
    let e = w
        .svc
        .decide_approval(&head, case, Subject::Assessment(id), done.rev, &send_back("再考"))
        .unwrap_err();
    assert_eq!(invalid(&e), Some(("approval", &Why::Decided)));

    // The supervisor's own assessment: not theirs to approve; the head's.
    let own = w.svc.record_assessment(&sv, case, "protection_decision", answers()).unwrap();
    let own_id = Subject::Assessment(AssessmentId(own.id));
    let e = w.svc.decide_approval(&sv, case, own_id, own.rev, &approve()).unwrap_err();
    assert_eq!(invalid(&e), Some(("approval", &Why::OwnRequest)));
    assert_eq!(newest_entry(&w).result, "invalid", "a refused decision is audited too");
    assert!(w.svc.decide_approval(&head, case, own_id, own.rev, &approve()).is_ok());
}

#[test]
fn a_support_decision_sent_back_or_changed_goes_back_to_the_approver() {
    let w = world();
    let cw = w.staff("cw", Role::Caseworker, w.u1);
    let sv = w.staff("sv", Role::Supervisor, w.u1);
    let child = w.child(&cw, "架空", "二郎", "かくう", "じろう", "2014-02-02");
    let case = CaseId(w.case(&cw, child, mamoru_core::case::IntakeKind::Consultation, t0()).id);
    let today = t0().jst_date();
    let mut d = SupportDecision {
        kind: Some(Code::new("12")),
        decided_on: Some(today),
        start: Some(today),
        ..SupportDecision::default()
    };
    let s = w.svc.record_support_once(&cw, case, d.clone(), Some("k1")).unwrap();
    assert!(s.body.approval.as_ref().unwrap().is_pending());
    // The same decision sent again with its key, a moment later: the one recorded.
    w.clock.advance(60);
    assert_eq!(w.svc.record_support_once(&cw, case, d.clone(), Some("k1")).unwrap().id, s.id);
    let id = Subject::Support(SupportId(s.id));

    // Sending back says why.
    let e = w.svc.decide_approval(&sv, case, id, s.rev, &send_back(" ")).unwrap_err();
    assert!(matches!(&e, Error::Incomplete { fields } if *fields == ["comment"]), "{e}");
    let back = w.svc.decide_approval(&sv, case, id, s.rev, &send_back("開始日を確認してください")).unwrap();
    assert_eq!(back.state, ApprovalState::Returned);
    assert_eq!(waiting(&w, &sv, case), None, "sent back: the worker's, not the board's");

    // Answered with a note only: waiting again, asked by whoever answered, the 差戻し kept.
    d.note = "開始日は保護者と確認済み".into();
    let fixed = w.svc.revise_support(&cw, case, SupportId(s.id), back.rev, d.clone()).unwrap();
    let asked = fixed.body.approval.clone().unwrap();
    assert_eq!((asked.state(), asked.asked_at), (ApprovalState::Pending, w.svc.now()));
    assert_eq!(asked.earlier[0].comment, "開始日を確認してください");
    assert!(waiting(&w, &sv, case).is_some());
    // Changed once more after the supervisor read it: their approval is a conflict.
    d.note = "家庭訪問の予定".into();
    let noted = w.svc.revise_support(&cw, case, SupportId(s.id), fixed.rev, d.clone()).unwrap();
    let e = w.svc.decide_approval(&sv, case, id, fixed.rev, &approve()).unwrap_err();
    assert_eq!(e.code(), "conflict");
    let ok = w.svc.decide_approval(&sv, case, id, noted.rev, &approve()).unwrap();
    assert_eq!(ok.state, ApprovalState::Approved);

    // A review date recorded on the approved decision keeps its approval; another kind does not.
    d.review_on = Some(today.plus_days(90));
    let reviewed = w.svc.revise_support(&cw, case, SupportId(s.id), ok.rev, d.clone()).unwrap();
    assert_eq!(reviewed.body.approval.as_ref().unwrap().state(), ApprovalState::Approved);
    d.kind = Some(Code::new("13"));
    let other = w.svc.revise_support(&cw, case, SupportId(s.id), reviewed.rev, d.clone()).unwrap();
    assert_eq!(other.body.approval.as_ref().unwrap().state(), ApprovalState::Pending);
    // The supervisor changes the waiting decision: now theirs, so not theirs to approve.
    d.facility = "架空市子ども家庭支援センター".into();
    let sv_changed = w.svc.revise_support(&sv, case, SupportId(s.id), other.rev, d).unwrap();
    let e = w.svc.decide_approval(&sv, case, id, sv_changed.rev, &approve()).unwrap_err();
    assert_eq!(invalid(&e), Some(("approval", &Why::OwnRequest)));
    let head = w.staff("head", Role::Head, w.u1);
    assert!(w.svc.decide_approval(&head, case, id, sv_changed.rev, &approve()).is_ok());
}

#[test]
fn a_closure_asked_for_closes_the_case_when_approved() {
    let w = world();
    let cw = w.staff("cw", Role::Caseworker, w.u1);
    let sv = w.staff("sv", Role::Supervisor, w.u1);
    let psy = w.staff("psy", Role::Psychologist, w.u1);
    let child = w.child(&cw, "架空", "三郎", "かくう", "さぶろう", "2013-03-03");
    let case = CaseId(w.case(&cw, child, mamoru_core::case::IntakeKind::Consultation, t0()).id);
    let rev = |w: &World| w.svc.case(&cw, case).unwrap().case.rev;

    assert!(w.svc.case(&cw, case).unwrap().may(Action::AskClosure));
    assert_eq!(w.svc.ask_closure(&psy, case, rev(&w), "助言で終了").unwrap_err().code(), "forbidden");
    // A supervisor closes directly; they do not ask.
    assert_eq!(w.svc.ask_closure(&sv, case, rev(&w), "助言で終了").unwrap_err().code(), "forbidden");
    let e = w.svc.ask_closure(&cw, case, rev(&w), "  ").unwrap_err();
    assert!(matches!(&e, Error::Incomplete { fields } if *fields == ["reason"]), "{e}");
    // Nobody asked: nothing to approve.
    let e = w.svc.decide_approval(&sv, case, Subject::Closure, rev(&w), &approve()).unwrap_err();
    assert_eq!(invalid(&e), Some(("approval", &Why::NothingAsked)));

    let r0 = rev(&w);
    let asked = w.svc.ask_closure(&cw, case, r0, "助言指導により終了").unwrap();
    assert_eq!((asked.state, asked.status), (ApprovalState::Pending, CaseStatus::Open));
    assert_eq!(newest_entry(&w).action, "ask_closure");
    // Sent again: the same revision; another reason while it waits: refused.
    assert_eq!(w.svc.ask_closure(&cw, case, r0, "助言指導により終了").unwrap().rev, asked.rev);
    let e = w.svc.ask_closure(&cw, case, asked.rev, "転居").unwrap_err();
    assert_eq!(invalid(&e), Some(("approval", &Why::Pending)));
    assert!(waiting(&w, &sv, case).is_some());
    // An edit of the case sent with a forged request changes nothing of it.
    let view = w.svc.case(&cw, case).unwrap();
    let mut forged = view.case.body.clone();
    forged.closure_request = None;
    forged.worker_opinion = "見守り".into();
    let edited = w.svc.update_case(&cw, case, view.case.rev, forged).unwrap();
    assert!(edited.case.body.closure_request.as_ref().unwrap().approval.is_pending());

    let back = w
        .svc
        .decide_approval(&sv, case, Subject::Closure, edited.case.rev, &send_back("学校に確認"))
        .unwrap();
    assert_eq!((back.state, back.status), (ApprovalState::Returned, CaseStatus::Open));
    assert_eq!(waiting(&w, &sv, case), None);
    let again = w.svc.ask_closure(&cw, case, back.rev, "学校に確認済み。助言指導により終了").unwrap();
    assert_eq!(again.state, ApprovalState::Pending);
    let request = w.svc.case(&cw, case).unwrap().case.body.closure_request.unwrap();
    assert_eq!(request.approval.earlier[0].comment, "学校に確認", "the 差戻し stays readable");

    let closed = w.svc.decide_approval(&sv, case, Subject::Closure, again.rev, &approve()).unwrap();
    assert_eq!((closed.state, closed.status), (ApprovalState::Approved, CaseStatus::Closed));
    let body = w.svc.case(&cw, case).unwrap().case.body;
    let c = body.closure.unwrap();
    assert_eq!(
        (c.by, c.asked_by, c.reason.as_str()),
        (sv.staff(), Some(cw.staff()), "学校に確認済み。助言指導により終了")
    );
    assert_eq!(body.closure_request, None);
    assert_eq!(waiting(&w, &sv, case), None);
    // The approval sent again after a lost answer: nothing more.
    let resent = w.svc.decide_approval(&sv, case, Subject::Closure, again.rev, &approve()).unwrap();
    assert_eq!((resent.rev, resent.status), (closed.rev, CaseStatus::Closed));
    // The worker's request sent again after its answer was lost: what became of it.
    let asked_again = w.svc.ask_closure(&cw, case, back.rev, "学校に確認済み。助言指導により終了").unwrap();
    assert_eq!((asked_again.rev, asked_again.state), (closed.rev, ApprovalState::Approved));
    assert_eq!(w.svc.ask_closure(&cw, case, closed.rev, "再").unwrap_err().code(), "invalid");
}

#[test]
fn no_closure_while_the_child_is_protected_and_a_direct_close_settles_a_request() {
    let w = world();
    let cw = w.staff("cw", Role::Caseworker, w.u1);
    let sv = w.staff("sv", Role::Supervisor, w.u1);
    let child = w.child(&cw, "架空", "四郎", "かくう", "しろう", "2012-04-04");
    let case = CaseId(w.case(&cw, child, mamoru_core::case::IntakeKind::AbuseReport, t0()).id);
    let rev = |w: &World| w.svc.case(&cw, case).unwrap().case.rev;
    let asked = w.svc.ask_closure(&cw, case, rev(&w), "家庭復帰").unwrap();
    w.svc.start_protection(&cw, case, urgent_start(t0(), true)).unwrap();
    let e = w.svc.decide_approval(&sv, case, Subject::Closure, asked.rev, &approve()).unwrap_err();
    assert_eq!(invalid(&e), Some(("protection", &Why::ProtectionInForce)));
    let back = w.svc.decide_approval(&sv, case, Subject::Closure, asked.rev, &send_back("保護中")).unwrap();
    let e = w.svc.ask_closure(&cw, case, back.rev, "家庭復帰").unwrap_err();
    assert_eq!(invalid(&e), Some(("protection", &Why::ProtectionInForce)));

    // Without a protection: the supervisor closes directly, and the waiting request is settled.
    let other = CaseId(w.case(&cw, child, mamoru_core::case::IntakeKind::Consultation, t0()).id);
    let r = w.svc.case(&cw, other).unwrap().case.rev;
    let asked = w.svc.ask_closure(&cw, other, r, "終了").unwrap();
    let close = StatusChange::Close { reason: "助言指導".into() };
    let closed = w.svc.change_case_status(&sv, other, asked.rev, &close).unwrap();
    assert_eq!((closed.body.closure_request.as_ref(), closed.body.closure.unwrap().asked_by), (None, None));
    assert_eq!(waiting(&w, &sv, other), None);
}

#[test]
fn what_waits_stays_on_the_board_after_the_case_closes_and_off_the_workers_lists() {
    let w = world();
    let cw = w.staff("cw", Role::Caseworker, w.u1);
    let sv = w.staff("sv", Role::Supervisor, w.u1);
    let child = w.child(&cw, "架空", "五郎", "かくう", "ごろう", "2011-05-05");
    let case = CaseId(w.case(&cw, child, mamoru_core::case::IntakeKind::Consultation, t0()).id);
    let to = mamoru_core::case::Assign { main: Some(cw.staff()), ..Default::default() };
    w.svc.assign_case(&sv, case, w.svc.case(&cw, case).unwrap().case.rev, &to).unwrap();
    w.svc.record_assessment(&cw, case, "protection_decision", answers()).unwrap();
    // Overdue for the supervisor, not for the worker: their list and load say nothing of it.
    w.clock.advance(8 * 86_400);
    assert_eq!(waiting(&w, &sv, case).map(|c| c.0), Some(ClockStatus::Overdue));
    let mine = w.svc.my_caseload(&cw).unwrap();
    assert!(mine.items.iter().all(|i| i.next.is_none()), "{:?}", mine.items);
    let loads = w.svc.caseloads(&sv, None).unwrap();
    assert_eq!(loads.workers.iter().find(|l| l.staff == cw.staff()).unwrap().overdue, 0);
    assert!(w.svc.board(&sv, w.u1, Some(cw.staff())).unwrap().is_empty(), "not on the worker's board");
    // Closed directly meanwhile: the assessment still waits, and still shows.
    let close = StatusChange::Close { reason: "助言指導".into() };
    w.svc.change_case_status(&sv, case, w.svc.case(&cw, case).unwrap().case.rev, &close).unwrap();
    assert!(waiting(&w, &sv, case).is_some());
    assert!(w.svc.case(&sv, case).unwrap().may(Action::Approve));
}
