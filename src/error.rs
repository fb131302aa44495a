//! The one error type every handler returns, and the JSON shape clients see:
//! `{ "error": { "category", "message", "details"? } }`.

use axum::{
    Json,
    extract::{FromRequest, Request, rejection::JsonRejection},
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde::{Deserialize, Serialize, de::DeserializeOwned};
use serde_json::{Value, json};

use crate::fal::ProviderError;

pub type Result<T, E = AppError> = std::result::Result<T, E>;

/// The categories a client can switch on. They are part of the HTTP contract (DESIGN.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    InvalidKey,
    Policy,
    InvalidRequest,
    RateLimited,
    ProviderError,
    Network,
    NotFound,
    Unauthorized,
    Conflict,
    TooLarge,
    Internal,
}

impl Category {
    /// The HTTP status we answer with when nothing more specific is known.
    pub fn default_status(self) -> StatusCode {
        match self {
            Category::InvalidKey | Category::Unauthorized => StatusCode::UNAUTHORIZED,
            Category::Policy => StatusCode::FORBIDDEN,
            Category::InvalidRequest => StatusCode::UNPROCESSABLE_ENTITY,
            Category::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            Category::ProviderError => StatusCode::BAD_GATEWAY,
            Category::Network => StatusCode::BAD_GATEWAY,
            Category::NotFound => StatusCode::NOT_FOUND,
            Category::Conflict => StatusCode::CONFLICT,
            Category::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Category::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// An error the user can act on; its message is shown as is.
    #[error("{message}")]
    Client {
        category: Category,
        status: StatusCode,
        message: String,
        details: Option<Value>,
        retry_after_secs: Option<u64>,
    },
    /// fal answered with an error (or could not be reached).
    #[error(transparent)]
    Provider(Box<ProviderError>),
    /// A fault on our side. Logged in full; the client gets a generic message.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<ProviderError> for AppError {
    fn from(err: ProviderError) -> Self {
        AppError::Provider(Box::new(err))
    }
}

impl From<sqlx::Error> for AppError {
    fn from(err: sqlx::Error) -> Self {
        AppError::Internal(anyhow::Error::new(err).context("database"))
    }
}

impl AppError {
    pub fn new(category: Category, message: impl Into<String>) -> Self {
        AppError::Client {
            category,
            status: category.default_status(),
            message: message.into(),
            details: None,
            retry_after_secs: None,
        }
    }

    pub fn with_status(mut self, new_status: StatusCode) -> Self {
        if let AppError::Client { status, .. } = &mut self {
            *status = new_status;
        }
        self
    }

    pub fn with_details(mut self, new_details: Value) -> Self {
        if let AppError::Client { details, .. } = &mut self {
            *details = Some(new_details);
        }
        self
    }

    pub fn with_retry_after(mut self, secs: u64) -> Self {
        if let AppError::Client {
            retry_after_secs, ..
        } = &mut self
        {
            *retry_after_secs = Some(secs);
        }
        self
    }

    pub fn invalid_request(message: impl Into<String>) -> Self {
        Self::new(Category::InvalidRequest, message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(Category::NotFound, message)
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(Category::Unauthorized, message)
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(Category::Conflict, message)
    }

    pub fn category(&self) -> Category {
        match self {
            AppError::Client { category, .. } => *category,
            AppError::Provider(p) => p.category,
            AppError::Internal(_) => Category::Internal,
        }
    }
}

/// The body of every error response.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorEnvelope {
    error: ErrorBody,
}

#[derive(Serialize, utoipa::ToSchema)]
struct ErrorBody {
    /// What kind of failure this is, for code to switch on.
    category: Category,
    /// What happened and what to do, for people.
    message: String,
    /// Per-field problems (`[{field, message}]`) for invalid requests; fal's own answer for
    /// provider errors.
    #[serde(skip_serializing_if = "Option::is_none")]
    details: Option<Value>,
}

fn error_response(
    status: StatusCode,
    category: Category,
    message: &str,
    details: Option<&Value>,
) -> Response {
    (
        status,
        Json(ErrorEnvelope {
            error: ErrorBody {
                category,
                message: message.to_owned(),
                details: details.cloned(),
            },
        }),
    )
        .into_response()
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        match self {
            AppError::Client {
                category,
                status,
                message,
                details,
                retry_after_secs,
            } => {
                let mut response = error_response(status, category, &message, details.as_ref());
                if let Some(secs) = retry_after_secs {
                    response
                        .headers_mut()
                        .insert(header::RETRY_AFTER, HeaderValue::from(secs));
                }
                response
            }
            AppError::Provider(err) => {
                let status = err.response_status();
                let mut details = serde_json::Map::new();
                if let Some(d) = &err.details {
                    details.insert("provider".into(), (**d).clone());
                }
                if let Some(s) = err.status {
                    details.insert("providerStatus".into(), json!(s));
                }
                if let Some(id) = &err.request_id {
                    details.insert("requestId".into(), json!(id));
                }
                if let Some(t) = &err.error_type {
                    details.insert("errorType".into(), json!(t));
                }
                details.insert("retryable".into(), json!(err.retryable));
                let details = Value::Object(details);
                error_response(status, err.category, &err.message, Some(&details))
            }
            AppError::Internal(err) => {
                tracing::error!(error = ?err, "internal error");
                error_response(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    Category::Internal,
                    "Something went wrong on the server. Try again; if it keeps happening, the server log has the details.",
                    None,
                )
            }
        }
    }
}

/// Turns the plain-text rejections of axum's own extractors (a path that is not UTF-8, a body
/// over its limit, a form that is not multipart...) into our error shape, so no route answers
/// an error in another shape. Our handlers' errors are JSON already and pass untouched.
pub async fn json_rejections(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let response = next.run(request).await;
    let status = response.status();
    let plain_text = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("text/plain"));
    if !(plain_text && (status.is_client_error() || status.is_server_error())) {
        return response;
    }
    let text = axum::body::to_bytes(response.into_body(), 4096)
        .await
        .map(|b| String::from_utf8_lossy(&b).trim().to_owned())
        .unwrap_or_default();
    let (category, message) = match status {
        StatusCode::PAYLOAD_TOO_LARGE => (
            Category::TooLarge,
            "The request body is over this route's size limit. Send less.".to_owned(),
        ),
        StatusCode::NOT_FOUND => (Category::NotFound, "There is no such route.".to_owned()),
        s if s.is_server_error() => (
            Category::Internal,
            "Something went wrong on the server. Try again.".to_owned(),
        ),
        _ => (
            Category::InvalidRequest,
            format!("The request could not be read ({text}). Fix it and send it again."),
        ),
    };
    AppError::new(category, message)
        .with_status(status)
        .into_response()
}

