//! What buyers read, through the real server: the license email's first delivery (not "sent
//! again"), the edition by name, the portal and the support address (and Reply-To), texts
//! replaced on the box without a rebuild, previews of each email, and the keys the server
//! trusts.

mod common;

use common::gumroad;
use common::portal::{self, PUBLIC_URL};
use common::postmark::FakePostmark;
use common::TestServer;
use datatools_license::license::SigningKeyPair;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

async fn call(server: &TestServer, method: Method, path: &str, body: Value) -> (StatusCode, Value) {
    let mut request = server.admin(method, path);
    if !body.is_null() {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_first_delivery_reads_as_one_and_names_the_portal_support_and_edition() {
    let postmark = FakePostmark::start().await;
    let server = TestServer::start_with(|env| {
        portal::configure(env, &postmark);
        env.set("DATATOOLS_EMAIL_FROM", "DataTools <licenses@example.com>")
            .set("DATATOOLS_SUPPORT_EMAIL", "help@example.com");
    })
    .await;
    let key = server
        .mint(
            &json!({"name": "Rae Viewer", "email": "rae@example.com", "tier": "core",
                      "source": "comp"}),
        )
        .await["license_key"]
        .as_str()
        .unwrap()
        .to_string();
    let (status, sent) = call(
        &server,
        Method::POST,
        &format!("/internal/licenses/{key}/resend"),
        json!({"first": true}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{sent}");
    let mail = postmark.requests().pop().unwrap();
    assert_eq!(mail["To"], "rae@example.com");
    assert_eq!(mail["From"], "DataTools <licenses@example.com>");
    assert_eq!(mail["ReplyTo"], "help@example.com");
    assert_eq!(mail["Subject"], "Your DataTools license");
    let body = mail["TextBody"].as_str().unwrap();
    assert!(
        body.contains("Here is your license for DataTools Core."),
        "{body}"
    );
    assert!(
        !body.contains("again") && !body.contains("requested"),
        "{body}"
    );
    assert!(body.contains("Edition:      DataTools Core\n"), "{body}");
    assert!(
        body.contains(&format!("Sign in at {PUBLIC_URL}/portal/")),
        "{body}"
    );
    assert!(
        body.contains("Questions? Write to help@example.com."),
        "{body}"
    );

    // A re-send says so; the sign-in email (a buyer email too) replies to support.
    let (status, _) = call(
        &server,
        Method::POST,
        &format!("/internal/licenses/{key}/resend"),
        Value::Null,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let mail = postmark.requests().pop().unwrap();
    assert_eq!(mail["Subject"], "Your DataTools license (sent again)");
    let mut browser = portal::Browser::new(&server);
    browser.request_link("rae@example.com").await;
    let sign_in = portal::latest_mail(&server, &postmark, "rae@example.com").await;
    assert!(sign_in.link.starts_with(PUBLIC_URL));
    assert_eq!(sign_in.request["ReplyTo"], "help@example.com");
    let text = sign_in.request["TextBody"].as_str().unwrap();
    assert!(
        text.contains("Questions? Write to help@example.com."),
        "{text}"
    );
    server.stop().await;
}

#[tokio::test]
async fn texts_on_the_box_replace_the_built_in_ones_and_a_broken_one_names_its_line() {
    let postmark = FakePostmark::start().await;
    let texts = tempfile::tempdir().unwrap();
    let other = SigningKeyPair::generate();
    let server = TestServer::start_with(|env| {
        gumroad::configure(env, &postmark.url);
        env.set("DATATOOLS_EMAIL_TEMPLATES", texts.path().to_str().unwrap())
            .set("DATATOOLS_SITE_NAME", "Acme Tools")
            .set("DATATOOLS_TRUSTED_PUBKEYS", other.public_hex());
    })
    .await;

    // The keys the box trusts: the signing key first, then the older one.
    let (status, keys) = call(&server, Method::GET, "/internal/keys", Value::Null).await;
    assert_eq!(status, StatusCode::OK);
    let signing = &server.state.config.signing_key;
    assert_eq!(
        keys["keys"],
        json!([
            {"key_id": signing.key_id().to_string(), "public_key": signing.public_hex(), "signing": true},
            {"key_id": other.key_id().to_string(), "public_key": other.public_hex(), "signing": false},
        ])
    );

    // Every email previews, built in, under the site's name.
    for kind in [
        "purchase",
        "delivery",
        "renewal",
        "resend",
        "reissue",
        "address_change",
        "sign_in",
    ] {
        let (status, preview) = call(
            &server,
            Method::GET,
            &format!("/internal/email/preview/{kind}"),
            Value::Null,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{kind}: {preview}");
        assert_eq!(preview["kind"], kind);
        assert!(preview["template"]
            .as_str()
            .unwrap()
            .starts_with("built-in"));
        assert!(
            preview["subject"].as_str().unwrap().contains("Acme Tools"),
            "{preview}"
        );
        let body = preview["text_body"].as_str().unwrap();
        assert!(
            body.contains("Acme Tools") && !body.contains("to DataTools"),
            "{preview}"
        );
        assert!(!body.contains("Open DataTools"), "{preview}");
    }
    let (status, error) = call(
        &server,
        Method::GET,
        "/internal/email/preview/invoice",
        Value::Null,
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        error["message"].as_str().unwrap().contains("purchase"),
        "{error}"
    );

    // An override takes effect at the next email: no rebuild, no restart.
    let file = texts.path().join("license.txt.j2");
    std::fs::write(
        &file,
        "Subject: {{ site_name }}: your key\n\nHi {{ name }}!\n{{ blob }}\nEdition {{ edition }}\n",
    )
    .unwrap();
    let (_, preview) = call(
        &server,
        Method::GET,
        "/internal/email/preview/purchase",
        Value::Null,
    )
    .await;
    assert_eq!(preview["template"], file.display().to_string());
    assert_eq!(preview["subject"], "Acme Tools: your key");
    let key = server.mint(&common::mint_body()).await["license_key"]
        .as_str()
        .unwrap()
        .to_string();
    let resend = format!("/internal/licenses/{key}/resend");
    let (status, _) = call(&server, Method::POST, &resend, Value::Null).await;
    assert_eq!(status, StatusCode::OK);
    let mail = postmark.requests().pop().unwrap();
    assert_eq!(mail["Subject"], "Acme Tools: your key");
    assert!(mail["TextBody"]
        .as_str()
        .unwrap()
        .starts_with("Hi Test Buyer!\nDTLIC2:"));

    // A broken one: the preview and the email both name the file and the line; nothing is sent.
    std::fs::write(&file, "Subject: x\n\nHello {{ name }},\n{{ blobb }}\n").unwrap();
    let (status, error) = call(
        &server,
        Method::GET,
        "/internal/email/preview/resend",
        Value::Null,
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let message = error["message"].as_str().unwrap();
    assert!(
        message.contains(&format!("{} line 4", file.display())),
        "{message}"
    );
    let before = postmark.requests().len();
    let (status, error) = call(&server, Method::POST, &resend, Value::Null).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY, "{error}");
    assert!(
        error["message"].as_str().unwrap().contains("line 4"),
        "{error}"
    );
    assert_eq!(postmark.requests().len(), before);

    // A file no email is named after is reported (a typo would otherwise do nothing).
    std::fs::write(texts.path().join("licence.txt.j2"), "x").unwrap();
    std::fs::remove_file(&file).unwrap();
    let (_, preview) = call(
        &server,
        Method::GET,
        "/internal/email/preview/purchase",
        Value::Null,
    )
    .await;
    assert!(preview["unknown_files"][0]
        .as_str()
        .unwrap()
        .ends_with("licence.txt.j2"));
    server.stop().await;
}
