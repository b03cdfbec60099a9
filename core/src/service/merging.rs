//! An edit merged with what was saved since its revision, the base read from the record's
//! history ([`Merge`] does the fields).

use crate::error::{Error, Result};
use crate::ids::RecordId;
use crate::merge::{Merge, Merged};
use crate::record::{Record, Versioned};
use crate::store::Reader;

/// `mine`, an edit started from revision `rev`, merged into `current` (base from the history).
/// A base no longer in the history is a conflict.
pub(crate) fn with_current<T: Merge>(
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
pub(crate) fn edit<T: Merge>(r: &impl Reader, current: &Versioned<T>, rev: u64, mine: T) -> Result<T> {
    if rev == current.rev {
        return Ok(mine);
    }
    let merged = with_current(r, current, rev, &mine)?;
    if merged.clashes.is_empty() { Ok(merged.body) } else { Err(conflict::<T>(current, rev)) }
}

fn conflict<T: Record>(current: &Versioned<T>, rev: u64) -> Error {
    Error::Conflict { record: format!("{} {}", T::Id::KIND, current.id), expected: rev, found: current.rev }
}
