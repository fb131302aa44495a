//! SQL for `jobs` and `job_references`: the rows, reads, status moves and inserts. The
//! scheduler's claims, starts and leases are in [`leases`], the JSON view in [`view`].

mod leases;
mod view;

pub use leases::*;
pub use view::*;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sqlx::{FromRow, types::Json};
use utoipa::ToSchema;

use super::status::{JobStatus, sql_list};
use crate::{
    catalog::Estimate,
    db::{Conn, Db, Engine, Tx, with_conn, with_db, with_tx},
    error::Result,
    nodes::Node,
    team::KeySource,
};

#[derive(Debug, Clone, FromRow)]
pub struct JobRow {
    pub id: String,
    pub user_id: String,
    pub group_id: String,
    pub group_label: Option<String>,
    pub endpoint_id: String,
    pub model_name: String,
    pub status: JobStatus,
    pub request_id: Option<String>,
    pub status_url: Option<String>,
    pub response_url: Option<String>,
    pub cancel_url: Option<String>,
    /// The model's input as the form sent it.
    #[sqlx(rename = "params_json")]
    pub params: Json<Map<String, Value>>,
    /// Why it failed, once it has.
    #[sqlx(rename = "error_json")]
    pub error: Option<Json<JobError>>,
    pub queue_position: Option<i64>,
    /// The tail of fal's log, once fal sent one.
    #[sqlx(rename = "logs_json")]
    pub logs: Option<Json<Vec<LogLine>>>,
    #[sqlx(rename = "estimate_json")]
    pub estimate: Option<Json<Estimate>>,
    pub cancel_requested: bool,
    pub hidden: bool,
    pub created_at: String,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    /// The key it runs on, decided when it was queued; none for jobs queued before teams.
    pub key_source: Option<KeySource>,
    /// The parameter that holds its prompt (see the spec's `promptField`); none: `prompt`.
    pub prompt_field: Option<String>,
    /// While fal keeps failing and the studio keeps trying: what is going on, in words.
    pub provider_trouble: Option<String>,
    /// The input fal was sent, once it took the job (see `record_submission`).
    #[sqlx(rename = "sent_input_json")]
    pub sent_input: Option<Json<Value>>,
    /// How many files it stored when it completed.
    pub output_count: Option<i64>,
}

impl JobRow {
    pub fn is_finished(&self) -> bool {
        self.status.is_finished()
    }
}

#[derive(Debug, Clone, FromRow)]
pub struct ReferenceRow {
    pub id: String,
    pub job_id: String,
    pub user_id: String,
    pub field: String,
    pub bucket: Option<String>,
    pub multiple: bool,
    pub position: i64,
    pub storage_mode: String,
    pub storage_key: String,
    pub content_type: String,
    pub byte_size: i64,
    pub file_name: String,
    pub sha256: String,
}

const JOB_COLUMNS: &str = "id, user_id, group_id, group_label, endpoint_id, model_name, status, \
    request_id, status_url, response_url, cancel_url, params_json, error_json, queue_position, \
    logs_json, estimate_json, cancel_requested, hidden, created_at, started_at, finished_at, \
    key_source, prompt_field, provider_trouble, sent_input_json, output_count";

const REF_COLUMNS: &str = "id, job_id, user_id, field, bucket, multiple, position, storage_mode, \
    storage_key, content_type, byte_size, file_name, sha256";

/// What a copied reference keeps of the original: all but its id and job.
const REF_COPIED: &str = "user_id, field, bucket, multiple, position, storage_mode, storage_key, \
    content_type, byte_size, file_name, sha256, stored";

pub async fn job(db: &Db, id: &str) -> Result<Option<JobRow>> {
    let sql = format!("SELECT {JOB_COLUMNS} FROM jobs WHERE id = $1");
    Ok(with_db!(db, pool => sqlx::query_as(&sql).bind(id).fetch_optional(pool).await)?)
}

/// The jobs among `ids` that exist, in one statement (the event relay reads the jobs a batch
/// of other nodes' events names).
pub async fn jobs_by_id(db: &Db, ids: &[&str]) -> Result<Vec<JobRow>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    // As in `references_of_jobs`: one parameter however many ids.
    Ok(match db {
        Db::Sqlite(pool) => {
            sqlx::query_as(&format!(
                "/* sqlite */ SELECT {JOB_COLUMNS} FROM jobs WHERE id IN (SELECT value FROM json_each($1))"
            ))
            .bind(Value::from(ids.to_vec()).to_string())
            .fetch_all(pool)
            .await?
        }
        Db::Postgres(pool) => {
            sqlx::query_as(&format!(
                "/* postgres */ SELECT {JOB_COLUMNS} FROM jobs WHERE id = ANY($1)"
            ))
            .bind(ids)
            .fetch_all(pool)
            .await?
        }
    })
}

