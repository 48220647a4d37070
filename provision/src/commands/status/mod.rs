//! `dtops status`. Where it runs decides what it can see (`dispatch`): on the box, everything
//! (`overview`: what is deployed next to what site.toml asks for and this build can do, and what
//! needs attention, with the exit code a monitor reads; `attention` gathers the problems,
//! `host_facts` the host's side, `archive` continuous archiving's, the other files one row
//! each); from a laptop over SSH, the box's own report; against a URL, the api's view alone
//! (`api_view`).

mod api_view;
mod archive;
mod attention;
mod backup;
mod dispatch;
mod docker_logs;
mod host_facts;
mod keys;
mod overview;
mod slots;
mod version;
mod web;

pub use dispatch::run;
