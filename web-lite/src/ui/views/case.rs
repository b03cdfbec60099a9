//! The case page: its clocks, safety checks with the body map, protections and their open
//! steps, notes, messages, and the field forms as typed.

use askama::Template;
use mamoru_core::case::{BodySide, CaseStatus, SafetyCheck};
use mamoru_core::ids::StaffId;
use mamoru_core::person::Attachment;
use mamoru_core::protection::{PlaceKind, Protection, StepKind, WarrantOutcome};
use mamoru_core::service::{CasePageView, Versioned};
use mamoru_core::staff::Action;
use mamoru_core::wareki;

use super::{
    Chrome, ClockRow, METHODS, NoteRow, ThreadRow, datetime, intake_kind, label, method_label, options,
    staff_name, status,
};

pub(crate) struct CheckRow {
    /// Its 安全確認記録 as PDF.
    pub pdf: String,
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
/// The body map's figure seen from `side`: core's regions (`case::body::REGIONS`), each named
/// in `data-part` when `named` (the form's, so that the script says where a mark is as it is
/// placed; a recorded map needs no names), and 右 and 左 on the child's sides (the child's
/// right is on the viewer's left in front). Drawn once; every case page shows the same four.
pub(crate) fn body_outline(side: BodySide, named: bool) -> &'static str {
    static FIGURES: std::sync::OnceLock<[String; 4]> = std::sync::OnceLock::new();
    let figures = FIGURES.get_or_init(|| {
        [
            draw_outline(BodySide::Front, true),
            draw_outline(BodySide::Back, true),
            draw_outline(BodySide::Front, false),
            draw_outline(BodySide::Back, false),
        ]
    });
    &figures[usize::from(side == BodySide::Back) + 2 * usize::from(!named)]
}

