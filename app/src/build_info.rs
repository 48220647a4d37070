//! Which commit this server was built from: what its image says (`DATATOOLS_COMMIT` and
//! `DATATOOLS_COMMIT_TIME`, set by app/Dockerfile from the build's arguments), else what cargo
//! knew when it compiled (build.rs: those same variables, else `git`). Read once.

use std::sync::OnceLock;

use crate::api::BuildInfo;
use crate::config::vars;

/// This server's build.
pub(crate) fn this() -> &'static BuildInfo {
    static BUILD: OnceLock<BuildInfo> = OnceLock::new();
    BUILD.get_or_init(|| {
        let given = |name: &str| {
            std::env::var(name)
                .ok()
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let compiled = |value: &str| Some(value.to_string()).filter(|v| !v.is_empty());
        let (commit, time) = match given(vars::COMMIT) {
            Some(commit) => (Some(commit), given(vars::COMMIT_TIME)),
            None => (
                compiled(env!("DATATOOLS_BUILD_COMMIT")),
                compiled(env!("DATATOOLS_BUILD_COMMIT_TIME")),
            ),
        };
        BuildInfo {
            version: env!("CARGO_PKG_VERSION").to_string(),
            commit: commit.filter(|c| c.bytes().all(|b| b.is_ascii_hexdigit())),
            committed_at: time.and_then(|t| t.parse().ok()),
        }
    })
}
