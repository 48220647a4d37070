//! `[database] url`: a Postgres someone else runs (RDS, Cloud SQL, Neon) instead of the
//! postgres container. dtops then starts no database, the api connects over TLS with the
//! server's certificate checked against `[database] ca_file` (sslmode verify-full), and the
//! provider keeps the backups and point-in-time recovery.

use serde::{Deserialize, Serialize};

/// `postgres://USER@HOST[:PORT]/NAME`: no password (it is secrets/pg_password) and no query
/// (dtops adds the TLS settings).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DatabaseUrl {
    text: String,
    pub user: String,
    pub host: String,
    pub port: u16,
    pub name: String,
}

impl TryFrom<String> for DatabaseUrl {
    type Error = String;
    fn try_from(text: String) -> Result<Self, String> {
        let shape = "expected postgres://USER@HOST:PORT/NAME (the password goes in \
                     secrets/pg_password; dtops adds the TLS settings)";
        // Nothing here repeats the URL: a password typed into it must not reach a message.
        let (scheme, rest) = text.split_once("://").unwrap_or(("", &text));
        let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
        if authority
            .rsplit_once('@')
            .is_some_and(|(userinfo, _)| userinfo.contains(':'))
        {
            return Err(format!(
                "the URL holds a password: keep it out of site.toml (put it in \
                 secrets/pg_password); {shape}"
            ));
        }
        if !matches!(scheme, "postgres" | "postgresql") {
            return Err(format!("not a postgres:// URL; {shape}"));
        }
        if rest.contains(['?', '#']) {
            return Err(format!(
                "the URL has a query; dtops sets sslmode=verify-full and the CA itself \
                 ([database] ca_file); {shape}"
            ));
        }
        let (authority, name) = rest
            .split_once('/')
            .ok_or_else(|| format!("the URL names no database; {shape}"))?;
        let (user, address) = authority
            .split_once('@')
            .ok_or_else(|| format!("the URL names no user; {shape}"))?;
        let (host, port) = match address.rsplit_once(':') {
            Some((host, port)) => (
                host,
                port.parse::<u16>()
                    .ok()
                    .filter(|p| *p > 0)
                    .ok_or_else(|| format!("{port:?} is not a port; {shape}"))?,
            ),
            None => (address, 5432),
        };
        let word = |w: &str| {
            !w.is_empty()
                && w.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b))
        };
        for (what, value) in [("user", user), ("host", host), ("database", name)] {
            if !word(value) {
                return Err(format!(
                    "the {what} {value:?} must be letters, digits, `_`, `.` and `-`; {shape}"
                ));
            }
        }
        Ok(DatabaseUrl {
            user: user.to_string(),
            host: host.to_string(),
            port,
            name: name.to_string(),
            text,
        })
    }
}

impl From<DatabaseUrl> for String {
    fn from(url: DatabaseUrl) -> String {
        url.text
    }
}

impl std::fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

#[cfg(test)]
mod tests {
    use crate::site::external_db::DatabaseUrl;

    #[test]
    fn urls_are_read_and_refused_with_the_reason() {
        let url = DatabaseUrl::try_from("postgres://app@db.example.com:6543/licenses".to_string())
            .unwrap();
        assert_eq!(
            (
                url.user.as_str(),
                url.host.as_str(),
                url.port,
                url.name.as_str()
            ),
            ("app", "db.example.com", 6543, "licenses")
        );
        let default =
            DatabaseUrl::try_from("postgresql://app@10.0.0.5/licenses".to_string()).unwrap();
        assert_eq!(default.port, 5432);
        for (bad, why) in [
            ("mysql://app@h/d", "not a postgres:// URL"),
            ("postgres://app:secret@h/d", "holds a password"),
            ("postgres://app@h/d?sslmode=disable", "has a query"),
            ("postgres://h/d", "names no user"),
            ("postgres://app@h", "names no database"),
            ("postgres://app@h:0/d", "is not a port"),
            ("postgres://app@h x/d", "must be letters"),
        ] {
            let err = DatabaseUrl::try_from(bad.to_string()).unwrap_err();
            assert!(err.contains(why), "{bad}: {err}");
            assert!(!err.contains("secret\""), "{err}");
        }
    }
}
