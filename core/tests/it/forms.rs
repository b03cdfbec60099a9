//! 帳票 through the service: the forms a case has, each filled from the case and read back from
//! its PDF (names in kanji, 和暦 dates), the reporter on the intake sheet and never on a notice
//! to the family, a notice made again byte for byte, an old version with its old 教示, and every
//! print audited with its version and hash.

use std::process::Command;

use mamoru_core::case::{Decide, IntakeKind, Subject, SupportDecision, Verdict};
use mamoru_core::code_table::Code;
use mamoru_core::forms::FormKind;
use mamoru_core::ids::SupportId;
use mamoru_core::person::{PersonEdit, PersonName, Sex, Standing};
use mamoru_core::protection::{NoticeKind, ProtectionStep};
use mamoru_core::service::forms::{FormOptions, Period};
use mamoru_core::service::{AuditFilter, Joining, NewMember};
use mamoru_core::staff::Role;
use mamoru_core::time::{Date, Timestamp};

use crate::support::{t0, urgent_start, world};

pub fn text_of(pdf: &[u8]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("form.pdf");
    std::fs::write(&path, pdf).unwrap();
    let out = Command::new("pdftotext")
        .args([path.to_str().unwrap(), "-"])
        .output()
        .unwrap_or_else(|e| panic!("pdftotext (poppler-utils): {e}"));
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap()
}

