//! The second pass of an import: the rows the first accepted and no earlier run stored, stored
//! a batch per transaction (each audited), in the order what a row names comes first.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::Read;

use sha2::{Digest, Sha256};

use super::{
    HOUSEHOLDS, ImportOptions, Keys, Mapped, Reconciliation, Source, case_digest, codes, namespace,
    open_table, refused,
};
use crate::case::{
    AbuseDetails, Case, CaseStatus, Closure, Intake, IntakeKind, Meeting, Note, SafetyCheck, SafetyMethod,
    Support,
};
use crate::code_table::Code;
use crate::error::{Error, Result};
use crate::ids::{
    CaseId, ChildId, HouseholdId, MeetingId, NoteId, PersonId, ProtectionId, RecordId, SupportId, UnitId,
};
use crate::interchange::rows::{self, LegacyRelation, Record};
use crate::interchange::{Kind, Migrated};
use crate::person::{Child, Household, Member, MemberRef, Person, Standing};
use crate::protection::Protection;
use crate::service::family::{SELF, SIBLING, put_child_index};
use crate::service::{Actor, Service, casework::refresh_clocks};
use crate::staff::{Action, Unit};
use crate::store::{Reader, WriteTx};
use crate::wareki;

/// The digest a migrated record keeps, if it is one.
pub(super) fn stored_digest(r: &impl Reader, kind: Kind, id: u64) -> Result<Option<String>> {
    let m = match kind {
        Kind::Children => r.get::<Child>(ChildId(id))?.and_then(|v| v.body.migrated),
        Kind::Persons => r.get::<Person>(PersonId(id))?.and_then(|v| v.body.migrated),
        Kind::Relations => r.get::<Household>(HouseholdId(id))?.and_then(|v| v.body.migrated),
        Kind::Cases | Kind::Abuse => r.get::<Case>(CaseId(id))?.and_then(|v| v.body.migrated),
        Kind::Notes => r.get::<Note>(NoteId(id))?.and_then(|v| v.body.migrated),
        Kind::Protections => r.get::<Protection>(ProtectionId(id))?.and_then(|v| v.body.migrated),
        Kind::Meetings => r.get::<Meeting>(MeetingId(id))?.and_then(|v| v.body.migrated),
        Kind::Supports => r.get::<Support>(SupportId(id))?.and_then(|v| v.body.migrated),
    };
    Ok(m.map(|m| m.digest))
}

/// Every migrated child, person and case and its id (and case number) here.
pub(super) fn mapped(r: &impl Reader) -> Result<Vec<Mapped>> {
    let mut out = Vec::new();
    for id in r.ids(ChildId::KIND)? {
        if let Some(m) = r.get::<Child>(ChildId(id))?.and_then(|v| v.body.migrated) {
            out.push(Mapped { kind: Kind::Children, legacy_id: m.legacy_id, id, case_no: None });
        }
    }
    for id in r.ids(PersonId::KIND)? {
        if let Some(m) = r.get::<Person>(PersonId(id))?.and_then(|v| v.body.migrated) {
            out.push(Mapped { kind: Kind::Persons, legacy_id: m.legacy_id, id, case_no: None });
        }
    }
    for id in r.ids(CaseId::KIND)? {
        if let Some(v) = r.get::<Case>(CaseId(id))?
            && let Some(m) = v.body.migrated
        {
            out.push(Mapped { kind: Kind::Cases, legacy_id: m.legacy_id, id, case_no: Some(v.body.case_no) });
        }
    }
    Ok(out)
}

/// A household made of the relations that join children (through a shared adult, or as
/// siblings): its first child's key names it.
pub(super) struct Component {
    pub key: String,
    /// Indexes into the relations, in file order.
    pub rows: Vec<usize>,
    pub digest: String,
}

