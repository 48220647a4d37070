//! The command line.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::runtime::RuntimeKind;

mod admin;
mod archive;
mod desk;
mod gumroad;
mod host;

pub use admin::{AdminArgs, AlertsArgs, EventArgs, EventsArgs, MintArgs, ResendArgs};
pub use archive::{ArchiveCommand, EscrowCommand, RecoverArgs, SecretInput};
pub use desk::{
    ChangeAddressArgs, EmailCommand, EmailPreviewArgs, KeysShowArgs, LicenseArgs, ListArgs,
    LogsArgs, PsqlArgs, ReinstateArgs, RevokeArgs, Service,
};
pub use gumroad::{GumroadCommand, GumroadSyncArgs, GumroadTokenArgs};
pub use host::{RestoreArgs, RollbackArgs, RollbackComponent, UpgradeArgs};

/// dtops: provision and operate the DataTools license server.
#[derive(Debug, Parser)]
#[command(version = env!("DTOPS_VERSION"), about, long_about = None)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Options every host-facing command shares. --root, --templates, --runtime and --native-bin are
/// for sandboxes and tests:
/// `--help` hides them, `--help-all` shows them (help.rs).
#[derive(Debug, Clone, Args)]
pub struct GlobalArgs {
    /// The deployment description [default: /etc/dtops/site.toml, else ./site.toml].
    #[arg(long, global = true, env = "DTOPS_SITE", value_name = "FILE")]
    pub site: Option<PathBuf>,
    /// Relocate every host path under DIR (a sandbox; the same code path as a real run).
    #[arg(long, global = true, value_name = "DIR")]
    pub root: Option<PathBuf>,
    /// Use templates from DIR instead of the built-in ones (files missing there fall back).
    #[arg(long, global = true, value_name = "DIR", env = "DTOPS_TEMPLATES")]
    pub templates: Option<PathBuf>,
    /// How to run the stack: docker compose (production), or native processes where no Docker
    /// engine exists (tests, CI).
    #[arg(long, global = true, value_enum, default_value_t = RuntimeKind::Compose, env = "DTOPS_RUNTIME")]
    pub runtime: RuntimeKind,
    /// The `datatools-license` binary the native runtime starts (default: next to dtops).
    #[arg(long, global = true, value_name = "FILE", env = "DTOPS_NATIVE_BIN")]
    pub native_bin: Option<PathBuf>,
    /// Reach the box over SSH (user@host, or a Host alias of ~/.ssh/config): admin commands
    /// through a port forward of their own, `logs`, `psql` and `status` run there with sudo.
    /// Wins over site.toml's [admin] ssh.
    #[arg(long, global = true, env = "DTOPS_SSH", value_name = "USER@HOST")]
    pub ssh: Option<crate::site::SshDestination>,
    /// The ssh client configuration file to use instead of ~/.ssh/config (`ssh -F`).
    #[arg(long, global = true, env = "DTOPS_SSH_CONFIG", value_name = "FILE")]
    pub ssh_config: Option<PathBuf>,
}

