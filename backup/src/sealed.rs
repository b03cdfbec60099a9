//! Sealed files: a byte stream compressed (zstd), encrypted (age) and checksummed on its way to
//! disk, and the same checks on its way back; atomic placement. Shared by generations and the
//! archive.

use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::Path;

use crate::error::{Error, Result, io};
use crate::keys::{Identity, Recipient};
use crate::{Checksummed, ChecksummedReader};

/// What a sealed file's manifest must record.
pub(crate) struct Sealed<M> {
    pub meta: M,
    pub file_sha256: String,
    pub file_bytes: u64,
    pub content_sha256: String,
    pub content_bytes: u64,
}

/// Streams `produce`'s bytes through zstd and age into `tmp`, synced.
pub(crate) fn write<M, E: std::fmt::Display>(
    tmp: &Path,
    recipients: &[Recipient],
    produce: impl FnOnce(&mut dyn Write) -> Result<M, E>,
) -> Result<Sealed<M>> {
    let file = create_new(tmp)?;
    let outer = Checksummed::new(BufWriter::with_capacity(1 << 20, file));
    let encryptor = age::Encryptor::with_recipients(recipients.iter().map(|r| &r.0 as &dyn age::Recipient))
        .map_err(|e| Error::Invalid { what: "backup recipients", reason: e.to_string() })?;
    let age_writer = encryptor.wrap_output(outer).map_err(io("cannot write", tmp))?;
    let mut zstd =
        zstd::stream::Encoder::new(age_writer, 3).map_err(io("cannot start compression for", tmp))?;
    zstd.include_checksum(true).map_err(io("cannot start compression for", tmp))?;
    let _ = zstd.multithread(2);
    let mut content = Checksummed::new(zstd);
    let meta = produce(&mut content).map_err(|e| Error::Source(e.to_string()))?;
    content.flush().map_err(io("cannot write", tmp))?;
    let (zstd, content_sha256, content_bytes) = content.finish();
    let age_writer = zstd.finish().map_err(io("cannot finish compression of", tmp))?;
    let outer = age_writer.finish().map_err(io("cannot finish encryption of", tmp))?;
    let (buffered, file_sha256, file_bytes) = outer.finish();
    let file = buffered.into_inner().map_err(|e| Error::Io {
        context: "cannot write",
        path: tmp.to_owned(),
        source: e.into_error(),
    })?;
    file.sync_all().map_err(io("cannot sync", tmp))?;
    Ok(Sealed { meta, file_sha256, file_bytes, content_sha256, content_bytes })
}

/// A new file at `path` (a temporary name in the destination, which others may write): a
/// leftover goes first, and the file is created only if nothing is there, so a planted link is
/// never followed.
fn create_new(path: &Path) -> Result<File> {
    let _ = std::fs::remove_file(path);
    std::fs::OpenOptions::new().write(true).create_new(true).open(path).map_err(io("cannot create", path))
}

/// Hashes what passes through into a hasher shared with the caller, so the file's checksum is
/// taken from the very bytes that were decrypted, on one open file.
struct Tee<R> {
    inner: R,
    sum: std::rc::Rc<std::cell::RefCell<(sha2::Sha256, u64)>>,
}

impl<R: Read> Read for Tee<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        use sha2::Digest;
        let n = self.inner.read(buf)?;
        let mut sum = self.sum.borrow_mut();
        sum.0.update(&buf[..n]);
        sum.1 += n as u64;
        Ok(n)
    }
}

