//! Test harness: a real Postgres cluster and the real server on 127.0.0.1:0.
#![allow(dead_code)]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;

use datatools_license::config::Config;
use datatools_license::pg_cluster::{Cluster, ClusterOptions};
use datatools_license::state::AppState;
use datatools_license::{db, server};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

pub mod alerts;
pub mod feed_vectors;
pub mod gumroad;
pub mod gumroad_api;
pub mod portal;
pub mod postmark;
pub mod reissue;
pub mod verifier;

pub const ADMIN_TOKEN: &str = "test-admin-token-0123456789abcdef0123456789abcdef";

/// Starts a throwaway cluster, failing loudly when Postgres is missing (never a silent skip).
pub fn cluster() -> Cluster {
    Cluster::start(ClusterOptions::default())
        .unwrap_or_else(|e| panic!("these tests need PostgreSQL server binaries: {e}"))
}

/// Files and variables for a development configuration.
pub struct Env {
    pub dir: tempfile::TempDir,
    pub vars: HashMap<String, String>,
}

impl Env {
    /// A development configuration for the database at `database_url`.
    pub fn new(database_url: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let token = dir.path().join("admin_token");
        std::fs::write(&token, ADMIN_TOKEN).unwrap();
        let mut vars = HashMap::new();
        vars.insert("DATATOOLS_ENV".into(), "development".into());
        vars.insert("DATABASE_URL".into(), database_url.into());
        vars.insert(
            "DATATOOLS_ADMIN_TOKEN_FILE".into(),
            token.to_str().unwrap().into(),
        );
        Env { dir, vars }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn set(&mut self, name: &str, value: impl Into<String>) -> &mut Self {
        self.vars.insert(name.into(), value.into());
        self
    }

    pub fn unset(&mut self, name: &str) -> &mut Self {
        self.vars.remove(name);
        self
    }

    pub fn config(&self) -> Result<Config, datatools_license::config::ConfigError> {
        Config::from_vars(|name| self.vars.get(name).cloned())
    }
}

/// A migrated database and the server answering on 127.0.0.1.
pub struct TestServer {
    pub cluster: Cluster,
    pub env: Env,
    pub addr: SocketAddr,
    pub state: AppState,
    pub client: reqwest::Client,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

impl TestServer {
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    /// A server whose configuration `configure` adjusts first (the Gumroad workers run).
    pub async fn start_with(configure: impl FnOnce(&mut Env)) -> Self {
        server::init_tracing();
        let cluster = cluster();
        cluster.create_database("datatools").await.unwrap();
        let mut env = Env::new(&cluster.url("datatools"));
        configure(&mut env);
        Self::serve(cluster, env, true).await
    }

    /// Serves `env` on `cluster` (already created); `workers: false` serves HTTP only, so
    /// deliveries are acknowledged and stored but not processed (a server that dies right after
    /// acknowledging).
    pub async fn serve(cluster: Cluster, env: Env, workers: bool) -> Self {
        let state = AppState::new(env.config().unwrap()).unwrap();
        db::migrate(&state.db).await.unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = oneshot::channel::<()>();
        let shutdown = async {
            let _ = rx.await;
        };
        let task = if workers {
            tokio::spawn(server::serve(listener, state.clone(), shutdown))
        } else {
            tokio::spawn(server::serve_http_only(listener, state.clone(), shutdown))
        };
        TestServer {
            cluster,
            env,
            addr,
            state,
            client: reqwest::Client::new(),
            shutdown: Some(tx),
            task: Some(task),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// A request to the admin API with the right token.
    pub fn admin(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.client
            .request(method, self.url(path))
            .bearer_auth(ADMIN_TOKEN)
    }

    /// `POST /internal/mint` with `body`; insists on 200 and returns the license record.
    pub async fn mint(&self, body: &serde_json::Value) -> serde_json::Value {
        let response = self
            .admin(reqwest::Method::POST, "/internal/mint")
            .json(body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "mint refused {body}");
        response.json().await.unwrap()
    }

    pub async fn stop(self) {
        self.stop_keeping_database().await;
    }

    /// Stops the server (and its workers) and hands back the database and configuration, to
    /// start another server on them.
    pub async fn stop_keeping_database(mut self) -> (Cluster, Env) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.unwrap().unwrap();
        }
        self.state.db.close().await;
        (self.cluster, self.env)
    }
}

pub fn mint_body() -> serde_json::Value {
    serde_json::json!({
        "name": "Test Buyer",
        "email": "test@example.com",
        "tier": "core",
        "years": 1,
        "source": "manual",
        "notes": "smoke test"
    })
}
