//! `[archive]`: continuous WAL archiving with pgBackRest (a repository on the box and one
//! off-site), the daily full backups into both, and the key escrow's recipient. Absent: the
//! daily logical dump is the only backup (ADMIN.md "When the box is gone" says why not to).

use std::fmt;

use serde::{Deserialize, Serialize};

use super::values::AbsPath;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Archive {
    /// pgBackRest's stanza: the name of this cluster in both repositories.
    #[serde(default = "default_stanza")]
    pub stanza: ArchiveWord,
    /// Postgres' `archive_timeout`: a WAL segment with any write in it is closed and archived
    /// after at most this many seconds (the recovery point objective).
    #[serde(default = "default_timeout")]
    pub timeout_seconds: u32,
    /// The hour (UTC) of the daily full backup into both repositories.
    #[serde(default = "default_full_hour")]
    pub full_backup_hour: u8,
    /// Full backups kept on the box (with the WAL they need).
    #[serde(default = "default_local_full")]
    pub local_full_kept: u32,
    /// Full backups kept off-site.
    #[serde(default = "default_offsite_full")]
    pub offsite_full_kept: u32,
    /// Most MiB of WAL waiting for archiving before pgBackRest drops it (and says so in the
    /// log): an archive that fails for days must not fill the disk. The sentinel mails long
    /// before (an archive stalled for 5 minutes).
    #[serde(default = "default_queue_max_mib")]
    pub queue_max_mib: u32,
    /// The cron file running the daily full backups and the escrow copy.
    #[serde(default = "default_job")]
    pub job: AbsPath,
    pub offsite: ArchiveOffsite,
    /// The age recipient (`age1...`) the key escrow is encrypted to: `dtops escrow init` makes
    /// the pair and prints the identity once, as the recovery kit; the box holds only this.
    #[serde(default)]
    pub escrow_recipient: Option<ArchiveWord>,
}

/// Where the off-site repository lives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase", deny_unknown_fields)]
pub enum ArchiveOffsite {
    /// An S3-compatible bucket. The access key is secrets/archive_s3_key_id and
    /// archive_s3_secret (`dtops archive credentials --stdin`).
    S3 {
        endpoint: ArchiveWord,
        #[serde(default = "default_s3_port")]
        port: u16,
        bucket: ArchiveWord,
        region: ArchiveWord,
        /// The repository's path inside the bucket.
        #[serde(default = "default_repo_path")]
        path: AbsPath,
        /// `host` (bucket.endpoint, AWS) or `path` (endpoint/bucket, most others).
        #[serde(default)]
        uri_style: UriStyle,
        /// A CA bundle to trust for the endpoint (a private S3 service); none: the system's.
        #[serde(default)]
        ca_file: Option<AbsPath>,
    },
    /// A directory on the host (a mounted remote file system).
    Dir { path: AbsPath },
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum UriStyle {
    #[default]
    Host,
    Path,
}

impl fmt::Display for UriStyle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            UriStyle::Host => "host",
            UriStyle::Path => "path",
        })
    }
}

/// A value that goes into pgbackrest.conf and the cron file as one plain word: letters,
/// digits and `._-+@:/`, never a space, `=`, a quote or a newline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ArchiveWord(String);

impl TryFrom<String> for ArchiveWord {
    type Error = String;
    fn try_from(value: String) -> Result<Self, String> {
        let ok = !value.is_empty()
            && value.len() <= 255
            && value
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._-+@:/".contains(&b));
        if ok {
            Ok(ArchiveWord(value))
        } else {
            Err(format!(
                "{value:?} is not a plain word; expected letters, digits and . _ - + @ : /"
            ))
        }
    }
}

impl From<ArchiveWord> for String {
    fn from(value: ArchiveWord) -> String {
        value.0
    }
}

impl fmt::Display for ArchiveWord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl ArchiveWord {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Archive {
    /// The secret files archiving needs: the off-site repository's cipher passphrase
    /// (generated), and the S3 access key (given by the operator).
    pub fn secret_names(&self) -> Vec<&'static str> {
        let mut names = vec![CIPHER_PASS];
        if matches!(self.offsite, ArchiveOffsite::S3 { .. }) {
            names.extend([S3_KEY_ID, S3_SECRET]);
        }
        names
    }

    /// The off-site location, for messages ("s3://bucket/path at endpoint", a directory).
    pub fn offsite_name(&self) -> String {
        match &self.offsite {
            ArchiveOffsite::S3 {
                endpoint,
                port,
                bucket,
                path,
                ..
            } => format!("s3://{bucket}{path} at {endpoint}:{port}"),
            ArchiveOffsite::Dir { path } => path.to_string(),
        }
    }
}

