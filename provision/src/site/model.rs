//! The shape of site.toml: one struct per table, `deny_unknown_fields` everywhere, and the
//! defaults of settings added after the first release (an older site.toml still reads).

use serde::{Deserialize, Serialize};

use super::archive::Archive;
use super::door::{
    default_cloudflare_ranges, default_portal_limit, default_webhook_limit, Behind, IpRange,
    RateLimit,
};
use super::external_db::DatabaseUrl;
use super::server::Server;
use super::values::{AbsPath, DomainName, EmailAddress, HttpUrl, ImageRef, Listen, Name, Stage};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Site {
    pub app: App,
    pub features: Features,
    pub domains: Domains,
    pub host: HostSettings,
    pub paths: Paths,
    pub ports: Ports,
    pub database: Database,
    pub api: Api,
    pub nginx: Nginx,
    pub tls: Tls,
    pub email: Email,
    /// The server's own settings (all optional).
    #[serde(default)]
    pub server: Server,
    pub backup: Backup,
    /// Continuous WAL archiving and the key escrow (site/archive.rs); absent: daily dumps only.
    #[serde(default)]
    pub archive: Option<Archive>,
    /// Who the server mails about problems, and the hourly host report (all optional).
    #[serde(default)]
    pub alerts: Alerts,
    /// The product's name, link and logo as buyers see them (all optional).
    #[serde(default)]
    pub brand: super::brand::Brand,
    /// How dtops elsewhere (the operator's laptop) reaches the box (all optional).
    #[serde(default)]
    pub admin: super::admin::Admin,
    pub commands: Commands,
    /// The file this was read from (absolute), when it was read from one: the hourly status
    /// job runs dtops with it.
    #[serde(skip)]
    pub file: Option<std::path::PathBuf>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct App {
    pub name: Name,
    pub stage: Stage,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Features {
    pub gumroad: bool,
    pub postmark: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Domains {
    pub site: DomainName,
    pub licenses: DomainName,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HostSettings {
    pub public_ip: std::net::Ipv4Addr,
    pub user: Name,
    pub container_uid: u32,
    pub packages: Vec<Name>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Paths {
    pub root: AbsPath,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ports {
    /// The api's loopback door: nginx forwards it to whichever slot serves (the admin API
    /// through an SSH tunnel, a metrics scrape).
    pub api: u16,
    /// The two api slots (blue/green); by default `api` + 1 and `api` + 2.
    #[serde(default)]
    pub api_blue: Option<u16>,
    #[serde(default)]
    pub api_green: Option<u16>,
    pub postgres: u16,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Database {
    pub name: Name,
    pub user: Name,
    pub volume: Name,
    pub image: ImageRef,
    /// A managed Postgres instead of the postgres container (`external_db.rs`).
    #[serde(default)]
    pub url: Option<DatabaseUrl>,
    /// The CA its server certificate is checked against (sslmode verify-full); without one,
    /// the public CAs (webpki roots).
    #[serde(default)]
    pub ca_file: Option<AbsPath>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Api {
    pub image: ImageRef,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Nginx {
    /// Whether dtops manages the nginx site and the certificate at all (false: by hand).
    #[serde(default = "yes")]
    pub managed: bool,
    pub site_file: AbsPath,
    pub enabled_link: AbsPath,
    /// The http-context include for names nginx keeps globally (the rate-limit zone).
    #[serde(default)]
    pub http_include: Option<AbsPath>,
    pub webroot: AbsPath,
    /// The static site's document root (nginx's workers must be able to read it).
    #[serde(default)]
    pub site_root: Option<AbsPath>,
    #[serde(default = "default_listen_http")]
    pub listen_http: Vec<Listen>,
    #[serde(default = "default_listen_https")]
    pub listen_https: Vec<Listen>,
    /// What forwards requests to nginx: `direct` (default) or `cloudflare`.
    #[serde(default)]
    pub behind: Behind,
    /// With `behind = "cloudflare"`: the proxy's address ranges, whose `CF-Connecting-IP` is
    /// believed (default: Cloudflare's published list).
    #[serde(default = "default_cloudflare_ranges")]
    pub cloudflare_ranges: Vec<IpRange>,
    /// The webhook's request-rate limit per client address (over it: 503, which Gumroad
    /// retries; never a 4xx, which it does not).
    #[serde(default = "default_webhook_limit")]
    pub webhook_limit: RateLimit,
    /// The buyer portal's request-rate limit per client address (people-sized).
    #[serde(default = "default_portal_limit")]
    pub portal_limit: RateLimit,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tls {
    pub cert_name: DomainName,
    pub acme_email: EmailAddress,
    pub acme_server: String,
    /// The ACME server `dtops provision --staging` uses.
    #[serde(default = "default_staging_server")]
    pub staging_server: String,
    /// certbot's --config-dir (live/, archive/, renewal/), --work-dir and --logs-dir.
    #[serde(default = "default_letsencrypt_dir")]
    pub letsencrypt_dir: AbsPath,
    #[serde(default = "default_certbot_work_dir")]
    pub work_dir: AbsPath,
    #[serde(default = "default_certbot_logs_dir")]
    pub logs_dir: AbsPath,
    /// CA bundle certbot trusts for the ACME server (REQUESTS_CA_BUNDLE); a test CA, say.
    #[serde(default)]
    pub ca_bundle: Option<AbsPath>,
    /// The DNS server (IP:PORT) the DNS preflight asks; the system resolver when absent.
    #[serde(default)]
    pub dns_resolver: Option<std::net::SocketAddr>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Email {
    pub from: EmailAddress,
    /// POSTMARK_API_URL: Postmark's API (default https://api.postmarkapp.com).
    #[serde(default)]
    pub postmark_api_url: Option<HttpUrl>,
    /// DATATOOLS_SUPPORT_EMAIL: where buyers write (the emails' text, the portal's footer) and
    /// the Reply-To of every email to a buyer; the sender's address without it.
    #[serde(default)]
    pub support: Option<EmailAddress>,
    /// Mount `<root>/email-texts/` into the api (DATATOOLS_EMAIL_TEMPLATES): a file there
    /// replaces the built-in email text of the same name, read at every send.
    #[serde(default)]
    pub texts: bool,
}

/// `[alerts]` (ADMIN.md "Alerts and monitoring").
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Alerts {
    /// DATATOOLS_ALERT_EMAIL: where the server mails problems; none: nothing is mailed.
    #[serde(default)]
    pub email: Option<EmailAddress>,
    /// DATATOOLS_ALERT_RETRY_MINUTES: an event retrying longer is a problem (server default 30).
    #[serde(default)]
    pub retry_minutes: Option<u32>,
    /// DATATOOLS_ALERT_CHECK_SECONDS: seconds between the server's checks (server default 60).
    #[serde(default)]
    pub check_seconds: Option<u32>,
    /// The cron file running `dtops status --quiet` hourly (it reports the backups and the
    /// certificate to the server).
    #[serde(default = "default_status_job")]
    pub status_job: AbsPath,
}

impl Default for Alerts {
    fn default() -> Self {
        Alerts {
            email: None,
            retry_minutes: None,
            check_seconds: None,
            status_job: default_status_job(),
        }
    }
}

fn default_status_job() -> AbsPath {
    abs("/etc/cron.d/datatools-license-status")
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Backup {
    pub retention_days: u32,
    /// The daily backup job dtops installs (a cron.daily script: ADMIN.md "Backups").
    #[serde(default = "default_backup_job")]
    pub job: AbsPath,
    #[serde(default)]
    pub offsite: Option<Offsite>,
}

fn default_backup_job() -> AbsPath {
    AbsPath::try_from("/etc/cron.daily/datatools-license-backup".to_string())
        .expect("an absolute path")
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Offsite {
    pub tool: OffsiteTool,
    pub target: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OffsiteTool {
    Rclone,
    Aws,
}

/// External commands as argument vectors (never a shell string: no quoting surprises).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Commands {
    pub nginx: Vec<String>,
    pub reload_nginx: Vec<String>,
    pub certbot: Vec<String>,
    pub docker_compose: Vec<String>,
    pub psql: Vec<String>,
    /// How `dtops upgrade` builds dtops from the commit it deploys: run in that commit's files
    /// with CARGO_TARGET_DIR set, it leaves `$CARGO_TARGET_DIR/release/dtops`. Empty: upgrade
    /// installs no dtops (the operator does).
    #[serde(default = "default_build_dtops")]
    pub build_dtops: Vec<String>,
}

fn default_build_dtops() -> Vec<String> {
    ["cargo", "build", "--release", "--locked", "-p", "dtops"]
        .map(String::from)
        .to_vec()
}

fn yes() -> bool {
    true
}
fn default_listen_http() -> Vec<Listen> {
    vec![Listen::port(80)]
}
fn default_listen_https() -> Vec<Listen> {
    vec![Listen::port(443)]
}
fn default_staging_server() -> String {
    "https://acme-staging-v02.api.letsencrypt.org/directory".into()
}
fn abs(path: &str) -> AbsPath {
    AbsPath::try_from(path.to_string()).expect("a built-in absolute path")
}
fn default_letsencrypt_dir() -> AbsPath {
    abs("/etc/letsencrypt")
}
fn default_certbot_work_dir() -> AbsPath {
    abs("/var/lib/letsencrypt")
}
fn default_certbot_logs_dir() -> AbsPath {
    abs("/var/log/letsencrypt")
}
