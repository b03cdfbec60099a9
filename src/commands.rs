//! The verbs. Each opens what it needs, calls the service, and prints what a script can read.

use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use mamoru_core::audit::Verdict;
use mamoru_core::ids::{StaffId, UnitId};
use mamoru_core::service::NewStaff;
use mamoru_core::staff::{Login, Password, Role};
use mamoru_core::store::Store;
use mamoru_core::{Actor, Service};

use crate::cli::{AuditCommand, Command, InitArgs, KeyCommand, ServeArgs, UserCommand};
use crate::clock::SystemClock;
use crate::config;

pub fn run(command: Command) -> Result<()> {
    match command {
        Command::Init(args) => init(&args),
        Command::Serve(args) => serve(&args),
        Command::Demo(args) => crate::demo::run(args),
        Command::User(cmd) => user(cmd),
        Command::Check(d) => check(&d.data),
        Command::Audit(AuditCommand::Verify(d)) => audit_verify(&d.data),
    }
}

/// Opens the service over an existing store.
pub fn open(dir: &Path) -> Result<Service> {
    let store = Store::open(dir).map_err(|e| match e {
        mamoru_core::Error::NotFound { .. } => {
            anyhow::anyhow!(
                "no Mamoru store in {} (create one with `mamoru init --data {}`)",
                dir.display(),
                dir.display()
            )
        }
        other => anyhow::Error::new(other),
    })?;
    Ok(Service::new(store, Arc::new(SystemClock)))
}

/// The operator at the server's own command line, acting with administrator rights over every
/// unit. Audited as staff 0 from device `local-cli`.
fn local_admin(service: &Service) -> Result<Actor> {
    let units = service.units()?.into_iter().map(|u| UnitId(u.id)).collect();
    Ok(Actor {
        staff: StaffId(0),
        login: Login::parse("local-cli")?,
        display_name: "local command line".into(),
        role: Role::Admin,
        units,
        device: Some("local-cli".into()),
    })
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
    let store = Store::create(dir, mamoru_core::time::Clock::now(&*clock))?;
    let service = Service::new(store, clock);
    service.bootstrap(&login, &args.admin_name, &password)?;
    let config_path = dir.join(config::FILE_NAME);
    if !config_path.exists() {
        std::fs::write(&config_path, config::TEMPLATE)
            .with_context(|| format!("writing {}", config_path.display()))?;
    }
    println!("created store in {}", dir.display());
    println!("administrator: {login}");
    println!("config: {}", config_path.display());
    Ok(())
}

fn serve(args: &ServeArgs) -> Result<()> {
    let cfg = config::load(&args.data.data)?;
    let listen = args.listen.unwrap_or(cfg.web.listen);
    if args.plain_http && !mamoru_web::plain_http_allowed(&listen) {
        bail!("--plain-http is only allowed on a loopback address, not {listen}");
    }
    if !args.plain_http {
        bail!(
            "HTTPS is not built yet (it comes with the tablet UI); use --plain-http with a loopback --listen address"
        );
    }
    let service = Arc::new(open(&args.data.data)?);
    serve_web(service, listen)
}

/// Runs the web server until Ctrl-C or SIGTERM. Prints `web: URL` once listening.
pub fn serve_web(service: Arc<Service>, listen: std::net::SocketAddr) -> Result<()> {
    let runtime =
        tokio::runtime::Builder::new_multi_thread().enable_all().build().context("starting the runtime")?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .with_context(|| format!("cannot listen on {listen}"))?;
        let addr = listener.local_addr()?;
        println!("web: http://{addr}");
        tracing::info!(%addr, "serving");
        let health = mamoru_web::Health { version: env!("CARGO_PKG_VERSION") };
        mamoru_web::serve_plain(listener, service, health, shutdown_signal()).await;
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
        UserCommand::Verify { data, login, password_file } => {
            let service = open(&data.data)?;
            let password = Password::attempt(read_password_file(&password_file)?);
            service
                .authenticate(&login, &password, Some("local-cli".into()))
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
