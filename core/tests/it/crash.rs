//! Crash safety: a child process doing durable writes is killed with SIGKILL at 50 random points.
//! After each kill the store opens, every write the child reported as committed is there, and no
//! transaction is half there (integrity check and audit chain). A second drill kills a process
//! reading from several threads (their audit entries committed in groups) while it writes: no
//! read answered loses its audit entry.

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
const MIXED_ENV: &str = "MAMORU_CRASH_MIXED_DIR";
/// Reading threads of the mixed drill.
const READERS: usize = 6;

/// Writes children one transaction at a time, printing `committed ID` after each commit returns.
fn write_loop(dir: &Path, rounds: Option<u64>, out: &mut dyn Write) -> Vec<ChildId> {
    let svc = Service::new(Store::open(dir).unwrap(), Arc::new(FixedClock::new(t0())));
    write_with(&svc, rounds, out)
}

fn write_with(svc: &Service, rounds: Option<u64>, out: &mut dyn Write) -> Vec<ChildId> {
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

/// Reads a child from `READERS` threads, each as its own device `reader-K`, printing `read K N`
/// once its N-th read has returned (so its audit entry is durable), while one thread writes
/// children as `write_loop` does.
fn mixed_loop(dir: &Path, rounds: Option<u64>, out: &(dyn Fn(String) + Sync)) {
    let svc = Service::new(Store::open(dir).unwrap(), Arc::new(FixedClock::new(t0())));
    let id = svc.store().read().unwrap().unique("login", "writer").unwrap().unwrap();
    let child = svc.store().read().unwrap().unique("test", "child").unwrap().map(ChildId).unwrap();
    std::thread::scope(|s| {
        for k in 0..READERS {
            let (svc, out) = (&svc, &out);
            s.spawn(move || {
                let reader = svc.local_actor(mamoru_core::ids::StaffId(id), &format!("reader-{k}")).unwrap();
                let mut n = 0u64;
                while rounds.is_none_or(|r| n < r) {
                    svc.child(&reader, child).unwrap();
                    n += 1;
                    out(format!("read {k} {n}"));
                }
            });
        }
        write_with(&svc, rounds, &mut Lines(out, Vec::new()));
    });
}

/// Hands each whole line written to it to the function, as soon as it is flushed.
struct Lines<'a>(&'a (dyn Fn(String) + Sync), Vec<u8>);

impl Write for Lines<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.1.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        while let Some(end) = self.1.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = self.1.drain(..=end).collect();
            (self.0)(String::from_utf8_lossy(&line[..end]).into_owned());
        }
        Ok(())
    }
}

/// The mixed drill's process (the environment names the store); as an ordinary test, a few
/// rounds whose every read is in the audit log.
#[test]
fn crash_mixed() {
    if let Ok(dir) = std::env::var(MIXED_ENV) {
        let stdout = std::sync::Mutex::new(std::io::stdout());
        mixed_loop(Path::new(&dir), None, &|line| {
            let mut out = stdout.lock().unwrap();
            writeln!(out, "{line}").unwrap();
            out.flush().unwrap();
        });
        return;
    }
    let dir = mixed_world();
    mixed_loop(dir.path(), Some(20), &|_| {});
    let reads = reads_audited(dir.path());
    assert_eq!(reads, [20; READERS]);
}

/// A store with the writer and one child for the readers (`unique` `test/child`).
fn mixed_world() -> tempfile::TempDir {
    let w = world();
    let writer = w.staff("writer", Role::Supervisor, w.u1);
    let child = w.child(&writer, "読込", "花子", "よみこみ", "はなこ", "2015-04-01");
    let mut tx = w.svc.store().begin_write(t0(), 0, None).unwrap();
    tx.claim("test", "child", child.0).unwrap();
    tx.commit().unwrap();
    let dir = w.dir;
    drop(w.svc);
    dir
}

/// How many `read_child` entries each reader's device has in the audit log (the chain checked).
fn reads_audited(dir: &Path) -> [u64; READERS] {
    let store = Store::open(dir).unwrap();
    let r = store.read().unwrap();
    assert!(matches!(
        mamoru_core::store::verify_audit(&r).unwrap(),
        mamoru_core::audit::Verdict::Intact { .. }
    ));
    let mut counts = [0; READERS];
    for (_, bytes) in r.audit_entries(1, usize::MAX).unwrap() {
        let entry = mamoru_core::audit::AuditEntry::decode(&bytes).unwrap();
        let k = entry
            .device
            .as_deref()
            .and_then(|d| d.strip_prefix("reader-"))
            .and_then(|k| k.parse::<usize>().ok());
        if let (Some(k), "read_child") = (k, entry.action.as_str()) {
            counts[k] += 1;
        }
    }
    counts
}

#[test]
fn sigkill_during_grouped_reads_and_writes_loses_no_acknowledged_entry() {
    let dir = mixed_world();
    let exe = std::env::current_exe().unwrap();
    let mut rng = Rng::new(0x6E0A_C0DE);
    let mut acknowledged = [0u64; READERS];
    let mut written: Vec<u64> = Vec::new();
    for round in 0..20 {
        let before = reads_audited(dir.path());
        let mut child = Command::new(&exe)
            .args(["crash::crash_mixed", "--exact", "--nocapture", "--test-threads=1"])
            .env(MIXED_ENV, dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let wait_for = 20 + rng.below(200);
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let note = |line: &str, acknowledged: &mut [u64; READERS], written: &mut Vec<u64>| {
            if let Some(id) = line.strip_prefix("committed ") {
                written.push(id.parse().unwrap());
            } else if let Some(rest) = line.strip_prefix("read ") {
                let (k, n) = rest.split_once(' ').unwrap();
                let k: usize = k.parse().unwrap();
                acknowledged[k] = acknowledged[k].max(before[k] + n.parse::<u64>().unwrap());
            }
        };
        for _ in 0..wait_for {
            let line = lines.next().expect("the process stopped early").unwrap();
            note(&line, &mut acknowledged, &mut written);
        }
        child.kill().unwrap(); // SIGKILL
        for line in lines.map_while(Result::ok) {
            note(&line, &mut acknowledged, &mut written);
        }
        child.wait().unwrap();

        let audited = reads_audited(dir.path());
        for k in 0..READERS {
            assert!(
                audited[k] >= acknowledged[k],
                "round {round}: reader {k} was answered {} times, {} audited",
                acknowledged[k],
                audited[k]
            );
        }
        let svc = Service::new(Store::open(dir.path()).unwrap(), Arc::new(FixedClock::new(t0())));
        for id in &written {
            assert!(
                svc.store().read().unwrap().get::<Child>(ChildId(*id)).unwrap().is_some(),
                "round {round}"
            );
        }
        let report = svc.check().unwrap();
        assert!(report.problems.is_empty(), "round {round}: {:?}", report.problems);
    }
    assert!(acknowledged.iter().sum::<u64>() >= 200, "{acknowledged:?}");
    assert!(!written.is_empty(), "the writer acknowledged nothing");
    // The reads were committed in groups: fewer transactions than audit entries.
    let store = Store::open(dir.path()).unwrap();
    let (entries, commits) = (store.read().unwrap().audit_len().unwrap(), store.redo_seq().unwrap());
    assert!(commits < entries, "{commits} commits for {entries} entries");
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
