//! `dtops gumroad token --stdin | --file FILE`: writes the Gumroad API access token the sync
//! needs into secrets/gumroad_api_token (0400, the container's uid), never from a command-line
//! value and never printed. Like every secret dtops keeps, an existing one is never replaced.

use std::io::Read;
use std::process::ExitCode;

use anyhow::{bail, Context};

use crate::cli::{GlobalArgs, GumroadTokenArgs};
use crate::commands::deployment::Deployment;
use crate::engine::AppLock;
use crate::owner::Owner;

const NAME: &str = "gumroad_api_token";

pub fn run(global: &GlobalArgs, args: &GumroadTokenArgs) -> anyhow::Result<ExitCode> {
    let given = match (&args.file, args.stdin) {
        (Some(file), _) => std::fs::read_to_string(file)
            .with_context(|| format!("cannot read the token file {}", file.display()))?,
        (None, true) => {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .context("cannot read the token from standard input")?;
            text
        }
        (None, false) => bail!("give the token with --stdin or --file FILE"),
    };
    let token = given.trim();
    if token.is_empty() || token.chars().any(char::is_whitespace) {
        bail!(
            "the token given is empty or contains spaces; it is the access token Gumroad shows \
             under Settings > Advanced > Applications (Generate access token)"
        );
    }
    let deployment = Deployment::open(global)?;
    let env = deployment.env();
    let _lock = AppLock::acquire(&deployment.host, &deployment.site)?;
    let path = env.site.secret_file(NAME);
    if let Some(current) = env.host.read(&path)? {
        if String::from_utf8_lossy(&current).trim() == token {
            println!(
                "{} already holds this token; nothing changed",
                path.display()
            );
            return Ok(ExitCode::SUCCESS);
        }
        bail!(
            "{} already holds a different token; dtops never replaces a secret. Remove the \
             file, run this again, then `dtops provision` (the api restarts with it)",
            path.display()
        );
    }
    let own = Owner::Container.ownership(&env, 0o400)?;
    env.host.create_new_file(&path, token.as_bytes(), own)?;
    println!("created {} ({own}; value not shown)", path.display());
    if env.site.server.gumroad_api_token {
        println!("gumroad: run `dtops provision` so the api reads it");
    } else {
        println!(
            "gumroad: now set `gumroad_api_token = true` under [server] in {} and run `dtops \
             provision`",
            global.site_file()?.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}
