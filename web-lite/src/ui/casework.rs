//! The casework on a case beyond the field forms, each on a page of its own reached from the case
//! page: editing the investigation (担当, 虐待の内容, 児童福祉司意見, the four diagnoses, 判定, the
//! next review) against the revision it started from, with both versions side by side when
//! someone saved meanwhile; assessment sheets whose result core computes from the answers;
//! support and placement decisions (援助・措置) with the child's hearing; meetings; and, on the
//! case page itself, closing and reopening. Every new record is sent with an idempotency key, so
//! a form sent again after a lost answer is stored once.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use askama::Template;
use mamoru_core::assessment::AssessmentSheet;
use mamoru_core::case::{Case, CaseEdit, DiagnosisKind, NewHearing, NewMeeting, Support, SupportDecision};
use mamoru_core::code_table::{Code, CodeTable};
use mamoru_core::ids::{CaseId, StaffId, SupportId};
use mamoru_core::service::Versioned;
use mamoru_core::service::{CaseView, SessionInfo};
use mamoru_core::staff::Action;
use mamoru_core::time::{Date, Timestamp};
use mamoru_core::{Error, Service, wareki};
use serde::Deserialize;
use warp::http::StatusCode;
use warp::reply::Response;
use warp::{Filter, Rejection};

use super::views::{CaseData, Chrome, ConflictView, datetime, input_datetime, label, options, staff_name};
use super::{
    Page, blocking, case_form, case_write, check_form, error_page, html, idempotency_key, message, redirect,
    rev, signed_in, status_of, text,
};

/// The four diagnoses, in the order the page shows them: kind, form field, label.
const DIAGNOSES: [(DiagnosisKind, &str, &str); 4] = [
    (DiagnosisKind::Social, "social", "社会診断"),
    (DiagnosisKind::Psychological, "psychological", "心理診断"),
    (DiagnosisKind::Medical, "medical", "医学診断"),
    (DiagnosisKind::Behavioural, "behavioural", "行動診断"),
];

/// The codes of the checkboxes named `{prefix}{code}` that are ticked, sorted.
fn ticked(form: &HashMap<String, String>, prefix: &str) -> Vec<String> {
    let mut out: Vec<String> =
        form.keys().filter_map(|k| k.strip_prefix(prefix)).map(str::to_owned).collect();
    out.sort();
    out
}

/// A date field (`2026-11-24` from a date input, or 和暦 typed): empty is none.
fn date(form: &HashMap<String, String>, key: &str) -> Result<Option<Date>, Error> {
    let t = text(form, key);
    if t.is_empty() { Ok(None) } else { Ok(Some(wareki::parse(&t)?)) }
}

fn iso(d: Option<Date>) -> String {
    d.map(|d| d.to_string()).unwrap_or_default()
}

fn wareki_or_blank(d: Option<Date>) -> String {
    d.map(wareki::format).unwrap_or_default()
}

/// Everything a task page needs about its case, read for the session.
pub(crate) struct Context {
    pub view: CaseView,
    pub child_name: String,
    pub tables: Vec<Versioned<CodeTable>>,
    pub names: HashMap<StaffId, String>,
    /// The case's unit's active staff (assignment, attendees).
    pub staff: Vec<(StaffId, String)>,
    pub sheets: Vec<Versioned<AssessmentSheet>>,
    pub now: Timestamp,
}

fn context(svc: &Service, session: &SessionInfo, id: u64) -> Result<Context, Error> {
    let actor = &session.actor;
    let view = svc.case(actor, CaseId(id))?;
    let child = svc.child(actor, view.case.body.child)?;
    Ok(Context {
        child_name: child.child.body.name.full(),
        staff: svc.unit_staff(actor, view.case.body.unit)?,
        tables: svc.code_tables()?,
        names: svc.staff_names(actor)?,
        sheets: svc.assessment_sheets()?,
        now: svc.now(),
        view,
    })
}

/// The case a task page is about, as its heading shows it.
pub(crate) struct CaseHead {
    pub id: u64,
    pub no: String,
    pub child: String,
}

impl CaseHead {
    fn of(cx: &Context) -> Self {
        Self { id: cx.view.case.id, no: cx.view.case.body.case_no.clone(), child: cx.child_name.clone() }
    }
}

fn chrome(session: &SessionInfo, title: &str, cx: &Context) -> Chrome {
    let mut c = Chrome::new(session, format!("{title} {}", cx.view.case.body.case_no), "case");
    c.case_id = cx.view.case.id;
    c.child_id = cx.view.case.body.child.0;
    c
}

/// A staff checkbox list: (id, name, ticked).
fn staff_boxes(cx: &Context, ticked: &[u64]) -> Vec<(u64, String, bool)> {
    cx.staff.iter().map(|(id, name)| (id.0, name.clone(), ticked.contains(&id.0))).collect()
}

// ---- the investigation ------------------------------------------------------------------------

