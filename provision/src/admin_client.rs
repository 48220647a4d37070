//! A client for the license server's admin API (`/internal/*`): one method per endpoint, each
//! sending the server's own request type and reading its own response type
//! (`datatools_license::api`), so both sides agree on every field by construction. The support
//! endpoints (search, history, reinstate, address change, keys, email previews) are in `desk`.

mod connect;
mod desk;
mod view;

use std::path::Path;
use std::time::Duration;

use anyhow::{bail, Context};
use datatools_license::api::{
    Alert, AlertList, ErrorBody, EventDetail, EventList, GumroadSync, GumroadSyncRequest,
    HostReport, LicenseRecord, MintRequest, MintResponse, Problem, ReissueJob, ReissueRequest,
    ResendRequest, ResendResponse, RevokeRequest,
};
use datatools_license::license::LicenseKey;
use datatools_license::secret::Secret;
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::env::Env;
use crate::strip_query;

/// dtops' own variable for the admin token (the server reads its token from a file).
const TOKEN_VAR: &str = "DATATOOLS_ADMIN_TOKEN";
/// Admin calls wait this long for an answer (a reissue re-signs every license).
const TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug)]
pub struct AdminClient {
    base: String,
    token: Secret,
    http: reqwest::Client,
    /// The SSH forward the requests go through (closed when the client is dropped).
    via: Option<Via>,
}

/// The SSH forward an [`AdminClient`]'s requests go through; closed when dropped.
#[derive(Debug)]
struct Via {
    host: crate::site::SshDestination,
    _forward: crate::ssh::Forward,
}

/// The `GET /internal/events` filters.
#[derive(Debug, Default)]
pub struct EventFilter<'a> {
    pub limit: Option<u32>,
    pub failed: bool,
    pub email: Option<&'a str>,
    pub sale: Option<&'a str>,
}

/// What a 404 from an endpoint means.
#[derive(Debug, Clone, Copy)]
enum NotFound {
    License,
    Event,
    Alert,
    /// The route itself: the request did not reach the admin API.
    Route,
    /// A route newer servers have: this one may be older than dtops, or not the admin API.
    NewRoute,
}

impl AdminClient {
    /// The admin API at `url` with the token in `token_file` (dtops' own calls on the box).
    pub fn at(url: &str, token_file: &Path) -> anyhow::Result<Self> {
        Self::with_token(url, read_token(token_file)?, TIMEOUT)
    }

    /// The api of this box: the slot that serves (blue/green), directly on 127.0.0.1, and the
    /// token in secrets/admin_token.
    pub fn for_site(env: &Env) -> anyhow::Result<Self> {
        Self::at(
            &env.site.slot_url(crate::live_slot::read_or_blue(env)?),
            &env.host.path(&env.site.secret_file("admin_token")),
        )
    }

