//! `init` and `audit verify`: making a data directory, and checking its audit chain.

use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use mamoru_core::Service;
use mamoru_core::audit::{AnchorCheck, Verdict};
use mamoru_core::staff::{Login, Password};

use super::{open, read_password_file};
use crate::cli::InitArgs;
use crate::clock::SystemClock;
use crate::config;

pub(super) fn init(args: &InitArgs) -> Result<()> {
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
    // The identity goes outside the data directory: checked writable before anything is made,
    // since a store made without its keys and certificate would block the next try.
    if let Some(out) = &args.backup_identity_out {
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(out)
            .and_then(|_| std::fs::remove_file(out))
            .with_context(|| format!("--backup-identity-out {}", out.display()))?;
    }
    let clock = Arc::new(SystemClock);
    let service = Service::create(dir, clock)?;
    service.bootstrap(&login, &args.admin_name, &password)?;
    let config_path = dir.join(config::FILE_NAME);
    if !config_path.exists() {
        std::fs::write(&config_path, config::TEMPLATE)
            .with_context(|| format!("writing {}", config_path.display()))?;
    }
    let offline = args.backup_identity_out.as_deref().map(|out| (out, crate::backup::OFFLINE_COMMENT));
    crate::backup::init_keys(dir, &service.store_id()?, &[], offline)?;
    let host_key = crate::console::ensure_host_key(&dir.join(crate::console::HOST_KEY_FILE))?;
    let names = crate::tls::default_names(&args.tls_names);
    crate::tls::make_new(dir, &names, mamoru_core::time::Clock::now(&SystemClock).jst_date())?;
    crate::files::close_dir(dir)?;
    println!("created store in {}", dir.display());
    println!("administrator: {login}");
    println!("config: {}", config_path.display());
    if let Some(fingerprint) = host_key {
        println!("ssh host key: {fingerprint}");
    }
    println!(
        "tls authority: {} -- every tablet trusts it once (docs/operations/tls.md)",
        dir.join(crate::tls::CA_FILE).display()
    );
    if let Some(out) = &args.backup_identity_out {
        println!(
            "backup identity: {} -- move it off this server and keep it offline; restores need it",
            out.display()
        );
    }
    Ok(())
}

pub(super) fn audit_verify(dir: &Path, from: Option<&Path>, identity: Option<&Path>) -> Result<()> {
    let service = open(dir)?;
    match service.verify_audit()? {
        Verdict::Intact { entries } => println!("audit log intact: {entries} entries"),
        Verdict::Broken { seq, reason } => bail!("audit log broken at entry {seq}: {reason}"),
    }
    let (anchors, dest) = crate::backup::audit_anchors(dir, &service.store_id()?, from, identity)?;
    if anchors.is_empty() {
        println!("no backups in {} to compare the audit log with", dest.display());
        return Ok(());
    }
    match service.check_audit_anchors(&anchors)? {
        AnchorCheck::Agrees { anchors, newest } => {
            println!(
                "audit log agrees with the {anchors} backups in {} (up to entry {newest})",
                dest.display()
            );
            Ok(())
        }
        AnchorCheck::Differs { seq, source, reason } => {
            bail!("audit log broken at entry {seq}: {reason}; {source} recorded it otherwise")
        }
    }
}
