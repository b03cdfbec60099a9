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
use sha2::Digest as _;

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

/// The files as text, for a failing property's report.
impl std::fmt::Debug for Files {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut names: Vec<&String> = self.bytes.keys().collect();
        names.sort();
        for name in names {
            writeln!(f, "--- {name}\n{}", String::from_utf8_lossy(&self.bytes[name]))?;
        }
        Ok(())
    }
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
    // The father has a row for 花子 only: to 太郎 he is no father and no guardian.
    let taro = ChildId(rec.mapped.iter().find(|m| m.legacy_id == "C002").unwrap().id);
    let v2 = w.svc.child(&sv, taro).unwrap();
    let father = v2.members.iter().find(|m| m.name == "架空 一夫").unwrap();
    assert_eq!((father.relation_label.as_str(), father.guardian), ("同居人", false));
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
    assert_eq!(count(&again, Kind::Protections), (3, 2, 1, 0, 2, 0), "the open protection is no second one");
    assert_eq!(lines(&again), lines(&rec), "the same refusals as the first run, no more");
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
    let rec = w.svc.import_legacy(&w.admin, &mut files, &options(false)).unwrap();
    let why = rec.stopped.as_deref().unwrap();
    assert!(!rec.written && why.contains("notes.csv"), "{why}");
    assert_eq!(count(&rec, Kind::Children).3, 5, "the counts say how far it came");
    assert_eq!(count(&rec, Kind::Notes).3, 0);
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

#[test]
fn what_depends_on_a_refused_or_changed_row_waits_with_it_and_reruns_stay_exact() {
    let w = world();
    let mut files = Files::fixture();
    // An abuse row refused refuses its case (and what names the case); an id both a child's
    // and an adult's is refused; a second protection in force is refused; 外字 in a column the
    // layout does not name is refused too.
    files.edit("abuse.csv", "K001,1;2,1,3", "K001,1;7,1,3");
    files.edit("persons.csv", "P003,試験,三郎", "C004,試験,三郎");
    files.edit("relations.csv", "C004,P003,M,1,0", "C004,C004X,M,1,0");
    files.edit("meetings.csv", "case_id,held_at,kind,summary", "case_id,held_at,kind,summary,memo");
    files.edit("meetings.csv", "一時保護を継続する", "一時保護を継続する,\u{E005}");
    files.edit(
        "protections.csv",
        "K003,2025-06-02 9:00,1,架空市児童相談所 一時保護所,緊急保護,0,,,,,2025-06-01 9:00,,",
        "K003,2025-06-02 9:00,1,架空市児童相談所 一時保護所,緊急保護,0,,,,,,,\nK003,2025-06-02 9:30,1,同,同,0,,,,,,,",
    );
    let rec = w.svc.import_legacy(&w.admin, &mut files, &options(true)).unwrap();
    let lines = lines(&rec);
    for expected in [
        "abuse.csv:2: types: \"7\" is no abuse_type code (and codes.csv does not translate it)",
        "cases.csv:2: case_id: its row in abuse.csv (line 2) is refused",
        "persons.csv:4: legacy_id: also a child's id in children.csv: an adult needs an id of its own",
        "meetings.csv:2: memo: 外字 F045 (U+E005) is not mapped (give it in --gaiji)",
        "protections.csv:5: ended_at: required: the case has another protection in force",
    ] {
        assert!(lines.iter().any(|l| l == expected), "missing {expected:?} in {lines:#?}");
    }
    assert!(lines.iter().any(|l| l.starts_with("notes.csv:2: case_id: no \"K001\"")), "{lines:#?}");
    assert!(
        rec.rejected_rows.iter().any(|r| r.kind == Kind::Cases && r.fields[0] == "K001"),
        "the case goes to the file to fix"
    );

    // A clean run, then the next delivery: a new note first in its file, the same notes after
    // it, a `rejection` column added: nothing doubles, nothing differs, the new note comes in.
    let w = world();
    let mut files = Files::fixture();
    w.svc.import_legacy(&w.admin, &mut files, &options(false)).unwrap();
    let notes = "case_id,at,author,body,kind,rejection\n\
                 K001,R7.4.1 8:00,移行 職員A,新しい記録,9,\n\
                 K001,R7.4.1 11:00,移行 職員A,家庭訪問。本児の外傷を確認。,1,x\n\
                 K001,R7.4.1 11:00,移行 職員A,同時刻の別の記録。,9,\n\
                 K002,令和7年2月10日 14:00,移行 職員C,\"来所面接。\r\n母より相談。\",来所面接,\n";
    files.bytes.insert("notes.csv".into(), notes.as_bytes().to_vec());
    let rec = w.svc.import_legacy(&w.admin, &mut files, &options(false)).unwrap();
    assert_eq!(count(&rec, Kind::Notes), (4, 4, 0, 1, 3, 0), "{:?}", rec.differences);
    let counts: HashMap<String, u64> = w.svc.check().unwrap().counts.into_iter().collect();
    assert_eq!(counts["note"], 4);

    // A household changed in the source is a difference, and not one of its rows is written.
    files.edit("relations.csv", "C002,P001,02,1,1", "C002,P001,02,1,1\nC003,P001,02,1,1");
    let rec = w.svc.import_legacy(&w.admin, &mut files, &options(false)).unwrap();
    assert_eq!(rec.differences.len(), 1, "{:?}", rec.differences);
    let counts: HashMap<String, u64> = w.svc.check().unwrap().counts.into_iter().collect();
    assert_eq!(counts["household"], 2, "no household made of the changed one's rows");
}

