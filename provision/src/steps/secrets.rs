//! Secret files under secrets/ (SETUP-LICENSE-SERVER.md §4): created only when absent, from the
//! OS RNG, with mode 0400 and the container's uid set before the first byte is written; never
//! regenerated, never printed.

use std::path::PathBuf;

use datatools_license::license::SigningKeyPair;

use crate::engine::{Change, Ctx, Handler, Plan, Step};
use crate::owner::Owner;

const MODE: u32 = 0o400;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretKind {
    /// 32 random bytes as 64 lowercase hex characters, no trailing newline.
    RandomHex,
    /// An Ed25519 signing key: its 32-byte seed as 64 hex characters.
    SigningKey,
    /// A token from another service, given by the operator (`how` says with which command;
    /// `THAT_FILE` in it stands for the file); never generated: its absence stops the run.
    Given { how: &'static str },
}

pub struct SecretStep {
    name: &'static str,
    kind: SecretKind,
}

impl SecretStep {
    pub fn new(name: &'static str, kind: SecretKind) -> Self {
        SecretStep { name, kind }
    }

    fn path(&self, ctx: &Ctx) -> PathBuf {
        ctx.env.site.secret_file(self.name)
    }
}

impl Step for SecretStep {
    fn name(&self) -> String {
        format!("secret {}", self.name)
    }

    fn plan(&self, ctx: &Ctx) -> anyhow::Result<Plan> {
        let path = self.path(ctx);
        let owner = Owner::Container.ownership(&ctx.env, MODE)?;
        let Some(state) = ctx.env.host.state(&path)? else {
            let what = match self.kind {
                SecretKind::RandomHex => "64 random hex characters",
                SecretKind::SigningKey => "a new Ed25519 signing key",
                SecretKind::Given { how } => {
                    anyhow::bail!(
                        "{} does not exist; write it with `{}`",
                        path.display(),
                        how.replace("THAT_FILE", &path.display().to_string())
                    )
                }
            };
            return Ok(Plan::Change(
                Change::new(format!(
                    "create {}: {what}, mode 0400, owner uid {} (the value is never shown)",
                    path.display(),
                    owner.uid
                ))
                .notifying(Handler::RestartApi),
            ));
        };
        let content = ctx.env.host.read(&path)?.unwrap_or_default();
        let value = String::from_utf8_lossy(&content).trim().to_string();
        if value.is_empty() {
            anyhow::bail!(
                "{} exists but is empty. dtops never regenerates an existing secret: write the \
                 value into it, or remove the file to have a new one generated (pg_password: only \
                 before the database first started, since Postgres keeps its first password)",
                path.display()
            );
        }
        ctx.add_secret(&value);
        if self.kind == SecretKind::SigningKey {
            SigningKeyPair::from_seed_hex(&value)
                .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        }
        let have = state.ownership;
        if (have.uid, have.gid, have.mode) != (owner.uid, owner.gid, owner.mode) {
            return Ok(Plan::Change(
                Change::new(format!(
                    "set {} to {owner} (it is {have}); the content is kept",
                    path.display()
                ))
                .notifying(Handler::RestartApi),
            ));
        }
        Ok(Plan::Ok(format!(
            "{} present ({owner}); value not shown",
            path.display()
        )))
    }

    fn apply(&self, ctx: &Ctx, _change: &Change) -> anyhow::Result<String> {
        let path = self.path(ctx);
        let own = Owner::Container.ownership(&ctx.env, MODE)?;
        if ctx.env.host.state(&path)?.is_some() {
            ctx.env.host.set_ownership(&path, own)?;
            return Ok(format!("{} is now {own}; content kept", path.display()));
        }
        let (value, detail) = match self.kind {
            SecretKind::RandomHex => (random_hex()?, "64 random hex characters".to_string()),
            SecretKind::Given { how } => {
                anyhow::bail!(
                    "{} does not exist; write it with `{}`",
                    path.display(),
                    how.replace("THAT_FILE", &path.display().to_string())
                )
            }
            SecretKind::SigningKey => {
                let pair = SigningKeyPair::generate();
                let detail = format!(
                    "Ed25519 key id {}, public key {} (goes into .env)",
                    pair.key_id(),
                    pair.public_hex()
                );
                (pair.seed_hex(), detail)
            }
        };
        ctx.add_secret(&value);
        ctx.env.host.create_new_file(&path, value.as_bytes(), own)?;
        Ok(format!("created {} ({detail}; {own})", path.display()))
    }
}

fn random_hex() -> anyhow::Result<String> {
    let mut bytes = [0u8; 32];
    getrandom::getrandom(&mut bytes).map_err(|e| anyhow::anyhow!("OS random generator: {e}"))?;
    Ok(hex::encode(bytes))
}
