//! `serve`: the web, the API, the console and the scheduled backups in one process, until a
//! signal stops them.

use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use mamoru_core::Service;

use super::open;
use crate::cli::ServeArgs;
use crate::config;

pub(super) fn serve(args: &ServeArgs) -> Result<()> {
    let cfg = config::load(&args.data.data)?;
    let listen = args.listen.unwrap_or(cfg.web.listen);
    if args.plain_http && !mamoru_web::plain_http_allowed(&listen) {
        bail!("--plain-http is only allowed on a loopback address, not {listen}");
    }
    let tls = if args.plain_http {
        None
    } else {
        let (cert, key) = crate::tls::configured(&args.data.data, &cfg.web);
        let cert_pem = std::fs::read(&cert)
            .with_context(|| format!("cannot read the TLS certificate {}", cert.display()))?;
        let key_pem =
            std::fs::read(&key).with_context(|| format!("cannot read the TLS key {}", key.display()))?;
        let tls = mamoru_web::Tls::from_pem(&cert_pem, &key_pem).map_err(|e| anyhow::anyhow!("{e}"))?;
        Some(crate::tls::Watched { tls, cert, key, cert_pem, key_pem })
    };
    let ssh = args.ssh_listen.unwrap_or(cfg.ssh.listen);
    let service = Arc::new(open(&args.data.data)?);
    // A data directory an older version (or someone's mkdir) left open is closed now.
    if let Err(e) = crate::files::close_top(&args.data.data) {
        tracing::warn!(error = %format!("{e:#}"), "the data directory could not be made private");
    }
    // Search keys made under another 異体字 table (an upgrade) are re-made before serving.
    let reindexed = service.reindex_search()?;
    if reindexed.changed > 0 {
        tracing::info!(children = reindexed.changed, "search keys re-made under the new 異体字 table");
    }
    for (child, why) in &reindexed.failed {
        tracing::warn!(child = child.0, %why, "search keys not re-made (tried again at the next start)");
    }
    service.set_device_required(cfg.web.require_device);
    service.set_totp_required(cfg.web.require_totp);
    service.set_console_totp_required(cfg.ssh.require_totp);
    service.set_metrics_token(metrics_token(&args.data.data, &cfg.web)?.as_deref());
    let backups = start_backups(&service, &args.data.data)?;
    let served = serve_all(Serving {
        service: service.clone(),
        data: args.data.data.clone(),
        listen,
        tls,
        ssh: Some(ssh),
    });
    // The last hour's request times, before the last shipment to the archive.
    if let Err(e) = service.keep_traffic(true) {
        tracing::warn!(error = %e, "the last request times could not be kept");
    }
    backups.finish();
    served
}

/// The metrics scraper's token from `web.metrics_token_file`; the file is made (32 random bytes,
/// hex, private) when missing. `None` when the setting is empty.
fn metrics_token(data: &Path, web: &config::Web) -> Result<Option<String>> {
    if web.metrics_token_file.as_os_str().is_empty() {
        return Ok(None);
    }
    let path = data.join(&web.metrics_token_file);
    if !path.exists() {
        let mut raw = [0u8; 32];
        getrandom::fill(&mut raw).map_err(|e| anyhow::anyhow!("no randomness for the metrics token: {e}"))?;
        crate::files::write_private(&path, format!("{}\n", mamoru_core::to_hex(&raw)).as_bytes())?;
    }
    let token = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read the metrics token {}", path.display()))?
        .trim()
        .to_owned();
    if token.len() < 32 {
        anyhow::bail!("the metrics token in {} is shorter than 32 characters", path.display());
    }
    Ok(Some(token))
}

/// The running backup threads. `finish` ships the last changes to the archive and waits for it.
pub struct Backups {
    stop_archiver: std::sync::mpsc::Sender<()>,
    archiver: std::thread::JoinHandle<()>,
    // Dropping this sender stops the daily thread.
    _stop_daily: std::sync::mpsc::Sender<()>,
}

