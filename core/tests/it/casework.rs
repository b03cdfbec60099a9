//! The casework on a case: support decisions with the child's hearing, meetings and assessments
//! sent again safely, and what the case view says its reader may do.

use mamoru_core::case::StatusChange;
use std::collections::BTreeMap;

use mamoru_core::case::{CaseEdit, IntakeKind, NewHearing, NewMeeting, SupportDecision};
use mamoru_core::code_table::Code;
use mamoru_core::error::{Point, Why};
use mamoru_core::ids::CaseId;
use mamoru_core::service::BoardFilter;
use mamoru_core::staff::{Action, Role};

use crate::support::{t0, urgent_start, world};

#[test]
fn support_meetings_and_assessments_are_checked_and_stored_once_per_key() {
    let w = world();
    let cw = w.staff("cw", Role::Caseworker, w.u1);
    let child = w.child(&cw, "架空", "花子", "かくう", "はなこ", "2018-05-01");
    let case = CaseId(w.case(&cw, child, IntakeKind::AbuseReport, t0()).id);
    let today = t0().jst_date();
    let placement = SupportDecision {
        kind: Some(Code::new("32")),
        decided_on: Some(today),
        start: Some(today.plus_days(3)),
        review_on: None,
        end: Some(today),
        facility: "架空学園".into(),
        hearing: None,
        notice_issued_on: None,
        note: String::new(),
    };
    // Ending before it starts, or a hearing that records nothing: refused.
    let err = w.svc.record_support_once(&cw, case, placement.clone(), Some("s1")).unwrap_err();
    assert!(
        matches!(err, mamoru_core::Error::Invalid { field: "end", reason: Why::Before(Point::Start) }),
        "{err}"
    );
    // Neither the kind nor the decision date is assumed: both named.
    let unnamed = SupportDecision { kind: None, decided_on: None, ..placement.clone() };
    let audited = w.svc.audit_len().unwrap();
    let err = w.svc.record_support_once(&cw, case, unnamed, Some("s1")).unwrap_err();
    assert_eq!(w.svc.audit_len().unwrap(), audited + 1, "a refused decision is audited too");
    assert!(
        matches!(&err, mamoru_core::Error::Incomplete { fields } if *fields == ["kind", "decided_on"]),
        "{err}"
    );
    let mut silent = placement.clone();
    silent.end = None;
    silent.hearing =
        Some(NewHearing { at: t0(), method: "面接".into(), views: " ".into(), not_possible_reason: None });
    assert!(w.svc.record_support_once(&cw, case, silent.clone(), Some("s1")).is_err());
    // Put right and sent twice with one key: one decision.
    silent.hearing = None;
    let first = w.svc.record_support_once(&cw, case, silent.clone(), Some("s1")).unwrap();
    let again = w.svc.record_support_once(&cw, case, silent.clone(), Some("s1")).unwrap();
    assert_eq!(first.id, again.id);
    assert_eq!(w.svc.case(&cw, case).unwrap().supports.len(), 1);
    // Revised with the child's hearing: heard by whoever records it, kept by whoever revises it
    // later without changing it.
    silent.hearing = Some(NewHearing {
        at: t0(),
        method: "面接".into(),
        views: "家に帰りたい".into(),
        not_possible_reason: None,
    });
    let sid = mamoru_core::ids::SupportId(first.id);
    let heard = w.svc.revise_support(&cw, case, sid, first.rev, silent.clone()).unwrap();
    assert_eq!(heard.body.hearing.as_ref().map(|h| h.by), Some(cw.staff()));
    let sv = w.staff("sv-support", Role::Supervisor, w.u1);
    silent.note = "見直し".into();
    let revised = w.svc.revise_support(&sv, case, sid, heard.rev, silent).unwrap();
    assert_eq!(revised.body.hearing.as_ref().map(|h| h.by), Some(cw.staff()), "the hearer stays");

    let meeting = NewMeeting {
        kind: Code::new("4"),
        at: t0(),
        attendees: vec![cw.staff()],
        outside_attendees: vec!["架空市子ども家庭課".into()],
        cases: vec![case],
        decisions: "施設入所の方向".into(),
    };
    let mut future = meeting.clone();
    future.at = t0().plus(86_400);
    assert!(w.svc.record_meeting_once(&cw, future, Some("m1")).is_err(), "not in the future");
    let m1 = w.svc.record_meeting_once(&cw, meeting.clone(), Some("m1")).unwrap();
    assert_eq!(w.svc.record_meeting_once(&cw, meeting, Some("m1")).unwrap().id, m1.id);
    assert_eq!(w.svc.case(&cw, case).unwrap().meetings.len(), 1);

    assert!(w.svc.case(&cw, case).unwrap().assessment_missing, "an abuse report without a sheet");
    let answers: BTreeMap<String, bool> = (1..=7).map(|i| (format!("q{i}"), i == 4 || i == 5)).collect();
    let a1 =
        w.svc.record_assessment_once(&cw, case, "protection_decision", answers.clone(), Some("a1")).unwrap();
    let a2 = w.svc.record_assessment_once(&cw, case, "protection_decision", answers, Some("a1")).unwrap();
    assert_eq!((a1.id, a1.body.result.as_str()), (a2.id, "protection"));
    let view = w.svc.case(&cw, case).unwrap();
    assert_eq!(view.assessments.len(), 1);
    assert!(!view.assessment_missing);
}