#[test]
#[expect(clippy::too_many_lines, reason = "one case followed through each of its forms")]
fn each_form_of_a_case_prints_from_its_records_and_the_reporter_never_reaches_the_family() {
    let w = world();
    let cw = w.staff("cw1", Role::Caseworker, w.u1);
    let psy = w.staff("psy1", Role::Psychologist, w.u1);
    let child = w.child(&cw, "架空", "花子", "かくう", "はなこ", "2018-05-01");
    let mother = PersonEdit {
        name: PersonName::new("架空", "良子", "かくう", "よしこ").unwrap(),
        birth_date: Some(Date::parse_iso("1990-05-05").unwrap()),
        sex: Sex::Female,
        address: String::new(),
        phones: vec![],
        employment: String::new(),
        health: String::new(),
    };
    let standing = Standing { relation: Code::new("02"), guardian: true, custody: true };
    w.svc
        .add_family_member(
            &cw,
            child,
            NewMember { who: Joining::Adult(Box::new(mother)), standing, cohabiting: true },
            None,
        )
        .unwrap();
    let case = w.case(&cw, child, IntakeKind::AbuseReport, t0());
    let id = mamoru_core::ids::CaseId(case.id);

    // Before a protection: the intake sheet and the notes, no notice.
    let offered =
        |a| -> Vec<FormKind> { w.svc.case_forms(a, id).unwrap().into_iter().map(|o| o.form).collect() };
    assert_eq!(offered(&cw), [FormKind::IntakeSheet, FormKind::Notes, FormKind::ChildRecord]);
    assert_eq!(
        offered(&psy),
        [FormKind::Notes, FormKind::ChildRecord],
        "the intake sheet holds the reporter"
    );

    // 児童記録票: the face sheet with the household, the child first; no reporter.
    let record = w.svc.print_form(&psy, id, FormKind::ChildRecord, &FormOptions::default()).unwrap();
    let text = text_of(&record.pdf);
    for s in [
        "児童記録票",
        "架空 花子",
        "本人",
        "平成30年5月1日",
        "世帯の構成",
        "架空 良子",
        "実母",
        "架空市みどり町1-2-3",
    ] {
        assert!(text.contains(s), "{s:?} in {text}");
    }
    assert!(!text.contains("通告 太郎"), "{text}");
    assert!(text.find("本人").unwrap() < text.find("実母").unwrap(), "the child first: {text}");
    // The genogram under the table: the child doubly outlined with their age on the paper's day.
    assert!(text.contains("ジェノグラム") && text.contains("本人 7歳"), "{text}");
    if let Ok(dir) = std::env::var("MAMORU_FORMS_OUT") {
        std::fs::write(std::path::Path::new(&dir).join("child-record.pdf"), &record.pdf).unwrap();
    }
    let refused = w.svc.print_form(&psy, id, FormKind::IntakeSheet, &FormOptions::default()).unwrap_err();
    assert!(matches!(refused, mamoru_core::Error::Forbidden { .. }), "{refused:?}");

    let sheet = w.svc.print_form(&cw, id, FormKind::IntakeSheet, &FormOptions::default()).unwrap();
    let text = text_of(&sheet.pdf);
    for s in [
        "虐待相談・通告受付票",
        "架空 花子",
        "平成30年5月1日",
        "令和7年6月2日 10時00分",
        "通告 太郎",
        "架空 良子",
    ] {
        assert!(text.contains(s), "{s:?} in {text}");
    }

    let start = t0().plus(3600);
    w.clock.set(start.plus(600));
    let p = w.svc.start_protection(&cw, id, urgent_start(start, false)).unwrap();
    let notice_at = start.plus(1200);
    w.clock.set(notice_at.plus(60));
    w.svc
        .record_protection_step(
            &cw,
            id,
            mamoru_core::ids::ProtectionId(p.id),
            p.rev,
            ProtectionStep::Notice { kind: NoticeKind::Start, at: notice_at },
        )
        .unwrap();
    assert!(offered(&cw).contains(&FormKind::ProtectionStartNotice));
    assert!(!offered(&cw).contains(&FormKind::ProtectionEndNotice), "not ended");

    let notice = w.svc.print_form(&cw, id, FormKind::ProtectionStartNotice, &FormOptions::default()).unwrap();
    assert_eq!(notice.template.version, 2);
    let text = text_of(&notice.pdf);
    for s in [
        "一時保護決定通知書",
        "架空 良子 様",
        "架空 花子",
        "令和7年6月2日 11時00分",
        "一時保護所",
        "3か月以内",
        "教示",
    ] {
        assert!(text.contains(s), "{s:?} in {text}");
    }
    assert!(
        !text.contains("通告 太郎") && !text.contains("通告者"),
        "the reporter never reaches the family: {text}"
    );
    // Kept as issued when the notice was recorded (the store's file, named on the protection),
    // made at the notice's time: printed again later, the same bytes.
    let kept = w.svc.case(&cw, id).unwrap().protections[0].body.notices[0].pdf.clone().unwrap();
    assert_eq!((kept.sha256.as_str(), kept.template), (notice.sha256.as_str(), 2));
    w.clock.set(notice_at.plus(86_400 * 3));
    let again = w.svc.print_form(&cw, id, FormKind::ProtectionStartNotice, &FormOptions::default()).unwrap();
    assert_eq!(again.pdf, notice.pdf);
    assert_eq!(again.sha256, notice.sha256);
    // Without the guardian's consent: the 一時保護状 request to the judge, with its 疎明資料,
    // the reporter left out (the family may read the court's file).
    assert!(offered(&cw).contains(&FormKind::WarrantRequest));
    let request = w.svc.print_form(&cw, id, FormKind::WarrantRequest, &FormOptions::default()).unwrap();
    let text = text_of(&request.pdf);
    for s in [
        "一時保護状請求書",
        "裁判官 殿",
        "児童福祉法第33条第3項",
        "架空 花子",
        "架空 良子",
        "同意が得られていない",
        "令和7年6月8日まで（開始日を含めて7日以内）",
        "（未請求）",
        "疎明資料",
        "虐待相談・通告受付票（通告者に関する記載を除く）",
        "非開示希望",
    ] {
        assert!(text.contains(s), "{s:?} in {text}");
    }
    assert!(!text.contains("通告 太郎"), "no reporter before the judge: {text}");
    let requested_at = start.plus(7200);
    let p = &w.svc.case(&cw, id).unwrap().protections[0];
    let step = ProtectionStep::WarrantRequest { at: requested_at };
    w.svc.record_protection_step(&cw, id, mamoru_core::ids::ProtectionId(p.id), p.rev, step).unwrap();
    let requested = w.svc.print_form(&cw, id, FormKind::WarrantRequest, &FormOptions::default()).unwrap();
    assert!(text_of(&requested.pdf).contains("令和7年6月2日 13時00分"), "the request's time");
    w.clock.set(notice_at.plus(86_400 * 4));
    let later = w.svc.print_form(&cw, id, FormKind::WarrantRequest, &FormOptions::default()).unwrap();
    assert_eq!(later.sha256, requested.sha256, "dated as requested: the same paper again");
    // A record made after the request is not among what it attached.
    let note = mamoru_core::case::NewNote {
        at: notice_at.plus(86_400 * 4),
        kind: Code::new("1"),
        body: "請求後の家庭訪問".into(),
        photos: vec![],
    };
    w.svc.add_note(&cw, id, note).unwrap();
    let after = w.svc.print_form(&cw, id, FormKind::WarrantRequest, &FormOptions::default()).unwrap();
    assert_eq!(after.sha256, requested.sha256, "the 疎明資料 of the request as made");
    // The old version, asked for by number, says what the old law said.
    let old = w
        .svc
        .print_form(
            &cw,
            id,
            FormKind::ProtectionStartNotice,
            &FormOptions { version: Some(1), ..FormOptions::default() },
        )
        .unwrap();
    assert!(text_of(&old.pdf).contains("60日以内"));

    // Every print audited with the form, its version and the PDF's hash.
    let entries = w.svc.search_audit(&w.admin, &AuditFilter::default(), 100).unwrap();
    let printed: Vec<&str> =
        entries.iter().filter(|e| e.action == "print_form").filter_map(|e| e.detail.as_deref()).collect();
    assert!(
        printed.contains(
            &format!("form protection-start-notice v2 sha256 {} (as issued)", notice.sha256).as_str()
        ),
        "{printed:?}"
    );
    assert!(printed.iter().any(|d| d.starts_with("form intake-sheet v1 sha256 ")));
    assert!(printed.iter().all(|d| !d.contains("架空")), "no personal data in the log");

    // The notes for a period, oldest first, with their authors.
    let kind = Code::new("1");
    for (days, body) in [(2, "二回目の家庭訪問。"), (1, "初回の家庭訪問。"), (40, "期間外の記録。")]
    {
        let at = Timestamp::parse("2025-06-02T15:00:00+09:00").unwrap().plus(86_400 * days);
        w.clock.set(at.plus(60));
        let note = mamoru_core::case::NewNote { at, kind: kind.clone(), body: body.into(), photos: vec![] };
        w.svc.add_note(&cw, id, note).unwrap();
    }
    let june =
        Period { from: Some(Date::new(2025, 6, 1).unwrap()), to: Some(Date::new(2025, 6, 30).unwrap()) };
    let notes = text_of(
        &w.svc
            .print_form(&cw, id, FormKind::Notes, &FormOptions { period: june, ..FormOptions::default() })
            .unwrap()
            .pdf,
    );
    let (first, second) = (notes.find("初回の家庭訪問").unwrap(), notes.find("二回目の家庭訪問").unwrap());
    assert!(first < second, "oldest first: {notes}");
    assert!(!notes.contains("期間外"), "{notes}");
    assert!(notes.contains("cw1"), "the author: {notes}");

    // The minutes of a meeting, titled by its kind, made as of the meeting.
    let held = Timestamp::parse("2025-06-20T14:00:00+09:00").unwrap();
    w.clock.set(held.plus(3600));
    let meeting = mamoru_core::case::NewMeeting {
        kind: Code::new("4"),
        at: held,
        attendees: vec![cw.staff()],
        outside_attendees: vec!["架空市保健センター 保健師".into()],
        cases: vec![id],
        decisions: "在宅指導を継続する。次回は7月。".into(),
    };
    w.svc.record_meeting(&cw, meeting).unwrap();
    assert!(offered(&cw).contains(&FormKind::MeetingMinutes));
    let minutes = w.svc.print_form(&cw, id, FormKind::MeetingMinutes, &FormOptions::default()).unwrap();
    let text = text_of(&minutes.pdf);
    for s in [
        "援助方針会議録",
        "令和7年6月20日 14時00分",
        "cw1、架空市保健センター 保健師",
        "在宅指導を継続する",
        "架空 花子",
    ] {
        assert!(text.contains(s), "{s:?} in {text}");
    }
    w.clock.set(held.plus(86_400 * 10));
    let again = w.svc.print_form(&cw, id, FormKind::MeetingMinutes, &FormOptions::default()).unwrap();
    assert_eq!(again.pdf, minutes.pdf, "the same minutes, whenever printed");

    // A 措置, once approved (決裁), is notified to the family with its 教示.
    let sv = w.staff("sv1", Role::Supervisor, w.u1);
    let today = w.svc.now().jst_date();
    let decision = SupportDecision {
        kind: Some(Code::new("22")),
        decided_on: Some(today),
        start: Some(today),
        ..SupportDecision::default()
    };
    let s = w.svc.record_support_once(&cw, id, decision, None).unwrap();
    assert!(!offered(&cw).contains(&FormKind::SupportNotice), "not before its 決裁");
    let approve = Decide { verdict: Verdict::Approved, comment: String::new() };
    w.svc.decide_approval(&sv, id, Subject::Support(SupportId(s.id)), s.rev, &approve).unwrap();
    assert!(offered(&cw).contains(&FormKind::SupportNotice));
    let notice = w.svc.print_form(&cw, id, FormKind::SupportNotice, &FormOptions::default()).unwrap();
    let text = text_of(&notice.pdf);
    for s in
        ["措置決定通知書", "第27条第1項", "児童福祉司指導", "架空 良子 様", "令和7年6月30日", "3か月以内"]
    {
        assert!(text.contains(s), "{s:?} in {text}");
    }
    assert!(!text.contains("通告 太郎"), "{text}");

    // Recorded as issued: the paper is made then and kept; printed later, the kept bytes.
    let s = w.svc.case(&cw, id).unwrap().supports.into_iter().find(|v| v.id == s.id).unwrap();
    let issued = SupportDecision { notice_issued_on: Some(today), ..SupportDecision::of(&s.body) };
    let s = w.svc.revise_support(&cw, id, SupportId(s.id), s.rev, issued).unwrap();
    let kept = s.body.notice_pdf.clone().expect("the notice kept as issued");
    w.clock.set(w.svc.now().plus(86_400 * 3));
    let later = w.svc.print_form(&cw, id, FormKind::SupportNotice, &FormOptions::default()).unwrap();
    assert_eq!((later.sha256.as_str(), later.template.version), (kept.sha256.as_str(), kept.template));
    let entries = w.svc.search_audit(&w.admin, &AuditFilter::default(), 1000).unwrap();
    assert!(
        entries
            .iter()
            .filter_map(|e| e.detail.as_deref())
            .any(|d| d == format!("form support-notice v2 sha256 {} (as issued)", kept.sha256)),
        "audited as the paper issued"
    );
    // A note revised afterwards keeps the notice as issued.
    let with_note = SupportDecision { note: "見直しは3か月後".into(), ..SupportDecision::of(&s.body) };
    let s = w.svc.revise_support(&cw, id, SupportId(s.id), s.rev, with_note).unwrap();
    assert_eq!(s.body.notice_pdf, Some(kept));
}