/// An export kept in memory.
#[derive(Default)]
struct Memory(std::rc::Rc<std::cell::RefCell<HashMap<String, Vec<u8>>>>);

struct MemoryFile(String, Vec<u8>, std::rc::Rc<std::cell::RefCell<HashMap<String, Vec<u8>>>>);

impl std::io::Write for MemoryFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.1.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.2.borrow_mut().insert(self.0.clone(), self.1.clone());
        Ok(())
    }
}

impl mamoru_core::service::export::Sink for Memory {
    fn create(&mut self, name: &str) -> std::io::Result<Box<dyn std::io::Write>> {
        Ok(Box::new(MemoryFile(name.to_owned(), Vec::new(), self.0.clone())))
    }
}

fn export(w: &crate::support::World) -> HashMap<String, Vec<u8>> {
    let memory = Memory::default();
    let files = memory.0.clone();
    let mut sink = memory;
    w.svc.export_store(&w.admin, &mut sink).unwrap();
    files.borrow().clone()
}

fn layout_files(files: &HashMap<String, Vec<u8>>) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> =
        Kind::ALL.iter().map(|k| (k.file(), String::from_utf8(files[&k.file()].clone()).unwrap())).collect();
    out.sort();
    out
}

/// Exports `source` imported into a new store, imported into another new store, exported
/// again: the layout's files are the same, and so are the record counts.
/// The layout's files by name, as text.
type Layout = Vec<(String, String)>;

fn round_trip(source: Files) -> (Layout, Layout) {
    let a = world();
    let mut src = source;
    let rec = a.svc.import_legacy(&a.admin, &mut src, &options(false)).unwrap();
    assert!(rec.written, "{:?}", rec.rejections);
    let first = export(&a);
    let b = world();
    let mut again = Files { bytes: first.clone(), fail: None, opened: HashMap::new() };
    let opts = ImportOptions { skip_rejected: false, ..options(false) };
    let rec = b.svc.import_legacy(&b.admin, &mut again, &opts).unwrap();
    assert!(rec.rejections.is_empty() && rec.written, "{:?}", rec.rejections);
    let counts = |w: &crate::support::World| -> Vec<(String, u64)> {
        let layout = ["child", "person", "household", "case", "note", "protection", "meeting", "support"];
        w.svc.check().unwrap().counts.into_iter().filter(|(k, _)| layout.contains(&k.as_str())).collect()
    };
    assert_eq!(counts(&a), counts(&b));
    (layout_files(&first), layout_files(&export(&b)))
}

