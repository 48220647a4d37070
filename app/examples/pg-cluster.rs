//! A throwaway Postgres cluster for shell scripts (`scripts/bench`), from the same module the
//! tests, `dtops dev` and dtops' native runtime use.
//!
//! Prints `PG_DIR=` (socket directory; the data is in `$PG_DIR/data`, the log in
//! `$PG_DIR/postgres.log`), `PG_PORT=`, `PG_BIN=` and then `READY`, one per line; runs until
//! SIGTERM or SIGINT, then stops and deletes the cluster.
//!
//! ```text
//! cargo run --release --example pg-cluster -- --durable --setting log_checkpoints=on
//! ```

use clap::Parser;
use datatools_license::pg_cluster::{Cluster, ClusterOptions};

#[derive(Parser)]
struct Args {
    /// Keep fsync, synchronous commits and full-page writes on.
    #[arg(long)]
    durable: bool,
    /// A server setting, NAME=VALUE (repeatable).
    #[arg(long = "setting", value_name = "NAME=VALUE")]
    settings: Vec<String>,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let settings = args
        .settings
        .iter()
        .map(|s| {
            s.split_once('=')
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .ok_or_else(|| anyhow::anyhow!("--setting {s:?} is not NAME=VALUE"))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let cluster = Cluster::start(ClusterOptions {
        durable: args.durable,
        settings,
        ..ClusterOptions::default()
    })?;
    println!("PG_DIR={}", cluster.dir().display());
    println!("PG_PORT={}", cluster.port());
    println!("PG_BIN={}", cluster.bin_dir().display());
    println!("READY");
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate())?;
    tokio::select! {
        _ = term.recv() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
    drop(cluster);
    Ok(())
}
