//! Every server setting ADMIN.md documents can be set in site.toml and reaches the running api
//! (the native runtime starts it with exactly the environment compose.yml gives the container).

mod common;

use common::sandbox::Sandbox;

/// The environment of a running process.
fn environ(pid: u32) -> Vec<(String, String)> {
    let raw = std::fs::read(format!("/proc/{pid}/environ")).unwrap();
    raw.split(|b| *b == 0)
        .filter(|v| !v.is_empty())
        .filter_map(|v| {
            let text = String::from_utf8_lossy(v).into_owned();
            let (k, v) = text.split_once('=')?;
            Some((k.to_string(), v.to_string()))
        })
        .collect()
}

#[test]
fn every_server_setting_in_site_toml_reaches_the_api() {
    let sandbox = Sandbox::with_site(|text| {
        text.replace("stage = \"pr1\"", "stage = \"pr3\"")
            .replace("gumroad = false", "gumroad = true")
            .replace("postmark = false", "postmark = true")
            .replace(
                "# postmark_api_url = \"https://api.postmarkapp.com\"",
                "postmark_api_url = \"http://127.0.0.1:9/postmark\"",
            )
            .replace("log_level = \"info\"", "log_level = \"debug\"")
            .replace("db_pool_size = 16", "db_pool_size = 7")
            .replace("gumroad_workers = 2", "gumroad_workers = 3")
            .replace(
                "# gumroad_seller_id = \"...\"",
                "gumroad_seller_id = \"SeLLeR-1d==\"",
            )
            .replace(
                "# email = \"ops@example.com\"",
                "email = \"ops@example.com\"",
            )
            .replace("# retry_minutes = 30", "retry_minutes = 45")
            .replace("# check_seconds = 60", "check_seconds = 20")
            .replace("# portal_links_per_day = 500", "portal_links_per_day = 250")
            .replace(
                "# support = \"support@datatools.unalogix.com\"",
                "support = \"help@example.com\"",
            )
            .replace("texts = false", "texts = true")
            .replace("# name = \"DataTools\"", "name = \"Acme Tools\"")
            .replace(
                "# url = \"https://datatools.unalogix.com\"",
                "url = \"https://acme.example\"",
            )
            .replace(
                "# logo_url = \"https://datatools.unalogix.com/logo.svg\"",
                "logo_url = \"https://acme.example/logo.svg\"",
            )
    });
    // The secrets the pr3 stage needs (cutover would write them).
    for (name, value) in [
        ("postmark_token", "pm-token-0123456789"),
        ("gumroad_secret", "0123456789abcdef0123456789abcdef"),
    ] {
        let path = sandbox.path(&format!("/srv/datatools-license/secrets/{name}"));
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, value).unwrap();
    }
    sandbox.provision();
    let env = environ(sandbox.api_pid());
    let get = |name: &str| {
        env.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or_else(|| panic!("{name} is not in the api's environment: {env:?}"))
    };
    assert_eq!(get("DATATOOLS_LOG"), "debug");
    assert_eq!(get("DATATOOLS_DB_POOL_SIZE"), "7");
    assert_eq!(get("DATATOOLS_GUMROAD_WORKERS"), "3");
    assert_eq!(get("DATATOOLS_GUMROAD_SELLER_ID"), "SeLLeR-1d==");
    assert_eq!(get("POSTMARK_API_URL"), "http://127.0.0.1:9/postmark");
    assert_eq!(
        get("DATATOOLS_EMAIL_FROM"),
        "licenses@datatools.unalogix.com"
    );
    assert_eq!(get("DATATOOLS_ALERT_EMAIL"), "ops@example.com");
    assert_eq!(get("DATATOOLS_ALERT_RETRY_MINUTES"), "45");
    assert_eq!(get("DATATOOLS_ALERT_CHECK_SECONDS"), "20");
    assert_eq!(get("DATATOOLS_PORTAL"), "on");
    assert_eq!(get("DATATOOLS_PORTAL_LINKS_PER_DAY"), "250");
    assert_eq!(get("DATATOOLS_SUPPORT_EMAIL"), "help@example.com");
    assert_eq!(get("DATATOOLS_SITE_NAME"), "Acme Tools");
    assert_eq!(get("DATATOOLS_SITE_URL"), "https://acme.example");
    assert_eq!(
        get("DATATOOLS_SITE_LOGO_URL"),
        "https://acme.example/logo.svg"
    );

    // [email] texts: the directory exists for the api to read (compose mounts it read-only at
    // the path the api is told; the native runtime passes the host's), and a file put there is
    // what the next email says, with no restart.
    let texts = sandbox.path("/srv/datatools-license/email-texts");
    assert_eq!(get("DATATOOLS_EMAIL_TEMPLATES"), texts.to_str().unwrap());
    let compose =
        std::fs::read_to_string(sandbox.path("/srv/datatools-license/compose.yml")).unwrap();
    assert!(
        compose.contains("\"DATATOOLS_EMAIL_TEMPLATES\": \"/etc/datatools/email-texts\"")
            && compose.contains("- \"./email-texts:/etc/datatools/email-texts:ro\""),
        "{compose}"
    );
    std::fs::write(
        texts.join("sign_in.txt.j2"),
        "Subject: {{ site_name }}: your link\n\n{{ link }}\nAsk {{ support }}.\n",
    )
    .unwrap();
    let preview = sandbox.admin(&["email", "preview", "sign_in"]);
    assert!(
        preview.contains("Subject: Acme Tools: your link"),
        "{preview}"
    );
    assert!(preview.contains("Reply-To: help@example.com"), "{preview}");
    assert!(preview.contains("Ask help@example.com."), "{preview}");
    assert!(preview.contains(&format!(
        "(from {})",
        texts.join("sign_in.txt.j2").display()
    )));
}

