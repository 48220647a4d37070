//! The synthetic test ping through the public URL, found again in `gumroad_events`, and the
//! Ping URL to paste into Gumroad.

use std::time::Duration;

use anyhow::{bail, Context};
use datatools_license::api::EventStatus;
use datatools_license::config::vars;

use crate::admin_client::{AdminClient, EventFilter};
use crate::poll;
use crate::strip_query;

/// Posts a Gumroad-shaped test ping (`test=true`: nothing is minted or emailed) through the
/// public URL, then finds it in `gumroad_events` through the admin API.
pub(super) fn test_ping(public: &str, secret: &str, admin: &AdminClient) -> anyhow::Result<String> {
    let runtime = tokio::runtime::Runtime::new()?;
    let mut suffix = [0u8; 6];
    getrandom::getrandom(&mut suffix).map_err(|e| anyhow::anyhow!("OS random generator: {e}"))?;
    let sale_id = format!("dtops-cutover-{}", hex::encode(suffix));
    let product_id = datatools_license::products::Catalogue::embedded()
        .products
        .first()
        .map(|p| p.gumroad_product_id.clone())
        .unwrap_or_else(|| "dtops-cutover-check".into());
    let fields = [
        ("sale_id", sale_id.as_str()),
        ("resource_name", "sale"),
        ("test", "true"),
        ("product_id", product_id.as_str()),
        ("product_name", "dtops cutover check"),
        ("email", "cutover-check@example.com"),
        ("full_name", "dtops cutover"),
    ];
    let body = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(fields)
        .finish();
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()?;
    let url = format!("{public}/webhooks/gumroad?secret={secret}");
    let response = runtime
        .block_on(async {
            http.post(&url)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body)
                .send()
                .await
        })
        // The error would carry the URL, secret and all.
        .map_err(strip_query::from_error)
        .with_context(|| {
            format!("the test ping could not reach {public}/webhooks/gumroad (nginx, TLS, DNS?)")
        })?;
    let status = response.status();
    if !status.is_success() {
        bail!(
            "the test ping to {public}/webhooks/gumroad got {status}: {}",
            match status.as_u16() {
                404 => format!(
                    "the api does not have the webhook secret (is {} in compose.yml?) or nginx \
                     does not pass /webhooks/",
                    vars::GUMROAD_WEBHOOK_SECRET_FILE
                ),
                503 => "the api cannot store it (database?)".into(),
                _ => "see `dtops status` and the api log".into(),
            }
        );
    }
    let filter = EventFilter {
        sale: Some(&sale_id),
        ..EventFilter::default()
    };
    // Polled until the api has processed it; an unreachable admin API ends the wait at once.
    let processed =
        poll::until(
            Duration::from_secs(30),
            Duration::from_millis(200),
            || match runtime.block_on(admin.events(&filter)) {
                Err(e) => Ok(Err(e)),
                Ok(events) => match events.into_iter().next() {
                    Some(event)
                        if !matches!(
                            event.status,
                            EventStatus::Received | EventStatus::Processing
                        ) =>
                    {
                        Ok(Ok(event))
                    }
                    _ => Err(()),
                },
            },
        );
    let event = match processed {
        Ok(found) => found?,
        Err(()) => bail!(
            "the test ping was acknowledged but not processed after 30 s: `dtops events --sale \
             {sale_id}` shows it; are the api's Gumroad workers running ({} in the api's \
             environment, the api log)?",
            vars::GUMROAD_WORKERS
        ),
    };
    let detail = event
        .outcome
        .as_deref()
        .or(event.last_error.as_deref())
        .unwrap_or("");
    let mut line = format!(
        "test ping through {public}: recorded as event {} in gumroad_events, {}: {detail}",
        event.id, event.status
    );
    if product_id == "dtops-cutover-check" {
        line.push_str(
            "\n(products.toml has no Gumroad products yet: add them and deploy them with \
             `sudo dtops upgrade` before real sales arrive)",
        );
    }
    Ok(line)
}

pub(super) fn print_ping_url(url: &str) {
    println!(
        "\nPaste this Ping URL into Gumroad (Settings > Advanced > Ping), then \"Send test ping\":\n  {url}\n\
         \nThe Ping URL receives sales only. Refunds, disputes and memberships' changes reach\n\
         only resource subscriptions; add them with a Gumroad OAuth token (view_sales), pointing\n\
         at the same URL:\n  \
         for r in refund dispute dispute_won cancellation \
         subscription_ended subscription_restarted subscription_updated; do\n    \
         curl -s -X PUT https://api.gumroad.com/v2/resource_subscriptions -d access_token=\"$GUMROAD_ACCESS_TOKEN\" \\\n      \
         -d resource_name=$r --data-urlencode 'post_url={url}'\n  \
         done\n\
         \n`dtops events` shows every delivery; ADMIN.md \"Running a Gumroad webhook\" has the rest."
    );
}
