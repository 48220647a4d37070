//! Start-up configuration errors: each names the variable (and the path) and never the secret.

mod common;

use std::os::unix::fs::PermissionsExt;

use common::Env;

/// Configuration is checked before any connection is made: no database is needed here.
const URL: &str = "postgres://postgres@localhost/db?host=/nonexistent";
use datatools_license::config::Environment;
use datatools_license::license::SigningKeyPair;

fn error_of(env: &Env) -> String {
    env.config()
        .expect_err("configuration should be refused")
        .to_string()
}

#[test]
fn each_missing_required_variable_is_named() {
    for var in ["DATABASE_URL", "DATATOOLS_ADMIN_TOKEN_FILE"] {
        let mut env = Env::new(URL);
        env.unset(var);
        let err = error_of(&env);
        assert!(err.contains(var), "{var}: {err}");
    }
}

#[test]
fn missing_empty_or_unreadable_secret_files_name_variable_and_path() {
    let mut env = Env::new(URL);

    let missing = env.path("no-such-file");
    env.set("DATATOOLS_ADMIN_TOKEN_FILE", missing.to_str().unwrap());
    let err = error_of(&env);
    assert!(
        err.contains("DATATOOLS_ADMIN_TOKEN_FILE") && err.contains("no-such-file"),
        "{err}"
    );

    let empty = env.path("empty");
    std::fs::write(&empty, "\n").unwrap();
    env.set("DATATOOLS_ADMIN_TOKEN_FILE", empty.to_str().unwrap());
    let err = error_of(&env);
    assert!(
        err.contains("empty") && err.contains(empty.to_str().unwrap()),
        "{err}"
    );

    let pg = env.path("pg_password");
    std::fs::write(&pg, "s3cret-password").unwrap();
    std::fs::set_permissions(&pg, std::fs::Permissions::from_mode(0o000)).unwrap();
    env.set(
        "DATATOOLS_ADMIN_TOKEN_FILE",
        env.path("admin_token").to_str().unwrap(),
    );
    env.set("PG_PASSWORD_FILE", pg.to_str().unwrap());
    // Root reads mode-0000 files; make the path unreadable another way when we are root.
    let unreadable = if std::fs::read(&pg).is_ok() {
        env.path("a-directory")
    } else {
        pg.clone()
    };
    std::fs::create_dir_all(env.path("a-directory")).unwrap();
    env.set("PG_PASSWORD_FILE", unreadable.to_str().unwrap());
    let err = error_of(&env);
    assert!(
        err.contains("PG_PASSWORD_FILE") && err.contains(unreadable.to_str().unwrap()),
        "{err}"
    );
    assert!(!err.contains("s3cret-password"), "{err}");

    let short = env.path("short_token");
    std::fs::write(&short, "tooshort").unwrap();
    env.unset("PG_PASSWORD_FILE");
    env.set("DATATOOLS_ADMIN_TOKEN_FILE", short.to_str().unwrap());
    let err = error_of(&env);
    assert!(err.contains("shorter than 32"), "{err}");
    assert!(!err.contains("tooshort"), "{err}");
}

#[test]
fn production_needs_a_real_key_matching_its_public_key() {
    let mut env = Env::new(URL);
    env.set("DATATOOLS_ENV", "production");
    let err = error_of(&env);
    assert!(err.contains("DATATOOLS_LICENSE_PRIVKEY_FILE"), "{err}");

    // The in-tree dev key is refused in production even when configured explicitly.
    let dev = SigningKeyPair::dev();
    let dev_file = env.path("dev_privkey");
    std::fs::write(&dev_file, dev.seed_hex()).unwrap();
    env.set("DATATOOLS_LICENSE_PRIVKEY_FILE", dev_file.to_str().unwrap());
    env.set("DATATOOLS_LICENSE_PUBKEY", dev.public_hex());
    let err = error_of(&env);
    assert!(
        err.contains("development key") && err.contains("refuses"),
        "{err}"
    );
    assert!(!err.contains(&dev.seed_hex()), "{err}");

    // A real key without its public key is refused: a wrong file would otherwise go unnoticed.
    let real = SigningKeyPair::generate();
    let real_file = env.path("privkey");
    std::fs::write(&real_file, real.seed_hex()).unwrap();
    env.set(
        "DATATOOLS_LICENSE_PRIVKEY_FILE",
        real_file.to_str().unwrap(),
    );
    env.unset("DATATOOLS_LICENSE_PUBKEY");
    let err = error_of(&env);
    assert!(err.contains("DATATOOLS_LICENSE_PUBKEY"), "{err}");

    // A mismatched public key names both sides of the mismatch.
    let other = SigningKeyPair::generate();
    env.set("DATATOOLS_LICENSE_PUBKEY", other.public_hex());
    let err = error_of(&env);
    assert!(
        err.contains("does not match") && err.contains(real_file.to_str().unwrap()),
        "{err}"
    );
    assert!(!err.contains(&real.seed_hex()), "{err}");

    // A garbled private key file is named, its content is not echoed.
    std::fs::write(env.path("garbled"), "not-hex-at-all-secretish").unwrap();
    env.set(
        "DATATOOLS_LICENSE_PRIVKEY_FILE",
        env.path("garbled").to_str().unwrap(),
    );
    let err = error_of(&env);
    assert!(
        err.contains("DATATOOLS_LICENSE_PRIVKEY_FILE") && !err.contains("secretish"),
        "{err}"
    );

    // The matching pair starts.
    env.set(
        "DATATOOLS_LICENSE_PRIVKEY_FILE",
        real_file.to_str().unwrap(),
    );
    env.set("DATATOOLS_LICENSE_PUBKEY", real.public_hex());
    let config = env.config().unwrap();
    assert_eq!(config.environment, Environment::Production);
    assert_eq!(config.signing_key.public_hex(), real.public_hex());
    // And Debug output of the whole config shows no secret.
    let shown = format!("{config:?}");
    assert!(!shown.contains(&real.seed_hex()), "{shown}");
    assert!(!shown.contains(common::ADMIN_TOKEN), "{shown}");
}

#[test]
fn bad_values_are_named() {
    let cases = [
        ("DATATOOLS_ENV", "staging"),
        ("DATATOOLS_LISTEN", "not-an-address"),
        (
            "DATABASE_URL",
            "postgresql+psycopg://datatools_api@postgres:5432/datatools_licenses",
        ),
        ("DATABASE_URL", "mysql://u@h/db"),
        ("DATATOOLS_TRUSTED_PUBKEYS", "abc"),
        ("DATATOOLS_PRODUCTS_FILE", "/nonexistent/products.toml"),
    ];
    for (var, value) in cases {
        let mut env = Env::new(URL);
        env.set(var, value);
        let err = error_of(&env);
        assert!(err.contains(var), "{var}={value}: {err}");
    }
}
