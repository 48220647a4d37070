//! What the backup job template (`backup.sh.j2`) sees: the paths, the database, the retention
//! and off-site settings, and how this stack reaches Postgres (through the compose postgres
//! container, or the native runtime's 127.0.0.1 port).

use std::path::PathBuf;

use serde::Serialize;

use super::artifact::RenderInputs;
use crate::runtime::RuntimeKind;
use crate::site::{OffsiteTool, Site};

#[derive(Debug, Serialize)]
pub struct BackupContext {
    app: String,
    runtime: RuntimeKind,
    /// `site.commands.docker_compose`: the compose program and its leading arguments.
    compose: Vec<String>,
    root: PathBuf,
    compose_file: PathBuf,
    /// backups/ and the job's state directory, relative to `root` (the job enters them
    /// without following a symlink).
    backups_in_root: PathBuf,
    /// Where the job records its last good backup and last run (read by `dtops status`); its
    /// lock is there too.
    state_in_root: PathBuf,
    pg_password_file: PathBuf,
    db_name: String,
    db_user: String,
    pg_port: u16,
    retention_days: u32,
    offsite_tool: Option<&'static str>,
    offsite_target: Option<String>,
}

impl BackupContext {
    pub fn new(inputs: &RenderInputs) -> Self {
        let site = inputs.site;
        let offsite = site.backup.offsite.as_ref();
        BackupContext {
            app: site.app.name.to_string(),
            runtime: inputs.runtime,
            compose: site.commands.docker_compose.clone(),
            root: site.root().to_path_buf(),
            compose_file: site.compose_file(),
            backups_in_root: in_root(site, site.backups_dir()),
            state_in_root: in_root(site, site.backup_state_dir()),
            pg_password_file: site.secret_file("pg_password"),
            db_name: site.database.name.to_string(),
            db_user: site.database.user.to_string(),
            pg_port: site.ports.postgres,
            retention_days: site.backup.retention_days,
            offsite_tool: offsite.map(|o| match o.tool {
                OffsiteTool::Rclone => "rclone",
                OffsiteTool::Aws => "aws",
            }),
            offsite_target: offsite.map(|o| o.target.clone()),
        }
    }
}

/// `path` relative to the app's root (every path the job writes is below it).
fn in_root(site: &Site, path: PathBuf) -> PathBuf {
    path.strip_prefix(site.root())
        .map(PathBuf::from)
        .unwrap_or(path)
}
