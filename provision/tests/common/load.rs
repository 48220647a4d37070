//! A bounded load generator for the changes dtops makes while the api serves: about 50 requests a
//! second through the nginx dtops renders (HTTPS, pebble's certificate), mixing what the box
//! serves the public: /health, the buyer portal's page, the revocation feed, Gumroad deliveries
//! (each with its own sale id). Every request has a connection of its own (what a webhook
//! sender, and nginx upstream, do), and a timeout. It counts separately the answers that are not
//! 2xx and the requests that got no answer at all (a reset, a refused or dropped connection),
//! with when each happened, so a test can say what a given change cost.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What a request was.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    Health,
    Portal,
    Feed,
    Delivery,
}

/// What became of one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Status(u16),
    /// No HTTP answer: the error as reqwest saw it.
    Failed(String),
}

#[derive(Debug, Clone)]
pub struct Request {
    pub at: Instant,
    pub kind: Kind,
    /// A delivery's sale id.
    pub sale: Option<String>,
    pub outcome: Outcome,
}

/// Where the load goes.
pub struct Target {
    /// `https://licenses.example.test:PORT`.
    pub base: String,
    /// The name resolved to 127.0.0.1 (no DNS query leaves the machine).
    pub resolve: Option<(String, SocketAddr)>,
    /// The CA the server's certificate chains to (HTTPS).
    pub root_pem: Option<Vec<u8>>,
    /// What the requests ask for, in turn (a portal page, when asked for, comes on its own
    /// slower rhythm).
    pub mix: &'static [Kind],
    /// The Gumroad webhook secret (deliveries are posted with it).
    pub webhook_secret: String,
    /// A prefix for the sale ids (unique per test).
    pub sale_prefix: String,
}

pub struct Load {
    stop: Arc<AtomicBool>,
    log: Arc<Mutex<Vec<Request>>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

/// Requests per second, and how often one of them is a portal page (nginx allows a buyer 30 a
/// minute, burst 10: the load stays under it).
const RATE: u32 = 50;
const PORTAL_EVERY: u64 = 150;

impl Load {
    pub fn start(target: Target) -> Load {
        let stop = Arc::new(AtomicBool::new(false));
        let log = Arc::new(Mutex::new(Vec::new()));
        let (stop_in, log_in) = (stop.clone(), log.clone());
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(generate(target, stop_in, log_in));
        });
        Load {
            stop,
            log,
            thread: Some(thread),
        }
    }

    /// Every request so far, oldest first.
    pub fn requests(&self) -> Vec<Request> {
        self.log.lock().unwrap().clone()
    }

    /// Stops sending, waits for the answers still due; every request.
    pub fn stop(mut self) -> Vec<Request> {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            thread.join().unwrap();
        }
        self.requests()
    }
}

/// What the public asks: /health, the portal's page, the revocation feed, deliveries.
pub const PUBLIC: &[Kind] = &[Kind::Health, Kind::Portal, Kind::Feed, Kind::Delivery];
/// Stage pr2 (no portal, no feed). Three turns, not two: behind a round-robin upstream of two
/// servers an even cycle would send every delivery to the same one.
pub const WEBHOOK: &[Kind] = &[Kind::Health, Kind::Delivery, Kind::Delivery];

async fn generate(target: Target, stop: Arc<AtomicBool>, log: Arc<Mutex<Vec<Request>>>) {
    let mut client = reqwest::Client::builder()
        // A connection per request: nothing idle for a reload to close under a request.
        .pool_max_idle_per_host(0)
        .timeout(Duration::from_secs(15));
    if let Some((name, address)) = &target.resolve {
        client = client.resolve(name, *address);
    }
    if let Some(pem) = &target.root_pem {
        client = client.add_root_certificate(reqwest::Certificate::from_pem(pem).unwrap());
    }
    let client = client.build().unwrap();
    let portal = target.mix.contains(&Kind::Portal);
    let turns: Vec<Kind> = target
        .mix
        .iter()
        .copied()
        .filter(|k| *k != Kind::Portal)
        .collect();
    let target = Arc::new(target);
    let mut tick = tokio::time::interval(Duration::from_secs(1) / RATE);
    let mut pending = Vec::new();
    for n in 0u64.. {
        tick.tick().await;
        if stop.load(Ordering::Relaxed) {
            break;
        }
        let kind = if portal && n % PORTAL_EVERY == 0 {
            Kind::Portal
        } else {
            turns[(n % turns.len() as u64) as usize]
        };
        let (client, target, log) = (client.clone(), target.clone(), log.clone());
        pending.push(tokio::spawn(async move {
            let at = Instant::now();
            let (sale, outcome) = send(&client, &target, kind, n).await;
            log.lock().unwrap().push(Request {
                at,
                kind,
                sale,
                outcome,
            });
        }));
    }
    for request in pending {
        let _ = request.await;
    }
}

