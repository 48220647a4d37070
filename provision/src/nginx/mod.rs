//! The box's shared nginx: its version, whether its whole configuration passes `nginx -t`, our
//! site's phase, reloads, and the transaction that swaps our files in without ever leaving a
//! failing configuration on disk. Other tenants' files are read by nginx, never by dtops.
//! Everything here takes the narrow `Env` (site + host), never the engine's run state.

mod config;
mod dns;
mod dump;
mod lock;
mod phase;
mod probe;
mod site;
mod switch;
mod txn;
mod workers;

pub(crate) use config::nginx_words as config_failure;
pub use config::{reload, test, version};
pub(crate) use dns::parse as parse_dns_answer;
pub use dns::resolve_ipv4;
pub use lock::NginxLock;
pub use phase::{cert_present, http2_choice, phase_on_disk, upstream_on_disk, wanted_phase, Route};
pub use probe::{http_get, https_get, served_serial, RELOAD_WAIT};
pub use site::site_entries;
pub use switch::{switch, Switched};
pub use txn::{apply, Entry, TxnError};
