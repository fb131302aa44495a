//! The `users` table: the one place its SQL lives.

use serde::Serialize;
use sqlx::SqlitePool;

use crate::error::{AppError, Result, ResultExt};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UserRow {
    pub id: String,
    pub email: String,
    pub password_hash: String,
    pub fal_key_ciphertext: Option<String>,
}

/// The user as clients see it: never the hash, never the key.
#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SafeUser {
    pub id: String,
    pub email: String,
    pub has_fal_key: bool,
}

impl From<&UserRow> for SafeUser {
    fn from(row: &UserRow) -> Self {
        SafeUser {
            id: row.id.clone(),
            email: row.email.clone(),
            has_fal_key: row.fal_key_ciphertext.is_some(),
        }
    }
}

/// The columns of a [`UserRow`], for the session store's one-trip "who is signed in" query.
pub(crate) const COLUMNS: &str = "id, email, password_hash, fal_key_ciphertext";

pub async fn insert(
    db: impl sqlx::SqliteExecutor<'_>,
    email: &str,
    password_hash: &str,
) -> Result<UserRow> {
    let id = uuid::Uuid::now_v7().to_string();
    sqlx::query("INSERT INTO users (id, email, password_hash) VALUES (?, ?, ?)")
        .bind(&id)
        .bind(email)
        .bind(password_hash)
        .execute(db)
        .await
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
    })
}

pub async fn find_by_email(db: &SqlitePool, email: &str) -> Result<Option<UserRow>> {
    Ok(
        sqlx::query_as(&format!("SELECT {COLUMNS} FROM users WHERE email = ?"))
            .bind(email)
            .fetch_optional(db)
            .await?,
    )
}

pub async fn find_by_id(db: &SqlitePool, id: &str) -> Result<Option<UserRow>> {
    Ok(
        sqlx::query_as(&format!("SELECT {COLUMNS} FROM users WHERE id = ?"))
            .bind(id)
            .fetch_optional(db)
            .await?,
    )
}

pub async fn set_fal_key(db: &SqlitePool, id: &str, ciphertext: Option<&str>) -> Result<()> {
    sqlx::query(
        "UPDATE users SET fal_key_ciphertext = ?, \
         fal_key_updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = ?",
    )
    .bind(ciphertext)
    .bind(id)
    .execute(db)
    .await?;
    Ok(())
}

/// Replaces the password hash (the admin command's reset). `false` when there is no such user.
pub async fn set_password_hash(db: &SqlitePool, id: &str, password_hash: &str) -> Result<bool> {
    let done = sqlx::query("UPDATE users SET password_hash = ? WHERE id = ?")
        .bind(password_hash)
        .bind(id)
        .execute(db)
        .await?;
    Ok(done.rows_affected() == 1)
}
