//! `datatools-license`: the license server binary. Parses arguments; the library does the rest.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use datatools_license::config::Config;
use datatools_license::{db, server};

/// The DataTools license server. Configuration comes from the environment (see ADMIN.md).
#[derive(Parser)]
#[command(version)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve HTTP (the default).
    Serve,
    /// Apply pending database migrations, then exit. Safe to run twice or concurrently.
    Migrate,
    /// List the migrations built into this binary, one `VERSION DESCRIPTION` per line, and exit.
    /// Needs no configuration or database: `dtops upgrade` asks a new image with it whether the
    /// live database has migrations this version does not know.
    Migrations,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Some(Command::Migrations) = cli.command {
        for migration in db::MIGRATOR.iter() {
            println!("{} {}", migration.version, migration.description);
        }
        return ExitCode::SUCCESS;
    }
    server::init_tracing();
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(e) => {
            eprintln!("datatools-license: configuration error: {e}");
            return ExitCode::from(2);
        }
    };
    let runtime = tokio::runtime::Runtime::new().expect("can start the tokio runtime");
    let result = runtime.block_on(async {
        match cli.command.unwrap_or(Command::Serve) {
            Command::Serve => server::run(config).await,
            Command::Migrations => unreachable!("answered before the configuration is read"),
            Command::Migrate => {
                let pool = db::migration_pool(&config)?;
                db::migrate(&pool).await?;
                println!("migrations applied");
                Ok(())
            }
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("datatools-license: {e:#}");
            ExitCode::FAILURE
        }
    }
}
