//! A fake fal that speaks fal's wire protocol (`shared/fal-api.md`), for tests and for trying
//! the studio without a fal account. It starts in-process on a random port
//! ([`FakeFal::start`]) or as its own process (`cargo run -p fake-fal`).
//!
//! Keys decide behaviour, so a browser test can script it by what it types:
//! - a key containing `invalid` (or no `Authorization: Key …` header) → 401;
//! - a key containing `noadmin` → 403 on billing (valid key without admin scope);
//! - a key containing `outage` → 503 with an HTML body (a proxy error page);
//! - any other key → 200 with 24.5 USD of credits.
//!
//! The catalog (`/v1/models`) lists the endpoints whose real OpenAPI documents are in the
//! workspace's `fixtures/fal-schemas/` plus filler models without documents; pricing covers some
//! of them and not others, so "no price" is exercised too.
//!
//! Failures on demand: `POST /_fake/failure {"status":503,"times":2,"retry_after":0}` makes the
//! next `times` requests (all of them when `times` is absent) answer `status`, with an HTML body
//! for 5xx; `DELETE /_fake/failure` ends it. In-process tests call [`FakeFal::fail`].
//!
//! Every request is recorded so tests can check what the studio sent, and how many requests
//! each key had in flight at once ([`FakeFal::peak_in_flight`]).

use std::{
    net::SocketAddr,
    sync::{Arc, Mutex},
};

use axum::{
    Json, Router,
    extract::{Query, Request, State},
    http::{HeaderMap, StatusCode, header},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use serde::Deserialize;
use serde_json::json;
use tokio::{net::TcpListener, task::JoinHandle};

pub const FAKE_BALANCE: f64 = 24.5;
pub const FAKE_CURRENCY: &str = "USD";

#[derive(Debug, Clone)]
pub struct RecordedRequest {
    pub method: String,
    pub path_and_query: String,
    pub authorization: Option<String>,
    /// The request's `X-Fal-*` headers (names lower-cased): retention preferences and the like.
    pub fal_headers: Vec<(String, String)>,
}

#[derive(Default)]
pub struct FakeState {
    requests: Mutex<Vec<RecordedRequest>>,
    failure: Mutex<Option<Failure>>,
    queue: queue::QueueState,
    base_url: Mutex<String>,
    /// Added to every answer, to stand in for the distance to fal (benchmarks).
    latency_ms: std::sync::atomic::AtomicU64,
}

impl FakeState {
    fn base_url(&self) -> String {
        self.base_url.lock().map(|b| b.clone()).unwrap_or_default()
    }
}

/// A scripted failure: the next `times` requests (or all) answer `status`.
#[derive(Debug, Clone, Deserialize)]
pub struct Failure {
    pub status: u16,
    pub times: Option<u32>,
    pub retry_after: Option<u64>,
}

type Shared = Arc<FakeState>;

pub struct FakeFal {
    pub addr: SocketAddr,
    state: Shared,
    task: JoinHandle<()>,
}

impl FakeFal {
    /// Starts on `127.0.0.1:0`.
    pub async fn start() -> std::io::Result<Self> {
        Self::start_on(TcpListener::bind("127.0.0.1:0").await?).await
    }

    pub async fn start_on(listener: TcpListener) -> std::io::Result<Self> {
        let addr = listener.local_addr()?;
        let state = Shared::default();
        if let Ok(mut base) = state.base_url.lock() {
            *base = format!("http://{addr}");
        }
        let app = router(state.clone());
        let task = tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                tracing::error!(error = %e, "fake fal stopped");
            }
        });
        Ok(FakeFal { addr, state, task })
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.state
            .requests
            .lock()
            .map(|r| r.clone())
            .unwrap_or_default()
    }

    /// Makes fal fail as `failure` says until it has been used up or [`FakeFal::recover`].
    pub fn fail(&self, failure: Failure) {
        if let Ok(mut f) = self.state.failure.lock() {
            *f = Some(failure);
        }
    }

    pub fn recover(&self) {
        if let Ok(mut f) = self.state.failure.lock() {
            *f = None;
        }
    }

    /// Delays every answer by `latency`.
    pub fn set_latency(&self, latency: std::time::Duration) {
        self.state.latency_ms.store(
            latency.as_millis() as u64,
            std::sync::atomic::Ordering::Relaxed,
        );
    }

    /// Requests whose path starts with `prefix`.
    pub fn requests_to(&self, prefix: &str) -> Vec<RecordedRequest> {
        self.requests()
            .into_iter()
            .filter(|r| r.path_and_query.starts_with(prefix))
            .collect()
    }

    /// Bytes of `[fal:huge-error=N]` / `[fal:huge-result=N]` bodies handed to connections so
    /// far: how much of such a body the studio actually read (plus socket buffers).
    pub fn huge_body_bytes_sent(&self) -> u64 {
        self.state.queue.filler_sent()
    }

    /// Every request submitted to the fake queue so far.
    pub fn submitted(&self) -> Vec<FakeRequest> {
        self.state.queue.submitted()
    }

    /// Per key (`Authorization: Key …`), the most requests it had in flight at one moment so
    /// far: submitted and not yet completed or cancelled, as fal counts against a key's
    /// concurrency limit.
    pub fn peak_in_flight(&self) -> std::collections::HashMap<String, usize> {
        self.state.queue.peak_in_flight()
    }

    /// The most requests in flight at one moment so far, all keys together.
    pub fn peak_in_flight_overall(&self) -> usize {
        self.state.queue.peak_in_flight_overall()
    }

    /// The bytes the studio uploaded to the fake storage under `file_url`.
    pub fn uploaded(&self, file_url: &str) -> Option<axum::body::Bytes> {
        queue::upload_bytes(&self.state.queue, file_url)
    }

    /// Runs until the process is stopped.
    pub async fn wait(&mut self) {
        let _ = (&mut self.task).await;
    }
}

