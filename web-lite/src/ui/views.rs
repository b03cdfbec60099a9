//! Typed views: one struct per page template (askama, compile-checked, HTML-escaped), built from
//! what the service returns. Formatting for people lives here: 和暦 dates, Japan time, labels.

use std::collections::HashMap;

use askama::Template;
use mamoru_core::Error;
use mamoru_core::case::{CaseStatus, IntakeKind, Note, SafetyCheck, SafetyMethod};
use mamoru_core::code_table::{Code, CodeTable};
use mamoru_core::deadline::ClockStatus;
use mamoru_core::ids::StaffId;
use mamoru_core::person::{Attachment, Child, FaceSheetEdit, MemberRef, PersonName, Sex};
use mamoru_core::protection::{PlaceKind, Protection, StepKind, WarrantOutcome};
use mamoru_core::service::Versioned;
use mamoru_core::service::{BoardItem, ChildSummary, ChildView, MessageItem, SessionInfo};
use mamoru_core::staff::Action;
use mamoru_core::time::{Date, JST_OFFSET, Timestamp};
use mamoru_core::wareki;

/// What every signed-in page shows around its content.
pub(crate) struct Chrome {
    pub title: String,
    pub page: &'static str,
    pub user: String,
    pub role: &'static str,
    pub form_key: String,
    /// The case or child this page shows (0: none), so live events can refresh it.
    pub case_id: u64,
    pub child_id: u64,
    /// Which live events refresh this page: `board`, `case`, `child` or empty.
    pub live: &'static str,
    /// The change-log position read before the page's data: the event stream starts there, so
    /// a change between drawing the page and connecting is not missed (0: from "now").
    pub after: u64,
    /// The menu offers 検索 and 新規受付 only to those whose role may use them.
    pub may_search: bool,
    pub may_intake: bool,
}

impl Chrome {
    pub(crate) fn new(session: &SessionInfo, title: impl Into<String>, page: &'static str) -> Self {
        Self {
            title: title.into(),
            page,
            user: session.actor.display_name().to_owned(),
            role: session.actor.role().label(),
            may_search: session.actor.may(Action::Search),
            may_intake: session.actor.may(Action::OpenCase),
            form_key: session.form_key.clone(),
            case_id: 0,
            child_id: 0,
            live: "",
            after: 0,
        }
    }
}

/// `令和8年11月24日 10:30` (Japan time).
pub(crate) fn datetime(at: Timestamp) -> String {
    let secs = (at.0 + JST_OFFSET).rem_euclid(86_400);
    format!("{} {:02}:{:02}", wareki::format(at.jst_date()), secs / 3600, secs % 3600 / 60)
}

/// The value of a `datetime-local` input: `2026-11-24T10:30` (Japan time).
pub(crate) fn input_datetime(at: Timestamp) -> String {
    let s = at.to_jst_string();
    s.get(..16).unwrap_or(&s).to_owned()
}

/// `あと3時間12分` or `2時間5分超過`.
pub(crate) fn remaining(due: Timestamp, now: Timestamp) -> String {
    let left = due.0 - now.0;
    let span = |s: i64| {
        let (d, h, m) = (s / 86_400, s % 86_400 / 3600, s % 3600 / 60);
        match (d, h) {
            (0, 0) => format!("{m}分"),
            (0, _) => format!("{h}時間{m}分"),
            _ => format!("{d}日{h}時間"),
        }
    };
    if left > 0 { format!("あと{}", span(left)) } else { format!("{}超過", span(-left)) }
}

fn birth(date: Option<Date>, today: Date) -> String {
    date.map_or_else(
        || "不明".to_owned(),
        |d| format!("{}（{}歳）", wareki::format(d), d.age_on(today).max(0)),
    )
}

pub(crate) fn label(tables: &[Versioned<CodeTable>], key: &str, code: &Code) -> String {
    tables
        .iter()
        .find(|t| t.body.key == key)
        .and_then(|t| t.body.label(code))
        .map_or_else(|| code.0.clone(), str::to_owned)
}

