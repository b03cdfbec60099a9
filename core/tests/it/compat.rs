//! Stores written by earlier versions stay readable. `fixtures/store-format1` was written by
//! `mamoru demo --children 5 --no-serve` at store format 1, schema 1 of every record kind; every
//! later version must open it, read every record, and check it clean. Add a fixture whenever the
//! format or a schema changes.

use mamoru_core::Service;
use mamoru_core::audit::{AuditQuery, Verdict};
use mamoru_core::case::{Assessment, Case, Meeting, Note, Reporter, SafetyCheck, Support};
use mamoru_core::code_table::CodeTable;
use mamoru_core::person::{Agency, Child, Household, Person};
use mamoru_core::protection::Protection;
use mamoru_core::staff::{Credential, Staff, Unit};
use mamoru_core::store::{Reader, Store};

use crate::support::t0;

#[test]
fn the_format_1_fixture_store_opens_reads_and_checks_clean() {
    let dir = tempfile::tempdir().unwrap();
    let src =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/store-format1/mamoru.redb");
    std::fs::copy(&src, dir.path().join("mamoru.redb")).unwrap();
    let redo_seq = || {
        let db = redb::Database::open(dir.path().join("mamoru.redb")).unwrap();
        let tx = redb::ReadableDatabase::begin_read(&db).unwrap();
        let meta = tx.open_table(redb::TableDefinition::<&str, &[u8]>::new("meta")).unwrap();
        meta.get("tx_seq").unwrap().map(|g| g.value().to_vec())
    };
    let before = redo_seq();
    // Opened (migrated, indexed) and closed again.
    drop(Store::open(dir.path()).unwrap());
    // Migrating is not a logged write: a restored snapshot being migrated must not take the
    // redo number of the archive's next entry.
    assert_eq!(redo_seq(), before);
    let svc = Service::new(
        Store::open(dir.path()).unwrap(),
        std::sync::Arc::new(mamoru_core::time::FixedClock::new(t0())),
    );
    let r = svc.store().read().unwrap();
    assert_eq!(r.all::<Unit>().unwrap().len(), 2);
    assert_eq!(r.all::<Staff>().unwrap().len(), 9);
    assert_eq!(r.all::<Credential>().unwrap().len(), 9);
    assert_eq!(r.all::<Child>().unwrap().len(), 5);
    assert!(!r.all::<Person>().unwrap().is_empty());
    assert!(!r.all::<Household>().unwrap().is_empty());
    assert_eq!(r.all::<Agency>().unwrap().len(), 4);
    assert_eq!(r.all::<Case>().unwrap().len(), 5);
    assert!(!r.all::<Note>().unwrap().is_empty());
    r.all::<Reporter>().unwrap();
    r.all::<SafetyCheck>().unwrap();
    r.all::<Assessment>().unwrap();
    r.all::<Protection>().unwrap();
    r.all::<Support>().unwrap();
    r.all::<Meeting>().unwrap();
    assert_eq!(r.all::<CodeTable>().unwrap().len(), 9);
    // Migrated at open: the photos' table exists and the marker says format 2.
    assert!(r.file(&"0".repeat(64)).unwrap().is_none());
    assert_eq!(r.meta("format").unwrap(), Some(2u32.to_le_bytes().to_vec()));
    // The audit log written before the search index existed is indexed at open.
    let mut all = Vec::new();
    mamoru_core::store::search_audit(&r, &AuditQuery::default(), |e| {
        all.push(e);
        true
    })
    .unwrap();
    // The commonest action, if it is not the only one.
    let count = |a: &str| all.iter().filter(|e| e.action == a).count();
    let action = all.iter().map(|e| e.action.clone()).max_by_key(|a| count(a)).unwrap();
    let mut reads = Vec::new();
    let query = AuditQuery { action: Some(action.clone()), ..AuditQuery::default() };
    mamoru_core::store::search_audit(&r, &query, |e| {
        reads.push(e.seq);
        true
    })
    .unwrap();
    let expected: Vec<u64> = all.iter().filter(|e| e.action == action).map(|e| e.seq).collect();
    assert!(expected.len() > 1 && expected.len() < all.len(), "{action}: {}", expected.len());
    assert_eq!(reads, expected);
    drop(r);
    let report = svc.check().unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    assert!(matches!(svc.verify_audit().unwrap(), Verdict::Intact { .. }));
}
