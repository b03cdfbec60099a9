//! Migration: the fixture extract (tests/fixtures/migration, CP932 and UTF-8, 外字, 和暦 at the
//! era boundaries, orphans, a likely duplicate) checked, imported, imported again, changed and
//! resumed; what it makes is searchable, timed by the legal clocks and marked as migrated.

use std::collections::HashMap;
use std::io::Read;
use std::path::PathBuf;

use mamoru_core::case::CaseStatus;
use mamoru_core::deadline::ClockKind;
use mamoru_core::ids::{CaseId, ChildId};
use mamoru_core::interchange::{Gaiji, Kind};
use mamoru_core::service::migration::{ImportOptions, Reconciliation, Source};
use mamoru_core::staff::Role;

use crate::support::world;

fn fixture_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/migration")
}

/// The fixture's files in memory, to change one or to fail at one.
#[derive(Clone)]
struct Files {
    bytes: HashMap<String, Vec<u8>>,
    /// Opening this file fails after it was opened this many times.
    fail: Option<(String, usize)>,
    opened: HashMap<String, usize>,
}

impl Files {
    fn fixture() -> Self {
        let mut files = HashMap::new();
        for entry in std::fs::read_dir(fixture_dir()).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "csv") {
                let name = path.file_name().unwrap().to_string_lossy().into_owned();
                files.insert(name, std::fs::read(&path).unwrap());
            }
        }
        Self { bytes: files, fail: None, opened: HashMap::new() }
    }

    /// Replaces `from` with `to` in a UTF-8 file.
    fn edit(&mut self, name: &str, from: &str, to: &str) {
        let text = String::from_utf8(self.bytes[name].clone()).unwrap();
        assert!(text.contains(from), "{name} has {from:?}");
        self.bytes.insert(name.to_owned(), text.replace(from, to).into_bytes());
    }
}

impl Source for Files {
    fn open(&mut self, name: &str) -> std::io::Result<Option<Box<dyn Read>>> {
        let n = self.opened.entry(name.to_owned()).or_default();
        *n += 1;
        if let Some((file, after)) = &self.fail
            && file == name
            && *n > *after
        {
            return Err(std::io::Error::other("the disk went away"));
        }
        Ok(self.bytes.get(name).map(|b| Box::new(std::io::Cursor::new(b.clone())) as Box<dyn Read>))
    }
}

fn gaiji() -> Gaiji {
    Gaiji::parse(&std::fs::read_to_string(fixture_dir().join("gaiji.csv")).unwrap()).unwrap()
}

fn options(dry_run: bool) -> ImportOptions {
    ImportOptions { gaiji: gaiji(), dry_run, skip_rejected: true, batch_rows: 2, ..ImportOptions::default() }
}

fn count(rec: &Reconciliation, kind: Kind) -> (u64, u64, u64, u64, u64, u64) {
    let c = &rec.files.iter().find(|(k, _)| *k == kind).unwrap().1;
    (c.read, c.accepted, c.rejected, c.imported, c.unchanged, c.differ)
}

fn lines(rec: &Reconciliation) -> Vec<String> {
    rec.rejections.iter().map(ToString::to_string).collect()
}

#[test]
fn a_dry_run_names_every_refusal_duplicate_and_missing_id_and_writes_nothing() {
    let w = world();
    let rec = w
        .svc
        .import_legacy(
            &w.admin,
            &mut Files::fixture(),
            &ImportOptions { gaiji: Gaiji::default(), ..options(true) },
        )
        .unwrap();
    assert!(!rec.written);
    let lines = lines(&rec);
    for expected in [
        "children.csv:4: family_name: 外字 F040 (U+E000) is not mapped (give it in --gaiji)",
        "children.csv:7: birth_date: 平成 ended on 平成31年4月30日",
        "children.csv:8: family_name_kana: required",
        "relations.csv:7: other_id: no \"P999\" in persons.csv or children.csv nor imported before",
        "cases.csv:6: child_id: no \"C999\" in children.csv nor imported before",
        "cases.csv:7: closed_at: required for a closed case",
        "notes.csv:4: body: 外字 F041 (U+E001) is not mapped (give it in --gaiji)",
        "notes.csv:7: case_id: no \"K004\" in cases.csv nor imported before",
        "protections.csv:4: warrant_requested_at: is before the start",
    ] {
        assert!(lines.iter().any(|l| l == expected), "missing {expected:?} in {lines:#?}");
    }
    assert_eq!(lines.len(), 9, "one reason per refused column: {lines:#?}");
    assert_eq!(rec.rejections.iter().filter(|r| r.missing_id).count(), 3);
    assert_eq!(rec.duplicates.len(), 1, "{:?}", rec.duplicates);
    assert_eq!(
        (rec.duplicates[0].legacy_id.as_str(), rec.duplicates[0].other.as_str()),
        ("C001", "children.csv:6 (C005)")
    );
    assert_eq!(count(&rec, Kind::Children), (7, 4, 3, 0, 0, 0));
    assert_eq!(count(&rec, Kind::Notes), (5, 3, 2, 0, 0, 0));
    let encodings: Vec<_> = rec.files.iter().map(|(k, c)| (*k, c.encoding.unwrap().name())).collect();
    assert!(encodings.contains(&(Kind::Children, "CP932")) && encodings.contains(&(Kind::Persons, "UTF-8")));
    assert!(rec.files.iter().all(|(_, c)| c.sha256.as_ref().is_some_and(|s| s.len() == 64)));
    let counts = w.svc.check().unwrap().counts;
    assert!(counts.iter().any(|(k, n)| k == "child" && *n == 0), "nothing stored: {counts:?}");
}