/// A job of this user; another user's job is simply not found.
pub async fn job_of(db: &Db, user_id: &str, id: &str) -> Result<Option<JobRow>> {
    let sql =
        format!("SELECT {JOB_COLUMNS} FROM jobs WHERE id = $1 AND user_id = $2 AND status != $3");
    Ok(with_db!(db, pool => sqlx::query_as(&sql)
        .bind(id)
        .bind(user_id)
        .bind(JobStatus::Receiving)
        .fetch_optional(pool)
        .await)?)
}

pub async fn list(db: &Db, user_id: &str, active_only: bool, limit: i64) -> Result<Vec<JobRow>> {
    let filter = if active_only {
        format!("AND status IN ({})", sql_list(&JobStatus::ACTIVE))
    } else {
        format!(
            "AND status != '{}' AND hidden = FALSE",
            JobStatus::Receiving.as_str()
        )
    };
    let sql = format!(
        "SELECT {JOB_COLUMNS} FROM jobs WHERE user_id = $1 {filter} ORDER BY created_at DESC, id DESC LIMIT $2"
    );
    Ok(with_db!(db, pool => sqlx::query_as(&sql)
        .bind(user_id)
        .bind(limit)
        .fetch_all(pool)
        .await)?)
}

pub async fn group_jobs(db: &Db, user_id: &str, group_id: &str) -> Result<Vec<JobRow>> {
    let sql = format!(
        "SELECT {JOB_COLUMNS} FROM jobs WHERE user_id = $1 AND group_id = $2 AND status != $3 ORDER BY created_at"
    );
    Ok(with_db!(db, pool => sqlx::query_as(&sql)
        .bind(user_id)
        .bind(group_id)
        .bind(JobStatus::Receiving)
        .fetch_all(pool)
        .await)?)
}

/// How many of the user's jobs wait or run (queued, submitting, running or storing): what the
/// per-user queue cap counts. Run it inside the write transaction that adds jobs, so the count
/// and the insert are one step; on Postgres it then first locks the user's row until the
/// transaction ends. On the pool it is only a first look.
pub async fn active_count(conn: impl Into<Conn<'_>>, user_id: &str) -> Result<i64> {
    let mut conn = conn.into();
    if let Conn::Tx(tx) = &mut conn
        && tx.engine() == Engine::Postgres
    {
        // SQLite's `BEGIN IMMEDIATE` already holds the whole database; a Postgres transaction
        // holds nothing, so two requests could both count the same last free place. Locking
        // the user's row makes their counts (and inserts) take turns. NO KEY UPDATE rather than
        // UPDATE: it still excludes itself but not the key-share locks that inserts of other
        // rows referencing the user (assets, references) take for their foreign keys.
        with_tx!(&mut **tx, c => sqlx::query(
            "/* postgres */ SELECT id FROM users WHERE id = $1 FOR NO KEY UPDATE",
        )
        .bind(user_id)
        .fetch_optional(c)
        .await
        .map(|_| ()))?;
    }
    let sql = format!(
        "SELECT COUNT(*) FROM jobs WHERE user_id = $1 AND status IN ({})",
        sql_list(&JobStatus::ACTIVE)
    );
    Ok(with_conn!(conn, exec => sqlx::query_scalar(&sql)
        .bind(user_id)
        .fetch_one(exec)
        .await)?)
}

pub async fn references(db: &Db, job_id: &str) -> Result<Vec<ReferenceRow>> {
    let sql =
        format!("SELECT {REF_COLUMNS} FROM job_references WHERE job_id = $1 ORDER BY position");
    Ok(with_db!(db, pool => sqlx::query_as(&sql).bind(job_id).fetch_all(pool).await)?)
}

/// The references of every job in `job_ids`, in one statement, by job and position.
pub async fn references_of_jobs(db: &Db, job_ids: &[&str]) -> Result<Vec<ReferenceRow>> {
    if job_ids.is_empty() {
        return Ok(Vec::new());
    }
    // The ids travel as one parameter however many there are: a JSON array on SQLite, an
    // array on Postgres.
    Ok(match db {
        Db::Sqlite(pool) => {
            sqlx::query_as(&format!(
                "/* sqlite */ SELECT {REF_COLUMNS} FROM job_references \
                 WHERE job_id IN (SELECT value FROM json_each($1)) ORDER BY job_id, position"
            ))
            .bind(Value::from(job_ids.to_vec()).to_string())
            .fetch_all(pool)
            .await?
        }
        Db::Postgres(pool) => {
            sqlx::query_as(&format!(
                "/* postgres */ SELECT {REF_COLUMNS} FROM job_references \
                 WHERE job_id = ANY($1) ORDER BY job_id, position"
            ))
            .bind(job_ids)
            .fetch_all(pool)
            .await?
        }
    })
}

pub async fn reference_of(db: &Db, user_id: &str, id: &str) -> Result<Option<ReferenceRow>> {
    let sql = format!(
        "SELECT {REF_COLUMNS} FROM job_references WHERE id = $1 AND user_id = $2 AND stored = TRUE"
    );
    Ok(with_db!(db, pool => sqlx::query_as(&sql)
        .bind(id)
        .bind(user_id)
        .fetch_optional(pool)
        .await)?)
}