#[test]
fn an_export_holds_every_file_with_its_sum_and_imports_into_an_empty_store_as_it_was() {
    let w = world();
    w.svc.import_legacy(&w.admin, &mut Files::fixture(), &options(false)).unwrap();
    let files = export(&w);
    // SHA256SUMS names every other file with its hash.
    let sums = String::from_utf8(files["SHA256SUMS"].clone()).unwrap();
    for (name, bytes) in &files {
        if name == "SHA256SUMS" {
            continue;
        }
        let sha = mamoru_core::to_hex(&sha2::Sha256::digest(bytes));
        assert!(sums.contains(&format!("{sha}  {name}\n")), "{name} in {sums}");
    }
    for name in ["records.jsonl", "schema.json", "README.md", "children.csv", "notes.csv"] {
        assert!(files.contains_key(name), "{name}");
    }
    assert!(files["children.csv"].starts_with(b"\xEF\xBB\xBFlegacy_id,"), "UTF-8 with BOM for Excel");
    // Every version of every record, and no sign-in secret.
    let jsonl = String::from_utf8(files["records.jsonl"].clone()).unwrap();
    let lines: Vec<serde_json::Value> = jsonl.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert!(
        lines
            .iter()
            .any(|l| l["kind"] == "note" && l["record"]["body"]["migrated"]["author"] == "移行 職員A")
    );
    assert!(lines.iter().all(|l| l["kind"] != "credential" && l["kind"] != "device"));
    assert!(!jsonl.contains("argon2"), "no password hash");
    let schema: serde_json::Value = serde_json::from_slice(&files["schema.json"]).unwrap();
    assert_eq!(schema["$defs"]["cases.csv"]["required"][0], "legacy_id");
    // Audited, with the sums' own hash.
    let entries = w.svc.search_audit(&w.admin, &mamoru_core::service::AuditFilter::default(), 50).unwrap();
    let entry = entries.iter().find(|e| e.action == "export_store").unwrap();
    let sums_sha = mamoru_core::to_hex(&sha2::Sha256::digest(&files["SHA256SUMS"]));
    assert!(entry.detail.as_deref().unwrap().contains(&sums_sha), "{:?}", entry.detail);

    let (first, second) = round_trip(Files::fixture());
    assert_eq!(first, second);
}

#[test]
fn a_store_made_here_exports_and_imports_into_an_empty_store_as_it_was() {
    // The demo's fictional caseload, made through the service as the tablets make it: reports
    // and consultations, households, notes, protections with warrants, supports, closings.
    let a = world();
    let staff = a.svc.import(&a.admin, |s| mamoru_core::fixture::demo_staff(s, &a.admin)).unwrap();
    a.svc.import(&a.admin, |s| mamoru_core::fixture::populate(s, &staff, 3, 40, 3, 40)).unwrap();
    let first = export(&a);
    let b = world();
    let mut files = Files { bytes: first.clone(), fail: None, opened: HashMap::new() };
    let opts = ImportOptions { skip_rejected: false, ..options(false) };
    let rec = b.svc.import_legacy(&b.admin, &mut files, &opts).unwrap();
    assert!(
        rec.rejections.is_empty() && rec.written,
        "{:#?}",
        &rec.rejections[..rec.rejections.len().min(8)]
    );
    let second = export(&b);
    let (first, second) = (layout_files(&first), layout_files(&second));
    for ((name, one), (_, two)) in first.iter().zip(&second) {
        assert_eq!(one, two, "{name}");
    }
    let children: HashMap<String, u64> = b.svc.check().unwrap().counts.into_iter().collect();
    assert_eq!(children["child"], 40);
}

/// A small UTF-8 source: two children, a case restricted to `worker1`, one restricted to a
/// login no staff has, one open to the unit.
fn restricted_source() -> Files {
    let mut files = Files::fixture();
    files.bytes.clear();
    let put = |files: &mut Files, name: &str, text: &str| {
        files.bytes.insert(name.to_owned(), text.as_bytes().to_vec());
    };
    put(
        &mut files,
        "children.csv",
        "legacy_id,family_name,given_name,family_name_kana,given_name_kana,birth_date,sex,address,phone\n\
         C1,架空,一郎,かくう,いちろう,2015-04-01,男,架空市1丁目,\n\
         C2,架空,二郎,かくう,じろう,2016-05-01,男,架空市2丁目,\n",
    );
    put(
        &mut files,
        "cases.csv",
        "legacy_id,child_id,received_at,route,consultation_type,chief_complaint,content,status,closed_at,closure_reason,worker_opinion,restricted_to\n\
         K1,C1,2025-04-01 10:00,02,11,主訴,内容,対応中,,,,worker1\n\
         K2,C2,2025-04-02 10:00,02,11,主訴,内容,対応中,,,,nobody\n\
         K3,C2,2025-04-03 10:00,02,11,主訴,内容,対応中,,,,\n",
    );
    files
}

