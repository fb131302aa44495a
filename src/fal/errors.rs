//! Turns whatever fal answers with when something goes wrong into a category and a message a
//! person can read. fal's error bodies come in several shapes (see `shared/fal-api.md`); this is
//! the one place that knows them. The frontend's `normalizeError` mirrors it.

use axum::http::{HeaderMap, StatusCode};
use serde_json::Value;

use crate::error::Category;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct ProviderError {
    pub category: Category,
    /// fal's HTTP status; `None` when fal could not be reached at all.
    pub status: Option<u16>,
    pub message: String,
    /// The structured part of fal's answer (validation items), kept for the UI.
    pub details: Option<Box<Value>>,
    pub retryable: bool,
    pub request_id: Option<String>,
    pub error_type: Option<String>,
    pub retry_after_secs: Option<u64>,
    /// What fal's `X-Fal-Retryable` header said, if it said anything.
    pub fal_retryable: Option<bool>,
}

impl ProviderError {
    /// A 500 while polling is retried unless fal said it is final.
    pub fn retryable_500(&self) -> bool {
        self.fal_retryable != Some(false)
    }

    /// fal could not be reached, or the connection broke before an answer.
    pub fn network(message: impl Into<String>) -> Self {
        ProviderError {
            category: Category::Network,
            status: None,
            message: message.into(),
            details: None,
            retryable: true,
            request_id: None,
            error_type: None,
            retry_after_secs: None,
            fal_retryable: None,
        }
    }

    /// Normalizes one non-2xx answer from fal.
    pub fn from_response(status: u16, headers: &HeaderMap, body: &[u8]) -> Self {
        // (A message is shown in the job list and stored with the job: it is kept short.)
        let header = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
        };
        let json: Option<Value> = serde_json::from_slice(body).ok();
        let extracted = json.as_ref().map(extract).unwrap_or_default();

        let error_type = extracted
            .error_type
            .clone()
            .or_else(|| header("x-fal-error-type"));
        let category = categorize(status, &extracted);
        let message = extracted
            .message
            .filter(|m| !m.trim().is_empty())
            .or_else(|| error_type.as_deref().map(humanize_error_type))
            .unwrap_or_else(|| fallback_message(status, body));
        let message = shorten(message, MAX_MESSAGE_CHARS);

        let user_timeout = header("x-fal-request-timeout-type").as_deref() == Some("user");
        let fal_retryable = match header("x-fal-retryable").as_deref() {
            Some("true") => Some(true),
            Some("false") => Some(false),
            _ => None,
        };
        let retryable = fal_retryable
            .unwrap_or(matches!(status, 429 | 502 | 503 | 504) && !user_timeout)
            && !user_timeout
            && category != Category::Policy;

        ProviderError {
            category,
            status: Some(status),
            message,
            details: extracted.details.map(Box::new),
            retryable,
            request_id: header("x-fal-request-id").or(extracted.request_id),
            error_type,
            retry_after_secs: header("retry-after").and_then(|v| v.parse().ok()),
            fal_retryable,
        }
    }

    /// The status we answer our own client with when this error ends a request.
    pub fn response_status(&self) -> StatusCode {
        match self.category {
            Category::Network => StatusCode::BAD_GATEWAY,
            other => other.default_status(),
        }
    }
}

#[derive(Debug, Default)]
struct Extracted {
    message: Option<String>,
    details: Option<Value>,
    error_type: Option<String>,
    platform_type: Option<String>,
    content_policy: bool,
    request_id: Option<String>,
}

fn extract(body: &Value) -> Extracted {
    let mut out = Extracted::default();
    match body {
        Value::String(s) => out.message = Some(s.clone()),
        Value::Array(items) => {
            out.message = join_validation_items(items);
            out.content_policy = items.iter().any(is_content_policy_item);
            out.details = Some(body.clone());
        }
        Value::Object(map) => {
            out.error_type = map
                .get("error_type")
                .and_then(Value::as_str)
                .map(str::to_owned);
            match map.get("detail") {
                Some(Value::Array(items)) => {
                    out.message = join_validation_items(items);
                    out.content_policy = items.iter().any(is_content_policy_item);
                    out.details = Some(Value::Array(items.clone()));
                }
                Some(Value::String(s)) => out.message = Some(s.clone()),
                Some(obj @ Value::Object(_)) => {
                    out.message = message_of(obj);
                    out.content_policy = is_content_policy_item(obj);
                }
                _ => {}
            }
            if let Some(err) = map.get("error") {
                match err {
                    Value::String(s) if out.message.is_none() => out.message = Some(s.clone()),
                    Value::Object(e) => {
                        out.platform_type =
                            e.get("type").and_then(Value::as_str).map(str::to_owned);
                        out.request_id = e
                            .get("request_id")
                            .and_then(Value::as_str)
                            .map(str::to_owned);
                        if out.message.is_none() {
                            out.message = message_of(err);
                        }
                    }
                    _ => {}
                }
            }
            if out.message.is_none() {
                out.message = message_of(body);
            }
        }
        _ => {}
    }
    out
}

