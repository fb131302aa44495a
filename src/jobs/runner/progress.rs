//! What a job tells its owner: the tail of fal's logs as progress, each change published to
//! the owner's event stream, and a failure written as a `JobError` (with the mapping from the
//! provider's and the app's errors to it).

use serde_json::Value;

use crate::{
    AppState,
    error::{AppError, Category},
    fal::ProviderError,
    jobs::{
        event_log,
        status::JobStatus,
        store::{self, JobError, JobRow},
    },
};

const LOG_LINES: usize = 20;

pub(super) fn tail_logs(logs: &[Value]) -> Vec<store::LogLine> {
    let start = logs.len().saturating_sub(LOG_LINES);
    let text = |l: &Value, key: &str| l.get(key).and_then(Value::as_str).map(str::to_owned);
    logs[start..]
        .iter()
        .map(|l| store::LogLine {
            message: text(l, "message").unwrap_or_default(),
            level: text(l, "level").unwrap_or_else(|| "INFO".to_owned()),
            timestamp: text(l, "timestamp"),
        })
        .collect()
}

pub(super) fn provider_to_job(e: ProviderError) -> JobError {
    JobError {
        category: e.category,
        message: e.message,
        details: e.details.map(|d| *d),
        request_id: e.request_id,
    }
}

pub(super) fn app_error_to_job(e: AppError) -> JobError {
    match e {
        AppError::Client {
            category,
            message,
            details,
            ..
        } => JobError {
            category,
            message,
            // The job keeps details as plain JSON (it also holds fal's raw answers, see
            // `provider_to_job`); our typed details always serialise, so `ok()` drops nothing.
            details: details.and_then(|d| serde_json::to_value(*d).ok()),
            request_id: None,
        },
        AppError::Provider(p) => provider_to_job(*p),
        AppError::Internal(err) => {
            tracing::error!(error = ?err, "job failed on an internal error");
            JobError {
                category: Category::Internal,
                message: "The server hit an internal error while running this job. Retry it; the server log has the details.".into(),
                details: None,
                request_id: None,
            }
        }
    }
}

pub(super) async fn fail(state: &AppState, job: &JobRow, error: JobError) -> Result<(), AppError> {
    let mut error = error;
    if error.request_id.is_none() {
        error.request_id = job.request_id.clone();
    }
    tracing::info!(job_id = %job.id, category = ?error.category, message = %error.message, "job failed");
    // Written only while this node holds the job's lease (see `runner`).
    store::move_held(
        &state.db,
        &job.id,
        &state.node.id,
        JobStatus::Failed,
        Some(&error),
    )
    .await?;
    publish(state, &job.id).await
}

/// Tells the job's owner, on every node, that it changed: logs the change (the log's id is the
/// event's id everywhere) and sends the job's state to this node's streams at once; the other
/// nodes read the log (see `jobs::relay`). Call it after the change has committed, never inside
/// a job-write transaction: the log row is a statement of its own.
pub async fn publish(state: &AppState, id: &str) -> Result<(), AppError> {
    publish_all(state, &[id]).await
}

/// [`publish`] for several jobs, their views (and wait reasons) read together.
pub async fn publish_all(state: &AppState, ids: &[&str]) -> Result<(), AppError> {
    let jobs = store::jobs_by_id(&state.db, ids).await?;
    let views = crate::jobs::waiting::views_of(state, &jobs).await?;
    for (job, view) in jobs.iter().zip(&views) {
        let event_id = event_log::append(&state.db, &job.user_id, &job.id, &state.node.id).await?;
        state.hub.publish(event_id, &job.user_id, view);
    }
    Ok(())
}
