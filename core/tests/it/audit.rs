//! Tamper detection: the audit chain finds an edited byte, a deleted entry, and a cut tail.

use mamoru_core::audit::Verdict;
use mamoru_core::staff::Role;
use mamoru_core::store::{FILE_NAME, Store};
use redb::{Database, ReadableTable, TableDefinition};

use crate::support::world;

const AUDIT: TableDefinition<u64, &[u8]> = TableDefinition::new("audit");

/// A store with a few dozen audit entries, closed, and its directory.
fn closed_store() -> (tempfile::TempDir, u64) {
    let w = world();
    let cw = w.staff("cw", Role::Caseworker, w.u1);
    for i in 0..10 {
        let id = w.child(&cw, "監査", &format!("{i}"), "かんさ", "", "2015-01-01");
        w.svc.child(&cw, id).unwrap();
    }
    let n = match w.svc.verify_audit().unwrap() {
        Verdict::Intact { entries } => entries,
        v @ Verdict::Broken { .. } => panic!("{v:?}"),
    };
    (w.dir, n)
}

fn tamper(dir: &std::path::Path, f: impl FnOnce(&mut redb::Table<u64, &[u8]>)) {
    let db = Database::open(dir.join(FILE_NAME)).unwrap();
    let tx = db.begin_write().unwrap();
    {
        let mut t = tx.open_table(AUDIT).unwrap();
        f(&mut t);
    }
    tx.commit().unwrap();
}

fn verdict(dir: &std::path::Path) -> Verdict {
    let store = Store::open(dir).unwrap();
    mamoru_core::store::verify_audit(&store.read().unwrap()).unwrap()
}

#[test]
fn an_edited_byte_is_found() {
    let (dir, n) = closed_store();
    assert!(n > 20);
    tamper(dir.path(), |t| {
        let mut bytes = t.get(7).unwrap().unwrap().value().to_vec();
        // Change which record was read: one digit of the record id.
        let pos = bytes.windows(9).position(|w| w == b"\"record\":").unwrap() + 9;
        bytes[pos] = if bytes[pos] == b'1' { b'2' } else { b'1' };
        t.insert(7, bytes.as_slice()).unwrap();
    });
    match verdict(dir.path()) {
        Verdict::Broken { seq, reason } => {
            assert_eq!(seq, 7, "{reason}");
            assert!(reason.contains("edited") || reason.contains("unreadable"), "{reason}");
        }
        v @ Verdict::Intact { .. } => panic!("tampering not found: {v:?}"),
    }
}

#[test]
fn a_deleted_entry_is_found() {
    let (dir, _) = closed_store();
    tamper(dir.path(), |t| {
        t.remove(5).unwrap();
    });
    assert!(matches!(verdict(dir.path()), Verdict::Broken { seq: 5, .. }));
}

#[test]
fn a_cut_tail_is_found() {
    let (dir, n) = closed_store();
    tamper(dir.path(), |t| {
        t.remove(n).unwrap();
    });
    match verdict(dir.path()) {
        Verdict::Broken { seq, .. } => assert_eq!(seq, n),
        v @ Verdict::Intact { .. } => panic!("cut tail not found: {v:?}"),
    }
}

#[test]
fn a_rewritten_chain_from_the_middle_is_found_by_the_next_entry() {
    let (dir, _) = closed_store();
    // Replace entry 4 with a consistent-looking entry (its own hash recomputed): entry 5 still
    // names the old hash.
    tamper(dir.path(), |t| {
        let bytes = t.get(4).unwrap().unwrap().value().to_vec();
        let mut e = mamoru_core::audit::AuditEntry::decode(&bytes).unwrap();
        e.action = "read_child".into();
        e.result = "forbidden".into();
        e.hash = e.compute_hash();
        t.insert(4, serde_json::to_vec(&e).unwrap().as_slice()).unwrap();
    });
    assert!(matches!(verdict(dir.path()), Verdict::Broken { seq: 5, .. }));
}

