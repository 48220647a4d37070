//! The smoke test of a new slot, before any traffic goes to it: the new server mints a license
//! through its admin API (its own port, not nginx), the blob verifies offline against the
//! public key the box publishes (what a desktop build ships), and the license is revoked again
//! ("smoke test"). /health only says the process and the database answer; this says the new
//! version signs with the right key and writes to the database. The license stays, revoked,
//! with `source_ref` `dtops-smoke:<slot>:<commit>:<time>` and the address `dtops-smoke@<licenses
//! domain>`.

use anyhow::{bail, Context};
use chrono::Utc;
use datatools_license::api::{MintRequest, RevokeRequest};
use datatools_license::license::{self, LicenseKey, TrustedKeys};
use datatools_license::products::Catalogue;

use crate::admin_client::AdminClient;
use crate::deployed::short;
use crate::desired;
use crate::env::Env;
use crate::site::Slot;

pub const REVOKE_REASON: &str = "smoke test";
/// The smoke licenses' address: `dtops-smoke@<licenses domain>`.
pub const SMOKE_MAILBOX: &str = "dtops-smoke";

/// Mint, verify, revoke on `slot`; a sentence saying what was checked. `commit`: the version
/// it runs, when known (in the license's notes and `source_ref`).
pub fn smoke_test(env: &Env, slot: Slot, commit: Option<&str>) -> anyhow::Result<String> {
    let site = env.site;
    let public = desired::license_pubkey(env)?
        .context("secrets/license_privkey is missing: there is no key to verify against")?;
    let mut trusted = TrustedKeys::new();
    trusted.add_hex(&public).map_err(anyhow::Error::msg)?;
    let client = AdminClient::at(
        &site.slot_url(slot),
        &env.host.path(&site.secret_file("admin_token")),
    )?;
    // A tier the catalogue built into this dtops has (every version so far has had "core").
    let catalogue = Catalogue::embedded();
    let tier = if catalogue.tier("core").is_some() {
        "core".to_string()
    } else {
        catalogue
            .tier_names()
            .first()
            .map(|t| t.to_string())
            .context("the embedded products.toml has no tier")?
    };
    let version = commit.map(short).unwrap_or("native");
    let source_ref = format!(
        "dtops-smoke:{slot}:{version}:{}",
        Utc::now().format("%Y%m%dT%H%M%S%.3fZ")
    );
    let request = MintRequest {
        name: "dtops smoke test".into(),
        email: format!("{SMOKE_MAILBOX}@{}", site.domains.licenses),
        tier,
        years: None,
        perpetual: false,
        source: Some("dtops-smoke".into()),
        notes: Some(format!(
            "minted and revoked by dtops on slot {slot} ({version}) before it took traffic"
        )),
        source_ref: Some(source_ref),
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let minted = client
            .mint(&request)
            .await
            .context("the new server did not mint")?;
        let key = minted.license.license_key.clone();
        let verified = license::verify(&minted.license.blob, &trusted, Utc::now());
        let revoke = RevokeRequest {
            reason: Some(REVOKE_REASON.into()),
        };
        let revoked = match key.parse::<LicenseKey>() {
            Ok(parsed) => client.revoke(&parsed, &revoke).await.map(|_| ()),
            Err(e) => Err(anyhow::anyhow!("the minted key {key:?}: {e}")),
        }
        .with_context(|| format!("the new server did not revoke the smoke license {key}"));
        if let Err(e) = verified {
            bail!(
                "the license {key} the new server minted does not verify against the box's \
                 public key {public}: {e}"
            );
        }
        revoked?;
        Ok(format!(
            "minted {key}, its blob verifies against the box's public key, revoked (\"{REVOKE_REASON}\")"
        ))
    })
}