    fn with_token(base: &str, token: Secret, timeout: Duration) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder().timeout(timeout).build()?;
        Ok(AdminClient {
            base: base.trim_end_matches('/').to_string(),
            token,
            http,
            via: None,
        })
    }

    /// `POST /internal/mint`.
    pub async fn mint(&self, request: &MintRequest) -> anyhow::Result<MintResponse> {
        self.call(
            Method::POST,
            "/internal/mint",
            "",
            Some(request),
            NotFound::Route,
        )
        .await
    }

    /// `POST /internal/licenses/{key}/revoke`.
    pub async fn revoke(
        &self,
        key: &LicenseKey,
        request: &RevokeRequest,
    ) -> anyhow::Result<LicenseRecord> {
        let path = format!("/internal/licenses/{key}/revoke");
        self.call(Method::POST, &path, "", Some(request), NotFound::License)
            .await
    }

    /// `POST /internal/licenses/{key}/resend`.
    pub async fn resend(
        &self,
        key: &LicenseKey,
        request: &ResendRequest,
    ) -> anyhow::Result<ResendResponse> {
        let path = format!("/internal/licenses/{key}/resend");
        self.call(Method::POST, &path, "", Some(request), NotFound::License)
            .await
    }

    /// `GET /internal/events`, newest first.
    pub async fn events(&self, filter: &EventFilter<'_>) -> anyhow::Result<EventList> {
        let mut query = form_urlencoded::Serializer::new(String::new());
        if let Some(limit) = filter.limit {
            query.append_pair("limit", &limit.to_string());
        }
        if filter.failed {
            query.append_pair("failed", "true");
        }
        if let Some(email) = filter.email {
            query.append_pair("email", email);
        }
        if let Some(sale) = filter.sale {
            query.append_pair("sale", sale);
        }
        let query = query.finish();
        self.call(
            Method::GET,
            "/internal/events",
            &query,
            None::<&()>,
            NotFound::Route,
        )
        .await
    }

    /// `GET /internal/events/{id}`.
    pub async fn event(&self, id: i64) -> anyhow::Result<EventDetail> {
        let path = format!("/internal/events/{id}");
        self.call(Method::GET, &path, "", None::<&()>, NotFound::Event)
            .await
    }

    /// `POST /internal/events/{id}/replay`.
    pub async fn replay(&self, id: i64) -> anyhow::Result<EventDetail> {
        let path = format!("/internal/events/{id}/replay");
        self.call(Method::POST, &path, "", None::<&()>, NotFound::Event)
            .await
    }

    /// `POST /internal/reissue`: starts (or resumes) the re-issue job and answers at once.
    pub async fn reissue(&self, request: &ReissueRequest) -> anyhow::Result<ReissueJob> {
        self.call(
            Method::POST,
            "/internal/reissue",
            "",
            Some(request),
            NotFound::Route,
        )
        .await
    }

    /// `GET /internal/reissue/{id}`, or the newest job with `None`.
    pub async fn reissue_job(&self, id: Option<i64>) -> anyhow::Result<ReissueJob> {
        let path = match id {
            Some(id) => format!("/internal/reissue/{id}"),
            None => "/internal/reissue/current".into(),
        };
        self.call(Method::GET, &path, "", None::<&()>, NotFound::Route)
            .await
    }

    /// `GET /internal/alerts`: the problems the server has open.
    pub async fn alerts(&self) -> anyhow::Result<AlertList> {
        self.call(
            Method::GET,
            "/internal/alerts",
            "",
            None::<&()>,
            NotFound::Route,
        )
        .await
    }

    /// `POST /internal/alerts/{id}/ack`.
    pub async fn acknowledge_alert(&self, id: i64) -> anyhow::Result<Alert> {
        let path = format!("/internal/alerts/{id}/ack");
        self.call(Method::POST, &path, "", None::<&()>, NotFound::Alert)
            .await
    }

    /// `POST /internal/host-report`: the host's backup and certificate facts; answers the
    /// problems they make.
    pub async fn host_report(&self, report: &HostReport) -> anyhow::Result<Vec<Problem>> {
        self.call(
            Method::POST,
            "/internal/host-report",
            "",
            Some(report),
            NotFound::Route,
        )
        .await
    }

    /// `POST /internal/gumroad/sync`: starts a sync of Gumroad's sales list.
    pub async fn gumroad_sync(&self, request: &GumroadSyncRequest) -> anyhow::Result<GumroadSync> {
        self.call(
            Method::POST,
            "/internal/gumroad/sync",
            "",
            Some(request),
            NotFound::Route,
        )
        .await
    }

    /// `GET /internal/gumroad/syncs/{id}`.
    pub async fn gumroad_sync_status(&self, id: i64) -> anyhow::Result<GumroadSync> {
        let path = format!("/internal/gumroad/syncs/{id}");
        self.call(Method::GET, &path, "", None::<&()>, NotFound::Route)
            .await
    }

    /// Sends a request and reads the answer as `R`, or fails with the server's [`ErrorBody`].
    /// No error carries the query string (it may hold an address).
    async fn call<B: Serialize + ?Sized, R: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        query: &str,
        body: Option<&B>,
        not_found: NotFound,
    ) -> anyhow::Result<R> {
        let url = match query {
            "" => format!("{}{path}", self.base),
            query => format!("{}{path}?{query}", self.base),
        };
        let mut request = self
            .http
            .request(method, &url)
            .bearer_auth(self.token.expose());
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request
            .send()
            .await
            .map_err(strip_query::from_error)
            .with_context(|| self.unreachable())?;
        crate::api_build::note(response.headers());
        let status = response.status();
        let text = response
            .text()
            .await
            .map_err(strip_query::from_error)
            .with_context(|| format!("{status} from the admin API, then the answer broke off"))?;
        if status.is_success() {
            return serde_json::from_str(&text).with_context(|| {
                format!(
                    "{path} answered {status} with a body this dtops cannot read (a server of \
                     another version?)"
                )
            });
        }
        let detail = match serde_json::from_str::<ErrorBody>(&text) {
            Ok(ErrorBody {
                field: Some(field),
                message: Some(message),
                ..
            }) => format!("{field}: {message}"),
            Ok(ErrorBody {
                message: Some(message),
                ..
            }) => message,
            _ => text.chars().take(300).collect(),
        };
        match (status, not_found) {
            (StatusCode::UNAUTHORIZED, _) => bail!(
                "the admin API refused the token (401); check --token-file / {TOKEN_VAR} (the \
                 box's is its secrets/admin_token)"
            ),
            (StatusCode::NOT_FOUND, NotFound::License) => {
                let key = path
                    .trim_start_matches("/internal/licenses/")
                    .split('/')
                    .next()
                    .unwrap_or_default();
                bail!(
                    "no license {key} on this server (404); `dtops licenses TEXT` finds one by \
                     name, address, order number or sale id"
                )
            }
            (StatusCode::NOT_FOUND, NotFound::Event) => {
                bail!("no such event (404); `dtops events` lists them")
            }
            (StatusCode::NOT_FOUND, NotFound::Alert) => {
                bail!("no such open alert (404)")
            }
            (StatusCode::NOT_FOUND, NotFound::NewRoute) => bail!(
                "404 from {}{path}: this server does not have it (a version older than this \
                 dtops? `sudo dtops upgrade` on the box), or the request went through the \
                 public proxy instead of the box's 127.0.0.1 (`--ssh user@host`)",
                strip_query::from_text(&self.base)
            ),
            (StatusCode::NOT_FOUND, NotFound::Route) => bail!(
                "404 from {}{path}: the admin API is not there (a request through the public \
                 proxy is refused; reach the box's 127.0.0.1 with `--ssh user@host`)",
                strip_query::from_text(&self.base)
            ),
            _ => bail!("{status}: {detail}"),
        }
    }
}

