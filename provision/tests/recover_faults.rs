//! `dtops recover` refusing before it writes anything, without a Docker engine: a kit that
//! does not open the escrow, a kit that is not one (its lines never echoed), an off-site store
//! that does not answer (named, with what failed), and a location holding no escrow. The whole
//! recovery on the compose path is tests/disaster_drill.rs.

mod common;

use std::process::Output;

use common::sandbox::Sandbox;
use common::{stderr, stdout, with_stdin};

fn text(out: &Output) -> String {
    format!("{}{}", stdout(out), stderr(out))
}

/// `dtops recover --kit -` in `sandbox` with `kit` on standard input.
fn recover(sandbox: &Sandbox, kit: &str) -> Output {
    with_stdin(&mut sandbox.command(&["recover", "--kit", "-"]), kit)
}

/// A sandbox whose off-site archive is a directory (a mounted file system).
fn with_dir_offsite() -> Sandbox {
    Sandbox::with_site(|text| {
        format!("{text}\n[archive]\noffsite = {{ type = \"dir\", path = \"/mnt/offsite\" }}\n")
    })
}

fn new_identity() -> String {
    use age::secrecy::ExposeSecret;
    age::x25519::Identity::generate()
        .to_string()
        .expose_secret()
        .to_string()
}

#[test]
fn a_kit_that_does_not_open_the_escrow_writes_nothing() {
    let sandbox = with_dir_offsite();
    let work = tempfile::tempdir().unwrap();
    let kit = work.path().join("kit.toml");
    // Before provision there is nothing to escrow: refused, and no kit is made.
    let out = sandbox.dtops(&["escrow", "init", "--kit-out", kit.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(
        text(&out).contains("run `dtops provision` first"),
        "{}",
        text(&out)
    );
    assert!(!kit.exists());
    sandbox.provision();
    let out = sandbox.dtops(&["escrow", "init", "--kit-out", kit.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        sandbox.path("/mnt/offsite/escrow/datatools.age").is_file(),
        "{}",
        text(&out)
    );
    let kit = std::fs::read_to_string(&kit).unwrap();
    let identity = kit
        .lines()
        .find_map(|l| l.strip_prefix("identity = "))
        .unwrap()
        .trim_matches('"')
        .to_string();
    // site.toml now names the recipient, never the identity.
    let site = std::fs::read_to_string(&sandbox.site).unwrap();
    assert!(site.contains("escrow_recipient = \"age1"), "{site}");
    assert!(!site.contains(&identity));

    let before = sandbox.snapshot();
    let wrong = kit.replace(&identity, &new_identity());
    let out = recover(&sandbox, &wrong);
    assert!(!out.status.success());
    let said = text(&out);
    assert!(said.contains("does not open this escrow"), "{said}");
    assert!(said.contains("nothing was written"), "{said}");
    assert!(sandbox.snapshot() == before, "a wrong kit changed the box");

    // Not a kit at all (a truncated paste): said, without echoing its lines.
    let garbled = kit.replace("identity = ", "identity = = ");
    let out = recover(&sandbox, &garbled);
    assert!(!out.status.success());
    let said = text(&out);
    assert!(said.contains("does not read as one"), "{said}");
    assert!(!said.contains("AGE-SECRET-KEY-1"), "{said}");
    assert!(sandbox.snapshot() == before);
}

#[test]
fn an_unreachable_offsite_store_is_named_and_nothing_is_written() {
    let sandbox = Sandbox::new();
    // A port nothing listens on.
    let port = common::free_port();
    let kit = format!(
        "format = \"dtops-recovery-kit-1\"\napp = \"datatools-license\"\nstanza = \
         \"datatools\"\ncreated_at = \"2026-12-01T00:00:00Z\"\nidentity = \"{}\"\ns3_key_id = \
         \"key\"\ns3_secret = \"not-shown-0123456789\"\n\n[offsite]\ntype = \"s3\"\nendpoint = \
         \"127.0.0.1\"\nport = {port}\nbucket = \"dr-bucket\"\nregion = \"us-east-1\"\nuri_style = \"path\"\n",
        new_identity()
    );
    let before = sandbox.snapshot();
    let out = recover(&sandbox, &kit);
    assert!(!out.status.success());
    let said = text(&out);
    assert!(
        said.contains(&format!(
            "s3://dr-bucket/datatools-license at 127.0.0.1:{port}"
        )),
        "{said}"
    );
    assert!(said.contains("cannot reach the off-site store"), "{said}");
    assert!(!said.contains("not-shown-0123456789"), "{said}");
    assert!(
        sandbox.snapshot() == before,
        "an unreachable store changed the box"
    );
}

#[test]
fn a_location_without_an_escrow_says_so() {
    let sandbox = with_dir_offsite();
    std::fs::create_dir_all(sandbox.path("/mnt/offsite")).unwrap();
    let kit = format!(
        "format = \"dtops-recovery-kit-1\"\napp = \"datatools-license\"\nstanza = \
         \"datatools\"\ncreated_at = \"2026-12-01T00:00:00Z\"\nidentity = \"{}\"\n\n[offsite]\n\
         type = \"dir\"\npath = \"/mnt/offsite\"\n",
        new_identity()
    );
    let out = recover(&sandbox, &kit);
    assert!(!out.status.success());
    let said = text(&out);
    assert!(
        said.contains("there is no key escrow at /mnt/offsite escrow/datatools.age"),
        "{said}"
    );
    // The directory missing altogether (not mounted): said too.
    std::fs::remove_dir(sandbox.path("/mnt/offsite")).unwrap();
    let said = text(&recover(&sandbox, &kit));
    assert!(said.contains("does not exist (not mounted?)"), "{said}");
}
