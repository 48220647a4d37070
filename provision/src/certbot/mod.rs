//! The certificate: what is on disk (openssl reads it), what certbot's renewal configuration
//! says, and the certbot command lines dtops runs. certbot keeps its own state under
//! `tls.letsencrypt_dir`; dtops edits only a lineage's renewal settings (`renewal`) and deletes
//! one only on `--delete-cert`. Everything here takes the narrow `Env` (site + host).

mod cert;
mod command;
mod failure;
pub mod renewal;

pub(crate) use cert::parse_info as parse_cert_info;
pub use cert::{cert_info, pem_serial, CertInfo};
pub use command::{certonly, delete, deploy_hook, log_file};
pub use failure::{failure_kind, failure_summary};
pub use renewal::renewal_params;
