//! Backup keys: X25519 recipients (kept on the server, in the config) and identities (kept
//! offline by the operator, or the server's own verification key). Secrets never `Debug`.

use std::path::Path;
use std::str::FromStr;

use age::secrecy::ExposeSecret;

use crate::error::{Error, IDENTITY_UNREADABLE, Result, io};

/// Someone a backup is encrypted to: `age1…`.
#[derive(Clone)]
pub struct Recipient(pub(crate) age::x25519::Recipient);

impl Recipient {
    pub fn parse(s: &str) -> Result<Self> {
        age::x25519::Recipient::from_str(s.trim())
            .map(Self)
            .map_err(|e| Error::Invalid {
                what: "backup recipient", reason: format!("{e} (expected age1…)")
            })
    }
}

impl std::fmt::Display for Recipient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::fmt::Debug for Recipient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Recipient({})", self.0)
    }
}

/// A key that opens backups.
#[derive(Clone)]
pub struct Identity(pub(crate) age::x25519::Identity);

impl std::fmt::Debug for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Identity(<redacted>)")
    }
}

impl Identity {
    /// Reads an identity file: `AGE-SECRET-KEY-…` on a line of its own; `#` comments allowed.
    pub fn from_file(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(io(IDENTITY_UNREADABLE, path))?;
        text.lines()
            .map(str::trim)
            .find(|l| l.starts_with("AGE-SECRET-KEY-"))
            .and_then(|l| age::x25519::Identity::from_str(l).ok())
            .map(Self)
            .ok_or_else(|| Error::NoIdentity(path.to_owned()))
    }

    #[must_use]
    pub fn recipient(&self) -> Recipient {
        Recipient(self.0.to_public())
    }

    /// Writes the identity to a new file readable only by its owner, with a comment saying what
    /// it is. Refuses to overwrite.
    pub fn write_new(&self, path: &Path, comment: &str) -> Result<()> {
        self.write_new_with(path, comment, "")
    }

    fn write_new_with(&self, path: &Path, comment: &str, tail: &str) -> Result<()> {
        use std::io::Write;
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut f = options.open(path).map_err(io("cannot create the identity file", path))?;
        let secret = self.0.to_string();
        writeln!(f, "# {comment}\n# recipient: {}\n{}", self.recipient(), secret.expose_secret())
            .and_then(|()| f.write_all(tail.as_bytes()))
            .and_then(|()| f.sync_all())
            .map_err(io("cannot write the identity file", path))
    }
}

/// A new identity (for `mamoru init` and the demo).
#[must_use]
pub fn generate_identity() -> Identity {
    Identity(age::x25519::Identity::generate())
}

/// The key that proves a manifest was written by its store's server: 32 random bytes, held in
/// the data directory and in every offline identity file, never in a backup destination. A
/// manifest carries its HMAC-SHA256 under this key; the manifest carries the checksums of its
/// file and content, so the tag authenticates the payload too.
#[derive(Clone, PartialEq, Eq)]
pub struct AuthKey([u8; 32]);

impl std::fmt::Debug for AuthKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AuthKey(<redacted>)")
    }
}

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

impl AuthKey {
    /// A new random key.
    pub fn generate() -> Result<Self> {
        let mut key = [0u8; 32];
        getrandom::fill(&mut key).map_err(|e| Error::Invalid {
            what: "backup authentication key",
            reason: format!("no randomness from the system: {e}"),
        })?;
        Ok(Self(key))
    }

    fn parse(hex: &str) -> Option<Self> {
        let hex = hex.trim();
        if hex.len() != 64 || !hex.is_ascii() {
            return None;
        }
        let mut key = [0u8; 32];
        for (i, b) in key.iter_mut().enumerate() {
            *b = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).ok()?;
        }
        Some(Self(key))
    }

    fn mac(&self, what: &str, bytes: &[u8]) -> HmacSha256 {
        use hmac::{KeyInit, Mac};
        let mut mac = <HmacSha256 as KeyInit>::new_from_slice(&self.0).unwrap_or_else(|_| unreachable!());
        mac.update(what.as_bytes());
        mac.update(&[0]);
        mac.update(bytes);
        mac
    }

    /// The hex tag of `bytes`, `what` saying what they are (a generation's manifest or a
    /// segment's), so a tag of one kind never passes for the other.
    pub(crate) fn tag(&self, what: &str, bytes: &[u8]) -> String {
        use hmac::Mac;
        crate::hex(&self.mac(what, bytes).finalize().into_bytes())
    }

    /// Whether `tag` is this key's tag of `bytes` (compared in constant time).
    pub(crate) fn verifies(&self, what: &str, bytes: &[u8], tag: &str) -> bool {
        use hmac::Mac;
        let Some(tag) = AuthKey::parse(tag) else { return false };
        self.mac(what, bytes).verify_slice(&tag.0).is_ok()
    }
}

/// What opens and authenticates backups: an age identity, the authentication key, and what the
/// holder trusts — the store the backups must come from and the recipients a restored store
/// encrypts to. Read from an identity file, where the pins are comment lines `age` ignores:
///
/// ```text
/// AGE-SECRET-KEY-1…
/// # mamoru-backup-auth: 64 hex digits
/// # mamoru-store: the store id
/// # mamoru-recipient: age1…   (one line each)
/// ```
#[derive(Clone, Debug)]
pub struct Keyring {
    pub identity: Identity,
    pub auth: AuthKey,
    pub store_id: String,
    pub recipients: Vec<Recipient>,
}

