//! Swapping our nginx files in as one transaction. A site file cannot be validated alone: the
//! candidate files are put in place, the whole tree is tested (`nginx -T`), and on any failure
//! every file is put back as it was and tested again, all under the host-wide nginx lock. A
//! failing configuration is never left on disk, where it would break the next restart of every
//! tenant's sites.

use std::path::{Path, PathBuf};

use super::{blamed_file, dump, failure_is_ours, test, NginxLock};
use crate::engine::Ctx;
use crate::host::{FileKind, Ownership};

/// One path's desired state.
#[derive(Debug, Clone)]
pub enum Entry {
    /// A regular file (root-owned). `must_load`: nginx's dump must show it was read.
    File {
        path: PathBuf,
        content: String,
        mode: u32,
        must_load: bool,
    },
    /// A symlink to the host path `target`; nginx must read the file through it.
    Link { path: PathBuf, target: PathBuf },
    /// Nothing at `path`.
    Absent { path: PathBuf },
}

impl Entry {
    pub fn path(&self) -> &Path {
        match self {
            Entry::File { path, .. } | Entry::Link { path, .. } | Entry::Absent { path } => path,
        }
    }

    /// Whether the host already matches; `Some(sentence)` says what would change.
    pub fn difference(&self, ctx: &Ctx) -> anyhow::Result<Option<String>> {
        let path = self.path();
        let shown = path.display();
        let state = ctx.host.state(path)?;
        Ok(match self {
            Entry::File { content, mode, .. } => {
                let current = ctx.host.read(path)?;
                match (state, current) {
                    (None, _) | (_, None) => Some(format!("create {shown}")),
                    (Some(state), Some(bytes)) => {
                        if state.kind != FileKind::File {
                            Some(format!("replace {shown} (not a regular file) by our file"))
                        } else if bytes != content.as_bytes() {
                            Some(format!("update {shown}"))
                        } else if state.ownership != root(*mode) {
                            Some(format!("set {shown} to {}", root(*mode)))
                        } else {
                            None
                        }
                    }
                }
            }
            Entry::Link { target, .. } => {
                let want = ctx.host.path(target);
                match ctx.host.link_target(path)? {
                    Some(have) if have == want => None,
                    Some(have) => Some(format!(
                        "point {shown} at {} (it points at {})",
                        target.display(),
                        have.display()
                    )),
                    None if state.is_some() => Some(format!(
                        "replace {shown} (not a symlink) by a link to {}",
                        target.display()
                    )),
                    None => Some(format!("link {shown} -> {}", target.display())),
                }
            }
            Entry::Absent { .. } => state.map(|_| format!("remove {shown}")),
        })
    }
}

fn root(mode: u32) -> Ownership {
    Ownership {
        uid: 0,
        gid: 0,
        mode,
    }
}

/// What was at a path before the transaction.
enum Was {
    File(Vec<u8>, Ownership),
    Link(PathBuf),
    Absent,
}

/// Why a transaction did not go through.
#[derive(Debug, thiserror::Error)]
pub enum TxnError {
    /// nginx's configuration already failed before dtops changed anything.
    #[error(
        "nginx's configuration already fails `nginx -t`, before dtops changed anything{blame}; \
         dtops refuses to touch nginx until it passes (another site's file is broken: fix it, \
         check with `nginx -t`, then run dtops again). nginx says:\n{words}"
    )]
    AlreadyBroken { words: String, blame: String },
    /// Our candidate files failed; the previous ones are back.
    #[error(
        "nginx rejected the new configuration, so dtops put the previous files back ({restored}). \
         nginx said:\n{words}"
    )]
    Rejected { words: String, restored: String },
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

impl From<std::io::Error> for TxnError {
    fn from(e: std::io::Error) -> Self {
        TxnError::Other(e.into())
    }
}

