//! `dtops archive credentials --stdin | --file FILE`: the off-site S3 access key (two lines:
//! the key id, then the secret) into secrets/, 0400 for the container's uid, never printed.
//! Like every secret dtops keeps, an existing one is never replaced.

use std::io::Read;
use std::process::ExitCode;

use anyhow::{bail, Context};

use crate::cli::{GlobalArgs, SecretInput};
use crate::commands::deployment::Deployment;
use crate::engine::AppLock;
use crate::owner::Owner;
use crate::site::{S3_KEY_ID, S3_SECRET};

pub fn run(global: &GlobalArgs, input: &SecretInput) -> anyhow::Result<ExitCode> {
    let given = match (&input.file, input.stdin) {
        (Some(file), _) => std::fs::read_to_string(file)
            .with_context(|| format!("cannot read {}", file.display()))?,
        (None, true) => {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .context("cannot read standard input")?;
            text
        }
        (None, false) => bail!("give the key with --stdin or --file FILE"),
    };
    let lines: Vec<&str> = given
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let [key_id, secret] = lines.as_slice() else {
        bail!(
            "expected two lines, the access key id and then its secret; got {} line(s)",
            lines.len()
        );
    };
    if [key_id, secret]
        .iter()
        .any(|v| v.chars().any(char::is_whitespace))
    {
        bail!("the access key id and secret hold no spaces; check what was pasted");
    }
    let deployment = Deployment::open(global)?;
    let env = deployment.env();
    let _lock = AppLock::acquire(&deployment.host, &deployment.site)?;
    let own = Owner::Container.ownership(&env, 0o400)?;
    for (name, value) in [(S3_KEY_ID, key_id), (S3_SECRET, secret)] {
        let path = env.site.secret_file(name);
        match env.host.read(&path)? {
            Some(current) if String::from_utf8_lossy(&current).trim() == *value => {
                println!(
                    "{} already holds this value; nothing changed",
                    path.display()
                );
            }
            Some(_) => bail!(
                "{} already holds a different value; dtops never replaces a secret. Remove \
                 {} and {}, run this again, then `dtops provision`",
                path.display(),
                S3_KEY_ID,
                S3_SECRET
            ),
            None => {
                env.host.create_parents(&path)?;
                env.host.create_new_file(&path, value.as_bytes(), own)?;
                println!("created {} ({own}; value not shown)", path.display());
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
