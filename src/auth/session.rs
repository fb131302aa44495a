//! Typed access to the session: who is signed in.

use axum::{extract::FromRequestParts, http::request::Parts};
use tower_sessions::Session;

use crate::{AppState, error::AppError, users::UserRow};

/// The one key under which the signed-in user's id lives in the session.
pub(crate) const USER_ID_KEY: &str = "user_id";
/// The UTC day the session was last used.
pub(crate) const SEEN_ON_KEY: &str = "seen_on";

/// The signed-in user, loaded fresh from the database on each request so a deleted account or a
/// removed key is seen at once.
///
/// Read by the session key from the cookie, session and user in one query, without loading the
/// session into tower-sessions (which would be a second query); the session is loaded only when
/// something changes it: the day's first request, or a cookie that names no live session.
pub struct CurrentUser(pub UserRow);

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let session = session_of(parts)?;
        let not_signed_in =
            || AppError::unauthorized("You are not signed in. Sign in and try again.");
        let Some(key) = key_of(&session) else {
            return Err(not_signed_in());
        };
        let Some(signed_in) = state.sessions.signed_in(&key).await? else {
            // Loading it finds nothing, so tower-sessions drops the id and clears the cookie.
            let _: Option<String> = session.get(USER_ID_KEY).await.map_err(store_error)?;
            return Err(not_signed_in());
        };
        if signed_in.user.disabled_at.is_some() {
            // Disabling ends the account's sessions; this holds even for one that slipped by.
            return Err(AppError::unauthorized(
                "This account was disabled by the studio's admin. Ask them to enable it again.",
            ));
        }
        if signed_in.seen_on.as_deref() != Some(today().as_str()) {
            keep_alive(&session).await?;
        }
        Ok(CurrentUser(signed_in.user))
    }
}

fn today() -> String {
    time::OffsetDateTime::now_utc().date().to_string()
}

fn store_error(e: tower_sessions::session::Error) -> AppError {
    AppError::Internal(anyhow::anyhow!("session store: {e}"))
}

/// tower-sessions stores a session (and pushes its inactivity expiry forward) only when the
/// session changed, so without this an active user would be signed out a fixed time after
/// signing in. Noting the day changes the session on a user's first request of each day:
/// one write per session per day, not one per request.
async fn keep_alive(session: &Session) -> Result<(), AppError> {
    let today = today();
    let seen: Option<String> = session.get(SEEN_ON_KEY).await.map_err(store_error)?;
    if seen.as_deref() != Some(today.as_str()) {
        session
            .insert(SEEN_ON_KEY, today)
            .await
            .map_err(store_error)?;
    }
    Ok(())
}

pub fn session_of(parts: &Parts) -> Result<Session, AppError> {
    parts
        .extensions
        .get::<Session>()
        .cloned()
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("session layer missing")))
}

/// Starts a signed-in session under a fresh id, so an id planted before login is worthless.
pub async fn sign_in(session: &Session, user_id: &str) -> Result<(), AppError> {
    session.cycle_id().await.map_err(store_error)?;
    session
        .insert(USER_ID_KEY, user_id)
        .await
        .map_err(store_error)
}

/// The stored key of the request's session, when it has one.
pub fn key_of(session: &Session) -> Option<super::session_store::SessionKey> {
    session
        .id()
        .map(|id| super::session_store::SessionKey::of(&id))
}

pub async fn sign_out(session: &Session) -> Result<(), AppError> {
    session.flush().await.map_err(store_error)
}