#[test]
fn the_case_view_says_what_its_reader_may_do_and_a_closed_case_may_be_reopened_or_restricted() {
    let w = world();
    let cw = w.staff("cw", Role::Caseworker, w.u1);
    let sv = w.staff("sv", Role::Supervisor, w.u1);
    let child = w.child(&cw, "架空", "花子", "かくう", "はなこ", "2018-05-01");
    let case = w.case(&cw, child, IntakeKind::Consultation, t0());
    let id = CaseId(case.id);
    let view = w.svc.case(&cw, id).unwrap();
    assert!(view.may(Action::EditCase) && view.may(Action::RecordSupport) && !view.may(Action::CloseCase));
    assert!(!view.may(Action::RestrictCase), "a caseworker does not restrict");
    assert!(w.svc.case(&sv, id).unwrap().may(Action::RestrictCase));
    w.svc
        .change_case_status(&sv, id, case.rev, &StatusChange::Close { reason: "助言指導で終結".into() })
        .unwrap();
    let closed = w.svc.case(&sv, id).unwrap();
    assert_eq!(
        closed.may,
        ["close_case", "approve", "restrict_case", "view_reporter"],
        "a closed case can only be reopened, or its reading restricted; its reporter still read, what \
         waits for 決裁 still decided"
    );
    assert_eq!(w.svc.case(&cw, id).unwrap().may, vec![Action::ViewReporter.as_str()]);
    let psychologist = w.staff("psy", Role::Psychologist, w.u1);
    assert!(w.svc.case(&psychologist, id).unwrap().may.is_empty(), "no reporter for a 心理司");
}

#[test]
fn the_board_lists_the_newest_messages_of_the_cases_its_reader_may_see() {
    let w = world();
    let cw = w.staff("cw", Role::Caseworker, w.u1);
    let sv = w.staff("sv", Role::Supervisor, w.u1);
    let a = w.child(&cw, "架空", "花子", "かくう", "はなこ", "2018-05-01");
    let b = w.child(&cw, "試験", "太郎", "しけん", "たろう", "2017-04-01");
    let open = w.case(&cw, a, IntakeKind::AbuseReport, t0());
    let hidden = w.case(&cw, b, IntakeKind::AbuseReport, t0());
    w.svc.post_message_once(&cw, CaseId(open.id), "玄関前です", None).unwrap();
    w.svc.post_message_once(&sv, CaseId(hidden.id), "制限中のケース", None).unwrap();
    w.svc.post_message_once(&sv, CaseId(open.id), "了解です", None).unwrap();
    let bodies = |actor, worker| {
        w.svc
            .recent_messages(actor, w.u1, worker, 7, 10)
            .unwrap()
            .into_iter()
            .map(|m| m.message.body.body)
            .collect::<Vec<_>>()
    };
    assert_eq!(bodies(&sv, None), ["了解です", "制限中のケース", "玄関前です"], "newest first");
    w.svc.restrict_case(&sv, CaseId(hidden.id), hidden.rev, Some(vec![sv.staff()])).unwrap();
    assert_eq!(bodies(&cw, None), ["了解です", "玄関前です"], "a restricted case's thread stays hidden");
    assert!(bodies(&cw, Some(cw.staff())).is_empty(), "no case is assigned to the caseworker");
    // The home page is that board, of the reader's unit, in one call; a day before the 48 hours
    // run out, their clocks are on it.
    w.clock.advance(47 * 3600);
    let home = w.svc.home(&sv, BoardFilter::default()).unwrap();
    assert_eq!((home.unit, home.mine), (w.u1, false));
    assert_eq!(home.messages.len(), 3);
    assert_eq!(home.clocks.len(), 2, "the two abuse reports' 48-hour clocks");
    let mine = w.svc.home(&cw, BoardFilter { mine: true, ..BoardFilter::default() }).unwrap();
    assert!(mine.messages.is_empty() && mine.clocks.is_empty(), "no case is assigned to the caseworker");
}

