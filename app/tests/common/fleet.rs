//! Several `datatools-license` processes on one database (a blue/green switch runs two; several
//! boxes on one managed Postgres run more), with the local Postmark, and waiting for the queues
//! they share to empty.

use std::time::{Duration, Instant};

use sqlx::PgPool;

use super::postmark::FakePostmark;
use super::process::{migrate, ServerProcess};
use super::{cluster, gumroad, Env};
use datatools_license::pg_cluster::Cluster;

pub struct Fleet {
    pub cluster: Cluster,
    pub env: Env,
    pub postmark: FakePostmark,
    pub servers: Vec<ServerProcess>,
    pub db: PgPool,
}

impl Fleet {
    /// A migrated database and `count` processes serving it, configured for PR 2 (webhook,
    /// Postmark at a local server answering after `mail_delay`) and then by `configure`.
    pub async fn start(
        count: usize,
        mail_delay: Duration,
        configure: impl FnOnce(&mut Env, &FakePostmark),
    ) -> Fleet {
        let cluster = cluster();
        cluster.create_database("fleet").await.unwrap();
        let mut env = Env::new(&cluster.url("fleet"));
        let postmark = FakePostmark::start().await;
        postmark.set_delay(mail_delay);
        gumroad::configure(&mut env, &postmark.url);
        configure(&mut env, &postmark);
        migrate(&env);
        let mut servers = Vec::new();
        for n in 0..count {
            servers.push(ServerProcess::start(&env, &format!("server-{n}")).await);
        }
        let db = PgPool::connect(&cluster.url("fleet")).await.unwrap();
        Fleet {
            cluster,
            env,
            postmark,
            servers,
            db,
        }
    }

    /// One more process on the same database (the new slot of a switch).
    pub async fn add(&mut self) -> &ServerProcess {
        let name = format!("server-{}", self.servers.len());
        self.servers
            .push(ServerProcess::start(&self.env, &name).await);
        self.servers.last().unwrap()
    }

    pub async fn count(&self, sql: &str) -> i64 {
        sqlx::query_scalar(sql).fetch_one(&self.db).await.unwrap()
    }

    /// Waits (at most `limit`) until `sql` counts nothing.
    pub async fn until_none(&self, sql: &str, limit: Duration) {
        let deadline = Instant::now() + limit;
        loop {
            let left = self.count(sql).await;
            if left == 0 {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{left} left after {limit:?}: {sql}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The addresses Postmark was asked to mail with `tag`, each as often as it was.
    pub fn mailed(&self, tag: &str) -> Vec<String> {
        let mut to: Vec<String> = self
            .postmark
            .requests()
            .iter()
            .filter(|r| r["Tag"] == tag)
            .map(|r| r["To"].as_str().unwrap_or_default().to_string())
            .collect();
        to.sort();
        to
    }

    /// Every process's log (for a failing assertion).
    pub fn logs(&self) -> String {
        self.servers
            .iter()
            .map(|s| format!("--- {}\n{}", s.log.display(), s.log_text()))
            .collect()
    }
}
