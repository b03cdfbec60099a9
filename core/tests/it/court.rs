//! 家庭裁判所への申立て through the service: a petition attaches the case's documents, each
//! marked 非開示希望 or not as the worker chose; prints for the court without the reporter, the
//! same paper whenever printed; once filed it is not changed; and what cannot be petitioned is
//! refused, naming the field.

use mamoru_core::Error;
use mamoru_core::case::{IntakeKind, NewNote, NewPetition, PetitionKind};
use mamoru_core::code_table::Code;
use mamoru_core::forms::FormKind;
use mamoru_core::ids::{CaseId, CourtPetitionId};
use mamoru_core::service::AuditFilter;
use mamoru_core::service::forms::FormOptions;
use mamoru_core::staff::Role;

use crate::forms::text_of;
use crate::support::{t0, urgent_start, world};

fn field(e: Error) -> &'static str {
    match e {
        Error::Invalid { field, .. } => field,
        other => panic!("{other:?}"),
    }
}

#[test]
#[expect(clippy::too_many_lines, reason = "one case followed through both petitions")]
fn a_petition_attaches_the_cases_documents_each_marked_and_prints_for_the_family_court() {
    let w = world();
    let cw = w.staff("cw1", Role::Caseworker, w.u1);
    let psy = w.staff("psy1", Role::Psychologist, w.u1);
    let child = w.child(&cw, "架空", "花子", "かくう", "はなこ", "2018-05-01");
    let case = w.case(&cw, child, IntakeKind::AbuseReport, t0());
    let id = CaseId(case.id);
    w.clock.set(t0().plus(3600));
    let note =
        NewNote { at: t0().plus(1800), kind: Code::new("1"), body: "家庭訪問".into(), photos: vec![] };
    w.svc.add_note(&cw, id, note).unwrap();
    let extension = NewPetition {
        kind: Some(PetitionKind::ProtectionExtension),
        grounds: "保護者は引取りを強く求めているが、家庭環境の改善が確認できない。".into(),
        withhold: vec!["notes".into()],
        ..NewPetition::default()
    };

    // No protection without consent in force: nothing to continue.
    let refused = w.svc.prepare_petition(&cw, id, extension.clone(), None).unwrap_err();
    assert_eq!(field(refused), "kind");
    w.svc.start_protection(&cw, id, urgent_start(t0().plus(3000), false)).unwrap();

    // The documents a petition would attach now: the intake (never its reporter) and the notes.
    let view = w.svc.case_petitions(&cw, id).unwrap();
    let keys: Vec<&str> = view.documents.iter().map(|d| d.key.as_str()).collect();
    assert_eq!(keys, ["intake", "notes"]);
    assert!(view.documents[0].title.contains("通告者に関する記載を除く"), "{:?}", view.documents);

    // Two months on, the extension is petitioned.
    let later = t0().plus(86_400 * 55);
    w.clock.set(later);
    let unknown = NewPetition { withhold: vec!["check:99".into()], ..extension.clone() };
    assert_eq!(field(w.svc.prepare_petition(&cw, id, unknown, None).unwrap_err()), "withhold");
    let refused = w.svc.prepare_petition(&psy, id, extension.clone(), None).unwrap_err();
    assert!(matches!(refused, Error::Forbidden { .. }), "a psychologist records no protection: {refused:?}");
    let p = w.svc.prepare_petition(&cw, id, extension.clone(), Some("k-1")).unwrap();
    let again = w.svc.prepare_petition(&cw, id, extension.clone(), Some("k-1")).unwrap();
    assert_eq!((again.id, again.rev), (p.id, p.rev), "a resend is stored once");
    assert!(p.body.protection.is_some());
    let marks: Vec<bool> = p.body.documents.iter().map(|d| d.withhold).collect();
    assert_eq!(marks, [false, true]);

    let offered: Vec<FormKind> = w.svc.case_forms(&cw, id).unwrap().into_iter().map(|o| o.form).collect();
    assert!(offered.contains(&FormKind::ExtensionPetition), "{offered:?}");
    assert!(!offered.contains(&FormKind::PlacementPetition), "{offered:?}");
    let print = |form| w.svc.print_form(&cw, id, form, &FormOptions::default()).unwrap();
    let paper = print(FormKind::ExtensionPetition);
    let text = text_of(&paper.pdf);
    for s in [
        "一時保護承認申立書",
        "家庭裁判所 御中",
        "第33条第5項",
        "架空 花子",
        "平成30年5月1日",
        "引き続き行うことを承認する",
        "令和7年6月2日 10時50分",
        "令和7年8月1日",
        "同意が得られていない",
        "家庭環境の改善が確認できない",
        "（未提出）",
        "添付資料",
        "虐待相談・通告受付票（通告者に関する記載を除く）",
        "■ 希望",
        "家事事件手続法第47条",
    ] {
        assert!(text.contains(s), "{s:?} in {text}");
    }
    assert!(!text.contains("通告 太郎"), "the reporter never reaches the court: {text}");
    assert_eq!(text.matches("■ 希望").count(), 1, "only the notes are withheld: {text}");
    w.clock.set(later.plus(86_400));
    assert_eq!(print(FormKind::ExtensionPetition).pdf, paper.pdf, "the same paper whenever printed");

    // The protection ends before the filing is recorded: the petition still takes it.
    let protection = w.svc.case(&cw, id).unwrap().protections[0].clone();
    let end =
        mamoru_core::protection::ProtectionStep::End { at: later.plus(60), reason: "家庭復帰".into() };
    w.clock.set(later.plus(120));
    w.svc
        .record_protection_step(&cw, id, mamoru_core::ids::ProtectionId(protection.id), protection.rev, end)
        .unwrap();

    // Filed: dated as filed, then never changed.
    let filed_on = later.jst_date();
    let filed = NewPetition { filed_on: Some(filed_on), withhold: vec![], ..extension.clone() };
    let pid = CourtPetitionId(p.id);
    let p = w.svc.revise_petition(&cw, id, pid, p.rev, filed).unwrap();
    assert!(p.body.documents.iter().all(|d| !d.withhold));
    let text = text_of(&print(FormKind::ExtensionPetition).pdf);
    assert!(text.contains("令和7年7月27日") && !text.contains("（未提出）"), "{text}");
    let refused = w.svc.revise_petition(&cw, id, pid, p.rev, extension.clone()).unwrap_err();
    assert_eq!(field(refused), "filed_on");
    let audit = w.svc.search_audit(&w.admin, &AuditFilter::default(), 1000).unwrap();
    assert!(
        audit.iter().any(|e| e.action == "print_form"
            && e.detail.as_deref().is_some_and(|d| d.contains("form extension-petition v1 sha256"))),
        "every print audited with its version and hash"
    );

    // A 28条 petition: the placement asked for, in the words of the law.
    let placement = NewPetition {
        kind: Some(PetitionKind::Placement),
        grounds: "保護者が施設入所に同意しない。".into(),
        ..NewPetition::default()
    };
    assert_eq!(field(w.svc.prepare_petition(&cw, id, placement.clone(), None).unwrap_err()), "placement");
    let placement = NewPetition { placement: Some(Code::new("32")), ..placement };
    let q = w.svc.prepare_petition(&cw, id, placement.clone(), None).unwrap();
    let retyped = NewPetition { kind: Some(PetitionKind::ProtectionExtension), ..placement };
    let refused = w.svc.revise_petition(&cw, id, CourtPetitionId(q.id), q.rev, retyped).unwrap_err();
    assert_eq!(field(refused), "kind");
    let text = text_of(&print(FormKind::PlacementPetition).pdf);
    for s in [
        "施設入所等承認申立書",
        "第28条第1項",
        "施設入所（児童養護施設）",
        "児童養護施設に入所させることを承認する",
    ] {
        assert!(text.contains(s), "{s:?} in {text}");
    }
    assert!(!text.contains("通告 太郎") && !text.contains("■ 希望"), "{text}");
    let page = w.svc.case(&cw, id).unwrap();
    assert_eq!(page.petitions.len(), 2);
}

