//! The home board's page, the intake's open cases and 閲覧制限, driven through the pages.

use super::*;

#[tokio::test]
async fn a_long_board_draws_its_most_urgent_page_and_says_how_many_more() {
    let (_dir, svc, case) = world();
    let (_, cw) = svc.sign_in("cw", &Password::attempt(PW), None, None).unwrap();
    let first = svc.case(&cw.actor, CaseId(case)).unwrap();
    let (child, unit) = (first.case.body.child, first.case.body.unit);
    for _ in 0..HOME_CLOCKS {
        let old = &first.case.body.intake;
        let intake = NewIntake {
            kind: old.kind,
            received_at: old.received_at,
            route: old.route.clone(),
            consultation_type: old.consultation_type.clone(),
            chief_complaint: "続報".into(),
            content: String::new(),
        };
        let new = NewCase {
            unit,
            intake,
            abuse: mamoru_core::case::NewAbuse::default(),
            reporter: None,
            assigned: vec![],
        };
        svc.open_case(&cw.actor, child, new).unwrap();
    }
    let total = svc.board(&cw.actor, unit, None).unwrap().len();
    assert!(total > HOME_CLOCKS, "{total}");
    let (cookie, _) = sign_in(&svc).await;
    let cards = |page: &str| page.matches("<li class=\"clock ").count();
    let home = body(&warp::test::request().path("/home").header("cookie", &cookie).reply(&api(&svc)).await);
    assert_eq!(cards(&home), HOME_CLOCKS);
    assert!(home.contains(&format!("（{total}件）")), "the heading counts them all");
    assert!(home.contains(&format!("ほか{}件", total - HOME_CLOCKS)), "{home}");
    let path = format!("/home?unit={}&all=1", unit.0);
    assert!(home.replace("&#38;", "&").contains(&format!("href=\"{path}\"")), "{home}");
    let all = body(&warp::test::request().path(&path).header("cookie", &cookie).reply(&api(&svc)).await);
    assert_eq!(cards(&all), total);
    assert!(!all.contains("すべて表示"));
}

#[tokio::test]
async fn an_intake_for_a_child_with_an_open_case_says_so_and_links_it() {
    let (_dir, svc, case) = world();
    let (_, cw) = svc.sign_in("cw", &Password::attempt(PW), None, None).unwrap();
    let open = svc.case(&cw.actor, CaseId(case)).unwrap();
    let (cookie, _) = sign_in(&svc).await;
    let path = format!("/intake?child={}", open.case.body.child.0);
    let page = body(&warp::test::request().path(&path).header("cookie", &cookie).reply(&api(&svc)).await);
    let note =
        page.split("class=\"open-cases\"").nth(1).expect("the open case is named").split("</p>").next();
    let link = format!(
        "<a href=\"/cases/{case}\" target=\"_blank\" rel=\"noopener\">{}</a>",
        open.case.body.case_no
    );
    assert!(note.unwrap().contains(&link), "{page}");
}

#[tokio::test]
async fn a_supervisor_restricts_a_case_from_its_page_and_lifts_it_and_a_caseworker_may_not() {
    let (_dir, svc, case) = world();
    let admin = add_supervisor(&svc);
    let page = |cookie: String| {
        let svc = svc.clone();
        async move {
            let r = warp::test::request()
                .path(&format!("/cases/{case}"))
                .header("cookie", cookie)
                .reply(&api(&svc))
                .await;
            (r.status(), body(&r))
        }
    };
    let path = format!("/cases/{case}/restriction");
    let (cookie, key) = sign_in(&svc).await;
    assert!(!page(cookie.clone()).await.1.contains("/restriction\""), "no form for a caseworker");
    let r = post(&svc, &cookie, &path, format!("form_key={key}&rev=1"), None).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN, "{}", body(&r));

    // The caseworker works the case: the form offers them ticked, so that restricting does not
    // shut out the case's own worker unless the supervisor unticks them.
    let (_, cw) = svc.sign_in("cw", &Password::attempt(PW), None, None).unwrap();
    let stored = svc.case(&cw.actor, CaseId(case)).unwrap().case;
    let (_, sv) = svc.sign_in("sv", &Password::attempt(PW), None, None).unwrap();
    let to_cw = mamoru_core::case::Assign { main: Some(cw.actor.staff()), ..Default::default() };
    svc.assign_case(&sv.actor, CaseId(case), stored.rev, &to_cw).unwrap();
    let (sv_cookie, sv_key) = sign_in_as(&svc, "sv").await;
    let offered = page(sv_cookie.clone()).await.1;
    assert!(offered.contains("閲覧を制限"));
    let worker = format!("name=\"staff_{}\" value=\"1\" checked", cw.actor.staff().0);
    assert!(offered.contains(&worker), "{offered}");
    // Someone not of the unit is refused by name, and nothing changes.
    let r = post(&svc, &sv_cookie, &path, format!("form_key={sv_key}&rev=2&staff_999=1"), None).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{}", body(&r));
    assert!(body(&r).contains("閲覧できる職員"), "{}", body(&r));
    assert_eq!(page(cookie.clone()).await.0, StatusCode::OK);
    // Restricted to the supervisor alone (always on the list): the caseworker is shut out.
    let r = post(&svc, &sv_cookie, &path, format!("form_key={sv_key}&rev=2"), None).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "{}", body(&r));
    let (_, shown) = page(sv_cookie.clone()).await;
    assert!(shown.contains("閲覧制限中") && shown.contains("佐野 スーパーバイザー"), "{shown}");
    assert_eq!(page(cookie.clone()).await.0, StatusCode::FORBIDDEN);
    // Lifted from the revision the page showed.
    let r = post(&svc, &sv_cookie, &path, format!("form_key={sv_key}&rev=3&lift=1"), None).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "{}", body(&r));
    assert_eq!(page(cookie).await.0, StatusCode::OK);
    // Each restriction and lifting is in the audit log, the refused one as refused.
    let filter =
        mamoru_core::service::AuditFilter { action: Some("restrict_case".into()), ..Default::default() };
    let entries = svc.search_audit(&admin.actor, &filter, 10).unwrap();
    let results: Vec<&str> = entries.iter().rev().map(|e| e.result.as_str()).collect();
    assert_eq!(results, ["forbidden", "invalid", "ok", "ok"]);
}
