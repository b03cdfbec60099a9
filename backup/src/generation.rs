//! Generations in a backup destination (a directory, e.g. a mounted NAS): creating one from a
//! byte stream, reading one back with every check, listing, marking verified, and pruning.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result, io};
use crate::keys::{AuthKey, Keyring, Recipient};

/// The manifest format: 2 since manifests carry their authentication tag.
pub const FORMAT: u32 = 2;
/// What a generation manifest's tag says it is.
const TAG_DOMAIN: &str = "mamoru-backup generation manifest";
/// Never keep fewer generations than this, whatever the configuration says.
pub const MIN_KEEP: usize = 3;

/// What a generation holds, written beside it in clear (nothing personal: counts and checksums).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: u32,
    pub generation: u64,
    /// Unix seconds.
    pub created_at: i64,
    /// The id of the store the snapshot came from.
    pub source_id: String,
    /// The last change-log sequence number the snapshot covers.
    pub covers_seq: u64,
    /// Entries or records per kind, as the producer counted them.
    pub counts: BTreeMap<String, u64>,
    /// SHA-256 and length of the content (before compression and encryption).
    pub content_sha256: String,
    pub content_bytes: u64,
    /// SHA-256 and length of the encrypted file, to find damage without the key.
    pub file_sha256: String,
    pub file_bytes: u64,
    pub recipients: Vec<String>,
    /// When a full verification last succeeded (unix seconds).
    ///
    /// The tag is taken over the manifest as serialised, so every field added after format 2
    /// must be optional and left out when empty: older manifests then serialise as they were
    /// written (a fixture test holds this).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verified_at: Option<i64>,
    /// The producer's own statement about what it backed up, authenticated with the rest (the
    /// binary puts the audit chain's head here, `N:HASH`, so that a rewritten audit log is found
    /// off the box).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub anchor: Option<String>,
    /// HMAC-SHA256 (hex) of the manifest with this field empty, under the store's
    /// [`AuthKey`]: the proof that the store's server wrote it.
    #[serde(default)]
    pub auth: String,
}

impl Manifest {
    fn sealed(mut self, key: &AuthKey) -> Result<Self> {
        self.auth = String::new();
        self.auth = crate::keys::tag_manifest(&self, key, TAG_DOMAIN)?;
        Ok(self)
    }

    /// Checks that the store's server wrote this manifest as it is (`file` names it in the
    /// error): its store is the keyring's, and its tag is right under the keyring's key.
    pub fn authenticate(&self, keys: &Keyring, file: &Path) -> Result<()> {
        let unsigned = Self { auth: String::new(), ..self.clone() };
        let tagged = crate::keys::Tagged {
            unsigned: &unsigned,
            format: self.format,
            auth: &self.auth,
            source_id: &self.source_id,
            domain: TAG_DOMAIN,
        };
        crate::keys::check_manifest(&tagged, keys, file)
    }
}

/// What the producer of a snapshot tells about it.
#[derive(Clone, Debug, Default)]
pub struct NewGeneration {
    pub created_at: i64,
    pub source_id: String,
    pub covers_seq: u64,
    pub counts: BTreeMap<String, u64>,
    /// See [`Manifest::anchor`].
    pub anchor: Option<String>,
}

/// A backup destination directory.
#[derive(Clone, Debug)]
pub struct Destination {
    dir: PathBuf,
}

fn data_name(generation: u64) -> String {
    format!("gen-{generation:06}.age")
}
fn manifest_name(generation: u64) -> String {
    format!("gen-{generation:06}.json")
}

impl Destination {
    /// Opens (creating if needed) a destination directory.
    pub fn open(dir: &Path) -> Result<Self> {
        std::fs::create_dir_all(dir).map_err(io("cannot create the backup directory", dir))?;
        Ok(Self { dir: dir.to_owned() })
    }

    #[must_use]
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Every complete generation, oldest first. Leftover temporary files are ignored, and so
    /// are manifests that cannot be read or sit under another generation's name (see
    /// [`Destination::scan`]): one stray file must not stop the backups.
    pub fn list(&self) -> Result<Vec<Manifest>> {
        Ok(self.scan()?.0)
    }

