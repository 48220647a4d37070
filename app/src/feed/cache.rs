//! The current build of the revocation feeds, shared by every request of this process.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use crate::license::BuiltFeeds;

/// The newest build (None until the first one finished). A request waits this long for the
/// first build of a starting server before it is answered 503.
pub(crate) const FIRST_BUILD_WAIT: Duration = Duration::from_secs(10);

pub(crate) struct FeedCache {
    current: watch::Sender<Option<Arc<BuiltFeeds>>>,
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
    pub(crate) fn get(&self) -> Option<Arc<BuiltFeeds>> {
        self.current.borrow().clone()
    }

    /// The newest build, waiting up to `wait` for the first one.
    pub(crate) async fn wait(&self, wait: Duration) -> Option<Arc<BuiltFeeds>> {
        let mut receiver = self.current.subscribe();
        let first = tokio::time::timeout(wait, receiver.wait_for(Option::is_some)).await;
        match first {
            Ok(Ok(built)) => built.clone(),
            _ => None,
        }
    }

    pub(crate) fn set(&self, built: BuiltFeeds) {
        self.current.send_replace(Some(Arc::new(built)));
    }
}
