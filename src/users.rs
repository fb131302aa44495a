//! The `users` table: the one place its SQL lives.

use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};

use crate::{
    db::{Conn, Db, Tx, with_conn, with_db},
    error::{AppError, Result, ResultExt},
};

/// What an account may do: an admin also sees `/api/admin/…` (users, the studio key, budgets,
/// usage). The first account of a studio is its admin.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Admin,
    Member,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Member => "member",
        }
    }

    pub fn parse(text: &str) -> Option<Role> {
        [Role::Admin, Role::Member]
            .into_iter()
            .find(|r| r.as_str() == text)
    }
}

crate::text_column::text_column!(Role, "role");

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UserRow {
    pub id: String,
    pub email: String,
    pub password_hash: String,
    pub fal_key_ciphertext: Option<String>,
    /// The concurrency fal allows this user's key, when they set it; else the studio's
    /// `FAL_KEY_CONCURRENCY`.
    pub fal_key_concurrency: Option<i64>,
    pub role: Role,
    /// When an admin disabled the account; such an account cannot sign in or be used.
    pub disabled_at: Option<String>,
    /// A member without a key of their own may run on the studio key.
    pub may_use_studio_key: bool,
    /// What this user's jobs may cost per calendar month (UTC), in micro-dollars; none: no limit.
    pub budget_monthly_micros: Option<i64>,
}

impl UserRow {
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }
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
    pub role: Role,
    /// Without a key of their own, this account's jobs may run on the studio key.
    pub may_use_studio_key: bool,
}

impl From<&UserRow> for SafeUser {
    fn from(row: &UserRow) -> Self {
        SafeUser {
            id: row.id.clone(),
            email: row.email.clone(),
            has_fal_key: row.fal_key_ciphertext.is_some(),
            fal_key_concurrency: row.fal_key_concurrency.and_then(|n| u32::try_from(n).ok()),
            role: row.role,
            may_use_studio_key: row.may_use_studio_key,
        }
    }
}

/// The columns of a [`UserRow`], for the session store's one-trip "who is signed in" query.
pub(crate) const COLUMNS: &str = "id, email, password_hash, fal_key_ciphertext, \
    fal_key_concurrency, role, disabled_at, may_use_studio_key, budget_monthly_micros";

/// `pg_advisory_xact_lock` key that makes sign-ups take turns ("fal-sign").
const FIRST_ACCOUNT_LOCK: i64 = 0x6661_6c2d_7369_676e;

/// Adds an account, alone or inside the caller's transaction (the sign-up's, with its invite).
/// The studio's first account is its admin, unless `role` says otherwise.
pub async fn insert(
    conn: impl Into<Conn<'_>>,
    email: &str,
    password_hash: &str,
    role: Option<Role>,
) -> Result<UserRow> {
    let mut conn = conn.into();
    if let Conn::Tx(Tx::Postgres(tx)) = &mut conn {
        // Two first sign-ups at once would each see no account before theirs (SQLite's write
        // lock already orders them): sign-ups take turns until the transaction ends.
        sqlx::query("/* postgres */ SELECT pg_advisory_xact_lock($1)")
            .bind(FIRST_ACCOUNT_LOCK)
            .execute(&mut **tx)
            .await?;
    }
    let id = uuid::Uuid::now_v7().to_string();
    // One statement decides the role: the first account (none before it) becomes the admin.
    let role: Role = with_conn!(conn, exec => sqlx::query_scalar(
        "INSERT INTO users (id, email, password_hash, role) VALUES ($1, $2, $3, \
         COALESCE($4, CASE WHEN EXISTS (SELECT 1 FROM users) THEN 'member' ELSE 'admin' END)) \
         RETURNING role")
        .bind(&id)
        .bind(email)
        .bind(password_hash)
        .bind(role)
        .fetch_one(exec)
        .await)
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
        role,
        disabled_at: None,
        may_use_studio_key: false,
        budget_monthly_micros: None,
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

/// Changes the concurrency fal allows the user's saved key (`None`: the studio's default);
/// whether they have a key to change it for.
pub async fn set_fal_key_concurrency(db: &Db, id: &str, concurrency: Option<i64>) -> Result<bool> {
    note_change();
    let done = with_db!(db, pool => sqlx::query(
        "UPDATE users SET fal_key_concurrency = $1 WHERE id = $2 AND fal_key_ciphertext IS NOT NULL",
    )
        .bind(concurrency)
        .bind(id)
        .execute(pool)
        .await
        .map(|r| r.rows_affected() > 0));
    note_change();
    Ok(done?)
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

/// Every account, oldest first: the admin's list (a studio has tens of accounts, not millions).
pub async fn all(db: &Db) -> Result<Vec<UserRow>> {
    let sql = format!("SELECT {COLUMNS} FROM users ORDER BY created_at, id");
    Ok(with_db!(db, pool => sqlx::query_as(&sql).fetch_all(pool).await)?)
}

/// What an admin may change of an account; `None` leaves a setting as it is.
#[derive(Debug, Default, Clone)]
pub struct AccountChange {
    pub role: Option<Role>,
    pub disabled: Option<bool>,
    pub may_use_studio_key: Option<bool>,
    /// `Some(None)`: no limit.
    pub budget_monthly_micros: Option<Option<i64>>,
}

/// Applies `change` to the account `id` in one statement. `Ok(None)`: no such account. The
/// caller keeps the studio's last enabled admin (see [`lock_enabled_admins`]).
pub async fn change(
    conn: impl Into<Conn<'_>>,
    id: &str,
    change: &AccountChange,
) -> Result<Option<UserRow>> {
    let conn = conn.into();
    let now = conn.engine().now();
    let sql = format!(
        "UPDATE users SET \
         role = COALESCE($2, role), \
         disabled_at = CASE WHEN CAST($3 AS BOOLEAN) IS NULL THEN disabled_at WHEN $3 THEN COALESCE(disabled_at, {now}) ELSE NULL END, \
         may_use_studio_key = COALESCE($4, may_use_studio_key), \
         budget_monthly_micros = CASE WHEN $5 THEN $6 ELSE budget_monthly_micros END \
         WHERE id = $1 RETURNING {COLUMNS}"
    );
    note_change();
    let row: Option<UserRow> = with_conn!(conn, exec => sqlx::query_as(&sql)
        .bind(id)
        .bind(change.role)
        .bind(change.disabled)
        .bind(change.may_use_studio_key)
        .bind(change.budget_monthly_micros.is_some())
        .bind(change.budget_monthly_micros.flatten())
        .fetch_optional(exec)
        .await)?;
    note_change();
    Ok(row)
}

/// The enabled admins, locked until the transaction ends on Postgres (on SQLite the write
/// transaction already excludes every other writer): a change that checks "one admin is left"
/// after this cannot race another admin's change.
pub async fn lock_enabled_admins(tx: &mut Tx) -> Result<Vec<String>> {
    Ok(match tx {
        Tx::Sqlite(conn) => {
            sqlx::query_scalar(
                "/* sqlite */ SELECT id FROM users WHERE role = 'admin' AND disabled_at IS NULL",
            )
            .fetch_all(&mut **conn)
            .await?
        }
        Tx::Postgres(conn) => {
            sqlx::query_scalar(
                "/* postgres */ SELECT id FROM users WHERE role = 'admin' \
                 AND disabled_at IS NULL FOR UPDATE",
            )
            .fetch_all(&mut **conn)
            .await?
        }
    })
}
