//! The migration benchmark (issue #19): writes a fictional extract of the prefecture's size in
//! the interchange layout (10,000 children, 15,000 adults, 12,000 cases, 300,000 notes by
//! default; children, cases and notes in CP932, the rest UTF-8), then measures on a new store:
//! reading every file through the layout's reader alone (the reference: decoding and CSV), the
//! dry run, and the import. Peak memory (`VmHWM`) is printed after each: it stays flat while the
//! note count grows, because rows are streamed.
//!
//!     cargo bench -p mamoru-core --bench migration
//!     cargo bench -p mamoru-core --bench migration -- --notes 100000   # memory at a third
//!
//! Prints a Markdown table for docs/PERFORMANCE.md.

#![expect(
    clippy::expect_used,
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    reason = "a benchmark fails loudly and prints figures for people to read"
)]

use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use mamoru_core::Service;
use mamoru_core::fixture::{self, FAMILY, GIVEN, NOTE_TEXTS, Rng};
use mamoru_core::interchange::{Gaiji, Kind, Table, write_csv_line};
use mamoru_core::service::migration::{ImportOptions, Source};
use mamoru_core::staff::{Login, Password};
use mamoru_core::store::Store;
use mamoru_core::time::{FixedClock, Timestamp};

struct Args {
    children: u64,
    adults: u64,
    cases: u64,
    notes: u64,
    batch: u64,
}

fn args() -> Args {
    let mut a = Args { children: 10_000, adults: 15_000, cases: 12_000, notes: 300_000, batch: 2000 };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || {
            it.next().and_then(|v| v.parse::<u64>().ok()).unwrap_or_else(|| {
                eprintln!("use --children N --adults N --cases N --notes N --batch N");
                std::process::exit(2)
            })
        };
        match flag.as_str() {
            "--children" => a.children = value(),
            "--adults" => a.adults = value(),
            "--cases" => a.cases = value(),
            "--notes" => a.notes = value(),
            "--batch" => a.batch = value(),
            _ => {}
        }
    }
    a
}

fn now() -> Timestamp {
    Timestamp::parse("2026-11-23T10:00:00+09:00").unwrap_or(Timestamp(0))
}

/// A CSV file being written, in CP932 or UTF-8.
struct Out {
    file: BufWriter<std::fs::File>,
    cp932: bool,
}

impl Out {
    fn new(dir: &Path, kind: Kind, cp932: bool, header: &[&str]) -> Self {
        let file = std::fs::File::create(dir.join(kind.file())).expect("create");
        let mut out = Self { file: BufWriter::new(file), cp932 };
        out.row(header);
        out
    }
    fn row<S: AsRef<str>>(&mut self, fields: &[S]) {
        let mut line = Vec::new();
        write_csv_line(&mut line, fields).expect("write");
        if self.cp932 {
            let text = String::from_utf8(line).expect("utf-8");
            let (bytes, _, _) = encoding_rs::SHIFT_JIS.encode(&text);
            self.file.write_all(&bytes).expect("write");
        } else {
            self.file.write_all(&line).expect("write");
        }
    }
}

