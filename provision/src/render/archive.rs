//! Continuous archiving's files (`[archive]`): the Postgres image with pgBackRest (Dockerfile
//! and entrypoint, tagged by their content), pgbackrest.conf, the daily cron file, and what
//! compose.yml's postgres service needs to run archiving.

use std::path::Path;

use serde::Serialize;
use sha2::{Digest, Sha256};

use super::artifact::{Artifact, ArtifactKind, RenderInputs};
use super::status_job::{cron_word, dtops_command};
use super::templates::Renderer;
use crate::owner::Owner;
use crate::site::{Archive, ArchiveOffsite, Site};

/// Where the off-site CA (`[archive] offsite.ca_file`) is copied, next to pgbackrest.conf.
pub const OFFSITE_CA_FILE: &str = "offsite-ca.pem";
/// The archive's directory (pgbackrest.conf, the CA) as the container sees it: a directory
/// mount, so a file dtops replaces (a new inode) is what pgBackRest reads on its next run; a
/// single-file mount would keep showing the old one until the container is recreated.
const CONFIG_MOUNT: &str = "/etc/pgbackrest/dtops";
/// Where the entrypoint writes the secrets' settings, inside the container.
const SECRETS_INCLUDE: &str = "/etc/pgbackrest/conf.d";
/// Where a `dir` off-site repository is mounted inside the container.
const OFFSITE_DIR_MOUNT: &str = "/var/lib/pgbackrest-offsite";

/// What compose.yml's postgres service gets when archiving is on.
#[derive(Debug, Serialize)]
pub struct ComposeArchive {
    /// The derived image, tagged by the content it is built from.
    image: String,
    /// The server's command line: archiving on, pushed by pgBackRest.
    command: Vec<String>,
    /// Secret files mounted for pgBackRest (names under secrets/).
    secrets: Vec<ComposeArchiveSecret>,
    /// `source:target[:ro]` volume lines beyond the data volume.
    volumes: Vec<String>,
    /// The named volume holding the repository on the box.
    repo_volume: String,
    /// Where pgBackRest finds its settings (every pgBackRest run in the container, the
    /// server's archive_command included, inherits it).
    environment: Vec<ComposeArchiveVar>,
}

#[derive(Debug, Serialize)]
struct ComposeArchiveVar {
    name: &'static str,
    value: String,
}

#[derive(Debug, Serialize)]
struct ComposeArchiveSecret {
    name: &'static str,
    file: String,
}

#[derive(Debug, Serialize)]
struct PgbackrestContext<'a> {
    archive: &'a Archive,
    db_user: &'a str,
    db_name: &'a str,
    ca_file: String,
}

#[derive(Debug, Serialize)]
struct ImageContext<'a> {
    base_image: &'a str,
}

#[derive(Debug, Serialize)]
struct CronContext {
    minute: u8,
    hour: u8,
    tag: String,
    command: Vec<String>,
    status_tag: String,
    status_command: Vec<String>,
}

/// The named volume of the repository on the box.
pub fn repo_volume(site: &Site) -> String {
    format!("{}_archive", site.database.volume)
}

/// The derived image's tag for this site (the Dockerfile and entrypoint as rendered).
pub fn db_image(site: &Site, dockerfile: &str, entrypoint: &str) -> String {
    let mut hash = Sha256::new();
    hash.update(dockerfile.as_bytes());
    hash.update([0]);
    hash.update(entrypoint.as_bytes());
    let digest = hex::encode(hash.finalize());
    format!("{}-postgres:{}", site.app.name, &digest[..12])
}

