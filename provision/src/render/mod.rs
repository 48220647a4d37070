//! site.toml (plus what only the host knows, such as the license public key) -> the files dtops
//! manages, each with its host path, mode and owner. Nothing here touches the host: the artifact
//! steps write the artifacts (atomically, with their owner and mode), `dtops render` writes
//! them under a directory for inspection, and `desired` renders them with the host's facts.
//!
//! One minijinja environment (`templates`), strict about undefined values, with the templates
//! embedded in the binary and a `--templates DIR` override; every template sees the same
//! context (`context`); YAML templates must quote every value (`yaml`), shell templates too
//! (`shell`), and nginx templates print nothing but plain words (`nginx_escape`).

mod all;
mod archive;
mod artifact;
mod backup;
mod context;
mod gumroad_sync_job;
mod nginx;
mod nginx_escape;
mod nginx_facts;
mod shell;
mod status_job;
mod templates;
mod yaml;

pub use all::{render_all, render_nginx};
pub use archive::{db_image, OFFSITE_CA_FILE};
pub use artifact::{Artifact, ArtifactKind, RenderInputs};
pub use nginx_facts::{NginxFacts, NginxVersion, Phase};
pub use templates::Renderer;