impl Drop for FakeFal {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn router(state: Shared) -> Router {
    let fal = Router::new()
        .route("/v1/account/billing", get(billing))
        .route("/v1/models", get(catalog::models))
        .route("/v1/models/pricing", get(catalog::pricing))
        .route("/v1/models/pricing/estimate", post(catalog::estimate))
        .route("/v1/models/billing-events", get(billing_events))
        .route("/api/openapi/queue/openapi.json", get(catalog::openapi))
        .fallback(queue::dispatch)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            scripted_failure,
        ))
        .layer(middleware::from_fn_with_state(state.clone(), record))
        .layer(middleware::from_fn_with_state(state.clone(), latency));
    let control = Router::new().route("/_fake/failure", post(set_failure).delete(clear_failure));
    fal.merge(control).with_state(state)
}

async fn latency(State(state): State<Shared>, request: Request, next: Next) -> Response {
    let ms = state.latency_ms.load(std::sync::atomic::Ordering::Relaxed);
    if ms > 0 {
        tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
    }
    next.run(request).await
}

async fn set_failure(State(state): State<Shared>, Json(failure): Json<Failure>) -> StatusCode {
    if let Ok(mut f) = state.failure.lock() {
        *f = Some(failure);
    }
    StatusCode::NO_CONTENT
}

async fn clear_failure(State(state): State<Shared>) -> StatusCode {
    if let Ok(mut f) = state.failure.lock() {
        *f = None;
    }
    StatusCode::NO_CONTENT
}

async fn scripted_failure(State(state): State<Shared>, request: Request, next: Next) -> Response {
    let active = {
        let Ok(mut guard) = state.failure.lock() else {
            return next.run(request).await;
        };
        match guard.as_mut() {
            None => None,
            Some(f) => {
                let current = f.clone();
                match &mut f.times {
                    Some(0) => {
                        *guard = None;
                        None
                    }
                    Some(n) => {
                        *n -= 1;
                        if *n == 0 {
                            *guard = None;
                        }
                        Some(current)
                    }
                    None => Some(current),
                }
            }
        }
    };
    match active {
        None => next.run(request).await,
        Some(f) => failure_response(&f),
    }
}

fn failure_response(f: &Failure) -> Response {
    let status = StatusCode::from_u16(f.status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
    let mut response = if status.is_server_error() {
        (
            status,
            [(header::CONTENT_TYPE, "text/html")],
            format!("<html><body><h1>{status}</h1></body></html>"),
        )
            .into_response()
    } else if status == StatusCode::TOO_MANY_REQUESTS {
        (
            status,
            Json(json!({ "error": { "type": "rate_limited", "message": "Rate limit exceeded" } })),
        )
            .into_response()
    } else {
        (
            status,
            Json(json!({ "detail": format!("Scripted failure {status}") })),
        )
            .into_response()
    };
    if let Some(secs) = f.retry_after {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, secs.into());
    }
    response
}

