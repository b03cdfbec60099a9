//! The command line, as DESIGN.md "Contracts" fixes it. Parsing only; the work is in `commands`.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(
    name = "mamoru",
    version,
    about = "Mamoru (守る): child-consultation case management",
    propagate_version = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// Where the store lives.
#[derive(Args, Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct DataDir {
    /// The data directory (holds mamoru.redb and mamoru.toml).
    #[arg(long = "data", env = "MAMORU_DATA", value_name = "DIR")]
    pub data: PathBuf,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Create a new store with its first administrator.
    Init(InitArgs),
    /// Serve the web UI and API, the SSH console and the backup schedule.
    Serve(ServeArgs),
    /// Fill a data directory with fictional data and serve it on loopback.
    Demo(DemoArgs),
    /// The administrators' console on this terminal (attaches to the running server, or opens
    /// the store itself when no server runs). Acts as the local administrator.
    Console(DataDir),
    /// Manage staff accounts.
    #[command(subcommand)]
    User(UserCommand),
    /// Registered tablets: add, list, revoke (the server must be stopped; while it runs, use the
    /// API or the console).
    #[command(subcommand)]
    Device(DeviceCommand),
    /// Check the store's integrity: prints `KIND COUNT` lines; non-zero exit on any problem.
    /// Includes redb's own page checks, on a copy of the store file beside it (as much free
    /// space as the store). While the server runs, check from its console instead.
    Check(DataDir),
    /// Bring another system's records in from a folder of CSV files (the interchange layout:
    /// docs/operations/migration.md). Checks every row first and prints the reconciliation;
    /// writes only when nothing was refused (or with --skip-rejected). Run it again at will:
    /// what was imported is not imported twice. The server must be stopped.
    Import(ImportArgs),
    /// Write the whole store out for the next system: the interchange layout (which `import`
    /// reads), every version of every record (records.jsonl), the photos, a JSON Schema, a
    /// README and SHA256SUMS. The server must be stopped (while it runs: the console's export).
    Export(ExportArgs),
    /// The audit log.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Reports to file: the national statistics.
    #[command(subcommand)]
    Report(ReportCommand),
    /// Encrypted backups: create, list, verify, restore.
    #[command(subcommand)]
    Backup(BackupCommand),
    /// The web's TLS certificate: show it, renew it (while the server runs too).
    #[command(subcommand)]
    Tls(TlsCommand),
    /// The forms' templates (帳票): list every version, write one out as TOML to edit, add the
    /// next version from such a file. The server must be stopped for `add` (while it runs:
    /// `POST /api/v1/forms/templates`).
    #[command(subcommand)]
    Form(FormCommand),
    /// 計画停止 (planned stops): list, announce, change, cancel. Tablets show a stop from a week
    /// before; 稼働率 leaves it out. Works while the server runs too (through its control socket
    /// in the data directory). Audited.
    #[command(subcommand)]
    Maintenance(MaintenanceCommand),
}

/// A planned stop's verbs. Times as `2026-12-20 22:00`, `R8.12.20 22:00` or
/// `令和8年12月20日 22時` (Japan time).
#[derive(Subcommand, Debug, Clone, serde::Serialize, serde::Deserialize)]
pub enum MaintenanceCommand {
    /// Every planned stop, oldest first: id, revision, state (coming, running, over,
    /// cancelled), from, to, reason.
    List(DataDir),
    /// Announce a stop: it starts later than now, lasts at most 72 hours and says why.
    Announce {
        #[command(flatten)]
        data: DataDir,
        #[arg(long, value_name = "TIME")]
        from: String,
        #[arg(long, value_name = "TIME")]
        to: String,
        #[arg(long)]
        reason: String,
    },
    /// Change a stop: before it starts anything (a window reaching outside the announced one counts its notice from now);
    /// once it runs, the reason and an earlier end. What is not given stays.
    Change {
        #[command(flatten)]
        data: DataDir,
        id: u64,
        /// The revision read (`list`); refused if it changed meanwhile. Default: the current one.
        #[arg(long)]
        rev: Option<u64>,
        #[arg(long, value_name = "TIME")]
        from: Option<String>,
        #[arg(long, value_name = "TIME")]
        to: Option<String>,
        #[arg(long)]
        reason: Option<String>,
    },
    /// Call a stop off: before it starts it no longer counts; once it runs it ends now.
    Cancel {
        #[command(flatten)]
        data: DataDir,
        id: u64,
        /// The revision read (`list`); refused if it changed meanwhile. Default: the current one.
        #[arg(long)]
        rev: Option<u64>,
    },
}