/// The case's working fields as typed (and as shown back after a refusal or a conflict).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct CaseForm {
    pub assigned: Vec<u64>,
    /// The `abuse_type` codes ticked.
    pub abuse: Vec<String>,
    pub perpetrator: String,
    pub severity: String,
    pub opinion: String,
    /// In the order of `DIAGNOSES`.
    pub diagnoses: [String; 4],
    pub judgement: String,
    /// `YYYY-MM-DD`, or 和暦 as typed.
    pub next_review: String,
}

impl CaseForm {
    fn of(c: &Case) -> Self {
        let mut assigned: Vec<u64> = c.assigned.iter().map(|s| s.0).collect();
        assigned.sort_unstable();
        let mut abuse: Vec<String> =
            c.abuse.iter().flat_map(|a| a.types.iter().map(|t| t.as_str().to_owned())).collect();
        abuse.sort();
        Self {
            assigned,
            abuse,
            perpetrator: c
                .abuse
                .as_ref()
                .and_then(|a| a.main_perpetrator.as_ref())
                .map(|p| p.as_str().to_owned())
                .unwrap_or_default(),
            severity: c.abuse.as_ref().map(|a| a.severity.clone()).unwrap_or_default(),
            opinion: c.worker_opinion.clone(),
            diagnoses: DIAGNOSES.map(|(kind, _, _)| {
                c.diagnoses.iter().rev().find(|d| d.kind == kind).map(|d| d.text.clone()).unwrap_or_default()
            }),
            judgement: c.judgement.clone(),
            next_review: iso(c.next_review),
        }
    }

    fn from_form(form: &HashMap<String, String>) -> Self {
        let mut assigned: Vec<u64> =
            ticked(form, "assigned_").iter().filter_map(|s| s.parse().ok()).collect();
        assigned.sort_unstable();
        Self {
            assigned,
            abuse: ticked(form, "abuse_"),
            perpetrator: text(form, "perpetrator"),
            severity: text(form, "severity"),
            opinion: text(form, "opinion"),
            diagnoses: DIAGNOSES.map(|(_, field, _)| text(form, field)),
            judgement: text(form, "judgement"),
            next_review: text(form, "next_review"),
        }
    }

    /// The edit as core's command; core puts it onto the case and signs a diagnosis whose text
    /// changed (the earlier text stays in the case's history).
    fn edit(&self) -> Result<CaseEdit, Error> {
        Ok(CaseEdit {
            assigned: self.assigned.iter().map(|s| StaffId(*s)).collect(),
            abuse_types: self.abuse.iter().map(|c| Code::new(c)).collect(),
            main_perpetrator: Some(self.perpetrator.as_str()).filter(|p| !p.is_empty()).map(Code::new),
            severity: self.severity.clone(),
            worker_opinion: self.opinion.clone(),
            diagnoses: DIAGNOSES
                .iter()
                .map(|(kind, _, _)| *kind)
                .zip(self.diagnoses.iter().cloned())
                .collect(),
            judgement: self.judgement.clone(),
            next_review: Some(self.next_review.as_str())
                .filter(|d| !d.is_empty())
                .map(wareki::parse)
                .transpose()
                .map_err(Error::Date)?,
        })
    }

    fn rows(&self, cx: &Context) -> Vec<(&'static str, String)> {
        let names = |ids: &[u64]| {
            ids.iter().map(|i| staff_name(&cx.names, StaffId(*i))).collect::<Vec<_>>().join("、")
        };
        let abuse = self
            .abuse
            .iter()
            .map(|c| label(&cx.tables, "abuse_type", &Code::new(c)))
            .collect::<Vec<_>>()
            .join("、");
        let perpetrator = Some(self.perpetrator.as_str())
            .filter(|p| !p.is_empty())
            .map(|p| label(&cx.tables, "perpetrator", &Code::new(p)))
            .unwrap_or_default();
        let mut rows = vec![
            ("担当", names(&self.assigned)),
            ("虐待の種別", abuse),
            ("主たる虐待者", perpetrator),
            ("程度", self.severity.clone()),
            ("児童福祉司意見", self.opinion.clone()),
        ];
        for ((_, _, l), d) in DIAGNOSES.iter().zip(&self.diagnoses) {
            rows.push((l, d.clone()));
        }
        rows.push(("判定", self.judgement.clone()));
        rows.push((
            "次回の進行管理",
            wareki::parse(&self.next_review).map_or_else(|_| self.next_review.clone(), wareki::format),
        ));
        rows
    }
}

#[derive(Template)]
#[template(path = "case_edit.html")]
pub(crate) struct CaseEditPage {
    pub chrome: Chrome,
    pub head: CaseHead,
    /// The revision the edit started from (after a conflict: the one now stored).
    pub rev: u64,
    pub form: CaseForm,
    pub staff: Vec<(u64, String, bool)>,
    pub abuse_types: Vec<(String, String, bool)>,
    pub perpetrators: Vec<(String, String)>,
    /// (field, label, text) of each diagnosis.
    pub diagnoses: Vec<(&'static str, &'static str, String)>,
    pub message: Option<String>,
    pub conflict: Option<ConflictView>,
}