/// The entries of a code table valid today, for a `<select>`.
pub(crate) fn options(tables: &[Versioned<CodeTable>], key: &str, today: Date) -> Vec<(String, String)> {
    tables
        .iter()
        .find(|t| t.body.key == key)
        .map(|t| {
            t.body
                .entries
                .iter()
                .filter(|e| e.valid_on(today))
                .map(|e| (e.code.clone(), e.label.clone()))
                .collect()
        })
        .unwrap_or_default()
}

pub(crate) fn staff_name(names: &HashMap<StaffId, String>, id: StaffId) -> String {
    names.get(&id).cloned().unwrap_or_else(|| format!("職員{}", id.0))
}

pub(crate) fn method_label(m: SafetyMethod) -> &'static str {
    match m {
        SafetyMethod::Sighted => "目視",
        SafetyMethod::Interview => "面接",
        SafetyMethod::ByAgency => "関係機関による確認",
    }
}

pub(crate) const METHODS: [(&str, &str); 3] =
    [("sighted", "目視"), ("interview", "面接"), ("by_agency", "関係機関による確認")];

fn status(s: CaseStatus) -> (&'static str, &'static str) {
    match s {
        CaseStatus::Open => ("対応中", "open"),
        CaseStatus::Closed => ("終結", "closed"),
    }
}

fn intake_kind(k: IntakeKind) -> &'static str {
    match k {
        IntakeKind::Consultation => "相談",
        IntakeKind::AbuseReport => "虐待通告",
    }
}

pub(crate) struct ClockRow {
    pub label: &'static str,
    pub case_no: String,
    pub case_id: u64,
    pub due: String,
    pub due_epoch: i64,
    pub remaining: String,
    pub class: &'static str,
}

impl ClockRow {
    pub(crate) fn of(item: &BoardItem, now: Timestamp) -> Self {
        Self {
            label: item.label,
            case_no: item.case_no.clone(),
            case_id: item.deadline.case.0,
            due: datetime(item.deadline.due),
            due_epoch: item.deadline.due.0,
            remaining: remaining(item.deadline.due, now),
            class: match item.status {
                ClockStatus::Overdue => "overdue",
                ClockStatus::DueSoon => "soon",
                ClockStatus::Ok => "ok",
            },
        }
    }
}

#[derive(Template)]
#[template(path = "login.html")]
pub(crate) struct LoginPage {
    pub login: String,
    pub message: Option<String>,
    pub notice: Option<String>,
}

#[derive(Template)]
#[template(path = "register.html")]
pub(crate) struct RegisterPage {
    pub code: String,
    pub message: Option<String>,
}

/// The second-factor enrolment: the secret as a QR code, as a key to type, and as a link for an
/// authenticator app on the tablet itself.
#[derive(Template)]
#[template(path = "totp.html")]
pub(crate) struct TotpPage {
    pub name: String,
    pub form_key: String,
    /// Drawn here from numbers only: safe to embed unescaped.
    pub qr: String,
    pub key: String,
    pub url: String,
    pub message: Option<String>,
}

impl TotpPage {
    pub fn new(session: &SessionInfo, url: &str, message: Option<String>) -> Self {
        Self {
            name: session.actor.display_name().to_owned(),
            form_key: session.form_key.clone(),
            qr: super::enrol::qr_svg(url).unwrap_or_default(),
            key: mamoru_core::totp::url_key(url).unwrap_or_default(),
            url: url.to_owned(),
            message,
        }
    }
}

#[derive(Template)]
#[template(path = "error.html")]
pub(crate) struct ErrorPage {
    pub chrome: Chrome,
    pub heading: &'static str,
    pub message: String,
}

#[derive(Template)]
#[template(path = "home.html")]
pub(crate) struct HomePage {
    pub chrome: Chrome,
    pub unit: String,
    pub mine: bool,
    pub clocks: Vec<ClockRow>,
    pub messages: Vec<BoardMessage>,
}

/// A message from a case's thread, as the board lists it: the start of it, and where to read on.
pub(crate) struct BoardMessage {
    pub case_id: u64,
    pub case_no: String,
    pub author: String,
    pub at: String,
    pub body: String,
}

impl BoardMessage {
    pub(crate) fn of(m: &MessageItem, names: &HashMap<StaffId, String>) -> Self {
        let body = &m.message.body.body;
        let mut short: String = body.chars().take(80).collect();
        if short.len() < body.len() {
            short.push('…');
        }
        Self {
            case_id: m.message.body.case.0,
            case_no: m.case_no.clone(),
            author: staff_name(names, m.message.body.author),
            at: datetime(m.message.body.at),
            body: short,
        }
    }
}

