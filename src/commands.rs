//! The verbs. Each opens what it needs, calls the service, and prints what a script can read.

use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use mamoru_core::audit::Verdict;
use mamoru_core::ids::UnitId;
use mamoru_core::service::NewStaff;
use mamoru_core::staff::{Login, Password, Role};
use mamoru_core::{Actor, Service};

use crate::cli::{
    AuditCommand, BackupCommand, Command, DeviceCommand, InitArgs, KeyCommand, ServeArgs, UserCommand,
};
use crate::clock::SystemClock;
use crate::config;

pub fn run(command: Command) -> Result<()> {
    match command {
        Command::Init(args) => init(&args),
        Command::Serve(args) => serve(&args),
        Command::Demo(args) => crate::demo::run(args),
        Command::Console(d) => crate::console::run_local(&d.data),
        Command::User(cmd) => user(cmd),
        Command::Check(d) => check(&d.data),
        Command::Audit(AuditCommand::Verify(d)) => audit_verify(&d.data),
        Command::Backup(cmd) => backup(cmd),
        Command::Device(cmd) => device(cmd),
    }
}

/// Opens the service over an existing store.
pub fn open(dir: &Path) -> Result<Service> {
    Service::open(dir, Arc::new(SystemClock)).map_err(|e| match e {
        mamoru_core::Error::NotFound { .. } => {
            anyhow::anyhow!(
                "no Mamoru store in {} (create one with `mamoru init --data {}`)",
                dir.display(),
                dir.display()
            )
        }
        other => anyhow::Error::new(other),
    })
}

/// The operator at the server's own command line (core's `Service::local_admin`).
pub fn local_admin(service: &Service) -> Result<Actor> {
    Ok(service.local_admin("local-cli")?)
}

fn read_password_file(path: &Path) -> Result<String> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read password file {}", path.display()))?;
    Ok(text.trim_end_matches(['\r', '\n']).to_owned())
}

fn init(args: &InitArgs) -> Result<()> {
    let password = match (&args.admin_password_file, std::env::var("MAMORU_ADMIN_PASSWORD")) {
        (Some(f), _) => read_password_file(f)?,
        (None, Ok(p)) => p,
        (None, Err(_)) => {
            bail!("no administrator password: pass --admin-password-file FILE or set MAMORU_ADMIN_PASSWORD")
        }
    };
    let password = Password::new(password).context("administrator password")?;
    let login = Login::parse(&args.admin_login).context("--admin-login")?;
    let dir = &args.data.data;
    let clock = Arc::new(SystemClock);
    let service = Service::create(dir, clock)?;
    service.bootstrap(&login, &args.admin_name, &password)?;
    let config_path = dir.join(config::FILE_NAME);
    if !config_path.exists() {
        std::fs::write(&config_path, config::TEMPLATE)
            .with_context(|| format!("writing {}", config_path.display()))?;
    }
    let offline = args.backup_identity_out.as_ref().map(|_| mamoru_backup::generate_identity());
    if let (Some(id), Some(out)) = (&offline, &args.backup_identity_out) {
        id.write_new(out, "Mamoru backup identity: keep offline (USB stick in a safe). Restores need it.")?;
    }
    crate::backup::init_keys(dir, offline.as_ref())?;
    let host_key = crate::console::ensure_host_key(&dir.join(crate::console::HOST_KEY_FILE))?;
    let names = crate::tls::default_names(&args.tls_names);
    crate::tls::make_self_signed(dir, &names, mamoru_core::time::Clock::now(&SystemClock).jst_date())?;
    println!("created store in {}", dir.display());
    println!("administrator: {login}");
    println!("config: {}", config_path.display());
    if let Some(fingerprint) = host_key {
        println!("ssh host key: {fingerprint}");
    }
    if let Some(out) = &args.backup_identity_out {
        println!(
            "backup identity: {} -- move it off this server and keep it offline; restores need it",
            out.display()
        );
    }
    Ok(())
}

