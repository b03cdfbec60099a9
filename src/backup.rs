//! `mamoru backup …`: snapshots of the store into encrypted generations, verification, restore.
//! The store is read through the service (one read transaction); the bytes go to the backup
//! crate. Keys: `backup-recipients.txt` (offline identities' recipients) and `backup-verify.key`
//! (the server's own key, so it can verify what it wrote) in the data directory.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use mamoru_backup::{
    Archive, Destination, Identity, Manifest, NewGeneration, NewSegment, Recipient, Segment,
};
use mamoru_core::Service;
use mamoru_core::restore::{Restore, Restored, Wanted};
use mamoru_core::time::{Clock, Timestamp};

use crate::clock::SystemClock;
use crate::config::{self, RECIPIENTS_FILE, VERIFY_KEY_FILE};

/// The destination configured for a data directory.
pub fn destination(data: &Path) -> Result<Destination> {
    let cfg = config::load(data)?;
    let dir = if cfg.backup.dir.is_absolute() { cfg.backup.dir } else { data.join(cfg.backup.dir) };
    Ok(Destination::open(&dir)?)
}

/// Recipients from `backup-recipients.txt` plus the server's verification key.
pub fn recipients(data: &Path) -> Result<Vec<Recipient>> {
    let mut out = Vec::new();
    let path = data.join(RECIPIENTS_FILE);
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            for line in text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')) {
                out.push(Recipient::parse(line).with_context(|| format!("in {}", path.display()))?);
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    }
    out.push(verify_identity(data)?.recipient());
    Ok(out)
}

fn verify_identity(data: &Path) -> Result<Identity> {
    let path = data.join(VERIFY_KEY_FILE);
    Identity::from_file(&path)
        .with_context(|| "the server's backup verification key is missing (it is made by `mamoru init`)")
}

/// Sets up the keys of a new data directory: the server's verification key, and the recipients
/// file (with the recipient of `offline`, if given).
pub fn init_keys(data: &Path, offline: Option<&Identity>) -> Result<()> {
    mamoru_backup::generate_identity().write_new(
        &data.join(VERIFY_KEY_FILE),
        "Mamoru server's backup verification key. Stays in the data directory.",
    )?;
    let mut text = String::from(
        "# Backups are encrypted to each age recipient below (one per line) and to the server's own\n\
         # verification key. Keep each matching identity offline: it is what restores a lost server.\n",
    );
    if let Some(id) = offline {
        text.push_str(&id.recipient().to_string());
        text.push('\n');
    }
    let path = data.join(RECIPIENTS_FILE);
    std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))
}

/// Adds a recipient to the recipients file.
pub fn add_recipient(data: &Path, r: &Recipient) -> Result<()> {
    use std::io::Write;
    let path = data.join(RECIPIENTS_FILE);
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .with_context(|| format!("opening {}", path.display()))?;
    writeln!(f, "{r}").with_context(|| format!("writing {}", path.display()))
}

/// Makes a generation from the store, verifies it with the server's key, and prunes.
pub fn create(data: &Path, service: &Service) -> Result<Manifest> {
    // One generation at a time: the daily thread and "run now" number them from the same list.
    let _one_at_a_time = CREATING.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    // The archive first, so it joins up with the generation. If it cannot (a restored store in a
    // new backup directory has nothing to join to), the generation itself is the new start.
    if let Err(e) = ship(data, service) {
        tracing::warn!(error = %format!("{e:#}"), "archive not shipped before the generation");
    }
    let dest = destination(data)?;
    let store_id = service.store_id()?;
    if let Some(other) = dest.list()?.iter().find(|m| m.source_id != store_id) {
        bail!(
            "the backup directory {} belongs to another store ({}); give this one its own backup.dir",
            dest.dir().display(),
            other.source_id
        );
    }
    let recipients = recipients(data)?;
    let now = SystemClock.now().0;
    let manifest = dest.create(&recipients, |w| {
        service.write_snapshot(w).map(|s| {
            let mut counts: BTreeMap<String, u64> = s.kinds.into_iter().collect();
            counts.insert("change".into(), s.last_change);
            NewGeneration { created_at: now, source_id: s.store_id, covers_seq: s.last_redo, counts }
        })
    })?;
    verify(&dest, manifest.generation, &verify_identity(data)?, &data.join(".verify"))?;
    let keep = config::load(data)?.backup.keep;
    let removed = dest.prune(keep)?;
    if !removed.is_empty() {
        tracing::info!(?removed, "pruned old backup generations");
    }
    // Archive segments older than the oldest generation kept can no longer serve a restore.
    if let Some(oldest) = dest.list()?.first() {
        Archive::open(dest.dir())?.prune_through(oldest.covers_seq)?;
    }
    dest.manifest(manifest.generation).map_err(Into::into)
}

