//! One dtops run per app at a time: an exclusive lock on a file that names its holder.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::PathBuf;

use anyhow::{bail, Context};

use crate::host::Host;
use crate::site::Site;

/// Held for the whole run (migrations included); released when dropped or when the process dies.
pub struct AppLock {
    _file: File,
}

impl AppLock {
    pub fn acquire(host: &Host, site: &Site) -> anyhow::Result<AppLock> {
        let real = site.lock_file();
        host.create_parents(&real)?;
        let path: PathBuf = host.path(&real);
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            // /run/lock is writable by everyone: a symlink planted there is never followed.
            .custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32)
            .open(&path)
            .with_context(|| format!("cannot open the lock file {}", real.display()))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let mut holder = String::new();
                let _ = file.read_to_string(&mut holder);
                bail!(
                    "another dtops run holds the lock {} ({}); wait for it to finish. \
                     If that process is gone the lock is already free: run again",
                    real.display(),
                    holder.trim().replace('\n', ", ")
                );
            }
            Err(TryLockError::Error(e)) => {
                return Err(e).with_context(|| format!("cannot lock {}", real.display()))
            }
        }
        let holder = format!(
            "pid={}\nsince={}\ncommand={}\n",
            std::process::id(),
            chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            std::env::args().collect::<Vec<_>>().join(" ")
        );
        file.set_len(0)?;
        file.rewind()?;
        file.write_all(holder.as_bytes())?;
        file.flush()?;
        Ok(AppLock { _file: file })
    }
}
