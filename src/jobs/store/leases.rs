//! The scheduler's statements on `jobs`: which jobs need a node, claiming them, starting queued
//! jobs inside the limits, and the leases that say which node drives which job.

use serde_json::Value;
use sqlx::FromRow;

use super::super::status::{JobStatus, sql_list};
use crate::{
    db::{self, Db, Engine, Tx, with_db, with_tx},
    error::Result,
    nodes::Node,
    team::KeySource,
};
/// What the scheduler needs of a job that is not finished: no parameters, logs or results,
/// which can be hundreds of KiB each and are read only for the job being driven.
#[derive(Debug, Clone, FromRow)]
pub struct PendingJob {
    pub id: String,
    pub user_id: String,
    pub status: JobStatus,
    /// The fal key a started job runs with (see [`start_queued`]).
    pub key_fingerprint: Option<String>,
    /// Which key the job was queued to run on; none for jobs queued before teams (their own).
    pub key_source: Option<KeySource>,
    /// The node holding the job's lease, if any.
    pub lease_owner: Option<String>,
    /// No lease, or one that expired: any node may claim the job.
    pub lapsed: bool,
}

/// Jobs the runner must look after, oldest first, with their leases as the database's clock
/// sees them now.
pub async fn unfinished(db: &Db) -> Result<Vec<PendingJob>> {
    let now = db.engine().now();
    let sql = format!(
        "SELECT id, user_id, status, key_fingerprint, key_source, lease_owner, \
         (lease_expires_at IS NULL OR lease_expires_at < {now}) AS lapsed FROM jobs \
         WHERE status IN ({}) ORDER BY created_at, id",
        sql_list(&JobStatus::UNFINISHED)
    );
    Ok(with_db!(db, pool => sqlx::query_as(&sql).fetch_all(pool).await)?)
}

/// The statuses of a job fal holds (or is being handed): what the running limits count.
const AT_FAL: [JobStatus; 3] = [
    JobStatus::Submitting,
    JobStatus::Running,
    JobStatus::Storing,
];

/// `pg_advisory_xact_lock` key that makes starts take turns across nodes ("fal-jobs").
const START_LOCK: i64 = 0x6661_6c2d_6a6f_6273;

/// Claims those of `ids` that are still claimable, in one statement: unfinished, with no lease
/// or an expired one, or (except a `receiving` upload, which this node's intake is still
/// taking) a lease of this node's whose driver stopped. On Postgres the rows are locked with
/// `SKIP LOCKED`, so nodes claiming together never wait for or take each other's rows. The ids
/// claimed.
pub async fn claim(db: &Db, node: &Node, ids: &[&str]) -> Result<Vec<String>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut tx = db::begin_write(db).await?;
    let claimed = match &mut tx {
        Tx::Sqlite(conn) => {
            let sql = format!(
                "/* sqlite */ UPDATE jobs SET lease_owner = $1, \
                 lease_expires_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '+' || $2 || ' seconds') \
                 WHERE id IN (SELECT value FROM json_each($3)) AND status IN ({}) \
                 AND (lease_owner IS NULL OR lease_expires_at < strftime('%Y-%m-%dT%H:%M:%fZ', 'now') \
                 OR (lease_owner = $1 AND status != $4)) RETURNING id",
                sql_list(&JobStatus::UNFINISHED)
            );
            sqlx::query_scalar(&sql)
                .bind(&node.id)
                .bind(node.lease.as_secs_f64())
                .bind(Value::from(ids.to_vec()).to_string())
                .bind(JobStatus::Receiving)
                .fetch_all(&mut **conn)
                .await?
        }
        Tx::Postgres(conn) => {
            let sql = format!(
                "/* postgres */ UPDATE jobs SET lease_owner = $1, lease_expires_at = studio_now_plus($2) \
                 WHERE id IN (SELECT id FROM jobs WHERE id = ANY($3) AND status IN ({}) \
                 AND (lease_owner IS NULL OR lease_expires_at < studio_now() \
                 OR (lease_owner = $1 AND status != $4)) FOR UPDATE SKIP LOCKED) \
                 RETURNING id",
                sql_list(&JobStatus::UNFINISHED)
            );
            sqlx::query_scalar(&sql)
                .bind(&node.id)
                .bind(node.lease.as_secs_f64())
                .bind(ids)
                .bind(JobStatus::Receiving)
                .fetch_all(&mut **conn)
                .await?
        }
    };
    tx.commit().await?;
    Ok(claimed)
}

