//! 統計: the national report's tables for a unit and a period (`crate::statistics` counts),
//! read in one audited pass over the store's cases, supports and protections; the XLSX to file,
//! audited with its hash; and the cases behind one number, named where the reader may read them.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{Actor, Service, access};
use crate::case::{Approval, Case, IntakeKind, Support};
use crate::code_table::Code;
use crate::error::{Error, Result};
use crate::ids::{CaseId, ChildId, ProtectionId, RecordId, UnitId};
use crate::person::Child;
use crate::protection::{PlaceKind, Protection};
use crate::staff::{Action, Unit, UnitKind};
use crate::statistics::{self, CaseFacts, Codes, Elsewhere, ProtectionFacts, Span, Statistics};
use crate::store::Reader;
use crate::time::{Date, Timestamp};

/// The report of one unit for a span, as the page shows it.
#[derive(Clone, Debug, Serialize)]
pub struct StatisticsView {
    pub unit: UnitId,
    pub unit_name: String,
    /// The units the reader may choose, by name.
    pub units: Vec<(UnitId, String)>,
    pub made_at: Timestamp,
    pub statistics: Statistics,
}

/// The report as a spreadsheet to file.
#[derive(Clone, Debug)]
pub struct StatisticsFile {
    pub xlsx: Vec<u8>,
    /// `統計_架空市児童相談所_2025-04-01_2026-03-31.xlsx`.
    pub file_name: String,
    /// Of the file, in hex: as the audit entry names it.
    pub sha256: String,
}

/// The cases behind one number.
#[derive(Clone, Debug, Serialize)]
pub struct CellCases {
    pub unit_name: String,
    pub span: Span,
    pub table: &'static str,
    pub row: String,
    pub column: String,
    /// The cell's rule name (`receipts_by_route/ct:11/route:04`) and the table's rule.
    pub rule: String,
    pub rule_text: &'static str,
    pub value: u64,
    /// The cases the reader may read, by case number (the first `CELL_NAMES`).
    pub cases: Vec<CellCase>,
    /// How many more the cell counts that the reader may not read (閲覧制限).
    pub hidden: usize,
    /// How many more the reader may read than are named (past `CELL_NAMES`).
    pub more: usize,
}

/// How many cases a cell names at most: a supervisor checks a number by its cases, and a list
/// longer than this is checked by a narrower cell; the audit entry names each child shown.
pub const CELL_NAMES: usize = 500;

#[derive(Clone, Debug, Serialize)]
pub struct CellCase {
    pub case: CaseId,
    pub case_no: String,
    pub child_name: String,
    pub received_on: Date,
}

/// The fields of a case the counting reads, named as `Case` stores them.
#[derive(Deserialize)]
struct CaseStat {
    unit: UnitId,
    case_no: String,
    child: ChildId,
    intake: IntakeStat,
    #[serde(default)]
    abuse: Option<AbuseStat>,
    #[serde(default)]
    closure: Option<At>,
    #[serde(default)]
    restricted_to: Option<Vec<crate::ids::StaffId>>,
}

#[derive(Deserialize)]
struct IntakeStat {
    kind: IntakeKind,
    received_at: Timestamp,
    route: Code,
    consultation_type: Code,
}

#[derive(Deserialize)]
struct AbuseStat {
    main_type: Option<Code>,
    main_perpetrator: Option<Code>,
}

#[derive(Deserialize)]
struct At {
    at: Timestamp,
}

#[derive(Deserialize)]
struct SupportStat {
    case: CaseId,
    kind: Code,
    decided_on: Date,
    #[serde(default)]
    approval: Option<Approval>,
}

#[derive(Deserialize)]
struct ProtectionStat {
    case: CaseId,
    started_at: Timestamp,
    place_kind: PlaceKind,
    #[serde(default)]
    extensions: Vec<serde::de::IgnoredAny>,
    #[serde(default)]
    ended: Option<At>,
}

#[derive(Deserialize)]
struct BirthStat {
    birth_date: Option<Date>,
}

/// What one pass over the store gives: the unit's cases' facts (with their restriction, for the
/// drill-down) and the other centres' cases of the span.
struct Gathered {
    facts: Vec<CaseFacts>,
    restricted: HashMap<CaseId, Option<Vec<crate::ids::StaffId>>>,
    elsewhere: Vec<Elsewhere>,
}