fn serve(args: &ServeArgs) -> Result<()> {
    let cfg = config::load(&args.data.data)?;
    let listen = args.listen.unwrap_or(cfg.web.listen);
    if args.plain_http && !mamoru_web::plain_http_allowed(&listen) {
        bail!("--plain-http is only allowed on a loopback address, not {listen}");
    }
    let tls = if args.plain_http {
        None
    } else {
        let path = |p: &std::path::Path| if p.is_absolute() { p.to_owned() } else { args.data.data.join(p) };
        let (cert, key) = (path(&cfg.web.cert), path(&cfg.web.key));
        let cert_pem = std::fs::read(&cert)
            .with_context(|| format!("cannot read the TLS certificate {}", cert.display()))?;
        let key_pem =
            std::fs::read(&key).with_context(|| format!("cannot read the TLS key {}", key.display()))?;
        Some(mamoru_web::Tls::from_pem(&cert_pem, &key_pem).map_err(|e| anyhow::anyhow!("{e}"))?)
    };
    let ssh = args.ssh_listen.unwrap_or(cfg.ssh.listen);
    let service = Arc::new(open(&args.data.data)?);
    service.set_device_required(cfg.web.require_device);
    service.set_totp_required(cfg.web.require_totp);
    let backups = start_backups(&service, &args.data.data)?;
    let served = serve_all(Serving { service, data: args.data.data.clone(), listen, tls, ssh: Some(ssh) });
    backups.finish();
    served
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
    let every = std::time::Duration::from_secs(cfg.backup.archive_every_seconds.max(1));
    let dest = crate::backup::destination(data)?;
    if let Some(m) = dest.list()?.into_iter().rev().find(|m| m.verified_at.is_some()) {
        service.record_backup(Some(mamoru_core::time::Timestamp(m.created_at)));
    }
    let (stop_daily, daily_stopped) = std::sync::mpsc::channel::<()>();
    let (svc, dir) = (service.clone(), data.to_owned());
    std::thread::Builder::new()
        .name("backup".into())
        .spawn(move || crate::scheduler::run(&svc, &dir, daily, &daily_stopped))
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
    Arc::new(move || match crate::backup::create(&dir, &svc) {
        Ok(m) => {
            svc.record_backup(Some(mamoru_core::time::Timestamp(m.created_at)));
            Ok(crate::backup::describe(&m))
        }
        Err(e) => {
            svc.record_backup(None);
            Err(format!("{e:#}"))
        }
    })
}

/// What `serve` and the demo run.
pub struct Serving {
    pub service: Arc<Service>,
    pub data: std::path::PathBuf,
    pub listen: std::net::SocketAddr,
    /// `None`: plain HTTP (loopback only; checked by the caller).
    pub tls: Option<mamoru_web::Tls>,
    /// The SSH console's address, if it runs.
    pub ssh: Option<std::net::SocketAddr>,
}

/// Runs the web server and the SSH console until Ctrl-C or SIGTERM. Prints `web: URL` and
/// `ssh: HOST:PORT` once listening.
pub fn serve_all(s: Serving) -> Result<()> {
    let Serving { service, data, listen, tls, ssh } = s;
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
        let health = mamoru_web::Health {
            version: env!("CARGO_PKG_VERSION"),
            https: tls.is_some(),
            backup_now: Some(backup_now),
        };
        // The local console is a convenience: a socket path too long for the OS only costs it.
        let local = crate::console::serve_local(&data, &service, host.clone())
            .map_err(|e| tracing::warn!(error = %format!("{e:#}"), "no local console"))
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
        if tls.is_some() {
            println!("web: https://{addr}");
        } else {
            println!("web: http://{addr}");
        }
        if let Some((bound, _)) = &console {
            println!("ssh: {bound}");
        }
        if let Some(config) = tls {
            tracing::info!(%addr, "serving HTTPS");
            mamoru_web::serve_tls(listener, service, health, config, shutdown_signal()).await;
        } else {
            tracing::info!(%addr, "serving plain HTTP on loopback");
            mamoru_web::serve_plain(listener, service, health, shutdown_signal()).await;
        }
        if let Some((_, task)) = console {
            task.abort();
        }
        if let Some(local) = local {
            local.abort();
            let _ = std::fs::remove_file(data.join(crate::console::SOCKET_FILE));
        }
        tracing::info!("stopped");
        Ok(())
    })
}

async fn shutdown_signal() {
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
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}

