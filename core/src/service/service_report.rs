//! The monthly サービス提供報告書 gathered from what the server keeps: the uptime ledger and the
//! planned stops (稼働率, outages, warnings), the request times per page, the restore drills,
//! the audit log (backups, sign-ins, locks, device registrations) and the devices. Core's
//! `service_report` lays it out; this file only counts.

use super::{Actor, Service};
use crate::audit::AuditQuery;
use crate::device::Device;
use crate::drill::RestoreDrill;
use crate::error::{Error, Result};
use crate::service_report::{AccessFigures, BackupFigures, Month, ServiceReport, StorageFigures};
use crate::staff::Action;
use crate::store::{ReadTx, Reader};
use crate::time::{Date, Timestamp};
use crate::traffic::{Times, TrafficPeriod};
use crate::uptime::{self, Probe};

/// The report's two files.
#[derive(Clone, Debug)]
pub struct ServiceReportFiles {
    pub report: ServiceReport,
    pub pdf: Vec<u8>,
    pub xlsx: Vec<u8>,
}

/// The audit entries of `action` in `[from, to)`: (succeeded, refused).
fn audited(r: &ReadTx, action: &str, from: Timestamp, to: Timestamp) -> Result<(u64, u64)> {
    let query = AuditQuery {
        action: Some(action.into()),
        from: Some(from),
        until: Some(to),
        ..AuditQuery::default()
    };
    let (mut ok, mut refused) = (0, 0);
    crate::store::search_audit(r, &query, |e| {
        if e.result == "ok" {
            ok += 1;
        } else {
            refused += 1;
        }
        true
    })?;
    Ok((ok, refused))
}

impl Service {
    /// The figures of `month`'s report (up to now, when it has not ended; from the ledger's
    /// first probe, when the server began within it). For administrators; audited.
    pub fn service_report(&self, actor: &Actor, month: Month) -> Result<ServiceReport> {
        let now = self.now();
        if month.start() > now {
            return Err(Error::invalid("month", "a month that has begun"));
        }
        self.read(actor, Action::OperateServer, "service_report", None, |r| {
            let (start, end) = (month.start(), month.end());
            let super::uptime::Ledger { from, to, probes, planned, windows, availability } =
                super::uptime::ledger(r, start, end, now)?;
            let alerts: Vec<crate::alert::Alert> =
                r.all::<crate::alert::Alert>()?.into_iter().map(|v| v.body).collect();
            let told = |mut i: uptime::Incident| {
                i.notified = crate::alert::notified(&alerts, &i);
                i
            };
            let outages: Vec<uptime::Incident> =
                uptime::outages(&probes, &windows, from, to).into_iter().map(told).collect();
            let warnings: Vec<uptime::Incident> =
                uptime::warnings(&probes, from, to).into_iter().map(told).collect();

            // Request times: the periods kept within the month (each lies within one hour).
            let mut pages: std::collections::BTreeMap<String, Times> = std::collections::BTreeMap::new();
            for p in r.all::<TrafficPeriod>()? {
                if (start..end).contains(&p.body.from) {
                    for (page, t) in &p.body.pages {
                        pages.entry(page.clone()).or_default().merge(t);
                    }
                }
            }
            let mut pages: Vec<(String, Times)> = pages.into_iter().collect();
            pages.sort_by(|a, b| b.1.requests.cmp(&a.1.requests).then_with(|| a.0.cmp(&b.0)));

            let drills: Vec<RestoreDrill> = r
                .all::<RestoreDrill>()?
                .into_iter()
                .map(|v| v.body)
                .filter(|d| (start..end).contains(&d.started_at))
                .collect();

            let backups = backup_figures(r, (start, end), (from, to))?;
            let access = access_figures(r, start, end)?;

            let sized: Vec<&Probe> = probes.iter().filter(|p| p.store_bytes.is_some()).collect();
            let last_disk = probes.iter().rev().find_map(|p| p.disk_space);
            let storage = StorageFigures {
                store_bytes: match (sized.first(), sized.last()) {
                    (Some(a), Some(b)) => a.store_bytes.zip(b.store_bytes),
                    _ => None,
                },
                disk_free_bytes: last_disk.map(|d| d.free_bytes),
                disk_total_bytes: last_disk.map(|d| d.total_bytes),
            };
            let report = ServiceReport {
                month,
                made_at: now,
                from,
                to,
                availability,
                planned,
                outages,
                warnings,
                pages,
                backups,
                drills,
                access,
                storage,
            };
            let detail = format!("service report {}", month.slug());
            Ok((report, Some(detail)))
        })
    }

