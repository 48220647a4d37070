//! Docker's container log caps (ADMIN.md "Backups"): `log-driver` and `log-opts` merged into
//! /etc/docker/daemon.json, keeping every other key there (the box has other tenants). Docker
//! reads the file only when it starts, and restarting it restarts every container on the box, so
//! dtops never does that on its own: it leaves a marker, shows it in `dtops status`, and restarts
//! only on `dtops docker-logs --restart-docker`.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use serde_json::{Map, Value};

use crate::engine::{Change, Ctx, Plan, Step};
use crate::host::Ownership;
use crate::site::Site;

pub const DAEMON_JSON: &str = "/etc/docker/daemon.json";
const LOG_DRIVER: &str = "json-file";
/// The runbook's caps: three files of 10 MB per container.
const LOG_OPTS: [(&str, &str); 2] = [("max-size", "10m"), ("max-file", "3")];

/// The marker saying Docker has not been restarted since daemon.json changed.
pub fn restart_marker(site: &Site) -> PathBuf {
    site.state_dir().join("pending").join("restart-docker")
}

/// `current` (daemon.json's content, if any) with the log settings merged in; `None` when it
/// already has them. A different log driver chosen by someone else is refused, not replaced;
/// a different value of one of the two options is kept (someone chose it).
pub fn merge(current: Option<&[u8]>) -> anyhow::Result<Option<String>> {
    let original: Value = match current {
        Some(bytes) if !bytes.iter().all(u8::is_ascii_whitespace) => {
            serde_json::from_slice(bytes).context("it is not valid JSON; fix it by hand first")?
        }
        _ => Value::Object(Map::new()),
    };
    let Value::Object(mut object) = original.clone() else {
        bail!("it is not a JSON object; fix it by hand first");
    };
    match object.get("log-driver") {
        None => {
            object.insert("log-driver".into(), LOG_DRIVER.into());
        }
        Some(Value::String(driver)) if driver == LOG_DRIVER => {}
        Some(other) => bail!(
            "it sets log-driver {other}, not {LOG_DRIVER}; someone chose that for the whole box, \
             so dtops leaves it alone (remove it by hand to let dtops set the runbook's caps)"
        ),
    }
    let opts = object
        .entry("log-opts")
        .or_insert_with(|| Value::Object(Map::new()));
    let Value::Object(opts) = opts else {
        bail!("its log-opts is not a JSON object; fix it by hand first");
    };
    for (key, value) in LOG_OPTS {
        opts.entry(key).or_insert_with(|| value.into());
    }
    let merged = Value::Object(object);
    if merged == original {
        return Ok(None);
    }
    Ok(Some(serde_json::to_string_pretty(&merged)? + "\n"))
}

pub struct DaemonJsonStep;

impl DaemonJsonStep {
    fn path() -> &'static Path {
        Path::new(DAEMON_JSON)
    }
}

impl Step for DaemonJsonStep {
    fn name(&self) -> String {
        format!("docker log caps {DAEMON_JSON}")
    }

    fn plan(&self, ctx: &Ctx) -> anyhow::Result<Plan> {
        let current = ctx.env.host.read(Self::path())?;
        let merged =
            merge(current.as_deref()).with_context(|| format!("{DAEMON_JSON}: cannot merge"))?;
        let pending = ctx.env.host.state(&restart_marker(ctx.env.site))?.is_some();
        Ok(match merged {
            None if pending => Plan::Ok(
                "log caps set; Docker has NOT been restarted since (it restarts every container \
                 on the box): `dtops docker-logs --restart-docker` in a quiet moment"
                    .into(),
            ),
            None => Plan::Ok("log-driver json-file with max-size and max-file set".into()),
            Some(content) => {
                let old = current
                    .as_deref()
                    .map(String::from_utf8_lossy)
                    .unwrap_or_default();
                let diff = similar::TextDiff::from_lines(old.as_ref(), content.as_str())
                    .unified_diff()
                    .header(DAEMON_JSON, DAEMON_JSON)
                    .to_string();
                Plan::Change(
                    Change::new(format!(
                        "merge log-driver {LOG_DRIVER} and log-opts max-size/max-file into it, \
                         keeping its other keys"
                    ))
                    .with_diff(Some(diff)),
                )
            }
        })
    }

    fn apply(&self, ctx: &Ctx, _change: &Change) -> anyhow::Result<String> {
        let path = Self::path();
        let current = ctx.env.host.read(path)?;
        let Some(content) = merge(current.as_deref())? else {
            return Ok("already merged".into());
        };
        let root = |mode| Ownership {
            uid: 0,
            gid: 0,
            mode,
        };
        let own = ctx
            .env
            .host
            .state(path)?
            .map(|s| s.ownership)
            .unwrap_or(root(0o644));
        if let Some(previous) = &current {
            let keep = ctx
                .env
                .site
                .state_dir()
                .join("previous")
                .join("daemon.json");
            ctx.env.host.create_parents(&keep)?;
            ctx.env.host.write_atomic(&keep, previous, root(0o600))?;
        }
        ctx.env.host.create_parents(path)?;
        ctx.env.host.write_atomic(path, content.as_bytes(), own)?;
        let marker = restart_marker(ctx.env.site);
        ctx.env.host.create_parents(&marker)?;
        ctx.env
            .host
            .write_atomic(&marker, b"daemon.json changed\n", root(0o600))?;
        Ok(
            "merged; Docker applies it only when restarted, which restarts EVERY container on \
             the box: run `dtops docker-logs --restart-docker` in a quiet moment"
                .into(),
        )
    }
}

#[cfg(test)]
mod tests {
    use crate::steps::docker_logs::*;

    #[test]
    fn merging_keeps_every_other_key_and_is_idempotent() {
        let existing = br#"{"data-root": "/mnt/docker", "log-opts": {"labels": "tenant"},
            "registry-mirrors": ["https://mirror.example"], "live-restore": true}"#;
        let merged = merge(Some(existing)).unwrap().unwrap();
        let value: Value = serde_json::from_str(&merged).unwrap();
        assert_eq!(value["data-root"], "/mnt/docker");
        assert_eq!(value["registry-mirrors"][0], "https://mirror.example");
        assert_eq!(value["live-restore"], true);
        assert_eq!(value["log-driver"], "json-file");
        assert_eq!(value["log-opts"]["labels"], "tenant");
        assert_eq!(value["log-opts"]["max-size"], "10m");
        assert_eq!(value["log-opts"]["max-file"], "3");
        assert_eq!(merge(Some(merged.as_bytes())).unwrap(), None);

        let fresh = merge(None).unwrap().unwrap();
        assert_eq!(merge(Some(fresh.as_bytes())).unwrap(), None);
        assert_eq!(merge(Some(b"\n")).unwrap().unwrap(), fresh);
    }

    #[test]
    fn someone_elses_choices_are_kept_or_refused() {
        let theirs = br#"{"log-driver": "json-file", "log-opts": {"max-size": "50m"}}"#;
        let merged: Value = serde_json::from_str(&merge(Some(theirs)).unwrap().unwrap()).unwrap();
        assert_eq!(merged["log-opts"]["max-size"], "50m");
        assert_eq!(merged["log-opts"]["max-file"], "3");
        let err = merge(Some(br#"{"log-driver": "journald"}"#))
            .unwrap_err()
            .to_string();
        assert!(err.contains("journald"), "{err}");
        assert!(merge(Some(b"[1]")).is_err());
        assert!(merge(Some(b"{not json")).is_err());
    }
}