fn gather(r: &impl Reader, unit: UnitId, span: Span) -> Result<Gathered> {
    let units: HashMap<UnitId, Unit> = r.all::<Unit>()?.into_iter().map(|u| (UnitId(u.id), u.body)).collect();
    let mut facts = Vec::new();
    let mut restricted = HashMap::new();
    let mut elsewhere = Vec::new();
    r.each_part::<Case, CaseStat>(&mut |id, c| {
        let received_on = c.intake.received_at.jst_date();
        if c.unit != unit {
            if let Some(other) = units.get(&c.unit).filter(|u| u.kind == UnitKind::ChildGuidanceCentre)
                && span.holds(received_on)
            {
                elsewhere.push(Elsewhere { child: c.child, unit_name: other.name.clone() });
            }
            return Ok(());
        }
        let (abuse_type, perpetrator) = c.abuse.map_or((None, None), |a| (a.main_type, a.main_perpetrator));
        restricted.insert(CaseId(id), c.restricted_to);
        facts.push(CaseFacts {
            id: CaseId(id),
            case_no: c.case_no,
            child: c.child,
            kind: c.intake.kind,
            received_on,
            route: c.intake.route,
            consultation_type: c.intake.consultation_type,
            abuse_type,
            perpetrator,
            birth_date: None,
            closed_on: c.closure.map(|a| a.at.jst_date()),
            supports: Vec::new(),
            protections: Vec::new(),
        });
        Ok(())
    })?;
    let at: HashMap<CaseId, usize> = facts.iter().enumerate().map(|(i, f)| (f.id, i)).collect();
    r.each_part::<Support, SupportStat>(&mut |_, s| {
        let decided = crate::case::in_force(s.approval.as_ref());
        if let Some(i) = at.get(&s.case).filter(|_| decided) {
            facts[*i].supports.push((s.kind, s.decided_on));
        }
        Ok(())
    })?;
    r.each_part::<Protection, ProtectionStat>(&mut |id, p| {
        if let Some(i) = at.get(&p.case) {
            facts[*i].protections.push(ProtectionFacts {
                id: ProtectionId(id),
                start: p.started_at.jst_date(),
                end: p.ended.map(|e| e.at.jst_date()),
                place: p.place_kind,
                extended: !p.extensions.is_empty(),
            });
        }
        Ok(())
    })?;
    // Ages only for the cases received in the span: the rest are counted without them.
    let mut births: HashMap<ChildId, Option<Date>> = HashMap::new();
    for f in facts.iter_mut().filter(|f| span.holds(f.received_on)) {
        f.birth_date = match births.entry(f.child) {
            std::collections::hash_map::Entry::Occupied(known) => *known.get(),
            std::collections::hash_map::Entry::Vacant(slot) => {
                *slot.insert(r.get_part::<Child, BirthStat>(f.child)?.and_then(|c| c.birth_date))
            }
        };
    }
    Ok(Gathered { facts, restricted, elsewhere })
}

fn count(r: &impl Reader, unit: UnitId, span: Span) -> Result<(Statistics, Gathered)> {
    let g = gather(r, unit, span)?;
    let tables: BTreeMap<String, _> = ["consultation_type", "route", "abuse_type", "perpetrator"]
        .into_iter()
        .map(|k| Ok((k.to_owned(), Service::code_table(r, k)?.body)))
        .collect::<Result<_>>()?;
    let codes = Codes {
        consultation_type: &tables["consultation_type"],
        route: &tables["route"],
        abuse_type: &tables["abuse_type"],
        perpetrator: &tables["perpetrator"],
    };
    Ok((statistics::count(span, &g.facts, &g.elsewhere, codes), g))
}

/// Units by name.
type Units = Vec<(UnitId, String)>;

/// The unit a report is of: the one asked for (refused unless the reader's); else the reader's
/// first 児童相談所 (the national tables are a centre's), else their first unit. With it, the
/// reader's units by name.
fn report_unit(r: &impl Reader, actor: &Actor, asked: Option<UnitId>) -> Result<(UnitId, String, Units)> {
    if let Some(u) = asked {
        r.require::<Unit>(u)?;
    }
    let own: Vec<_> = r.all::<Unit>()?.into_iter().filter(|u| actor.units.contains(&UnitId(u.id))).collect();
    let chosen = match asked {
        Some(u) => own.iter().find(|o| UnitId(o.id) == u),
        None => own.iter().find(|o| o.body.kind == UnitKind::ChildGuidanceCentre).or(own.first()),
    }
    .ok_or(Error::Forbidden { action: Action::ReadStatistics.as_str() })?;
    let units = own.iter().map(|u| (UnitId(u.id), u.body.name.clone())).collect();
    Ok((UnitId(chosen.id), chosen.body.name.clone(), units))
}

