//! `mamoru demo`: a store full of fictional children in realistic states, served on loopback.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use mamoru_core::fixture;
use mamoru_core::staff::{Login, Password};
use mamoru_core::store::Store;
use mamoru_core::{Actor, Service};

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
    if !args.no_serve && !mamoru_web::plain_http_allowed(&args.listen) {
        bail!("the demo serves only on a loopback address, not {}", args.listen);
    }
    let dir = fresh_dir(args.data)?;
    let clock = Arc::new(SystemClock);
    let store = Store::create(&dir, mamoru_core::time::Clock::now(&*clock))?;
    let service = Service::new(store, clock);
    let admin_login = Login::parse("demo-admin")?;
    let password = Password::new(fixture::DEMO_PASSWORD)?;
    let admin_id = service.bootstrap(&admin_login, "デモ管理者", &password)?;
    let admin = Actor {
        staff: admin_id,
        login: admin_login,
        display_name: "デモ管理者".into(),
        role: mamoru_core::staff::Role::Admin,
        units: service.units()?.into_iter().map(|u| mamoru_core::ids::UnitId(u.id)).collect(),
        device: Some("demo".into()),
    };
    let demo_key = mamoru_backup::generate_identity();
    demo_key.write_new(
        &dir.join("demo-backup-identity.txt"),
        "DEMO ONLY. A real installation keeps its backup identity offline, never beside the data.",
    )?;
    crate::backup::init_keys(&dir, Some(&demo_key))?;
    std::fs::write(dir.join(crate::config::FILE_NAME), crate::config::TEMPLATE)
        .context("writing the demo config")?;
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
    println!("demo backup identity (demo only): {}", dir.join("demo-backup-identity.txt").display());
    println!("logins (password {}, loopback only):", fixture::DEMO_PASSWORD);
    println!("  demo-admin\tシステム管理者");
    for (login, name, role, _) in fixture::DEMO_STAFF {
        println!("  {login}\t{}\t{name}", role.label());
    }
    if args.no_serve {
        return Ok(());
    }
    let service = Arc::new(service);
    let backups = crate::commands::start_backups(&service, &dir)?;
    let op = crate::commands::backup_now_op(&service, &dir);
    let served = crate::commands::serve_web(service, args.listen, None, Some(op));
    backups.finish();
    served
}
