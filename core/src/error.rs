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
    Invalid { field: &'static str, reason: Why },
    /// Required fields left empty, every one of them named (not only the first).
    #[error("missing: {}", fields.join(", "))]
    Incomplete { fields: Vec<&'static str> },
    #[error("{0}")]
    Date(#[from] crate::time::DateError),
    #[error("the data directory {path} is in use by another Mamoru process")]
    AlreadyOpen { path: String },
    #[error("{0}")]
    Store(StoreError),
    /// The store cannot read or write now: the disk is full or the file gave an I/O error. It
    /// is reopened once space is back; nothing was changed. Try again in a while.
    #[error(
        "the store cannot write now (disk full or I/O error); nothing was changed, try again shortly ({0})"
    )]
    Unavailable(StoreError),
    #[error("store integrity: {0}")]
    Corrupt(String),
    #[error("{context}: {source}")]
    Io { context: &'static str, source: std::io::Error },
}

impl Error {
    /// `field` refused for `reason`: a [`Why`] where a front-end explains it in its own
    /// language, or an English sentence (the CLI's and the console's input).
    pub fn invalid(field: &'static str, reason: impl Into<Why>) -> Self {
        Error::Invalid { field, reason: reason.into() }
    }
    /// `Incomplete` naming each field whose flag is true, in order; `Ok` when none is.
    pub fn require(fields: &[(&'static str, bool)]) -> Result<(), Self> {
        let missing: Vec<&'static str> = fields.iter().filter(|(_, m)| *m).map(|(f, _)| *f).collect();
        if missing.is_empty() { Ok(()) } else { Err(Error::Incomplete { fields: missing }) }
    }
    pub(crate) fn invalid_code(table: &str, code: &str, why: &str) -> Self {
        Error::invalid("code", format!("{table} code {code:?}: {why}"))
    }
    pub(crate) fn not_found(what: &'static str, id: impl fmt::Display) -> Self {
        Error::NotFound { what, id: id.to_string() }
    }
    pub(crate) fn store(context: &'static str, e: impl Into<redb::Error>) -> Self {
        let source = e.into();
        if is_io(&source) {
            Error::Unavailable(StoreError { context, source })
        } else {
            Error::Store(StoreError { context, source })
        }
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
            Error::Unavailable(_) => "unavailable",
            Error::Corrupt(_) => "corrupt",
            Error::Io { .. } => "io",
        }
    }
}

/// Why core refused a field, as a value: the page says it in Japanese (one table in the web
/// crate), the CLI and the API in English (`Display`, the texts of the error contract).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Why {
    /// Left empty.
    Required,
    /// A date or time after now.
    InFuture,
    /// A birth date after today for a child not marked as unborn.
    BornInFuture,
    /// Before the point in time it must follow.
    Before(Point),
    /// More than `max` of what it counts.
    AtMost(usize, Counted),
    /// A birth date more than this many years ago.
    YearsAgo(u32),
    /// Furigana in neither hiragana nor katakana.
    NotKana,
    /// A control character or a bidi override (its code point) in a text.
    ControlCharacter(u32),
    /// A date that cannot be read, and why (`crate::wareki::read_date`).
    NotADate(String),
    /// A date and time of day that cannot be read, and why (`crate::wareki::read_datetime`).
    NotADateTime(String),
    /// None of the values it takes (the English names them).
    NotOneOf(&'static str),
    /// 目視 chosen without the child seen directly.
    NotSeenDirectly,
    /// The child's views, or why they could not be heard, are missing.
    NoViews,
    /// A meeting with no case.
    NoCase,
    /// Someone not active in the case's unit.
    NotInUnit(u64),
    /// Someone whose role does not work cases (事務, 児童心理司, システム管理者) named as a worker.
    NotAWorker(u64),
    /// An attachment not sent for this case.
    NotSentForCase,
    /// Neither JPEG, PNG nor WebP, or not one whole.
    NotAnImage,
    /// An image above `crate::photo::MAX_SIDE` pixels on a side or `MAX_PIXELS` in all.
    TooManyPixels,
    /// Larger than this many MB.
    LargerThan(usize),
    /// A body-map mark outside the figure.
    OffTheBodyMap,
    /// A body-map mark's size out of 0-200 cm.
    SizeOutOfRange,
    /// A question of the sheet left unanswered.
    Unanswered(String),
    /// An answer to a question the sheet does not have.
    NoSuchQuestion(String),
    /// 決裁 of what one asked for oneself.
    OwnRequest,
    /// 決裁 of a record decided already.
    Decided,
    /// A 終結伺い while one waits for its 決裁.
    Pending,
    /// 決裁 of what nobody asked it for (a 終結伺い nobody made, a record kept from before 決裁).
    NothingAsked,
    /// The case is closed.
    CaseClosed,
    /// The case is open (so it cannot be reopened).
    CaseOpen,
    /// A temporary protection is in force (so none can start, and the case cannot close).
    ProtectionInForce,
    /// The protection has ended.
    ProtectionEnded,
    /// A legal step not open now, and why.
    StepNotOpen(StepRule),
    /// Fixed when the protection started.
    FixedAtStart,
    /// An ended protection cannot be resumed: start a new one.
    NoResume,
    /// A note with neither text nor a photo.
    NeedsTextOrPhoto,
    /// A recorded step cannot be changed or removed.
    StepRecorded,
    /// An extension must follow the period before it and end at most two months after it.
    ExtensionPeriod,
    /// The idempotency key is not 1-64 letters, digits or hyphens.
    KeyFormat,
    /// The idempotency key was used for a different kind of record.
    KeyReused(&'static str),
    /// A second factor's code when no enrolment is under way.
    NoEnrolment,
    /// A second factor's code that does not match.
    CodeMismatch,
    /// A child already in another household (take it out of that one first).
    OtherHousehold,
    /// 続柄 本人 for someone other than the child.
    NotTheChild,
    /// A change to the child itself where the page names a member of its family.
    TheChildItself,
    /// The reporter (通告者) asked for on a form addressed to the family (児童虐待防止法7条).
    ReporterOnFamilyForm,
    /// A character no font of the forms has (`「X」(U+XXXX)`): printed, it would be a blank box.
    Unprintable(String),
    /// A document the case does not have (its key), marked for a petition.
    NoSuchDocument(String),
    /// An extension's approval asked where no protection without consent is in force.
    NoProtectionWithoutConsent,
    /// A petition filed with the court is not changed.
    PetitionFiled,
    /// Said in English only: an administrator's input on the CLI or the console.
    Other(String),
}

/// What a date must not be before.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Point {
    /// The start (of a protection, a support, a period).
    Start,
    /// The decision.
    Decision,
    /// The warrant's request.
    WarrantRequest,
    /// The warrant's refusal.
    Refusal,
    /// The petition to the family court.
    Petition,
}

/// What a limit counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Counted {
    Characters,
    /// The characters of a body-map mark's note.
    MarkNote,
    Photos,
    Marks,
    /// The photos one case may hold.
    CasePhotos,
    /// The photos one staff member may send in a day.
    PhotosToday,
}

/// Why a step of 一時保護 is not open.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StepRule {
    /// The child's hearing is recorded already.
    HearingRecorded,
    /// A warrant is requested once, and only without the guardian's consent.
    WarrantOnce,
    /// No warrant request waits for its decision.
    NoWarrantWaiting,
    /// A challenge follows a refused warrant, once.
    ChallengeOnce,
    /// The latest extension has no petition to record.
    NoPetitionToRecord,
    /// The latest extension has no petition waiting for approval.
    NoPetitionWaiting,
    /// Nothing of that kind to give notice of.
    NothingToNotice,
    /// Not open now.
    NotNow,
}

