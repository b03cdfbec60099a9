//! 統計 through the service: a store filled with cases whose counts the test keeps itself, every
//! cell of the receipts and abuse tables compared with that tally, the 対応 and 一時保護 counts
//! of decisions and protections recorded as staff record them, the warnings, the drill-down
//! (names only where the reader may read the case), the XLSX audited with its hash, and who
//! may read them.

use std::collections::BTreeMap;

use mamoru_core::case::{
    Decide, IntakeKind, NewAbuse, NewCase, NewHearing, StatusChange, Subject, SupportDecision, Verdict,
};
use mamoru_core::code_table::Code;
use mamoru_core::ids::{CaseId, ProtectionId, SupportId};
use mamoru_core::protection::ProtectionStep;
use mamoru_core::service::AuditFilter;
use mamoru_core::staff::Role;
use mamoru_core::statistics::{Span, Statistics, Table, WarningKind};
use mamoru_core::store::Reader;
use mamoru_core::time::{Date, Timestamp};
use mamoru_core::{Actor, Error};

use crate::support::{World, intake, urgent_start, world};

fn d(s: &str) -> Date {
    Date::parse_iso(s).unwrap()
}

fn at(day: Date) -> Timestamp {
    Timestamp::jst_midnight(day).plus(10 * 3600)
}

fn year() -> Span {
    Span::new(d("2025-04-01"), d("2026-03-31")).unwrap()
}

const TYPES: [&str; 7] = ["11", "12", "31", "36", "41", "52", "60"];
const ROUTES: [&str; 6] = ["01", "04", "08", "11", "14", "99"];
const ABUSE: [&str; 4] = ["1", "2", "3", "4"];
const PERPETRATORS: [&str; 5] = ["1", "2", "3", "4", "5"];

/// What the test recorded of each case received in the year: (type, route, age, abuse type,
/// perpetrator).
#[derive(Default)]
struct Tally(Vec<Rec>);

type Rec = (String, String, Option<i32>, Option<String>, Option<String>);

fn open(w: &World, cw: &Actor, n: usize, received: Date, birth: Option<&str>, codes: (&str, &str)) -> CaseId {
    let (ct, route) = codes;
    let child = match birth {
        Some(b) => w.child(cw, "統計", &format!("{n}"), "とうけい", "こ", b),
        None => w
            .svc
            .register_child(cw, crate::support::bare_child(cw.units()[0], "統計", "不詳", "とうけい"))
            .unwrap(),
    };
    let abuse = if ct == "11" {
        NewAbuse {
            types: vec![Code::new(ABUSE[n % 4])],
            // Every fifth without a perpetrator: counted as 未記入, warned.
            main_perpetrator: (!n.is_multiple_of(5)).then(|| Code::new(PERPETRATORS[n % 5])),
            ..NewAbuse::default()
        }
    } else {
        NewAbuse::default()
    };
    let mut i = intake(IntakeKind::Consultation, at(received));
    i.consultation_type = Code::new(ct);
    i.route = Code::new(route);
    let new = NewCase { unit: cw.units()[0], intake: i, abuse, reporter: None, assigned: vec![] };
    CaseId(w.svc.open_case(cw, child, new).unwrap().id)
}

fn age(birth: Option<&str>, on: Date) -> Option<i32> {
    birth.map(|b| d(b).age_on(on))
}

/// The expected value of a cell: the tally's records whose row key and column key the lines hold.
fn expect(t: &Table, r: usize, c: usize, keys: &dyn Fn(&Rec) -> (String, String), tally: &Tally) -> u64 {
    let holds = |l: &mamoru_core::statistics::Line, k: &str| l.holds.as_ref().is_none_or(|h| h.contains(k));
    tally
        .0
        .iter()
        .filter(|rec| {
            let (row, col) = keys(rec);
            holds(&t.rows[r], &row) && holds(&t.columns[c], &col)
        })
        .count() as u64
}

