//! The family on the face sheet: adding an adult or a sibling on file to a child's household,
//! changing one member, taking one out. Each form parses into one service call; core checks the
//! relation, who may change the child, and merges an edit with what was saved meanwhile. A
//! refusal shows the form again as typed, with the reason.

use std::collections::HashMap;
use std::sync::Arc;

use mamoru_core::ids::ChildId;
use mamoru_core::person::MemberRef;
use mamoru_core::service::{Joining, MemberEdit, NewMember, SIBLING, SessionInfo, parse_member_key};
use mamoru_core::{Error, Service};
use serde::Deserialize;
use warp::http::StatusCode;
use warp::reply::Response;
use warp::{Filter, Rejection};

use super::views::{Chrome, FamilyPage, MemberForm};
use super::{
    Page, blocking, check_form, error_page, form_post, html, idempotency_key, message, redirect, signed_in,
    text,
};

#[derive(Deserialize)]
pub(super) struct FamilyQuery {
    #[serde(default)]
    q: String,
}

pub(super) fn routes(service: Arc<Service>) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    let new_page = warp::path!("children" / u64 / "family" / "new")
        .and(warp::get())
        .and(warp::query::<FamilyQuery>())
        .and(signed_in(service.clone()))
        .then(|id: u64, q: FamilyQuery, page: Page| async move {
            let (svc, session) = or_respond!(page);
            form_page(svc, session, id, None, Redraw { query: q.q, ..Redraw::default() }).await
        });
    let edit_page = warp::path!("children" / u64 / "family" / String)
        .and(warp::get())
        .and(signed_in(service.clone()))
        .then(|id: u64, key: String, page: Page| async move {
            let (svc, session) = or_respond!(page);
            match parse_member_key(&key) {
                Ok(who) => form_page(svc, session, id, Some(who), Redraw::default()).await,
                Err(e) => error_page(&session, &e),
            }
        });
    let add = warp::path!("children" / u64 / "family").and(form_post(service.clone())).then(add);
    let edit = warp::path!("children" / u64 / "family" / String).and(form_post(service.clone())).then(edit);
    let remove =
        warp::path!("children" / u64 / "family" / String / "remove").and(form_post(service)).then(remove);
    new_page.or(edit_page).unify().or(add).unify().or(edit).unify().or(remove).unify()
}

/// How the form is drawn again: as typed after a refusal (`typed`), or as stored after a
/// conflict with what was typed beside it (`unsaved`); with the sibling search's query.
#[derive(Default)]
struct Redraw {
    typed: Option<MemberForm>,
    unsaved: Option<MemberForm>,
    query: String,
    refused: Option<Error>,
}

/// The form, new or for `who`.
async fn form_page(
    svc: Arc<Service>,
    session: SessionInfo,
    id: u64,
    who: Option<MemberRef>,
    redraw: Redraw,
) -> Response {
    let (actor, q) = (session.actor.clone(), redraw.query.clone());
    match blocking(move || svc.family_form(&actor, ChildId(id), who, Some(q.as_str()))).await {
        Ok(view) => {
            let mut chrome =
                Chrome::new(&session, if who.is_some() { "家族の編集" } else { "家族を追加" }, "child");
            chrome.child_id = id;
            let mut page = FamilyPage::new(chrome, &view, redraw.typed, &redraw.query);
            page.unsaved = redraw.unsaved.map(|f| f.rows(&page.relations));
            let status = match &redraw.refused {
                Some(Error::Conflict { .. }) => {
                    page.message = Some(CHANGED_MEANWHILE.to_owned());
                    StatusCode::CONFLICT
                }
                Some(e) => {
                    page.message = Some(message(e));
                    page.chrome.mark(e);
                    super::status_of(e)
                }
                None => StatusCode::OK,
            };
            html(&page, status)
        }
        Err(e) => error_page(&session, &e),
    }
}

const CHANGED_MEANWHILE: &str = "ほかの職員がこの家族の同じ項目を先に変更しました。フォームには保存されている最新の内容を表示しています。\
     入力した内容（下の表、まだ保存されていません）と見比べて、必要なところを直してから保存してください。";

