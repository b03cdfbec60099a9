//! 帳票 from the tablet: the case page offers the forms core says the case has, and each opens
//! as a PDF (inline, so the iPad's share sheet prints it) under its Japanese file name.

use super::{api, body, sign_in, world};

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
