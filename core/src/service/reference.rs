//! The records every page draws with and that change rarely — the code tables, the assessment
//! sheets, the staff — decoded once per change of the store instead of once per page. Kept with
//! the change-log position they were read at: every record written moves that position
//! (`WriteTx::insert`/`update` log each change), so a page reads the position and uses the kept
//! records only while it has not moved. All three are read from one snapshot.

use std::sync::{Arc, Mutex, PoisonError};

use super::Service;
use crate::assessment::AssessmentSheet;
use crate::code_table::CodeTable;
use crate::error::Result;
use crate::record::Versioned;
use crate::staff::Staff;
use crate::store::Reader;

/// The code tables, sheets and staff as of change-log position `at`.
pub(crate) struct Reference {
    /// The change-log position they were read at.
    pub at: u64,
    pub code_tables: Arc<[Versioned<CodeTable>]>,
    pub sheets: Arc<[Versioned<AssessmentSheet>]>,
    /// By id.
    pub staff: Arc<[Versioned<Staff>]>,
}

/// The last `Reference` read.
#[derive(Default)]
pub(crate) struct Kept(Mutex<Option<Arc<Reference>>>);

impl Service {
    /// The code tables, sheets and staff as the store holds them now (see the module comment).
    pub(crate) fn reference(&self) -> Result<Arc<Reference>> {
        let r = self.store.read()?;
        let at = r.last_change_seq()?;
        let lock = || self.reference.0.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(k) = lock().as_ref()
            && k.at == at
        {
            return Ok(k.clone());
        }
        // Decoded outside the lock: pages of the moment before do not wait for it.
        let mut staff = r.all::<Staff>()?;
        staff.sort_by_key(|s| s.id);
        let fresh = Arc::new(Reference {
            at,
            code_tables: r.all::<CodeTable>()?.into(),
            sheets: r.all::<AssessmentSheet>()?.into(),
            staff: staff.into(),
        });
        let mut kept = lock();
        // A reader that began before a newer one was kept does not replace it.
        if kept.as_ref().is_none_or(|k| k.at < at) {
            *kept = Some(fresh.clone());
        }
        Ok(fresh)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use crate::Service;
    use crate::staff::{Login, Password};
    use crate::store::Store;
    use crate::time::{FixedClock, Timestamp};

    #[test]
    fn the_kept_records_follow_every_change() {
        let dir = tempfile::tempdir().unwrap();
        let now = Timestamp(1_800_000_000);
        let svc = Service::new(Store::create(dir.path(), now).unwrap(), Arc::new(FixedClock::new(now)));
        let first = svc.reference().unwrap();
        assert!(Arc::ptr_eq(&first, &svc.reference().unwrap()), "kept while nothing changed");
        let admin =
            svc.bootstrap(&Login::parse("admin").unwrap(), "管理", &Password::new("long enough 1").unwrap());
        admin.unwrap();
        let after = svc.reference().unwrap();
        assert_eq!(after.staff.len(), first.staff.len() + 1);
    }
}