async fn record(State(state): State<Shared>, request: Request, next: Next) -> Response {
    let entry = RecordedRequest {
        method: request.method().to_string(),
        path_and_query: request
            .uri()
            .path_and_query()
            .map(|p| p.to_string())
            .unwrap_or_default(),
        authorization: request
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
        fal_headers: request
            .headers()
            .iter()
            .filter(|(name, _)| name.as_str().starts_with("x-fal-"))
            .map(|(name, value)| {
                (
                    name.as_str().to_owned(),
                    value.to_str().unwrap_or_default().to_owned(),
                )
            })
            .collect(),
    };
    if let Ok(mut r) = state.requests.lock() {
        r.push(entry);
    }
    next.run(request).await
}

mod catalog;
mod media;
mod queue;

pub use queue::FakeRequest;

/// A real PNG of the given size (the fake CDN's images), for tests of the studio's own readers.
pub fn png_bytes(width: u32, height: u32) -> Vec<u8> {
    media::png(width, height)
}

pub(crate) enum KeyBehaviour {
    Missing,
    Invalid,
    Valid,
    NoAdmin,
    Outage,
}

pub(crate) fn key_behaviour(headers: &HeaderMap) -> KeyBehaviour {
    let key = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Key "))
        .filter(|k| !k.is_empty());
    match key {
        None => KeyBehaviour::Missing,
        Some(k) if k.contains("invalid") => KeyBehaviour::Invalid,
        Some(k) if k.contains("noadmin") => KeyBehaviour::NoAdmin,
        Some(k) if k.contains("outage") => KeyBehaviour::Outage,
        Some(_) => KeyBehaviour::Valid,
    }
}

/// fal's 401 for a missing or bad key, or `None` when the key may go on.
pub(crate) fn reject_bad_key(behaviour: &KeyBehaviour) -> Option<Response> {
    let body = match behaviour {
        KeyBehaviour::Missing => {
            json!({ "detail": "Missing or malformed Authorization header; expected 'Key <key>'" })
        }
        KeyBehaviour::Invalid => {
            json!({ "error": { "type": "authorization_error", "message": "Invalid API key" } })
        }
        _ => return None,
    };
    Some((StatusCode::UNAUTHORIZED, Json(body)).into_response())
}

#[derive(Deserialize)]
struct BillingQuery {
    expand: Option<String>,
}

/// `GET /v1/models/billing-events?request_id=…`: one event per request this key submitted that
/// fal ran (not cancelled, not refused), priced as the catalog prices it (units: the request's
/// `num_images`, else its `duration`, else 1). Admin scope only, as at fal.
async fn billing_events(
    State(state): State<Shared>,
    headers: HeaderMap,
    axum::extract::RawQuery(raw): axum::extract::RawQuery,
) -> Response {
    let behaviour = key_behaviour(&headers);
    if let Some(response) = reject_bad_key(&behaviour) {
        return response;
    }
    if matches!(behaviour, KeyBehaviour::NoAdmin) {
        return (
            StatusCode::FORBIDDEN,
            Json(json!({ "error": { "type": "authorization_error", "message": "This key does not have the ADMIN scope" } })),
        )
            .into_response();
    }
    let key = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Key "))
        .map(str::to_owned);
    let ids: Vec<String> = url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
        .filter(|(k, _)| k == "request_id")
        .map(|(_, v)| v.into_owned())
        .collect();
    let events = state.queue.billed(&ids, key.as_deref(), catalog::price_of);
    Json(json!({ "billing_events": events, "next_cursor": null, "has_more": false }))
        .into_response()
}

async fn billing(headers: HeaderMap, Query(query): Query<BillingQuery>) -> Response {
    let behaviour = key_behaviour(&headers);
    if let Some(response) = reject_bad_key(&behaviour) {
        return response;
    }
    match behaviour {
        KeyBehaviour::NoAdmin => (
            StatusCode::FORBIDDEN,
            Json(json!({ "error": { "type": "authorization_error", "message": "This key does not have the ADMIN scope" } })),
        )
            .into_response(),
        KeyBehaviour::Outage => outage(),
        KeyBehaviour::Missing | KeyBehaviour::Invalid | KeyBehaviour::Valid => {
            let with_credits = query
                .expand
                .as_deref()
                .is_some_and(|e| e.split(',').any(|p| p.trim() == "credits"));
            let mut body = json!({ "username": "fake-user" });
            if with_credits {
                body["credits"] = json!({ "current_balance": FAKE_BALANCE, "currency": FAKE_CURRENCY });
            }
            Json(body).into_response()
        }
    }
}

fn outage() -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        [(header::CONTENT_TYPE, "text/html")],
        "<html><head><title>503 Service Temporarily Unavailable</title></head><body><center><h1>503 Service Temporarily Unavailable</h1></center></body></html>",
    )
        .into_response()
}
