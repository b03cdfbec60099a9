//! Crash safety: a child process doing durable writes is killed with SIGKILL at 50 random points.
//! After each kill the store opens, every write the child reported as committed is there, and no
//! transaction is half there (integrity check and audit chain).

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;

use mamoru_core::Service;
use mamoru_core::fixture::Rng;
use mamoru_core::ids::{ChildId, UnitId};
use mamoru_core::person::{Child, PersonName, Sex};
use mamoru_core::service::NewChild;
use mamoru_core::staff::Role;
use mamoru_core::store::{Reader, Store};
use mamoru_core::time::FixedClock;

use crate::support::{t0, world};

const CHILD_ENV: &str = "MAMORU_CRASH_WRITER_DIR";

/// Writes children one transaction at a time, printing `committed ID` after each commit returns.
fn write_loop(dir: &Path, rounds: Option<u64>, out: &mut dyn Write) -> Vec<ChildId> {
    let svc = Service::new(Store::open(dir).unwrap(), Arc::new(FixedClock::new(t0())));
    let unit = UnitId(svc.units().unwrap()[0].id);
    let id = svc.store().read().unwrap().unique("login", "writer").unwrap().unwrap();
    let writer = svc.local_actor(mamoru_core::ids::StaffId(id), "crash-writer").unwrap();
    let mut written = Vec::new();
    let mut i = 0u64;
    while rounds.is_none_or(|n| i < n) {
        let id = svc
            .register_child(
                &writer,
                NewChild {
                    family: Vec::new(),
                    unit,
                    name: PersonName::new("書込", &format!("{i}"), "かきこみ", "").unwrap(),
                    birth_date: None,
                    unborn: false,
                    sex: Sex::Unknown,
                    address: "x".repeat(usize::try_from(i % 512).unwrap()),
                    phones: vec![],
                    affiliation: String::new(),
                },
            )
            .unwrap();
        written.push(id);
        writeln!(out, "committed {}", id.0).unwrap();
        out.flush().unwrap();
        i += 1;
    }
    written
}

/// In a child process (the environment names the store) this writes until killed; run as an
/// ordinary test it writes a few children and checks they are there after reopening.
#[test]
fn crash_writer() {
    if let Ok(dir) = std::env::var(CHILD_ENV) {
        write_loop(Path::new(&dir), None, &mut std::io::stdout().lock());
        return;
    }
    let w = world();
    w.staff("writer", Role::Caseworker, w.u1);
    let dir = w.dir;
    drop(w.svc);
    let mut report = Vec::new();
    let written = write_loop(dir.path(), Some(5), &mut report);
    assert_eq!(String::from_utf8(report).unwrap().lines().count(), 5);
    let store = Store::open(dir.path()).unwrap();
    for id in written {
        assert!(store.read().unwrap().get::<Child>(id).unwrap().is_some());
    }
}

#[test]
fn sigkill_at_50_random_points_loses_no_acknowledged_write() {
    let w = world();
    w.staff("writer", Role::Caseworker, w.u1);
    let dir = w.dir;
    drop(w.svc);
    let exe = std::env::current_exe().unwrap();
    let mut rng = Rng::new(0x5EED_C0DE);
    let mut acknowledged: Vec<u64> = Vec::new();
    for round in 0..50 {
        let mut child = Command::new(&exe)
            .args(["crash::crash_writer", "--exact", "--nocapture", "--test-threads=1"])
            .env(CHILD_ENV, dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // Kill after a random number of acknowledged commits: the kill lands somewhere inside a
        // later transaction (or between two), never at the same point twice.
        let wait_for = 1 + rng.below(12);
        let mut seen = 0;
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        while seen < wait_for {
            let line = lines.next().expect("writer stopped early").unwrap();
            if let Some(id) = line.strip_prefix("committed ") {
                acknowledged.push(id.parse().unwrap());
                seen += 1;
            }
        }
        child.kill().unwrap(); // SIGKILL
        // Lines already written before the kill count as acknowledged too.
        for line in lines.map_while(Result::ok) {
            if let Some(id) = line.strip_prefix("committed ") {
                acknowledged.push(id.parse().unwrap());
            }
        }
        child.wait().unwrap();

        let svc = Service::new(Store::open(dir.path()).unwrap(), Arc::new(FixedClock::new(t0())));
        let r = svc.store().read().unwrap();
        for id in &acknowledged {
            assert!(
                r.get::<Child>(ChildId(*id)).unwrap().is_some(),
                "round {round}: child {id} was acknowledged but is gone"
            );
        }
        // No partial transaction: every child has its change-log entry and audit entry, and the
        // search index holds exactly the stored children.
        let children = r.count("child").unwrap();
        let changes = r.changes_after(0, usize::MAX).unwrap();
        assert_eq!(changes.iter().filter(|c| c.kind == "child").count() as u64, children, "round {round}");
        assert_eq!(
            r.search_children("かきこみ", usize::MAX).unwrap().len() as u64,
            children,
            "round {round}"
        );
        drop(r);
        let report = svc.check().unwrap();
        assert!(report.problems.is_empty(), "round {round}: {:?}", report.problems);
    }
    assert!(acknowledged.len() >= 50);
}
