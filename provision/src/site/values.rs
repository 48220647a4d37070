//! Value types for site.toml that check themselves while parsing, so the TOML error carries the
//! offending value's position.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// A deployment stage: each adds to the one before.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Stage {
    Pr1,
    Pr2,
    Pr3,
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Stage::Pr1 => "pr1",
            Stage::Pr2 => "pr2",
            Stage::Pr3 => "pr3",
        })
    }
}

macro_rules! checked_string {
    ($(#[$doc:meta])* $name:ident, $check:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, ::serde::Serialize, ::serde::Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl TryFrom<String> for $name {
            type Error = String;
            fn try_from(value: String) -> Result<Self, String> {
                let check: fn(&str) -> Result<(), String> = $check;
                check(&value)?;
                Ok($name(value))
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> String {
                value.0
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }
    };
}
// The brand's names and URLs (brand.rs) are checked strings too.
pub(super) use checked_string;

checked_string!(
    /// A name used in files, commands and Docker: letters, digits, `-`, `_`, `.`.
    Name,
    |v| {
        let ok = !v.is_empty()
            && v.len() <= 64
            && !v.starts_with('-')
            && v.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b));
        if ok {
            Ok(())
        } else {
            Err(format!("{v:?} is not a valid name; expected 1-64 of a-z A-Z 0-9 - _ . (not starting with -)"))
        }
    }
);

checked_string!(
    /// A DNS name such as `licenses.datatools.unalogix.com`.
    DomainName,
    |v| {
        let labels: Vec<&str> = v.split('.').collect();
        let ok = v.len() <= 253
            && labels.len() >= 2
            && labels.iter().all(|l| {
                !l.is_empty()
                    && l.len() <= 63
                    && !l.starts_with('-')
                    && !l.ends_with('-')
                    && l.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            });
        if ok {
            Ok(())
        } else {
            Err(format!("{v:?} is not a domain name; expected lowercase like licenses.example.com"))
        }
    }
);

checked_string!(
    /// An http(s) URL without spaces, quotes or control characters (it goes into compose.yml
    /// and the api's environment).
    HttpUrl,
    |v| {
        let ok = (v.starts_with("https://") || v.starts_with("http://"))
            && v.len() <= 512
            && v.bytes().all(|b| b.is_ascii_graphic() && !b"\"'`$\\{}<>".contains(&b));
        if ok {
            Ok(())
        } else {
            Err(format!("{v:?} is not an http(s) URL such as https://api.postmarkapp.com"))
        }
    }
);

checked_string!(
    /// A Gumroad seller id (letters, digits, `-`, `_`, `=`).
    SellerId,
    |v| {
        let ok = !v.is_empty()
            && v.len() <= 64
            && v.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_=".contains(&b));
        if ok {
            Ok(())
        } else {
            Err(format!("{v:?} is not a Gumroad seller id; copy it from a Ping (seller_id)"))
        }
    }
);

checked_string!(
    /// An email address (a plain syntax check).
    EmailAddress,
    |v| {
        datatools_license::check_email_address(v)
            .map_err(|e| format!("{v:?} is not an email address ({e})"))
    }
);

checked_string!(
    /// A Docker image reference such as `postgres:16-alpine` or
    /// `registry.example.com:5000/team/api@sha256:...`: compose.yml gets it as it is, so
    /// nothing compose would interpolate (`$`) or YAML would read (spaces, quotes, newlines).
    ImageRef,
    |v| {
        let ok = !v.is_empty()
            && v.len() <= 255
            && v.starts_with(|c: char| c.is_ascii_alphanumeric())
            && v.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-/:@".contains(&b));
        if ok {
            Ok(())
        } else {
            Err(format!(
                "{v:?} is not an image reference; expected e.g. \"postgres:16-alpine\" \
                 (letters, digits and . _ - / : @)"
            ))
        }
    }
);

/// Whether `v` holds a control character (a newline, a NUL, an escape...): never wanted in a
/// path or name dtops writes into a file.
pub fn has_control(v: &str) -> bool {
    v.chars().any(char::is_control)
}

