//! The first pass of an import (the dry run, and the first half of every real run): every file
//! read by the domain's rules, every refusal named, ids nobody has, 名寄せ inside the source and
//! against the store, and rows imported before sorted into unchanged and differing.

use std::collections::{HashMap, HashSet};

use super::{
    Difference, Duplicate, HOUSEHOLDS, ImportOptions, Keys, Reconciliation, RejectedRow, Rejection, Source,
    case_digest, namespace, open_table,
};
use sha2::Digest as _;

use crate::case::CaseStatus;
use crate::error::{Error, Result};
use crate::ids::{CaseId, ChildId, RecordId, StaffId, UnitId};
use crate::interchange::read::Row;
use crate::interchange::rows::{self, Columns, Record};
use crate::interchange::{Codes, Kind, Table};
use crate::person::Child;
use crate::search;
use crate::staff::Staff;
use crate::store::{ReadTx, Reader};
use crate::time::{Date, Timestamp};

/// What the first pass knows of the source when it reads a later file.
#[derive(Default)]
struct Known {
    /// Accepted keys per kind (stored ones included).
    keys: HashMap<Kind, HashSet<String>>,
    /// Rows refused, per kind, by line.
    rejected: HashMap<Kind, HashSet<u64>>,
    /// Open cases (by key) and their digests.
    open_cases: HashSet<String>,
    case_digests: HashMap<String, String>,
    /// Open cases with no safety check in the source.
    unchecked: HashSet<String>,
    abuse_cases: HashSet<String>,
    /// Cases imported before: key, line, the row's digest, id.
    stored_cases: Vec<(String, u64, String, u64)>,
    /// Accepted relations: line, relation, digest.
    relations: Vec<(u64, rows::LegacyRelation, String)>,
    /// Abuse rows' digests by case key.
    abuse_digests: HashMap<String, String>,
    /// New children by birth date: (key, furigana, line).
    births: HashMap<Date, Vec<(String, String, u64)>>,
    open_protections: u64,
    /// Cases with a protection in force in the source.
    in_protection: HashSet<String>,
    /// Accepted case rows (line, fields as read), for refusing one after its abuse row.
    case_rows: HashMap<String, (u64, Vec<String>)>,
    /// Accepted relation rows as read, by line, for refusing a whole household.
    relation_raw: HashMap<u64, Vec<String>>,
    /// Children whose relation row was refused, and the line.
    refused_children: HashMap<String, u64>,
}

/// What each row names, and whether the source or the store has it.
fn references(kind: Kind, record: &Record) -> Vec<(&'static str, Vec<Kind>, String)> {
    match record {
        Record::Relation(r) => vec![
            ("child_id", vec![Kind::Children], r.child.clone()),
            ("other_id", vec![Kind::Persons, Kind::Children], r.other.clone()),
        ],
        Record::Case(c) => vec![("child_id", vec![Kind::Children], c.child.clone())],
        Record::Abuse(a) => vec![("case_id", vec![Kind::Cases], a.case.clone())],
        Record::Note(n) => vec![("case_id", vec![Kind::Cases], n.case.clone())],
        Record::Protection(p) => vec![("case_id", vec![Kind::Cases], p.case.clone())],
        Record::Meeting(m) => vec![("case_id", vec![Kind::Cases], m.case.clone())],
        Record::Support(s) => vec![("case_id", vec![Kind::Cases], s.case.clone())],
        Record::Child(_) | Record::Person(_) => {
            let _ = kind;
            Vec::new()
        }
    }
}

/// The unit records are given to: the one named, else the first.
fn unit_of(r: &ReadTx, options: &ImportOptions) -> Result<(UnitId, String)> {
    let units = r.all::<crate::staff::Unit>()?;
    let unit = match options.unit {
        Some(id) => units.into_iter().find(|u| u.id == id.0).ok_or_else(|| Error::not_found("unit", id.0))?,
        None => units.into_iter().next().ok_or_else(|| Error::Corrupt("no unit".into()))?,
    };
    Ok((UnitId(unit.id), unit.body.name))
}