pub(crate) struct ResultRow {
    pub id: u64,
    pub name: String,
    pub kana: String,
    pub birth: String,
    pub sex: &'static str,
}

impl ResultRow {
    pub(crate) fn of(s: &ChildSummary, today: Date) -> Self {
        Self {
            id: s.id.0,
            name: s.name.clone(),
            kana: s.kana.clone(),
            birth: birth(s.birth_date, today),
            sex: s.sex.label(),
        }
    }
}

#[derive(Template)]
#[template(path = "search.html")]
pub(crate) struct SearchPage {
    pub chrome: Chrome,
    pub q: String,
    pub searched: bool,
    pub results: Vec<ResultRow>,
    pub message: Option<String>,
}

pub(crate) struct MemberRow {
    pub name: String,
    pub kana: String,
    pub relation: String,
    pub child_id: Option<u64>,
    pub guardian: bool,
}

pub(crate) struct CaseRow {
    pub id: u64,
    pub case_no: String,
    pub status: &'static str,
    pub status_class: &'static str,
    pub kind: &'static str,
    pub received: String,
}

pub(crate) struct NoteRow {
    pub at: String,
    pub kind: String,
    pub author: String,
    pub body: String,
    pub correction: Option<String>,
    pub case_no: Option<String>,
    /// Shown on the case page (the child page lists notes without them).
    pub photos: Vec<PhotoView>,
}

impl NoteRow {
    fn of(n: &Versioned<Note>, tables: &[Versioned<CodeTable>], names: &HashMap<StaffId, String>) -> Self {
        Self {
            at: datetime(n.body.at),
            kind: label(tables, "note_kind", &n.body.kind),
            author: staff_name(names, n.body.author),
            body: n.body.body.clone(),
            correction: n.body.correction.clone(),
            case_no: None,
            photos: Vec::new(),
        }
    }
}

/// One message of a case's thread, oldest first on the page (as a conversation reads).
pub(crate) struct ThreadRow {
    pub at: String,
    pub author: String,
    pub body: String,
    /// Written by the reader.
    pub mine: bool,
}

#[derive(Template)]
#[template(path = "child.html")]
pub(crate) struct ChildPage {
    pub chrome: Chrome,
    pub name: String,
    pub kana: String,
    pub birth: String,
    pub sex: &'static str,
    pub address: String,
    pub phones: String,
    pub affiliation: String,
    pub members: Vec<MemberRow>,
    pub cases: Vec<CaseRow>,
    pub notes: Vec<NoteRow>,
    pub may_edit: bool,
    pub may_open_case: bool,
    /// The face sheet's revision, shown so an editor knows which version they read.
    pub rev: u64,
    pub notice: Option<String>,
}

impl ChildPage {
    pub(crate) fn of(
        mut chrome: Chrome,
        v: &ChildView,
        tables: &[Versioned<CodeTable>],
        names: &HashMap<StaffId, String>,
        today: Date,
    ) -> Self {
        let c = &v.child.body;
        chrome.child_id = v.child.id;
        chrome.live = "child";
        let case_nos: HashMap<u64, String> = v.cases.iter().map(|k| (k.id, k.body.case_no.clone())).collect();
        Self {
            chrome,
            name: c.name.full(),
            kana: c.name.full_kana(),
            birth: if c.unborn {
                format!("出生予定 {}", birth(c.birth_date, today))
            } else {
                birth(c.birth_date, today)
            },
            sex: c.sex.label(),
            address: c.address.clone(),
            phones: c.phones.join("、"),
            affiliation: c.affiliation.clone(),
            members: v
                .members
                .iter()
                .filter(|m| m.who != MemberRef::Child(mamoru_core::ids::ChildId(v.child.id)))
                .map(|m| MemberRow {
                    name: m.name.clone(),
                    kana: m.kana.clone(),
                    relation: m.relation_label.clone(),
                    child_id: match m.who {
                        MemberRef::Child(id) => Some(id.0),
                        MemberRef::Person(_) => None,
                    },
                    guardian: m.guardian,
                })
                .collect(),
            cases: v
                .cases
                .iter()
                .map(|k| {
                    let (status, status_class) = status(k.body.status);
                    CaseRow {
                        id: k.id,
                        case_no: k.body.case_no.clone(),
                        status,
                        status_class,
                        kind: intake_kind(k.body.intake.kind),
                        received: wareki::format(k.body.intake.received_at.jst_date()),
                    }
                })
                .collect(),
            notes: v
                .notes
                .iter()
                .map(|n| NoteRow {
                    case_no: case_nos.get(&n.body.case.0).cloned(),
                    ..NoteRow::of(n, tables, names)
                })
                .collect(),
            may_edit: v.may_edit,
            may_open_case: v.may_open_case,
            rev: v.child.rev,
            notice: None,
        }
    }
}

