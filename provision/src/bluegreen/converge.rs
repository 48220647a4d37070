//! What `dtops provision` (and `cutover`, `keys rotate`, which converge the same list) makes of
//! the api's slots: the recorded slot serving, healthy, with the files as they are now.
//!
//! - Nothing runs (a fresh box, after `rollback app`): the recorded slot (blue on a fresh box)
//!   starts; there is no traffic to move.
//! - The recorded slot serves and its files changed (compose.yml, `.env`, a secret: the
//!   `RestartApi` handler), or it runs another image than the recorded one (an upgrade
//!   interrupted before its record): a blue/green change to the other slot (`rollout`).
//! - Both slots run (a change interrupted between starting the new slot and stopping the old):
//!   the recorded one stays; nginx is sent back to it first if it pointed at the other.
//! - Only the other slot runs: the recorded one is started and traffic moved back to it.
//! - The api of a box from before slots runs: a change moves it to slot blue.

use std::time::Instant;

use super::rollout::{rollout, Rollout, Serving};
use crate::deployed;
use crate::env::Env;
use crate::live_slot;
use crate::nginx::{self, Route};
use crate::runtime::{wait_slot_healthy, Runtime, RuntimeKind};
use crate::site::Slot;

/// What the slots need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Needed {
    /// As they should be; what was checked.
    Fine(String),
    /// Nothing runs: start this slot (no traffic to move).
    Start(Slot),
    /// A blue/green change.
    Roll {
        from: Serving,
        to: Slot,
        why: String,
    },
    /// Both slots run: the stray one goes.
    StopStray { live: Slot, stray: Slot },
    /// Slots run but none is recorded: record the one nginx sends traffic to.
    Adopt(Slot),
}

impl Needed {
    /// The change as a sentence (`None` when nothing is needed).
    pub fn summary(&self, env: &Env) -> Option<String> {
        let port = |slot: Slot| env.site.slot_port(slot);
        Some(match self {
            Needed::Fine(_) => return None,
            Needed::Start(slot) => {
                format!("start the api in slot {slot} (127.0.0.1:{})", port(*slot))
            }
            Needed::Roll { from, to, why } => format!(
                "{why}: start slot {to} (127.0.0.1:{}) beside {from}, check its health and a \
                 signed license there, switch nginx to it, drain and stop {from}",
                port(*to)
            ),
            Needed::StopStray { live, stray } => format!(
                "stop slot {stray}, left running by an interrupted change (slot {live} is the \
                 recorded one; nginx goes back to it first if it points at {stray})"
            ),
            Needed::Adopt(slot) => format!(
                "record slot {slot} as the one serving (nginx sends traffic to it; the record \
                 was missing)"
            ),
        })
    }
}

/// What the slots need; `restart_owed`: the api's files changed since it started.
pub fn assess(env: &Env, runtime: &dyn Runtime, restart_owed: bool) -> anyhow::Result<Needed> {
    let running = runtime.running(env)?;
    if running.legacy {
        return Ok(Needed::Roll {
            from: Serving::Legacy,
            to: Slot::Blue,
            why: "move the api to blue/green slots".into(),
        });
    }
    let Some(live) = live_slot::read(env)? else {
        return Ok(match Slot::ALL.into_iter().find(|s| running.slot(*s)) {
            None => Needed::Start(Slot::Blue),
            Some(first) => {
                let pointed = nginx::upstream_on_disk(env)?
                    .and_then(|port| {
                        Slot::ALL
                            .into_iter()
                            .find(|s| env.site.slot_port(*s) == port)
                    })
                    .filter(|s| running.slot(*s));
                Needed::Adopt(pointed.unwrap_or(first))
            }
        });
    };
    let other = live.other();
    Ok(match (running.slot(live), running.slot(other)) {
        (true, true) => Needed::StopStray { live, stray: other },
        (false, false) => Needed::Start(live),
        (false, true) => Needed::Roll {
            from: Serving::Slot(other),
            to: live,
            why: format!("slot {other} runs but slot {live} is the recorded one"),
        },
        (true, false) => {
            if let Some(why) = stale(env, runtime, live, restart_owed)? {
                Needed::Roll {
                    from: Serving::Slot(live),
                    to: other,
                    why,
                }
            } else {
                Needed::Fine(format!(
                    "slot {live} (127.0.0.1:{}) serves; slot {other} is stopped",
                    env.site.slot_port(live)
                ))
            }
        }
    })
}