#[test]
fn two_edits_of_a_case_merge_field_by_field_and_only_a_field_both_changed_is_a_conflict() {
    use mamoru_core::Error;
    use mamoru_core::case::{Diagnosis, DiagnosisKind};

    let w = world();
    let cw = w.staff("cw", Role::Caseworker, w.u1);
    let sv = w.staff("sv", Role::Supervisor, w.u1);
    let child = w.child(&cw, "架空", "次郎", "かくう", "じろう", "2017-02-03");
    let case = CaseId(w.case(&cw, child, IntakeKind::AbuseReport, t0()).id);
    let base = w.svc.case(&cw, case).unwrap().case;

    // The supervisor writes the opinion first, on the edit form.
    let mut theirs = CaseEdit::of(&base.body);
    theirs.worker_opinion = "家庭訪問を継続".into();
    let saved = w.svc.edit_case(&sv, case, base.rev, &theirs).unwrap();
    assert!(!saved.merged, "nothing saved meanwhile");
    let saved = saved.case;

    // The caseworker, still on the base, sends the whole record back (the API) with the
    // judgement and a diagnosis signed as someone else: merged, the opinion kept, the diagnosis
    // signed by who saved it.
    let mut mine = base.body.clone();
    mine.judgement = "在宅指導".into();
    mine.diagnoses.push(Diagnosis {
        kind: DiagnosisKind::Social,
        at: mamoru_core::time::Timestamp(0),
        by: sv.staff(),
        text: "祖母の支援あり".into(),
    });
    let edited = w.svc.update_case(&cw, case, base.rev, mine.clone()).unwrap();
    assert!(edited.merged, "kept beside the edit saved meanwhile");
    let merged = edited.case;
    assert_eq!(merged.rev, saved.rev + 1);
    assert_eq!(merged.body.worker_opinion, "家庭訪問を継続");
    assert_eq!(merged.body.judgement, "在宅指導");
    let d = merged.body.diagnosis(DiagnosisKind::Social).unwrap();
    assert_eq!((d.by, d.text.as_str()), (cw.staff(), "祖母の支援あり"));
    assert!(d.at.0 > 0);

    // The same edit sent again (its answer lost): nothing new is written.
    let again = w.svc.update_case(&cw, case, base.rev, mine).unwrap();
    assert_eq!((again.case.rev, again.merged), (merged.rev, false), "a resend is not a merge");

    // Both change the opinion, differently: a conflict, nothing written; the merge names it.
    let mut clash = CaseEdit::of(&base.body);
    clash.worker_opinion = "一時保護を検討".into();
    let err = w.svc.edit_case(&cw, case, base.rev, &clash).unwrap_err();
    assert!(matches!(err, Error::Conflict { .. }), "{err}");
    assert_eq!(w.svc.case(&cw, case).unwrap().case.rev, merged.rev);
    let (current, m) = w.svc.merge_case_edit(&cw, case, base.rev, &clash).unwrap();
    assert_eq!(current.rev, merged.rev);
    assert_eq!(m.clashes, vec!["worker_opinion"]);
    assert_eq!(m.body.worker_opinion, "一時保護を検討");
    assert_eq!(m.body.judgement, "在宅指導", "their judgement is taken");
    // Once chosen, saved at the current revision.
    let chosen = w.svc.edit_case(&cw, case, current.rev, &CaseEdit::of(&m.body)).unwrap().case;
    assert_eq!(chosen.body.worker_opinion, "一時保護を検討");
    assert_eq!(chosen.body.judgement, "在宅指導");
    let d = chosen.body.diagnosis(DiagnosisKind::Social).unwrap();
    assert_eq!(
        (d.by, d.at),
        (cw.staff(), merged.body.diagnosis(DiagnosisKind::Social).unwrap().at),
        "unchanged text keeps its signature"
    );
}