fn every_cell(s: &Statistics, key: &str, tally: &Tally, keys: &dyn Fn(&Rec) -> (String, String)) {
    let t = s.table(key).unwrap();
    let mut wrong = Vec::new();
    for r in 0..t.rows.len() {
        for c in 0..t.columns.len() {
            let want = expect(t, r, c, keys, tally);
            if t.cells[r][c].value != want || t.cells[r][c].cases.len() as u64 != want {
                wrong.push(format!("{}: {} (want {want})", t.cell_rule(r, c), t.cells[r][c].value));
            }
        }
    }
    assert!(wrong.is_empty(), "{key}: {}", wrong.join("\n"));
}

fn age_band(age: Option<i32>) -> String {
    match age {
        None => "age:unknown".into(),
        Some(a) => mamoru_core::statistics::AGE_BANDS
            .iter()
            .find(|(_, _, lo, hi)| (*lo..=*hi).contains(&a))
            .map_or("age:unknown".into(), |b| b.0.to_owned()),
    }
}

#[test]
#[expect(clippy::too_many_lines, reason = "one store followed through every table")]
fn every_cell_counts_what_was_recorded_and_lists_its_cases() {
    let w = world();
    w.clock.set(at(d("2026-04-10")));
    let cw = w.staff("cw1", Role::Caseworker, w.u1);
    let sv = w.staff("sv1", Role::Supervisor, w.u1);
    let clerk = w.staff("clerk1", Role::Clerk, w.u1);
    let muni = w.staff("muni1", Role::Caseworker, w.u2);

    let births = [
        Some("2024-01-15"),
        Some("2020-04-02"),
        Some("2013-09-30"),
        Some("2010-05-05"),
        Some("2008-04-01"),
        None,
    ];
    let mut tally = Tally::default();
    let mut received = Vec::new();
    for n in 0..42 {
        let day = d("2025-04-01").plus_days(i64::try_from((n * 37) % 365).unwrap());
        let birth = births[n % births.len()];
        let (ct, route) = (TYPES[n % TYPES.len()], ROUTES[(n / 2) % ROUTES.len()]);
        let id = open(&w, &cw, n, day, birth, (ct, route));
        let abuse = (ct == "11").then(|| ABUSE[n % 4].to_owned());
        let perp = (ct == "11" && !n.is_multiple_of(5)).then(|| PERPETRATORS[n % 5].to_owned());
        tally.0.push((ct.into(), route.into(), age(birth, day), abuse, perp));
        received.push(id);
    }
    // Outside the year: the day before and the day after.
    open(&w, &cw, 100, d("2025-03-31"), Some("2015-01-01"), ("11", "04"));
    open(&w, &cw, 101, d("2026-04-01"), Some("2015-01-01"), ("11", "04"));
    // Another unit's case (a 市町村): in its own statistics, not these, and no warning.
    open(&w, &muni, 102, d("2025-05-01"), Some("2015-01-01"), ("11", "04"));

    let stats = w.svc.statistics(&sv, None, year()).unwrap().statistics;
    assert_eq!(stats.table("receipts_by_route").unwrap().cells[0][0].value, 42);
    every_cell(&stats, "receipts_by_route", &tally, &|r| (format!("ct:{}", r.0), format!("route:{}", r.1)));
    every_cell(&stats, "receipts_by_age", &tally, &|r| (format!("ct:{}", r.0), age_band(r.2)));
    let abuse_only = Tally(tally.0.iter().filter(|r| r.0 == "11").cloned().collect());
    let abuse = |r: &Rec| format!("abuse:{}", r.3.as_deref().unwrap_or("missing"));
    let perp = |r: &Rec| format!("perp:{}", r.4.as_deref().unwrap_or("missing"));
    every_cell(&stats, "abuse_by_age", &abuse_only, &|r| (abuse(r), age_band(r.2)));
    every_cell(&stats, "abuse_by_perpetrator", &abuse_only, &|r| (abuse(r), perp(r)));
    every_cell(&stats, "abuse_by_route", &abuse_only, &|r| (format!("route:{}", r.1), abuse(r)));
    let parent = stats.table("receipts_by_route").unwrap().cell("ct:10", "total").unwrap().value;
    assert_eq!(parent, tally.0.iter().filter(|r| r.0 == "11" || r.0 == "12").count() as u64, "養護相談");

    let warned = |report: &Statistics, k| report.warnings.iter().find(|w| w.kind == k).map(|w| w.cases.len());
    assert_eq!(warned(&stats, WarningKind::AgeUnknown), Some(7), "every sixth child has no birth date");
    assert_eq!(
        warned(&stats, WarningKind::PerpetratorMissing),
        Some(abuse_only.0.iter().filter(|r| r.4.is_none()).count())
    );
    assert_eq!(warned(&stats, WarningKind::OtherCentre), None, "a 市町村 is no other centre");
    assert_eq!(warned(&stats, WarningKind::ChildCountedTwice), None);

    // 対応: an approved placement counts, a decision waiting for its 決裁 does not, a closing
    // without one is その他; a protection ended and followed by a 里親委託.
    let (placed, pending, closed, protected) = (received[0], received[1], received[2], received[3]);
    let decide = |case, kind: &str, on: &str, approve: bool| {
        let decision = SupportDecision {
            kind: Some(Code::new(kind)),
            decided_on: Some(d(on)),
            start: Some(d(on)),
            facility: "架空学園".into(),
            hearing: Some(NewHearing {
                at: at(d(on)),
                method: "面接".into(),
                views: "納得している".into(),
                not_possible_reason: None,
            }),
            ..SupportDecision::default()
        };
        let support = w.svc.record_support(&cw, case, decision).unwrap();
        if approve {
            let ok = Decide { verdict: Verdict::Approved, comment: String::new() };
            w.svc
                .decide_approval(&sv, case, Subject::Support(SupportId(support.id)), support.rev, &ok)
                .unwrap();
        }
    };
    decide(placed, "32", "2025-09-01", true);
    decide(pending, "22", "2025-09-01", false);
    // Closed on the year's last day (the clock goes back for it).
    w.clock.set(at(d("2026-03-31")));
    let view = w.svc.case(&sv, closed).unwrap();
    w.svc
        .change_case_status(&sv, closed, view.case.rev, &StatusChange::Close { reason: "助言で終了".into() })
        .unwrap();
    w.clock.set(at(d("2026-04-10")));
    let p = w.svc.start_protection(&cw, protected, urgent_start(at(d("2025-10-01")), true)).unwrap();
    let end = ProtectionStep::End { at: at(d("2025-10-19")), reason: "里親委託".into() };
    w.svc.record_protection_step(&cw, protected, ProtectionId(p.id), p.rev, end).unwrap();
    decide(protected, "41", "2025-10-25", true);

    let stats = w.svc.statistics(&sv, None, year()).unwrap().statistics;
    let v = |t: &str, r: &str, c: &str| stats.table(t).unwrap().cell(r, c).unwrap().value;
    let ct =
        |id: CaseId| format!("ct:{}", TYPES[received.iter().position(|r| *r == id).unwrap() % TYPES.len()]);
    assert_eq!(v("responses", "total", "total"), 3, "the pending decision is not counted");
    assert_eq!(v("responses", &ct(placed), "resp:facility"), 1);
    assert_eq!(v("responses", &ct(closed), "resp:other"), 1);
    assert_eq!(v("responses", &ct(protected), "resp:foster"), 1);
    assert_eq!(v("protections", "place:shelter", "started"), 1);
    assert_eq!(v("protections", "total", "days_to_end"), 19, "1 to 19 October, both counted");
    assert_eq!(v("protections", "total", "out:foster"), 1);

    // The drill-down: the cases of a number by case number and name; a restricted case is
    // counted, and named only to whom it is open.
    let sv2 = w.staff("sv2", Role::Supervisor, w.u1);
    let view = w.svc.case(&sv2, placed).unwrap();
    w.svc.restrict_case(&sv2, placed, view.case.rev, Some(vec![cw.staff()])).unwrap();
    let cell = ("responses", ct(placed), "resp:facility".to_owned());
    let list = w.svc.statistics_cell(&sv, None, year(), (cell.0, &cell.1, &cell.2)).unwrap();
    assert_eq!((list.value, list.cases.len(), list.hidden), (1, 0, 1), "restricted to cw1 and sv2");
    let listed = w.svc.statistics_cell(&cw, None, year(), (cell.0, &cell.1, &cell.2));
    assert!(matches!(listed, Err(Error::Forbidden { .. })), "a caseworker reads no statistics");
    let list = w.svc.statistics_cell(&clerk, None, year(), ("receipts_by_route", "total", "total")).unwrap();
    assert_eq!((list.value, list.cases.len(), list.hidden), (42, 41, 1));
    assert!(list.cases.iter().all(|c| c.case_no.starts_with("児-") && c.child_name.starts_with("統計")));
    assert_eq!(list.rule, "receipts_by_route/total/total");
    let entry = w.svc.store().read().unwrap().last_audit().unwrap().unwrap();
    let shown = entry.detail.unwrap_or_default();
    assert!(shown.contains("41 cases named, 0 more, 1 not; children "), "{shown}");
    let missing = w.svc.statistics_cell(&sv, None, year(), ("receipts_by_route", "ct:11", "no-such"));
    assert!(matches!(missing, Err(Error::NotFound { .. })), "{missing:?}");
    let names = w.svc.statistics_cell(
        &w.svc.local_admin("local-cli").unwrap(),
        None,
        year(),
        ("receipts_by_route", "total", "total"),
    );
    assert_eq!(names.unwrap().hidden, 42, "an administrator counts, and reads no case");

    // The XLSX, audited with its hash; a unit of another's refused.
    let file = w.svc.statistics_xlsx(&clerk, None, year()).unwrap();
    assert!(file.xlsx.starts_with(b"PK") && file.file_name.ends_with("_2025-04-01_2026-03-31.xlsx"));
    let log = w
        .svc
        .search_audit(
            &w.admin,
            &AuditFilter { action: Some("read_statistics".into()), ..AuditFilter::default() },
            100,
        )
        .unwrap();
    assert!(
        log.iter().any(|e| e.detail.as_deref().is_some_and(|d| d.contains(&file.sha256))),
        "hash audited"
    );
    let other = w.svc.statistics(&sv, Some(w.u2), year());
    assert!(matches!(other, Err(Error::Forbidden { .. })), "{other:?}");
    let counts: BTreeMap<&str, u64> = stats.tables.iter().map(|t| (t.key, t.cells[0][0].value)).collect();
    assert_eq!(counts["receipts_by_age"], 42);
}

#[test]
fn the_same_child_twice_in_the_year_is_warned() {
    let w = world();
    w.clock.set(at(d("2026-04-10")));
    let cw = w.staff("cw1", Role::Caseworker, w.u1);
    let sv = w.staff("sv1", Role::Supervisor, w.u1);
    let child = w.child(&cw, "重複", "花子", "ちょうふく", "はなこ", "2016-07-07");
    for day in ["2025-05-01", "2025-11-01"] {
        let new = NewCase {
            unit: w.u1,
            intake: intake(IntakeKind::AbuseReport, at(d(day))),
            abuse: NewAbuse::default(),
            reporter: None,
            assigned: vec![],
        };
        w.svc.open_case(&cw, child, new).unwrap();
    }
    let s = w.svc.statistics(&sv, None, year()).unwrap().statistics;
    let twice = s.warnings.iter().find(|w| w.kind == WarningKind::ChildCountedTwice).unwrap();
    assert_eq!(twice.cases.len(), 2);
    assert!(
        s.warnings.iter().any(|w| w.kind == WarningKind::AbuseTypeMissing),
        "reported, type not yet known"
    );
}
