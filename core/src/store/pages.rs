//! redb's own integrity check (every page's checksum, the trees' structure, the allocator state),
//! which the store's record-level checks cannot replace: a changed byte inside a record that
//! still parses passes them.

use std::io::Write as _;
use std::path::Path;

use redb::Database;

use super::Store;
use crate::error::{Error, Result};

impl Store {
    /// Runs redb's integrity check on a copy of the store file, and says what is wrong, if
    /// anything. On a copy, because redb's check also repairs what it can: the store itself is
    /// never changed behind anyone's back (a damaged store is restored from a backup, and kept
    /// for whoever looks into it), and a running server keeps serving. While the file is copied
    /// a write transaction is held, so the copy is exactly the last commit; writers wait for
    /// the copy (readers do not, but their audit entries are writes). The copy is made beside the
    /// store (private, same disk: it needs as much free space as the store) and removed after.
    ///
    /// Refused (`Error::Invalid`) when the copy would leave less than 512 MiB free: a full disk
    /// would fail the live store's commits.
    pub fn check_pages(&self) -> Result<Option<String>> {
        let copy = Leftover(check_copy_path(&self.path));
        // One left by a check that was killed part way.
        let _ = std::fs::remove_file(&copy.0);
        let size = std::fs::metadata(&self.path)
            .map_err(|source| Error::Io { context: "reading the store file's size", source })?
            .len();
        let dir = self.path.parent().unwrap_or(Path::new("."));
        let fs = rustix::fs::statvfs(dir).map_err(|e| Error::Io {
            context: "reading the free space beside the store",
            source: std::io::Error::from_raw_os_error(e.raw_os_error()),
        })?;
        let free = fs.f_bavail.saturating_mul(fs.f_frsize);
        // Room for the live store to go on growing while the copy exists.
        let margin = 512 << 20;
        if free < size.saturating_add(margin) {
            return Err(Error::invalid(
                "disk",
                format!(
                    "the integrity check needs {} MB free beside the store (a copy of it, and 512 MB to spare); {} MB are free",
                    (size + margin) >> 20,
                    free >> 20
                ),
            ));
        }
        let hold = self.raw_write()?;
        let copied = copy_private(&self.path, &copy.0);
        hold.abort().map_err(|e| Error::store("ending the integrity check's hold", e))?;
        copied?;
        Ok(check_file(&copy.0))
    }
}

/// Where the integrity check copies the store file (beside it).
pub(super) fn check_copy_path(store: &Path) -> std::path::PathBuf {
    store.with_extension("redb-check")
}

/// The copy, removed however the check ends (an error, a panic).
struct Leftover(std::path::PathBuf);

impl Drop for Leftover {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// redb's verdict on a file no one else has open: `None` when every page checks out.
fn check_file(path: &Path) -> Option<String> {
    // The check at open verifies every page of the committed trees before anything is trusted
    // (a plain open of an altered file may panic); with two-phase commit, damage to them is an
    // error, not a quiet fallback. A copy of an open file always needs recovery, so what the
    // open repairs (the allocator state, leaked pages) is not reported: it is not damage.
    let mut db = match Database::builder().set_check_integrity_on_open(true).open(path) {
        Ok(db) => db,
        Err(e) => return Some(format!("redb refuses the store file: {e}")),
    };
    match db.check_integrity() {
        Ok(true) => None,
        Ok(false) => Some("redb found damaged pages in the store file".to_owned()),
        Err(e) => Some(format!("redb found the store file damaged: {e}")),
    }
}

/// Copies `from` to a new file `to` (0600 whatever the umask), flushed.
fn copy_private(from: &Path, to: &Path) -> Result<()> {
    use std::os::unix::fs::OpenOptionsExt as _;
    let io = |source| Error::Io { context: "copying the store for its integrity check", source };
    let mut src = std::fs::File::open(from).map_err(io)?;
    let mut dst =
        std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(to).map_err(io)?;
    std::io::copy(&mut src, &mut dst).map_err(io)?;
    dst.flush().map_err(io)?;
    Ok(())
}