/// Creates job `to` in `status` as a copy of job `from` (same user, group, model, parameters
/// and estimate) with rows for the same stored references: retry, and the extra runs of a
/// form with `count` > 1. The objects are shared, not copied.
pub async fn copy_job(tx: &mut Tx, from: &str, to: &str, status: JobStatus) -> Result<()> {
    // The copies' ids are 32 random hex digits, made by the database: SQLite has
    // randomblob, Postgres (13 and later) gen_random_uuid.
    let copy_references = match tx.engine() {
        Engine::Sqlite => format!(
            "/* sqlite */ INSERT INTO job_references (id, job_id, {REF_COPIED}) \
             SELECT lower(hex(randomblob(16))), $1, {REF_COPIED} FROM job_references WHERE job_id = $2"
        ),
        Engine::Postgres => format!(
            "/* postgres */ INSERT INTO job_references (id, job_id, {REF_COPIED}) \
             SELECT replace(gen_random_uuid()::text, '-', ''), $1, {REF_COPIED} \
             FROM job_references WHERE job_id = $2"
        ),
    };
    with_tx!(tx, conn => {
        sqlx::query(
            "INSERT INTO jobs (id, user_id, group_id, group_label, endpoint_id, model_name, status, params_json, estimate_json, prompt_field) \
             SELECT $1, user_id, group_id, group_label, endpoint_id, model_name, $2, params_json, estimate_json, prompt_field \
             FROM jobs WHERE id = $3",
        )
        .bind(to)
        .bind(status)
        .bind(from)
        .execute(&mut *conn)
        .await?;
        sqlx::query(&copy_references)
            .bind(to)
            .bind(from)
            .execute(&mut *conn)
            .await
            .map(|_| ())
    })?;
    Ok(())
}

/// Moves a job the node `owner` drives to `to` from whatever status it is in, if that status
/// may become `to` ([`JobStatus::can_become`]) and `owner` still holds the job's lease (checked
/// in the same statement); whether it moved. Finishing (`completed`, `failed`, `cancelled`)
/// also clears the queue position and the lease, notes the time, and sets the error.
pub async fn move_held(
    conn: impl Into<Conn<'_>>,
    id: &str,
    owner: &str,
    to: JobStatus,
    error: Option<&JobError>,
) -> Result<bool> {
    update_status(conn.into(), id, &to.predecessors(), to, error, Some(owner)).await
}

/// Records how many files a job stored; with its completion, in the same transaction.
pub async fn record_output_count(tx: &mut Tx, id: &str, count: usize) -> Result<()> {
    let count = i64::try_from(count).unwrap_or(i64::MAX);
    with_tx!(tx, c => {
        sqlx::query("UPDATE jobs SET output_count = $1 WHERE id = $2")
            .bind(count)
            .bind(id)
            .execute(c)
            .await
            .map(|_| ())
    })?;
    Ok(())
}

/// Moves a job nobody drives (a queued one) from `from` to `to` only if it is still in `from`
/// and the move is allowed; whether it moved.
pub async fn transition(db: &Db, id: &str, from: JobStatus, to: JobStatus) -> Result<bool> {
    if !from.can_become(to) {
        return Ok(false);
    }
    update_status(db.into(), id, &[from], to, None, None).await
}

/// [`transition`] for a job the node `owner` drives: only while it holds the lease.
pub async fn transition_held(
    db: &Db,
    id: &str,
    owner: &str,
    from: JobStatus,
    to: JobStatus,
) -> Result<bool> {
    if !from.can_become(to) {
        return Ok(false);
    }
    update_status(db.into(), id, &[from], to, None, Some(owner)).await
}

/// The one status update: `to` for a job currently in one of `from` (and, with `owner`, whose
/// lease that node holds).
async fn update_status(
    conn: Conn<'_>,
    id: &str,
    from: &[JobStatus],
    to: JobStatus,
    error: Option<&JobError>,
    owner: Option<&str>,
) -> Result<bool> {
    let now = conn.engine().now();
    // Optional parameters come last, so the numbering has no gap either way.
    let finishing = if to.is_finished() {
        format!(", error_json = $3, queue_position = NULL, finished_at = {now}")
    } else {
        String::new()
    };
    // Finished and queued jobs hold no lease: nobody drives them.
    let release = if to.is_finished() || to == JobStatus::Queued {
        ", lease_owner = NULL, lease_expires_at = NULL"
    } else {
        ""
    };
    let held = match owner {
        Some(_) => format!(
            " AND lease_owner = ${}",
            if to.is_finished() { 4 } else { 3 }
        ),
        None => String::new(),
    };
    let sql = format!(
        "UPDATE jobs SET status = $1, updated_at = {now}{finishing}{release} \
         WHERE id = $2 AND status IN ({}){held}",
        sql_list(from)
    );
    let done = with_conn!(conn, exec => {
        let mut query = sqlx::query(&sql).bind(to).bind(id);
        if to.is_finished() {
            query = query.bind(error.map(Json));
        }
        if let Some(owner) = owner {
            query = query.bind(owner);
        }
        query.execute(exec).await.map(|done| done.rows_affected())
    })?;
    Ok(done == 1)
}

