//! Group commit: rows that requests want written at the same moment go to Postgres as one
//! statement (one round trip, one transaction, one WAL flush), each request still answered only
//! after its row is durable.
//!
//! No request waits for others to arrive: a batch is whatever was queued while the previous one
//! was being written (one request alone is written at once). A few batches are in flight at a
//! time, so a slow one does not hold everything. A batch that fails as a whole is written again
//! row by row, concurrently, so one bad row never fails another's request; each request gets
//! its own result.

use std::future::Future;
use std::sync::{Arc, OnceLock};

use tokio::sync::{mpsc, oneshot, Mutex};

/// Rows in one statement at most (Postgres takes far more; this bounds one statement's time).
const MAX_BATCH: usize = 64;
/// Batches written at the same time.
const WRITERS: usize = 4;

type Reply<O> = oneshot::Sender<sqlx::Result<O>>;
/// A queued row and where its answer goes.
type Queued<W> = (<W as BatchWrite>::Row, Reply<<W as BatchWrite>::Out>);

/// How to write a batch, and one row alone.
pub(crate) trait BatchWrite: Send + Sync + 'static {
    type Row: Send + 'static;
    type Out: Send + 'static;

    /// Writes every row in one statement; the answer has one entry per row, in order.
    fn write_all(
        &self,
        rows: &[Self::Row],
    ) -> impl Future<Output = sqlx::Result<Vec<Self::Out>>> + Send;

    /// Writes one row (after its batch failed as a whole).
    fn write_one(&self, row: &Self::Row) -> impl Future<Output = sqlx::Result<Self::Out>> + Send;
}

/// Queues rows for `W`'s writers, started on first use.
pub(crate) struct Batcher<W: BatchWrite> {
    write: Arc<W>,
    queue: OnceLock<mpsc::UnboundedSender<Queued<W>>>,
}

impl<W: BatchWrite> Batcher<W> {
    pub(crate) fn new(write: W) -> Self {
        Batcher {
            write: Arc::new(write),
            queue: OnceLock::new(),
        }
    }

    /// Writes `row` with whatever else is being written now; its own result.
    pub(crate) async fn write(&self, row: W::Row) -> sqlx::Result<W::Out> {
        let (reply, answer) = oneshot::channel();
        if self.queue().send((row, reply)).is_err() {
            return Err(sqlx::Error::PoolClosed);
        }
        answer.await.unwrap_or(Err(sqlx::Error::PoolClosed))
    }

    fn queue(&self) -> &mpsc::UnboundedSender<Queued<W>> {
        self.queue.get_or_init(|| {
            let (sender, receiver) = mpsc::unbounded_channel();
            let receiver = Arc::new(Mutex::new(receiver));
            for _ in 0..WRITERS {
                tokio::spawn(writer(self.write.clone(), receiver.clone()));
            }
            sender
        })
    }
}

/// Takes what is queued (waiting only for the first row), writes it, answers; until every
/// sender is gone.
async fn writer<W: BatchWrite>(
    write: Arc<W>,
    queue: Arc<Mutex<mpsc::UnboundedReceiver<Queued<W>>>>,
) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    loop {
        {
            let mut queue = queue.lock().await;
            if queue.recv_many(&mut batch, MAX_BATCH).await == 0 {
                return;
            }
        }
        let (rows, replies): (Vec<W::Row>, Vec<Reply<W::Out>>) = batch.drain(..).unzip();
        match write.write_all(&rows).await {
            Ok(outs) if outs.len() == rows.len() => {
                for (reply, out) in replies.into_iter().zip(outs) {
                    let _ = reply.send(Ok(out));
                }
            }
            Ok(outs) => {
                tracing::error!(
                    rows = rows.len(),
                    answers = outs.len(),
                    "a batch write answered for a different number of rows; writing them one by one"
                );
                one_by_one(&*write, rows, replies).await;
            }
            Err(e) => {
                if rows.len() > 1 {
                    tracing::debug!(error = %e, rows = rows.len(), "a batch write failed; writing its rows one by one");
                    one_by_one(&*write, rows, replies).await;
                } else if let Some(reply) = replies.into_iter().next() {
                    let _ = reply.send(Err(e));
                }
            }
        }
    }
}

/// Each row alone, all at once, each answered with its own result.
async fn one_by_one<W: BatchWrite>(write: &W, rows: Vec<W::Row>, replies: Vec<Reply<W::Out>>) {
    let results = futures_util::future::join_all(rows.iter().map(|row| write.write_one(row))).await;
    for (reply, result) in replies.into_iter().zip(results) {
        let _ = reply.send(result);
    }
}
