//! The change archive: segments of the store's redo log shipped to the backup destination at
//! least every minute and on shutdown, each sealed like a generation, so a lost disk costs at
//! most the interval. `archive/seg-FIRST-LAST.age` + `.json`; contiguous by construction.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result, io};
use crate::keys::{AuthKey, Keyring, Recipient};
use crate::sealed::{Sealed, sync_dir, write_atomic};

/// What a segment manifest's tag says it is.
const TAG_DOMAIN: &str = "mamoru-backup archive segment";

/// One archived segment: redo entries `first..=last`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Segment {
    pub format: u32,
    pub first: u64,
    pub last: u64,
    /// Commit time (unix seconds) of the last entry.
    pub last_at: i64,
    pub created_at: i64,
    pub source_id: String,
    pub content_sha256: String,
    pub content_bytes: u64,
    pub file_sha256: String,
    pub file_bytes: u64,
    pub recipients: Vec<String>,
    /// See [`crate::Manifest::anchor`] (and its note on fields added later).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub anchor: Option<String>,
    /// HMAC-SHA256 (hex) of the segment's manifest with this field empty, under the store's
    /// [`AuthKey`].
    #[serde(default)]
    pub auth: String,
}

impl Segment {
    fn sealed(mut self, key: &AuthKey) -> Result<Self> {
        self.auth = String::new();
        self.auth = crate::keys::tag_manifest(&self, key, TAG_DOMAIN)?;
        Ok(self)
    }

    /// Checks that the store's server wrote this segment's manifest as it is (`file` names it
    /// in the error).
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

/// What the shipper says about a segment it is writing.
#[derive(Clone, Debug, Default)]
pub struct NewSegment {
    pub first: u64,
    pub last: u64,
    pub last_at: i64,
    pub created_at: i64,
    pub source_id: String,
    /// See [`crate::Manifest::anchor`].
    pub anchor: Option<String>,
}

#[derive(Clone, Debug)]
pub struct Archive {
    dir: PathBuf,
}

fn stem(first: u64, last: u64) -> String {
    format!("seg-{first:012}-{last:012}")
}

impl Archive {
    /// The archive inside a backup destination directory.
    pub fn open(destination: &Path) -> Result<Self> {
        let dir = destination.join("archive");
        std::fs::create_dir_all(&dir).map_err(io("cannot create the archive directory", &dir))?;
        Ok(Self { dir })
    }

    /// Every complete segment, in order.
    pub fn segments(&self) -> Result<Vec<Segment>> {
        let mut out = BTreeMap::new();
        for entry in std::fs::read_dir(&self.dir).map_err(io("cannot list", &self.dir))? {
            let path = entry.map_err(io("cannot list", &self.dir))?.path();
            let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            if !(name.starts_with("seg-") && path.extension().is_some_and(|e| e == "json")) {
                continue;
            }
            let text = std::fs::read(&path).map_err(io("cannot read", &path))?;
            // A manifest that cannot be read or sits under another name is not a segment: the
            // replay meets the hole it leaves as a gap.
            let Ok(s) = serde_json::from_slice::<Segment>(&text) else { continue };
            if name != format!("{}.json", stem(s.first, s.last)) {
                continue;
            }
            if let Some(twin) = out.insert(s.first, s) {
                return Err(Error::Invalid {
                    what: "archive",
                    reason: format!("two segments start at change {}", twin.first),
                });
            }
        }
        let segments: Vec<Segment> = out.into_values().collect();
        if let Some(w) = segments.windows(2).find(|w| w[1].first <= w[0].last) {
            return Err(Error::Invalid {
                what: "archive",
                reason: format!(
                    "segments {}..{} and {}..{} overlap",
                    w[0].first, w[0].last, w[1].first, w[1].last
                ),
            });
        }
        Ok(segments)
    }

    /// The last redo sequence number archived (0 if none).
    pub fn last_seq(&self) -> Result<u64> {
        Ok(self.segments()?.last().map_or(0, |s| s.last))
    }