    /// The report as a PDF and an XLSX (audited once, as `service_report`).
    pub fn service_report_files(&self, actor: &Actor, month: Month) -> Result<ServiceReportFiles> {
        let report = self.service_report(actor, month)?;
        let pdf = mamoru_pdf::render(&report.form())
            .map_err(|e| Error::Corrupt(format!("the service report could not be laid out: {e}")))?;
        let xlsx = report.workbook().to_xlsx().map_err(|e| {
            Error::Corrupt(format!("the service report's workbook could not be written: {e}"))
        })?;
        Ok(ServiceReportFiles { report, pdf, xlsx })
    }
}

/// The month's backups from their `backup_verified` audit entries, and the whole days of
/// `[from, to)` without a verified one (a day still running is not yet missed).
fn backup_figures(
    r: &ReadTx,
    (start, end): (Timestamp, Timestamp),
    (from, to): (Timestamp, Timestamp),
) -> Result<BackupFigures> {
    let mut verified_days = std::collections::BTreeSet::new();
    let query = AuditQuery {
        action: Some("backup_verified".into()),
        from: Some(start),
        until: Some(end),
        ..AuditQuery::default()
    };
    let mut backups = BackupFigures::default();
    crate::store::search_audit(r, &query, |e| {
        if e.result == "ok" {
            backups.verified += 1;
            verified_days.insert(e.at.jst_date());
        } else {
            backups.failed += 1;
        }
        true
    })?;
    let mut day = from.jst_date();
    while Timestamp::jst_midnight(day.plus_days(1)) <= to {
        if Timestamp::jst_midnight(day) >= from && !verified_days.contains(&day) {
            backups.days_without.push(day);
        }
        day = day.plus_days(1);
    }
    Ok(backups)
}

/// Sign-ins, locks and registrations of `[start, end)` from the audit log; revocations and the
/// tablets that may sign in now from the devices.
fn access_figures(r: &ReadTx, start: Timestamp, end: Timestamp) -> Result<AccessFigures> {
    let (sign_ins, sign_ins_refused) = audited(r, "sign_in", start, end)?;
    let (console_sign_ins, console_sign_ins_refused) = audited(r, "console_sign_in", start, end)?;
    let locks =
        audited(r, "sign_in_locked", start, end)?.0 + audited(r, "console_sign_in_locked", start, end)?.0;
    let devices: Vec<Device> = r.all::<Device>()?.into_iter().map(|v| v.body).collect();
    let count = |f: &dyn Fn(&Device) -> bool| devices.iter().filter(|d| f(d)).count() as u64;
    Ok(AccessFigures {
        sign_ins,
        sign_ins_refused,
        console_sign_ins,
        console_sign_ins_refused,
        locks,
        devices_registered: audited(r, "redeem_device_code", start, end)?.0,
        devices_revoked: count(&|d| d.revoked.as_ref().is_some_and(|v| (start..end).contains(&v.at))),
        devices_active: count(&|d| d.is_active() && !d.is_pending()),
        audit_entries: crate::store::audit_count(r, start, end)?,
    })
}

/// The month a report is usually made for: the one before `today`'s.
#[must_use]
pub fn last_month(today: Date) -> Month {
    let m = Month::of(today);
    if m.month == 1 { Month { year: m.year - 1, month: 12 } } else { Month { month: m.month - 1, ..m } }
}
