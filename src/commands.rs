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
        Command::Console(d) => crate::console::run_local(&d.data),
        Command::User(cmd) => user(cmd),
        Command::Check(d) => check(&d.data),
        Command::Audit(AuditCommand::Verify { data, from, identity }) => {
            audit_verify(&data.data, from.as_deref(), identity.as_deref())
        }
        Command::Backup(cmd) => backup(cmd),
        Command::Device(cmd) => device(cmd),
    }
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