/// Puts `entries` in place, tests nginx's whole configuration, and restores everything on
/// failure. Returns what changed (empty: nothing differed, nginx untouched).
pub fn apply(ctx: &Ctx, entries: &[Entry]) -> Result<Vec<String>, TxnError> {
    let _lock = NginxLock::acquire(ctx)?;
    let mut changes = Vec::new();
    for entry in entries {
        if let Some(change) = entry.difference(ctx)? {
            changes.push(change);
        }
    }
    if changes.is_empty() {
        return Ok(changes);
    }
    // Refuse when the configuration already fails, unless the failure is our own site's (a
    // leftover of ours is ours to replace).
    if let Err(words) = test(ctx)? {
        if !failure_is_ours(ctx, &words) {
            let blame = blamed_file(&words)
                .map(|p| format!(" ({} is the broken file)", p.display()))
                .unwrap_or_default();
            return Err(TxnError::AlreadyBroken { words, blame });
        }
    }

    let mut before = Vec::new();
    for entry in entries {
        before.push(was(ctx, entry.path())?);
    }
    let written = write_all(ctx, entries);
    let verdict = match written {
        Err(e) => Err(format!("{e:#}")),
        Ok(()) => match dump(ctx)? {
            Err(words) => Err(words),
            Ok(dumped) => not_loaded(ctx, entries, &dumped).map_or(Ok(()), Err),
        },
    };
    let Err(words) = verdict else {
        return Ok(changes);
    };
    for (entry, was) in entries.iter().zip(&before).rev() {
        restore(ctx, entry.path(), was)?;
    }
    let restored = match test(ctx)? {
        Ok(()) => "nginx -t passes again".to_string(),
        Err(still) => format!("but nginx -t still fails: {still}"),
    };
    Err(TxnError::Rejected { words, restored })
}

fn was(ctx: &Ctx, path: &Path) -> anyhow::Result<Was> {
    Ok(match ctx.host.state(path)? {
        None => Was::Absent,
        Some(state) if state.kind == FileKind::Symlink => {
            Was::Link(ctx.host.link_target(path)?.unwrap_or_default())
        }
        Some(state) => Was::File(ctx.host.read(path)?.unwrap_or_default(), state.ownership),
    })
}

fn write_all(ctx: &Ctx, entries: &[Entry]) -> anyhow::Result<()> {
    for entry in entries {
        if entry.difference(ctx)?.is_none() {
            continue;
        }
        let path = entry.path();
        match entry {
            Entry::File { content, mode, .. } => {
                keep_previous(ctx, path)?;
                ctx.host.create_parents(path)?;
                ctx.host
                    .write_atomic(path, content.as_bytes(), root(*mode))?;
            }
            Entry::Link { target, .. } => {
                ctx.host.create_parents(path)?;
                ctx.host.symlink_atomic(path, target)?;
            }
            Entry::Absent { .. } => {
                keep_previous(ctx, path)?;
                ctx.host.remove_file(path)?;
            }
        }
    }
    Ok(())
}

/// A copy of our file as it was, in `.dtops/previous/`, for the operator.
fn keep_previous(ctx: &Ctx, path: &Path) -> anyhow::Result<()> {
    let is_file = ctx
        .host
        .state(path)?
        .is_some_and(|s| s.kind == FileKind::File);
    if let (true, Some(bytes)) = (is_file, ctx.host.read(path)?) {
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        let keep = ctx
            .site
            .state_dir()
            .join("previous")
            .join(format!("nginx-{name}"));
        ctx.host.create_parents(&keep)?;
        ctx.host.write_atomic(&keep, &bytes, root(0o600))?;
    }
    Ok(())
}

fn restore(ctx: &Ctx, path: &Path, was: &Was) -> anyhow::Result<()> {
    match was {
        Was::File(bytes, own) => ctx.host.write_atomic(path, bytes, *own)?,
        Was::Link(stored) => ctx.host.symlink_to(path, stored)?,
        Was::Absent => ctx.host.remove_file(path)?,
    }
    Ok(())
}

/// Files nginx must have read but did not (no `include` covers them).
fn not_loaded(ctx: &Ctx, entries: &[Entry], dumped: &str) -> Option<String> {
    let missing: Vec<String> = entries
        .iter()
        .filter(|e| match e {
            Entry::File { must_load, .. } => *must_load,
            Entry::Link { .. } => true,
            Entry::Absent { .. } => false,
        })
        .map(|e| ctx.host.path(e.path()))
        .filter(|p| !dumped.contains(&format!("# configuration file {}:", p.display())))
        .map(|p| p.display().to_string())
        .collect();
    (!missing.is_empty()).then(|| {
        format!(
            "nginx does not read {}: no `include` in nginx.conf covers it (Debian's nginx.conf \
             has `include /etc/nginx/conf.d/*.conf;` and `include /etc/nginx/sites-enabled/*;` \
             inside http {{}}); fix nginx.conf or the paths in site.toml [nginx]",
            missing.join(" and ")
        )
    })
}
