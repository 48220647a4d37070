//! The host's facts the server cannot see (the backup job's state files, the certificate and
//! certbot's renewal settings, continuous archiving's repositories and the key escrow), as the `HostReport` dtops sends to `POST /internal/host-report`
//! and judges itself when the api cannot be asked.

use std::path::Path;

use chrono::{DateTime, Utc};
use datatools_license::api::{BackupFacts, BackupFailure, CertFacts, HostReport};

use crate::backup_job::{read_state, state_value};
use crate::certbot;
use crate::env::Env;

/// `archiving`: continuous archiving runs here (the compose runtime, Postgres up), so its
/// repositories can be read.
pub fn host_report(env: &Env, archiving: bool) -> HostReport {
    HostReport {
        observed_at: Utc::now(),
        backup: backup_facts(env),
        certificate: env.site.nginx.managed.then(|| cert_facts(env)),
        archive: if archiving {
            super::archive::archive_facts(env)
        } else {
            None
        },
    }
}

fn backup_facts(env: &Env) -> BackupFacts {
    let good = read_state(env, "last-good").unwrap_or_default();
    let run = read_state(env, "last-run").unwrap_or_default();
    let last_good_at = state_value(&good, "at")
        .and_then(|at| DateTime::parse_from_rfc3339(&at).ok())
        .map(|at| at.with_timezone(&Utc));
    let last_failure =
        (state_value(&run, "result").as_deref() == Some("failed")).then(|| BackupFailure {
            at: state_value(&run, "at").unwrap_or_default(),
            message: state_value(&run, "message").unwrap_or_default(),
        });
    BackupFacts {
        job: env.site.backup.job.to_string(),
        last_good_at,
        last_good_file: state_value(&good, "file").map(|file| {
            Path::new(&file)
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned()
        }),
        last_failure,
        provider: env
            .site
            .external_db()
            .map(|url| format!("{}:{}", url.host, url.port)),
    }
}

fn cert_facts(env: &Env) -> CertFacts {
    let name = env.site.tls.cert_name.to_string();
    let not_after = match certbot::cert_info(env) {
        Ok(info) => info.map(|i| i.not_after),
        Err(_) => None,
    };
    let renewal_problems = match (not_after, certbot::renewal::read(env)) {
        // No certificate yet: nothing to renew (the missing certificate is the problem).
        (None, _) => Vec::new(),
        (Some(_), Ok(Some((_, found)))) => {
            certbot::renewal::drift(&found, &certbot::renewal::wanted(env))
        }
        (Some(_), Ok(None)) => vec![format!(
            "there is no renewal configuration {} (certbot will not renew it)",
            env.site.cert_renewal_conf().display()
        )],
        (Some(_), Err(e)) => vec![format!("its renewal configuration is unreadable: {e:#}")],
    };
    CertFacts {
        name,
        not_after,
        renewal_problems,
    }
}
