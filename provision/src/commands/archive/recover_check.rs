//! `dtops recover --kit FILE|- --check`: the quarterly drill, on the live box, changing nothing
//! there. It proves what a recovery would need: the kit opens the off-site escrow (already done
//! by the caller, as is the signing-key check), the escrow holds this box's secrets, key history
//! and site.toml as they are now, and the database restores from the off-site repository alone:
//! into a scratch volume, replayed by a one-off Postgres with archiving off (nothing archives
//! into the live stanza, nothing is mailed), dumped, and restored into a scratch database whose
//! tables are counted, next to the recovery point it reached.

use std::collections::BTreeSet;
use std::process::ExitCode;
use std::time::Instant;

use chrono::Utc;

use crate::backup_job::{show, Job};
use crate::cli::GlobalArgs;
use crate::commands::deployment::Deployment;
use crate::engine::AppLock;
use crate::env::Env;
use crate::escrow::Bundle;
use crate::runtime::{self, compose_command, PitrTarget};

/// The live database's licenses and Gumroad deliveries, to set beside the rebuilt copy's.
fn live_counts(env: &Env) -> anyhow::Result<String> {
    let site = env.site;
    let out = env.host.run(
        &compose_command(env)
            .args(["exec", "-T", "postgres", "psql", "-X", "-tA", "-U"])
            .arg(site.database.user.as_str())
            .arg("-d")
            .arg(site.database.name.as_str())
            .args([
                "-c",
                "select format('public.licenses %s rows, public.gumroad_events %s rows', \
                 (select count(*) from licenses), (select count(*) from gumroad_events))",
            ]),
    )?;
    Ok(out.stdout.trim().to_string())
}

pub fn run(global: &GlobalArgs, escrowed: &Bundle, started: Instant) -> anyhow::Result<ExitCode> {
    let deployment = Deployment::open(global)?;
    let env = deployment.env();
    let archive = runtime::archive(&env)?;

    // The escrow against the box, file by file (names only: never a value).
    let here = Bundle::gather(&env)?;
    let names: BTreeSet<&String> = escrowed.files.keys().chain(here.files.keys()).collect();
    let differing: Vec<String> = names
        .into_iter()
        .filter(|name| escrowed.files.get(*name) != here.files.get(*name))
        .map(|name| {
            match (
                escrowed.files.contains_key(name),
                here.files.contains_key(name),
            ) {
                (true, false) => format!("{name} (not on this box)"),
                (false, true) => format!("{name} (not in the escrow)"),
                _ => format!("{name} (changed)"),
            }
        })
        .collect();
    let escrow_current = differing.is_empty();
    if escrow_current {
        println!(
            "check: the escrow holds this box's {} file(s) as they are now",
            here.files.len()
        );
    } else {
        println!(
            "check: the escrow is OUT OF DATE ({}): a box rebuilt from it now would lack \
             that; `sudo dtops escrow push` copies it",
            differing.join(", ")
        );
    }

    // The database from the off-site repository alone.
    let _lock = AppLock::acquire(&deployment.host, &deployment.site)?;
    println!(
        "check: restoring stanza {} from {} alone into a scratch volume (archiving off)",
        archive.stanza,
        archive.offsite_name()
    );
    let work = runtime::pitr_work_dir(&env)?;
    let rebuilt = runtime::dump_at(&env, PitrTarget::NewestOffsite, &work)?;
    match rebuilt.recovered_to {
        Some(at) => println!(
            "check: the off-site copy reaches {} ({} s ago): a box lost now would lose what \
             was written since",
            at.format("%Y-%m-%d %H:%M:%S%.3f UTC"),
            (Utc::now() - at).num_seconds()
        ),
        None => println!("check: the replay did not say how far it reached (its log is above)"),
    }
    let job = Job::installed(&env, deployment.runtime.kind())?;
    let out = job.run(
        &env,
        &["check".to_string(), rebuilt.file.display().to_string()],
    )?;
    show(&out);
    if !out.success {
        anyhow::bail!(
            "the dump rebuilt from the off-site copy does not restore ({})",
            out.status
        );
    }
    match live_counts(&env) {
        Ok(counts) => println!(
            "check: the live database now: {counts} (the off-site copy lacks what was written \
             after its recovery point)"
        ),
        Err(e) => println!("check: cannot count the live database's rows: {e:#}"),
    }
    println!("check: done in {:.0} s", started.elapsed().as_secs_f64());
    Ok(if escrow_current {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