#[test]
fn protection_steps_and_closing_sent_again_after_a_lost_answer_are_recorded_once() {
    use mamoru_core::protection::ProtectionStep;

    let w = world();
    let cw = w.staff("cw", Role::Caseworker, w.u1);
    let sv = w.staff("sv", Role::Supervisor, w.u1);
    let child = w.child(&cw, "架空", "四郎", "かくう", "しろう", "2015-09-09");
    let case = CaseId(w.case(&cw, child, IntakeKind::AbuseReport, t0()).id);
    let start = urgent_start(t0(), false);
    let p1 = w.svc.start_protection_once(&cw, case, start.clone(), Some("p1")).unwrap();
    let p2 = w.svc.start_protection_once(&cw, case, start, Some("p1")).unwrap();
    assert_eq!(p1.id, p2.id);
    assert_eq!(w.svc.case(&cw, case).unwrap().protections.len(), 1);

    // The warrant request, sent twice from revision 1: one revision.
    w.clock.advance(2 * 3600);
    let id = mamoru_core::ids::ProtectionId(p1.id);
    let request = ProtectionStep::WarrantRequest { at: t0().plus(3600) };
    assert_eq!(w.svc.record_protection_step(&cw, case, id, 1, request.clone()).unwrap().rev, 2);
    assert_eq!(w.svc.record_protection_step(&cw, case, id, 1, request).unwrap().rev, 2, "already recorded");
    // Something else from revision 1 is still stale.
    let other = ProtectionStep::End { at: t0().plus(7200), reason: "家庭復帰".into() };
    assert!(matches!(
        w.svc.record_protection_step(&cw, case, id, 1, other.clone()),
        Err(mamoru_core::Error::Conflict { .. })
    ));
    w.svc.record_protection_step(&cw, case, id, 2, other).unwrap();

    // Closing sent twice: closed once; reopening likewise.
    let rev = w.svc.case(&sv, case).unwrap().case.rev;
    let closed =
        w.svc.change_case_status(&sv, case, rev, &StatusChange::Close { reason: "家庭復帰".into() }).unwrap();
    assert_eq!(
        w.svc
            .change_case_status(&sv, case, rev, &StatusChange::Close { reason: "家庭復帰".into() })
            .unwrap()
            .rev,
        closed.rev
    );
    assert!(
        w.svc
            .change_case_status(&sv, case, closed.rev, &StatusChange::Close { reason: "家庭復帰".into() })
            .is_err(),
        "closing a closed case is refused"
    );
    let reopened = w.svc.change_case_status(&sv, case, closed.rev, &StatusChange::Reopen).unwrap();
    assert_eq!(
        w.svc.change_case_status(&sv, case, closed.rev, &StatusChange::Reopen).unwrap().rev,
        reopened.rev
    );
    assert_eq!(w.svc.case(&sv, case).unwrap().case.body.reopened_at.len(), 1);
}