    /// The generations, oldest first, and the manifest files that were left out, each with why.
    pub fn scan(&self) -> Result<(Vec<Manifest>, Vec<String>)> {
        let mut out = Vec::new();
        let mut strays = Vec::new();
        for entry in std::fs::read_dir(&self.dir).map_err(io("cannot list", &self.dir))? {
            let entry = entry.map_err(io("cannot list", &self.dir))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let is_manifest = Path::new(&name).extension().is_some_and(|e| e == "json");
            if !(name.starts_with("gen-") && is_manifest) {
                continue;
            }
            let path = entry.path();
            let text = std::fs::read(&path).map_err(io("cannot read", &path))?;
            match serde_json::from_slice::<Manifest>(&text) {
                Ok(m) if name == manifest_name(m.generation) => out.push(m),
                Ok(m) => strays.push(format!("{name} says it is generation {}", m.generation)),
                Err(e) => strays.push(format!("{name} is not a manifest: {e}")),
            }
        }
        out.sort_by_key(|m| m.generation);
        strays.sort();
        Ok((out, strays))
    }

    /// The authentic generations (see [`Manifest::authenticate`]), oldest first.
    pub fn authentic_list(&self, keys: &Keyring) -> Result<Vec<Manifest>> {
        Ok(self
            .list()?
            .into_iter()
            .filter(|m| m.authenticate(keys, &self.manifest_path(m.generation)).is_ok())
            .collect())
    }

    pub fn manifest(&self, generation: u64) -> Result<Manifest> {
        self.list()?.into_iter().find(|m| m.generation == generation).ok_or(Error::NoGeneration(generation))
    }

    /// The newest generation.
    pub fn latest(&self) -> Result<Manifest> {
        self.list()?.pop().ok_or_else(|| Error::Empty(self.dir.clone()))
    }

    /// Streams a new generation: `produce` writes the content and says what it was; it is
    /// compressed, encrypted to
    /// `recipients`, and only then, with its manifest, made visible. A failure (a full disk, a
    /// producer error) leaves the earlier generations as they were and no new one.
    pub fn create<E: std::fmt::Display>(
        &self,
        recipients: &[Recipient],
        keys: &Keyring,
        produce: impl FnOnce(&mut dyn Write) -> Result<NewGeneration, E>,
    ) -> Result<Manifest> {
        if recipients.is_empty() {
            return Err(Error::Invalid { what: "backup recipients", reason: "none configured".into() });
        }
        // Numbered after the newest the server wrote, so a planted number does not steer it,
        // and never onto a name that is taken (a planted file stays for an operator to see).
        let used = |n: u64| self.dir.join(data_name(n)).exists() || self.manifest_path(n).exists();
        let mut generation = self.authentic_list(keys)?.last().map_or(0, |m| m.generation);
        loop {
            generation = generation.checked_add(1).ok_or_else(|| Error::Invalid {
                what: "backup generation",
                reason: "the numbers are used up".into(),
            })?;
            if !used(generation) {
                break;
            }
        }
        let name = data_name(generation);
        let tmp = self.dir.join(format!(".{name}.tmp"));
        let result = crate::sealed::write(&tmp, recipients, produce);
        let crate::sealed::Sealed { meta, file_sha256, file_bytes, content_sha256, content_bytes } =
            match result {
                Ok(v) => v,
                Err(e) => {
                    let _ = std::fs::remove_file(&tmp);
                    return Err(e);
                }
            };
        let path = self.dir.join(&name);
        if let Err(e) = std::fs::rename(&tmp, &path).map_err(io("cannot rename into place", &path)) {
            let _ = std::fs::remove_file(&tmp);
            return Err(e);
        }
        let manifest = Manifest {
            format: FORMAT,
            generation,
            created_at: meta.created_at,
            source_id: meta.source_id,
            covers_seq: meta.covers_seq,
            counts: meta.counts,
            content_sha256,
            content_bytes,
            file_sha256,
            file_bytes,
            recipients: recipients.iter().map(ToString::to_string).collect(),
            verified_at: None,
            anchor: meta.anchor,
            auth: String::new(),
        }
        .sealed(&keys.auth)?;
        let json = serde_json::to_vec_pretty(&manifest)
            .map_err(|e| Error::Invalid { what: "manifest", reason: e.to_string() })?;
        if let Err(e) = crate::sealed::write_atomic(&self.dir, &manifest_name(generation), &json) {
            let _ = std::fs::remove_file(&path);
            return Err(e);
        }
        Ok(manifest)
    }

