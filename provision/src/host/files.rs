//! File operations: observe, and write atomically with owner and mode set at creation.

use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

use super::atomic::replace_file;
use super::sandbox::Host;

/// Who owns a file and its permission bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ownership {
    pub uid: u32,
    pub gid: u32,
    pub mode: u32,
}

impl std::fmt::Display for Ownership {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{} {:04o}", self.uid, self.gid, self.mode)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    File,
    Dir,
    Symlink,
    Other,
}

/// What is at a path now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileState {
    pub kind: FileKind,
    pub ownership: Ownership,
    pub len: u64,
}

impl Host {
    /// What is at `real` (not following a final symlink); `None` when nothing is.
    pub fn state(&self, real: &Path) -> io::Result<Option<FileState>> {
        match fs::symlink_metadata(self.path(real)) {
            Ok(meta) => {
                let kind = if meta.file_type().is_symlink() {
                    FileKind::Symlink
                } else if meta.is_dir() {
                    FileKind::Dir
                } else if meta.is_file() {
                    FileKind::File
                } else {
                    FileKind::Other
                };
                Ok(Some(FileState {
                    kind,
                    ownership: Ownership {
                        uid: meta.uid(),
                        gid: meta.gid(),
                        mode: meta.mode() & 0o7777,
                    },
                    len: meta.len(),
                }))
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// A file's content; `None` when it does not exist.
    pub fn read(&self, real: &Path) -> io::Result<Option<Vec<u8>>> {
        match fs::read(self.path(real)) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(with_path(e, real)),
        }
    }

    /// Replaces (or creates) `real` with `content`, atomically, with owner and mode set before
    /// the first byte is written (see `atomic::replace_file`).
    pub fn write_atomic(&self, real: &Path, content: &[u8], own: Ownership) -> io::Result<()> {
        replace_file(
            &self.path(real),
            content,
            own.mode,
            Some((own.uid, own.gid)),
        )
        .map_err(|e| with_path(e, real))
    }

    /// Creates a new file that must not exist yet (secrets: never replaced), owner and mode set
    /// before the first byte is written.
    pub fn create_new_file(&self, real: &Path, content: &[u8], own: Ownership) -> io::Result<()> {
        let target = self.path(real);
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(own.mode)
            .open(&target)
            .map_err(|e| with_path(e, real))?;
        let filled = std::os::unix::fs::fchown(&file, Some(own.uid), Some(own.gid))
            .and_then(|_| file.set_permissions(fs::Permissions::from_mode(own.mode)))
            .and_then(|_| file.write_all(content))
            .and_then(|_| file.sync_all());
        if filled.is_err() {
            // Do not leave a half-written secret that a later run would take as valid.
            let _ = fs::remove_file(&target);
        }
        filled.map_err(|e| with_path(e, real))
    }

    /// Creates a directory (parents must exist) with owner and mode.
    pub fn create_dir(&self, real: &Path, own: Ownership) -> io::Result<()> {
        let target = self.path(real);
        fs::DirBuilder::new()
            .mode(own.mode)
            .create(&target)
            .map_err(|e| with_path(e, real))?;
        self.set_ownership(real, own)
    }

    /// Creates missing parent directories of a path with root ownership and mode 0755 (for
    /// paths like /etc/nginx/sites-available in a fresh sandbox).
    pub fn create_parents(&self, real: &Path) -> io::Result<()> {
        if let Some(parent) = self.path(real).parent() {
            fs::DirBuilder::new()
                .recursive(true)
                .mode(0o755)
                .create(parent)
                .map_err(|e| with_path(e, real))?;
        }
        Ok(())
    }

    /// Sets owner and mode of an existing path (does not follow a final symlink for the owner).
    pub fn set_ownership(&self, real: &Path, own: Ownership) -> io::Result<()> {
        let target = self.path(real);
        std::os::unix::fs::lchown(&target, Some(own.uid), Some(own.gid))
            .and_then(|_| fs::set_permissions(&target, fs::Permissions::from_mode(own.mode)))
            .map_err(|e| with_path(e, real))
    }

    pub fn remove_file(&self, real: &Path) -> io::Result<()> {
        match fs::remove_file(self.path(real)) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(with_path(e, real)),
            _ => Ok(()),
        }
    }
}

/// io errors name the host path (as site.toml does), so messages match the operator's view.
fn with_path(e: io::Error, real: &Path) -> io::Error {
    io::Error::new(e.kind(), format!("{}: {e}", real.display()))
}

#[cfg(test)]
mod tests {
    use crate::host::files::*;

    #[test]
    fn writes_relocate_and_set_owner_and_mode() {
        let dir = tempfile::tempdir().unwrap();
        let host = Host::new(Some(dir.path().to_path_buf()));
        let real = Path::new("/srv/app/file");
        host.create_parents(real).unwrap();
        let own = Ownership {
            uid: 10001,
            gid: 10001,
            mode: 0o400,
        };
        host.write_atomic(real, b"one", own).unwrap();
        let on_disk = dir.path().join("srv/app/file");
        assert_eq!(fs::read(&on_disk).unwrap(), b"one");
        let state = host.state(real).unwrap().unwrap();
        assert_eq!(state.ownership, own);
        host.write_atomic(real, b"two", own).unwrap();
        assert_eq!(host.read(real).unwrap().unwrap(), b"two");
        // No temporary file is left behind.
        assert_eq!(fs::read_dir(dir.path().join("srv/app")).unwrap().count(), 1);
        let err = host.create_new_file(real, b"three", own).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::AlreadyExists);
        assert!(err.to_string().contains("/srv/app/file"), "{err}");
        assert_eq!(host.read(real).unwrap().unwrap(), b"two");
    }
}