#[test]
fn a_safety_check_prints_with_its_marks_drawn_on_the_body_map_and_named() {
    use mamoru_core::case::{BodySide, Injury, NewSafetyCheck, SafetyMethod};
    let w = world();
    let cw = w.staff("cw1", Role::Caseworker, w.u1);
    let child = w.child(&cw, "確認", "あおい", "かくにん", "あおい", "2018-05-05");
    let id = mamoru_core::ids::CaseId(w.case(&cw, child, IntakeKind::AbuseReport, t0()).id);
    let offered =
        || -> Vec<FormKind> { w.svc.case_forms(&cw, id).unwrap().into_iter().map(|o| o.form).collect() };
    assert!(!offered().contains(&FormKind::SafetyCheckRecord), "no check yet");
    w.clock.set(t0().plus(1200));
    let photo = w.svc.add_photo(&cw, id, &mamoru_core::photo::sample(3, 320)).unwrap();
    let mark = |side, x, y, size, text: &str| Injury {
        side,
        x,
        y,
        size_cm: size,
        description: text.into(),
        photo: None,
    };
    let check = NewSafetyCheck {
        at: Some(t0().plus(1800)),
        method: Some(SafetyMethod::Sighted),
        seen_directly: true,
        place: "自宅".into(),
        child_state: "落ち着いている".into(),
        injuries: vec![
            mark(BodySide::Front, 0.24, 0.25, Some(2.5), "青いあざ"),
            mark(BodySide::Back, 0.5, 0.25, None, "赤い線状の痕"),
        ],
        photos: vec![photo.body.sha256.clone()],
        ..NewSafetyCheck::default()
    };
    w.clock.set(t0().plus(3600));
    w.svc.record_safety_check(&cw, id, check).unwrap();
    assert!(offered().contains(&FormKind::SafetyCheckRecord));
    let printed = w.svc.print_form(&cw, id, FormKind::SafetyCheckRecord, &FormOptions::default()).unwrap();
    let text = text_of(&printed.pdf);
    for s in [
        "安全確認記録",
        "確認 あおい",
        "令和7年6月2日 10時30分",
        "目視",
        "直接確認した",
        "ボディマップ",
        "前面",
        "背面",
        "右上腕",
        "背部",
        "2.5cm",
        "青いあざ",
        "赤い線状の痕",
        "写真1（令和7年6月2日 10時20分）",
    ] {
        assert!(text.contains(s), "{s:?} in {text}");
    }
    // The photo itself, embedded as the store keeps it (JPEG: DCT), 320 pixels square.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("check.pdf");
    std::fs::write(&path, &printed.pdf).unwrap();
    let out = Command::new("pdfimages").args(["-list", path.to_str().unwrap()]).output().unwrap();
    let list = String::from_utf8(out.stdout).unwrap();
    let images: Vec<&str> = list.lines().skip(2).collect();
    assert_eq!(images.len(), 1, "{list}");
    assert!(images[0].contains(" 320   320 ") && images[0].contains("jpeg"), "{list}");
    if let Ok(dir) = std::env::var("MAMORU_FORMS_OUT") {
        std::fs::write(std::path::Path::new(&dir).join("safety-check.pdf"), &printed.pdf).unwrap();
    }
    w.clock.set(t0().plus(86_400));
    let again = w.svc.print_form(&cw, id, FormKind::SafetyCheckRecord, &FormOptions::default()).unwrap();
    assert_eq!(again.sha256, printed.sha256, "dated as the check: the same paper again");

    // A later check is printed by default; the first still on asking for it; another case's
    // check is not this case's to print.
    let first = w.svc.case(&cw, id).unwrap().safety_checks[0].id;
    let later = NewSafetyCheck {
        at: Some(t0().plus(80_000)),
        method: Some(SafetyMethod::Interview),
        seen_directly: true,
        place: "学校".into(),
        child_state: "元気に登校".into(),
        ..NewSafetyCheck::default()
    };
    w.svc.record_safety_check(&cw, id, later).unwrap();
    let newest = text_of(
        &w.svc.print_form(&cw, id, FormKind::SafetyCheckRecord, &FormOptions::default()).unwrap().pdf,
    );
    assert!(newest.contains("元気に登校") && !newest.contains("青いあざ"), "{newest}");
    let asked = FormOptions { check: Some(mamoru_core::ids::SafetyCheckId(first)), ..FormOptions::default() };
    let again = w.svc.print_form(&cw, id, FormKind::SafetyCheckRecord, &asked).unwrap();
    assert_eq!(again.sha256, printed.sha256, "the first check, asked for");
    let other = w.child(&cw, "別件", "", "べっけん", "", "2017-01-01");
    let other = mamoru_core::ids::CaseId(w.case(&cw, other, IntakeKind::AbuseReport, t0()).id);
    let refused = w.svc.print_form(&cw, other, FormKind::SafetyCheckRecord, &asked).unwrap_err();
    assert!(matches!(refused, mamoru_core::Error::NotFound { .. }), "{refused:?}");
}

