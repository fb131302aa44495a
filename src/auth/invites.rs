//! The `invites` table: single-use sign-up links for `SIGNUP_MODE=invite`, made by
//! `fal-studio admin invite`. The one place its SQL lives. Only a SHA-256 of each token is
//! stored; the link the admin hands out is the only copy of the token.

use std::time::Duration;

use sha2::{Digest, Sha256};

use crate::{
    db::{Conn, Db, Engine, with_conn, with_db},
    shares::token,
};

/// How long an invite link works unless the admin says otherwise.
pub const DEFAULT_VALID_FOR: Duration = Duration::from_secs(7 * 24 * 3600);

fn hash_of(token: &str) -> String {
    crate::storage::hex(&Sha256::digest(token.as_bytes()))
}

/// Stores a new invite valid for `valid_for` and returns its token.
pub async fn create(db: &Db, valid_for: Duration) -> sqlx::Result<String> {
    let token = token::generate();
    // "Now plus N seconds" is time arithmetic each engine spells its own way.
    let sql = match db.engine() {
        Engine::Sqlite => {
            "/* sqlite */ INSERT INTO invites (token_hash, expires_at) \
             VALUES ($1, strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '+' || $2 || ' seconds'))"
        }
        Engine::Postgres => {
            "/* postgres */ INSERT INTO invites (token_hash, expires_at) \
             VALUES ($1, studio_now_plus(CAST($2 AS DOUBLE PRECISION)))"
        }
    };
    with_db!(db, pool => sqlx::query(sql)
        .bind(hash_of(&token))
        .bind(valid_for.as_secs() as i64)
        .execute(pool)
        .await
        .map(|_| ()))?;
    Ok(token)
}

/// Whether `token` is an unused, unexpired invite (a cheap look before hashing a password).
pub async fn is_usable(db: &Db, token: &str) -> sqlx::Result<bool> {
    if !token::is_well_formed(token) {
        return Ok(false);
    }
    let now = db.engine().now();
    let sql = format!(
        "SELECT CAST(1 AS BIGINT) FROM invites WHERE token_hash = $1 AND used_at IS NULL \
         AND expires_at > {now}"
    );
    let found: Option<i64> = with_db!(db, pool => sqlx::query_scalar(&sql)
        .bind(hash_of(token))
        .fetch_optional(pool)
        .await)?;
    Ok(found.is_some())
}

/// Marks `token` used by `user_id`, inside the sign-up's transaction. `false` when it was not
/// usable any more (another sign-up took it first): the caller rolls back. On Postgres a
/// concurrent redeem waits for the first one's row lock, then finds `used_at` set.
pub async fn redeem(conn: impl Into<Conn<'_>>, token: &str, user_id: &str) -> sqlx::Result<bool> {
    let conn = conn.into();
    let now = conn.engine().now();
    let sql = format!(
        "UPDATE invites SET used_at = {now}, used_by = $1 \
         WHERE token_hash = $2 AND used_at IS NULL AND expires_at > {now}"
    );
    let done = with_conn!(conn, exec => sqlx::query(&sql)
        .bind(user_id)
        .bind(hash_of(token))
        .execute(exec)
        .await
        .map(|done| done.rows_affected()))?;
    Ok(done == 1)
}
