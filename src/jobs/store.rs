//! SQL for `jobs` and `job_references`, and the JSON view of a job.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sqlx::{FromRow, SqlitePool, types::Json};
use utoipa::ToSchema;

use super::status::{JobStatus, sql_list};
use crate::{assets, catalog::Estimate, error::Result};

/// The one "now" of this table's timestamps: UTC, milliseconds, ISO 8601.
const NOW: &str = "strftime('%Y-%m-%dT%H:%M:%fZ','now')";

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
    pub multiple: i64,
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
    logs_json, estimate_json, cancel_requested, hidden, created_at, started_at, finished_at";

const REF_COLUMNS: &str = "id, job_id, user_id, field, bucket, multiple, position, storage_mode, \
    storage_key, content_type, byte_size, file_name, sha256";

pub async fn job(db: &SqlitePool, id: &str) -> Result<Option<JobRow>> {
    Ok(
        sqlx::query_as(&format!("SELECT {JOB_COLUMNS} FROM jobs WHERE id = ?"))
            .bind(id)
            .fetch_optional(db)
            .await?,
    )
}

/// A job of this user; another user's job is simply not found.
pub async fn job_of(db: &SqlitePool, user_id: &str, id: &str) -> Result<Option<JobRow>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {JOB_COLUMNS} FROM jobs WHERE id = ? AND user_id = ? AND status != ?"
    ))
    .bind(id)
    .bind(user_id)
    .bind(JobStatus::Receiving)
    .fetch_optional(db)
    .await?)
}

pub async fn list(
    db: &SqlitePool,
    user_id: &str,
    active_only: bool,
    limit: i64,
) -> Result<Vec<JobRow>> {
    let filter = if active_only {
        format!("AND status IN ({})", sql_list(&JobStatus::ACTIVE))
    } else {
        format!(
            "AND status != '{}' AND hidden = 0",
            JobStatus::Receiving.as_str()
        )
    };
    Ok(sqlx::query_as(&format!(
        "SELECT {JOB_COLUMNS} FROM jobs WHERE user_id = ? {filter} ORDER BY created_at DESC, id DESC LIMIT ?"
    ))
    .bind(user_id)
    .bind(limit)
    .fetch_all(db)
    .await?)
}

pub async fn group_jobs(db: &SqlitePool, user_id: &str, group_id: &str) -> Result<Vec<JobRow>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {JOB_COLUMNS} FROM jobs WHERE user_id = ? AND group_id = ? AND status != ? ORDER BY created_at"
    ))
    .bind(user_id)
    .bind(group_id)
    .bind(JobStatus::Receiving)
    .fetch_all(db)
    .await?)
}

/// How many of the user's jobs wait or run (queued, submitting, running or storing): what the
/// per-user queue cap counts. Run it inside the write transaction that adds jobs, so the count
/// and the insert are one step.
pub async fn active_count(tx: &mut sqlx::SqliteConnection, user_id: &str) -> Result<i64> {
    Ok(sqlx::query_scalar(&format!(
        "SELECT COUNT(*) FROM jobs WHERE user_id = ? AND status IN ({})",
        sql_list(&JobStatus::ACTIVE)
    ))
    .bind(user_id)
    .fetch_one(&mut *tx)
    .await?)
}

/// What the scheduler needs of a job that is not finished: no parameters, logs or results,
/// which can be hundreds of KiB each and are read only for the job being driven.
#[derive(Debug, Clone, FromRow)]
pub struct PendingJob {
    pub id: String,
    pub user_id: String,
    pub status: JobStatus,
    pub request_id: Option<String>,
}

/// Jobs the runner must look after, oldest first.
pub async fn unfinished(db: &SqlitePool) -> Result<Vec<PendingJob>> {
    Ok(sqlx::query_as(&format!(
        "SELECT id, user_id, status, request_id FROM jobs \
         WHERE status IN ({}) ORDER BY created_at, id",
        sql_list(&JobStatus::UNFINISHED)
    ))
    .fetch_all(db)
    .await?)
}

pub async fn references(db: &SqlitePool, job_id: &str) -> Result<Vec<ReferenceRow>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {REF_COLUMNS} FROM job_references WHERE job_id = ? ORDER BY position"
    ))
    .bind(job_id)
    .fetch_all(db)
    .await?)
}

