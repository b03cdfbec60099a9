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