/// The day an extension petition is filed is typed once: on the petition, and Mamoru records
/// it on the protection's extension without consent too (the court's clock stops waiting for
/// a filing). Before there is such an extension, the petition alone records it.
#[test]
fn filing_an_extension_petition_records_the_filing_on_its_protection() {
    use mamoru_core::ids::ProtectionId;
    use mamoru_core::protection::{ProtectionStep, StepKind};
    use mamoru_core::time::Date;

    let w = world();
    let cw = w.staff("cw1", Role::Caseworker, w.u1);
    let child = w.child(&cw, "架空", "次郎", "かくう", "じろう", "2017-04-01");
    let id = CaseId(w.case(&cw, child, IntakeKind::AbuseReport, t0()).id);
    w.clock.set(t0().plus(3600));
    w.svc.start_protection(&cw, id, urgent_start(t0().plus(3000), false)).unwrap();
    let later = t0().plus(86_400 * 53);
    w.clock.set(later);
    let extension = NewPetition {
        kind: Some(PetitionKind::ProtectionExtension),
        grounds: "家庭環境の改善が確認できない。".into(),
        ..NewPetition::default()
    };
    let petition = w.svc.prepare_petition(&cw, id, extension.clone(), None).unwrap();
    let protection = || w.svc.case(&cw, id).unwrap().protections[0].clone();
    let p = protection();
    let step = ProtectionStep::Extension {
        at: later,
        last_day: Date::parse_iso("2025-09-30").unwrap(),
        guardian_consent: false,
        petitioned_on: None,
    };
    let p = w.svc.record_protection_step(&cw, id, ProtectionId(p.id), p.rev, step).unwrap();
    assert!(p.body.open_steps().contains(&StepKind::CourtPetition), "a filing to record");

    let filed_on = later.jst_date();
    let filed = NewPetition { filed_on: Some(filed_on), ..extension };
    w.svc.revise_petition(&cw, id, CourtPetitionId(petition.id), petition.rev, filed).unwrap();
    let p = protection();
    let court = p.body.extensions.last().unwrap().court.as_ref().unwrap();
    assert_eq!(court.petitioned_on, filed_on);
    assert!(p.body.open_steps().contains(&StepKind::CourtApproval), "now waiting for the court");
    assert!(!p.body.open_steps().contains(&StepKind::CourtPetition));
}