impl MaintenanceCommand {
    #[must_use]
    pub fn data(&self) -> &std::path::Path {
        match self {
            Self::List(d) => &d.data,
            Self::Announce { data, .. } | Self::Change { data, .. } | Self::Cancel { data, .. } => &data.data,
        }
    }
}

#[derive(Subcommand, Debug)]
pub enum FormCommand {
    /// Every version of every form: form, version, first day, who added it (or `shipped`), title.
    List(DataDir),
    /// A version as TOML (the form's newest, or VERSION): the start of the next one. Set
    /// `valid_from` and `reason`, change the words, then `mamoru form add`.
    Show {
        #[command(flatten)]
        data: DataDir,
        /// The form: `mamoru form list` names them (protection-start-notice, …).
        form: String,
        /// The version (default the newest).
        #[arg(value_name = "VERSION")]
        number: Option<u32>,
    },
    /// Every field a row of a form may show: its key (for `field = "…"`) and what it says.
    Fields,
    /// Add the next version of a form from a TOML file (as `show` writes it). Checked before
    /// anything is stored: its day today or later, the reporter never on a paper that leaves the
    /// centre, the 教示 kept on a notice, every character printable. Audited.
    Add {
        #[command(flatten)]
        data: DataDir,
        #[arg(value_name = "FILE.toml")]
        file: PathBuf,
    },
}

#[derive(Args, Debug)]
pub struct ExportArgs {
    /// The folder to write (new, or empty).
    #[arg(long, value_name = "DIR")]
    pub to: PathBuf,
    #[command(flatten)]
    pub data: DataDir,
}

#[derive(Subcommand, Debug)]
pub enum ReportCommand {
    /// The 児童相談所 tables of the national report (こどもの福祉と保健に関する状況報告) for a
    /// period, as XLSX: a tab a table, the counting rules, and the warnings to check before
    /// filing (with case numbers, no names). Prints each table's total and the warnings. The
    /// server must be stopped (while it runs: the web's 統計 page has the same file).
    Statistics(StatisticsArgs),
    /// The monthly サービス提供報告書: 稼働率 with the planned stops, outages with detection and
    /// recovery, response times per page, backups and the restore drill, sign-ins and devices,
    /// store growth. Writes FILE.pdf and FILE.xlsx (the same tables) and prints the figures.
    /// The server must be stopped (while it runs: the console's 月次報告, or GET
    /// /api/v1/reports/service).
    Service(ServiceReportArgs),
}

#[derive(Args, Debug)]
pub struct ServiceReportArgs {
    /// The month: 2026-11 or 令和8年11月 (default: last month).
    #[arg(long, value_name = "MONTH")]
    pub month: Option<String>,
    /// Where to write: FILE.pdf and FILE.xlsx (new files: existing ones are not overwritten).
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    #[command(flatten)]
    pub data: DataDir,
}

#[derive(Args, Debug)]
pub struct StatisticsArgs {
    /// The first day counted: 2025-04-01 or 令和7年4月1日 (R7.4.1).
    #[arg(long, value_name = "DATE")]
    pub from: String,
    /// The last day counted (included).
    #[arg(long, value_name = "DATE")]
    pub to: String,
    /// The XLSX file to write (new: an existing file is not overwritten).
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// The unit (its number: `mamoru user units`); default the first 児童相談所.
    #[arg(long, value_name = "N")]
    pub unit: Option<u64>,
    #[command(flatten)]
    pub data: DataDir,
}

