//! The `invites` table: single-use sign-up links for `SIGNUP_MODE=invite`, made by
//! `fal-studio admin invite`. The one place its SQL lives. Only a SHA-256 of each token is
//! stored; the link the admin hands out is the only copy of the token.

use std::time::Duration;

use sha2::{Digest, Sha256};
use sqlx::{SqliteExecutor, SqlitePool};

use crate::shares::token;

/// How long an invite link works unless the admin says otherwise.
pub const DEFAULT_VALID_FOR: Duration = Duration::from_secs(7 * 24 * 3600);

fn hash_of(token: &str) -> String {
    crate::storage::hex(&Sha256::digest(token.as_bytes()))
}

/// Stores a new invite valid for `valid_for` and returns its token.
pub async fn create(db: &SqlitePool, valid_for: Duration) -> sqlx::Result<String> {
    let token = token::generate();
    sqlx::query(
        "INSERT INTO invites (token_hash, expires_at) \
         VALUES (?, strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '+' || ? || ' seconds'))",
    )
    .bind(hash_of(&token))
    .bind(valid_for.as_secs() as i64)
    .execute(db)
    .await?;
    Ok(token)
}

/// Whether `token` is an unused, unexpired invite (a cheap look before hashing a password).
pub async fn is_usable(db: &SqlitePool, token: &str) -> sqlx::Result<bool> {
    if !token::is_well_formed(token) {
        return Ok(false);
    }
    let found: Option<i64> = sqlx::query_scalar(
        "SELECT 1 FROM invites WHERE token_hash = ? AND used_at IS NULL \
         AND expires_at > strftime('%Y-%m-%dT%H:%M:%fZ', 'now')",
    )
    .bind(hash_of(token))
    .fetch_optional(db)
    .await?;
    Ok(found.is_some())
}

/// Marks `token` used by `user_id`, inside the sign-up's transaction. `false` when it was not
/// usable any more (another sign-up took it first): the caller rolls back.
pub async fn redeem(db: impl SqliteExecutor<'_>, token: &str, user_id: &str) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "UPDATE invites SET used_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), used_by = ? \
         WHERE token_hash = ? AND used_at IS NULL \
         AND expires_at > strftime('%Y-%m-%dT%H:%M:%fZ', 'now')",
    )
    .bind(user_id)
    .bind(hash_of(token))
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}
