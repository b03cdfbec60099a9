//! The audit log read back for people: searched by staff member, child, action and dates, and
//! written out as CSV for an auditor. Both are audited reads themselves; neither shows personal
//! data (entries name records by kind and id only).

use std::io::Write;

use super::{Actor, Service};
use crate::audit::{AuditEntry, AuditQuery, record_term};
use crate::error::{Error, Result};
use crate::ids::{CaseId, ChildId, RecordId, StaffId};
use crate::staff::{Action, Staff};
use crate::store::{ReadTx, Reader};
use crate::time::{Date, Timestamp};

/// What an auditor asks for. Dates are days in Japan, both ends included.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AuditFilter {
    /// A login, or a staff id as digits (0 is the system and unknown logins).
    pub staff: Option<String>,
    /// Entries about the child, its cases, and everything recorded in them.
    pub child: Option<ChildId>,
    pub action: Option<String>,
    pub from: Option<Date>,
    pub until: Option<Date>,
}

/// The relations from a case to what is recorded in it, with the kind each names.
const CASE_RECORDS: [(&str, &str); 9] = [
    ("case_note", "note"),
    ("case_check", "safety_check"),
    ("case_assessment", "assessment"),
    ("case_protection", "protection"),
    ("case_support", "support"),
    ("case_meeting", "meeting"),
    ("case_photo", "photo"),
    ("case_message", "message"),
    ("case_petition", "court_petition"),
];

impl AuditFilter {
    /// Refuses what cannot be meant (an action name that is not one, dates the wrong way round).
    fn check(&self) -> Result<()> {
        if let Some(a) = &self.action
            && (a.is_empty() || a.len() > 64 || !a.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'))
        {
            return Err(Error::invalid("action", "an action name such as read_case (a-z and _)"));
        }
        if let (Some(f), Some(u)) = (self.from, self.until)
            && u < f
        {
            return Err(Error::invalid("until", "the end date is before the start date"));
        }
        Ok(())
    }

    /// The index query: the child becomes the terms of every record that belongs to it.
    fn query(&self, r: &ReadTx) -> Result<AuditQuery> {
        let records = match self.child {
            None => None,
            Some(child) => {
                r.get::<crate::person::Child>(child)?
                    .ok_or_else(|| Error::not_found(ChildId::KIND, child.0))?;
                let mut terms = vec![record_term(ChildId::KIND, child.0)];
                for note in r.links("child_note", child.0, usize::MAX)? {
                    terms.push(record_term("note", note));
                }
                for case in r.links("child_case", child.0, usize::MAX)? {
                    terms.push(record_term(CaseId::KIND, case));
                    for (rel, kind) in CASE_RECORDS {
                        for id in r.links(rel, case, usize::MAX)? {
                            terms.push(record_term(kind, id));
                        }
                    }
                }
                terms.sort();
                terms.dedup();
                Some(terms)
            }
        };
        let staff = match self.staff.as_deref().map(str::trim) {
            None => None,
            Some(id) if !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()) => {
                Some(id.parse::<u64>().map_err(|_| Error::invalid("staff", "staff id out of range"))?)
            }
            Some(login) => {
                Some(r.unique("login", login)?.ok_or_else(|| Error::not_found(StaffId::KIND, login))?)
            }
        };
        Ok(AuditQuery {
            staff,
            records,
            action: self.action.clone(),
            from: self.from.map(Timestamp::jst_midnight),
            until: self.until.map(|d| Timestamp::jst_midnight(d.plus_days(1))),
        })
    }

    /// For the audit entry of the search itself: ids, names of actions and dates only.
    fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(s) = &self.staff {
            parts.push(format!("staff={s}"));
        }
        if let Some(c) = self.child {
            parts.push(format!("child={}", c.0));
        }
        if let Some(a) = &self.action {
            parts.push(format!("action={a}"));
        }
        if let Some(d) = self.from {
            parts.push(format!("from={d}"));
        }
        if let Some(d) = self.until {
            parts.push(format!("until={d}"));
        }
        parts.join(" ")
    }
}

impl Service {
    /// Every staff member's login by id, to show who is who in the audit log: for those who may
    /// read it. A staff directory, not a child's data: permission-checked, not audited.
    pub fn audit_logins(&self, actor: &Actor) -> Result<std::collections::HashMap<u64, String>> {
        Self::permit(actor, Action::ReadAudit)?;
        logins(&self.store.read()?)
    }

    /// The newest `limit` entries the filter matches, newest first (supervisors, the head and
    /// administrators). Audited, naming the child when the filter has one.
    pub fn search_audit(&self, actor: &Actor, filter: &AuditFilter, limit: usize) -> Result<Vec<AuditEntry>> {
        filter.check()?;
        self.read(actor, Action::ReadAudit, ChildId::KIND, filter.child.map(|c| c.0), |r| {
            let query = filter.query(r)?;
            let mut out = Vec::new();
            crate::store::search_audit(r, &query, |e| {
                out.push(e);
                out.len() < limit
            })?;
            let detail = format!("search {}: {} entries", filter.describe(), out.len());
            Ok((out, Some(detail)))
        })
    }

    /// Writes every entry the filter matches to `out` as CSV (UTF-8 with a byte-order mark, so
    /// that Excel reads the Japanese headings), newest first. Returns how many. Audited as
    /// `export_audit` with the filter and the count.
    pub fn export_audit(&self, actor: &Actor, filter: &AuditFilter, out: &mut dyn Write) -> Result<u64> {
        filter.check()?;
        self.read(actor, Action::ExportAudit, ChildId::KIND, filter.child.map(|c| c.0), |r| {
            let query = filter.query(r)?;
            let logins = logins(r)?;
            let io = |source| Error::Io { context: "writing the audit export", source };
            out.write_all(
                "\u{feff}番号,日時,職員ID,ログイン名,端末,操作,対象種別,対象ID,結果,詳細,ハッシュ,接続元\r\n"
                    .as_bytes(),
            )
            .map_err(io)?;
            let mut n = 0u64;
            let mut failed = None;
            crate::store::search_audit(r, &query, |e| {
                let row = [
                    e.seq.to_string(),
                    e.at.to_jst_string(),
                    e.actor.to_string(),
                    logins.get(&e.actor).cloned().unwrap_or_default(),
                    e.device.clone().unwrap_or_default(),
                    e.action.clone(),
                    e.kind.clone().unwrap_or_default(),
                    e.record.map(|r| r.to_string()).unwrap_or_default(),
                    e.result.clone(),
                    e.detail.clone().unwrap_or_default(),
                    e.hash.clone(),
                    e.address.clone().unwrap_or_default(),
                ];
                let line = row.iter().map(|c| crate::interchange::csv_field(c)).collect::<Vec<_>>().join(",")
                    + "\r\n";
                match out.write_all(line.as_bytes()) {
                    Ok(()) => {
                        n += 1;
                        true
                    }
                    Err(e) => {
                        failed = Some(e);
                        false
                    }
                }
            })?;
            if let Some(e) = failed {
                return Err(io(e));
            }
            out.flush().map_err(io)?;
            Ok((n, Some(format!("export {}: {n} entries", filter.describe()))))
        })
    }
}

/// Every staff member's login by id.
fn logins(r: &impl Reader) -> Result<std::collections::HashMap<u64, String>> {
    Ok(r.all::<Staff>()?.into_iter().map(|s| (s.id, s.body.login.as_str().to_owned())).collect())
}
