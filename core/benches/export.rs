//! The export benchmark (issue #19): the reference store (build it first with
//! `cargo bench -p mamoru-core --bench reference`) written out whole by `Service::export_store`
//! into a folder under `target/`, beside the backup's snapshot stream of the same store in the
//! same run (the reference: one read transaction streamed to a file).
//!
//!     cargo bench -p mamoru-core --bench export                       # the 100,000-child store
//!     cargo bench -p mamoru-core --bench export -- --children 2000    # a quick store's
#![expect(
    clippy::expect_used,
    clippy::cast_precision_loss,
    reason = "a benchmark fails loudly and prints figures for people to read"
)]

use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use mamoru_core::Service;
use mamoru_core::service::export::Sink;
use mamoru_core::store::Store;
use mamoru_core::time::{FixedClock, Timestamp};

struct Folder(PathBuf);

impl Sink for Folder {
    fn create(&mut self, name: &str) -> std::io::Result<Box<dyn Write>> {
        let path = self.0.join(name);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        Ok(Box::new(BufWriter::with_capacity(256 * 1024, std::fs::File::create(path)?)))
    }
}

fn main() {
    let mut children = 100_000u64;
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        if flag == "--children" {
            children = it.next().and_then(|v| v.parse().ok()).expect("--children N");
        }
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"), PathBuf::from);
    let dir = target.join(format!("reference-store-{children}-20"));
    assert!(
        dir.join(mamoru_core::store::FILE_NAME).exists(),
        "no reference store in {}: run `cargo bench -p mamoru-core --bench reference -- --children {children}` first",
        dir.display()
    );
    let now = Timestamp::parse("2026-11-23T10:00:00+09:00").expect("time");
    let svc = Service::new(Store::open(&dir).expect("store"), Arc::new(FixedClock::new(now)));
    let admin = svc.local_admin("bench").expect("admin");

    let out = target.join("reference-export");
    let _ = std::fs::remove_dir_all(&out);
    std::fs::create_dir_all(&out).expect("dir");
    let snapshot = out.join("snapshot.bin");
    let t = Instant::now();
    let mut file = BufWriter::with_capacity(1 << 20, std::fs::File::create(&snapshot).expect("file"));
    svc.write_snapshot(&mut file).expect("snapshot");
    file.flush().expect("flush");
    file.get_ref().sync_all().expect("sync");
    let snap_time = t.elapsed();
    let snap_bytes = std::fs::metadata(&snapshot).map_or(0, |m| m.len());
    std::fs::remove_file(&snapshot).expect("remove");

    let folder = out.join("export");
    let t = Instant::now();
    let done = svc.export_store(&admin, &mut Folder(folder.clone())).expect("export");
    let export_time = t.elapsed();
    let bytes: u64 = done.files.iter().map(|f| f.1).sum();
    let mib = |b: u64| b as f64 / 1_048_576.0;
    println!(
        "Reference store: {children} children; export: {} files, {} record versions, {:.0} MiB.",
        done.files.len(),
        done.records,
        mib(bytes)
    );
    println!();
    println!("| measure | time | MB/s | budget |");
    println!("|---|---|---|---|");
    println!(
        "| reference: snapshot stream to a file ({:.0} MiB) | {:.1} s | {:.0} | — |",
        mib(snap_bytes),
        snap_time.as_secs_f64(),
        mib(snap_bytes) / snap_time.as_secs_f64()
    );
    println!(
        "| export (CSV, records.jsonl, photos, sums) | {:.1} s | {:.0} | ≤ 60 s |",
        export_time.as_secs_f64(),
        mib(bytes) / export_time.as_secs_f64()
    );
    let _ = std::fs::remove_dir_all(&out);
}
