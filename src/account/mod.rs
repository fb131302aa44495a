//! The user's fal key: checked against fal before it is stored, encrypted at rest, never sent
//! back. And the credits it can see.

mod cipher;

pub use cipher::KeyCipher;

use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    AppState,
    auth::{CurrentUser, UserResponse},
    error::{AppError, AppJson, Category, Result},
    fal::{BillingCheck, FalKey, ProviderError},
    users::{self, SafeUser, UserRow},
};

const MAX_KEY_LEN: usize = 512;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(set_key, remove_key, set_key_concurrency))
        .routes(routes!(credits))
}

#[derive(Deserialize, ToSchema)]
struct SetKey {
    /// The whole key from fal's dashboard: key id, colon, secret.
    #[schema(max_length = 512)]
    key: String,
    /// Requests this key may have at fal at once: fal starts accounts at 2 and raises it up to
    /// 40 as credits are bought (see your fal dashboard). Users who share a key share it. Absent
    /// or null: the studio's default (`FAL_KEY_CONCURRENCY`). Jobs past it wait in the queue.
    #[serde(default)]
    #[schema(minimum = 1, maximum = 1000)]
    concurrency: Option<i64>,
}

/// The fal account's balance, when fal shows it to this key (admin keys only).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct Credits {
    balance: Option<f64>,
    currency: Option<String>,
}

#[derive(Serialize, ToSchema)]
struct KeySaved {
    user: SafeUser,
    /// Null when fal does not show this key the balance.
    credits: Option<Credits>,
}

impl From<BillingCheck> for Credits {
    fn from(check: BillingCheck) -> Self {
        match check {
            BillingCheck::Credits { balance, currency } => Credits {
                balance: Some(balance),
                currency: Some(currency),
            },
            BillingCheck::CreditsUnavailable => Credits {
                balance: None,
                currency: None,
            },
        }
    }
}

/// Checks a fal key with fal, then stores it encrypted. It is never sent back.
#[utoipa::path(
    put, path = "/account/fal-key", operation_id = "setFalKey", tag = "account",
    request_body = SetKey,
    responses(
        (status = 200, description = "Checked and saved.", body = KeySaved),
        (status = 401, description = "fal rejected the key (invalid_key), or not signed in. Nothing was saved.", body = crate::error::ErrorEnvelope),
        (status = 422, description = "Not shaped like a key, or `concurrency` out of range. Nothing was saved.", body = crate::error::ErrorEnvelope),
        (status = 502, description = "fal could not be reached (network). Nothing was saved.", body = crate::error::ErrorEnvelope),
    ),
)]
async fn set_key(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    AppJson(body): AppJson<SetKey>,
) -> Result<AppJson<KeySaved>> {
    let key = check_key_shape(&body.key)?;
    let concurrency = check_concurrency(body.concurrency)?;
    let check = checked_with_fal(&state, &key).await?;
    let ciphertext = state
        .cipher
        .encrypt(key.expose(), &user.id)
        .map_err(|e| AppError::Internal(e.into()))?;
    users::set_fal_key(&state.db, &user.id, Some(&ciphertext), concurrency).await?;
    tracing::info!(user_id = %user.id, "fal key saved");
    let user = UserRow {
        fal_key_ciphertext: Some(ciphertext),
        fal_key_concurrency: concurrency,
        ..user
    };
    Ok(AppJson(KeySaved {
        user: SafeUser::from(&user),
        credits: match check {
            BillingCheck::Credits { .. } => Some(Credits::from(check)),
            BillingCheck::CreditsUnavailable => None,
        },
    }))
}

#[derive(Deserialize, ToSchema)]
struct SetKeyConcurrency {
    /// Requests the saved key may have at fal at once (see `PUT`); null: the studio's default.
    #[schema(minimum = 1, maximum = 1000)]
    concurrency: Option<i64>,
}

/// Changes how many requests the saved key may have at fal at once, without sending the key
/// again (after buying credits, fal raises it).
#[utoipa::path(
    patch, path = "/account/fal-key", operation_id = "setFalKeyConcurrency", tag = "account",
    request_body = SetKeyConcurrency,
    responses(
        (status = 200, description = "Saved.", body = UserResponse),
        (status = 409, description = "No fal key is saved: save one first (conflict).", body = crate::error::ErrorEnvelope),
        (status = 422, description = "`concurrency` out of range. Nothing was saved.", body = crate::error::ErrorEnvelope),
    ),
)]
async fn set_key_concurrency(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    AppJson(body): AppJson<SetKeyConcurrency>,
) -> Result<AppJson<UserResponse>> {
    let concurrency = check_concurrency(body.concurrency)?;
    if !users::set_fal_key_concurrency(&state.db, &user.id, concurrency).await? {
        return Err(AppError::conflict(
            "No fal key is saved, so there is no limit to change: save your key first.",
        ));
    }
    tracing::info!(user_id = %user.id, ?concurrency, "fal key concurrency changed");
    let user = UserRow {
        fal_key_concurrency: concurrency,
        ..user
    };
    Ok(UserResponse::of(&user))
}