/// Whether nginx reads `v` as one plain word wherever dtops writes it (a path, a name): no
/// spaces, quotes, `;`, braces, `$`, `#` or control characters.
pub fn nginx_word(v: &str) -> bool {
    !v.is_empty()
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/._-+@:".contains(&b))
}

/// An absolute path without `..` (dtops relocates these under `--root`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct AbsPath(PathBuf);

impl TryFrom<String> for AbsPath {
    type Error = String;
    fn try_from(value: String) -> Result<Self, String> {
        let path = PathBuf::from(&value);
        if has_control(&value) {
            return Err(format!(
                "{value:?} holds a control character (a newline, a tab, a NUL...); give the \
                 path plainly"
            ));
        }
        if !path.is_absolute() {
            return Err(format!(
                "{value:?} is not an absolute path; expected e.g. /srv/datatools-license"
            ));
        }
        if path
            .components()
            .any(|c| matches!(c, std::path::Component::ParentDir))
        {
            return Err(format!("{value:?} contains \"..\"; give the path plainly"));
        }
        if path == Path::new("/") {
            return Err("\"/\" is not acceptable here; name a directory of this app's own".into());
        }
        Ok(AbsPath(path))
    }
}

impl From<AbsPath> for String {
    fn from(value: AbsPath) -> String {
        value.0.to_string_lossy().into_owned()
    }
}

impl AbsPath {
    pub fn as_path(&self) -> &Path {
        &self.0
    }
}

impl fmt::Display for AbsPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.display().fmt(f)
    }
}

/// Where an nginx server listens: a port (every address), `IPV4:PORT` or `[IPV6]:PORT`. Never
/// with parameters: `default_server`, `reuseport`, `ipv6only` or `backlog` in one tenant's file
/// change how nginx treats every other tenant's servers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Listen {
    pub ip: Option<std::net::IpAddr>,
    pub port: u16,
}

impl Listen {
    pub fn port(port: u16) -> Listen {
        Listen { ip: None, port }
    }

    /// Where a probe on this host reaches the listener (127.0.0.1 for "every address").
    pub fn probe_addr(&self) -> std::net::SocketAddr {
        let ip = match self.ip {
            Some(ip) if !ip.is_unspecified() => ip,
            _ => std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST),
        };
        std::net::SocketAddr::new(ip, self.port)
    }
}

impl TryFrom<String> for Listen {
    type Error = String;
    fn try_from(value: String) -> Result<Self, String> {
        let bad = || {
            format!(
                "{value:?} is not a listen address; expected a port (\"443\"), \
                 \"127.0.0.1:443\" or \"[::]:443\", without parameters"
            )
        };
        let listen = if let Ok(port) = value.parse::<u16>() {
            Listen::port(port)
        } else {
            let addr: std::net::SocketAddr = value.parse().map_err(|_| bad())?;
            Listen {
                ip: Some(addr.ip()),
                port: addr.port(),
            }
        };
        if listen.port == 0 {
            return Err(bad());
        }
        Ok(listen)
    }
}

impl From<Listen> for String {
    fn from(value: Listen) -> String {
        value.to_string()
    }
}

impl fmt::Display for Listen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.ip {
            None => write!(f, "{}", self.port),
            Some(ip) => write!(f, "{}", std::net::SocketAddr::new(ip, self.port)),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::site::values::*;

    #[test]
    fn listen_addresses_parse_and_print_as_nginx_takes_them() {
        for text in ["80", "127.0.0.1:8080", "[::]:443"] {
            assert_eq!(
                Listen::try_from(text.to_string()).unwrap().to_string(),
                text
            );
        }
        for bad in ["0", "80 default_server", "localhost:80", "[::]", ""] {
            assert!(Listen::try_from(bad.to_string()).is_err(), "{bad}");
        }
        let all = Listen::port(80).probe_addr();
        assert_eq!(all.to_string(), "127.0.0.1:80");
    }
}
