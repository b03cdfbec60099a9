//! Read-only SFTP on the console's SSH server, for fetching what an administrator takes to a PC:
//! the backup folder's generations and change archive (they stay encrypted) and the console's
//! audit exports. OpenSSH's `sftp` speaks it, and so does its `scp` (SFTP since OpenSSH 9).
//!
//! The tree is `/` with one folder per `Folder` the user's role may use (`/backups`,
//! `/exports`); nothing outside them can be named. Nothing can be written, renamed, removed or
//! have its attributes changed. Symbolic links and dot files (a generation still being written)
//! are neither listed nor opened. Opening a file is audited (core's `authorize_download`);
//! listing is not (file names hold no personal data). Each listing, look-up and opening first
//! checks that the console user may still sign in, so disabling them or removing their key ends
//! this too.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use mamoru_core::staff::Action;
use mamoru_core::{Actor, Service};
use russh_sftp::protocol::{
    Attrs, Data, File, FileAttributes, Handle, Name, OpenFlags, Status, StatusCode, Version,
};
use russh_sftp::server::StatusReply;

/// A folder offered read-only, and the permission a user needs to see it.
#[derive(Clone, Debug)]
pub struct Folder {
    /// Its name at the top of the tree (`backups`).
    pub name: String,
    pub path: PathBuf,
    pub action: Action,
}

/// At most this many files and folders open at once per connection.
const MAX_OPEN: usize = 64;
/// The most entries one folder read returns.
const LIST_BATCH: usize = 200;
/// The most one read returns (OpenSSH asks for 32 KiB; some clients ask for more).
const MAX_READ: u32 = 256 * 1024;

/// One SFTP session of a signed-in console user.
pub struct Files {
    service: Arc<Service>,
    actor: Actor,
    key: String,
    folders: Vec<Folder>,
    open: HashMap<String, Open>,
    next: u64,
}

enum Open {
    /// A listing not handed out yet, in order (the next entries last, to pop).
    Dir(Vec<File>),
    File(Arc<std::fs::File>),
}

/// What a path names.
enum Target {
    Root,
    /// A file or folder inside `folders[index]`: the names below it, and its name in the tree.
    In {
        index: usize,
        steps: Vec<String>,
        shown: String,
    },
}

type Reply<T> = Result<T, StatusReply>;

fn refuse(code: StatusCode, message: &str) -> StatusReply {
    code.with_message(message)
}

fn read_only() -> StatusReply {
    refuse(StatusCode::PermissionDenied, "read-only: nothing can be changed here")
}

fn missing() -> StatusReply {
    refuse(StatusCode::NoSuchFile, "no such file")
}

/// Runs file-system work off the async workers (the backup folder may be a network mount).
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Reply<T> + Send + 'static) -> Reply<T> {
    tokio::task::spawn_blocking(f)
        .await
        .unwrap_or_else(|_| Err(refuse(StatusCode::Failure, "internal error")))
}

/// The tree's form of `path`: absolute, without `.`, `..` or empty parts (`..` stops at `/`).
fn normal(path: &str) -> Vec<String> {
    let mut parts: Vec<String> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p.to_owned()),
        }
    }
    parts
}

/// Attributes as a client should see them: read-only, times and size from the disk.
fn attributes(meta: &std::fs::Metadata) -> FileAttributes {
    let mut attrs = FileAttributes::from(meta);
    attrs.permissions = attrs.permissions.map(|p| p & !0o222);
    attrs.uid = None;
    attrs.gid = None;
    attrs
}

fn folder_attributes() -> FileAttributes {
    let mut attrs = FileAttributes::empty();
    attrs.permissions = Some(0o040_500);
    attrs
}

/// Whether `name` may be shown and opened: not a dot file, not a link.
fn visible(name: &str, meta: &std::fs::Metadata) -> bool {
    !name.starts_with('.') && !meta.file_type().is_symlink()
}

/// Checks each step below `base` on the way to `real`: none may be a link or a dot file.
fn check_steps(base: &Path, steps: &[String]) -> Reply<std::fs::Metadata> {
    let mut at = base.to_owned();
    let mut meta = std::fs::metadata(base).map_err(|_| missing())?;
    for step in steps {
        at.push(step);
        meta = std::fs::symlink_metadata(&at).map_err(|_| missing())?;
        if !visible(step, &meta) {
            return Err(missing());
        }
    }
    Ok(meta)
}

impl Files {
    /// The session of `actor`, signed in with `key`, over the folders their role may use.
    pub fn new(service: Arc<Service>, actor: Actor, key: String, folders: Vec<Folder>) -> Self {
        let folders = folders.into_iter().filter(|f| actor.may(f.action)).collect();
        Self { service, actor, key, folders, open: HashMap::new(), next: 0 }
    }

