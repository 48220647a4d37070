//! A PostgreSQL cluster started from the machine's own server binaries: the one way this
//! project bootstraps Postgres outside Docker.
//!
//! - the tests and `dtops dev`: a throwaway cluster in a fresh temporary directory, trust auth,
//!   stopped and deleted on drop;
//! - dtops' native runtime: a cluster in a directory of the sandboxed box, with password auth
//!   over TCP, that outlives the process (as the postgres container does);
//! - `scripts/bench`: a durable throwaway one, through `cargo run --example pg-cluster`.
//!
//! initdb and postgres refuse to run as root, so as root they run as the `postgres` user.

mod cluster;
mod error;
mod programs;

pub use cluster::{Cluster, ClusterOptions};
pub use error::ClusterError;
pub use programs::find_bin_dir;