impl GlobalArgs {
    /// The site.toml this run uses (see `site::site_file` for the lookup).
    pub fn site_file(&self) -> anyhow::Result<PathBuf> {
        crate::site::site_file(self.site.as_deref())
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Mint a license (a comp, say) and print its DTLIC2 blob; --send also emails it.
    Mint(MintArgs),
    /// Find licenses by key, name, address, Gumroad order number or sale id.
    ///
    /// Newest first; --all pages through every one, --json and --csv export them.
    Licenses(ListArgs),
    /// One license in full: its sale, and its history.
    ///
    /// The history: revocations, reinstatements, moves to another address.
    License(LicenseArgs),
    /// Revoke a license (--reason required), confirmed on the terminal.
    ///
    /// Shows the license and asks first (--yes for scripts); the revocation feed lists it at
    /// once.
    Revoke(RevokeArgs),
    /// Lift a license's revocation (--reason required).
    ///
    /// The revocation feed drops it at once.
    Reinstate(ReinstateArgs),
    /// Move a license to another address at its buyer's request.
    ///
    /// Re-signed with the new address, recorded with --reason, and emailed there unless
    /// --no-notify.
    ChangeAddress(ChangeAddressArgs),
    /// The buyer emails as the server sends them now (texts replaceable on the box).
    #[command(subcommand)]
    Email(EmailCommand),
    /// The api's or Postgres' log on the box (-f follows it).
    Logs(LogsArgs),
    /// psql into the license database on the box, as the api's database user.
    Psql(PsqlArgs),
    /// Gumroad deliveries, newest first, and which need attention (--failed).
    ///
    /// What each did: its outcome, errors and email status, one line each.
    Events(EventsArgs),
    /// One Gumroad delivery in full.
    ///
    /// Outcome, errors, email status, the decoded fields and the raw body.
    Event(EventArgs),
    /// Process a Gumroad delivery again now; never a second license.
    ///
    /// Finishes what is missing: mints if not minted, emails if not emailed.
    Replay(EventArgs),
    /// Email a license again, to its own address or a corrected one (--to).
    Resend(ResendArgs),
    /// The problems the server has open, oldest first; --ack ID acknowledges one.
    ///
    /// What it mailed, and what it could not. Acknowledge one you decided to leave as it is:
    /// `dtops status` stops counting it.
    Alerts(AlertsArgs),
    /// Switch stage: pr2 (Gumroad and email), pr3 (+ portal and feed), or back to pr1.
    ///
    /// `pr2` turns the Gumroad webhook and Postmark email on (secrets, site.toml, compose.yml,
    /// restart, a test ping, the Ping URL); `pr3` adds the buyer portal and the revocation
    /// feed; `pr1` turns everything off again, keeping secrets.
    Cutover(CutoverArgs),
    /// Signing keys: generate, rotate, re-issue, and show the ones the box trusts.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Gumroad's API: the sales whose Ping never arrived (sync), and its token.
    ///
    /// After an outage, `sync` stores the sales whose Ping never arrived; `token` writes the
    /// access token that needs.
    #[command(subcommand)]
    Gumroad(GumroadCommand),
    /// Verify a DTLIC2 blob offline and show what it says.
    ///
    /// Against trusted public keys (--pubkey, else the box's, through the admin API); says
    /// whether the desktop app takes the text as pasted.
    Verify(VerifyArgs),
    /// Run the whole product locally: a throwaway Postgres, the dev key, the server.
    ///
    /// Migrations applied, the webhook, the buyer portal, and an email outbox.
    Dev(DevArgs),
    /// Converge the box to site.toml; a second run changes nothing.
    ///
    /// User, directories, secrets, signing key, compose.yml, .env, image, containers,
    /// migrations, health, the cron jobs, nginx and its certificate.
    Provision {
        /// Only show what would change (same as `dtops plan`).
        #[arg(long)]
        dry_run: bool,
        /// Ask the ACME staging server (tls.staging_server) for the certificate: untrusted,
        /// but with generous rate limits. A later run without it replaces that certificate.
        #[arg(long)]
        staging: bool,
        /// Skip the DNS preflight (the names resolve to a proxy such as Cloudflare, not to
        /// host.public_ip); the canary is then fetched from this host's nginx directly.
        #[arg(long)]
        skip_dns_check: bool,
    },
    /// Show what `dtops provision` would change (diffs, secrets redacted).
    ///
    /// Every failed preflight check is listed with its fix.
    Plan,
    /// Deploy another commit of the license server, and the dtops built from it.
    ///
    /// Build the checkout's commit (or --ref) as an image tagged by it
    /// while the running api keeps serving, refuse when the database has migrations it does not
    /// know, take a verified backup, migrate, start it on the idle api slot, check its health
    /// and a signed-license smoke test there, switch nginx to it, drain and stop the old slot;
    /// then install the dtops built from the same commit ([commands] build_dtops) as
    /// /usr/local/bin/dtops, keeping the previous one as dtops.previous. On any failure before
    /// the switch the old version keeps serving; the box's state is reported.
    Upgrade(UpgradeArgs),
    /// What is deployed, what site.toml asks for, and what needs attention.
    ///
    /// Deployed vs queued, and the problems the server knows (sales, emails, workers) and the
    /// host shows (backups, the certificate, the api and database); the host's facts go to the
    /// api.
    ///
    /// Exit codes: 0 nothing needs you; 1 something does (listed under "attention");
    /// 2 cannot tell (the api or the database is down or unreachable, or status failed).
    ///
    /// From elsewhere: with --ssh (or [admin] ssh) it runs `sudo dtops status` on the box and
    /// passes on its report and exit code; with --admin-url it shows what the api alone can
    /// say (its health, problems, queue, feed), and says the host was not looked at.
    Status {
        /// Print only what needs attention, and nothing when all is well (for cron: the
        /// hourly status job runs `dtops status --quiet`).
        #[arg(long)]
        quiet: bool,
        #[command(flatten)]
        admin: AdminArgs,
    },
    /// Undo one component, keeping data unless told otherwise.
    ///
    /// Each prints what it will remove before it does, and running it twice is safe.
    Rollback(RollbackArgs),
    /// Take a verified database backup now (the daily job, run by hand).
    Backup,
    /// Continuous WAL archiving ([archive]): the off-site key, a full backup now.
    #[command(subcommand)]
    Archive(ArchiveCommand),
    /// The key escrow: the secrets and site.toml, encrypted to an off-box recovery kit.
    #[command(subcommand)]
    Escrow(EscrowCommand),
    /// Rebuild a lost box on this one from the off-site copy and the recovery kit.
    ///
    /// The secrets, provisioning, the database at the newest archived point, the signing key checked, the
    /// api started, then Gumroad's sales since before the recovery point. Prints the recovery
    /// point and how long it took. Safe to run again after an interruption.
    Recover(RecoverArgs),
    /// Check a backup in a scratch database, or restore it into the live one.
    ///
    /// Restores it into a scratch database and shows every table's row count and checksum;
    /// with --into-live --yes, replaces the live database with it.
    Restore(RestoreArgs),
    /// Cap Docker's container logs in /etc/docker/daemon.json.
    ///
    /// ADMIN.md, "Backups": log rotation. Every other setting there is kept. Docker reads it only when restarted, which
    /// restarts every container on the box: that happens only with --restart-docker.
    DockerLogs {
        /// Restart Docker now (every container on the box restarts; pick a quiet moment).
        #[arg(long)]
        restart_docker: bool,
    },
    /// Render every file dtops manages into --out DIR, to read or diff them.
    ///
    /// compose.yml, .env, the cron jobs, and with --nginx-version the nginx files, rendered
    /// from site.toml; nothing on the host changes.
    Render {
        /// Output directory (created if missing); files are written as relative paths mirroring
        /// their place on the host.
        #[arg(long)]
        out: PathBuf,
        /// Also render the nginx files for this nginx version (e.g. 1.24.0; 1.25.1 and later
        /// use `http2 on;`).
        #[arg(long, value_name = "VERSION")]
        nginx_version: Option<String>,
        /// With --nginx-version: which phase of our nginx site (1: HTTP only, 2: HTTPS).
        #[arg(long, value_name = "1|2", default_value_t = 2, requires = "nginx_version",
              value_parser = clap::value_parser!(u8).range(1..=2))]
        nginx_phase: u8,
    },
}

