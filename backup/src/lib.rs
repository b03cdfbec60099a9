//! mamoru-backup: turns a byte stream into verified, compressed, encrypted generations and back.
//! Knows nothing of the domain or the store's tables: the binary hands it bytes and a map of
//! counts. A generation is `gen-NNNNNN.age` (zstd, then age to X25519 recipients) plus
//! `gen-NNNNNN.json` (the manifest), each written to a temporary name, synced and renamed, the
//! manifest last: a generation without its manifest does not exist. The archive holds the
//! store's redo log in sealed segments between generations.
//!
//! Anyone may write the destination (a NAS), and the recipients are public, so encryption alone
//! proves nothing about who made a file. Every manifest therefore carries an HMAC under the
//! store's [`AuthKey`], which only the server and the offline identity files hold ([`Keyring`]);
//! the manifest names its file's and content's checksums, so the tag covers the payload too.
//! Reading authenticates first and refuses anything unauthenticated, edited or from another
//! store, naming the file.

mod archive;
mod error;
mod generation;
mod keys;
mod sealed;

pub use archive::{Archive, NewSegment, Segment};
pub use error::{Error, Result};
pub use generation::{Destination, FORMAT, Manifest, NewGeneration};
pub use keys::{AuthKey, Identity, Keyring, Recipient, generate_identity};

use std::io::{self, Read, Write};

use sha2::{Digest, Sha256};

/// A writer that passes bytes through and keeps their SHA-256 and length, so a snapshot's content
/// checksum is computed while it streams, not by reading it twice.
#[derive(Debug)]
pub struct Checksummed<W> {
    inner: W,
    hasher: Sha256,
    len: u64,
}

impl<W: Write> Checksummed<W> {
    pub fn new(inner: W) -> Self {
        Self { inner, hasher: Sha256::new(), len: 0 }
    }

    /// The inner writer, the hex SHA-256 of everything written, and its length.
    pub fn finish(self) -> (W, String, u64) {
        (self.inner, hex(&self.hasher.finalize()), self.len)
    }
}

impl<W: Write> Write for Checksummed<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.len += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Lower-case hex of a digest.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
        use std::fmt::Write as _;
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// A reader that keeps the SHA-256 and length of what passes through it.
#[derive(Debug)]
pub struct ChecksummedReader<R> {
    inner: R,
    hasher: Sha256,
    len: u64,
}

impl<R: Read> ChecksummedReader<R> {
    pub fn new(inner: R) -> Self {
        Self { inner, hasher: Sha256::new(), len: 0 }
    }

    /// The hex SHA-256 and length of everything read.
    pub fn finish(self) -> (String, u64) {
        (hex(&self.hasher.finalize()), self.len)
    }
}

impl<R: Read> Read for ChecksummedReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.len += n as u64;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksum_matches_sha256_of_the_stream() {
        let mut w = Checksummed::new(Vec::new());
        w.write_all(b"ab").unwrap();
        w.write_all(b"c").unwrap();
        let (bytes, sum, len) = w.finish();
        assert_eq!(bytes, b"abc");
        assert_eq!(len, 3);
        assert_eq!(sum, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }
}
