//! `site.toml`: the declarative description of the deployment, parsed and checked up front so
//! nothing touches the host with a bad value. Errors read `FILE:LINE:COLUMN: what is wrong and
//! what is expected`.

mod locate;
mod values;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

pub use values::{AbsPath, DomainName, EmailAddress, Listen, Name, Stage};

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
    pub backup: Backup,
    pub commands: Commands,
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
    pub api: u16,
    pub postgres: u16,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Database {
    pub name: Name,
    pub user: Name,
    pub volume: Name,
    pub image: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Api {
    pub image: String,
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
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Backup {
    pub retention_days: u32,
    /// The daily backup job dtops installs (runbook §9: a cron.daily script).
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
}

/// What the deployment's paths are, derived from `paths.root`.
impl Site {
    pub fn root(&self) -> &Path {
        self.paths.root.as_path()
    }
    pub fn app_dir(&self) -> PathBuf {
        self.root().join("app")
    }
    pub fn secrets_dir(&self) -> PathBuf {
        self.root().join("secrets")
    }
    pub fn backups_dir(&self) -> PathBuf {
        self.root().join("backups")
    }
    /// dtops' own state: pending handlers, kept previous versions of rendered files.
    pub fn state_dir(&self) -> PathBuf {
        self.root().join(".dtops")
    }
    pub fn compose_file(&self) -> PathBuf {
        self.root().join("compose.yml")
    }
    pub fn env_file(&self) -> PathBuf {
        self.root().join(".env")
    }
    pub fn secret_file(&self, name: &str) -> PathBuf {
        self.secrets_dir().join(name)
    }
    /// The per-app lock; outside the app root so it exists before the root does.
    pub fn lock_file(&self) -> PathBuf {
        PathBuf::from(format!("/run/lock/dtops-{}.lock", self.app.name))
    }
    pub fn gumroad_on(&self) -> bool {
        self.features.gumroad
    }
    pub fn postmark_on(&self) -> bool {
        self.features.postmark
    }
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

/// nginx and TLS paths, with their defaults derived from the app's name.
impl Site {
    pub fn nginx_http_include(&self) -> PathBuf {
        match &self.nginx.http_include {
            Some(path) => path.as_path().to_path_buf(),
            None => PathBuf::from(format!("/etc/nginx/conf.d/{}.conf", self.app.name)),
        }
    }
    pub fn nginx_site_root(&self) -> PathBuf {
        match &self.nginx.site_root {
            Some(path) => path.as_path().to_path_buf(),
            None => PathBuf::from(format!("/var/www/{}/site", self.app.name)),
        }
    }
    /// The domain names the certificate and the nginx site cover.
    pub fn tls_names(&self) -> [&DomainName; 2] {
        [&self.domains.site, &self.domains.licenses]
    }
    /// `live/<cert_name>/`: what nginx's phase-2 site points at.
    pub fn cert_live_dir(&self) -> PathBuf {
        self.tls
            .letsencrypt_dir
            .as_path()
            .join("live")
            .join(self.tls.cert_name.as_str())
    }
    pub fn cert_renewal_conf(&self) -> PathBuf {
        self.tls
            .letsencrypt_dir
            .as_path()
            .join("renewal")
            .join(format!("{}.conf", self.tls.cert_name))
    }
    /// The host-wide lock around nginx changes (dtops runs of any app, certbot's deploy hook).
    pub fn nginx_lock_file(&self) -> PathBuf {
        PathBuf::from("/run/lock/dtops-nginx.lock")
    }
}

/// A site.toml problem, located in the file.
#[derive(Debug, thiserror::Error)]
#[error("{origin}:{line}:{column}: {message}")]
pub struct SiteError {
    pub origin: String,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl Site {
    pub fn load(path: &Path) -> anyhow::Result<Site> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            anyhow::anyhow!(
                "cannot read {}: {e}; pass --site FILE or run dtops where site.toml is",
                path.display()
            )
        })?;
        Ok(Site::parse(&text, &path.display().to_string())?)
    }

    /// Parses and checks `text`; `origin` names the file in errors.
    pub fn parse(text: &str, origin: &str) -> Result<Site, SiteError> {
        let site: Site = toml::from_str(text).map_err(|e| {
            let (line, column) = e
                .span()
                .map(|span| locate::line_column(text, span.start))
                .unwrap_or((1, 1));
            SiteError {
                origin: origin.to_string(),
                line,
                column,
                message: e.message().trim().to_string(),
            }
        })?;
        site.check().map_err(|(key, message)| {
            let (line, column) = locate::key(text, key).unwrap_or((1, 1));
            SiteError {
                origin: origin.to_string(),
                line,
                column,
                message: format!("{key}: {message}"),
            }
        })?;
        Ok(site)
    }

    /// Checks that span several values; returns the dotted key to blame.
    fn check(&self) -> Result<(), (&'static str, String)> {
        if self.ports.api == 0 || self.ports.postgres == 0 {
            let key = if self.ports.api == 0 {
                "ports.api"
            } else {
                "ports.postgres"
            };
            return Err((key, "0 is not a port; use 1-65535".into()));
        }
        if self.ports.api == self.ports.postgres {
            return Err((
                "ports.postgres",
                format!(
                    "{} is also ports.api; give each its own port",
                    self.ports.postgres
                ),
            ));
        }
        if self.host.container_uid == 0 {
            return Err((
                "host.container_uid",
                "must not be 0 (root); the image runs as 10001".into(),
            ));
        }
        if self.domains.site == self.domains.licenses {
            return Err(("domains.licenses", "must differ from domains.site".into()));
        }
        if self.features.gumroad && self.app.stage < Stage::Pr2 {
            return Err((
                "features.gumroad",
                "needs app.stage = \"pr2\" or later (use `dtops cutover pr2`)".into(),
            ));
        }
        if self.features.postmark && self.app.stage < Stage::Pr2 {
            return Err((
                "features.postmark",
                "needs app.stage = \"pr2\" or later (use `dtops cutover pr2`)".into(),
            ));
        }
        if self.features.gumroad && !self.features.postmark {
            return Err((
                "features.gumroad",
                "needs features.postmark = true: a sale must be able to email its license".into(),
            ));
        }
        if !(1..=3650).contains(&self.backup.retention_days) {
            return Err((
                "backup.retention_days",
                format!("{} is out of range; use 1-3650", self.backup.retention_days),
            ));
        }
        if !self.tls.acme_server.starts_with("https://") {
            return Err((
                "tls.acme_server",
                "must be an https:// ACME directory URL".into(),
            ));
        }
        let commands = [
            ("commands.nginx", &self.commands.nginx),
            ("commands.reload_nginx", &self.commands.reload_nginx),
            ("commands.certbot", &self.commands.certbot),
            ("commands.docker_compose", &self.commands.docker_compose),
            ("commands.psql", &self.commands.psql),
        ];
        for (key, argv) in commands {
            if argv.is_empty() || argv[0].trim().is_empty() {
                return Err((key, "must name a program, e.g. [\"nginx\"]".into()));
            }
        }
        for (key, url) in [("tls.staging_server", &self.tls.staging_server)] {
            if !url.starts_with("https://") {
                return Err((key, "must be an https:// ACME directory URL".into()));
            }
        }
        if self.nginx.listen_http.is_empty() || self.nginx.listen_https.is_empty() {
            let key = if self.nginx.listen_http.is_empty() {
                "nginx.listen_http"
            } else {
                "nginx.listen_https"
            };
            return Err((key, "needs at least one address, e.g. [\"80\"]".into()));
        }
        if self.nginx.listen_http[0].port == self.nginx.listen_https[0].port {
            return Err((
                "nginx.listen_https",
                "must use another port than nginx.listen_http".into(),
            ));
        }
        if self.nginx.site_file == self.nginx.enabled_link {
            return Err((
                "nginx.enabled_link",
                "must differ from nginx.site_file".into(),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::site::*;

    const COMMITTED: &str = include_str!("../../../site.toml");

    fn error_for(from: &str, to: &str) -> String {
        assert!(COMMITTED.contains(from), "{from}");
        let text = COMMITTED.replacen(from, to, 1);
        Site::parse(&text, "site.toml").unwrap_err().to_string()
    }

    fn line_of(needle: &str) -> usize {
        COMMITTED
            .lines()
            .position(|l| l.starts_with(needle))
            .unwrap()
            + 1
    }

    #[test]
    fn the_committed_site_toml_holds_the_runbook_values() {
        let site = Site::parse(COMMITTED, "site.toml").unwrap();
        assert_eq!(
            site.domains.licenses.as_str(),
            "licenses.datatools.unalogix.com"
        );
        assert_eq!(site.host.public_ip.to_string(), "46.225.166.142");
        assert_eq!((site.ports.api, site.ports.postgres), (8090, 5433));
        assert_eq!(
            site.secrets_dir(),
            PathBuf::from("/srv/datatools-license/secrets")
        );
        assert_eq!(site.host.container_uid, 10001);
        assert_eq!(site.app.stage, Stage::Pr1);
    }

    #[test]
    fn errors_carry_file_line_column_and_what_is_expected() {
        let line = line_of("api = 8090");
        let err = error_for("api = 8090", "api = \"eighty\"");
        assert!(err.starts_with(&format!("site.toml:{line}:7: ")), "{err}");
        assert!(err.contains("u16") || err.contains("integer"), "{err}");

        let line = line_of("name = \"datatools_licenses\"");
        let err = error_for(
            "name = \"datatools_licenses\"",
            "nmae = \"datatools_licenses\"",
        );
        assert!(err.starts_with(&format!("site.toml:{line}:1: ")), "{err}");
        assert!(err.contains("unknown field `nmae`"), "{err}");

        let line = line_of("licenses = \"licenses");
        let err = error_for(
            "licenses = \"licenses.datatools.unalogix.com\"",
            "licenses = \"Licenses..example\"",
        );
        assert!(err.starts_with(&format!("site.toml:{line}:12: ")), "{err}");
        assert!(err.contains("not a domain name"), "{err}");

        let line = line_of("postgres = 5433");
        let err = error_for("postgres = 5433", "postgres = 8090");
        assert!(err.starts_with(&format!("site.toml:{line}:12: ")), "{err}");
        assert!(
            err.contains("ports.postgres: 8090 is also ports.api"),
            "{err}"
        );

        let err = error_for(
            "root = \"/srv/datatools-license\"",
            "root = \"srv/datatools\"",
        );
        assert!(err.contains("not an absolute path"), "{err}");

        let err = error_for("gumroad = false", "gumroad = true");
        assert!(err.contains("features.gumroad: needs app.stage"), "{err}");

        let err = error_for("stage = \"pr1\"", "stage = \"pr9\"");
        assert!(err.contains("pr9") && err.contains("pr1"), "{err}");

        let err = error_for(
            "public_ip = \"46.225.166.142\"",
            "public_ip = \"46.225.166\"",
        );
        assert!(
            err.contains("host") || err.contains("IP") || err.contains("address"),
            "{err}"
        );

        let err = error_for("retention_days = 30", "retention_days = 0");
        assert!(err.contains("backup.retention_days"), "{err}");
    }

    #[test]
    fn nginx_and_tls_settings_are_checked_and_have_defaults() {
        let line = line_of("listen_https = ");
        let err = error_for("listen_https = [\"443\"]", "listen_https = [\"80\"]");
        assert!(err.starts_with(&format!("site.toml:{line}:")), "{err}");
        assert!(
            err.contains("nginx.listen_https: must use another port"),
            "{err}"
        );
        let err = error_for(
            "listen_http = [\"80\"]",
            "listen_http = [\"80 default_server\"]",
        );
        assert!(err.contains("not a listen address"), "{err}");
        let err = error_for("staging_server = \"https://", "staging_server = \"http://");
        assert!(err.contains("tls.staging_server"), "{err}");

        // A site.toml from before these settings still reads, with the runbook's defaults.
        let old: String = COMMITTED
            .lines()
            .filter(|l| {
                ![
                    "managed =",
                    "http_include =",
                    "site_root =",
                    "listen_http =",
                    "listen_https =",
                    "staging_server =",
                    "letsencrypt_dir =",
                    "work_dir =",
                    "logs_dir =",
                ]
                .iter()
                .any(|key| l.starts_with(key))
            })
            .map(|l| format!("{l}\n"))
            .collect();
        let site = Site::parse(&old, "site.toml").unwrap();
        assert!(site.nginx.managed);
        assert_eq!(
            site.nginx_http_include(),
            PathBuf::from("/etc/nginx/conf.d/datatools-license.conf")
        );
        assert_eq!(
            site.nginx_site_root(),
            PathBuf::from("/var/www/datatools-license/site")
        );
        assert_eq!(site.nginx.listen_https[0].to_string(), "443");
        assert_eq!(
            site.cert_live_dir(),
            PathBuf::from("/etc/letsencrypt/live/datatools.unalogix.com")
        );
        assert!(site.tls.dns_resolver.is_none() && site.tls.ca_bundle.is_none());
    }
}