/// Asks fal whether it accepts `key` (its billing endpoint), with errors that say nothing was
/// saved. Shared by personal keys and the studio key.
pub(crate) async fn checked_with_fal(state: &AppState, key: &FalKey) -> Result<BillingCheck> {
    state.fal.billing(key).await.map_err(|e| match e.category {
        Category::InvalidKey => AppError::new(
            Category::InvalidKey,
            "fal rejected this key. Copy the whole key (key id, colon, secret) from your fal dashboard and try again. Nothing was saved.",
        ),
        Category::Network => AppError::new(
            Category::Network,
            format!("{} Nothing was saved.", e.message),
        ),
        _ => ProviderError {
            message: format!(
                "fal could not check the key: {}. Nothing was saved; try again later.",
                e.message
            ),
            ..e
        }
        .into(),
    })
}

/// Forgets the saved fal key.
#[utoipa::path(
    delete, path = "/account/fal-key", operation_id = "removeFalKey", tag = "account",
    responses((status = 200, description = "Removed (also when none was saved).", body = UserResponse)),
)]
async fn remove_key(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
) -> Result<AppJson<UserResponse>> {
    users::set_fal_key(&state.db, &user.id, None, None).await?;
    tracing::info!(user_id = %user.id, "fal key removed");
    let user = UserRow {
        fal_key_ciphertext: None,
        fal_key_concurrency: None,
        ..user
    };
    Ok(UserResponse::of(&user))
}

/// The balance of the fal account behind the saved key.
#[utoipa::path(
    get, path = "/account/credits", operation_id = "getCredits", tag = "account",
    responses(
        (status = 200, description = "Balance and currency, both null when fal does not show them to this key.", body = Credits),
        (status = 409, description = "No fal key is saved.", body = crate::error::ErrorEnvelope),
    ),
)]
async fn credits(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
) -> Result<AppJson<Credits>> {
    let key = user_fal_key(&state, &user)?;
    let check = state
        .fal
        .billing(&key)
        .await
        .map_err(|e| match e.category {
            Category::InvalidKey => AppError::new(
                Category::InvalidKey,
                "fal no longer accepts your saved key. Replace it in Settings.",
            ),
            _ => e.into(),
        })?;
    Ok(AppJson(Credits::from(check)))
}

/// The user's decrypted fal key, or an error that says how to get one in place.
pub fn user_fal_key(state: &AppState, user: &UserRow) -> Result<FalKey> {
    let stored = user.fal_key_ciphertext.as_deref().ok_or_else(|| {
        AppError::conflict("No fal key is saved for your account. Add one in Settings first.")
    })?;
    let key = state.cipher.decrypt(stored, &user.id).map_err(|_| {
        tracing::error!(user_id = %user.id, "stored fal key does not decrypt; APP_SECRET changed?");
        AppError::new(
            Category::InvalidKey,
            "Your saved fal key can no longer be read (the server's APP_SECRET changed). Add the key again in Settings.",
        )
    })?;
    Ok(FalKey::new(key))
}

/// A key's concurrency as the user gave it: 1 to `MAX_KEY_CONCURRENCY`, or none.
pub(crate) fn check_concurrency(value: Option<i64>) -> Result<Option<i64>> {
    let max = crate::config::MAX_KEY_CONCURRENCY as i64;
    match value {
        None => Ok(None),
        Some(n) if (1..=max).contains(&n) => Ok(Some(n)),
        Some(n) => {
            let message = format!(
                "must be a whole number from 1 to {max} (fal starts accounts at 2), not {n}"
            );
            Err(
                AppError::invalid_request(format!("concurrency {message}. Nothing was saved."))
                    .with_field_problem("concurrency", message),
            )
        }
    }
}

pub(crate) fn check_key_shape(raw: &str) -> Result<FalKey> {
    let key = raw.trim();
    let field_error = |message: &str| {
        AppError::invalid_request(format!("{message}.")).with_field_problem("key", message)
    };
    if key.is_empty() {
        return Err(field_error("Paste your fal key"));
    }
    if key.len() > MAX_KEY_LEN {
        return Err(field_error("This is too long to be a fal key"));
    }
    if key.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(field_error(
            "A fal key has no spaces or line breaks; paste it again",
        ));
    }
    Ok(FalKey::new(key.to_owned()))
}
