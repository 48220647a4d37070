//! Paths and facts derived from site.toml: real host paths, never relocated (`Host::path`
//! relocates them under `--root`).

use std::path::{Path, PathBuf};

use super::external_db::DatabaseUrl;
use super::model::Site;
use super::values::DomainName;

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
    /// Email texts replacing the built-in ones (`[email] texts`), mounted into the api.
    pub fn email_texts_dir(&self) -> PathBuf {
        self.root().join("email-texts")
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
    /// The buyer portal and the revocation feed (stage pr3).
    pub fn portal_on(&self) -> bool {
        self.app.stage >= super::Stage::Pr3
    }
    /// Where buyers reach the server: the licenses name over HTTPS (with the port when nginx
    /// does not listen on 443). The portal's emailed links start with it.
    pub fn public_url(&self) -> String {
        let port = self.nginx.listen_https.first().map_or(443, |l| l.port);
        if port == 443 {
            format!("https://{}", self.domains.licenses)
        } else {
            format!("https://{}:{port}", self.domains.licenses)
        }
    }
}

/// Continuous archiving's files: the Postgres image with pgBackRest (its build context and
/// pgbackrest.conf), and the key escrow's record of its last copy.
impl Site {
    pub fn archive_dir(&self) -> PathBuf {
        self.root().join("postgres")
    }
    pub fn escrow_state_dir(&self) -> PathBuf {
        self.state_dir().join("escrow")
    }
}

/// The backup job's own state under dtops' state directory (read by `dtops status`).
impl Site {
    pub fn backup_state_dir(&self) -> PathBuf {
        self.state_dir().join("backup")
    }
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

/// The database: the postgres container, or a managed one (`[database] url`).
impl Site {
    /// The external database, when `[database] url` names one.
    pub fn external_db(&self) -> Option<&DatabaseUrl> {
        self.database.url.as_ref()
    }

    /// Where the database is, for messages: `HOST:PORT` (external) or the container.
    pub fn database_place(&self) -> String {
        match self.external_db() {
            Some(url) => format!("{}:{} (managed, over TLS)", url.host, url.port),
            None => format!("the postgres container (127.0.0.1:{})", self.ports.postgres),
        }
    }

    /// The database's user and name: the URL's when external.
    pub fn db_user(&self) -> &str {
        self.external_db()
            .map_or(self.database.user.as_str(), |u| u.user.as_str())
    }

    pub fn db_name(&self) -> &str {
        self.external_db()
            .map_or(self.database.name.as_str(), |u| u.name.as_str())
    }
}