#[test]
fn an_import_makes_first_class_records_and_a_rerun_imports_nothing_twice() {
    let w = world();
    let mut files = Files::fixture();
    // Without --skip-rejected nothing is written while anything is refused.
    let refused = w
        .svc
        .import_legacy(&w.admin, &mut files, &ImportOptions { skip_rejected: false, ..options(false) })
        .unwrap();
    assert!(!refused.written);
    assert!(w.svc.search(&w.admin, "カクウ", 10).unwrap_or_default().is_empty());

    let rec = w.svc.import_legacy(&w.admin, &mut files, &options(false)).unwrap();
    assert!(rec.written);
    assert_eq!(count(&rec, Kind::Children), (7, 5, 2, 5, 0, 0));
    assert_eq!(count(&rec, Kind::Relations), (6, 5, 1, 5, 0, 0));
    assert_eq!(count(&rec, Kind::Cases), (5, 3, 2, 3, 0, 0));
    assert_eq!(count(&rec, Kind::Abuse), (1, 1, 0, 1, 0, 0));
    assert_eq!(count(&rec, Kind::Notes), (5, 3, 2, 3, 0, 0));
    assert_eq!(count(&rec, Kind::Protections), (3, 2, 1, 2, 0, 0));
    let counts: HashMap<String, u64> = w.svc.check().unwrap().counts.into_iter().collect();
    assert_eq!((counts["child"], counts["person"], counts["household"], counts["case"]), (5, 3, 2, 3));
    assert_eq!((counts["note"], counts["protection"], counts["meeting"], counts["support"]), (3, 2, 1, 1));
    assert_eq!(counts["safety_check"], 1, "K001's safety check from the source");
    let mapped: Vec<(&str, Option<&str>)> = rec
        .mapped
        .iter()
        .filter(|m| m.kind == Kind::Cases)
        .map(|m| (m.legacy_id.as_str(), m.case_no.as_deref()))
        .collect();
    assert_eq!(
        mapped,
        [("K001", Some("児-R7-00001")), ("K002", Some("児-R6-00001")), ("K003", Some("児-R7-00002"))]
    );

    // Searchable by kana (half-width folded), by a 和暦 birth date, by the 外字's ordinary form.
    let sv = w.staff("sv1", Role::Supervisor, w.u1);
    let names =
        |q: &str| -> Vec<String> { w.svc.search(&sv, q, 10).unwrap().into_iter().map(|c| c.name).collect() };
    assert_eq!(names("かくう たろう"), ["架空 太郎"]);
    assert_eq!(names("R1.5.1"), ["架空 太郎"]);
    assert_eq!(names("吉田"), ["𠮷田 一郎"]);
    assert_eq!(names("H31.4.30").len(), 2, "花子 and the likely duplicate はなこ");

    // The household: 花子 and 太郎 with their mother and father; the mother the guardian of both.
    let hanako = ChildId(rec.mapped.iter().find(|m| m.legacy_id == "C001").unwrap().id);
    let v = w.svc.child(&sv, hanako).unwrap();
    let members: Vec<(&str, &str, bool)> =
        v.members.iter().map(|m| (m.name.as_str(), m.relation_label.as_str(), m.guardian)).collect();
    assert!(members.contains(&("架空 太郎", "きょうだい", false)), "{members:?}");
    assert!(members.contains(&("架空 良子", "実母", true)) && members.contains(&("架空 一夫", "実父", true)));
    assert_eq!(v.child.body.migrated.as_ref().unwrap().legacy_id, "C001");

    // The case: numbered here, its abuse details, its notes under their date and author name, its
    // protection's clocks running from the source's start; the warrant the source gives is there.
    let k001 = CaseId(rec.mapped.iter().find(|m| m.legacy_id == "K001").unwrap().id);
    let c = w.svc.case(&sv, k001).unwrap();
    assert_eq!(c.case.body.status, CaseStatus::Open);
    assert_eq!(c.case.body.intake.content, "近隣から通告。泣き声,物音\nが続く");
    let abuse = c.case.body.abuse.as_ref().unwrap();
    assert_eq!((abuse.types.len(), abuse.main_type.as_ref().unwrap().as_str()), (2, "1"));
    let authors: Vec<Option<&str>> = c.notes.iter().map(|n| n.body.legacy_author()).collect();
    assert_eq!(
        authors,
        [Some("移行 職員A"), Some("移行 職員A")],
        "the two notes of the same minute both kept"
    );
    let p = &c.protections[0].body;
    assert!(p.warrant.as_ref().is_some_and(|w| w.outcome.is_some()), "the warrant issued");
    assert!(p.hearing.is_some());
    let kinds: Vec<ClockKind> = c.clocks.iter().map(|b| b.deadline.kind).collect();
    assert!(kinds.contains(&ClockKind::ProtectionLimit), "{kinds:?}");
    assert!(!kinds.contains(&ClockKind::WarrantRequest7d), "the warrant was requested: {kinds:?}");
    assert!(!kinds.contains(&ClockKind::SafetyCheck48h), "seen on the day: {kinds:?}");

    // Again: nothing stored twice; every accepted row is unchanged.
    let again = w.svc.import_legacy(&w.admin, &mut files, &options(false)).unwrap();
    assert_eq!(count(&again, Kind::Children), (7, 5, 2, 0, 5, 0));
    assert_eq!(count(&again, Kind::Relations), (6, 5, 1, 0, 5, 0));
    assert_eq!(count(&again, Kind::Cases), (5, 3, 2, 0, 3, 0));
    assert_eq!(count(&again, Kind::Notes), (5, 3, 2, 0, 3, 0));
    assert!(again.differences.is_empty(), "{:?}", again.differences);
    let after: HashMap<String, u64> = w.svc.check().unwrap().counts.into_iter().collect();
    for kind in ["child", "person", "household", "case", "note", "protection", "meeting", "support"] {
        assert_eq!(after[kind], counts[kind], "{kind}");
    }

    // A row changed in the source since is a difference, never written over.
    files.edit("meetings.csv", "一時保護を継続する", "一時保護を解除する");
    let changed = w.svc.import_legacy(&w.admin, &mut files, &options(false)).unwrap();
    assert_eq!(changed.differences.len(), 1);
    assert_eq!(changed.differences[0].file, "meetings.csv");
    assert_eq!(count(&changed, Kind::Meetings), (1, 1, 0, 0, 0, 1));
    let c = w.svc.case(&sv, k001).unwrap();
    assert_eq!(c.meetings[0].body.decisions, "一時保護を継続する");
}

