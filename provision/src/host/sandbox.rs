//! `Host` itself: where a host path really is (relocated under `--root` in a sandbox), and
//! running commands. Files, accounts and links are `impl Host` blocks in their own files.

use std::path::{Path, PathBuf};

use crate::process::{CommandLine, Output, ProcessError};

#[derive(Debug, Clone)]
pub struct Host {
    root: Option<PathBuf>,
    /// A host directory another user owns (the app's): below it no symlink is followed.
    guarded: Option<PathBuf>,
}

impl Host {
    pub fn new(root: Option<PathBuf>) -> Self {
        Host {
            root,
            guarded: None,
        }
    }

    /// The same host, following no symlink below host directory `top` (see `beneath.rs`).
    pub fn guarding(mut self, top: &Path) -> Self {
        self.guarded = Some(top.to_path_buf());
        self
    }

    pub(super) fn guarded_top(&self) -> Option<&Path> {
        self.guarded.as_deref()
    }

    /// Whether host path `real` is below the guarded directory.
    pub(super) fn is_guarded(&self, real: &Path) -> bool {
        self.guarded
            .as_deref()
            .is_some_and(|top| real != top && real.starts_with(top))
    }

    /// The sandbox directory, when there is one.
    pub fn sandbox(&self) -> Option<&Path> {
        self.root.as_deref()
    }

    /// Where a host path really is (relocated under `--root` in a sandbox).
    pub fn path(&self, real: &Path) -> PathBuf {
        match &self.root {
            Some(root) => root.join(real.strip_prefix("/").unwrap_or(real)),
            None => real.to_path_buf(),
        }
    }

    /// Runs a command on the host.
    pub fn run(&self, command: &CommandLine) -> Result<Output, ProcessError> {
        command.run()
    }

    /// Runs a command whose failure is an answer (a probe), not an error.
    pub fn probe(&self, command: &CommandLine) -> Result<Output, ProcessError> {
        command.run_unchecked()
    }
}
