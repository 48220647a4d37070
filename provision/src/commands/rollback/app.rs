//! `dtops rollback app`: stop the stack, keeping the database volume and every file.

use crate::env::Env;
use crate::runtime::Runtime;

/// `rollback app` (also the first part of `rollback all` when the database is kept).
pub fn app(env: &Env, runtime: &dyn Runtime) -> anyhow::Result<()> {
    let running = runtime.running(env)?;
    if !running.api() && !running.db {
        println!("app: nothing running; nothing to do");
        return Ok(());
    }
    println!(
        "app: stopping and removing the api and postgres containers ({}); the database volume {} \
         and every file under {} are kept",
        runtime.name(),
        env.site.database.volume,
        env.site.root().display()
    );
    runtime.down(env, false)?;
    println!("app: stopped; `dtops provision` brings it back");
    Ok(())
}
