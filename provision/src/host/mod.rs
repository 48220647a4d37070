//! The one narrow layer through which dtops touches the host: files, users and commands.
//!
//! Every path in site.toml is a real host path (`/srv/datatools-license/...`). With `--root DIR`
//! the host is a sandbox: each path is relocated under DIR, users live in DIR/etc/passwd, and
//! everything else runs exactly as on a real box. There is no second implementation to drift.

mod accounts;
mod atomic;
mod beneath;
mod files;
mod links;
mod sandbox;

pub use accounts::Account;
pub use atomic::replace_file;
pub use files::{FileKind, Ownership};
pub use sandbox::Host;
