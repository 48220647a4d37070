//! `[admin]`: how dtops on the operator's laptop reaches the box (ADMIN.md "From your laptop").
//! With `ssh` set, every admin command opens its own SSH port forward to the box's api and closes
//! it afterwards; `dtops logs`, `psql` and `status` run on the box through SSH.

use std::fmt;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Admin {
    /// `user@host` (or a Host alias of ~/.ssh/config, where a port and an identity go): the
    /// box, for commands run elsewhere. `--ssh` / `DTOPS_SSH` win over it.
    #[serde(default)]
    pub ssh: Option<SshDestination>,
    /// The dtops command on the box as sudo runs it (default `dtops`, which sudo's secure_path
    /// finds in /usr/local/bin); a full path when it is elsewhere.
    #[serde(default)]
    pub dtops: Option<RemoteProgram>,
}

/// Where `ssh` connects: `[user@]host`, `ssh://[user@]host[:port]` or a ~/.ssh/config alias.
/// Never starting with `-` (it would be read as an option), no spaces or control characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct SshDestination(String);

impl TryFrom<String> for SshDestination {
    type Error = String;
    fn try_from(value: String) -> Result<Self, String> {
        let ok = !value.is_empty()
            && value.len() <= 255
            && !value.starts_with('-')
            && value
                .chars()
                .all(|c| c.is_ascii_graphic() && !"'\"`$;&|<>\\".contains(c));
        if ok {
            Ok(SshDestination(value))
        } else {
            Err(format!(
                "{value:?} is not an SSH destination; expected user@host (e.g. \
                 michael@46.225.166.142) or a Host alias from ~/.ssh/config"
            ))
        }
    }
}

impl std::str::FromStr for SshDestination {
    type Err = String;
    fn from_str(value: &str) -> Result<Self, String> {
        SshDestination::try_from(value.to_string())
    }
}

impl From<SshDestination> for String {
    fn from(value: SshDestination) -> String {
        value.0
    }
}

impl fmt::Display for SshDestination {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl SshDestination {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A program on the box: a plain name PATH finds, or an absolute path; no spaces, no quoting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RemoteProgram(String);

impl TryFrom<String> for RemoteProgram {
    type Error = String;
    fn try_from(value: String) -> Result<Self, String> {
        let ok = !value.is_empty()
            && !value.starts_with('-')
            && value
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_./+".contains(&b));
        if ok {
            Ok(RemoteProgram(value))
        } else {
            Err(format!(
                "{value:?} is not a program; expected a name such as dtops or an absolute path \
                 such as /usr/local/bin/dtops"
            ))
        }
    }
}

impl From<RemoteProgram> for String {
    fn from(value: RemoteProgram) -> String {
        value.0
    }
}

impl RemoteProgram {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use crate::site::admin::*;

    #[test]
    fn destinations_that_ssh_would_read_as_options_or_a_shell_would_split_are_refused() {
        for good in [
            "michael@46.225.166.142",
            "box",
            "ssh://ops@box.example.com:2222",
        ] {
            assert!(good.parse::<SshDestination>().is_ok(), "{good}");
        }
        for bad in ["", "-oProxyCommand=x", "a b@host", "me@host;rm", "host\n"] {
            let err = bad.parse::<SshDestination>().unwrap_err();
            assert!(err.contains("not an SSH destination"), "{err}");
        }
        assert!(RemoteProgram::try_from("/usr/local/bin/dtops".to_string()).is_ok());
        assert!(RemoteProgram::try_from("dtops; rm".to_string()).is_err());
    }
}
