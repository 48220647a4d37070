//! Which version of the license server the box runs, as dtops recorded it: the api image and the
//! commit it was built from (`<root>/.dtops/deployed`), with the one before it, and how the last
//! `dtops upgrade` ended (`<root>/.dtops/upgrade-last`).
//!
//! `.env` names the recorded image (DATATOOLS_API_IMAGE), so `dtops provision` keeps whatever
//! `dtops upgrade` deployed, and an upgrade interrupted between its switch and its record is
//! put back to the recorded (previous) version by the next `dtops provision`. A box provisioned
//! before upgrades existed has only `.dtops/image-commit` (the commit of `[api] image`): it reads
//! as that image at that commit.

use std::path::PathBuf;

use chrono::{SecondsFormat, Utc};

use crate::env::Env;
use crate::host::Ownership;
use crate::site::Site;

/// The record dtops keeps of the deployed version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deployed {
    /// The image compose runs for the api (`.env`'s DATATOOLS_API_IMAGE).
    pub image: String,
    /// The full commit it was built from.
    pub commit: String,
    /// When it was deployed (RFC 3339), when known.
    pub at: Option<String>,
    /// The version it replaced: (image, commit).
    pub previous: Option<(String, String)>,
}

/// How the last `dtops upgrade` ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LastUpgrade {
    pub at: String,
    /// The commit it tried to deploy.
    pub commit: String,
    /// `ok`, `refused` (nothing changed) or `failed`.
    pub result: String,
    pub message: String,
}

const RECORD: &str = "deployed";
const LEGACY_RECORD: &str = "image-commit";
const LAST_UPGRADE: &str = "upgrade-last";

fn path(site: &Site, name: &str) -> PathBuf {
    site.state_dir().join(name)
}

const ROOT_ONLY: Ownership = Ownership {
    uid: 0,
    gid: 0,
    mode: 0o600,
};

/// The first 12 characters of a commit, as tags and messages show it.
pub fn short(commit: &str) -> &str {
    &commit[..12.min(commit.len())]
}

/// The image an upgrade builds for `commit`: `[api] image`'s repository, tagged by the commit.
pub fn commit_image(site: &Site, commit: &str) -> String {
    let image = site.api.image.as_str();
    let image = image.split('@').next().unwrap_or(image);
    let repository = match image.rfind(':') {
        Some(at) if !image[at..].contains('/') => &image[..at],
        _ => image,
    };
    format!("{repository}:{}", short(commit))
}

/// The record, or `None` on a box where nothing was built yet.
pub fn read(env: &Env) -> anyhow::Result<Option<Deployed>> {
    let site = env.site;
    if let Some(bytes) = env.host.read(&path(site, RECORD))? {
        let text = String::from_utf8_lossy(&bytes);
        let get = |key: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(key)?.strip_prefix('='))
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let (Some(image), Some(commit)) = (get("image"), get("commit")) else {
            anyhow::bail!(
                "{} lacks image= or commit=; `dtops upgrade` rewrites it (or delete it: the next \
                 `dtops provision` then builds the checkout)",
                path(site, RECORD).display()
            );
        };
        return Ok(Some(Deployed {
            image,
            commit,
            at: get("at"),
            previous: get("previous_image").zip(get("previous_commit")),
        }));
    }
    Ok(env
        .host
        .read(&path(site, LEGACY_RECORD))?
        .map(|bytes| String::from_utf8_lossy(&bytes).trim().to_string())
        .filter(|commit| !commit.is_empty())
        .map(|commit| Deployed {
            image: site.api.image.to_string(),
            commit,
            at: None,
            previous: None,
        }))
}

/// The image compose should run: the recorded one, else `[api] image` (a fresh box).
pub fn api_image(env: &Env) -> anyhow::Result<String> {
    Ok(read(env)?.map_or_else(|| env.site.api.image.to_string(), |d| d.image))
}