/// The households `relations` make: children joined by a relation between them or a shared
/// adult, each household its relations in file order.
/// The root of `k`'s set, each step pointing what it passes at its grandparent (path halving:
/// an adult shared by many children keeps the sets shallow).
fn find(parent: &mut HashMap<String, String>, k: &str) -> String {
    let mut k = k.to_owned();
    loop {
        let p = parent.get(&k).cloned().unwrap_or_else(|| k.clone());
        if p == k {
            return k;
        }
        let grand = parent.get(&p).cloned().unwrap_or_else(|| p.clone());
        parent.insert(k, grand.clone());
        k = grand;
    }
}

pub(super) fn components(
    relations: &[(u64, LegacyRelation, String)],
    is_child: impl Fn(&str) -> bool,
) -> Vec<Component> {
    let mut parent: HashMap<String, String> = HashMap::new();
    let union = |parent: &mut HashMap<String, String>, a: &str, b: &str| {
        let (ra, rb) = (find(parent, a), find(parent, b));
        if ra != rb {
            let (lo, hi) = if ra < rb { (ra, rb) } else { (rb, ra) };
            parent.insert(hi, lo);
        }
    };
    // An adult's first child, to join the children who share them.
    let mut adult_child: HashMap<&str, &str> = HashMap::new();
    for (_, r, _) in relations {
        parent.entry(r.child.clone()).or_insert_with(|| r.child.clone());
        if is_child(&r.other) {
            union(&mut parent, &r.child, &r.other);
        } else if let Some(first) = adult_child.get(r.other.as_str()) {
            union(&mut parent, first, &r.child);
        } else {
            adult_child.insert(&r.other, &r.child);
        }
    }
    let mut groups: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (i, (_, r, _)) in relations.iter().enumerate() {
        groups.entry(find(&mut parent, &r.child)).or_default().push(i);
    }
    // In the order of their first rows: households are made (and exported again) in file order.
    let mut groups: Vec<Vec<usize>> = groups.into_values().collect();
    groups.sort_by_key(|rows| rows[0]);
    groups
        .into_iter()
        .map(|rows| {
            // Named by the child of its first row in file order: the household's 本人 (an export
            // writes each household's rows from its first child).
            let key = relations[rows[0]].1.child.clone();
            let mut digests: Vec<&str> = rows.iter().map(|i| relations[*i].2.as_str()).collect();
            digests.sort_unstable();
            let h = Sha256::digest(digests.join("+").as_bytes());
            let digest = crate::to_hex(&h[..16]);
            Component { key, rows, digest }
        })
        .collect()
}

/// 続柄 `同居人` and `その他`: how an adult stands to a child of the household no row relates
/// them to.
const COHABITANT: &str = "11";
const OTHER: &str = "99";

/// What the rows a batch stores need besides themselves.
struct Context {
    unit: UnitId,
    by: crate::ids::StaffId,
    /// Abuse rows by case key: details and digest.
    abuse: HashMap<String, (AbuseDetails, String)>,
}

fn migrated(key: &str, digest: &str) -> Migrated {
    Migrated { legacy_id: key.to_owned(), digest: digest.to_owned(), author: None }
}

fn id_of(tx: &WriteTx, kind: Kind, key: &str) -> Result<u64> {
    tx.unique(&namespace(kind), key)?
        .ok_or_else(|| Error::Corrupt(format!("import: {} {key:?} is not stored", kind.name())))
}