/// The code tables with `codes.csv`'s translations; its refused lines are rejections.
pub(super) fn codes(
    r: &ReadTx,
    source: &mut dyn Source,
    options: &ImportOptions,
    rec: &mut Reconciliation,
) -> Result<Codes> {
    let tables = r.all::<crate::code_table::CodeTable>()?.into_iter().map(|v| v.body).collect();
    let mut codes = Codes::new(tables);
    let table =
        open_table(source, Kind::Children, &["table", "source", "code"], "codes.csv", options.encoding);
    let mut reject = |line: u64, column: &str, reason: String| {
        rec.rejections.push(Rejection {
            file: "codes.csv".into(),
            line,
            column: column.to_owned(),
            reason,
            missing_id: false,
        });
    };
    match table {
        Ok(None) => {}
        Err(e) => reject(1, &e.column, e.reason),
        Ok(Some((mut t, _))) => {
            let col = |t: &Table<_>, name: &str| t.columns().0.get(name).copied().unwrap_or(0);
            let (ti, si, ci) = (col(&t, "table"), col(&t, "source"), col(&t, "code"));
            while let Some(row) = t.next_row(&options.gaiji) {
                match row {
                    Err((line, reason)) => reject(line, "-", reason),
                    Ok(row) => {
                        let field = |i: usize| row.fields.get(i).cloned().unwrap_or(Ok(String::new()));
                        match (field(ti), field(si), field(ci)) {
                            (Ok(table), Ok(src), Ok(code)) => {
                                if let Err(e) = codes.translate(&table, &src, &code) {
                                    reject(row.line, &e.column, e.reason);
                                }
                            }
                            _ => reject(row.line, "-", "unreadable characters".into()),
                        }
                    }
                }
            }
        }
    }
    Ok(codes)
}

/// The first pass: reads every file, and reports.
pub(super) fn check(
    r: &ReadTx,
    source: &mut dyn Source,
    options: &ImportOptions,
    now: Timestamp,
) -> Result<Reconciliation> {
    let today = now.jst_date();
    let mut rec = Reconciliation { unit: Some(unit_of(r, options)?), ..Reconciliation::default() };
    let codes = codes(r, source, options, &mut rec)?;
    let mut known = Known::default();
    for kind in Kind::ALL {
        check_file(r, source, options, &codes, now, kind, &mut known, &mut rec)?;
    }
    settle_cases(r, &known, &mut rec)?;
    settle_households(r, &known, &mut rec)?;
    duplicates(r, &known, today, &mut rec)?;
    let unchecked: Vec<&String> = known.unchecked.intersection(&known.abuse_cases).collect();
    if !unchecked.is_empty() {
        let mut ids: Vec<&str> = unchecked.iter().map(|s| s.as_str()).collect();
        ids.sort_unstable();
        ids.truncate(10);
        rec.warnings.push(format!(
            "{} open abuse cases have no safety_checked_at: their 48-hour clock will show as overdue (first: {})",
            unchecked.len(),
            ids.join(", ")
        ));
    }
    if known.open_protections > 0 {
        rec.warnings.push(format!(
            "{} open protections: their 2-month limit is counted from started_at; a warrant, extension or hearing \
             the source does not carry shows as due",
            known.open_protections
        ));
    }
    Ok(rec)
}

