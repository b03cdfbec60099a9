//! `mamoru backup …`: snapshots of the store into encrypted generations, verification, restore.
//! The store is read through the service (one read transaction); the bytes go to the backup
//! crate. Keys: `backup-recipients.txt` (offline identities' recipients) and `backup-verify.key`
//! (the server's own key, so it can verify what it wrote, with the store's backup
//! authentication key and store id pinned in it: a [`Keyring`]) in the data directory. Every
//! offline identity file is a keyring too, pinned to the store and to the recipients.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use mamoru_backup::{
    Archive, AuthKey, Destination, Identity, Keyring, Manifest, NewGeneration, NewSegment, Recipient, Segment,
};
use mamoru_core::Service;
use mamoru_core::audit::Anchor;
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
    let mut out = offline_recipients(data)?;
    out.push(verify_identity(data)?.recipient());
    Ok(out)
}

/// The offline identities' recipients, from `backup-recipients.txt`.
fn offline_recipients(data: &Path) -> Result<Vec<Recipient>> {
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
    Ok(out)
}

/// The server's keyring: its verification key with the store's authentication key and id, and
/// the offline recipients it encrypts to.
pub fn keyring(data: &Path) -> Result<Keyring> {
    let path = data.join(VERIFY_KEY_FILE);
    let mut keys = Keyring::from_file(&path).with_context(
        || "the server's backup verification key is missing or unusable (it is made by `mamoru init`)",
    )?;
    keys.recipients = offline_recipients(data)?;
    Ok(keys)
}

/// Pins a new authentication key and the store id into the verification key of a data
/// directory made before backups were authenticated; nothing if they are there already.
pub fn ensure_pins(data: &Path, service: &Service) -> Result<()> {
    let path = data.join(VERIFY_KEY_FILE);
    if !path.exists() || Keyring::from_file(&path).is_ok() {
        return Ok(());
    }
    if Keyring::pin_into(&path, &AuthKey::generate()?, &service.store_id()?)? {
        tracing::warn!(
            "backups are now authenticated with a new key: make a new offline identity with `mamoru backup keygen`; older identity files cannot authenticate new backups"
        );
    }
    Ok(())
}

fn verify_identity(data: &Path) -> Result<Identity> {
    let path = data.join(VERIFY_KEY_FILE);
    Identity::from_file(&path)
        .with_context(|| "the server's backup verification key is missing (it is made by `mamoru init`)")
}

/// Sets up the keys of a new data directory for store `store_id`: a new authentication key
/// pinned with the store into the server's new verification key, and the recipients file with
/// `recipients`. With `offline`, also a new offline identity written to that file (with that
/// comment), pinned to the store, the key and every recipient, its own included.
pub fn init_keys(
    data: &Path,
    store_id: &str,
    recipients: &[Recipient],
    offline: Option<(&Path, &str)>,
) -> Result<()> {
    let auth = AuthKey::generate()?;
    let server = Keyring {
        identity: mamoru_backup::generate_identity(),
        auth: auth.clone(),
        store_id: store_id.to_owned(),
        recipients: Vec::new(),
    };
    server.write_new(
        &data.join(VERIFY_KEY_FILE),
        "Mamoru server's backup verification key and authentication key. Stays in the data directory.",
    )?;
    let mut recipients = recipients.to_vec();
    if let Some((out, comment)) = offline {
        let identity = mamoru_backup::generate_identity();
        recipients.push(identity.recipient());
        let keys = Keyring { identity, auth, store_id: store_id.to_owned(), recipients: recipients.clone() };
        keys.write_new(out, comment)?;
    }
    let mut text = String::from(
        "# Backups are encrypted to each age recipient below (one per line) and to the server's own\n\
         # verification key. Keep each matching identity offline: it is what restores a lost server.\n",
    );
    for r in &recipients {
        text.push_str(&r.to_string());
        text.push('\n');
    }
    crate::files::write_private(&data.join(RECIPIENTS_FILE), text.as_bytes())
}