fn user(cmd: UserCommand) -> Result<()> {
    match cmd {
        UserCommand::Add { data, login, role, units, name, password_file } => {
            let service = open(&data.data)?;
            let admin = local_admin(&service)?;
            let password = Password::new(read_password_file(&password_file)?).context("password")?;
            let new = NewStaff {
                login: Login::parse(&login)?,
                display_name: name,
                role: Role::parse(&role)?,
                units: units.into_iter().map(UnitId).collect(),
            };
            let id = service.add_staff(&admin, new, &password)?;
            println!("added {login} (staff {id})");
        }
        UserCommand::List(data) => {
            let service = open(&data.data)?;
            let admin = local_admin(&service)?;
            for s in service.list_staff(&admin)? {
                let units: Vec<String> = s.body.units.iter().map(ToString::to_string).collect();
                let state = if s.body.disabled { "disabled" } else { "active" };
                println!(
                    "{}\t{}\t{}\t{}\t{}",
                    s.body.login,
                    s.body.role.as_str(),
                    units.join(","),
                    state,
                    s.body.display_name
                );
            }
        }
        UserCommand::Units(data) => {
            let service = open(&data.data)?;
            for u in service.units()? {
                println!("{}\t{}\t{}", u.id, u.body.case_prefix, u.body.name);
            }
        }
        UserCommand::Disable { data, login } => set_disabled(&data.data, &login, true)?,
        UserCommand::Enable { data, login } => set_disabled(&data.data, &login, false)?,
        UserCommand::Passwd { data, login, password_file } => {
            let service = open(&data.data)?;
            let admin = local_admin(&service)?;
            let password = Password::new(read_password_file(&password_file)?).context("password")?;
            service.set_password(&admin, &login, &password).map_err(unknown_user(&login))?;
            println!("password of {login} changed");
        }
        UserCommand::ResetTotp { data, login } => {
            let service = open(&data.data)?;
            service.reset_totp(&local_admin(&service)?, &login).map_err(unknown_user(&login))?;
            println!("second factor of {login} removed; they enrol again at their next sign-in");
        }
        UserCommand::Verify { data, login, password_file } => {
            let service = open(&data.data)?;
            let password = Password::attempt(read_password_file(&password_file)?);
            service
                .authenticate(&login, &password, None, Some("local-cli".into()))
                .map_err(|_| anyhow::anyhow!("wrong login or password for {login}"))?;
            println!("password of {login} is correct");
        }
        UserCommand::Key(KeyCommand::Add { data, login, file }) => {
            let service = open(&data.data)?;
            let admin = local_admin(&service)?;
            let key = std::fs::read_to_string(&file)
                .with_context(|| format!("cannot read key file {}", file.display()))?;
            service.add_console_key(&admin, &login, &key).map_err(unknown_user(&login))?;
            println!("console key added for {login}");
        }
    }
    Ok(())
}

fn unknown_user(login: &str) -> impl FnOnce(mamoru_core::Error) -> anyhow::Error + '_ {
    move |e| match e {
        mamoru_core::Error::NotFound { what: "staff", .. } => anyhow::anyhow!("unknown user {login}"),
        other => other.into(),
    }
}

fn set_disabled(dir: &Path, login: &str, disabled: bool) -> Result<()> {
    let service = open(dir)?;
    let admin = local_admin(&service)?;
    service.set_staff_disabled(&admin, login, disabled).map_err(unknown_user(login))?;
    println!("{login} {}", if disabled { "disabled" } else { "enabled" });
    Ok(())
}

fn check(dir: &Path) -> Result<()> {
    let service = open(dir)?;
    let report = service.check()?;
    for (kind, count) in &report.counts {
        println!("{kind} {count}");
    }
    for p in &report.problems {
        eprintln!("problem: {p}");
    }
    if !report.problems.is_empty() {
        bail!("{} integrity problem(s) found", report.problems.len());
    }
    Ok(())
}

fn device(cmd: DeviceCommand) -> Result<()> {
    match cmd {
        DeviceCommand::Add { data, name } => {
            let service = open(&data.data)?;
            let (id, code, expires) = service.issue_device_code(&local_admin(&service)?, &name)?;
            println!("device {id} added; waiting for the tablet to enter its registration code");
            println!("code (shown once, valid until {}): {code}", expires.to_jst_string());
            println!("on the tablet, open https://SERVER/register and enter the code");
        }
        DeviceCommand::List(data) => {
            let service = open(&data.data)?;
            for d in service.devices(&local_admin(&service)?)? {
                let state = match (d.body.is_active(), d.body.is_pending()) {
                    (false, _) => "revoked",
                    (true, true) => "pending",
                    (true, false) => "active",
                };
                println!("{}\t{state}\t{}", d.id, d.body.name);
            }
        }
        DeviceCommand::Revoke { data, id } => {
            let service = open(&data.data)?;
            service.revoke_device(&local_admin(&service)?, mamoru_core::ids::DeviceId(id)).map_err(|e| {
                match e {
                    mamoru_core::Error::NotFound { .. } => anyhow::anyhow!("unknown device {id}"),
                    other => other.into(),
                }
            })?;
            println!("device {id} revoked");
        }
    }
    Ok(())
}

