//! Live events for open pages: the change log reduced to kinds and ids, filtered by what the
//! subscriber may read. No names, no text: a page that wants the new content reads it through
//! the ordinary (audited) calls.

use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use super::access::Scope;
use super::{Actor, Service};
use crate::case::Case;
use crate::error::Result;
use crate::ids::{CaseId, ChildId};
use crate::person::Child;
use crate::staff::Action;
use crate::store::{Change, Reader};

/// One committed change a subscriber may know of.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Event {
    /// The change-log sequence number: the resume point.
    pub seq: u64,
    /// The record kind (`note`, `safety_check`, `case`, `child`, …).
    pub kind: String,
    pub id: u64,
    /// The case the record belongs to, if any.
    pub case: Option<CaseId>,
    /// The child the record is about, if any.
    pub child: Option<ChildId>,
}

/// What one scan of the change log found.
#[derive(Clone, Debug, Default)]
pub struct Events {
    pub events: Vec<Event>,
    /// The last sequence number looked at (visible or not); the next scan starts after it.
    pub scanned_to: u64,
}

/// Kinds worth telling an open page about; every other kind (staff, devices, code tables, the
/// protected reporter) never leaves the server as an event.
const LIVE_KINDS: [&str; 8] =
    ["child", "case", "note", "safety_check", "protection", "support", "assessment", "message"];

#[derive(Deserialize)]
struct Links {
    #[serde(default)]
    case: Option<u64>,
    #[serde(default)]
    child: Option<u64>,
}

#[derive(Deserialize)]
struct Body {
    body: Links,
}

/// Functions to call after each commit of case data (the web layer wakes its event streams).
#[derive(Default)]
pub(super) struct ChangeSignal(Mutex<Vec<Box<dyn Fn() + Send + Sync>>>);

impl ChangeSignal {
    pub(super) fn fire(&self) {
        for f in self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner).iter() {
            f();
        }
    }
}

impl Service {
    /// Calls `f` after every committed write (from the committing thread: keep it short).
    pub fn on_change(&self, f: impl Fn() + Send + Sync + 'static) {
        self.changed.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(Box::new(f));
    }

    /// The newest change-log sequence number: where a new subscriber starts.
    pub fn last_change(&self) -> Result<u64> {
        self.store.read()?.last_change_seq()
    }

    /// Events after `after` that `actor` may read, scanning at most `limit` log entries. Not
    /// audited (see `permit`): an event carries ids only, and what a page then reads is audited.
    pub fn events_after(&self, actor: &Actor, after: u64, limit: usize) -> Result<Events> {
        Self::permit(actor, Action::ReadCase)?;
        let r = self.store.read()?;
        let scope = Scope::of(&r, actor)?;
        let mut out = Events { events: Vec::new(), scanned_to: after };
        for change in r.changes_after(after, limit)? {
            out.scanned_to = change.seq;
            if let Some(event) = visible(&r, &scope, &change)? {
                out.events.push(event);
            }
        }
        Ok(out)
    }
}

fn visible(r: &impl Reader, scope: &Scope<'_>, change: &Change) -> Result<Option<Event>> {
    if change.sensitive || !LIVE_KINDS.contains(&change.kind.as_str()) {
        return Ok(None);
    }
    let links = serde_json::from_str::<Body>(change.record.get())
        .map_or(Links { case: None, child: None }, |b| b.body);
    let (case, child) = match change.kind.as_str() {
        "child" => (None, Some(change.id)),
        "case" => (Some(change.id), links.child),
        _ => (links.case, links.child),
    };
    let readable = if let Some(case) = case {
        r.get::<Case>(CaseId(case))?.is_some_and(|c| scope.can_read_case(&c.body))
    } else if let Some(child) = child {
        r.get::<Child>(ChildId(child))?.is_some_and(|c| scope.can_read_child(&c.body))
    } else {
        false
    };
    Ok(readable.then(|| Event {
        seq: change.seq,
        kind: change.kind.clone(),
        id: change.id,
        case: case.map(CaseId),
        child: child.map(ChildId),
    }))
}
