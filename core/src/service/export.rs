//! The whole store written out for the next system (`mamoru export`, the console): the
//! interchange layout `import` reads (so an export imports into an empty store), every version
//! of every record as JSON lines, the photos, a JSON Schema and a README of every file, and the
//! SHA-256 of each (`SHA256SUMS`, as `sha256sum -c` reads it). One read transaction: a
//! consistent copy while the server goes on writing. Administrators only; audited.

use std::collections::HashMap;
use std::io::Write;

use sha2::{Digest, Sha256};

use super::{Actor, Service};
use crate::case::{Case, CaseStatus, IntakeKind, Meeting, Note, SafetyCheck, Support};
use crate::error::{Error, Result};
use crate::ids::{CaseId, ChildId, CredentialId, DeviceId, RecordId};
use crate::interchange::{Kind, Migrated, write_csv_line};
use crate::person::{Child, Household, MemberRef, Person, Sex};
use crate::protection::{PlaceKind, Protection, WarrantOutcome};
use crate::staff::{Action, Staff};
use crate::store::{ReadTx, Reader};
use crate::time::Timestamp;

/// Where an export writes its files (`photos/…` names a file in a folder): the binary makes them.
pub trait Sink {
    fn create(&mut self, name: &str) -> std::io::Result<Box<dyn Write>>;
    /// The export is whole and audited (`true`: make it visible under its name) or failed
    /// (`false`: take away what was written).
    fn finish(&mut self, complete: bool) -> std::io::Result<()> {
        let _ = complete;
        Ok(())
    }
}

/// What an export wrote: each file with its size and SHA-256, and the records by kind.
#[derive(Clone, Debug, Default)]
pub struct Exported {
    pub files: Vec<(String, u64, String)>,
    pub rows: Vec<(Kind, u64)>,
    pub records: u64,
    pub photos: u64,
}

/// Record kinds not written out: the secrets of sign-in (password hashes, TOTP secrets, tablet
/// secrets) belong to this server, not to the next system.
const SECRET_KINDS: [&str; 2] = [CredentialId::KIND, DeviceId::KIND];

/// The README written with every export (Japanese and English).
const README: &str = include_str!("export_readme.md");

/// A file being written, hashed and counted.
struct Hashed {
    inner: Box<dyn Write>,
    hash: Sha256,
    bytes: u64,
}

impl Write for Hashed {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hash.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

fn io(name: &str) -> impl Fn(std::io::Error) -> Error + '_ {
    move |e| Error::invalid("export", format!("{name}: {e}"))
}

struct Writer<'a> {
    sink: &'a mut dyn Sink,
    out: Exported,
}

impl Writer<'_> {
    fn open(&mut self, name: &str) -> Result<Hashed> {
        let inner = self.sink.create(name).map_err(io(name))?;
        Ok(Hashed { inner, hash: Sha256::new(), bytes: 0 })
    }

    fn close(&mut self, name: &str, mut f: Hashed) -> Result<()> {
        f.flush().map_err(io(name))?;
        self.out.files.push((name.to_owned(), f.bytes, crate::to_hex(&f.hash.finalize())));
        Ok(())
    }

    /// A CSV file of the layout: UTF-8 with BOM (for Excel), CRLF, formula-safe.
    fn csv(&mut self, kind: Kind, columns: &[&str], rows: &mut Rows<'_>) -> Result<()> {
        let name = kind.file();
        let mut f = self.open(&name)?;
        f.write_all(b"\xEF\xBB\xBF").map_err(io(&name))?;
        write_csv_line(&mut f, columns).map_err(io(&name))?;
        let mut n = 0;
        rows(&mut |fields| {
            n += 1;
            write_csv_line(&mut f, fields).map_err(io(&name))
        })?;
        self.out.rows.push((kind, n));
        self.close(&name, f)
    }
}

/// What writes a file's rows, each through the callback it is given.
type Rows<'a> = dyn FnMut(&mut dyn FnMut(&[String]) -> Result<()>) -> Result<()> + 'a;

/// A record's id in the layout: the source's when it was migrated, else a letter of its kind's
/// own (`MC` a child, `MP` an adult, `MK` a case, `MN` a note, `MT` a protection, `MM` a
/// meeting, `MS` a support) and its id here, so that no two kinds share one.
fn key_of(kind: Kind, migrated: Option<&Migrated>, id: u64) -> String {
    migrated.map_or_else(|| format!("{}{id}", native_prefix(kind)), |m| m.legacy_id.clone())
}