#[expect(clippy::too_many_arguments, reason = "the pass's state, passed down once per file")]
fn check_file(
    r: &ReadTx,
    source: &mut dyn Source,
    options: &ImportOptions,
    codes: &Codes,
    now: Timestamp,
    kind: Kind,
    known: &mut Known,
    rec: &mut Reconciliation,
) -> Result<()> {
    let file = kind.file();
    let (mut table, hash) = match open_table(source, kind, kind.required(), &file, options.encoding) {
        Ok(Some(t)) => t,
        Ok(None) => {
            rec.count(kind);
            rec.warnings.push(format!("{file}: no such file in the folder (nothing of it is read)"));
            return Ok(());
        }
        Err(e) => {
            rec.count(kind);
            rec.rejections.push(Rejection {
                file,
                line: 1,
                column: e.column,
                reason: e.reason,
                missing_id: false,
            });
            return Ok(());
        }
    };
    rec.count(kind).encoding = Some(table.encoding);
    rec.count(kind).header.clone_from(&table.header);
    let mut keys = Keys::default();
    while let Some(row) = table.next_row(&options.gaiji) {
        rec.count(kind).read += 1;
        let row = match row {
            Ok(row) => row,
            Err((line, reason)) => {
                // The file cannot be read past here: none of it is imported (line 1 says so).
                reject(rec, known, kind, &file, line, vec![("-".to_owned(), reason, false)], None);
                rec.rejections.push(Rejection {
                    file: file.clone(),
                    line: 1,
                    column: "-".into(),
                    reason: format!("not imported: line {line} cannot be read"),
                    missing_id: false,
                });
                break;
            }
        };
        let parsed = rows::parse(kind, table.columns(), &row, codes, now);
        let parsed = match parsed {
            Ok(p) => p,
            Err(errors) => {
                let errors = errors.into_iter().map(|e| (e.column, e.reason, false)).collect();
                reject(rec, known, kind, &file, row.line, errors, Some(&row));
                refused_dependency(kind, table.columns(), &row, known, rec);
                continue;
            }
        };
        let unit = rec.unit.as_ref().map(|u| u.0).ok_or_else(|| Error::Corrupt("import: no unit".into()))?;
        let mut errors = row_checks(r, unit, kind, &parsed, known)?;
        let made = kind == Kind::Notes && has_no_own_id(table.columns(), &row);
        let key = match keys.key(kind, made, parsed.key.clone(), row.line) {
            Ok(k) => k,
            Err(first) => {
                let column = if matches!(kind, Kind::Children | Kind::Persons | Kind::Cases) {
                    "legacy_id"
                } else {
                    "-"
                };
                errors.push((column.to_owned(), format!("the same row as line {first}"), false));
                String::new()
            }
        };
        if !errors.is_empty() {
            reject(rec, known, kind, &file, row.line, errors, Some(&row));
            refused_dependency(kind, table.columns(), &row, known, rec);
            continue;
        }
        if kind == Kind::Cases {
            known.case_rows.insert(key.clone(), (row.line, row.raw.clone()));
        }
        if kind == Kind::Relations {
            known.relation_raw.insert(row.line, row.raw.clone());
        }
        rec.count(kind).accepted += 1;
        classify(r, kind, &key, &parsed, row.line, known, rec)?;
        // Only what other rows name is remembered (notes are the most and named by none).
        if matches!(kind, Kind::Children | Kind::Persons | Kind::Cases) {
            known.keys.entry(kind).or_default().insert(key);
        }
    }
    rec.count(kind).sha256 = Some(crate::to_hex(&hash.borrow().clone().finalize()));
    Ok(())
}

/// What a row must also be beside its columns: an adult's id no child's; every id it names on
/// file; a protection in force only on an open case without another; a restriction naming
/// active staff of the unit.
fn row_checks(
    r: &ReadTx,
    unit: UnitId,
    kind: Kind,
    parsed: &rows::Parsed,
    known: &mut Known,
) -> Result<Vec<(String, String, bool)>> {
    let mut errors = Vec::new();
    if kind == Kind::Persons
        && (known.keys.get(&Kind::Children).is_some_and(|s| s.contains(&parsed.key))
            || r.unique(&namespace(Kind::Children), &parsed.key)?.is_some())
    {
        errors.push((
            "legacy_id".to_owned(),
            "also a child's id in children.csv: an adult needs an id of its own".to_owned(),
            false,
        ));
    }
    for (column, kinds, id) in references(kind, &parsed.record) {
        let mut found = kinds.iter().any(|k| known.keys.get(k).is_some_and(|s| s.contains(&id)));
        for k in &kinds {
            found = found || r.unique(&namespace(*k), &id)?.is_some();
        }
        if !found {
            let names: Vec<String> = kinds.iter().map(|k| k.file()).collect();
            errors.push((
                column.to_owned(),
                format!("no {id:?} in {} nor imported before", names.join(" or ")),
                true,
            ));
        }
    }
    if let Record::Case(c) = &parsed.record
        && let Err(login) = restricted_staff(r, unit, &c.restricted_to)?
    {
        errors.push((
            "restricted_to".into(),
            format!("no active staff signs in as {login:?} in the unit (閲覧制限 names staff by login)"),
            false,
        ));
    }
    if let Record::Protection(p) = &parsed.record
        && p.protection.ended.is_none()
    {
        if !(known.open_cases.contains(&p.case) || is_open_on_file(r, &p.case)?) {
            errors.push(("ended_at".into(), "required: the case is closed".into(), false));
        } else if r.unique(&namespace(Kind::Protections), &parsed.key)?.is_some() {
            // Imported before (this very row): compared as a difference, not refused.
            known.in_protection.insert(p.case.clone());
        } else if known.in_protection.contains(&p.case) || in_protection_on_file(r, &p.case)? {
            errors.push((
                "ended_at".into(),
                "required: the case has another protection in force".into(),
                false,
            ));
        } else {
            known.open_protections += 1;
            known.in_protection.insert(p.case.clone());
        }
    }
    Ok(errors)
}

