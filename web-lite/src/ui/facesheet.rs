//! Editing a child's face sheet. The form carries the revision it was drawn from; when someone
//! else saved in between, core merges the two edits field by field, and where both changed one
//! field the page shows both versions side by side with the merge in the form.

use std::collections::HashMap;
use std::sync::Arc;

use mamoru_core::ids::{ChildId, StaffId};
use mamoru_core::person::Child;
use mamoru_core::service::{SessionInfo, Versioned};
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
            let (svc, session) = or_respond!(page);
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
    /// Saved; `true` when merged with an edit saved meanwhile.
    Done(bool),
    /// Someone else saved first and changed some of the same fields: their version, the two
    /// edits merged, the labels of the fields both changed, and the names to show who.
    Conflict(Box<Clash>),
}

/// Their version, the merged form, the labels both changed, and staff names.
type Clash = (Versioned<Child>, ChildForm, Vec<&'static str>, HashMap<StaffId, String>);

/// The row of the conflict view that shows a field a merge names (`Child::merge`).
fn field_label(field: &str) -> &'static str {
    match field {
        "family_name" | "given_name" => "氏名",
        "family_name_kana" | "given_name_kana" => "ふりがな",
        "birth_date" => "生年月日",
        "sex" => "性別",
        "address" => "住所",
        "phones" => "電話",
        "affiliation" => "所属",
        "nationality" => "国籍",
        "resident_no" => "宛名番号",
        _ => "その他",
    }
}

pub(super) fn save(service: Arc<Service>) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    warp::path!("children" / u64 / "edit")
        .and(warp::post())
        .and(same_origin())
        .and(warp::body::content_length_limit(FORM_LIMIT))
        .and(warp::body::form::<HashMap<String, String>>())
        .and(signed_in(service))
        .then(save_child)
}

async fn save_child(id: u64, form: HashMap<String, String>, page: Page) -> Response {
    let (svc, session) = or_respond!(page);
    let typed = ChildForm::from_form(&form);
    let rev = form.get("rev").and_then(|r| r.parse::<u64>().ok());
    let (s, mine, svc2) = (session.clone(), typed.clone(), svc.clone());
    let result = blocking(move || {
        check_form(&s, &form)?;
        save_or_merge(&svc2, &s, ChildId(id), rev, &mine)
    })
    .await;
    match result {
        Ok(Saved::Done(false)) => redirect(&format!("/children/{id}?saved=1")),
        Ok(Saved::Done(true)) => redirect(&format!("/children/{id}?saved=merged")),
        Ok(Saved::Conflict(clash)) => conflict_page(&session, id, &typed, *clash),
        Err(e) if e.is_input() => refused_page(svc, session, id, rev, typed, e).await,
        Err(e) => error_page(&session, &e),
    }
}

/// Saves the edit; when someone else saved first, core merges the two edits field by field.
fn save_or_merge(
    svc: &Service,
    session: &SessionInfo,
    id: ChildId,
    rev: Option<u64>,
    form: &ChildForm,
) -> Result<Saved, Error> {
    let rev = rev.ok_or_else(|| Error::invalid("rev", "版がありません"))?;
    let edit = form.edit()?;
    match svc.edit_child(&session.actor, id, rev, &edit) {
        Ok(saved) => Ok(Saved::Done(saved.merged)),
        Err(Error::Conflict { .. }) => {
            let (theirs, merged) = svc.merge_child_edit(&session.actor, id, rev, &edit)?;
            let clashes = merged.clashes.iter().map(|f| field_label(f)).collect();
            let names = svc.staff_names(&session.actor)?;
            Ok(Saved::Conflict(Box::new((theirs, ChildForm::of(&merged.body), clashes, names))))
        }
        Err(e) => Err(e),
    }
}

/// Both versions side by side, the merge in the form.
fn conflict_page(session: &SessionInfo, id: u64, mine: &ChildForm, clash: Clash) -> Response {
    let (theirs, merged, clashes, names) = clash;
    let chrome = Chrome::new(session, "フェイスシートの編集", "child");
    let mut page = ChildEditPage::new(chrome, &theirs, merged);
    let theirs_rows = ChildForm::of(&theirs.body).rows();
    let mut conflict =
        ConflictView::new(mine.rows(), theirs_rows, &theirs, &names, format!("/children/{id}"));
    conflict.merged(&clashes);
    page.conflict = Some(conflict);
    html(&page, StatusCode::CONFLICT)
}

/// The form as typed, with core's reason for refusing it.
async fn refused_page(
    svc: Arc<Service>,
    session: SessionInfo,
    id: u64,
    rev: Option<u64>,
    typed: ChildForm,
    e: Error,
) -> Response {
    let actor = session.actor.clone();
    match blocking(move || svc.child(&actor, ChildId(id))).await {
        Ok(view) => {
            let chrome = Chrome::new(&session, "フェイスシートの編集", "child");
            let mut page = ChildEditPage::new(chrome, &view.child, typed);
            // The revision the person started from stays: a save must not silently pass over
            // an edit made meanwhile.
            page.rev = rev.unwrap_or(view.child.rev);
            page.message = Some(message(&e));
            page.chrome.mark(&e);
            html(&page, StatusCode::UNPROCESSABLE_ENTITY)
        }
        Err(other) => error_page(&session, &other),
    }
}