fn native_prefix(kind: Kind) -> &'static str {
    match kind {
        Kind::Children => "MC",
        Kind::Persons | Kind::Relations => "MP",
        Kind::Cases | Kind::Abuse => "MK",
        Kind::Notes => "MN",
        Kind::Protections => "MT",
        Kind::Meetings => "MM",
        Kind::Supports => "MS",
    }
}

fn at(t: Timestamp) -> String {
    t.to_jst_string()
}

fn opt_at(t: Option<Timestamp>) -> String {
    t.map(at).unwrap_or_default()
}

fn flag(b: bool) -> String {
    (if b { "1" } else { "0" }).to_owned()
}

fn sex(s: Sex) -> String {
    s.label().to_owned()
}

/// The layout's ids of every child, person and case.
#[derive(Default)]
struct Keys {
    children: HashMap<u64, String>,
    persons: HashMap<u64, String>,
    cases: HashMap<u64, String>,
}

impl Keys {
    fn child(&self, id: ChildId) -> String {
        self.children.get(&id.0).cloned().unwrap_or_else(|| format!("MC{}", id.0))
    }
    fn case(&self, id: CaseId) -> String {
        self.cases.get(&id.0).cloned().unwrap_or_else(|| format!("MK{}", id.0))
    }
}

fn each<T: crate::record::Record>(
    r: &ReadTx,
    f: &mut dyn FnMut(crate::store::Versioned<T>) -> Result<()>,
) -> Result<()> {
    for id in r.ids(T::Id::KIND)? {
        if let Some(v) = r.get::<T>(T::Id::from(id))? {
            f(v)?;
        }
    }
    Ok(())
}

impl Service {
    /// Writes the whole store to `sink` (see the module's documentation). The sink is told the
    /// export is complete only once its audit entry is durable, and told to take it away if
    /// anything failed.
    pub fn export_store(&self, actor: &Actor, sink: &mut dyn Sink) -> Result<Exported> {
        let written = self.write_export(actor, sink);
        match written {
            Ok(out) => {
                sink.finish(true).map_err(io("the export folder"))?;
                Ok(out)
            }
            Err(e) => {
                let _ = sink.finish(false);
                Err(e)
            }
        }
    }

    fn write_export(&self, actor: &Actor, sink: &mut dyn Sink) -> Result<Exported> {
        self.read(actor, Action::ExportStore, ChildId::KIND, None, |r| {
            let mut w = Writer { sink, out: Exported::default() };
            let keys = layout(r, &mut w)?;
            drop(keys);
            records(r, &mut w)?;
            photos(r, &mut w)?;
            let mut f = w.open("schema.json")?;
            serde_json::to_writer_pretty(&mut f, &schema()).map_err(|e| Error::Corrupt(e.to_string()))?;
            w.close("schema.json", f)?;
            let mut f = w.open("README.md")?;
            f.write_all(README.as_bytes()).map_err(io("README.md"))?;
            w.close("README.md", f)?;
            let mut f = w.open("SHA256SUMS")?;
            for (name, _, sha) in &w.out.files {
                writeln!(f, "{sha}  {name}").map_err(io("SHA256SUMS"))?;
            }
            w.close("SHA256SUMS", f)?;
            let out = w.out;
            let rows: Vec<String> = out.rows.iter().map(|(k, n)| format!("{k} {n}")).collect();
            let detail = format!(
                "export: {}; {} record versions; {} photos; SHA256SUMS {}",
                rows.join(", "),
                out.records,
                out.photos,
                out.files.last().map_or("", |f| f.2.as_str())
            );
            Ok((out, Some(detail)))
        })
    }
}

/// The layout's CSV files.
fn layout(r: &ReadTx, w: &mut Writer<'_>) -> Result<Keys> {
    let mut keys = people(r, w)?;
    relations(r, w, &keys)?;
    cases(r, w, &mut keys)?;
    records_of_cases(r, w, &keys)?;
    Ok(keys)
}

