//! No ssh outlives dtops: every forward is registered here, closed by its `Forward`'s drop, and
//! on SIGINT, SIGTERM or SIGHUP (which end dtops without running drops) a watcher thread closes
//! whatever is still open before dtops exits. Only SIGKILL, which nothing can catch, escapes.

use std::sync::{Arc, Mutex, Once};

static OPEN: Mutex<Vec<Arc<duct::Handle>>> = Mutex::new(Vec::new());
static WATCHER: Once = Once::new();

/// Keeps `handle` to close on a signal; the watcher starts with the first.
pub fn register(handle: duct::Handle) -> Arc<duct::Handle> {
    WATCHER.call_once(start_watcher);
    let handle = Arc::new(handle);
    lock().push(Arc::clone(&handle));
    handle
}

/// Kills and reaps `handle`'s ssh, and forgets it.
pub fn close(handle: &Arc<duct::Handle>) {
    let _ = handle.kill();
    lock().retain(|open| !Arc::ptr_eq(open, handle));
}

fn lock() -> std::sync::MutexGuard<'static, Vec<Arc<duct::Handle>>> {
    OPEN.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn start_watcher() {
    // Signal handlers are installed before this returns: no window where a signal is missed.
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(_) => return,
    };
    use tokio::signal::unix::{signal, SignalKind};
    let signals = runtime.block_on(async {
        Ok::<_, std::io::Error>((
            signal(SignalKind::interrupt())?,
            signal(SignalKind::terminate())?,
            signal(SignalKind::hangup())?,
        ))
    });
    let Ok((mut interrupt, mut terminate, mut hangup)) = signals else {
        return;
    };
    std::thread::spawn(move || {
        let code = runtime.block_on(async {
            tokio::select! {
                _ = interrupt.recv() => 130,
                _ = terminate.recv() => 143,
                _ = hangup.recv() => 129,
            }
        });
        for handle in lock().drain(..) {
            let _ = handle.kill();
        }
        std::process::exit(code);
    });
}
