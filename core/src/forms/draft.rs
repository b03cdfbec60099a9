//! A new version of a form, as an administrator writes it (a TOML file on the CLI, JSON over the
//! API): the rules it must keep before the engine fills it once to see that it prints. What a
//! paper is — addressed to the family, sent to a court, with its 教示 — stays as the form's
//! first version made it: data may change the words, not who reads the paper.

use serde::{Deserialize, Serialize};

use super::templates::{Row, Template};
use super::{Field, FormKind};
use crate::error::{Error, Result, Why};
use crate::ids::{FormTemplateId, StaffId};
use crate::record::Record;
use crate::time::{Date, Timestamp};

/// A new version of a form. Its number is the next; its day may not be past (a paper already
/// printed must print the same again).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TemplateDraft {
    pub form: FormKind,
    /// The first day of what it records that the version is used for.
    pub valid_from: Date,
    /// Why the version was made: the law, notice or decision it follows (kept with it).
    pub reason: String,
    pub title: String,
    #[serde(default)]
    pub lead: String,
    pub rows: Vec<Row>,
    /// 教示, on a notice of a disposition.
    #[serde(default)]
    pub appeal: Option<String>,
    /// The 決裁欄's columns, left to right (none is printed on a paper that leaves the centre).
    #[serde(default)]
    pub approvals: Vec<String>,
    #[serde(default)]
    pub landscape: bool,
}

/// A version an administrator added: never changed nor removed afterwards (a later version
/// replaces it from its own day), so every paper made with it can be made again.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddedTemplate {
    pub template: Template,
    pub reason: String,
    pub added_by: StaffId,
    pub added_at: Timestamp,
}

impl Record for AddedTemplate {
    type Id = FormTemplateId;
    const SCHEMA: u16 = 1;
}

const TITLE_MAX: usize = 40;
const LEAD_MAX: usize = 400;
const APPEAL_MAX: usize = 2_000;
const REASON_MAX: usize = 400;
const ROWS_MAX: usize = 40;
const LABEL_MAX: usize = 30;
const APPROVALS_MAX: usize = 8;
const APPROVAL_MAX: usize = 6;

/// `text` trimmed, 1 to `max` characters, or why not (naming `field`).
fn words(field: &'static str, text: &str, max: usize, what: &str) -> Result<String> {
    let text = text.trim();
    if text.is_empty() {
        return Err(Error::Incomplete { fields: vec![field] });
    }
    if text.chars().count() > max {
        return Err(Error::invalid(field, format!("{what}: at most {max} characters")));
    }
    crate::text::check(field, text)?;
    Ok(text.to_owned())
}

impl TemplateDraft {
    /// A draft of the next version, the same as `t` (to edit from).
    #[must_use]
    pub fn of(t: &Template, valid_from: Date) -> Self {
        TemplateDraft {
            form: t.form,
            valid_from,
            reason: String::new(),
            title: t.title.clone(),
            lead: t.lead.clone(),
            rows: t.rows.clone(),
            appeal: t.appeal.clone(),
            approvals: t.approvals.clone(),
            landscape: t.landscape,
        }
    }

