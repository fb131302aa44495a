//! The `shares` table: creating, listing, revoking, and finding the live link behind a token.

use sqlx::{FromRow, SqlitePool};

use crate::error::Result;

/// The timestamp format every table uses, so text comparison orders like time.
const NOW: &str = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')";

/// One link with the few asset fields its owner's list shows.
#[derive(Debug, Clone, FromRow)]
pub struct ShareRow {
    pub token: String,
    pub asset_id: String,
    pub user_id: String,
    pub created_at: String,
    pub expires_at: Option<String>,
    pub allow_download: bool,
    pub show_prompt: bool,
    pub password_hash: Option<String>,
    pub result_kind: String,
    pub model: String,
}

const SELECT: &str = "SELECT s.token, s.asset_id, s.user_id, s.created_at, s.expires_at, \
    s.allow_download, s.show_prompt, s.password_hash, a.result_kind, a.model \
    FROM shares s JOIN assets a ON a.id = s.asset_id";

/// Live links matching `filter`, newest first.
fn live_where(filter: &str) -> String {
    format!(
        "{SELECT} WHERE s.revoked_at IS NULL AND (s.expires_at IS NULL OR s.expires_at > {NOW}) \
         AND {filter} ORDER BY s.created_at DESC, s.rowid DESC"
    )
}

pub struct NewShare<'a> {
    pub token: &'a str,
    pub asset_id: &'a str,
    pub user_id: &'a str,
    pub expires_in_seconds: Option<i64>,
    pub allow_download: bool,
    pub show_prompt: bool,
    pub password_hash: Option<&'a str>,
}

pub async fn insert(db: &SqlitePool, new: NewShare<'_>) -> Result<ShareRow> {
    sqlx::query(
        "INSERT INTO shares (token, asset_id, user_id, expires_at, allow_download, show_prompt, password_hash) \
         VALUES (?, ?, ?, CASE WHEN ? IS NULL THEN NULL \
                 ELSE strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '+' || ? || ' seconds') END, ?, ?, ?)",
    )
    .bind(new.token)
    .bind(new.asset_id)
    .bind(new.user_id)
    .bind(new.expires_in_seconds)
    .bind(new.expires_in_seconds)
    .bind(new.allow_download)
    .bind(new.show_prompt)
    .bind(new.password_hash)
    .execute(db)
    .await?;
    // Read back through the same view the list uses, so both answer with one shape.
    let row = sqlx::query_as(&format!("{SELECT} WHERE s.token = ?"))
        .bind(new.token)
        .fetch_one(db)
        .await?;
    Ok(row)
}

/// The user's live links (not revoked, not expired), newest first.
pub async fn active_of_user(db: &SqlitePool, user_id: &str) -> Result<Vec<ShareRow>> {
    Ok(sqlx::query_as(&live_where("s.user_id = ?"))
        .bind(user_id)
        .fetch_all(db)
        .await?)
}

/// The live links of one of the user's assets, newest first.
pub async fn active_of_asset(
    db: &SqlitePool,
    user_id: &str,
    asset_id: &str,
) -> Result<Vec<ShareRow>> {
    Ok(
        sqlx::query_as(&live_where("s.user_id = ? AND s.asset_id = ?"))
            .bind(user_id)
            .bind(asset_id)
            .fetch_all(db)
            .await?,
    )
}

/// The live link behind a token, whoever owns it: what the public page serves.
pub async fn live(db: &SqlitePool, token: &str) -> Result<Option<ShareRow>> {
    Ok(sqlx::query_as(&live_where("s.token = ?"))
        .bind(token)
        .fetch_optional(db)
        .await?)
}

/// Revokes one of the user's links. `false` when the user has no such link; revoking twice is
/// fine (the first time is kept).
pub async fn revoke(db: &SqlitePool, user_id: &str, token: &str) -> Result<bool> {
    let done = sqlx::query(&format!(
        "UPDATE shares SET revoked_at = COALESCE(revoked_at, {NOW}) WHERE token = ? AND user_id = ?"
    ))
    .bind(token)
    .bind(user_id)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}