/// #16: over the JSON API a protection could be ended with an empty reason (the page refused it,
/// the API sent the whole record); now both go through the domain's steps.
#[test]
fn ending_a_protection_needs_a_reason_whichever_way_it_is_sent() {
    use mamoru_core::protection::{PlaceKind, ProtectionEnd, ProtectionStep, StartProtection};
    let w = world();
    let cw = w.staff("cw", Role::Caseworker, w.u1);
    let child = w.child(&cw, "架空", "五郎", "かくう", "ごろう", "2016-01-01");
    let case = CaseId(w.case(&cw, child, IntakeKind::AbuseReport, t0()).id);
    let start = StartProtection {
        started_at: t0(),
        place_kind: Some(PlaceKind::Entrusted),
        place: "架空里親宅".into(),
        reason: "夜間放置".into(),
        guardian_consent: true,
        hearing: None,
        hearing_after_urgency: true,
    };
    let p = w.svc.start_protection(&cw, case, start).unwrap();
    let id = mamoru_core::ids::ProtectionId(p.id);
    w.clock.advance(3600);
    let empty = ProtectionStep::End { at: t0().plus(60), reason: String::new() };
    let r = w.svc.record_protection_step(&cw, case, id, p.rev, empty);
    assert!(matches!(&r, Err(mamoru_core::Error::Incomplete { fields }) if *fields == ["reason"]), "{r:?}");
    let mut whole = p.body.clone();
    whole.ended = Some(ProtectionEnd { at: t0().plus(60), reason: " ".into() });
    let r = w.svc.update_protection(&cw, case, id, p.rev, whole.into());
    assert!(matches!(&r, Err(mamoru_core::Error::Incomplete { .. })), "{r:?}");
    let view = w.svc.case(&cw, case).unwrap();
    assert!(view.protections[0].body.is_active(), "nothing was written");
    assert!(view.open_steps[&p.id].contains(&mamoru_core::protection::StepKind::End));
    // Named through another case: not found, whichever way.
    let other_child = w.child(&cw, "別件", "", "べっけん", "", "2016-02-02");
    let other = CaseId(w.case(&cw, other_child, IntakeKind::AbuseReport, t0()).id);
    let end = ProtectionStep::End { at: t0().plus(60), reason: "家庭復帰".into() };
    let r = w.svc.record_protection_step(&cw, other, id, p.rev, end.clone());
    assert!(matches!(r, Err(mamoru_core::Error::NotFound { .. })), "{r:?}");
    w.svc.record_protection_step(&cw, case, id, p.rev, end).unwrap();
}

#[test]
fn a_start_in_urgency_dates_the_hearing_by_the_code_table_valid_on_the_start_day() {
    use mamoru_core::code_table::{CodeEntry, HEARING_AFTER_URGENT_START};
    use mamoru_core::deadline::ClockKind;
    use mamoru_core::time::Date;
    let w = world();
    let cw = w.staff("cw", Role::Caseworker, w.u1);
    // The centre shortens the period from 2025-06-01 on: the old entry ends, a new one begins.
    let table =
        w.svc.code_tables().unwrap().into_iter().find(|t| t.body.key == HEARING_AFTER_URGENT_START).unwrap();
    let mut body = table.body.clone();
    let from = Date::parse_iso("2025-06-01").unwrap();
    body.entries[0].valid_until = Some(from);
    body.entries.push(CodeEntry {
        code: "2".into(),
        label: "開始日を含めて2日以内".into(),
        parent: None,
        valid_from: Some(from),
        valid_until: None,
    });
    w.svc.edit_code_table(&w.admin, HEARING_AFTER_URGENT_START, table.rev, body).unwrap();
    let start = |at| urgent_start(at, true);
    let hearing_due = |case| {
        let view = w.svc.case(&cw, case).unwrap();
        view.clocks.iter().find(|c| c.deadline.kind == ClockKind::ChildHearing).map(|c| c.deadline.due)
    };
    let child = w.child(&cw, "架空", "六郎", "かくう", "ろくろう", "2016-03-03");
    let now_case = CaseId(w.case(&cw, child, IntakeKind::AbuseReport, t0()).id);
    w.svc.start_protection(&cw, now_case, start(t0())).unwrap();
    // Started 2025-06-02: two days counting the start day, due at the end of 6/3.
    let expected = mamoru_core::time::Timestamp::parse("2025-06-04T00:00:00+09:00").unwrap();
    assert_eq!(hearing_due(now_case), Some(expected));
    // Recorded late for a start on 5/30, under the old entry: three days.
    let child = w.child(&cw, "架空", "七郎", "かくう", "しちろう", "2016-04-04");
    let late_case = CaseId(w.case(&cw, child, IntakeKind::AbuseReport, t0().plus(-4 * 86_400)).id);
    w.svc.start_protection(&cw, late_case, start(t0().plus(-3 * 86_400))).unwrap();
    let expected = mamoru_core::time::Timestamp::parse("2025-06-02T00:00:00+09:00").unwrap();
    assert_eq!(hearing_due(late_case), Some(expected));
}

