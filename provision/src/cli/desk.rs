//! The support commands' arguments: finding licenses, one license's history, revoking and
//! reinstating, moving one to another address, the keys the box trusts, email previews, and
//! the box's logs and database.

use clap::{Args, Subcommand, ValueEnum};
use datatools_license::api::StatusFilter;

use super::admin::AdminArgs;

#[derive(Debug, Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub admin: AdminArgs,
    /// Find licenses by any of: the license key, a part of the address or name
    /// (case-insensitive), the Gumroad order number or sale id, the source_ref.
    #[arg(value_name = "TEXT")]
    pub query: Option<String>,
    /// Only this license key (dashes, spaces and case do not matter).
    #[arg(long)]
    pub key: Option<String>,
    /// Only licenses for this whole address (case-insensitive).
    #[arg(long)]
    pub email: Option<String>,
    /// Only licensees whose name contains this (case-insensitive).
    #[arg(long)]
    pub name: Option<String>,
    /// Only the license of this Gumroad order number (the portal's "Order").
    #[arg(long)]
    pub order: Option<String>,
    /// Only the license of this Gumroad sale id.
    #[arg(long)]
    pub sale: Option<String>,
    /// Only licenses in this state now.
    #[arg(long, value_enum)]
    pub status: Option<StatusArg>,
    /// At most this many, newest first (any number: pages are fetched as needed).
    #[arg(long, default_value_t = 100, conflicts_with = "all",
          value_parser = clap::value_parser!(u64).range(1..))]
    pub limit: u64,
    /// Every matching license, however many (for an export).
    #[arg(long)]
    pub all: bool,
    /// Print JSON (every field, the blob included) instead of a table.
    #[arg(long, conflicts_with = "csv")]
    pub json: bool,
    /// Print CSV (a header line, one license per line, no blob) for a spreadsheet.
    #[arg(long)]
    pub csv: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StatusArg {
    /// Neither revoked nor expired.
    Active,
    Revoked,
    /// Past its expiry, not revoked.
    Expired,
}

impl From<StatusArg> for StatusFilter {
    fn from(status: StatusArg) -> Self {
        match status {
            StatusArg::Active => StatusFilter::Active,
            StatusArg::Revoked => StatusFilter::Revoked,
            StatusArg::Expired => StatusFilter::Expired,
        }
    }
}

#[derive(Debug, Args)]
pub struct LicenseArgs {
    #[command(flatten)]
    pub admin: AdminArgs,
    /// The license key (dashes, spaces and case do not matter).
    pub license_key: String,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct RevokeArgs {
    #[command(flatten)]
    pub admin: AdminArgs,
    /// The license key (dashes, spaces and case do not matter).
    pub license_key: String,
    /// Why, in your words (kept in the license's history; e.g. "refunded by email, ticket 12").
    #[arg(long)]
    pub reason: String,
    /// Revoke without asking (scripts). Without it dtops shows the license and asks on the
    /// terminal, and refuses when there is none.
    #[arg(long)]
    pub yes: bool,
}

#[derive(Debug, Args)]
pub struct ReinstateArgs {
    #[command(flatten)]
    pub admin: AdminArgs,
    /// The license key (dashes, spaces and case do not matter).
    pub license_key: String,
    /// Why it works again (kept in the license's history).
    #[arg(long)]
    pub reason: String,
}

#[derive(Debug, Args)]
pub struct ChangeAddressArgs {
    #[command(flatten)]
    pub admin: AdminArgs,
    /// The license key (dashes, spaces and case do not matter).
    pub license_key: String,
    /// The new address.
    #[arg(long, value_name = "ADDRESS")]
    pub to: String,
    /// How the buyer asked (kept with the change), e.g. "asked from the old address on
    /// 2026-05-01".
    #[arg(long)]
    pub reason: String,
    /// Do not email the re-signed license to the new address.
    #[arg(long)]
    pub no_notify: bool,
}

#[derive(Debug, Args)]
pub struct KeysShowArgs {
    #[command(flatten)]
    pub admin: AdminArgs,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum EmailCommand {
    /// Render an email a buyer can get (or every one) with sample data, from the texts the
    /// server sends now: the built-in ones or the files replacing them on the box.
    Preview(EmailPreviewArgs),
}

#[derive(Debug, Args)]
pub struct EmailPreviewArgs {
    #[command(flatten)]
    pub admin: AdminArgs,
    /// purchase, delivery, renewal, resend, reissue, address_change or sign_in [default: all].
    #[arg(value_name = "KIND")]
    pub kind: Option<String>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Service {
    /// The license server.
    Api,
    /// Its database.
    Postgres,
}

impl Service {
    /// Its word on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Service::Api => "api",
            Service::Postgres => "postgres",
        }
    }
}

#[derive(Debug, Args)]
pub struct LogsArgs {
    /// Whose log.
    #[arg(value_enum, default_value_t = Service::Api)]
    pub service: Service,
    /// Keep printing new lines as they come (Ctrl-C stops).
    #[arg(short, long)]
    pub follow: bool,
    /// How many of the last lines to print first.
    #[arg(short = 'n', long, default_value_t = 100)]
    pub lines: u32,
}

#[derive(Debug, Args)]
pub struct PsqlArgs {
    /// Passed on to psql, after `--` (e.g. `dtops psql -- -c 'select count(*) from licenses'`).
    #[arg(
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "PSQL ARGS"
    )]
    pub args: Vec<String>,
}
