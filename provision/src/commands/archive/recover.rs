//! `dtops recover --kit FILE|-`: a lost box rebuilt on this one from the off-site copy and the
//! recovery kit alone. Nothing is written before the kit has opened the escrow and the signing
//! key in it derives the recorded public key; then provision's own list runs with three steps
//! added (the escrowed files, the restore from off-site, the wait for the replay), and Gumroad's
//! sales since a margin before the recovery point are synced. Running it again finishes what
//! an interrupted run left (the steps are provision's, idempotent; a restore that did not finish
//! is redone into a new volume).

use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{bail, Context};
use datatools_license::license::SigningKeyPair;

use super::gumroad_catch_up::sync_since;
use super::recover_steps::{marker, ArchiveRestoreStep, EscrowFilesStep, PromotedCheck};
use super::recovery_point::{archive_gap, recovered_to, ArchivedUpTo};
use crate::cli::{GlobalArgs, RecoverArgs};
use crate::commands::deployment::Deployment;
use crate::engine::{self, AppLock, Report, Task};
use crate::escrow::{object_name, Bundle, OffsiteStore, RecoveryKit, SITE_TOML};
use crate::host::Host;
use crate::site::ArchiveOffsite;
use crate::steps::{self, TlsOptions};

const DEFAULT_SITE: &str = "/etc/dtops/site.toml";

pub fn run(global: &GlobalArgs, args: &RecoverArgs) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    let kit = read_kit(&args.kit)?;
    let identity = kit.identity()?;
    let host = Host::new(global.root.clone());

    // 1. The escrow, fetched and opened in memory: a wrong kit writes nothing.
    let store = kit_store(&host, &kit)?;
    let object = object_name(&kit.stanza);
    println!(
        "recover: fetching the key escrow from {} {object}",
        store.name()
    );
    let ciphertext = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(store.get(&object))?
        .with_context(|| {
            format!(
                "there is no key escrow at {} {object}: wrong location in the kit, or the box never \
                 copied one (dtops escrow init)",
                store.name()
            )
        })?;
    let bundle =
        Bundle::decrypt(&ciphertext, &identity).context("nothing was written on this box")?;
    println!(
        "recover: the escrow of {} from {} opened ({} files)",
        bundle.app,
        bundle.created_at.format("%Y-%m-%d %H:%M:%S UTC"),
        bundle.files.len()
    );
    let public = check_signing_key(&bundle)?;
    println!("recover: the signing key derives the recorded public key {public}");
    if args.check {
        return super::recover_check::run(global, &bundle, started);
    }

    // 2. site.toml where dtops reads it.
    let site_out = args
        .site_out
        .clone()
        .or_else(|| global.site.clone())
        .unwrap_or_else(|| PathBuf::from(DEFAULT_SITE));
    write_site_toml(&site_out, &bundle)?;
    let global = GlobalArgs {
        site: Some(site_out.clone()),
        ..global.clone()
    };
    let deployment = Deployment::open(&global)?;
    let (site, runtime) = (&deployment.site, deployment.runtime.as_ref());
    let env = deployment.env();
    crate::runtime::archive(&env)?;

    // 3. A live database here is refused unless told (the restore replaces it).
    let restore_started = env.host.state(&marker(site, "restoring"))?.is_some()
        || env.host.state(&marker(site, "restored"))?.is_some();
    if runtime.volume_exists(&env)? && !restore_started {
        if !args.replace_database {
            bail!(
                "this box already has a database ({}): recover refuses to replace it. If it \
                 holds nothing to keep, add --replace-database",
                runtime.volume_description(&env)
            );
        }
        println!(
            "recover: --replace-database: removing {}",
            runtime.volume_description(&env)
        );
        runtime.down(&env, true)?;
    }

    // 4. Provision's list with the recovery's steps in their places.
    let _lock = AppLock::acquire(&deployment.host, site)?;
    let ctx = deployment.ctx(false);
    for value in bundle.secret_values() {
        ctx.add_secret(&value);
    }
    let bundle = Arc::new(bundle);
    let mut tasks =
        steps::provision_steps(site, global.templates.as_deref(), TlsOptions::default())?;
    insert_before(
        &mut tasks,
        "secret pg_password",
        Task::step(EscrowFilesStep(bundle.clone())),
    )?;
    // The database volume restored before Postgres first starts on it, and replayed before the
    // migrations and the api's slot touch it.
    insert_before(&mut tasks, "database", Task::step(ArchiveRestoreStep))?;
    insert_after(&mut tasks, "database", Task::check(PromotedCheck))?;
    let mut report = Report::stdout();
    report.note(&format!(
        "recovering {} into {} with {}:",
        site.app.name,
        site.root().display(),
        runtime.name()
    ));
    let ok = engine::converge(&ctx, &tasks, &mut report);
    report.summary(false);
    if !ok {
        bail!("recover stopped at the failed step above; fix it and run the same command again (it resumes)");
    }

    // 5. What was recovered, and Gumroad's sales since before it.
    let point = recovered_to(&env);
    let archived = env
        .host
        .read(&marker(site, "restored"))?
        .map(|b| ArchivedUpTo::from_record(&String::from_utf8_lossy(&b)))
        .unwrap_or_default();
    let gap = archive_gap(&env, &archived);
    let synced = sync_since(&env, point, args.sync_margin_hours);
    let elapsed = started.elapsed();
    println!("\nrecover: done in {:.0} s (RTO)", elapsed.as_secs_f64());
    match point {
        Some(at) => println!(
            "recover: recovery point {} (the last transaction archived off-site; {} s ago). \
             Anything written after it is not in the database (RPO)",
            at.format("%Y-%m-%d %H:%M:%S%.3f UTC"),
            (chrono::Utc::now() - at).num_seconds()
        ),
        None => println!("recover: recovery point unknown (Postgres' log did not say)"),
    }
    if let Some(gap) = gap {
        println!("recover: {gap}");
    }
    println!(
        "recover: restored the database and {} escrowed file(s); the signing key is {public}",
        bundle.files.len() - 1
    );
    println!("{synced}");
    Ok(ExitCode::SUCCESS)
}

