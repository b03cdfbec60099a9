//! Organisation units, staff and their roles, and what each role may do. The permission table is
//! the one place that says who may do what; the service layer consults it on every call.

use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::ids::{CredentialId, StaffId, UnitId};
use crate::record::Record;

/// 児童相談所 or the municipal side (市町村 / こども家庭センター).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnitKind {
    ChildGuidanceCentre,
    Municipal,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unit {
    pub name: String,
    pub kind: UnitKind,
    /// First part of this unit's case numbers (`児` gives `児-R7-00123`).
    pub case_prefix: String,
    /// Policy: the other units whose children and cases this unit's staff may read (never write).
    #[serde(default)]
    pub may_read_units: Vec<UnitId>,
}

impl Record for Unit {
    type Id = UnitId;
    const SCHEMA: u16 = 1;
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// 児童福祉司 / 市町村 相談員.
    Caseworker,
    /// 児童心理司.
    Psychologist,
    /// スーパーバイザー / 係長.
    Supervisor,
    /// 所長.
    Head,
    /// 事務.
    Clerk,
    /// システム管理者: accounts, devices, code tables, audit; no case data.
    Admin,
}

impl Role {
    pub const ALL: [Role; 6] =
        [Role::Caseworker, Role::Psychologist, Role::Supervisor, Role::Head, Role::Clerk, Role::Admin];

    /// The Japanese label shown to users.
    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            Role::Caseworker => "児童福祉司・相談員",
            Role::Psychologist => "児童心理司",
            Role::Supervisor => "スーパーバイザー",
            Role::Head => "所長",
            Role::Clerk => "事務",
            Role::Admin => "システム管理者",
        }
    }

    pub fn parse(s: &str) -> Result<Self, Error> {
        Self::ALL.into_iter().find(|r| r.as_str() == s).ok_or_else(|| {
            Error::invalid(
                "role",
                format!(
                    "unknown role {s:?}; one of caseworker, psychologist, supervisor, head, clerk, admin"
                ),
            )
        })
    }

    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Caseworker => "caseworker",
            Role::Psychologist => "psychologist",
            Role::Supervisor => "supervisor",
            Role::Head => "head",
            Role::Clerk => "clerk",
            Role::Admin => "admin",
        }
    }

    /// The permission table. Scope (unit, restriction) is checked separately.
    #[must_use]
    pub fn may(self, action: Action) -> bool {
        use Action as A;
        use Role as R;
        match action {
            // 帳票 (`PrintForm`): whoever reads cases prints them (the intake sheet, with its
            // reporter, also needs `ViewReporter`).
            A::ReadChild | A::Search | A::ReadCase | A::ReadBoard | A::PrintForm => self != R::Admin,
            A::RegisterChild | A::OpenCase => {
                matches!(self, R::Caseworker | R::Supervisor | R::Head | R::Clerk)
            }
            A::EditChild | A::EditCase | A::RecordSafetyCheck | A::RecordProtection | A::RecordSupport => {
                matches!(self, R::Caseworker | R::Supervisor | R::Head)
            }
            A::ManageAgencies => matches!(self, R::Caseworker | R::Supervisor | R::Head | R::Clerk),
            A::AddNote | A::RecordAssessment | A::RecordMeeting => {
                matches!(self, R::Caseworker | R::Psychologist | R::Supervisor | R::Head)
            }
            A::CloseCase | A::RestrictCase | A::AssignCases | A::Approve => {
                matches!(self, R::Supervisor | R::Head)
            }
            // A supervisor or the head closes directly (`CloseCase`).
            A::AskClosure => self == R::Caseworker,
            A::ReadCaseload => matches!(self, R::Caseworker | R::Supervisor | R::Head),
            A::ViewReporter => matches!(self, R::Caseworker | R::Supervisor | R::Head),
            A::ReadAudit | A::ExportAudit => matches!(self, R::Supervisor | R::Head | R::Admin),
            // Figures only, no personal data: also the 事務 who files them and the administrator
            // who runs `mamoru report statistics`.
            A::ReadStatistics => matches!(self, R::Supervisor | R::Head | R::Clerk | R::Admin),
            A::ManageStaff
            | A::ManageDevices
            | A::EditCodeTables
            | A::Import
            | A::ExportStore
            | A::OperateServer => self == R::Admin,
        }
    }
}

