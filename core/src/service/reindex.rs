//! Re-indexing the children's search keys when the store's were made under another version of
//! them (`search::keys_version`: the 異体字 table, the marks, NFKC's Unicode version, what a
//! key holds), once, before the server serves (an upgrade). Logged writes like any other: a
//! replay writes the search tables' absolute contents, so they must be in the redo log.

use crate::error::Result;
use crate::ids::{ChildId, RecordId};
use crate::person::Child;
use crate::search;
use crate::service::Service;
use crate::service::family::search_keys;
use crate::store::Reader;

/// The META key holding the version of the search keys the store holds.
const KEYS_VERSION: &str = "search_keys_version";
/// Children looked at per transaction.
const BATCH: usize = 2000;

/// What a re-index did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Reindexed {
    /// Children whose keys changed and were written.
    pub changed: usize,
    /// Children whose keys could not be made (a damaged child, household or person record), with
    /// why: left as they were, and the store is not marked, so the next start tries again.
    pub failed: Vec<(ChildId, String)>,
}

impl Service {
    /// Re-indexes every child whose search keys differ from this program's, unless the store is
    /// marked as holding them at this version already (a new store is marked when created). A
    /// child whose keys cannot be made is skipped and counted, never stops the others.
    pub fn reindex_search(&self) -> Result<Reindexed> {
        let version = search::keys_version();
        let ids: Vec<u64> = {
            let r = self.store.read()?;
            if r.meta(KEYS_VERSION)?.is_some_and(|v| v == version.as_bytes()) {
                return Ok(Reindexed::default());
            }
            r.ids(ChildId::KIND)?
        };
        let mut done = Reindexed::default();
        for chunk in ids.chunks(BATCH) {
            let mut tx = self.store.begin_write(self.now(), 0, None)?;
            for id in chunk {
                let made =
                    tx.require::<Child>(ChildId(*id)).and_then(|c| Ok((search_keys(&tx, &c.body)?, c.body)));
                let (keys, child) = match made {
                    Ok(made) => made,
                    // The store itself failing is no damaged record: stop.
                    Err(e @ (crate::Error::Store(_) | crate::Error::Unavailable(_))) => return Err(e),
                    Err(e) => {
                        done.failed.push((ChildId(*id), e.to_string()));
                        continue;
                    }
                };
                if tx.child_search_keys(*id)? != keys {
                    tx.index_child(*id, &keys, child.birth_date, child.birth_date)?;
                    done.changed += 1;
                }
            }
            tx.commit()?;
        }
        if done.failed.is_empty() {
            self.mark_search_keys()?;
        }
        Ok(done)
    }

    /// Marks the store's search keys as made at this program's version.
    pub(super) fn mark_search_keys(&self) -> Result<()> {
        let mut tx = self.store.begin_write(self.now(), 0, None)?;
        tx.set_meta(KEYS_VERSION, search::keys_version().as_bytes())?;
        tx.commit()
    }
}
