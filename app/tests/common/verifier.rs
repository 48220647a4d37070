//! `docs/verify_example.py`, the independent Python verifier of licenses and revocation feeds.

use std::path::Path;
use std::process::{Command, Output};

/// Runs the script with `args` (none: every committed vector file). Fails loudly when Python or
/// its `cryptography` package is missing (scripts/test installs python3-cryptography).
pub fn python(args: &[&str]) -> Output {
    let script = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .join("docs/verify_example.py");
    let output = Command::new("python3")
        .arg(&script)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("python3 is needed to run {}: {e}", script.display()));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !stderr.contains("No module named 'cryptography'"),
        "docs/verify_example.py needs Python's cryptography package: \
         apt-get install -y python3-cryptography (scripts/test does)"
    );
    output
}
