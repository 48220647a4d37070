//! `site.toml`: the declarative description of the deployment, parsed and checked up front so
//! nothing touches the host with a bad value.

mod admin;
mod archive;
mod brand;
mod door;
mod external_db;
mod find;
mod locate;
mod misfit;
mod model;
mod parse;
mod paths;
mod rules;
mod server;
mod slot;
mod values;

pub use admin::SshDestination;
pub use archive::{Archive, ArchiveOffsite, UriStyle, CIPHER_PASS, S3_KEY_ID, S3_SECRET};
pub use door::Behind;
pub use find::{site_file, tracked_by_git, SYSTEM_SITE};
pub use model::{OffsiteTool, Site};
pub use slot::Slot;
pub use values::{nginx_word, AbsPath, Listen, Stage};
