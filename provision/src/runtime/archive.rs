//! pgBackRest in the compose stack's postgres container (`[archive]`): its commands as the
//! postgres user, what `info` says about both repositories, the derived image, and a one-off
//! restore into the data volume. Compose-only, like `release`.

use anyhow::{bail, Context};
use serde_json::Value;

use super::compose_op::compose_command;
use crate::env::Env;
use crate::process::{CommandLine, Output};
use crate::site::Archive;

/// The archive's settings; an error when site.toml has none.
pub fn archive<'a>(env: &Env<'a>) -> anyhow::Result<&'a Archive> {
    env.site
        .archive
        .as_ref()
        .context("site.toml has no [archive]: continuous archiving is off (ADMIN.md \"When the box is gone\")")
}

/// Where pgBackRest runs: in the running postgres container, or in a one-off container of the
/// same service while Postgres is down (a restore, a recovery).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    Exec,
    OneOff,
}

/// `compose exec -T -u postgres postgres pgbackrest --stanza=S ARGS` (or the one-off `compose
/// run`, whose entrypoint runs pgBackRest as postgres).
pub fn pgbackrest(env: &Env, via: Via, args: &[&str]) -> anyhow::Result<CommandLine> {
    let stanza = format!("--stanza={}", archive(env)?.stanza);
    let command = match via {
        Via::Exec => compose_command(env).args(["exec", "-T", "-u", "postgres", "postgres"]),
        Via::OneOff => compose_command(env).args(["run", "--rm", "--no-deps", "-T", "postgres"]),
    };
    Ok(command.arg("pgbackrest").arg(stanza).args(args))
}

/// Runs pgBackRest in the container; its output (failures become errors with its words).
pub fn run_pgbackrest(env: &Env, args: &[&str]) -> anyhow::Result<Output> {
    Ok(env.host.run(&pgbackrest(env, Via::Exec, args)?)?)
}

/// One repository as `pgbackrest info` sees it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RepoInfo {
    pub key: u64,
    /// pgBackRest's status code (0 ok, 1 missing stanza path, 2 no valid backups, 3 missing
    /// stanza data, ...) and message.
    pub code: i64,
    pub message: String,
    pub full_backups: usize,
    /// The newest WAL segment archived there, and the archive id (`16-1`: Postgres version and
    /// the stanza's database number) of the directory holding it.
    pub newest_wal: Option<String>,
    pub oldest_wal: Option<String>,
    pub archive_id: Option<String>,
}

impl RepoInfo {
    /// The stanza exists in this repository (with or without backups).
    pub fn has_stanza(&self) -> bool {
        self.code == 0 || self.code == 2
    }
}

/// `pgbackrest info --output=json`, per repository; an error when it cannot run.
pub fn info(env: &Env, via: Via) -> anyhow::Result<Vec<RepoInfo>> {
    let out = env
        .host
        .probe(&pgbackrest(env, via, &["info", "--output=json"])?)?;
    if !out.success {
        bail!(
            "pgbackrest info failed: {}",
            format!("{}{}", out.stdout, out.stderr).trim()
        );
    }
    parse_info(&out.stdout)
}

pub fn parse_info(json: &str) -> anyhow::Result<Vec<RepoInfo>> {
    let value: Value =
        serde_json::from_str(json).context("pgbackrest info printed something other than JSON")?;
    let Some(stanza) = value.as_array().and_then(|a| a.first()) else {
        return Ok(Vec::new());
    };
    let backups = stanza["backup"].as_array().cloned().unwrap_or_default();
    let archives = stanza["archive"].as_array().cloned().unwrap_or_default();
    let repos = stanza["repo"].as_array().cloned().unwrap_or_default();
    Ok(repos
        .iter()
        .map(|repo| {
            let key = repo["key"].as_u64().unwrap_or(0);
            let of_repo = |item: &&Value| item["database"]["repo-key"].as_u64() == Some(key);
            let wal = |field: &str| {
                archives
                    .iter()
                    .filter(of_repo)
                    .filter_map(|a| a[field].as_str().map(str::to_string))
                    .reduce(|a, b| if (field == "max") == (b > a) { b } else { a })
            };
            RepoInfo {
                key,
                code: repo["status"]["code"].as_i64().unwrap_or(-1),
                message: repo["status"]["message"].as_str().unwrap_or("").to_string(),
                full_backups: backups
                    .iter()
                    .filter(of_repo)
                    .filter(|b| b["type"] == "full")
                    .count(),
                newest_wal: wal("max"),
                oldest_wal: wal("min"),
                archive_id: archives
                    .iter()
                    .filter(of_repo)
                    .filter(|a| a["max"].as_str().is_some())
                    .max_by(|a, b| a["max"].as_str().cmp(&b["max"].as_str()))
                    .and_then(|a| a["id"].as_str().map(str::to_string)),
            }
        })
        .collect())
}

/// Whether the engine has `image`.
pub fn image_exists(env: &Env, image: &str) -> anyhow::Result<bool> {
    let inspect =
        CommandLine::new(["docker", "image", "inspect", "--format", "{{.Id}}"]).arg(image);
    Ok(env.host.probe(&inspect)?.success)
}

/// `docker compose build postgres`: the derived image from postgres/Dockerfile.
pub fn build_db_image(env: &Env) -> anyhow::Result<()> {
    env.host
        .run(&compose_command(env).args(["build", "postgres"]).streamed())
        .context("building the Postgres image with pgBackRest failed")?;
    Ok(())
}

/// A one-off `pgbackrest ... restore` into the (empty) data volume, from repository `repo`,
/// with `extra` options (a time target); Postgres is not running.
pub fn restore_into_volume(env: &Env, repo: u32, extra: &[String]) -> anyhow::Result<Output> {
    let repo = format!("--repo={repo}");
    let mut args = vec![repo.as_str()];
    args.extend(extra.iter().map(String::as_str));
    args.push("restore");
    Ok(env
        .host
        .run(&pgbackrest(env, Via::OneOff, &args)?.streamed())?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn info_per_repository() {
        let json = r#"[{"name":"datatools","status":{"code":0,"message":"ok"},
          "repo":[{"key":1,"status":{"code":0,"message":"ok"}},
                  {"key":2,"status":{"code":2,"message":"no valid backups"}}],
          "backup":[{"database":{"id":1,"repo-key":1},"type":"full"}],
          "archive":[{"database":{"id":1,"repo-key":1},"id":"16-1","min":"000000010000000000000001","max":"000000010000000000000007"},
                     {"database":{"id":1,"repo-key":2},"min":"000000010000000000000003","max":"000000010000000000000006"}]}]"#;
        let repos = parse_info(json).unwrap();
        assert_eq!(repos.len(), 2);
        assert_eq!(repos[0].full_backups, 1);
        assert_eq!(
            repos[0].newest_wal.as_deref(),
            Some("000000010000000000000007")
        );
        assert_eq!(
            repos[1].oldest_wal.as_deref(),
            Some("000000010000000000000003")
        );
        assert!(repos[1].has_stanza());
        assert_eq!(repos[0].archive_id.as_deref(), Some("16-1"));
        assert_eq!(repos[1].archive_id, None);
        assert_eq!(repos[1].full_backups, 0);
    }
}