/// Everything the service authorises. Each service method names exactly one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    ReadChild,
    Search,
    RegisterChild,
    EditChild,
    OpenCase,
    ReadCase,
    EditCase,
    CloseCase,
    /// 終結伺い: ask a supervisor or the head to close the case.
    AskClosure,
    /// 決裁: approve or send back an assessment, a support decision or a 終結伺い that someone
    /// else asked for.
    Approve,
    RestrictCase,
    /// 担当: change a case's workers, see each worker's load (担当状況) and open their list.
    AssignCases,
    /// 担当ケース: one's own open cases.
    ReadCaseload,
    AddNote,
    RecordSafetyCheck,
    RecordAssessment,
    RecordProtection,
    RecordSupport,
    RecordMeeting,
    ViewReporter,
    /// 帳票: a case's form as PDF, audited with its version and hash.
    PrintForm,
    /// 統計: the national report's tables for a unit and a period, their cells' cases (named
    /// only where the reader may read the case), and the XLSX to file.
    ReadStatistics,
    ReadBoard,
    ManageAgencies,
    ReadAudit,
    /// Writing the (filtered) audit log out for an auditor: itself audited, apart from reading.
    ExportAudit,
    ManageStaff,
    ManageDevices,
    EditCodeTables,
    Import,
    /// Writing the whole store out for the next system (`mamoru export`): itself audited.
    ExportStore,
    /// Running the server: backups on demand, metrics, open sessions, the console's dashboard.
    OperateServer,
}

impl Action {
    pub const ALL: [Action; 32] = [
        Action::ReadChild,
        Action::Search,
        Action::RegisterChild,
        Action::EditChild,
        Action::OpenCase,
        Action::ReadCase,
        Action::EditCase,
        Action::CloseCase,
        Action::AskClosure,
        Action::Approve,
        Action::RestrictCase,
        Action::AssignCases,
        Action::ReadCaseload,
        Action::AddNote,
        Action::RecordSafetyCheck,
        Action::RecordAssessment,
        Action::RecordProtection,
        Action::RecordSupport,
        Action::RecordMeeting,
        Action::ViewReporter,
        Action::PrintForm,
        Action::ReadStatistics,
        Action::ReadBoard,
        Action::ManageAgencies,
        Action::ReadAudit,
        Action::ExportAudit,
        Action::ManageStaff,
        Action::ManageDevices,
        Action::EditCodeTables,
        Action::Import,
        Action::ExportStore,
        Action::OperateServer,
    ];

    /// The name written to the audit log.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Action::ReadChild => "read_child",
            Action::Search => "search",
            Action::RegisterChild => "register_child",
            Action::EditChild => "edit_child",
            Action::OpenCase => "open_case",
            Action::ReadCase => "read_case",
            Action::EditCase => "edit_case",
            Action::CloseCase => "close_case",
            Action::AskClosure => "ask_closure",
            Action::Approve => "approve",
            Action::RestrictCase => "restrict_case",
            Action::AssignCases => "assign_cases",
            Action::ReadCaseload => "read_caseload",
            Action::AddNote => "add_note",
            Action::RecordSafetyCheck => "record_safety_check",
            Action::RecordAssessment => "record_assessment",
            Action::RecordProtection => "record_protection",
            Action::RecordSupport => "record_support",
            Action::RecordMeeting => "record_meeting",
            Action::ViewReporter => "view_reporter",
            Action::PrintForm => "print_form",
            Action::ReadStatistics => "read_statistics",
            Action::ReadBoard => "read_board",
            Action::ManageAgencies => "manage_agencies",
            Action::ReadAudit => "read_audit",
            Action::ExportAudit => "export_audit",
            Action::ManageStaff => "manage_staff",
            Action::ManageDevices => "manage_devices",
            Action::EditCodeTables => "edit_code_tables",
            Action::Import => "import",
            Action::ExportStore => "export_store",
            Action::OperateServer => "operate_server",
        }
    }
}

/// A login name: 2–32 of `a-z 0-9 . _ -`, starting with a letter.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Login(String);

impl Login {
    pub fn parse(s: &str) -> Result<Self, Error> {
        let ok_len = (2..=32).contains(&s.len());
        let ok_first = s.chars().next().is_some_and(|c| c.is_ascii_lowercase());
        let ok_chars =
            s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'));
        if ok_len && ok_first && ok_chars {
            Ok(Self(s.to_owned()))
        } else {
            Err(Error::invalid("login", "2-32 characters of a-z, 0-9, '.', '_', '-', starting with a letter"))
        }
    }
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Login {
    type Error = Error;
    fn try_from(s: String) -> Result<Self, Error> {
        Self::parse(&s)
    }
}
impl From<Login> for String {
    fn from(l: Login) -> String {
        l.0
    }
}
impl std::fmt::Display for Login {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Staff {
    pub login: Login,
    pub display_name: String,
    pub role: Role,
    pub units: Vec<UnitId>,
    #[serde(default)]
    pub disabled: bool,
    /// OpenSSH public keys allowed into the console.
    #[serde(default)]
    pub console_keys: Vec<String>,
}

impl Staff {
    /// Whether they may be assigned cases of `unit`: active there, in a role that works cases.
    #[must_use]
    pub fn works_cases_in(&self, unit: UnitId) -> bool {
        !self.disabled && self.units.contains(&unit) && self.role.may(Action::EditCase)
    }