/// The comment at the top of an offline identity file.
pub const OFFLINE_COMMENT: &str =
    "Mamoru backup identity: keep offline (USB stick in a safe). Restores need it.";

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
    let keys = keyring(data)?;
    // How far the archive must reach: a read of it that stops short has lost segments.
    let archived = service.archived_position()?;
    let now = SystemClock.now().0;
    let manifest = dest.create(&recipients, &keys, |w| {
        service.write_snapshot(w).map(|s| {
            let mut counts: BTreeMap<String, u64> = s.kinds.into_iter().collect();
            counts.insert("change".into(), s.last_change);
            NewGeneration {
                created_at: now,
                source_id: s.store_id,
                covers_seq: s.last_redo,
                counts,
                anchor: s.audit_head,
            }
        })
    })?;
    let scratch = data.join(".verify");
    // Nothing is archived after the new generation yet: the generation alone.
    let checked = restore_checked(&dest, manifest.generation, &keys, &scratch, None);
    let _ = std::fs::remove_dir_all(&scratch);
    checked?;
    dest.mark_verified(manifest.generation, SystemClock.now().0, &keys)?;
    let keep = config::load(data)?.backup.keep;
    let removed = dest.prune(keep, &keys)?;
    if !removed.is_empty() {
        tracing::info!(?removed, "pruned old backup generations");
    }
    // Archive segments older than the oldest generation kept can no longer serve a restore.
    let kept = dest.authentic_list(&keys)?;
    if let Some(oldest) = kept.first() {
        Archive::open(dest.dir())?.prune_through(oldest.covers_seq)?;
    }
    // The archive since the previous generation: what a restore from it would replay if the
    // new one were lost. Each day's segments are read back once, the day after.
    if let Some(previous) = kept.iter().rev().find(|m| m.generation < manifest.generation) {
        let context = || {
            format!(
                "generation {} made and verified, but the day's archive is not whole",
                manifest.generation
            )
        };
        let v = verify(&dest, previous.generation, &keys, &scratch).with_context(context)?;
        if v.archive.last_seq < archived {
            return Err(anyhow::anyhow!(
                "the archive ends at change {}, but the server shipped changes up to {archived}: segments are missing from its end",
                v.archive.last_seq
            ))
            .with_context(context);
        }
    }
    Ok(dest.authentic(manifest.generation, &keys)?)
}