#[test]
fn bad_server_settings_are_refused_with_file_line_and_column() {
    for (from, to, wanted) in [
        (
            "db_pool_size = 16",
            "db_pool_size = 0",
            "server.db_pool_size = 0 is not 1 to 1000",
        ),
        (
            "gumroad_workers = 2",
            "gumroad_workers = 99",
            "server.gumroad_workers = 99 is not 0 to 16",
        ),
        (
            "log_level = \"info\"",
            "log_level = \"loud\"",
            "unknown variant `loud`",
        ),
        (
            "# gumroad_seller_id = \"...\"",
            "gumroad_seller_id = \"a b\"",
            "is not a Gumroad seller id",
        ),
        (
            "# postmark_api_url = \"https://api.postmarkapp.com\"",
            "postmark_api_url = \"https://x/\\\" ; evil\"",
            "is not an http(s) URL",
        ),
        (
            "# email = \"ops@example.com\"",
            "email = \"not an address\"",
            "is not an email address",
        ),
        (
            "# portal_links_per_day = 500",
            "portal_links_per_day = 0",
            "server.portal_links_per_day = 0 is not 1 to 100000",
        ),
        (
            "# check_seconds = 60",
            "check_seconds = 0",
            "alerts.check_seconds: 0 is out of range",
        ),
        (
            "# logo_url = \"https://datatools.unalogix.com/logo.svg\"",
            "logo_url = \"http://datatools.unalogix.com/logo.svg\"",
            "is not an https URL",
        ),
        (
            "# name = \"DataTools\"",
            "name = \"Data\\u202eTools\"",
            "is not a name buyers can be shown",
        ),
        (
            "# support = \"support@datatools.unalogix.com\"",
            "support = \"help\"",
            "is not an email address",
        ),
    ] {
        let sandbox = Sandbox::with_site(|text| {
            assert!(text.contains(from), "{from}");
            text.replace(from, to)
        });
        let output = sandbox.dtops(&["plan"]);
        assert!(!output.status.success(), "{to}");
        let err = common::stderr(&output);
        assert!(err.contains(wanted), "{to}: {err}");
        assert!(err.contains("site.toml:"), "{to}: {err}");
    }
}
