//! SQL for `job_events`: the log of job changes every node's event stream follows (see
//! [`super::events`] for how the ids are used and [`super::relay`] for the reading side).

use std::time::Duration;

use sqlx::FromRow;

use crate::{
    db::{Db, with_db},
    error::{AppError, Result},
};

/// One logged change: which job. What changed, and whose job it is, is read from the job.
#[derive(Debug, Clone, FromRow)]
pub struct LoggedEvent {
    pub id: i64,
    pub job_id: String,
}

/// Logs a change of `job_id`, made by node `origin`, and returns its event id. Its own statement on the pool, so it
/// commits alone: call it after the job write it announces has committed, never inside that
/// write's transaction (it would hold the log's next id, and on Postgres serialise every
/// writer behind it).
pub async fn append(db: &Db, user_id: &str, job_id: &str, origin: &str) -> Result<u64> {
    let now = db.engine().now();
    let sql = format!(
        "INSERT INTO job_events (user_id, job_id, origin, created_at) \
         VALUES ($1, $2, $3, {now}) RETURNING id"
    );
    let id: i64 = with_db!(db, pool => sqlx::query_scalar(&sql)
        .bind(user_id)
        .bind(job_id)
        .bind(origin)
        .fetch_one(pool)
        .await)?;
    to_event_id(id)
}

/// The newest logged id, 0 when none: where a starting node begins to follow the log.
pub async fn latest(db: &Db) -> Result<u64> {
    let id: i64 = with_db!(db, pool => sqlx::query_scalar(
        "SELECT CAST(COALESCE(MAX(id), 0) AS BIGINT) FROM job_events",
    )
    .fetch_one(pool)
    .await)?;
    to_event_id(id)
}

/// At most `limit` changes logged after `id`, oldest first.
pub async fn after(db: &Db, id: u64, limit: i64) -> Result<Vec<LoggedEvent>> {
    // Ids come from the database, so they fit; a larger one would simply find nothing.
    let id = i64::try_from(id).unwrap_or(i64::MAX);
    Ok(with_db!(db, pool => sqlx::query_as(
        "SELECT id, job_id FROM job_events WHERE id > $1 ORDER BY id LIMIT $2",
    )
    .bind(id)
    .bind(limit)
    .fetch_all(pool)
    .await)?)
}

/// Removes changes logged more than `age` ago, except the newest, so [`latest`] still knows
/// where the log stands when it is quiet. Returns how many went.
pub async fn prune(db: &Db, age: Duration) -> Result<u64> {
    let seconds = age.as_secs_f64();
    let done = match db {
        Db::Sqlite(pool) => sqlx::query(
            "/* sqlite */ DELETE FROM job_events \
                 WHERE created_at < strftime('%Y-%m-%dT%H:%M:%fZ', 'now', $1) \
                 AND id < (SELECT MAX(id) FROM job_events)",
        )
        .bind(format!("-{seconds} seconds"))
        .execute(pool)
        .await?
        .rows_affected(),
        Db::Postgres(pool) => sqlx::query(
            "/* postgres */ DELETE FROM job_events \
                 WHERE created_at < studio_now_plus($1) \
                 AND id < (SELECT MAX(id) FROM job_events)",
        )
        .bind(-seconds)
        .execute(pool)
        .await?
        .rows_affected(),
    };
    Ok(done)
}

fn to_event_id(id: i64) -> Result<u64> {
    u64::try_from(id).map_err(|_| {
        AppError::Internal(anyhow::anyhow!(
            "the job event log handed out a negative id ({id}); check the job_events table"
        ))
    })
}
