//! Backup benchmark (issue #4) on the reference store that `cargo bench -p mamoru-core --bench
//! reference` builds: snapshot and restore throughput, compression, and read latency while a
//! snapshot runs.
//!
//!     cargo bench --bench backup                    # the 100,000-children reference store
//!     cargo bench --bench backup -- --store DIR     # another store (not in use)

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use mamoru_backup::{Destination, NewGeneration, generate_identity};
use mamoru_core::Service;
use mamoru_core::ids::ChildId;
use mamoru_core::store::{Reader, Store};
use mamoru_core::time::{FixedClock, Timestamp};

/// Counts bytes written to nowhere.
struct Counter(u64);
impl Write for Counter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.len() as u64;
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn mb_per_s(bytes: u64, d: Duration) -> f64 {
    #[expect(clippy::cast_precision_loss, reason = "a rate for a report")]
    let b = bytes as f64;
    b / 1e6 / d.as_secs_f64()
}

fn p99(mut v: Vec<Duration>) -> (Duration, Duration, usize) {
    v.sort();
    let n = v.len();
    (v[n / 2], v[(n * 99 / 100).min(n - 1)], n)
}

#[expect(clippy::too_many_lines, reason = "set-up, measures and the report, in order")]
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let target = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target");
    let mut store_dir = target.join("reference-store-100000-20");
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--store" => store_dir = args.next().map(PathBuf::from).ok_or("--store DIR")?,
            "--bench" => {}
            other => return Err(format!("unknown argument {other}").into()),
        }
    }
    let store = Store::open(&store_dir)
        .map_err(|e| format!("{e}: build it first with `cargo bench -p mamoru-core --bench reference`"))?;
    let size = store.file_size();
    let r = store.read()?;
    let children = r.count("child")?;
    let sv = r.unique("login", "demo-sv")?.unwrap_or(0);
    drop(r);
    let now = Timestamp::parse("2026-11-23T10:00:00+09:00")?;
    let svc = Arc::new(Service::new(store, Arc::new(FixedClock::new(now))));

    // 1. The snapshot stream alone.
    let t = Instant::now();
    let mut counter = Counter(0);
    let summary = svc.write_snapshot(&mut counter)?;
    let raw_time = t.elapsed();
    let snapshot_bytes = counter.0;

    // 2. A sealed generation (zstd + age + checksums) in a scratch destination.
    let scratch = target.join("bench-backup");
    let _ = std::fs::remove_dir_all(&scratch);
    let dest = Destination::open(&scratch.join("backups"))?;
    let key = mamoru_backup::Keyring {
        identity: generate_identity(),
        auth: mamoru_backup::AuthKey::generate()?,
        store_id: svc.store_id()?,
        recipients: Vec::new(),
    };
    let t = Instant::now();
    let manifest = dest.create(&[key.identity.recipient()], &key, |w| {
        svc.write_snapshot(w).map(|s| NewGeneration {
            created_at: now.0,
            source_id: s.store_id,
            covers_seq: s.last_redo,
            ..Default::default()
        })
    })?;
    let sealed_time = t.elapsed();

    // 3. Restore: decrypt, decompress, build a new store.
    let t = Instant::now();
    let (_, (restored, _)) =
        dest.read(manifest.generation, &key, |r| Store::restore_snapshot(&scratch.join("restored"), r))?;
    let restore_time = t.elapsed();
    let restored_size = restored.file_size();
    drop(restored);

    // 4. Child-page reads (audited) before and while a snapshot runs.
    let actor = svc.local_actor(mamoru_core::ids::StaffId(sv), "bench")?;
    let read_for = |svc: &Service, stop: &AtomicBool, max: usize| {
        let mut v = Vec::new();
        let mut i = 0u64;
        while !stop.load(Ordering::Relaxed) && v.len() < max {
            i += 1;
            let t = Instant::now();
            let _ = svc.child(&actor, ChildId(1 + (i * 7919) % children));
            v.push(t.elapsed());
        }
        v
    };
    let idle = AtomicBool::new(false);
    let before = p99(read_for(&svc, &idle, 2000));
    let busy = Arc::new(AtomicBool::new(false));
    let during = std::thread::scope(|s| {
        let svc2 = svc.clone();
        let busy2 = busy.clone();
        let snap = s.spawn(move || {
            let mut sink = Counter(0);
            let r = svc2.write_snapshot(&mut sink);
            busy2.store(true, Ordering::Relaxed);
            r.map(|_| sink.0)
        });
        let v = read_for(&svc, &busy, usize::MAX);
        let _ = snap.join();
        p99(v)
    });
    let _ = std::fs::remove_dir_all(&scratch);

    let ms = |d: Duration| format!("{:.2} ms", d.as_secs_f64() * 1000.0);
    println!(
        "Store: {} ({} MiB on disk, redo log position {})",
        store_dir.display(),
        size / 1_048_576,
        summary.last_redo
    );
    println!();
    println!("| measure | figure | target |");
    println!("|---|---|---|");
    println!(
        "| snapshot stream | {} MB in {:.1} s = {:.0} MB/s | ≥ 100 MB/s |",
        snapshot_bytes / 1_000_000,
        raw_time.as_secs_f64(),
        mb_per_s(snapshot_bytes, raw_time)
    );
    println!(
        "| sealed generation (zstd 3 + age) | {} MB → {} MB file in {:.1} s = {:.0} MB/s of store data; ratio {:.1}:1 | ≥ 100 MB/s |",
        manifest.content_bytes / 1_000_000,
        manifest.file_bytes / 1_000_000,
        sealed_time.as_secs_f64(),
        mb_per_s(manifest.content_bytes, sealed_time),
        mb_per_s(manifest.content_bytes, Duration::from_secs(1))
            / mb_per_s(manifest.file_bytes, Duration::from_secs(1)),
    );
    println!(
        "| restore (decrypt, decompress, build) | {:.1} s = {:.0} MB/s of store data; restored file {} MiB | ≥ 100 MB/s, recovery ≤ 12 h |",
        restore_time.as_secs_f64(),
        mb_per_s(manifest.content_bytes, restore_time),
        restored_size / 1_048_576
    );
    println!("| child page p50/p99, idle | {} / {} ({} reads) | |", ms(before.0), ms(before.1), before.2);
    println!(
        "| child page p50/p99, during a snapshot | {} / {} ({} reads) | no pause |",
        ms(during.0),
        ms(during.1),
        during.2
    );
    Ok(())
}
