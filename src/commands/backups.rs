//! `backup`: create, list, verify and restore generations, and make the backup key.

use std::path::Path;

use anyhow::{Context, Result, bail};
use mamoru_backup::{Destination, Identity};
use mamoru_core::time::Timestamp;

use super::open;
use crate::cli::BackupCommand;
use crate::config;

pub(super) fn backup(cmd: BackupCommand) -> Result<()> {
    match cmd {
        BackupCommand::Create(d) => create(&d.data),
        BackupCommand::List(w) => {
            let dest = crate::backup::resolve(w.from.as_ref(), w.data.as_ref())?;
            let all = dest.list()?;
            if all.is_empty() {
                println!("no generations in {}", dest.dir().display());
            }
            for m in all {
                println!("{}", crate::backup::describe(&m));
            }
            Ok(())
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
            Ok(())
        }
        BackupCommand::Restore { from, to, generation, identity, until } => {
            let dest = crate::backup::resolve(from.from.as_ref(), from.data.as_ref())?;
            let (identity, _) = identity_and_scratch(identity.as_ref(), from.data.as_ref(), &dest)?;
            let until = until.as_deref().map(Timestamp::parse).transpose().context("--until")?;
            let generation = generation_for(&dest, generation, until)?;
            restore(&dest, generation, &identity, &to, until)
        }
        BackupCommand::Keygen { data, out } => keygen(&data.data, &out),
    }
}

fn create(data: &Path) -> Result<()> {
    let service = open(data).map_err(|e| {
        if e.to_string().contains("in use by another Mamoru process") {
            anyhow::anyhow!("the server is running and holds the store: it makes the daily backups itself, and an administrator can ask it for one now with POST /api/v1/backups")
        } else {
            e
        }
    })?;
    let m = crate::backup::create(data, &service)?;
    println!("{}", crate::backup::describe(&m));
    Ok(())
}

/// The generation to restore: the one named, or the newest; with --until, one taken before that
/// time (a later one already holds what the restore must leave out).
fn generation_for(dest: &Destination, generation: Option<u64>, until: Option<Timestamp>) -> Result<u64> {
    Ok(match (generation, until) {
        (Some(g), Some(u)) => {
            if dest.manifest(g)?.created_at > u.0 {
                bail!(
                    "generation {g} was taken after --until; choose an earlier one or leave --generation out"
                );
            }
            g
        }
        (Some(g), None) => g,
        (None, Some(u)) => {
            dest.list()?.iter().rev().find(|m| m.created_at <= u.0).map(|m| m.generation).ok_or_else(
                || anyhow::anyhow!("no backup generation was taken before {}", u.to_jst_string()),
            )?
        }
        (None, None) => dest.latest()?.generation,
    })
}

fn restore(
    dest: &Destination,
    generation: u64,
    identity: &Identity,
    to: &Path,
    until: Option<Timestamp>,
) -> Result<()> {
    let (m, restored) = crate::backup::restore(dest, generation, identity, to, until)?;
    let replayed = restored.archive;
    println!("restored generation {} into {}", m.generation, to.display());
    println!("{}", crate::backup::describe(&m));
    let at = replayed.last_at.map_or_else(|| "-".to_owned(), Timestamp::to_jst_string);
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
    Ok(())
}

fn keygen(data: &Path, out: &Path) -> Result<()> {
    if !data.join(mamoru_core::store::FILE_NAME).exists() {
        bail!("no Mamoru store in {}", data.display());
    }
    let id = mamoru_backup::generate_identity();
    id.write_new(out, "Mamoru backup identity: keep offline (USB stick in a safe). Restores need it.")?;
    crate::backup::add_recipient(data, &id.recipient())?;
    println!("backup identity written to {}: move it off this server and keep it offline", out.display());
    println!("recipient {} added; new backups are encrypted to it", id.recipient());
    Ok(())
}

/// The identity to open backups with: the given file, or the server's verification key. And a
/// scratch directory for verification.
pub(super) fn identity_and_scratch(
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