/// A queued job that may start, with the key it would run with.
#[derive(Debug, Clone)]
pub struct StartCandidate<'a> {
    pub id: &'a str,
    pub user_id: &'a str,
    /// Fingerprint of the user's fal key; `None` when it cannot be read (the driver then fails
    /// the job, saying why).
    pub key: Option<&'a str>,
    /// Requests that key may have at fal at once.
    pub key_limit: usize,
}

/// The limits every start is checked against, counted over all nodes.
#[derive(Debug, Clone, Copy)]
pub struct StartLimits {
    pub global: usize,
    pub per_user: usize,
}

/// Starts those of `candidates` (in their order) that fit the limits: each becomes
/// `submitting`, with its key's fingerprint and this node's lease, in one write transaction
/// that serialises starts across nodes (SQLite's `BEGIN IMMEDIATE`; a transaction-scoped
/// advisory lock on Postgres) and counts the jobs fal holds globally, per user and per key
/// inside it, so nodes starting together never pass a limit. The ids started.
pub async fn start_queued(
    db: &Db,
    node: &Node,
    candidates: &[StartCandidate<'_>],
    limits: StartLimits,
) -> Result<Vec<String>> {
    if candidates.is_empty() {
        return Ok(Vec::new());
    }
    let mut tx = db::begin_write(db).await?;
    if tx.engine() == Engine::Postgres {
        with_tx!(&mut tx, c => sqlx::query("/* postgres */ SELECT pg_advisory_xact_lock($1)")
            .bind(START_LOCK)
            .execute(c)
            .await
            .map(|_| ()))?;
    }
    let count = format!(
        "SELECT key_fingerprint, user_id, COUNT(*) FROM jobs WHERE status IN ({}) \
         GROUP BY key_fingerprint, user_id",
        sql_list(&AT_FAL)
    );
    let held: Vec<(Option<String>, String, i64)> =
        with_tx!(&mut tx, c => sqlx::query_as(&count).fetch_all(c).await)?;
    let mut global = 0usize;
    let mut per_user: std::collections::HashMap<String, usize> = Default::default();
    let mut per_key: std::collections::HashMap<String, usize> = Default::default();
    for (key, user, n) in held {
        let n = usize::try_from(n).unwrap_or(usize::MAX);
        global = global.saturating_add(n);
        *per_user.entry(user).or_default() += n;
        if let Some(key) = key {
            *per_key.entry(key).or_default() += n;
        }
    }
    let now = tx.engine().now();
    let start = match tx.engine() {
        Engine::Sqlite => format!(
            "/* sqlite */ UPDATE jobs SET status = $1, key_fingerprint = $2, lease_owner = $3, \
             lease_expires_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '+' || $4 || ' seconds'), \
             updated_at = {now} WHERE id = $5 AND status = $6"
        ),
        Engine::Postgres => format!(
            "/* postgres */ UPDATE jobs SET status = $1, key_fingerprint = $2, lease_owner = $3, \
             lease_expires_at = studio_now_plus($4), updated_at = {now} WHERE id = $5 AND status = $6"
        ),
    };
    let mut started = Vec::new();
    for c in candidates {
        if global >= limits.global {
            break;
        }
        if per_user.get(c.user_id).copied().unwrap_or(0) >= limits.per_user {
            continue;
        }
        if let Some(key) = c.key
            && per_key.get(key).copied().unwrap_or(0) >= c.key_limit
        {
            continue;
        }
        let moved = with_tx!(&mut tx, conn => sqlx::query(&start)
            .bind(JobStatus::Submitting)
            .bind(c.key)
            .bind(&node.id)
            .bind(node.lease.as_secs_f64())
            .bind(c.id)
            .bind(JobStatus::Queued)
            .execute(conn)
            .await
            .map(|done| done.rows_affected()))?;
        // Not moved: cancelled (or started by another node) since the candidates were read.
        if moved == 1 {
            global += 1;
            *per_user.entry(c.user_id.to_owned()).or_default() += 1;
            if let Some(key) = c.key {
                *per_key.entry(key.to_owned()).or_default() += 1;
            }
            started.push(c.id.to_owned());
        }
    }
    tx.commit().await?;
    Ok(started)
}

/// Renews every lease `node` holds, in one statement; the ids it holds.
pub async fn renew_leases(db: &Db, node: &Node) -> Result<Vec<String>> {
    let sql = match db.engine() {
        Engine::Sqlite => {
            "/* sqlite */ UPDATE jobs SET lease_expires_at = \
             strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '+' || $2 || ' seconds') \
             WHERE lease_owner = $1 RETURNING id"
        }
        Engine::Postgres => {
            "/* postgres */ UPDATE jobs SET lease_expires_at = studio_now_plus($2) \
             WHERE lease_owner = $1 RETURNING id"
        }
    };
    Ok(with_db!(db, pool => sqlx::query_scalar(sql)
        .bind(&node.id)
        .bind(node.lease.as_secs_f64())
        .fetch_all(pool)
        .await)?)
}

/// Which of a node's leases [`release_leases`] gives up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Release {
    /// A node found dead: everything, its cut-off uploads included.
    All,
    /// A graceful stop: the jobs it drove. Uploads still arriving over connections the stop
    /// lets finish keep their leases, which run out unless the upload is done first.
    Driven,
}