#[test]
fn a_restricted_case_stays_restricted_to_the_staff_its_row_names_through_export_and_import() {
    let w = world();
    let worker1 = w.staff("worker1", Role::Caseworker, w.u1);
    let other = w.staff("worker2", Role::Caseworker, w.u1);
    let rec = w.svc.import_legacy(&w.admin, &mut restricted_source(), &options(true)).unwrap();
    assert_eq!(
        lines(&rec),
        [
            "cases.csv:3: restricted_to: no active staff signs in as \"nobody\" in the unit (閲覧制限 names staff by login)"
        ]
    );
    let rec = w.svc.import_legacy(&w.admin, &mut restricted_source(), &options(false)).unwrap();
    assert!(rec.written);
    let id = |legacy: &str| CaseId(rec.mapped.iter().find(|m| m.legacy_id == legacy).unwrap().id);
    // Only the staff named see the case and its child; the unit's other caseworker does not.
    assert!(w.svc.case(&worker1, id("K1")).is_ok());
    let refused = w.svc.case(&other, id("K1")).unwrap_err();
    assert!(matches!(refused, mamoru_core::error::Error::Forbidden { .. }), "{refused:?}");
    assert!(w.svc.case(&other, id("K3")).is_ok(), "the unrestricted case stays open to the unit");
    // The export names the login; a store with the same login keeps the restriction, one
    // without it refuses the row rather than store the case open.
    let files = export(&w);
    let cases = String::from_utf8(files["cases.csv"].clone()).unwrap();
    assert!(cases.lines().any(|l| l.starts_with("K1,") && l.ends_with(",worker1")), "{cases}");
    let b = world();
    let mut again = Files { bytes: files.clone(), fail: None, opened: HashMap::new() };
    let rec = b.svc.import_legacy(&b.admin, &mut again, &options(true)).unwrap();
    assert!(lines(&rec).iter().any(|l| l.contains("restricted_to: no active staff signs in as \"worker1\"")));
    let c = world();
    let worker1 = c.staff("worker1", Role::Caseworker, c.u1);
    let other = c.staff("worker2", Role::Caseworker, c.u1);
    let mut again = Files { bytes: files, fail: None, opened: HashMap::new() };
    let rec = c.svc.import_legacy(&c.admin, &mut again, &options(false)).unwrap();
    assert!(rec.rejections.is_empty() && rec.written, "{:?}", rec.rejections);
    let k1 = CaseId(rec.mapped.iter().find(|m| m.legacy_id == "K1").unwrap().id);
    assert!(c.svc.case(&worker1, k1).is_ok());
    assert!(c.svc.case(&other, k1).is_err());
}

mod generated {
    use proptest::prelude::*;

    use std::fmt::Write as _;

    use super::{Files, round_trip};

    const FAMILIES: [(&str, &str); 4] =
        [("架空", "カクウ"), ("試験", "しけん"), ("髙橋", "タカハシ"), ("𠮷田", "ヨシダ")];

    fn text() -> impl Strategy<Value = String> {
        proptest::collection::vec(
            prop_oneof![
                Just("記録"),
                Just(","),
                Just("\""),
                Just("\n"),
                Just("="),
                Just("-"),
                Just("ｶﾅ"),
                Just(" ")
            ],
            1..6,
        )
        .prop_map(|parts| parts.concat())
    }

