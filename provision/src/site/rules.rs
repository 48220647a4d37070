//! The rules of site.toml that span several values (a port used twice, a feature before its
//! stage, ...): each names the dotted key to blame.

use super::misfit::Misfit;
use super::model::Site;
use super::slot::Slot;
use super::values::{has_control, nginx_word, Stage};

impl Site {
    /// Every port given, each its own: the door, the two api slots, Postgres.
    fn check_ports(&self) -> Result<(), Misfit> {
        if self.ports.api >= 65534
            && (self.ports.api_blue.is_none() || self.ports.api_green.is_none())
        {
            return Err(Misfit::new(
                "ports.api",
                format!(
                    "{}: the api slots default to the two ports after it; choose a lower port \
                     or set ports.api_blue and ports.api_green",
                    self.ports.api
                ),
            ));
        }
        let ports = [
            ("ports.api", self.ports.api),
            (Slot::Blue.port_key(), self.slot_port(Slot::Blue)),
            (Slot::Green.port_key(), self.slot_port(Slot::Green)),
            ("ports.postgres", self.ports.postgres),
        ];
        for (n, (key, port)) in ports.iter().enumerate() {
            if *port == 0 {
                return Err(Misfit::new(key, "0 is not a port; use 1-65535"));
            }
            if let Some((other, _)) = ports[..n].iter().find(|(_, p)| p == port) {
                return Err(Misfit::new(
                    key,
                    format!("{port} is also {other}; give each its own port"),
                ));
            }
        }
        Ok(())
    }

    /// Checks that span several values; returns the dotted key to blame.
    pub(super) fn check(&self) -> Result<(), Misfit> {
        self.check_ports()?;
        if self.database.ca_file.is_some() && self.database.url.is_none() {
            return Err(Misfit::new(
                "database.ca_file",
                "is the managed database's CA: it goes with database.url (the postgres \
                 container needs none)",
            ));
        }
        if self.host.container_uid == 0 {
            return Err(Misfit::new(
                "host.container_uid",
                "must not be 0 (root); the image runs as 10001",
            ));
        }
        if self.domains.site == self.domains.licenses {
            return Err(Misfit::new(
                "domains.licenses",
                "must differ from domains.site",
            ));
        }
        if self.features.gumroad && self.app.stage < Stage::Pr2 {
            return Err(Misfit::new(
                "features.gumroad",
                "needs app.stage = \"pr2\" or later (use `dtops cutover pr2`)",
            ));
        }
        if self.features.postmark && self.app.stage < Stage::Pr2 {
            return Err(Misfit::new(
                "features.postmark",
                "needs app.stage = \"pr2\" or later (use `dtops cutover pr2`)",
            ));
        }
        if self.app.stage >= Stage::Pr3 && !self.features.postmark {
            return Err(Misfit::new(
                "app.stage",
                "pr3 (the buyer portal) emails sign-in links: it needs features.postmark = true \
                 (use `dtops cutover pr3`)",
            ));
        }
        if self.features.gumroad && !self.features.postmark {
            return Err(Misfit::new(
                "features.gumroad",
                "needs features.postmark = true: a sale must be able to email its license",
            ));
        }
        self.server.check()?;
        if let Some(minutes) = self.alerts.retry_minutes {
            if !(1..=10_080).contains(&minutes) {
                return Err(Misfit::new(
                    "alerts.retry_minutes",
                    format!("{minutes} is out of range; use 1-10080 (a week)"),
                ));
            }
        }
        if let Some(seconds) = self.alerts.check_seconds {
            if !(1..=3600).contains(&seconds) {
                return Err(Misfit::new(
                    "alerts.check_seconds",
                    format!("{seconds} is out of range; use 1-3600"),
                ));
            }
        }
        if !(1..=3650).contains(&self.backup.retention_days) {
            return Err(Misfit::new(
                "backup.retention_days",
                format!("{} is out of range; use 1-3650", self.backup.retention_days),
            ));
        }
        if !self.tls.acme_server.starts_with("https://") {
            return Err(Misfit::new(
                "tls.acme_server",
                "must be an https:// ACME directory URL",
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
                return Err(Misfit::new(key, "must name a program, e.g. [\"nginx\"]"));
            }
            // They go into certbot's renewal configuration (a double-quoted value) and the
            // backup job.
            if argv.iter().any(|arg| has_control(arg) || arg.contains('"')) {
                return Err(Misfit::new(
                    key,
                    "must not hold a double quote or a control character (a newline, a tab...)",
                ));
            }
        }
        if let Some(offsite) = &self.backup.offsite {
            if offsite.target.trim().is_empty() || has_control(&offsite.target) {
                return Err(Misfit::new(
                    "backup.offsite",
                    "target must be a remote path without control characters (a newline...), \
                     e.g. \"remote:backups/\"",
                ));
            }
        }
        // nginx reads these unquoted, and certbot's renewal configuration holds the webroot.
        let nginx_paths = [
            ("nginx.webroot", Some(self.nginx.webroot.as_path())),
            (
                "nginx.site_root",
                self.nginx.site_root.as_ref().map(|p| p.as_path()),
            ),
            (
                "nginx.http_include",
                self.nginx.http_include.as_ref().map(|p| p.as_path()),
            ),
            (
                "tls.letsencrypt_dir",
                Some(self.tls.letsencrypt_dir.as_path()),
            ),
        ];
        for (key, path) in nginx_paths {
            if let Some(path) = path.filter(|p| !nginx_word(&p.to_string_lossy())) {
                return Err(Misfit::new(
                    key,
                    format!(
                        "{:?} cannot go into nginx's configuration; use letters, digits and \
                         / . _ - + @ only",
                        path.display()
                    ),
                ));
            }
        }
        for (key, url) in [("tls.staging_server", &self.tls.staging_server)] {
            if !url.starts_with("https://") {
                return Err(Misfit::new(key, "must be an https:// ACME directory URL"));
            }
        }
        if self.nginx.listen_http.is_empty() || self.nginx.listen_https.is_empty() {
            let key = if self.nginx.listen_http.is_empty() {
                "nginx.listen_http"
            } else {
                "nginx.listen_https"
            };
            return Err(Misfit::new(
                key,
                "needs at least one address, e.g. [\"80\"]",
            ));
        }
        if self.nginx.listen_http[0].port == self.nginx.listen_https[0].port {
            return Err(Misfit::new(
                "nginx.listen_https",
                "must use another port than nginx.listen_http",
            ));
        }
        if self.nginx.site_file == self.nginx.enabled_link {
            return Err(Misfit::new(
                "nginx.enabled_link",
                "must differ from nginx.site_file",
            ));
        }
        if let Some(archive) = &self.archive {
            if self.database.url.is_some() {
                // A managed database archives itself; there is no postgres container to add
                // pgBackRest to.
                return Err(Misfit::new(
                    "archive",
                    "cannot be used with [database] url: the managed database's provider keeps \
                     its WAL and point-in-time recovery; remove [archive] and keep an \
                     encrypted copy of /srv/<app>/secrets yourself (SETUP \"More than one \
                     box\")",
                ));
            }
            archive.check()?;
        }
        Ok(())
    }
}
