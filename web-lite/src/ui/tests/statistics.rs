//! 統計 on the tablet: a supervisor's tables with each number a link to its cases, the warnings,
//! the XLSX; the same figures over the API; a caseworker has no such page.

use super::{add_supervisor, api, body, sign_in, sign_in_as, world};

#[tokio::test]
async fn a_supervisor_reads_the_tables_opens_a_number_and_downloads_the_xlsx() {
    let (_dir, svc, case) = world();
    add_supervisor(&svc);
    let (cookie, _) = sign_in_as(&svc, "sv").await;
    let routes = api(&svc);
    let get = |path: String, cookie: String| {
        let routes = routes.clone();
        async move { warp::test::request().path(&path).header("cookie", &cookie).reply(&routes).await }
    };
    let page = get("/statistics?from=R8.4.1&to=2026-11-24".into(), cookie.clone()).await;
    assert_eq!(page.status(), 200, "{}", body(&page));
    let page = body(&page);
    for s in [
        "受付件数（相談の種類別・経路別）",
        "一時保護（保護の場所別・日数・解除後の対応）",
        "虐待の種別が未記入",
        "生年月日が不明",
        "/api/v1/statistics/xlsx?unit=1&#38;from=2026-04-01&#38;to=2026-11-24",
        "href=\"/statistics\"",
    ] {
        assert!(page.contains(s), "{s:?} missing");
    }
    let link = "/statistics/cell?unit=1&#38;from=2026-04-01&#38;to=2026-11-24&#38;table=receipts_by_route&#38;row=total&#38;col=total";
    assert!(page.contains(link), "the total is a link to its cases");
    assert!(page.contains(&format!("<a href=\"/cases/{case}\">")), "a warning links its case");

    let cell = get(link.replace("&#38;", "&"), cookie.clone()).await;
    assert_eq!(cell.status(), 200, "{}", body(&cell));
    let cell = body(&cell);
    assert!(cell.contains("髙﨑 さくら") && cell.contains("receipts_by_route/total/total"), "{cell}");

    let json = get("/api/v1/statistics?from=R8.4.1&to=R8.11.24".into(), cookie.clone()).await;
    assert_eq!(json.status(), 200, "{}", body(&json));
    let json: serde_json::Value = serde_json::from_slice(json.body()).unwrap();
    assert_eq!(json["tables"][0]["key"], "receipts_by_route");
    assert_eq!(json["tables"][0]["values"][0][0], 1);
    assert!(!body_has_case_no(&json), "the figures name no case");
    let xlsx = get("/api/v1/statistics/xlsx?from=R8.4.1&to=R8.11.24".into(), cookie.clone()).await;
    assert_eq!(xlsx.status(), 200);
    assert!(xlsx.headers()["content-disposition"].to_str().unwrap().starts_with("attachment;"));
    assert!(xlsx.body().starts_with(b"PK"));
    let bad = get("/api/v1/statistics?from=R8.13.1&to=R8.11.24".into(), cookie.clone()).await;
    assert_eq!(bad.status(), 422, "{}", body(&bad));
    let half = get("/api/v1/statistics?from=R8.4.1".into(), cookie.clone()).await;
    assert_eq!(half.status(), 422, "both days or neither: {}", body(&half));
    let none = get("/api/v1/statistics/cell?table=receipts_by_route&row=x&col=y".into(), cookie).await;
    assert_eq!(none.status(), 404);

    let (cw, _) = sign_in(&svc).await;
    let home = body(&get("/home".into(), cw.clone()).await);
    assert!(!home.contains("href=\"/statistics\""), "no 統計 in a caseworker's menu");
    assert_eq!(get("/statistics".into(), cw.clone()).await.status(), 403);
    assert_eq!(get("/api/v1/statistics".into(), cw).await.status(), 403);
}

fn body_has_case_no(v: &serde_json::Value) -> bool {
    v.to_string().contains("児-")
}