#[derive(Debug, Args)]
pub struct CutoverArgs {
    /// The stage to switch to.
    #[arg(value_enum)]
    pub target: CutoverTarget,
    /// File holding the Postmark Server API token (needed once, when secrets/postmark_token
    /// does not exist yet).
    #[arg(long, value_name = "FILE", conflicts_with = "postmark_token_stdin")]
    pub postmark_token_file: Option<PathBuf>,
    /// Read the Postmark Server API token from standard input instead.
    #[arg(long)]
    pub postmark_token_stdin: bool,
    /// Base URL the synthetic test ping goes through (default: https://<domains.licenses>).
    #[arg(long, value_name = "URL")]
    pub public_url: Option<String>,
    /// Send the test ping even when nothing changed.
    #[arg(long)]
    pub ping: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CutoverTarget {
    /// Mint API only: the Gumroad webhook and email off (secrets kept).
    Pr1,
    /// + Gumroad webhook and Postmark email (from pr3: the buyer portal off again).
    Pr2,
    /// + the buyer portal (sign-in by emailed link, "my licenses") and the revocation feed.
    Pr3,
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Generate an Ed25519 signing key pair: the private key goes to a new file created with mode
    /// 0400; the public key (hex) is printed on stdout.
    Generate {
        /// Where to write the private key. An existing file is never overwritten.
        #[arg(long)]
        out: PathBuf,
    },
    /// Rotate the box's signing key: a new key pair signs from now on, the old public key stays
    /// trusted for the overlap window, the api restarts; --reissue re-signs every active license.
    Rotate(RotateArgs),
    /// The public keys (and their ids) the box signs with and still trusts, through the admin
    /// API: what a desktop build must list.
    Show(KeysShowArgs),
    /// Re-sign every active license with the key the api holds now (no new key), or follow the
    /// re-issue already running: finishes exactly what an earlier `keys rotate --reissue` left
    /// (failed, interrupted, or not emailed). Exit 1 when some license failed.
    Reissue(ReissueArgs),
}

#[derive(Debug, Args)]
pub struct ReissueArgs {
    /// Email each buyer the re-signed license, including licenses re-signed earlier whose buyer
    /// was never emailed (needs the PR 2 mailer: Postmark configured on the api).
    #[arg(long)]
    pub email: bool,
}

#[derive(Debug, Args)]
pub struct RotateArgs {
    /// How long the api (and desktop builds shipped with both keys) keep trusting the old key.
    #[arg(long, default_value_t = 90)]
    pub window_days: u32,
    /// Also re-sign every active (unrevoked, unexpired) license with the new key.
    #[arg(long)]
    pub reissue: bool,
    /// With --reissue: email each buyer the re-signed license (needs the PR 2 mailer: Postmark
    /// configured on the api).
    #[arg(long, requires = "reissue")]
    pub email: bool,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The DTLIC2 blob (as pasted from an email: line breaks and `> ` quoting are fine), a file
    /// holding it (the email's attachment), or `-` to read it from standard input.
    pub blob: String,
    /// A trusted public key (64 hex characters); repeat or comma-separate during a rotation.
    /// Without one, the keys the box trusts, asked of the admin API (`dtops keys show`).
    #[arg(
        long = "pubkey",
        env = datatools_license::config::vars::LICENSE_PUBKEY,
        value_delimiter = ','
    )]
    pub pubkeys: Vec<String>,
    #[command(flatten)]
    pub admin: AdminArgs,
    /// Check expiry at this instant (RFC 3339) instead of now.
    #[arg(long)]
    pub at: Option<String>,
}

#[derive(Debug, Args)]
pub struct DevArgs {
    /// Port for the server on 127.0.0.1.
    #[arg(long, default_value_t = 8090)]
    pub port: u16,
    /// A directory of email texts replacing the built-in ones (license.txt.j2,
    /// sign_in.txt.j2), to try an edit before it goes on the box: `dtops email preview`.
    #[arg(long, value_name = "DIR")]
    pub email_texts: Option<std::path::PathBuf>,
}
