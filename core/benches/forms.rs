//! The forms benchmark (issue #20): every form of every case of the demo store printed through
//! `Service::print_form` (one audited read: facts, layout, PDF with font subsets, SHA-256),
//! beside the case page's read of the same cases in the same run (the reference).
//!
//!     cargo bench -p mamoru-core --bench forms                    # the demo's 200 children
//!     cargo bench -p mamoru-core --bench forms -- --children 40
#![expect(
    clippy::expect_used,
    clippy::cast_precision_loss,
    reason = "a benchmark fails loudly and prints figures for people to read"
)]

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use mamoru_core::Service;
use mamoru_core::ids::CaseId;
use mamoru_core::service::forms::FormOptions;
use mamoru_core::store::Reader as _;
use mamoru_core::time::{FixedClock, Timestamp};

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    #[expect(clippy::cast_possible_truncation, clippy::cast_sign_loss, reason = "an index")]
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn main() {
    let mut children = 200u64;
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        if flag == "--children" {
            children = it.next().and_then(|v| v.parse().ok()).expect("--children N");
        }
    }
    let dir = tempfile::tempdir().expect("dir");
    let now = Timestamp::parse("2026-11-23T10:00:00+09:00").expect("time");
    let svc = Service::create(dir.path(), Arc::new(FixedClock::new(now))).expect("store");
    let admin_login = mamoru_core::staff::Login::parse("admin").expect("login");
    let admin_id = svc
        .bootstrap(
            &admin_login,
            "管理者",
            &mamoru_core::staff::Password::new("correct horse battery").expect("pw"),
        )
        .expect("bootstrap");
    let admin = svc.local_actor(admin_id, "bench").expect("admin");
    let staff = svc.import(&admin, |s| mamoru_core::fixture::demo_staff(s, &admin)).expect("staff");
    let made = svc
        .import(&admin, |s| mamoru_core::fixture::populate(s, &staff, 20_261_123, children, 6, 100))
        .expect("demo");
    let cw = staff.get("demo-cw1").expect("demo-cw1").clone();
    let all = svc.store().read().expect("read").all::<mamoru_core::case::Case>().expect("cases");
    let cases: Vec<CaseId> = all.iter().map(|c| CaseId(c.id)).filter(|c| svc.case(&cw, *c).is_ok()).collect();
    let mut times: BTreeMap<&str, Vec<Duration>> = BTreeMap::new();
    let mut bytes: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for round in 0..3 {
        for &case in &cases {
            let t = Instant::now();
            let view = svc.case(&cw, case).expect("case");
            if round > 0 {
                times.entry("case page read (reference)").or_default().push(t.elapsed());
            }
            for offer in &view.forms {
                let t = Instant::now();
                let printed = svc.print_form(&cw, case, offer.form, &FormOptions::default()).expect("form");
                let took = t.elapsed();
                if round > 0 {
                    times.entry(offer.form.slug()).or_default().push(took);
                    let b = bytes.entry(offer.form.slug()).or_default();
                    b.0 += printed.pdf.len();
                    b.1 += 1;
                }
            }
        }
    }
    println!(
        "demo store: {} children, {} cases ({} read by demo-cw1), forms of each printed twice after a warm-up",
        made.children,
        made.cases,
        cases.len()
    );
    println!("| what | n | p50 ms | p99 ms | max ms | mean PDF KB |");
    println!("|---|---|---|---|---|---|");
    for (name, mut t) in times {
        t.sort();
        let kb = bytes
            .get(name)
            .map_or(String::from("–"), |(b, n)| format!("{:.0}", *b as f64 / *n as f64 / 1024.0));
        println!(
            "| {name} | {} | {:.1} | {:.1} | {:.1} | {kb} |",
            t.len(),
            ms(percentile(&t, 0.5)),
            ms(percentile(&t, 0.99)),
            ms(*t.last().expect("times"))
        );
    }
}