/// Restores a generation into `scratch` (which must not exist), replays the archive on it if
/// asked, and checks the result fully (core's `Restore`): counts against the manifest,
/// integrity, audit chain. With a replay, the store begins a new timeline.
fn restore_checked(
    dest: &Destination,
    generation: u64,
    identity: &Identity,
    scratch: &Path,
    replay: Option<Replay>,
) -> Result<(Manifest, Option<Restored>)> {
    if scratch.exists() {
        std::fs::remove_dir_all(scratch).with_context(|| format!("clearing {}", scratch.display()))?;
    }
    let until = replay.and_then(|r| r.until);
    let (manifest, mut restore) =
        dest.read(generation, identity, |r| Restore::from_snapshot(scratch, r, until))?;
    if *restore.counts() != manifest.counts || restore.covers_seq() != manifest.covers_seq {
        bail!("generation {generation} restored, but its counts differ from its manifest");
    }
    if replay.is_some() {
        replay_archive(dest, identity, &mut restore)?;
    }
    let restored = restore
        .finish(std::sync::Arc::new(SystemClock), replay.is_some())
        .with_context(|| format!("generation {generation} restored, but it does not check out"))?;
    Ok((manifest, replay.map(|_| restored)))
}

/// Replaying the archive on top of a restored generation.
#[derive(Clone, Copy, Debug)]
pub struct Replay {
    pub until: Option<Timestamp>,
}

/// Hands the archive's segments to the restore, in order, as it asks for them.
fn replay_archive(dest: &Destination, identity: &Identity, restore: &mut Restore) -> Result<()> {
    let archive = Archive::open(dest.dir())?;
    for segment in archive.segments()? {
        match restore.wants(segment.first, segment.last) {
            Wanted::Skip => {}
            Wanted::Apply => archive.read(&segment, identity, |r| restore.apply_segment(r))?,
            Wanted::Later => {
                // Past `until`: read on only to learn what was revoked later.
                if let Err(e) = archive.read(&segment, identity, |r| restore.read_later_segment(r)) {
                    tracing::warn!(
                        first = segment.first,
                        last = segment.last,
                        error = %e,
                        "a later archive segment could not be read: revocations in it are not re-applied; check `mamoru user list`"
                    );
                }
            }
            Wanted::Gap => break,
        }
    }
    Ok(())
}

/// Ships the redo entries the archive does not have yet as one sealed segment, then prunes them
/// from the store. Returns the segment, or `None` if there was nothing to ship.
pub fn ship(data: &Path, service: &Service) -> Result<Option<Segment>> {
    // The daily backup and the archiver both ship: one at a time, or both would read the same
    // start and write overlapping segments.
    let _one_at_a_time = SHIPPING.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let dest = destination(data)?;
    let archive = Archive::open(dest.dir())?;
    let segments = archive.segments()?;
    let store_id = service.store_id()?;
    if let Some(other) = segments.iter().find(|s| s.source_id != store_id) {
        bail!(
            "the archive in {} belongs to another store ({}); give this one its own backup.dir",
            dest.dir().display(),
            other.source_id
        );
    }
    // Where the archive stands: its last segment, or, when it holds none yet (a new backup
    // directory, a restored store), the newest generation, which already holds everything before.
    let after = match segments.last() {
        Some(s) => s.last,
        None => dest.list()?.last().map_or(0, |g| g.covers_seq),
    };
    let Some(batch) = service.redo_batch(after, 100_000)? else { return Ok(None) };
    if batch.first != after + 1 {
        bail!(
            "the redo log starts at {} but the backups end at {after}: make a backup generation (`mamoru backup create`) before the archive can go on",
            batch.first
        );
    }
    let meta = NewSegment {
        first: batch.first,
        last: batch.last,
        last_at: batch.last_at.0,
        created_at: SystemClock.now().0,
        source_id: store_id,
    };
    let segment = archive.append(&recipients(data)?, meta, |w| batch.write_to(w))?;
    service.archived_through(batch.last)?;
    Ok(Some(segment))
}

