//! The host-wide nginx lock: one change to nginx's configuration at a time, whichever app's
//! dtops makes it, and certbot's deploy hook (`flock` on the same file) waits for it too.

use std::fs::{File, OpenOptions, TryLockError};
use std::os::unix::fs::OpenOptionsExt;
use std::time::Duration;

use anyhow::Context;

use crate::env::Env;
use crate::poll;

/// How long to wait for another holder (a reload takes well under a second).
const WAIT: Duration = Duration::from_secs(60);

pub struct NginxLock {
    _file: File,
}

impl NginxLock {
    pub fn acquire(env: &Env) -> anyhow::Result<NginxLock> {
        let real = env.site.nginx_lock_file();
        env.host.create_parents(&real)?;
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            // /run/lock is writable by everyone: a symlink planted there is never followed.
            .custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32)
            .open(env.host.path(&real))
            .with_context(|| format!("cannot open the lock file {}", real.display()))?;
        let locked = poll::until(WAIT, Duration::from_millis(100), || match file.try_lock() {
            Ok(()) => Ok(Ok(())),
            Err(TryLockError::WouldBlock) => Err(()),
            // Waiting does not fix this one: stop polling.
            Err(TryLockError::Error(e)) => Ok(Err(e)),
        });
        match locked {
            Ok(Ok(())) => Ok(NginxLock { _file: file }),
            Ok(Err(e)) => Err(e).with_context(|| format!("cannot lock {}", real.display())),
            Err(()) => anyhow::bail!(
                "{} is still held after {} s (another dtops run or certbot's deploy hook is \
                 changing nginx); try again when it is done",
                real.display(),
                WAIT.as_secs()
            ),
        }
    }
}
