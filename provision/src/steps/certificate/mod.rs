//! The certificate steps (SETUP-LICENSE-SERVER.md §5–6): preflights before asking the CA (Let's
//! Encrypt limits failed validations: never let the CA find out what a local check can), then
//! `certbot certonly --webroot` only when the certificate is missing, due, for other names, or
//! from another ACME server than this run asks.

mod need;
mod options;
mod preflight;
mod request;

pub use options::TlsOptions;
pub use preflight::CertPreflightStep;
pub use request::CertificateStep;
