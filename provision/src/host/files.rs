//! File operations: observe, and write atomically with owner and mode set at creation. Each
//! acts on the open directory `Host::entry` gives (`beneath.rs`: no symlink followed below the
//! app's directory) and, for owner and mode, on the open file.

use std::fs;
use std::io::{self, Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use rustix::fs::{mkdirat, openat, statat, unlinkat, AtFlags, FileType, Mode, OFlags};

use super::atomic::{create_new_in, replace_in};
use super::beneath::{refusal, with_path};
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
        let entry = match self.entry(real) {
            Ok(entry) => entry,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        match statat(&entry.dir, &entry.name, AtFlags::SYMLINK_NOFOLLOW) {
            Ok(stat) => {
                let kind = match FileType::from_raw_mode(stat.st_mode) {
                    FileType::Symlink => FileKind::Symlink,
                    FileType::Directory => FileKind::Dir,
                    FileType::RegularFile => FileKind::File,
                    _ => FileKind::Other,
                };
                Ok(Some(FileState {
                    kind,
                    ownership: Ownership {
                        uid: stat.st_uid,
                        gid: stat.st_gid,
                        mode: stat.st_mode & 0o7777,
                    },
                    len: stat.st_size as u64,
                }))
            }
            Err(rustix::io::Errno::NOENT) => Ok(None),
            Err(e) => Err(with_path(e.into(), real)),
        }
    }

    /// A file's content; `None` when it does not exist. Below the app's directory a symlink is
    /// an error, not followed.
    pub fn read(&self, real: &Path) -> io::Result<Option<Vec<u8>>> {
        let entry = match self.entry(real) {
            Ok(entry) => entry,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        let mut flags = OFlags::RDONLY | OFlags::CLOEXEC;
        if self.is_guarded(real) {
            flags |= OFlags::NOFOLLOW;
        }
        match openat(&entry.dir, &entry.name, flags, Mode::empty()) {
            Ok(fd) => {
                let mut bytes = Vec::new();
                fs::File::from(fd)
                    .read_to_end(&mut bytes)
                    .map_err(|e| with_path(e, real))?;
                Ok(Some(bytes))
            }
            Err(rustix::io::Errno::NOENT) => Ok(None),
            Err(e) => Err(refusal(e.into(), real, real)),
        }
    }

    /// Replaces (or creates) `real` with `content`, atomically, with owner and mode set before
    /// the first byte is written (see `atomic::replace_in`).
    pub fn write_atomic(&self, real: &Path, content: &[u8], own: Ownership) -> io::Result<()> {
        let entry = self.entry(real)?;
        replace_in(
            &entry.dir,
            &entry.name,
            content,
            own.mode,
            Some((own.uid, own.gid)),
        )
        .map_err(|e| with_path(e, real))
    }

    /// Creates a new file that must not exist yet (secrets: never replaced), owner and mode set
    /// before the first byte is written; a symlink in its place is an error, not followed.
    pub fn create_new_file(&self, real: &Path, content: &[u8], own: Ownership) -> io::Result<()> {
        let entry = self.entry(real)?;
        let mut file =
            create_new_in(&entry.dir, &entry.name, own.mode).map_err(|e| with_path(e, real))?;
        let filled = std::os::unix::fs::fchown(&file, Some(own.uid), Some(own.gid))
            .and_then(|_| file.set_permissions(fs::Permissions::from_mode(own.mode)))
            .and_then(|_| file.write_all(content))
            .and_then(|_| file.sync_all());
        if filled.is_err() {
            // Do not leave a half-written secret that a later run would take as valid.
            let _ = unlinkat(&entry.dir, &entry.name, AtFlags::empty());
        }
        filled.map_err(|e| with_path(e, real))
    }

    /// Creates a directory (parents must exist) with owner and mode.
    pub fn create_dir(&self, real: &Path, own: Ownership) -> io::Result<()> {
        let entry = self.entry(real)?;
        mkdirat(&entry.dir, &entry.name, Mode::from_raw_mode(own.mode))
            .map_err(|e| with_path(e.into(), real))?;
        self.set_ownership(real, own)
    }

    /// Sets owner and mode of an existing file or directory, on the open file: a symlink in
    /// its place is an error (chmod would change the link's target).
    pub fn set_ownership(&self, real: &Path, own: Ownership) -> io::Result<()> {
        let entry = self.entry(real)?;
        let fd = openat(
            &entry.dir,
            &entry.name,
            OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| refusal(e.into(), real, real))?;
        let file = fs::File::from(fd);
        std::os::unix::fs::fchown(&file, Some(own.uid), Some(own.gid))
            .and_then(|_| file.set_permissions(fs::Permissions::from_mode(own.mode)))
            .map_err(|e| with_path(e, real))
    }

    pub fn remove_file(&self, real: &Path) -> io::Result<()> {
        let entry = match self.entry(real) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            other => other?,
        };
        match unlinkat(&entry.dir, &entry.name, AtFlags::empty()) {
            Err(rustix::io::Errno::NOENT) | Ok(()) => Ok(()),
            Err(e) => Err(with_path(e.into(), real)),
        }
    }
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
