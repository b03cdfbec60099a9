//! `backup`: create, list, verify and restore generations, and make the backup key.

use std::path::Path;

use anyhow::{Context, Result, bail};
use mamoru_backup::{Destination, Keyring};
use mamoru_core::time::Timestamp;

use super::open;
use crate::cli::BackupCommand;
use crate::config;

pub(super) fn backup(cmd: BackupCommand) -> Result<()> {
    match cmd {
        BackupCommand::Create(d) => create(&d.data),
        BackupCommand::List { from: w, identity } => {
            let dest = crate::backup::resolve(w.from.as_ref(), w.data.as_ref())?;
            // With a key (the identity given, or the data directory's), what the server really
            // wrote is told from the rest; without one, nothing is vouched for.
            let keys = match (&identity, &w.data) {
                (Some(f), _) => Some(Keyring::from_file(f)?),
                (None, Some(d)) => Some(crate::backup::keyring(d)?),
                (None, None) => None,
            };
            let (all, strays) = dest.scan()?;
            if all.is_empty() {
                println!("no generations in {}", dest.dir().display());
            }
            if keys.is_none() && !all.is_empty() {
                eprintln!(
                    "mamoru: not authenticated (give --identity FILE or --data DIR): anyone who can write {} could have made these",
                    dest.dir().display()
                );
            }
            for m in all {
                let forged =
                    keys.as_ref().and_then(|k| m.authenticate(k, &dest.manifest_path(m.generation)).err());
                match forged {
                    None => println!("{}", crate::backup::describe(&m)),
                    Some(e) => println!("{}\tNOT AUTHENTIC: {e}", m.generation),
                }
            }
            for stray in strays {
                eprintln!("mamoru: left out: {stray}");
            }
            Ok(())
        }
        BackupCommand::Verify { from, generation, identity } => {
            let dest = crate::backup::resolve(from.from.as_ref(), from.data.as_ref())?;
            let (keys, scratch) = identity_and_scratch(identity.as_ref(), from.data.as_ref())?;
            let generation = match generation {
                Some(g) => g,
                None => newest_authentic(&dest, &keys, None)?,
            };
            let v = crate::backup::verify(&dest, generation, &keys, &scratch)?;
            let m = &v.manifest;
            println!("generation {} verified: {}", m.generation, crate::backup::describe(m));
            let at = v.archive.last_at.map_or_else(|| "-".to_owned(), Timestamp::to_jst_string);
            println!(
                "archive verified: {} later transactions, up to change {} ({at})",
                v.archive.applied, v.archive.last_seq
            );
            Ok(())
        }
        BackupCommand::Restore { from, to, generation, identity, until } => {
            let dest = crate::backup::resolve(from.from.as_ref(), from.data.as_ref())?;
            let (keys, _) = identity_and_scratch(identity.as_ref(), from.data.as_ref())?;
            let until = until.as_deref().map(Timestamp::parse).transpose().context("--until")?;
            let generation = generation_for(&dest, &keys, generation, until)?;
            restore(&dest, generation, &keys, &to, until)
        }
        BackupCommand::Keygen { data, out } => keygen(&data.data, &out),
        BackupCommand::Drill(d) => drill(&d.data),
    }
}

fn drill(data: &Path) -> Result<()> {
    let service = open(data).map_err(|e| {
        if super::in_use(&e) {
            anyhow::anyhow!(
                "the server is running and holds the store: it runs the restore drill itself (backup.drill_every_days), and an administrator can run one now from the console (バックアップ, r)"
            )
        } else {
            e
        }
    })?;
    let d = crate::drill::run_and_record(data, &service, "cli")?;
    if !d.succeeded() {
        bail!("{}", d.summary());
    }
    println!("{}", d.summary());
    Ok(())
}

fn create(data: &Path) -> Result<()> {
    let service = open(data).map_err(|e| {
        if super::in_use(&e) {
            anyhow::anyhow!("the server is running and holds the store: it makes the daily backups itself, and an administrator can ask it for one now with POST /api/v1/backups")
        } else {
            e
        }
    })?;
    let made = crate::backup::create(data, &service);
    // Kept in the audit log for the monthly report, as the server's own backups are.
    let done = match &made {
        Ok(m) => Ok((m.generation, mamoru_core::time::Timestamp(m.created_at))),
        Err(e) => Err(format!("{e:#}")),
    };
    let audited = service.backup_done(done);
    let m = made?;
    audited?;
    println!("{}", crate::backup::describe(&m));
    Ok(())
}

