//! `mamoru demo`: a store full of fictional children in realistic states, served on loopback.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use mamoru_core::Service;
use mamoru_core::fixture;
use mamoru_core::staff::{Login, Password};

use crate::cli::DemoArgs;
use crate::clock::SystemClock;

fn fresh_dir(requested: Option<PathBuf>) -> Result<PathBuf> {
    if let Some(dir) = requested {
        if dir.exists()
            && std::fs::read_dir(&dir)
                .with_context(|| format!("cannot read {}", dir.display()))?
                .next()
                .is_some()
        {
            bail!("{} is not empty: the demo needs a new or empty directory", dir.display());
        }
        return Ok(dir);
    }
    let mut raw = [0u8; 6];
    getrandom::fill(&mut raw).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
    let name = mamoru_core::to_hex(&raw);
    Ok(std::env::temp_dir().join(format!("mamoru-demo-{name}")))
}

pub fn run(args: DemoArgs) -> Result<()> {
    let loopback =
        mamoru_web::plain_http_allowed(&args.listen) && mamoru_web::plain_http_allowed(&args.ssh_listen);
    if !args.no_serve && !loopback {
        bail!("the demo serves only on loopback addresses, not {} / {}", args.listen, args.ssh_listen);
    }
    let console_key = match &args.console_key {
        Some(path) => {
            Some(std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?)
        }
        None => own_public_key(),
    };
    let dir = fresh_dir(args.data)?;
    let clock = Arc::new(SystemClock);
    let service = Service::create(&dir, clock)?;
    let admin_login = Login::parse("demo-admin")?;
    let password = Password::new(fixture::DEMO_PASSWORD)?;
    let admin_id = service.bootstrap(&admin_login, "デモ管理者", &password)?;
    let admin = service.local_actor(admin_id, "demo")?;
    let demo_key = dir.join("demo-backup-identity.txt");
    let comment = "DEMO ONLY. A real installation keeps its backup identity offline, never beside the data.";
    crate::backup::init_keys(&dir, &service.store_id()?, &[], Some((&demo_key, comment)))?;
    std::fs::write(dir.join(crate::config::FILE_NAME), crate::config::TEMPLATE)
        .context("writing the demo config")?;
    crate::files::close_dir(&dir)?;
    let made = service.import(&admin, |svc| {
        let staff = fixture::demo_staff(svc, &admin)?;
        fixture::populate(svc, &staff, 20_261_123, args.children, 6, 100)
    })?;
    println!(
        "demo data: {} ({} children, {} cases, {} notes; all fictional)",
        dir.display(),
        made.children,
        made.cases,
        made.notes
    );
    if let Some(key) = &console_key {
        let key = mamoru_core::staff::StaffChange::AddConsoleKey(key.clone());
        service.change_staff(&admin, "demo-admin", &key).context("the console key")?;
    }
    crate::console::ensure_host_key(&dir.join(crate::console::HOST_KEY_FILE))?;
    println!("demo backup identity (demo only): {}", dir.join("demo-backup-identity.txt").display());
    println!("logins (password {}, loopback only):", fixture::DEMO_PASSWORD);
    println!("  demo-admin\tシステム管理者");
    for (login, name, role, _) in fixture::DEMO_STAFF {
        println!("  {login}\t{}\t{name}", role.label());
    }
    if args.no_serve {
        return Ok(());
    }
    match &console_key {
        Some(_) => println!("console: ssh -p {} demo-admin@{}", args.ssh_listen.port(), args.ssh_listen.ip()),
        None => println!("console: no SSH key found; pass --console-key KEY.pub to open it"),
    }
    let service = Arc::new(service);
    let backups = crate::commands::start_backups(&service, &dir)?;
    let served = crate::commands::serve_all(crate::commands::Serving {
        service,
        data: dir,
        listen: args.listen,
        tls: None,
        ssh: Some(args.ssh_listen),
    });
    backups.finish();
    served
}

/// The demo user's own SSH public key, so that the console opens without setup.
fn own_public_key() -> Option<String> {
    let home = PathBuf::from(std::env::var_os("HOME")?);
    ["id_ed25519.pub", "id_ecdsa.pub"]
        .iter()
        .find_map(|f| std::fs::read_to_string(home.join(".ssh").join(f)).ok())
}
