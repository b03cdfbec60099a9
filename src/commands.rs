//! The verbs: `run` dispatches each to its file (`setup`, `serve`, `admin`, `backups`), which
//! opens what it needs, calls the service, and prints what a script can read.

use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, Result};
use mamoru_core::{Actor, Service};

use crate::cli::{AuditCommand, Command};
use crate::clock::SystemClock;

mod admin;
mod backups;
mod serve;
mod setup;

use admin::{check, device, user};
use backups::backup;
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
        Command::Audit(AuditCommand::Verify { data, from, identity }) => {
            audit_verify(&data.data, from.as_deref(), identity.as_deref())
        }
        Command::Backup(cmd) => backup(cmd),
        Command::Device(cmd) => {
            let (data, changes) = (cmd.data().to_owned(), cmd.changes());
            archived(&data, changes, device(cmd))
        }
    }
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
