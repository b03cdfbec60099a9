//! Three-way merges of two edits of one record made from the same revision: a field one side
//! changed and the other did not takes the change; a field both changed differently is a clash,
//! and the record is not written until the editor has chosen. No silent overwrite, and no
//! needless conflict when two people fill in different parts of a record.

use crate::ids::RecordId;
use crate::store::{Reader, Record, Versioned};
use crate::{Error, Result};

/// What a merge made: `body` holds every field that only one side changed as that side has it;
/// a field both changed differently is named in `clashes` (as in the JSON, e.g.
/// `worker_opinion`, `abuse.types`) and holds `mine`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Merged<T> {
    pub body: T,
    pub clashes: Vec<&'static str>,
}

/// A record whose edits can be merged field by field.
pub trait Merge: Record + Clone {
    /// Merges `mine`, an edit started from `base`, into `theirs`, the version saved meanwhile
    /// from the same base. Fields outside what an editor changes are `theirs`.
    fn merge(base: &Self, mine: &Self, theirs: &Self) -> Merged<Self>;
}

/// `mine`, an edit started from revision `rev`, merged into `current` (base from the history).
/// A base no longer in the history is a conflict.
pub fn with_current<T: Merge>(
    r: &impl Reader,
    current: &Versioned<T>,
    rev: u64,
    mine: &T,
) -> Result<Merged<T>> {
    let conflict = || conflict::<T>(current, rev);
    if rev == current.rev {
        return Ok(Merged { body: mine.clone(), clashes: Vec::new() });
    }
    let base =
        r.history::<T>(T::Id::from(current.id))?.into_iter().find(|v| v.rev == rev).ok_or_else(conflict)?;
    Ok(T::merge(&base.body, mine, &current.body))
}

/// The body to write for an edit started from `rev`: `mine` itself when nobody saved since,
/// else the merge with what was saved, or a conflict when both changed one field.
pub fn edit<T: Merge>(r: &impl Reader, current: &Versioned<T>, rev: u64, mine: T) -> Result<T> {
    if rev == current.rev {
        return Ok(mine);
    }
    let merged = with_current(r, current, rev, &mine)?;
    if merged.clashes.is_empty() { Ok(merged.body) } else { Err(conflict::<T>(current, rev)) }
}

fn conflict<T: Record>(current: &Versioned<T>, rev: u64) -> Error {
    Error::Conflict { record: format!("{} {}", T::Id::KIND, current.id), expected: rev, found: current.rev }
}

/// One field of a merge, collecting its clash.
pub(crate) struct Fields {
    pub clashes: Vec<&'static str>,
}

impl Fields {
    pub(crate) fn new() -> Self {
        Self { clashes: Vec::new() }
    }

    /// The merged value of one field.
    pub(crate) fn pick<T: PartialEq>(&mut self, field: &'static str, base: &T, mine: T, theirs: T) -> T {
        if mine == *base || mine == theirs {
            theirs
        } else {
            if theirs != *base {
                self.clashes.push(field);
            }
            mine
        }
    }

    /// A list whose order means nothing, merged as a set.
    pub(crate) fn pick_set<T: Clone + Ord>(
        &mut self,
        field: &'static str,
        base: &[T],
        mine: &[T],
        theirs: &[T],
    ) -> Vec<T> {
        self.pick(field, &sorted(base), sorted(mine), sorted(theirs))
    }
}

fn sorted<T: Clone + Ord>(v: &[T]) -> Vec<T> {
    let mut v = v.to_vec();
    v.sort();
    v.dedup();
    v
}