fn draw_outline(side: BodySide, named: bool) -> String {
    use mamoru_core::case::body::{REGIONS, Shape};
    use std::fmt::Write;
    let mut out = String::from(r#"<g class="outline">"#);
    for region in REGIONS {
        let name = if named { format!(r#" data-part="{}""#, region.name(side)) } else { String::new() };
        let _ = match region.shape {
            Shape::Rect { x, y, w, h } => {
                write!(out, r#"<rect x="{x}" y="{y}" width="{w}" height="{h}"{name}/>"#)
            }
            Shape::Circle { cx, cy, r } => write!(out, r#"<circle cx="{cx}" cy="{cy}" r="{r}"{name}/>"#),
            Shape::Ellipse { cx, cy, rx, ry } => {
                write!(out, r#"<ellipse cx="{cx}" cy="{cy}" rx="{rx}" ry="{ry}"{name}/>"#)
            }
        };
    }
    let (left, right) = if side == BodySide::Front { ("右", "左") } else { ("左", "右") };
    let _ = write!(
        out,
        r#"</g><text class="lr" x="3" y="12">{left}</text><text class="lr end" x="97" y="12">{right}</text>"#
    );
    out
}

/// One mark of a recorded body map.
pub(crate) struct MarkView {
    pub n: usize,
    pub front: bool,
    pub side: &'static str,
    /// The part of the body (`右上腕`), as core names it; empty off the figure.
    pub part: String,
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
            part: i.part().unwrap_or_default(),
            cx: format!("{:.1}", i.x * 100.0),
            cy: format!("{:.1}", i.y * 200.0),
            size: i.size_cm.map(|s| format!("{s}cm")).unwrap_or_default(),
            note: i.description.clone(),
        }
    }
}

impl CheckRow {
    fn of(v: &mamoru_core::service::Versioned<SafetyCheck>, d: &CasePageView) -> Self {
        let c = &v.body;
        Self {
            pdf: format!("/api/v1/cases/{}/forms/safety-check?check={}", c.case.0, v.id),
            at: datetime(c.at),
            method: method_label(c.method),
            by: c
                .by
                .iter()
                .map(|s| staff_name(&d.staff_names, *s))
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
    fn of(case: u64, a: &Attachment, d: &CasePageView) -> Self {
        let by = d
            .case
            .photos
            .iter()
            .find(|p| p.body.sha256 == a.sha256)
            .map(|p| staff_name(&d.staff_names, p.body.by));
        Self {
            url: format!("/api/v1/cases/{case}/photos/{}", a.sha256),
            stamp: format!(
                "{}撮影・{}・{}",
                a.taken_at.map(datetime).unwrap_or_default(),
                by.unwrap_or_default(),
                d.case.child.name
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
    /// 終結伺い (a caseworker's; a supervisor closes).
    pub(crate) fn ask_closure(&self) -> bool {
        self.to(Action::AskClosure)
    }
    pub(crate) fn restrict(&self) -> bool {
        self.to(Action::RestrictCase)
    }
    pub(crate) fn assign(&self) -> bool {
        self.to(Action::AssignCases)
    }
    /// A reporter is on file and the reader's role may see them (on a page of its own).
    pub(crate) fn reporter(&self) -> bool {
        self.to(Action::ViewReporter)
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
    /// The body map's figure, front and back (`body_outline`): the form's, named, and the
    /// recorded checks'.
    pub outline_front: &'static str,
    pub outline_back: &'static str,
    pub figure_front: &'static str,
    pub figure_back: &'static str,
    /// The investigation, assessments, support, meetings and closure.
    pub work: crate::ui::casework::WorkView,
    pub open: bool,
    /// The closure reason being typed, kept when the server refuses it.
    pub closure_form: String,
    pub message: Option<String>,
    pub notice: Option<String>,
    /// 帳票: (URL, title, addressed to the family) of each form the case has now.
    pub forms: Vec<(String, String, bool)>,
}

impl CasePage {
    pub(crate) fn of(mut chrome: Chrome, d: &CasePageView, reader: StaffId) -> Self {
        let case = &d.case.case.body;
        chrome.case_id = d.case.case.id;
        chrome.child_id = case.child.0;
        chrome.live = "case";
        chrome.after = d.after;
        let (status, status_class) = status(case.status);
        let now_input = datetime(d.now);
        let note_kinds = options(&d.code_tables, "note_kind", d.now.jst_date());
        Self {
            chrome,
            case_id: d.case.case.id,
            case_no: case.case_no.clone(),
            forms: d
                .case
                .forms
                .iter()
                .map(|f| {
                    (
                        format!("/api/v1/cases/{}/forms/{}", d.case.case.id, f.form.slug()),
                        f.title.clone(),
                        f.family_facing,
                    )
                })
                .collect(),
            status,
            status_class,
            child_id: case.child.0,
            child_name: d.case.child.name.clone(),
            child_kana: d.case.child.kana.clone(),
            intake_kind: intake_kind(case.intake.kind),
            received: datetime(case.intake.received_at),
            route: label(&d.code_tables, "route", &case.intake.route),
            consultation_type: label(&d.code_tables, "consultation_type", &case.intake.consultation_type),
            chief_complaint: case.intake.chief_complaint.clone(),
            clocks: d.case.clocks.iter().map(|c| ClockRow::of(c, d.now)).collect(),
            checks: d.case.safety_checks.iter().map(|c| CheckRow::of(c, d)).collect(),
            notes: d
                .case
                .notes
                .iter()
                .map(|n| NoteRow {
                    photos: n.body.attachments.iter().map(|a| PhotoView::of(n.body.case.0, a, d)).collect(),
                    ..NoteRow::of(n, &d.code_tables, &d.staff_names)
                })
                .collect(),
            thread: d
                .case
                .messages
                .iter()
                .rev()
                .map(|m| ThreadRow {
                    id: m.id,
                    at: datetime(m.body.at),
                    author: staff_name(&d.staff_names, m.body.author),
                    body: m.body.body.clone(),
                    mine: m.body.author == reader,
                })
                .collect(),
            thread_form: String::new(),
            can: Can { may: d.case.may.clone() },
            work: crate::ui::casework::WorkView::of(d, reader),
            open: case.status == CaseStatus::Open,
            closure_form: String::new(),
            protections: d
                .case
                .protections
                .iter()
                .rev()
                .map(|p| ProtectionView::of(p, d.case.open_steps.get(&p.id).map_or(&[], Vec::as_slice)))
                .collect(),
            protected: d.case.protections.iter().any(|p| p.body.is_active()),
            now_input: now_input.clone(),
            note_form: NoteForm {
                at: now_input.clone(),
                kind: note_kinds.first().map(|(c, _)| c.clone()).unwrap_or_default(),
                body: String::new(),
                photos: String::new(),
            },
            // Nothing assumed: the method is chosen and 目視 ticked by the person who saw the child.
            check_form: CheckForm { at: now_input, ..CheckForm::default() },
            note_kinds,
            outline_front: body_outline(BodySide::Front, true),
            outline_back: body_outline(BodySide::Back, true),
            figure_front: body_outline(BodySide::Front, false),
            figure_back: body_outline(BodySide::Back, false),
            methods: METHODS.iter().map(|(v, l)| ((*v).to_owned(), (*l).to_owned())).collect(),
            message: None,
            notice: None,
        }
    }
}
