//! What the hourly status job's cron file (`status-cron.sh.j2`) sees: the exact command line of
//! `dtops status --quiet` for this deployment (which dtops, which site.toml, which runtime).

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::artifact::RenderInputs;
use crate::runtime::RuntimeKind;

/// Where SETUP §2 installs dtops: the command's program when the running one is unknown.
const DEFAULT_DTOPS: &str = "/usr/local/bin/dtops";

#[derive(Debug, Serialize)]
pub struct StatusJobContext {
    /// The syslog tag of its output.
    tag: String,
    /// `dtops --site FILE [--runtime native] status --quiet`, one word each.
    command: Vec<String>,
}

impl StatusJobContext {
    pub fn new(inputs: &RenderInputs) -> anyhow::Result<Self> {
        let mut command = dtops_command(inputs)?;
        command.extend(["status".into(), "--quiet".into()]);
        Ok(StatusJobContext {
            tag: format!("{}-status", inputs.site.app.name),
            command,
        })
    }
}

/// `dtops --site FILE [--runtime native]`, one word each: how a cron line runs this dtops.
pub fn dtops_command(inputs: &RenderInputs) -> anyhow::Result<Vec<String>> {
    let site = inputs.site;
    let dtops = inputs
        .dtops
        .clone()
        .unwrap_or_else(|| PathBuf::from(DEFAULT_DTOPS));
    let site_file = site
        .file
        .clone()
        .unwrap_or_else(|| site.app_dir().join("site.toml"));
    let mut command = vec![cron_word(&dtops)?, "--site".into(), cron_word(&site_file)?];
    if inputs.runtime == RuntimeKind::Native {
        command.extend(["--runtime".into(), "native".into()]);
    }
    Ok(command)
}

/// A path as one word of the cron line: cron turns `%` into a newline even inside quotes.
pub fn cron_word(path: &Path) -> anyhow::Result<String> {
    let text = path.display().to_string();
    if text.contains('%') || text.contains('\n') {
        anyhow::bail!(
            "{text:?} cannot go into a cron line (cron reads % and newlines itself); move it \
             to a path without them"
        );
    }
    Ok(text)
}