/// The references of every job in `job_ids`, in one statement, by job and position.
pub async fn references_of_jobs(db: &SqlitePool, job_ids: &[&str]) -> Result<Vec<ReferenceRow>> {
    if job_ids.is_empty() {
        return Ok(Vec::new());
    }
    let ids = Value::from(job_ids.to_vec()).to_string();
    Ok(sqlx::query_as(&format!(
        "SELECT {REF_COLUMNS} FROM job_references WHERE job_id IN (SELECT value FROM json_each(?)) \
         ORDER BY job_id, position"
    ))
    .bind(ids)
    .fetch_all(db)
    .await?)
}

pub async fn reference_of(
    db: &SqlitePool,
    user_id: &str,
    id: &str,
) -> Result<Option<ReferenceRow>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {REF_COLUMNS} FROM job_references WHERE id = ? AND user_id = ? AND stored = 1"
    ))
    .bind(id)
    .bind(user_id)
    .fetch_optional(db)
    .await?)
}

/// Creates job `to` in `status` as a copy of job `from` (same user, group, model, parameters
/// and estimate) with rows for the same stored references: retry, and the extra runs of a
/// form with `count` > 1. The objects are shared, not copied.
pub async fn copy_job(
    tx: &mut sqlx::SqliteConnection,
    from: &str,
    to: &str,
    status: JobStatus,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO jobs (id, user_id, group_id, group_label, endpoint_id, model_name, status, params_json, estimate_json) \
         SELECT ?, user_id, group_id, group_label, endpoint_id, model_name, ?, params_json, estimate_json \
         FROM jobs WHERE id = ?",
    )
    .bind(to)
    .bind(status)
    .bind(from)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO job_references (id, job_id, user_id, field, bucket, multiple, position, storage_mode, \
         storage_key, content_type, byte_size, file_name, sha256, stored) \
         SELECT lower(hex(randomblob(16))), ?, user_id, field, bucket, multiple, position, storage_mode, \
         storage_key, content_type, byte_size, file_name, sha256, stored FROM job_references WHERE job_id = ?",
    )
    .bind(to)
    .bind(from)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Moves a job to `to` from whatever status it is in, if that status may become `to`
/// ([`JobStatus::can_become`]); whether it moved. Finishing (`completed`, `failed`,
/// `cancelled`) also clears the queue position and notes the time, and sets the error.
pub async fn move_to(
    db: impl sqlx::SqliteExecutor<'_>,
    id: &str,
    to: JobStatus,
    error: Option<&JobError>,
) -> Result<bool> {
    update_status(db, id, &to.predecessors(), to, error).await
}

/// Moves a job from `from` to `to` only if it is still in `from` and the move is allowed;
/// whether it moved.
pub async fn transition(db: &SqlitePool, id: &str, from: JobStatus, to: JobStatus) -> Result<bool> {
    if !from.can_become(to) {
        return Ok(false);
    }
    update_status(db, id, &[from], to, None).await
}

/// The one status update: `to` for a job currently in one of `from`.
async fn update_status(
    db: impl sqlx::SqliteExecutor<'_>,
    id: &str,
    from: &[JobStatus],
    to: JobStatus,
    error: Option<&JobError>,
) -> Result<bool> {
    let finishing = if to.is_finished() {
        format!(", error_json = ?, queue_position = NULL, finished_at = {NOW}")
    } else {
        String::new()
    };
    let sql = format!(
        "UPDATE jobs SET status = ?, updated_at = {NOW}{finishing} WHERE id = ? AND status IN ({})",
        sql_list(from)
    );
    let mut query = sqlx::query(&sql).bind(to);
    if to.is_finished() {
        query = query.bind(error.map(Json));
    }
    let done = query.bind(id).execute(db).await?;
    Ok(done.rows_affected() == 1)
}

