//! `form list|show|fields|add`: the forms' templates on the CLI. Core keeps the rules and fills
//! a new version once to see that it prints; this file reads and writes the TOML.

use std::path::Path;

use anyhow::{Context, Result, anyhow};
use mamoru_core::forms::{Field, FormKind, TemplateDraft, builtin, fields_of};
use mamoru_core::wareki;

use super::{local_admin, open};

/// `list`: every version, one a line.
pub(super) fn list(data: &Path) -> Result<()> {
    let service = open(data)?;
    for e in service.form_templates(&local_admin(&service)?)? {
        let t = &e.template;
        let by = e.added.map_or_else(|| "shipped".to_owned(), |a| format!("{} {}", a.by, a.at));
        // A first version is in use from the start: no day.
        let from = if t.version == 1 { "-".to_owned() } else { t.valid_from.to_string() };
        println!("{}\tv{}\t{from}\t{by}\t{}", t.form.slug(), t.version, t.title);
    }
    Ok(())
}

/// `show`: a version as TOML, the start of the next.
pub(super) fn show(data: &Path, form: &str, version: Option<u32>) -> Result<()> {
    let kind = parse_form(form)?;
    let service = open(data)?;
    let list = service.form_templates(&local_admin(&service)?)?;
    let t = list
        .iter()
        .map(|e| &e.template)
        .rfind(|t| t.form == kind && version.is_none_or(|v| t.version == v))
        .ok_or_else(|| anyhow!("{form} has no version {}", version.unwrap_or_default()))?;
    println!("# {}", t.label());
    println!("# The next version: set valid_from (today or later) and reason, then");
    println!("# `mamoru form add FILE`. Fields: `mamoru form fields`.");
    let draft = TemplateDraft::of(t, t.valid_from);
    print!("{}", toml::to_string_pretty(&draft).context("writing the template as TOML")?);
    Ok(())
}

/// `fields`: each field's key, its labels on the shipped forms, and the forms it may be on.
pub(super) fn fields() {
    for f in Field::ALL {
        let labels = labels(*f);
        let forms: Vec<&str> =
            FormKind::ALL.iter().filter(|k| fields_of(**k).contains(f)).map(|k| k.slug()).collect();
        let reporter = if f.is_reporter() { " (never on a paper that leaves the centre)" } else { "" };
        println!("{}\t{}{reporter}\t{}", f.as_str(), labels.join("/"), forms.join(" "));
    }
}

/// `add`: the next version from a TOML file.
pub(super) fn add(data: &Path, file: &Path) -> Result<()> {
    let text = std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    // One line, as every failure: the file, the line, what is wrong.
    let draft: TemplateDraft = toml::from_str(&text).map_err(|e| {
        let before = e.span().and_then(|s| text.get(..s.start));
        let line = before.map_or(0, |t| t.matches('\n').count() + 1);
        anyhow!("{} line {line}: {}", file.display(), e.message().trim())
    })?;
    let service = open(data)?;
    let t = service.add_form_template(&local_admin(&service)?, &draft)?;
    println!(
        "{} v{} added: used for what is recorded from {} ({})",
        t.form.slug(),
        t.version,
        t.valid_from,
        wareki::format(t.valid_from)
    );
    Ok(())
}

fn parse_form(slug: &str) -> Result<FormKind> {
    FormKind::parse(slug).ok_or_else(|| {
        let all: Vec<&str> = FormKind::ALL.iter().map(|k| k.slug()).collect();
        anyhow!("no form {slug:?}: one of {}", all.join(", "))
    })
}

/// The labels the shipped versions give a field (`児童氏名`).
fn labels(field: Field) -> Vec<String> {
    let mut labels: Vec<String> = Vec::new();
    for r in builtin().iter().flat_map(|t| &t.rows).filter(|r| r.field == field) {
        if !labels.contains(&r.label) {
            labels.push(r.label.clone());
        }
    }
    labels
}