/// Stores one accepted row.
fn store_one(tx: &mut WriteTx, cx: &Context, kind: Kind, key: &str, parsed: rows::Parsed) -> Result<()> {
    let ns = namespace(kind);
    let m = Some(migrated(key, &parsed.digest));
    let id = match parsed.record {
        Record::Child(p) => store_child(tx, cx, p, m)?,
        Record::Person(p) => {
            let person = Person {
                name: p.name,
                birth_date: p.birth_date,
                sex: p.sex,
                address: p.address,
                phones: p.phones,
                employment: String::new(),
                health: String::new(),
                unit: cx.unit,
                migrated: m,
            };
            tx.insert(person)?.id
        }
        Record::Case(c) => store_case(tx, cx, key, &parsed.digest, c)?,
        Record::Note(n) => {
            let case = tx.require::<Case>(CaseId(id_of(tx, Kind::Cases, &n.case)?))?;
            let note = Note {
                case: CaseId(case.id),
                child: case.body.child,
                at: n.at,
                kind: n.kind,
                author: cx.by,
                body: n.body,
                attachments: Vec::new(),
                correction: None,
                migrated: Some(Migrated { author: Some(n.author), ..migrated(key, &parsed.digest) }),
            };
            let v = tx.insert(note)?;
            tx.link("case_note", case.id, v.id)?;
            tx.link("child_note", case.body.child.0, v.id)?;
            v.id
        }
        Record::Protection(p) => {
            let case = tx.require::<Case>(CaseId(id_of(tx, Kind::Cases, &p.case)?))?;
            let mut protection =
                Protection { case: CaseId(case.id), child: case.body.child, migrated: m, ..p.protection };
            if let Some(h) = &mut protection.hearing {
                h.by = cx.by;
            }
            let v = tx.insert(protection)?;
            tx.link("case_protection", case.id, v.id)?;
            refresh_clocks(tx, CaseId(case.id))?;
            v.id
        }
        Record::Meeting(mt) => {
            let case = tx.require::<Case>(CaseId(id_of(tx, Kind::Cases, &mt.case)?))?;
            let meeting = Meeting {
                unit: case.body.unit,
                kind: mt.kind,
                at: mt.at,
                attendees: Vec::new(),
                outside_attendees: Vec::new(),
                cases: vec![CaseId(case.id)],
                decisions: mt.summary,
                migrated: m,
            };
            let v = tx.insert(meeting)?;
            tx.link("case_meeting", case.id, v.id)?;
            v.id
        }
        Record::Support(s) => {
            let case = tx.require::<Case>(CaseId(id_of(tx, Kind::Cases, &s.case)?))?;
            let support = Support {
                case: CaseId(case.id),
                kind: s.kind,
                decided_on: s.decided_on,
                start: Some(s.decided_on),
                review_on: None,
                end: None,
                facility: String::new(),
                hearing: None,
                notice_issued_on: None,
                notice_pdf: None,
                note: s.content,
                approval: None,
                migrated: m,
            };
            let v = tx.insert(support)?;
            tx.link("case_support", case.id, v.id)?;
            refresh_clocks(tx, CaseId(case.id))?;
            v.id
        }
        Record::Relation(_) | Record::Abuse(_) => return Err(Error::Corrupt("import: stored apart".into())),
    };
    tx.claim(&ns, key, id)
}

fn store_child(tx: &mut WriteTx, cx: &Context, p: rows::LegacyPerson, m: Option<Migrated>) -> Result<u64> {
    let child = Child {
        name: p.name,
        birth_date: p.birth_date,
        unborn: false,
        sex: p.sex,
        address: p.address,
        phones: p.phones,
        affiliation: String::new(),
        nationality: String::new(),
        disability_certificates: Vec::new(),
        resident_no: None,
        household: None,
        unit: cx.unit,
        units: vec![cx.unit],
        restricted_to: None,
        photo: None,
        migrated: m,
    };
    let v = tx.insert(child)?;
    put_child_index(tx, ChildId(v.id), &v.body, None)?;
    Ok(v.id)
}

