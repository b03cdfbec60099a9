//! The config file (`DIR/mamoru.toml`), written commented by `mamoru init`. Only this crate reads
//! files and the environment.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::Deserialize;

pub const FILE_NAME: &str = "mamoru.toml";

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub web: Web,
    #[serde(default)]
    pub backup: Backup,
    #[serde(default)]
    pub ssh: Ssh,
    #[serde(default)]
    pub monitor: Monitor,
    #[serde(default)]
    pub alerts: Alerts,
}

/// Where the self-probe's alerts go: mail through the city's relay, a command, both or neither
/// (then only the console shows them).
#[derive(Debug, Deserialize, Default, Clone)]
#[serde(deny_unknown_fields)]
pub struct Alerts {
    /// The relay, `host:port`.
    #[serde(default)]
    pub smtp: Option<String>,
    /// Plain SMTP (the closed network), STARTTLS, or TLS from the first byte.
    #[serde(default)]
    pub smtp_security: crate::smtp::Security,
    /// The authorities the relay's certificate must chain to (PEM); default the system's.
    #[serde(default)]
    pub smtp_ca: Option<PathBuf>,
    /// A login for the relay (only over TLS) and the file holding its password.
    #[serde(default)]
    pub smtp_user: Option<String>,
    #[serde(default)]
    pub smtp_password_file: Option<PathBuf>,
    #[serde(default)]
    pub from: Option<String>,
    #[serde(default)]
    pub to: Vec<String>,
    /// Run with each notice: `MAMORU_ALERT` (raised / cleared), `MAMORU_ALERT_PROBLEM`,
    /// `MAMORU_ALERT_SUBJECT`; the body on standard input.
    #[serde(default)]
    pub command: Option<String>,
    /// The server's name in the notices (default: the host name).
    #[serde(default)]
    pub server_name: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Monitor {
    /// Seconds between the server's probes of itself (the uptime ledger).
    #[serde(default = "default_probe_every")]
    pub probe_every_seconds: u64,
}

fn default_probe_every() -> u64 {
    u64::try_from(mamoru_core::uptime::PROBE_EVERY).unwrap_or(180)
}
impl Default for Monitor {
    fn default() -> Self {
        Self { probe_every_seconds: default_probe_every() }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ssh {
    /// Address of the SSH console.
    #[serde(default = "default_ssh")]
    pub listen: SocketAddr,
    /// Its host key (OpenSSH format); a relative path is inside the data directory.
    #[serde(default = "default_host_key")]
    pub host_key: PathBuf,
    /// After the key, a code from the authenticator app (as `[web] require_totp`); someone
    /// without a second factor enrols it at their first console sign-in.
    #[serde(default = "yes")]
    pub require_totp: bool,
}

fn default_ssh() -> SocketAddr {
    SocketAddr::from(([0, 0, 0, 0], 2222))
}
fn default_host_key() -> PathBuf {
    PathBuf::from(crate::console::HOST_KEY_FILE)
}
impl Default for Ssh {
    fn default() -> Self {
        Self { listen: default_ssh(), host_key: default_host_key(), require_totp: true }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Backup {
    /// Where generations go (a mounted NAS, say); relative paths are inside the data directory.
    #[serde(default = "default_backup_dir")]
    pub dir: PathBuf,
    /// Generations to keep (never fewer than three).
    #[serde(default = "default_keep")]
    pub keep: usize,
    /// Daily backup time, Japan time, `HH:MM`.
    #[serde(default = "default_daily_at")]
    pub daily_at: String,
    /// Seconds between shipments of the change archive (the most a lost disk can cost).
    #[serde(default = "default_archive_every")]
    pub archive_every_seconds: u64,
    /// Days between restore drills after the daily backup (0: only when asked for).
    #[serde(default = "default_drill_every")]
    pub drill_every_days: u32,
}

fn default_drill_every() -> u32 {
    mamoru_core::drill::EVERY_DAYS
}

fn default_archive_every() -> u64 {
    60
}

fn default_daily_at() -> String {
    "02:00".into()
}

impl Backup {
    /// Seconds after midnight JST of the daily backup.
    pub fn daily_seconds(&self) -> anyhow::Result<i64> {
        let bad = || anyhow::anyhow!("backup.daily_at must be HH:MM (Japan time), not {:?}", self.daily_at);
        let (h, m) = self.daily_at.split_once(':').ok_or_else(bad)?;
        let (h, m): (i64, i64) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
        if !(0..24).contains(&h) || !(0..60).contains(&m) {
            return Err(bad());
        }
        Ok(h * 3600 + m * 60)
    }
}

fn default_backup_dir() -> PathBuf {
    PathBuf::from("backups")
}
fn default_keep() -> usize {
    7
}
impl Default for Backup {
    fn default() -> Self {
        Self {
            dir: default_backup_dir(),
            keep: default_keep(),
            daily_at: default_daily_at(),
            archive_every_seconds: default_archive_every(),
            drill_every_days: default_drill_every(),
        }
    }
}

/// Files the data directory holds beside the store.
pub const RECIPIENTS_FILE: &str = "backup-recipients.txt";
pub const VERIFY_KEY_FILE: &str = "backup-verify.key";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Web {
    #[serde(default = "default_web")]
    pub listen: SocketAddr,
    /// TLS certificate chain (PEM); relative paths are inside the data directory.
    #[serde(default = "default_cert")]
    pub cert: PathBuf,
    /// Its private key (PEM).
    #[serde(default = "default_key")]
    pub key: PathBuf,
    /// Web sign-in only on a tablet registered with a one-time code (`/register`).
    #[serde(default = "yes")]
    pub require_device: bool,
    /// Every web session needs the TOTP second factor; a staff member without one enrols it at
    /// their first sign-in (a QR code on `/totp`).
    #[serde(default = "yes")]
    pub require_totp: bool,
    /// Seconds for a TLS handshake and for a request's headers (and for a kept-alive
    /// connection's next request).
    #[serde(default = "default_header_timeout")]
    pub header_timeout_seconds: u64,
    /// Seconds a connection may move no byte before it is closed (at least 30).
    #[serde(default = "default_idle_timeout")]
    pub idle_timeout_seconds: u64,
    /// Connections open at once from one address.
    #[serde(default = "default_per_address")]
    pub max_connections_per_address: usize,
    /// The file holding the token a metrics scraper presents (`Authorization: Bearer …`);
    /// relative paths are inside the data directory. Made at the first start when missing.
    /// Empty: only a signed-in administrator reads `/metrics`.
    #[serde(default = "default_metrics_token_file")]
    pub metrics_token_file: PathBuf,
}

impl Web {
    /// The web edge's limits.
    pub fn limits(&self) -> mamoru_web::Limits {
        mamoru_web::Limits {
            header_timeout: std::time::Duration::from_secs(self.header_timeout_seconds.clamp(1, 3600)),
            idle_timeout: std::time::Duration::from_secs(self.idle_timeout_seconds.clamp(1, 86_400))
                .max(mamoru_web::Limits::MIN_IDLE),
            per_address: self.max_connections_per_address.max(1),
        }
    }
}

fn default_header_timeout() -> u64 {
    mamoru_web::Limits::default().header_timeout.as_secs()
}
fn default_idle_timeout() -> u64 {
    mamoru_web::Limits::default().idle_timeout.as_secs()
}
fn default_per_address() -> usize {
    mamoru_web::Limits::default().per_address
}

/// Where the metrics scraper's token is kept by default (inside the data directory).
pub const METRICS_TOKEN_FILE: &str = "metrics.token";

fn default_metrics_token_file() -> PathBuf {
    PathBuf::from(METRICS_TOKEN_FILE)
}

fn yes() -> bool {
    true
}

fn default_cert() -> PathBuf {
    PathBuf::from(crate::tls::CERT_FILE)
}
fn default_key() -> PathBuf {
    PathBuf::from(crate::tls::KEY_FILE)
}

fn default_web() -> SocketAddr {
    SocketAddr::from(([0, 0, 0, 0], 8443))
}
impl Default for Web {
    fn default() -> Self {
        Self {
            listen: default_web(),
            cert: default_cert(),
            key: default_key(),
            require_device: true,
            require_totp: true,
            header_timeout_seconds: default_header_timeout(),
            idle_timeout_seconds: default_idle_timeout(),
            max_connections_per_address: default_per_address(),
            metrics_token_file: default_metrics_token_file(),
        }
    }
}

/// The commented configuration `mamoru init` writes; the package installs the same file as
/// `/usr/share/mamoru/mamoru.toml`.
pub const TEMPLATE: &str = include_str!("../packaging/mamoru.toml");

/// Reads `DIR/mamoru.toml`; a missing file means the defaults.
pub fn load(dir: &Path) -> anyhow::Result<Config> {
    let path = dir.join(FILE_NAME);
    match std::fs::read_to_string(&path) {
        Ok(text) => toml::from_str(&text).with_context(|| format!("reading {}", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Config::default()),
        Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
    }
}

#[cfg(test)]
mod tests {
    use super::{Config, TEMPLATE, Web};

    #[test]
    fn every_setting_the_template_shows_can_be_uncommented_as_it_stands() {
        // An administrator removes the `# ` of a line to change it: each such line must be valid
        // TOML as written, and the values shown must be the defaults.
        let uncommented: String = TEMPLATE
            .lines()
            .map(|line| match line.strip_prefix("# ") {
                Some(rest)
                    if rest
                        .split_once(" = ")
                        .is_some_and(|(k, _)| k.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')) =>
                {
                    rest
                }
                _ => line,
            })
            .fold(String::new(), |text, line| text + line + "\n");
        assert!(uncommented.contains("\nidle_timeout_seconds = 120\n"), "{uncommented}");
        let all: Config = toml::from_str(&uncommented).unwrap_or_else(|e| panic!("{e}"));
        let defaults = Config::default();
        assert_eq!(all.web.idle_timeout_seconds, defaults.web.idle_timeout_seconds);
        assert_eq!(all.web.require_totp, defaults.web.require_totp);
        assert_eq!(all.ssh.require_totp, defaults.ssh.require_totp);
        assert_eq!(all.web.listen, defaults.web.listen);
        assert_eq!(all.ssh.host_key, defaults.ssh.host_key);
    }

    #[test]
    fn an_idle_timeout_shorter_than_the_event_streams_comment_is_raised() {
        let short = Web { idle_timeout_seconds: 5, ..Web::default() };
        assert_eq!(short.limits().idle_timeout, mamoru_web::Limits::MIN_IDLE);
        let long = Web { idle_timeout_seconds: 600, ..Web::default() };
        assert_eq!(long.limits().idle_timeout.as_secs(), 600);
    }
}