#[derive(Args, Debug)]
pub struct ImportArgs {
    /// The folder of CSV files (children.csv, persons.csv, relations.csv, cases.csv, …).
    #[arg(long, value_name = "DIR")]
    pub from: PathBuf,
    #[command(flatten)]
    pub data: DataDir,
    /// Check and print the reconciliation only; write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// The files' encoding: auto (UTF-8 with or without BOM, else CP932), utf-8 or cp932.
    #[arg(long, default_value = "auto", value_name = "ENCODING")]
    pub encoding: String,
    /// The unit (its number: `mamoru user units`) the records are given to; default the first.
    #[arg(long, value_name = "N")]
    pub unit: Option<u64>,
    /// What the source's 外字 stand for: lines `F040,𠮷` (a CP932 user-defined code, or U+E000,
    /// and the character or its code point).
    #[arg(long, value_name = "FILE")]
    pub gaiji: Option<PathBuf>,
    /// Import the rows that were accepted even when others were refused; the refused rows are
    /// written to --rejected-to, to be fixed and imported again.
    #[arg(long)]
    pub skip_rejected: bool,
    /// Where the refused rows are written, as a folder of the same layout with a `rejection`
    /// column (default: DATA/migration/rejected-TIME).
    #[arg(long, value_name = "DIR")]
    pub rejected_to: Option<PathBuf>,
    /// Where the import result (移行結果: kind, legacy id, Mamoru id, case number) is written
    /// (default: DATA/migration/result-TIME.csv).
    #[arg(long, value_name = "FILE")]
    pub result: Option<PathBuf>,
    /// Rows per transaction.
    #[arg(long, default_value_t = 2000, value_name = "N")]
    pub batch: usize,
}

#[derive(Subcommand, Debug)]
pub enum TlsCommand {
    /// The certificate the server presents: its names, who made it, when it ends. Exit 1 when
    /// it is to be renewed (within 60 days of its end) or has ended.
    Show(DataDir),
    /// A new server certificate (397 days) from this server's own authority, which the tablets
    /// already trust: nothing changes on them. A running server presents it within a minute.
    /// Only for the certificate `mamoru init` made; a city-issued one is renewed by its issuer.
    Renew {
        #[command(flatten)]
        data: DataDir,
        /// Names and addresses for the new certificate (repeat for several; default: the ones
        /// the current certificate has). localhost and the loopback addresses are always included.
        #[arg(long = "tls-name", value_name = "NAME")]
        tls_names: Vec<String>,
        /// For a certificate an older `mamoru init` made without an authority: make the
        /// authority now. Every tablet must then trust it once (docs/operations/tls.md).
        #[arg(long)]
        new_ca: bool,
    },
}

