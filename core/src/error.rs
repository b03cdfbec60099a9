//! The one error type of mamoru-core, named by what the caller can do about it.

use std::fmt;

/// What went wrong, in terms a front-end can act on.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{what} {id} not found")]
    NotFound { what: &'static str, id: String },
    #[error("not permitted: {action}")]
    Forbidden { action: &'static str },
    #[error("sign-in required")]
    Unauthenticated,
    #[error("wrong login or password")]
    BadCredentials,
    #[error("this device is not registered: sign-in needs a registered tablet")]
    DeviceRequired,
    #[error("sign-in needs a second factor: enrol an authenticator app first (POST /api/v1/session/totp)")]
    SecondFactorRequired,
    #[error("too many failed sign-ins; try again in {retry_after} s")]
    TooManyAttempts { retry_after: i64 },
    #[error(
        "{record} was changed by someone else: you edited revision {expected}, it is now at revision {found}"
    )]
    Conflict { record: String, expected: u64, found: u64 },
    #[error("invalid {field}: {reason}")]
    Invalid { field: &'static str, reason: String },
    /// Required fields left empty, every one of them named (not only the first).
    #[error("missing: {}", fields.join(", "))]
    Incomplete { fields: Vec<&'static str> },
    #[error("{0}")]
    Date(#[from] crate::time::DateError),
    #[error("the data directory {path} is in use by another Mamoru process")]
    AlreadyOpen { path: String },
    #[error("{0}")]
    Store(StoreError),
    #[error("store integrity: {0}")]
    Corrupt(String),
    #[error("{context}: {source}")]
    Io { context: &'static str, source: std::io::Error },
}

impl Error {
    pub fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        Error::Invalid { field, reason: reason.into() }
    }
    /// `Incomplete` naming each field whose flag is true, in order; `Ok` when none is.
    pub fn require(fields: &[(&'static str, bool)]) -> Result<(), Self> {
        let missing: Vec<&'static str> = fields.iter().filter(|(_, m)| *m).map(|(f, _)| *f).collect();
        if missing.is_empty() { Ok(()) } else { Err(Error::Incomplete { fields: missing }) }
    }
    pub(crate) fn invalid_code(table: &str, code: &str, why: &str) -> Self {
        Error::Invalid { field: "code", reason: format!("{table} code {code:?}: {why}") }
    }
    pub(crate) fn not_found(what: &'static str, id: impl fmt::Display) -> Self {
        Error::NotFound { what, id: id.to_string() }
    }
    pub(crate) fn store(context: &'static str, e: impl Into<redb::Error>) -> Self {
        Error::Store(StoreError { context, source: e.into() })
    }

    /// Refused input (a field invalid or missing, a date unreadable): the form is shown again as
    /// typed, with the reason.
    #[must_use]
    pub fn is_input(&self) -> bool {
        matches!(self, Error::Invalid { .. } | Error::Incomplete { .. } | Error::Date(_))
    }

    /// The short code used in audit entries and API error bodies.
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            Error::NotFound { .. } => "not_found",
            Error::Forbidden { .. } => "forbidden",
            Error::Unauthenticated => "unauthenticated",
            Error::BadCredentials => "bad_credentials",
            Error::TooManyAttempts { .. } => "too_many_attempts",
            Error::DeviceRequired => "device_required",
            Error::SecondFactorRequired => "second_factor_required",
            Error::Conflict { .. } => "conflict",
            Error::Invalid { .. } | Error::Incomplete { .. } | Error::Date(_) => "invalid",
            Error::AlreadyOpen { .. } => "already_open",
            Error::Store(_) => "store",
            Error::Corrupt(_) => "corrupt",
            Error::Io { .. } => "io",
        }
    }
}

/// A failure of the storage engine, with what the store was doing.
#[derive(Debug)]
pub struct StoreError {
    pub context: &'static str,
    pub source: redb::Error,
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "store failure while {}: {}", self.context, self.source)
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
