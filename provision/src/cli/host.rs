//! The arguments of the commands that change the box's versions and data: rollback, upgrade,
//! restore.

use clap::Args;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum RollbackComponent {
    /// Stop and remove the containers; the database volume and all files are kept.
    App,
    /// Delete the database volume (every row): needs --yes, and a fresh verified backup first.
    Db,
    /// Delete the app's files under paths.root; backups/ and secrets/ are kept unless told.
    Files,
    /// Delete the system user and its group.
    User,
    /// Everything, in a safe order: our nginx site first (traffic), then app, db, files, user
    /// (data last).
    All,
    /// Remove our nginx site (its file, the sites-enabled link, our http-context include),
    /// test, reload. No other file in nginx's configuration is touched.
    Nginx,
    /// Go back to nginx phase 1 (HTTP only): nginx stops referencing the certificate. The
    /// certificate lineage is kept (re-issuing counts against Let's Encrypt's rate limits)
    /// unless --delete-cert.
    Tls,
}

#[derive(Debug, Args)]
pub struct RollbackArgs {
    #[arg(value_enum)]
    pub component: RollbackComponent,
    /// Confirm a rollback that deletes data (db; all with the database).
    #[arg(long)]
    pub yes: bool,
    /// files: also delete backups/ (off-site copies are untouched).
    #[arg(long)]
    pub delete_backups: bool,
    /// files: also delete secrets/ (the signing key's only copy on the box); refused while the
    /// database volume exists, since Postgres keeps the password it started with.
    #[arg(long)]
    pub delete_secrets: bool,
    /// tls: also delete the certificate lineage (`certbot delete`) after nginx stopped using it.
    #[arg(long)]
    pub delete_cert: bool,
}

#[derive(Debug, Args)]
pub struct UpgradeArgs {
    /// The commit to deploy: a branch, tag or commit the checkout has (`git -C <app dir>
    /// fetch` first for one it lacks). The checkout itself is not changed.
    #[arg(long = "ref", value_name = "REF", default_value = "HEAD")]
    pub reference: String,
}

#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// A backup: `latest`, a file name in backups/, or a path.
    #[arg(required_unless_present = "at", conflicts_with = "at")]
    pub file: Option<String>,
    /// Instead of a backup file: the database as it was at this moment ("2026-12-07 14:03",
    /// UTC unless it ends in an offset such as +01:00), rebuilt from the archive ([archive]).
    #[arg(long, value_name = "TIME")]
    pub at: Option<String>,
    /// Keep the scratch database (its name is printed) instead of dropping it.
    #[arg(long, conflicts_with = "into_live")]
    pub keep: bool,
    /// Replace the live database with this backup: the api is stopped, a fresh verified backup
    /// is taken first, and the current database is kept under another name.
    #[arg(long)]
    pub into_live: bool,
    /// Confirm --into-live.
    #[arg(long, requires = "into_live")]
    pub yes: bool,
}