#[derive(Subcommand, Debug)]
pub enum BackupCommand {
    /// Make a backup generation now (the server must be stopped), verify it, prune old ones.
    Create(DataDir),
    /// List generations: number, time, size, change-log position, verification; with a key
    /// (--identity, or the server's in --data), what the server did not write is marked.
    List {
        #[command(flatten)]
        from: Where,
        /// Identity file that authenticates the backups (default: the server's key in --data).
        #[arg(long, value_name = "FILE")]
        identity: Option<PathBuf>,
    },
    /// Authenticate, decrypt, decompress, check and open a generation as a store (default: the
    /// newest), and replay the archive after it. Exit 3 when the key is wrong or missing.
    Verify {
        #[command(flatten)]
        from: Where,
        /// Generation number (default: the newest).
        generation: Option<u64>,
        /// Identity file (default: the server's verification key in --data).
        #[arg(long, value_name = "FILE")]
        identity: Option<PathBuf>,
    },
    /// Build a new data directory from a generation plus the change archive. Never writes over
    /// an existing store; refuses what the store's server did not write. Exit 3 when the key is
    /// wrong or missing.
    Restore {
        #[command(flatten)]
        from: Where,
        /// The new data directory (must not exist, or be empty).
        #[arg(long, value_name = "NEWDIR")]
        to: PathBuf,
        /// Generation number (default: the newest).
        #[arg(long)]
        generation: Option<u64>,
        /// Identity file that opens the backups (kept offline; default: the server's verification
        /// key in --data).
        #[arg(long, value_name = "FILE")]
        identity: Option<PathBuf>,
        /// Replay the archive only up to this time (Japan time unless an offset is given),
        /// e.g. 2026-11-24T09:30; default: everything archived.
        #[arg(long, value_name = "TIME")]
        until: Option<String>,
    },
    /// Restore drill: restore the newest generation and the archive after it into a scratch
    /// directory beside the store, check it, time it, and keep the result for the monthly report
    /// (the server must be stopped; the running server drills by itself, monthly by default).
    Drill(DataDir),
    /// Make a new backup identity: writes it to FILE (move it offline) with the store's backup
    /// authentication key, and adds its recipient.
    Keygen {
        #[command(flatten)]
        data: DataDir,
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
}

/// Where the generations are.
#[derive(Args, Debug, Clone)]
pub struct Where {
    /// The backup directory itself (for a restore on a new machine).
    #[arg(long, value_name = "DIR")]
    pub from: Option<PathBuf>,
    /// The data directory whose configuration names the backup directory.
    #[arg(long = "data", env = "MAMORU_DATA", value_name = "DIR")]
    pub data: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct InitArgs {
    #[command(flatten)]
    pub data: DataDir,
    /// Login of the first administrator.
    #[arg(long, value_name = "LOGIN")]
    pub admin_login: String,
    /// File holding the administrator's password (else `MAMORU_ADMIN_PASSWORD`).
    #[arg(long, value_name = "FILE")]
    pub admin_password_file: Option<PathBuf>,
    /// The administrator's display name.
    #[arg(long, value_name = "NAME", default_value = "システム管理者")]
    pub admin_name: String,
    /// Also make a backup identity and write it to FILE, to be kept offline; only its recipient
    /// stays on the server.
    #[arg(long, value_name = "FILE")]
    pub backup_identity_out: Option<PathBuf>,
    /// A host name or IP address the tablets use to reach the server, for the TLS certificate
    /// this server's own authority signs (repeat for several; default: this machine's host
    /// name). localhost and the loopback addresses are always included.
    #[arg(long = "tls-name", value_name = "NAME")]
    pub tls_names: Vec<String>,
}

#[derive(Args, Debug)]
pub struct ServeArgs {
    #[command(flatten)]
    pub data: DataDir,
    /// Address for the web UI and API; port 0 picks a free port.
    #[arg(long, value_name = "HOST:PORT")]
    pub listen: Option<SocketAddr>,
    /// Address for the SSH console (default from the config: 0.0.0.0:2222); port 0 picks a
    /// free port.
    #[arg(long, value_name = "HOST:PORT")]
    pub ssh_listen: Option<SocketAddr>,
    /// Serve plain HTTP instead of HTTPS: only on a loopback address (the demo, or behind a TLS
    /// terminator).
    #[arg(long)]
    pub plain_http: bool,
}

#[derive(Args, Debug)]
pub struct DemoArgs {
    /// A new or empty directory to fill (a temporary one if omitted).
    #[arg(long = "data", value_name = "DIR")]
    pub data: Option<PathBuf>,
    /// Loopback address to serve on; port 0 picks a free port.
    #[arg(long, value_name = "HOST:PORT", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Loopback address of the SSH console; port 0 picks a free port.
    #[arg(long, value_name = "HOST:PORT", default_value = "127.0.0.1:2222")]
    pub ssh_listen: SocketAddr,
    /// An OpenSSH public key that may open the console as demo-admin (default: your own
    /// Ed25519 or ECDSA key in `~/.ssh`, if there is one).
    #[arg(long, value_name = "KEY.pub")]
    pub console_key: Option<PathBuf>,
    /// How many fictional children to create.
    #[arg(long, default_value_t = 200)]
    pub children: u64,
    /// Only fill the directory; do not serve.
    #[arg(long)]
    pub no_serve: bool,
}

#[derive(Subcommand, Debug)]
pub enum UserCommand {
    /// Add a staff member.
    Add {
        #[command(flatten)]
        data: DataDir,
        login: String,
        /// caseworker, psychologist, supervisor, head, clerk or admin.
        #[arg(long)]
        role: String,
        /// Unit id(s) (see `mamoru user units`); repeat for several.
        #[arg(long = "unit", required = true)]
        units: Vec<u64>,
        /// Display name.
        #[arg(long)]
        name: String,
        /// File holding the first password.
        #[arg(long, value_name = "FILE")]
        password_file: PathBuf,
    },
    /// List staff.
    List(DataDir),
    /// List organisation units and their ids.
    Units(DataDir),
    /// Disable an account (its sessions end).
    Disable {
        #[command(flatten)]
        data: DataDir,
        login: String,
    },
    /// Enable a disabled account.
    Enable {
        #[command(flatten)]
        data: DataDir,
        login: String,
    },
    /// Set a new password.
    Passwd {
        #[command(flatten)]
        data: DataDir,
        login: String,
        #[arg(long, value_name = "FILE")]
        password_file: PathBuf,
    },
    /// Remove a staff member's second factor (a lost phone); they enrol again.
    ResetTotp {
        #[command(flatten)]
        data: DataDir,
        login: String,
    },
    /// Check a password (exit 0 if it is right).
    Verify {
        #[command(flatten)]
        data: DataDir,
        login: String,
        #[arg(long, value_name = "FILE")]
        password_file: PathBuf,
    },
    /// Console keys.
    #[command(subcommand)]
    Key(KeyCommand),
}

#[derive(Subcommand, Debug)]
pub enum DeviceCommand {
    /// Add a tablet; prints its one-time registration code (24 hours), which the tablet enters
    /// at /register.
    Add {
        #[command(flatten)]
        data: DataDir,
        /// What to call it, e.g. "iPad 12 (児相 1係)".
        name: String,
    },
    /// List tablets: id, state (pending: its code not yet entered; active; revoked), name.
    List(DataDir),
    /// Revoke a tablet: every session signed in from it ends.
    Revoke {
        #[command(flatten)]
        data: DataDir,
        id: u64,
    },
}

#[derive(Subcommand, Debug)]
pub enum KeyCommand {
    /// Let LOGIN into the SSH console with a public key.
    Add {
        #[command(flatten)]
        data: DataDir,
        login: String,
        #[arg(long, value_name = "KEY.pub")]
        file: PathBuf,
    },
}

#[derive(Subcommand, Debug)]
pub enum AuditCommand {
    /// Verify the hash chain, then compare it with the chain heads every authentic backup
    /// recorded (a rewritten entry with every later one rehashed passes the chain, not the
    /// backups); reports the first broken, missing or rewritten entry.
    Verify {
        #[command(flatten)]
        data: DataDir,
        /// The backup directory to compare with (default: the configured backup.dir).
        #[arg(long, value_name = "DIR")]
        from: Option<PathBuf>,
        /// Identity file that authenticates the backups (default: the server's key in --data).
        #[arg(long, value_name = "FILE")]
        identity: Option<PathBuf>,
    },
}

impl UserCommand {
    /// The data directory the verb works on.
    #[must_use]
    pub fn data(&self) -> &std::path::Path {
        match self {
            Self::Add { data, .. }
            | Self::Disable { data, .. }
            | Self::Enable { data, .. }
            | Self::Passwd { data, .. }
            | Self::ResetTotp { data, .. }
            | Self::Verify { data, .. }
            | Self::List(data)
            | Self::Units(data) => &data.data,
            Self::Key(k) => k.data(),
        }
    }

    /// Whether the verb changes the store (not only reads it).
    #[must_use]
    pub fn changes(&self) -> bool {
        !matches!(self, Self::List(_) | Self::Units(_) | Self::Verify { .. })
    }
}

impl KeyCommand {
    /// The data directory the verb works on.
    #[must_use]
    pub fn data(&self) -> &std::path::Path {
        match self {
            Self::Add { data, .. } => &data.data,
        }
    }
}

impl DeviceCommand {
    /// The data directory the verb works on.
    #[must_use]
    pub fn data(&self) -> &std::path::Path {
        match self {
            Self::Add { data, .. } | Self::Revoke { data, .. } | Self::List(data) => &data.data,
        }
    }

    /// Whether the verb changes the store (not only reads it).
    #[must_use]
    pub fn changes(&self) -> bool {
        !matches!(self, Self::List(_))
    }
}
