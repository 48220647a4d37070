//! The version row of `dtops status`: the deployed commit (and its image's build time) next to
//! the checkout's, how far apart they are, a serving slot running another image than the
//! recorded one, and a last upgrade that did not succeed.

use crate::deployed::{self, short};
use crate::env::Env;
use crate::runtime::{checkout_commit, commits_between, image_info, Runtime, RuntimeKind};

/// The `dtops status` line for the deployed version.
pub fn version_line(env: &Env, runtime: &dyn Runtime) -> String {
    let checkout = match checkout_commit(env) {
        Ok(commit) => commit,
        Err(_) => {
            return format!(
                "no checkout in {} (SETUP 1e clones it)",
                env.site.app_dir().display()
            )
        }
    };
    if runtime.kind() == RuntimeKind::Native {
        return format!(
            "native runtime: the server is the --native-bin binary; checkout {}",
            short(&checkout)
        );
    }
    let deployed = match deployed::read(env) {
        Ok(Some(deployed)) => deployed,
        Ok(None) => {
            return format!(
                "nothing deployed yet; checkout {} (`dtops provision` builds it)",
                short(&checkout)
            )
        }
        Err(e) => return format!("unreadable: {e:#}"),
    };
    let built = match image_info(env, &deployed.image) {
        Ok(Some(info)) => format!("built {}", date(&info.created)),
        Ok(None) => "image MISSING: `dtops provision` rebuilds it".into(),
        Err(e) => format!("image unknown: {e:#}"),
    };
    let mut line = format!(
        "deployed {} ({}, {built}), checkout {}",
        short(&deployed.commit),
        deployed.image,
        short(&checkout)
    );
    if checkout != deployed.commit {
        line.push_str(&match commits_between(env, &deployed.commit, &checkout) {
            Ok(Some((0, ahead))) => format!(", {ahead} commit(s) ahead: `dtops upgrade`"),
            Ok(Some((behind, 0))) => format!(
                ", {behind} commit(s) behind the deployed one (`dtops upgrade` refuses a schema \
                 it does not know)"
            ),
            Ok(Some((behind, ahead))) => format!(
                ", diverged ({ahead} ahead, {behind} behind): `dtops upgrade` deploys the checkout"
            ),
            _ => ", which does not contain the deployed commit".into(),
        });
    }
    let live = crate::live_slot::read_or_blue(env).unwrap_or(crate::site::Slot::Blue);
    if let Ok(Some(process)) = runtime.slot_process(env, live) {
        if process.running && process.image != deployed.image {
            line.push_str(&format!(
                "; slot {live} RUNS {}, not the recorded image (an interrupted upgrade?): \
                 `dtops provision` puts the recorded one back",
                process.image
            ));
        }
    }
    if let Ok(Some(last)) = deployed::read_last_upgrade(env) {
        if last.result != "ok" && last.commit != deployed.commit {
            line.push_str(&format!(
                "; last upgrade (to {} at {}) {}: {}",
                short(&last.commit),
                last.at,
                last.result.to_uppercase(),
                last.message
            ));
        }
    }
    line
}

/// Docker's `2026-01-02T03:04:05.123456789Z` as `2026-01-02 03:04 UTC`.
fn date(created: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(created)
        .map(|t| {
            t.with_timezone(&chrono::Utc)
                .format("%Y-%m-%d %H:%M UTC")
                .to_string()
        })
        .unwrap_or_else(|_| created.to_string())
}