pub(crate) struct CheckRow {
    pub at: String,
    pub method: &'static str,
    pub by: String,
    pub seen: bool,
    pub place: String,
    pub state: String,
    pub photos: Vec<PhotoView>,
    pub marks: Vec<MarkView>,
}

/// The outline of a child's body on the body map, front and back alike, in a 100×200 box; marks
/// are placed on it at fractions of its width and height.
pub(crate) const BODY_OUTLINE: &str = r#"<g class="outline"><circle cx="50" cy="18" r="12"/><rect x="45" y="28" width="10" height="8"/><rect x="32" y="35" width="36" height="62" rx="8"/><rect x="18" y="37" width="12" height="58" rx="6"/><rect x="70" y="37" width="12" height="58" rx="6"/><circle cx="24" cy="100" r="5"/><circle cx="76" cy="100" r="5"/><rect x="34" y="95" width="14" height="80" rx="6"/><rect x="52" y="95" width="14" height="80" rx="6"/><ellipse cx="41" cy="181" rx="8" ry="4"/><ellipse cx="59" cy="181" rx="8" ry="4"/></g>"#;

/// One mark of a recorded body map.
pub(crate) struct MarkView {
    pub n: usize,
    pub front: bool,
    pub side: &'static str,
    pub cx: String,
    pub cy: String,
    pub size: String,
    pub note: String,
}

impl MarkView {
    fn of(n: usize, i: &mamoru_core::case::Injury) -> Self {
        let front = i.side == mamoru_core::case::BodySide::Front;
        Self {
            n,
            front,
            side: if front { "前" } else { "後ろ" },
            cx: format!("{:.1}", i.x * 100.0),
            cy: format!("{:.1}", i.y * 200.0),
            size: i.size_cm.map(|s| format!("{s}cm")).unwrap_or_default(),
            note: i.description.clone(),
        }
    }
}

impl CheckRow {
    fn of(c: &SafetyCheck, d: &CaseData) -> Self {
        Self {
            at: datetime(c.at),
            method: method_label(c.method),
            by: c
                .by
                .iter()
                .map(|s| staff_name(&d.names, *s))
                .chain((!c.agency.is_empty()).then(|| format!("確認: {}", c.agency)))
                .collect::<Vec<_>>()
                .join("、"),
            seen: c.seen_directly,
            place: c.place.clone(),
            state: c.child_state.clone(),
            photos: c.attachments.iter().map(|a| PhotoView::of(c.case.0, a, d)).collect(),
            marks: c.injuries.iter().enumerate().map(|(n, i)| MarkView::of(n + 1, i)).collect(),
        }
    }
}

/// A photo on a record, with the server's stamp: when it arrived, who sent it, which child.
pub(crate) struct PhotoView {
    pub url: String,
    pub stamp: String,
    pub caption: String,
}

impl PhotoView {
    fn of(case: u64, a: &Attachment, d: &CaseData) -> Self {
        let by =
            d.view.photos.iter().find(|p| p.body.sha256 == a.sha256).map(|p| staff_name(&d.names, p.body.by));
        Self {
            url: format!("/api/v1/cases/{case}/photos/{}", a.sha256),
            stamp: format!(
                "{}撮影・{}・{}",
                a.taken_at.map(datetime).unwrap_or_default(),
                by.unwrap_or_default(),
                d.child_name
            ),
            caption: a.caption.clone(),
        }
    }
}