/// Writes the extract; households of one or two children share their adults.
fn extract(dir: &Path, a: &Args) {
    std::fs::create_dir_all(dir).expect("dir");
    let mut rng = Rng::new(19);
    let households = (a.children * 7 / 10).max(1);
    let date = |days_ago: u64| now().plus(-i64::try_from(days_ago * 86_400).unwrap_or(0)).jst_date();
    let mut children = Out::new(dir, Kind::Children, true, Kind::Children.required());
    let mut child_rows = Vec::new();
    for i in 0..a.children {
        let h = i % households;
        let family = FAMILY[usize::try_from(h).unwrap_or(0) % FAMILY.len()];
        let (given, given_kana, sex) = rng.pick(GIVEN);
        let birth = mamoru_core::wareki::format_short(date(200 + rng.below(17 * 365)));
        let sex = if *sex == mamoru_core::person::Sex::Male { "男" } else { "女" };
        children.row(&[
            format!("C{i:06}"),
            family.0.to_owned(),
            (*given).to_owned(),
            family.1.to_owned(),
            (*given_kana).to_owned(),
            birth,
            sex.to_owned(),
            fixture::address(&mut rng),
            fixture::phone(&mut rng),
        ]);
        child_rows.push(h);
    }
    drop(children);
    let mut persons = Out::new(dir, Kind::Persons, false, Kind::Persons.required());
    let mut relations = Out::new(dir, Kind::Relations, false, Kind::Relations.required());
    for j in 0..a.adults {
        let h = j % households;
        let family = FAMILY[usize::try_from(h).unwrap_or(0) % FAMILY.len()];
        let mother = (j / households).is_multiple_of(2);
        let (given, kana) = if mother { ("恵美", "えみ") } else { ("健一", "けんいち") };
        persons.row(&[
            format!("P{j:06}"),
            family.0.to_owned(),
            given.to_owned(),
            family.1.to_owned(),
            kana.to_owned(),
            mamoru_core::wareki::format_short(date(9000 + rng.below(7000))),
            (if mother { "女" } else { "男" }).to_owned(),
            fixture::address(&mut rng),
            String::new(),
        ]);
        // The adult stands to each child of the household.
        let mut c = h;
        while c < a.children {
            let relation = if mother { "02" } else { "01" };
            relations.row(&[&format!("C{c:06}"), &format!("P{j:06}"), relation, "1", "1"]);
            c += households;
        }
    }
    drop((persons, relations));
    let mut cases = Out::new(dir, Kind::Cases, true, Kind::Cases.required());
    let mut abuse = Out::new(dir, Kind::Abuse, false, Kind::Abuse.required());
    let mut received = Vec::new();
    for k in 0..a.cases {
        let at = now().plus(-i64::try_from((90 + rng.below(3000)) * 86_400).unwrap_or(0));
        received.push(at);
        let open = rng.chance(3);
        let closed = if open {
            String::new()
        } else {
            mamoru_core::wareki::format_short(at.plus(60 * 86_400).jst_date())
        };
        cases.row(&[
            format!("K{k:06}"),
            format!("C{:06}", k % a.children.max(1)),
            at.to_jst_string(),
            "02".to_owned(),
            (if k % 3 == 0 { "11" } else { "54" }).to_owned(),
            "（架空の事例）".to_owned(),
            "架空の相談内容。".to_owned(),
            (if open { "対応中" } else { "終結" }).to_owned(),
            closed,
            (if open { "" } else { "助言指導により終結" }).to_owned(),
            String::new(),
        ]);
        if k % 3 == 0 {
            abuse.row(&[&format!("K{k:06}"), "1;2", "1", "3"]);
        }
    }
    drop((cases, abuse));
    let mut notes = Out::new(dir, Kind::Notes, true, Kind::Notes.required());
    for n in 0..a.notes {
        let k = n % a.cases.max(1);
        let at = received[usize::try_from(k).unwrap_or(0)]
            .plus(i64::try_from(n / a.cases.max(1) * 3600 + 60).unwrap_or(0));
        notes.row(&[
            format!("K{k:06}"),
            at.to_jst_string(),
            format!("移行 職員{}", n % 40),
            (*rng.pick(NOTE_TEXTS)).to_owned(),
        ]);
    }
}

struct Folder(PathBuf);

