//! Backup keys: X25519 recipients (kept on the server, in the config) and identities (kept
//! offline by the operator, or the server's own verification key). Secrets never `Debug`.

use std::path::Path;
use std::str::FromStr;

use age::secrecy::ExposeSecret;

use crate::error::{Error, Result, io};

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
pub struct Identity(pub(crate) age::x25519::Identity);

impl std::fmt::Debug for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Identity(<redacted>)")
    }
}

impl Identity {
    /// Reads an identity file: `AGE-SECRET-KEY-…` on a line of its own; `#` comments allowed.
    pub fn from_file(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(io("cannot read the identity file", path))?;
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
            .and_then(|()| f.sync_all())
            .map_err(io("cannot write the identity file", path))
    }
}

/// A new identity (for `mamoru init` and the demo).
#[must_use]
pub fn generate_identity() -> Identity {
    Identity(age::x25519::Identity::generate())
}
