//! Logs: the subscriber (`LOG_FORMAT=text|json`, filtered by `RUST_LOG`) and the HTTP layers
//! that give every request an `x-request-id` and a span carrying it, so each line a request
//! causes can be found by that id.
//!
//! A request's span holds its id, method and path, never its query string (cursors, and any
//! token a client puts there) nor its headers (cookies). Share tokens live in the path, so the
//! path is logged with them replaced by `{token}` (see [`loggable_path`]).

use std::{borrow::Cow, net::SocketAddr, sync::Arc};

use axum::{
    Router,
    extract::ConnectInfo,
    http::{HeaderValue, Request},
};
use tower_http::{
    LatencyUnit,
    request_id::{MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer},
    trace::{DefaultOnRequest, DefaultOnResponse, MakeSpan, TraceLayer},
};
use tracing::{Level, Span};
use tracing_subscriber::EnvFilter;

use crate::client_addr::TrustedProxies;

/// The header that carries a request's id, in and out.
pub const REQUEST_ID_HEADER: &str = "x-request-id";
/// The filter when `RUST_LOG` is unset: requests at info, SQL only when it goes wrong.
const DEFAULT_FILTER: &str = "info,tower_http=info,sqlx=warn";

/// How log lines are written: `LOG_FORMAT`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogFormat {
    /// Human-readable lines (coloured on a terminal).
    #[default]
    Text,
    /// One JSON object per line, with the request's span fields, for log collectors.
    Json,
}

impl LogFormat {
    /// `None` for a value that is neither `text` nor `json` (the caller names the variable).
    pub fn parse(value: &str) -> Option<Self> {
        match value.to_ascii_lowercase().as_str() {
            "text" => Some(LogFormat::Text),
            "json" => Some(LogFormat::Json),
            _ => None,
        }
    }
}

/// Installs the global subscriber; `RUST_LOG` (EnvFilter syntax) picks what is written.
pub fn init(format: LogFormat) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    match format {
        LogFormat::Text => builder
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
            .init(),
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .init(),
    }
}

/// Wraps the whole app: a UUIDv7 request id, echoed on the response, and a span per request
/// that every log line inside it carries. A client's `x-request-id` is kept when it is a UUID
/// (as our web app and most tools make them) or comes from a trusted proxy; anything else is
/// replaced, so nobody can write what they like into the server's logs.
pub fn http_layers(app: Router, trusted: Arc<TrustedProxies>) -> Router {
    let trace = TraceLayer::new_for_http()
        .make_span_with(RequestSpan)
        .on_request(DefaultOnRequest::new().level(Level::DEBUG))
        .on_response(
            DefaultOnResponse::new()
                .level(Level::INFO)
                .latency_unit(LatencyUnit::Millis),
        );
    // The last layer added runs first: the id is set before the span is made.
    app.layer(trace)
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuidV7))
        .layer(axum::middleware::map_request(move |request| {
            std::future::ready(drop_untrusted_request_id(request, &trusted))
        }))
}

/// Longest request id kept from a trusted proxy.
const MAX_PROXY_REQUEST_ID: usize = 128;

fn drop_untrusted_request_id<B>(mut request: Request<B>, trusted: &TrustedProxies) -> Request<B> {
    let Some(id) = request.headers().get(REQUEST_ID_HEADER) else {
        return request;
    };
    let from_proxy = || {
        request
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .is_some_and(|ConnectInfo(peer)| trusted.contains(peer.ip()))
    };
    let keep = match id.to_str() {
        Ok(id) if uuid::Uuid::try_parse(id).is_ok() => true,
        Ok(id) => {
            id.len() <= MAX_PROXY_REQUEST_ID
                && id.bytes().all(|b| b.is_ascii_graphic())
                && from_proxy()
        }
        Err(_) => false,
    };
    if !keep {
        request.headers_mut().remove(REQUEST_ID_HEADER);
    }
    request
}

/// Request ids that sort by time, so ids in a log read in order.
#[derive(Clone, Copy)]
struct MakeRequestUuidV7;

impl MakeRequestId for MakeRequestUuidV7 {
    fn make_request_id<B>(&mut self, _request: &Request<B>) -> Option<RequestId> {
        HeaderValue::from_str(&uuid::Uuid::now_v7().to_string())
            .ok()
            .map(RequestId::new)
    }
}

#[derive(Clone, Copy)]
struct RequestSpan;

impl<B> MakeSpan<B> for RequestSpan {
    fn make_span(&mut self, request: &Request<B>) -> Span {
        let request_id = request
            .headers()
            .get(REQUEST_ID_HEADER)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("-");
        tracing::info_span!(
            "request",
            request_id = %request_id,
            method = %request.method(),
            path = %loggable_path(request.uri().path()),
        )
    }
}

/// The path as logged: a share link's token (`/s/{token}`, `/s/{token}/file`,
/// `/api/shares/{token}`) is a credential, so it is replaced by `{token}`.
pub fn loggable_path(path: &str) -> Cow<'_, str> {
    for prefix in ["/s/", "/api/shares/"] {
        if let Some(rest) = path.strip_prefix(prefix)
            && !rest.is_empty()
            && !(prefix == "/s/" && rest.starts_with("assets/"))
        {
            let tail = rest.find('/').map_or("", |at| &rest[at..]);
            return Cow::Owned(format!("{prefix}{{token}}{tail}"));
        }
    }
    Cow::Borrowed(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn share_tokens_are_kept_out_of_logged_paths() {
        let cases = [
            ("/s/abcDEF123", "/s/{token}"),
            ("/s/abcDEF123/file", "/s/{token}/file"),
            ("/api/shares/abcDEF123", "/api/shares/{token}"),
            ("/api/assets/0190/shares", "/api/assets/0190/shares"),
            ("/api/shares", "/api/shares"),
            ("/s/", "/s/"),
            ("/s/assets/share.css", "/s/assets/share.css"),
            ("/files/0190", "/files/0190"),
            ("/", "/"),
        ];
        for (path, logged) in cases {
            assert_eq!(loggable_path(path), logged, "case {path}");
        }
    }

    #[test]
    fn log_formats_parse_and_others_are_refused() {
        assert_eq!(LogFormat::parse("text"), Some(LogFormat::Text));
        assert_eq!(LogFormat::parse("JSON"), Some(LogFormat::Json));
        assert_eq!(LogFormat::parse("logfmt"), None);
    }
}
