//! Editing a child's face sheet. The form carries the revision it was drawn from; when someone
//! else saved in between, the page shows both versions side by side and keeps what was typed.

use std::collections::HashMap;
use std::sync::Arc;

use mamoru_core::ids::{ChildId, StaffId};
use mamoru_core::person::Child;
use mamoru_core::store::Versioned;
use mamoru_core::{Error, Service};
use warp::http::StatusCode;
use warp::reply::Response;
use warp::{Filter, Rejection};

use super::views::{ChildEditPage, ChildForm, Chrome, ConflictView};
use super::{
    FORM_LIMIT, Page, blocking, check_form, error_page, html, message, redirect, same_origin, signed_in,
};

pub(super) fn edit_page(
    service: Arc<Service>,
) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    warp::path!("children" / u64 / "edit").and(warp::get()).and(signed_in(service)).then(
        |id: u64, page: Page| async move {
            let (svc, session) = match page {
                Ok(p) => p,
                Err(r) => return r,
            };
            let actor = session.actor.clone();
            match blocking(move || svc.child(&actor, ChildId(id))).await {
                Ok(view) if view.may_edit => {
                    let chrome = Chrome::new(&session, "フェイスシートの編集", "child");
                    let form = ChildForm::of(&view.child.body);
                    html(&ChildEditPage::new(chrome, &view.child, form), StatusCode::OK)
                }
                Ok(_) => error_page(&session, &Error::Forbidden { action: "edit_child" }),
                Err(e) => error_page(&session, &e),
            }
        },
    )
}

/// What became of a face-sheet save.
enum Saved {
    Done,
    /// Someone else saved first: their version, and the names to show who.
    Conflict(Box<Versioned<Child>>, HashMap<StaffId, String>),
}

pub(super) fn save(service: Arc<Service>) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    warp::path!("children" / u64 / "edit")
        .and(warp::post())
        .and(same_origin())
        .and(warp::body::content_length_limit(FORM_LIMIT))
        .and(warp::body::form::<HashMap<String, String>>())
        .and(signed_in(service))
        .then(|id: u64, form: HashMap<String, String>, page: Page| async move {
            let (svc, session) = match page {
                Ok(p) => p,
                Err(r) => return r,
            };
            let typed = ChildForm::from_form(&form);
            let rev = form.get("rev").and_then(|r| r.parse::<u64>().ok());
            let (s, mine) = (session.clone(), typed.clone());
            let svc2 = svc.clone();
            let result = blocking(move || {
                check_form(&s, &form)?;
                let rev = rev.ok_or_else(|| Error::invalid("rev", "版がありません"))?;
                let current = svc2.child(&s.actor, ChildId(id))?.child;
                let body = mine.apply(current.body.clone())?;
                match svc2.edit_child(&s.actor, ChildId(id), rev, body) {
                    Ok(_) => Ok(Saved::Done),
                    Err(Error::Conflict { .. }) => {
                        let now = svc2.child(&s.actor, ChildId(id))?.child;
                        // The same form sent again after its answer was lost: it is already saved.
                        if mine.matches(&now.body) {
                            return Ok(Saved::Done);
                        }
                        Ok(Saved::Conflict(Box::new(now), svc2.staff_names(&s.actor)?))
                    }
                    Err(e) => Err(e),
                }
            })
            .await;
            let chrome = || Chrome::new(&session, "フェイスシートの編集", "child");
            match result {
                Ok(Saved::Done) => redirect(&format!("/children/{id}?saved=1")),
                Ok(Saved::Conflict(theirs, names)) => {
                    let mut page = ChildEditPage::new(chrome(), &theirs, typed.clone());
                    page.conflict = Some(ConflictView::new(
                        typed.rows(),
                        ChildForm::of(&theirs.body).rows(),
                        &theirs,
                        &names,
                        format!("/children/{id}"),
                    ));
                    html(&page, StatusCode::CONFLICT)
                }
                Err(e @ (Error::Invalid { .. } | Error::Date(_))) => {
                    let actor = session.actor.clone();
                    match blocking(move || svc.child(&actor, ChildId(id))).await {
                        Ok(view) => {
                            let mut page = ChildEditPage::new(chrome(), &view.child, typed);
                            // The revision the person started from stays: a save must not
                            // silently pass over an edit made meanwhile.
                            page.rev = rev.unwrap_or(view.child.rev);
                            page.message = Some(message(&e));
                            html(&page, StatusCode::UNPROCESSABLE_ENTITY)
                        }
                        Err(other) => error_page(&session, &other),
                    }
                }
                Err(e) => error_page(&session, &e),
            }
        })
}
