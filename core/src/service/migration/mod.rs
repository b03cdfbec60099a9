//! Migration (データ移行): another system's caseload brought in through the interchange layout
//! (`crate::interchange`). One more front-end of the domain: every row is read by the domain's
//! rules, every record stored as the service stores its own, with the source's id kept on it.
//!
//! An import reads the folder twice. The first pass (`check.rs`: the dry run, and the first
//! half of every real run) reads every file, refuses what the rules refuse, finds rows naming an id
//! nobody has, children who may be the same person (名寄せ: inside the source and against the
//! store, by the intake's duplicate rule), and rows imported before — unchanged, or changed in
//! the source since (a difference, never overwritten). The second (`write.rs`) runs only when the
//! first was clean, or when told to skip the rows it refused: it stores the rows not stored yet,
//! a batch per transaction, so an interrupted run resumes where it stopped and a run again
//! stores nothing twice.

use std::collections::{HashMap, HashSet};
use std::io::Read;

use sha2::{Digest, Sha256};

use super::{Actor, Service};
use crate::error::Result;
use crate::ids::{ChildId, RecordId, UnitId};
use crate::interchange::read::FileError;
use crate::interchange::{Encoding, Gaiji, Kind, Table};
use crate::staff::Action;

mod check;
mod write;

use check::{check, codes, has_no_own_id, refused, restricted_staff};

/// Where an import reads its files: the binary opens them, core reads them.
pub trait Source {
    /// The file named `name` (`children.csv`), or `None` when the folder has none.
    fn open(&mut self, name: &str) -> std::io::Result<Option<Box<dyn Read>>>;
}

/// How to import.
#[derive(Clone, Debug)]
pub struct ImportOptions {
    /// The files' encoding; `None`: told from each file.
    pub encoding: Option<Encoding>,
    /// What the source's 外字 stand for.
    pub gaiji: Gaiji,
    /// The unit the records are given to; `None`: the first unit.
    pub unit: Option<UnitId>,
    /// Check only: nothing is written.
    pub dry_run: bool,
    /// Import the rows that were accepted even when others were refused.
    pub skip_rejected: bool,
    /// Rows per transaction.
    pub batch_rows: usize,
}

impl Default for ImportOptions {
    fn default() -> Self {
        Self {
            encoding: None,
            gaiji: Gaiji::default(),
            unit: None,
            dry_run: true,
            skip_rejected: false,
            batch_rows: 2000,
        }
    }
}

/// One file's counts.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FileCount {
    pub read: u64,
    pub accepted: u64,
    pub rejected: u64,
    /// Stored by this run.
    pub imported: u64,
    /// Imported before, and the same now.
    pub unchanged: u64,
    /// Imported before, and changed in the source since (not stored: see `differences`).
    pub differ: u64,
    /// SHA-256 of the file's bytes (none when the folder has no such file).
    pub sha256: Option<String>,
    pub encoding: Option<Encoding>,
    /// The file's header row, as read (for the file of refused rows).
    pub header: Vec<String>,
}

/// A row or a column refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rejection {
    pub file: String,
    pub line: u64,
    pub column: String,
    pub reason: String,
    /// The row names an id that no file and no earlier import has.
    pub missing_id: bool,
}

impl std::fmt::Display for Rejection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}: {}: {}", self.file, self.line, self.column, self.reason)
    }
}

/// A refused row as it was read, for the file of rows to fix and import again.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RejectedRow {
    pub kind: Kind,
    pub line: u64,
    pub fields: Vec<String>,
}

/// Two children who may be the same person (same birth date and similar furigana, or a birth
/// date one may have been mistyped for and furigana a kana apart).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Duplicate {
    /// `children.csv:LINE`.
    pub at: String,
    pub legacy_id: String,
    /// The other: `children.csv:LINE (legacy id)` or `child N on file`.
    pub other: String,
}

/// A row imported before that says something else now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Difference {
    pub file: String,
    pub line: u64,
    pub legacy_id: String,
    /// The record it was imported as (kind and id).
    pub record: String,
}

/// A record of the source and what it became here (the 移行結果 for the city's verification).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mapped {
    pub kind: Kind,
    pub legacy_id: String,
    pub id: u64,
    pub case_no: Option<String>,
}

/// What an import found and did.
#[derive(Clone, Debug, Default)]
pub struct Reconciliation {
    pub unit: Option<(UnitId, String)>,
    pub files: Vec<(Kind, FileCount)>,
    pub rejections: Vec<Rejection>,
    pub rejected_rows: Vec<RejectedRow>,
    pub duplicates: Vec<Duplicate>,
    pub differences: Vec<Difference>,
    /// What the records will show that the source did not say (clocks that will show as due).
    pub warnings: Vec<String>,
    /// Children, persons and cases of the source and their ids here (after a real run).
    pub mapped: Vec<Mapped>,
    /// Whether this run stored everything it set out to.
    pub written: bool,
    /// Why the second pass stopped before the end (a file changed or went away since the
    /// check, the disk, a record the store refused). The batches before stay stored and the
    /// counts say how many; the same run again resumes.
    pub stopped: Option<String>,
    /// Children whose household differs from what an earlier run made: the second pass makes
    /// no household with them.
    pub(super) held_children: HashSet<String>,
}

impl Reconciliation {
    /// Nothing refused and nothing differs.
    #[must_use]
    pub fn clean(&self) -> bool {
        self.rejections.is_empty() && self.differences.is_empty()
    }

