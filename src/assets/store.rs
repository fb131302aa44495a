//! The `assets` and `pending_deletions` tables: the one place their SQL lives.

use std::sync::LazyLock;

use serde::Deserialize;
use sqlx::{FromRow, QueryBuilder, Sqlite, SqliteConnection, SqlitePool};

use crate::error::{AppError, Result};

#[derive(Debug, Clone, FromRow, Deserialize)]
pub struct AssetRow {
    pub id: String,
    pub user_id: String,
    pub job_id: Option<String>,
    pub endpoint_id: String,
    pub model: String,
    pub prompt: Option<String>,
    pub result_kind: String,
    pub storage_mode: String,
    pub storage_key: String,
    pub content_type: String,
    pub byte_size: i64,
    pub sha256: String,
    pub width: Option<i64>,
    pub height: Option<i64>,
    pub output_duration: Option<f64>,
    pub inference_time: Option<f64>,
    pub seed: Option<i64>,
    pub params_json: String,
    pub file_name: String,
    pub created_at: String,
}

pub(crate) const COLUMNS: &str = "id, user_id, job_id, endpoint_id, model, prompt, result_kind, storage_mode, \
    storage_key, content_type, byte_size, sha256, width, height, output_duration, inference_time, \
    seed, params_json, file_name, created_at";

/// One stored output of a job, as the runner hands it over.
pub struct NewOutput<'a> {
    pub user_id: &'a str,
    pub job_id: &'a str,
    pub output_index: i64,
    pub endpoint_id: &'a str,
    pub model: &'a str,
    pub prompt: Option<&'a str>,
    pub result_kind: &'a str,
    pub storage_mode: &'a str,
    pub storage_key: &'a str,
    pub content_type: &'a str,
    pub byte_size: i64,
    pub sha256: &'a str,
    pub width: Option<i64>,
    pub height: Option<i64>,
    pub output_duration: Option<f64>,
    pub inference_time: Option<f64>,
    pub seed: Option<i64>,
    pub params_json: &'a str,
    pub file_name: &'a str,
}

/// Inserts a job's outputs inside the transaction that completes the job. An output already
/// stored (the same job and index, from an earlier attempt) is kept as it is: exactly once.
pub async fn insert_outputs(tx: &mut SqliteConnection, outputs: &[NewOutput<'_>]) -> Result<()> {
    for o in outputs {
        sqlx::query(
            "INSERT INTO assets (id, user_id, job_id, output_index, endpoint_id, model, prompt, result_kind, \
             storage_mode, storage_key, content_type, byte_size, sha256, width, height, output_duration, \
             inference_time, seed, params_json, file_name) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
             ON CONFLICT (job_id, output_index) DO NOTHING",
        )
        .bind(uuid::Uuid::now_v7().to_string())
        .bind(o.user_id)
        .bind(o.job_id)
        .bind(o.output_index)
        .bind(o.endpoint_id)
        .bind(o.model)
        .bind(o.prompt)
        .bind(o.result_kind)
        .bind(o.storage_mode)
        .bind(o.storage_key)
        .bind(o.content_type)
        .bind(o.byte_size)
        .bind(o.sha256)
        .bind(o.width)
        .bind(o.height)
        .bind(o.output_duration)
        .bind(o.inference_time)
        .bind(o.seed)
        .bind(o.params_json)
        .bind(o.file_name)
        .execute(&mut *tx)
        .await?;
    }
    Ok(())
}

/// The outputs of every job in `job_ids`, in one statement (the ids travel as one JSON array),
/// by job and output order.
pub async fn of_jobs(db: &SqlitePool, job_ids: &[&str]) -> Result<Vec<AssetRow>> {
    if job_ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM assets WHERE job_id IN (SELECT value FROM json_each(?)) \
         ORDER BY job_id, output_index"
    ))
    .bind(json_array(job_ids))
    .fetch_all(db)
    .await?)
}

/// The user's assets among `ids`, in the order asked for, in one statement; ids of other
/// users or of nothing are left out.
pub async fn assets_of(db: &SqlitePool, user_id: &str, ids: &[String]) -> Result<Vec<AssetRow>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(sqlx::query_as(&format!(
        // json_each has an `id` column too: pick the asset's columns inside, order outside.
        "SELECT {COLUMNS} FROM (SELECT assets.*, wanted.key AS wanted_position FROM assets \
         JOIN json_each(?) AS wanted ON assets.id = wanted.value WHERE assets.user_id = ?) \
         ORDER BY wanted_position"
    ))
    .bind(json_array(ids))
    .bind(user_id)
    .fetch_all(db)
    .await?)
}

fn json_array<S: AsRef<str>>(items: &[S]) -> String {
    serde_json::Value::from(items.iter().map(|s| s.as_ref()).collect::<Vec<_>>()).to_string()
}

/// An asset of this user; another user's asset is simply not found.
pub async fn asset_of(db: &SqlitePool, user_id: &str, id: &str) -> Result<Option<AssetRow>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM assets WHERE id = ? AND user_id = ?"
    ))
    .bind(id)
    .bind(user_id)
    .fetch_optional(db)
    .await?)
}

