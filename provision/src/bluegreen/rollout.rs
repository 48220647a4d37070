//! One blue/green change: the new version starts on the idle slot beside the serving one, is
//! checked there directly (health, then a signed license minted, verified and revoked), nginx is
//! switched to it (`nginx::switch`: test, graceful reload, the old workers' drain), the change
//! is recorded, and the old slot is stopped (SIGTERM: it answers what it accepted, then exits).
//!
//! Until the switch the old version serves untouched; any failure before it (the new slot does
//! not start, is unhealthy, fails the smoke test, nginx refuses the switched configuration, or
//! its port is taken) stops the new slot and leaves everything as it was.

use std::net::TcpListener;
use std::time::{Duration, Instant};

use anyhow::Context;

use super::smoke::smoke_test;
use crate::env::Env;
use crate::nginx::{self, Route, Switched};
use crate::runtime::{wait_slot_healthy, Runtime};
use crate::site::Slot;

/// What serves before the change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Serving {
    Slot(Slot),
    /// The one api of a box provisioned before slots (on `ports.api`).
    Legacy,
}

impl std::fmt::Display for Serving {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Serving::Slot(slot) => write!(f, "slot {slot}"),
            Serving::Legacy => f.write_str("the api from before slots"),
        }
    }
}

/// One change to make.
pub struct Rollout<'a> {
    pub from: Serving,
    pub to: Slot,
    /// The image the new slot runs (compose); `None`: the one `.env` names.
    pub image: Option<&'a str>,
    /// The commit it was built from, when known (the smoke license names it).
    pub commit: Option<&'a str>,
    /// Records the new version once traffic went to it, before the live slot is recorded
    /// (`dtops upgrade`: the deployed image).
    pub record: Option<&'a dyn Fn() -> anyhow::Result<()>>,
}

/// What a change did, and how long each part took.
#[derive(Debug)]
pub struct Done {
    pub to: Slot,
    /// From starting the new slot to its first healthy answer.
    pub healthy: Duration,
    pub smoke: String,
    pub smoke_took: Duration,
    /// The nginx switch (`None`: nginx is not ours to switch, or has no site yet).
    pub switched: Option<Switched>,
    /// Stopping the old slot: its own drain and exit.
    pub stop: Duration,
    pub total: Duration,
    /// Things a person should know (nginx not managed, the old slot did not stop).
    pub notes: Vec<String>,
}

impl Done {
    /// One line of timings.
    pub fn timings(&self) -> String {
        let (switch, drain) = match &self.switched {
            Some(s) => (
                format!("{:.2} s", s.switch.as_secs_f32()),
                format!("{:.2} s", s.drain.as_secs_f32()),
            ),
            None => ("none".into(), "none".into()),
        };
        format!(
            "healthy after {:.1} s, smoke test {:.1} s, nginx switch {switch}, nginx drain \
             {drain}, old slot stopped in {:.1} s; {:.1} s in all",
            self.healthy.as_secs_f32(),
            self.smoke_took.as_secs_f32(),
            self.stop.as_secs_f32(),
            self.total.as_secs_f32()
        )
    }
}

