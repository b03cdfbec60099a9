//! The counting rules checked against known counts.
use super::*;
use crate::code_table::seed;

fn d(s: &str) -> Date {
    Date::parse_iso(s).unwrap()
}

fn case(id: u64, child: u64, on: &str, ct: &str, route: &str) -> CaseFacts {
    CaseFacts {
        id: CaseId(id),
        case_no: format!("児-R7-{id:05}"),
        child: ChildId(child),
        kind: IntakeKind::Consultation,
        received_on: d(on),
        route: Code::new(route),
        consultation_type: Code::new(ct),
        abuse_type: None,
        perpetrator: None,
        birth_date: Some(d("2015-06-01")),
        closed_on: None,
        supports: Vec::new(),
        protections: Vec::new(),
    }
}

fn count_with(cases: &[CaseFacts], elsewhere: &[Elsewhere]) -> Statistics {
    let tables = seed();
    let t = |k: &str| tables.iter().find(|t| t.key == k).unwrap();
    let codes = Codes {
        consultation_type: t("consultation_type"),
        route: t("route"),
        abuse_type: t("abuse_type"),
        perpetrator: t("perpetrator"),
    };
    count(Span::new(d("2025-04-01"), d("2026-03-31")).unwrap(), cases, elsewhere, codes)
}

fn value(s: &Statistics, table: &str, row: &str, column: &str) -> u64 {
    s.table(table).unwrap().cell(row, column).unwrap_or_else(|| panic!("{table} {row} {column}")).value
}

#[test]
fn receipts_count_each_case_of_the_span_once_under_its_type_route_and_age() {
    let mut abuse = case(3, 3, "2025-07-01", "11", "11");
    abuse.birth_date = Some(d("2023-07-02")); // one year old on receipt
    let cases = [
        case(1, 1, "2025-04-01", "11", "04"),
        case(2, 2, "2026-03-31", "12", "04"),
        abuse,
        case(4, 4, "2025-03-31", "11", "04"), // the day before the span
        case(5, 5, "2026-04-01", "52", "14"), // the day after
        case(6, 6, "2025-12-01", "52", "14"),
    ];
    let s = count_with(&cases, &[]);
    assert_eq!(value(&s, "receipts_by_route", "total", "total"), 4);
    assert_eq!(value(&s, "receipts_by_route", "ct:10", "total"), 3, "養護相談 holds 11 and 12");
    assert_eq!(value(&s, "receipts_by_route", "ct:11", "route:04"), 1);
    assert_eq!(value(&s, "receipts_by_route", "ct:11", "route:11"), 1);
    assert_eq!(value(&s, "receipts_by_route", "ct:50", "route:14"), 1, "育成相談 holds 不登校");
    assert_eq!(value(&s, "receipts_by_route", "ct:52", "total"), 1);
    assert_eq!(value(&s, "receipts_by_route", "ct:30", "total"), 0);
    assert_eq!(value(&s, "receipts_by_age", "total", "age:0-2"), 1);
    assert_eq!(value(&s, "receipts_by_age", "total", "age:7-12"), 3, "ten years old");
    let t = s.table("receipts_by_route").unwrap();
    assert_eq!(t.cell("ct:10", "total").unwrap().cases, [CaseId(1), CaseId(2), CaseId(3)]);
    assert_eq!(t.cell_rule(0, 0), "receipts_by_route/total/total");
    // Every row and every column adds up to the total (the subtotal lines aside).
    for t in s.tables.iter().filter(|t| t.rows[0].key == "total" && t.columns[0].key == "total") {
        let rows: u64 =
            t.cells.iter().zip(&t.rows).skip(1).filter(|(_, l)| l.depth == 0).map(|(r, _)| r[0].value).sum();
        let cols: u64 = t.cells[0].iter().skip(1).map(|c| c.value).sum();
        assert_eq!((rows, cols), (t.cells[0][0].value, t.cells[0][0].value), "{}", t.key);
    }
}

