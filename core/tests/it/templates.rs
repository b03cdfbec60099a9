//! A form's new version added as data by an administrator: used from its day on, never for a
//! paper of an earlier day (which prints as before, byte for byte); refused, changing nothing,
//! when it breaks a rule of the paper (the reporter on a notice, the 教示 dropped, a past day, a
//! character the fonts lack) or comes from someone else than an administrator; audited.

use mamoru_core::Error;
use mamoru_core::case::IntakeKind;
use mamoru_core::error::Why;
use mamoru_core::forms::{Field, FormKind, Row, TemplateDraft};
use mamoru_core::ids::CaseId;
use mamoru_core::service::AuditFilter;
use mamoru_core::service::forms::FormOptions;
use mamoru_core::staff::Role;
use mamoru_core::time::Date;

use crate::forms::text_of;
use crate::support::{World, t0, urgent_start, world};

fn newest_draft(w: &World, form: FormKind, valid_from: &str) -> TemplateDraft {
    let list = w.svc.form_templates(&w.admin).unwrap();
    let newest = list.iter().rfind(|e| e.template.form == form).unwrap();
    let mut draft = TemplateDraft::of(&newest.template, Date::parse_iso(valid_from).unwrap());
    draft.reason = "架空市告示第1号による文言の変更".into();
    draft
}

#[test]
fn an_added_version_prints_from_its_day_and_leaves_earlier_papers_as_they_were() {
    let w = world();
    let cw = w.staff("cw1", Role::Caseworker, w.u1);
    let form = FormKind::ProtectionStartNotice;
    let before = w.svc.form_templates(&w.admin).unwrap().len();

    // A protection of 2 June: its notice with the shipped version 2.
    let child = w.child(&cw, "架空", "花子", "かくう", "はなこ", "2018-05-01");
    let id = CaseId(w.case(&cw, child, IntakeKind::AbuseReport, t0()).id);
    w.clock.set(t0().plus(7200));
    w.svc.start_protection(&cw, id, urgent_start(t0().plus(3600), true)).unwrap();
    let old = w.svc.print_form(&cw, id, form, &FormOptions::default()).unwrap();
    assert_eq!(old.template.version, 2);

    // Version 3 from the next day: new words under the title.
    let mut draft = newest_draft(&w, form, "2025-06-03");
    draft.lead = "児童福祉法第33条第1項の規定により、下記の児童を一時保護しました（改正後の文言）。".into();
    let added = w.svc.add_form_template(&w.admin, &draft).unwrap();
    assert_eq!((added.version, added.family_facing, added.appeal.is_some()), (3, true, true));
    let list = w.svc.form_templates(&w.admin).unwrap();
    assert_eq!(list.len(), before + 1);
    let entry = list.iter().find(|e| e.template.form == form && e.template.version == 3).unwrap();
    let by = entry.added.as_ref().unwrap();
    assert_eq!(by.reason, "架空市告示第1号による文言の変更");
    assert!(!by.by.is_empty());
    // Sent again (a lost answer): nothing more is added.
    assert_eq!(w.svc.add_form_template(&w.admin, &draft).unwrap(), added);
    assert_eq!(w.svc.form_templates(&w.admin).unwrap().len(), before + 1);

    // The paper of 2 June is the same as before, to the byte.
    let again = w.svc.print_form(&cw, id, form, &FormOptions::default()).unwrap();
    assert_eq!((again.template.version, &again.sha256), (2, &old.sha256));

    // A protection of 3 June takes version 3, its new words and the 教示.
    let other = w.child(&cw, "架空", "次郎", "かくう", "じろう", "2017-04-01");
    let next_day = t0().plus(86_400);
    w.clock.set(next_day);
    let id2 = CaseId(w.case(&cw, other, IntakeKind::AbuseReport, next_day).id);
    w.clock.set(next_day.plus(1200));
    w.svc.start_protection(&cw, id2, urgent_start(next_day.plus(600), true)).unwrap();
    let offered = w.svc.case_forms(&cw, id2).unwrap();
    assert!(offered.iter().any(|o| o.form == form && o.version == 3), "{offered:?}");
    let new = w.svc.print_form(&cw, id2, form, &FormOptions::default()).unwrap();
    assert_eq!(new.template.version, 3);
    let text = text_of(&new.pdf);
    assert!(text.contains("改正後の文言") && text.contains("教示"), "{text}");
    assert!(text.contains("様式 v3（令和7年6月3日から）"), "{text}");
    // And the old version is still there to make an old paper again.
    let asked = FormOptions { version: Some(2), ..FormOptions::default() };
    let v2 = w.svc.print_form(&cw, id2, form, &asked).unwrap();
    assert!(!text_of(&v2.pdf).contains("改正後の文言"));

    // Audited as an edit of the reference data, naming the record.
    let entries = w.svc.search_audit(&w.admin, &AuditFilter::default(), 200).unwrap();
    assert!(
        entries.iter().any(|e| e.action == "edit_code_tables"
            && e.result == "ok"
            && e.kind.as_deref() == Some("form_template")),
        "{entries:?}"
    );
}

