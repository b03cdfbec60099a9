//! `import`: a folder of the interchange layout into the store (core reads and checks every row;
//! this file opens the files, prints the reconciliation and writes the result files). `export`:
//! the whole store into a new folder (core writes every file; this one makes them).

use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use mamoru_core::ids::UnitId;
use mamoru_core::interchange::{Encoding, Gaiji, Kind, write_csv_line};
use mamoru_core::service::export::Sink;
use mamoru_core::service::migration::{ImportOptions, Reconciliation, Source};

use super::{local_admin, open};
use crate::cli::{ExportArgs, ImportArgs};

/// The source folder: a file the folder lacks is `None`.
struct Folder(PathBuf);

impl Source for Folder {
    fn open(&mut self, name: &str) -> std::io::Result<Option<Box<dyn Read>>> {
        match File::open(self.0.join(name)) {
            Ok(f) => Ok(Some(Box::new(std::io::BufReader::with_capacity(256 * 1024, f)))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }
}

pub(super) fn import(args: &ImportArgs) -> Result<()> {
    if !args.from.is_dir() {
        bail!("{} is not a folder", args.from.display());
    }
    let encoding = Encoding::parse(&args.encoding).map_err(anyhow::Error::msg)?;
    let gaiji = match &args.gaiji {
        None => Gaiji::default(),
        Some(path) => {
            let text =
                std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
            Gaiji::parse(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?
        }
    };
    let service = open(&args.data.data)?;
    let admin = local_admin(&service)?;
    let options = ImportOptions {
        encoding,
        gaiji,
        unit: args.unit.map(UnitId),
        dry_run: args.dry_run,
        skip_rejected: args.skip_rejected,
        batch_rows: args.batch.max(1),
    };
    let rec = service.import_legacy(&admin, &mut Folder(args.from.clone()), &options)?;
    print(&rec);
    let stamp = stamp();
    let ours = || -> Result<PathBuf> {
        let dir = args.data.data.join("migration");
        std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
        Ok(dir)
    };
    if !rec.rejected_rows.is_empty() && (args.skip_rejected || args.rejected_to.is_some()) {
        let dir = match &args.rejected_to {
            Some(dir) => dir.clone(),
            None => ours()?.join(format!("rejected-{stamp}")),
        };
        write_rejected(&rec, &dir)?;
        println!("rejected rows: {}", dir.display());
    }
    if rec.written {
        let path = match &args.result {
            Some(p) => p.clone(),
            None => ours()?.join(format!("result-{stamp}.csv")),
        };
        write_result(&rec, &path)?;
        println!("result: {}", path.display());
    }
    for (kind, c) in &rec.files {
        println!(
            "{kind} read {} accepted {} rejected {} imported {} unchanged {} differ {}",
            c.read, c.accepted, c.rejected, c.imported, c.unchanged, c.differ
        );
    }
    if let Some(why) = &rec.stopped {
        bail!(
            "import stopped: {why}. What the counts above call imported is stored; \
             run the same command again to import the rest (nothing is imported twice)"
        );
    }
    let rejected = rec.rejections.len();
    match (rec.written, rejected, rec.differences.len()) {
        (_, 0, 0) => Ok(()),
        (false, r, d) if !args.dry_run && r > 0 => bail!(
            "nothing imported: {r} refusals and {d} differences (fix the rows, or import the rest with --skip-rejected)"
        ),
        (_, r, d) => bail!("{r} refusals and {d} differences (listed above)"),
    }
}

/// The reconciliation, a line each: files, refusals, likely duplicates, differences, warnings.
fn print(rec: &Reconciliation) {
    if let Some((id, name)) = &rec.unit {
        println!("unit: {} {name}", id.0);
    }
    for (kind, c) in &rec.files {
        if let (Some(sha), Some(enc)) = (&c.sha256, c.encoding) {
            println!("file: {} {} sha256 {sha}", kind.file(), enc.name());
        }
    }
    for r in &rec.rejections {
        println!("{r}");
    }
    for d in &rec.duplicates {
        println!("duplicate: {} ({}) may be {}", d.at, d.legacy_id, d.other);
    }
    for d in &rec.differences {
        println!(
            "difference: {}:{}: {} changed since it was imported as {} (not overwritten)",
            d.file, d.line, d.legacy_id, d.record
        );
    }
    for w in &rec.warnings {
        println!("warning: {w}");
    }
}

fn stamp() -> String {
    let now = mamoru_core::time::Clock::now(&crate::clock::SystemClock);
    let s = now.to_jst_string();
    let s: String = s.chars().take(19).filter(char::is_ascii_digit).collect();
    format!("{}-{}", &s[..8], &s[8..])
}

fn create(path: &Path) -> Result<BufWriter<File>> {
    let mut out =
        BufWriter::new(File::create(path).with_context(|| format!("cannot create {}", path.display()))?);
    out.write_all(b"\xEF\xBB\xBF")?;
    Ok(out)
}

/// The refused rows as a folder of the same layout, each row with its reasons in a last
/// `rejection` column (which an import ignores), UTF-8 with BOM.
fn write_rejected(rec: &Reconciliation, dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    for (kind, count) in &rec.files {
        let rows: Vec<_> = rec.rejected_rows.iter().filter(|r| r.kind == *kind).collect();
        if rows.is_empty() {
            continue;
        }
        let path = dir.join(kind.file());
        let mut out = create(&path)?;
        let mut header = count.header.clone();
        header.push("rejection".into());
        write_csv_line(&mut out, &header)?;
        let mut reasons_at: std::collections::HashMap<u64, Vec<String>> = std::collections::HashMap::new();
        for r in rec.rejections.iter().filter(|r| r.file == kind.file()) {
            reasons_at
                .entry(r.line)
                .or_default()
                .push(format!("line {}: {}: {}", r.line, r.column, r.reason));
        }
        for row in rows {
            let reasons = reasons_at.get(&row.line).cloned().unwrap_or_default();
            let mut fields = row.fields.clone();
            fields.resize(count.header.len().max(fields.len()), String::new());
            fields.push(reasons.join("; "));
            write_csv_line(&mut out, &fields)?;
        }
        out.flush().with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(())
}

/// 移行結果: every migrated child, person and case with its id here, for the city to verify.
fn write_result(rec: &Reconciliation, path: &Path) -> Result<()> {
    let mut out = create(path)?;
    write_csv_line(&mut out, &["kind", "legacy_id", "mamoru_id", "case_no"])?;
    for m in &rec.mapped {
        let kind = match m.kind {
            Kind::Children => "child",
            Kind::Persons => "person",
            _ => "case",
        };
        write_csv_line(
            &mut out,
            &[kind, &m.legacy_id, &m.id.to_string(), m.case_no.as_deref().unwrap_or("")],
        )?;
    }
    out.flush().with_context(|| format!("cannot write {}", path.display()))
}

/// The export's folder: files made as core names them (`photos/…` in a folder of its own),
/// written into `.NAME.partial` beside it, each synced to disk, and renamed to NAME only once
/// the export is complete and audited; taken away if it failed.
pub struct ExportFolder {
    done: PathBuf,
    work: PathBuf,
}

impl ExportFolder {
    /// An export into `dir` (which must not exist, or be empty).
    pub fn new(dir: PathBuf) -> Result<Self> {
        let name = dir.file_name().map_or_else(|| "export".into(), |n| n.to_string_lossy().into_owned());
        let work = dir.with_file_name(format!(".{name}.partial"));
        if work.exists() {
            std::fs::remove_dir_all(&work).with_context(|| format!("cannot remove {}", work.display()))?;
        }
        std::fs::create_dir_all(&work).with_context(|| format!("cannot create {}", work.display()))?;
        Ok(Self { done: dir, work })
    }
}

/// A file written through a buffer and synced to disk when flushed.
struct Synced(BufWriter<File>);

impl Write for Synced {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.write(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()?;
        self.0.get_ref().sync_all()
    }
}

impl Sink for ExportFolder {
    fn create(&mut self, name: &str) -> std::io::Result<Box<dyn Write>> {
        let path = self.work.join(name);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        Ok(Box::new(Synced(BufWriter::with_capacity(256 * 1024, File::create(path)?))))
    }

    fn finish(&mut self, complete: bool) -> std::io::Result<()> {
        if complete { std::fs::rename(&self.work, &self.done) } else { std::fs::remove_dir_all(&self.work) }
    }
}

pub(super) fn export(args: &ExportArgs) -> Result<()> {
    let to = &args.to;
    if to.exists()
        && std::fs::read_dir(to).with_context(|| format!("cannot read {}", to.display()))?.next().is_some()
    {
        bail!("{} is not empty: export into a new or empty folder", to.display());
    }
    let mut folder = ExportFolder::new(to.clone())?;
    let service = open(&args.data.data).map_err(|e| {
        if format!("{e:#}").contains("in use") {
            anyhow::anyhow!(
                "the server is running: stop it, or export from the console (バックアップ screen, key e)"
            )
        } else {
            e
        }
    })?;
    let admin = local_admin(&service)?;
    let out = service
        .export_store(&admin, &mut folder)
        .with_context(|| format!("the export in {} is incomplete", to.display()))?;
    for (kind, n) in &out.rows {
        println!("{} {n}", kind.file());
    }
    println!("records.jsonl {}", out.records);
    println!("photos {}", out.photos);
    println!(
        "export: {} ({} files; check with: cd {} && sha256sum -c SHA256SUMS)",
        to.display(),
        out.files.len(),
        to.display()
    );
    Ok(())
}
