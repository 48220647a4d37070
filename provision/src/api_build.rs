//! This dtops next to the api it talks to: every admin answer says which commit the api was
//! built from (the `Datatools-Build` header); when that commit is newer than this dtops', the
//! first answer of a run prints one warning on stderr naming both and how to install the new
//! dtops. Never an error: an older dtops still does what it can.

use std::sync::atomic::{AtomicBool, Ordering};

use chrono::DateTime;
use datatools_license::api::{BuildInfo, BUILD_HEADER};
use reqwest::header::HeaderMap;

use crate::deployed::short;

/// This dtops' commit (full hex; empty when built without git) and its time.
const COMMIT: &str = env!("DTOPS_COMMIT");
const COMMIT_TIME: &str = env!("DTOPS_COMMIT_TIME");

static WARNED: AtomicBool = AtomicBool::new(false);

/// No warning in this run: `dtops upgrade` talks to the new api before it installs the new
/// dtops itself.
pub fn silence() {
    WARNED.store(true, Ordering::Relaxed);
}

/// Looks at one admin answer's headers; warns (once per run) when the api is newer.
pub fn note(headers: &HeaderMap) {
    if WARNED.load(Ordering::Relaxed) {
        return;
    }
    let Some((api, api_time)) = headers
        .get(BUILD_HEADER)
        .and_then(|v| v.to_str().ok())
        .and_then(BuildInfo::parse_header)
    else {
        return;
    };
    if let Some(warning) = warning(COMMIT, COMMIT_TIME.parse().ok(), &api, api_time) {
        if !WARNED.swap(true, Ordering::Relaxed) {
            eprintln!("dtops: warning: {warning}");
        }
    }
}

/// The warning when the api's commit is another, newer one than this dtops'.
fn warning(ours: &str, our_time: Option<i64>, api: &str, api_time: i64) -> Option<String> {
    let our_time = our_time?;
    if ours.is_empty() || ours.starts_with(api) || api.starts_with(ours) || api_time <= our_time {
        return None;
    }
    let day = |t: i64| {
        DateTime::from_timestamp(t, 0)
            .map_or_else(|| t.to_string(), |d| d.format("%Y-%m-%d").to_string())
    };
    Some(format!(
        "this dtops is from commit {} ({}), the api runs {} ({}), a newer one: install the new \
         dtops with `sudo dtops upgrade` on the box (it installs the dtops built from the api's \
         commit), or on this computer build commit {} (`git checkout {}; cargo build --release \
         -p dtops`)",
        short(ours),
        day(our_time),
        short(api),
        day(api_time),
        short(api),
        short(api)
    ))
}

#[cfg(test)]
mod tests {
    use crate::api_build::warning;

    const OURS: &str = "1111111111111111111111111111111111111111";
    const API: &str = "2222222222222222222222222222222222222222";

    #[test]
    fn only_a_newer_other_commit_warns() {
        let said = warning(OURS, Some(1_700_000_000), API, 1_765_000_000).unwrap();
        assert!(
            said.starts_with(
                "this dtops is from commit 111111111111 (2023-11-14), the api runs 222222222222 \
                 (2025-12-06), a newer one"
            ),
            "{said}"
        );
        assert_eq!(warning(OURS, Some(1_765_000_000), API, 1_700_000_000), None);
        assert_eq!(
            warning(OURS, Some(1_700_000_000), OURS, 1_765_000_000),
            None
        );
        assert_eq!(warning(OURS, None, API, 1_765_000_000), None);
        assert_eq!(warning("", Some(1), API, 1_765_000_000), None);
    }
}
