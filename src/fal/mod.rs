//! The only code that speaks to fal. Every non-2xx answer becomes a [`ProviderError`] through
//! the normalizer in [`errors`]; the user's key travels only in the `Authorization` header and
//! never reaches a log (its `Debug` is redacted).

mod errors;

pub use errors::ProviderError;

use std::time::Duration;

use serde::Deserialize;
use url::Url;

use crate::config::FalUrls;

/// A user's fal key. Deliberately not `Display`, and `Debug` hides it.
#[derive(Clone)]
pub struct FalKey(String);

impl FalKey {
    pub fn new(key: String) -> Self {
        FalKey(key)
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    fn header_value(&self) -> String {
        format!("Key {}", self.0)
    }
}

impl std::fmt::Debug for FalKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FalKey(<redacted>)")
    }
}

/// What fal's billing endpoint says about a key.
#[derive(Debug, Clone, PartialEq)]
pub enum BillingCheck {
    /// The key works and may read billing.
    Credits { balance: f64, currency: String },
    /// The key works (fal answered 403 on billing: no admin scope) but credits are hidden.
    CreditsUnavailable,
}

#[derive(Clone)]
pub struct FalClient {
    http: reqwest::Client,
    urls: FalUrls,
}

impl FalClient {
    pub fn new(urls: FalUrls) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(30))
            .user_agent(concat!("fal-studio/", env!("CARGO_PKG_VERSION")))
            // Redirects could carry the key to another host; fal's API does not redirect.
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(FalClient { http, urls })
    }

    /// Checks a key against `GET /v1/account/billing?expand=credits`.
    pub async fn billing(&self, key: &FalKey) -> Result<BillingCheck, ProviderError> {
        let url = join(&self.urls.api, "v1/account/billing");
        let response = self
            .http
            .get(url)
            .query(&[("expand", "credits")])
            .header(reqwest::header::AUTHORIZATION, key.header_value())
            .send()
            .await
            .map_err(|e| network_error("fal's billing API", e))?;

        let status = response.status().as_u16();
        if status == 403 {
            return Ok(BillingCheck::CreditsUnavailable);
        }
        let body = read_success(response).await?;
        let billing: BillingBody = serde_json::from_slice(&body)
            .map_err(|e| unreadable_answer("fal's billing API", &e))?;
        Ok(match billing.credits {
            Some(c) => BillingCheck::Credits {
                balance: c.current_balance,
                currency: c.currency,
            },
            None => BillingCheck::CreditsUnavailable,
        })
    }
}

#[derive(Deserialize)]
struct BillingBody {
    credits: Option<CreditsBody>,
}

#[derive(Deserialize)]
struct CreditsBody {
    current_balance: f64,
    currency: String,
}

/// `base` + `path`, keeping any path prefix `base` already has (tests mount fal under one host).
fn join(base: &Url, path: &str) -> Url {
    let mut url = base.clone();
    let prefix = url.path().trim_end_matches('/').to_owned();
    url.set_path(&format!("{prefix}/{path}"));
    url
}

async fn read_success(response: reqwest::Response) -> Result<axum::body::Bytes, ProviderError> {
    let status = response.status();
    let headers = response.headers().clone();
    let body = response
        .bytes()
        .await
        .map_err(|e| network_error("fal", e))?;
    if status.is_success() {
        Ok(body)
    } else {
        Err(ProviderError::from_response(
            status.as_u16(),
            &headers,
            &body,
        ))
    }
}

fn network_error(what: &str, err: reqwest::Error) -> ProviderError {
    let why = if err.is_timeout() {
        "it did not answer in time"
    } else if err.is_connect() {
        "the connection failed"
    } else {
        "the connection broke"
    };
    tracing::warn!(error = %err.without_url(), "{what} unreachable");
    ProviderError::network(format!(
        "Could not reach {what}: {why}. Check the server's network connection and try again."
    ))
}

fn unreadable_answer(what: &str, err: &serde_json::Error) -> ProviderError {
    let mut e = ProviderError::network(format!(
        "{what} answered with something the studio could not read ({err}). Try again later."
    ));
    e.category = crate::error::Category::ProviderError;
    e.retryable = false;
    e
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn join_keeps_a_base_path_prefix() {
        let base = Url::parse("http://127.0.0.1:9/fal/api/").unwrap();
        assert_eq!(
            join(&base, "v1/account/billing").as_str(),
            "http://127.0.0.1:9/fal/api/v1/account/billing"
        );
        let bare = Url::parse("https://api.fal.ai").unwrap();
        assert_eq!(
            join(&bare, "v1/models").as_str(),
            "https://api.fal.ai/v1/models"
        );
    }

    #[test]
    fn a_key_never_prints() {
        let key = FalKey::new("secret-id:secret-value".into());
        assert!(!format!("{key:?}").contains("secret"));
    }
}
