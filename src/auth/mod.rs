//! Accounts: signup, login, logout, me.

pub(crate) mod password;
mod session;
mod throttle;

pub use session::CurrentUser;
pub(crate) use session::USER_ID_KEY;
pub use throttle::LoginThrottle;

use std::{net::SocketAddr, time::Instant};

use axum::{
    extract::{ConnectInfo, State},
    http::StatusCode,
    response::IntoResponse,
};
use serde::{Deserialize, Serialize};
use serde_json::json;
use tower_sessions::Session;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    AppState,
    error::{AppError, AppJson, Category, Result},
    users::{self, SafeUser},
};

pub const MIN_PASSWORD_CHARS: usize = 8;
pub const MAX_PASSWORD_CHARS: usize = 1024;
const MAX_EMAIL_LEN: usize = 254;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(signup))
        .routes(routes!(login))
        .routes(routes!(logout))
        .routes(routes!(me))
}

#[derive(Deserialize, ToSchema)]
struct Credentials {
    /// Any address shape; it is only the name people sign in with.
    #[schema(max_length = 254)]
    email: String,
    #[schema(min_length = 8, max_length = 1024)]
    password: String,
}

/// The signed-in user.
#[derive(Serialize, ToSchema)]
pub struct UserResponse {
    pub user: SafeUser,
}

impl UserResponse {
    pub fn of(user: &users::UserRow) -> AppJson<Self> {
        AppJson(UserResponse {
            user: SafeUser::from(user),
        })
    }
}

/// Creates an account and signs it in.
#[utoipa::path(
    post, path = "/auth/signup", operation_id = "signUp", tag = "auth", security(()),
    request_body = Credentials,
    responses(
        (status = 201, description = "Signed up and signed in; the session cookie is set.", body = UserResponse),
        (status = 409, description = "An account with this email exists (conflict).", body = crate::error::ErrorEnvelope),
        (status = 422, description = "Email or password not acceptable; `details` names the field.", body = crate::error::ErrorEnvelope),
    ),
)]
async fn signup(
    State(state): State<AppState>,
    session: Session,
    AppJson(body): AppJson<Credentials>,
) -> Result<impl IntoResponse> {
    let email = normalize_email(&body.email)?;
    check_password(&body.password)?;
    let hash = password::hash(body.password).await?;
    let user = users::insert(&state.db, &email, &hash).await?;
    session::sign_in(&session, &user.id).await?;
    tracing::info!(user_id = %user.id, "account created");
    Ok((StatusCode::CREATED, UserResponse::of(&user)))
}

/// Signs in, replacing any earlier session id.
#[utoipa::path(
    post, path = "/auth/login", operation_id = "signIn", tag = "auth", security(()),
    request_body = Credentials,
    responses(
        (status = 200, description = "Signed in; a new session cookie is set.", body = UserResponse),
        (status = 401, description = "Wrong email or password (the same answer for both).", body = crate::error::ErrorEnvelope),
        (status = 429, description = "Too many failures for this email or address.", body = crate::error::ErrorEnvelope,
            headers(("Retry-After" = u64, description = "Seconds until another try is allowed"))),
    ),
)]
async fn login(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    session: Session,
    AppJson(body): AppJson<Credentials>,
) -> Result<impl IntoResponse> {
    let email = body.email.trim().to_lowercase();
    let addr = peer.ip();
    if let Err(wait) = state.login_throttle.check(&email, addr, Instant::now()) {
        return Err(AppError::new(
            Category::RateLimited,
            format!(
                "Too many failed sign-in attempts. Wait {} and try again.",
                human_wait(wait)
            ),
        )
        .with_retry_after(wait));
    }
    let user = users::find_by_email(&state.db, &email).await?;
    let ok = password::verify(
        user.as_ref().map(|u| u.password_hash.clone()),
        body.password,
    )
    .await?;
    let user = match user {
        Some(user) if ok => user,
        _ => {
            state
                .login_throttle
                .record_failure(&email, addr, Instant::now());
            return Err(AppError::unauthorized(
                "The email or password is not right. Check both and try again.",
            ));
        }
    };
    state.login_throttle.record_success(&email);
    session::sign_in(&session, &user.id).await?;
    Ok(UserResponse::of(&user))
}

/// Ends the session, if there is one.
#[utoipa::path(
    post, path = "/auth/logout", operation_id = "signOut", tag = "auth", security((), ("session" = [])),
    responses((status = 204, description = "Signed out (also when no one was signed in).")),
)]
async fn logout(session: Session) -> Result<StatusCode> {
    session::sign_out(&session).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Who is signed in.
#[utoipa::path(
    get, path = "/auth/me", operation_id = "getMe", tag = "auth",
    responses(
        (status = 200, body = UserResponse),
        (status = 401, description = "Not signed in.", body = crate::error::ErrorEnvelope),
    ),
)]
async fn me(CurrentUser(user): CurrentUser) -> AppJson<UserResponse> {
    UserResponse::of(&user)
}

/// Trimmed, lower-cased, and shaped like an address. Deliverability is not checked: there is no
/// mail in this product, so the email is only a login name people recognise.
pub(crate) fn normalize_email(raw: &str) -> Result<String> {
    let email = raw.trim().to_lowercase();
    let invalid = || {
        AppError::invalid_request("Enter a valid email address, like name@example.com.")
            .with_details(json!([{ "field": "email", "message": "not a valid email address" }]))
    };
    if email.is_empty() || email.len() > MAX_EMAIL_LEN || email.chars().any(char::is_whitespace) {
        return Err(invalid());
    }
    let (local, domain) = email.split_once('@').ok_or_else(invalid)?;
    let domain_ok = domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains('@');
    if local.is_empty() || !domain_ok || email.chars().any(char::is_control) {
        return Err(invalid());
    }
    Ok(email)
}

pub(crate) fn check_password(password: &str) -> Result<()> {
    let n = password.chars().count();
    if !(MIN_PASSWORD_CHARS..=MAX_PASSWORD_CHARS).contains(&n) {
        return Err(AppError::invalid_request(format!(
            "Use a password of {MIN_PASSWORD_CHARS} to {MAX_PASSWORD_CHARS} characters."
        ))
        .with_details(json!([{ "field": "password", "message": format!("must be {MIN_PASSWORD_CHARS} to {MAX_PASSWORD_CHARS} characters") }])));
    }
    Ok(())
}

fn human_wait(secs: u64) -> String {
    if secs < 60 {
        format!("{secs} seconds")
    } else {
        let mins = secs.div_ceil(60);
        format!("{mins} minute{}", if mins == 1 { "" } else { "s" })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_trimmed_and_lowercased() {
        assert_eq!(
            normalize_email("  Ada@Example.COM ").unwrap(),
            "ada@example.com"
        );
    }

    #[test]
    fn malformed_emails_are_refused() {
        for bad in [
            "",
            "ada",
            "@x.io",
            "ada@",
            "ada@x",
            "ada@.io",
            "ada@x.io.",
            "a da@x.io",
            "a@b@c.io",
        ] {
            assert!(normalize_email(bad).is_err(), "{bad:?} must be refused");
        }
    }

    #[test]
    fn password_length_bounds_count_characters() {
        assert!(check_password("1234567").is_err());
        assert!(check_password("12345678").is_ok());
        assert!(check_password(&"é".repeat(1024)).is_ok());
        assert!(check_password(&"x".repeat(1025)).is_err());
    }
}
