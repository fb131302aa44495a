//! The only code that speaks to fal. Every non-2xx answer becomes a [`ProviderError`] through
//! the normalizer in [`errors`]; the user's key travels only in the `Authorization` header and
//! never reaches a log (its `Debug` is redacted).

mod bounded;
mod errors;
pub mod outbound;
mod retry;

pub use errors::ProviderError;
pub use retry::RetryPolicy;

use std::{sync::Arc, time::Duration};

use axum::body::Bytes;
use serde::Deserialize;
use url::Url;

use crate::config::FalUrls;
use bounded::{CappedError, ERROR_BODY_CAP, JSON_BODY_CAP};
use outbound::{HostPattern, OutboundPolicy, PublicOnly, Route};

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

/// One page of fal's model catalog, read leniently: fal adds metadata keys over time.
#[derive(Debug, Clone, Deserialize)]
pub struct ModelPage {
    #[serde(default)]
    pub models: Vec<CatalogModel>,
    #[serde(default)]
    pub next_cursor: Option<String>,
    #[serde(default)]
    pub has_more: bool,
}

#[derive(Debug, Clone, Deserialize)]
pub struct CatalogModel {
    pub endpoint_id: String,
    #[serde(default)]
    pub metadata: CatalogMetadata,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct CatalogMetadata {
    pub display_name: Option<String>,
    pub category: Option<String>,
    pub description: Option<String>,
    pub status: Option<String>,
    pub thumbnail_url: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct ModelQuery {
    pub q: Option<String>,
    pub category: Option<String>,
    pub cursor: Option<String>,
    pub limit: u32,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct UnitPrice {
    pub endpoint_id: String,
    pub unit_price: f64,
    pub unit: String,
    pub currency: String,
}

#[derive(Deserialize)]
struct PricingBody {
    #[serde(default)]
    prices: Vec<UnitPrice>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct CostEstimate {
    pub total_cost: f64,
    pub currency: String,
}

#[derive(Clone)]
pub struct FalClient {
    /// fal's API, and files on the configured fal origins.
    http: reqwest::Client,
    /// Files anywhere else that [`OutboundPolicy`] allows: public addresses only.
    public: reqwest::Client,
    policy: Arc<OutboundPolicy>,
    urls: FalUrls,
    retry_base: Duration,
}

impl FalClient {
    /// `output_hosts`: where output files may be downloaded from besides the fal origins
    /// (`OUTPUT_HOSTS`).
    pub fn new(
        urls: FalUrls,
        retry_base: Duration,
        output_hosts: Vec<HostPattern>,
    ) -> anyhow::Result<Self> {
        let builder = || {
            reqwest::Client::builder()
                .connect_timeout(Duration::from_secs(10))
                .timeout(Duration::from_secs(30))
                .user_agent(concat!("fal-studio/", env!("CARGO_PKG_VERSION")))
                // Redirects could carry the key, or a download, to another host; fal's API and
                // its CDN do not redirect.
                .redirect(reqwest::redirect::Policy::none())
        };
        let http = builder().build()?;
        let public = builder()
            .dns_resolver(Arc::new(PublicOnly::system()))
            .build()?;
        let policy = OutboundPolicy::new(
            output_hosts,
            &[&urls.queue, &urls.run, &urls.api, &urls.site, &urls.rest],
        );
        Ok(FalClient {
            http,
            public,
            policy: Arc::new(policy),
            urls,
            retry_base,
        })
    }

    fn client_for(&self, route: Route) -> &reqwest::Client {
        match route {
            Route::Fal => &self.http,
            Route::Public => &self.public,
        }
    }

    /// Checks a key against `GET /v1/account/billing?expand=credits`.
    pub async fn billing(&self, key: &FalKey) -> Result<BillingCheck, ProviderError> {
        let url = join(&self.urls.api, "v1/account/billing");
        let result = self
            .send(
                "fal's billing API",
                RetryPolicy::read(self.retry_base),
                || self.http.get(url.clone()).query(&[("expand", "credits")]),
                Some(key),
            )
            .await;
        let body = match result {
            Ok(body) => body,
            Err(e) if e.status == Some(403) => return Ok(BillingCheck::CreditsUnavailable),
            Err(e) => return Err(e),
        };
        let billing: BillingBody = parse("fal's billing API", &body)?;
        Ok(match billing.credits {
            Some(c) => BillingCheck::Credits {
                balance: c.current_balance,
                currency: c.currency,
            },
            None => BillingCheck::CreditsUnavailable,
        })
    }

    /// What fal billed for `request_ids` (at most 50; fal's limit), from `GET
    /// /v1/models/billing-events`, since `start` (`YYYY-MM-DD`; fal's default is only a day
    /// back). `NotAllowed`: the key may run models but not read billing (no admin scope).
    pub async fn billing_events(
        &self,
        key: &FalKey,
        request_ids: &[&str],
        start: &str,
    ) -> Result<BillingEvents, ProviderError> {
        let url = join(&self.urls.api, "v1/models/billing-events");
        let mut events = Vec::new();
        let mut cursor: Option<String> = None;
        // A request has one event, or a few; a handful of pages covers 50 requests.
        for _ in 0..MAX_BILLING_PAGES {
            let mut query: Vec<(&str, &str)> = vec![("limit", "100"), ("start", start)];
            query.extend(request_ids.iter().map(|id| ("request_id", *id)));
            if let Some(c) = &cursor {
                query.push(("cursor", c.as_str()));
            }
            let result = self
                .send(
                    "fal's billing events",
                    RetryPolicy::read(self.retry_base),
                    || self.http.get(url.clone()).query(&query),
                    Some(key),
                )
                .await;
            let body = match result {
                Ok(body) => body,
                Err(e) if matches!(e.status, Some(401 | 403)) => {
                    return Ok(BillingEvents::NotAllowed);
                }
                Err(e) => return Err(e),
            };
            let page: BillingEventPage = parse("fal's billing events", &body)?;
            events.extend(page.billing_events);
            match page.next_cursor {
                Some(next) if page.has_more => cursor = Some(next),
                _ => break,
            }
        }
        Ok(BillingEvents::Events(events))
    }

    /// One page of `GET /v1/models`, with the user's key when they have one.
    pub async fn models(
        &self,
        key: Option<&FalKey>,
        query: &ModelQuery,
    ) -> Result<ModelPage, ProviderError> {
        let url = join(&self.urls.api, "v1/models");
        let mut params: Vec<(&str, String)> = vec![("limit", query.limit.to_string())];
        for (name, value) in [
            ("q", &query.q),
            ("category", &query.category),
            ("cursor", &query.cursor),
        ] {
            if let Some(v) = value {
                params.push((name, v.clone()));
            }
        }
        let body = self
            .send(
                "fal's model catalog",
                RetryPolicy::read(self.retry_base),
                || self.http.get(url.clone()).query(&params),
                key,
            )
            .await?;
        parse("fal's model catalog", &body)
    }

    /// Unit prices for up to 50 endpoints (`GET /v1/models/pricing`; a key is required).
    pub async fn pricing(
        &self,
        key: &FalKey,
        endpoint_ids: &[String],
    ) -> Result<Vec<UnitPrice>, ProviderError> {
        let url = join(&self.urls.api, "v1/models/pricing");
        let params: Vec<(&str, &str)> = endpoint_ids
            .iter()
            .map(|id| ("endpoint_id", id.as_str()))
            .collect();
        let body = self
            .send(
                "fal's pricing API",
                RetryPolicy::read(self.retry_base),
                || self.http.get(url.clone()).query(&params),
                Some(key),
            )
            .await?;
        let pricing: PricingBody = parse("fal's pricing API", &body)?;
        Ok(pricing.prices)
    }

    /// fal's own cost estimate for `unit_quantity` units of one endpoint.
    pub async fn estimate(
        &self,
        key: &FalKey,
        endpoint_id: &str,
        unit_quantity: f64,
    ) -> Result<CostEstimate, ProviderError> {
        let url = join(&self.urls.api, "v1/models/pricing/estimate");
        let body = serde_json::json!({
            "estimate_type": "unit_price",
            "endpoints": { endpoint_id: { "unit_quantity": unit_quantity } },
        });
        let answer = self
            .send(
                "fal's pricing API",
                RetryPolicy::read(self.retry_base),
                || self.http.post(url.clone()).json(&body),
                Some(key),
            )
            .await?;
        parse("fal's pricing API", &answer)
    }

    /// The endpoint's OpenAPI document from `FAL_SITE_URL`.
    pub async fn openapi(
        &self,
        key: Option<&FalKey>,
        endpoint_id: &str,
    ) -> Result<serde_json::Value, ProviderError> {
        let url = join(&self.urls.site, "api/openapi/queue/openapi.json");
        let body = self
            .send(
                "fal's OpenAPI documents",
                RetryPolicy::read(self.retry_base),
                || {
                    self.http
                        .get(url.clone())
                        .query(&[("endpoint_id", endpoint_id)])
                },
                key,
            )
            .await?;
        parse("fal's OpenAPI documents", &body)
    }

    /// `POST {queue}/{endpoint_id}`. Retried only when fal certainly did not receive it.
    pub async fn submit(
        &self,
        key: &FalKey,
        endpoint_id: &str,
        input: &serde_json::Value,
        retention: &Retention,
    ) -> Result<Submitted, ProviderError> {
        let url = join(&self.urls.queue, endpoint_id);
        let body = self
            .send(
                "fal's queue",
                RetryPolicy::submit(self.retry_base),
                || retention.apply(self.http.post(url.clone()).json(input), true),
                Some(key),
            )
            .await?;
        parse("fal's queue", &body)
    }

    /// The status, result and cancel URLs of a submitted request.
    pub fn request_urls(&self, endpoint_id: &str, submitted: &Submitted) -> RequestUrls {
        let base = join(
            &self.urls.queue,
            &format!("{}/requests/{}", app_id(endpoint_id), submitted.request_id),
        );
        let pick = |given: &Option<String>, suffix: &str| {
            given
                .as_deref()
                .and_then(|u| Url::parse(u).ok())
                .filter(|u| u.origin() == self.urls.queue.origin())
                .unwrap_or_else(|| {
                    let mut u = base.clone();
                    u.set_path(&format!("{}{suffix}", base.path()));
                    u
                })
        };
        RequestUrls {
            status: pick(&submitted.status_url, "/status"),
            response: pick(&submitted.response_url, ""),
            cancel: pick(&submitted.cancel_url, "/cancel"),
        }
    }

    /// Whether `url` is on the configured queue host (so the key may be sent to it).
    pub fn is_queue_url(&self, url: &Url) -> bool {
        url.origin() == self.urls.queue.origin()
    }

    pub async fn status(
        &self,
        key: &FalKey,
        status_url: &Url,
    ) -> Result<QueueStatus, ProviderError> {
        let body = self
            .send(
                "fal's queue",
                RetryPolicy::status(self.retry_base),
                || self.http.get(status_url.clone()).query(&[("logs", "1")]),
                Some(key),
            )
            .await?;
        parse("fal's queue", &body)
    }

    pub async fn result(
        &self,
        key: &FalKey,
        response_url: &Url,
    ) -> Result<serde_json::Value, ProviderError> {
        let body = self
            .send(
                "fal's queue",
                RetryPolicy::read(self.retry_base),
                || self.http.get(response_url.clone()),
                Some(key),
            )
            .await?;
        parse("fal's queue", &body)
    }

    pub async fn cancel(
        &self,
        key: &FalKey,
        cancel_url: &Url,
    ) -> Result<CancelOutcome, ProviderError> {
        let result = self
            .send(
                "fal's queue",
                RetryPolicy::read(self.retry_base),
                || self.http.put(cancel_url.clone()),
                Some(key),
            )
            .await;
        match result {
            Ok(_) => Ok(CancelOutcome::Requested),
            Err(e) if e.status == Some(400) => Ok(CancelOutcome::AlreadyCompleted),
            Err(e) if e.status == Some(404) => Ok(CancelOutcome::NotFound),
            Err(e) => Err(e),
        }
    }

    /// Step 1 of fal's storage upload: where to PUT the bytes and the URL fal will read.
    pub async fn initiate_upload(
        &self,
        key: &FalKey,
        content_type: &str,
        file_name: &str,
        retention: &Retention,
    ) -> Result<UploadTarget, ProviderError> {
        let url = join(&self.urls.rest, "storage/upload/initiate");
        let body = serde_json::json!({ "content_type": content_type, "file_name": file_name });
        let answer = self
            .send(
                "fal's storage",
                RetryPolicy::read(self.retry_base),
                || {
                    let request = self
                        .http
                        .post(url.clone())
                        .query(&[("storage_type", "fal-cdn-v3")])
                        .json(&body);
                    retention.apply(request, false)
                },
                Some(key),
            )
            .await?;
        parse("fal's storage", &answer)
    }

    /// Step 2: PUT the bytes (streamed) to the signed upload URL. No key: the URL is signed.
    /// fal picks the upload host, so it is not held to `OUTPUT_HOSTS`, but it must be https on
    /// a public address (or a configured fal origin).
    pub async fn put_upload(
        &self,
        upload_url: &str,
        content_type: &str,
        length: u64,
        body: reqwest::Body,
    ) -> Result<(), ProviderError> {
        let refused = |why: String| {
            refusal(format!(
                "fal's storage gave an upload address the studio does not send files to ({why})."
            ))
        };
        let url = Url::parse(upload_url).map_err(|_| refused("not a URL".into()))?;
        let route = self.policy.upload(&url).map_err(refused)?;
        let response = self
            .client_for(route)
            .put(url)
            .header(reqwest::header::CONTENT_TYPE, content_type)
            .header(reqwest::header::CONTENT_LENGTH, length)
            .timeout(Duration::from_secs(600))
            .body(body)
            .send()
            .await
            .map_err(|e| match outbound::not_public(&e) {
                Some(np) => refused(np.to_string()),
                None => network_error("fal's storage", e),
            })?;
        read_success("fal's storage", response).await.map(|_| ())
    }

    /// Starts downloading an output file, never with the user's key. Only URLs that
    /// [`OutboundPolicy::output`] allows are fetched; a refused one makes no connection.
    pub async fn download(&self, url: &str) -> Result<reqwest::Response, ProviderError> {
        let refused = |why: String| {
            refusal(format!(
                "fal returned an output file the studio does not download: {why}. \
                 Files are fetched only from fal's file hosts; the operator can allow more in OUTPUT_HOSTS."
            ))
        };
        let parsed = Url::parse(url).map_err(|_| refused("its URL cannot be read".into()))?;
        let route = self.policy.output(&parsed).map_err(refused)?;
        let response = self
            .client_for(route)
            .get(parsed)
            .timeout(Duration::from_secs(3600))
            .send()
            .await
            .map_err(|e| match outbound::not_public(&e) {
                Some(np) => refused(np.to_string()),
                None => network_error("fal's file storage", e),
            })?;
        let status = response.status();
        if status.is_success() {
            Ok(response)
        } else {
            let headers = response.headers().clone();
            let head = bounded::read_head(response, ERROR_BODY_CAP).await;
            Err(ProviderError::from_response(
                status.as_u16(),
                &headers,
                &head,
            ))
        }
    }

    /// Sends a request built by `build` (rebuilt for each try) under `policy`; the body of a
    /// 2xx answer, or the normalized error of the last try.
    async fn send(
        &self,
        what: &str,
        policy: RetryPolicy,
        build: impl Fn() -> reqwest::RequestBuilder,
        key: Option<&FalKey>,
    ) -> Result<Bytes, ProviderError> {
        let mut attempt = 1;
        loop {
            let mut request = build();
            if let Some(key) = key {
                request = request.header(reqwest::header::AUTHORIZATION, key.header_value());
            }
            let result = match request.send().await {
                Ok(response) => read_success(what, response).await,
                Err(e) => Err(network_error(what, e)),
            };
            match result {
                Ok(body) => return Ok(body),
                Err(err) => match policy.next_delay(attempt, &err) {
                    Some(delay) => {
                        tracing::info!(
                            attempt,
                            status = ?err.status,
                            delay_ms = delay.as_millis() as u64,
                            "{what}: retrying"
                        );
                        tokio::time::sleep(delay).await;
                        attempt += 1;
                    }
                    None => return Err(err),
                },
            }
        }
    }
}

/// What fal may keep of the studio's requests (the admin's provider retention setting).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Retention {
    /// `false`: `X-Fal-Store-IO: 0` on submissions, so fal keeps no copy of the request's
    /// input and output in its history.
    pub store_io: bool,
    /// `X-Fal-Object-Lifecycle-Preference` on submissions and uploads: how long fal keeps the
    /// files it makes or receives; `None`: fal's default.
    pub media_expiry_seconds: Option<i64>,
}

impl Default for Retention {
    fn default() -> Self {
        Retention {
            store_io: true,
            media_expiry_seconds: None,
        }
    }
}

impl Retention {
    /// Adds the headers to a request: the lifecycle to every one, `X-Fal-Store-IO` only to a
    /// submission (`submission`), which is where fal reads it.
    fn apply(&self, request: reqwest::RequestBuilder, submission: bool) -> reqwest::RequestBuilder {
        let mut request = request;
        if submission && !self.store_io {
            request = request.header("X-Fal-Store-IO", "0");
        }
        if let Some(seconds) = self.media_expiry_seconds {
            request = request.header(
                "X-Fal-Object-Lifecycle-Preference",
                serde_json::json!({ "expiration_duration_seconds": seconds }).to_string(),
            );
        }
        request
    }
}

/// fal's answer to a queue submission.
#[derive(Debug, Clone, Deserialize)]
pub struct Submitted {
    pub request_id: String,
    pub status_url: Option<String>,
    pub response_url: Option<String>,
    pub cancel_url: Option<String>,
    pub queue_position: Option<i64>,
}

/// One status answer: `IN_QUEUE`, `IN_PROGRESS` or `COMPLETED` (maybe with an error).
#[derive(Debug, Clone, Deserialize)]
pub struct QueueStatus {
    pub status: String,
    pub queue_position: Option<i64>,
    #[serde(default)]
    pub logs: Option<Vec<serde_json::Value>>,
    pub metrics: Option<serde_json::Value>,
    pub error: Option<String>,
    pub error_type: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum CancelOutcome {
    Requested,
    AlreadyCompleted,
    NotFound,
}

#[derive(Debug, Clone, Deserialize)]
pub struct UploadTarget {
    pub upload_url: String,
    pub file_url: String,
}

/// The queue URLs of one request, from the submit answer when they point at the queue host,
/// built from the app id otherwise (a key is never sent to a host we did not configure).
#[derive(Debug, Clone)]
pub struct RequestUrls {
    pub status: Url,
    pub response: Url,
    pub cancel: Url,
}

/// Pages of billing events read for one batch of requests.
const MAX_BILLING_PAGES: usize = 5;

#[derive(Deserialize)]
struct BillingEventPage {
    #[serde(default)]
    billing_events: Vec<BillingEvent>,
    next_cursor: Option<String>,
    #[serde(default)]
    has_more: bool,
}

/// One line of fal's bill: what it charged for (part of) a request.
#[derive(Debug, Clone, Deserialize)]
pub struct BillingEvent {
    pub request_id: String,
    /// fal's own total, in billionths of a dollar, when it gives one.
    pub cost_estimate_nano_usd: Option<i64>,
    pub output_units: Option<f64>,
    pub unit_price: Option<f64>,
    pub percent_discount: Option<f64>,
}

impl BillingEvent {
    /// The charge in micro-dollars: fal's total when given, else units × price less discount.
    pub fn micros(&self) -> i64 {
        if let Some(nano) = self.cost_estimate_nano_usd {
            return nano / 1_000;
        }
        let gross = self.output_units.unwrap_or(0.0) * self.unit_price.unwrap_or(0.0);
        let net = gross * (1.0 - self.percent_discount.unwrap_or(0.0) / 100.0);
        (net * 1_000_000.0).round().clamp(0.0, 9.0e15) as i64
    }
}

/// fal's billing events for some requests, or that the key may not read them.
#[derive(Debug, Clone)]
pub enum BillingEvents {
    Events(Vec<BillingEvent>),
    NotAllowed,
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

/// The queue's app id: `[namespace/]owner/alias` of an endpoint id.
pub fn app_id(endpoint_id: &str) -> String {
    let parts: Vec<&str> = endpoint_id.split('/').collect();
    let take = if matches!(parts.first(), Some(&"workflows" | &"comfy")) {
        3
    } else {
        2
    };
    parts[..take.min(parts.len())].join("/")
}

/// `base` + `path`, keeping any path prefix `base` already has (tests mount fal under one host).
fn join(base: &Url, path: &str) -> Url {
    let mut url = base.clone();
    let prefix = url.path().trim_end_matches('/').to_owned();
    url.set_path(&format!("{prefix}/{path}"));
    url
}

/// The body of a 2xx answer (at most [`JSON_BODY_CAP`]), or the error that the first
/// [`ERROR_BODY_CAP`] bytes of any other answer describe.
async fn read_success(what: &str, response: reqwest::Response) -> Result<Bytes, ProviderError> {
    let status = response.status();
    if !status.is_success() {
        let headers = response.headers().clone();
        let head = bounded::read_head(response, ERROR_BODY_CAP).await;
        return Err(ProviderError::from_response(
            status.as_u16(),
            &headers,
            &head,
        ));
    }
    match bounded::read_capped(response, JSON_BODY_CAP).await {
        Ok(body) => Ok(body),
        Err(CappedError::Network(e)) => Err(network_error(what, e)),
        Err(CappedError::TooLarge) => Err(refusal(format!(
            "{what} answered with more than {} MiB, more than the studio reads. \
             If this model returns its files inline (sync_mode), run it without that; otherwise try again later.",
            JSON_BODY_CAP >> 20
        ))),
    }
}

/// A final provider error: fal (or a model) sent something the studio will not use.
fn refusal(message: String) -> ProviderError {
    let mut e = ProviderError::network(message);
    e.category = crate::error::Category::ProviderError;
    e.retryable = false;
    e
}

fn network_error(what: &str, err: reqwest::Error) -> ProviderError {
    let (why, kind) = if err.is_timeout() {
        ("it did not answer in time", "timeout")
    } else if err.is_connect() {
        ("the connection failed", "connect")
    } else {
        ("the connection broke", "transport")
    };
    tracing::warn!(error = %err, "{what} unreachable");
    let mut e = ProviderError::network(format!(
        "Could not reach {what}: {why}. Check the server's network connection and try again."
    ));
    e.error_type = Some(kind.into());
    e
}

fn parse<T: serde::de::DeserializeOwned>(what: &str, body: &[u8]) -> Result<T, ProviderError> {
    serde_json::from_slice(body).map_err(|err| {
        refusal(format!(
            "{what} answered with something the studio could not read ({err}). Try again later."
        ))
    })
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
    fn app_ids_drop_the_sub_path() {
        assert_eq!(app_id("fal-ai/flux/dev"), "fal-ai/flux");
        assert_eq!(
            app_id("fal-ai/kling-video/v2.1/master/image-to-video"),
            "fal-ai/kling-video"
        );
        assert_eq!(
            app_id("workflows/someone/my-flow/run"),
            "workflows/someone/my-flow"
        );
        assert_eq!(app_id("comfy/owner/alias"), "comfy/owner/alias");
        assert_eq!(app_id("fal-ai/veo3"), "fal-ai/veo3");
    }

    fn client() -> FalClient {
        let u = |s: &str| Url::parse(s).unwrap();
        FalClient::new(
            FalUrls {
                queue: u("https://queue.fal.run"),
                run: u("https://fal.run"),
                api: u("https://api.fal.ai"),
                site: u("https://fal.ai"),
                rest: u("https://rest.fal.ai"),
            },
            Duration::from_millis(1),
            HostPattern::parse_list(outbound::DEFAULT_OUTPUT_HOSTS).unwrap(),
        )
        .unwrap()
    }

    #[test]
    fn queue_urls_from_another_host_are_not_trusted_with_the_key() {
        let c = client();
        let submitted = Submitted {
            request_id: "r1".into(),
            status_url: Some("https://evil.example/steal".into()),
            response_url: Some("https://queue.fal.run/fal-ai/flux/requests/r1".into()),
            cancel_url: None,
            queue_position: None,
        };
        let urls = c.request_urls("fal-ai/flux/dev", &submitted);
        assert_eq!(
            urls.status.as_str(),
            "https://queue.fal.run/fal-ai/flux/requests/r1/status"
        );
        assert_eq!(
            urls.response.as_str(),
            "https://queue.fal.run/fal-ai/flux/requests/r1"
        );
        assert_eq!(
            urls.cancel.as_str(),
            "https://queue.fal.run/fal-ai/flux/requests/r1/cancel"
        );
    }

    #[test]
    fn a_key_never_prints() {
        let key = FalKey::new("secret-id:secret-value".into());
        assert!(!format!("{key:?}").contains("secret"));
    }
}
