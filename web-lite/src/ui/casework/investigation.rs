//! 調査・判定: editing the investigation against the revision it started from, with both
//! versions side by side when someone saved meanwhile.

use std::collections::HashMap;
use std::sync::Arc;

use askama::Template;
use mamoru_core::case::{Case, CaseEdit};
use mamoru_core::code_table::Code;
use mamoru_core::ids::CaseId;
use mamoru_core::service::{CasePageView, SessionInfo, Versioned};
use mamoru_core::staff::Action;
use mamoru_core::{Error, Service, wareki};
use warp::http::StatusCode;
use warp::reply::Response;
use warp::{Filter, Rejection};

use super::{CaseHead, DIAGNOSES, case_get, chrome, redraw, task_page, ticked, wareki_or_blank};
use crate::ui::views::{Chrome, ConflictView, label, options};
use crate::ui::{Page, blocking, case_form, check_form, html, redirect, text};

/// The case's working fields as typed (and as shown back after a refusal or a conflict).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct CaseForm {
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
        let mut abuse: Vec<String> =
            c.abuse.iter().flat_map(|a| a.types.iter().map(|t| t.as_str().to_owned())).collect();
        abuse.sort();
        Self {
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
            next_review: wareki_or_blank(c.next_review),
        }
    }

    fn from_form(form: &HashMap<String, String>) -> Self {
        Self {
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
                .map(|d| wareki::read_date("next_review", d))
                .transpose()?,
        })
    }

    fn rows(&self, cx: &CasePageView) -> Vec<(&'static str, String)> {
        let abuse = self
            .abuse
            .iter()
            .map(|c| label(&cx.code_tables, "abuse_type", &Code::new(c)))
            .collect::<Vec<_>>()
            .join("、");
        let perpetrator = Some(self.perpetrator.as_str())
            .filter(|p| !p.is_empty())
            .map(|p| label(&cx.code_tables, "perpetrator", &Code::new(p)))
            .unwrap_or_default();
        let mut rows = vec![
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
    pub abuse_types: Vec<(String, String, bool)>,
    pub perpetrators: Vec<(String, String)>,
    /// (field, label, text) of each diagnosis.
    pub diagnoses: Vec<(&'static str, &'static str, String)>,
    pub message: Option<String>,
    pub conflict: Option<ConflictView>,
}

impl CaseEditPage {
    fn new(chrome: Chrome, cx: &CasePageView, rev: u64, form: CaseForm) -> Self {
        let today = cx.now.jst_date();
        Self {
            chrome,
            head: CaseHead::of(cx),
            rev,
            abuse_types: options(&cx.code_tables, "abuse_type", today)
                .into_iter()
                .map(|(c, l)| {
                    let on = form.abuse.contains(&c);
                    (c, l, on)
                })
                .collect(),
            perpetrators: options(&cx.code_tables, "perpetrator", today),
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

pub(super) fn edit_page(
    service: Arc<Service>,
) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    case_get(service, "edit").then(|id: u64, page: Page| {
        task_page(page, id, Action::EditCase, |s, cx| {
            let form = CaseForm::of(&cx.case.case.body);
            Ok(CaseEditPage::new(chrome(s, "調査・判定の編集", cx), cx, cx.case.case.rev, form))
        })
    })
}

/// What became of an edit of the case.
pub(super) enum Saved {
    /// Saved; `true` when merged with an edit saved meanwhile.
    Done(bool),
    /// Someone else saved first and changed some of the same fields: the page to show both
    /// versions on, the two edits merged, and the labels of the fields both changed.
    Conflict(Box<Clash>),
}

/// The page to show both versions on, theirs, the two edits merged, and the labels both changed.
type Clash = (CasePageView, Versioned<Case>, CaseForm, Vec<&'static str>);

/// The label of a field a merge names (`Case::merge`), as the page shows it.
pub(super) fn field_label(field: &str) -> &'static str {
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

pub(super) fn save_case(
    service: Arc<Service>,
) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    case_form(service, "edit").then(save)
}

async fn save(id: u64, form: HashMap<String, String>, page: Page) -> Response {
    let (svc, session) = or_respond!(page);
    let typed = CaseForm::from_form(&form);
    let rev = form.get("rev").and_then(|r| r.parse::<u64>().ok());
    let (s, mine, svc2) = (session.clone(), typed.clone(), svc.clone());
    let result = blocking(move || {
        check_form(&s, &form)?;
        save_or_merge(&svc2, &s, CaseId(id), rev, &mine)
    })
    .await;
    match result {
        Ok(Saved::Done(false)) => redirect(&format!("/cases/{id}?saved=case#work")),
        Ok(Saved::Done(true)) => redirect(&format!("/cases/{id}?saved=case_merged#work")),
        Ok(Saved::Conflict(clash)) => conflict_page(&session, id, &typed, *clash),
        Err(e) => {
            redraw(svc, session, id, e, move |session, cx| {
                // The revision the person started from stays: a save must not silently pass
                // over an edit made meanwhile.
                let rev = rev.unwrap_or(cx.case.case.rev);
                CaseEditPage::new(chrome(session, "調査・判定の編集", cx), cx, rev, typed)
            })
            .await
        }
    }
}

/// Saves the edit; when someone else saved first, core merges the two edits field by field.
fn save_or_merge(
    svc: &Service,
    session: &SessionInfo,
    id: CaseId,
    rev: Option<u64>,
    form: &CaseForm,
) -> Result<Saved, Error> {
    let rev = rev.ok_or_else(|| Error::invalid("rev", "版がありません"))?;
    let edit = form.edit()?;
    match svc.edit_case(&session.actor, id, rev, &edit) {
        Ok(saved) => Ok(Saved::Done(saved.merged)),
        Err(Error::Conflict { .. }) => {
            let (theirs, merged) = svc.merge_case_edit(&session.actor, id, rev, &edit)?;
            let cx = svc.case_page(&session.actor, id)?;
            let clashes = merged.clashes.iter().map(|f| field_label(f)).collect();
            Ok(Saved::Conflict(Box::new((cx, theirs, CaseForm::of(&merged.body), clashes))))
        }
        Err(e) => Err(e),
    }
}

/// Both versions side by side, the merge in the form.
fn conflict_page(session: &SessionInfo, id: u64, mine: &CaseForm, clash: Clash) -> Response {
    let (cx, theirs, merged, clashes) = clash;
    let mut page = CaseEditPage::new(chrome(session, "調査・判定の編集", &cx), &cx, theirs.rev, merged);
    let theirs_rows = CaseForm::of(&theirs.body).rows(&cx);
    let mut conflict =
        ConflictView::new(mine.rows(&cx), theirs_rows, &theirs, &cx.staff_names, format!("/cases/{id}"));
    conflict.merged(&clashes);
    page.conflict = Some(conflict);
    html(&page, StatusCode::CONFLICT)
}
