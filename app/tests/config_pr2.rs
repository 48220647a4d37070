//! PR 2 configuration: the Gumroad secret, Postmark, the sender and the outbox. All optional;
//! each error names the variable and never shows a secret.

mod common;

use common::Env;

const URL: &str = "postgres://postgres@localhost/db?host=/nonexistent";

fn error_of(env: &Env) -> String {
    env.config()
        .expect_err("configuration should be refused")
        .to_string()
}

#[test]
fn none_of_it_is_required_and_the_defaults_are_the_runbooks() {
    let config = Env::new(URL).config().unwrap();
    assert!(config.gumroad.webhook_secret.is_none());
    assert!(config.gumroad.seller_id.is_none());
    assert_eq!(config.gumroad.workers, 2);
    assert_eq!(config.email.from, "licenses@datatools.unalogix.com");
    assert!(config.email.postmark.is_none());
    assert!(config.email.outbox_dir.is_none());
}

#[test]
fn a_configured_webhook_and_postmark() {
    let mut env = Env::new(URL);
    let secret = env.path("gumroad_secret");
    std::fs::write(&secret, "0123456789abcdef0123456789abcdef\n").unwrap();
    let token = env.path("postmark_token");
    std::fs::write(&token, "server-token").unwrap();
    env.set("GUMROAD_WEBHOOK_SECRET_FILE", secret.to_str().unwrap())
        .set("POSTMARK_TOKEN_FILE", token.to_str().unwrap())
        .set(
            "DATATOOLS_EMAIL_FROM",
            "DataTools Licenses <licenses@datatools.unalogix.com>",
        )
        .set("DATATOOLS_GUMROAD_WORKERS", "0");
    let config = env.config().unwrap();
    assert!(config
        .gumroad
        .webhook_secret
        .as_ref()
        .unwrap()
        .matches("0123456789abcdef0123456789abcdef"));
    let postmark = config.email.postmark.as_ref().unwrap();
    assert_eq!(postmark.api_url, "https://api.postmarkapp.com");
    assert_eq!(postmark.token.expose(), "server-token");
    assert_eq!(config.gumroad.workers, 0);
    assert!(!format!("{config:?}").contains("server-token"));
    assert!(!format!("{config:?}").contains("0123456789abcdef0123"));
}

#[test]
fn bad_values_are_refused_naming_the_variable() {
    let cases: &[(&str, &str, &str)] = &[
        ("GUMROAD_WEBHOOK_SECRET_FILE", "x9q2z", "shorter than 16"),
        (
            "GUMROAD_WEBHOOK_SECRET_FILE",
            "has spaces and & in it, long enough",
            "letters, digits",
        ),
        ("POSTMARK_API_URL", "ftp://postmark", "http(s) URL"),
        (
            "DATATOOLS_EMAIL_FROM",
            "not-an-address",
            "not an email address",
        ),
        ("DATATOOLS_GUMROAD_WORKERS", "99", "0 to 16"),
        ("DATATOOLS_OUTBOX_DIR", "/tmp/outbox", "set one"),
    ];
    for (var, value, expect) in cases {
        let mut env = Env::new(URL);
        let token = env.path("postmark_token");
        std::fs::write(&token, "server-token").unwrap();
        env.set("POSTMARK_TOKEN_FILE", token.to_str().unwrap());
        if var.ends_with("_FILE") {
            let file = env.path("value");
            std::fs::write(&file, value).unwrap();
            env.set(var, file.to_str().unwrap());
        } else {
            env.set(var, *value);
        }
        let err = error_of(&env);
        assert!(err.contains(var) && err.contains(expect), "{var}: {err}");
        if var.ends_with("_FILE") {
            assert!(
                !err.contains(value),
                "{var}: the secret is in the error: {err}"
            );
        }
    }
    let mut env = Env::new(URL);
    env.set("GUMROAD_WEBHOOK_SECRET_FILE", "/nonexistent/gumroad_secret");
    let err = error_of(&env);
    assert!(
        err.contains("GUMROAD_WEBHOOK_SECRET_FILE") && err.contains("/nonexistent/gumroad_secret"),
        "{err}"
    );
}