fn read_token(path: &Path) -> anyhow::Result<Secret> {
    let token = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the admin token file {}", path.display()))?;
    let token = token.trim();
    if token.is_empty() {
        bail!("the admin token file {} is empty", path.display());
    }
    Ok(Secret::new(token))
}

#[cfg(test)]
mod tests {
    use std::net::TcpListener;

    use crate::admin_client::*;
    use datatools_license::api::LicenseSearch;

    #[test]
    fn errors_name_the_api_but_never_the_query_or_the_token() {
        let port = {
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            listener.local_addr().unwrap().port()
        };
        let token = "admin-token-0123456789abcdef0123456789";
        let client = AdminClient::with_token(
            &format!("http://127.0.0.1:{port}"),
            Secret::new(token),
            Duration::from_millis(300),
        )
        .unwrap();
        assert!(!format!("{client:?}").contains(token));
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let error = runtime
            .block_on(client.search(&LicenseSearch {
                email: Some("buyer-secret@example.com".into()),
                limit: Some(5),
                ..LicenseSearch::default()
            }))
            .unwrap_err();
        let text = format!("{error:#} {error:?}");
        assert!(text.contains("cannot reach the admin API"), "{text}");
        assert!(text.contains(&format!("127.0.0.1:{port}")), "{text}");
        assert!(!text.contains("buyer-secret"), "{text}");
        assert!(!text.contains("limit="), "{text}");
        assert!(!text.contains("email="), "{text}");
        assert!(!text.contains(token), "{text}");
    }
}