fn read_kit(path: &std::path::Path) -> anyhow::Result<RecoveryKit> {
    let text = if path.as_os_str() == "-" {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .context("cannot read the recovery kit from standard input")?;
        text
    } else {
        std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the recovery kit {}", path.display()))?
    };
    RecoveryKit::parse(&text)
}

fn kit_store(host: &Host, kit: &RecoveryKit) -> anyhow::Result<OffsiteStore> {
    let (ca, dir) = match &kit.offsite {
        ArchiveOffsite::S3 { ca_file, .. } => (
            match ca_file {
                Some(path) => Some(host.read(path.as_path())?.with_context(|| {
                    format!("the kit names the CA bundle {path}, which is not on this box: put it there")
                })?),
                None => None,
            },
            None,
        ),
        ArchiveOffsite::Dir { path } => (None, Some(host.path(path.as_path()))),
    };
    OffsiteStore::new(&kit.offsite, kit.credentials(), ca, dir)
}

/// The escrowed signing key must derive the public key recorded with it (desktop builds trust
/// that one): the public key.
fn check_signing_key(bundle: &Bundle) -> anyhow::Result<String> {
    let seed = bundle
        .files
        .get("secrets/license_privkey")
        .context("the escrow holds no secrets/license_privkey")?;
    let pair = SigningKeyPair::from_seed_hex(String::from_utf8_lossy(seed).trim())
        .map_err(|e| anyhow::anyhow!("the escrowed signing key is not valid: {e}"))?;
    let public = pair.public_hex();
    if let Some(recorded) = &bundle.license_pubkey {
        if *recorded != public {
            bail!(
                "the escrowed signing key derives {public}, but the escrow recorded {recorded}: \
                 it is not the key desktop builds trust; nothing was written"
            );
        }
    }
    Ok(public)
}

fn write_site_toml(path: &std::path::Path, bundle: &Bundle) -> anyhow::Result<()> {
    let text = bundle
        .files
        .get(SITE_TOML)
        .context("the escrow holds no site.toml")?;
    match std::fs::read(path) {
        Ok(have) if have == *text => return Ok(()),
        Ok(_) => bail!(
            "{} exists and differs from the escrowed site.toml; move it away (or name another \
             file with --site-out) and run recover again",
            path.display()
        ),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    crate::host::replace_file(path, text, 0o644, None)
        .with_context(|| format!("cannot write {}", path.display()))?;
    println!("recover: wrote {}", path.display());
    Ok(())
}

fn position(tasks: &[Task], name: &str) -> anyhow::Result<usize> {
    tasks
        .iter()
        .position(|t| t.name() == name)
        .with_context(|| format!("provision's list has no step {name:?}"))
}

fn insert_before(tasks: &mut Vec<Task>, name: &str, task: Task) -> anyhow::Result<()> {
    let at = position(tasks, name)?;
    tasks.insert(at, task);
    Ok(())
}

fn insert_after(tasks: &mut Vec<Task>, name: &str, task: Task) -> anyhow::Result<()> {
    let at = position(tasks, name)?;
    tasks.insert(at + 1, task);
    Ok(())
}