#[test]
fn responses_count_the_strongest_decision_of_the_span_or_a_closing_without_one() {
    let mut placed = case(1, 1, "2025-05-01", "11", "04");
    placed.supports = vec![(Code::new("12"), d("2025-05-10")), (Code::new("32"), d("2025-08-01"))];
    let mut advised = case(2, 2, "2024-05-01", "52", "14");
    advised.supports = vec![(Code::new("11"), d("2025-04-02"))];
    let mut closed = case(3, 3, "2025-06-01", "60", "01");
    closed.closed_on = Some(d("2025-06-20"));
    let mut before = case(4, 4, "2024-06-01", "60", "01"); // decided before the span, closed in it
    before.supports = vec![(Code::new("11"), d("2024-06-10"))];
    before.closed_on = Some(d("2025-06-20"));
    let s = count_with(&[placed, advised, closed, before], &[]);
    assert_eq!(value(&s, "responses", "total", "total"), 3);
    assert_eq!(value(&s, "responses", "ct:11", "resp:facility"), 1);
    assert_eq!(value(&s, "responses", "ct:11", "resp:continued"), 0, "the strongest only");
    assert_eq!(value(&s, "responses", "ct:52", "resp:advice"), 1, "received before the span");
    assert_eq!(value(&s, "responses", "ct:60", "resp:other"), 1);
}

#[test]
fn abuse_counts_by_main_type_perpetrator_age_and_route_and_blanks_are_counted_and_warned() {
    let mut a = case(1, 1, "2025-05-01", "11", "11");
    a.abuse_type = Some(Code::new("3"));
    a.perpetrator = Some(Code::new("3"));
    let mut b = case(2, 2, "2025-05-02", "11", "14");
    b.abuse_type = Some(Code::new("1"));
    b.birth_date = None;
    let mut report = case(3, 3, "2025-05-03", "12", "02");
    report.kind = IntakeKind::AbuseReport;
    let s = count_with(&[a, b, report], &[]);
    assert_eq!(value(&s, "abuse_by_age", "total", "total"), 2, "only 児童虐待相談");
    assert_eq!(value(&s, "abuse_by_age", "abuse:3", "age:7-12"), 1);
    assert_eq!(value(&s, "abuse_by_age", "abuse:1", "age:unknown"), 1);
    assert_eq!(value(&s, "abuse_by_perpetrator", "abuse:3", "perp:3"), 1);
    assert_eq!(value(&s, "abuse_by_perpetrator", "abuse:1", "perp:missing"), 1);
    assert_eq!(value(&s, "abuse_by_route", "route:11", "abuse:3"), 1);
    let kinds: Vec<(WarningKind, Vec<CaseId>)> =
        s.warnings.iter().map(|w| (w.kind, w.cases.clone())).collect();
    assert_eq!(
        kinds,
        [
            (WarningKind::ReportNotAbuse, vec![CaseId(3)]),
            (WarningKind::PerpetratorMissing, vec![CaseId(2)]),
            (WarningKind::AgeUnknown, vec![CaseId(2)]),
        ]
    );
}

#[test]
fn a_child_counted_twice_or_by_another_centre_and_an_unknown_code_are_warned() {
    let cases = [
        case(1, 7, "2025-05-01", "60", "01"),
        case(2, 7, "2025-09-01", "60", "01"),
        case(3, 8, "2025-05-01", "99", "77"),
    ];
    let other = [Elsewhere { child: ChildId(8), unit_name: "架空中央児童相談所".into() }];
    let s = count_with(&cases, &other);
    let w = |k| s.warnings.iter().find(|w| w.kind == k).unwrap();
    assert_eq!(w(WarningKind::ChildCountedTwice).cases, [CaseId(1), CaseId(2)]);
    assert_eq!(w(WarningKind::OtherCentre).cases, [CaseId(3)]);
    assert_eq!(w(WarningKind::OtherCentre).detail, "架空中央児童相談所");
    let unknown: Vec<&str> =
        s.warnings.iter().filter(|w| w.kind == WarningKind::UnknownCode).map(|w| w.detail.as_str()).collect();
    assert_eq!(unknown, ["相談・通告経路 77", "相談種別 99"]);
    assert_eq!(value(&s, "receipts_by_route", "ct:99", "route:77"), 1, "a line of its own");
    assert_eq!(value(&s, "receipts_by_route", "total", "total"), 3);
    assert_eq!(s.case_nos.len(), 3);
}

