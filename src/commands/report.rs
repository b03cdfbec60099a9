//! `report statistics`: the national statistics of a unit for a period, as XLSX; `report
//! service`: the monthly サービス提供報告書 as PDF and XLSX. Core counts and lays out the files;
//! this file parses the arguments, writes the files and prints a summary.

use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result, bail};
use mamoru_core::ids::UnitId;
use mamoru_core::service::last_month;
use mamoru_core::service_report::{Month, ServiceReport};
use mamoru_core::statistics::Span;
use mamoru_core::wareki;

use super::{local_admin, open};
use crate::cli::{ServiceReportArgs, StatisticsArgs};

pub(super) fn statistics(args: &StatisticsArgs) -> Result<()> {
    let day = |flag: &str, s: &str| wareki::parse(s).map_err(|e| anyhow::anyhow!("--{flag}: {e}"));
    let span = Span::new(day("from", &args.from)?, day("to", &args.to)?)
        .map_err(|_| anyhow::anyhow!("--to is before --from"))?;
    if args.out.exists() {
        bail!("{} exists: choose another name, or remove it first", args.out.display());
    }
    let service = open(&args.data.data)?;
    let admin = local_admin(&service)?;
    let unit = args.unit.map(UnitId);
    let view = service.statistics(&admin, unit, span)?;
    let file = service.statistics_xlsx(&admin, Some(view.unit), span)?;
    write_new(&args.out, &file.xlsx)?;
    println!("unit: {} ({})", view.unit_name, view.unit.0);
    println!("period: {}..{}", span.from, span.to);
    for t in &view.statistics.tables {
        let first = t.cells.first().and_then(|r| r.first()).map_or(0, |c| c.value);
        println!("{} {} {first}", t.key, t.columns.first().map_or("", |c| c.key.as_str()));
    }
    for w in &view.statistics.warnings {
        let nos: Vec<&str> =
            w.cases.iter().filter_map(|c| view.statistics.case_nos.get(c).map(String::as_str)).collect();
        println!("warning {} {}: {}", w.kind.as_str(), w.cases.len(), nos.join(" "));
    }
    println!("written: {} (sha256 {})", args.out.display(), file.sha256);
    Ok(())
}

/// Writes `bytes` to `path` beside it first, then renamed: a half-written file never carries the
/// name.
fn write_new(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut partial = path.as_os_str().to_owned();
    partial.push(".partial");
    let partial = std::path::PathBuf::from(partial);
    let mut f =
        std::fs::File::create(&partial).with_context(|| format!("cannot create {}", partial.display()))?;
    f.write_all(bytes)
        .and_then(|()| f.sync_all())
        .with_context(|| format!("cannot write {}", partial.display()))?;
    std::fs::rename(&partial, path).with_context(|| format!("cannot write {}", path.display()))
}

pub(super) fn service(args: &ServiceReportArgs) -> Result<()> {
    // FILE, FILE.pdf or FILE.xlsx: the two files beside each other.
    let stem = match args.out.extension().and_then(|e| e.to_str()) {
        Some("pdf" | "xlsx") => args.out.with_extension(""),
        _ => args.out.clone(),
    };
    let with = |ext: &str| {
        let mut p = stem.as_os_str().to_owned();
        p.push(format!(".{ext}"));
        std::path::PathBuf::from(p)
    };
    let (pdf, xlsx) = (with("pdf"), with("xlsx"));
    for p in [&pdf, &xlsx] {
        if p.exists() {
            bail!("{} exists: choose another name, or remove it first", p.display());
        }
    }
    let month = args.month.as_deref().map(Month::parse).transpose().map_err(|e| anyhow::anyhow!("--{e}"))?;
    let service = open(&args.data.data).map_err(|e| {
        if super::in_use(&e) {
            anyhow::anyhow!(
                "the server is running and holds the store: make the report from the console (月次報告) or with GET /api/v1/reports/service"
            )
        } else {
            e
        }
    })?;
    let admin = local_admin(&service)?;
    let month = month.unwrap_or_else(|| last_month(service.now().jst_date()));
    let files = service.service_report_files(&admin, month)?;
    write_new(&pdf, &files.pdf)?;
    write_new(&xlsx, &files.xlsx)?;
    for line in summary(&files.report) {
        println!("{line}");
    }
    println!("written: {} {}", pdf.display(), xlsx.display());
    Ok(())
}

/// The report's figures in lines of English, for the terminal.
fn summary(r: &ServiceReport) -> Vec<String> {
    let a = &r.availability;
    let all = r.online();
    vec![
        format!("month: {} ({} to {})", r.month.slug(), r.from.to_jst_string(), r.to.to_jst_string()),
        format!(
            "availability: {} % (target 99.8 %): outage {} s, planned {} s, probes {} expected, {} failed, {} missing",
            a.percent().map_or_else(|| "-".to_owned(), |p| format!("{p:.2}")),
            a.outage_seconds,
            a.planned_seconds,
            a.probes_expected,
            a.probes_failed,
            a.probes_missing
        ),
        format!(
            "planned stops: {}, outages: {}, warnings: {}",
            r.planned.len(),
            r.outages.len(),
            r.warnings.len()
        ),
        format!(
            "requests: {}, within 3 s: {}, server errors: {}",
            all.requests,
            all.within_limit(),
            all.server_errors
        ),
        format!(
            "backups: {} verified, {} failed, {} days without; restore drills: {}",
            r.backups.verified,
            r.backups.failed,
            r.backups.days_without.len(),
            r.drills.len()
        ),
        format!(
            "sign-ins: {} ({} refused), locks: {}, devices registered {} revoked {} active {}",
            r.access.sign_ins,
            r.access.sign_ins_refused,
            r.access.locks,
            r.access.devices_registered,
            r.access.devices_revoked,
            r.access.devices_active
        ),
    ]
}
