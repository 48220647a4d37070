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
    // Its own thread and runtime (the caller may be inside one). The handlers are installed
    // before this returns: no window where a signal would end dtops without the cleanup.
    let (ready, installed) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use tokio::signal::unix::{signal, SignalKind};
        let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        else {
            let _ = ready.send(());
            return;
        };
        let code = runtime.block_on(async {
            let signals = (
                signal(SignalKind::interrupt()),
                signal(SignalKind::terminate()),
                signal(SignalKind::hangup()),
            );
            let _ = ready.send(());
            let (Ok(mut interrupt), Ok(mut terminate), Ok(mut hangup)) = signals else {
                return None;
            };
            tokio::select! {
                _ = interrupt.recv() => Some(130),
                _ = terminate.recv() => Some(143),
                _ = hangup.recv() => Some(129),
            }
        });
        let Some(code) = code else { return };
        for handle in lock().drain(..) {
            let _ = handle.kill();
        }
        std::process::exit(code);
    });
    let _ = installed.recv();
}