impl CaseEditPage {
    fn new(chrome: Chrome, cx: &Context, rev: u64, form: CaseForm) -> Self {
        let today = cx.now.jst_date();
        Self {
            chrome,
            head: CaseHead::of(cx),
            rev,
            staff: staff_boxes(cx, &form.assigned),
            abuse_types: options(&cx.tables, "abuse_type", today)
                .into_iter()
                .map(|(c, l)| {
                    let on = form.abuse.contains(&c);
                    (c, l, on)
                })
                .collect(),
            perpetrators: options(&cx.tables, "perpetrator", today),
            diagnoses: DIAGNOSES
                .iter()
                .zip(&form.diagnoses)
                .map(|((_, field, label), text)| (*field, *label, text.clone()))
                .collect(),
            form,
            message: None,
            conflict: None,
        }
    }
}

fn edit_page(service: Arc<Service>) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    case_get(service, "edit").then(|id: u64, page: Page| {
        task_page(page, id, Action::EditCase, |s, cx| {
            let form = CaseForm::of(&cx.view.case.body);
            Ok(CaseEditPage::new(chrome(s, "調査・判定の編集", cx), cx, cx.view.case.rev, form))
        })
    })
}

/// What became of an edit of the case.
enum Saved {
    /// Saved; `true` when merged with an edit saved meanwhile.
    Done(bool),
    /// Someone else saved first and changed some of the same fields: the page to show both
    /// versions on, the two edits merged, and the labels of the fields both changed.
    Conflict(Box<(Context, Versioned<Case>, CaseForm, Vec<&'static str>)>),
}

/// The label of a field a merge names (`Case::merge`), as the page shows it.
fn field_label(field: &str) -> &'static str {
    match field {
        "assigned" => "担当",
        "abuse.types" | "abuse.main_type" => "虐待の種別",
        "abuse.main_perpetrator" => "主たる虐待者",
        "abuse.severity" => "程度",
        "worker_opinion" => "児童福祉司意見",
        "judgement" => "判定",
        "next_review" => "次回の進行管理",
        f => DIAGNOSES
            .iter()
            .find(|(_, name, _)| f.strip_prefix("diagnoses.") == Some(name))
            .map_or("その他", |(_, _, label)| label),
    }
}

fn save_case(service: Arc<Service>) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    case_form(service, "edit").then(|id: u64, form: HashMap<String, String>, page: Page| async move {
        let (svc, session) = match page {
            Ok(p) => p,
            Err(r) => return r,
        };
        let typed = CaseForm::from_form(&form);
        let rev = form.get("rev").and_then(|r| r.parse::<u64>().ok());
        let (s, mine, svc2) = (session.clone(), typed.clone(), svc.clone());
        let result = blocking(move || {
            check_form(&s, &form)?;
            let rev = rev.ok_or_else(|| Error::invalid("rev", "版がありません"))?;
            let edit = mine.edit()?;
            // Core merges an edit made meanwhile when the two changed different fields.
            match svc2.edit_case(&s.actor, CaseId(id), rev, &edit) {
                Ok(saved) => Ok(Saved::Done(saved.merged)),
                Err(Error::Conflict { .. }) => {
                    let (theirs, merged) = svc2.merge_case_edit(&s.actor, CaseId(id), rev, &edit)?;
                    let cx = context(&svc2, &s, id)?;
                    let clashes = merged.clashes.iter().map(|f| field_label(f)).collect();
                    Ok(Saved::Conflict(Box::new((cx, theirs, CaseForm::of(&merged.body), clashes))))
                }
                Err(e) => Err(e),
            }
        })
        .await;
        match result {
            Ok(Saved::Done(false)) => redirect(&format!("/cases/{id}?saved=case#work")),
            Ok(Saved::Done(true)) => redirect(&format!("/cases/{id}?saved=case_merged#work")),
            Ok(Saved::Conflict(parts)) => {
                let (cx, theirs, merged, clashes) = *parts;
                let mut page =
                    CaseEditPage::new(chrome(&session, "調査・判定の編集", &cx), &cx, theirs.rev, merged);
                let mut conflict = ConflictView::new(
                    typed.rows(&cx),
                    CaseForm::of(&theirs.body).rows(&cx),
                    &theirs,
                    &cx.names,
                    format!("/cases/{id}"),
                );
                conflict.merged(&clashes);
                page.conflict = Some(conflict);
                html(&page, StatusCode::CONFLICT)
            }
            Err(e) => {
                redraw(svc, session, id, e, move |session, cx| {
                    // The revision the person started from stays: a save must not silently
                    // pass over an edit made meanwhile.
                    let rev = rev.unwrap_or(cx.view.case.rev);
                    CaseEditPage::new(chrome(session, "調査・判定の編集", cx), cx, rev, typed)
                })
                .await
            }
        }
    })
}

// ---- assessment sheets ------------------------------------------------------------------------

#[derive(Deserialize)]
struct SheetQuery {
    #[serde(default)]
    sheet: Option<String>,
}

/// The sheet the national guidance names first (DOMAIN.md "Risk assessment").
const DEFAULT_SHEET: &str = "protection_decision";