    /// Whether `key` (an OpenSSH public key line, `algorithm base64 [comment]`) is one of this
    /// person's console keys: the key data decides, not the comment.
    #[must_use]
    pub fn lists_console_key(&self, key: &str) -> bool {
        let blob = key_data(key);
        blob.is_some() && self.console_keys.iter().any(|k| key_data(k) == blob)
    }

    /// Whether this person may use the console with `key` now.
    #[must_use]
    pub fn may_use_console(&self, key: &str) -> bool {
        !self.disabled && self.lists_console_key(key)
    }
}

/// A change to a staff member's record, made by an administrator (the console's 職員 screen, the
/// CLI's `user` verbs). A new password is not one: it changes the credential, not the record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StaffChange {
    /// Name, role and units, from the revision the editor saw.
    Edit {
        rev: u64,
        display_name: String,
        role: Role,
        units: Vec<UnitId>,
    },
    /// 利用停止 / 再開.
    Disable,
    Enable,
    /// An OpenSSH public key line for the console (`ssh-ed25519 AAAA… comment`).
    AddConsoleKey(String),
    /// A console key, matched by its key data as [`Staff::lists_console_key`] matches.
    RemoveConsoleKey(String),
}

impl StaffChange {
    /// The revision the change was made from, when the editor saw one (else the stored one).
    #[must_use]
    pub fn rev(&self) -> Option<u64> {
        match self {
            StaffChange::Edit { rev, .. } => Some(*rev),
            _ => None,
        }
    }

    /// Applies the change to `staff`, made by `by`. Returns whether the person's sessions must end
    /// (disabled, or a changed role or units: what they may do changes at once). Refused: an
    /// empty or overlong name, no unit, disabling oneself, taking the administrator role from
    /// oneself (the last way back in would go with it), a key that is not Ed25519 or ECDSA,
    /// removing a key that is not listed.
    pub fn apply(&self, staff: &mut Staff, target: StaffId, by: StaffId) -> Result<bool, Error> {
        match self {
            StaffChange::Edit { display_name, role, units, .. } => {
                let name = display_name.trim();
                if name.is_empty() || name.chars().count() > 40 {
                    return Err(Error::invalid("display_name", "1 to 40 characters"));
                }
                if units.is_empty() {
                    return Err(Error::invalid("units", "at least one unit"));
                }
                if target == by && staff.role == Role::Admin && *role != Role::Admin {
                    return Err(Error::invalid(
                        "role",
                        "you cannot take the administrator role from yourself",
                    ));
                }
                let changed = staff.role != *role || staff.units != *units;
                name.clone_into(&mut staff.display_name);
                staff.role = *role;
                staff.units.clone_from(units);
                Ok(changed)
            }
            StaffChange::Disable if target == by => {
                Err(Error::invalid("login", "you cannot disable your own account"))
            }
            StaffChange::Disable => {
                staff.disabled = true;
                Ok(true)
            }
            StaffChange::Enable => {
                staff.disabled = false;
                Ok(false)
            }
            StaffChange::AddConsoleKey(key) => {
                let key = console_key(key)?;
                if !staff.lists_console_key(key) {
                    staff.console_keys.push(key.to_owned());
                }
                Ok(false)
            }
            StaffChange::RemoveConsoleKey(key) => {
                let blob = key_data(key).unwrap_or(key.trim());
                let before = staff.console_keys.len();
                staff.console_keys.retain(|k| key_data(k) != Some(blob));
                if staff.console_keys.len() == before {
                    return Err(Error::not_found("console key", staff.login.as_str()));
                }
                Ok(false)
            }
        }
    }
}

/// The key data of an OpenSSH public key line (`algorithm base64 [comment]`): what tells keys
/// apart, whatever their comments.
fn key_data(line: &str) -> Option<&str> {
    line.split_whitespace().nth(1)
}

/// An OpenSSH public key line of a kind the console accepts, trimmed.
fn console_key(key: &str) -> Result<&str, Error> {
    let key = key.trim();
    let mut parts = key.split_whitespace();
    let (Some(algo), Some(data)) = (parts.next(), parts.next()) else {
        return Err(Error::invalid(
            "key",
            "expected an OpenSSH public key line: 'ssh-ed25519 AAAA... comment'",
        ));
    };
    if !matches!(algo, "ssh-ed25519" | "ecdsa-sha2-nistp256" | "ecdsa-sha2-nistp384" | "ecdsa-sha2-nistp521")
        || data.len() < 16
    {
        return Err(Error::invalid("key", "only Ed25519 and ECDSA keys are accepted"));
    }
    Ok(key)
}

impl Record for Staff {
    type Id = StaffId;
    const SCHEMA: u16 = 1;
}

/// A staff member's secrets, kept apart from the staff record so that nothing that shows staff
/// (lists, events) can carry them. Same numeric id as the staff record.
#[derive(Clone, Serialize, Deserialize)]
pub struct Credential {
    /// Argon2id PHC string.
    pub password_hash: String,
    /// The enrolled second factor, if any.
    #[serde(default)]
    pub totp: Option<TotpState>,
    /// A secret shown for enrolment, until a first code confirms it.
    #[serde(default)]
    pub totp_pending: Option<String>,
}

/// An enrolled TOTP secret (hex) and the last time step accepted, so that no code is used twice.
#[derive(Clone, Serialize, Deserialize)]
pub struct TotpState {
    pub secret_hex: String,
    pub last_step: u64,
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Credential { password_hash: <redacted> }")
    }
}