impl Service {
    /// The national report's tables of a unit (the reader's; default their 児童相談所) for
    /// `span`, with the warnings to check before filing. One audited read of the unit.
    pub fn statistics(&self, actor: &Actor, unit: Option<UnitId>, span: Span) -> Result<StatisticsView> {
        let made_at = self.now();
        self.read(actor, Action::ReadStatistics, UnitId::KIND, unit.map(|u| u.0), |r| {
            let (unit, unit_name, units) = report_unit(r, actor, unit)?;
            let (statistics, g) = count(r, unit, span)?;
            let detail = format!(
                "unit {} {}..{}: {} cases of the unit read",
                unit.0,
                span.from,
                span.to,
                g.facts.len()
            );
            Ok((StatisticsView { unit, unit_name, units, made_at, statistics }, Some(detail)))
        })
    }

    /// The report as XLSX, to file: audited with the period and the file's SHA-256.
    pub fn statistics_xlsx(&self, actor: &Actor, unit: Option<UnitId>, span: Span) -> Result<StatisticsFile> {
        let today = self.now().jst_date();
        self.read(actor, Action::ReadStatistics, UnitId::KIND, unit.map(|u| u.0), |r| {
            let (unit, unit_name, _) = report_unit(r, actor, unit)?;
            let (statistics, _) = count(r, unit, span)?;
            let xlsx = statistics::workbook(&statistics, &unit_name, today)
                .to_xlsx()
                .map_err(|e| Error::Corrupt(format!("statistics: {e}")))?;
            let sha256 = crate::to_hex(&Sha256::digest(&xlsx));
            let file_name = format!("統計_{unit_name}_{}_{}.xlsx", span.from, span.to);
            let detail = format!("unit {} xlsx {}..{} sha256 {sha256}", unit.0, span.from, span.to);
            Ok((StatisticsFile { xlsx, file_name, sha256 }, Some(detail)))
        })
    }

    /// The cases one number counts (`table`, then its row's and column's keys), by case number,
    /// with the child's name: only the cases the reader may read are named, the others counted.
    /// One audited read naming the cell.
    pub fn statistics_cell(
        &self,
        actor: &Actor,
        unit: Option<UnitId>,
        span: Span,
        (table, row, column): (&str, &str, &str),
    ) -> Result<CellCases> {
        self.read(actor, Action::ReadStatistics, UnitId::KIND, unit.map(|u| u.0), |r| {
            let (unit, unit_name, _) = report_unit(r, actor, unit)?;
            let (statistics, g) = count(r, unit, span)?;
            let name = format!("{table}/{row}/{column}");
            let t = statistics.table(table).ok_or_else(|| Error::not_found("statistics cell", &name))?;
            let (ri, ci) = t
                .rows
                .iter()
                .position(|l| l.key == row)
                .zip(t.columns.iter().position(|l| l.key == column))
                .ok_or_else(|| Error::not_found("statistics cell", &name))?;
            let cell = &t.cells[ri][ci];
            let scope = access::Scope::of(r, actor)?;
            let reads_cases = actor.role.may(Action::ReadCase);
            let by_id: HashMap<CaseId, &CaseFacts> = g.facts.iter().map(|f| (f.id, f)).collect();
            let (mut cases, mut more, mut children) = (Vec::new(), 0, Vec::new());
            for id in &cell.cases {
                let (Some(f), Some(restricted)) = (by_id.get(id), g.restricted.get(id)) else { continue };
                if !(reads_cases && scope.can_read_case_in(unit, restricted.as_deref())) {
                    continue;
                }
                let child = r.require::<Child>(f.child)?;
                if !scope.can_read_child(&child.body) {
                    continue;
                }
                if cases.len() == CELL_NAMES {
                    more += 1;
                    continue;
                }
                children.push(f.child.0.to_string());
                cases.push(CellCase {
                    case: *id,
                    case_no: f.case_no.clone(),
                    child_name: child.body.name.full(),
                    received_on: f.received_on,
                });
            }
            let hidden = cell.cases.len() - cases.len() - more;
            // Which children were shown, as a search's entry names its results.
            let detail = format!(
                "{}..{} cell {name}: {} cases named, {more} more, {hidden} not; children {}",
                span.from,
                span.to,
                cases.len(),
                children.join(",")
            );
            let view = CellCases {
                unit_name,
                span,
                table: t.title,
                row: t.rows[ri].label.clone(),
                column: t.columns[ci].label.clone(),
                rule: t.cell_rule(ri, ci),
                rule_text: t.rule,
                value: cell.value,
                cases,
                hidden,
                more,
            };
            Ok((view, Some(detail)))
        })
    }
}
