//! The api rows of `dtops status`: which slot serves (blue/green) and which commit each slot's
//! api runs, where nginx's upstream points, and what a run must still settle (both slots up
//! after an interrupted change, the api from before slots).

use crate::engine::Ctx;
use crate::live_slot;
use crate::nginx;
use crate::runtime::{image_info, Running, RuntimeKind};
use crate::site::Slot;

/// `slot blue (127.0.0.1:8091) serves 0123456789ab (image); green stopped (holds ...)`.
pub fn slots_line(ctx: &Ctx, running: &Running, health: &str) -> String {
    let env = &ctx.env;
    if running.legacy {
        return format!(
            "the api runs as one container on 127.0.0.1:{} (from before blue/green slots); \
             `dtops provision` moves it to slot blue without downtime; {health}",
            env.site.ports.api
        );
    }
    let live = match live_slot::read(env) {
        Ok(Some(live)) => live,
        Ok(None) => return format!("no slot recorded yet (`dtops provision`); {health}"),
        Err(e) => return format!("{e:#}"),
    };
    let mut parts = Vec::new();
    for slot in [live, live.other()] {
        let port = env.site.slot_port(slot);
        let version = version_of(ctx, slot);
        let text = match (slot == live, running.slot(slot)) {
            (true, true) => format!("slot {slot} (127.0.0.1:{port}) serves {version}; {health}"),
            (true, false) => format!(
                "slot {slot} (127.0.0.1:{port}) is recorded as serving but NOT running \
                 (`dtops provision` starts it)"
            ),
            (false, true) => format!(
                "slot {slot} (127.0.0.1:{port}) runs {version} TOO (an interrupted change: \
                 `dtops provision` stops it)"
            ),
            (false, false) => match version.as_str() {
                "" => format!("{slot} idle"),
                held => format!("{slot} stopped (last ran {held})"),
            },
        };
        parts.push(text);
    }
    if env.site.nginx.managed {
        match nginx::upstream_on_disk(env) {
            Ok(Some(port)) if port != env.site.slot_port(live) => parts.push(format!(
                "nginx's upstream points at 127.0.0.1:{port}, NOT slot {live} \
                 (`dtops provision` sends it back)"
            )),
            _ => {}
        }
    }
    parts.join("; ")
}

/// The commit (and image) a slot's api runs, or ran last; empty when it never ran.
fn version_of(ctx: &Ctx, slot: Slot) -> String {
    let process = match ctx.runtime.slot_process(&ctx.env, slot) {
        Ok(Some(process)) => process,
        _ => return String::new(),
    };
    if ctx.runtime.kind() == RuntimeKind::Native {
        return process.image;
    }
    match image_info(&ctx.env, &process.image) {
        Ok(Some(info)) => match info.revision {
            Some(commit) => format!("{} ({})", &commit[..12.min(commit.len())], process.image),
            None => process.image,
        },
        _ => process.image,
    }
}
