//! Code tables (with validity dates) and assessment sheets: read by every form, changed by an
//! administrator one entry at a time.

use super::{Actor, Service, Versioned};
use crate::assessment::AssessmentSheet;
use crate::code_table::{self, CodeTable};
use crate::error::{Error, Result};
use crate::ids::{CodeTableId, RecordId};
use crate::staff::Action;
use crate::store::Reader;

/// What every code-table entry must be: a short code of letters, digits, `-` or `_`, unique in
/// its table; a label of 1–40 characters; a validity that does not end before it starts.
pub(super) fn check_code_entries(entries: &[code_table::CodeEntry]) -> Result<()> {
    let mut seen = std::collections::HashSet::new();
    for e in entries {
        let code_ok = (1..=8).contains(&e.code.len())
            && e.code.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !code_ok {
            return Err(Error::invalid("code", format!("{:?}: 1 to 8 letters, digits, - or _", e.code)));
        }
        if !seen.insert(e.code.as_str()) {
            return Err(Error::invalid("code", format!("{} appears twice", e.code)));
        }
        let label = e.label.trim();
        if label.is_empty() || label.chars().count() > 40 || label.len() != e.label.len() {
            return Err(Error::invalid(
                "label",
                format!("code {}: 1 to 40 characters, no outer spaces", e.code),
            ));
        }
        if let (Some(f), Some(u)) = (e.valid_from, e.valid_until)
            && u <= f
        {
            return Err(Error::invalid("valid_until", format!("code {}: must be after valid_from", e.code)));
        }
    }
    Ok(())
}

impl Service {
    pub fn code_tables(&self) -> Result<Vec<Versioned<CodeTable>>> {
        Ok(self.reference()?.code_tables.to_vec())
    }

    pub fn code_table(reader: &impl Reader, key: &str) -> Result<Versioned<CodeTable>> {
        let id = reader.unique("code_table", key)?.ok_or_else(|| Error::not_found("code table", key))?;
        reader.require::<CodeTable>(CodeTableId(id))
    }

    /// Replaces a code table (at the revision the administrator edited). A code in use may be
    /// ended with `valid_until`, never removed.
    pub fn edit_code_table(&self, actor: &Actor, key: &str, rev: u64, table: CodeTable) -> Result<()> {
        self.change_code_table(actor, key, rev, |current| {
            if table.key != key {
                return Err(Error::invalid("key", "a table's key cannot change"));
            }
            *current = table;
            Ok(())
        })
    }

    /// Adds an entry to a code table, or changes one (`CodeEntryEdit`), at the revision the
    /// administrator's form was drawn from; the same checks as `edit_code_table`.
    pub fn put_code_entry(
        &self,
        actor: &Actor,
        key: &str,
        rev: u64,
        edit: code_table::CodeEntryEdit,
        adding: bool,
    ) -> Result<()> {
        self.change_code_table(actor, key, rev, |table| table.put(edit, adding))
    }

    /// One change of a code table in one write: `change` turns the current table into the new
    /// one, which is checked (entries, values, none removed) and stored at revision `rev`.
    pub(super) fn change_code_table(
        &self,
        actor: &Actor,
        key: &str,
        rev: u64,
        change: impl FnOnce(&mut CodeTable) -> Result<()>,
    ) -> Result<()> {
        let target = self.store.read()?.unique("code_table", key)?;
        self.write(actor, Action::EditCodeTables, CodeTableId::KIND, target, |tx| {
            let current = Self::code_table(tx, key)?;
            let mut table = current.body.clone();
            change(&mut table)?;
            check_code_entries(&table.entries)?;
            table.check_values()?;
            for old in &current.body.entries {
                if !table.entries.iter().any(|e| e.code == old.code) {
                    return Err(Error::invalid(
                        "entries",
                        format!("code {} cannot be removed; end it with valid_until instead", old.code),
                    ));
                }
            }
            tx.update(CodeTableId(current.id), rev, table)?;
            Ok(((), current.id))
        })
    }

    /// Every assessment sheet on file (questions and flow; no personal data).
    pub fn assessment_sheets(&self) -> Result<Vec<Versioned<AssessmentSheet>>> {
        Ok(self.reference()?.sheets.to_vec())
    }

    pub fn assessment_sheet(reader: &impl Reader, key: &str) -> Result<Versioned<AssessmentSheet>> {
        let id = reader
            .unique("assessment_sheet", key)?
            .ok_or_else(|| Error::not_found("assessment sheet", key))?;
        reader.require::<AssessmentSheet>(crate::ids::SheetId(id))
    }
}