    /// Refuses everything once the user may no longer sign in.
    async fn still_valid(&self) -> Reply<()> {
        let (service, actor, key) = (Arc::clone(&self.service), self.actor.clone(), self.key.clone());
        let valid = tokio::task::spawn_blocking(move || service.console_still_valid(&actor, &key))
            .await
            .unwrap_or(false);
        if valid { Ok(()) } else { Err(refuse(StatusCode::PermissionDenied, "signed out")) }
    }

    fn resolve(&self, path: &str) -> Reply<Target> {
        let mut parts = normal(path);
        if parts.is_empty() {
            return Ok(Target::Root);
        }
        let shown = parts.join("/");
        let top = parts.remove(0);
        let index = self.folders.iter().position(|f| f.name == top).ok_or_else(missing)?;
        Ok(Target::In { index, steps: parts, shown })
    }

    /// Where a target inside a folder is on disk.
    fn real(&self, index: usize, steps: &[String]) -> PathBuf {
        let mut real = self.folders[index].path.clone();
        real.extend(steps);
        real
    }

    /// The metadata of a target inside a folder, checked step by step.
    async fn metadata(&self, index: usize, steps: &[String]) -> Reply<std::fs::Metadata> {
        let (base, steps) = (self.folders[index].path.clone(), steps.to_vec());
        blocking(move || check_steps(&base, &steps)).await
    }

    fn keep(&mut self, open: Open) -> Reply<String> {
        if self.open.len() >= MAX_OPEN {
            return Err(refuse(StatusCode::Failure, "too many open files"));
        }
        self.next += 1;
        let handle = self.next.to_string();
        self.open.insert(handle.clone(), open);
        Ok(handle)
    }

    async fn attributes_of(&self, path: &str) -> Reply<FileAttributes> {
        self.still_valid().await?;
        match self.resolve(path)? {
            Target::Root => Ok(folder_attributes()),
            Target::In { index, steps, .. } => Ok(attributes(&self.metadata(index, &steps).await?)),
        }
    }
}

impl russh_sftp::server::Handler for Files {
    type Error = StatusReply;

    fn unimplemented(&self) -> Self::Error {
        refuse(StatusCode::OpUnsupported, "not supported")
    }

    async fn init(&mut self, _version: u32, _extensions: HashMap<String, String>) -> Reply<Version> {
        Ok(Version::new())
    }

    async fn realpath(&mut self, id: u32, path: String) -> Reply<Name> {
        let shown = format!("/{}", normal(&path).join("/"));
        Ok(Name { id, files: vec![File::dummy(shown)] })
    }

    async fn stat(&mut self, id: u32, path: String) -> Reply<Attrs> {
        Ok(Attrs { id, attrs: self.attributes_of(&path).await? })
    }

    async fn lstat(&mut self, id: u32, path: String) -> Reply<Attrs> {
        Ok(Attrs { id, attrs: self.attributes_of(&path).await? })
    }

    async fn fstat(&mut self, id: u32, handle: String) -> Reply<Attrs> {
        match self.open.get(&handle) {
            Some(Open::File(file)) => {
                let file = Arc::clone(file);
                let meta = blocking(move || file.metadata().map_err(|_| missing())).await?;
                Ok(Attrs { id, attrs: attributes(&meta) })
            }
            Some(Open::Dir(_)) => Ok(Attrs { id, attrs: folder_attributes() }),
            None => Err(refuse(StatusCode::Failure, "no such handle")),
        }
    }

    async fn opendir(&mut self, id: u32, path: String) -> Reply<Handle> {
        self.still_valid().await?;
        let mut listing = match self.resolve(&path)? {
            Target::Root => {
                let folders: Vec<(String, PathBuf)> =
                    self.folders.iter().map(|f| (f.name.clone(), f.path.clone())).collect();
                blocking(move || {
                    // A folder not made yet (no export so far) is listed, empty.
                    Ok(folders
                        .into_iter()
                        .map(|(name, path)| {
                            let attrs = std::fs::metadata(path)
                                .map_or_else(|_| folder_attributes(), |m| attributes(&m));
                            File::new(name, attrs)
                        })
                        .collect())
                })
                .await?
            }
            Target::In { index, steps, .. } => {
                match self.metadata(index, &steps).await {
                    // A top folder not made yet (no export so far) lists empty, as at the top.
                    Err(_) if steps.is_empty() => Vec::new(),
                    Err(e) => return Err(e),
                    Ok(meta) if !meta.is_dir() => return Err(refuse(StatusCode::NoSuchFile, "not a folder")),
                    Ok(_) => {
                        let real = self.real(index, &steps);
                        blocking(move || {
                            let mut files = Vec::new();
                            for entry in std::fs::read_dir(&real).map_err(|_| missing())?.flatten() {
                                let name = entry.file_name().to_string_lossy().into_owned();
                                if let Ok(meta) = std::fs::symlink_metadata(entry.path())
                                    && visible(&name, &meta)
                                {
                                    files.push(File::new(name, attributes(&meta)));
                                }
                            }
                            files.sort_by(|a, b| a.filename.cmp(&b.filename));
                            Ok(files)
                        })
                        .await?
                    }
                }
            }
        };
        listing.reverse();
        Ok(Handle { id, handle: self.keep(Open::Dir(listing))? })
    }