/// A case as the source has it: numbered here (`児-R7-00123`, by its fiscal year), linked to the
/// child's earlier cases, its abuse details from `abuse.csv`, closed as the source says, and
/// its last safety check, if the source gives one, recorded so its clock is right.
fn store_case(tx: &mut WriteTx, cx: &Context, key: &str, digest: &str, row: rows::LegacyCase) -> Result<u64> {
    let unit = tx.require::<Unit>(cx.unit)?;
    let child = tx.require::<Child>(ChildId(id_of(tx, Kind::Children, &row.child)?))?;
    let abuse = cx.abuse.get(key);
    let day = row.received_at.jst_date();
    let fiscal_year = if day.month() >= 4 { day.year() } else { day.year() - 1 };
    let number = tx.bump(&format!("case_no/{}/{fiscal_year}", cx.unit.0))?;
    let case_no = format!("{}-{}-{number:05}", unit.body.case_prefix, wareki::fiscal_year_label(fiscal_year));
    let linked_cases: Vec<CaseId> =
        tx.links("child_case", child.id, usize::MAX)?.into_iter().map(CaseId).collect();
    // 閲覧制限 as the source has it; the child is restricted while any of its cases is, to
    // everyone those cases name (as `restrict_case` keeps it).
    let restricted_to = match super::restricted_staff(tx, cx.unit, &row.restricted_to)? {
        Ok(names) if names.is_empty() => child.body.restricted_to.clone(),
        Ok(names) => {
            let mut all = child.body.restricted_to.clone().unwrap_or_default();
            all.extend(names.iter().copied().filter(|s| !all.contains(s)).collect::<Vec<_>>());
            let mut body = child.body.clone();
            body.restricted_to = Some(all);
            tx.update(ChildId(child.id), child.rev, body)?;
            Some(names)
        }
        Err(login) => return Err(Error::Corrupt(format!("import: {login:?} is no staff of the unit"))),
    };
    let case = Case {
        unit: cx.unit,
        case_no: case_no.clone(),
        child: ChildId(child.id),
        status: row.status,
        intake: Intake {
            kind: row.intake.unwrap_or(if abuse.is_some() {
                IntakeKind::AbuseReport
            } else {
                IntakeKind::Consultation
            }),
            received_at: row.received_at,
            route: row.route,
            consultation_type: row.consultation_type,
            chief_complaint: row.chief_complaint,
            content: row.content,
            received_by: cx.by,
        },
        abuse: abuse.map(|(a, _)| a.clone()),
        assigned: Vec::new(),
        assignments: Vec::new(),
        restricted_to,
        worker_opinion: row.worker_opinion,
        diagnoses: Vec::new(),
        judgement: String::new(),
        next_review: None,
        linked_cases,
        closure: row.closed.map(|(at, reason)| Closure { at, by: cx.by, reason, asked_by: None }),
        closure_request: None,
        reopened_at: Vec::new(),
        migrated: Some(migrated(key, &case_digest(digest, abuse.map(|(_, d)| d.as_str())))),
    };
    debug_assert!(case.status == CaseStatus::Open || case.closure.is_some());
    let v = tx.insert(case)?;
    tx.claim("case_no", &case_no, v.id)?;
    tx.link("child_case", child.id, v.id)?;
    if let Some(at) = row.safety_checked_at {
        let check = SafetyCheck {
            case: CaseId(v.id),
            child: ChildId(child.id),
            at,
            by: Vec::new(),
            method: SafetyMethod::Sighted,
            seen_directly: true,
            agency: String::new(),
            place: String::new(),
            child_state: "（移行元の記録による安全確認）".into(),
            injuries: Vec::new(),
            attachments: Vec::new(),
            migrated: Some(migrated(&format!("{key}/safety"), digest)),
        };
        let s = tx.insert(check)?;
        tx.link("case_check", v.id, s.id)?;
    }
    if !child.body.units.contains(&cx.unit) {
        let mut body = child.body.clone();
        body.units.push(cx.unit);
        tx.update(ChildId(child.id), child.rev, body)?;
    }
    refresh_clocks(tx, CaseId(v.id))?;
    Ok(v.id)
}

