//! Three-way merges of two edits of one record made from the same revision: a field one side
//! changed and the other did not takes the change; a field both changed differently is a clash,
//! and the record is not written until the editor has chosen. No silent overwrite, and no
//! needless conflict when two people fill in different parts of a record. Finding the base
//! version in the history is the service's (`service/merging.rs`).

use crate::record::Record;

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
