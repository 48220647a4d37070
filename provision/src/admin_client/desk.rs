//! The admin API's support endpoints: finding licenses a page at a time, one license's history,
//! reinstating, moving a license to another address, the keys the box trusts, email previews.

use datatools_license::api::{
    EmailChangeRequest, EmailChangeResponse, EmailKind, EmailPreview, KeyList, LicenseHistory,
    LicensePage, LicenseRecord, LicenseSearch, ReinstateRequest,
};
use datatools_license::license::LicenseKey;
use reqwest::Method;

use super::{AdminClient, NotFound};

impl AdminClient {
    /// `GET /internal/licenses/search`: one page, newest first.
    pub async fn search(&self, search: &LicenseSearch) -> anyhow::Result<LicensePage> {
        let mut query = form_urlencoded::Serializer::new(String::new());
        let text = [
            ("q", &search.q),
            ("key", &search.key),
            ("email", &search.email),
            ("name", &search.name),
            ("order", &search.order),
            ("sale", &search.sale),
            ("after", &search.after),
        ];
        for (name, value) in text {
            if let Some(value) = value {
                query.append_pair(name, value);
            }
        }
        if let Some(status) = search.status {
            query.append_pair("status", status.as_str());
        }
        if let Some(limit) = search.limit {
            query.append_pair("limit", &limit.to_string());
        }
        let query = query.finish();
        self.call(
            Method::GET,
            "/internal/licenses/search",
            &query,
            None::<&()>,
            NotFound::NewRoute,
        )
        .await
    }

    /// `GET /internal/licenses/{key}/history`.
    pub async fn license_history(&self, key: &LicenseKey) -> anyhow::Result<LicenseHistory> {
        let path = format!("/internal/licenses/{key}/history");
        self.call(Method::GET, &path, "", None::<&()>, NotFound::License)
            .await
    }

    /// `POST /internal/licenses/{key}/reinstate`.
    pub async fn reinstate(
        &self,
        key: &LicenseKey,
        request: &ReinstateRequest,
    ) -> anyhow::Result<LicenseRecord> {
        let path = format!("/internal/licenses/{key}/reinstate");
        self.call(Method::POST, &path, "", Some(request), NotFound::License)
            .await
    }

    /// `POST /internal/licenses/{key}/email`: moves the license to another address.
    pub async fn change_email(
        &self,
        key: &LicenseKey,
        request: &EmailChangeRequest,
    ) -> anyhow::Result<EmailChangeResponse> {
        let path = format!("/internal/licenses/{key}/email");
        self.call(Method::POST, &path, "", Some(request), NotFound::License)
            .await
    }

    /// `GET /internal/keys`.
    pub async fn keys(&self) -> anyhow::Result<KeyList> {
        self.call(
            Method::GET,
            "/internal/keys",
            "",
            None::<&()>,
            NotFound::NewRoute,
        )
        .await
    }

    /// `GET /internal/email/preview/{kind}`.
    pub async fn email_preview(&self, kind: EmailKind) -> anyhow::Result<EmailPreview> {
        let path = format!("/internal/email/preview/{}", kind.as_str());
        self.call(Method::GET, &path, "", None::<&()>, NotFound::NewRoute)
            .await
    }
}