/// Runs `change` (see the module comment). `say` gets a line per stage. An error means traffic
/// never moved: the old version serves as before.
pub fn rollout(
    env: &Env,
    runtime: &dyn Runtime,
    change: &Rollout,
    say: &mut dyn FnMut(String),
) -> anyhow::Result<Done> {
    let started = Instant::now();
    let to = change.to;
    let port = env.site.slot_port(to);
    // A leftover of an interrupted change there takes no traffic (the caller made sure).
    if runtime.running(env)?.slot(to) {
        say(format!(
            "stopping slot {to} (left from an interrupted change)"
        ));
        runtime.stop_slot(env, to)?;
    }
    if TcpListener::bind(("127.0.0.1", port)).is_err() {
        anyhow::bail!(
            "127.0.0.1:{port} ({}, slot {to}) is in use by another process; stop it or choose \
             another port in site.toml (`ss -ltnp 'sport = :{port}'` shows who). Nothing was \
             changed: {} serves as before",
            to.port_key(),
            change.from
        );
    }
    say(format!(
        "starting slot {to} (127.0.0.1:{port}) beside {}",
        change.from
    ));
    let checked = start_and_check(env, runtime, change);
    let (healthy, smoke, smoke_took) = match checked {
        Ok(done) => done,
        Err(e) => {
            let _ = runtime.stop_slot(env, to);
            anyhow::bail!(
                "{e:#}\nslot {to} was stopped again; traffic never moved: {} serves as before",
                change.from
            );
        }
    };
    say(format!(
        "slot {to} is healthy (after {:.1} s); smoke test: {smoke}",
        healthy.as_secs_f32()
    ));

    let mut notes = Vec::new();
    let switched = match switch_nginx(env, change) {
        Ok(switched) => switched,
        Err(e) => {
            let _ = runtime.stop_slot(env, to);
            anyhow::bail!(
                "{e:#}\nslot {to} was stopped again; {} serves as before",
                change.from
            );
        }
    };
    match &switched {
        Some(s) if s.changes.is_empty() => say(format!("nginx already sends traffic to slot {to}")),
        Some(s) => {
            say(format!(
                "nginx sends traffic to slot {to} (switched in {:.2} s; its old workers were \
                 done after {:.2} s)",
                s.switch.as_secs_f32(),
                s.drain.as_secs_f32()
            ));
            notes.extend(s.note.clone());
        }
        None if env.site.nginx.managed => {}
        None => notes.push(format!(
            "nginx is not managed by dtops (nginx.managed = false): point your proxy at \
             127.0.0.1:{port}, or at an upstream with both slots' ports (ADMIN.md \"Upgrading\")"
        )),
    }
    if let Some(record) = change.record {
        record().context("recording the new version")?;
    }
    crate::live_slot::write(env, to)?;

    let stopping = Instant::now();
    let stopped = match change.from {
        Serving::Slot(slot) => {
            say(format!(
                "stopping slot {slot} (it answers what it accepted first)"
            ));
            runtime.stop_slot(env, slot)
        }
        Serving::Legacy => {
            say("stopping the api from before slots".into());
            runtime.stop_legacy_api(env)
        }
    };
    if let Err(e) = stopped {
        notes.push(format!(
            "{} did not stop ({e:#}); slot {to} serves, and the next `dtops provision` stops it",
            change.from
        ));
    }
    Ok(Done {
        to,
        healthy,
        smoke,
        smoke_took,
        switched,
        stop: stopping.elapsed(),
        total: started.elapsed(),
        notes,
    })
}

/// Starts the new slot, waits for its health, runs the smoke test on it.
fn start_and_check(
    env: &Env,
    runtime: &dyn Runtime,
    change: &Rollout,
) -> anyhow::Result<(Duration, String, Duration)> {
    let to = change.to;
    let started = Instant::now();
    runtime
        .start_slot(env, to, change.image)
        .with_context(|| format!("slot {to} did not start"))?;
    wait_slot_healthy(env, runtime, to, change.image)
        .with_context(|| format!("slot {to} did not become healthy"))?;
    let healthy = started.elapsed();
    let smoking = Instant::now();
    let smoke = smoke_test(env, to, change.commit)
        .with_context(|| format!("slot {to} failed the smoke test"))?;
    Ok((healthy, smoke, smoking.elapsed()))
}

/// Points nginx at the new slot when nginx is ours and our site is in place; a failure after
/// nginx took the new configuration (the door answers from elsewhere) switches back first.
fn switch_nginx(env: &Env, change: &Rollout) -> anyhow::Result<Option<Switched>> {
    if !env.site.nginx.managed {
        return Ok(None);
    }
    let Some(phase) = nginx::phase_on_disk(env)? else {
        // A fresh box: the nginx steps write the site with the recorded slot.
        return Ok(None);
    };
    // The door on ports.api only once the api from before slots has left it.
    let door = change.from != Serving::Legacy;
    let route = Route {
        port: env.site.slot_port(change.to),
        door,
    };
    match nginx::switch(env, phase, route) {
        Ok(switched) => Ok(Some(switched)),
        Err(e) => {
            let back = match change.from {
                Serving::Slot(slot) => env.site.slot_port(slot),
                Serving::Legacy => env.site.ports.api,
            };
            if nginx::upstream_on_disk(env)? == Some(route.port) {
                let route = Route { port: back, door };
                if let Err(again) = nginx::switch(env, phase, route) {
                    return Err(anyhow::Error::new(e).context(format!(
                        "and switching nginx back to 127.0.0.1:{back} failed too: {again}"
                    )));
                }
            }
            Err(anyhow::Error::new(e).context("nginx was not switched"))
        }
    }
}
