//! The production path end to end: `dtops --runtime compose` in a `--root` sandbox against a
//! private Docker engine (common/docker.rs).

mod common;

use common::docker::{DockerEngine, POSTGRES_IMAGE};
use common::web::WebSandbox;

#[test]
fn compose_runtime_end_to_end() {
    let engine = DockerEngine::start();
    let web = WebSandbox::start_compose(engine.env(), |text| {
        text.replace(
            "image = \"postgres:16-alpine\"",
            &format!("image = \"{POSTGRES_IMAGE}\""),
        )
    });
    web.sandbox.checkout_app();
    let out = web.provision(&[]);
    eprintln!("{out}");
}