/// Records `deployed` (now, if it has no time), replacing the legacy record.
pub fn write(env: &Env, deployed: &Deployed) -> anyhow::Result<()> {
    let at = deployed
        .at
        .clone()
        .unwrap_or_else(|| Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true));
    let mut text = format!(
        "# Written by dtops: the api image compose runs (.env's DATATOOLS_API_IMAGE).\n\
         image={}\ncommit={}\nat={at}\n",
        deployed.image, deployed.commit
    );
    if let Some((image, commit)) = &deployed.previous {
        text.push_str(&format!(
            "previous_image={image}\nprevious_commit={commit}\n"
        ));
    }
    let file = path(env.site, RECORD);
    env.host.create_parents(&file)?;
    env.host.write_atomic(&file, text.as_bytes(), ROOT_ONLY)?;
    env.host.remove_file(&path(env.site, LEGACY_RECORD))?;
    Ok(())
}

pub fn read_last_upgrade(env: &Env) -> anyhow::Result<Option<LastUpgrade>> {
    let Some(bytes) = env.host.read(&path(env.site, LAST_UPGRADE))? else {
        return Ok(None);
    };
    let text = String::from_utf8_lossy(&bytes);
    let get = |key: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(key)?.strip_prefix('='))
            .unwrap_or_default()
            .to_string()
    };
    Ok(Some(LastUpgrade {
        at: get("at"),
        commit: get("commit"),
        result: get("result"),
        message: get("message"),
    }))
}

/// Records how this upgrade ended (the message on one line).
pub fn write_last_upgrade(
    env: &Env,
    commit: &str,
    result: &str,
    message: &str,
) -> anyhow::Result<()> {
    let text = format!(
        "at={}\ncommit={commit}\nresult={result}\nmessage={}\n",
        Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true),
        message.split_whitespace().collect::<Vec<_>>().join(" ")
    );
    let file = path(env.site, LAST_UPGRADE);
    env.host.create_parents(&file)?;
    env.host.write_atomic(&file, text.as_bytes(), ROOT_ONLY)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::deployed::*;
    use crate::host::Host;

    fn site(image: &str) -> Site {
        let text = include_str!("../../site.toml").replace(
            "image = \"datatools-license-api:latest\"",
            &format!("image = \"{image}\""),
        );
        Site::parse(&text, "site.toml").unwrap()
    }

    #[test]
    fn the_commit_image_keeps_the_repository_and_tags_by_commit() {
        let commit = "0123456789abcdef0123456789abcdef01234567";
        for (image, want) in [
            (
                "datatools-license-api:latest",
                "datatools-license-api:0123456789ab",
            ),
            (
                "datatools-license-api",
                "datatools-license-api:0123456789ab",
            ),
            (
                "registry:5000/dt/api:v1",
                "registry:5000/dt/api:0123456789ab",
            ),
            ("registry:5000/dt/api", "registry:5000/dt/api:0123456789ab"),
            ("dt/api@sha256:abcd", "dt/api:0123456789ab"),
        ] {
            assert_eq!(commit_image(&site(image), commit), want, "{image}");
        }
    }

    #[test]
    fn the_record_round_trips_and_replaces_the_legacy_one() {
        let dir = tempfile::tempdir().unwrap();
        let site = site("datatools-license-api:latest");
        let host = Host::new(Some(dir.path().to_path_buf()));
        let env = Env {
            site: &site,
            host: &host,
            templates: None,
        };
        assert_eq!(read(&env).unwrap(), None);
        assert_eq!(api_image(&env).unwrap(), "datatools-license-api:latest");
        let legacy = site.state_dir().join("image-commit");
        host.create_parents(&legacy).unwrap();
        host.write_atomic(&legacy, b"abc\n", ROOT_ONLY).unwrap();
        assert_eq!(
            read(&env).unwrap(),
            Some(Deployed {
                image: "datatools-license-api:latest".into(),
                commit: "abc".into(),
                at: None,
                previous: None,
            })
        );
        let record = Deployed {
            image: "datatools-license-api:def".into(),
            commit: "def".into(),
            at: Some("2026-01-02T03:04:05Z".into()),
            previous: Some(("datatools-license-api:latest".into(), "abc".into())),
        };
        write(&env, &record).unwrap();
        assert_eq!(read(&env).unwrap(), Some(record));
        assert_eq!(host.state(&legacy).unwrap(), None);
        assert_eq!(api_image(&env).unwrap(), "datatools-license-api:def");
    }
}