impl Source for Folder {
    fn open(&mut self, name: &str) -> std::io::Result<Option<Box<dyn Read>>> {
        match std::fs::File::open(self.0.join(name)) {
            Ok(f) => Ok(Some(Box::new(std::io::BufReader::with_capacity(256 * 1024, f)))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// Peak resident memory so far, in MiB.
fn peak_mib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb / 1024)
}

fn main() {
    let a = args();
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"), PathBuf::from);
    let root = target.join("migration-bench");
    let _ = std::fs::remove_dir_all(&root);
    let src = root.join("extract");
    let started = Instant::now();
    extract(&src, &a);
    let bytes: u64 =
        std::fs::read_dir(&src).expect("dir").filter_map(|e| e.ok()?.metadata().ok()).map(|m| m.len()).sum();
    eprintln!(
        "extract written in {:.1} s: {:.1} MiB",
        started.elapsed().as_secs_f64(),
        bytes as f64 / 1_048_576.0
    );
    let base = peak_mib();

    // The reference: every file through the reader alone.
    let t = Instant::now();
    let mut rows = 0u64;
    for kind in Kind::ALL {
        let Ok(Some(file)) = Folder(src.clone()).open(&kind.file()) else { continue };
        let mut table = Table::open(kind, file, None).expect("open");
        while let Some(row) = table.next_row(&Gaiji::default()) {
            row.expect("row");
            rows += 1;
        }
    }
    let read = t.elapsed();

    let dir = root.join("store");
    std::fs::create_dir_all(&dir).expect("dir");
    let clock = Arc::new(FixedClock::new(now()));
    let svc = Service::new(Store::create(&dir, now()).expect("store"), clock);
    let login = Login::parse("admin").expect("login");
    let id =
        svc.bootstrap(&login, "bench", &Password::new(fixture::DEMO_PASSWORD).expect("pw")).expect("admin");
    let admin = svc.local_actor(id, "bench").expect("actor");

    let t = Instant::now();
    let dry =
        svc.import_legacy(&admin, &mut Folder(src.clone()), &ImportOptions::default()).expect("dry run");
    let dry_time = t.elapsed();
    let dry_peak = peak_mib();
    assert!(dry.rejections.is_empty(), "{:?}", &dry.rejections[..dry.rejections.len().min(5)]);

    let t = Instant::now();
    let batch_rows = usize::try_from(a.batch).unwrap_or(2000);
    let options = ImportOptions { dry_run: false, batch_rows, ..ImportOptions::default() };
    let rec = svc.import_legacy(&admin, &mut Folder(src.clone()), &options).expect("import");
    let import_time = t.elapsed();
    let import_peak = peak_mib();
    let imported: u64 = rec.files.iter().map(|(_, c)| c.imported).sum();
    assert!(rec.written && rec.clean());
    let store_mib =
        std::fs::metadata(dir.join(mamoru_core::store::FILE_NAME)).map_or(0, |m| m.len()) / 1_048_576;
    // What the archive would ship (and the store then prune): the redo log of the import.
    let (mut redo, mut after) = (0u64, 0u64);
    while let Some(batch) = svc.redo_batch(after, 5000).expect("redo") {
        let mut sink = Vec::new();
        batch.write_to(&mut sink).expect("segment");
        redo += sink.len() as u64;
        after = batch.last;
    }

    let per_s = |d: std::time::Duration| (rows as f64 / d.as_secs_f64()) as u64;
    println!(
        "Extract: {} children, {} adults, {} cases, {} notes; {rows} rows, {:.1} MiB. Store after: {store_mib} MiB, \
         of which the redo log awaiting the archive {} MiB (as a segment).",
        a.children,
        a.adults,
        a.cases,
        a.notes,
        bytes as f64 / 1_048_576.0,
        redo / 1_048_576
    );
    println!();
    println!("| measure | time | rows/s | peak memory (VmHWM) | budget |");
    println!("|---|---|---|---|---|");
    println!(
        "| reference: read every file (decode + CSV) | {:.2} s | {} | {base} MiB before | — |",
        read.as_secs_f64(),
        per_s(read)
    );
    println!(
        "| dry run (check, one audited read) | {:.2} s | {} | {dry_peak} MiB | ≤ 30 s |",
        dry_time.as_secs_f64(),
        per_s(dry_time)
    );
    println!(
        "| import (check + {imported} records written) | {:.2} s | {} | {import_peak} MiB | ≤ 60 s |",
        import_time.as_secs_f64(),
        per_s(import_time)
    );
}