impl Backups {
    pub fn finish(self) {
        let _ = self.stop_archiver.send(());
        let _ = self.archiver.join();
    }
}

/// Starts the daily backup thread (after reading the last verified generation for `/healthz`)
/// and the archiver, which ships committed changes every `archive_every` seconds.
pub fn start_backups(service: &Arc<Service>, data: &Path) -> Result<Backups> {
    let cfg = config::load(data)?;
    let daily = cfg.backup.daily_seconds()?;
    let drill_every = cfg.backup.drill_every_days;
    let every = std::time::Duration::from_secs(cfg.backup.archive_every_seconds.max(1));
    let dest = crate::backup::destination(data)?;
    let keys = crate::backup::keyring(data)?;
    if let Some(m) = dest.authentic_list(&keys)?.into_iter().rev().find(|m| m.verified_at.is_some()) {
        service.record_backup(Some(mamoru_core::time::Timestamp(m.created_at)));
    }
    let (stop_daily, daily_stopped) = std::sync::mpsc::channel::<()>();
    let (svc, dir) = (service.clone(), data.to_owned());
    std::thread::Builder::new()
        .name("backup".into())
        .spawn(move || crate::scheduler::run(&svc, &dir, (daily, drill_every), &daily_stopped))
        .context("starting the backup thread")?;
    let (stop_archiver, archiver_stopped) = std::sync::mpsc::channel::<()>();
    let (svc, dir) = (service.clone(), data.to_owned());
    let archiver = std::thread::Builder::new()
        .name("archive".into())
        .spawn(move || crate::scheduler::archive(&svc, &dir, every, &archiver_stopped))
        .context("starting the archive thread")?;
    Ok(Backups { stop_archiver, archiver, _stop_daily: stop_daily })
}

/// The server's "back up now" for the web API and the console.
pub fn backup_now_op(service: &Arc<Service>, data: &Path) -> mamoru_web::BackupNow {
    let (svc, dir) = (service.clone(), data.to_owned());
    Arc::new(move || {
        let made = crate::backup::create(&dir, &svc);
        let done = match &made {
            Ok(m) => Ok((m.generation, mamoru_core::time::Timestamp(m.created_at))),
            Err(e) => Err(format!("{e:#}")),
        };
        if let Err(e) = svc.backup_done(done) {
            tracing::error!(error = %e, "the backup's outcome could not be audited");
        }
        made.map(|m| crate::backup::describe(&m)).map_err(|e| format!("{e:#}"))
    })
}

/// What `serve` and the demo run.
pub struct Serving {
    pub service: Arc<Service>,
    pub data: std::path::PathBuf,
    pub listen: std::net::SocketAddr,
    /// `None`: plain HTTP (loopback only; checked by the caller).
    /// HTTPS: the pair presented and the files it came from (watched for a renewal).
    pub tls: Option<crate::tls::Watched>,
    /// The SSH console's address, if it runs.
    pub ssh: Option<std::net::SocketAddr>,
}

