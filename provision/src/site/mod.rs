//! `site.toml`: the declarative description of the deployment, parsed and checked up front so
//! nothing touches the host with a bad value.

mod locate;
mod model;
mod parse;
mod paths;
mod values;

pub use model::{OffsiteTool, Site};
pub use values::{nginx_word, AbsPath, Stage};
