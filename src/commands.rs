//! The verbs: `run` dispatches each to its file (`setup`, `serve`, `admin`, `backups`), which
//! opens what it needs, calls the service, and prints what a script can read.

use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, Result};
use mamoru_core::{Actor, Service};

use crate::cli::{AuditCommand, Command, FormCommand, ReportCommand, TlsCommand};
use crate::clock::SystemClock;

mod admin;
mod backups;
mod forms;
mod maintenance;
mod migration;
mod report;
mod serve;
mod setup;

use admin::{check, device, user};
use backups::backup;
pub(crate) use backups::newest_authentic;
pub(crate) use maintenance::answer as maintenance_answer;
pub(crate) use migration::ExportFolder;
use serve::serve;
pub(crate) use serve::{Serving, backup_now_op, serve_all, start_backups};
use setup::{audit_verify, init};

pub fn run(command: Command) -> Result<()> {
    match command {
        Command::Init(args) => init(&args),
        Command::Serve(args) => serve(&args),
        Command::Demo(args) => crate::demo::run(args),
        Command::Console(d) => {
            let attached = crate::console::run_local(&d.data);
            archived(&d.data, true, attached)
        }
        Command::User(cmd) => {
            let (data, changes) = (cmd.data().to_owned(), cmd.changes());
            archived(&data, changes, user(cmd))
        }
        Command::Check(d) => check(&d.data),
        Command::Export(args) => {
            let data = args.data.data.clone();
            archived(&data, false, migration::export(&args))
        }
        Command::Import(args) => {
            let data = args.data.data.clone();
            archived(&data, !args.dry_run, migration::import(&args))
        }
        Command::Audit(AuditCommand::Verify { data, from, identity }) => {
            audit_verify(&data.data, from.as_deref(), identity.as_deref())
        }
        Command::Report(ReportCommand::Statistics(args)) => {
            let data = args.data.data.clone();
            archived(&data, false, report::statistics(&args))
        }
        Command::Report(ReportCommand::Service(args)) => {
            let data = args.data.data.clone();
            archived(&data, false, report::service(&args))
        }
        Command::Backup(cmd) => backup(cmd),
        Command::Device(cmd) => {
            let (data, changes) = (cmd.data().to_owned(), cmd.changes());
            archived(&data, changes, device(cmd))
        }
        Command::Tls(cmd) => tls(&cmd),
        Command::Form(FormCommand::List(d)) => forms::list(&d.data),
        Command::Form(FormCommand::Show { data, form, number }) => forms::show(&data.data, &form, number),
        Command::Form(FormCommand::Fields) => {
            forms::fields();
            Ok(())
        }
        Command::Form(FormCommand::Add { data, file }) => {
            archived(&data.data, true, forms::add(&data.data, &file))
        }
        Command::Maintenance(cmd) => {
            let changes = !matches!(cmd, crate::cli::MaintenanceCommand::List(_));
            archived(cmd.data(), changes, maintenance::maintenance(&cmd))
        }
    }
}

/// `tls show` and `tls renew`: files only, never the store (so they work while the server runs).
fn tls(cmd: &TlsCommand) -> Result<()> {
    use mamoru_core::certificate::{Expiry, expiry};
    let now = mamoru_core::time::Clock::now(&SystemClock);
    match cmd {
        TlsCommand::Show(d) => {
            let (cert, facts) = crate::tls::configured_facts(&d.data)?;
            println!("certificate: {}", cert.display());
            println!("names: {}", facts.names.join(", "));
            println!(
                "made by: {}",
                if facts.own { "this server (mamoru tls renew renews it)" } else { "another issuer" }
            );
            let until = facts.not_after.to_jst_string();
            match expiry(facts.not_after, now) {
                Expiry::Valid { days_left } => println!("valid until: {until} ({days_left} days left)"),
                Expiry::RenewSoon { days_left } => {
                    anyhow::bail!("the certificate ends {until} ({days_left} days left): renew it now")
                }
                Expiry::Expired => {
                    anyhow::bail!("the certificate ended {until}: tablets cannot connect; renew it")
                }
            }
        }
        TlsCommand::Renew { data, tls_names, new_ca } => {
            let renewed = crate::tls::renew(&data.data, tls_names, *new_ca, now.jst_date())?;
            if renewed.new_authority {
                println!(
                    "made this server's certificate authority: {} -- every tablet must trust it once (docs/operations/tls.md)",
                    data.data.join(crate::tls::CA_FILE).display()
                );
            } else {
                println!("the tablets trust the same authority: nothing changes on them");
            }
            println!(
                "renewed: {} valid until {} for {}",
                data.data.join(crate::tls::CERT_FILE).display(),
                renewed.not_after.to_jst_string(),
                renewed.names.join(", ")
            );
            println!("a running server presents it within a minute");
        }
    }
    Ok(())
}

/// After a verb that succeeded with the store opened by itself (no server running): what it
/// wrote (a change, and the audit entries of its reads) goes to the change archive before the
/// command returns, so that a disk lost before the server starts again loses none of it. With a
/// server running, the store is the server's (the verb went through it) and the server
/// archives. A change (`changes`) made and not archived is a failure that says so; for a verb
/// that only read, it is a warning (its answer stands; the server archives the audit entries
/// when it starts). A store whose archive has nothing to join to (a restored one) needs
/// `mamoru backup create` first, which the failure says.
fn archived(data: &Path, changes: bool, outcome: Result<()>) -> Result<()> {
    outcome?;
    let shipped = match open_store(data) {
        Ok(service) => crate::backup::ship(data, &service).map(drop),
        Err(e) if in_use(&e) => return Ok(()),
        Err(e) => Err(e),
    };
    match shipped {
        Err(e) if changes => {
            Err(e.context("done, but not yet in the change archive (the server archives it when it starts)"))
        }
        Err(e) => {
            tracing::warn!(error = %format!("{e:#}"), "the audit entries of this read are not yet in the change archive");
            Ok(())
        }
        Ok(()) => Ok(()),
    }
}

/// Whether opening the store failed because another process (a running server) holds it.
fn in_use(e: &anyhow::Error) -> bool {
    matches!(e.downcast_ref::<mamoru_core::Error>(), Some(mamoru_core::Error::AlreadyOpen { .. }))
}

/// Opens the service over an existing store.
pub fn open(dir: &Path) -> Result<Service> {
    let service = open_store(dir)?;
    // A data directory from before backups were authenticated gets its key now.
    crate::backup::ensure_pins(dir, &service)?;
    Ok(service)
}

fn open_store(dir: &Path) -> Result<Service> {
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