/// The attack the chain alone cannot see: an old entry rewritten and every later entry (and the
/// store's head) rehashed. The anchors a backup kept outside the store catch it; a cut tail
/// with the head rewritten too is caught the same way.
#[test]
fn a_rewrite_with_every_later_entry_rehashed_passes_the_chain_but_not_the_anchors() {
    use mamoru_core::audit::{Anchor, AnchorCheck, AuditEntry};
    let (dir, n) = closed_store();
    let anchors = |dir: &std::path::Path| {
        let svc = mamoru_core::Service::new(
            Store::open(dir).unwrap(),
            std::sync::Arc::new(mamoru_core::time::FixedClock::new(crate::support::t0())),
        );
        (svc.audit_anchor().unwrap(), svc)
    };
    // Backups made along the way: an early one and the newest.
    let (newest, svc) = anchors(dir.path());
    let newest = newest.unwrap();
    assert_eq!(newest.seq, n);
    assert_eq!(Anchor::parse(&newest.to_string()), Some(newest.clone()));
    drop(svc);
    let early = {
        let db = Database::open(dir.path().join(FILE_NAME)).unwrap();
        let tx = redb::ReadableDatabase::begin_read(&db).unwrap();
        let t = tx.open_table(AUDIT).unwrap();
        let e = AuditEntry::decode(t.get(9).unwrap().unwrap().value()).unwrap();
        Anchor { seq: 9, hash: e.hash }
    };
    // Newest first: the check sorts them itself.
    let kept =
        vec![("archive segment 1..9".to_owned(), newest), ("backup generation 1".to_owned(), early.clone())];
    let (_, svc) = anchors(dir.path());
    assert_eq!(svc.check_audit_anchors(&kept).unwrap(), AnchorCheck::Agrees { anchors: 2, newest: n });
    drop(svc);
    // Entry 4 rewritten, 5..n rehashed in order, the head recorded anew.
    let head = {
        let db = Database::open(dir.path().join(FILE_NAME)).unwrap();
        let tx = db.begin_write().unwrap();
        let head;
        {
            let mut t = tx.open_table(AUDIT).unwrap();
            let mut prev = t.get(3).unwrap().unwrap().value().to_vec();
            prev = AuditEntry::decode(&prev).unwrap().hash.into_bytes();
            for seq in 4..=n {
                let mut e = AuditEntry::decode(t.get(seq).unwrap().unwrap().value()).unwrap();
                if seq == 4 {
                    e.result = "forbidden".into();
                }
                e.prev = String::from_utf8(prev).unwrap();
                e.hash = e.compute_hash();
                prev = e.hash.clone().into_bytes();
                t.insert(seq, serde_json::to_vec(&e).unwrap().as_slice()).unwrap();
            }
            head = format!("{n}:{}", String::from_utf8(prev).unwrap());
        }
        {
            let mut meta: redb::Table<&str, &[u8]> = tx.open_table(TableDefinition::new("meta")).unwrap();
            meta.insert("audit_head", head.as_bytes()).unwrap();
        }
        tx.commit().unwrap();
        head
    };
    assert!(!head.is_empty());
    assert!(matches!(verdict(dir.path()), Verdict::Intact { .. }), "the chain alone is fooled");
    let (_, svc) = anchors(dir.path());
    match svc.check_audit_anchors(&kept).unwrap() {
        AnchorCheck::Differs { seq, source, reason } => {
            assert_eq!(seq, 9, "the first anchor after the rewrite");
            assert_eq!(source, "backup generation 1");
            assert!(reason.contains("rewritten"), "{reason}");
        }
        other @ AnchorCheck::Agrees { .. } => panic!("the rewrite passed the anchors: {other:?}"),
    }
    // An anchor beyond the log's end: entries removed from the end (head rewritten too).
    let beyond = vec![("archive segment 9..12".to_owned(), Anchor { seq: n + 5, hash: early.hash })];
    match svc.check_audit_anchors(&beyond).unwrap() {
        AnchorCheck::Differs { seq, reason, .. } => {
            assert_eq!(seq, n + 5);
            assert!(reason.contains("removed from the end"), "{reason}");
        }
        other @ AnchorCheck::Agrees { .. } => panic!("a cut tail passed the anchors: {other:?}"),
    }
}

// ---- searching the log ------------------------------------------------------------------------

