//! The backup crate's one error type, named by what the operator can do.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{context} {}: {source}", path.display())]
    Io { context: &'static str, path: PathBuf, source: std::io::Error },
    #[error("the identity does not open this backup (wrong key)")]
    WrongKey,
    #[error("no usable identity in {}: expected a line starting with AGE-SECRET-KEY-", .0.display())]
    NoIdentity(PathBuf),
    #[error(
        "{} has no backup authentication key or store (made before backups were authenticated): make a new identity with `mamoru backup keygen`",
        .0.display()
    )]
    NoAuthKey(PathBuf),
    #[error("{} was not written by this store's server: {reason}", file.display())]
    Forged { file: PathBuf, reason: String },
    #[error(
        "{} comes from store {store}, but the key is for store {key_store}: use the identity made for that store",
        file.display()
    )]
    AnotherStore { file: PathBuf, store: String, key_store: String },
    #[error("invalid {what}: {reason}")]
    Invalid { what: &'static str, reason: String },
    #[error("backup generation {generation} is damaged: {reason}")]
    Damaged { generation: u64, reason: String },
    #[error("no backup generation {0}")]
    NoGeneration(u64),
    #[error("no backup generations in {}", .0.display())]
    Empty(PathBuf),
    #[error("{0}")]
    Source(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

pub(crate) fn io(context: &'static str, path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Error {
    let path = path.into();
    move |source| Error::Io { context, path, source }
}

impl Error {
    /// Whether the key is what failed (a wrong, missing or unusable identity file), which the
    /// binary reports with its own exit code.
    #[must_use]
    pub fn is_key_problem(&self) -> bool {
        matches!(self, Self::WrongKey | Self::NoIdentity(_) | Self::NoAuthKey(_) | Self::AnotherStore { .. })
            || matches!(self, Self::Io { context, .. } if *context == IDENTITY_UNREADABLE)
    }
}

/// What an unreadable identity file is called (a missing key, for [`Error::is_key_problem`]).
pub(crate) const IDENTITY_UNREADABLE: &str = "cannot read the identity file";
