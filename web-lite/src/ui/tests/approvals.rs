//! 決裁 from the tablet: an assessment waits with 決裁待ち; only someone else who may approve is
//! offered the form; sending back needs a comment (the field named, what was typed kept); a
//! worker's 終結伺い closes the case when the supervisor approves it.

use super::*;

#[tokio::test]
async fn an_assessment_is_approved_and_a_closure_asked_for_closes_the_case() {
    let (_dir, svc, case) = world();
    add_supervisor(&svc);
    let page = |cookie: String, path: String| {
        let svc = svc.clone();
        async move {
            let r = warp::test::request().path(&path).header("cookie", &cookie).reply(&api(&svc)).await;
            body(&r)
        }
    };
    let (cw_cookie, cw_key) = sign_in(&svc).await;
    let (sv_cookie, sv_key) = sign_in_as(&svc, "sv").await;
    let (_, cw) = svc.sign_in("cw", &Password::attempt(PW), None, None).unwrap();
    let answers = (1..=7).map(|i| (format!("q{i}"), i == 3)).collect();
    let a = svc.record_assessment(&cw.actor, CaseId(case), "protection_decision", answers).unwrap();
    let approval = format!("/cases/{case}/approval");

    // The worker sees it waiting, and no form of the approver's.
    let own = page(cw_cookie.clone(), format!("/cases/{case}")).await;
    assert!(own.contains("決裁待ち</span> 伺い 木下 福祉司"), "{own}");
    assert!(!own.contains(&format!("action=\"{approval}\"")), "{own}");
    let r = post(
        &svc,
        &cw_cookie,
        &approval,
        format!("form_key={cw_key}&rev={}&subject=assessment&record={}&verdict=approved", a.rev, a.id),
        None,
    )
    .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN, "{}", body(&r));

    // The supervisor sends it back without a comment: named, refused, nothing decided.
    let theirs = page(sv_cookie.clone(), format!("/cases/{case}")).await;
    assert!(theirs.contains(&format!("action=\"{approval}\"")), "{theirs}");
    let decide = |verdict: &str, comment: &str| {
        format!(
            "form_key={sv_key}&rev={}&subject=assessment&record={}&verdict={verdict}&comment={}",
            a.rev,
            a.id,
            enc(comment)
        )
    };
    let r = post(&svc, &sv_cookie, &approval, decide("returned", ""), None).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{}", body(&r));
    assert!(body(&r).contains("決裁のコメント"), "{}", body(&r));
    assert!(body(&r).contains("data-invalid=\"comment\""), "the field is marked");
    let sent = format!("data-sent=\"subject=assessment record={}\"", a.id);
    assert!(body(&r).contains(&sent), "in the form of this assessment");
    // From a stale page: refused as a conflict, the comment typed kept in its form.
    let stale = decide("returned", "家族構成を確認").replace(&format!("rev={}", a.rev), "rev=0");
    let r = post(&svc, &sv_cookie, &approval, stale, None).await;
    assert_eq!(r.status(), StatusCode::CONFLICT, "{}", body(&r));
    assert!(body(&r).contains("name=\"comment\" value=\"家族構成を確認\""), "{}", body(&r));
    let r = post(&svc, &sv_cookie, &approval, decide("approved", "確認しました"), None).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "{}", body(&r));
    assert_eq!(r.headers()["location"], format!("/cases/{case}?saved=approved"));
    let after = page(cw_cookie.clone(), format!("/cases/{case}?saved=approved")).await;
    assert!(after.contains("決裁済み</span>") && after.contains("／決裁 佐野 スーパーバイザー"), "{after}");
    assert!(after.contains("確認しました"), "{after}");

    // 終結伺い: the worker asks; the form is gone while it waits; the supervisor has no direct
    // close then, only the decision.
    let rev = |svc: &Service| svc.case(&cw.actor, CaseId(case)).unwrap().case.rev;
    assert!(after.contains(&format!("action=\"/cases/{case}/ask-closure\"")), "{after}");
    let ask = format!("form_key={cw_key}&rev={}&reason={}", rev(&svc), enc("助言指導により終了"));
    let r = post(&svc, &cw_cookie, &format!("/cases/{case}/ask-closure"), ask, None).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "{}", body(&r));
    let own = page(cw_cookie.clone(), format!("/cases/{case}?saved=asked_closure")).await;
    assert!(own.contains("終結伺いを送りました") && own.contains("助言指導により終了"), "{own}");
    assert!(!own.contains(&format!("action=\"/cases/{case}/ask-closure\"")), "{own}");
    let theirs = page(sv_cookie.clone(), format!("/cases/{case}")).await;
    assert!(!theirs.contains(&format!("action=\"/cases/{case}/close\"")), "{theirs}");
    assert!(theirs.contains("name=\"subject\" value=\"closure\""), "{theirs}");
    let close = format!("form_key={sv_key}&rev={}&subject=closure&record={case}&verdict=approved", rev(&svc));
    let r = post(&svc, &sv_cookie, &approval, close, None).await;
    assert_eq!(r.headers()["location"], format!("/cases/{case}?saved=approved_closure"), "{}", body(&r));
    let closed = page(cw_cookie, format!("/cases/{case}")).await;
    assert!(
        closed.contains("助言指導により終了・決裁 佐野 スーパーバイザー（伺い 木下 福祉司）"),
        "{closed}"
    );
    assert_eq!(
        svc.case(&cw.actor, CaseId(case)).unwrap().case.body.status,
        mamoru_core::case::CaseStatus::Closed
    );
}