/// fal accepted the job: its request id and URLs, written only while `owner` holds the job;
/// whether it was written.
pub async fn record_submission(
    db: &Db,
    id: &str,
    owner: &str,
    request_id: &str,
    urls: &crate::fal::RequestUrls,
    queue_position: Option<i64>,
    sent_input: &Value,
) -> Result<bool> {
    let now = db.engine().now();
    let sql = format!(
        "UPDATE jobs SET status = $1, request_id = $2, status_url = $3, response_url = $4, \
         cancel_url = $5, queue_position = $6, started_at = {now}, updated_at = {now}, \
         sent_input_json = $10 WHERE id = $7 AND status = $8 AND lease_owner = $9"
    );
    let done = with_db!(db, pool => sqlx::query(&sql)
        .bind(JobStatus::Running)
        .bind(request_id)
        .bind(urls.status.as_str())
        .bind(urls.response.as_str())
        .bind(urls.cancel.as_str())
        .bind(queue_position)
        .bind(id)
        .bind(JobStatus::Submitting)
        .bind(owner)
        .bind(Json(sent_input))
        .execute(pool)
        .await
        .map(|done| done.rows_affected()))?;
    Ok(done == 1)
}

/// fal's queue position and log tail, written only while `owner` holds the job.
pub async fn record_progress(
    db: &Db,
    id: &str,
    owner: &str,
    queue_position: Option<i64>,
    logs: Option<&[LogLine]>,
) -> Result<()> {
    let now = db.engine().now();
    let sql = format!(
        "UPDATE jobs SET queue_position = $1, logs_json = COALESCE($2, logs_json), \
         updated_at = {now} WHERE id = $3 AND lease_owner = $4"
    );
    with_db!(db, pool => sqlx::query(&sql)
        .bind(queue_position)
        .bind(logs.map(Json))
        .bind(id)
        .bind(owner)
        .execute(pool)
        .await
        .map(|_| ()))?;
    Ok(())
}

/// Whether `owner` holds the job's lease now (before removing what only the holder may).
pub async fn holds(db: &Db, id: &str, owner: &str) -> Result<bool> {
    let found: Option<i64> = with_db!(db, pool => sqlx::query_scalar(
        "SELECT CAST(1 AS BIGINT) FROM jobs WHERE id = $1 AND lease_owner = $2",
    )
    .bind(id)
    .bind(owner)
    .fetch_optional(pool)
    .await)?;
    Ok(found.is_some())
}

pub async fn request_cancel(db: &Db, id: &str) -> Result<()> {
    with_db!(db, pool => sqlx::query("UPDATE jobs SET cancel_requested = TRUE WHERE id = $1")
        .bind(id)
        .execute(pool)
        .await
        .map(|_| ()))?;
    Ok(())
}

pub async fn cancel_requested(db: &Db, id: &str) -> Result<bool> {
    let v: Option<bool> = with_db!(db, pool => sqlx::query_scalar(
        "SELECT cancel_requested FROM jobs WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(pool)
    .await)?;
    Ok(v == Some(true))
}

/// The error object kept on a failed job: category, readable message, details, fal's id.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct JobError {
    pub category: crate::error::Category,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

/// A job as its upload begins.
pub struct NewJob<'a> {
    pub id: &'a str,
    pub user_id: &'a str,
    pub endpoint_id: &'a str,
    pub model_name: &'a str,
    pub params: &'a Map<String, Value>,
    /// The parameter holding its prompt, from the endpoint's spec.
    pub prompt_field: Option<&'a str>,
}

/// A job whose reference files are about to stream in (`receiving`): its own group until the
/// form says otherwise. The node taking the upload holds its lease (renewed with the rest of
/// its leases), so another node removes the row only once that node is gone.
pub async fn insert_receiving(db: &Db, node: &Node, job: &NewJob<'_>) -> Result<()> {
    let sql = match db.engine() {
        Engine::Sqlite => {
            "/* sqlite */ INSERT INTO jobs (id, user_id, group_id, endpoint_id, model_name, status, \
             params_json, lease_owner, lease_expires_at, prompt_field) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, \
             strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '+' || $9 || ' seconds'), $10)"
        }
        Engine::Postgres => {
            "/* postgres */ INSERT INTO jobs (id, user_id, group_id, endpoint_id, model_name, status, \
             params_json, lease_owner, lease_expires_at, prompt_field) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, \
             studio_now_plus($9), $10)"
        }
    };
    with_db!(db, pool => sqlx::query(sql)
    .bind(job.id)
    .bind(job.user_id)
    .bind(job.id)
    .bind(job.endpoint_id)
    .bind(job.model_name)
    .bind(JobStatus::Receiving)
    .bind(Json(job.params))
    .bind(&node.id)
    .bind(node.lease.as_secs_f64())
    .bind(job.prompt_field)
    .execute(pool)
    .await
    .map(|_| ()))?;
    Ok(())
}

