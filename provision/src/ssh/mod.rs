//! The system `ssh`, run the way an operator would from a laptop: the box named by `[admin] ssh`
//! (or `--ssh`), options from their ~/.ssh/config (or `--ssh-config`), never a prompt (BatchMode:
//! a key in ssh-agent or an IdentityFile, a host key already known), never a secret on a command
//! line. `forward` keeps a port forward open for as long as a command needs it; `diagnose` turns
//! ssh's, sudo's and the box's failures into one line naming the host and what to do.

mod cleanup;
mod client;
mod diagnose;
mod forward;
mod quote;

pub use client::Ssh;
pub use forward::Forward;