#[test]
fn an_assessment_prints_titled_by_its_sheet_with_each_answer_and_is_stamped_once_approved() {
    let w = world();
    let cw = w.staff("cw1", Role::Caseworker, w.u1);
    let sv = w.staff("sv1", Role::Supervisor, w.u1);
    let child = w.child(&cw, "評価", "ゆい", "ひょうか", "ゆい", "2016-02-02");
    let id = mamoru_core::ids::CaseId(w.case(&cw, child, IntakeKind::AbuseReport, t0()).id);
    let answers: std::collections::BTreeMap<String, bool> =
        ["q1", "q2", "q3", "q4", "q5", "q6", "q7"].iter().map(|q| ((*q).to_owned(), *q == "q2")).collect();
    let a = w.svc.record_assessment(&cw, id, "protection_decision", answers).unwrap();
    let printed = w.svc.print_form(&cw, id, FormKind::AssessmentSheet, &FormOptions::default()).unwrap();
    let text = text_of(&printed.pdf);
    for s in [
        "一時保護決定に向けてのアセスメントシート",
        "（第1版）",
        "当事者（子ども又は保護者）が保護を求めている",
        "はい",
        "いいえ",
        "評価 ゆい",
    ] {
        assert!(text.contains(s), "{s:?} in {text}");
    }
    assert!(!text.contains("sv1"), "not stamped before its 決裁: {text}");
    w.clock.set(t0().plus(3600));
    let approve = Decide { verdict: Verdict::Approved, comment: String::new() };
    w.svc
        .decide_approval(&sv, id, Subject::Assessment(mamoru_core::ids::AssessmentId(a.id)), a.rev, &approve)
        .unwrap();
    let stamped =
        text_of(&w.svc.print_form(&cw, id, FormKind::AssessmentSheet, &FormOptions::default()).unwrap().pdf);
    assert!(stamped.contains("sv1") && stamped.contains("cw1") && stamped.contains("R7.6.2"), "{stamped}");
}