/// Runs the web server and the SSH console until Ctrl-C or SIGTERM. Prints `web: URL` and
/// `ssh: HOST:PORT` once listening.
pub fn serve_all(s: Serving) -> Result<()> {
    let Serving { service, data, listen, tls, ssh } = s;
    let cfg = config::load(&data)?;
    let limits = cfg.web.limits();
    let probe_every = std::time::Duration::from_secs(cfg.monitor.probe_every_seconds.max(1));
    crate::systemd::check_watchdog(probe_every);
    let notifier = crate::alerts::Notifier::from_config(&cfg.alerts, &data)?;
    let backup_now = backup_now_op(&service, &data);
    let console = match ssh {
        Some(addr) => {
            let cfg = config::load(&data)?;
            let path =
                if cfg.ssh.host_key.is_absolute() { cfg.ssh.host_key } else { data.join(cfg.ssh.host_key) };
            if let Some(fingerprint) = crate::console::ensure_host_key(&path)? {
                tracing::info!(%fingerprint, "made an SSH host key");
            }
            let key = mamoru_tui::ssh::load_host_key(&path).map_err(|e| anyhow::anyhow!(e))?;
            Some((addr, mamoru_tui::ssh::config(key)))
        }
        None => None,
    };
    let host = crate::console::server_host(&data, &service, backup_now.clone());
    let runtime =
        tokio::runtime::Builder::new_multi_thread().enable_all().build().context("starting the runtime")?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .with_context(|| format!("cannot listen on {listen}"))?;
        let addr = listener.local_addr()?;
        // Stopped when this sender is dropped, after serving.
        let (_stop_prober, prober_stopped) = std::sync::mpsc::channel::<()>();
        let target = crate::prober::Target { addr, https: tls.is_some(), data: data.clone() };
        // The alerts' notices are sent by a thread of their own, woken after each probe.
        let deliver = crate::alerts::start(&service, notifier).context("starting the alerts thread")?;
        let svc = service.clone();
        std::thread::Builder::new()
            .name("prober".into())
            .spawn(move || crate::prober::run(&svc, &target, probe_every, deliver.as_ref(), &prober_stopped))
            .context("starting the prober")?;
        let health = mamoru_web::Health {
            version: env!("CARGO_PKG_VERSION"),
            https: tls.is_some(),
            backup_now: Some(backup_now),
        };
        // The local console is a convenience: a socket path too long for the OS only costs it.
        let local = crate::console::serve_local(&data, &service, host.clone())
            .map_err(|e| tracing::warn!(error = %format!("{e:#}"), "no local console"))
            .ok();
        // Likewise the command-line verbs that work while the server runs.
        let control = crate::control::serve(&data, &service)
            .map_err(|e| tracing::warn!(error = %format!("{e:#}"), "no control socket"))
            .ok();
        let console = match console {
            Some((ssh_addr, config)) => {
                let ssh_listener = tokio::net::TcpListener::bind(ssh_addr)
                    .await
                    .with_context(|| format!("cannot listen on {ssh_addr} for the SSH console"))?;
                let bound = ssh_listener.local_addr()?;
                tracing::info!(%bound, "serving the SSH console");
                let svc = service.clone();
                Some((bound, tokio::spawn(mamoru_tui::ssh::serve(ssh_listener, config, svc, host))))
            }
            None => None,
        };
        // Taken before the server says it listens: from then on a SIGHUP reloads the
        // certificate (`crate::tls::watch`) and never ends the server.
        let hangup = tls.as_ref().and_then(|_| {
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
                .inspect_err(|error| tracing::warn!(%error, "SIGHUP does not reload the TLS certificate"))
                .ok()
        });
        if tls.is_some() {
            println!("web: https://{addr}");
        } else {
            println!("web: http://{addr}");
        }
        if let Some((bound, _)) = &console {
            println!("ssh: {bound}");
        }
        crate::systemd::ready();
        if let Some(served) = tls {
            tracing::info!(%addr, "serving HTTPS");
            let config = served.tls.clone();
            let watch = tokio::spawn(crate::tls::watch(served, hangup));
            mamoru_web::serve_tls(listener, service, health, config, limits, shutdown_signal()).await;
            watch.abort();
        } else {
            tracing::info!(%addr, "serving plain HTTP on loopback");
            Box::pin(mamoru_web::serve_plain(listener, service, health, shutdown_signal())).await;
        }
        if let Some((_, task)) = console {
            task.abort();
        }
        if let Some(local) = local {
            local.abort();
            let _ = std::fs::remove_file(data.join(crate::console::SOCKET_FILE));
        }
        if let Some(control) = control {
            control.abort();
            let _ = std::fs::remove_file(data.join(crate::control::SOCKET_FILE));
        }
        tracing::info!("stopped");
        Ok(())
    })
}

pub(super) async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let Ok(mut term) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) else {
            let _ = ctrl_c.await;
            return;
        };
        tokio::select! {
            _ = ctrl_c => {},
            _ = term.recv() => {},
        }
        crate::systemd::stopping();
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}
