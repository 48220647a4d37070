//! The one way dtops replaces a file: a temporary file in the same directory, created with the
//! final mode (and owner), filled, synced, then renamed over the target. A reader sees the old
//! file or the new one, never half of one, and never a moment with looser permissions. Both
//! steps act on the open directory: the temporary file is created new (O_EXCL, O_NOFOLLOW) and
//! the rename replaces whatever is at the name, a planted symlink included, never its target.

use std::ffi::OsStr;
use std::fs::{self, File};
use std::io::{self, Write};
use std::os::fd::AsFd;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use rustix::fs::{openat, renameat, unlinkat, AtFlags, Mode, OFlags, CWD};

/// Replaces (or creates) the file at `target`, a path on this machine as it is (no `--root`
/// relocation: `Host::write_atomic` relocates first). `owner`: uid and gid to give it; `None`
/// keeps the writer's.
pub fn replace_file(
    target: &Path,
    content: &[u8],
    mode: u32,
    owner: Option<(u32, u32)>,
) -> io::Result<()> {
    let dir = target.parent().filter(|d| !d.as_os_str().is_empty());
    let dir = dir.unwrap_or(Path::new("."));
    let name = target
        .file_name()
        .ok_or_else(|| io::Error::other(format!("{} does not name a file", target.display())))?;
    let dir = openat(
        CWD,
        dir,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )?;
    replace_in(&dir, name, content, mode, owner)
}

/// Replaces (or creates) file `name` in the open directory `dir`.
pub(super) fn replace_in(
    dir: impl AsFd,
    name: &OsStr,
    content: &[u8],
    mode: u32,
    owner: Option<(u32, u32)>,
) -> io::Result<()> {
    let dir = dir.as_fd();
    let mut temp = OsStr::new(".").to_os_string();
    temp.push(name);
    temp.push(format!(".dtops-{}", std::process::id()));
    let _ = unlinkat(dir, &temp, AtFlags::empty());
    let result = (|| {
        let mut file = create_new_in(dir, &temp, mode)?;
        if let Some((uid, gid)) = owner {
            std::os::unix::fs::fchown(&file, Some(uid), Some(gid))?;
        }
        // The umask may have narrowed the mode given at open; set it exactly.
        file.set_permissions(fs::Permissions::from_mode(mode))?;
        file.write_all(content)?;
        file.sync_all()?;
        Ok(renameat(dir, &temp, dir, name)?)
    })();
    if result.is_err() {
        let _ = unlinkat(dir, &temp, AtFlags::empty());
    }
    result
}

/// A new file `name` in `dir`: never an existing one, never through a symlink.
pub(super) fn create_new_in(dir: impl AsFd, name: &OsStr, mode: u32) -> io::Result<File> {
    let fd = openat(
        dir,
        name,
        OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::from_raw_mode(mode),
    )?;
    Ok(File::from(fd))
}
