//! The one error type every handler returns, and the JSON shape clients see:
//! `{ "error": { "category", "message", "details"? } }`.

use axum::{
    Json,
    extract::{FromRequest, Request, rejection::JsonRejection},
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde::{Deserialize, Serialize, de::DeserializeOwned};
use serde_json::Value;

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
    /// A generation would take its user (or the studio key) past a monthly budget.
    BudgetExceeded,
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
            Category::BudgetExceeded => StatusCode::PAYMENT_REQUIRED,
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
        // Boxed: the provider form is large, and every `Result` in the app carries this type.
        details: Option<Box<ErrorDetails>>,
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

    pub fn with_details(mut self, new_details: impl Into<ErrorDetails>) -> Self {
        if let AppError::Client { details, .. } = &mut self {
            *details = Some(Box::new(new_details.into()));
        }
        self
    }

    /// `details` naming the fields that are wrong, for a form to show beside each one.
    pub fn with_field_problems(self, problems: Vec<FieldProblem>) -> Self {
        self.with_details(ErrorDetails::Fields(problems))
    }

    /// The common case of [`Self::with_field_problems`]: one field.
    pub fn with_field_problem(self, field: impl Into<String>, message: impl Into<String>) -> Self {
        self.with_field_problems(vec![FieldProblem::new(field, message)])
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

/// One entry of an invalid request's `details`: the field and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct FieldProblem {
    /// The field's name as the request spelled it (a form part, a JSON key, a query parameter).
    pub field: String,
    /// What is wrong with it, short enough to show beside the field.
    pub message: String,
}

impl FieldProblem {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        FieldProblem {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// `details` of the queue cap's 429: how many generations the account has, would add, may have.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct QueueLimitDetails {
    /// Generations of this account waiting or running now.
    pub active: usize,
    /// Generations this request would have added.
    pub adding: usize,
    /// The most an account may have waiting or running (`JOBS_MAX_QUEUED_PER_USER`).
    pub limit: usize,
}

/// `details` of a provider (fal) failure.
// The field order is the order clients have always seen on the wire; keep it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProviderDetails {
    /// The structured part of fal's own answer (validation items, or its whole body), as fal
    /// sent it.
    // Left out when unknown, never sent as null: so not nullable in the document either.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub provider: Option<Value>,
    /// fal's HTTP status; absent when fal could not be reached at all.
    // Left out when unknown, never sent as null: so not nullable in the document either.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub provider_status: Option<u16>,
    /// fal's request id, for fal's support.
    // Left out when unknown, never sent as null: so not nullable in the document either.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub request_id: Option<String>,
    /// fal's `error_type`, when it named one.
    // Left out when unknown, never sent as null: so not nullable in the document either.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub error_type: Option<String>,
    /// Whether the same request may succeed if sent again.
    pub retryable: bool,
}

/// The shapes `details` takes, told apart by shape: an array for an invalid request, an object
/// with `limit` for the queue cap, one with `retryable` for a provider failure.
// Untagged because the wire has never carried a tag, and adding one would break clients.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum ErrorDetails {
    /// An invalid request: each field that is wrong.
    Fields(Vec<FieldProblem>),
    /// The per-account queue cap was hit.
    QueueLimit(QueueLimitDetails),
    /// fal failed or could not be reached.
    Provider(ProviderDetails),
    /// A budget would be exceeded.
    Budget(BudgetDetails),
}

impl From<BudgetDetails> for ErrorDetails {
    fn from(details: BudgetDetails) -> Self {
        ErrorDetails::Budget(details)
    }
}

/// `details` of a `budget_exceeded` refusal (402).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BudgetDetails {
    /// What the refused generation was estimated to cost, all runs together; null when it
    /// could not be estimated.
    pub estimate_usd: Option<f64>,
    /// What is left of the budget this month (already net of queued jobs' reservations).
    pub remaining_usd: f64,
    /// When the budget starts again: the first moment of next month, UTC.
    pub resets_at: String,
    /// Whose budget: `user` (yours) or `studio` (the studio key's).
    pub budget: BudgetScope,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum BudgetScope {
    User,
    Studio,
}

impl From<Vec<FieldProblem>> for ErrorDetails {
    fn from(problems: Vec<FieldProblem>) -> Self {
        ErrorDetails::Fields(problems)
    }
}