/// A byte changed inside a record that still reads (a note's text) passes the record checks and
/// the audit chain; redb's page checksums find it, on a copy (nothing is repaired behind
/// anyone's back, no copy is left).
#[test]
fn a_changed_byte_inside_a_record_is_found_by_redbs_page_check() {
    use mamoru_core::case::{IntakeKind, NewNote};
    use mamoru_core::code_table::Code;
    use mamoru_core::ids::CaseId;

    let w = world();
    let cw = w.staff("cw", Role::Caseworker, w.u1);
    let child = w.child(&cw, "頁検", "太郎", "ぺーじ", "たろう", "2016-04-01");
    let case = CaseId(w.case(&cw, child, IntakeKind::Consultation, crate::support::t0()).id);
    let note = NewNote {
        at: crate::support::t0(),
        kind: Code::new("3"),
        body: "訪問記録QZXJ".into(),
        photos: vec![],
    };
    w.svc.add_note(&cw, case, note).unwrap();
    assert!(w.svc.check_with_pages().unwrap().problems.is_empty());
    let (dir, clock) = (w.dir, w.clock);
    drop(w.svc);

    let path = dir.path().join(FILE_NAME);
    let mut bytes = std::fs::read(&path).unwrap();
    let mut changed = 0;
    for i in 0..bytes.len() - 4 {
        if &bytes[i..i + 4] == b"QZXJ" {
            bytes[i + 3] = b'K';
            changed += 1;
        }
    }
    assert!(changed > 0);
    std::fs::write(&path, &bytes).unwrap();

    let svc = mamoru_core::Service::open(dir.path(), clock).unwrap();
    assert!(svc.check().unwrap().problems.is_empty(), "the records still read");
    let report = svc.check_with_pages().unwrap();
    assert_eq!(report.problems.len(), 1, "{:?}", report.problems);
    assert!(report.problems[0].starts_with("redb"), "{:?}", report.problems);
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert!(!left.iter().any(|n| n.to_string_lossy().contains("check")), "{left:?}");
}

mod search {
    use mamoru_core::audit::AuditEntry;
    use mamoru_core::case::{IntakeKind, NewNote};
    use mamoru_core::code_table::Code;
    use mamoru_core::ids::{CaseId, ChildId};
    use mamoru_core::service::AuditFilter;
    use mamoru_core::staff::Role;
    use mamoru_core::store::Store;
    use mamoru_core::time::{DAY, Date, FixedClock};
    use mamoru_core::{Actor, Service};

    use crate::support::{World, t0, world};

    struct Busy {
        w: World,
        sv: Actor,
        cw1: Actor,
        cw2: Actor,
        a: ChildId,
        case_a: CaseId,
    }

    /// Five days of two caseworkers' work on two children, each day a little different.
    fn busy() -> Busy {
        let w = world();
        let sv = w.staff("sv", Role::Supervisor, w.u1);
        let cw1 = w.staff("cw1", Role::Caseworker, w.u1);
        let cw2 = w.staff("cw2", Role::Caseworker, w.u1);
        let a = w.child(&cw1, "監査", "一郎", "かんさ", "いちろう", "2016-04-01");
        let b = w.child(&cw2, "検索", "花子", "けんさく", "はなこ", "2017-05-02");
        let case_a = CaseId(w.case(&cw1, a, IntakeKind::Consultation, t0()).id);
        for day in 0..5 {
            w.clock.set(t0().plus(day * DAY));
            w.svc.child(&cw1, a).unwrap();
            w.svc.child(&cw2, b).unwrap();
            w.svc.case(&cw1, case_a).unwrap();
            w.svc
                .add_note(
                    &cw1,
                    case_a,
                    NewNote {
                        at: t0().plus(day * DAY),
                        kind: Code::new("3"),
                        body: format!("{day}日目"),
                        photos: vec![],
                    },
                )
                .unwrap();
            if day % 2 == 0 {
                w.svc.search(&cw2, "かんさ", 10).unwrap();
            }
        }
        Busy { w, sv, cw1, cw2, a, case_a }
    }

    /// What a filter should find, as a test on one entry.
    type Expected<'a> = Box<dyn Fn(&AuditEntry) -> bool + 'a>;

    fn everything(b: &Busy) -> Vec<AuditEntry> {
        let mut all = b.w.svc.audit_log(&b.w.admin, 1, usize::MAX).unwrap();
        all.reverse();
        all
    }

    fn seqs(entries: &[AuditEntry]) -> Vec<u64> {
        entries.iter().map(|e| e.seq).collect()
    }

