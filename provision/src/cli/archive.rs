//! `dtops archive ...`, `dtops escrow ...` and `dtops recover`.

use std::path::PathBuf;

use clap::{Args, Subcommand};

#[derive(Debug, Subcommand)]
pub enum ArchiveCommand {
    /// Write the off-site S3 access key into secrets/archive_s3_key_id and archive_s3_secret:
    /// two lines (the key id, then the secret) from standard input or a file, never a
    /// command-line value; never printed.
    Credentials(SecretInput),
    /// Take a full backup into the repository on the box and the off-site one (each then
    /// pruned to its retention) and copy the key escrow when it changed. The daily cron job
    /// runs this; --quiet prints only failures.
    Backup {
        #[arg(long)]
        quiet: bool,
    },
}

#[derive(Debug, Args)]
pub struct SecretInput {
    /// Read it from standard input.
    #[arg(long, conflicts_with = "file")]
    pub stdin: bool,
    /// Read it from this file.
    #[arg(long, value_name = "FILE")]
    pub file: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum EscrowCommand {
    /// Make the escrow's key pair: the recipient goes into site.toml ([archive]
    /// escrow_recipient), the identity is printed ONCE, inside the recovery kit, and is never
    /// stored on the box. Then the escrow is encrypted and copied off-site.
    Init {
        /// Replace the recipient (a lost or exposed kit): the new kit opens every copy from
        /// now on; the old kit opens none of them.
        #[arg(long)]
        rekey: bool,
        /// Write the kit to this file (created new, mode 0600) instead of printing it: a
        /// removable disk or the operator's machine, never the box.
        #[arg(long, value_name = "FILE")]
        kit_out: Option<PathBuf>,
    },
    /// Copy the escrow off-site now if anything in it changed (--force: even when not).
    Push {
        #[arg(long)]
        force: bool,
    },
}

#[derive(Debug, Args)]
pub struct RecoverArgs {
    /// The recovery kit: a file, or `-` for standard input (never a command-line value).
    #[arg(long, value_name = "FILE|-")]
    pub kit: PathBuf,
    /// Where the recovered site.toml goes [default: --site, else /etc/dtops/site.toml].
    #[arg(long, value_name = "FILE")]
    pub site_out: Option<PathBuf>,
    /// Recover even though this box already has a database volume: it is REPLACED (kept only
    /// when the restore has not started yet).
    #[arg(long)]
    pub replace_database: bool,
    /// The quarterly drill, on the live box, changing nothing there: the kit opens the escrow,
    /// the escrow holds this box's files as they are now, and the database restores from the
    /// off-site repository alone (a scratch volume, archiving off; its tables counted in a
    /// scratch database). Exit 1 when the escrow is out of date.
    #[arg(long, conflicts_with_all = ["site_out", "replace_database"])]
    pub check: bool,
    /// How far before the recovery point the Gumroad sync starts reading sales (hours).
    #[arg(long, default_value_t = 24)]
    pub sync_margin_hours: u32,
}