fn backup(cmd: BackupCommand) -> Result<()> {
    match cmd {
        BackupCommand::Create(d) => {
            let service = open(&d.data).map_err(|e| {
                if e.to_string().contains("in use by another Mamoru process") {
                    anyhow::anyhow!("the server is running and holds the store: it makes the daily backups itself, and an administrator can ask it for one now with POST /api/v1/backups")
                } else {
                    e
                }
            })?;
            let m = crate::backup::create(&d.data, &service)?;
            println!("{}", crate::backup::describe(&m));
        }
        BackupCommand::List(w) => {
            let dest = crate::backup::resolve(w.from.as_ref(), w.data.as_ref())?;
            let all = dest.list()?;
            if all.is_empty() {
                println!("no generations in {}", dest.dir().display());
            }
            for m in all {
                println!("{}", crate::backup::describe(&m));
            }
        }
        BackupCommand::Verify { from, generation, identity } => {
            let dest = crate::backup::resolve(from.from.as_ref(), from.data.as_ref())?;
            let (identity, scratch) = identity_and_scratch(identity.as_ref(), from.data.as_ref(), &dest)?;
            let generation = match generation {
                Some(g) => g,
                None => dest.latest()?.generation,
            };
            let m = crate::backup::verify(&dest, generation, &identity, &scratch)?;
            println!("generation {} verified: {}", m.generation, crate::backup::describe(&m));
        }
        BackupCommand::Restore { from, to, generation, identity, until } => {
            let dest = crate::backup::resolve(from.from.as_ref(), from.data.as_ref())?;
            let (identity, _) = identity_and_scratch(identity.as_ref(), from.data.as_ref(), &dest)?;
            let until =
                until.as_deref().map(mamoru_core::time::Timestamp::parse).transpose().context("--until")?;
            // With --until, start from a generation taken before that time: a later one already
            // holds what the restore must leave out.
            let generations = dest.list()?;
            let generation = match (generation, until) {
                (Some(g), Some(u)) => {
                    let m = dest.manifest(g)?;
                    if m.created_at > u.0 {
                        bail!(
                            "generation {g} was taken after --until; choose an earlier one or leave --generation out"
                        );
                    }
                    g
                }
                (Some(g), None) => g,
                (None, Some(u)) => {
                    generations.iter().rev().find(|m| m.created_at <= u.0).map(|m| m.generation).ok_or_else(
                        || anyhow::anyhow!("no backup generation was taken before {}", u.to_jst_string()),
                    )?
                }
                (None, None) => dest.latest()?.generation,
            };
            let (m, restored) = crate::backup::restore(&dest, generation, &identity, &to, until)?;
            let replayed = restored.archive;
            println!("restored generation {} into {}", m.generation, to.display());
            println!("{}", crate::backup::describe(&m));
            let at =
                replayed.last_at.map_or_else(|| "-".to_owned(), mamoru_core::time::Timestamp::to_jst_string);
            println!(
                "archive: {} later transactions applied, up to change {} ({at})",
                replayed.applied, replayed.last_seq
            );
            println!(
                "next: mamoru check --data {0}; mamoru audit verify --data {0}; set backup.dir; mamoru backup create --data {0} (the new archive starts from it); then serve it",
                to.display()
            );
            for line in &restored.revoked {
                println!("re-applied from after --until: {line}");
            }
            if let Some(gap) = replayed.gap {
                bail!("restore stopped early: {gap}; what came after it is not in {}", to.display());
            }
        }
        BackupCommand::Keygen { data, out } => {
            if !data.data.join(mamoru_core::store::FILE_NAME).exists() {
                bail!("no Mamoru store in {}", data.data.display());
            }
            let id = mamoru_backup::generate_identity();
            id.write_new(
                &out,
                "Mamoru backup identity: keep offline (USB stick in a safe). Restores need it.",
            )?;
            crate::backup::add_recipient(&data.data, &id.recipient())?;
            println!(
                "backup identity written to {}: move it off this server and keep it offline",
                out.display()
            );
            println!("recipient {} added; new backups are encrypted to it", id.recipient());
        }
    }
    Ok(())
}

/// The identity to open backups with: the given file, or the server's verification key. And a
/// scratch directory for verification.
fn identity_and_scratch(
    identity: Option<&std::path::PathBuf>,
    data: Option<&std::path::PathBuf>,
    dest: &mamoru_backup::Destination,
) -> Result<(mamoru_backup::Identity, std::path::PathBuf)> {
    let scratch = data.map_or_else(|| dest.dir().join(".verify"), |d| d.join(".verify"));
    match (identity, data) {
        (Some(f), _) => Ok((mamoru_backup::Identity::from_file(f)?, scratch)),
        (None, Some(d)) => {
            let key = d.join(config::VERIFY_KEY_FILE);
            let id = mamoru_backup::Identity::from_file(&key)
                .context("no --identity given, and the data directory has no verification key")?;
            Ok((id, scratch))
        }
        (None, None) => bail!("say which key opens the backups: --identity FILE"),
    }
}

fn audit_verify(dir: &Path) -> Result<()> {
    let service = open(dir)?;
    match service.verify_audit()? {
        Verdict::Intact { entries } => {
            println!("audit log intact: {entries} entries");
            Ok(())
        }
        Verdict::Broken { seq, reason } => bail!("audit log broken at entry {seq}: {reason}"),
    }
}
