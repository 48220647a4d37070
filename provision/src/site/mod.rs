//! `site.toml`: the declarative description of the deployment, parsed and checked up front so
//! nothing touches the host with a bad value.

mod brand;
mod door;
mod find;
mod locate;
mod misfit;
mod model;
mod parse;
mod paths;
mod rules;
mod server;
mod values;

pub use door::Behind;
pub use find::{site_file, tracked_by_git};
pub use model::{OffsiteTool, Site};
pub use values::{nginx_word, AbsPath, Listen, Stage};
