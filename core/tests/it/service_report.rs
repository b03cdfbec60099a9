//! The monthly service report against a store with known events: probes with an outage, a
//! stretch the server was not running, a planned stop and a low disk; request times kept per
//! page; backups verified and failed; a restore drill; sign-ins, a lock, devices registered and
//! revoked. Each figure is checked, and both files are made.

use std::time::Duration;

use mamoru_core::Error;
use mamoru_core::device::{DeviceChange, DeviceName};
use mamoru_core::drill::RestoreDrill;
use mamoru_core::ids::AlertId;
use mamoru_core::maintenance::NewMaintenance;
use mamoru_core::service::BackupState;
use mamoru_core::service_report::{Month, Part, Value};
use mamoru_core::staff::{Password, Role};
use mamoru_core::store::{DiskSpace, DiskState};
use mamoru_core::time::{HOUR, Timestamp};
use mamoru_core::uptime::{PROBE_EVERY, Probe, Problem};

use crate::support::{PASSWORD, world};

fn at(s: &str) -> Timestamp {
    Timestamp::parse(s).unwrap()
}

#[test]
#[expect(clippy::too_many_lines, reason = "one month's known events, then each figure they make")]
fn the_report_counts_what_happened_in_the_month() {
    let w = world();
    w.staff("cw", Role::Caseworker, w.u1);
    // t0 is 2025-06-02 10:00 JST: the ledger begins then. A planned stop announced now, for
    // the next night 02:00–04:00.
    let stop = NewMaintenance {
        from: at("2025-06-03T02:00:00+09:00"),
        to: at("2025-06-03T04:00:00+09:00"),
        reason: "OSの更新".into(),
    };
    w.svc.announce_maintenance(&w.admin, stop).unwrap();
    // Another, called off before it started: it counts as nothing.
    let off = NewMaintenance {
        from: at("2025-06-04T02:00:00+09:00"),
        to: at("2025-06-04T05:00:00+09:00"),
        reason: "UPS の点検".into(),
    };
    let off = w.svc.announce_maintenance(&w.admin, off).unwrap();
    w.svc.cancel_maintenance(&w.admin, mamoru_core::ids::MaintenanceId(off.id), off.rev).unwrap();
    // Sign-ins: two good, one refused; four more refused lock the login (the fifth failure),
    // and an attempt while locked is not written.
    for pw in [PASSWORD, PASSWORD, "wrong password"] {
        let _ = w.svc.sign_in("cw", &Password::attempt(pw), None, None);
    }
    for _ in 0..4 {
        let _ = w.svc.sign_in("cw", &Password::attempt("wrong again"), None, None);
    }
    assert!(matches!(
        w.svc.sign_in("cw", &Password::attempt(PASSWORD), None, None),
        Err(Error::TooManyAttempts { .. })
    ));
    // Two tablets registered, one of them revoked; a third still waits for its code.
    let mut tablets = Vec::new();
    for name in ["iPad 1", "iPad 2", "iPad 3"] {
        let (id, code, _) = w.svc.issue_device_code(&w.admin, &DeviceName::parse(name).unwrap()).unwrap();
        tablets.push((id, code));
    }
    for (_, code) in &tablets[..2] {
        w.svc.redeem_device_code(code, None).unwrap();
    }
    w.svc.change_device(&w.admin, tablets[1].0, DeviceChange::Revoke).unwrap();

    // Request times: /home fast, /cases/{id} with two slow answers, kept as two periods.
    for _ in 0..98 {
        w.svc.traffic().record("/home", Duration::from_millis(4), false);
    }
    w.svc.traffic().record("/home", Duration::from_millis(2900), false);
    w.svc.traffic().record("/home", Duration::from_millis(3100), true);
    w.svc.keep_traffic(true).unwrap();
    for _ in 0..10 {
        w.svc.traffic().record("/cases/{id}", Duration::from_millis(12), false);
    }
    w.svc.keep_traffic(true).unwrap();
    assert!(w.svc.traffic().take_pages().is_empty(), "kept, not kept twice");

    // Probes every 180 s for two days and a bit, until 2025-06-04 12:00: the web down for
    // three probes at 2025-06-02 20:00; the server not running 2025-06-03 12:00–13:00; nothing
    // probed in the planned stop; the disk low from 2025-06-04 06:00; the store growing.
    let end = at("2025-06-04T12:00:00+09:00");
    let mut bytes = 10_000_000;
    let mut previous = None;
    while w.svc.now() < end {
        let now = w.svc.now();
        let planned = (at("2025-06-03T02:00:00+09:00")..at("2025-06-03T04:00:00+09:00")).contains(&now);
        let stopped = (at("2025-06-03T12:00:00+09:00")..at("2025-06-03T13:00:00+09:00")).contains(&now);
        let web_down = (at("2025-06-02T20:00:00+09:00")..at("2025-06-02T20:09:00+09:00")).contains(&now);
        let low = now >= at("2025-06-04T06:00:00+09:00");
        if !planned && !stopped {
            bytes += 1_000;
            let probe = Probe {
                at: now,
                web: !web_down,
                store: true,
                disk: Some(if low { DiskState::Low } else { DiskState::Ok }),
                backup: BackupState::Ok,
                archive: true,
                certificate_days: Some(300),
                clock: true,
                store_bytes: Some(bytes),
                disk_space: Some(DiskSpace { free_bytes: 50_000_000_000, total_bytes: 100_000_000_000 }),
            };
            w.svc.record_probe(probe.clone()).unwrap();
            // Alerts opened and cleared, each notice delivered at once (a relay that works).
            w.svc.update_alerts(&probe, previous, PROBE_EVERY).unwrap();
            previous = Some(now);
            for (a, notice) in w.svc.pending_alerts().unwrap() {
                w.svc.alert_delivered(AlertId(a.id), notice, Ok(())).unwrap();
            }
        }
        // The daily backups: failed on the 3rd, verified on the 4th.
        if now == at("2025-06-03T02:00:00+09:00") {
            w.svc.backup_done(Err("the destination is full".into())).unwrap();
        }
        if now == at("2025-06-04T02:00:00+09:00") {
            w.svc.backup_done(Ok((1, now))).unwrap();
        }
        w.clock.advance(PROBE_EVERY);
    }
    w.svc
        .record_drill(RestoreDrill {
            started_at: at("2025-06-03T05:00:00+09:00"),
            millis: 4_200,
            generation: Some(1),
            generation_bytes: 1_000_000,
            changes_replayed: 12,
            up_to: Some(at("2025-06-03T04:59:00+09:00")),
            failure: None,
            by: "scheduler".into(),
        })
        .unwrap();

    let june = Month::parse("2025-06").unwrap();
    let r = w.svc.service_report(&w.admin, june).unwrap();
    assert_eq!((r.from, r.to), (at("2025-06-02T10:00:00+09:00"), w.svc.now()));

    // 稼働率: the planned stop left out; three failed probes and the hour not running count.
    let a = r.availability;
    assert_eq!(a.planned_seconds, 2 * HOUR);
    assert_eq!(a.probes_failed, 3);
    assert_eq!(a.probes_missing, 20);
    assert_eq!(a.outage_seconds, 23 * PROBE_EVERY);
    assert_eq!(r.planned.len(), 1);
    assert_eq!(r.outages.len(), 2, "{:#?}", r.outages);
    assert_eq!(r.outages[0].detected, at("2025-06-02T20:00:00+09:00"));
    assert_eq!(r.outages[0].recovered, Some(at("2025-06-02T20:09:00+09:00")));
    assert_eq!(r.outages[0].causes, [Problem::Web]);
    assert_eq!(r.outages[1].after, Some(at("2025-06-03T11:57:00+09:00")));
    assert_eq!(r.outages[1].detected, at("2025-06-03T13:00:00+09:00"));
    assert_eq!(r.outages[1].causes, [Problem::NoProbe]);
    assert_eq!(r.outages.iter().map(|i| i.outage_seconds).sum::<i64>(), a.outage_seconds);
    // Each was told by its alert: the web's when found, the stop when the server ran again.
    assert_eq!(r.outages[0].notified, Some(at("2025-06-02T20:00:00+09:00")));
    assert_eq!(r.outages[1].notified, Some(at("2025-06-03T13:00:00+09:00")));
    assert_eq!(r.warnings.len(), 1);
    assert_eq!(r.warnings[0].problem, Some(Problem::DiskLow));
    assert_eq!(r.warnings[0].notified, Some(at("2025-06-04T06:00:00+09:00")));
    assert_eq!(
        w.svc.open_alerts().unwrap().iter().map(|a| a.problem).collect::<Vec<_>>(),
        [Problem::DiskLow]
    );
    assert_eq!(r.availability_met(), Some(a.percent().unwrap() >= 99.8));

    // Request times per page, the busiest first.
    assert_eq!(
        r.pages.iter().map(|(p, t)| (p.as_str(), t.requests)).collect::<Vec<_>>(),
        [("/home", 100), ("/cases/{id}", 10)]
    );
    let home = &r.pages[0].1;
    assert_eq!((home.within_limit(), home.server_errors), (99, 1));
    assert_eq!(home.quantile(0.5), Some(Duration::from_millis(5)));

    // Backups: one verified, one failed; the 3rd went without (the 2nd began before the ledger,
    // the 4th has not ended).
    assert_eq!((r.backups.verified, r.backups.failed), (1, 1));
    assert_eq!(r.backups.days_without, [at("2025-06-03T09:00:00+09:00").jst_date()]);
    assert_eq!(r.drills.len(), 1);

    let access = r.access;
    assert_eq!((access.sign_ins, access.sign_ins_refused, access.locks), (2, 5, 1));
    assert_eq!((access.devices_registered, access.devices_revoked, access.devices_active), (2, 1, 1));
    assert!(access.audit_entries > 10);
    assert_eq!(r.storage.store_bytes.map(|(a, b)| b > a), Some(true));
    assert_eq!(r.storage.disk_free_bytes, Some(50_000_000_000));

    // The tables say it in Japanese, the same for the PDF and the XLSX.
    let sections = r.sections();
    assert_eq!(sections.len(), 7);
    let cells: Vec<String> = sections
        .iter()
        .flat_map(|s| s.parts.iter())
        .filter_map(|p| if let Part::Table(t) = p { Some(t) } else { None })
        .flat_map(|t| t.rows.iter().flatten())
        .map(|v| match v {
            Value::Text(s) => s.clone(),
            Value::Count(n) => n.to_string(),
            Value::Decimal(v, _) => v.to_string(),
        })
        .collect();
    for expected in [
        "OSの更新",
        "Web応答なし",
        "サーバー停止（監視記録なし）",
        "ディスク残りわずか",
        "/cases/{id}",
        "6月3日",
    ] {
        assert!(cells.iter().any(|c| c.contains(expected)), "{expected} missing from {cells:?}");
    }
    let files = w.svc.service_report_files(&w.admin, june).unwrap();
    let text = crate::forms::text_of(&files.pdf);
    for expected in [
        "サービス提供報告書（令和7年6月分）",
        "稼働率",
        "非機能要求グレード",
        "OSの更新",
        "/cases/{id}",
        "6月3日",
    ] {
        assert!(text.contains(expected), "{expected} missing from the PDF: {text}");
    }
    assert!(files.xlsx.starts_with(b"PK"));

    // Administrators only; a month not yet begun is refused, naming the field.
    let sv = w.staff("sv", Role::Supervisor, w.u1);
    assert!(matches!(w.svc.service_report(&sv, june), Err(Error::Forbidden { .. })));
    assert!(matches!(
        w.svc.service_report(&w.admin, Month::parse("2025-07").unwrap()),
        Err(Error::Invalid { field: "month", .. })
    ));
}