/// `children.csv` and `persons.csv`.
fn people(r: &ReadTx, w: &mut Writer<'_>) -> Result<Keys> {
    let mut keys = Keys::default();
    w.csv(Kind::Children, Kind::Children.required(), &mut |row| {
        each::<Child>(r, &mut |v| {
            let key = key_of(Kind::Children, v.body.migrated.as_ref(), v.id);
            keys.children.insert(v.id, key.clone());
            let c = v.body;
            row(&person_row(key, c.name, c.birth_date, c.sex, c.address, &c.phones))
        })
    })?;
    w.csv(Kind::Persons, Kind::Persons.required(), &mut |row| {
        each::<Person>(r, &mut |v| {
            let key = key_of(Kind::Persons, v.body.migrated.as_ref(), v.id);
            keys.persons.insert(v.id, key.clone());
            let p = v.body;
            row(&person_row(key, p.name, p.birth_date, p.sex, p.address, &p.phones))
        })
    })?;
    Ok(keys)
}

/// A child's or an adult's row: id, name and furigana, birth date, sex, address, phones.
fn person_row(
    key: String,
    name: crate::person::PersonName,
    birth: Option<crate::time::Date>,
    sex_of: Sex,
    address: String,
    phones: &[String],
) -> Vec<String> {
    vec![
        key,
        name.family,
        name.given,
        name.family_kana,
        name.given_kana,
        birth.map(|d| d.to_string()).unwrap_or_default(),
        sex(sex_of),
        address,
        phones.join(";"),
    ]
}

/// `cases.csv` and `abuse.csv`.
fn cases(r: &ReadTx, w: &mut Writer<'_>, keys: &mut Keys) -> Result<()> {
    let mut case_cols: Vec<&str> = Kind::Cases.required().to_vec();
    case_cols.extend(Kind::Cases.optional());
    let logins: HashMap<u64, String> =
        r.all::<Staff>()?.into_iter().map(|s| (s.id, s.body.login.as_str().to_owned())).collect();
    w.csv(Kind::Cases, &case_cols, &mut |row| {
        each::<Case>(r, &mut |v| {
            let key = key_of(Kind::Cases, v.body.migrated.as_ref(), v.id);
            keys.cases.insert(v.id, key.clone());
            let seen = last_sighting(r, CaseId(v.id))?;
            let c = v.body;
            let (closed_at, reason) =
                c.closure.map_or((String::new(), String::new()), |cl| (at(cl.at), cl.reason));
            row(&[
                key,
                keys.child(c.child),
                at(c.intake.received_at),
                c.intake.route.0,
                c.intake.consultation_type.0,
                c.intake.chief_complaint,
                c.intake.content,
                (if c.status == CaseStatus::Open { "open" } else { "closed" }).to_owned(),
                closed_at,
                reason,
                c.worker_opinion,
                opt_at(seen),
                (if c.intake.kind == IntakeKind::AbuseReport { "abuse_report" } else { "consultation" })
                    .to_owned(),
                c.restricted_to
                    .unwrap_or_default()
                    .iter()
                    .filter_map(|s| logins.get(&s.0).map(String::as_str))
                    .collect::<Vec<_>>()
                    .join(";"),
            ])
        })
    })?;
    w.csv(Kind::Abuse, Kind::Abuse.required(), &mut |row| {
        each::<Case>(r, &mut |v| {
            let Some(a) = v.body.abuse else { return Ok(()) };
            let types: Vec<&str> = a.types.iter().map(|t| t.0.as_str()).collect();
            row(&[
                keys.case(CaseId(v.id)),
                types.join(";"),
                a.main_type.map(|c| c.0).unwrap_or_default(),
                a.main_perpetrator.map(|c| c.0).unwrap_or_default(),
            ])
        })
    })?;
    Ok(())
}

