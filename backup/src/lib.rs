//! mamoru-backup: turns a byte stream into verified, compressed, encrypted generations and back.
//! Knows nothing of the domain or the store's tables (the binary hands it bytes). So far it holds
//! the content checksum every snapshot and archive segment carries; compression (zstd),
//! encryption (age) and generations arrive with the backup issue.

use std::io::{self, Write};

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
        let digest = self.hasher.finalize();
        let hex = digest.iter().fold(String::with_capacity(64), |mut s, b| {
            use std::fmt::Write as _;
            let _ = write!(s, "{b:02x}");
            s
        });
        (self.inner, hex, self.len)
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
