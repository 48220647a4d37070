//! `dtops render --out DIR`: every managed file, rendered from site.toml, for inspection.

use std::path::Path;
use std::process::ExitCode;

use crate::cli::GlobalArgs;

pub fn run(_global: &GlobalArgs, _out: &Path) -> anyhow::Result<ExitCode> {
    anyhow::bail!("dtops render is not built yet")
}