#[derive(Template)]
#[template(path = "assessment.html")]
pub(crate) struct AssessmentPage {
    pub chrome: Chrome,
    pub head: CaseHead,
    pub sheet_key: String,
    pub sheet_name: String,
    pub version: u32,
    /// (question id, number, text, answer: `yes`, `no` or empty).
    pub questions: Vec<(String, usize, String, String)>,
    /// Other sheets on file: (key, name).
    pub others: Vec<(String, String)>,
    pub message: Option<String>,
}

impl AssessmentPage {
    fn new(chrome: Chrome, cx: &Context, key: &str, typed: &HashMap<String, String>) -> Result<Self, Error> {
        let sheet = cx
            .sheets
            .iter()
            .find(|s| s.body.key == key)
            .ok_or_else(|| Error::NotFound { what: "assessment sheet", id: key.to_owned() })?;
        Ok(Self {
            chrome,
            head: CaseHead::of(cx),
            sheet_key: key.to_owned(),
            sheet_name: sheet.body.name.clone(),
            version: sheet.body.version,
            questions: sheet
                .body
                .questions
                .iter()
                .enumerate()
                .map(|(i, q)| (q.id.clone(), i + 1, q.text.clone(), text(typed, &format!("q_{}", q.id))))
                .collect(),
            others: cx
                .sheets
                .iter()
                .filter(|s| s.body.key != key)
                .map(|s| (s.body.key.clone(), s.body.name.clone()))
                .collect(),
            message: None,
        })
    }
}

fn assessment_page(service: Arc<Service>) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    case_get(service, "assessment").and(warp::query::<SheetQuery>()).then(
        |id: u64, page: Page, q: SheetQuery| {
            let key = q.sheet.unwrap_or_else(|| DEFAULT_SHEET.to_owned());
            task_page(page, id, Action::RecordAssessment, move |s, cx| {
                AssessmentPage::new(chrome(s, "アセスメント", cx), cx, &key, &HashMap::new())
            })
        },
    )
}

/// The answers typed: every question of the sheet must be answered yes or no.
fn answers(sheet: &AssessmentSheet, form: &HashMap<String, String>) -> Result<BTreeMap<String, bool>, Error> {
    let mut out = BTreeMap::new();
    for (i, q) in sheet.questions.iter().enumerate() {
        let yes = match text(form, &format!("q_{}", q.id)).as_str() {
            "yes" => true,
            "no" => false,
            _ => {
                return Err(Error::invalid(
                    "answers",
                    format!("質問{}に「はい」か「いいえ」で答えてください", i + 1),
                ));
            }
        };
        out.insert(q.id.clone(), yes);
    }
    Ok(out)
}

fn assess(service: Arc<Service>) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    case_form(service, "assessment").then(|id: u64, form: HashMap<String, String>, page: Page| async move {
        let (svc, session) = match page {
            Ok(p) => p,
            Err(r) => return r,
        };
        let key = text(&form, "sheet");
        let (s, svc2, typed, k) = (session.clone(), svc.clone(), form.clone(), key.clone());
        let result = blocking(move || {
            check_form(&s, &typed)?;
            let sheet = svc2
                .assessment_sheets()?
                .into_iter()
                .find(|x| x.body.key == k)
                .ok_or_else(|| Error::NotFound { what: "assessment sheet", id: k.clone() })?;
            let answers = answers(&sheet.body, &typed)?;
            svc2.record_assessment_once(&s.actor, CaseId(id), &k, answers, idempotency_key(&typed).as_deref())
        })
        .await;
        match result {
            Ok(_) => redirect(&format!("/cases/{id}?saved=assessment#work")),
            Err(e) => {
                let drawn = {
                    let (s, e2) = (session.clone(), message(&e));
                    blocking(move || {
                        let cx = context(&svc, &s, id)?;
                        let mut page =
                            AssessmentPage::new(chrome(&s, "アセスメント", &cx), &cx, &key, &form)?;
                        page.message = Some(e2);
                        Ok::<_, Error>(page)
                    })
                    .await
                };
                match drawn {
                    Ok(page) => html(&page, status_of(&e)),
                    Err(other) => error_page(&session, &other),
                }
            }
        }
    })
}

// ---- support and placement --------------------------------------------------------------------

/// A support decision as typed; the same form records a new one and edits one (review date,
/// hearing, notice, end) against the revision it was drawn from.
#[derive(Clone, Debug, Default)]
pub(crate) struct SupportForm {
    /// The support edited (0: a new one) and its revision.
    pub id: u64,
    pub rev: u64,
    pub kind: String,
    pub decided_on: String,
    pub start: String,
    pub review_on: String,
    pub end: String,
    pub facility: String,
    pub notice_issued_on: String,
    pub note: String,
    pub hearing_at: String,
    pub hearing_method: String,
    pub hearing_views: String,
    pub hearing_not_possible: String,
}

