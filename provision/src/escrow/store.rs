//! The off-site location the escrow is copied to: the archive's S3 bucket (presigned requests
//! from rusty-s3, sent by reqwest) or its directory. Every error names the location and what
//! failed.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{bail, Context};
use rusty_s3::{Bucket, Credentials, S3Action, UrlStyle};

use crate::site::{ArchiveOffsite, UriStyle};

/// The escrow's object, below the repository's path: `<path>/escrow/<stanza>.age`.
pub const ESCROW_OBJECT: &str = "escrow";
const SIGNED_FOR: Duration = Duration::from_secs(300);
const TIMEOUT: Duration = Duration::from_secs(60);

pub enum OffsiteStore {
    S3 {
        /// Boxed: a bucket is several URLs, much larger than the other variant.
        bucket: Box<Bucket>,
        credentials: Credentials,
        client: reqwest::Client,
        prefix: String,
        name: String,
    },
    Dir {
        /// The directory as this process sees it (relocated under `--root`).
        dir: PathBuf,
        name: String,
    },
}

impl OffsiteStore {
    /// `ca_pem`: the CA bundle's content when the offsite names one; `dir`: the directory as
    /// this process sees it.
    pub fn new(
        offsite: &ArchiveOffsite,
        credentials: Option<(String, String)>,
        ca_pem: Option<Vec<u8>>,
        dir: Option<PathBuf>,
    ) -> anyhow::Result<OffsiteStore> {
        match offsite {
            ArchiveOffsite::S3 {
                endpoint,
                port,
                bucket,
                region,
                path,
                uri_style,
                ..
            } => {
                let name = format!("s3://{bucket}{path} at {endpoint}:{port}");
                let url = format!("https://{endpoint}:{port}")
                    .parse()
                    .with_context(|| format!("{endpoint}:{port} is not an S3 endpoint"))?;
                let style = match uri_style {
                    UriStyle::Host => UrlStyle::VirtualHost,
                    UriStyle::Path => UrlStyle::Path,
                };
                let bucket = Bucket::new(url, style, bucket.to_string(), region.to_string())
                    .with_context(|| {
                        format!(
                            "{name}: not a usable bucket address (an address endpoint needs \
                             uri_style = \"path\")"
                        )
                    })?;
                let (key, secret) = credentials.with_context(|| {
                    format!("{name}: no S3 access key (secrets/archive_s3_key_id and archive_s3_secret)")
                })?;
                let mut client = reqwest::Client::builder().timeout(TIMEOUT);
                if let Some(pem) = ca_pem {
                    for cert in reqwest::Certificate::from_pem_bundle(&pem)
                        .with_context(|| format!("{name}: the CA bundle is not PEM"))?
                    {
                        client = client.add_root_certificate(cert);
                    }
                }
                Ok(OffsiteStore::S3 {
                    bucket: Box::new(bucket),
                    credentials: Credentials::new(key, secret),
                    client: client.build()?,
                    prefix: path.to_string().trim_matches('/').to_string(),
                    name,
                })
            }
            ArchiveOffsite::Dir { path } => Ok(OffsiteStore::Dir {
                dir: dir.unwrap_or_else(|| path.as_path().to_path_buf()),
                name: path.to_string(),
            }),
        }
    }

    /// The location, for messages.
    pub fn name(&self) -> &str {
        match self {
            OffsiteStore::S3 { name, .. } | OffsiteStore::Dir { name, .. } => name,
        }
    }

    fn object(&self, key: &str) -> String {
        match self {
            OffsiteStore::S3 { prefix, .. } if !prefix.is_empty() => format!("{prefix}/{key}"),
            _ => key.to_string(),
        }
    }

    pub async fn put(&self, key: &str, bytes: Vec<u8>) -> anyhow::Result<()> {
        let object = self.object(key);
        match self {
            OffsiteStore::S3 {
                bucket,
                credentials,
                client,
                name,
                ..
            } => {
                let url = bucket
                    .put_object(Some(credentials), &object)
                    .sign(SIGNED_FOR);
                let answer = client.put(url).body(bytes).send().await.with_context(|| {
                    format!("{name}: cannot reach the off-site store to write {object}")
                })?;
                check(answer, name, "write", &object).await.map(|_| ())
            }
            OffsiteStore::Dir { dir, name } => {
                let path = dir.join(&object);
                let parent = path.parent().unwrap_or(dir);
                std::fs::create_dir_all(parent)
                    .with_context(|| format!("{name}: cannot create {}", parent.display()))?;
                let tmp = path.with_extension("partial");
                std::fs::write(&tmp, bytes)
                    .and_then(|()| std::fs::rename(&tmp, &path))
                    .with_context(|| format!("{name}: cannot write {}", path.display()))
            }
        }
    }

    /// The object's bytes; `None` when it does not exist.
    pub async fn get(&self, key: &str) -> anyhow::Result<Option<Vec<u8>>> {
        let object = self.object(key);
        match self {
            OffsiteStore::S3 {
                bucket,
                credentials,
                client,
                name,
                ..
            } => {
                let url = bucket
                    .get_object(Some(credentials), &object)
                    .sign(SIGNED_FOR);
                let answer = client.get(url).send().await.with_context(|| {
                    format!("{name}: cannot reach the off-site store to read {object}")
                })?;
                if answer.status() == reqwest::StatusCode::NOT_FOUND {
                    return Ok(None);
                }
                Ok(Some(check(answer, name, "read", &object).await?))
            }
            OffsiteStore::Dir { dir, name } => {
                let path = dir.join(&object);
                match std::fs::read(&path) {
                    Ok(bytes) => Ok(Some(bytes)),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                        if !dir.is_dir() {
                            bail!(
                                "{name}: the directory {} does not exist (not mounted?)",
                                dir.display()
                            );
                        }
                        Ok(None)
                    }
                    Err(e) => {
                        Err(e).with_context(|| format!("{name}: cannot read {}", path.display()))
                    }
                }
            }
        }
    }
}

/// The body of a 2xx answer, or an error with the status and what the store said.
async fn check(
    answer: reqwest::Response,
    name: &str,
    what: &str,
    object: &str,
) -> anyhow::Result<Vec<u8>> {
    let status = answer.status();
    let body = answer.bytes().await.unwrap_or_default().to_vec();
    if !status.is_success() {
        let said = String::from_utf8_lossy(&body);
        let code = said
            .split("<Code>")
            .nth(1)
            .and_then(|rest| rest.split("</Code>").next())
            .unwrap_or("");
        bail!(
            "{name}: cannot {what} {object}: HTTP {status}{}",
            if code.is_empty() {
                String::new()
            } else {
                format!(" ({code})")
            }
        );
    }
    Ok(body)
}
