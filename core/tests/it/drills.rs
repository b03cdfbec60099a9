//! 復元訓練 kept in the store: recorded with the audit entry saying what it found, listed for
//! administrators by time, and due monthly from the last one.

use mamoru_core::Error;
use mamoru_core::drill::RestoreDrill;
use mamoru_core::service::AuditFilter;
use mamoru_core::staff::Role;
use mamoru_core::time::{DAY, Timestamp};

use crate::support::{t0, world};

fn drill(at: Timestamp, failure: Option<&str>) -> RestoreDrill {
    RestoreDrill {
        started_at: at,
        millis: 4_200,
        generation: Some(3),
        generation_bytes: 1_000_000,
        changes_replayed: 12,
        up_to: Some(at),
        failure: failure.map(str::to_owned),
        by: "scheduler".into(),
    }
}

#[test]
fn drills_are_kept_audited_listed_by_month_and_due_monthly() {
    let w = world();
    assert!(w.svc.drill_due(30).unwrap(), "none yet: due");
    assert!(!w.svc.drill_due(0).unwrap(), "0: never by schedule");

    let passed = w.svc.record_drill(drill(t0(), None)).unwrap();
    assert!(!w.svc.drill_due(30).unwrap(), "just drilled");
    w.clock.advance(30 * DAY);
    assert!(w.svc.drill_due(30).unwrap(), "a month later");
    let failed = w.svc.record_drill(drill(w.svc.now(), Some("no authentic backup generation"))).unwrap();

    // Listed by start time, for the report of a month.
    let all = w.svc.drills(&w.admin, t0(), w.svc.now().plus(1)).unwrap();
    assert_eq!(all.iter().map(|d| d.id).collect::<Vec<_>>(), [passed.id, failed.id]);
    let first = w.svc.drills(&w.admin, t0(), t0().plus(DAY)).unwrap();
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].body, drill(t0(), None));

    // Each one audited with what it found, the failure marked as such.
    let entries = w
        .svc
        .search_audit(
            &w.admin,
            &AuditFilter { action: Some("restore_drill".into()), ..AuditFilter::default() },
            10,
        )
        .unwrap();
    assert_eq!(entries.len(), 2, "{entries:?}");
    let failed_entry = entries.iter().find(|e| e.result == "failed").expect("the failed drill's entry");
    assert!(failed_entry.detail.as_deref().unwrap().contains("no authentic backup generation"));
    assert!(entries.iter().any(|e| e.result == "ok" && e.detail.as_deref().unwrap().contains("passed")));

    // Nobody but an administrator reads them.
    let sv = w.staff("sv", Role::Supervisor, w.u1);
    assert!(matches!(w.svc.drills(&sv, t0(), w.svc.now()), Err(Error::Forbidden { .. })));
}
