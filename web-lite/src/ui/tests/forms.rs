//! 帳票 from the tablet: the case page offers the forms core says the case has, and each opens
//! as a PDF (inline, so the iPad's share sheet prints it) under its Japanese file name.

use super::{api, body, enc, post, sign_in, world};

#[tokio::test]
async fn the_case_page_offers_its_forms_and_each_opens_as_a_pdf() {
    let (_dir, svc, case) = world();
    let (cookie, _) = sign_in(&svc).await;
    let routes = api(&svc);
    let page =
        warp::test::request().path(&format!("/cases/{case}")).header("cookie", &cookie).reply(&routes).await;
    assert_eq!(page.status(), 200);
    let page = body(&page);
    let url = format!("/api/v1/cases/{case}/forms/notes");
    assert!(page.contains(&format!("href=\"{url}\"")) && page.contains("経過記録"), "{page}");
    assert!(page.contains("虐待相談・通告受付票"), "a caseworker may see the reporter's sheet");
    assert!(!page.contains("一時保護決定通知書"), "no protection, no notice");

    let r = warp::test::request().path(&url).header("cookie", &cookie).reply(&routes).await;
    assert_eq!(r.status(), 200, "{}", body(&r));
    assert_eq!(r.headers()["content-type"], "application/pdf");
    assert!(r.body().starts_with(b"%PDF-"));
    let disposition = r.headers()["content-disposition"].to_str().unwrap();
    // 経過記録_… percent-encoded as UTF-8.
    assert!(
        disposition.starts_with("inline;") && disposition.contains("filename*=UTF-8''%E7%B5%8C%E9%81%8E"),
        "{disposition}"
    );

    let list = warp::test::request()
        .path(&format!("/api/v1/cases/{case}/forms"))
        .header("cookie", &cookie)
        .reply(&routes)
        .await;
    let list: serde_json::Value = serde_json::from_slice(list.body()).unwrap();
    let names: Vec<&str> =
        list["forms"].as_array().unwrap().iter().map(|f| f["form"].as_str().unwrap()).collect();
    assert_eq!(names, ["intake-sheet", "notes", "child-record"]);

    let r = warp::test::request()
        .path(&format!("/api/v1/cases/{case}/forms/no-such-form"))
        .header("cookie", &cookie)
        .reply(&routes)
        .await;
    assert_eq!(r.status(), 404);
    let r = warp::test::request()
        .path(&format!("/api/v1/cases/{case}/forms/notes?from=R8.13.1"))
        .header("cookie", &cookie)
        .reply(&routes)
        .await;
    assert_eq!(r.status(), 422, "a period that is no date is named: {}", body(&r));
    let r = warp::test::request().path(&url).reply(&routes).await;
    assert_eq!(r.status(), 401, "no session, no form");
}