/// The staff a case's 閲覧制限 names, by login: each active in `unit`; else the first login that
/// is not.
pub(super) fn restricted_staff(
    r: &impl Reader,
    unit: UnitId,
    logins: &[String],
) -> Result<std::result::Result<Vec<StaffId>, String>> {
    let mut staff = Vec::new();
    for login in logins {
        let Some(id) = r.unique("login", login)?.map(StaffId) else { return Ok(Err(login.clone())) };
        if !r.get::<Staff>(id)?.is_some_and(|s| s.body.units.contains(&unit) && !s.body.disabled) {
            return Ok(Err(login.clone()));
        }
        staff.push(id);
    }
    Ok(Ok(staff))
}

/// A note row without an id of its own (the file has no `legacy_id` column, or it is empty).
pub(super) fn has_no_own_id(columns: &Columns, row: &Row) -> bool {
    columns
        .0
        .get("legacy_id")
        .is_none_or(|i| row.fields.get(*i).is_none_or(|f| f.as_deref().is_ok_and(str::is_empty)))
}

/// A refused row that others depend on refuses them too: an abuse row its case (stored without
/// its abuse details, it could never get them), a relation its child's household (made without
/// it, the fixed row could never join it).
fn refused_dependency(kind: Kind, columns: &Columns, row: &Row, known: &mut Known, rec: &mut Reconciliation) {
    let field = |name: &str| {
        columns
            .0
            .get(name)
            .and_then(|i| row.fields.get(*i))
            .and_then(|f| f.as_ref().ok())
            .map(|s| s.trim().to_owned())
    };
    match kind {
        Kind::Abuse => {
            let Some(case) = field("case_id") else { return };
            let Some((line, raw)) = known.case_rows.remove(&case) else { return };
            if known.keys.get_mut(&Kind::Cases).is_some_and(|s| s.remove(&case)) {
                let count = rec.count(Kind::Cases);
                count.accepted -= 1;
                known.unchecked.remove(&case);
                known.open_cases.remove(&case);
                known.stored_cases.retain(|(k, ..)| *k != case);
                let reason = format!("its row in abuse.csv (line {}) is refused", row.line);
                reject(
                    rec,
                    known,
                    Kind::Cases,
                    &Kind::Cases.file(),
                    line,
                    vec![("case_id".into(), reason, false)],
                    None,
                );
                rec.rejected_rows.push(RejectedRow { kind: Kind::Cases, line, fields: raw });
            }
        }
        Kind::Relations => {
            if let Some(child) = field("child_id") {
                known.refused_children.insert(child, row.line);
            }
        }
        _ => {}
    }
}