    /// The next version of the form after `versions` (all of its versions, any order), from
    /// this draft, if it keeps the rules: its day not before `today`; a reason and a title; 1
    /// to 40 rows, each labelled, each a field the form is filled with (`fields_of`), once; no
    /// reporter on a paper that leaves the centre; the 教示 kept on a notice that has one; the
    /// paper's readers as its first version's. Returns the template and the reason (trimmed).
    pub fn next(&self, versions: &[&Template], today: Date) -> Result<(Template, String)> {
        let first = versions
            .iter()
            .min_by_key(|t| t.version)
            .ok_or_else(|| Error::not_found("form", self.form.slug()))?;
        let newest = versions.iter().max_by_key(|t| t.version).unwrap_or(first);
        if self.valid_from < today {
            return Err(Error::invalid(
                "valid_from",
                format!("{} is past: a new version starts today or later", self.valid_from),
            ));
        }
        let reason = words("reason", &self.reason, REASON_MAX, "the reason")?;
        let title = words("title", &self.title, TITLE_MAX, "the title")?;
        let lead = self.lead.trim().to_owned();
        if lead.chars().count() > LEAD_MAX {
            return Err(Error::invalid("lead", format!("at most {LEAD_MAX} characters")));
        }
        crate::text::check("lead", &lead)?;
        // The reporter first: the law's rule, whatever else is wrong with the row.
        if first.goes_out() && self.rows.iter().any(|r| r.field.is_reporter()) {
            return Err(Error::invalid("rows", Why::ReporterOnFamilyForm));
        }
        let rows = self.rows()?;
        let appeal = match (&self.appeal, &first.appeal) {
            (Some(a), _) if !a.trim().is_empty() => Some(words("appeal", a, APPEAL_MAX, "the 教示")?),
            (_, Some(_)) => {
                return Err(Error::invalid(
                    "appeal",
                    "a notice of a disposition keeps its 教示 (行政不服審査法82条)",
                ));
            }
            _ => None,
        };
        if self.approvals.len() > APPROVALS_MAX {
            return Err(Error::invalid("approvals", format!("at most {APPROVALS_MAX} columns")));
        }
        let approvals = self
            .approvals
            .iter()
            .map(|a| words("approvals", a, APPROVAL_MAX, "a column's head"))
            .collect::<Result<Vec<_>>>()?;
        let template = Template {
            form: self.form,
            version: newest.version + 1,
            valid_from: self.valid_from,
            title,
            family_facing: first.family_facing,
            addressee: first.addressee.clone(),
            landscape: self.landscape,
            approvals,
            lead,
            rows,
            appeal,
        };
        Ok((template, reason))
    }

    fn rows(&self) -> Result<Vec<Row>> {
        if self.rows.is_empty() {
            return Err(Error::Incomplete { fields: vec!["rows"] });
        }
        if self.rows.len() > ROWS_MAX {
            return Err(Error::invalid("rows", format!("at most {ROWS_MAX} rows")));
        }
        let mut seen: Vec<Field> = Vec::new();
        let fields = super::fields_of(self.form);
        if let Some(r) = self.rows.iter().find(|r| !fields.contains(&r.field)) {
            let keys: Vec<&str> = fields.iter().map(|f| f.as_str()).collect();
            return Err(Error::invalid(
                "rows",
                format!(
                    "{} is not filled on {} (it would print empty); it has {}",
                    r.field.as_str(),
                    self.form.slug(),
                    keys.join(", ")
                ),
            ));
        }
        self.rows
            .iter()
            .map(|r| {
                if seen.contains(&r.field) {
                    return Err(Error::invalid("rows", format!("{} appears twice", r.field.as_str())));
                }
                seen.push(r.field);
                Ok(Row { label: words("rows", &r.label, LABEL_MAX, "a row's label")?, field: r.field })
            })
            .collect()
    }

    /// Whether `t` says what this draft says (a resent draft adds nothing).
    #[must_use]
    pub fn is(&self, t: &Template) -> bool {
        let mut same = self.clone();
        same.reason.clear();
        let mut other = TemplateDraft::of(t, t.valid_from);
        other.reason.clear();
        let trim = |d: &mut TemplateDraft| {
            d.title = d.title.trim().to_owned();
            d.lead = d.lead.trim().to_owned();
            d.appeal = d.appeal.as_deref().map(str::trim).filter(|a| !a.is_empty()).map(str::to_owned);
            for r in &mut d.rows {
                r.label = r.label.trim().to_owned();
            }
            for a in &mut d.approvals {
                *a = a.trim().to_owned();
            }
        };
        trim(&mut same);
        trim(&mut other);
        same == other
    }
}
