//! Docker's log caps merged into a sandbox's /etc/docker/daemon.json by `dtops provision`:
//! another tenant's settings survive, a second run changes nothing, and Docker is never
//! restarted unless asked.

mod common;

use common::sandbox::Sandbox;
use common::{stderr, stdout};

#[test]
fn provision_merges_the_log_caps_keeping_other_keys_and_never_restarts_docker() {
    let sandbox = Sandbox::new();
    let daemon = sandbox.path("/etc/docker/daemon.json");
    std::fs::create_dir_all(daemon.parent().unwrap()).unwrap();
    std::fs::write(
        &daemon,
        r#"{"data-root": "/mnt/docker", "log-opts": {"labels": "tenant"}, "live-restore": true}"#,
    )
    .unwrap();

    let first = sandbox.provision();
    assert!(
        first.contains("changed  docker log caps /etc/docker/daemon.json: merged"),
        "{first}"
    );
    let merged: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&daemon).unwrap()).unwrap();
    assert_eq!(merged["data-root"], "/mnt/docker");
    assert_eq!(merged["live-restore"], true);
    assert_eq!(merged["log-opts"]["labels"], "tenant");
    assert_eq!(merged["log-driver"], "json-file");
    assert_eq!(merged["log-opts"]["max-size"], "10m");
    assert_eq!(merged["log-opts"]["max-file"], "3");
    // The previous file is kept for rollback.
    assert!(sandbox
        .path("/srv/datatools-license/.dtops/previous/daemon.json")
        .exists());

    let before = std::fs::read(&daemon).unwrap();
    let second = sandbox.provision();
    assert!(second.contains(" 0 changed, 0 failed"), "{second}");
    assert_eq!(std::fs::read(&daemon).unwrap(), before);

    // A restart is owed but only done when asked; status says so.
    let status = stdout(&sandbox.dtops(&["status"]));
    assert!(status.contains("Docker has NOT been restarted"), "{status}");
    let out = sandbox.dtops(&["docker-logs"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("restarts EVERY container on this box"),
        "{}",
        stdout(&out)
    );
    assert!(sandbox
        .path("/srv/datatools-license/.dtops/pending/restart-docker")
        .exists());
}