/// A 措置 whose notice day was recorded while its 決裁 waited: no paper is kept before it is in
/// force; approved, the notice is made then and kept.
#[test]
fn a_notice_recorded_before_its_approval_is_kept_when_approved() {
    let w = world();
    let cw = w.staff("cw1", Role::Caseworker, w.u1);
    let sv = w.staff("sv1", Role::Supervisor, w.u1);
    let child = w.child(&cw, "通知", "ゆい", "つうち", "ゆい", "2016-04-04");
    let id = mamoru_core::ids::CaseId(w.case(&cw, child, IntakeKind::AbuseReport, t0()).id);
    w.clock.set(t0().plus(86_400));
    let today = w.svc.now().jst_date();
    let decision = SupportDecision {
        kind: Some(Code::new("22")),
        decided_on: Some(today),
        start: Some(today),
        notice_issued_on: Some(today),
        ..SupportDecision::default()
    };
    let s = w.svc.record_support_once(&cw, id, decision, None).unwrap();
    assert_eq!(s.body.notice_pdf, None, "not in force before its 決裁");
    let approve = Decide { verdict: Verdict::Approved, comment: String::new() };
    let done = w.svc.decide_approval(&sv, id, Subject::Support(SupportId(s.id)), s.rev, &approve).unwrap();
    let s = w.svc.case(&cw, id).unwrap().supports.into_iter().find(|v| v.id == s.id).unwrap();
    assert_eq!(done.rev, s.rev, "the answer names the revision stored");
    let kept = s.body.notice_pdf.expect("kept once approved");
    let printed = w.svc.print_form(&cw, id, FormKind::SupportNotice, &FormOptions::default()).unwrap();
    assert_eq!(printed.sha256, kept.sha256);
    assert!(text_of(&printed.pdf).contains("措置決定通知書"));
}
