//! 通告者: shown on a page of its own, to the roles that may see it, each view audited; the
//! case page only offers it, and only to them.

use mamoru_core::case::Reporter;
use mamoru_core::service::AuditFilter;

use super::*;

#[tokio::test]
async fn the_reporter_is_shown_on_request_to_the_roles_that_may_see_them_and_each_view_is_audited() {
    let (_dir, svc, first) = world();
    let (_, cw) = svc.sign_in("cw", &Password::attempt(PW), None, None).unwrap();
    let (cookie, _) = sign_in(&svc).await;
    let get = |path: String, cookie: String| {
        let svc = svc.clone();
        async move { warp::test::request().path(&path).header("cookie", &cookie).reply(&api(&svc)).await }
    };
    // No reporter on file: nothing offered.
    let page = body(&get(format!("/cases/{first}"), cookie.clone()).await);
    assert!(!page.contains("/reporter\""), "{page}");

    let old = svc.case(&cw.actor, CaseId(first)).unwrap().case.body;
    let reporter = Reporter {
        anonymous: false,
        name: "架空 先生".into(),
        relation: "みどり小学校 担任".into(),
        phone: "０２７-０００-１２３４".into(),
        note: String::new(),
    };
    let new = NewCase {
        unit: old.unit,
        intake: NewIntake {
            kind: old.intake.kind,
            received_at: old.intake.received_at,
            route: old.intake.route.clone(),
            consultation_type: old.intake.consultation_type.clone(),
            chief_complaint: "続報".into(),
            content: String::new(),
        },
        abuse: mamoru_core::case::NewAbuse::default(),
        reporter: Some(reporter),
        assigned: vec![],
    };
    let case = svc.open_case(&cw.actor, old.child, new).unwrap().id;
    let page = body(&get(format!("/cases/{case}"), cookie.clone()).await);
    assert!(page.contains(&format!("href=\"/cases/{case}/reporter\"")), "offered to the caseworker");
    assert!(!page.contains("架空 先生"), "but not shown on the case page");
    let shown = get(format!("/cases/{case}/reporter"), cookie.clone()).await;
    assert_eq!(shown.status(), 200);
    let shown = body(&shown);
    assert!(shown.contains("架空 先生") && shown.contains("href=\"tel:0270001234\""), "{shown}");
    assert!(shown.contains("保護者・家族に見せないでください"), "{shown}");

    // A clerk (who prints for guardians) is neither offered it nor shown it.
    let (_, admin) = svc.sign_in("admin", &Password::attempt(PW), None, None).unwrap();
    let clerk = NewStaff {
        login: Login::parse("clerk").unwrap(),
        display_name: "事務 職員".into(),
        role: Role::Clerk,
        units: vec![old.unit],
    };
    svc.add_staff(&admin.actor, clerk, &Password::new(PW).unwrap()).unwrap();
    let (clerk_cookie, _) = sign_in_as(&svc, "clerk").await;
    let page = body(&get(format!("/cases/{case}"), clerk_cookie.clone()).await);
    assert!(!page.contains("/reporter\""), "not offered to a clerk");
    let refused = get(format!("/cases/{case}/reporter"), clerk_cookie).await;
    assert_eq!(refused.status(), 403);
    assert!(!body(&refused).contains("架空 先生"));

    // Each view and each refusal is in the audit log.
    add_supervisor(&svc);
    let (_, sv) = svc.sign_in("sv", &Password::attempt(PW), None, None).unwrap();
    let filter = AuditFilter { action: Some("view_reporter".into()), ..AuditFilter::default() };
    let entries = svc.search_audit(&sv.actor, &filter, 100).unwrap();
    let results: Vec<&str> = entries.iter().map(|e| e.result.as_str()).collect();
    assert_eq!(results.iter().filter(|r| **r == "ok").count(), 1, "{results:?}");
    assert_eq!(results.iter().filter(|r| **r == "forbidden").count(), 1, "{results:?}");
}