    #[test]
    fn each_part_of_the_filter_finds_what_reading_every_entry_finds() {
        let b = busy();
        let all = everything(&b);
        let note_ids: Vec<u64> = all
            .iter()
            .filter(|e| e.action == "add_note" && e.result == "ok")
            .filter_map(|e| e.record)
            .collect();
        assert_eq!(note_ids.len(), 5);
        let about_a = |e: &AuditEntry| match (e.kind.as_deref(), e.record) {
            (Some("child"), Some(id)) => id == b.a.0,
            (Some("case"), Some(id)) => id == b.case_a.0,
            (Some("note"), Some(id)) => note_ids.contains(&id),
            (_, None) if e.action == "search" => {
                e.detail.as_deref().is_some_and(|d| d.contains(&format!(" {}", b.a.0)))
            }
            _ => false,
        };
        let day = |n: i64| t0().plus(n * DAY).jst_date();
        let cases: Vec<(AuditFilter, Expected)> = vec![
            (
                AuditFilter { staff: Some(b.cw2.login().to_string()), ..AuditFilter::default() },
                Box::new(|e| e.actor == b.cw2.staff().0),
            ),
            (AuditFilter { child: Some(b.a), ..AuditFilter::default() }, Box::new(about_a)),
            (
                AuditFilter { action: Some("read_child".into()), ..AuditFilter::default() },
                Box::new(|e| e.action == "read_child"),
            ),
            (
                AuditFilter { from: Some(day(1)), until: Some(day(2)), ..AuditFilter::default() },
                Box::new(|e| e.at.jst_date() >= day(1) && e.at.jst_date() <= day(2)),
            ),
            (
                AuditFilter {
                    staff: Some(b.cw2.login().to_string()),
                    child: Some(b.a),
                    from: Some(day(2)),
                    ..AuditFilter::default()
                },
                Box::new(|e| e.actor == b.cw2.staff().0 && about_a(e) && e.at.jst_date() >= day(2)),
            ),
            (
                AuditFilter {
                    staff: Some(b.cw1.login().to_string()),
                    action: Some("read_case".into()),
                    until: Some(day(3)),
                    ..AuditFilter::default()
                },
                Box::new(|e| {
                    e.actor == b.cw1.staff().0 && e.action == "read_case" && e.at.jst_date() <= day(3)
                }),
            ),
            (
                AuditFilter { action: Some("no_such_action".into()), ..AuditFilter::default() },
                Box::new(|_| false),
            ),
        ];
        for (filter, expected) in cases {
            let want: Vec<u64> = all.iter().filter(|e| expected(e)).map(|e| e.seq).collect();
            let got = b.w.svc.search_audit(&b.sv, &filter, 10_000).unwrap();
            assert_eq!(seqs(&got), want, "{filter:?}");
            // The newest `limit` of the same (a search on a child is itself about that child, so
            // the one just made would come first).
            if filter.child.is_none() {
                let got = b.w.svc.search_audit(&b.sv, &filter, 3).unwrap();
                assert_eq!(seqs(&got), want.iter().copied().take(3).collect::<Vec<_>>(), "{filter:?}");
            }
        }
        // Sanity: the interesting filters found something.
        let mine =
            b.w.svc.search_audit(&b.sv, &AuditFilter { child: Some(b.a), ..AuditFilter::default() }, 1000);
        assert!(mine.unwrap().iter().any(|e| e.action == "search" && e.actor == b.cw2.staff().0));
    }

    #[test]
    fn a_search_is_itself_audited_with_its_filter_and_a_caseworker_may_not_search() {
        let b = busy();
        let filter =
            AuditFilter { child: Some(b.a), action: Some("read_child".into()), ..AuditFilter::default() };
        let found = b.w.svc.search_audit(&b.sv, &filter, 100).unwrap();
        assert_eq!(found.len(), 5);
        let last = everything(&b).remove(0);
        assert_eq!((last.action.as_str(), last.actor), ("read_audit", b.sv.staff().0));
        assert_eq!((last.kind.as_deref(), last.record), (Some("child"), Some(b.a.0)));
        let detail = last.detail.unwrap();
        assert!(detail.contains(&format!("child={}", b.a.0)) && detail.contains("5 entries"), "{detail}");
        // So the child's own filter shows who looked at its audit trail.
        let again =
            b.w.svc.search_audit(&b.sv, &AuditFilter { child: Some(b.a), ..AuditFilter::default() }, 1);
        assert_eq!(again.unwrap()[0].seq, last.seq);

        let refused = b.w.svc.search_audit(&b.cw1, &filter, 100).unwrap_err();
        assert_eq!(refused.code(), "forbidden");
        let bad = AuditFilter { action: Some("READ CASE".into()), ..AuditFilter::default() };
        assert_eq!(b.w.svc.search_audit(&b.sv, &bad, 1).unwrap_err().code(), "invalid");
        let backwards = AuditFilter {
            from: Some(Date::parse_iso("2025-06-05").unwrap()),
            until: Some(Date::parse_iso("2025-06-01").unwrap()),
            ..AuditFilter::default()
        };
        assert_eq!(b.w.svc.search_audit(&b.sv, &backwards, 1).unwrap_err().code(), "invalid");
        let nobody = AuditFilter { child: Some(ChildId(9999)), ..AuditFilter::default() };
        assert_eq!(b.w.svc.search_audit(&b.sv, &nobody, 1).unwrap_err().code(), "not_found");
    }

