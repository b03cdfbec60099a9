//! `mamoru check`: counts every kind of record and looks for what should never be: a case
//! without its child, a note without its case, a gap in the change log, a broken audit chain,
//! and, through redb's own check on a copy of the file, a damaged page.

use sha2::{Digest, Sha256};

use super::{Actor, Service};
use crate::audit::Verdict;
use crate::case::{Case, Note, Photo};
use crate::error::Result;
use crate::ids::{CaseId, ChildId};
use crate::person::Child;
use crate::staff::Action;
use crate::store::Reader;

/// Every record kind, in the order `check` prints them (defined with the ids).
pub use crate::ids::KINDS;

#[derive(Debug, Default)]
pub struct IntegrityReport {
    pub counts: Vec<(String, u64)>,
    pub problems: Vec<String>,
}

impl Service {
    /// `check` asked for by an administrator of the running server (the console), audited with
    /// the number of problems found. Writers wait while the store file is copied for redb's
    /// check (`Store::check_pages`).
    pub fn check_store(&self, actor: &Actor) -> Result<IntegrityReport> {
        self.read(actor, Action::OperateServer, "store", None, |_| {
            let report = self.check_with_pages()?;
            let detail = format!("integrity check: {} problems", report.problems.len());
            Ok((report, Some(detail)))
        })
    }

    pub fn check(&self) -> Result<IntegrityReport> {
        let r = self.store.read()?;
        let mut report = IntegrityReport::default();
        for kind in KINDS {
            report.counts.push((kind.to_owned(), r.count(kind)?));
        }
        for case in r.all::<Case>()? {
            if r.get::<Child>(case.body.child)?.is_none() {
                report.problems.push(format!("case {} names missing child {}", case.id, case.body.child));
            }
            if !r.links("child_case", case.body.child.0, usize::MAX)?.contains(&case.id) {
                report
                    .problems
                    .push(format!("case {} is not linked from child {}", case.id, case.body.child));
            }
        }
        for note in r.all::<Note>()? {
            if r.get::<Case>(note.body.case)?.is_none() {
                report.problems.push(format!("note {} names missing case {}", note.id, note.body.case));
            }
        }
        for photo in r.all::<Photo>()? {
            match r.file(&photo.body.sha256)? {
                None => report.problems.push(format!("photo {} has no file", photo.id)),
                Some(bytes) if crate::to_hex(&Sha256::digest(&bytes)) != photo.body.sha256 => {
                    report.problems.push(format!("photo {}: the file does not match its SHA-256", photo.id));
                }
                Some(_) => {}
            }
        }
        for child in r.all::<Child>()? {
            for c in r.links("child_case", child.id, usize::MAX)? {
                if r.get::<Case>(CaseId(c))?.is_none_or(|x| x.body.child != ChildId(child.id)) {
                    report
                        .problems
                        .push(format!("child {} links to case {c}, which is not theirs", child.id));
                }
            }
        }
        let mut expected = 1;
        loop {
            let batch = r.changes_after(expected - 1, 4096)?;
            if batch.is_empty() {
                break;
            }
            for c in batch {
                if c.seq != expected {
                    report.problems.push(format!("change log jumps from {} to {}", expected - 1, c.seq));
                }
                expected = c.seq + 1;
            }
        }
        report.counts.push(("change".to_owned(), expected - 1));
        report.counts.push(("audit".to_owned(), r.audit_len()?));
        if let Verdict::Broken { seq, reason } = crate::store::verify_audit(&r)? {
            report.problems.push(format!("audit entry {seq}: {reason}"));
        }
        Ok(report)
    }

    /// `check`, and redb's own page checks on a copy of the store file (`Store::check_pages`):
    /// for `mamoru check` and the console, not for every restore and backup verification
    /// (which would need the copy's disk space each time).
    pub fn check_with_pages(&self) -> Result<IntegrityReport> {
        let mut report = self.check()?;
        if let Some(problem) = self.store.check_pages()? {
            report.problems.push(problem);
        }
        Ok(report)
    }
}
