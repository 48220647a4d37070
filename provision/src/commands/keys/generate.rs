//! `dtops keys generate`: a new signing key pair.

use std::path::Path;
use std::process::ExitCode;

use datatools_license::config::vars;
use datatools_license::license::SigningKeyPair;

use crate::secure_file;

pub fn generate(out: &Path) -> anyhow::Result<ExitCode> {
    let pair = SigningKeyPair::generate();
    secure_file::create_new(out, pair.seed_hex().as_bytes(), 0o400)?;
    println!("{}", pair.public_hex());
    eprintln!(
        "private key written to {} (mode 0400; never share it)\n\
         key id {}; set {} to the public key above and ship it in the desktop app",
        out.display(),
        pair.key_id(),
        vars::LICENSE_PUBKEY
    );
    Ok(ExitCode::SUCCESS)
}