impl SupportForm {
    fn of(v: &Versioned<Support>) -> Self {
        let s = &v.body;
        let h = s.hearing.as_ref();
        Self {
            id: v.id,
            rev: v.rev,
            kind: s.kind.as_str().to_owned(),
            decided_on: s.decided_on.to_string(),
            start: iso(s.start),
            review_on: iso(s.review_on),
            end: iso(s.end),
            facility: s.facility.clone(),
            notice_issued_on: iso(s.notice_issued_on),
            note: s.note.clone(),
            hearing_at: h.map(|h| input_datetime(h.at)).unwrap_or_default(),
            hearing_method: h.map(|h| h.method.clone()).unwrap_or_default(),
            hearing_views: h.map(|h| h.views.clone()).unwrap_or_default(),
            hearing_not_possible: h.and_then(|h| h.not_possible_reason.clone()).unwrap_or_default(),
        }
    }

    fn from_form(form: &HashMap<String, String>) -> Self {
        Self {
            id: text(form, "support").parse().unwrap_or(0),
            rev: text(form, "rev").parse().unwrap_or(0),
            kind: text(form, "kind"),
            decided_on: text(form, "decided_on"),
            start: text(form, "start"),
            review_on: text(form, "review_on"),
            end: text(form, "end"),
            facility: text(form, "facility"),
            notice_issued_on: text(form, "notice_issued_on"),
            note: text(form, "note"),
            hearing_at: text(form, "hearing_at"),
            hearing_method: text(form, "hearing_method"),
            hearing_views: text(form, "hearing_views"),
            hearing_not_possible: text(form, "hearing_not_possible"),
        }
    }

    /// The decision as core's command; who heard the child is whoever records it.
    fn decision(&self, form: &HashMap<String, String>) -> Result<SupportDecision, Error> {
        let heard = !(self.hearing_at.is_empty()
            && self.hearing_method.is_empty()
            && self.hearing_views.is_empty()
            && self.hearing_not_possible.is_empty());
        let hearing = if heard {
            if self.hearing_at.is_empty() {
                return Err(Error::invalid("hearing", "聴取した日時を入力してください"));
            }
            Some(NewHearing {
                at: Timestamp::parse(&self.hearing_at)?,
                method: self.hearing_method.clone(),
                views: self.hearing_views.clone(),
                not_possible_reason: Some(self.hearing_not_possible.clone()),
            })
        } else {
            None
        };
        Ok(SupportDecision {
            kind: Some(self.kind.as_str()).filter(|k| !k.is_empty()).map(Code::new),
            decided_on: date(form, "decided_on")?,
            start: date(form, "start")?,
            review_on: date(form, "review_on")?,
            end: date(form, "end")?,
            facility: self.facility.clone(),
            hearing,
            notice_issued_on: date(form, "notice_issued_on")?,
            note: self.note.clone(),
        })
    }
}

impl SupportForm {
    fn rows(&self, cx: &Context) -> Vec<(&'static str, String)> {
        let day = |d: &str| wareki::parse(d).map_or_else(|_| d.to_owned(), wareki::format);
        let kind = Some(self.kind.as_str())
            .filter(|k| !k.is_empty())
            .map(|k| label(&cx.tables, "support_kind", &Code::new(k)))
            .unwrap_or_default();
        let hearing = [
            self.hearing_at.replace('T', " "),
            self.hearing_method.clone(),
            self.hearing_views.clone(),
            self.hearing_not_possible.clone(),
        ]
        .into_iter()
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("・");
        vec![
            ("種別", kind),
            ("決定日", day(&self.decided_on)),
            ("開始", day(&self.start)),
            ("見直し", day(&self.review_on)),
            ("終了", day(&self.end)),
            ("施設・機関", self.facility.clone()),
            ("決定通知", day(&self.notice_issued_on)),
            ("意見聴取", hearing),
            ("備考", self.note.clone()),
        ]
    }
}

#[derive(Template)]
#[template(path = "support.html")]
pub(crate) struct SupportPage {
    pub chrome: Chrome,
    pub head: CaseHead,
    pub form: SupportForm,
    pub kinds: Vec<(String, String)>,
    pub message: Option<String>,
    pub conflict: Option<ConflictView>,
}

impl SupportPage {
    fn new(chrome: Chrome, cx: &Context, form: SupportForm) -> Self {
        Self {
            chrome,
            head: CaseHead::of(cx),
            kinds: options(&cx.tables, "support_kind", cx.now.jst_date()),
            form,
            message: None,
            conflict: None,
        }
    }

    /// After someone else saved the support meanwhile: both versions side by side, the typed
    /// form kept at the revision now stored, so that saving again is a choice, not a dead end.
    fn stale(mut self, cx: &Context) -> Self {
        if let Some(current) = cx.view.supports.iter().find(|v| v.id == self.form.id) {
            self.conflict = Some(ConflictView::new(
                self.form.rows(cx),
                SupportForm::of(current).rows(cx),
                current,
                &cx.names,
                format!("/cases/{}#supports", cx.view.case.id),
            ));
            self.form.rev = current.rev;
        }
        self
    }
}

#[derive(Deserialize)]
struct SupportQuery {
    #[serde(default)]
    id: Option<u64>,
}

