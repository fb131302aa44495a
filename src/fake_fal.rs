//! A fake fal that speaks fal's wire protocol (`shared/fal-api.md`), for tests and for trying
//! the studio without a fal account. It starts in-process on a random port
//! ([`FakeFal::start`]) or as its own process (`cargo run --bin fake-fal`).
//!
//! Keys decide behaviour, so a browser test can script it by what it types:
//! - a key containing `invalid` (or no `Authorization: Key …` header) → 401;
//! - a key containing `noadmin` → 403 on billing (valid key without admin scope);
//! - a key containing `outage` → 503 with an HTML body (a proxy error page);
//! - any other key → 200 with 24.5 USD of credits.
//!
//! Every request is recorded so tests can check what the studio sent.

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
    routing::get,
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
}

#[derive(Default)]
struct FakeState {
    requests: Mutex<Vec<RecordedRequest>>,
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
    Router::new()
        .route("/v1/account/billing", get(billing))
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(state.clone(), record))
        .with_state(state)
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
    };
    if let Ok(mut r) = state.requests.lock() {
        r.push(entry);
    }
    next.run(request).await
}

enum KeyBehaviour {
    Missing,
    Invalid,
    Valid,
    NoAdmin,
    Outage,
}

fn key_behaviour(headers: &HeaderMap) -> KeyBehaviour {
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
fn reject_bad_key(behaviour: &KeyBehaviour) -> Option<Response> {
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

async fn not_found(request: Request) -> Response {
    (
        StatusCode::NOT_FOUND,
        Json(json!({ "detail": format!("Not found: {}", request.uri().path()) })),
    )
        .into_response()
}
