//! What `dtops status --admin-url` asks besides the alerts: the api's `/health` and its
//! `/internal/metrics` (Prometheus' text format, read back into numbers).

use std::collections::BTreeMap;

use anyhow::Context;

use super::AdminClient;
use crate::strip_query;

impl AdminClient {
    /// `GET /health`: `Err(why)` unless it says the api and its database are fine.
    pub async fn health(&self) -> Result<(), String> {
        let url = format!("{}/health", self.base);
        let response = self
            .http
            .get(&url)
            .send()
            .await
            .map_err(|_| self.unreachable())?;
        let status = response.status();
        let body = response.text().await.unwrap_or_default();
        if status.is_success() && body.contains(r#""db":"ok""#) {
            Ok(())
        } else {
            Err(format!(
                "/health answered {status} {}",
                body.chars().take(100).collect::<String>()
            ))
        }
    }

    /// `GET /internal/metrics`: each sample's name with its labels (`name{label="v"}`) and value.
    pub async fn metrics(&self) -> anyhow::Result<BTreeMap<String, f64>> {
        let url = format!("{}/internal/metrics", self.base);
        let response = self
            .http
            .get(&url)
            .bearer_auth(self.token.expose())
            .send()
            .await
            .map_err(strip_query::from_error)
            .with_context(|| self.unreachable())?;
        let status = response.status();
        anyhow::ensure!(status.is_success(), "/internal/metrics answered {status}");
        Ok(parse_samples(&response.text().await?))
    }
}

fn parse_samples(text: &str) -> BTreeMap<String, f64> {
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| {
            let (name, value) = line.rsplit_once(' ')?;
            Some((name.to_string(), value.parse().ok()?))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use crate::admin_client::view::*;

    #[test]
    fn samples_are_read_with_their_labels() {
        let text = "# HELP datatools_events x\n# TYPE datatools_events gauge\n\
                    datatools_events{status=\"failed\"} 2\ndatatools_workers_alive 1\n";
        let samples = parse_samples(text);
        assert_eq!(samples["datatools_events{status=\"failed\"}"], 2.0);
        assert_eq!(samples["datatools_workers_alive"], 1.0);
    }
}
