//! The reference-store benchmark (issue #2): builds a store of fictional children and notes
//! (100,000 and about 1,000,000 by default; kept under target/ and reused), then measures what the
//! performance budget names, through the service layer, audit entries and fsyncs included.
//!
//!     cargo bench -p mamoru-core --bench reference                       # the reference store
//!     cargo bench -p mamoru-core --bench reference -- --children 2000    # a quick run
//!
//! Prints a Markdown table for docs/PERFORMANCE.md.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use mamoru_core::case::NewNote;
use mamoru_core::code_table::Code;
use mamoru_core::fixture::{self, FAMILY, GIVEN, Rng};
use mamoru_core::ids::{CaseId, ChildId, UnitId};
use mamoru_core::service::BoardFilter;
use mamoru_core::staff::{Login, Password};
use mamoru_core::store::{Reader, Store};
use mamoru_core::time::{FixedClock, Timestamp};
use mamoru_core::{Actor, Service};

struct Args {
    children: u64,
    notes_per_case: u64,
    samples: usize,
    /// Only the statistics (a quick run on a built store).
    statistics_only: bool,
    dir: PathBuf,
}

fn args() -> Args {
    let mut a = Args {
        children: 100_000,
        notes_per_case: 20,
        samples: 2000,
        statistics_only: false,
        dir: PathBuf::new(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().and_then(|v| v.parse::<u64>().ok()).unwrap_or_else(|| usage(&flag));
        match flag.as_str() {
            "--children" => a.children = value(),
            "--notes-per-case" => a.notes_per_case = value(),
            "--samples" => a.samples = usize::try_from(value()).unwrap_or(2000),
            "--bench" => {}
            "--statistics-only" => a.statistics_only = true,
            other => usage(other),
        }
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"), PathBuf::from);
    a.dir = target.join(format!("reference-store-{}-{}", a.children, a.notes_per_case));
    a
}

fn usage(flag: &str) -> ! {
    eprintln!(
        "unknown or incomplete argument {flag}; use --children N --notes-per-case N --samples N [--statistics-only]"
    );
    std::process::exit(2)
}

/// The instant the reference store is built and measured at.
fn now() -> Timestamp {
    Timestamp::parse("2026-11-23T10:00:00+09:00").unwrap_or(Timestamp(0))
}

fn build(a: &Args) -> Result<Duration, mamoru_core::Error> {
    let started = Instant::now();
    let store = Store::create(&a.dir, now())?;
    let svc = Service::new(store, Arc::new(FixedClock::new(now())));
    let login = Login::parse("bench-admin")?;
    let admin_id = svc.bootstrap(&login, "bench", &Password::new(fixture::DEMO_PASSWORD)?)?;
    let _units: Vec<UnitId> = svc.units()?.iter().map(|u| UnitId(u.id)).collect();
    let admin = svc.local_actor(admin_id, "bench")?;
    let staff = svc.import(&admin, |s| fixture::demo_staff(s, &admin))?;
    let batch = 1000;
    let mut made = 0;
    let mut seed = 1;
    while made < a.children {
        let n = batch.min(a.children - made);
        let m = svc.import(&admin, |s| fixture::populate(s, &staff, seed, n, a.notes_per_case, 2))?;
        // The server's archiver ships the redo log every minute and prunes it: do the same, so
        // the store has the size it has in service.
        svc.archived_through(u64::MAX)?;
        made += m.children;
        seed += 1;
        if made % 10_000 < batch {
            eprintln!("built {made} children");
        }
    }
    Ok(started.elapsed())
}

struct Stats {
    p50: Duration,
    p99: Duration,
    max: Duration,
}

fn stats(mut v: Vec<Duration>) -> Stats {
    v.sort();
    let at = |q: f64| {
        #[expect(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            clippy::cast_precision_loss,
            reason = "an index into the samples"
        )]
        let i = ((v.len() as f64 - 1.0) * q).round() as usize;
        v[i]
    };
    Stats { p50: at(0.50), p99: at(0.99), max: at(1.0) }
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

fn time<T>(samples: usize, mut f: impl FnMut(usize) -> T) -> Stats {
    let mut v = Vec::with_capacity(samples);
    for i in 0..samples {
        let t = Instant::now();
        std::hint::black_box(f(i));
        v.push(t.elapsed());
    }
    stats(v)
}

#[expect(clippy::too_many_lines, reason = "set-up, measures and the report, in order")]
fn main() -> Result<(), mamoru_core::Error> {
    let a = args();
    let built = if a.dir.join(mamoru_core::store::FILE_NAME).exists() {
        eprintln!("reusing {}", a.dir.display());
        None
    } else {
        Some(build(&a)?)
    };

    let t = Instant::now();
    let store = Store::open(&a.dir)?;
    let open = t.elapsed();
    let size = store.file_size();
    let r = store.read()?;
    let (children, notes, cases) = (r.count("child")?, r.count("note")?, r.count("case")?);
    let sv_id = r.unique("login", "demo-sv")?.unwrap_or(0);
    let cw_id = r.unique("login", "demo-cw1")?.unwrap_or(0);
    // A caseworker's case to write notes on.
    let mut own_case = None;
    for id in 1..=cases {
        let c = r.require::<mamoru_core::case::Case>(CaseId(id))?;
        if c.body.assigned.iter().any(|s| s.0 == cw_id)
            && c.body.status == mamoru_core::case::CaseStatus::Open
        {
            own_case = Some(CaseId(id));
            break;
        }
    }
    // Children on file as a new report would name them: the furigana, the birth date with its
    // day's digits swapped (or as it is, when that is no date), for the duplicate check.
    let mut typing = Rng::new(7);
    let mut typed = Vec::new();
    for _ in 0..a.samples {
        let child = r.require::<mamoru_core::person::Child>(ChildId(1 + typing.below(children)))?;
        let Some(born) = child.body.birth_date else { continue };
        let day = born.day() % 10 * 10 + born.day() / 10;
        let swapped = mamoru_core::time::Date::new(born.year(), born.month(), day);
        typed.push((swapped.unwrap_or(born), child.body.name.full_kana()));
    }
    drop(r);
    let svc = Service::new(store, Arc::new(FixedClock::new(now())));
    let units: Vec<UnitId> = svc.units()?.iter().map(|u| UnitId(u.id)).collect();
    let sv = svc.local_actor(mamoru_core::ids::StaffId(sv_id), "bench")?;
    let cw = svc.local_actor(mamoru_core::ids::StaffId(cw_id), "bench")?;

    let statistics = statistics_measures(&svc, &sv)?;
    if a.statistics_only {
        print_statistics(&statistics);
        return Ok(());
    }

    let mut rng = Rng::new(42);
    let queries: Vec<String> = (0..a.samples)
        .map(|i| match i % 4 {
            0 => rng.pick(FAMILY).1.to_owned(),
            1 => format!("{}{}", rng.pick(FAMILY).1, rng.pick(GIVEN).1),
            2 => rng.pick(FAMILY).0.to_owned(),
            _ => rng.pick(GIVEN).1.to_owned(),
        })
        .collect();
    let mut hits = 0;
    let search = time(a.samples, |i| {
        let n = svc.search(&sv, &queries[i], 50).map_or(0, |v| v.len());
        hits += n;
    });
    let child_ids: Vec<ChildId> = (0..a.samples).map(|_| ChildId(1 + rng.below(children))).collect();
    let mut denied = 0;
    let child_page = time(a.samples, |i| {
        if svc.child(&sv, child_ids[i]).is_err() {
            denied += 1;
        }
    });
    let mut candidates = 0;
    let duplicates = time(typed.len(), |i| {
        candidates += svc.duplicate_candidates(&sv, typed[i].0, &typed[i].1).map_or(0, |v| v.len());
    });
    let board = time(a.samples, |_| svc.board(&sv, units[0], None).map(|b| b.len()));
    let board_len = svc.board(&sv, units[0], None)?.len();
    let unit_home = BoardFilter { unit: Some(units[0]), ..BoardFilter::default() };
    let home = time(a.samples, |_| svc.home(&sv, unit_home).map(|h| h.clocks.len()));
    let write = match own_case {
        Some(case) => Some(time(a.samples.min(1000), |i| {
            svc.add_note(
                &cw,
                case,
                NewNote {
                    at: now(),
                    kind: Code::new("3"),
                    body: format!("ベンチマークの記録 {i}"),
                    photos: vec![],
                },
            )
        })),
        None => None,
    };

    let audit = audit_measures(&svc, &sv, children, &mut rng)?;
    print_statistics(&statistics);

    println!(
        "Reference store: {children} children, {cases} cases, {notes} notes; {} MiB on disk",
        size / 1_048_576
    );
    if let Some(b) = built {
        println!("Built in {:.0} s", b.as_secs_f64());
    }
    println!();
    println!("| measure | samples | p50 | p99 | max | budget |");
    println!("|---|---|---|---|---|---|");
    println!("| store open | 1 | {} | | | ≤ 1 s |", ms(open));
    let row = |name: &str, n: usize, s: &Stats, budget: &str| {
        println!("| {name} | {n} | {} | {} | {} | {budget} |", ms(s.p50), ms(s.p99), ms(s.max));
    };
    row("name search (audited)", a.samples, &search, "p99 ≤ 10 ms");
    row("child + household + last 50 notes (audited)", a.samples, &child_page, "p99 ≤ 5 ms");
    row("duplicate check, the day's digits swapped (audited)", typed.len(), &duplicates, "p99 ≤ 10 ms");
    row("due/overdue for a unit (audited)", a.samples, &board, "≤ 5 ms");
    row(
        "ホーム: the unit's 30 most urgent clocks and a week's messages (audited)",
        a.samples,
        &home,
        "≤ 5 ms",
    );
    if let Some(w) = &write {
        row("durable note write", a.samples.min(1000), w, "p99 ≤ 20 ms");
    }
    println!();
    println!(
        "(search returned {hits} rows in all; {denied} child reads were refused by scope; the duplicate check found {candidates} candidates in all; the board lists {board_len} clocks)"
    );
    println!();
    println!("Audit log: {} entries.", audit.entries);
    println!();
    println!("| audit-log filter (audited; newest first) | samples | p50 | p99 | max | found | budget |");
    println!("|---|---|---|---|---|---|---|");
    for (name, n, s, found) in &audit.rows {
        println!("| {name} | {n} | {} | {} | {} | {found} | ≤ 200 ms |", ms(s.p50), ms(s.p99), ms(s.max));
    }
    for (name, d, rows, bytes) in &audit.exports {
        println!("| export as CSV: {name} | 1 | {} | | | {rows} rows, {:.1} MB | |", ms(*d), mb(*bytes));
    }
    Ok(())
}

/// 統計 of the unit the supervisor works in: the last fiscal year (the report filed) and this
/// one to date, as figures and as the XLSX; beside them, in the same run, a bare pass over the
/// same records (every case, support and protection read whole, nothing counted), the floor a
/// report that reads them cannot go under.
struct StatisticsFigures {
    rows: Vec<(String, usize, Stats, String)>,
}

fn statistics_measures(svc: &Service, sv: &Actor) -> Result<StatisticsFigures, mamoru_core::Error> {
    use mamoru_core::statistics::presets;
    let samples = 5;
    let today = now().jst_date();
    let spans = presets(today);
    // Once first, so that a refusal stops the run instead of timing an error.
    svc.statistics(sv, None, spans[0].1)?;
    let mut rows = Vec::new();
    for (label, span) in [&spans[0], &spans[3]] {
        let mut counted = String::new();
        let s = time(samples, |_| {
            if let Ok(v) = svc.statistics(sv, None, *span) {
                let t = &v.statistics.tables[0];
                counted = format!(
                    "{} cases received, {} warnings",
                    t.cells[0][0].value,
                    v.statistics.warnings.len()
                );
            }
        });
        rows.push((format!("statistics, {label} ({}..{})", span.from, span.to), samples, s, counted));
    }
    // Once first, as above: a refusal is the figure, not a 0 KB file.
    svc.statistics_xlsx(sv, None, spans[0].1)?;
    let mut size = 0;
    let s = time(samples, |_| {
        size = svc.statistics_xlsx(sv, None, spans[0].1).map_or(0, |f| f.xlsx.len());
    });
    rows.push(("the same as XLSX (counted and written)".into(), samples, s, format!("{} KB", size / 1000)));
    // The reference: every case, support and protection decoded whole in one read transaction.
    let mut records = 0;
    let s = time(samples, |_| -> Result<(), mamoru_core::Error> {
        let r = svc.store().read()?;
        records = r.all::<mamoru_core::case::Case>()?.len()
            + r.all::<mamoru_core::case::Support>()?.len()
            + r.all::<mamoru_core::protection::Protection>()?.len();
        Ok(())
    });
    rows.push((
        "reference: every case, support and protection read whole, nothing counted".into(),
        samples,
        s,
        format!("{records} records"),
    ));
    Ok(StatisticsFigures { rows })
}

fn print_statistics(f: &StatisticsFigures) {
    println!();
    println!("| 統計 on the reference store | samples | p50 | p99 | max | result | budget |");
    println!("|---|---|---|---|---|---|---|");
    for (name, n, s, what) in &f.rows {
        println!("| {name} | {n} | {} | {} | {} | {what} | ≤ 5 s |", ms(s.p50), ms(s.p99), ms(s.max));
    }
}

struct AuditFigures {
    entries: u64,
    rows: Vec<(String, usize, Stats, String)>,
    exports: Vec<(String, Duration, u64, usize)>,
}

#[expect(clippy::cast_precision_loss, reason = "a figure for people to read")]
fn mb(bytes: usize) -> f64 {
    bytes as f64 / 1_000_000.0
}

/// The 監査ログ screen's searches over the whole log (issue #5: ≤ 200 ms on 1,000,000 entries).
fn audit_measures(
    svc: &Service,
    sv: &Actor,
    children: u64,
    rng: &mut Rng,
) -> Result<AuditFigures, mamoru_core::Error> {
    use mamoru_core::service::AuditFilter;
    let entries = svc.audit_len()?;
    let samples = 200;
    let page = 500;
    let admin = "bench-admin".to_owned();
    let day = now().jst_date();
    let filters: Vec<(&str, AuditFilter)> = vec![
        ("everything, newest 500", AuditFilter::default()),
        (
            "one staff member (the supervisor)",
            AuditFilter { staff: Some(sv.login().to_string()), ..AuditFilter::default() },
        ),
        (
            "one action (read_child)",
            AuditFilter { action: Some("read_child".into()), ..AuditFilter::default() },
        ),
        ("one day", AuditFilter { from: Some(day), until: Some(day), ..AuditFilter::default() }),
        (
            "staff × action with no common entry (the importer's reads)",
            AuditFilter { staff: Some(admin), action: Some("read_child".into()), ..AuditFilter::default() },
        ),
        (
            "staff × action × a week",
            AuditFilter {
                staff: Some(sv.login().to_string()),
                action: Some("read_child".into()),
                from: Some(day.plus_days(-6)),
                until: Some(day),
                ..AuditFilter::default()
            },
        ),
    ];
    let mut rows = Vec::new();
    for (name, filter) in filters {
        let mut found = 0;
        let s = time(samples, |_| {
            found = svc.search_audit(sv, &filter, page).map_or(0, |v| v.len());
        });
        rows.push((name.to_owned(), samples, s, found.to_string()));
    }
    let kids: Vec<ChildId> = (0..samples).map(|_| ChildId(1 + rng.below(children))).collect();
    let mut found = Vec::new();
    let s = time(samples, |i| {
        let filter = AuditFilter { child: Some(kids[i]), ..AuditFilter::default() };
        found.push(svc.search_audit(sv, &filter, page).map_or(0, |v| v.len()));
    });
    found.sort_unstable();
    let spread = format!("{}–{} (median {})", found[0], found[found.len() - 1], found[found.len() / 2]);
    rows.push(("one child (its cases, notes, …)".to_owned(), samples, s, spread));

    let mut exports = Vec::new();
    for (name, filter) in [
        ("one child", AuditFilter { child: Some(kids[0]), ..AuditFilter::default() }),
        (
            "one staff member (the supervisor)",
            AuditFilter { staff: Some(sv.login().to_string()), ..AuditFilter::default() },
        ),
        ("the whole log", AuditFilter::default()),
    ] {
        let mut out = Vec::new();
        let t = Instant::now();
        let n = svc.export_audit(sv, &filter, &mut out)?;
        exports.push((name.to_owned(), t.elapsed(), n, out.len()));
    }
    Ok(AuditFigures { entries, rows, exports })
}