fn saved(id: u64) -> Response {
    redirect(&format!("/children/{id}?saved=family#family"))
}

async fn add(id: u64, form: HashMap<String, String>, page: Page) -> Response {
    let (svc, session) = or_respond!(page);
    let typed = MemberForm::from_form(&form);
    // A sibling's form carries the search it came from, to show again after a refusal.
    let (sibling, query) = (text(&form, "sibling"), text(&form, "q"));
    let (s, mine, svc2, joining) = (session.clone(), typed.clone(), svc.clone(), sibling.clone());
    let result = blocking(move || {
        check_form(&s, &form)?;
        let new = if joining.is_empty() {
            NewMember {
                who: Joining::Adult(Box::new(mine.person()?)),
                standing: mine.standing()?,
                cohabiting: mine.cohabiting,
            }
        } else {
            let child = joining.parse::<u64>().map_err(|_| Error::invalid("child", "a child's number"))?;
            // A sibling found by search comes without a relation: きょうだい.
            let relation = if mine.relation.is_empty() { SIBLING.to_owned() } else { mine.relation.clone() };
            NewMember {
                who: Joining::Child(ChildId(child)),
                standing: MemberForm { relation, ..mine.clone() }.standing()?,
                cohabiting: mine.cohabiting,
            }
        };
        svc2.add_family_member(&s.actor, ChildId(id), new, idempotency_key(&form).as_deref())
    })
    .await;
    match result {
        Ok(_) => saved(id),
        Err(e) if e.is_input() => {
            let typed = sibling.is_empty().then_some(typed);
            form_page(svc, session, id, None, Redraw { typed, query, refused: Some(e), ..Redraw::default() })
                .await
        }
        Err(e) => error_page(&session, &e),
    }
}

async fn edit(id: u64, key: String, form: HashMap<String, String>, page: Page) -> Response {
    let (svc, session) = or_respond!(page);
    let who = match parse_member_key(&key) {
        Ok(who) => who,
        Err(e) => return error_page(&session, &e),
    };
    let typed = MemberForm::from_form(&form);
    let (s, mine, svc2) = (session.clone(), typed.clone(), svc.clone());
    let result = blocking(move || {
        check_form(&s, &form)?;
        let revision =
            |k: &str| text(&form, k).parse::<u64>().map_err(|_| Error::invalid("rev", "版がありません"));
        let person = match who {
            MemberRef::Person(_) => Some((revision("rev")?, mine.person()?)),
            MemberRef::Child(_) => None,
        };
        let edit = MemberEdit {
            who,
            household_rev: revision("household_rev")?,
            person,
            standing: mine.standing()?,
            cohabiting: mine.cohabiting,
        };
        svc2.edit_family_member(&s.actor, ChildId(id), edit)
    })
    .await;
    match result {
        Ok(_) => saved(id),
        // Someone changed the same member meanwhile: the form shows what is stored now (so a
        // second save overwrites nothing unseen) and, beside it, what was typed and not saved.
        Err(e @ Error::Conflict { .. }) => {
            form_page(
                svc,
                session,
                id,
                Some(who),
                Redraw { unsaved: Some(typed), refused: Some(e), ..Redraw::default() },
            )
            .await
        }
        Err(e) if e.is_input() => {
            form_page(
                svc,
                session,
                id,
                Some(who),
                Redraw { typed: Some(typed), refused: Some(e), ..Redraw::default() },
            )
            .await
        }
        Err(e) => error_page(&session, &e),
    }
}

async fn remove(id: u64, key: String, form: HashMap<String, String>, page: Page) -> Response {
    let (svc, session) = or_respond!(page);
    let s = session.clone();
    let result = blocking(move || {
        check_form(&s, &form)?;
        let who = parse_member_key(&key)?;
        let rev = text(&form, "household_rev")
            .parse::<u64>()
            .map_err(|_| Error::invalid("rev", "版がありません"))?;
        svc.remove_family_member(&s.actor, ChildId(id), who, rev)
    })
    .await;
    match result {
        Ok(_) => saved(id),
        Err(e) => error_page(&session, &e),
    }
}
