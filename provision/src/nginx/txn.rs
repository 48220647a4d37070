//! Swapping our nginx files in as one transaction. A site file cannot be validated alone: the
//! candidate files are put in place, the whole tree is tested (`nginx -T`), and on any failure
//! every file is put back as it was and tested again, all under the host-wide nginx lock. A
//! failing configuration is never left on disk, where it would break the next restart of every
//! tenant's sites.

use std::path::{Path, PathBuf};

use super::config::{dump, test, ConfigFailure};
use super::lock::NginxLock;
use crate::env::Env;
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
    pub fn difference(&self, env: &Env) -> anyhow::Result<Option<String>> {
        let path = self.path();
        let shown = path.display();
        let state = env.host.state(path)?;
        Ok(match self {
            Entry::File { content, mode, .. } => {
                let current = env.host.read(path)?;
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
                let want = env.host.path(target);
                match env.host.link_target(path)? {
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

impl TxnError {
    /// nginx's configuration fails before dtops touched it, and not because of our files.
    pub fn already_broken(failure: ConfigFailure) -> Self {
        TxnError::AlreadyBroken {
            blame: failure
                .blamed_file()
                .map(|p| format!(" ({} is the broken file)", p.display()))
                .unwrap_or_default(),
            words: failure.words,
        }
    }
}

impl From<std::io::Error> for TxnError {
    fn from(e: std::io::Error) -> Self {
        TxnError::Other(e.into())
    }
}

/// Puts `entries` in place, tests nginx's whole configuration, and restores everything on
/// failure. Returns what changed (empty: nothing differed, nginx untouched).
pub fn apply(env: &Env, entries: &[Entry]) -> Result<Vec<String>, TxnError> {
    let _lock = NginxLock::acquire(env)?;
    Ok(apply_held(env, entries)?.changes)
}

/// What a transaction changed, and how the files were before it (to put them back when nginx
/// then fails to take them: a reload that did not happen).
pub struct Applied {
    pub changes: Vec<String>,
    before: Vec<(PathBuf, Was)>,
}

impl Applied {
    /// Puts every file back as it was before the transaction; says whether `nginx -t` passes.
    pub fn undo(self, env: &Env) -> anyhow::Result<String> {
        for (path, was) in self.before.iter().rev() {
            restore(env, path, was)?;
        }
        Ok(match test(env)? {
            Ok(()) => "nginx -t passes again".to_string(),
            Err(still) => format!("but nginx -t still fails: {still}"),
        })
    }
}

/// `apply` for a caller already holding the nginx lock (`NginxLock`).
pub fn apply_held(env: &Env, entries: &[Entry]) -> Result<Applied, TxnError> {
    let mut changes = Vec::new();
    for entry in entries {
        if let Some(change) = entry.difference(env)? {
            changes.push(change);
        }
    }
    if changes.is_empty() {
        return Ok(Applied {
            changes,
            before: Vec::new(),
        });
    }
    // Refuse when the configuration already fails, unless the failure is our own site's (a
    // leftover of ours is ours to replace).
    if let Err(failure) = test(env)? {
        if !failure.is_ours(env) {
            return Err(TxnError::already_broken(failure));
        }
    }

    let mut before = Vec::new();
    for entry in entries {
        before.push((entry.path().to_path_buf(), was(env, entry.path())?));
    }
    let written = write_all(env, entries);
    let verdict = match written {
        Err(e) => Err(format!("{e:#}")),
        Ok(()) => match dump(env)? {
            Err(failure) => Err(failure.words),
            Ok(dumped) => not_loaded(env, entries, &dumped).map_or(Ok(()), Err),
        },
    };
    let applied = Applied { changes, before };
    let Err(words) = verdict else {
        return Ok(applied);
    };
    let restored = applied.undo(env)?;
    Err(TxnError::Rejected { words, restored })
}

fn was(env: &Env, path: &Path) -> anyhow::Result<Was> {
    Ok(match env.host.state(path)? {
        None => Was::Absent,
        Some(state) if state.kind == FileKind::Symlink => {
            Was::Link(env.host.link_target(path)?.unwrap_or_default())
        }
        Some(state) => Was::File(env.host.read(path)?.unwrap_or_default(), state.ownership),
    })
}

fn write_all(env: &Env, entries: &[Entry]) -> anyhow::Result<()> {
    for entry in entries {
        if entry.difference(env)?.is_none() {
            continue;
        }
        let path = entry.path();
        match entry {
            Entry::File { content, mode, .. } => {
                keep_previous(env, path)?;
                env.host.create_parents(path)?;
                env.host
                    .write_atomic(path, content.as_bytes(), root(*mode))?;
            }
            Entry::Link { target, .. } => {
                env.host.create_parents(path)?;
                env.host.symlink_atomic(path, target)?;
            }
            Entry::Absent { .. } => {
                keep_previous(env, path)?;
                env.host.remove_file(path)?;
            }
        }
    }
    Ok(())
}

/// A copy of our file as it was, in `.dtops/previous/`, for the operator.
fn keep_previous(env: &Env, path: &Path) -> anyhow::Result<()> {
    let is_file = env
        .host
        .state(path)?
        .is_some_and(|s| s.kind == FileKind::File);
    if let (true, Some(bytes)) = (is_file, env.host.read(path)?) {
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        let keep = env
            .site
            .state_dir()
            .join("previous")
            .join(format!("nginx-{name}"));
        env.host.create_parents(&keep)?;
        env.host.write_atomic(&keep, &bytes, root(0o600))?;
    }
    Ok(())
}

fn restore(env: &Env, path: &Path, was: &Was) -> anyhow::Result<()> {
    match was {
        Was::File(bytes, own) => env.host.write_atomic(path, bytes, *own)?,
        Was::Link(stored) => env.host.symlink_to(path, stored)?,
        Was::Absent => env.host.remove_file(path)?,
    }
    Ok(())
}

/// Files nginx must have read but did not (no `include` covers them).
fn not_loaded(env: &Env, entries: &[Entry], dumped: &str) -> Option<String> {
    let missing: Vec<String> = entries
        .iter()
        .filter(|e| match e {
            Entry::File { must_load, .. } => *must_load,
            Entry::Link { .. } => true,
            Entry::Absent { .. } => false,
        })
        .map(|e| env.host.path(e.path()))
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