fn support_page(service: Arc<Service>) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    case_get(service, "support").and(warp::query::<SupportQuery>()).then(
        |id: u64, page: Page, q: SupportQuery| {
            task_page(page, id, Action::RecordSupport, move |s, cx| {
                let form = match q.id {
                    Some(sid) => SupportForm::of(
                        cx.view
                            .supports
                            .iter()
                            .find(|v| v.id == sid)
                            .ok_or_else(|| Error::NotFound { what: "support", id: sid.to_string() })?,
                    ),
                    None => {
                        SupportForm { decided_on: cx.now.jst_date().to_string(), ..SupportForm::default() }
                    }
                };
                Ok(SupportPage::new(chrome(s, "援助・措置", cx), cx, form))
            })
        },
    )
}

fn support(service: Arc<Service>) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    case_form(service, "support").then(|id: u64, form: HashMap<String, String>, page: Page| async move {
        let (svc, session) = match page {
            Ok(p) => p,
            Err(r) => return r,
        };
        let typed = SupportForm::from_form(&form);
        let (s, svc2, mine) = (session.clone(), svc.clone(), typed.clone());
        let result = blocking(move || {
            check_form(&s, &form)?;
            let decision = mine.decision(&form)?;
            let case = CaseId(id);
            if mine.id == 0 {
                svc2.record_support_once(&s.actor, case, decision, idempotency_key(&form).as_deref())
                    .map(drop)
            } else {
                // Core refuses a support of another case.
                svc2.revise_support(&s.actor, case, SupportId(mine.id), mine.rev, decision).map(drop)
            }
        })
        .await;
        match result {
            Ok(()) => redirect(&format!("/cases/{id}?saved=support#supports")),
            Err(e) => {
                let stale = matches!(e, Error::Conflict { .. });
                redraw(svc, session, id, e, move |session, cx| {
                    let page = SupportPage::new(chrome(session, "援助・措置", cx), cx, typed);
                    if stale { page.stale(cx) } else { page }
                })
                .await
            }
        }
    })
}

// ---- meetings ---------------------------------------------------------------------------------

#[derive(Clone, Debug, Default)]
pub(crate) struct MeetingForm {
    pub kind: String,
    pub at: String,
    pub attendees: Vec<u64>,
    /// Attendees from outside, one per line.
    pub outside: String,
    pub decisions: String,
}

#[derive(Template)]
#[template(path = "meeting.html")]
pub(crate) struct MeetingPage {
    pub chrome: Chrome,
    pub head: CaseHead,
    pub kinds: Vec<(String, String)>,
    pub staff: Vec<(u64, String, bool)>,
    pub form: MeetingForm,
    pub message: Option<String>,
}

impl MeetingPage {
    fn new(chrome: Chrome, cx: &Context, form: MeetingForm) -> Self {
        Self {
            chrome,
            head: CaseHead::of(cx),
            kinds: options(&cx.tables, "meeting_kind", cx.now.jst_date()),
            staff: staff_boxes(cx, &form.attendees),
            form,
            message: None,
        }
    }
}

fn meeting_page(service: Arc<Service>) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    case_get(service, "meeting").then(|id: u64, page: Page| {
        task_page(page, id, Action::RecordMeeting, |s, cx| {
            let form = MeetingForm {
                at: input_datetime(cx.now),
                attendees: vec![s.actor.staff().0],
                ..MeetingForm::default()
            };
            Ok(MeetingPage::new(chrome(s, "会議の記録", cx), cx, form))
        })
    })
}

fn meet(service: Arc<Service>) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    case_form(service, "meeting").then(|id: u64, form: HashMap<String, String>, page: Page| async move {
        let (svc, session) = match page {
            Ok(p) => p,
            Err(r) => return r,
        };
        let typed = MeetingForm {
            kind: text(&form, "kind"),
            at: text(&form, "at"),
            attendees: ticked(&form, "attendee_").iter().filter_map(|s| s.parse().ok()).collect(),
            outside: text(&form, "outside"),
            decisions: text(&form, "decisions"),
        };
        let (s, svc2, mine) = (session.clone(), svc.clone(), typed.clone());
        let result = blocking(move || {
            check_form(&s, &form)?;
            let m = NewMeeting {
                kind: Code::new(&mine.kind),
                at: Timestamp::parse(&mine.at)?,
                attendees: mine.attendees.iter().map(|a| StaffId(*a)).collect(),
                outside_attendees: mine.outside.lines().map(str::to_owned).collect(),
                cases: vec![CaseId(id)],
                decisions: mine.decisions.clone(),
            };
            svc2.record_meeting_once(&s.actor, m, idempotency_key(&form).as_deref())
        })
        .await;
        match result {
            Ok(_) => redirect(&format!("/cases/{id}?saved=meeting#meetings")),
            Err(e) => {
                redraw(svc, session, id, e, move |session, cx| {
                    MeetingPage::new(chrome(session, "会議の記録", cx), cx, typed)
                })
                .await
            }
        }
    })
}

// ---- closing and reopening ------------------------------------------------------------------------