/// Stores one household from its relations: the first child as 本人, the other children as the
/// relation says (else きょうだい), each adult standing to each child as its rows say.
fn store_household(
    tx: &mut WriteTx,
    cx: &Context,
    component: &Component,
    relations: &[(u64, LegacyRelation, String)],
) -> Result<()> {
    let mut children: Vec<String> = vec![component.key.clone()];
    let mut adults: Vec<(String, Vec<&LegacyRelation>)> = Vec::new();
    for i in &component.rows {
        let r = &relations[*i].1;
        for c in [&r.child] {
            if !children.contains(c) {
                children.push(c.clone());
            }
        }
        if tx.unique(&namespace(Kind::Children), &r.other)?.is_some() {
            if !children.contains(&r.other) {
                children.push(r.other.clone());
            }
        } else {
            match adults.iter_mut().find(|(k, _)| *k == r.other) {
                Some((_, rows)) => rows.push(r),
                None => adults.push((r.other.clone(), vec![r])),
            }
        }
    }
    let first = ChildId(id_of(tx, Kind::Children, &children[0])?);
    let first_child = tx.require::<Child>(first)?;
    let mut members = Vec::new();
    for (i, key) in children.iter().enumerate() {
        let id = ChildId(id_of(tx, Kind::Children, key)?);
        let named = component.rows.iter().map(|j| &relations[*j].1).find(|r| r.other == *key);
        let relation = if i == 0 {
            Code::new(SELF)
        } else {
            named.map_or_else(|| Code::new(SIBLING), |r| r.relation.clone())
        };
        let cohabiting = named.is_none_or(|r| r.cohabiting);
        members.push(Member::new(
            MemberRef::Child(id),
            Standing { relation, guardian: false, custody: false },
            cohabiting,
        ));
    }
    for (key, rows) in &adults {
        let id = PersonId(id_of(tx, Kind::Persons, key)?);
        let standing = |r: &LegacyRelation| Standing {
            relation: r.relation.clone(),
            guardian: r.guardian,
            custody: false,
        };
        let mut member = Member::new(MemberRef::Person(id), standing(rows[0]), rows[0].cohabiting);
        for r in &rows[1..] {
            member.set_standing(ChildId(id_of(tx, Kind::Children, &r.child)?), standing(r), true);
        }
        // To a child of the household the source says nothing of them about, they are no
        // parent and no guardian: 同居人 when they live there, else その他.
        for child in &children {
            if !rows.iter().any(|r| r.child == *child) {
                let relation = Code::new(if rows[0].cohabiting { COHABITANT } else { OTHER });
                let unnamed = Standing { relation, guardian: false, custody: false };
                member.set_standing(ChildId(id_of(tx, Kind::Children, child)?), unnamed, true);
            }
        }
        members.push(member);
    }
    let household = Household {
        unit: cx.unit,
        address: first_child.body.address.clone(),
        phones: Vec::new(),
        public_assistance: false,
        members: members.clone(),
        notes: String::new(),
        migrated: Some(migrated(&component.key, &component.digest)),
    };
    let v = tx.insert(household)?;
    tx.claim(HOUSEHOLDS, &component.key, v.id)?;
    for m in members {
        if let MemberRef::Child(c) = m.who {
            let child = tx.require::<Child>(c)?;
            let mut body = child.body.clone();
            body.household = Some(HouseholdId(v.id));
            let new = tx.update(c, child.rev, body)?;
            put_child_index(tx, c, &new.body, new.body.birth_date)?;
        }
    }
    Ok(())
}