/// A temporary protection as the case page shows it, and which of its next steps are open.
pub(crate) struct ProtectionView {
    pub id: u64,
    pub rev: u64,
    pub active: bool,
    pub started: String,
    pub place: String,
    pub consent: bool,
    pub reason: String,
    /// The first day after the current period (two months, or the latest extension).
    pub period_end: String,
    pub ended: Option<String>,
    /// The 一時保護状: requested, decided, challenged, as lines.
    pub warrant: Vec<String>,
    pub extensions: Vec<String>,
    /// 意見聴取: when, how, what the child said (or why it could not be heard).
    pub hearing: Option<String>,
    /// Started in urgency with the hearing to follow: by when.
    pub hearing_due: Option<String>,
    /// The steps core says are open (`StepKind::as_str`): each has its form.
    pub steps: Vec<&'static str>,
}

impl ProtectionView {
    /// `open`: the steps core says the protection can take now.
    fn of(v: &Versioned<Protection>, open: &[StepKind]) -> Self {
        let p = &v.body;
        let mut warrant = Vec::new();
        if let Some(w) = &p.warrant {
            warrant.push(format!("請求 {}", datetime(w.requested_at)));
            if let (Some(at), Some(outcome)) = (w.decided_at, w.outcome) {
                let o = match outcome {
                    WarrantOutcome::Issued => "発付",
                    WarrantOutcome::Refused => "却下",
                };
                warrant.push(format!("{o} {}", datetime(at)));
            }
            if let Some(at) = w.challenge_filed_at {
                warrant.push(format!("準抗告 {}", datetime(at)));
            }
        }
        let extensions = p
            .extensions
            .iter()
            .map(|e| {
                let court = e.court.as_ref().map_or(String::new(), |c| match c.approved_on {
                    Some(d) => format!("・家裁承認 {}", wareki::format(d)),
                    None => format!("・家裁に申立て {}（承認待ち）", wareki::format(c.petitioned_on)),
                });
                format!(
                    "{}決定・{}まで・同意{}{court}",
                    datetime(e.decided_at),
                    wareki::format(e.until.plus_days(-1)),
                    if e.guardian_consent { "あり" } else { "なし" }
                )
            })
            .collect();
        let active = p.is_active();
        Self {
            id: v.id,
            rev: v.rev,
            active,
            started: datetime(p.started_at),
            place: format!(
                "{}{}{}",
                match p.place_kind {
                    PlaceKind::Shelter => "一時保護所",
                    PlaceKind::Entrusted => "委託一時保護",
                },
                if p.place.is_empty() { "" } else { "・" },
                p.place
            ),
            consent: p.guardian_consent,
            reason: p.reason.clone(),
            period_end: wareki::format(p.period_end().plus_days(-1)),
            ended: p.ended.as_ref().map(|e| format!("{}・{}", datetime(e.at), e.reason)),
            warrant,
            extensions,
            hearing: p.hearing.as_ref().map(|h| match &h.not_possible_reason {
                Some(r) => format!("{}・聴取できず：{r}", datetime(h.at)),
                None if h.method.is_empty() => format!("{}・{}", datetime(h.at), h.views),
                None => format!("{}・{}：{}", datetime(h.at), h.method, h.views),
            }),
            // Due at midnight: people read the last day it may still be done.
            hearing_due: p
                .hearing_due
                .filter(|_| p.hearing.is_none())
                .map(|due| format!("{}まで", wareki::format(due.plus(-1).jst_date()))),
            steps: open.iter().map(|s| s.as_str()).collect(),
        }
    }
}

impl ProtectionView {
    /// Whether the form of `step` is offered.
    pub(crate) fn opens(&self, step: &str) -> bool {
        self.steps.contains(&step)
    }
}

/// What the note form holds: kept when the server refuses it, so nothing typed is lost.
#[derive(Default)]
pub(crate) struct NoteForm {
    pub at: String,
    pub kind: String,
    pub body: String,
    /// The SHA-256 of each photo already sent, comma-separated (the page draws them).
    pub photos: String,
}

#[derive(Default)]
pub(crate) struct CheckForm {
    pub at: String,
    pub method: String,
    pub seen_directly: bool,
    pub agency: String,
    pub place: String,
    pub child_state: String,
    /// The SHA-256 of each photo already sent, comma-separated (the page draws them).
    pub photos: String,
    /// The body map's marks as JSON (the page draws them).
    pub injuries: String,
}

