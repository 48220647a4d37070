//! Stand-in api images for the compose tests: one file, like API_BIN_STAGE's host-built binary,
//! but a script (a build that cannot serve, or one that knows fewer migrations).

use std::path::Path;
use std::process::Command;

use super::docker::DockerEngine;

/// A one-file image like API_BIN_STAGE's, whose /datatools-license is a script: it lists
/// `migrations` (every one this build has, or all but the newest: a version older than the
/// schema), "applies" none, and exits 1 when asked to serve.
pub fn script_bin_image(engine: &DockerEngine, dir: &Path, image: &str, migrations: usize) {
    let lines: String = datatools_license::db::MIGRATOR
        .iter()
        .take(migrations)
        .map(|m| format!("{} {}\\n", m.version, m.description))
        .collect();
    let script = format!(
        "#!/bin/sh\n\
         # the compose tests' stand-in server: it lists migrations, but it cannot serve.\n\
         case \"$1\" in\n\
         migrations) printf '{lines}' ;;\n\
         migrate) echo 'migrations applied' ;;\n\
         *) echo 'datatools-license: a broken build (compose test)' >&2; exit 1 ;;\n\
         esac\n"
    );
    let dir = dir.join(image.replace(['/', ':'], "_"));
    std::fs::create_dir_all(&dir).unwrap();
    let bin = dir.join("datatools-license");
    std::fs::write(&bin, script).unwrap();
    std::fs::set_permissions(&bin, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let tarball = dir.join("bin.tar");
    let out = Command::new("tar")
        .arg("-C")
        .arg(&dir)
        .arg("-cf")
        .arg(&tarball)
        .arg("datatools-license")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "tar: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    engine.docker_ok(&["import", tarball.to_str().unwrap(), image]);
}