fn close(service: Arc<Service>) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    case_form(service, "close").then(|id: u64, form: HashMap<String, String>, page: Page| {
        let reason = text(&form, "reason");
        case_write(
            page,
            id,
            form,
            "closed",
            move |p| p.closure_form = reason,
            move |svc, s, form| {
                let rev = rev(form)?;
                let why = text(form, "reason");
                if why.is_empty() {
                    return Err(Error::invalid("reason", "入力されていません"));
                }
                svc.close_case(&s.actor, CaseId(id), rev, &why)
            },
        )
    })
}

fn reopen(service: Arc<Service>) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    case_form(service, "reopen").then(|id: u64, form: HashMap<String, String>, page: Page| {
        case_write(
            page,
            id,
            form,
            "reopened",
            |_| {},
            move |svc, s, form| svc.reopen_case(&s.actor, CaseId(id), rev(form)?),
        )
    })
}

// ---- routes -------------------------------------------------------------------------------------

/// The pages and forms of this module, boxed (see `ui::routes`).
pub(super) fn routes(service: Arc<Service>) -> warp::filters::BoxedFilter<(Response,)> {
    edit_page(service.clone())
        .or(save_case(service.clone()))
        .unify()
        .or(assessment_page(service.clone()))
        .unify()
        .or(assess(service.clone()))
        .unify()
        .or(support_page(service.clone()))
        .unify()
        .or(support(service.clone()))
        .unify()
        .or(meeting_page(service.clone()))
        .unify()
        .or(meet(service.clone()))
        .unify()
        .or(close(service.clone()))
        .unify()
        .or(reopen(service))
        .unify()
        .boxed()
}

// ---- shared ---------------------------------------------------------------------------------------

/// The filter of a page at `/cases/{id}/{what}`: the case id and the page session.
fn case_get(
    service: Arc<Service>,
    what: &'static str,
) -> impl Filter<Extract = (u64, Page), Error = Rejection> + Clone {
    warp::path("cases")
        .and(warp::path::param::<u64>())
        .and(warp::path(what))
        .and(warp::path::end())
        .and(warp::get())
        .and(signed_in(service))
}

/// A task page of the case: refused unless core would accept `action` from this reader here (as
/// the case page offers it), else drawn by `draw`.
async fn task_page<P: Template + Send + 'static>(
    page: Page,
    id: u64,
    action: Action,
    draw: impl FnOnce(&SessionInfo, &Context) -> Result<P, Error> + Send + 'static,
) -> Response {
    let (svc, session) = match page {
        Ok(p) => p,
        Err(r) => return r,
    };
    let s = session.clone();
    let drawn = blocking(move || {
        let cx = context(&svc, &s, id)?;
        if !cx.view.may(action) {
            return Err(Error::Forbidden { action: action.as_str() });
        }
        draw(&s, &cx)
    })
    .await;
    match drawn {
        Ok(page) => html(&page, StatusCode::OK),
        Err(e) => error_page(&session, &e),
    }
}

/// After a refused save: the task page again, drawn by `draw`, with what was typed and why.
async fn redraw<P: Template + HasMessage + Send + 'static>(
    svc: Arc<Service>,
    session: SessionInfo,
    id: u64,
    e: Error,
    draw: impl FnOnce(&SessionInfo, &Context) -> P + Send + 'static,
) -> Response {
    let s = session.clone();
    let text = message(&e);
    match blocking(move || context(&svc, &s, id).map(|cx| draw(&s, &cx))).await {
        Ok(mut page) => {
            page.set_message(text);
            html(&page, status_of(&e))
        }
        Err(other) => error_page(&session, &other),
    }
}

/// A task page that shows why a save was refused.
trait HasMessage {
    fn set_message(&mut self, text: String);
}

macro_rules! has_message {
    ($($page:ty),*) => {$(
        impl HasMessage for $page {
            fn set_message(&mut self, text: String) {
                self.message = Some(text);
            }
        }
    )*};
}

has_message!(CaseEditPage, SupportPage, MeetingPage);

// ---- on the case page ---------------------------------------------------------------------------

/// One filled assessment sheet as the case page lists it.
pub(crate) struct AssessmentRow {
    pub at: String,
    pub by: String,
    pub sheet: String,
    pub result: String,
    /// `danger`, `warn` or `ok`: how urgent the result reads.
    pub class: &'static str,
    /// The questions answered yes, as the sheet words them.
    pub yes: Vec<String>,
}

pub(crate) struct SupportRow {
    pub id: u64,
    pub kind: String,
    pub facility: String,
    /// Decided, started, review, ended: as one line of dates.
    pub dates: String,
    pub hearing: Option<String>,
    /// A placement still waiting for the child's hearing.
    pub hearing_missing: bool,
    pub notice: Option<String>,
    pub note: String,
    pub ended: bool,
}

pub(crate) struct MeetingRow {
    pub at: String,
    pub kind: String,
    pub attendees: String,
    pub decisions: String,
}