/// The off-site repository's encryption passphrase (aes-256-cbc), generated on the box.
pub const CIPHER_PASS: &str = "archive_cipher_pass";
/// The S3 access key id and secret.
pub const S3_KEY_ID: &str = "archive_s3_key_id";
pub const S3_SECRET: &str = "archive_s3_secret";

fn default_stanza() -> ArchiveWord {
    ArchiveWord("datatools".into())
}
fn default_timeout() -> u32 {
    60
}
fn default_full_hour() -> u8 {
    3
}
fn default_local_full() -> u32 {
    2
}
fn default_offsite_full() -> u32 {
    14
}
fn default_queue_max_mib() -> u32 {
    4096
}
fn default_job() -> AbsPath {
    AbsPath::try_from("/etc/cron.d/datatools-license-archive".to_string())
        .expect("an absolute path")
}
fn default_s3_port() -> u16 {
    443
}
fn default_repo_path() -> AbsPath {
    AbsPath::try_from("/datatools-license".to_string()).expect("an absolute path")
}

impl Archive {
    /// The rules `[archive]` must follow; the dotted key to blame.
    pub(super) fn check(&self) -> Result<(), super::misfit::Misfit> {
        use super::misfit::Misfit;
        if !(1..=60).contains(&self.timeout_seconds) {
            return Err(Misfit::new(
                "archive.timeout_seconds",
                format!(
                    "{} is outside 1-60: the recovery point is at most this old",
                    self.timeout_seconds
                ),
            ));
        }
        if self.full_backup_hour > 23 {
            return Err(Misfit::new(
                "archive.full_backup_hour",
                "is an hour of the day (UTC): 0-23",
            ));
        }
        for (key, kept) in [
            ("archive.local_full_kept", self.local_full_kept),
            ("archive.offsite_full_kept", self.offsite_full_kept),
        ] {
            if kept == 0 {
                return Err(Misfit::new(key, "must keep at least 1 full backup"));
            }
        }
        if self.queue_max_mib < 64 {
            return Err(Misfit::new(
                "archive.queue_max_mib",
                "must be at least 64 (MiB of WAL waiting before any is dropped)",
            ));
        }
        if self.stanza.as_str().contains('/') {
            return Err(Misfit::new(
                "archive.stanza",
                "is a name, not a path: letters, digits, . _ -",
            ));
        }
        if let ArchiveOffsite::S3 {
            endpoint,
            uri_style: UriStyle::Host,
            ..
        } = &self.offsite
        {
            if endpoint.as_str().parse::<std::net::IpAddr>().is_ok() {
                return Err(Misfit::new(
                    "archive.offsite.uri_style",
                    format!(
                        "must be \"path\" for the address endpoint {endpoint}: \"host\" puts \
                         the bucket in front of the endpoint as a name"
                    ),
                ));
            }
        }
        if let Some(recipient) = &self.escrow_recipient {
            if recipient
                .as_str()
                .parse::<age::x25519::Recipient>()
                .is_err()
            {
                return Err(Misfit::new(
                    "archive.escrow_recipient",
                    format!(
                        "{recipient:?} is not an age X25519 recipient (age1...); `dtops escrow \
                         init` writes it"
                    ),
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::site::Site;

    const COMMITTED: &str = include_str!("../../../site.toml");

    fn parse(archive: &str) -> Result<Site, String> {
        Site::parse(&format!("{COMMITTED}\n[archive]\n{archive}\n"), "site.toml")
            .map_err(|e| e.to_string())
    }

    #[test]
    fn archive_settings_are_checked_with_the_key_to_blame() {
        let s3 = "offsite = { type = \"s3\", endpoint = \"s3.example.com\", bucket = \"b\", \
                  region = \"eu-central-1\" }";
        let site = parse(s3).unwrap();
        assert_eq!(site.archive.unwrap().timeout_seconds, 60);
        let by_ip = "offsite = { type = \"s3\", endpoint = \"10.0.0.5\", bucket = \"b\", \
                     region = \"r\" }";
        let error = parse(by_ip).unwrap_err();
        assert!(error.contains("archive.offsite.uri_style"), "{error}");
        let error = parse(&format!("{s3}\ntimeout_seconds = 120")).unwrap_err();
        assert!(error.contains("archive.timeout_seconds"), "{error}");
        let error = parse(&format!("{s3}\nescrow_recipient = \"age1nope\"")).unwrap_err();
        assert!(error.contains("archive.escrow_recipient"), "{error}");
        let error = parse("offsite = { type = \"dir\", path = \"relative/dir\" }").unwrap_err();
        assert!(error.contains("not an absolute path"), "{error}");
    }
}
