//! Which commit a server was built from, as `GET /internal/version` answers it and as every
//! admin answer's `Datatools-Build` header carries it, so dtops can tell it is older than the
//! api it talks to (and say so) without a request of its own.

use serde::{Deserialize, Serialize};

/// The header on every admin answer: `<commit> <commit time, Unix seconds>`.
pub const BUILD_HEADER: &str = "datatools-build";

/// `GET /internal/version`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BuildInfo {
    /// The crate's version (`0.1.0`).
    pub version: String,
    /// The full commit it was built from, when known.
    pub commit: Option<String>,
    /// That commit's time (Unix seconds, the committer's), when known.
    pub committed_at: Option<i64>,
}

impl BuildInfo {
    /// The header's value, when both the commit and its time are known.
    pub fn header_value(&self) -> Option<String> {
        Some(format!("{} {}", self.commit.as_ref()?, self.committed_at?))
    }

    /// A header value read back: (commit, time); `None` for anything malformed.
    pub fn parse_header(value: &str) -> Option<(String, i64)> {
        let (commit, time) = value.trim().split_once(' ')?;
        let hex = !commit.is_empty()
            && commit.len() <= 64
            && commit.bytes().all(|b| b.is_ascii_hexdigit());
        Some((commit.to_string(), time.parse().ok()?)).filter(|_| hex)
    }
}

#[cfg(test)]
mod tests {
    use super::BuildInfo;

    #[test]
    fn the_header_round_trips_and_refuses_junk() {
        let info = BuildInfo {
            version: "0.1.0".into(),
            commit: Some("0123456789abcdef0123456789abcdef01234567".into()),
            committed_at: Some(1_765_000_000),
        };
        let value = info.header_value().unwrap();
        assert_eq!(
            BuildInfo::parse_header(&value),
            Some((info.commit.clone().unwrap(), 1_765_000_000))
        );
        for junk in ["", "abc", "abc def", "xyz 12", "abc 12 13"] {
            assert_eq!(BuildInfo::parse_header(junk), None, "{junk:?}");
        }
        assert_eq!(
            BuildInfo {
                commit: None,
                ..info
            }
            .header_value(),
            None
        );
    }
}
