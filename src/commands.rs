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
            archived(&d.data, attached)
        }
        Command::User(cmd) => {
            let data = cmd.data().to_owned();
            archived(&data, user(cmd))
        }
        Command::Check(d) => archived(&d.data, check(&d.data)),
        Command::Audit(AuditCommand::Verify { data, from, identity }) => {
            archived(&data.data, audit_verify(&data.data, from.as_deref(), identity.as_deref()))
        }
        Command::Backup(cmd) => backup(cmd),
        Command::Device(cmd) => {
            let data = cmd.data().to_owned();
            archived(&data, device(cmd))
        }
    }
}

/// After a verb that may have opened the store itself (no server running): what it wrote (a
/// change, and the audit entries of its reads) goes to the change archive before the command
/// returns, so that a disk lost before the server starts again loses none of it. With a server
/// running, the store is the server's (the verb refused, or went through the server) and the
/// server archives. The verb's own failure is the one reported; a change made and not archived
/// is a failure too, saying so.
fn archived(data: &Path, outcome: Result<()>) -> Result<()> {
    let shipped = match open_store(data) {
        // Where the archive has nothing to join to (a restored store, a new backup folder), a
        // generation holds it all instead.
        Ok(service) => match crate::backup::ship(data, &service) {
            Err(e) if e.is::<crate::backup::NothingToJoin>() => {
                crate::backup::create(data, &service).map(drop)
            }
            other => other.map(drop),
        },
        Err(e)
            if e.downcast_ref::<mamoru_core::Error>()
                .is_some_and(|e| matches!(e, mamoru_core::Error::AlreadyOpen { .. })) =>
        {
            Ok(())
        }
        Err(e) => Err(e),
    };
    outcome?;
    shipped.context("done, but not yet in the change archive (the server archives it when it starts)")
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