impl Record for Credential {
    type Id = CredentialId;
    const SCHEMA: u16 = 1;
    const SENSITIVE: bool = true;
}

/// A password as typed. Its Debug never shows it.
#[derive(Clone)]
pub struct Password(String);

impl Password {
    /// At least 10 characters: the administrator's first password and every reset.
    pub fn new(s: impl Into<String>) -> Result<Self, Error> {
        let s = s.into();
        if s.chars().count() < 10 {
            return Err(Error::invalid("password", "at least 10 characters"));
        }
        Ok(Self(s))
    }
    /// A password being checked at sign-in: no length rule, since a wrong one must only fail.
    #[must_use]
    pub fn attempt(s: impl Into<String>) -> Self {
        Self(s.into())
    }
    #[must_use]
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_staff_change_is_checked_and_says_when_sessions_end() {
        let mut s = Staff {
            login: Login::parse("kinoshita").unwrap(),
            display_name: "木下".into(),
            role: Role::Admin,
            units: vec![UnitId(1)],
            disabled: false,
            console_keys: Vec::new(),
        };
        let (me, other) = (StaffId(1), StaffId(2));
        let edit = |name: &str, role, units: Vec<u64>| StaffChange::Edit {
            rev: 1,
            display_name: name.into(),
            role,
            units: units.into_iter().map(UnitId).collect(),
        };
        let field = |r: Result<bool, Error>| match r {
            Err(Error::Invalid { field, .. }) => field,
            other => panic!("{other:?}"),
        };
        assert_eq!(field(edit(" ", Role::Admin, vec![1]).apply(&mut s, me, other)), "display_name");
        assert_eq!(field(edit("木下", Role::Admin, vec![]).apply(&mut s, me, other)), "units");
        assert_eq!(field(edit("木下", Role::Caseworker, vec![1]).apply(&mut s, me, me)), "role");
        assert_eq!(field(StaffChange::Disable.apply(&mut s, me, me)), "login");
        assert!(
            !edit(" 木下 福祉司 ", Role::Admin, vec![1]).apply(&mut s, me, other).unwrap(),
            "a new name only"
        );
        assert_eq!(s.display_name, "木下 福祉司");
        assert!(edit("木下", Role::Caseworker, vec![1]).apply(&mut s, me, other).unwrap(), "a new role");
        assert!(StaffChange::Disable.apply(&mut s, me, other).unwrap() && s.disabled);

        let key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa a@pc";
        assert_eq!(
            field(
                StaffChange::AddConsoleKey("ssh-rsa AAAAB3NzaC1yc2EAAAADAQAB".into())
                    .apply(&mut s, me, other)
            ),
            "key"
        );
        for _ in 0..2 {
            StaffChange::AddConsoleKey(format!("  {key}\n")).apply(&mut s, me, other).unwrap();
        }
        assert_eq!(s.console_keys, [key], "trimmed, and listed once");
        let bare = key.rsplit_once(' ').unwrap().0.to_owned();
        StaffChange::RemoveConsoleKey(bare.clone()).apply(&mut s, me, other).unwrap();
        assert!(matches!(
            StaffChange::RemoveConsoleKey(bare).apply(&mut s, me, other),
            Err(Error::NotFound { .. })
        ));
    }

    #[test]
    fn secrets_do_not_debug() {
        let p = Password::new("correct horse battery").unwrap();
        assert_eq!(format!("{p:?}"), "Password(<redacted>)");
        let c = Credential {
            password_hash: "$argon2id$secret".into(),
            totp: None,
            totp_pending: Some("abc".into()),
        };
        assert!(!format!("{c:?}").contains("secret"));
        assert!(!format!("{c:?}").contains("abc"));
    }

    #[test]
    fn logins_are_checked() {
        assert!(Login::parse("tanaka.h").is_ok());
        assert!(Login::parse("T").is_err());
        assert!(Login::parse("1abc").is_err());
        assert!(Login::parse("田中").is_err());
    }
}