impl From<&str> for Why {
    fn from(english: &str) -> Self {
        Why::Other(english.to_owned())
    }
}

impl From<String> for Why {
    fn from(english: String) -> Self {
        Why::Other(english)
    }
}

impl fmt::Display for Why {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Why::Required => f.write_str("required"),
            Why::InFuture => f.write_str("is in the future"),
            Why::BornInFuture => {
                f.write_str("is in the future (mark the child as unborn for an expected date)")
            }
            Why::Before(p) => write!(f, "is before {p}"),
            Why::AtMost(max, Counted::Characters) => write!(f, "at most {max} characters"),
            Why::AtMost(max, Counted::MarkNote) => write!(f, "a note of at most {max} characters"),
            Why::AtMost(max, Counted::Photos) => write!(f, "at most {max} photos"),
            Why::AtMost(max, Counted::Marks) => write!(f, "at most {max} marks"),
            Why::AtMost(max, Counted::CasePhotos) => write!(f, "at most {max} photos in a case"),
            Why::AtMost(max, Counted::PhotosToday) => write!(f, "at most {max} photos a day"),
            Why::YearsAgo(years) => write!(f, "more than {years} years ago"),
            Why::NotKana => f.write_str("furigana must be hiragana or katakana"),
            Why::ControlCharacter(c) => {
                write!(
                    f,
                    "holds a character that cannot be stored (U+{c:04X}: a control character or a bidi override)"
                )
            }
            Why::NotADate(why) => write!(f, "not a date: {why}"),
            Why::NotADateTime(why) => write!(f, "not a date and time: {why}"),
            Why::NotOneOf(values) => write!(f, "one of {values}"),
            Why::NotSeenDirectly => f.write_str(
                "sighted means the child was seen directly: tick seen_directly or choose another method",
            ),
            Why::NoViews => f.write_str("record the child's views or why they could not be heard"),
            Why::NoCase => f.write_str("a meeting discusses at least one case"),
            Why::NotInUnit(staff) => write!(f, "staff {staff} is not active in the case's unit"),
            Why::NotAWorker(staff) => write!(f, "staff {staff} has a role that is not assigned cases"),
            Why::NotSentForCase => f.write_str("a photo that was not sent for this case"),
            Why::NotAnImage => f.write_str("not a JPEG, PNG or WebP image"),
            Why::TooManyPixels => write!(
                f,
                "larger than {} pixels a side or {} megapixels",
                crate::photo::MAX_SIDE,
                crate::photo::MAX_PIXELS / 1_000_000
            ),
            Why::LargerThan(mb) => write!(f, "larger than {mb} MB"),
            Why::OffTheBodyMap => f.write_str("a mark outside the body map"),
            Why::SizeOutOfRange => f.write_str("a size must be between 0 and 200 cm"),
            Why::Unanswered(q) => write!(f, "question {q} is not answered"),
            Why::NoSuchQuestion(q) => write!(f, "no question {q} on this sheet"),
            Why::OwnRequest => f.write_str("nobody approves what they asked for themselves"),
            Why::Decided => f.write_str("already approved or sent back"),
            Why::Pending => f.write_str("a request to close the case is waiting for approval"),
            Why::NothingAsked => f.write_str("nobody has asked for its approval"),
            Why::CaseClosed => f.write_str("the case is closed"),
            Why::CaseOpen => f.write_str("the case is open"),
            Why::ProtectionInForce => f.write_str("a temporary protection is in force"),
            Why::ProtectionEnded => f.write_str("the protection has ended"),
            Why::NoSuchDocument(key) => write!(f, "the case has no document {key:?}"),
            Why::NoProtectionWithoutConsent => {
                f.write_str("no protection without the guardian's consent is in force on this case")
            }
            Why::PetitionFiled => f.write_str("a petition filed with the court is not changed"),
            Why::StepNotOpen(rule) => rule.fmt(f),
            Why::FixedAtStart => f.write_str("is fixed at the start; record a later step instead"),
            Why::NoResume => f.write_str("an ended protection cannot be resumed; start a new one"),
            Why::NeedsTextOrPhoto => f.write_str("a note needs text or an attachment"),
            Why::StepRecorded => f.write_str("a recorded step cannot be changed or removed"),
            Why::ExtensionPeriod => f.write_str(
                "each extension must end after the period before it, and at most two months after it",
            ),
            Why::KeyFormat => f.write_str("1 to 64 letters, digits or hyphens"),
            Why::KeyReused(kind) => write!(f, "already used for a different {kind}"),
            Why::NoEnrolment => f.write_str("no enrolment in progress"),
            Why::CodeMismatch => f.write_str("the code does not match; check the device's clock"),
            Why::OtherHousehold => {
                f.write_str("the child is in another household; take it out of that one first")
            }
            Why::NotTheChild => f.write_str("relation 10 (the child itself) is for the child only"),
            Why::TheChildItself => {
                f.write_str("the child itself: edit its face sheet, it stays in its household")
            }
            Why::ReporterOnFamilyForm => {
                f.write_str("the reporter is never printed on a form addressed to the family")
            }
            Why::Unprintable(ch) => {
                write!(f, "{ch} is not in the forms' fonts: write it another way, or print by hand")
            }
            Why::Other(english) => f.write_str(english),
        }
    }
}

impl fmt::Display for Point {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Point::Start => "the start",
            Point::Decision => "the decision",
            Point::WarrantRequest => "the warrant was requested",
            Point::Refusal => "the refusal",
            Point::Petition => "the petition",
        })
    }
}

impl fmt::Display for StepRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            StepRule::HearingRecorded => "the child's hearing is already recorded",
            StepRule::WarrantOnce => "a warrant is requested only once, without the guardian's consent",
            StepRule::NoWarrantWaiting => "no warrant request is waiting for its decision",
            StepRule::ChallengeOnce => "a challenge follows a refused warrant, once",
            StepRule::NoPetitionToRecord => "the latest extension has no petition to record",
            StepRule::NoPetitionWaiting => "the latest extension has no petition waiting for approval",
            StepRule::NothingToNotice => "there is nothing of that kind to give notice of",
            StepRule::NotNow => "not open now",
        })
    }
}

/// Whether redb failed on the file rather than on its contents: an I/O error (ENOSPC, EIO), or
/// one before it that redb latched (it then refuses everything until the file is reopened).
pub(crate) fn is_io(e: &redb::Error) -> bool {
    matches!(e, redb::Error::Io(_) | redb::Error::PreviousIo | redb::Error::DatabaseClosed)
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
