//! `dtops escrow init [--rekey] [--kit-out FILE]` and `dtops escrow push [--force]`.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{bail, Context};
use toml_edit::{value, DocumentMut};

use crate::cli::GlobalArgs;
use crate::commands::deployment::Deployment;
use crate::engine::AppLock;
use crate::escrow::{self, RecoveryKit};
use crate::runtime;
use crate::site::{S3_KEY_ID, S3_SECRET};

pub fn init(global: &GlobalArgs, rekey: bool, kit_out: Option<&Path>) -> anyhow::Result<ExitCode> {
    let deployment = Deployment::open(global)?;
    let env = deployment.env();
    let archive = runtime::archive(&env)?;
    if archive.escrow_recipient.is_some() && !rekey {
        bail!(
            "[archive] escrow_recipient is already set: a recovery kit exists. `dtops escrow init \
             --rekey` makes a new one (the old kit then opens no new copy); `dtops escrow push` \
             copies the escrow again"
        );
    }
    // Nothing to escrow before provision made the secrets (the signing key above all).
    if crate::desired::license_pubkey(&env)?.is_none() {
        bail!(
            "there is no signing key on this box yet: run `dtops provision` first (it makes the \
             secrets the escrow keeps), then `dtops escrow init`"
        );
    }
    let secret = |name: &str| -> anyhow::Result<Option<String>> {
        Ok(env
            .host
            .read(&env.site.secret_file(name))?
            .map(|b| String::from_utf8_lossy(&b).trim().to_string()))
    };
    let credentials = match (secret(S3_KEY_ID)?, secret(S3_SECRET)?) {
        (Some(key), Some(value)) => Some((key, value)),
        _ if matches!(archive.offsite, crate::site::ArchiveOffsite::S3 { .. }) => bail!(
            "the off-site S3 key is not on the box yet: `dtops archive credentials --stdin` \
             first (the kit carries it, so a new box can read the off-site copy)"
        ),
        _ => None,
    };
    let _lock = AppLock::acquire(&deployment.host, &deployment.site)?;
    let (_identity, secret_line, recipient) = crate::escrow::new_identity();
    let kit = RecoveryKit::new(
        env.site.app.name.as_str(),
        archive.stanza.as_str(),
        secret_line,
        credentials,
        archive.offsite.clone(),
    )
    .to_text()?;
    // The kit goes out before anything can fail: a box that records the recipient without
    // the operator holding the identity would escrow into nothing.
    match kit_out {
        Some(path) => {
            use std::os::unix::fs::OpenOptionsExt;
            let mut file = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(path)
                .with_context(|| format!("cannot create {} (it must not exist)", path.display()))?;
            file.write_all(kit.as_bytes())?;
            println!(
                "escrow: the recovery kit is in {} (0600). Move it OFF this box now (a password \
                 manager, or print it), then delete it here",
                path.display()
            );
        }
        None => {
            println!("{kit}");
            println!(
                "escrow: the recovery kit above is shown ONCE and is not stored on this box. Keep \
                 it in a password manager or on paper, away from the box"
            );
        }
    }
    let site_file = global.site_file()?;
    set_recipient(&site_file, &recipient)?;
    println!(
        "escrow: {} now says escrow_recipient = {recipient}",
        site_file.display()
    );
    drop(deployment);
    let deployment = Deployment::open(global)?;
    match escrow::push_if_changed(&deployment.env(), true)? {
        Some(done) => println!("{done}"),
        None => println!("escrow: nothing to copy"),
    }
    Ok(ExitCode::SUCCESS)
}

pub fn push(global: &GlobalArgs, force: bool) -> anyhow::Result<ExitCode> {
    let deployment = Deployment::open(global)?;
    let env = deployment.env();
    runtime::archive(&env)?;
    let _lock = AppLock::acquire(&deployment.host, &deployment.site)?;
    match escrow::push_if_changed(&env, force)? {
        Some(done) => println!("{done}"),
        None => println!("escrow: the off-site copy is current; nothing copied"),
    }
    Ok(ExitCode::SUCCESS)
}

/// `[archive] escrow_recipient = "age1..."` in site.toml (comments kept), checked, atomic.
fn set_recipient(path: &Path, recipient: &str) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut doc: DocumentMut = text
        .parse()
        .with_context(|| format!("{} is not valid TOML", path.display()))?;
    doc["archive"]["escrow_recipient"] = value(recipient);
    let new = doc.to_string();
    crate::site::Site::parse(&new, &path.display().to_string())
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let mode = std::fs::metadata(path)?.permissions().mode() & 0o7777;
    crate::host::replace_file(path, new.as_bytes(), mode, None)
        .with_context(|| format!("cannot replace {}", path.display()))
}
