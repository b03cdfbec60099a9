//! The case page and its small field forms (progress note, safety check, message): a refused
//! write shows the page again with what was typed and why.

use std::collections::HashMap;
use std::sync::Arc;

use mamoru_core::case::{NewNote, NewSafetyCheck, SafetyMethod};
use mamoru_core::code_table::Code;
use mamoru_core::ids::CaseId;
use mamoru_core::service::SessionInfo;
use mamoru_core::{Error, Service, wareki};
use serde::Deserialize;
use warp::http::StatusCode;
use warp::reply::Response;
use warp::{Filter, Rejection};

use super::views;
use super::views::{CasePage, Chrome};
use super::{
    Page, case_form, check_form, error_page, html, idempotency_key, message, photo_list, redirect, signed_in,
    status_of, text,
};
use crate::blocking;

/// Everything the case page needs, read for `session` in one service call.
#[derive(Deserialize)]
pub(super) struct CaseQuery {
    #[serde(default)]
    saved: Option<String>,
}

pub(super) fn case(service: Arc<Service>) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    warp::path!("cases" / u64).and(warp::get()).and(warp::query::<CaseQuery>()).and(signed_in(service)).then(
        |id: u64, q: CaseQuery, page: Page| async move {
            let (svc, session) = or_respond!(page);
            let s = session.clone();
            match blocking(move || svc.case_page(&s.actor, CaseId(id))).await {
                Ok(data) => {
                    let mut chrome = Chrome::new(&session, data.case.case.body.case_no.clone(), "case");
                    chrome.scroll_to = q
                        .saved
                        .as_deref()
                        .map(|w| saved_at(w, &data, session.actor.staff()))
                        .unwrap_or_default();
                    let mut page = CasePage::of(chrome, &data, session.actor.staff());
                    page.notice = q.saved.as_deref().and_then(saved_notice).map(str::to_owned);
                    html(&page, StatusCode::OK)
                }
                Err(e) => error_page(&session, &e),
            }
        },
    )
}

/// Where the page stays after a write sent it back here with `?saved=`: the section written to,
/// or the reader's own newest message in the thread (the newest are at its end).
fn saved_at(what: &str, d: &mamoru_core::service::CasePageView, reader: mamoru_core::ids::StaffId) -> String {
    let section = match what {
        "note" => "notes",
        "check" => "checks",
        "message" => {
            let mine = d.case.messages.iter().find(|m| m.body.author == reader);
            return mine.map_or_else(|| "thread".to_owned(), |m| format!("m{}", m.id));
        }
        "protection" => "protection",
        "case" | "case_merged" | "assessment" | "approved" | "returned" => "work",
        "support" | "approved_support" | "returned_support" => "supports",
        "meeting" => "meetings",
        "petition" => "court",
        "closed" | "reopened" | "asked_closure" | "approved_closure" | "returned_closure" => "closure",
        "restricted" | "unrestricted" => "restriction",
        "assigned" => "assignment",
        _ => "",
    };
    section.to_owned()
}

/// What the page says after a write sent it back here with `?saved=`.
fn saved_notice(what: &str) -> Option<&'static str> {
    Some(match what {
        "note" => "経過記録を保存しました。",
        "check" => "安全確認を保存しました。",
        "intake" => "受付しました。",
        "protection" => "一時保護の記録を保存しました。",
        "message" => "連絡を送りました。",
        "case" => "調査・判定を保存しました。",
        "case_merged" => {
            "調査・判定を保存しました。編集中にほかの人が保存した別の項目の変更も、そのまま残っています。"
        }
        "assessment" => "アセスメントを保存しました。結果は下のとおりです。",
        "support" => "援助・措置を保存しました。",
        "meeting" => "会議を記録しました。",
        "petition" => "申立書を保存しました。「申立書（PDF）」から印刷できます。",
        "closed" => "ケースを終結しました。",
        "asked_closure" => "終結伺いを送りました。スーパーバイザーか所長の決裁を待っています。",
        "approved" | "approved_support" => "決裁しました。",
        "approved_closure" => "終結伺いを決裁し、ケースを終結しました。",
        "returned" | "returned_support" | "returned_closure" => {
            "差し戻しました。伺った職員にコメントが表示されます。"
        }
        "reopened" => "ケースを再開しました。",
        "restricted" => "閲覧制限を保存しました。",
        "unrestricted" => "このケースの閲覧制限を解除しました。",
        "assigned" => "担当を変更しました。",
        _ => return None,
    })
}

/// After a refused write: the case page again, with the message and everything typed.
pub(super) async fn refused(
    svc: Arc<Service>,
    session: SessionInfo,
    id: CaseId,
    e: Error,
    keep: impl FnOnce(&mut CasePage) + Send + 'static,
) -> Response {
    let s = session.clone();
    match blocking(move || svc.case_page(&s.actor, id)).await {
        Ok(data) => {
            let mut page = CasePage::of(
                Chrome::new(&session, data.case.case.body.case_no.clone(), "case"),
                &data,
                session.actor.staff(),
            );
            keep(&mut page);
            page.message = Some(message(&e));
            page.chrome.mark(&e);
            html(&page, status_of(&e))
        }
        Err(other) => error_page(&session, &other),
    }
}

