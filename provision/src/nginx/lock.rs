//! The host-wide nginx lock: one change to nginx's configuration at a time, whichever app's
//! dtops makes it, and certbot's deploy hook (`flock` on the same file) waits for it too.

use std::fs::{File, OpenOptions, TryLockError};
use std::time::{Duration, Instant};

use anyhow::Context;

use crate::engine::Ctx;

/// How long to wait for another holder (a reload takes well under a second).
const WAIT: Duration = Duration::from_secs(60);

pub struct NginxLock {
    _file: File,
}

impl NginxLock {
    pub fn acquire(ctx: &Ctx) -> anyhow::Result<NginxLock> {
        let real = ctx.site.nginx_lock_file();
        ctx.host.create_parents(&real)?;
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(ctx.host.path(&real))
            .with_context(|| format!("cannot open the lock file {}", real.display()))?;
        let started = Instant::now();
        loop {
            match file.try_lock() {
                Ok(()) => return Ok(NginxLock { _file: file }),
                Err(TryLockError::WouldBlock) if started.elapsed() < WAIT => {
                    std::thread::sleep(Duration::from_millis(100));
                }
                Err(TryLockError::WouldBlock) => anyhow::bail!(
                    "{} is still held after {} s (another dtops run or certbot's deploy hook is \
                     changing nginx); try again when it is done",
                    real.display(),
                    WAIT.as_secs()
                ),
                Err(TryLockError::Error(e)) => {
                    return Err(e).with_context(|| format!("cannot lock {}", real.display()))
                }
            }
        }
    }
}