/// A received job becomes queued (with its estimate, the key it runs on and its cost as its
/// budget counts it), timed from now; a queued job holds no lease.
pub async fn queue_received(tx: &mut Tx, id: &str, charge: &Charge<'_>) -> Result<()> {
    let now = tx.engine().now();
    let sql = format!(
        "UPDATE jobs SET status = $1, estimate_json = $2, key_source = $5, cost_micros = $6, \
         created_at = {now}, lease_owner = NULL, lease_expires_at = NULL \
         WHERE id = $3 AND status = $4"
    );
    with_tx!(tx, conn => sqlx::query(&sql)
        .bind(JobStatus::Queued)
        .bind(charge.estimate.map(Json))
        .bind(id)
        .bind(JobStatus::Receiving)
        .bind(charge.key_source)
        .bind(charge.cost_micros)
        .execute(conn)
        .await
        .map(|_| ()))?;
    Ok(())
}

/// What a job is charged to when it is queued.
#[derive(Debug, Clone, Copy)]
pub struct Charge<'a> {
    pub estimate: Option<&'a Estimate>,
    pub key_source: KeySource,
    pub cost_micros: Option<i64>,
}

/// Sets a freshly copied job's key and cost (a retry is charged as a new job).
pub async fn charge_copy(tx: &mut Tx, id: &str, charge: &Charge<'_>) -> Result<()> {
    with_tx!(tx, conn => sqlx::query(
        "UPDATE jobs SET key_source = $1, cost_micros = $2, estimate_json = COALESCE($3, estimate_json) WHERE id = $4")
        .bind(charge.key_source)
        .bind(charge.cost_micros)
        .bind(charge.estimate.map(Json))
        .bind(id)
        .execute(conn)
        .await
        .map(|_| ()))?;
    Ok(())
}

/// Whose jobs a month's costs add up.
#[derive(Debug, Clone, Copy)]
pub enum CostScope<'a> {
    /// One user's jobs, whichever key ran them.
    User(&'a str),
    /// Every job on the studio key.
    StudioKey,
}

/// Makes budget checks of `scope` take turns until `tx` ends: on Postgres by locking the user's
/// row or, for the studio key, an advisory lock; on SQLite the write transaction already does.
pub async fn lock_cost_scope(tx: &mut Tx, scope: CostScope<'_>) -> Result<()> {
    if let Tx::Postgres(conn) = tx {
        match scope {
            CostScope::User(user_id) => {
                sqlx::query("/* postgres */ SELECT id FROM users WHERE id = $1 FOR NO KEY UPDATE")
                    .bind(user_id)
                    .fetch_optional(&mut **conn)
                    .await?;
            }
            CostScope::StudioKey => {
                sqlx::query("/* postgres */ SELECT pg_advisory_xact_lock($1)")
                    .bind(STUDIO_BUDGET_LOCK)
                    .execute(&mut **conn)
                    .await?;
            }
        }
    }
    Ok(())
}

/// Costs of the jobs in `scope` queued since `since`, in micro-dollars: (spent, reserved).
/// Spent: what fal charged, once checked against its bill (a failed job it billed too), else
/// the estimate of completed jobs. Reserved: jobs waiting or at fal. Failed and cancelled jobs
/// fal did not bill count nothing (it never charges a server error; the reservation is
/// released). For a check that
/// must not race, call [`lock_cost_scope`] first in the same transaction.
pub async fn month_costs(
    conn: impl Into<Conn<'_>>,
    scope: CostScope<'_>,
    since: &str,
) -> Result<(i64, i64)> {
    let conn = conn.into();
    let (filter, subject) = match scope {
        CostScope::User(user_id) => ("user_id = $2", user_id),
        CostScope::StudioKey => ("key_source = $2", KeySource::Studio.as_str()),
    };
    let sql = format!(
        "SELECT CAST(COALESCE(SUM(CASE WHEN charged_micros IS NOT NULL THEN charged_micros WHEN status = 'completed' THEN cost_micros ELSE 0 END), 0) AS BIGINT), \
         CAST(COALESCE(SUM(CASE WHEN status IN ({}) THEN cost_micros ELSE 0 END), 0) AS BIGINT) \
         FROM jobs WHERE created_at >= $1 AND {filter}",
        sql_list(&JobStatus::ACTIVE)
    );
    Ok(with_conn!(conn, exec => sqlx::query_as(&sql)
        .bind(since)
        .bind(subject)
        .fetch_one(exec)
        .await)?)
}

