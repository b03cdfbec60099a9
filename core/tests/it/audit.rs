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
    mamoru_core::audit::verify(&store.read().unwrap()).unwrap()
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