/// One write from a case page's small forms (protection steps, closing): checked, done off the
/// async workers, and answered with the case page at `saved` (`what#section`), or with the
/// refusal, what `keep` puts back, and the current state.
pub(super) async fn case_write<T: Send + 'static>(
    page: Page,
    id: u64,
    form: HashMap<String, String>,
    saved: &'static str,
    keep: impl FnOnce(&mut CasePage) + Send + 'static,
    work: impl FnOnce(&Service, &SessionInfo, &HashMap<String, String>) -> Result<T, Error> + Send + 'static,
) -> Response {
    let (svc, session) = or_respond!(page);
    let (s, svc2) = (session.clone(), svc.clone());
    // Which of the forms sharing this action it was (the steps of a protection, the 決裁 of
    // each record), so that a refusal marks the fields of that one.
    let sent: Vec<String> = ["step", "subject", "record"]
        .iter()
        .filter_map(|k| form.get(*k).map(|v| format!("{k}={v}")))
        .collect();
    let result = blocking(move || {
        check_form(&s, &form)?;
        work(&svc2, &s, &form)
    })
    .await;
    match result {
        Ok(_) => redirect(&format!("/cases/{id}?saved={saved}")),
        Err(e) => {
            let keep = move |p: &mut CasePage| {
                keep(p);
                p.chrome.sent = sent.join(" ");
            };
            refused(svc, session, CaseId(id), e, keep).await
        }
    }
}

pub(super) fn add_note(
    service: Arc<Service>,
) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    case_form(service, "notes").then(|id: u64, form: HashMap<String, String>, page: Page| async move {
        let (svc, session) = or_respond!(page);
        let (at, kind, body, photos) =
            (text(&form, "at"), text(&form, "kind"), text(&form, "body"), text(&form, "photos"));
        let result = async {
            check_form(&session, &form)?;
            let note = NewNote {
                at: wareki::read_datetime("at", &at)?,
                kind: Code::new(&kind),
                body: body.clone(),
                photos: photo_list(&photos),
            };
            let (svc, actor, key) = (svc.clone(), session.actor.clone(), idempotency_key(&form));
            blocking(move || svc.add_note_once(&actor, CaseId(id), note, key.as_deref())).await
        }
        .await;
        match result {
            Ok(_) => redirect(&format!("/cases/{id}?saved=note#notes")),
            Err(e) => {
                refused(svc, session, CaseId(id), e, move |p| {
                    p.note_form = views::NoteForm { at, kind, body, photos };
                })
                .await
            }
        }
    })
}

pub(super) fn add_message(
    service: Arc<Service>,
) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    case_form(service, "messages").then(|id: u64, form: HashMap<String, String>, page: Page| async move {
        let (svc, session) = or_respond!(page);
        let body = text(&form, "body");
        let result = async {
            check_form(&session, &form)?;
            let (svc, actor, key, text) =
                (svc.clone(), session.actor.clone(), idempotency_key(&form), body.clone());
            blocking(move || svc.post_message_once(&actor, CaseId(id), &text, key.as_deref())).await
        }
        .await;
        match result {
            // Back at the message sent: the newest is at the thread's end, above the form.
            Ok(m) => redirect(&format!("/cases/{id}?saved=message#m{}", m.id)),
            Err(e) => refused(svc, session, CaseId(id), e, move |p| p.thread_form = body).await,
        }
    })
}

pub(super) fn add_check(
    service: Arc<Service>,
) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    case_form(service, "safety-checks").then(
        |id: u64, form: HashMap<String, String>, page: Page| async move {
            let (svc, session) = or_respond!(page);
            let kept = typed_check(&form);
            let result = async {
                check_form(&session, &form)?;
                let check = safety_check(&kept)?;
                let (svc, actor, key) = (svc.clone(), session.actor.clone(), idempotency_key(&form));
                blocking(move || svc.record_safety_check_once(&actor, CaseId(id), check, key.as_deref()))
                    .await
            }
            .await;
            match result {
                Ok(_) => redirect(&format!("/cases/{id}?saved=check#checks")),
                Err(e) => refused(svc, session, CaseId(id), e, move |p| p.check_form = kept).await,
            }
        },
    )
}

/// The safety check as typed, to be shown again after a refusal.
fn typed_check(form: &HashMap<String, String>) -> views::CheckForm {
    views::CheckForm {
        at: text(form, "at"),
        method: text(form, "method"),
        seen_directly: form.contains_key("seen_directly"),
        agency: text(form, "agency"),
        place: text(form, "place"),
        child_state: text(form, "child_state"),
        photos: text(form, "photos"),
        injuries: text(form, "injuries"),
    }
}

/// The typed check as core's command; core decides what is missing.
fn safety_check(kept: &views::CheckForm) -> Result<NewSafetyCheck, Error> {
    Ok(NewSafetyCheck {
        at: Some(kept.at.as_str())
            .filter(|t| !t.is_empty())
            .map(|t| wareki::read_datetime("at", t))
            .transpose()?,
        method: match kept.method.as_str() {
            "sighted" => Some(SafetyMethod::Sighted),
            "interview" => Some(SafetyMethod::Interview),
            "by_agency" => Some(SafetyMethod::ByAgency),
            _ => None,
        },
        seen_directly: kept.seen_directly,
        agency: kept.agency.clone(),
        place: kept.place.clone(),
        child_state: kept.child_state.clone(),
        injuries: if kept.injuries.is_empty() {
            Vec::new()
        } else {
            serde_json::from_str(&kept.injuries)
                .map_err(|_| Error::invalid("injuries", "not a list of marks"))?
        },
        photos: photo_list(&kept.photos),
    })
}