/// Which forms the case page offers (the ones core would accept from this reader).
pub(crate) struct Can {
    may: Vec<&'static str>,
}

impl Can {
    fn to(&self, action: Action) -> bool {
        self.may.contains(&action.as_str())
    }
    pub(crate) fn note(&self) -> bool {
        self.to(Action::AddNote)
    }
    pub(crate) fn check(&self) -> bool {
        self.to(Action::RecordSafetyCheck)
    }
    pub(crate) fn protect(&self) -> bool {
        self.to(Action::RecordProtection)
    }
    pub(crate) fn edit(&self) -> bool {
        self.to(Action::EditCase)
    }
    pub(crate) fn assess(&self) -> bool {
        self.to(Action::RecordAssessment)
    }
    pub(crate) fn support(&self) -> bool {
        self.to(Action::RecordSupport)
    }
    pub(crate) fn meet(&self) -> bool {
        self.to(Action::RecordMeeting)
    }
    pub(crate) fn close(&self) -> bool {
        self.to(Action::CloseCase)
    }
}

#[derive(Template)]
#[template(path = "case.html")]
pub(crate) struct CasePage {
    pub chrome: Chrome,
    pub case_id: u64,
    pub case_no: String,
    pub status: &'static str,
    pub status_class: &'static str,
    pub child_id: u64,
    pub child_name: String,
    pub child_kana: String,
    pub intake_kind: &'static str,
    pub received: String,
    pub route: String,
    pub consultation_type: String,
    pub chief_complaint: String,
    pub clocks: Vec<ClockRow>,
    pub checks: Vec<CheckRow>,
    pub notes: Vec<NoteRow>,
    pub can: Can,
    pub thread: Vec<ThreadRow>,
    /// The message being typed, kept when the server refuses it.
    pub thread_form: String,
    pub protections: Vec<ProtectionView>,
    /// Whether a protection is in force (no new one can start).
    pub protected: bool,
    pub now_input: String,
    pub note_kinds: Vec<(String, String)>,
    pub methods: Vec<(String, String)>,
    pub note_form: NoteForm,
    pub check_form: CheckForm,
    pub outline: &'static str,
    /// The investigation, assessments, support, meetings and closure.
    pub work: super::casework::WorkView,
    pub open: bool,
    /// The closure reason being typed, kept when the server refuses it.
    pub closure_form: String,
    pub message: Option<String>,
    pub notice: Option<String>,
}

/// What the case page is built from.
pub(crate) struct CaseData {
    pub view: mamoru_core::service::CaseView,
    pub child_name: String,
    pub child_kana: String,
    pub tables: Vec<Versioned<CodeTable>>,
    pub sheets: Vec<Versioned<mamoru_core::assessment::AssessmentSheet>>,
    pub names: HashMap<StaffId, String>,
    pub now: Timestamp,
    /// Who reads the page (their messages are marked as theirs).
    pub reader: StaffId,
    /// The change-log position read before the rest.
    pub after: u64,
}