/// `notes.csv`, `protections.csv`, `meetings.csv`, `supports.csv`.
fn records_of_cases(r: &ReadTx, w: &mut Writer<'_>, keys: &Keys) -> Result<()> {
    let staff: HashMap<u64, String> =
        r.all::<Staff>()?.into_iter().map(|s| (s.id, s.body.display_name)).collect();
    let mut note_cols: Vec<&str> = Kind::Notes.required().to_vec();
    note_cols.extend(["kind", "legacy_id"]);
    w.csv(Kind::Notes, &note_cols, &mut |row| {
        each::<Note>(r, &mut |v| {
            let key = key_of(Kind::Notes, v.body.migrated.as_ref(), v.id);
            let author = v.body.legacy_author().map_or_else(
                || staff.get(&v.body.author.0).cloned().unwrap_or_else(|| format!("職員{}", v.body.author.0)),
                str::to_owned,
            );
            let n = v.body;
            row(&[keys.case(n.case), at(n.at), author, n.body, n.kind.0, key])
        })
    })?;
    let mut protection_cols: Vec<&str> = Kind::Protections.required().to_vec();
    protection_cols.extend(Kind::Protections.optional());
    w.csv(Kind::Protections, &protection_cols, &mut |row| {
        each::<Protection>(r, &mut |v| {
            row(&protection_row(keys, &key_of(Kind::Protections, v.body.migrated.as_ref(), v.id), &v.body))
        })
    })?;
    let with_id = |kind: Kind| -> Vec<&'static str> {
        kind.required().iter().chain(kind.optional()).copied().collect()
    };
    w.csv(Kind::Meetings, &with_id(Kind::Meetings), &mut |row| {
        each::<Meeting>(r, &mut |v| {
            let key = key_of(Kind::Meetings, v.body.migrated.as_ref(), v.id);
            let several = v.body.cases.len() > 1;
            for case in &v.body.cases {
                // A meeting of several cases is a row per case, each with an id of its own.
                let id = if several { format!("{key}/{}", keys.case(*case)) } else { key.clone() };
                row(&[keys.case(*case), at(v.body.at), v.body.kind.0.clone(), v.body.decisions.clone(), id])?;
            }
            Ok(())
        })
    })?;
    w.csv(Kind::Supports, &with_id(Kind::Supports), &mut |row| {
        each::<Support>(r, &mut |v| {
            let key = key_of(Kind::Supports, v.body.migrated.as_ref(), v.id);
            let s = v.body;
            row(&[keys.case(s.case), s.decided_on.to_string(), s.kind.0, s.note, key])
        })
    })
}

/// The newest direct sighting of a case's child (what closes the 48-hour clock).
fn last_sighting(r: &ReadTx, case: CaseId) -> Result<Option<Timestamp>> {
    let mut newest = None;
    for id in r.links("case_check", case.0, usize::MAX)? {
        if let Some(c) = r.get::<SafetyCheck>(crate::ids::SafetyCheckId(id))?
            && c.body.seen_directly
        {
            newest = newest.max(Some(c.body.at));
        }
    }
    Ok(newest)
}

/// A protection's row: its start, its hearing, its warrant, its latest extension, its end.
fn protection_row(keys: &Keys, key: &str, p: &Protection) -> Vec<String> {
    let hearing = p.hearing.as_ref();
    let warrant = p.warrant.as_ref();
    let extension = p.extensions.last();
    let court = extension.and_then(|e| e.court.as_ref());
    vec![
        keys.case(p.case),
        at(p.started_at),
        (if p.place_kind == PlaceKind::Shelter { "shelter" } else { "entrusted" }).to_owned(),
        p.place.clone(),
        p.reason.clone(),
        flag(p.guardian_consent),
        opt_at(p.ended.as_ref().map(|e| e.at)),
        p.ended.as_ref().map(|e| e.reason.clone()).unwrap_or_default(),
        key.to_owned(),
        opt_at(hearing.map(|h| h.at)),
        hearing
            .map(|h| {
                if h.views.is_empty() {
                    h.not_possible_reason.clone().unwrap_or_default()
                } else {
                    h.views.clone()
                }
            })
            .unwrap_or_default(),
        opt_at(warrant.map(|w| w.requested_at)),
        opt_at(warrant.and_then(|w| w.decided_at)),
        warrant
            .and_then(|w| w.outcome)
            .map(|o| if o == WarrantOutcome::Issued { "issued" } else { "refused" })
            .unwrap_or_default()
            .to_owned(),
        opt_at(extension.map(|e| e.decided_at)),
        extension.map(|e| e.until.plus_days(-1).to_string()).unwrap_or_default(),
        extension.map(|e| flag(e.guardian_consent)).unwrap_or_default(),
        court.map(|c| c.petitioned_on.to_string()).unwrap_or_default(),
        court.and_then(|c| c.approved_on).map(|d| d.to_string()).unwrap_or_default(),
    ]
}