    async fn readdir(&mut self, id: u32, handle: String) -> Reply<Name> {
        match self.open.get_mut(&handle) {
            // A few at a time: a whole archive folder (a segment a minute) in one reply would
            // pass the largest message a client accepts (OpenSSH: 256 KiB).
            Some(Open::Dir(rest)) if !rest.is_empty() => {
                let files = (0..LIST_BATCH).map_while(|_| rest.pop()).collect();
                Ok(Name { id, files })
            }
            Some(Open::Dir(_)) => Err(refuse(StatusCode::Eof, "end of folder")),
            _ => Err(refuse(StatusCode::Failure, "no such handle")),
        }
    }

    async fn open(
        &mut self,
        id: u32,
        filename: String,
        pflags: OpenFlags,
        _attrs: FileAttributes,
    ) -> Reply<Handle> {
        let writes = OpenFlags::WRITE | OpenFlags::APPEND | OpenFlags::CREATE | OpenFlags::TRUNCATE;
        if pflags.intersects(writes) || pflags.contains(OpenFlags::EXCLUDE) {
            return Err(read_only());
        }
        self.still_valid().await?;
        let Target::In { index, steps, shown } = self.resolve(&filename)? else {
            return Err(refuse(StatusCode::Failure, "a folder, not a file"));
        };
        if !self.metadata(index, &steps).await?.is_file() {
            return Err(refuse(StatusCode::Failure, "not a file"));
        }
        // Audited before a byte is read; refused (and audited as refused) without the role.
        let (service, actor, needs) =
            (Arc::clone(&self.service), self.actor.clone(), self.folders[index].action);
        blocking(move || {
            service
                .authorize_download(&actor, needs, &shown)
                .map_err(|_| refuse(StatusCode::PermissionDenied, "permission denied"))
        })
        .await?;
        let real = self.real(index, &steps);
        let file = blocking(move || std::fs::File::open(&real).map_err(|_| missing())).await?;
        Ok(Handle { id, handle: self.keep(Open::File(Arc::new(file)))? })
    }

    async fn read(&mut self, id: u32, handle: String, offset: u64, len: u32) -> Reply<Data> {
        let Some(Open::File(file)) = self.open.get(&handle) else {
            return Err(refuse(StatusCode::Failure, "no such handle"));
        };
        let file = Arc::clone(file);
        let data = blocking(move || {
            let mut buf = vec![0; len.min(MAX_READ) as usize];
            let n = std::os::unix::fs::FileExt::read_at(&*file, &mut buf, offset)
                .map_err(|_| refuse(StatusCode::Failure, "cannot read"))?;
            buf.truncate(n);
            Ok(buf)
        })
        .await?;
        if data.is_empty() && len > 0 {
            return Err(refuse(StatusCode::Eof, "end of file"));
        }
        Ok(Data { id, data })
    }

    async fn close(&mut self, id: u32, handle: String) -> Reply<Status> {
        if self.open.remove(&handle).is_none() {
            return Err(refuse(StatusCode::Failure, "no such handle"));
        }
        Ok(Status {
            id,
            status_code: StatusCode::Ok,
            error_message: "Ok".into(),
            language_tag: "en-US".into(),
        })
    }

    async fn write(&mut self, _id: u32, _handle: String, _offset: u64, _data: Vec<u8>) -> Reply<Status> {
        Err(read_only())
    }

    async fn setstat(&mut self, _id: u32, _path: String, _attrs: FileAttributes) -> Reply<Status> {
        Err(read_only())
    }

    async fn fsetstat(&mut self, _id: u32, _handle: String, _attrs: FileAttributes) -> Reply<Status> {
        Err(read_only())
    }

    async fn remove(&mut self, _id: u32, _filename: String) -> Reply<Status> {
        Err(read_only())
    }

    async fn mkdir(&mut self, _id: u32, _path: String, _attrs: FileAttributes) -> Reply<Status> {
        Err(read_only())
    }

    async fn rmdir(&mut self, _id: u32, _path: String) -> Reply<Status> {
        Err(read_only())
    }

    async fn rename(&mut self, _id: u32, _oldpath: String, _newpath: String) -> Reply<Status> {
        Err(read_only())
    }

    async fn symlink(&mut self, _id: u32, _linkpath: String, _targetpath: String) -> Reply<Status> {
        Err(read_only())
    }
}
