//! `dtops dev`: the whole product on this machine, with nothing to configure.
//!
//! A throwaway Postgres cluster (from the machine's own server binaries), migrations, the
//! in-tree development key, a fresh admin token, and the server on 127.0.0.1. Ctrl-C or
//! SIGTERM stops the server and deletes the cluster and the token.
//!
//! The Gumroad webhook is on (a fresh secret, and a `dev-product` added to the catalogue) and
//! license emails go to an outbox directory instead of Postmark.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use datatools_license::config::{vars, Config};
use datatools_license::pg_cluster::{Cluster, ClusterOptions};
use datatools_license::products::EMBEDDED_PRODUCTS_TOML;
use datatools_license::{db, server};
use tokio::net::TcpListener;

use crate::cli::DevArgs;
use crate::secure_file;

const DATABASE: &str = "datatools";
/// The Gumroad product id `dtops dev` maps to the core tier, for simulated sales.
pub const DEV_PRODUCT_ID: &str = "dev-product";

pub async fn run(args: DevArgs) -> anyhow::Result<ExitCode> {
    server::init_tracing();
    // Before anything is created: Ctrl-C, SIGTERM or a closed terminal during start-up still
    // ends in the clean stop below (the cluster and the token deleted), never a kill.
    let stop = server::shutdown_signal();
    // Bind first: a port clash is the most likely failure and costs nothing to report.
    let listener = TcpListener::bind(("127.0.0.1", args.port))
        .await
        .with_context(|| {
            format!(
                "cannot listen on 127.0.0.1:{}; is another server using it? Pick another with --port",
                args.port
            )
        })?;
    let workdir = DevDir::create()?;
    let token_file = workdir.path().join("admin_token");
    secure_file::create_new(&token_file, random_hex(32)?.as_bytes(), 0o400)?;
    let gumroad_secret = random_hex(16)?;
    let secret_file = workdir.path().join("gumroad_secret");
    secure_file::create_new(&secret_file, gumroad_secret.as_bytes(), 0o400)?;
    let outbox = workdir.path().join("outbox");
    std::fs::create_dir(&outbox)?;
    let products = workdir.path().join("products.toml");
    std::fs::write(
        &products,
        format!(
            "{EMBEDDED_PRODUCTS_TOML}\n# Added by `dtops dev` for simulated Gumroad sales.\n\
             [[products]]\ngumroad_product_id = \"{DEV_PRODUCT_ID}\"\nname = \"DataTools Core (dev)\"\n\
             tier = \"core\"\n"
        ),
    )?;

    eprintln!("starting a throwaway PostgreSQL cluster...");
    let cluster = tokio::task::spawn_blocking(|| Cluster::start(ClusterOptions::default()))
        .await?
        .context("cannot start the development database")?;
    cluster.create_database(DATABASE).await?;

    let url = format!("http://{}", listener.local_addr()?);
    let mut vars = vec![
        (vars::ENV, "development".to_string()),
        (vars::DATABASE_URL, cluster.url(DATABASE)),
        (vars::ADMIN_TOKEN_FILE, path_string(&token_file)),
        (vars::GUMROAD_WEBHOOK_SECRET_FILE, path_string(&secret_file)),
        (vars::OUTBOX_DIR, path_string(&outbox)),
        (vars::PRODUCTS_FILE, path_string(&products)),
        // Alerts land in the outbox too (a sale of an unknown product shows one).
        (vars::ALERT_EMAIL, "ops@example.com".to_string()),
        // The buyer portal (PR 3) on this same address; its sign-in mails land in the outbox.
        (vars::PORTAL, "on".to_string()),
        (vars::PUBLIC_URL, url.clone()),
    ];
    if let Some(dir) = &args.email_texts {
        vars.push((vars::EMAIL_TEMPLATES, path_string(dir)));
    }
    let config = Config::from_vars(|name| {
        vars.iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.clone())
    })?;
    let public_key = config.signing_key.public_hex();
    let key_id = config.signing_key.key_id();
    let state = datatools_license::state::AppState::new(config)?;
    db::migrate(&state.db)
        .await
        .context("cannot apply migrations")?;

    let dtops = dtops_command();
    println!(
        "DataTools license server (development) is running on {url}\n\
         \n  database:     throwaway cluster in {cluster_dir} (deleted on exit)\
         \n  admin token:  {token}\
         \n  signing key:  the in-tree DEVELOPMENT key (key id {key_id}); its licenses prove nothing\
         \n  outbox:       {outbox} (license emails and alerts are written here, one .eml file each)\
         \n\nMint a license:\n  {dtops} mint --admin-url {url} --token-file {token} \\\n      \
         --name \"Test Buyer\" --email test@example.com --tier core --years 1\
         \n\nVerify a blob:\n  {dtops} verify <BLOB> --pubkey {public_key}\
         \n\nSimulate a Gumroad sale (the webhook is on; {DEV_PRODUCT_ID} maps to the core tier):\
         \n  curl -s -X POST '{url}/webhooks/gumroad?secret={gumroad_secret}' -d sale_id=dev-sale-1 \\\n      \
         -d product_id={DEV_PRODUCT_ID} -d email=buyer@example.com --data-urlencode 'full_name=Test Buyer'\
         \n  {dtops} events --admin-url {url} --token-file {token}\
         \n  ls {outbox}\
         \n\nThe buyer portal (sign in as buyer@example.com after the sale above; the sign-in mail \
         is in the outbox):\n  {url}/portal/\
         \n\nWhat the api says of itself (its problems, queue, feed):\n  {dtops} status --admin-url {url} \
         --token-file {token}\
         \n\nHealth:  curl -s {url}/health\
         \n\nCtrl-C stops the server and deletes the database.",
        cluster_dir = cluster.dir().display(),
        token = token_file.display(),
        outbox = outbox.display(),
    );

    server::serve(listener, state.clone(), stop).await?;
    state.db.close().await;
    drop(cluster);
    drop(workdir);
    eprintln!("stopped; the development database and token are deleted");
    Ok(ExitCode::SUCCESS)
}

/// A private temporary directory, removed on drop.
struct DevDir(PathBuf);

impl DevDir {
    fn create() -> anyhow::Result<Self> {
        use std::os::unix::fs::DirBuilderExt;
        let path = std::env::temp_dir().join(format!("dtops-dev-{}", random_hex(6)?));
        std::fs::DirBuilder::new()
            .mode(0o700)
            .create(&path)
            .with_context(|| format!("cannot create {}", path.display()))?;
        Ok(DevDir(path))
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for DevDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn random_hex(bytes: usize) -> anyhow::Result<String> {
    let mut buf = vec![0u8; bytes];
    getrandom::getrandom(&mut buf).map_err(|e| anyhow::anyhow!("OS random generator: {e}"))?;
    Ok(hex::encode(buf))
}

fn path_string(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}

/// How to invoke this dtops in a printed command that works as printed: `dtops` when that is
/// what PATH finds, else the full path of this executable (e.g. under target/).
fn dtops_command() -> String {
    let me = std::env::current_exe().ok();
    let on_path = which::which("dtops").ok();
    match (me, on_path) {
        (Some(me), Some(found)) if same_file(&me, &found) => "dtops".into(),
        (Some(me), _) => path_string(&me),
        (None, _) => "dtops".into(),
    }
}

fn same_file(a: &Path, b: &Path) -> bool {
    matches!((a.canonicalize(), b.canonicalize()), (Ok(a), Ok(b)) if a == b)
}
