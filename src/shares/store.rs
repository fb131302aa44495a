//! The `shares` table: creating, listing, revoking, and finding the live link behind a token.

use sqlx::FromRow;

use crate::{
    db::{Db, Engine, with_db},
    error::Result,
};

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
    /// The asset's thumbnail status: `ready` means there is a picture to show for it.
    pub thumb_status: crate::assets::store::ThumbStatus,
}

const SELECT: &str = "SELECT s.token, s.asset_id, s.user_id, s.created_at, s.expires_at, \
    s.allow_download, s.show_prompt, s.password_hash, a.result_kind, a.model, a.thumb_status \
    FROM shares s JOIN assets a ON a.id = s.asset_id";

/// Live links matching `filter`, newest first.
fn live_where(engine: Engine, filter: &str) -> String {
    let now = engine.now();
    // Links made in the same millisecond: the later insert first, by insertion order, which
    // the token (random) cannot give: SQLite's rowid, Postgres's identity column `seq`.
    let then_newest = match engine {
        Engine::Sqlite => ", s.rowid DESC",
        Engine::Postgres => ", s.seq DESC",
    };
    format!(
        "{SELECT} WHERE s.revoked_at IS NULL AND (s.expires_at IS NULL OR s.expires_at > {now}) \
         AND {filter} ORDER BY s.created_at DESC{then_newest}"
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

pub async fn insert(db: &Db, new: NewShare<'_>) -> Result<ShareRow> {
    // "Now plus N seconds" is time arithmetic each engine spells its own way.
    let sql = match db.engine() {
        Engine::Sqlite => {
            "/* sqlite */ INSERT INTO shares (token, asset_id, user_id, expires_at, allow_download, show_prompt, password_hash) \
             VALUES ($1, $2, $3, CASE WHEN $4 IS NULL THEN NULL \
                     ELSE strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '+' || $4 || ' seconds') END, $5, $6, $7)"
        }
        // studio_now_plus(NULL) is NULL: a link without an expiry never expires.
        Engine::Postgres => {
            "/* postgres */ INSERT INTO shares (token, asset_id, user_id, expires_at, allow_download, show_prompt, password_hash) \
             VALUES ($1, $2, $3, studio_now_plus(CAST($4 AS DOUBLE PRECISION)), $5, $6, $7)"
        }
    };
    with_db!(db, pool => sqlx::query(sql)
        .bind(new.token)
        .bind(new.asset_id)
        .bind(new.user_id)
        .bind(new.expires_in_seconds)
        .bind(new.allow_download)
        .bind(new.show_prompt)
        .bind(new.password_hash)
        .execute(pool)
        .await
        .map(|_| ()))?;
    // Read back through the same view the list uses, so both answer with one shape.
    let read_back = format!("{SELECT} WHERE s.token = $1");
    let row = with_db!(db, pool => sqlx::query_as(&read_back)
        .bind(new.token)
        .fetch_one(pool)
        .await)?;
    Ok(row)
}

/// The user's live links (not revoked, not expired), newest first.
pub async fn active_of_user(db: &Db, user_id: &str) -> Result<Vec<ShareRow>> {
    let sql = live_where(db.engine(), "s.user_id = $1");
    Ok(with_db!(db, pool => sqlx::query_as(&sql)
        .bind(user_id)
        .fetch_all(pool)
        .await)?)
}

/// The live links of one of the user's assets, newest first.
pub async fn active_of_asset(db: &Db, user_id: &str, asset_id: &str) -> Result<Vec<ShareRow>> {
    let sql = live_where(db.engine(), "s.user_id = $1 AND s.asset_id = $2");
    Ok(with_db!(db, pool => sqlx::query_as(&sql)
        .bind(user_id)
        .bind(asset_id)
        .fetch_all(pool)
        .await)?)
}

/// The live link behind a token, whoever owns it: what the public page serves.
pub async fn live(db: &Db, token: &str) -> Result<Option<ShareRow>> {
    let sql = live_where(db.engine(), "s.token = $1");
    Ok(with_db!(db, pool => sqlx::query_as(&sql)
        .bind(token)
        .fetch_optional(pool)
        .await)?)
}

/// Revokes one of the user's links. `false` when the user has no such link; revoking twice is
/// fine (the first time is kept).
pub async fn revoke(db: &Db, user_id: &str, token: &str) -> Result<bool> {
    let now = db.engine().now();
    let sql = format!(
        "UPDATE shares SET revoked_at = COALESCE(revoked_at, {now}) WHERE token = $1 AND user_id = $2"
    );
    let done = with_db!(db, pool => sqlx::query(&sql)
        .bind(token)
        .bind(user_id)
        .execute(pool)
        .await
        .map(|done| done.rows_affected()))?;
    Ok(done == 1)
}