/// The first readable message among the keys fal and its proxies use.
fn message_of(value: &Value) -> Option<String> {
    ["message", "msg", "reason", "detail", "error"]
        .iter()
        .find_map(|key| match value.get(key) {
            Some(Value::String(s)) if !s.trim().is_empty() => Some(s.clone()),
            _ => None,
        })
}

fn is_content_policy_item(item: &Value) -> bool {
    item.get("type").and_then(Value::as_str) == Some("content_policy_violation")
}

/// `[{loc:["body","prompt"], msg:"field required"}]` -> `prompt: field required`.
fn join_validation_items(items: &[Value]) -> Option<String> {
    let parts: Vec<String> = items
        .iter()
        .filter_map(|item| {
            let reason = message_of(item).or_else(|| item.as_str().map(str::to_owned))?;
            let field = item
                .get("loc")
                .and_then(Value::as_array)
                .map(|loc| {
                    loc.iter()
                        .skip_while(|p| p.as_str() == Some("body"))
                        .map(|p| match p {
                            Value::String(s) => s.clone(),
                            other => other.to_string(),
                        })
                        .collect::<Vec<_>>()
                        .join(".")
                })
                .filter(|f| !f.is_empty());
            Some(match field {
                Some(f) => format!("{f}: {reason}"),
                None => reason,
            })
        })
        .collect();
    (!parts.is_empty()).then(|| parts.join("; "))
}

fn categorize(status: u16, extracted: &Extracted) -> Category {
    if extracted.content_policy {
        return Category::Policy;
    }
    match status {
        401 => Category::InvalidKey,
        403 => Category::Policy,
        404 => Category::NotFound,
        413 => Category::TooLarge,
        429 => Category::RateLimited,
        400..=499 => Category::InvalidRequest,
        500..=599 => Category::ProviderError,
        // A non-error status reached us as an error: trust the platform's type if any.
        _ => match extracted.platform_type.as_deref() {
            Some("authorization_error") => Category::InvalidKey,
            Some("validation_error") => Category::InvalidRequest,
            Some("not_found") => Category::NotFound,
            Some("rate_limited") => Category::RateLimited,
            _ => Category::ProviderError,
        },
    }
}

/// `request_timeout` -> `Request timeout`.
fn humanize_error_type(error_type: &str) -> String {
    let spaced = error_type.replace('_', " ");
    let mut chars = spaced.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => spaced,
    }
}

/// For bodies with nothing readable (HTML from a proxy, empty, binary): `HTTP 502: Bad Gateway`,
/// or the text itself when it is a short plain sentence.
fn fallback_message(status: u16, body: &[u8]) -> String {
    let reason = StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("Unexpected response");
    let text = std::str::from_utf8(body).unwrap_or("").trim();
    let plain = !text.is_empty()
        && text.len() <= 300
        && !text.starts_with('<')
        && !text.starts_with('{')
        && !text.starts_with('[')
        && !text.contains('\n');
    if plain {
        format!("HTTP {status}: {text}")
    } else {
        format!("HTTP {status}: {reason}")
    }
}

/// Longest error message kept from fal: enough for any real explanation, and a fal app that
/// answers with a 64 KiB error does not put 64 KiB into every job list.
const MAX_MESSAGE_CHARS: usize = 1_000;

