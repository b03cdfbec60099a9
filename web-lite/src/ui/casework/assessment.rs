//! Assessment sheets, whose result core computes from the answers.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use askama::Template;
use mamoru_core::assessment::AssessmentSheet;
use mamoru_core::ids::CaseId;
use mamoru_core::service::{CasePageView, SessionInfo, Versioned};
use mamoru_core::staff::Action;
use mamoru_core::{Error, Service};
use serde::Deserialize;
use warp::reply::Response;
use warp::{Filter, Rejection};

use super::{CaseHead, case_get, chrome, task_page};
use crate::ui::views::Chrome;
use crate::ui::{
    Page, blocking, case_form, check_form, error_page, html, idempotency_key, message, redirect, status_of,
    text,
};

#[derive(Deserialize)]
pub(super) struct SheetQuery {
    #[serde(default)]
    sheet: Option<String>,
}

/// The sheet the national guidance names first (DOMAIN.md "Risk assessment").
pub(super) const DEFAULT_SHEET: &str = "protection_decision";

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
    fn new(
        chrome: Chrome,
        cx: &CasePageView,
        key: &str,
        typed: &HashMap<String, String>,
    ) -> Result<Self, Error> {
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

pub(super) fn assessment_page(
    service: Arc<Service>,
) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
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
pub(super) fn answers(
    sheet: &AssessmentSheet,
    form: &HashMap<String, String>,
) -> Result<BTreeMap<String, bool>, Error> {
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

pub(super) fn assess(service: Arc<Service>) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    case_form(service, "assessment").then(|id: u64, form: HashMap<String, String>, page: Page| async move {
        let (svc, session) = or_respond!(page);
        let key = text(&form, "sheet");
        let (s, svc2, typed, k) = (session.clone(), svc.clone(), form.clone(), key.clone());
        let result = blocking(move || {
            check_form(&s, &typed)?;
            let answers = answers(&sheet(&svc2, &k)?.body, &typed)?;
            svc2.record_assessment_once(&s.actor, CaseId(id), &k, answers, idempotency_key(&typed).as_deref())
        })
        .await;
        match result {
            Ok(_) => redirect(&format!("/cases/{id}?saved=assessment#work")),
            Err(e) => refused(svc, session, id, key, form, e).await,
        }
    })
}

/// The assessment sheet named `key`.
fn sheet(svc: &Service, key: &str) -> Result<Versioned<AssessmentSheet>, Error> {
    svc.assessment_sheets()?
        .into_iter()
        .find(|x| x.body.key == key)
        .ok_or_else(|| Error::NotFound { what: "assessment sheet", id: key.to_owned() })
}

/// The sheet again with the answers as given and why they were refused.
async fn refused(
    svc: Arc<Service>,
    session: SessionInfo,
    id: u64,
    key: String,
    form: HashMap<String, String>,
    e: Error,
) -> Response {
    let (s, said, invalid) = (session.clone(), message(&e), crate::ui::fields::inputs(&e));
    let drawn = blocking(move || {
        let cx = svc.case_page(&s.actor, CaseId(id))?;
        let mut page = AssessmentPage::new(chrome(&s, "アセスメント", &cx), &cx, &key, &form)?;
        page.message = Some(said);
        page.chrome.invalid = invalid;
        Ok::<_, Error>(page)
    })
    .await;
    match drawn {
        Ok(page) => html(&page, status_of(&e)),
        Err(other) => error_page(&session, &other),
    }
}
