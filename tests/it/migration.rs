//! `mamoru import` as the migration team runs it: a dry run on the extract, a run that refuses
//! while anything is refused, a run that imports the rest and writes the refused rows to fix,
//! the fixed rows imported, a run again that imports nothing; `check` agrees with the counts.

use std::path::{Path, PathBuf};

use crate::support::{assert_one_line_failure, init, run};

fn fixture() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/migration")
}

fn import(from: &Path, data: &Path, extra: &[&str]) -> crate::support::Run {
    let mut args = vec!["import", "--from", from.to_str().unwrap(), "--data", data.to_str().unwrap()];
    args.extend_from_slice(extra);
    run(&args)
}

/// `check`'s count of `kind`.
fn checked(data: &Path, kind: &str) -> u64 {
    let r = run(&["check", "--data", data.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    r.stdout
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{kind} ")))
        .unwrap_or_else(|| panic!("no {kind} in {}", r.stdout))
        .parse()
        .unwrap()
}

/// The last nine lines: one per kind, `KIND read N accepted N rejected N …`.
fn summary(stdout: &str) -> Vec<String> {
    let lines: Vec<&str> = stdout.lines().collect();
    lines[lines.len() - 9..].iter().map(|l| (*l).to_owned()).collect()
}

#[test]
fn a_migration_is_checked_imported_fixed_and_run_again_without_doubles() {
    let tmp = tempfile::tempdir().unwrap();
    let data = init(tmp.path());
    let source = fixture();
    let gaiji = source.join("gaiji.csv");
    let gaiji = gaiji.to_str().unwrap();

    // The dry run: every refusal as FILE:LINE: column: reason, the likely duplicate, then one
    // line per kind; exit 1; nothing written.
    let dry = import(&source, &data, &["--dry-run"]);
    assert_one_line_failure(&dry, "9 refusals and 0 differences");
    for line in [
        "children.csv:4: family_name: 外字 F040 (U+E000) is not mapped (give it in --gaiji)",
        "children.csv:7: birth_date: 平成 ended on 平成31年4月30日",
        "relations.csv:7: other_id: no \"P999\" in persons.csv or children.csv nor imported before",
        "cases.csv:7: closed_at: required for a closed case",
        "duplicate: children.csv:2 (C001) may be children.csv:6 (C005)",
        "file: children.csv CP932 sha256 ",
        "file: persons.csv UTF-8 sha256 ",
    ] {
        assert!(dry.stdout.contains(line), "{line:?} in {}", dry.stdout);
    }
    let s = summary(&dry.stdout);
    assert_eq!(s[0], "children read 7 accepted 4 rejected 3 imported 0 unchanged 0 differ 0");
    assert_eq!(s[5], "notes read 5 accepted 3 rejected 2 imported 0 unchanged 0 differ 0");
    assert!(s.iter().all(|l| l.split(' ').nth(1) == Some("read")), "{s:#?}");
    assert_eq!(checked(&data, "child"), 0);

    // A real run writes nothing while anything is refused.
    let refused = import(&source, &data, &["--gaiji", gaiji]);
    assert_one_line_failure(&refused, "nothing imported: 8 refusals");
    assert_eq!(checked(&data, "child"), 0);

    // --skip-rejected: the rest is imported; the refused rows go to a folder to fix.
    let rejected = tmp.path().join("rejected");
    let result = tmp.path().join("result.csv");
    let r = import(
        &source,
        &data,
        &[
            "--gaiji",
            gaiji,
            "--skip-rejected",
            "--rejected-to",
            rejected.to_str().unwrap(),
            "--result",
            result.to_str().unwrap(),
            "--batch",
            "2",
        ],
    );
    assert_one_line_failure(&r, "8 refusals and 0 differences");
    assert_eq!(
        summary(&r.stdout)[0],
        "children read 7 accepted 5 rejected 2 imported 5 unchanged 0 differ 0"
    );
    for (kind, n) in
        [("child", 5), ("person", 3), ("household", 2), ("case", 3), ("note", 3), ("protection", 2)]
    {
        assert_eq!(checked(&data, kind), n, "{kind}");
    }
    let result = std::fs::read_to_string(&result).unwrap();
    assert!(result.starts_with("\u{feff}kind,legacy_id,mamoru_id,case_no\r\n"), "{result}");
    assert!(
        result.contains("case,K001,1,児-R7-00001\r\n") && result.contains("child,C005,5,\r\n"),
        "{result}"
    );
    let fix = std::fs::read_to_string(rejected.join("children.csv")).unwrap();
    assert_eq!(fix.lines().count(), 3, "the header and the two refused children: {fix}");
    assert!(fix.lines().next().unwrap().ends_with(",phone,rejection"));
    assert!(fix.contains("line 7: birth_date: 平成 ended on 平成31年4月30日"), "{fix}");

    // The refused children fixed, and imported from that folder (the `rejection` column ignored).
    let fixed = fix.replace("H32.1.1", "R2.1.1").replace("名前,なし,,,", "名前,なし,ナマエ,ナシ,");
    std::fs::write(rejected.join("children.csv"), fixed).unwrap();
    for other in ["relations.csv", "cases.csv", "notes.csv", "protections.csv"] {
        std::fs::remove_file(rejected.join(other)).ok();
    }
    let r = import(&rejected, &data, &[]);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert_eq!(
        summary_line(&r.stdout, "children"),
        "children read 2 accepted 2 rejected 0 imported 2 unchanged 0 differ 0"
    );
    assert_eq!(checked(&data, "child"), 7);

    // The extract again: nothing imported twice.
    let again = import(&source, &data, &["--gaiji", gaiji, "--skip-rejected"]);
    assert!(
        again.stdout.contains("rejected rows: ") && again.stdout.contains("/migration/rejected-"),
        "{}",
        again.stdout
    );
    assert_eq!(
        summary(&again.stdout)[3],
        "cases read 5 accepted 3 rejected 2 imported 0 unchanged 3 differ 0"
    );
    assert_eq!(checked(&data, "child"), 7);
    assert_eq!(checked(&data, "note"), 3);

    // The whole store out, checked by its own sums, and not over a folder that holds something.
    let out = tmp.path().join("export");
    let r = run(&["export", "--to", out.to_str().unwrap(), "--data", data.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("children.csv 7\n") && r.stdout.contains("notes.csv 3\n"), "{}", r.stdout);
    let sums = std::process::Command::new("sha256sum")
        .arg("-c")
        .arg("--quiet")
        .arg("SHA256SUMS")
        .current_dir(&out)
        .output()
        .unwrap();
    assert!(sums.status.success(), "{}", String::from_utf8_lossy(&sums.stdout));
    let exported = std::fs::read_to_string(out.join("cases.csv")).unwrap();
    assert!(
        exported.starts_with("\u{feff}legacy_id,child_id,received_at,")
            && exported.contains("K001,C001,2025-04-01T10:30:00+09:00")
    );
    let again = run(&["export", "--to", out.to_str().unwrap(), "--data", data.to_str().unwrap()]);
    assert_one_line_failure(&again, "is not empty");

    let bad = import(&source, &data, &["--encoding", "latin1"]);
    assert_one_line_failure(&bad, "unknown encoding");
    let missing = import(&tmp.path().join("nowhere"), &data, &[]);
    assert_one_line_failure(&missing, "is not a folder");
}

/// The summary line of `kind` (a folder with fewer files has fewer lines).
fn summary_line(stdout: &str, kind: &str) -> String {
    stdout.lines().find(|l| l.starts_with(&format!("{kind} read "))).unwrap().to_owned()
}
