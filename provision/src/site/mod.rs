//! `site.toml`: the declarative description of the deployment, parsed and checked up front so
//! nothing touches the host with a bad value.

mod door;
mod locate;
mod model;
mod parse;
mod paths;
mod server;
mod values;

pub use door::Behind;
pub use model::{OffsiteTool, Site};
pub use values::{AbsPath, Listen, Stage};
