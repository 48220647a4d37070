//! Group commit: rows that requests want written at the same moment go to Postgres as one
//! statement (one round trip, one transaction, one WAL flush), each request still answered only
//! after its row is durable.
//!
//! No request waits for others to arrive: a batch is whatever was queued while the previous one
//! was being written (one request alone is written at once). A few batches are in flight at a
//! time, so a slow one does not hold everything. A batch that fails as a whole is written again
//! row by row, concurrently, so one bad row never fails another's request; each request gets
//! its own result.
//!
//! Each writer keeps the pooled connection it wrote its last batch on while rows keep coming
//! (`held`): sqlx tests a connection with a round trip to Postgres whenever one goes back to
//! the pool, which had doubled Postgres' work per batch, and returning it costs a spawned task.
//! A writer idle for [`RELEASE_WHEN_IDLE_FOR`] gives its connection back, so a quiet server holds
//! none, and a connection that came back from the pool after that long is pinged first
//! (`pool.rs`), as every other one is.

use std::future::Future;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use sqlx::pool::PoolConnection;
use sqlx::{PgConnection, PgPool, Postgres};
use tokio::sync::{mpsc, oneshot, Mutex};

use super::pool;

/// Rows in one statement at most (Postgres takes far more; this bounds one statement's time).
const MAX_BATCH: usize = 64;
/// Batches written at the same time, at most (fewer with a small pool: [`writers_for`]).
const WRITERS: usize = 4;
/// A writer with nothing to write for this long gives its connection back to the pool (the
/// pool pings a connection idle this long before handing it out again).
const RELEASE_WHEN_IDLE_FOR: Duration = pool::PING_WHEN_IDLE_FOR;

type Reply<O> = oneshot::Sender<sqlx::Result<O>>;
/// A queued row and where its answer goes.
type Queued<W> = (<W as BatchWrite>::Row, Reply<<W as BatchWrite>::Out>);

/// How to write a batch, and one row alone.
pub(crate) trait BatchWrite: Send + Sync + 'static {
    type Row: Send + 'static;
    type Out: Send + 'static;

    /// Writes every row in one statement on `conn`; the answer has one entry per row, in order.
    fn write_all(
        &self,
        conn: &mut PgConnection,
        rows: &[Self::Row],
    ) -> impl Future<Output = sqlx::Result<Vec<Self::Out>>> + Send;

    /// Writes one row (after its batch failed as a whole), on a connection of its own.
    fn write_one(&self, row: &Self::Row) -> impl Future<Output = sqlx::Result<Self::Out>> + Send;
}

/// Queues rows for `W`'s writers, started on first use.
pub(crate) struct Batcher<W: BatchWrite> {
    write: Arc<W>,
    pool: PgPool,
    queue: OnceLock<mpsc::UnboundedSender<Queued<W>>>,
}

impl<W: BatchWrite> Batcher<W> {
    pub(crate) fn new(write: W, pool: &PgPool) -> Self {
        Batcher {
            write: Arc::new(write),
            pool: pool.clone(),
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
            let (writers, hold) = writers_for(self.pool.options().get_max_connections());
            for _ in 0..writers {
                tokio::spawn(writer(
                    self.write.clone(),
                    receiver.clone(),
                    self.pool.clone(),
                    hold,
                ));
            }
            sender
        })
    }
}

/// Writers for a pool of `pool_size`, and whether they keep their connections between batches:
/// the server has two batchers, and together they take at most half the pool, so requests that
/// need a connection of their own (a row written alone after its batch failed, a lookup) always
/// find one.
fn writers_for(pool_size: u32) -> (usize, bool) {
    let writers = (pool_size as usize / 4).clamp(1, WRITERS);
    (writers, pool_size >= 4)
}

/// A connection kept between batches, and since when.
struct Held {
    conn: PoolConnection<Postgres>,
    acquired_at: Instant,
}

/// Takes what is queued (waiting only for the first row), writes it, answers; until every
/// sender is gone.
async fn writer<W: BatchWrite>(
    write: Arc<W>,
    queue: Arc<Mutex<mpsc::UnboundedReceiver<Queued<W>>>>,
    db: PgPool,
    hold: bool,
) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    let mut held: Option<Held> = None;
    loop {
        let next = async {
            let mut queue = queue.lock().await;
            queue.recv_many(&mut batch, MAX_BATCH).await
        };
        let received = if held.is_some() {
            // `recv_many` loses nothing when cancelled: the rows stay queued.
            match tokio::time::timeout(RELEASE_WHEN_IDLE_FOR, next).await {
                Ok(received) => received,
                Err(_) => {
                    held = None;
                    continue;
                }
            }
        } else {
            next.await
        };
        if received == 0 {
            return;
        }
        let (rows, replies): (Vec<W::Row>, Vec<Reply<W::Out>>) = batch.drain(..).unzip();
        // A kept connection is not used once any query found the database gone after it was
        // taken (the rule the pool applies, `pool::note_error`).
        let kept = held.take().filter(|h| !pool::lost_since(h.acquired_at));
        let mut conn = match kept {
            Some(held) => held,
            None => match db.acquire().await {
                Ok(conn) => Held {
                    conn,
                    acquired_at: Instant::now(),
                },
                Err(e) => {
                    pool::note_error(&e);
                    fail(&*write, e, rows, replies).await;
                    continue;
                }
            },
        };
        match write.write_all(&mut conn.conn, &rows).await {
            Ok(outs) if outs.len() == rows.len() => {
                if hold {
                    held = Some(conn);
                }
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
            // The connection goes back to the pool, which tests it before it is used again.
            Err(e) => {
                pool::note_error(&e);
                drop(conn);
                fail(&*write, e, rows, replies).await;
            }
        }
    }
}

/// A batch that could not be written as a whole: one row alone gets the error; several are
/// written again one by one.
async fn fail<W: BatchWrite>(
    write: &W,
    error: sqlx::Error,
    rows: Vec<W::Row>,
    replies: Vec<Reply<W::Out>>,
) {
    if rows.len() > 1 {
        tracing::debug!(error = %error, rows = rows.len(), "a batch write failed; writing its rows one by one");
        one_by_one(write, rows, replies).await;
    } else if let Some(reply) = replies.into_iter().next() {
        let _ = reply.send(Err(error));
    }
}

/// Each row alone, all at once, each answered with its own result.
async fn one_by_one<W: BatchWrite>(write: &W, rows: Vec<W::Row>, replies: Vec<Reply<W::Out>>) {
    let results = futures_util::future::join_all(rows.iter().map(|row| write.write_one(row))).await;
    for (reply, result) in replies.into_iter().zip(results) {
        let _ = reply.send(result);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_writers_take_at_most_half_the_pool() {
        assert_eq!(writers_for(1), (1, false));
        assert_eq!(writers_for(3), (1, false));
        assert_eq!(writers_for(4), (1, true));
        assert_eq!(writers_for(8), (2, true));
        assert_eq!(writers_for(16), (4, true));
        assert_eq!(writers_for(100), (4, true));
    }
}