static SHIPPING: std::sync::Mutex<()> = std::sync::Mutex::new(());
static CREATING: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Full verification: decrypt, decompress, checksums, build a store in a scratch directory,
/// check it; the scratch is removed afterwards either way.
pub fn verify(dest: &Destination, generation: u64, identity: &Identity, scratch: &Path) -> Result<Manifest> {
    let result = restore_checked(dest, generation, identity, scratch, None);
    let _ = std::fs::remove_dir_all(scratch);
    result?;
    Ok(dest.mark_verified(generation, SystemClock.now().0)?)
}

/// `mamoru backup restore`: a generation plus the archive (up to `until`), into a new
/// directory only.
pub fn restore(
    dest: &Destination,
    generation: u64,
    identity: &Identity,
    to: &Path,
    until: Option<Timestamp>,
) -> Result<(Manifest, Restored)> {
    if to.join(mamoru_core::store::FILE_NAME).exists() {
        bail!("{} holds a store already: restore only into a new directory", to.display());
    }
    if to.exists()
        && std::fs::read_dir(to).with_context(|| format!("reading {}", to.display()))?.next().is_some()
    {
        bail!("{} is not empty: restore only into a new directory", to.display());
    }
    std::fs::create_dir_all(to).with_context(|| format!("creating {}", to.display()))?;
    let scratch = to.join(format!(".restore-{generation}"));
    let replayed = match restore_checked(dest, generation, identity, &scratch, Some(Replay { until })) {
        Ok((_, Some(r))) => r,
        Ok((_, None)) => bail!("internal: the archive was not replayed"),
        Err(e) => {
            let _ = std::fs::remove_dir_all(&scratch);
            let _ = std::fs::remove_dir(to);
            return Err(e);
        }
    };
    let file = mamoru_core::store::FILE_NAME;
    std::fs::rename(scratch.join(file), to.join(file)).context("moving the restored store into place")?;
    std::fs::remove_dir_all(&scratch).ok();
    std::fs::write(to.join(config::FILE_NAME), config::TEMPLATE).context("writing the config")?;
    init_keys(to, None)?;
    let manifest = dest.manifest(generation)?;
    for r in &manifest.recipients {
        // Keep encrypting to the same offline keys (the old server's verification key included,
        // harmlessly: its identity is gone with the old server).
        add_recipient(to, &Recipient::parse(r)?)?;
    }
    Ok((manifest, replayed))
}

/// One line per generation for `backup list`.
pub fn describe(m: &Manifest) -> String {
    let when = mamoru_core::time::Timestamp(m.created_at).to_jst_string();
    let verified = m.verified_at.map_or_else(
        || "not verified".to_owned(),
        |t| format!("verified {}", mamoru_core::time::Timestamp(t).to_jst_string()),
    );
    let children = m.counts.get("child").copied().unwrap_or(0);
    let size = if m.file_bytes >= 1_000_000 {
        format!("{} MB", m.file_bytes / 1_000_000)
    } else {
        format!("{} kB", m.file_bytes.div_ceil(1000))
    };
    format!("{}\t{when}\t{size}\tchanges to {}\t{children} children\t{verified}", m.generation, m.covers_seq)
}

/// Resolves where generations are: `--from DIR`, or the data directory's configuration.
pub fn resolve(from: Option<&PathBuf>, data: Option<&PathBuf>) -> Result<Destination> {
    match (from, data) {
        (Some(dir), _) => {
            if !dir.is_dir() {
                bail!("no backup directory at {}", dir.display());
            }
            Ok(Destination::open(dir)?)
        }
        (None, Some(d)) => destination(d),
        (None, None) => bail!("say where the backups are: --from DIR, or --data DIR (or MAMORU_DATA)"),
    }
}