/// Restores a generation into `scratch` (which must not exist), replays the archive on it if
/// asked, and checks the result fully (core's `Restore`): counts against the manifest,
/// integrity, audit chain. With a replay, the store begins a new timeline.
fn restore_checked(
    dest: &Destination,
    generation: u64,
    keys: &Keyring,
    scratch: &Path,
    replay: Option<Replay>,
) -> Result<(Manifest, Option<Restored>)> {
    if scratch.exists() {
        std::fs::remove_dir_all(scratch).with_context(|| format!("clearing {}", scratch.display()))?;
    }
    let until = replay.and_then(|r| r.until);
    let (manifest, mut restore) =
        dest.read(generation, keys, |r| Restore::from_snapshot(scratch, r, until))?;
    if *restore.counts() != manifest.counts || restore.covers_seq() != manifest.covers_seq {
        bail!("generation {generation} restored, but its counts differ from its manifest");
    }
    if replay.is_some() {
        replay_archive(dest, keys, &mut restore)?;
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

/// Hands the archive's segments to the restore, in order, as it asks for them. A segment that
/// cannot be used (damaged, forged, from another store) stops the replay there, like a gap:
/// everything before it is restored and the report says where and why.
fn replay_archive(dest: &Destination, keys: &Keyring, restore: &mut Restore) -> Result<()> {
    let archive = Archive::open(dest.dir())?;
    let segments = match archive.segments() {
        Ok(s) => s,
        Err(e) => {
            restore.stop(format!("the archive cannot be listed: {e}"));
            return Ok(());
        }
    };
    for segment in segments {
        match restore.wants(segment.first, segment.last) {
            Wanted::Skip => {}
            Wanted::Apply => {
                // Every check (tag, file checksum) comes before the first byte is applied.
                let mut started = false;
                let read = archive.read(&segment, keys, |r| {
                    started = true;
                    restore.apply_segment(r)
                });
                match read {
                    Ok(()) => {}
                    Err(e) if !started => {
                        restore.stop(format!(
                            "archive segment {}..{} cannot be used: {e}",
                            segment.first, segment.last
                        ));
                        break;
                    }
                    Err(e) => return Err(e.into()),
                }
            }
            Wanted::Later => {
                // Past `until`: read on only to learn what was revoked later. Whole segments
                // only: what a read that fails at its end produced is not taken.
                let read = archive.read(&segment, keys, |r| {
                    let mut bytes = Vec::new();
                    r.read_to_end(&mut bytes).map(|_| bytes)
                });
                let taken = read.map_err(anyhow::Error::from).and_then(|bytes| {
                    restore.read_later_segment(&mut bytes.as_slice()).map_err(anyhow::Error::from)
                });
                if let Err(e) = taken {
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
    let keys = keyring(data)?;
    // Where the archive stands is read from what the server wrote only: a planted segment
    // must not make it skip (and drop) changes it never shipped.
    if let Some(s) = segments.last() {
        s.authenticate(&keys, &archive.manifest_path(s)).with_context(|| {
            format!("the archive's last segment ({}..{}) was not written by this server; look at it before the archive can go on", s.first, s.last)
        })?;
    }
    // Where the archive stands: its last segment, or, when it holds none yet (a new backup
    // directory, a restored store), the newest generation, which already holds everything before.
    let after = match segments.last() {
        Some(s) => s.last,
        None => dest.authentic_list(&keys)?.last().map_or(0, |g| g.covers_seq),
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
        anchor: batch.audit_head.clone(),
    };
    let segment = archive.append(&recipients(data)?, &keys.auth, meta, |w| batch.write_to(w))?;
    service.archived_through(batch.last)?;
    Ok(Some(segment))
}

static SHIPPING: std::sync::Mutex<()> = std::sync::Mutex::new(());
static CREATING: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Full verification of what a restore to the point of failure from `generation` needs:
/// authenticate, decrypt, decompress and check the generation, build a store from it in a
/// scratch directory, replay every later archive segment on it (each authenticated, decrypted,
/// decompressed, contiguous) and check the result; the scratch is removed afterwards either
/// way. A sound generation is marked verified even when the archive after it is not; the
/// archive's break is then the error.
pub fn verify(dest: &Destination, generation: u64, keys: &Keyring, scratch: &Path) -> Result<Verified> {
    let result = restore_checked(dest, generation, keys, scratch, Some(Replay { until: None }));
    let _ = std::fs::remove_dir_all(scratch);
    let (_, restored) = result?;
    let manifest = dest.mark_verified(generation, SystemClock.now().0, keys)?;
    let archive = restored.map(|r| r.archive).unwrap_or_default();
    if let Some(gap) = &archive.gap {
        bail!(
            "generation {generation} verified, but the archive after it is broken: {gap}; a restore to the point of failure stops there"
        );
    }
    Ok(Verified { manifest, archive })
}

/// A generation verified with the archive after it.
#[derive(Debug)]
pub struct Verified {
    pub manifest: Manifest,
    pub archive: mamoru_core::restore::ArchiveReplay,
}

/// `mamoru backup restore`: a generation plus the archive (up to `until`), into a new
/// directory only.
pub fn restore(
    dest: &Destination,
    generation: u64,
    keys: &Keyring,
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
    let replayed = match restore_checked(dest, generation, keys, &scratch, Some(Replay { until })) {
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
    // The restored store encrypts to the recipients the key pins, never to a manifest's list,
    // and authenticates its backups with a new key of its own: it is a new store.
    init_keys(to, &replayed.store_id, &keys.recipients, None)?;
    crate::files::close_dir(to)?;
    let manifest = dest.authentic(generation, keys)?;
    Ok((manifest, replayed))
}

/// The audit-chain heads the authentic backups of `store_id` recorded, each with where it came
/// from, for `audit verify`: from `from`, or the configured backup directory (not created when
/// missing: then there is nothing to compare); authenticated with `identity`, or the data
/// directory's key. A key for another store (this store restored from it, say) is refused: its
/// backups hold another timeline. What is not authentic is named; when nothing is, that is an
/// error, not "no backups". Returns the anchors and the directory read.
pub fn audit_anchors(
    data: &Path,
    store_id: &str,
    from: Option<&Path>,
    identity: Option<&Path>,
) -> Result<(Vec<(String, Anchor)>, PathBuf)> {
    let dir = if let Some(dir) = from {
        resolve(Some(&dir.to_owned()), None)?.dir().to_owned()
    } else {
        let cfg = config::load(data)?;
        if cfg.backup.dir.is_absolute() { cfg.backup.dir } else { data.join(cfg.backup.dir) }
    };
    if !dir.is_dir() {
        return Ok((Vec::new(), dir));
    }
    let dest = Destination::open(&dir)?;
    let keys = match identity {
        Some(f) => Keyring::from_file(f)?,
        None => keyring(data)?,
    };
    if keys.store_id != store_id {
        return Err(mamoru_backup::Error::AnotherStore {
            file: identity.map_or_else(|| data.join(VERIFY_KEY_FILE), Path::to_owned),
            store: store_id.to_owned(),
            key_store: keys.store_id,
        }
        .into());
    }
    let mut out = Vec::new();
    let (mut seen, mut refused) = (0, 0);
    let mut take = |what: String, anchor: Option<&String>, checked: mamoru_backup::Result<()>| {
        seen += 1;
        match checked {
            Ok(()) => out.extend(anchor.and_then(|a| Anchor::parse(a)).map(|a| (what, a))),
            Err(e) => {
                refused += 1;
                eprintln!("mamoru: {what} not compared: {e}");
            }
        }
    };
    for m in dest.list()? {
        let checked = m.authenticate(&keys, &dest.manifest_path(m.generation));
        let what =
            format!("backup generation {} ({})", m.generation, Timestamp(m.created_at).to_jst_string());
        take(what, m.anchor.as_ref(), checked);
    }
    if dir.join("archive").is_dir() {
        let archive = Archive::open(&dir)?;
        for s in archive.segments()? {
            let checked = s.authenticate(&keys, &archive.manifest_path(&s));
            take(format!("archive segment {}..{}", s.first, s.last), s.anchor.as_ref(), checked);
        }
    }
    if seen > 0 && refused == seen {
        bail!(
            "none of the {seen} backup files in {} is authentic: the audit log cannot be compared",
            dir.display()
        );
    }
    Ok((out, dir))
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
