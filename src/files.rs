//! Files private by construction: every file the process makes is readable by its owner only,
//! whatever umask it was started with, and a data directory is closed to everyone else.

use std::path::Path;

use anyhow::{Context, Result};

/// Makes every file and directory this process creates from now on private (umask 077):
/// stores, keys, exports, restores and backups alike. Called first thing in `main`.
pub fn private_by_default() {
    rustix::process::umask(rustix::fs::Mode::from_raw_mode(0o077));
}

/// Closes `dir` (a data directory, perhaps made beforehand by someone else's `mkdir`) to
/// everyone but its owner: the directory 0700, every file in it 0600, recursively.
pub fn close_dir(dir: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let set = |path: &Path, mode: u32| {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
            .with_context(|| format!("making {} private", path.display()))
    };
    set(dir, 0o700)?;
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let entry = entry.with_context(|| format!("reading {}", dir.display()))?;
        let kind = entry.file_type().with_context(|| format!("reading {}", dir.display()))?;
        if kind.is_dir() {
            close_dir(&entry.path())?;
        } else if kind.is_file() {
            set(&entry.path(), 0o600)?;
        }
    }
    Ok(())
}

/// [`close_dir`] for the directory itself and the files directly in it only (a server's start:
/// the backup directory inside may be a NAS mount that is not ours to change).
pub fn close_top(dir: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
        .with_context(|| format!("making {} private", dir.display()))?;
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let entry = entry.with_context(|| format!("reading {}", dir.display()))?;
        if entry.file_type().is_ok_and(|t| t.is_file()) {
            std::fs::set_permissions(entry.path(), std::fs::Permissions::from_mode(0o600))
                .with_context(|| format!("making {} private", entry.path().display()))?;
        }
    }
    Ok(())
}

/// Writes `bytes` to `path`, which ends up 0600 even if it was there before with another mode.
pub fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, bytes).with_context(|| format!("writing {}", path.display()))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
        .with_context(|| format!("making {} private", path.display()))
}
