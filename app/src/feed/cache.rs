//! The current build of the revocation feeds, shared by every request of this process.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use tokio::sync::watch;

use crate::license::BuiltFeeds;

/// One build, its texts as shared bytes: every answer sends the same buffer, never a copy.
pub(crate) struct Feeds {
    /// What went into the build (its texts moved out into `v1` and `v2`).
    pub(crate) info: BuiltFeeds,
    /// The `DTREV1` feed, None when it would be too long.
    pub(crate) v1: Option<Bytes>,
    /// The `DTREV2` feed, None when it would be too long.
    pub(crate) v2: Option<Bytes>,
}

impl From<BuiltFeeds> for Feeds {
    fn from(mut info: BuiltFeeds) -> Self {
        let v1 = info.v1.take().map(Bytes::from);
        let v2 = info.v2.take().map(Bytes::from);
        Feeds { info, v1, v2 }
    }
}

/// The newest build (None until the first one finished). A request waits this long for the
/// first build of a starting server before it is answered 503.
pub(crate) const FIRST_BUILD_WAIT: Duration = Duration::from_secs(10);

pub(crate) struct FeedCache {
    current: watch::Sender<Option<Arc<Feeds>>>,
}

impl Default for FeedCache {
    fn default() -> Self {
        FeedCache {
            current: watch::channel(None).0,
        }
    }
}

impl FeedCache {
    /// The newest build, if there is one yet.
    pub(crate) fn get(&self) -> Option<Arc<Feeds>> {
        self.current.borrow().clone()
    }

    /// The newest build, waiting up to `wait` for the first one.
    pub(crate) async fn wait(&self, wait: Duration) -> Option<Arc<Feeds>> {
        let mut receiver = self.current.subscribe();
        let first = tokio::time::timeout(wait, receiver.wait_for(Option::is_some)).await;
        match first {
            Ok(Ok(built)) => built.clone(),
            _ => None,
        }
    }

    pub(crate) fn set(&self, built: BuiltFeeds) {
        self.current
            .send_replace(Some(Arc::new(Feeds::from(built))));
    }
}