/// Every user's (spent, reserved) micro-dollars since `since`, as [`month_costs`] counts one
/// user's, in one statement (the admin's list). Users without jobs are absent.
pub async fn month_costs_by_user(db: &Db, since: &str) -> Result<Vec<(String, i64, i64)>> {
    let sql = format!(
        "SELECT user_id, \
         CAST(COALESCE(SUM(CASE WHEN charged_micros IS NOT NULL THEN charged_micros WHEN status = 'completed' THEN cost_micros ELSE 0 END), 0) AS BIGINT), \
         CAST(COALESCE(SUM(CASE WHEN status IN ({}) THEN cost_micros ELSE 0 END), 0) AS BIGINT) \
         FROM jobs WHERE created_at >= $1 GROUP BY user_id",
        sql_list(&JobStatus::ACTIVE)
    );
    Ok(with_db!(db, pool => sqlx::query_as(&sql).bind(since).fetch_all(pool).await)?)
}

/// How the admin's usage groups completed jobs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum UsageGroup {
    User,
    Model,
    Day,
}

/// One group of the admin's usage: its key (user id, endpoint id or UTC day), the model's name
/// for a model, the estimated cost in micro-dollars and the jobs.
#[derive(Debug, Clone, FromRow)]
pub struct UsageRow {
    pub key: String,
    pub model_name: Option<String>,
    pub cost_micros: i64,
    /// What fal's bill says, over the jobs checked against it; none when none was.
    pub charged_micros: Option<i64>,
    pub jobs: i64,
    /// Of `jobs`, those the studio had no price for (counted as nothing in `cost_micros`).
    pub unpriced_jobs: i64,
}

/// Completed jobs (and failed ones fal billed) queued in [`from`, `to`), grouped, in key order.
pub async fn usage(db: &Db, group: UsageGroup, from: &str, to: &str) -> Result<Vec<UsageRow>> {
    let group = match group {
        UsageGroup::User => "user",
        UsageGroup::Model => "model",
        UsageGroup::Day => "day",
    };
    // One statement for the three groupings: the key is chosen by a parameter.
    Ok(with_db!(db, pool => sqlx::query_as(
        "SELECT CASE $4 WHEN 'user' THEN user_id WHEN 'model' THEN endpoint_id \
         ELSE substr(created_at, 1, 10) END AS key, MAX(model_name) AS model_name, \
         CAST(COALESCE(SUM(CASE WHEN status = $1 THEN cost_micros ELSE 0 END), 0) AS BIGINT) AS cost_micros, \
         CAST(SUM(charged_micros) AS BIGINT) AS charged_micros, \
         COUNT(CASE WHEN status = $1 THEN 1 END) AS jobs, \
         COUNT(CASE WHEN status = $1 AND cost_micros IS NULL THEN 1 END) AS unpriced_jobs \
         FROM jobs WHERE (status = $1 OR charged_micros > 0) AND created_at >= $2 AND created_at < $3 \
         GROUP BY 1 ORDER BY 1")
        .bind(JobStatus::Completed)
        .bind(from)
        .bind(to)
        .bind(group)
        .fetch_all(pool)
        .await)?)
}

/// A finished job fal took whose charge is not checked against fal's bill yet.
#[derive(Debug, Clone, FromRow)]
pub struct Unreconciled {
    pub id: String,
    pub user_id: String,
    pub key_source: Option<KeySource>,
    pub request_id: String,
    pub created_at: String,
    pub finished_at: String,
}

/// The oldest finished jobs (finished before `before`) whose charge is not checked yet.
pub async fn unreconciled(db: &Db, before: &str, limit: i64) -> Result<Vec<Unreconciled>> {
    let sql = format!(
        "SELECT id, user_id, key_source, request_id, created_at, finished_at FROM jobs \
         WHERE reconciled_at IS NULL AND request_id IS NOT NULL AND status IN ({}) \
         AND finished_at < $1 ORDER BY finished_at LIMIT $2",
        sql_list(&JobStatus::FINISHED)
    );
    Ok(with_db!(db, pool => sqlx::query_as(&sql)
        .bind(before)
        .bind(limit)
        .fetch_all(pool)
        .await)?)
}

/// Records what fal charged for a job (micro-dollars; 0 for a request it never billed).
pub async fn set_charged(db: &Db, id: &str, micros: i64) -> Result<()> {
    let now = db.engine().now();
    let sql = format!("UPDATE jobs SET charged_micros = $1, reconciled_at = {now} WHERE id = $2");
    with_db!(db, pool => sqlx::query(&sql)
        .bind(micros)
        .bind(id)
        .execute(pool)
        .await
        .map(|_| ()))?;
    Ok(())
}

/// `pg_advisory_xact_lock` key that makes studio-key budget checks take turns ("fal-budg").
const STUDIO_BUDGET_LOCK: i64 = 0x6661_6c2d_6275_6467;

pub async fn delete(db: &Db, id: &str) -> Result<()> {
    with_db!(db, pool => sqlx::query("DELETE FROM jobs WHERE id = $1")
        .bind(id)
        .execute(pool)
        .await
        .map(|_| ()))?;
    Ok(())
}