#[test]
fn protections_count_starts_ends_days_and_outcomes() {
    let prot = |id, start: &str, end: Option<&str>, place| ProtectionFacts {
        id: ProtectionId(id),
        start: d(start),
        end: end.map(d),
        place,
        extended: false,
    };
    let mut placed = case(1, 1, "2025-03-20", "11", "11");
    // Started before the span, ended in it, then placed in a facility 10 days later.
    placed.protections = vec![prot(1, "2025-03-22", Some("2025-04-10"), PlaceKind::Shelter)];
    placed.supports = vec![(Code::new("32"), d("2025-04-20"))];
    let mut ongoing = case(2, 2, "2026-03-01", "11", "11");
    // Started in the span, still going at its end.
    ongoing.protections = vec![prot(2, "2026-03-30", None, PlaceKind::Entrusted)];
    let mut extended = case(3, 3, "2025-06-01", "11", "11");
    let mut long = prot(3, "2025-06-01", Some("2025-09-30"), PlaceKind::Shelter);
    long.extended = true;
    extended.protections = vec![long];
    let s = count_with(&[placed, ongoing, extended], &[]);
    let v = |row, col| value(&s, "protections", row, col);
    assert_eq!((v("total", "started"), v("place:entrusted", "started")), (2, 1));
    assert_eq!(v("total", "ended"), 2);
    assert_eq!(v("place:shelter", "days_to_end"), 20 + 122, "start and end days included");
    assert_eq!(v("total", "days_in_span"), 10 + 122 + 2, "only the days inside the span");
    assert_eq!(v("total", "extended"), 1);
    assert_eq!((v("total", "out:facility"), v("total", "out:home")), (1, 1));
}

#[test]
fn the_default_period_is_the_last_whole_fiscal_year() {
    let p = presets(d("2026-04-10"));
    assert_eq!((p[0].1.from, p[0].1.to), (d("2025-04-01"), d("2026-03-31")));
    assert_eq!((p[2].1.from, p[3].1.from, p[3].1.to), (d("2025-10-01"), d("2026-04-01"), d("2026-04-10")));
    let march = presets(d("2026-03-31"));
    assert_eq!((march[0].1.from, march[0].1.to), (d("2024-04-01"), d("2025-03-31")), "March is still FY2025");
}

#[test]
fn a_period_is_read_in_either_calendar_and_both_days_or_neither() {
    let today = d("2026-04-10");
    assert_eq!(span_of(None, Some(" "), today).unwrap(), presets(today)[0].1);
    let s = span_of(Some("R7.4.1"), Some("2025-09-30"), today).unwrap();
    assert_eq!((s.from, s.to), (d("2025-04-01"), d("2025-09-30")));
    assert!(matches!(
        span_of(Some("R7.4.1"), None, today),
        Err(Error::Invalid { field: "to", reason: Why::Required })
    ));
    assert!(matches!(
        span_of(Some("R7.4.x"), Some("R7.5.1"), today),
        Err(Error::Invalid { field: "from", .. })
    ));
    assert!(matches!(
        span_of(Some("R7.5.1"), Some("R7.4.1"), today),
        Err(Error::Invalid { field: "to", .. })
    ));
}

#[test]
fn a_span_ends_on_or_after_its_start() {
    assert!(Span::new(d("2025-04-02"), d("2025-04-01")).is_err());
    let one = Span::new(d("2025-04-01"), d("2025-04-01")).unwrap();
    assert!(one.holds(d("2025-04-01")) && !one.holds(d("2025-04-02")));
}

#[test]
fn a_warning_of_many_cases_fits_its_cell_and_lists_every_case_on_a_sheet_of_its_own() {
    // 5,000 cases without a birth date: a year of a large centre, each warned.
    let cases: Vec<CaseFacts> =
        (1..=5000).map(|i| CaseFacts { birth_date: None, ..case(i, i, "2025-05-01", "11", "04") }).collect();
    let s = count_with(&cases, &[]);
    let w = s.warnings.iter().find(|w| w.kind == WarningKind::AgeUnknown).unwrap();
    assert_eq!(w.cases.len(), 5000);
    let book = workbook(&s, "中央児童相談所", d("2026-04-10"));
    let checks = book.sheets.iter().find(|s| s.name == "確認事項").unwrap();
    let row = checks
        .rows
        .iter()
        .find(|r| r.get(1) == Some(&mamoru_sheet::Cell::Number { value: 5000, bold: false }));
    let Some(mamoru_sheet::Cell::Label { text, .. }) = row.and_then(|r| r.get(2)) else { panic!("{row:?}") };
    assert!(
        text.starts_with("児-R7-00001、") && text.ends_with("ほか4900件（全件は「確認対象ケース」）"),
        "{text}"
    );
    let list = book.sheets.iter().find(|s| s.name == "確認対象ケース").unwrap();
    let named: Vec<_> = list
        .rows
        .iter()
        .filter_map(|r| match r.get(1) {
            Some(mamoru_sheet::Cell::Label { text, .. }) if text.starts_with("児-") => Some(text.as_str()),
            _ => None,
        })
        .collect();
    assert!(named.len() >= 5000 && named.contains(&"児-R7-05000"), "{}", named.len());
    let xlsx = book.to_xlsx().unwrap();
    assert!(xlsx.starts_with(b"PK"));
}