pub async fn record_submission(
    db: &SqlitePool,
    id: &str,
    request_id: &str,
    urls: &crate::fal::RequestUrls,
    queue_position: Option<i64>,
) -> Result<()> {
    sqlx::query(&format!(
        "UPDATE jobs SET status = ?, request_id = ?, status_url = ?, response_url = ?, \
         cancel_url = ?, queue_position = ?, started_at = {NOW}, updated_at = {NOW} \
         WHERE id = ? AND status = ?"
    ))
    .bind(JobStatus::Running)
    .bind(request_id)
    .bind(urls.status.as_str())
    .bind(urls.response.as_str())
    .bind(urls.cancel.as_str())
    .bind(queue_position)
    .bind(id)
    .bind(JobStatus::Submitting)
    .execute(db)
    .await?;
    Ok(())
}

pub async fn record_progress(
    db: &SqlitePool,
    id: &str,
    queue_position: Option<i64>,
    logs: Option<&[LogLine]>,
) -> Result<()> {
    sqlx::query(&format!(
        "UPDATE jobs SET queue_position = ?, logs_json = COALESCE(?, logs_json), \
         updated_at = {NOW} WHERE id = ?"
    ))
    .bind(queue_position)
    .bind(logs.map(Json))
    .bind(id)
    .execute(db)
    .await?;
    Ok(())
}

pub async fn request_cancel(db: &SqlitePool, id: &str) -> Result<()> {
    sqlx::query("UPDATE jobs SET cancel_requested = 1 WHERE id = ?")
        .bind(id)
        .execute(db)
        .await?;
    Ok(())
}

pub async fn cancel_requested(db: &SqlitePool, id: &str) -> Result<bool> {
    let v: Option<bool> = sqlx::query_scalar("SELECT cancel_requested FROM jobs WHERE id = ?")
        .bind(id)
        .fetch_optional(db)
        .await?;
    Ok(v == Some(true))
}

/// A reference file a job was given, stored with the job.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReferenceView {
    pub id: String,
    /// The model's input field it went to.
    pub field: String,
    /// The upload bucket it came through, if any (generalReferences, firstFrame, ...).
    pub bucket: Option<String>,
    pub url: String,
    pub content_type: String,
    pub file_name: String,
    pub byte_size: i64,
}

/// A job's reference files as clients see them.
pub async fn references_view(db: &SqlitePool, job_id: &str) -> Result<Vec<ReferenceView>> {
    Ok(references(db, job_id)
        .await?
        .into_iter()
        .map(ReferenceRow::view)
        .collect())
}

impl ReferenceRow {
    pub fn view(self) -> ReferenceView {
        ReferenceView {
            url: format!("/files/references/{}", self.id),
            id: self.id,
            field: self.field,
            bucket: self.bucket,
            content_type: self.content_type,
            file_name: self.file_name,
            byte_size: self.byte_size,
        }
    }
}

/// One line of fal's log for a request.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct LogLine {
    pub message: String,
    /// fal's level: DEBUG, INFO, WARN, ERROR...
    pub level: String,
    pub timestamp: Option<String>,
}

/// Everything the UI shows of a job, with its stored assets and references.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct JobView {
    pub id: String,
    /// Jobs sent together (count > 1, compare) share a group.
    pub group_id: String,
    pub group_label: Option<String>,
    #[schema(example = "fal-ai/flux/dev")]
    pub endpoint_id: String,
    pub model_name: String,
    pub status: JobStatus,
    /// fal's queue position while waiting there.
    pub queue_position: Option<i64>,
    /// The last lines of fal's log for this request.
    pub logs: Vec<LogLine>,
    /// Why the job failed, when it did.
    pub error: Option<JobError>,
    pub assets: Vec<assets::AssetView>,
    pub references: Vec<ReferenceView>,
    #[schema(value_type = Object)]
    pub params: Map<String, Value>,
    /// The price estimate taken when the job was created.
    pub estimate: Option<Estimate>,
    /// fal's request id, once fal accepted the job.
    pub request_id: Option<String>,
    pub created_at: String,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    /// Cleared from the queue view (still in the gallery).
    pub hidden: bool,
}

pub async fn view(db: &SqlitePool, job: &JobRow) -> Result<JobView> {
    let mut views = views(db, std::slice::from_ref(job)).await?;
    views
        .pop()
        .ok_or_else(|| crate::error::AppError::Internal(anyhow::anyhow!("a job view went missing")))
}

