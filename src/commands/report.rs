//! `report statistics`: the national statistics of a unit for a period, as XLSX (core counts
//! and lays out the workbook; this file parses the dates, writes the file and prints a summary).

use std::io::Write;

use anyhow::{Context, Result, bail};
use mamoru_core::ids::UnitId;
use mamoru_core::statistics::Span;
use mamoru_core::wareki;

use super::{local_admin, open};
use crate::cli::StatisticsArgs;

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
    // Written beside, then renamed: a half-written file never carries the name.
    let partial = args.out.with_extension("xlsx.partial");
    let mut f =
        std::fs::File::create(&partial).with_context(|| format!("cannot create {}", partial.display()))?;
    f.write_all(&file.xlsx)
        .and_then(|()| f.sync_all())
        .with_context(|| format!("cannot write {}", partial.display()))?;
    std::fs::rename(&partial, &args.out).with_context(|| format!("cannot write {}", args.out.display()))?;
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
