//! Accounts: sign-up (open, by invite, or closed), sign-in with guessing limits, sign-out (here
//! or everywhere), password changes, and who is signed in.

pub mod invites;
pub(crate) mod password;
pub(crate) mod session;
pub mod session_store;
mod throttle;
mod throttle_store;

pub use session::CurrentUser;

pub use session_store::SqlSessionStore;
pub use throttle::{AddressQuota, Attempt, GuessLimiter, human_wait};

use axum::{extract::State, http::StatusCode, response::IntoResponse};
use serde::{Deserialize, Serialize};
use tower_sessions::Session;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    AppState,
    client_addr::ClientAddr,
    config::SignupMode,
    db,
    error::{AppError, AppJson, Category, Result},
    users::{self, SafeUser},
};

pub const MIN_PASSWORD_CHARS: usize = 8;
pub const MAX_PASSWORD_CHARS: usize = 1024;
const MAX_EMAIL_LEN: usize = 254;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(signup))
        .routes(routes!(signup_policy))
        .routes(routes!(login))
        .routes(routes!(logout))
        .routes(routes!(logout_everywhere))
        .routes(routes!(change_password))
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

#[derive(Deserialize, ToSchema)]
struct SignUp {
    /// Any address shape; it is only the name people sign in with.
    #[schema(max_length = 254)]
    email: String,
    #[schema(min_length = 8, max_length = 1024)]
    password: String,
    /// The token of an invite link (`/signup?invite=...`); needed when sign-up is by invite.
    invite: Option<String>,
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

/// Who may sign up here.
#[derive(Serialize, ToSchema)]
struct SignupPolicyView {
    mode: SignupMode,
}

/// Whether sign-up is open, by invite only, or closed (for the sign-up page).
#[utoipa::path(
    get, path = "/auth/signup-policy", operation_id = "getSignupPolicy", tag = "auth", security(()),
    responses((status = 200, body = SignupPolicyView)),
)]
async fn signup_policy(State(state): State<AppState>) -> AppJson<SignupPolicyView> {
    AppJson(SignupPolicyView {
        mode: state.signup.mode,
    })
}

/// Creates an account and signs it in.
#[utoipa::path(
    post, path = "/auth/signup", operation_id = "signUp", tag = "auth", security(()),
    request_body = SignUp,
    responses(
        (status = 201, description = "Signed up and signed in; the session cookie is set.", body = UserResponse),
        (status = 403, description = "Sign-up is closed, or by invite and no invite was given (policy).", body = crate::error::ErrorEnvelope),
        (status = 409, description = "An account with this email exists (conflict).", body = crate::error::ErrorEnvelope),
        (status = 422, description = "Email, password or invite not acceptable; `details` names the field.", body = crate::error::ErrorEnvelope),
        (status = 429, description = "Too many sign-ups from this address.", body = crate::error::ErrorEnvelope,
            headers(("Retry-After" = u64, description = "Seconds until another try is allowed"))),
    ),
)]
async fn signup(
    State(state): State<AppState>,
    ClientAddr(addr): ClientAddr,
    session: Session,
    AppJson(body): AppJson<SignUp>,
) -> Result<impl IntoResponse> {
    let email = normalize_email(&body.email)?;
    check_password(&body.password)?;
    let invite = body.invite.filter(|i| !i.is_empty());
    match (state.signup.mode, &invite) {
        (SignupMode::Closed, _) => {
            return Err(AppError::new(
                Category::Policy,
                "Sign-up is closed on this studio. Ask its administrator to make you an account.",
            ));
        }
        (SignupMode::Invite, None) => {
            return Err(AppError::new(
                Category::Policy,
                "This studio signs people up by invitation. Open the invite link you were given, or ask its administrator for one.",
            ));
        }
        _ => {}
    }
    if let Err(wait) = state.signup_quota.take(&state.db, addr).await? {
        return Err(AppError::new(
            Category::RateLimited,
            format!(
                "Too many accounts were made from your network lately. Wait {} and try again.",
                human_wait(wait)
            ),
        )
        .with_retry_after(wait));
    }
    // Only an invite in invite mode is checked; in open mode a stray one is ignored.
    let invite = invite.filter(|_| state.signup.mode == SignupMode::Invite);
    if let Some(token) = &invite
        && !invites::is_usable(&state.db, token).await?
    {
        return Err(invite_not_usable());
    }
    let hash = password::hash(body.password).await?;
    let mut tx = db::begin_write(&state.db).await?;
    let user = users::insert(&mut tx, &email, &hash, None).await?;
    if let Some(token) = &invite
        && !invites::redeem(&mut tx, token, &user.id).await?
    {
        return Err(invite_not_usable());
    }
    tx.commit().await?;
    session::sign_in(&session, &user.id).await?;
    tracing::info!(user_id = %user.id, "account created");
    Ok((StatusCode::CREATED, UserResponse::of(&user)))
}

fn invite_not_usable() -> AppError {
    AppError::invalid_request(
        "This invite link does not work any more: it was used, it expired, or it was copied incompletely. Ask for a new one.",
    )
    .with_field_problem("invite", "used, expired or unknown")
}