#[test]
fn a_version_that_breaks_a_rule_of_its_paper_is_refused_and_changes_nothing() {
    let w = world();
    let cw = w.staff("cw1", Role::Caseworker, w.u1);
    let before = w.svc.form_templates(&w.admin).unwrap();
    let notice = FormKind::ProtectionStartNotice;
    let invalid = |draft: &TemplateDraft| match w.svc.add_form_template(&w.admin, draft).unwrap_err() {
        Error::Invalid { field, reason } => (field, reason),
        other => panic!("{other:?}"),
    };

    let past = newest_draft(&w, notice, "2025-06-01");
    assert_eq!(invalid(&past).0, "valid_from", "a paper already printed prints the same again");

    let mut reporter = newest_draft(&w, notice, "2025-07-01");
    reporter.rows.push(Row { label: "通告者".into(), field: Field::ReporterName });
    assert_eq!(invalid(&reporter), ("rows", Why::ReporterOnFamilyForm));
    // Nor on a paper to the court.
    let mut court = newest_draft(&w, FormKind::WarrantRequest, "2025-07-01");
    court.rows.push(Row { label: "通告者の連絡先".into(), field: Field::ReporterPhone });
    assert_eq!(invalid(&court), ("rows", Why::ReporterOnFamilyForm));

    let mut no_appeal = newest_draft(&w, notice, "2025-07-01");
    no_appeal.appeal = None;
    assert_eq!(invalid(&no_appeal).0, "appeal", "a disposition's notice keeps its 教示");

    let mut gaiji = newest_draft(&w, notice, "2025-07-01");
    gaiji.title = "一時保護決定通知書\u{F8F0}".into();
    assert!(matches!(invalid(&gaiji), ("form", Why::Unprintable(c)) if c.contains("U+F8F0")));

    let mut twice = newest_draft(&w, notice, "2025-07-01");
    twice.rows.push(Row { label: "氏名".into(), field: Field::ChildName });
    assert_eq!(invalid(&twice).0, "rows");

    let mut elsewhere = newest_draft(&w, notice, "2025-07-01");
    elsewhere.rows.push(Row { label: "担当".into(), field: Field::Workers });
    let (field, why) = invalid(&elsewhere);
    assert_eq!(field, "rows");
    assert!(why.to_string().contains("workers is not filled on protection-start-notice"), "{why}");

    let mut empty = newest_draft(&w, notice, "2025-07-01");
    empty.rows.clear();
    assert!(matches!(w.svc.add_form_template(&w.admin, &empty), Err(Error::Incomplete { .. })));

    let mut no_reason = newest_draft(&w, notice, "2025-07-01");
    no_reason.reason = " ".into();
    assert!(matches!(w.svc.add_form_template(&w.admin, &no_reason), Err(Error::Incomplete { .. })));

    // Only an administrator adds one.
    let fine = newest_draft(&w, notice, "2025-07-01");
    assert!(matches!(w.svc.add_form_template(&cw, &fine), Err(Error::Forbidden { .. })));
    assert!(matches!(w.svc.form_templates(&cw), Err(Error::Forbidden { .. })));

    assert_eq!(w.svc.form_templates(&w.admin).unwrap(), before);
    // Kept inside the centre, the intake sheet may name the reporter; its 決裁欄 may change.
    let mut sheet = newest_draft(&w, FormKind::IntakeSheet, "2025-07-01");
    sheet.approvals = vec!["所長".into(), "課長".into(), "担当".into()];
    let v2 = w.svc.add_form_template(&w.admin, &sheet).unwrap();
    assert_eq!((v2.version, v2.approvals.len()), (2, 3));
    assert!(v2.rows.iter().any(|r| r.field == Field::ReporterName));
}

#[test]
fn a_draft_names_its_fields_by_key_and_an_unknown_one_is_named() {
    let json = serde_json::json!({
        "form": "protection-end-notice",
        "valid_from": "2026-04-01",
        "reason": "様式の見直し",
        "title": "一時保護解除通知書",
        "rows": [
            { "label": "児童氏名", "field": "child_name" },
            { "label": "解除の理由", "field": "protection_end_reason" },
        ],
    });
    let draft: TemplateDraft = serde_json::from_value(json.clone()).unwrap();
    assert_eq!(draft.form, FormKind::ProtectionEndNotice);
    assert_eq!(draft.rows[1].field, Field::ProtectionEndReason);
    assert!(draft.appeal.is_none() && draft.lead.is_empty() && !draft.landscape);
    let wrong = json.to_string().replace("\"child_name\"", "\"child_nam\"");
    let err = serde_json::from_str::<TemplateDraft>(&wrong).unwrap_err();
    assert!(err.to_string().contains("child_nam"), "{err}");
    let unknown = json.to_string().replace("\"title\"", "\"titel\"");
    assert!(serde_json::from_str::<TemplateDraft>(&unknown).unwrap_err().to_string().contains("titel"));
    // Every field has a key of its own.
    let mut keys: Vec<&str> = Field::ALL.iter().map(|f| f.as_str()).collect();
    keys.sort_unstable();
    keys.dedup();
    assert_eq!(keys.len(), Field::ALL.len());
}
