//! `GET /api/v1/events`: server-sent events fed by the store's change log. Each event carries
//! a record kind and ids only, and only for records the subscriber may read; the event id is the
//! change-log sequence number, so a reconnect (`Last-Event-ID`) resumes with no gap and no
//! duplicate. A commit wakes every stream at once; the session is re-checked at every wake, so
//! a revoked tablet's or an ended session's stream closes. When the server stops, every stream
//! ends at once (the page reconnects to the next server by itself), so a graceful stop never
//! waits on them.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use mamoru_core::service::{Event, SessionInfo};
use mamoru_core::{Error, Service};
use serde::Deserialize;
use tokio::sync::watch;
use warp::reply::Response;
use warp::{Filter, Rejection, Reply};

use crate::api::SESSION_COOKIE;
use crate::{blocking, error_response, with};

/// Change-log entries read per scan.
const SCAN: usize = 256;
/// With nothing happening, the session is re-checked this often (and a comment keeps proxies
/// from closing the connection).
const IDLE_CHECK: Duration = Duration::from_secs(15);

/// Wakes the event streams after each commit, and ends them when the server stops.
#[derive(Clone)]
pub(crate) struct Wake {
    changes: watch::Receiver<u64>,
    /// Turns true when the server stops; `None`: never (routes served in tests).
    stopping: Option<watch::Receiver<bool>>,
}

impl Wake {
    pub(crate) fn of(service: &Service, stopping: Option<watch::Receiver<bool>>) -> Self {
        let (tx, rx) = watch::channel(0u64);
        service.on_change(move || tx.send_modify(|n| *n = n.wrapping_add(1)));
        Self { changes: rx, stopping }
    }
}

/// Resolves once the server stops (or its stop signal is gone); never without one.
async fn stopped(stopping: &mut Option<watch::Receiver<bool>>) {
    match stopping {
        Some(rx) => {
            let _ = rx.wait_for(|s| *s).await;
        }
        None => std::future::pending().await,
    }
}

#[derive(Deserialize)]
struct After {
    after: Option<u64>,
}

struct Stream {
    svc: Arc<Service>,
    token: String,
    session: SessionInfo,
    last: u64,
    pending: VecDeque<Event>,
    wake: watch::Receiver<u64>,
    stopping: Option<watch::Receiver<bool>>,
    /// When the stream must next say something (a comment when nothing else was sent), however
    /// often other units' commits wake it: the connection's idle limit must never see it silent.
    speak_by: tokio::time::Instant,
}

enum Step {
    Send(warp::sse::Event),
    End,
}

impl Stream {
    async fn next(&mut self) -> Step {
        loop {
            if let Some(e) = self.pending.pop_front() {
                self.speak_by = tokio::time::Instant::now() + IDLE_CHECK;
                let data =
                    serde_json::json!({ "kind": e.kind, "id": e.id, "case": e.case, "child": e.child });
                return Step::Send(
                    warp::sse::Event::default().id(e.seq.to_string()).event("change").data(data.to_string()),
                );
            }
            let (svc, token, actor, after) =
                (self.svc.clone(), self.token.clone(), self.session.actor.clone(), self.last);
            let scan = blocking(move || {
                svc.peek_session(&token, actor.address())?;
                svc.events_after(&actor, after, SCAN)
            })
            .await;
            let Ok(found) = scan else { return Step::End };
            let full = found.scanned_to.saturating_sub(self.last) >= SCAN as u64;
            self.last = found.scanned_to;
            self.pending.extend(found.events);
            if !self.pending.is_empty() || full {
                continue;
            }
            tokio::select! {
                changed = self.wake.changed() => if changed.is_err() { return Step::End },
                () = stopped(&mut self.stopping) => return Step::End,
                () = tokio::time::sleep_until(self.speak_by) => {
                    self.speak_by = tokio::time::Instant::now() + IDLE_CHECK;
                    return Step::Send(warp::sse::Event::default().comment(""));
                }
            }
        }
    }
}

pub(crate) fn route(
    service: Arc<Service>,
    wake: Wake,
) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    warp::path!("api" / "v1" / "events")
        .and(warp::get())
        .and(warp::header::optional::<String>("authorization"))
        .and(warp::cookie::optional::<String>(SESSION_COOKIE))
        .and(warp::sse::last_event_id::<u64>())
        .and(crate::api::query::<After>())
        .and(crate::api::peer())
        .and(with(service))
        .and(with(wake))
        .then(
            |auth: Option<String>,
             cookie: Option<String>,
             last: Option<u64>,
             q: Result<After, Response>,
             peer: Option<std::net::SocketAddr>,
             svc: Arc<Service>,
             wake: Wake| async move {
                let Some(token) = crate::api::token(auth, cookie) else {
                    return error_response(&Error::Unauthenticated);
                };
                let q = or_respond!(q);
                let (checker, t) = (svc.clone(), token.clone());
                let opened = blocking(move || {
                    // Opening (and every automatic reconnect) is the page's doing: no idle reset.
                    let session = checker.peek_session(&t, peer.map(|p| p.ip()))?;
                    // A first connection starts now (or where the page says it was drawn).
                    let start = match last.or(q.after) {
                        Some(seq) => seq,
                        None => checker.last_change()?,
                    };
                    checker.events_after(&session.actor, start, 0)?;
                    Ok((session, start))
                })
                .await;
                let (session, start) = match opened {
                    Ok(v) => v,
                    Err(e) => return error_response(&e),
                };
                let stream = Stream {
                    svc,
                    token,
                    session,
                    last: start,
                    pending: VecDeque::new(),
                    wake: wake.changes,
                    stopping: wake.stopping,
                    speak_by: tokio::time::Instant::now() + IDLE_CHECK,
                };
                let events = futures_util::stream::unfold(stream, |mut s| async move {
                    match s.next().await {
                        Step::Send(e) => Some((Ok::<_, Infallible>(e), s)),
                        Step::End => None,
                    }
                });
                warp::sse::reply(events).into_response()
            },
        )
}