/// `Json` whose rejections use our error shape and say what to fix.
#[derive(Debug, Clone, Copy, Default)]
pub struct AppJson<T>(pub T);

impl<T, S> FromRequest<S> for AppJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(value)) => Ok(AppJson(value)),
            Err(rejection) => Err(json_rejection(rejection)),
        }
    }
}

impl<T: Serialize> IntoResponse for AppJson<T> {
    fn into_response(self) -> Response {
        Json(self.0).into_response()
    }
}

/// `Query` whose rejections use our error shape.
#[derive(Debug, Clone, Copy, Default)]
pub struct AppQuery<T>(pub T);

impl<T, S> axum::extract::FromRequestParts<S> for AppQuery<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| AppQuery(q.0))
            .map_err(|e| {
                AppError::invalid_request(format!(
                    "The query string is not right: {}.",
                    e.body_text()
                ))
            })
    }
}

fn json_rejection(rejection: JsonRejection) -> AppError {
    match rejection {
        JsonRejection::MissingJsonContentType(_) => AppError::invalid_request(
            "Send the request body as JSON with the header Content-Type: application/json.",
        )
        .with_status(StatusCode::UNSUPPORTED_MEDIA_TYPE),
        JsonRejection::JsonSyntaxError(e) => AppError::invalid_request(format!(
            "The request body is not valid JSON ({}). Fix the JSON and send it again.",
            e.body_text()
        ))
        .with_status(StatusCode::BAD_REQUEST),
        JsonRejection::JsonDataError(e) => AppError::invalid_request(format!(
            "The request body has the wrong shape: {}.",
            e.body_text()
        )),
        other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => AppError::new(
            Category::TooLarge,
            "The request body is too large. JSON bodies may be at most 64 KiB.",
        ),
        other => AppError::invalid_request(format!(
            "The request body could not be read: {}",
            other.body_text()
        ))
        .with_status(other.status()),
    }
}

/// Maps SQLite's unique-constraint violation to a clean error, so callers need no
/// check-then-insert race.
pub trait ResultExt<T> {
    fn on_unique_violation(self, err: impl FnOnce() -> AppError) -> Result<T>;
}

impl<T> ResultExt<T> for std::result::Result<T, sqlx::Error> {
    fn on_unique_violation(self, err: impl FnOnce() -> AppError) -> Result<T> {
        self.map_err(|e| match &e {
            sqlx::Error::Database(db) if db.is_unique_violation() => err(),
            _ => e.into(),
        })
    }
}