const AUTH_PIN: &str = "# mamoru-backup-auth:";
const STORE_PIN: &str = "# mamoru-store:";
const RECIPIENT_PIN: &str = "# mamoru-recipient:";

impl Keyring {
    /// Reads an identity file with its pins. A file without an authentication key or a store
    /// (made before backups were authenticated) is `Error::NoAuthKey`.
    pub fn from_file(path: &Path) -> Result<Self> {
        let identity = Identity::from_file(path)?;
        let text = std::fs::read_to_string(path).map_err(io(IDENTITY_UNREADABLE, path))?;
        let pin = |prefix: &'static str| {
            text.lines().map(str::trim).filter_map(move |l| l.strip_prefix(prefix)).map(str::trim)
        };
        let auth = pin(AUTH_PIN).next().and_then(AuthKey::parse);
        let store_id = pin(STORE_PIN).next().filter(|s| !s.is_empty()).map(ToOwned::to_owned);
        let (Some(auth), Some(store_id)) = (auth, store_id) else {
            return Err(Error::NoAuthKey(path.to_owned()));
        };
        let recipients = pin(RECIPIENT_PIN).map(Recipient::parse).collect::<Result<Vec<_>>>()?;
        Ok(Self { identity, auth, store_id, recipients })
    }

    /// The pin lines of this keyring, for an identity file.
    fn pins(&self) -> String {
        use std::fmt::Write as _;
        let mut out = format!(
            "# The lines below are what this key trusts (age reads them as comments): backups must carry\n\
             # this authentication key's tag and come from this store; a restore encrypts to these recipients.\n\
             {AUTH_PIN} {}\n{STORE_PIN} {}\n",
            crate::hex(&self.auth.0),
            self.store_id
        );
        for r in &self.recipients {
            let _ = writeln!(out, "{RECIPIENT_PIN} {r}");
        }
        out
    }

    /// Writes the keyring to a new identity file readable only by its owner. Refuses to
    /// overwrite.
    pub fn write_new(&self, path: &Path, comment: &str) -> Result<()> {
        self.identity.write_new_with(path, comment, &self.pins())
    }

    /// Adds the pins to an identity file that has none (a data directory from before backups
    /// were authenticated), atomically. Returns whether it changed the file.
    pub fn pin_into(path: &Path, auth: &AuthKey, store_id: &str) -> Result<bool> {
        let identity = Identity::from_file(path)?;
        if Self::from_file(path).is_ok() {
            return Ok(false);
        }
        let text = std::fs::read_to_string(path).map_err(io(IDENTITY_UNREADABLE, path))?;
        // Pins that are there but unusable are someone's mistake to look at, not to bury under a
        // second set with another key.
        if text.lines().map(str::trim).any(|l| l.starts_with(AUTH_PIN) || l.starts_with(STORE_PIN)) {
            return Err(Error::NoAuthKey(path.to_owned()));
        }
        let keyring =
            Self { identity, auth: auth.clone(), store_id: store_id.to_owned(), recipients: Vec::new() };
        let dir = path.parent().unwrap_or_else(|| Path::new("."));
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let mut text = text;
        if !text.ends_with('\n') {
            text.push('\n');
        }
        text.push_str(&keyring.pins());
        crate::sealed::write_atomic_private(dir, &name, text.as_bytes())?;
        Ok(true)
    }
}

/// The tag of a manifest (serialised with its `auth` field empty) under `key`, `domain` saying
/// what kind of manifest it is.
pub(crate) fn tag_manifest<M: serde::Serialize>(unsigned: &M, key: &AuthKey, domain: &str) -> Result<String> {
    Ok(key.tag(domain, &manifest_json(unsigned)?))
}

/// What a manifest's tag vouches for, for [`check_manifest`].
pub(crate) struct Tagged<'a, M> {
    /// The manifest with its `auth` field empty.
    pub unsigned: &'a M,
    pub format: u32,
    pub auth: &'a str,
    pub source_id: &'a str,
    pub domain: &'a str,
}

/// Checks that the store's server wrote a manifest as it is (`file` names it in the error): it
/// carries a tag, comes from the keyring's store (another store's is most often the wrong key
/// brought, so that is said first), and its tag is right under the keyring's key.
pub(crate) fn check_manifest<M: serde::Serialize>(
    m: &Tagged<'_, M>,
    keys: &Keyring,
    file: &Path,
) -> Result<()> {
    let forged = |reason: &str| Error::Forged { file: file.to_owned(), reason: reason.to_owned() };
    if m.format < crate::FORMAT || m.auth.is_empty() {
        return Err(forged(
            "it carries no authentication tag (made before backups were authenticated, or planted)",
        ));
    }
    if m.source_id != keys.store_id {
        return Err(Error::AnotherStore {
            file: file.to_owned(),
            store: m.source_id.to_owned(),
            key_store: keys.store_id.clone(),
        });
    }
    if !keys.auth.verifies(m.domain, &manifest_json(m.unsigned)?, m.auth) {
        return Err(forged("its authentication tag does not match (edited, or made with another key)"));
    }
    Ok(())
}

fn manifest_json<M: serde::Serialize>(value: &M) -> Result<Vec<u8>> {
    serde_json::to_vec(value).map_err(|e| Error::Invalid { what: "manifest", reason: e.to_string() })
}
