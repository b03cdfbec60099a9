//! 家庭裁判所への申立て: a petition prepared on the case — an extension of a protection past two
//! months, or a 28条 placement — with the case's documents listed, each with a 非開示希望 box;
//! the same form revises one until it is filed. Core lists the documents, checks and stores.

use std::collections::HashMap;
use std::sync::Arc;

use askama::Template;
use mamoru_core::case::{CourtPetition, NewPetition, PLACEMENTS, PetitionKind};
use mamoru_core::code_table::Code;
use mamoru_core::ids::{CaseId, CourtPetitionId};
use mamoru_core::service::{PetitionPageView, SessionInfo, Versioned};
use mamoru_core::{Error, Service};
use serde::Deserialize;
use warp::http::StatusCode;
use warp::reply::Response;
use warp::{Filter, Rejection};

use super::{CaseHead, HasMessage, case_get, chrome, ticked, wareki_or_blank};
use crate::ui::views::{Chrome, label};
use crate::ui::{
    Page, blocking, case_form, check_form, date, error_page, html, idempotency_key, message, redirect,
    status_of, text,
};

/// A petition as typed; the same form prepares a new one and revises one against the revision
/// it was drawn from.
#[derive(Clone, Debug, Default)]
pub(crate) struct PetitionForm {
    /// The petition revised (0: a new one) and its revision.
    pub id: u64,
    pub rev: u64,
    pub kind: String,
    pub placement: String,
    pub grounds: String,
    /// Keys of the documents ticked 非開示希望.
    pub withhold: Vec<String>,
    pub filed_on: String,
}

impl PetitionForm {
    fn of(v: &Versioned<CourtPetition>) -> Self {
        let p = NewPetition::of(&v.body);
        Self {
            id: v.id,
            rev: v.rev,
            kind: v.body.kind.as_str().to_owned(),
            placement: p.placement.map(|c| c.0).unwrap_or_default(),
            grounds: p.grounds,
            withhold: p.withhold,
            filed_on: wareki_or_blank(p.filed_on),
        }
    }

    fn from_form(form: &HashMap<String, String>) -> Self {
        Self {
            id: text(form, "petition").parse().unwrap_or(0),
            rev: text(form, "rev").parse().unwrap_or(0),
            kind: text(form, "kind"),
            placement: text(form, "placement"),
            grounds: text(form, "grounds"),
            withhold: ticked(form, "withhold:"),
            filed_on: text(form, "filed_on"),
        }
    }

    /// The petition as core's command.
    fn petition(&self, form: &HashMap<String, String>) -> Result<NewPetition, Error> {
        Ok(NewPetition {
            kind: PetitionKind::parse(&self.kind),
            placement: Some(self.placement.as_str()).filter(|p| !p.is_empty()).map(Code::new),
            grounds: self.grounds.clone(),
            withhold: self.withhold.clone(),
            filed_on: date(form, "filed_on")?,
        })
    }
}

/// One document as the page lists it.
pub(crate) struct DocumentRow {
    pub key: String,
    pub title: String,
    pub made_on: String,
    pub withhold: bool,
}

#[derive(Template)]
#[template(path = "petition.html")]
pub(crate) struct PetitionPage {
    pub chrome: Chrome,
    pub head: CaseHead,
    pub form: PetitionForm,
    /// (value, label).
    pub kinds: Vec<(&'static str, &'static str)>,
    pub placements: Vec<(&'static str, String)>,
    pub documents: Vec<DocumentRow>,
    /// Filed with the court: shown, not changed.
    pub filed: bool,
    pub message: Option<String>,
}

impl PetitionPage {
    fn new(session: &SessionInfo, v: &PetitionPageView, form: PetitionForm) -> Self {
        let cx = &v.page;
        Self {
            chrome: chrome(session, "家庭裁判所への申立て", cx),
            head: CaseHead::of(cx),
            kinds: PetitionKind::ALL.iter().map(|k| (k.as_str(), k.label())).collect(),
            placements: PLACEMENTS
                .iter()
                .map(|(code, _)| (*code, label(&cx.code_tables, "support_kind", &Code::new(code))))
                .collect(),
            documents: v
                .documents
                .iter()
                .map(|d| DocumentRow {
                    key: d.key.clone(),
                    title: d.title.clone(),
                    made_on: wareki_or_blank(d.made_on),
                    withhold: form.withhold.contains(&d.key),
                })
                .collect(),
            filed: v.petition.as_ref().is_some_and(|p| p.body.filed_on.is_some()),
            form,
            message: None,
        }
    }
}

#[derive(Deserialize)]
pub(super) struct PetitionQuery {
    #[serde(default)]
    id: Option<u64>,
}

pub(super) fn petition_page(
    service: Arc<Service>,
) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    case_get(service, "petition").and(warp::query::<PetitionQuery>()).then(
        |id: u64, page: Page, q: PetitionQuery| async move {
            let (svc, session) = or_respond!(page);
            let s = session.clone();
            let drawn = blocking(move || {
                let v = svc.petition_page(&s.actor, CaseId(id), q.id.map(CourtPetitionId))?;
                let form = match &v.petition {
                    Some(p) => PetitionForm::of(p),
                    None => PetitionForm::default(),
                };
                Ok::<_, Error>(PetitionPage::new(&s, &v, form))
            })
            .await;
            match drawn {
                Ok(page) => html(&page, StatusCode::OK),
                Err(e) => error_page(&session, &e),
            }
        },
    )
}

pub(super) fn petition(
    service: Arc<Service>,
) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    case_form(service, "petition").then(|id: u64, form: HashMap<String, String>, page: Page| async move {
        let (svc, session) = or_respond!(page);
        let typed = PetitionForm::from_form(&form);
        let (s, svc2, mine) = (session.clone(), svc.clone(), typed.clone());
        let result = blocking(move || {
            check_form(&s, &form)?;
            let new = mine.petition(&form)?;
            if mine.id == 0 {
                svc2.prepare_petition(&s.actor, CaseId(id), new, idempotency_key(&form).as_deref()).map(drop)
            } else {
                svc2.revise_petition(&s.actor, CaseId(id), CourtPetitionId(mine.id), mine.rev, new).map(drop)
            }
        })
        .await;
        match result {
            Ok(()) => redirect(&format!("/cases/{id}?saved=petition#court")),
            Err(e) => {
                // The page again, with what was typed and why it was refused; after someone
                // else's save (and only then, the page saying so), at the revision now stored:
                // saving again is then a choice, never a silent overwrite.
                let s = session.clone();
                let petition = (typed.id != 0).then_some(CourtPetitionId(typed.id));
                let stale = matches!(e, Error::Conflict { .. });
                let drawn = blocking(move || {
                    let v = svc.petition_page(&s.actor, CaseId(id), petition)?;
                    let stored = v.petition.as_ref().map(|p| p.rev).filter(|_| stale);
                    let rev = stored.unwrap_or(typed.rev);
                    Ok::<_, Error>(PetitionPage::new(&s, &v, PetitionForm { rev, ..typed }))
                })
                .await;
                match drawn {
                    Ok(mut page) => {
                        page.refused_for(&e);
                        html(&page, status_of(&e))
                    }
                    Err(other) => error_page(&session, &other),
                }
            }
        }
    })
}

impl HasMessage for PetitionPage {
    fn refused_for(&mut self, e: &Error) {
        self.message = Some(message(e));
        self.chrome.mark(e);
    }
}