/// The archive's files, and what compose.yml's postgres service needs; nothing without
/// `[archive]`.
pub fn artifacts(
    renderer: &Renderer,
    inputs: &RenderInputs,
) -> anyhow::Result<(Vec<Artifact>, Option<ComposeArchive>)> {
    let site = inputs.site;
    let Some(archive) = &site.archive else {
        return Ok((Vec::new(), None));
    };
    let dir = site.archive_dir();
    let file = |kind: ArtifactKind, name: &str, content: String, mode: u32| Artifact {
        path: dir.join(name),
        content,
        mode,
        owner: Owner::Root,
        kind,
    };
    let dockerfile = renderer.render(
        ArtifactKind::PostgresImage.template(),
        &ImageContext {
            base_image: site.database.image.as_str(),
        },
    )?;
    let entrypoint = renderer.render(ArtifactKind::PostgresEntrypoint.template(), &())?;
    let image = db_image(site, &dockerfile, &entrypoint);
    let conf = renderer.render(
        ArtifactKind::Pgbackrest.template(),
        &PgbackrestContext {
            archive,
            db_user: site.database.user.as_str(),
            db_name: site.database.name.as_str(),
            ca_file: format!("{CONFIG_MOUNT}/{OFFSITE_CA_FILE}"),
        },
    )?;
    let mut command = dtops_command(inputs)?;
    let mut status_command = command.clone();
    command.extend(["archive".into(), "backup".into(), "--quiet".into()]);
    status_command.extend(["status".into(), "--quiet".into()]);
    let cron = renderer.render(
        ArtifactKind::ArchiveJob.template(),
        &CronContext {
            minute: 41,
            hour: archive.full_backup_hour,
            tag: format!("{}-archive", site.app.name),
            command,
            status_tag: format!("{}-status", site.app.name),
            status_command,
        },
    )?;
    let artifacts = vec![
        // Neither holds a secret; the container reads them as another uid.
        file(ArtifactKind::PostgresImage, "Dockerfile", dockerfile, 0o644),
        file(
            ArtifactKind::PostgresEntrypoint,
            "dtops-entrypoint.sh",
            entrypoint,
            0o755,
        ),
        file(ArtifactKind::Pgbackrest, "pgbackrest.conf", conf, 0o644),
        // cron.d: root's, 0644 (cron ignores a file others can write).
        Artifact {
            path: archive.job.as_path().to_path_buf(),
            content: cron,
            mode: 0o644,
            owner: Owner::Root,
            kind: ArtifactKind::ArchiveJob,
        },
    ];
    Ok((artifacts, Some(compose_archive(site, archive, image)?)))
}

fn compose_archive(
    site: &Site,
    archive: &Archive,
    image: String,
) -> anyhow::Result<ComposeArchive> {
    let relative = |path: &Path| match path.strip_prefix(site.root()) {
        Ok(relative) => format!("./{}", relative.display()),
        Err(_) => path.display().to_string(),
    };
    let mut volumes = vec![
        format!("{}:/var/lib/pgbackrest", repo_volume(site)),
        format!("{}:{CONFIG_MOUNT}:ro", relative(&site.archive_dir())),
    ];
    match &archive.offsite {
        ArchiveOffsite::S3 { .. } => {}
        ArchiveOffsite::Dir { path } => {
            cron_word(path.as_path())?;
            volumes.push(format!("{path}:{OFFSITE_DIR_MOUNT}"));
        }
    }
    let archive_command = format!(
        "archive_command=pgbackrest --stanza={} archive-push %p",
        archive.stanza
    );
    let command = [
        "postgres",
        "-c",
        "wal_level=replica",
        "-c",
        "archive_mode=on",
        "-c",
        &archive_command,
        "-c",
        &format!("archive_timeout={}", archive.timeout_seconds),
    ]
    .map(str::to_string)
    .to_vec();
    let secrets = archive
        .secret_names()
        .into_iter()
        .map(|name| ComposeArchiveSecret {
            name,
            file: relative(&site.secret_file(name)),
        })
        .collect();
    Ok(ComposeArchive {
        image,
        command,
        secrets,
        volumes,
        repo_volume: repo_volume(site),
        environment: vec![
            ComposeArchiveVar {
                name: "PGBACKREST_CONFIG",
                value: format!("{CONFIG_MOUNT}/pgbackrest.conf"),
            },
            ComposeArchiveVar {
                name: "PGBACKREST_CONFIG_INCLUDE_PATH",
                value: SECRETS_INCLUDE.into(),
            },
        ],
    })
}