/// Whether `user_id` has a visible job in `group_id`.
pub async fn owns_group(db: &Db, user_id: &str, group_id: &str) -> Result<bool> {
    let found: Option<i64> = with_db!(db, pool => sqlx::query_scalar(
        "SELECT CAST(1 AS BIGINT) FROM jobs WHERE group_id = $1 AND user_id = $2 AND status != $3 LIMIT 1",
    )
    .bind(group_id)
    .bind(user_id)
    .bind(JobStatus::Receiving)
    .fetch_optional(pool)
    .await)?;
    Ok(found.is_some())
}

pub async fn group_label(db: &Db, user_id: &str, group_id: &str) -> Result<Option<String>> {
    let label: Option<Option<String>> = with_db!(db, pool => sqlx::query_scalar(
        "SELECT group_label FROM jobs WHERE group_id = $1 AND user_id = $2 AND group_label IS NOT NULL LIMIT 1",
    )
    .bind(group_id)
    .bind(user_id)
    .fetch_optional(pool)
    .await)?;
    Ok(label.flatten())
}

pub async fn set_group(db: &Db, id: &str, group_id: &str, label: Option<&str>) -> Result<()> {
    with_db!(db, pool => sqlx::query("UPDATE jobs SET group_id = $1, group_label = $2 WHERE id = $3")
        .bind(group_id)
        .bind(label)
        .bind(id)
        .execute(pool)
        .await
        .map(|_| ()))?;
    Ok(())
}

/// Renames a group of the user's; how many jobs it has.
pub async fn rename_group(
    db: &Db,
    user_id: &str,
    group_id: &str,
    label: Option<&str>,
) -> Result<u64> {
    let done = with_db!(db, pool => sqlx::query(
        "UPDATE jobs SET group_label = $1 WHERE user_id = $2 AND group_id = $3",
    )
    .bind(label)
    .bind(user_id)
    .bind(group_id)
    .execute(pool)
    .await
    .map(|done| done.rows_affected()))?;
    Ok(done)
}

/// Hides the user's finished jobs (of one group, or all) from the queue view; how many.
pub async fn hide_finished(
    db: &Db,
    user_id: &str,
    group_id: Option<&str>,
    statuses: &[JobStatus],
) -> Result<u64> {
    debug_assert!(statuses.iter().all(|s| s.is_finished()));
    // `COALESCE($2, group_id)` rather than `$2 IS NULL OR group_id = $2`: Postgres must be able
    // to tell the parameter's type from the statement alone. (group_id is never NULL.)
    let sql = format!(
        "UPDATE jobs SET hidden = TRUE WHERE user_id = $1 AND status IN ({}) \
         AND hidden = FALSE AND group_id = COALESCE($2, group_id)",
        sql_list(statuses)
    );
    let done = with_db!(db, pool => sqlx::query(&sql)
        .bind(user_id)
        .bind(group_id)
        .execute(pool)
        .await
        .map(|done| done.rows_affected()))?;
    Ok(done)
}

/// Notes (or with `None`, clears) why fal is being asked again for a job (see `patiently`).
pub async fn set_provider_trouble(db: &Db, id: &str, note: Option<&str>) -> Result<()> {
    with_db!(db, pool => sqlx::query("UPDATE jobs SET provider_trouble = $1 WHERE id = $2")
        .bind(note)
        .bind(id)
        .execute(pool)
        .await
        .map(|_| ()))?;
    Ok(())
}

pub async fn set_inference_time(db: &Db, id: &str, seconds: f64) -> Result<()> {
    with_db!(db, pool => sqlx::query("UPDATE jobs SET inference_time = $1 WHERE id = $2")
        .bind(seconds)
        .bind(id)
        .execute(pool)
        .await
        .map(|_| ()))?;
    Ok(())
}

pub async fn inference_time(db: &Db, id: &str) -> Result<Option<f64>> {
    let seconds: Option<Option<f64>> = with_db!(db, pool => sqlx::query_scalar(
        "SELECT inference_time FROM jobs WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(pool)
    .await)?;
    Ok(seconds.flatten())
}

/// The columns of a reference row written before its bytes arrive.
pub struct NewReference<'a> {
    pub id: &'a str,
    pub job_id: &'a str,
    pub user_id: &'a str,
    pub field: &'a str,
    pub bucket: Option<&'a str>,
    pub multiple: bool,
    pub position: i64,
    pub storage_mode: &'a str,
    pub storage_key: &'a str,
    pub content_type: &'a str,
    pub file_name: &'a str,
}

