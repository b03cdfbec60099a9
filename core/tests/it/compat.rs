//! Stores written by earlier versions stay readable. `fixtures/store-format1` was written by
//! `mamoru demo --children 5 --no-serve` at store format 1, schema 1 of every record kind; every
//! later version must open it, read every record, and check it clean. Add a fixture whenever the
//! format or a schema changes.

use mamoru_core::Service;
use mamoru_core::audit::Verdict;
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
    drop(r);
    let report = svc.check().unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    assert!(matches!(svc.verify_audit().unwrap(), Verdict::Intact { .. }));
}
