//! How a command reaches the license server's admin API.

use std::path::PathBuf;

use clap::Args;

/// How to reach the admin API. The token is never a command-line value (it would show in `ps`
/// and shell history): it comes from a file or the environment.
///
/// Without --admin-url: through SSH with --ssh or site.toml's [admin] ssh (the token read on
/// the box with `sudo -n cat`, unless given here); on the box itself, its api and token;
/// else http://127.0.0.1:<ports.api> (a tunnel opened by hand).
#[derive(Debug, Args)]
pub struct AdminArgs {
    /// Admin API base URL, used as given (e.g. `dtops dev`'s).
    #[arg(long, env = "DTOPS_ADMIN_URL", value_name = "URL")]
    pub admin_url: Option<String>,
    /// File holding the admin Bearer token (otherwise DATATOOLS_ADMIN_TOKEN, else the box's).
    #[arg(long, visible_alias = "admin-token-file", value_name = "FILE")]
    pub token_file: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct MintArgs {
    #[command(flatten)]
    pub admin: AdminArgs,
    /// The licensee's name.
    #[arg(long)]
    pub name: String,
    /// The licensee's email address.
    #[arg(long)]
    pub email: String,
    /// A tier from products.toml (e.g. core, pro, lifetime).
    #[arg(long)]
    pub tier: String,
    /// Term in years (1-10); the tier's default when omitted.
    #[arg(long, conflicts_with = "perpetual")]
    pub years: Option<u32>,
    /// A license that never expires.
    #[arg(long)]
    pub perpetual: bool,
    /// Where the license came from.
    #[arg(long, default_value = "manual")]
    pub source: String,
    /// Free-text notes stored with the license (not in the blob).
    #[arg(long)]
    pub notes: Option<String>,
    /// Idempotency reference: minting again with the same value returns the first license.
    #[arg(long)]
    pub source_ref: Option<String>,
    /// Print the whole license record as JSON instead of only the blob.
    #[arg(long)]
    pub json: bool,
    /// Also email the license to its address, as its first delivery (a comp, a replacement).
    /// Not sent again when --source-ref finds a license minted before.
    #[arg(long)]
    pub send: bool,
}

#[derive(Debug, Args)]
pub struct EventsArgs {
    #[command(flatten)]
    pub admin: AdminArgs,
    /// Only events that need a look: failed, or retrying after an error.
    #[arg(long)]
    pub failed: bool,
    /// Only this buyer's deliveries (case-insensitive).
    #[arg(long)]
    pub email: Option<String>,
    /// Only this Gumroad sale_id (its sale, retries, refund, disputes).
    #[arg(long)]
    pub sale: Option<String>,
    /// At most this many, newest first.
    #[arg(long, default_value_t = 50)]
    pub limit: u32,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct EventArgs {
    #[command(flatten)]
    pub admin: AdminArgs,
    /// The event id (the first column of `dtops events`).
    pub id: i64,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct AlertsArgs {
    #[command(flatten)]
    pub admin: AdminArgs,
    /// Acknowledge this open alert (repeatable): it stays listed until it is fixed, but
    /// `dtops status` no longer counts it.
    #[arg(long, value_name = "ID")]
    pub ack: Vec<i64>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ResendArgs {
    #[command(flatten)]
    pub admin: AdminArgs,
    /// The license key (dashes and case do not matter).
    pub license_key: String,
    /// Send to this address instead of the license's own (e.g. after a bounce). The license
    /// itself is not changed.
    #[arg(long, value_name = "ADDRESS")]
    pub to: Option<String>,
    /// Word it as the license's first email, not "sent again" (a `mint --send` whose email
    /// failed).
    #[arg(long)]
    pub first: bool,
}
