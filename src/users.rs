//! The `users` table: the one place its SQL lives.

use std::sync::atomic::{AtomicU64, Ordering};

use serde::Serialize;

use crate::{
    db::{Conn, Db, with_conn, with_db},
    error::{AppError, Result, ResultExt},
};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UserRow {
    pub id: String,
    pub email: String,
    pub password_hash: String,
    pub fal_key_ciphertext: Option<String>,
    /// The concurrency fal allows this user's key, when they set it; else the studio's
    /// `FAL_KEY_CONCURRENCY`.
    pub fal_key_concurrency: Option<i64>,
}

/// The user as clients see it: never the hash, never the key.
#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SafeUser {
    pub id: String,
    pub email: String,
    pub has_fal_key: bool,
    /// Requests the saved key may have at fal at once, as the user set it with the key; absent:
    /// the studio's default (`FAL_KEY_CONCURRENCY`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1, maximum = 1000, nullable = false)]
    pub fal_key_concurrency: Option<u32>,
}

impl From<&UserRow> for SafeUser {
    fn from(row: &UserRow) -> Self {
        SafeUser {
            id: row.id.clone(),
            email: row.email.clone(),
            has_fal_key: row.fal_key_ciphertext.is_some(),
            fal_key_concurrency: row.fal_key_concurrency.and_then(|n| u32::try_from(n).ok()),
        }
    }
}

/// The columns of a [`UserRow`], for the session store's one-trip "who is signed in" query.
pub(crate) const COLUMNS: &str = "id, email, password_hash, fal_key_ciphertext, \
    fal_key_concurrency";

/// Adds an account, alone or inside the caller's transaction (the sign-up's, with its invite).
pub async fn insert(
    conn: impl Into<Conn<'_>>,
    email: &str,
    password_hash: &str,
) -> Result<UserRow> {
    let conn = conn.into();
    let id = uuid::Uuid::now_v7().to_string();
    with_conn!(conn, exec => sqlx::query("INSERT INTO users (id, email, password_hash) VALUES ($1, $2, $3)")
        .bind(&id)
        .bind(email)
        .bind(password_hash)
        .execute(exec)
        .await
        .map(|_| ()))
        .on_unique_violation(|| {
            AppError::conflict(
                "An account with this email already exists. Sign in instead, or use another email.",
            )
        })?;
    Ok(UserRow {
        id,
        email: email.to_owned(),
        password_hash: password_hash.to_owned(),
        fal_key_ciphertext: None,
        fal_key_concurrency: None,
    })
}

pub async fn find_by_email(db: &Db, email: &str) -> Result<Option<UserRow>> {
    let sql = format!("SELECT {COLUMNS} FROM users WHERE email = $1");
    Ok(with_db!(db, pool => sqlx::query_as(&sql)
        .bind(email)
        .fetch_optional(pool)
        .await)?)
}

pub async fn find_by_id(db: &Db, id: &str) -> Result<Option<UserRow>> {
    let sql = format!("SELECT {COLUMNS} FROM users WHERE id = $1");
    Ok(with_db!(db, pool => sqlx::query_as(&sql)
        .bind(id)
        .fetch_optional(pool)
        .await)?)
}

/// Counts this process's writes to users' rows, so a copy of a row kept elsewhere (the
/// signed-in cache of `auth::session_store`) knows when it may be stale. Every function here
/// that changes an existing row bumps it; a new row needs not (nobody holds a copy of it).
static ROWS_CHANGED: AtomicU64 = AtomicU64::new(0);

/// How many times users' rows changed in this process; compare two readings.
pub fn rows_changed() -> u64 {
    ROWS_CHANGED.load(Ordering::Acquire)
}

fn note_change() {
    ROWS_CHANGED.fetch_add(1, Ordering::AcqRel);
}

/// Saves (or with `None`, forgets) the user's key and the concurrency fal allows it (`None`:
/// the studio's default).
pub async fn set_fal_key(
    db: &Db,
    id: &str,
    ciphertext: Option<&str>,
    concurrency: Option<i64>,
) -> Result<()> {
    let now = db.engine().now();
    let sql = format!(
        "UPDATE users SET fal_key_ciphertext = $1, fal_key_concurrency = $2, \
         fal_key_updated_at = {now} WHERE id = $3"
    );
    // Noted before and after: a reader between the two sees a change either way.
    note_change();
    let done = with_db!(db, pool => sqlx::query(&sql)
        .bind(ciphertext)
        .bind(concurrency)
        .bind(id)
        .execute(pool)
        .await
        .map(|_| ()));
    note_change();
    done?;
    Ok(())
}

/// Replaces the password hash (the admin command's reset). `false` when there is no such user.
pub async fn set_password_hash(db: &Db, id: &str, password_hash: &str) -> Result<bool> {
    note_change();
    let done = with_db!(db, pool => sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
        .bind(password_hash)
        .bind(id)
        .execute(pool)
        .await
        .map(|done| done.rows_affected()));
    note_change();
    Ok(done? == 1)
}

/// What the job runner needs of a user to start their jobs: their key (encrypted) and its
/// concurrency setting.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct KeyRow {
    pub id: String,
    pub fal_key_ciphertext: Option<String>,
    pub fal_key_concurrency: Option<i64>,
}

/// The keys of every user in `ids`, in one statement however many.
pub async fn keys_of(db: &Db, ids: &[&str]) -> Result<Vec<KeyRow>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    // The ids travel as one parameter: a JSON array on SQLite, an array on Postgres.
    Ok(match db {
        Db::Sqlite(pool) => {
            sqlx::query_as(
                "/* sqlite */ SELECT id, fal_key_ciphertext, fal_key_concurrency FROM users \
                 WHERE id IN (SELECT value FROM json_each($1))",
            )
            .bind(serde_json::Value::from(ids.to_vec()).to_string())
            .fetch_all(pool)
            .await?
        }
        Db::Postgres(pool) => {
            sqlx::query_as(
                "/* postgres */ SELECT id, fal_key_ciphertext, fal_key_concurrency FROM users \
                 WHERE id = ANY($1)",
            )
            .bind(ids)
            .fetch_all(pool)
            .await?
        }
    })
}