    /// A source of a few children, adults, relations, cases, abuse rows and notes.
    fn source() -> impl Strategy<Value = Files> {
        (
            proptest::collection::vec((0..4usize, 0..5000i64, any::<bool>()), 1..6),
            proptest::collection::vec((0..4usize, any::<bool>()), 0..4),
            proptest::collection::vec((0..6usize, 0..4usize, 0..3usize, any::<bool>(), any::<bool>()), 0..8),
            proptest::collection::vec((0..6usize, 0..1500i64, any::<bool>(), any::<bool>(), text()), 1..5),
            proptest::collection::vec((0..5usize, 0..500i64, text(), any::<bool>()), 0..10),
        )
            .prop_map(|(children, adults, relations, cases, notes)| {
                let day = |d: i64| mamoru_core::time::Date::new(2010, 1, 1).unwrap().plus_days(d).to_string();
                let mut files = Files::fixture();
                files.bytes.clear();
                let mut put = |name: &str, text: String| {
                    files.bytes.insert(name.to_owned(), text.into_bytes());
                };
                let mut kids = String::from("legacy_id,family_name,given_name,family_name_kana,given_name_kana,birth_date,sex,address,phone\n");
                for (i, (fam, born, girl)) in children.iter().enumerate() {
                    let (family, kana) = FAMILIES[*fam];
                    writeln!(kids, "C{i},{family},子{i},{kana},コ,{},{},架空市{i}丁目,000-0000-000{i}", day(*born), if *girl { "女" } else { "男" }).unwrap();
                }
                put("children.csv", kids);
                let mut adults_csv = String::from("legacy_id,family_name,given_name,family_name_kana,given_name_kana,birth_date,sex,address,phone\n");
                for (j, (fam, woman)) in adults.iter().enumerate() {
                    let (family, kana) = FAMILIES[*fam];
                    writeln!(adults_csv, "P{j},{family},親{j},{kana},オヤ,,{},,", if *woman { "女" } else { "男" }).unwrap();
                }
                put("persons.csv", adults_csv);
                let mut rel_csv = String::from("child_id,other_id,relation,guardian,cohabiting\n");
                let mut seen = std::collections::HashSet::new();
                for (child, adult, rel, guardian, cohabiting) in &relations {
                    let (child, adult) = (child % children.len(), *adult);
                    if adult >= adults.len() || !seen.insert((child, adult)) {
                        continue;
                    }
                    let code = ["01", "02", "07"][*rel];
                    writeln!(rel_csv, "C{child},P{adult},{code},{},{}", u8::from(*guardian), u8::from(*cohabiting)).unwrap();
                }
                put("relations.csv", rel_csv);
                let mut case_csv = String::from("legacy_id,child_id,received_at,route,consultation_type,chief_complaint,content,status,closed_at,closure_reason,worker_opinion\n");
                let mut abuse_csv = String::from("case_id,types,main_type,main_perpetrator\n");
                for (n, (child, received, closed, abuse, content)) in cases.iter().enumerate() {
                    let child = child % children.len();
                    let at = format!("{} 10:00", mamoru_core::time::Date::new(2020, 1, 1).unwrap().plus_days(*received));
                    let (status, closed_at) = if *closed {
                        ("終結", mamoru_core::time::Date::new(2020, 1, 1).unwrap().plus_days(received + 30).to_string())
                    } else {
                        ("対応中", String::new())
                    };
                    let content = mamoru_core::interchange::csv_field(content);
                    writeln!(case_csv, "K{n},C{child},{at},02,11,主訴{n},{content},{status},{closed_at},,").unwrap();
                    if *abuse {
                        writeln!(abuse_csv, "K{n},1;3,3,1").unwrap();
                    }
                }
                put("cases.csv", case_csv);
                put("abuse.csv", abuse_csv);
                let mut notes_csv = String::from("case_id,at,author,body\n");
                for (case, later, body, minute) in &notes {
                    let case = case % cases.len();
                    let at = format!(
                        "{} {}",
                        mamoru_core::time::Date::new(2020, 1, 1).unwrap().plus_days(cases[case].1 + later),
                        if *minute { "11:00" } else { "12:30" }
                    );
                    writeln!(notes_csv, "K{case},{at},移行 職員,{}", mamoru_core::interchange::csv_field(body)).unwrap();
                }
                put("notes.csv", notes_csv);
                files
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]
        /// Any store an import makes exports to files that import into an empty store and export
        /// again unchanged.
        #[test]
        fn an_exported_store_imports_and_exports_the_same(source in source()) {
            let (first, second) = round_trip(source);
            prop_assert_eq!(first, second);
        }
    }
}
