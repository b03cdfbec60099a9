//! The uptime ledger: probes kept, a period's 稼働率 from them (a gap while the server was not
//! running counts against it), the incidents listed, for administrators only.

use mamoru_core::Error;
use mamoru_core::service::BackupState;
use mamoru_core::staff::Role;
use mamoru_core::store::DiskState;
use mamoru_core::time::Timestamp;
use mamoru_core::uptime::{self, PROBE_EVERY, Probe};

use crate::support::{t0, world};

/// A probe at `at` that found everything well but, perhaps, the web and the disk.
fn probe(at: Timestamp, web: bool, disk: DiskState) -> Probe {
    Probe {
        at,
        web,
        store: true,
        disk: Some(disk),
        backup: BackupState::Ok,
        archive: true,
        certificate_days: Some(300),
        clock: true,
        store_bytes: None,
        disk_space: None,
    }
}

#[test]
fn the_ledger_gives_the_periods_availability_and_its_incidents() {
    let w = world();
    assert_eq!(w.svc.last_probe().unwrap(), None);
    let probe = |web: bool, disk: DiskState| probe(w.svc.now(), web, disk);
    // Ten probes: the fourth found the web down, the seventh the disk low; then the server
    // stops for three intervals and probes twice more.
    for i in 0..10 {
        let p = match i {
            3 => probe(false, DiskState::Ok),
            6 => probe(true, DiskState::Low),
            _ => probe(true, DiskState::Ok),
        };
        w.svc.record_probe(p).unwrap();
        w.clock.advance(PROBE_EVERY);
    }
    w.clock.advance(3 * PROBE_EVERY);
    for _ in 0..2 {
        w.svc.record_probe(probe(true, DiskState::Ok)).unwrap();
        w.clock.advance(PROBE_EVERY);
    }
    assert_eq!(w.svc.last_probe().unwrap().unwrap().at, w.svc.now().plus(-PROBE_EVERY));

    // The period asked for starts before the first probe: it counts from the first.
    let view = w.svc.uptime(&w.admin, t0().plus(-86_400), w.svc.now().plus(86_400)).unwrap();
    assert_eq!((view.from, view.to), (t0(), w.svc.now()));
    let a = view.availability;
    assert_eq!((a.probes_expected, a.probes_failed, a.probes_missing), (15, 1, 3));
    assert_eq!(a.outage_seconds, 4 * PROBE_EVERY);
    assert_eq!(a.percent(), Some(73.33));
    assert_eq!(view.problems.len(), 2, "the web down, the disk low");
    assert_eq!(view.problems[0].problems(), ["web"]);
    assert_eq!(view.problems[1].problems(), ["disk_low"]);

    let sv = w.staff("sv", Role::Supervisor, w.u1);
    assert!(matches!(w.svc.uptime(&sv, t0(), w.svc.now()), Err(Error::Forbidden { .. })));
}

#[test]
fn a_period_of_a_long_ledger_counts_as_if_every_probe_were_read() {
    // Thirty days of probes written at once, every one in forty failing, with the clock stepped
    // back nine hours (a hardware clock in Japan time put right) fifty probes into the period,
    // so that `from` is crossed twice, and half an hour just before its end; the period is read
    // from the middle of the ledger without reading the rest, and gives what every probe would.
    let w = world();
    let start = t0().0;
    let mut probes = Vec::new();
    let mut at = start;
    for n in 0..30 * 480_u32 {
        if n == 7 * 480 + 50 {
            at -= 9 * 3600;
        }
        if n == 14 * 480 + 160 {
            at -= 1800;
        }
        probes.push(probe(Timestamp(at), !n.is_multiple_of(40), DiskState::Ok));
        at += PROBE_EVERY;
    }
    let mut tx = w.svc.store().begin_write(t0(), 0, None).unwrap();
    for p in &probes {
        tx.insert(p.clone()).unwrap();
    }
    tx.commit().unwrap();
    w.clock.set(Timestamp(at));

    let (from, to) = (Timestamp(start + 7 * 86_400), Timestamp(start + 14 * 86_400));
    let view = w.svc.uptime(&w.admin, from, to).unwrap();
    let every: Vec<(Timestamp, bool)> =
        probes.iter().filter(|p| (from..to).contains(&p.at)).map(|p| (p.at, p.serving())).collect();
    assert_eq!(view.availability, uptime::availability(&every, &[], from, to));
    assert_eq!(view.problems.len(), every.iter().filter(|(_, serving)| !serving).count());
    assert!(view.availability.probes_failed >= 20, "{:?}", view.availability);
}