/// `relations.csv` from the households: each adult as it stands to each child, and each further
/// child as it stands to the household's first.
fn relations(r: &ReadTx, w: &mut Writer<'_>, keys: &Keys) -> Result<()> {
    w.csv(Kind::Relations, Kind::Relations.required(), &mut |row| {
        each::<Household>(r, &mut |v| {
            let children: Vec<(ChildId, bool, String)> = v
                .body
                .members
                .iter()
                .filter_map(|m| match m.who {
                    MemberRef::Child(c) => Some((c, m.cohabiting, m.relation.0.clone())),
                    MemberRef::Person(_) => None,
                })
                .collect();
            let Some((first, _, _)) = children.first() else { return Ok(()) };
            for (c, cohabiting, relation) in &children[1..] {
                row(&[keys.child(*first), keys.child(*c), relation.clone(), flag(false), flag(*cohabiting)])?;
            }
            for m in &v.body.members {
                let MemberRef::Person(p) = m.who else { continue };
                let person = keys.persons.get(&p.0).cloned().unwrap_or_else(|| format!("MP{}", p.0));
                for (c, _, _) in &children {
                    let st = m.standing_to(*c);
                    row(&[
                        keys.child(*c),
                        person.clone(),
                        st.relation.0,
                        flag(st.guardian),
                        flag(m.cohabiting),
                    ])?;
                }
            }
            Ok(())
        })
    })
}

/// `records.jsonl`: every version of every record but the sign-in secrets, one JSON object a
/// line: `{"kind", "schema", "record": {"id", "rev", "at", "by", "device", "body"}}`.
fn records(r: &ReadTx, w: &mut Writer<'_>) -> Result<()> {
    let name = "records.jsonl";
    let mut f = w.open(name)?;
    let mut n = 0u64;
    for kind in crate::ids::KINDS.into_iter().filter(|k| !SECRET_KINDS.contains(k)) {
        r.each_version(kind, &mut |schema, json| {
            n += 1;
            f.write_all(format!("{{\"kind\":\"{kind}\",\"schema\":{schema},\"record\":").as_bytes())
                .and_then(|()| f.write_all(json))
                .and_then(|()| f.write_all(b"}\n"))
                .map_err(io(name))
        })?;
    }
    w.out.records = n;
    w.close(name, f)
}

/// `photos/SHA256.jpg` (or `.png`, `.webp`): every stored file, named by its hash, one at a time.
fn photos(r: &ReadTx, w: &mut Writer<'_>) -> Result<()> {
    r.each_file(&mut |sha, bytes| photo(w, sha, bytes))
}

fn photo(w: &mut Writer<'_>, sha: &str, bytes: &[u8]) -> Result<()> {
    let ext = match crate::case::image_type(bytes) {
        Some("image/png") => "png",
        Some("image/webp") => "webp",
        _ => "jpg",
    };
    let name = format!("photos/{sha}.{ext}");
    let mut f = w.open(&name)?;
    f.write_all(bytes).map_err(io(&name))?;
    w.close(&name, f)?;
    w.out.photos += 1;
    Ok(())
}

/// The JSON Schema (2020-12) of every file: the CSV files as objects of their columns (all
/// text), and a line of `records.jsonl`.
fn schema() -> serde_json::Value {
    let mut defs = serde_json::Map::new();
    for kind in Kind::ALL {
        let mut props = serde_json::Map::new();
        for c in kind.required().iter().chain(kind.optional()) {
            props.insert((*c).to_owned(), serde_json::json!({ "type": "string" }));
        }
        defs.insert(
            kind.file(),
            serde_json::json!({
                "description": format!("One row of {} (UTF-8 with BOM, CRLF, RFC 4180; a field starting with ' before =, +, - or @ has that apostrophe added)", kind.file()),
                "type": "object",
                "properties": props,
                "required": kind.required(),
            }),
        );
    }
    defs.insert(
        "records.jsonl".into(),
        serde_json::json!({
            "description": "One line of records.jsonl: a stored version of a record",
            "type": "object",
            "properties": {
                "kind": { "type": "string", "enum": crate::ids::KINDS.iter().filter(|k| !SECRET_KINDS.contains(k)).collect::<Vec<_>>() },
                "schema": { "type": "integer", "minimum": 1, "description": "the record's schema version" },
                "record": {
                    "type": "object",
                    "properties": {
                        "id": { "type": "integer" },
                        "rev": { "type": "integer", "minimum": 1 },
                        "at": { "type": "integer", "description": "seconds since 1970-01-01 UTC" },
                        "by": { "type": "integer", "description": "staff id; 0 the system" },
                        "device": { "type": ["string", "null"] },
                        "body": { "type": "object" }
                    },
                    "required": ["id", "rev", "at", "by", "body"]
                }
            },
            "required": ["kind", "schema", "record"]
        }),
    );
    serde_json::json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "Mamoru export",
        "$defs": defs,
    })
}
