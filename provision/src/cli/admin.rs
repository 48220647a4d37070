//! How a command reaches the license server's admin API.

use std::path::PathBuf;

use clap::Args;

/// How to reach the admin API. The token is never a command-line value (it would show in `ps`
/// and shell history): it comes from a file or the environment.
#[derive(Debug, Args)]
pub struct AdminArgs {
    /// Admin API base URL: the server's 127.0.0.1:8090 through an SSH tunnel
    /// (`ssh -L 8090:127.0.0.1:8090 box -N`).
    #[arg(long, env = "DTOPS_ADMIN_URL", default_value = "http://127.0.0.1:8090")]
    pub admin_url: String,
    /// File holding the admin Bearer token (otherwise DATATOOLS_ADMIN_TOKEN is used).
    #[arg(long)]
    pub token_file: Option<PathBuf>,
}
