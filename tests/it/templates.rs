//! A form's next version as data, by an administrator: written out as TOML, edited, added with
//! the server stopped (`mamoru form`), or over the API while it runs; refused in one line (CLI)
//! or with the field named (API), changing nothing.

use crate::support::{PASSWORD, Server, assert_one_line_failure, init, now, run};

#[test]
fn an_administrator_adds_a_version_from_toml_and_over_the_api() {
    let dir = tempfile::tempdir().unwrap();
    let data = init(dir.path());
    let d = data.to_str().unwrap();
    let shown = run(&["form", "show", "protection-start-notice", "--data", d]);
    assert_eq!(shown.code, 0, "{}", shown.stderr);
    assert!(shown.stdout.contains("field = \"child_name\"") && shown.stdout.contains("3か月以内"));
    let tomorrow = now().plus(2 * 86_400).jst_date().to_string();
    let edit = |from: &str, extra: &str| {
        let text = shown
            .stdout
            .lines()
            .map(|l| match l {
                l if l.starts_with("valid_from = ") => format!("valid_from = \"{from}\""),
                l if l.starts_with("reason = ") => "reason = \"架空市規則の改正\"".to_owned(),
                l if l.starts_with("lead = ") => {
                    "lead = \"下記のとおり一時保護しました（新しい文言）。\"".to_owned()
                }
                l => l.to_owned(),
            })
            .collect::<Vec<_>>()
            .join("\n");
        let path = dir.path().join(format!("v-{from}-{}.toml", extra.len()));
        std::fs::write(&path, format!("{text}\n{extra}")).unwrap();
        path
    };
    let file = edit(&tomorrow, "");
    let added = run(&["form", "add", file.to_str().unwrap(), "--data", d]);
    assert_eq!(added.code, 0, "{}", added.stderr);
    assert!(added.stdout.contains("protection-start-notice v3 added"), "{}", added.stdout);

    // Refused, one line each, nothing added.
    let too_early = edit("2020-04-01", "");
    assert_one_line_failure(&run(&["form", "add", too_early.to_str().unwrap(), "--data", d]), "valid_from");
    let reporter = edit(&tomorrow, "\n[[rows]]\nlabel = \"通告者\"\nfield = \"reporter_name\"\n");
    let r = run(&["form", "add", reporter.to_str().unwrap(), "--data", d]);
    assert_one_line_failure(&r, "reporter");
    let typo = edit(&tomorrow, "\n[[rows]]\nlabel = \"氏名\"\nfield = \"child_nam\"\n");
    let r = run(&["form", "add", typo.to_str().unwrap(), "--data", d]);
    assert_one_line_failure(&r, "child_nam");
    let list = run(&["form", "list", "--data", d]);
    let versions: Vec<&str> =
        list.stdout.lines().filter(|l| l.starts_with("protection-start-notice\t")).collect();
    assert_eq!(versions.len(), 3, "{}", list.stdout);
    assert!(versions[2].contains(&tomorrow) && versions[2].contains("local command line"), "{versions:?}");
    let fields = run(&["form", "fields"]);
    assert!(fields.stdout.lines().any(|l| l.starts_with("reporter_name\t") && l.contains("never")));

    // While the server runs: the API, for administrators.
    let s = Server::serve_plain(&data);
    let admin = s.sign_in("admin", PASSWORD);
    let listed = s.request("GET", "/api/v1/forms/templates", Some(&admin), None);
    assert_eq!(listed.status, 200, "{}", listed.body);
    let all = listed.json()["templates"].as_array().unwrap().clone();
    let v3 = all
        .iter()
        .find(|t| t["template"]["form"] == "protection-start-notice" && t["template"]["version"] == 3);
    assert_eq!(v3.unwrap()["added"]["reason"], "架空市規則の改正");
    let draft = serde_json::json!({
        "form": "protection-end-notice",
        "valid_from": tomorrow,
        "reason": "様式の見直し",
        "title": "一時保護解除通知書",
        "lead": "下記の児童の一時保護を解除しました。",
        "rows": [
            { "label": "児童氏名", "field": "child_name" },
            { "label": "解除の理由", "field": "protection_end_reason" },
        ],
    })
    .to_string();
    let post = |body: &str| s.request("POST", "/api/v1/forms/templates", Some(&admin), Some(body));
    let r = post(&draft);
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!((r.json()["version"].as_u64(), r.json()["family_facing"].as_bool()), (Some(2), Some(true)));
    assert_eq!(post(&draft).json()["version"], 2, "the same draft again adds nothing");
    let with_reporter = draft.replace("protection_end_reason", "reporter_relation");
    let r = post(&with_reporter);
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(
        r.json()["error"]["message"].as_str().unwrap().contains("invalid rows: the reporter"),
        "{}",
        r.body
    );
    assert_eq!(post(&draft.replace("\"rows\"", "\"rowz\"")).status, 400);
    assert_eq!(s.request("POST", "/api/v1/forms/templates", None, Some(&draft)).status, 401);
    let after = s.request("GET", "/api/v1/forms/templates", Some(&admin), None).json();
    assert_eq!(after["templates"].as_array().unwrap().len(), all.len() + 1);
}
