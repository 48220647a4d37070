//! Checks that the buyer portal and the revocation feed answer (after `dtops cutover pr3`), or
//! that the portal is off again (after `cutover pr2`), asked of the api on 127.0.0.1.

use std::time::Duration;

use anyhow::{bail, Context};

fn get(url: &str) -> anyhow::Result<(u16, String)> {
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()?;
        let response = client
            .get(url)
            .send()
            .await
            .with_context(|| format!("cannot reach {url}"))?;
        let status = response.status().as_u16();
        Ok((status, response.text().await.unwrap_or_default()))
    })
}

/// The portal's sign-in page answers 200 and the compact feed is a signed `DTREV2:` document.
pub fn check_on(api: &str) -> anyhow::Result<String> {
    let (status, page) = get(&format!("{api}/portal/"))?;
    if status != 200 || !page.contains("<form") {
        bail!(
            "the portal did not answer at {api}/portal/ ({status}); look at the api's log \
             (`dtops status`, `sudo dtops logs api`)"
        );
    }
    let (status, feed) = get(&format!("{api}/revocations/v2"))?;
    if status != 200 || !feed.starts_with("DTREV2:") {
        bail!("the revocation feed did not answer at {api}/revocations/v2 ({status})");
    }
    Ok("the buyer portal answers (sign-in page) and the revocation feed is signed".into())
}

/// The portal answers 404 like an unknown route.
pub fn check_off(api: &str) -> anyhow::Result<()> {
    let (status, _) = get(&format!("{api}/portal/"))?;
    if status != 404 {
        bail!("the portal still answers at {api}/portal/ ({status}) after leaving stage pr3");
    }
    Ok(())
}
