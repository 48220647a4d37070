//! The blue/green switch on the shared nginx: our files rewritten with the upstream at the new
//! slot (nothing else of ours changes; no tenant's file is read or written), tested as one
//! transaction (`txn`), reloaded gracefully, checked to have taken (a new generation of workers,
//! and the loopback door answering from the new slot), then the drain: nginx's workers from
//! before the reload finish the requests they hold, which still go to the old slot. When this
//! returns, nothing reaches the old slot any more and it can be stopped.
//!
//! A reload that does not take (nginx keeps its old configuration when, say, a port it must
//! listen on is taken) puts our files back as they were: nothing changed.

use std::time::{Duration, Instant};

use super::config::reload;
use super::lock::NginxLock;
use super::phase::Route;
use super::probe::RELOAD_WAIT;
use super::site::site_entries_routed;
use super::txn::{apply_held, TxnError};
use super::workers::Master;
use crate::env::Env;
use crate::poll;
use crate::render::Phase;

/// How long the workers from before a reload may take to finish what they hold (a long upload
/// or a slow client keeps one alive; the old slot still answers meanwhile).
const DRAIN_WAIT: Duration = Duration::from_secs(30);

/// What a switch did.
#[derive(Debug)]
pub struct Switched {
    /// Our files it changed (empty: the upstream already pointed there, nothing was reloaded).
    pub changes: Vec<String>,
    /// From the first write to a verified reload.
    pub switch: Duration,
    /// From the reload until nginx's old workers were gone.
    pub drain: Duration,
    /// Something a person should know (the drain could not be watched, or ran out of time).
    pub note: Option<String>,
}

/// Points our upstream at `route` (our files for `phase`), reloads, verifies, waits for the
/// drain (see the module comment).
pub fn switch(env: &Env, phase: Phase, route: Route) -> Result<Switched, TxnError> {
    let started = Instant::now();
    let lock = NginxLock::acquire(env)?;
    let (entries, _) = site_entries_routed(env, phase, route)?;
    let master = Master::find(env);
    let before = master.as_ref().map(|m| m.children()).unwrap_or_default();
    let applied = apply_held(env, &entries)?;
    if applied.changes.is_empty() {
        return Ok(Switched {
            changes: Vec::new(),
            switch: started.elapsed(),
            drain: Duration::ZERO,
            note: None,
        });
    }
    let taken = reload(env).and_then(|()| match &master {
        Ok(master) => new_generation(*master, &before),
        // Cannot watch it: give the reload the moment it needs.
        Err(_) => {
            std::thread::sleep(Duration::from_secs(1));
            Ok(())
        }
    });
    if let Err(e) = taken {
        let restored = applied.undo(env)?;
        return Err(TxnError::Rejected {
            words: format!("{e:#}"),
            restored,
        });
    }
    let changes = applied.changes;
    if route.door {
        door_answers_from(env, route.port).map_err(|e| TxnError::Other(anyhow::anyhow!(e)))?;
    }
    let switch = started.elapsed();
    drop(lock);
    let reloaded = Instant::now();
    let note = match &master {
        Ok(master) => drained(*master, &before).err(),
        Err(why) => {
            // Without the master the old workers cannot be told apart: wait as long as they
            // may need.
            std::thread::sleep(Duration::from_secs(3));
            Some(format!(
                "{why}: nginx's old workers could not be watched; waited 3 s for them"
            ))
        }
    };
    Ok(Switched {
        changes,
        switch,
        drain: reloaded.elapsed(),
        note,
    })
}

/// Waits until the master runs a worker that was not there before the reload.
fn new_generation(master: Master, before: &std::collections::BTreeSet<u32>) -> anyhow::Result<()> {
    poll::until(RELOAD_WAIT, Duration::from_millis(20), || {
        if master.children().iter().any(|pid| !before.contains(pid)) {
            Ok(())
        } else {
            Err(())
        }
    })
    .map_err(|()| {
        anyhow::anyhow!(
            "nginx did not take the new configuration within {} s (it keeps the old one when \
             it cannot apply a new one, a port it must listen on being taken for instance: its \
             error log says why)",
            RELOAD_WAIT.as_secs()
        )
    })
}

/// Waits (bounded) until none of the workers from before the reload runs.
fn drained(master: Master, before: &std::collections::BTreeSet<u32>) -> Result<(), String> {
    poll::until(DRAIN_WAIT, Duration::from_millis(20), || {
        let now = master.children();
        if before.iter().any(|pid| now.contains(pid)) {
            Err(())
        } else {
            Ok(())
        }
    })
    .map_err(|()| {
        format!(
            "nginx's workers from before the reload still held requests after {} s (the old \
             slot answers them until it stops)",
            DRAIN_WAIT.as_secs()
        )
    })
}

/// The door (`127.0.0.1:<ports.api>`) answers /health through the new slot.
fn door_answers_from(env: &Env, port: u16) -> Result<(), String> {
    let url = format!("http://127.0.0.1:{}/health", env.site.ports.api);
    let want = format!("127.0.0.1:{port}");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    poll::until(RELOAD_WAIT, Duration::from_millis(100), || {
        runtime.block_on(async {
            let response = reqwest::Client::new()
                .get(&url)
                .timeout(Duration::from_secs(5))
                .send()
                .await
                .map_err(|e| format!("{url}: {e}"))?;
            let upstream = response
                .headers()
                .get("x-dtops-upstream")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_string();
            match (response.status().as_u16(), upstream == want) {
                (200, true) => Ok(()),
                (status, _) => Err(format!(
                    "{url} answered {status} from {upstream:?}, not 200 from {want} \
                     (another server may hold 127.0.0.1:{}: `ss -ltnp 'sport = :{}'`)",
                    env.site.ports.api, env.site.ports.api
                )),
            }
        })
    })
}
