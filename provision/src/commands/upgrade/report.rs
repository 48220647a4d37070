//! What the box is left in when an upgrade stops: which version serves (asked of the engine and
//! /health, not assumed), which migrations ran, where the pre-upgrade backup is, what became of
//! the new image, and how to retry.

use std::path::PathBuf;

use super::dtops_install::Built;
use crate::deployed::{short, Deployed};
use crate::env::Env;
use crate::runtime::{health_url, probe_health, Runtime};
use crate::schema;
use crate::site::Slot;

/// The facts an upgrade gathered on its way.
pub struct Progress<'a> {
    pub env: &'a Env<'a>,
    pub runtime: &'a dyn Runtime,
    pub from: &'a Deployed,
    /// The slot it served from when the upgrade started.
    pub slot: Slot,
    pub target: &'a str,
    pub image: &'a str,
    /// Applied in the database before the upgrade (empty until the schema check ran).
    pub applied_before: Option<Vec<i64>>,
    pub backup: Option<PathBuf>,
    /// The dtops built from the target commit, installed once it serves.
    pub dtops: Option<Built>,
}

impl Progress<'_> {
    /// The report's lines, to print after the error.
    pub fn box_state(&self) -> Vec<String> {
        let mut lines = vec![
            format!("serving      {}", self.serving()),
            format!("migrations   {}", self.migrations()),
        ];
        lines.push(match &self.backup {
            Some(file) => format!(
                "backup       {} (verified, taken before any change; `dtops restore {} \
                 --into-live --yes` only if data must go back to that moment)",
                file.display(),
                file.file_name().unwrap_or_default().to_string_lossy()
            ),
            None => "backup       none taken (the upgrade stopped before it)".into(),
        });
        lines.push(format!(
            "new image    {} is kept (a retry reuses it; `docker image rm {}` removes it)",
            self.image, self.image
        ));
        lines.push(format!(
            "retry        fix the cause, then `dtops upgrade --ref {}`",
            short(self.target)
        ));
        lines
    }

    /// Which version answers now, as the record, the engine and /health say.
    fn serving(&self) -> String {
        let slot = match crate::live_slot::read(self.env) {
            Ok(Some(slot)) => slot,
            Ok(None) => return "NOTHING recorded (`dtops provision`)".into(),
            Err(e) => return format!("UNKNOWN: {e:#}"),
        };
        let process = match self.runtime.slot_process(self.env, slot) {
            Ok(Some(process)) => process,
            Ok(None) => return format!("NOTHING: slot {slot} has no api (`dtops provision`)"),
            Err(e) => return format!("UNKNOWN: {e:#}"),
        };
        let version = if process.image == self.from.image {
            format!(
                "{} ({}) in slot {slot}, the version from before the upgrade",
                short(&self.from.commit),
                process.image
            )
        } else if process.image == self.image {
            format!(
                "{} ({}) in slot {slot}, the NEW version",
                short(self.target),
                process.image
            )
        } else {
            format!("an unexpected image {} in slot {slot}", process.image)
        };
        let url = health_url(self.env.site, slot);
        match probe_health(&url) {
            Ok((200, body)) => format!("{version}; {url} answers 200 {body}"),
            answer => {
                let why = match answer {
                    Ok((status, body)) => format!("{status} {body}"),
                    Err(e) => e.to_string(),
                };
                format!(
                    "{version}, but NOT healthy ({url}: {why}); its last lines:\n{}",
                    indent(&self.runtime.slot_log_tail(self.env, slot))
                )
            }
        }
    }

    fn migrations(&self) -> String {
        let Some(before) = &self.applied_before else {
            return "none ran (the upgrade stopped before the schema check)".into();
        };
        match schema::applied_versions(self.env) {
            Ok(now) => {
                let ran: Vec<String> = now
                    .iter()
                    .filter(|v| !before.contains(v))
                    .map(i64::to_string)
                    .collect();
                if ran.is_empty() {
                    "none ran; the schema is as before".into()
                } else {
                    format!(
                        "ran during this upgrade: {}. They stay (forward-only): the previous \
                         version runs on the newer schema, which expand/contract schema changes \
                         allow (ADMIN.md \"Upgrading\")",
                        ran.join(", ")
                    )
                }
            }
            Err(e) => format!("UNKNOWN (the database did not answer: {e:#})"),
        }
    }
}

fn indent(text: &str) -> String {
    text.lines()
        .map(|l| format!("               {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}