    #[test]
    fn the_export_is_the_search_as_csv_and_is_audited() {
        let b = busy();
        let filter = AuditFilter { staff: Some(b.cw1.login().to_string()), ..AuditFilter::default() };
        let found = b.w.svc.search_audit(&b.sv, &filter, usize::MAX).unwrap();
        let mut csv = Vec::new();
        let n = b.w.svc.export_audit(&b.sv, &filter, &mut csv).unwrap();
        assert_eq!(n, found.len() as u64);
        let text = String::from_utf8(csv).unwrap();
        let lines: Vec<&str> = text.split("\r\n").filter(|l| !l.is_empty()).collect();
        assert!(lines[0].starts_with("\u{feff}番号,日時,職員ID,ログイン名"), "{}", lines[0]);
        assert_eq!(lines.len() - 1, found.len());
        let first: Vec<&str> = lines[1].split(',').collect();
        assert_eq!(first[0], found[0].seq.to_string());
        assert_eq!(first[3], "cw1");
        assert_eq!(first[10], found[0].hash);
        // No names or text of a child: only ids, actions, results, counts.
        assert!(!text.contains("監査") && !text.contains("かんさ"), "{text}");
        let last = everything(&b).remove(0);
        assert_eq!((last.action.as_str(), last.actor), ("export_audit", b.sv.staff().0));
        assert!(last.detail.unwrap().contains(&format!("{n} entries")));
        let refused = b.w.svc.export_audit(&b.cw2, &filter, &mut Vec::new()).unwrap_err();
        assert_eq!(refused.code(), "forbidden");
    }

    /// Takes the index away, as in a store written before it existed; optionally damages entry
    /// `damage` too. Returns the store reopened (which indexes what it can).
    fn reopen_without_index(w: World, damage: Option<u64>) -> (tempfile::TempDir, Service) {
        let dir = w.dir;
        drop(w.svc);
        {
            let db = redb::Database::open(dir.path().join(mamoru_core::store::FILE_NAME)).unwrap();
            let tx = db.begin_write().unwrap();
            tx.delete_table(redb::TableDefinition::<(&str, u64), ()>::new("audit_terms")).unwrap();
            tx.delete_table(redb::TableDefinition::<&str, u64>::new("indexed")).unwrap();
            if let Some(seq) = damage {
                tx.open_table(super::AUDIT).unwrap().insert(seq, b"{not json".as_slice()).unwrap();
            }
            tx.commit().unwrap();
        }
        let store = Store::open(dir.path()).unwrap();
        (dir, Service::new(store, std::sync::Arc::new(FixedClock::new(t0().plus(10 * DAY)))))
    }

    #[test]
    fn a_store_without_the_index_is_indexed_at_open() {
        let b = busy();
        let filter = AuditFilter { staff: Some(b.cw2.login().to_string()), ..AuditFilter::default() };
        let want = seqs(&b.w.svc.search_audit(&b.sv, &filter, 1000).unwrap());
        let (_dir, svc) = reopen_without_index(b.w, None);
        assert_eq!(seqs(&svc.search_audit(&b.sv, &filter, 1000).unwrap()), want);
    }

    #[test]
    fn past_a_damaged_entry_the_log_is_still_searched_entry_by_entry() {
        let b = busy();
        let filter = AuditFilter { staff: Some(b.cw1.login().to_string()), ..AuditFilter::default() };
        let want = seqs(&b.w.svc.search_audit(&b.sv, &filter, 1000).unwrap());
        let damaged = want[want.len() / 2];
        let (_dir, svc) = reopen_without_index(b.w, Some(damaged));
        // The index stops before the damage; the entries after it are read one by one.
        let got = seqs(&svc.search_audit(&b.sv, &filter, 1000).unwrap());
        let expected: Vec<u64> = want.iter().copied().filter(|s| *s != damaged).collect();
        assert_eq!(got, expected);
        assert!(
            matches!(svc.verify_audit().unwrap(), mamoru_core::audit::Verdict::Broken { seq, .. } if seq == damaged)
        );
    }
}