/// The row first, so a crash mid-stream leaves a row that points at what to clean up.
pub async fn insert_reference(db: &Db, r: &NewReference<'_>) -> Result<()> {
    with_db!(db, pool => sqlx::query(
        "INSERT INTO job_references (id, job_id, user_id, field, bucket, multiple, position, storage_mode, \
         storage_key, content_type, byte_size, file_name, sha256, stored) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 0, $11, '', FALSE)",
    )
    .bind(r.id)
    .bind(r.job_id)
    .bind(r.user_id)
    .bind(r.field)
    .bind(r.bucket)
    .bind(r.multiple)
    .bind(r.position)
    .bind(r.storage_mode)
    .bind(r.storage_key)
    .bind(r.content_type)
    .bind(r.file_name)
    .execute(pool)
    .await
    .map(|_| ()))?;
    Ok(())
}

/// The reference's bytes are stored: its size and hash, and usable from now on.
pub async fn reference_stored(db: &Db, id: &str, byte_size: i64, sha256: &str) -> Result<()> {
    with_db!(db, pool => sqlx::query(
        "UPDATE job_references SET byte_size = $1, sha256 = $2, stored = TRUE WHERE id = $3",
    )
    .bind(byte_size)
    .bind(sha256)
    .bind(id)
    .execute(pool)
    .await
    .map(|_| ()))?;
    Ok(())
}

/// The job an asset came from, in brief.
#[derive(Debug, Clone, Serialize, FromRow, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct JobSummary {
    pub id: String,
    pub status: JobStatus,
    pub group_id: String,
    pub created_at: String,
    pub finished_at: Option<String>,
    /// What fal was sent (as the job view's `sentInput`), once fal took the job.
    #[sqlx(rename = "sent_input_json")]
    #[schema(value_type = Option<Object>)]
    pub sent_input: Option<Json<Value>>,
}

/// A job of this user, in brief; another user's job is not found.
pub async fn summary_of(db: &Db, user_id: &str, id: &str) -> Result<Option<JobSummary>> {
    Ok(with_db!(db, pool => sqlx::query_as(
        "SELECT id, status, group_id, created_at, finished_at, sent_input_json FROM jobs WHERE id = $1 AND user_id = $2",
    )
    .bind(id)
    .bind(user_id)
    .fetch_optional(pool)
    .await)?)
}

/// The user's jobs that fal accepted in the last `days` days, with their estimates:
/// `(day, endpoint id, model name, estimate)`, oldest first.
pub async fn estimates_since(
    db: &Db,
    user_id: &str,
    days: i64,
) -> Result<Vec<(String, String, String, Json<Estimate>)>> {
    Ok(with_db!(db, pool => sqlx::query_as(
        "SELECT substr(created_at, 1, 10), endpoint_id, model_name, estimate_json FROM jobs \
         WHERE user_id = $1 AND estimate_json IS NOT NULL AND request_id IS NOT NULL \
         AND created_at >= $2 ORDER BY created_at",
    )
    .bind(user_id)
    .bind(days_ago(days))
    .fetch_all(pool)
    .await)?)
}

/// The moment `days` days ago as the timestamp columns store it (`2026-12-04T03:22:51.123Z`),
/// taken here rather than by the database so one statement serves both engines. Past the
/// calendar's range it is `""`, which sorts before every timestamp.
fn days_ago(days: i64) -> String {
    time::OffsetDateTime::now_utc()
        .checked_sub(time::Duration::seconds(days.saturating_mul(86_400)))
        .map(crate::db::timestamp_text)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    // SQLite only (tagged for the schema test, which prepares every literal of this file).
    #[tokio::test]
    async fn a_status_is_its_text_and_an_unknown_text_does_not_decode() {
        let db = sqlx::SqlitePool::connect("sqlite::memory:")
            .await
            .expect("an in-memory database");
        let stored: String = sqlx::query_scalar("/* sqlite */ SELECT $1")
            .bind(JobStatus::Storing)
            .fetch_one(&db)
            .await
            .expect("a bound status");
        assert_eq!(stored, "storing");
        let read: JobStatus = sqlx::query_scalar("/* sqlite */ SELECT 'cancelled'")
            .fetch_one(&db)
            .await
            .expect("a known status");
        assert_eq!(read, JobStatus::Cancelled);
        let unknown = sqlx::query_scalar::<_, JobStatus>("/* sqlite */ SELECT 'paused'")
            .fetch_one(&db)
            .await;
        assert!(
            matches!(unknown, Err(sqlx::Error::ColumnDecode { .. })),
            "{unknown:?}"
        );
    }

    #[tokio::test]
    async fn days_ago_matches_what_sqlite_computed_before() {
        let db = sqlx::SqlitePool::connect("sqlite::memory:")
            .await
            .expect("an in-memory database");
        let sql = "/* sqlite */ SELECT strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-30 days')";
        let before: String = sqlx::query_scalar(sql)
            .fetch_one(&db)
            .await
            .expect("before");
        let ours = days_ago(30);
        let after: String = sqlx::query_scalar(sql).fetch_one(&db).await.expect("after");
        assert!(
            before <= ours && ours <= after,
            "{before} <= {ours} <= {after}"
        );
        assert_eq!(days_ago(i64::MAX), "");
    }
}