/// 家庭裁判所への申立て from the case page: the documents listed with a 非開示希望 box each, a
/// refusal naming the missing field with what was typed kept, then the petition on the case
/// page and its paper as PDF.
#[tokio::test]
async fn a_petition_is_prepared_with_its_documents_marked_and_prints_from_the_case_page() {
    use warp::http::StatusCode;
    let (_dir, svc, case) = world();
    let (cookie, key) = sign_in(&svc).await;
    let routes = api(&svc);
    let start = format!(
        "form_key={key}&at=2026-11-24T09%3A00&place_kind=shelter&place=%E4%B8%80%E6%99%82%E4%BF%9D%E8%AD%B7%E6%89%80&reason=x&hearing_after=1&confirm=1"
    );
    let r = post(&svc, &cookie, &format!("/cases/{case}/protections"), start, None).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "{}", body(&r));

    let page = warp::test::request()
        .path(&format!("/cases/{case}/petition"))
        .header("cookie", &cookie)
        .reply(&routes)
        .await;
    assert_eq!(page.status(), 200, "{}", body(&page));
    let page = body(&page);
    assert!(page.contains("name=\"withhold:intake\"") && page.contains("通告者に関する記載を除く"), "{page}");

    let path = format!("/cases/{case}/petition");
    let typed = format!(
        "form_key={key}&idempotency_key=p-1&petition=0&rev=0&kind=protection_extension&withhold%3Aintake=1"
    );
    let r = post(&svc, &cookie, &path, typed, None).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{}", body(&r));
    let refused = body(&r);
    assert!(refused.contains("申立ての理由"), "the field named: {refused}");
    assert!(refused.contains("name=\"withhold:intake\" value=\"1\" checked"), "the mark kept: {refused}");

    let grounds = enc("家庭環境の改善が確認できない");
    let typed = format!(
        "form_key={key}&idempotency_key=p-1&petition=0&rev=0&kind=protection_extension&withhold%3Aintake=1&grounds={grounds}"
    );
    let r = post(&svc, &cookie, &path, typed, None).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "{}", body(&r));
    let page =
        warp::test::request().path(&format!("/cases/{case}")).header("cookie", &cookie).reply(&routes).await;
    let page = body(&page);
    assert!(
        page.contains("一時保護の承認") && page.contains("うち非開示希望 1点") && page.contains("未提出"),
        "{page}"
    );
    let list = warp::test::request()
        .path(&format!("/api/v1/cases/{case}/petitions"))
        .header("cookie", &cookie)
        .reply(&routes)
        .await;
    let list: serde_json::Value = serde_json::from_slice(list.body()).unwrap();
    let id = list["petitions"][0]["id"].as_u64().unwrap();
    assert_eq!(list["petitions"][0]["body"]["documents"][0]["withhold"], true, "{list}");
    let url = format!("/api/v1/cases/{case}/forms/extension-petition?petition={id}");
    assert!(page.contains(&url.replace('&', "&#38;")) || page.contains(&url), "{page}");
    let r = warp::test::request().path(&url).header("cookie", &cookie).reply(&routes).await;
    assert_eq!(r.status(), 200, "{}", body(&r));
    assert!(r.body().starts_with(b"%PDF-"));

    // Two pages drawn at the same revision: the first save lands; the second is refused with
    // the page at the stored revision, its text kept, nothing overwritten.
    let rev = list["petitions"][0]["rev"].as_u64().unwrap();
    let edit = |grounds: &str| {
        format!(
            "form_key={key}&petition={id}&rev={rev}&kind=protection_extension&withhold%3Aintake=1&grounds={}",
            enc(grounds)
        )
    };
    let r = post(&svc, &cookie, &path, edit("一回目の修正"), None).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "{}", body(&r));
    let r = post(&svc, &cookie, &path, edit("二回目の修正"), None).await;
    assert_eq!(r.status(), StatusCode::CONFLICT, "{}", body(&r));
    let stale = body(&r);
    assert!(stale.contains("二回目の修正"), "what was typed is kept: {stale}");
    assert!(stale.contains(&format!("name=\"rev\" value=\"{}\"", rev + 1)), "{stale}");

    // Filed (over the API, as another client would): the page shows it, nothing to save.
    let rev = rev + 1;
    let put = serde_json::json!({ "rev": rev, "body": {
        "kind": "protection_extension", "grounds": "家庭環境の改善が確認できない",
        "withhold": ["intake"], "filed_on": "2026-11-24" } });
    let r = warp::test::request()
        .method("PUT")
        .path(&format!("/api/v1/cases/{case}/petitions/{id}"))
        .header("cookie", &cookie)
        .header("content-type", "application/json")
        .body(put.to_string())
        .reply(&routes)
        .await;
    assert_eq!(r.status(), 200, "{}", body(&r));
    let page = warp::test::request()
        .path(&format!("/cases/{case}/petition?id={id}"))
        .header("cookie", &cookie)
        .reply(&routes)
        .await;
    let page = body(&page);
    assert!(page.contains("提出済み") && page.contains("<fieldset class=\"plain\" disabled>"), "{page}");
    assert!(!page.contains("<button type=\"submit\" class=\"primary\">"), "{page}");
}