impl CasePage {
    pub(crate) fn of(mut chrome: Chrome, d: &CaseData) -> Self {
        let case = &d.view.case.body;
        chrome.case_id = d.view.case.id;
        chrome.child_id = case.child.0;
        chrome.live = "case";
        chrome.after = d.after;
        let (status, status_class) = status(case.status);
        let now_input = input_datetime(d.now);
        let note_kinds = options(&d.tables, "note_kind", d.now.jst_date());
        Self {
            chrome,
            case_id: d.view.case.id,
            case_no: case.case_no.clone(),
            status,
            status_class,
            child_id: case.child.0,
            child_name: d.child_name.clone(),
            child_kana: d.child_kana.clone(),
            intake_kind: intake_kind(case.intake.kind),
            received: datetime(case.intake.received_at),
            route: label(&d.tables, "route", &case.intake.route),
            consultation_type: label(&d.tables, "consultation_type", &case.intake.consultation_type),
            chief_complaint: case.intake.chief_complaint.clone(),
            clocks: d.view.clocks.iter().map(|c| ClockRow::of(c, d.now)).collect(),
            checks: d.view.safety_checks.iter().map(|c| CheckRow::of(&c.body, d)).collect(),
            notes: d
                .view
                .notes
                .iter()
                .map(|n| NoteRow {
                    photos: n.body.attachments.iter().map(|a| PhotoView::of(n.body.case.0, a, d)).collect(),
                    ..NoteRow::of(n, &d.tables, &d.names)
                })
                .collect(),
            thread: d
                .view
                .messages
                .iter()
                .rev()
                .map(|m| ThreadRow {
                    at: datetime(m.body.at),
                    author: staff_name(&d.names, m.body.author),
                    body: m.body.body.clone(),
                    mine: m.body.author == d.reader,
                })
                .collect(),
            thread_form: String::new(),
            can: Can { may: d.view.may.clone() },
            work: super::casework::WorkView::of(d),
            open: case.status == CaseStatus::Open,
            closure_form: String::new(),
            protections: d
                .view
                .protections
                .iter()
                .rev()
                .map(|p| ProtectionView::of(p, d.view.open_steps.get(&p.id).map_or(&[], Vec::as_slice)))
                .collect(),
            protected: d.view.protections.iter().any(|p| p.body.is_active()),
            now_input: input_datetime(d.now),
            note_form: NoteForm {
                at: now_input.clone(),
                kind: note_kinds.first().map(|(c, _)| c.clone()).unwrap_or_default(),
                body: String::new(),
                photos: String::new(),
            },
            // Nothing assumed: the method is chosen and 目視 ticked by the person who saw the child.
            check_form: CheckForm { at: now_input, ..CheckForm::default() },
            note_kinds,
            outline: BODY_OUTLINE,
            methods: METHODS.iter().map(|(v, l)| ((*v).to_owned(), (*l).to_owned())).collect(),
            message: None,
            notice: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_read_as_people_say_them() {
        let t = Timestamp::parse("2026-11-24T10:05").unwrap();
        assert_eq!(datetime(t), "令和8年11月24日 10:05");
        assert_eq!(input_datetime(t), "2026-11-24T10:05");
        assert_eq!(remaining(t.plus(3 * 3600 + 12 * 60), t), "あと3時間12分");
        assert_eq!(remaining(t, t.plus(125 * 60)), "2時間5分超過");
        assert_eq!(remaining(t.plus(2 * 86_400 + 3600), t), "あと2日1時間");
        assert_eq!(remaining(t, t), "0分超過");
    }
}

/// The face-sheet fields as typed (and as shown back after a refusal or a conflict).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct ChildForm {
    pub family: String,
    pub given: String,
    pub family_kana: String,
    pub given_kana: String,
    pub birth: String,
    pub unborn: bool,
    pub sex: String,
    pub address: String,
    pub phones: String,
    pub affiliation: String,
    pub nationality: String,
    pub resident_no: String,
}

pub(crate) const SEXES: [(&str, &str); 3] = [("female", "女"), ("male", "男"), ("unknown", "不明")];

impl ChildForm {
    pub(crate) fn of(c: &Child) -> Self {
        Self {
            family: c.name.family.clone(),
            given: c.name.given.clone(),
            family_kana: c.name.family_kana.clone(),
            given_kana: c.name.given_kana.clone(),
            birth: c.birth_date.map(wareki::format).unwrap_or_default(),
            unborn: c.unborn,
            sex: match c.sex {
                Sex::Female => "female",
                Sex::Male => "male",
                Sex::Unknown => "unknown",
            }
            .to_owned(),
            address: c.address.clone(),
            phones: c.phones.join("\n"),
            affiliation: c.affiliation.clone(),
            nationality: c.nationality.clone(),
            resident_no: c.resident_no.clone().unwrap_or_default(),
        }
    }

    pub(crate) fn from_form(form: &HashMap<String, String>) -> Self {
        let text = |k: &str| form.get(k).map(|v| v.trim().to_owned()).unwrap_or_default();
        Self {
            family: text("family"),
            given: text("given"),
            family_kana: text("family_kana"),
            given_kana: text("given_kana"),
            birth: text("birth"),
            unborn: form.contains_key("unborn"),
            sex: text("sex"),
            address: text("address"),
            phones: text("phones"),
            affiliation: text("affiliation"),
            nationality: text("nationality"),
            resident_no: text("resident_no"),
        }
    }

