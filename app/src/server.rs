//! The server's life cycle: bind, serve, stop on a signal.

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::sync::Notify;

use crate::config::Config;
use crate::email::Mailer;
use crate::gumroad::worker::Workers;
use crate::http::{self, AppState};

/// Logging to stderr; the level comes from `DATATOOLS_LOG` (error, warn, info, debug, trace).
pub fn init_tracing() {
    let level = std::env::var("DATATOOLS_LOG")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(tracing::Level::INFO);
    let _ = tracing_subscriber::fmt()
        .with_max_level(level)
        .with_writer(std::io::stderr)
        .try_init();
}

/// Builds the shared state (the pool connects lazily; the mail client is built once here).
pub fn state(config: Config) -> anyhow::Result<AppState> {
    let db = crate::db::pool(&config)?;
    let mailer = Mailer::from_config(&config.email).map_err(anyhow::Error::msg)?;
    Ok(AppState {
        db,
        config: Arc::new(config),
        mailer,
        wake: Arc::new(Notify::new()),
    })
}

/// Serves HTTP and runs the Gumroad workers until `shutdown` completes; in-flight requests and
/// the event being processed are finished first.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let workers = Workers::spawn(state.clone(), state.config.gumroad.workers);
    let served = http::serve(listener, state, shutdown).await;
    workers.stop().await;
    served
}

/// Binds `config.listen` and serves until SIGTERM or Ctrl-C.
pub async fn run(config: Config) -> anyhow::Result<()> {
    let listen: SocketAddr = config.listen;
    let state = state(config)?;
    let listener = TcpListener::bind(listen)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {listen} (DATATOOLS_LISTEN): {e}"))?;
    tracing::info!(
        address = %listener.local_addr()?,
        key_id = %state.config.signing_key.key_id(),
        gumroad_webhook = state.config.gumroad.webhook_secret.is_some(),
        mailer = %state.mailer.as_ref().map(Mailer::describe).unwrap_or_else(|| "none".into()),
        "serving"
    );
    serve(listener, state, shutdown_signal()).await?;
    tracing::info!("stopped");
    Ok(())
}

/// Completes on SIGTERM (docker stop) or SIGINT (Ctrl-C).
pub async fn shutdown_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate()).expect("can install a SIGTERM handler");
    tokio::select! {
        _ = term.recv() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
    tracing::info!("shutdown requested; finishing in-flight requests");
}
