//! The server's life cycle: bind, serve HTTP and run the Gumroad and re-issue workers and the
//! alert sentinel (and the portal's link sender when the portal is on), stop on a signal.

use std::net::SocketAddr;

use tokio::net::TcpListener;

use crate::config::{vars, Config};
use crate::state::AppState;

/// Logging to stderr; the level comes from `DATATOOLS_LOG` (error, warn, info, debug, trace).
/// Colours only on a terminal, and never with `NO_COLOR` set: escape codes in a log file are
/// noise (and `docker logs` is a file).
pub fn init_tracing() {
    use std::io::IsTerminal;
    let colour = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let level = std::env::var(vars::LOG)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(tracing::Level::INFO);
    let _ = tracing_subscriber::fmt()
        .with_max_level(level)
        .with_writer(std::io::stderr)
        .with_ansi(colour)
        .try_init();
}

/// Serves HTTP and runs the Gumroad workers and the alert sentinel until `shutdown` completes; in-flight requests and
/// the event being processed are finished first.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    forget_other_workers(&state).await;
    let workers = crate::gumroad::spawn_workers(state.clone(), state.config.gumroad.workers);
    let reissue = crate::reissue::spawn_workers(state.clone());
    let portal = state
        .config
        .portal
        .enabled
        .then(|| crate::portal::spawn_sender(state.clone()));
    let sentinel = crate::alerts::spawn_sentinel(state.clone());
    let feed = crate::feed::spawn_keeper(state.clone());
    let served = crate::http::serve(listener, state, shutdown).await;
    // Every loop is told at once, then each is waited for.
    tokio::join!(
        feed.stop(),
        sentinel.stop(),
        workers.stop(),
        reissue.stop(),
        async {
            if let Some(portal) = portal {
                portal.stop().await;
            }
        }
    );
    served
}

/// Forgets heartbeat rows of workers this server does not run (an earlier process with more
/// workers that did not stop cleanly), before its sentinel could call them stopped. Bounded: a
/// database still coming up must not hold the start.
async fn forget_other_workers(state: &AppState) {
    let names = crate::gumroad::worker_names(state.config.gumroad.workers);
    let forget = crate::db::heartbeats::forget_except(&state.db, &names);
    match tokio::time::timeout(std::time::Duration::from_secs(3), forget).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => tracing::debug!(error = %e, "cannot tidy the worker heartbeats"),
        Err(_) => tracing::debug!("tidying the worker heartbeats timed out"),
    }
}

/// Serves HTTP only, without workers: deliveries are acknowledged and stored but not processed
/// (what a server that dies right after acknowledging leaves behind; tests use it).
pub async fn serve_http_only(
    listener: TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    // The feed is served, not processed: it is kept current here too.
    let feed = crate::feed::spawn_keeper(state.clone());
    let served = crate::http::serve(listener, state, shutdown).await;
    feed.stop().await;
    served
}

/// Binds `config.listen` and serves until SIGTERM, SIGHUP or Ctrl-C.
pub async fn run(config: Config) -> anyhow::Result<()> {
    let stop = shutdown_signal();
    let listen: SocketAddr = config.listen;
    let state = AppState::new(config)?;
    let listener = TcpListener::bind(listen)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {listen} ({}): {e}", vars::LISTEN))?;
    tracing::info!(
        address = %listener.local_addr()?,
        key_id = %state.config.signing_key.key_id(),
        gumroad_webhook = state.config.gumroad.webhook_secret.is_some(),
        mailer = %state.mailer_description(),
        "serving"
    );
    serve(listener, state, stop).await?;
    tracing::info!("stopped");
    Ok(())
}

/// Completes on SIGTERM (docker stop), SIGINT (Ctrl-C) or SIGHUP (its terminal closed). The
/// handlers are installed when this is called, not when the future is first polled: a signal
/// that arrives while the server is still starting is a clean stop too, not a kill.
pub fn shutdown_signal() -> impl std::future::Future<Output = ()> + Send + 'static {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate()).expect("can install a SIGTERM handler");
    let mut hangup = signal(SignalKind::hangup()).expect("can install a SIGHUP handler");
    let mut interrupt = signal(SignalKind::interrupt()).expect("can install a SIGINT handler");
    async move {
        tokio::select! {
            _ = term.recv() => {}
            _ = hangup.recv() => {}
            _ = interrupt.recv() => {}
        }
        tracing::info!("shutdown requested; finishing in-flight requests");
    }
}
