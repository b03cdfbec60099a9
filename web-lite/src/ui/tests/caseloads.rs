//! 担当 from the tablet: the supervisor assigns a case from its page (a caseworker is not offered
//! it and is refused), the change is listed with its reason; 担当ケース lists the worker's open
//! cases, 担当状況 each worker's load and the cases nobody works.

use super::*;

#[tokio::test]
async fn the_supervisor_assigns_from_the_case_page_and_the_lists_follow() {
    let (_dir, svc, case) = world();
    add_supervisor(&svc);
    let get = |path: String, cookie: String| {
        let svc = svc.clone();
        async move {
            let r = warp::test::request().path(&path).header("cookie", &cookie).reply(&api(&svc)).await;
            (r.status(), body(&r))
        }
    };
    let (cw_cookie, cw_key) = sign_in(&svc).await;
    let (sv_cookie, sv_key) = sign_in_as(&svc, "sv").await;
    let (_, cw) = svc.sign_in("cw", &Password::attempt(PW), None, None).unwrap();
    let (_, sv) = svc.sign_in("sv", &Password::attempt(PW), None, None).unwrap();
    let (cw_id, sv_id) = (cw.actor.staff().0, sv.actor.staff().0);
    let path = format!("/cases/{case}/assignment");

    // Nobody works the report yet: the supervisor's 担当状況 lists it as 担当未定.
    let (status, loads) = get("/caseloads".into(), sv_cookie.clone()).await;
    assert_eq!(status, 200);
    assert!(loads.contains("担当未定（1件）") && loads.contains("髙﨑 さくら"), "{loads}");
    // A caseworker has a list of their own, not the unit's loads, and no 担当 form.
    assert_eq!(get("/caseloads".into(), cw_cookie.clone()).await.0, 403);
    let (_, own) = get("/caseload".into(), cw_cookie.clone()).await;
    assert!(own.contains("対応中の担当ケースはありません"), "{own}");
    let (_, page) = get(format!("/cases/{case}"), cw_cookie.clone()).await;
    assert!(!page.contains(&format!("action=\"{path}\"")), "no form for a caseworker");
    let r = post(&svc, &cw_cookie, &path, format!("form_key={cw_key}&rev=1&main={cw_id}"), None).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN, "{}", body(&r));

    // A role that works no cases is refused by name, and what was chosen and typed stays.
    let admin_id = 1;
    let r = post(
        &svc,
        &sv_cookie,
        &path,
        format!("form_key={sv_key}&rev=1&main={admin_id}&reason=%E5%8F%97%E7%90%86"),
        None,
    )
    .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{}", body(&r));
    let refused = body(&r);
    assert!(refused.contains("ケースを担当できる職種の職員を選んでください"), "{refused}");
    assert!(refused.contains("name=\"reason\" value=\"受理\""), "{refused}");

    // The supervisor makes the caseworker 主担当 and themselves 副担当, with a reason.
    let form = format!(
        "form_key={sv_key}&rev=1&main={cw_id}&sub_{sv_id}=1&reason=%E5%8F%97%E7%90%86%E4%BC%9A%E8%AD%B0"
    );
    let r = post(&svc, &sv_cookie, &path, form, None).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "{}", body(&r));
    assert_eq!(r.headers()["location"], format!("/cases/{case}?saved=assigned#assignment"));
    let (_, page) = get(format!("/cases/{case}?saved=assigned"), sv_cookie.clone()).await;
    assert!(page.contains("担当を変更しました。"), "{page}");
    assert!(page.contains("主担当 木下 福祉司・副担当 佐野 スーパーバイザー（受理会議）"), "{page}");
    assert!(page.contains(&format!("<option value=\"{cw_id}\" selected>")), "{page}");

    // The caseworker's 担当ケース: the report, as 主担当, with its 48-hour clock.
    let (_, own) = get("/caseload".into(), cw_cookie.clone()).await;
    assert!(own.contains("対応中 1件（主担当 1件・副担当 0件）"), "{own}");
    assert!(own.contains("安全確認（48時間）") && own.contains("接触の記録なし"), "{own}");
    // The supervisor's table, and the worker's list opened from it.
    let (_, loads) = get("/caseloads".into(), sv_cookie.clone()).await;
    assert!(loads.contains("担当未定（0件）"), "{loads}");
    assert!(loads.contains(&format!("href=\"/caseload?worker={cw_id}\"")), "{loads}");
    let (status, theirs) = get(format!("/caseload?worker={cw_id}"), sv_cookie.clone()).await;
    assert_eq!(status, 200);
    assert!(
        theirs.contains("担当ケース <small>木下 福祉司</small>") && theirs.contains("担当を変更"),
        "{theirs}"
    );
    assert_eq!(get(format!("/caseload?worker={sv_id}"), cw_cookie.clone()).await.0, 403);

    // A long caseload draws its 80 most urgent cases, and all on request.
    let stored = svc.case(&cw.actor, CaseId(case)).unwrap().case.body;
    for _ in 0..80 {
        let new = NewCase {
            unit: stored.unit,
            intake: NewIntake { kind: IntakeKind::Consultation, ..intake_of(&stored) },
            abuse: mamoru_core::case::NewAbuse::default(),
            reporter: None,
            assigned: vec![cw.actor.staff()],
        };
        svc.open_case(&cw.actor, stored.child, new).unwrap();
    }
    let (_, own) = get("/caseload".into(), cw_cookie.clone()).await;
    assert!(own.contains("対応中 81件") && own.contains("ほか1件"), "{own}");
    assert_eq!(own.matches("<li class=\"clock").count(), 80);
    assert!(own.len() < 60 * 1024, "{} bytes", own.len());
    let (_, all) = get("/caseload?all=1".into(), cw_cookie).await;
    assert_eq!(all.matches("<li class=\"clock").count(), 81);
}

fn intake_of(c: &mamoru_core::case::Case) -> NewIntake {
    NewIntake {
        kind: c.intake.kind,
        received_at: c.intake.received_at,
        route: c.intake.route.clone(),
        consultation_type: c.intake.consultation_type.clone(),
        chief_complaint: "相談".into(),
        content: String::new(),
    }
}