/// Whether a case imported before has a protection in force.
fn in_protection_on_file(r: &ReadTx, case_key: &str) -> Result<bool> {
    let Some(id) = r.unique(&namespace(Kind::Cases), case_key)? else { return Ok(false) };
    for p in r.links("case_protection", id, usize::MAX)? {
        if r.get::<crate::protection::Protection>(crate::ids::ProtectionId(p))?
            .is_some_and(|p| p.body.is_active())
        {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Whether a case imported before is open.
fn is_open_on_file(r: &ReadTx, case_key: &str) -> Result<bool> {
    let Some(id) = r.unique(&namespace(Kind::Cases), case_key)? else { return Ok(false) };
    Ok(r.get::<crate::case::Case>(CaseId(id))?.is_some_and(|c| c.body.status == CaseStatus::Open))
}

fn reject(
    rec: &mut Reconciliation,
    known: &mut Known,
    kind: Kind,
    file: &str,
    line: u64,
    errors: Vec<(String, String, bool)>,
    row: Option<&Row>,
) {
    rec.count(kind).rejected += 1;
    known.rejected.entry(kind).or_default().insert(line);
    for (column, reason, missing_id) in errors {
        rec.rejections.push(Rejection { file: file.to_owned(), line, column, reason, missing_id });
    }
    if let Some(row) = row {
        rec.rejected_rows.push(RejectedRow { kind, line, fields: row.raw.clone() });
    }
}

/// Sorts an accepted row: new, imported before and the same, or imported before and changed.
fn classify(
    r: &ReadTx,
    kind: Kind,
    key: &str,
    parsed: &rows::Parsed,
    line: u64,
    known: &mut Known,
    rec: &mut Reconciliation,
) -> Result<()> {
    match &parsed.record {
        Record::Case(c) => {
            known.case_digests.insert(key.to_owned(), parsed.digest.clone());
            if c.status == CaseStatus::Open {
                known.open_cases.insert(key.to_owned());
                if c.safety_checked_at.is_none() {
                    known.unchecked.insert(key.to_owned());
                }
            }
        }
        Record::Abuse(a) => {
            known.abuse_cases.insert(a.case.clone());
        }
        Record::Relation(rel) => known.relations.push((line, rel.clone(), parsed.digest.clone())),
        _ => {}
    }
    // Relations are stored as households (compared there); a case is compared once its abuse
    // row is known (`settle_cases`); an abuse row belongs to its case.
    let stored = match kind {
        Kind::Relations => None,
        Kind::Abuse => r.unique(&namespace(Kind::Cases), &parsed.key)?,
        _ => r.unique(&namespace(kind), key)?,
    };
    let Some(id) = stored else {
        if let Record::Child(p) = &parsed.record
            && let Some(birth) = p.birth_date
        {
            known.births.entry(birth).or_default().push((key.to_owned(), p.name.full_kana(), line));
        }
        return Ok(());
    };
    match kind {
        Kind::Cases => {
            known.stored_cases.push((key.to_owned(), line, parsed.digest.clone(), id));
            return Ok(());
        }
        Kind::Abuse if known.case_digests.contains_key(&parsed.key) => {
            known.abuse_digests.insert(parsed.key.clone(), parsed.digest.clone());
            rec.count(kind).unchanged += 1;
            return Ok(());
        }
        _ => {}
    }
    let stored_kind = if kind == Kind::Abuse { Kind::Cases } else { kind };
    let have = super::write::stored_digest(r, stored_kind, id)?;
    if have.as_deref() == Some(parsed.digest.as_str()) {
        rec.count(kind).unchanged += 1;
    } else {
        differs(rec, kind, line, &parsed.key, stored_kind, id);
    }
    Ok(())
}

fn differs(rec: &mut Reconciliation, kind: Kind, line: u64, key: &str, stored: Kind, id: u64) {
    rec.count(kind).differ += 1;
    rec.differences.push(Difference {
        file: kind.file(),
        line,
        legacy_id: key.to_owned(),
        record: format!("{} {id}", record_name(stored)),
    });
}

/// The record kind a file's rows become (`child`, `household`).
fn record_name(kind: Kind) -> &'static str {
    use crate::ids::{HouseholdId, MeetingId, NoteId, PersonId, ProtectionId, SupportId};
    match kind {
        Kind::Children => ChildId::KIND,
        Kind::Persons => PersonId::KIND,
        Kind::Relations => HouseholdId::KIND,
        Kind::Cases | Kind::Abuse => CaseId::KIND,
        Kind::Notes => NoteId::KIND,
        Kind::Protections => ProtectionId::KIND,
        Kind::Meetings => MeetingId::KIND,
        Kind::Supports => SupportId::KIND,
    }
}

/// Cases imported before, compared with their rows and abuse rows as read now.
fn settle_cases(r: &ReadTx, known: &Known, rec: &mut Reconciliation) -> Result<()> {
    for (key, line, digest, id) in &known.stored_cases {
        let want = case_digest(digest, known.abuse_digests.get(key).map(String::as_str));
        if super::write::stored_digest(r, Kind::Cases, *id)?.as_deref() == Some(want.as_str()) {
            rec.count(Kind::Cases).unchanged += 1;
        } else {
            differs(rec, Kind::Cases, *line, key, Kind::Cases, *id);
        }
    }
    Ok(())
}

/// Households imported before (by their first child), compared with the relations as read now;
/// relations of a child that has a household already (made here since) differ too.
fn settle_households(r: &ReadTx, known: &Known, rec: &mut Reconciliation) -> Result<()> {
    let ns = namespace(Kind::Children);
    let children = known.keys.get(&Kind::Children);
    let is_child =
        |k: &str| children.is_some_and(|s| s.contains(k)) || r.unique(&ns, k).ok().flatten().is_some();
    for comp in super::write::components(&known.relations, is_child) {
        let first_line = known.relations[comp.rows[0]].0;
        let refused = comp.rows.iter().find_map(|i| known.refused_children.get(&known.relations[*i].1.child));
        if let Some(refused_line) = refused {
            // The whole household waits for its refused row: its rows go to the file to fix.
            for i in &comp.rows {
                let line = known.relations[*i].0;
                let count = rec.count(Kind::Relations);
                count.accepted -= 1;
                count.rejected += 1;
                rec.rejections.push(Rejection {
                    file: Kind::Relations.file(),
                    line,
                    column: "child_id".into(),
                    reason: format!("its household waits for the refused row on line {refused_line}"),
                    missing_id: false,
                });
                if let Some(raw) = known.relation_raw.get(&line) {
                    rec.rejected_rows.push(RejectedRow { kind: Kind::Relations, line, fields: raw.clone() });
                }
            }
            continue;
        }
        let stored = r.unique(HOUSEHOLDS, &comp.key)?;
        let same = match stored {
            Some(id) => {
                super::write::stored_digest(r, Kind::Relations, id)?.as_deref() == Some(comp.digest.as_str())
            }
            None => super::write::alone(r, &comp, &known.relations)?,
        };
        let n = comp.rows.len() as u64;
        match (stored, same) {
            (Some(_), true) => rec.count(Kind::Relations).unchanged += n,
            (None, true) => {}
            (stored, false) => {
                // None of this household is written: its children are held.
                for i in &comp.rows {
                    let r = &known.relations[*i].1;
                    rec.held_children.insert(r.child.clone());
                }
                rec.count(Kind::Relations).differ += n;
                rec.differences.push(Difference {
                    file: Kind::Relations.file(),
                    line: first_line,
                    legacy_id: comp.key.clone(),
                    record: stored
                        .map_or_else(|| "a household made since".to_owned(), |id| format!("household {id}")),
                });
            }
        }
    }
    Ok(())
}

/// 名寄せ: new children who may be one another, or a child on file.
fn duplicates(r: &ReadTx, known: &Known, today: Date, rec: &mut Reconciliation) -> Result<()> {
    let plausible = (today.year() - 25)..=(today.year() + 1);
    let at = |line: u64| format!("children.csv:{line}");
    let mut days: Vec<&Date> = known.births.keys().collect();
    days.sort_unstable();
    for day in days {
        let group = &known.births[day];
        for (i, (key, kana, line)) in group.iter().enumerate() {
            // Inside the source: the same day, then the days it may have been mistyped for.
            for (k2, kana2, line2) in &group[i + 1..] {
                if search::similar_kana(kana, kana2) {
                    rec.duplicates.push(Duplicate {
                        at: at(*line),
                        legacy_id: key.clone(),
                        other: format!("{} ({k2})", at(*line2)),
                    });
                }
            }
            for near in day.near_misses().into_iter().filter(|d| d > day) {
                for (k2, kana2, line2) in known.births.get(&near).into_iter().flatten() {
                    if search::edit_distance(&search::normalize(kana), &search::normalize(kana2)) <= 1 {
                        rec.duplicates.push(Duplicate {
                            at: at(*line),
                            legacy_id: key.clone(),
                            other: format!("{} ({k2})", at(*line2)),
                        });
                    }
                }
            }
            // Against the store: the intake's rule, children imported before left out.
            let near = day.near_misses().into_iter().filter(|d| plausible.contains(&d.year()));
            for (d, exact) in std::iter::once((*day, true)).chain(near.map(|d| (d, false))) {
                for id in r.children_born(d, 500)? {
                    let Some(c) = r.get::<Child>(ChildId(id))? else { continue };
                    if c.body.migrated.as_ref().is_some_and(|m| m.legacy_id == *key) {
                        continue;
                    }
                    let theirs = c.body.name.full_kana();
                    let alike = if exact {
                        search::similar_kana(&theirs, kana)
                    } else {
                        search::edit_distance(&search::normalize(&theirs), &search::normalize(kana)) <= 1
                    };
                    if alike {
                        rec.duplicates.push(Duplicate {
                            at: at(*line),
                            legacy_id: key.clone(),
                            other: format!("child {id} on file"),
                        });
                    }
                }
            }
        }
    }
    Ok(())
}

/// The rows `check` refused, per kind: the second pass leaves them out.
pub(super) fn refused(rec: &Reconciliation) -> HashMap<Kind, HashSet<u64>> {
    let mut out: HashMap<Kind, HashSet<u64>> = HashMap::new();
    for r in &rec.rejections {
        if let Some(kind) = Kind::ALL.into_iter().find(|k| k.file() == r.file) {
            out.entry(kind).or_default().insert(r.line);
        }
    }
    for d in &rec.differences {
        if let Some(kind) = Kind::ALL.into_iter().find(|k| k.file() == d.file) {
            out.entry(kind).or_default().insert(d.line);
        }
    }
    out
}
