//! Creating files that hold secrets: the mode is set when the file is opened, so there is no
//! moment where the secret sits in a file others can read (never write-then-chmod).

use std::fs::OpenOptions;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use anyhow::Context;

/// Writes `content` to a new file with `mode`. Fails if the file exists: a secret is never
/// silently replaced.
pub fn create_new(path: &Path, content: &[u8], mode: u32) -> anyhow::Result<()> {
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(path)
        .with_context(|| match path.exists() {
            true => format!(
                "{} already exists; refusing to overwrite a secret",
                path.display()
            ),
            false => format!("cannot create {}", path.display()),
        })?;
    file.write_all(content)
        .and_then(|_| file.sync_all())
        .with_context(|| format!("cannot write {}", path.display()))
}