impl AssessmentRow {
    fn of(a: &mamoru_core::case::Assessment, d: &CaseData) -> Self {
        let sheet = d.sheets.iter().find(|s| s.id == a.sheet.0);
        Self {
            at: datetime(a.at),
            by: staff_name(&d.names, a.by),
            sheet: sheet.map_or_else(|| "アセスメントシート".to_owned(), |s| s.body.name.clone()),
            result: a.result_label.clone(),
            class: match a.result.as_str() {
                "emergency" | "protection" => "danger",
                "intervention" => "warn",
                _ => "ok",
            },
            yes: sheet
                .map(|s| {
                    s.body
                        .questions
                        .iter()
                        .filter(|q| a.answers.get(&q.id) == Some(&true))
                        .map(|q| q.text.clone())
                        .collect()
                })
                .unwrap_or_default(),
        }
    }
}

impl SupportRow {
    fn of(v: &Versioned<Support>, d: &CaseData) -> Self {
        let s = &v.body;
        let mut dates = vec![format!("決定 {}", wareki::format(s.decided_on))];
        for (label, date) in [("開始", s.start), ("見直し", s.review_on), ("終了", s.end)] {
            if let Some(x) = date {
                dates.push(format!("{label} {}", wareki::format(x)));
            }
        }
        Self {
            id: v.id,
            kind: label(&d.tables, "support_kind", &s.kind),
            facility: s.facility.clone(),
            dates: dates.join("・"),
            hearing: s.hearing.as_ref().map(|h| match &h.not_possible_reason {
                Some(r) => format!("{}・聴取できず：{r}", datetime(h.at)),
                None if h.method.is_empty() => format!("{}・{}", datetime(h.at), h.views),
                None => format!("{}・{}：{}", datetime(h.at), h.method, h.views),
            }),
            hearing_missing: s.hearing.is_none() && mamoru_core::deadline::is_placement(s.kind.as_str()),
            notice: s.notice_issued_on.map(wareki::format),
            note: s.note.clone(),
            ended: s.end.is_some_and(|e| e <= d.now.jst_date()),
        }
    }
}

impl MeetingRow {
    fn of(m: &mamoru_core::case::Meeting, d: &CaseData) -> Self {
        let mut who: Vec<String> = m.attendees.iter().map(|s| staff_name(&d.names, *s)).collect();
        who.extend(m.outside_attendees.iter().cloned());
        Self {
            at: datetime(m.at),
            kind: label(&d.tables, "meeting_kind", &m.kind),
            attendees: who.join("、"),
            decisions: m.decisions.clone(),
        }
    }
}

/// The investigation, assessments, support, meetings and closure, as the case page shows them.
pub(crate) struct WorkView {
    pub rev: u64,
    pub assigned: String,
    pub abuse: Option<String>,
    pub opinion: String,
    /// (label, text, signed).
    pub diagnoses: Vec<(&'static str, String, String)>,
    pub judgement: String,
    pub next_review: String,
    pub assessments: Vec<AssessmentRow>,
    /// An abuse report with no assessment sheet yet.
    pub assessment_missing: bool,
    pub supports: Vec<SupportRow>,
    pub meetings: Vec<MeetingRow>,
    /// 終結: when, by whom, why.
    pub closure: Option<String>,
    pub reopened: Vec<String>,
}

impl WorkView {
    pub(crate) fn of(d: &CaseData) -> Self {
        let case = &d.view.case.body;
        let name = |s: StaffId| staff_name(&d.names, s);
        let abuse = case.abuse.as_ref().map(|a| {
            let mut parts: Vec<String> = a.types.iter().map(|t| label(&d.tables, "abuse_type", t)).collect();
            if let Some(p) = &a.main_perpetrator {
                parts.push(format!("主たる虐待者：{}", label(&d.tables, "perpetrator", p)));
            }
            if !a.severity.is_empty() {
                parts.push(format!("程度：{}", a.severity));
            }
            parts.join("、")
        });
        let assessments = d.view.assessments.iter().rev().map(|v| AssessmentRow::of(&v.body, d)).collect();
        let supports = d.view.supports.iter().rev().map(|v| SupportRow::of(v, d)).collect();
        let meetings = d.view.meetings.iter().rev().map(|v| MeetingRow::of(&v.body, d)).collect();
        Self {
            rev: d.view.case.rev,
            assigned: case.assigned.iter().map(|s| name(*s)).collect::<Vec<_>>().join("、"),
            abuse,
            opinion: case.worker_opinion.clone(),
            diagnoses: DIAGNOSES
                .iter()
                .filter_map(|(kind, _, label)| {
                    case.diagnoses
                        .iter()
                        .rev()
                        .find(|x| x.kind == *kind)
                        .map(|x| (*label, x.text.clone(), format!("{}・{}", name(x.by), datetime(x.at))))
                })
                .collect(),
            judgement: case.judgement.clone(),
            next_review: wareki_or_blank(case.next_review),
            assessment_missing: d.view.assessment_missing,
            assessments,
            supports,
            meetings,
            closure: case
                .closure
                .as_ref()
                .map(|c| format!("{}・{}・{}", datetime(c.at), name(c.by), c.reason)),
            reopened: case.reopened_at.iter().map(|t| datetime(*t)).collect(),
        }
    }
}