    fn count(&mut self, kind: Kind) -> &mut FileCount {
        let i = self.files.iter().position(|(k, _)| *k == kind).unwrap_or_else(|| {
            self.files.push((kind, FileCount::default()));
            self.files.len() - 1
        });
        &mut self.files[i].1
    }
}

/// The `unique` namespace of a kind's legacy ids.
pub(super) fn namespace(kind: Kind) -> String {
    format!("legacy/{}", kind.name())
}

/// The namespace of households made from `relations.csv` (keyed by their first child).
pub(super) const HOUSEHOLDS: &str = "legacy/households";

/// A reader that keeps the SHA-256 of what passed through it.
struct Hashing<R> {
    inner: R,
    hash: FileHash,
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hash.borrow_mut().update(&buf[..n]);
        Ok(n)
    }
}

/// The keys rows are known by. A note without an id of its own is known by its case, time and
/// author, and the second such note of a file by that and `#2`. Held as 128-bit digests, so that
/// a file of 300,000 notes costs a few megabytes.
#[derive(Default)]
struct Keys {
    seen: HashMap<u128, u64>,
}

fn key_digest(key: &str) -> u128 {
    let h = Sha256::digest(key.as_bytes());
    let mut first = [0u8; 16];
    first.copy_from_slice(&h[..16]);
    u128::from_le_bytes(first)
}

impl Keys {
    /// The row's key, or the line that had it first when the key must be unique.
    fn key(&mut self, kind: Kind, made: bool, key: String, line: u64) -> std::result::Result<String, u64> {
        let digest = key_digest(&key);
        match self.seen.get(&digest) {
            None => {
                self.seen.insert(digest, line);
                Ok(key)
            }
            Some(first) if !(kind == Kind::Notes && made) => Err(*first),
            Some(_) => {
                let mut n = 2;
                while self.seen.contains_key(&key_digest(&format!("{key}#{n}"))) {
                    n += 1;
                }
                let key = format!("{key}#{n}");
                self.seen.insert(key_digest(&key), line);
                Ok(key)
            }
        }
    }
}

/// The SHA-256 a file's bytes are hashed into as it is read.
type FileHash = std::rc::Rc<std::cell::RefCell<Sha256>>;

/// A file opened, and the hash of what was read of it.
type Opened = Option<(Table<Hashing<Box<dyn Read>>>, FileHash)>;

/// Opens one file of the source, hashing it as it is read.
fn open_table(
    source: &mut dyn Source,
    kind: Kind,
    required: &[&str],
    name: &str,
    encoding: Option<Encoding>,
) -> Result<Opened, FileError> {
    let file = source
        .open(name)
        .map_err(|e| FileError { column: "-".into(), reason: format!("cannot be opened: {e}") })?;
    let Some(file) = file else { return Ok(None) };
    let hash = std::rc::Rc::new(std::cell::RefCell::new(Sha256::new()));
    let reader = Hashing { inner: file, hash: hash.clone() };
    Ok(Some((Table::open_columns(kind, required, reader, encoding)?, hash)))
}

/// The digest a case keeps: its row's, with its abuse row's when it has one.
pub(super) fn case_digest(case: &str, abuse: Option<&str>) -> String {
    match abuse {
        None => case.to_owned(),
        Some(a) => {
            let h = Sha256::digest(format!("{case}+{a}").as_bytes());
            crate::to_hex(&h[..16])
        }
    }
}

impl Service {
    /// Imports the source (or, `dry_run`, only checks it): see the module's documentation.
    /// Administrators only; the check is one audited read, each batch written one audited
    /// transaction, and the run ends with an `import` entry naming the files' SHA-256. A second
    /// pass that stops part-way is no error: the reconciliation says why (`stopped`) and how far.
    pub fn import_legacy(
        &self,
        actor: &Actor,
        source: &mut dyn Source,
        options: &ImportOptions,
    ) -> Result<Reconciliation> {
        Self::permit(actor, Action::Import).inspect_err(|e| {
            let mut entry = actor.audit_entry(self.now(), "import_check");
            e.code().clone_into(&mut entry.result);
            let _ = self.append_audit(entry);
        })?;
        let mut rec = self.read(actor, Action::Import, ChildId::KIND, None, |r| {
            let rec = check(r, source, options, self.now())?;
            let detail = format!("import check: {}", summary(&rec));
            Ok((rec, Some(detail)))
        })?;
        if options.dry_run || (!rec.rejections.is_empty() && !options.skip_rejected) {
            return Ok(rec);
        }
        let written = write::write(self, actor, source, options, &mut rec);
        let mut entry = actor.audit_entry(self.now(), Action::Import.as_str());
        entry.detail = Some(format!("import: {}", summary(&rec)));
        if let Err(e) = &written {
            e.code().clone_into(&mut entry.result);
        }
        self.append_audit(entry)?;
        if let Err(e) = written {
            rec.stopped = Some(e.to_string());
            return Ok(rec);
        }
        rec.written = true;
        rec.mapped = self.read(actor, Action::Import, ChildId::KIND, None, |r| {
            Ok((write::mapped(r)?, Some("import result (移行結果)".to_owned())))
        })?;
        Ok(rec)
    }
}

/// Counts and hashes, for the audit log (no personal data).
fn summary(rec: &Reconciliation) -> String {
    rec.files
        .iter()
        .map(|(k, c)| {
            format!(
                "{} sha256 {} read {} accepted {} rejected {} imported {} unchanged {} differ {}",
                k.file(),
                c.sha256.as_deref().unwrap_or("-"),
                c.read,
                c.accepted,
                c.rejected,
                c.imported,
                c.unchanged,
                c.differ
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}