#[test]
fn an_interrupted_import_resumes_where_it_stopped() {
    let w = world();
    let mut files = Files::fixture();
    // notes.csv opens for the check, then fails when the import comes to it.
    files.fail = Some(("notes.csv".into(), 1));
    let err = w.svc.import_legacy(&w.admin, &mut files, &options(false)).unwrap_err();
    assert!(err.to_string().contains("notes.csv"), "{err}");
    let counts: HashMap<String, u64> = w.svc.check().unwrap().counts.into_iter().collect();
    assert_eq!((counts["child"], counts["case"], counts["note"]), (5, 3, 0), "what came before stays");

    let mut files = Files::fixture();
    let rec = w.svc.import_legacy(&w.admin, &mut files, &options(false)).unwrap();
    assert_eq!(count(&rec, Kind::Children), (7, 5, 2, 0, 5, 0));
    assert_eq!(count(&rec, Kind::Notes), (5, 3, 2, 3, 0, 0));
    let counts: HashMap<String, u64> = w.svc.check().unwrap().counts.into_iter().collect();
    assert_eq!((counts["child"], counts["case"], counts["note"], counts["protection"]), (5, 3, 3, 2));
}

#[test]
fn only_an_administrator_imports_and_every_run_is_audited_with_the_files_hashes() {
    let w = world();
    let sv = w.staff("sv1", Role::Supervisor, w.u1);
    let err = w.svc.import_legacy(&sv, &mut Files::fixture(), &options(true)).unwrap_err();
    assert_eq!(err.code(), "forbidden");
    let rec = w.svc.import_legacy(&w.admin, &mut Files::fixture(), &options(false)).unwrap();
    let sha = rec.files[0].1.sha256.clone().unwrap();
    let entries = w.svc.search_audit(&w.admin, &mamoru_core::service::AuditFilter::default(), 200).unwrap();
    let import = entries
        .iter()
        .find(|e| e.action == "import" && e.detail.as_deref().is_some_and(|d| d.starts_with("import: ")))
        .expect("the run's entry");
    assert!(import.detail.as_deref().unwrap().contains(&sha), "{:?}", import.detail);
    assert!(entries.iter().any(|e| e.action == "import_check" && e.result == "forbidden"));
    let batches =
        entries.iter().filter(|e| e.detail.as_deref().is_some_and(|d| d.starts_with("import batch"))).count();
    assert!(batches >= 8, "a batch of two rows per transaction: {batches}");
    // Nothing personal in the log: no name of the fixture.
    assert!(entries.iter().all(|e| !e.detail.as_deref().unwrap_or("").contains("架空")));
}