    /// Seals a segment; visible only once its manifest is in place.
    pub fn append<E: std::fmt::Display>(
        &self,
        recipients: &[Recipient],
        auth: &AuthKey,
        meta: NewSegment,
        produce: impl FnOnce(&mut dyn Write) -> Result<(), E>,
    ) -> Result<Segment> {
        if recipients.is_empty() {
            return Err(Error::Invalid { what: "backup recipients", reason: "none configured".into() });
        }
        let name = stem(meta.first, meta.last);
        let tmp = self.dir.join(format!(".{name}.age.tmp"));
        let sealed = match crate::sealed::write(&tmp, recipients, |w| produce(w)) {
            Ok(s) => s,
            Err(e) => {
                let _ = std::fs::remove_file(&tmp);
                return Err(e);
            }
        };
        let Sealed { meta: (), file_sha256, file_bytes, content_sha256, content_bytes } = sealed;
        let path = self.dir.join(format!("{name}.age"));
        std::fs::rename(&tmp, &path).map_err(io("cannot rename into place", &path))?;
        let segment = Segment {
            format: crate::FORMAT,
            first: meta.first,
            last: meta.last,
            last_at: meta.last_at,
            created_at: meta.created_at,
            source_id: meta.source_id,
            content_sha256,
            content_bytes,
            file_sha256,
            file_bytes,
            recipients: recipients.iter().map(ToString::to_string).collect(),
            anchor: meta.anchor,
            auth: String::new(),
        }
        .sealed(auth)?;
        let json = serde_json::to_vec_pretty(&segment)
            .map_err(|e| Error::Invalid { what: "segment manifest", reason: e.to_string() })?;
        if let Err(e) = write_atomic(&self.dir, &format!("{name}.json"), &json) {
            let _ = std::fs::remove_file(&path);
            return Err(e);
        }
        sync_dir(&self.dir)?;
        Ok(segment)
    }

    /// Removes the segments that hold nothing after `seq` (the oldest kept generation's position):
    /// no restore can use them any more. The newest segment always stays: it marks how far the
    /// archive has come. Returns how many went.
    pub fn prune_through(&self, seq: u64) -> Result<usize> {
        let mut removed = 0;
        let mut all = self.segments()?;
        all.pop();
        for s in all.into_iter().filter(|s| s.last <= seq) {
            let stem = stem(s.first, s.last);
            let manifest = self.dir.join(format!("{stem}.json"));
            std::fs::remove_file(&manifest).map_err(io("cannot remove", &manifest))?;
            let data = self.dir.join(format!("{stem}.age"));
            std::fs::remove_file(&data).map_err(io("cannot remove", &data))?;
            removed += 1;
        }
        if removed > 0 {
            sync_dir(&self.dir)?;
        }
        Ok(removed)
    }

    /// The path of a segment's manifest.
    #[must_use]
    pub fn manifest_path(&self, segment: &Segment) -> PathBuf {
        self.dir.join(format!("{}.json", stem(segment.first, segment.last)))
    }

    /// Opens a segment with every check, like a generation: its manifest authenticated with
    /// `keys`, its file checked against it, then decrypted and its content checked.
    pub fn read<T, E: std::fmt::Display>(
        &self,
        segment: &Segment,
        keys: &Keyring,
        consume: impl FnOnce(&mut dyn Read) -> Result<T, E>,
    ) -> Result<T> {
        segment.authenticate(keys, &self.manifest_path(segment))?;
        let path = self.dir.join(format!("{}.age", stem(segment.first, segment.last)));
        let (first, last) = (segment.first, segment.last);
        let damaged = move |reason: String| Error::Invalid {
            what: "archive segment",
            reason: format!("changes {first}..{last} are damaged: {reason}"),
        };
        let file = (segment.file_sha256.as_str(), segment.file_bytes);
        crate::sealed::check_file(&path, file, damaged)?;
        let content = (segment.content_sha256.as_str(), segment.content_bytes);
        crate::sealed::read(&path, &keys.identity, file, content, damaged, consume)
    }
}