/// The views of `jobs`, in their order, in three statements however many there are: the
/// jobs' outputs and their references are each read for all of them at once.
pub async fn views(db: &SqlitePool, jobs: &[JobRow]) -> Result<Vec<JobView>> {
    let ids: Vec<&str> = jobs.iter().map(|j| j.id.as_str()).collect();
    let mut assets_by_job: std::collections::HashMap<String, Vec<assets::AssetView>> =
        std::collections::HashMap::new();
    for row in assets::store::of_jobs(db, &ids).await? {
        if let Some(job_id) = row.job_id.clone() {
            assets_by_job.entry(job_id).or_default().push(row.view());
        }
    }
    let mut references_by_job: std::collections::HashMap<String, Vec<ReferenceView>> =
        std::collections::HashMap::new();
    for row in references_of_jobs(db, &ids).await? {
        references_by_job
            .entry(row.job_id.clone())
            .or_default()
            .push(row.view());
    }
    Ok(jobs
        .iter()
        .map(|job| {
            assemble(
                job,
                assets_by_job.remove(&job.id).unwrap_or_default(),
                references_by_job.remove(&job.id).unwrap_or_default(),
            )
        })
        .collect())
}

fn assemble(
    job: &JobRow,
    assets: Vec<assets::AssetView>,
    references: Vec<ReferenceView>,
) -> JobView {
    JobView {
        id: job.id.clone(),
        group_id: job.group_id.clone(),
        group_label: job.group_label.clone(),
        endpoint_id: job.endpoint_id.clone(),
        model_name: job.model_name.clone(),
        status: job.status,
        queue_position: job.queue_position,
        logs: job.logs.as_ref().map(|l| l.0.clone()).unwrap_or_default(),
        error: job.error.as_ref().map(|e| e.0.clone()),
        assets,
        references,
        params: job.params.0.clone(),
        estimate: job.estimate.as_ref().map(|e| e.0.clone()),
        request_id: job.request_id.clone(),
        created_at: job.created_at.clone(),
        started_at: job.started_at.clone(),
        finished_at: job.finished_at.clone(),
        hidden: job.hidden,
    }
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

/// A job whose reference files are about to stream in (`receiving`): its own group until the
/// form says otherwise.
pub async fn insert_receiving(
    db: &SqlitePool,
    id: &str,
    user_id: &str,
    endpoint_id: &str,
    model_name: &str,
    params: &Map<String, Value>,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO jobs (id, user_id, group_id, endpoint_id, model_name, status, params_json) \
         VALUES (?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(id)
    .bind(user_id)
    .bind(id)
    .bind(endpoint_id)
    .bind(model_name)
    .bind(JobStatus::Receiving)
    .bind(Json(params))
    .execute(db)
    .await?;
    Ok(())
}

/// A received job becomes queued (with its estimate), timed from now.
pub async fn queue_received(
    tx: &mut sqlx::SqliteConnection,
    id: &str,
    estimate: Option<&Estimate>,
) -> Result<()> {
    sqlx::query(&format!(
        "UPDATE jobs SET status = ?, estimate_json = ?, created_at = {NOW} WHERE id = ? AND status = ?"
    ))
    .bind(JobStatus::Queued)
    .bind(estimate.map(Json))
    .bind(id)
    .bind(JobStatus::Receiving)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

pub async fn delete(db: &SqlitePool, id: &str) -> Result<()> {
    sqlx::query("DELETE FROM jobs WHERE id = ?")
        .bind(id)
        .execute(db)
        .await?;
    Ok(())
}

/// Whether `user_id` has a visible job in `group_id`.
pub async fn owns_group(db: &SqlitePool, user_id: &str, group_id: &str) -> Result<bool> {
    let found: Option<i64> = sqlx::query_scalar(
        "SELECT 1 FROM jobs WHERE group_id = ? AND user_id = ? AND status != ? LIMIT 1",
    )
    .bind(group_id)
    .bind(user_id)
    .bind(JobStatus::Receiving)
    .fetch_optional(db)
    .await?;
    Ok(found.is_some())
}

pub async fn group_label(db: &SqlitePool, user_id: &str, group_id: &str) -> Result<Option<String>> {
    Ok(sqlx::query_scalar(
        "SELECT group_label FROM jobs WHERE group_id = ? AND user_id = ? AND group_label IS NOT NULL LIMIT 1",
    )
    .bind(group_id)
    .bind(user_id)
    .fetch_optional(db)
    .await?
    .flatten())
}

pub async fn set_group(
    db: &SqlitePool,
    id: &str,
    group_id: &str,
    label: Option<&str>,
) -> Result<()> {
    sqlx::query("UPDATE jobs SET group_id = ?, group_label = ? WHERE id = ?")
        .bind(group_id)
        .bind(label)
        .bind(id)
        .execute(db)
        .await?;
    Ok(())
}

/// Renames a group of the user's; how many jobs it has.
pub async fn rename_group(
    db: &SqlitePool,
    user_id: &str,
    group_id: &str,
    label: Option<&str>,
) -> Result<u64> {
    let done = sqlx::query("UPDATE jobs SET group_label = ? WHERE user_id = ? AND group_id = ?")
        .bind(label)
        .bind(user_id)
        .bind(group_id)
        .execute(db)
        .await?;
    Ok(done.rows_affected())
}

/// Hides the user's finished jobs (of one group, or all) from the queue view; how many.
pub async fn hide_finished(db: &SqlitePool, user_id: &str, group_id: Option<&str>) -> Result<u64> {
    let done = sqlx::query(&format!(
        "UPDATE jobs SET hidden = 1 WHERE user_id = ? AND status IN ({}) \
         AND hidden = 0 AND (? IS NULL OR group_id = ?)",
        sql_list(&JobStatus::FINISHED)
    ))
    .bind(user_id)
    .bind(group_id)
    .bind(group_id)
    .execute(db)
    .await?;
    Ok(done.rows_affected())
}

pub async fn set_inference_time(db: &SqlitePool, id: &str, seconds: f64) -> Result<()> {
    sqlx::query("UPDATE jobs SET inference_time = ? WHERE id = ?")
        .bind(seconds)
        .bind(id)
        .execute(db)
        .await?;
    Ok(())
}

pub async fn inference_time(db: &SqlitePool, id: &str) -> Result<Option<f64>> {
    Ok(
        sqlx::query_scalar("SELECT inference_time FROM jobs WHERE id = ?")
            .bind(id)
            .fetch_optional(db)
            .await?
            .flatten(),
    )
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
pub async fn insert_reference(db: &SqlitePool, r: &NewReference<'_>) -> Result<()> {
    sqlx::query(
        "INSERT INTO job_references (id, job_id, user_id, field, bucket, multiple, position, storage_mode, \
         storage_key, content_type, byte_size, file_name, sha256, stored) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, '', 0)",
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
    .execute(db)
    .await?;
    Ok(())
}

/// The reference's bytes are stored: its size and hash, and usable from now on.
pub async fn reference_stored(
    db: &SqlitePool,
    id: &str,
    byte_size: i64,
    sha256: &str,
) -> Result<()> {
    sqlx::query("UPDATE job_references SET byte_size = ?, sha256 = ?, stored = 1 WHERE id = ?")
        .bind(byte_size)
        .bind(sha256)
        .bind(id)
        .execute(db)
        .await?;
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
}

/// A job of this user, in brief; another user's job is not found.
pub async fn summary_of(db: &SqlitePool, user_id: &str, id: &str) -> Result<Option<JobSummary>> {
    Ok(sqlx::query_as(
        "SELECT id, status, group_id, created_at, finished_at FROM jobs WHERE id = ? AND user_id = ?",
    )
    .bind(id)
    .bind(user_id)
    .fetch_optional(db)
    .await?)
}

/// The user's jobs that fal accepted in the last `days` days, with their estimates:
/// `(day, endpoint id, model name, estimate)`, oldest first.
pub async fn estimates_since(
    db: &SqlitePool,
    user_id: &str,
    days: i64,
) -> Result<Vec<(String, String, String, Json<Estimate>)>> {
    Ok(sqlx::query_as(
        "SELECT substr(created_at, 1, 10), endpoint_id, model_name, estimate_json FROM jobs \
         WHERE user_id = ? AND estimate_json IS NOT NULL AND request_id IS NOT NULL \
         AND created_at >= strftime('%Y-%m-%dT%H:%M:%fZ', 'now', ?) ORDER BY created_at",
    )
    .bind(user_id)
    .bind(format!("-{days} days"))
    .fetch_all(db)
    .await?)
}
