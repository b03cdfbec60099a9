//! The uptime ledger over the years (issue #21): a store holding `--years` of probes every 180 s
//! (five by default, and ten days: 880,800 probes, a few failing), then the times of what reads the ledger —
//! the monthly service report's figures (and its PDF and XLSX), and the uptime of the month so
//! far (what the console's 今月稼働率 reads after each probe) — beside a store of one month, in
//! the same run.
//!
//!     cargo bench -p mamoru-core --bench ledger
//!     cargo bench -p mamoru-core --bench ledger -- --years 1
//!
//! Prints a Markdown table for docs/PERFORMANCE.md.

use std::sync::Arc;
use std::time::{Duration, Instant};

use mamoru_core::Service;
use mamoru_core::ids::StaffId;
use mamoru_core::service_report::Month;
use mamoru_core::staff::{Login, Password};
use mamoru_core::store::Store;
use mamoru_core::time::{FixedClock, Timestamp};
use mamoru_core::uptime::{BackupState, DiskSpace, DiskState, Probe};

const EVERY: i64 = 180;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let years: i64 = args
        .iter()
        .position(|a| a == "--years")
        .and_then(|i| args.get(i + 1))
        .map_or(Ok(5), |y| y.parse())?;
    // The month measured is the last whole one; "now" is ten days into the next.
    let now = Timestamp::parse("2031-12-11T09:00:00+09:00")?;
    let month = Month::parse("2031-11")?;
    println!("| store | probes | build | report figures | report files | month so far |");
    println!("|---|---:|---:|---:|---:|---:|");
    for (label, days) in [("one month", 41), ("years", years * 365 + 10)] {
        let label = if label == "years" { format!("{years} years") } else { label.to_owned() };
        let dir = tempfile::tempdir()?;
        let started = Instant::now();
        let probes = build(dir.path(), now, days)?;
        let build = started.elapsed();
        let svc = Service::open(dir.path(), Arc::new(FixedClock::new(now)))?;
        let login = Login::parse("bench-admin")?;
        let admin: StaffId =
            svc.bootstrap(&login, "ベンチ管理者", &Password::new("bench-password-1".to_owned())?)?;
        let actor = svc.local_actor(admin, "bench")?;
        let figures = time(5, || svc.service_report(&actor, month).map(|_| ()))?;
        let files = time(3, || svc.service_report_files(&actor, month).map(|_| ()))?;
        let month_start = Month::of(now.jst_date()).start();
        let so_far = time(5, || svc.uptime(&actor, month_start, now).map(|_| ()))?;
        println!(
            "| {label} | {probes} | {:.1} s | {} | {} | {} |",
            build.as_secs_f64(),
            ms(figures),
            ms(files),
            ms(so_far)
        );
    }
    Ok(())
}

/// Probes every 180 s for `days` up to `now`, written 20,000 to a transaction; one in 500 finds
/// the web down.
fn build(dir: &std::path::Path, now: Timestamp, days: i64) -> Result<u64, mamoru_core::Error> {
    let store = Store::create(dir, now)?;
    let mut at = now.0 - days * 86_400;
    let mut n = 0u64;
    while at < now.0 {
        let mut tx = store.begin_write(now, 0, Some("bench".into()))?;
        for _ in 0..20_000 {
            if at >= now.0 {
                break;
            }
            tx.insert(Probe {
                at: Timestamp(at),
                web: !n.is_multiple_of(500),
                store: true,
                disk: Some(DiskState::Ok),
                backup: BackupState::Ok,
                archive: true,
                certificate_days: Some(300),
                clock: true,
                store_bytes: Some(2_000_000_000 + n * 1000),
                disk_space: Some(DiskSpace { free_bytes: 400_000_000_000, total_bytes: 500_000_000_000 }),
            })?;
            at += EVERY;
            n += 1;
        }
        tx.commit()?;
    }
    Ok(n)
}

/// The median of `runs` runs.
fn time(
    runs: usize,
    mut f: impl FnMut() -> Result<(), mamoru_core::Error>,
) -> Result<Duration, mamoru_core::Error> {
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        let started = Instant::now();
        f()?;
        times.push(started.elapsed());
    }
    times.sort();
    Ok(times[runs / 2])
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}
