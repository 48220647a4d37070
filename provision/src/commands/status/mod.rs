//! `dtops status`: what is deployed on the host, next to what site.toml asks for and what this
//! build of the code can do (the deployed-vs-queued matrix). `overview` prints it; the other
//! files each compute one row.

mod backup;
mod docker_logs;
mod keys;
mod overview;
mod version;
mod web;

pub use overview::run;