/// The generation to restore: the one named, or the newest authentic one; with --until, one
/// taken before that time (a later one already holds what the restore must leave out). Only an
/// authentic manifest's time counts: an edited one must not steer the choice.
fn generation_for(
    dest: &Destination,
    keys: &Keyring,
    generation: Option<u64>,
    until: Option<Timestamp>,
) -> Result<u64> {
    match (generation, until) {
        (Some(g), Some(u)) => {
            if dest.authentic(g, keys)?.created_at > u.0 {
                bail!(
                    "generation {g} was taken after --until; choose an earlier one or leave --generation out"
                );
            }
            Ok(g)
        }
        (Some(g), None) => Ok(g),
        (None, until) => newest_authentic(dest, keys, until),
    }
}

/// The newest authentic generation (taken at or before `until`, if given). What is not authentic
/// is skipped with a word; when nothing is authentic and something came from another store,
/// the key brought is the likelier problem, and that is the error (exit 3).
pub(crate) fn newest_authentic(dest: &Destination, keys: &Keyring, until: Option<Timestamp>) -> Result<u64> {
    let mut other_store = None;
    let mut found = None;
    let (all, mut skipped) = dest.scan()?;
    for stray in &mut skipped {
        stray.insert_str(0, "left out: ");
    }
    for m in all.into_iter().rev() {
        match m.authenticate(keys, &dest.manifest_path(m.generation)) {
            Ok(()) if until.is_none_or(|u| m.created_at <= u.0) => {
                found = Some(m.generation);
                break;
            }
            Ok(()) => {}
            Err(e) => {
                skipped.push(format!("skipped generation {}: {e}", m.generation));
                if matches!(e, mamoru_backup::Error::AnotherStore { .. }) {
                    other_store.get_or_insert(e);
                }
            }
        }
    }
    match (found, other_store, until) {
        (Some(g), _, _) => {
            for line in skipped {
                eprintln!("mamoru: {line}");
            }
            Ok(g)
        }
        (None, Some(e), _) => Err(e.into()),
        (None, None, Some(u)) => {
            bail!("no authentic backup generation was taken before {}", u.to_jst_string())
        }
        (None, None, None) => bail!("no authentic backup generation in {}", dest.dir().display()),
    }
}

fn restore(
    dest: &Destination,
    generation: u64,
    keys: &Keyring,
    to: &Path,
    until: Option<Timestamp>,
) -> Result<()> {
    let (m, restored) = crate::backup::restore(dest, generation, keys, to, until)?;
    let replayed = restored.archive;
    println!("restored generation {} into {}", m.generation, to.display());
    println!("{}", crate::backup::describe(&m));
    let at = replayed.last_at.map_or_else(|| "-".to_owned(), Timestamp::to_jst_string);
    println!(
        "archive: {} later transactions applied, up to change {} ({at})",
        replayed.applied, replayed.last_seq
    );
    println!(
        "next: mamoru check --data {0}; mamoru audit verify --data {0}; set backup.dir; mamoru backup create --data {0} (the new archive starts from it); mamoru backup keygen --data {0} --out FILE (the restored store authenticates its backups with a new key: identity files made for the old store do not open them); then serve it",
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
    // A data directory from before backups were authenticated gets its key first (while the
    // server runs, it has done so at its start).
    drop(open(data));
    let server = crate::backup::keyring(data)?;
    let identity = mamoru_backup::generate_identity();
    let recipient = identity.recipient();
    let mut recipients = server.recipients;
    recipients.push(recipient.clone());
    let keys = Keyring { identity, auth: server.auth, store_id: server.store_id, recipients };
    keys.write_new(out, crate::backup::OFFLINE_COMMENT)?;
    crate::backup::add_recipient(data, &recipient)?;
    println!("backup identity written to {}: move it off this server and keep it offline", out.display());
    println!("recipient {recipient} added; new backups are encrypted to it");
    Ok(())
}

/// The keys to open backups with: the given identity file, or the server's verification key.
/// And a scratch directory for verification.
pub(super) fn identity_and_scratch(
    identity: Option<&std::path::PathBuf>,
    data: Option<&std::path::PathBuf>,
) -> Result<(Keyring, std::path::PathBuf)> {
    // Never in the backup directory, which others may write: the data directory, or a private
    // temporary directory on this machine.
    let scratch = data.map_or_else(
        || std::env::temp_dir().join(format!("mamoru-verify-{}", std::process::id())),
        |d| d.join(".verify"),
    );
    match (identity, data) {
        (Some(f), _) => Ok((Keyring::from_file(f)?, scratch)),
        (None, Some(d)) => {
            if !d.join(config::VERIFY_KEY_FILE).exists() {
                bail!("no --identity given, and the data directory has no verification key");
            }
            Ok((crate::backup::keyring(d)?, scratch))
        }
        (None, None) => bail!("say which key opens the backups: --identity FILE"),
    }
}