    /// The edit as core's command; core puts it onto the child (the fields the form does not
    /// show are kept).
    pub(crate) fn edit(&self) -> Result<FaceSheetEdit, Error> {
        Ok(FaceSheetEdit {
            name: PersonName::new(&self.family, &self.given, &self.family_kana, &self.given_kana)?,
            birth_date: Some(self.birth.as_str())
                .filter(|b| !b.is_empty())
                .map(wareki::parse)
                .transpose()
                .map_err(Error::Date)?,
            unborn: self.unborn,
            sex: Sex::parse(&self.sex)?,
            address: self.address.clone(),
            phones: self.phones.lines().map(str::to_owned).collect(),
            affiliation: self.affiliation.clone(),
            nationality: self.nationality.clone(),
            resident_no: Some(self.resident_no.clone()),
        })
    }

    pub(crate) fn rows(&self) -> Vec<(&'static str, String)> {
        let sex = SEXES.iter().find(|(v, _)| *v == self.sex).map_or(self.sex.as_str(), |(_, l)| l);
        vec![
            ("氏名", format!("{} {}", self.family, self.given).trim().to_owned()),
            ("ふりがな", format!("{} {}", self.family_kana, self.given_kana).trim().to_owned()),
            ("生年月日", if self.unborn { format!("出生予定 {}", self.birth) } else { self.birth.clone() }),
            ("性別", sex.to_owned()),
            ("住所", self.address.clone()),
            ("電話", self.phones.lines().collect::<Vec<_>>().join("、")),
            ("所属", self.affiliation.clone()),
            ("国籍", self.nationality.clone()),
            ("宛名番号", self.resident_no.clone()),
        ]
    }
}

/// One line of the side-by-side view of a conflicting edit.
pub(crate) struct DiffRow {
    pub label: &'static str,
    pub mine: String,
    pub theirs: String,
    pub differs: bool,
    /// Both changed it, differently: the form below holds this person's text.
    pub clash: bool,
}

/// Someone else's version, saved while this person was editing.
pub(crate) struct ConflictView {
    pub rev: u64,
    pub by: String,
    pub at: String,
    pub rows: Vec<DiffRow>,
    pub back: String,
    /// The form below holds the two edits merged (`merged`), not only this person's.
    pub merged: bool,
}

impl ConflictView {
    /// `mine` and `theirs` as (label, value) rows in the same order; `current` is the version
    /// saved meanwhile, and `back` the page that shows it.
    pub(crate) fn new<T>(
        mine: Vec<(&'static str, String)>,
        theirs: Vec<(&'static str, String)>,
        current: &Versioned<T>,
        names: &HashMap<StaffId, String>,
        back: String,
    ) -> Self {
        let rows = mine
            .into_iter()
            .zip(theirs)
            .map(|((label, mine), (_, theirs))| DiffRow {
                label,
                differs: mine != theirs,
                clash: false,
                mine,
                theirs,
            })
            .collect();
        Self {
            rev: current.rev,
            by: staff_name(names, StaffId(current.by)),
            at: datetime(current.at),
            rows,
            back,
            merged: false,
        }
    }

    /// The form below holds the two edits merged: what only the other person changed is taken,
    /// and the rows labelled in `clashes`, changed by both, hold this person's text.
    pub(crate) fn merged(&mut self, clashes: &[&str]) {
        self.merged = true;
        for r in &mut self.rows {
            r.clash = clashes.contains(&r.label);
        }
    }
}

#[derive(Template)]
#[template(path = "child_edit.html")]
pub(crate) struct ChildEditPage {
    pub chrome: Chrome,
    pub child_id: u64,
    /// The revision the edit started from (after a conflict: the one now stored).
    pub rev: u64,
    pub name: String,
    pub form: ChildForm,
    pub sexes: Vec<(String, String)>,
    pub message: Option<String>,
    pub conflict: Option<ConflictView>,
}

impl ChildEditPage {
    pub(crate) fn new(chrome: Chrome, child: &Versioned<Child>, form: ChildForm) -> Self {
        Self {
            chrome,
            child_id: child.id,
            rev: child.rev,
            name: child.body.name.full(),
            form,
            sexes: SEXES.iter().map(|(v, l)| ((*v).to_owned(), (*l).to_owned())).collect(),
            message: None,
            conflict: None,
        }
    }
}