impl From<QueueLimitDetails> for ErrorDetails {
    fn from(details: QueueLimitDetails) -> Self {
        ErrorDetails::QueueLimit(details)
    }
}

impl From<ProviderDetails> for ErrorDetails {
    fn from(details: ProviderDetails) -> Self {
        ErrorDetails::Provider(details)
    }
}

impl From<&ProviderError> for ProviderDetails {
    fn from(err: &ProviderError) -> Self {
        ProviderDetails {
            provider: err.details.as_deref().cloned(),
            provider_status: err.status,
            request_id: err.request_id.clone(),
            error_type: err.error_type.clone(),
            retryable: err.retryable,
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
    /// Per-field problems (`[{field, message}]`) for invalid requests; the counts for the
    /// queue cap; fal's status and answer for provider errors.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    details: Option<ErrorDetails>,
}

fn error_response(
    status: StatusCode,
    category: Category,
    message: &str,
    details: Option<ErrorDetails>,
) -> Response {
    (
        status,
        Json(ErrorEnvelope {
            error: ErrorBody {
                category,
                message: message.to_owned(),
                details,
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
                let mut response = error_response(status, category, &message, details.map(|d| *d));
                if let Some(secs) = retry_after_secs {
                    response
                        .headers_mut()
                        .insert(header::RETRY_AFTER, HeaderValue::from(secs));
                }
                response
            }
            AppError::Provider(err) => {
                let status = err.response_status();
                let details = ErrorDetails::Provider(ProviderDetails::from(&*err));
                error_response(status, err.category, &err.message, Some(details))
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

/// Maps a unique-constraint violation (either engine's) to a clean error, so callers need no
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

#[cfg(test)]
mod details_tests {
    use super::*;
    use serde_json::json;

    /// The typed details replaced hand-built `json!` values; the wire is a promise to clients,
    /// so each variant must serialise to exactly the text those values produced, key order
    /// included (serde_json keeps insertion order here).
    fn same_text(details: ErrorDetails, before: Value) {
        let now = serde_json::to_string(&details).expect("details serialise");
        assert_eq!(now, before.to_string());
        // Read back, the same variant comes out (the untagged enum tells them apart by shape).
        let back: ErrorDetails = serde_json::from_str(&now).expect("details read back");
        assert_eq!(back, details);
    }

    #[test]
    fn field_problems_keep_their_shape() {
        same_text(
            ErrorDetails::Fields(vec![
                FieldProblem::new("email", "not a valid email address"),
                FieldProblem::new("password", "must be 8 to 256 characters"),
            ]),
            json!([
                { "field": "email", "message": "not a valid email address" },
                { "field": "password", "message": "must be 8 to 256 characters" },
            ]),
        );
    }

    #[test]
    fn queue_limit_keeps_its_shape() {
        same_text(
            QueueLimitDetails {
                active: 20,
                adding: 4,
                limit: 20,
            }
            .into(),
            json!({ "active": 20, "adding": 4, "limit": 20 }),
        );
    }

    #[test]
    fn provider_details_keep_their_shape() {
        let full = ProviderError {
            category: Category::ProviderError,
            status: Some(422),
            message: "m".into(),
            details: Some(Box::new(json!([{ "loc": ["body", "seed"], "msg": "bad" }]))),
            retryable: false,
            request_id: Some("req-1".into()),
            error_type: Some("validation_error".into()),
            retry_after_secs: None,
            fal_retryable: None,
        };
        // What the old handler built: `provider`, `providerStatus`, `requestId`, `errorType`,
        // each only when known, then `retryable`, in that order.
        same_text(
            ProviderDetails::from(&full).into(),
            json!({
                "provider": [{ "loc": ["body", "seed"], "msg": "bad" }],
                "providerStatus": 422,
                "requestId": "req-1",
                "errorType": "validation_error",
                "retryable": false,
            }),
        );
        let unreachable = ProviderError::network("fal could not be reached");
        same_text(
            ProviderDetails::from(&unreachable).into(),
            json!({ "retryable": true }),
        );
    }

    #[test]
    fn the_envelope_leaves_out_absent_details() {
        let body = ErrorEnvelope {
            error: ErrorBody {
                category: Category::NotFound,
                message: "gone".into(),
                details: None,
            },
        };
        assert_eq!(
            serde_json::to_value(&body).expect("envelope serialises"),
            json!({ "error": { "category": "not_found", "message": "gone" } })
        );
    }
}
