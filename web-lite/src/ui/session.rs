//! A page's session, from the cookie only: without one, the way to the sign-in page; a
//! session that must first enrol its second factor goes there.

use std::net::SocketAddr;
use std::sync::Arc;

use mamoru_core::service::SessionInfo;
use mamoru_core::{Error, Service};
use warp::reply::Response;
use warp::{Filter, Rejection};

use super::{redirect, to_login};
use crate::api::SESSION_COOKIE;
use crate::with;

pub(super) type Page = Result<(Arc<Service>, SessionInfo), Response>;

/// The page's session from the cookie; without one, the way to the sign-in page; for a session
/// that must first enrol its second factor, the way to that (`/totp`).
#[expect(clippy::result_large_err, reason = "a filter's refusal is the response to send")]
pub(super) fn signed_in(service: Arc<Service>) -> impl Filter<Extract = (Page,), Error = Rejection> + Clone {
    session_of_page(service, false).map(|page: TokenPage| page.map(|(svc, session, _)| (svc, session)))
}

/// A page's session and its token; `Err` is the response to send instead.
pub(super) type TokenPage = Result<(Arc<Service>, SessionInfo, String), Response>;

/// `signed_in` with the token. `enrolling_ok`: for the pages a session that must first enrol its
/// second factor may see (the enrolment, logout).
pub(super) fn session_of_page(
    service: Arc<Service>,
    enrolling_ok: bool,
) -> impl Filter<Extract = (TokenPage,), Error = Rejection> + Clone {
    warp::cookie::optional::<String>(SESSION_COOKIE)
        .and(warp::header::optional::<String>("x-mamoru-live"))
        .and(crate::api::peer())
        .and(with(service))
        .and(asked_for())
        .then(
            move |cookie: Option<String>,
                  live: Option<String>,
                  peer: Option<SocketAddr>,
                  svc: Arc<Service>,
                  asked: String| async move {
                // Never signed in here (a first visit): the sign-in page says nothing about an ended
                // session; a cookie that no longer opens one is an ended session.
                let Some(token) = cookie else { return Err(redirect("/login")) };
                let (checker, t) = (svc.clone(), token.clone());
                // A live refresh is the page's doing, not the person's: it does not reset the idle timer.
                let from = peer.map(|p| p.ip());
                let lookup = move || match (enrolling_ok, live) {
                    (true, _) => checker.enrolment_session(&t, from),
                    (false, Some(_)) => checker.peek_session(&t, from),
                    (false, None) => checker.session(&t, from),
                };
                let found = crate::session_lookup(&svc, lookup).await;
                match found {
                    Ok(s) => Ok((svc, s, token)),
                    Err(Error::SecondFactorRequired) => Err(redirect("/totp")),
                    Err(Error::Unauthenticated) => Err(to_login()),
                    // The store cannot be read now (a full disk): that ends no session; the
                    // person waits and tries again, still signed in.
                    Err(e) => Err(super::errors::lookup_failed_page(&e, &asked)),
                }
            },
        )
}

/// The page a GET asked for, with its query (what もう一度試す asks for again); for any other
/// method, the home page.
fn asked_for() -> impl Filter<Extract = (String,), Error = std::convert::Infallible> + Clone {
    let query = warp::query::raw().or(warp::any().map(String::new)).unify();
    warp::method().and(warp::path::full()).and(query).map(
        |method: warp::http::Method, path: warp::path::FullPath, query: String| match method {
            warp::http::Method::GET if query.is_empty() => path.as_str().to_owned(),
            warp::http::Method::GET => format!("{}?{query}", path.as_str()),
            _ => "/home".to_owned(),
        },
    )
}
