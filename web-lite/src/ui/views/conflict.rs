//! Both versions of a conflicting edit side by side, the fields both changed marked.

use std::collections::HashMap;

use mamoru_core::ids::StaffId;
use mamoru_core::service::Versioned;

use super::{datetime, staff_name};

/// One line of the side-by-side view of a conflicting edit.
pub(crate) struct DiffRow {
    pub label: &'static str,
    pub mine: String,
    pub theirs: String,
    pub differs: bool,
    /// Both changed it, differently: the form below holds this person's text.
    pub clash: bool,
}

/// Someone else's version, saved while this person was editing.
pub(crate) struct ConflictView {
    pub rev: u64,
    pub by: String,
    pub at: String,
    pub rows: Vec<DiffRow>,
    pub back: String,
    /// The form below holds the two edits merged (`merged`), not only this person's.
    pub merged: bool,
}

impl ConflictView {
    /// `mine` and `theirs` as (label, value) rows in the same order; `current` is the version
    /// saved meanwhile, and `back` the page that shows it.
    pub(crate) fn new<T>(
        mine: Vec<(&'static str, String)>,
        theirs: Vec<(&'static str, String)>,
        current: &Versioned<T>,
        names: &HashMap<StaffId, String>,
        back: String,
    ) -> Self {
        let rows = mine
            .into_iter()
            .zip(theirs)
            .map(|((label, mine), (_, theirs))| DiffRow {
                label,
                differs: mine != theirs,
                clash: false,
                mine,
                theirs,
            })
            .collect();
        Self {
            rev: current.rev,
            by: staff_name(names, StaffId(current.by)),
            at: datetime(current.at),
            rows,
            back,
            merged: false,
        }
    }

    /// The form below holds the two edits merged: what only the other person changed is taken,
    /// and the rows labelled in `clashes`, changed by both, hold this person's text.
    pub(crate) fn merged(&mut self, clashes: &[&str]) {
        self.merged = true;
        for r in &mut self.rows {
            r.clash = clashes.contains(&r.label);
        }
    }
}
