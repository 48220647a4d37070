//! `dtops status`: what is deployed on the host, next to what site.toml asks for and what this
//! build of the code can do (the deployed-vs-queued matrix), and what needs attention (open
//! problems, with the exit code a monitor reads). `overview` prints it; `attention` gathers the
//! problems (`host_facts` reads the host's side, `archive` continuous archiving's); the other files
//! each compute one row.

mod archive;
mod attention;
mod backup;
mod docker_logs;
mod host_facts;
mod keys;
mod overview;
mod slots;
mod version;
mod web;

pub use overview::run;
