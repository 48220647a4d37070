//! Root writing inside a tree another user owns. The app root belongs to the site user, who
//! can put a symlink anywhere below it (`secrets/pg_password -> /etc/shadow`, or `.dtops`
//! itself -> a directory of theirs). So below the guarded top, dtops opens each directory
//! without following a symlink (O_NOFOLLOW), then works on the open directory (openat,
//! renameat, unlinkat) and on open files (fchown, fchmod): a planted symlink is an error,
//! never followed. Elsewhere (/etc, /run/lock) the directories are root's own.

use std::ffi::{OsStr, OsString};
use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::path::{Component, Path, PathBuf};

use rustix::fs::{openat, Mode, OFlags, CWD};

use super::sandbox::Host;

/// An open directory and the name of an entry in it: where a file operation acts.
pub struct Entry {
    pub dir: OwnedFd,
    pub name: OsString,
}

impl Host {
    /// The directory holding host path `real`, opened safely (see the module comment).
    pub(super) fn entry(&self, real: &Path) -> io::Result<Entry> {
        let full = self.path(real);
        let (Some(parent), Some(name)) = (full.parent(), full.file_name()) else {
            return Err(io::Error::other(format!(
                "{} does not name a file",
                real.display()
            )));
        };
        let dir = match self.guard().filter(|top| parent.starts_with(top)) {
            Some(top) => {
                let mut dir = open_dir(&top).map_err(|e| with_path(e, real))?;
                let mut at = top.clone();
                for part in parent.strip_prefix(&top).unwrap_or(parent).components() {
                    at.push(part);
                    dir = open_below(&dir, part.as_os_str()).map_err(|e| refusal(e, &at, real))?;
                }
                dir
            }
            None => open_dir(parent).map_err(|e| with_path(e, real))?,
        };
        Ok(Entry {
            dir,
            name: name.to_os_string(),
        })
    }

    /// Creates the missing directories above `real` (root's, 0755); below the guarded top
    /// without following a symlink.
    pub fn create_parents(&self, real: &Path) -> io::Result<()> {
        let full = self.path(real);
        let Some(parent) = full.parent() else {
            return Ok(());
        };
        let Some(top) = self.guard().filter(|top| parent.starts_with(top)) else {
            return std::fs::DirBuilder::new()
                .recursive(true)
                .create(parent)
                .map_err(|e| with_path(e, real));
        };
        let mut dir = open_dir(&top).map_err(|e| with_path(e, real))?;
        let mut at = top.clone();
        for part in parent.strip_prefix(&top).unwrap_or(parent).components() {
            let Component::Normal(name) = part else {
                continue;
            };
            at.push(name);
            match rustix::fs::mkdirat(&dir, name, Mode::from_raw_mode(0o755)) {
                Err(e) if e != rustix::io::Errno::EXIST => {
                    return Err(with_path(e.into(), real));
                }
                _ => {}
            }
            dir = open_below(&dir, name).map_err(|e| refusal(e, &at, real))?;
        }
        Ok(())
    }

    /// The guarded top as it is on this machine (relocated in a sandbox).
    fn guard(&self) -> Option<PathBuf> {
        self.guarded_top().map(|top| self.path(top))
    }
}

/// A directory dtops trusts the path of (root's own, or the guarded top, whose parent is root's).
fn open_dir(path: &Path) -> io::Result<OwnedFd> {
    Ok(openat(
        CWD,
        path,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )?)
}

/// Directory `name` in `dir`, refusing a symlink.
fn open_below(dir: impl AsFd, name: &OsStr) -> io::Result<OwnedFd> {
    Ok(openat(
        dir,
        name,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::empty(),
    )?)
}

/// ELOOP/ENOTDIR from a no-follow open at `at`: say that a symlink (or a file) is in the way.
pub(super) fn refusal(e: io::Error, at: &Path, real: &Path) -> io::Error {
    match rustix::io::Errno::from_io_error(&e) {
        Some(rustix::io::Errno::LOOP | rustix::io::Errno::NOTDIR) => io::Error::other(format!(
            "{}: {} is a symbolic link (or not a directory); dtops does not follow links \
             below the app's directory, which another user owns: remove it and run again",
            real.display(),
            at.display()
        )),
        _ => with_path(e, real),
    }
}

/// io errors name the host path (as site.toml does), so messages match the operator's view.
pub(super) fn with_path(e: io::Error, real: &Path) -> io::Error {
    io::Error::new(e.kind(), format!("{}: {e}", real.display()))
}