    /// The path of a generation's manifest.
    #[must_use]
    pub fn manifest_path(&self, generation: u64) -> PathBuf {
        self.dir.join(manifest_name(generation))
    }

    /// A generation's manifest, authenticated with `keys` (see [`Manifest::authenticate`]).
    pub fn authentic(&self, generation: u64, keys: &Keyring) -> Result<Manifest> {
        let m = self.manifest(generation)?;
        m.authenticate(keys, &self.manifest_path(generation))?;
        Ok(m)
    }

    /// Opens a generation for reading: authenticates its manifest with `keys`, checks the file
    /// against it, decrypts with the keyring's identity, decompresses,
    /// and hands the content to `consume`. Whatever `consume` leaves unread is read too; the
    /// content's length and SHA-256 must match the manifest, or the result is an error even if
    /// `consume` succeeded — so a consumer must treat its output as provisional until this
    /// returns `Ok`.
    pub fn read<T, E: std::fmt::Display>(
        &self,
        generation: u64,
        keys: &Keyring,
        consume: impl FnOnce(&mut dyn Read) -> Result<T, E>,
    ) -> Result<(Manifest, T)> {
        let m = self.authentic(generation, keys)?;
        let path = self.dir.join(data_name(generation));
        let damaged = |reason: String| Error::Damaged { generation, reason };
        let file = (m.file_sha256.as_str(), m.file_bytes);
        crate::sealed::check_file(&path, file, damaged)?;
        let content = (m.content_sha256.as_str(), m.content_bytes);
        let value = crate::sealed::read(&path, &keys.identity, file, content, damaged, consume)?;
        Ok((m, value))
    }

    /// Records a successful verification in the manifest (atomically), sealed again with the
    /// keyring's key; the manifest must be authentic.
    pub fn mark_verified(&self, generation: u64, at: i64, keys: &Keyring) -> Result<Manifest> {
        let mut m = self.authentic(generation, keys)?;
        m.verified_at = Some(at);
        let m = m.sealed(&keys.auth)?;
        let json = serde_json::to_vec_pretty(&m)
            .map_err(|e| Error::Invalid { what: "manifest", reason: e.to_string() })?;
        crate::sealed::write_atomic(&self.dir, &manifest_name(generation), &json)?;
        Ok(m)
    }

    /// Removes the oldest generations beyond `keep` (never fewer than three), and only if the
    /// newest has been verified. Only authentic generations count and go; anything else is left
    /// for an operator to look at. Returns the generations removed.
    pub fn prune(&self, keep: usize, keys: &Keyring) -> Result<Vec<u64>> {
        let keep = keep.max(MIN_KEEP);
        let all = self.authentic_list(keys)?;
        if all.last().is_none_or(|m| m.verified_at.is_none()) || all.len() <= keep {
            return Ok(Vec::new());
        }
        let mut removed = Vec::new();
        for m in &all[..all.len() - keep] {
            // The manifest first: without it the generation no longer exists.
            let manifest = self.dir.join(manifest_name(m.generation));
            std::fs::remove_file(&manifest).map_err(io("cannot remove", &manifest))?;
            let data = self.dir.join(data_name(m.generation));
            std::fs::remove_file(&data).map_err(io("cannot remove", &data))?;
            removed.push(m.generation);
        }
        crate::sealed::sync_dir(&self.dir)?;
        Ok(removed)
    }

    /// The path of a generation's data file (for copying to a PC; it stays encrypted).
    #[must_use]
    pub fn data_path(&self, generation: u64) -> PathBuf {
        self.dir.join(data_name(generation))
    }
}
