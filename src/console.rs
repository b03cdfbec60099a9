//! The SSH console's wiring: its host key, and what the server tells the console (uptime, disk,
//! traffic, backups).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result};
use mamoru_core::Service;
use mamoru_core::staff::Action;
use mamoru_tui::app::{Generation, Host, Requests};
use mamoru_tui::files::Folder;

/// The SSH host key, inside the data directory unless the config says otherwise.
pub const HOST_KEY_FILE: &str = "ssh/host_ed25519";

/// Makes the host key at `path` unless it exists; returns its fingerprint when it made one.
pub fn ensure_host_key(path: &Path) -> Result<Option<String>> {
    if path.exists() {
        return Ok(None);
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    mamoru_tui::ssh::make_host_key(path).map(Some).map_err(|e| anyhow::anyhow!(e))
}

/// The local console's socket, inside the data directory.
pub const SOCKET_FILE: &str = "console.sock";

/// Starts the local console's socket listener for a running server.
pub fn serve_local(
    data: &Path,
    service: &Arc<Service>,
    host: Arc<dyn Host>,
) -> Result<tokio::task::JoinHandle<()>> {
    let path = data.join(SOCKET_FILE);
    let listener = mamoru_tui::local::listen(&path)
        .with_context(|| format!("cannot listen on {} for the local console", path.display()))?;
    let actor = local_console_actor(service)?;
    Ok(tokio::spawn(mamoru_tui::local::serve(listener, service.clone(), host, actor)))
}

/// The local console acts as the local administrator, from device `local-console`.
fn local_console_actor(service: &Service) -> Result<mamoru_core::Actor> {
    Ok(service.local_admin("local-console")?)
}

/// What the server (or `mamoru console` without one) tells the console.
pub fn server_host(data: &Path, service: &Arc<Service>, backup_now: mamoru_web::BackupNow) -> Arc<dyn Host> {
    Arc::new(ServerHost {
        started: Instant::now(),
        data: data.to_owned(),
        service: service.clone(),
        backup_now,
    })
}

/// `mamoru console`: attaches to the running server's console socket, or, when no server
/// runs, opens the store and runs the console in this process.
pub fn run_local(data: &Path) -> Result<()> {
    let path = data.join(SOCKET_FILE);
    if let Ok(stream) = std::os::unix::net::UnixStream::connect(&path) {
        return mamoru_tui::local::attach(stream).context("the console's terminal");
    }
    let service = Arc::new(crate::commands::open(data)?);
    let actor = local_console_actor(&service)?;
    let host = server_host(data, &service, crate::commands::backup_now_op(&service, data));
    let (ours, theirs) = std::os::unix::net::UnixStream::pair().context("a socket pair")?;
    theirs.set_nonblocking(true)?;
    let runtime =
        tokio::runtime::Builder::new_multi_thread().enable_all().build().context("starting the runtime")?;
    let console = runtime.spawn(async move {
        if let Ok(stream) = tokio::net::UnixStream::from_std(theirs) {
            mamoru_tui::local::session(stream, service, host, actor).await;
        }
    });
    let result = mamoru_tui::local::attach(ours).context("the console's terminal");
    runtime.block_on(console).ok();
    result
}

/// What the running server tells its console.
struct ServerHost {
    started: Instant,
    data: PathBuf,
    service: Arc<Service>,
    backup_now: mamoru_web::BackupNow,
}

impl Host for ServerHost {
    fn uptime_seconds(&self) -> u64 {
        self.started.elapsed().as_secs()
    }

    fn store_bytes(&self) -> Option<u64> {
        Some(self.service.store_bytes())
    }

    fn disk(&self) -> Option<mamoru_core::store::DiskSpace> {
        self.service.disk_space()
    }

    fn requests(&self) -> Requests {
        let t = self.service.traffic().summary();
        Requests { per_minute: t.requests, p50_ms: t.p50_ms, p99_ms: t.p99_ms, errors: t.server_errors }
    }

    fn generations(&self) -> Result<Vec<Generation>, String> {
        let dest = crate::backup::destination(&self.data).map_err(|e| format!("{e:#}"))?;
        let keys = crate::backup::keyring(&self.data).map_err(|e| format!("{e:#}"))?;
        let mut list = dest.list().map_err(|e| e.to_string())?;
        list.reverse();
        Ok(list
            .into_iter()
            .map(|m| {
                // What the server did not write is shown as such and never counts as verified.
                let authentic = m.authenticate(&keys, &dest.manifest_path(m.generation)).is_ok();
                Generation {
                    name: if authentic {
                        format!("{} (変更 {} まで)", m.generation, m.covers_seq)
                    } else {
                        format!("{} 認証できない (サーバーが作ったものではない)", m.generation)
                    },
                    created: mamoru_core::time::Timestamp(m.created_at).to_jst_string(),
                    bytes: m.file_bytes,
                    verified: authentic && m.verified_at.is_some(),
                }
            })
            .collect())
    }

    fn backup_now(&self) -> Result<String, String> {
        (self.backup_now)()
    }

    fn restore_drill(&self) -> Result<mamoru_core::drill::RestoreDrill, String> {
        crate::drill::run_and_record(&self.data, &self.service, "console").map_err(|e| format!("{e:#}"))
    }

    fn save_export(&self, name: &str, bytes: &[u8]) -> Result<String, String> {
        save_export(&self.data, name, bytes).map_err(|e| format!("{e:#}"))
    }

    fn store_export(
        &self,
        name: &str,
    ) -> Result<(Box<dyn mamoru_core::service::export::Sink>, String), String> {
        store_export_dir(&self.data, name).map_err(|e| format!("{e:#}"))
    }

    fn certificate(&self) -> Option<mamoru_tui::app::Certificate> {
        let (_, facts) = crate::tls::configured_facts(&self.data).ok()?;
        Some(mamoru_tui::app::Certificate { not_after: facts.not_after, own: facts.own })
    }

    fn folders(&self) -> Vec<Folder> {
        let mut folders = Vec::new();
        match crate::backup::destination(&self.data) {
            Ok(dest) => folders.push(Folder {
                name: "backups".into(),
                path: dest.dir().to_owned(),
                action: Action::OperateServer,
            }),
            Err(error) => {
                tracing::warn!(error = %format!("{error:#}"), "the backup folder is not offered over SFTP");
            }
        }
        folders.push(Folder {
            name: "exports".into(),
            path: self.data.join(EXPORT_DIR),
            action: Action::ExportAudit,
        });
        folders.push(Folder {
            name: "store-exports".into(),
            path: self.data.join(STORE_EXPORT_DIR),
            action: Action::ExportStore,
        });
        folders
    }
}

/// Where whole-store exports go: `DATA/store-exports/NAME/`, offered over SFTP to
/// administrators only (the audit exports' folder is for supervisors too).
pub const STORE_EXPORT_DIR: &str = "store-exports";

/// A new folder `DATA/store-exports/NAME` (0700) as the export's sink.
fn store_export_dir(
    data: &Path,
    name: &str,
) -> Result<(Box<dyn mamoru_core::service::export::Sink>, String)> {
    use std::os::unix::fs::DirBuilderExt;
    anyhow::ensure!(
        !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_".contains(&b)),
        "not a plain folder name: {name}"
    );
    let base = data.join(STORE_EXPORT_DIR);
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&base)
        .with_context(|| format!("cannot create {}", base.display()))?;
    let dir = base.join(name);
    anyhow::ensure!(!dir.exists(), "{} exists already", dir.display());
    let shown = dir.display().to_string();
    // Written as `.NAME.partial` (SFTP lists no dot files), renamed once complete and audited.
    Ok((Box::new(crate::commands::ExportFolder::new(dir)?), shown))
}

/// Where the console's exports go: `DATA/exports`, readable by the server's user only.
pub const EXPORT_DIR: &str = "exports";

/// Writes an export into `DATA/exports/NAME` (0600, the directory 0700): written to a temporary
/// file, flushed to disk, then renamed, so a half-written file is never there under its name.
fn save_export(data: &Path, name: &str, bytes: &[u8]) -> Result<String> {
    use std::io::Write;
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
    anyhow::ensure!(
        !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b)),
        "not a plain file name: {name}"
    );
    let dir = data.join(EXPORT_DIR);
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&dir)
        .with_context(|| format!("cannot create {}", dir.display()))?;
    let path = dir.join(name);
    let tmp = dir.join(format!(".{name}.tmp"));
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)
        .with_context(|| format!("cannot write {}", tmp.display()))?;
    f.write_all(bytes)
        .and_then(|()| f.sync_all())
        .with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, &path).with_context(|| format!("cannot move it to {}", path.display()))?;
    Ok(path.display().to_string())
}