/// Why the serving slot must be replaced, if it must.
fn stale(
    env: &Env,
    runtime: &dyn Runtime,
    live: Slot,
    restart_owed: bool,
) -> anyhow::Result<Option<String>> {
    if restart_owed {
        return Ok(Some(
            "apply the api's changed settings (compose file, .env or secrets)".into(),
        ));
    }
    if runtime.kind() == RuntimeKind::Compose {
        let recorded = deployed::api_image(env)?;
        if let Some(process) = runtime.slot_process(env, live)? {
            if process.image != recorded {
                return Ok(Some(format!(
                    "slot {live} runs {}, not the recorded {recorded} (an interrupted upgrade?): \
                     put the recorded version back",
                    process.image
                )));
            }
        }
    }
    Ok(None)
}

/// Does what `assess` found, until the slots are as they should be; what was done.
pub fn apply(
    env: &Env,
    runtime: &dyn Runtime,
    mut needed: Needed,
    restart_owed: bool,
    say: &mut dyn FnMut(String),
) -> anyhow::Result<String> {
    let mut done = Vec::new();
    // Each pass settles one thing; a stray stopped or a slot adopted may leave a change owed.
    for _ in 0..3 {
        match needed {
            Needed::Fine(detail) => {
                if done.is_empty() {
                    done.push(detail);
                }
                break;
            }
            Needed::Start(slot) => {
                let started = Instant::now();
                runtime.start_slot(env, slot, None)?;
                wait_slot_healthy(env, runtime, slot, None)?;
                live_slot::write(env, slot)?;
                done.push(format!(
                    "started the api in slot {slot} (127.0.0.1:{}; healthy after {:.1} s)",
                    env.site.slot_port(slot),
                    started.elapsed().as_secs_f32()
                ));
                break;
            }
            Needed::Roll { from, to, why } => {
                let commit = deployed::read(env)?.map(|d| d.commit);
                let done_now = rollout(
                    env,
                    runtime,
                    &Rollout {
                        from,
                        to,
                        image: None,
                        commit: commit.as_deref(),
                        record: None,
                    },
                    say,
                )?;
                done.push(format!(
                    "{why}: slot {to} serves ({}){}",
                    done_now.timings(),
                    done_now
                        .notes
                        .iter()
                        .map(|n| format!("; {n}"))
                        .collect::<String>()
                ));
                break;
            }
            Needed::StopStray { live, stray } => {
                stop_stray(env, runtime, live, stray, say)?;
                done.push(format!("stopped slot {stray}; slot {live} serves"));
                // The files may still have changed since the recorded slot started.
                needed = assess(env, runtime, restart_owed)?;
            }
            Needed::Adopt(slot) => {
                live_slot::write(env, slot)?;
                done.push(format!("recorded slot {slot} as the one serving"));
                needed = assess(env, runtime, false)?;
            }
        }
    }
    Ok(done.join("; "))
}

/// The recorded slot stays: it must be healthy; nginx goes back to it if it pointed at the
/// stray (a change interrupted after its switch); then the stray stops.
fn stop_stray(
    env: &Env,
    runtime: &dyn Runtime,
    live: Slot,
    stray: Slot,
    say: &mut dyn FnMut(String),
) -> anyhow::Result<()> {
    wait_slot_healthy(env, runtime, live, None).map_err(|e| {
        e.context(format!(
            "slot {live} is the recorded one but is not healthy, and slot {stray} runs too; \
             look at both (`dtops status`) before anything is stopped"
        ))
    })?;
    let phase = nginx::phase_on_disk(env)?;
    if let (true, Some(phase)) = (env.site.nginx.managed, phase) {
        if nginx::upstream_on_disk(env)? == Some(env.site.slot_port(stray)) {
            say(format!("sending nginx back to slot {live}"));
            let route = Route {
                port: env.site.slot_port(live),
                door: true,
            };
            nginx::switch(env, phase, route)?;
        }
    }
    say(format!("stopping slot {stray}"));
    runtime.stop_slot(env, stray)
}