#[test]
fn a_safety_check_names_what_it_lacks_and_only_a_direct_sighting_closes_the_48_hours() {
    use mamoru_core::case::{NewSafetyCheck, SafetyMethod};
    use mamoru_core::deadline::ClockKind;
    let w = world();
    let cw = w.staff("cw", Role::Caseworker, w.u1);
    let child = w.child(&cw, "架空", "八郎", "かくう", "はちろう", "2019-05-05");
    let case = CaseId(w.case(&cw, child, IntakeKind::AbuseReport, t0()).id);
    let clock_open =
        || w.svc.case(&cw, case).unwrap().clocks.iter().any(|c| c.deadline.kind == ClockKind::SafetyCheck48h);
    let r =
        w.svc.record_safety_check(&cw, case, NewSafetyCheck { at: Some(t0()), ..NewSafetyCheck::default() });
    assert!(
        matches!(&r, Err(mamoru_core::Error::Incomplete { fields }) if *fields == ["method", "child_state"]),
        "{r:?}"
    );
    // An agency's sighting names the agency.
    let by_agency = NewSafetyCheck {
        at: Some(t0()),
        method: Some(SafetyMethod::ByAgency),
        seen_directly: true,
        child_state: "登校。変わった様子なし".into(),
        ..NewSafetyCheck::default()
    };
    let r = w.svc.record_safety_check(&cw, case, by_agency.clone());
    assert!(matches!(&r, Err(mamoru_core::Error::Incomplete { fields }) if *fields == ["agency"]), "{r:?}");
    // 目視 without the sighting is a contradiction, not a guess.
    let sighted_unseen =
        NewSafetyCheck { method: Some(SafetyMethod::Sighted), seen_directly: false, ..by_agency.clone() };
    assert!(w.svc.record_safety_check(&cw, case, sighted_unseen).is_err());
    // Not seen directly: recorded, the clock keeps running.
    let phoned =
        NewSafetyCheck { method: Some(SafetyMethod::Interview), seen_directly: false, ..by_agency.clone() };
    w.svc.record_safety_check(&cw, case, phoned).unwrap();
    assert!(clock_open());
    let v = w
        .svc
        .record_safety_check(&cw, case, NewSafetyCheck { agency: "架空小学校 担任".into(), ..by_agency })
        .unwrap();
    assert_eq!((v.body.agency.as_str(), v.body.by.as_slice()), ("架空小学校 担任", [cw.staff()].as_slice()));
    assert!(!clock_open());
}

#[test]
fn the_case_page_is_one_audited_read_that_names_the_child() {
    let w = world();
    let cw = w.staff("cw", Role::Caseworker, w.u1);
    let child = w.child(&cw, "架空", "三郎", "かくう", "さぶろう", "2019-07-07");
    let case = CaseId(w.case(&cw, child, IntakeKind::Consultation, t0()).id);
    let before = w.svc.audit_len().unwrap();
    let page = w.svc.case_page(&cw, case).unwrap();
    assert_eq!(w.svc.audit_len().unwrap(), before + 1, "one read, of the case");
    let name = mamoru_core::person::PersonName::new("架空", "三郎", "かくう", "さぶろう").unwrap();
    assert_eq!((page.case.child.id, page.case.child.name.clone()), (child, name.full()));
    assert!(page.unit_staff.iter().any(|(s, _)| *s == cw.staff()), "the unit's staff, for assignment");
    assert!(page.after <= w.svc.last_change().unwrap());
}