async fn send(
    client: &reqwest::Client,
    target: &Target,
    kind: Kind,
    n: u64,
) -> (Option<String>, Outcome) {
    let base = &target.base;
    let (sale, request) = match kind {
        Kind::Health => (None, client.get(format!("{base}/health"))),
        Kind::Portal => (None, client.get(format!("{base}/portal/"))),
        Kind::Feed => (None, client.get(format!("{base}/revocations"))),
        Kind::Delivery => {
            let sale = format!("{}-{n}", target.sale_prefix);
            let body = format!(
                "seller_id=SeLLeR-1d%3D%3D&product_id=LOAD-TEST-PRODUCT%3D%3D\
                 &product_name=DataTools%20Core&sale_id={sale}&email=load{n}%40example.com\
                 &full_name=Load%20Buyer&price=4900&currency=usd&quantity=1&resource_name=sale"
            );
            let request = client
                .post(format!(
                    "{base}/webhooks/gumroad?secret={}",
                    target.webhook_secret
                ))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body);
            (Some(sale), request)
        }
    };
    let outcome = match request.send().await {
        Ok(response) => {
            let status = response.status().as_u16();
            // The whole body: an answer cut off halfway is a failure too.
            match response.bytes().await {
                Ok(_) => Outcome::Status(status),
                Err(e) => Outcome::Failed(format!("{status}, then the body: {e}")),
            }
        }
        Err(e) => Outcome::Failed(format!("{e:?}")),
    };
    (sale, outcome)
}

/// What a window of the load saw: how many requests, and the ones that did not get a 2xx.
pub struct Window {
    pub requests: usize,
    pub not_2xx: Vec<Request>,
    pub failed: Vec<Request>,
}

/// The requests sent from `from` to `to`.
pub fn window(requests: &[Request], from: Instant, to: Instant) -> Window {
    let inside: Vec<&Request> = requests
        .iter()
        .filter(|r| r.at >= from && r.at < to)
        .collect();
    Window {
        requests: inside.len(),
        not_2xx: inside
            .iter()
            .filter(|r| matches!(r.outcome, Outcome::Status(s) if !(200..300).contains(&s)))
            .map(|r| (*r).clone())
            .collect(),
        failed: inside
            .iter()
            .filter(|r| matches!(r.outcome, Outcome::Failed(_)))
            .map(|r| (*r).clone())
            .collect(),
    }
}

/// The sale ids whose delivery was acknowledged (200), sorted.
pub fn acknowledged(requests: &[Request]) -> Vec<String> {
    let mut sales: Vec<String> = requests
        .iter()
        .filter(|r| r.outcome == Outcome::Status(200))
        .filter_map(|r| r.sale.clone())
        .collect();
    sales.sort();
    sales
}

/// Stops `load` and asserts what the whole run promises: every answer 2xx, none missing, and
/// every acknowledged delivery (sale ids starting `sale_prefix`) stored exactly once in the
/// sandbox's database. `test` names the run in what it prints.
pub fn assert_nothing_lost(
    load: Load,
    sandbox: &super::sandbox::Sandbox,
    test: &str,
    sale_prefix: &str,
) {
    // The last requests' answers arrive.
    std::thread::sleep(Duration::from_secs(1));
    let requests = load.stop();
    let all = window(&requests, requests[0].at, Instant::now());
    eprintln!(
        "{test}: in all {} requests, {} not 2xx, {} without an answer",
        all.requests,
        all.not_2xx.len(),
        all.failed.len()
    );
    assert!(all.not_2xx.is_empty() && all.failed.is_empty());
    let acknowledged = acknowledged(&requests);
    assert!(acknowledged.len() > 100, "{}", acknowledged.len());
    let stored: Vec<String> = sandbox
        .sql(
            "datatools_licenses",
            &format!(
                "select sale_id from gumroad_events where sale_id like '{sale_prefix}%' \
                 order by sale_id"
            ),
        )
        .into_iter()
        .map(|row| row[0].clone())
        .collect();
    assert_eq!(stored, acknowledged);
}

/// The root certificate file's bytes.
pub fn pem(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap()
}