/// One batch: one transaction, one audit entry.
fn commit(
    svc: &Service,
    actor: &Actor,
    kind: Kind,
    batch: &mut Vec<(u64, String, rows::Parsed)>,
    cx: &Context,
    rec: &mut Reconciliation,
) -> Result<()> {
    if batch.is_empty() {
        return Ok(());
    }
    let now = svc.now();
    let mut tx = svc.store.begin_write(now, actor.staff.0, actor.device.clone())?;
    let (first, last) = (batch[0].0, batch[batch.len() - 1].0);
    let mut n = 0;
    for (_, key, parsed) in batch.drain(..) {
        // Stored by an earlier run (the first pass counted it unchanged or different).
        if tx.unique(&namespace(kind), &key)?.is_some() {
            continue;
        }
        if kind == Kind::Cases && cx.abuse.contains_key(&key) {
            rec.count(Kind::Abuse).imported += 1;
        }
        store_one(&mut tx, cx, kind, &key, parsed)?;
        n += 1;
    }
    let mut entry = actor.audit_entry(now, Action::Import.as_str());
    entry.detail = Some(format!("import batch: {} lines {first}-{last}: {n} records", kind.file()));
    tx.append_audit(entry)?;
    tx.commit()?;
    svc.changed.fire();
    rec.count(kind).imported += n;
    Ok(())
}

/// The second pass.
pub(super) fn write(
    svc: &Service,
    actor: &Actor,
    source: &mut dyn Source,
    options: &ImportOptions,
    rec: &mut Reconciliation,
) -> Result<()> {
    let skip = refused(rec);
    let now = svc.now();
    let unit = rec.unit.as_ref().map(|u| u.0).ok_or_else(|| Error::Corrupt("import: no unit".into()))?;
    let codes = {
        let r = svc.store.read()?;
        codes(&r, source, options, &mut Reconciliation::default())?
    };
    let mut cx = Context { unit, by: actor.staff, abuse: HashMap::new() };
    // Abuse rows are read before the cases they belong to.
    let order = [
        Kind::Children,
        Kind::Persons,
        Kind::Relations,
        Kind::Abuse,
        Kind::Cases,
        Kind::Notes,
        Kind::Protections,
        Kind::Meetings,
        Kind::Supports,
    ];
    for kind in order {
        let skipped = skip.get(&kind).cloned().unwrap_or_default();
        let mut rows = Vec::new();
        let mut batch = Vec::new();
        if skipped.contains(&1) || !check_unchanged(source, kind, rec)? {
            continue;
        }
        each_accepted(source, options, &codes, now, kind, &skipped, |line, key, parsed| {
            match kind {
                Kind::Abuse => {
                    if let Record::Abuse(a) = parsed.record {
                        cx.abuse.insert(a.case, (a.details, parsed.digest));
                    }
                }
                Kind::Relations => {
                    if let Record::Relation(r) = parsed.record {
                        rows.push((line, r, parsed.digest));
                    }
                }
                _ => {
                    batch.push((line, key, parsed));
                    if batch.len() >= options.batch_rows.max(1) {
                        commit(svc, actor, kind, &mut batch, &cx, rec)?;
                    }
                }
            }
            Ok(())
        })?;
        commit(svc, actor, kind, &mut batch, &cx, rec)?;
        if kind == Kind::Relations {
            households(svc, actor, &cx, &rows, options.batch_rows, rec)?;
        }
    }
    Ok(())
}

/// Whether the first pass read `kind`'s file (else the second reads nothing of it, even if
/// it appeared since); refuses a file that is not, byte for byte, the one checked.
fn check_unchanged(source: &mut dyn Source, kind: Kind, rec: &Reconciliation) -> Result<bool> {
    let Some(checked) = rec.files.iter().find(|(k, _)| *k == kind).and_then(|(_, c)| c.sha256.clone()) else {
        return Ok(false);
    };
    let changed = || {
        Error::invalid(
            "import",
            format!("{} changed since it was checked: run the import again", kind.file()),
        )
    };
    let Some(mut file) = source.open(&kind.file()).map_err(|_| changed())? else { return Err(changed()) };
    let mut hash = Sha256::new();
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        let n = file.read(&mut buf).map_err(|_| changed())?;
        if n == 0 {
            break;
        }
        hash.update(&buf[..n]);
    }
    if crate::to_hex(&hash.finalize()) == checked { Ok(true) } else { Err(changed()) }
}

