//! `dtops gumroad sync` and `dtops gumroad token`.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::admin::AdminArgs;

#[derive(Debug, Subcommand)]
pub enum GumroadCommand {
    /// Read Gumroad's sales list since a date and store every sale (and refund or dispute) the
    /// server never received, processed exactly like a Ping (a late Ping is a duplicate). Safe to
    /// repeat; the daily job `dtops provision` installs while `[server] gumroad_api_token` is on
    /// runs it with `--since yesterday --quiet`, so cron mails output only when Pings were
    /// missed. Exit 1 when the sync failed.
    Sync(GumroadSyncArgs),
    /// Write the Gumroad API access token (view_sales) into secrets/gumroad_api_token, from
    /// standard input or a file (never a command-line value); then `[server] gumroad_api_token =
    /// true` and `dtops provision`.
    Token(GumroadTokenArgs),
}

#[derive(Debug, Args)]
pub struct GumroadSyncArgs {
    #[command(flatten)]
    pub admin: AdminArgs,
    /// Sales made on this day (UTC) or later: YYYY-MM-DD, today or yesterday. Reach back to
    /// before the outage began: a refund during it is found only with its sale.
    #[arg(long)]
    pub since: String,
    /// Print the sync's record as JSON.
    #[arg(long)]
    pub json: bool,
    /// Print nothing when nothing was missing (for cron: output means something to look at).
    #[arg(long, conflicts_with = "json")]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct GumroadTokenArgs {
    /// Read the token from standard input.
    #[arg(long, conflicts_with = "file")]
    pub stdin: bool,
    /// Read the token from this file.
    #[arg(long, value_name = "FILE")]
    pub file: Option<PathBuf>,
}