/// Decrypts and decompresses `path` for `consume`, then checks the file against `file` and the
/// content against `content` (each `(sha256, bytes)`). The file is hashed as it is decrypted,
/// through the one open file, so a file swapped after an earlier check cannot slip in. Damage of
/// any kind becomes `damaged(reason)`; a key that does not open it, `Error::WrongKey`. What
/// `consume` made stays provisional until this returns `Ok`.
pub(crate) fn read<T, E: std::fmt::Display>(
    path: &Path,
    identity: &Identity,
    file: (&str, u64),
    content: (&str, u64),
    damaged: impl Fn(String) -> Error,
    consume: impl FnOnce(&mut dyn Read) -> Result<T, E>,
) -> Result<T> {
    use sha2::Digest;
    let f = File::open(path).map_err(io("cannot open", path))?;
    // The same open file description: what the decryptor leaves unread is read through it.
    let rest = f.try_clone().map_err(io("cannot open", path))?;
    let sum = std::rc::Rc::new(std::cell::RefCell::new((sha2::Sha256::new(), 0u64)));
    let tee = Tee { inner: f, sum: sum.clone() };
    let decryptor = age::Decryptor::new_buffered(BufReader::with_capacity(1 << 20, tee))
        .map_err(|e| damaged(format!("not a readable age file: {e}")))?;
    let plain =
        decryptor.decrypt(std::iter::once(&identity.0 as &dyn age::Identity)).map_err(|e| match e {
            age::DecryptError::NoMatchingKeys => Error::WrongKey,
            other => damaged(format!("cannot decrypt: {other}")),
        })?;
    let zstd = zstd::stream::Decoder::new(plain).map_err(io("cannot start decompression of", path))?;
    let mut plain = ChecksummedReader::new(zstd);
    let value = consume(&mut plain).map_err(|e| damaged(e.to_string()))?;
    std::io::copy(&mut plain, &mut std::io::sink())
        .map_err(|e| damaged(format!("content unreadable: {e}")))?;
    let (sha, len) = plain.finish();
    if len != content.1 || sha != content.0 {
        return Err(damaged("content does not match the manifest".into()));
    }
    std::io::copy(&mut Tee { inner: rest, sum: sum.clone() }, &mut std::io::sink())
        .map_err(io("cannot read", path))?;
    let (hasher, len) = sum.replace((sha2::Sha256::new(), 0));
    if len != file.1 || crate::hex(&hasher.finalize()) != file.0 {
        return Err(damaged("the file changed while it was read".into()));
    }
    Ok(value)
}

/// Writes `bytes` to `path` atomically: a temporary file, synced, renamed, the directory synced.
pub(crate) fn write_atomic(dir: &Path, name: &str, bytes: &[u8]) -> Result<()> {
    write_atomic_mode(dir, name, bytes, 0o644)
}

/// [`write_atomic`] for a file only its owner may read (a key file).
pub(crate) fn write_atomic_private(dir: &Path, name: &str, bytes: &[u8]) -> Result<()> {
    write_atomic_mode(dir, name, bytes, 0o600)
}

fn write_atomic_mode(dir: &Path, name: &str, bytes: &[u8], mode: u32) -> Result<()> {
    let tmp = dir.join(format!(".{name}.tmp"));
    let path = dir.join(name);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(mode);
    }
    #[cfg(not(unix))]
    let _ = mode;
    // A leftover temporary file (or a link someone put there) goes first; `create_new` then
    // never follows a link, even a dangling one.
    let _ = std::fs::remove_file(&tmp);
    let mut f = options.open(&tmp).map_err(io("cannot create", &tmp))?;
    f.write_all(bytes).and_then(|()| f.sync_all()).map_err(io("cannot write", &tmp))?;
    std::fs::rename(&tmp, &path).map_err(io("cannot rename into place", &path))?;
    sync_dir(dir)
}

pub(crate) fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir).and_then(|d| d.sync_all()).map_err(io("cannot sync", dir))
}

/// Checks a sealed file's size and SHA-256 against its manifest, without the key; `damaged`
/// names what failed.
pub(crate) fn check_file(
    path: &Path,
    expected: (&str, u64),
    damaged: impl Fn(String) -> Error,
) -> Result<()> {
    let f = File::open(path).map_err(|e| damaged(format!("{}: {e}", path.display())))?;
    let mut reader = ChecksummedReader::new(BufReader::with_capacity(1 << 20, f));
    std::io::copy(&mut reader, &mut std::io::sink()).map_err(io("cannot read", path))?;
    let (sha, len) = reader.finish();
    if len != expected.1 {
        return Err(damaged(format!("file is {len} bytes, the manifest says {}", expected.1)));
    }
    if sha != expected.0 {
        return Err(damaged("file checksum does not match the manifest".into()));
    }
    Ok(())
}
