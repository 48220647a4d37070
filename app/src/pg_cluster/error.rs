//! Why a cluster could not be set up or driven.

#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error(
        "PostgreSQL server binaries (initdb, pg_ctl) were not found; install them \
         (Debian/Ubuntu: `apt-get install postgresql`) or set DATATOOLS_PG_BIN to their directory"
    )]
    BinariesNotFound,
    #[error(
        "running as root, but there is no `postgres` user to run the cluster as; install the \
         postgresql package (it creates the user) or run as an ordinary user"
    )]
    NoPostgresUser,
    #[error("{step} failed: {detail}")]
    Step { step: String, detail: String },
    #[error("{0}")]
    Io(#[from] std::io::Error),
}
