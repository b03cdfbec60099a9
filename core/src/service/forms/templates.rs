//! The forms' templates as one list: the versions the binary ships, then those an administrator
//! added as data (`add_form_template`: checked by the draft's rules and by filling it once, never
//! changed afterwards, audited as an edit of the reference data).

use super::super::{Actor, Service};
use crate::error::Result;
use crate::forms::{self, AddedTemplate, Facts, FormKind, Template, TemplateDraft};
use crate::ids::{FormTemplateId, RecordId};
use crate::staff::{Action, Staff};
use crate::store::{Reader, Versioned};
use crate::time::Timestamp;

/// Where the store files an added version's number, so that no two are given the same one.
const UNIQUE: &str = "form_template";

/// Every version of every form: those shipped, then those added.
pub(crate) fn all(r: &impl Reader) -> Result<Vec<Template>> {
    let mut templates = forms::builtin().to_vec();
    templates.extend(added(r)?);
    Ok(templates)
}

/// The versions added to those shipped (`all` without copying the shipped ones: a page that
/// only picks one does not copy them all).
pub(crate) fn added(r: &impl Reader) -> Result<Vec<Template>> {
    Ok(r.all::<AddedTemplate>()?.into_iter().map(|a| a.body.template).collect())
}

/// One version as the administrator's list shows it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct TemplateEntry {
    pub template: Template,
    /// Who added it, when and why; `None` for a version the binary ships.
    pub added: Option<Added>,
    /// The version a paper of today takes (the form's newest whose day has come).
    pub in_use_today: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Added {
    /// The administrator's display name.
    pub by: String,
    pub at: Timestamp,
    pub reason: String,
}

/// What a new version is filled with once, to see that it prints: its own texts (title, lead,
/// labels, 教示) are what is checked; these stand in for a case's.
fn sample() -> Facts {
    Facts {
        issuer: "見本市児童相談所長".into(),
        case_no: "見本".into(),
        child_name: "見本 太郎".into(),
        guardians: vec!["見本 花子".into()],
        ..Facts::default()
    }
}

impl Service {
    /// Every version of every form, by form and version, each with who added it (none for
    /// those the binary ships): for administrators. Reference data, no personal data: not
    /// audited.
    pub fn form_templates(&self, actor: &Actor) -> Result<Vec<TemplateEntry>> {
        Self::permit(actor, Action::EditCodeTables)?;
        let r = self.store.read()?;
        let mut list: Vec<TemplateEntry> = forms::builtin()
            .iter()
            .map(|t| TemplateEntry { template: t.clone(), added: None, in_use_today: false })
            .collect();
        for a in r.all::<AddedTemplate>()? {
            // Staff 0: the local administrator's command line on the server.
            let by = r
                .get::<Staff>(a.body.added_by)?
                .map_or_else(|| "local command line".to_owned(), |s| s.body.display_name);
            let added = Added { by, at: a.body.added_at, reason: a.body.reason };
            list.push(TemplateEntry { template: a.body.template, added: Some(added), in_use_today: false });
        }
        // By the one rule every print uses.
        let today = self.now().jst_date();
        let templates: Vec<Template> = list.iter().map(|e| e.template.clone()).collect();
        for e in &mut list {
            e.in_use_today = forms::template(&templates, e.template.form, today)
                .is_some_and(|t| t.version == e.template.version);
        }
        let order = |f: FormKind| FormKind::ALL.iter().position(|k| *k == f);
        list.sort_by_key(|e| (order(e.template.form), e.template.version));
        Ok(list)
    }

    /// Adds the next version of a form from an administrator's draft, if it keeps the rules
    /// (`TemplateDraft::next`) and prints (the engine fills it once: no reporter on a paper that
    /// leaves the centre, no character the fonts lack). The same draft sent again adds nothing
    /// and returns the version it added.
    pub fn add_form_template(&self, actor: &Actor, draft: &TemplateDraft) -> Result<Template> {
        self.write(actor, Action::EditCodeTables, FormTemplateId::KIND, None, |tx| {
            let now = tx.now;
            let added: Vec<Versioned<AddedTemplate>> = tx.all()?;
            let templates = all(&*tx)?;
            let versions: Vec<&Template> = templates.iter().filter(|t| t.form == draft.form).collect();
            if let Some(same) = added
                .iter()
                .filter(|a| a.body.template.form == draft.form)
                .max_by_key(|a| a.body.template.version)
                .filter(|a| draft.is(&a.body.template))
            {
                return Ok((same.body.template.clone(), same.id));
            }
            let (template, reason) = draft.next(&versions, now.jst_date())?;
            let composed = forms::compose(&template, &sample(), template.valid_from, now)?;
            mamoru_pdf::render(&composed).map_err(|e| super::pdf_error(draft.form, e))?;
            let key = format!("{}:{}", template.form.slug(), template.version);
            let v = tx.insert(AddedTemplate { template, reason, added_by: actor.staff, added_at: now })?;
            tx.claim(UNIQUE, &key, v.id)?;
            Ok((v.body.template, v.id))
        })
    }
}
