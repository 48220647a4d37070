//! The narrow environment nginx, certbot, the runtimes and the backup job work in: which
//! deployment (site.toml), on which host (the real box or a `--root` sandbox), rendered with
//! which templates. Nothing about the run (dry run, redaction, notified handlers): that is the
//! engine's `Ctx`, which holds an `Env`.

use std::path::Path;

use crate::host::Host;
use crate::site::Site;

#[derive(Clone, Copy)]
pub struct Env<'a> {
    pub site: &'a Site,
    pub host: &'a Host,
    /// `--templates DIR`: files there replace the built-in templates of the same name.
    pub templates: Option<&'a Path>,
}