/// Deletes the user's asset `id` and notes its object for removal, inside `tx`; the object's
/// key when there was such an asset.
pub async fn delete_of_user(
    tx: &mut SqliteConnection,
    user_id: &str,
    id: &str,
) -> Result<Option<String>> {
    let found: Option<(String, String)> = sqlx::query_as(
        "DELETE FROM assets WHERE id = ? AND user_id = ? RETURNING storage_key, storage_mode",
    )
    .bind(id)
    .bind(user_id)
    .fetch_optional(&mut *tx)
    .await?;
    let Some((key, mode)) = found else {
        return Ok(None);
    };
    sqlx::query(
        "INSERT INTO pending_deletions (storage_key, storage_mode) VALUES (?, ?) \
         ON CONFLICT (storage_key) DO NOTHING",
    )
    .bind(&key)
    .bind(&mode)
    .execute(&mut *tx)
    .await?;
    Ok(Some(key))
}

/// The object is gone: nothing left to retry.
pub async fn deletion_done(db: &SqlitePool, key: &str) -> Result<()> {
    sqlx::query("DELETE FROM pending_deletions WHERE storage_key = ?")
        .bind(key)
        .execute(db)
        .await?;
    Ok(())
}

/// Storage refused the removal: count it and keep why, for the next sweep.
pub async fn deletion_failed(db: &SqlitePool, key: &str, error: &str) -> Result<()> {
    sqlx::query(
        "UPDATE pending_deletions SET attempts = attempts + 1, last_error = ? WHERE storage_key = ?",
    )
    .bind(error)
    .bind(key)
    .execute(db)
    .await?;
    Ok(())
}

/// Up to 500 objects of `storage_mode` still to remove, oldest first.
pub async fn pending_deletions(db: &SqlitePool, storage_mode: &str) -> Result<Vec<String>> {
    Ok(sqlx::query_scalar(
        "SELECT storage_key FROM pending_deletions WHERE storage_mode = ? ORDER BY created_at LIMIT 500",
    )
    .bind(storage_mode)
    .fetch_all(db)
    .await?)
}

/// The user's models with how many assets each made, most first.
pub async fn model_counts(db: &SqlitePool, user_id: &str) -> Result<Vec<(String, String, i64)>> {
    Ok(sqlx::query_as(
        "SELECT endpoint_id, MAX(model), COUNT(*) FROM assets WHERE user_id = ? \
         GROUP BY endpoint_id ORDER BY COUNT(*) DESC, endpoint_id",
    )
    .bind(user_id)
    .fetch_all(db)
    .await?)
}

/// A gallery page's filters, already checked.
#[derive(Debug, Default)]
pub struct PageFilters {
    pub kind: Option<String>,
    pub endpoint_id: Option<String>,
    /// `created_at >= from`
    pub from: Option<String>,
    /// `created_at < before`
    pub before: Option<String>,
    /// An FTS5 query over prompts and models.
    pub search: Option<String>,
    /// After this `(created_at, id)`, newest first.
    pub after: Option<(String, String)>,
    /// Rows to return (one more is asked for, to know whether there is a next page).
    pub limit: i64,
}

/// The page as one JSON text: `json_object` of every column of each row. sqlx hands each row
/// of a result from its SQLite thread to the async side on its own, and on a 2-core VM that
/// hand-over, not SQLite, was most of a page's time (about 20 µs a row against 1 µs for the
/// SQL); one row of JSON is one hand-over.
static PAGE_AS_JSON: LazyLock<String> = LazyLock::new(|| {
    let pairs: Vec<String> = COLUMNS
        .split(',')
        .map(str::trim)
        .map(|c| format!("'{c}', {c}"))
        .collect();
    format!(
        "SELECT json_group_array(json_object({})) FROM (SELECT {COLUMNS} FROM assets WHERE user_id = ",
        pairs.join(", ")
    )
});

/// Up to `limit + 1` of the user's assets matching `f`, newest first (keyset, never OFFSET).
pub async fn page(db: &SqlitePool, user_id: &str, f: PageFilters) -> Result<Vec<AssetRow>> {
    let mut sql: QueryBuilder<Sqlite> = QueryBuilder::new(PAGE_AS_JSON.as_str());
    sql.push_bind(user_id.to_owned());
    if let Some(kind) = f.kind {
        sql.push(" AND result_kind = ").push_bind(kind);
    }
    if let Some(endpoint_id) = f.endpoint_id {
        sql.push(" AND endpoint_id = ").push_bind(endpoint_id);
    }
    if let Some(from) = f.from {
        sql.push(" AND created_at >= ").push_bind(from);
    }
    if let Some(before) = f.before {
        sql.push(" AND created_at < ").push_bind(before);
    }
    if let Some(q) = f.search {
        sql.push(" AND rowid IN (SELECT rowid FROM assets_fts WHERE assets_fts MATCH ")
            .push_bind(q)
            .push(")");
    }
    if let Some((at, id)) = f.after {
        sql.push(" AND (created_at, id) < (")
            .push_bind(at)
            .push(", ")
            .push_bind(id)
            .push(")");
    }
    sql.push(" ORDER BY created_at DESC, id DESC LIMIT ")
        .push_bind(f.limit + 1)
        .push(")");
    let page: String = sql.build_query_scalar().fetch_one(db).await?;
    let mut rows: Vec<AssetRow> = serde_json::from_str(&page)
        .map_err(|e| AppError::Internal(anyhow::Error::new(e).context("gallery page JSON")))?;
    // An aggregate's input order is SQLite's behaviour, not SQL's promise: sort again.
    rows.sort_unstable_by(|a, b| (&b.created_at, &b.id).cmp(&(&a.created_at, &a.id)));
    Ok(rows)
}