/// Gives up leases of the node `owner` (see [`Release`]), so any node may claim those jobs at
/// once; how many.
pub async fn release_leases(db: &Db, owner: &str, which: Release) -> Result<u64> {
    let done = with_db!(db, pool => sqlx::query(
        "UPDATE jobs SET lease_owner = NULL, lease_expires_at = NULL \
         WHERE lease_owner = $1 AND (status != $2 OR $3)",
    )
    .bind(owner)
    .bind(JobStatus::Receiving)
    .bind(which == Release::All)
    .execute(pool)
    .await
    .map(|done| done.rows_affected()))?;
    Ok(done)
}

/// Those of `ids` that fal holds but whose lease the node `owner` no longer has: another node
/// took them (or they were let go). A job that finished or went back to the queue is not
/// among them.
pub async fn taken_from(db: &Db, owner: &str, ids: &[&str]) -> Result<Vec<String>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(match db {
        Db::Sqlite(pool) => {
            sqlx::query_scalar(&format!(
                "/* sqlite */ SELECT id FROM jobs WHERE id IN (SELECT value FROM json_each($2)) \
                 AND status IN ({}) AND (lease_owner IS NULL OR lease_owner != $1)",
                sql_list(&AT_FAL)
            ))
            .bind(owner)
            .bind(Value::from(ids.to_vec()).to_string())
            .fetch_all(pool)
            .await?
        }
        Db::Postgres(pool) => {
            sqlx::query_scalar(&format!(
                "/* postgres */ SELECT id FROM jobs WHERE id = ANY($2) \
                 AND status IN ({}) AND (lease_owner IS NULL OR lease_owner != $1)",
                sql_list(&AT_FAL)
            ))
            .bind(owner)
            .bind(ids)
            .fetch_all(pool)
            .await?
        }
    })
}

/// How many jobs the node `owner` holds.
pub async fn held_count(db: &Db, owner: &str) -> Result<i64> {
    Ok(with_db!(db, pool => sqlx::query_scalar(
        "SELECT COUNT(*) FROM jobs WHERE lease_owner = $1",
    )
    .bind(owner)
    .fetch_one(pool)
    .await)?)
}

/// A job some node holds, as `fal-studio admin nodes` lists it.
#[derive(Debug, Clone, FromRow)]
pub struct Holding {
    pub lease_owner: String,
    pub id: String,
    pub status: JobStatus,
    pub lease_expires_at: String,
}

/// Every held job, by owner, oldest first.
pub async fn holdings(db: &Db) -> Result<Vec<Holding>> {
    Ok(with_db!(db, pool => sqlx::query_as(
        "SELECT lease_owner, id, status, lease_expires_at FROM jobs \
         WHERE lease_owner IS NOT NULL AND lease_expires_at IS NOT NULL \
         ORDER BY lease_owner, created_at, id",
    )
    .fetch_all(pool)
    .await)?)
}

/// How many jobs wait in the studio's queue (no node holds a queued job).
pub async fn queued_count(db: &Db) -> Result<i64> {
    Ok(with_db!(db, pool => sqlx::query_scalar(
        "SELECT COUNT(*) FROM jobs WHERE status = $1",
    )
    .bind(JobStatus::Queued)
    .fetch_one(pool)
    .await)?)
}
