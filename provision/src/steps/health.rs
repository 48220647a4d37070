//! The api answers: /health of the slot that serves within a bounded wait, then the runbook's
//! smoke test (the api and its database are fine).

use crate::engine::{Check, Ctx, Verdict};
use crate::live_slot;
use crate::runtime::{health_url, probe_health, wait_slot_healthy};

/// Waits (bounded) until the serving slot's /health answers 200.
pub struct HealthCheck;

impl Check for HealthCheck {
    fn name(&self) -> String {
        "api health".into()
    }

    fn check(&self, ctx: &Ctx) -> anyhow::Result<Verdict> {
        let slot = live_slot::read_or_blue(&ctx.env)?;
        let url = health_url(ctx.env.site, slot);
        if ctx.dry_run() {
            return Ok(match probe_health(&url) {
                Ok((200, _)) => Verdict::Ok(format!("{url} answers 200")),
                _ => Verdict::Unknown("the api is started by an earlier step".into()),
            });
        }
        let took = wait_slot_healthy(&ctx.env, ctx.runtime, slot, None)?;
        Ok(Verdict::Ok(format!(
            "{url} answers 200 (after {:.1} s)",
            took.as_secs_f32()
        )))
    }
}

/// The runbook's smoke test: /health says the api and its database are fine.
pub struct SmokeTest;

impl Check for SmokeTest {
    fn name(&self) -> String {
        "smoke test".into()
    }

    fn check(&self, ctx: &Ctx) -> anyhow::Result<Verdict> {
        let url = if ctx.runtime.running(&ctx.env)?.legacy {
            // The one api of a box from before slots, until provision moves it.
            format!("http://127.0.0.1:{}/health", ctx.env.site.ports.api)
        } else {
            health_url(ctx.env.site, live_slot::read_or_blue(&ctx.env)?)
        };
        match probe_health(&url) {
            Ok((200, body)) => {
                let json: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
                if json == serde_json::json!({"status": "ok", "db": "ok"}) {
                    Ok(Verdict::Ok(format!("{url} -> {body}")))
                } else {
                    anyhow::bail!("{url} answered 200 but {body}")
                }
            }
            _ if ctx.dry_run() => Ok(Verdict::Unknown(
                "the api is started by an earlier step".into(),
            )),
            Ok((status, body)) => anyhow::bail!("{url} answered {status}: {body}"),
            Err(e) => anyhow::bail!("{url}: {e}"),
        }
    }
}