/// Each row of `kind` the first pass accepted, with its key, streamed.
fn each_accepted(
    source: &mut dyn Source,
    options: &ImportOptions,
    codes: &crate::interchange::Codes,
    now: crate::time::Timestamp,
    kind: Kind,
    skipped: &HashSet<u64>,
    mut f: impl FnMut(u64, String, rows::Parsed) -> Result<()>,
) -> Result<()> {
    // Line 1 is the header: refused there, the whole file was (a column missing).
    if skipped.contains(&1) {
        return Ok(());
    }
    // The first pass read every file; one that cannot be read now stops the run (what was
    // stored stays: a run again resumes).
    let failed = |line: u64, reason: String| {
        Error::invalid(
            "import",
            format!("{}:{line}: {reason} (the file changed or could not be read)", kind.file()),
        )
    };
    let table = open_table(source, kind, kind.required(), &kind.file(), options.encoding)
        .map_err(|e| failed(1, format!("{}: {}", e.column, e.reason)))?;
    let Some((mut table, _)) = table else { return Ok(()) };
    let mut keys = Keys::default();
    while let Some(row) = table.next_row(&options.gaiji) {
        let row = row.map_err(|(line, reason)| failed(line, reason))?;
        let Ok(parsed) = rows::parse(kind, table.columns(), &row, codes, now) else { continue };
        let made = kind == Kind::Notes && super::has_no_own_id(table.columns(), &row);
        let Ok(key) = keys.key(kind, made, parsed.key.clone(), row.line) else { continue };
        if !skipped.contains(&row.line) {
            f(row.line, key, parsed)?;
        }
    }
    Ok(())
}

/// The households the relations make, those not stored before, a batch of rows per transaction.
fn households(
    svc: &Service,
    actor: &Actor,
    cx: &Context,
    relations: &[(u64, LegacyRelation, String)],
    batch_rows: usize,
    rec: &mut Reconciliation,
) -> Result<()> {
    let comps = {
        let r = svc.store.read()?;
        let ns = namespace(Kind::Children);
        components(relations, |k| r.unique(&ns, k).ok().flatten().is_some())
    };
    let mut comps = comps.into_iter().peekable();
    while comps.peek().is_some() {
        let now = svc.now();
        let mut tx = svc.store.begin_write(now, actor.staff.0, actor.device.clone())?;
        let (mut rows, mut made) = (0, 0);
        while rows < batch_rows.max(1) {
            let Some(comp) = comps.next() else { break };
            rows += comp.rows.len();
            // A household that differs from the one made before is left out whole.
            let left_out = comp.rows.iter().any(|i| rec.held_children.contains(&relations[*i].1.child));
            if left_out || tx.unique(HOUSEHOLDS, &comp.key)?.is_some() || !alone(&tx, &comp, relations)? {
                continue;
            }
            store_household(&mut tx, cx, &comp, relations)?;
            made += 1;
            rec.count(Kind::Relations).imported += comp.rows.len() as u64;
        }
        let mut entry = actor.audit_entry(now, Action::Import.as_str());
        entry.detail = Some(format!("import batch: relations.csv: {made} households"));
        tx.append_audit(entry)?;
        tx.commit()?;
    }
    svc.changed.fire();
    Ok(())
}

/// Whether no child of the household has one already (made here since, or by another import).
pub(super) fn alone(
    r: &impl Reader,
    comp: &Component,
    relations: &[(u64, LegacyRelation, String)],
) -> Result<bool> {
    let ns = namespace(Kind::Children);
    for i in &comp.rows {
        let rel = &relations[*i].1;
        for key in [&rel.child, &rel.other] {
            if let Some(id) = r.unique(&ns, key)?
                && r.get::<Child>(ChildId(id))?.is_some_and(|c| c.body.household.is_some())
            {
                return Ok(false);
            }
        }
    }
    Ok(true)
}