fn too_many_guesses(wait: u64) -> AppError {
    AppError::new(
        Category::RateLimited,
        format!(
            "Too many wrong passwords. Wait {} and try again.",
            human_wait(wait)
        ),
    )
    .with_retry_after(wait)
}

/// Signs in, replacing any earlier session id.
#[utoipa::path(
    post, path = "/auth/login", operation_id = "signIn", tag = "auth", security(()),
    request_body = Credentials,
    responses(
        (status = 200, description = "Signed in; a new session cookie is set.", body = UserResponse),
        (status = 401, description = "Wrong email or password (the same answer for both).", body = crate::error::ErrorEnvelope),
        (status = 429, description = "Too many attempts for this email from this address, from this address, or for this email.", body = crate::error::ErrorEnvelope,
            headers(("Retry-After" = u64, description = "Seconds until another try is allowed"))),
    ),
)]
async fn login(
    State(state): State<AppState>,
    ClientAddr(addr): ClientAddr,
    session: Session,
    AppJson(body): AppJson<Credentials>,
) -> Result<impl IntoResponse> {
    let email = body.email.trim().to_lowercase();
    // Counted before the password is checked, so parallel guesses cannot all be judged.
    let attempt = state
        .login_limiter
        .reserve(&state.db, &email, addr)
        .await?
        .map_err(too_many_guesses)?;
    let user = users::find_by_email(&state.db, &email).await?;
    let ok = password::verify(
        user.as_ref().map(|u| u.password_hash.clone()),
        body.password,
    )
    .await?;
    let user = match user {
        Some(user) if ok => user,
        // Dropping the attempt leaves it counted.
        _ => {
            return Err(AppError::unauthorized(
                "The email or password is not right. Check both and try again.",
            ));
        }
    };
    if user.disabled_at.is_some() {
        // Told only to someone who knows the password.
        return Err(AppError::unauthorized(
            "This account is disabled. Ask the studio's admin to enable it again.",
        ));
    }
    attempt.succeeded().await;
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

/// Ends every session of this account, on every device, this one included.
#[utoipa::path(
    post, path = "/auth/logout-everywhere", operation_id = "signOutEverywhere", tag = "auth",
    responses(
        (status = 204, description = "Every session ended."),
        (status = 401, description = "Not signed in.", body = crate::error::ErrorEnvelope),
    ),
)]
async fn logout_everywhere(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    session: Session,
) -> Result<StatusCode> {
    let ended = state.sessions.end_all_of(&user.id).await?;
    session::sign_out(&session).await?;
    tracing::info!(user_id = %user.id, sessions = ended, "signed out everywhere");
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct PasswordChange {
    #[schema(max_length = 1024)]
    current_password: String,
    #[schema(min_length = 8, max_length = 1024)]
    new_password: String,
}

/// Changes the password. Every other session of the account ends; this one continues under a
/// new id.
#[utoipa::path(
    post, path = "/auth/password", operation_id = "changePassword", tag = "auth",
    request_body = PasswordChange,
    responses(
        (status = 204, description = "Changed; other sessions ended, a new session cookie is set."),
        (status = 401, description = "Not signed in.", body = crate::error::ErrorEnvelope),
        (status = 422, description = "The current password is wrong, or the new one is not acceptable; `details` names the field.", body = crate::error::ErrorEnvelope),
        (status = 429, description = "Too many wrong current passwords.", body = crate::error::ErrorEnvelope,
            headers(("Retry-After" = u64, description = "Seconds until another try is allowed"))),
    ),
)]
async fn change_password(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ClientAddr(addr): ClientAddr,
    session: Session,
    AppJson(body): AppJson<PasswordChange>,
) -> Result<StatusCode> {
    check_password(&body.new_password).map_err(|e| {
        e.with_field_problem(
            "newPassword",
            format!("must be {MIN_PASSWORD_CHARS} to {MAX_PASSWORD_CHARS} characters"),
        )
    })?;
    // A stolen session must not be a way to guess the password faster than the sign-in form.
    let attempt = state
        .login_limiter
        .reserve(&state.db, &user.email, addr)
        .await?
        .map_err(too_many_guesses)?;
    let right = body.current_password.chars().count() <= MAX_PASSWORD_CHARS
        && password::verify(Some(user.password_hash.clone()), body.current_password).await?;
    if !right {
        return Err(AppError::invalid_request(
            "Your current password is not right. Enter it again to change it.",
        )
        .with_field_problem("currentPassword", "not right"));
    }
    attempt.succeeded().await;
    let hash = password::hash(body.new_password).await?;
    users::set_password_hash(&state.db, &user.id, &hash).await?;
    let ended = state.sessions.end_all_of(&user.id).await?;
    session::sign_in(&session, &user.id).await?;
    tracing::info!(user_id = %user.id, other_sessions = ended.saturating_sub(1), "password changed");
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
            .with_field_problem("email", "not a valid email address")
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
        .with_field_problem(
            "password",
            format!("must be {MIN_PASSWORD_CHARS} to {MAX_PASSWORD_CHARS} characters"),
        ));
    }
    Ok(())
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
