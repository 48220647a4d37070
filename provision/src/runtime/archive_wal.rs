//! The newest WAL segment in a repository and when it was written there: the recovery point as
//! that repository sees it. `pgbackrest info` names the segment; `repo-ls` of the one directory
//! holding it (never the whole archive, which grows with every segment) gives the object's time.

use anyhow::Context;
use chrono::{DateTime, Utc};
use serde_json::Value;

use super::archive::{archive, pgbackrest, RepoInfo, Via};
use crate::env::Env;

/// A repository's newest WAL segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewestWal {
    pub repo: u64,
    pub segment: String,
    /// When the segment reached the repository (`None`: the listing did not say).
    pub at: Option<DateTime<Utc>>,
}

/// `repo`'s newest segment and its time; `None` when the repository holds no WAL yet.
pub fn newest_wal(env: &Env, via: Via, repo: &RepoInfo) -> anyhow::Result<Option<NewestWal>> {
    let (Some(segment), Some(id)) = (&repo.newest_wal, &repo.archive_id) else {
        return Ok(None);
    };
    let stanza = &archive(env)?.stanza;
    let dir = format!(
        "archive/{stanza}/{id}/{}",
        segment.get(..16).unwrap_or(segment)
    );
    let target = format!("--repo={}", repo.key);
    let out = env.host.probe(&pgbackrest(
        env,
        via,
        &[&target, "repo-ls", "--output=json", &dir],
    )?)?;
    let at = if out.success {
        segment_time(&out.stdout, segment)?
    } else {
        None
    };
    Ok(Some(NewestWal {
        repo: repo.key,
        segment: segment.clone(),
        at,
    }))
}

/// The time of `segment`'s object in a `repo-ls --output=json` listing of its directory (the
/// object is `<segment>-<checksum>.<compression>`).
pub fn segment_time(json: &str, segment: &str) -> anyhow::Result<Option<DateTime<Utc>>> {
    let listing: Value = serde_json::from_str(json)
        .context("pgbackrest repo-ls printed something other than JSON")?;
    Ok(listing
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(name, _)| name.starts_with(&format!("{segment}-")))
        .filter_map(|(_, entry)| entry["time"].as_i64())
        .max()
        .and_then(|t| DateTime::from_timestamp(t, 0)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_segment_s_object_time() {
        let json = r#"{".":{"type":"path"},
          "000000010000000000000004-116f6b40741460875bce7b86ac6d8d92653ad4a3.zst":{"type":"file","size":1471280,"time":1796688161},
          "000000010000000000000003-3d757ea5f8c43daffeda7ba3f3d7752934064b44.zst":{"type":"file","size":90,"time":1796688100}}"#;
        assert_eq!(
            segment_time(json, "000000010000000000000004").unwrap(),
            DateTime::from_timestamp(1796688161, 0)
        );
        assert_eq!(
            segment_time(json, "000000010000000000000005").unwrap(),
            None
        );
        assert!(segment_time("ERROR", "x").is_err());
    }
}