fn shorten(message: String, max_chars: usize) -> String {
    match message.char_indices().nth(max_chars) {
        Some((cut, _)) => format!("{}…", message[..cut].trim_end()),
        None => message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_messages_are_cut_on_a_character_boundary() {
        let long = format!("{{\"detail\":\"{}\"}}", "é".repeat(5_000));
        let e = ProviderError::from_response(422, &HeaderMap::new(), long.as_bytes());
        assert_eq!(e.message.chars().count(), MAX_MESSAGE_CHARS + 1);
        assert!(e.message.ends_with('…'));
        assert_eq!(shorten("short".into(), 10), "short");
    }
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.insert(*k, HeaderValue::from_static(v));
        }
        map
    }

    struct Case {
        name: &'static str,
        status: u16,
        headers: &'static [(&'static str, &'static str)],
        body: &'static str,
        category: Category,
        message: &'static str,
        retryable: bool,
    }

    const CASES: &[Case] = &[
        Case {
            name: "validation detail array joins field and reason",
            status: 422,
            headers: &[],
            body: r#"{"detail":[{"loc":["body","prompt"],"msg":"field required","type":"value_error.missing"},{"loc":["body","image_size","width"],"msg":"ensure this value is less than or equal to 14142","type":"value_error"}]}"#,
            category: Category::InvalidRequest,
            message: "prompt: field required; image_size.width: ensure this value is less than or equal to 14142",
            retryable: false,
        },
        Case {
            name: "validation item with a numeric index in loc",
            status: 422,
            headers: &[],
            body: r#"{"detail":[{"loc":["body","image_urls",0],"msg":"invalid url","type":"value_error"}]}"#,
            category: Category::InvalidRequest,
            message: "image_urls.0: invalid url",
            retryable: false,
        },
        Case {
            name: "detail string",
            status: 400,
            headers: &[],
            body: r#"{"detail":"Image too small"}"#,
            category: Category::InvalidRequest,
            message: "Image too small",
            retryable: false,
        },
        Case {
            name: "content policy item becomes policy",
            status: 422,
            headers: &[],
            body: r#"{"detail":[{"loc":["body","prompt"],"msg":"The content was flagged by a content checker.","type":"content_policy_violation","categories":["violence"]}]}"#,
            category: Category::Policy,
            message: "prompt: The content was flagged by a content checker.",
            retryable: false,
        },
        Case {
            name: "content policy is never retryable even when fal says so",
            status: 422,
            headers: &[("x-fal-retryable", "true")],
            body: r#"{"detail":[{"msg":"The content was flagged by a content checker.","type":"content_policy_violation"}]}"#,
            category: Category::Policy,
            message: "The content was flagged by a content checker.",
            retryable: false,
        },
        Case {
            name: "platform error object",
            status: 401,
            headers: &[],
            body: r#"{"error":{"type":"authorization_error","message":"Invalid API key provided","docs_url":"https://docs.fal.ai"}}"#,
            category: Category::InvalidKey,
            message: "Invalid API key provided",
            retryable: false,
        },
        Case {
            name: "platform rate limit with retry",
            status: 429,
            headers: &[("retry-after", "7")],
            body: r#"{"error":{"type":"rate_limited","message":"Too many requests"}}"#,
            category: Category::RateLimited,
            message: "Too many requests",
            retryable: true,
        },
        Case {
            name: "error_type body with request timeout",
            status: 504,
            headers: &[("x-fal-error-type", "request_timeout")],
            body: r#"{"detail":"Request timed out","error_type":"request_timeout"}"#,
            category: Category::ProviderError,
            message: "Request timed out",
            retryable: true,
        },
        Case {
            name: "user-set timeout is not retried",
            status: 504,
            headers: &[("x-fal-request-timeout-type", "user")],
            body: r#"{"detail":"Request timed out","error_type":"request_timeout"}"#,
            category: Category::ProviderError,
            message: "Request timed out",
            retryable: false,
        },
        Case {
            name: "error_type without a message is humanized",
            status: 503,
            headers: &[],
            body: r#"{"error_type":"runner_scheduling_failure"}"#,
            category: Category::ProviderError,
            message: "Runner scheduling failure",
            retryable: true,
        },
        Case {
            name: "error type only in a header",
            status: 502,
            headers: &[("x-fal-error-type", "runner_incomplete_response")],
            body: "",
            category: Category::ProviderError,
            message: "Runner incomplete response",
            retryable: true,
        },
        Case {
            name: "html from a proxy",
            status: 502,
            headers: &[],
            body: "<html><body><h1>502 Bad Gateway</h1></body></html>",
            category: Category::ProviderError,
            message: "HTTP 502: Bad Gateway",
            retryable: true,
        },
        Case {
            name: "empty body",
            status: 500,
            headers: &[],
            body: "",
            category: Category::ProviderError,
            message: "HTTP 500: Internal Server Error",
            retryable: false,
        },
        Case {
            name: "bare plain text",
            status: 503,
            headers: &[],
            body: "upstream connect error",
            category: Category::ProviderError,
            message: "HTTP 503: upstream connect error",
            retryable: true,
        },
        Case {
            name: "bare JSON string",
            status: 400,
            headers: &[],
            body: r#""prompt is too long""#,
            category: Category::InvalidRequest,
            message: "prompt is too long",
            retryable: false,
        },
        Case {
            name: "top-level message",
            status: 403,
            headers: &[],
            body: r#"{"message":"This capability is restricted for your account"}"#,
            category: Category::Policy,
            message: "This capability is restricted for your account",
            retryable: false,
        },
        Case {
            name: "nested error string",
            status: 500,
            headers: &[],
            body: r#"{"error":"CUDA out of memory"}"#,
            category: Category::ProviderError,
            message: "CUDA out of memory",
            retryable: false,
        },
        Case {
            name: "reason key",
            status: 409,
            headers: &[],
            body: r#"{"reason":"Request already running"}"#,
            category: Category::InvalidRequest,
            message: "Request already running",
            retryable: false,
        },
        Case {
            name: "fal explicitly marks a 4xx retryable",
            status: 400,
            headers: &[("x-fal-retryable", "true")],
            body: r#"{"detail":"Temporary input fetch failure"}"#,
            category: Category::InvalidRequest,
            message: "Temporary input fetch failure",
            retryable: true,
        },
        Case {
            name: "bad key with a detail string",
            status: 401,
            headers: &[],
            body: r#"{"detail":"Invalid Key Authorization header format"}"#,
            category: Category::InvalidKey,
            message: "Invalid Key Authorization header format",
            retryable: false,
        },
        Case {
            name: "unknown endpoint",
            status: 404,
            headers: &[],
            body: r#"{"detail":"Application 'nope' not found"}"#,
            category: Category::NotFound,
            message: "Application 'nope' not found",
            retryable: false,
        },
        Case {
            name: "empty detail array falls back to the status",
            status: 422,
            headers: &[],
            body: r#"{"detail":[]}"#,
            category: Category::InvalidRequest,
            message: "HTTP 422: Unprocessable Entity",
            retryable: false,
        },
        Case {
            name: "client cancelled",
            status: 499,
            headers: &[],
            body: r#"{"detail":"Client cancelled the request","error_type":"client_cancelled"}"#,
            category: Category::InvalidRequest,
            message: "Client cancelled the request",
            retryable: false,
        },
    ];

    #[test]
    fn every_fal_error_shape_becomes_a_category_and_a_readable_message() {
        for case in CASES {
            let err = ProviderError::from_response(
                case.status,
                &headers(case.headers),
                case.body.as_bytes(),
            );
            assert_eq!(
                err.category, case.category,
                "category for case: {}",
                case.name
            );
            assert_eq!(err.message, case.message, "message for case: {}", case.name);
            assert_eq!(
                err.retryable, case.retryable,
                "retryable for case: {}",
                case.name
            );
            assert_eq!(
                err.status,
                Some(case.status),
                "status for case: {}",
                case.name
            );
            assert!(!err.message.contains("[object"), "case: {}", case.name);
        }
    }

    #[test]
    fn request_id_and_retry_after_are_kept() {
        let err = ProviderError::from_response(
            429,
            &headers(&[("x-fal-request-id", "req-123"), ("retry-after", "12")]),
            br#"{"detail":"slow down"}"#,
        );
        assert_eq!(err.request_id.as_deref(), Some("req-123"));
        assert_eq!(err.retry_after_secs, Some(12));
    }

    #[test]
    fn validation_items_are_kept_as_details() {
        let body =
            br#"{"detail":[{"loc":["body","seed"],"msg":"not an integer","type":"type_error"}]}"#;
        let err = ProviderError::from_response(422, &HeaderMap::new(), body);
        let details = err.details.expect("details kept");
        assert_eq!(details[0]["loc"][1], "seed");
    }

    #[test]
    fn binary_garbage_still_gives_a_message() {
        let err = ProviderError::from_response(500, &HeaderMap::new(), &[0xff, 0xfe, 0x00, 0x01]);
        assert_eq!(err.message, "HTTP 500: Internal Server Error");
    }

    #[test]
    fn unusual_status_uses_the_platform_type() {
        let err = ProviderError::from_response(
            200,
            &HeaderMap::new(),
            br#"{"error":{"type":"rate_limited","message":"later"}}"#,
        );
        assert_eq!(err.category, Category::RateLimited);
        assert_eq!(err.message, "later");
    }
}
