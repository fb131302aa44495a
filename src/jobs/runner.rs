//! The job runner: starts queued jobs within the global and per-user limits, drives each one
//! through fal's queue, stores its outputs, and picks every unfinished job up again after a
//! restart. Each job is driven by exactly one task at a time (the `active` set).
//!
//! Durable points, in order: `submitting` is written before fal is asked; the request id is
//! written the moment fal accepts; outputs go to deterministic storage keys (one per job and
//! output index) and the asset rows and the job's completion are written in one transaction.
//! So a crash anywhere resumes without submitting twice or storing an output twice.

use std::{
    collections::{HashMap, HashSet},
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::body::Bytes;
use base64::Engine;
use futures_util::{StreamExt, TryStreamExt};
use serde_json::{Value, json};
use tokio::sync::Notify;
use tokio_util::{sync::CancellationToken, task::TaskTracker};
use url::Url;

use super::{
    outputs::{self, OutputFile},
    status::JobStatus,
    store::{self, JobError, JobRow},
};
use crate::{
    AppState,
    account::user_fal_key,
    assets,
    error::{AppError, Category},
    fal::{CancelOutcome, FalKey, ProviderError, QueueStatus},
    storage::StorageError,
    users,
};

/// Small references travel inline as `data:` URIs; larger ones through fal's storage upload.
const DATA_URI_MAX: i64 = 256 * 1024;
const POLL_FIRST: Duration = Duration::from_millis(250);
const POLL_MAX: Duration = Duration::from_secs(3);
/// Consecutive failed polls (each already retried by the fal client) before giving up.
const MAX_POLL_FAILURES: u32 = 20;
/// Tries at storing one output; with the backoff below this rides out about a minute of
/// storage or CDN trouble before the job fails.
const STORE_TRIES: u32 = 8;
const LOG_LINES: usize = 20;

#[derive(Debug, Clone, Copy)]
pub struct JobLimits {
    pub max_running: usize,
    pub max_running_per_user: usize,
    /// Jobs one user may have waiting or running (queued, submitting, running, storing).
    pub max_queued_per_user: usize,
    pub max_output_bytes: u64,
    /// Files one result may list.
    pub max_output_files: usize,
    /// All outputs of one job together.
    pub max_job_output_bytes: u64,
}

pub struct Runner {
    wake: Notify,
    active: Mutex<HashSet<String>>,
    /// Cancelled when the server stops: no submission, poll or store starts after it; what is
    /// left resumes on the next start.
    stopping: CancellationToken,
    drivers: TaskTracker,
}

impl Default for Runner {
    fn default() -> Self {
        Runner {
            wake: Notify::new(),
            active: Mutex::new(HashSet::new()),
            stopping: CancellationToken::new(),
            drivers: TaskTracker::new(),
        }
    }
}

impl Runner {
    /// Starts a graceful stop: the scheduler stops, and each job's driver stops at its next
    /// step, except that a submission or a store already under way is finished.
    pub fn stop(&self) {
        self.stopping.cancel();
        self.drivers.close();
    }

    /// Cancelled once [`Runner::stop`] is called.
    pub fn stopping(&self) -> CancellationToken {
        self.stopping.clone()
    }

    /// Resolves when every driver has returned after [`Runner::stop`].
    pub async fn stopped(&self) {
        self.drivers.wait().await;
    }

    fn is_stopping(&self) -> bool {
        self.stopping.is_cancelled()
    }

    /// Asks the scheduler to look at the queue now (a job was added, finished or cancelled).
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    fn claim(&self, id: &str) -> bool {
        self.active
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(id.to_owned())
    }

    fn release(&self, id: &str) {
        self.active
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(id);
    }
}

/// Recovers what a previous run left, then schedules forever.
pub async fn run(state: AppState) {
    if let Err(e) = recover(&state).await {
        tracing::error!(error = %e, "job recovery failed");
    }
    while !state.runner.is_stopping() {
        if let Err(e) = schedule(&state).await {
            tracing::error!(error = %e, "job scheduling failed");
        }
        tokio::select! {
            _ = state.runner.wake.notified() => {},
            _ = tokio::time::sleep(Duration::from_secs(1)) => {},
            _ = state.runner.stopping.cancelled() => {},
        }
    }
}

async fn recover(state: &AppState) -> Result<(), AppError> {
    for job in store::unfinished(&state.db).await? {
        match (job.status, &job.request_id) {
            // Cut off while its files were arriving: nothing was promised; remove it whole.
            (JobStatus::Receiving, _) => super::intake::discard(state, &job.id).await?,
            // fal may or may not have received it: never send it twice, say so instead.
            (JobStatus::Submitting, None) => {
                let Some(job) = store::job(&state.db, &job.id).await? else {
                    continue;
                };
                fail(
                    state,
                    &job,
                    JobError {
                        category: Category::Network,
                        message: "The server stopped while sending this job to fal, so it is not known whether fal received it. Retry it if no result appears in your fal dashboard.".into(),
                        details: None,
                        request_id: None,
                    },
                )
                .await?;
            }
            _ => {}
        }
    }
    Ok(())
}

async fn schedule(state: &AppState) -> Result<(), AppError> {
    let jobs = store::unfinished(&state.db).await?;
    let limits = state.job_limits;
    // Jobs fal already holds are always driven, and count against the limits.
    let holding =
        |j: &store::PendingJob| !matches!(j.status, JobStatus::Queued | JobStatus::Receiving);
    let mut running = jobs.iter().filter(|j| holding(j)).count();
    let mut per_user: HashMap<&str, usize> = HashMap::new();
    for j in jobs.iter().filter(|j| holding(j)) {
        *per_user.entry(j.user_id.as_str()).or_default() += 1;
    }
    for job in &jobs {
        if job.status == JobStatus::Receiving {
            continue;
        }
        if job.status == JobStatus::Queued {
            let mine = per_user.get(job.user_id.as_str()).copied().unwrap_or(0);
            if running >= limits.max_running || mine >= limits.max_running_per_user {
                continue;
            }
        }
        if !state.runner.claim(&job.id) {
            continue;
        }
        if job.status == JobStatus::Queued {
            running += 1;
            *per_user.entry(job.user_id.as_str()).or_default() += 1;
        }
        let state = state.clone();
        let id = job.id.clone();
        state.runner.drivers.clone().spawn(async move {
            if let Err(e) = drive(&state, &id).await {
                // `{:#}` keeps the causes ("database: database is locked"), not just the outer
                // context.
                tracing::error!(job_id = %id, error = format!("{e:#}"), "job driver stopped");
            }
            state.runner.release(&id);
            state.runner.wake();
        });
    }
    Ok(())
}

/// Takes one job from wherever it is to a finished state.
async fn drive(state: &AppState, id: &str) -> Result<(), AppError> {
    let Some(mut job) = store::job(&state.db, id).await? else {
        return Ok(());
    };
    if job.is_finished() || state.runner.is_stopping() {
        return Ok(());
    }
    let key = match user_key(state, &job).await {
        Ok(k) => k,
        Err(e) => return fail(state, &job, app_error_to_job(e)).await,
    };

    if job.status == JobStatus::Queued {
        if job.cancel_requested {
            store::move_to(&state.db, id, JobStatus::Cancelled, None).await?;
            return publish(state, id).await;
        }
        if state.runner.is_stopping() {
            return Ok(()); // still queued: it starts on the next run
        }
        if !store::transition(&state.db, id, JobStatus::Queued, JobStatus::Submitting).await? {
            return Ok(()); // cancelled meanwhile
        }
        publish(state, id).await?;
        let input = match fal_input(state, &key, &job).await {
            Ok(input) => input,
            Err(e) => return fail(state, &job, e).await,
        };
        // Only answers that prove fal did not take the request (an error status, or a refused
        // connection) are sent again: a timeout might hide an accepted submission.
        let submitted = patiently(
            state,
            id,
            "submit",
            |e| e.status.is_some() || e.error_type.as_deref() == Some("connect"),
            || state.fal.submit(&key, &job.endpoint_id, &input),
        )
        .await;
        match submitted {
            Ok(submitted) => {
                let urls = state.fal.request_urls(&job.endpoint_id, &submitted);
                store::record_submission(
                    &state.db,
                    id,
                    &submitted.request_id,
                    &urls,
                    submitted.queue_position,
                )
                .await?;
                tracing::info!(job_id = %id, fal_request_id = %submitted.request_id, "submitted to fal");
                publish(state, id).await?;
            }
            Err(_) if state.runner.stopping().is_cancelled() => {
                // fal refused it (that is all `patiently` repeats), so it can wait in the
                // queue for the next start.
                store::transition(&state.db, id, JobStatus::Submitting, JobStatus::Queued).await?;
                return Ok(());
            }
            Err(e) => return fail(state, &job, provider_to_job(e)).await,
        }
        job = match store::job(&state.db, id).await? {
            Some(j) => j,
            None => return Ok(()),
        };
    }

    let (Some(status_url), Some(response_url), Some(cancel_url)) = (
        parse_queue_url(state, job.status_url.as_deref()),
        parse_queue_url(state, job.response_url.as_deref()),
        parse_queue_url(state, job.cancel_url.as_deref()),
    ) else {
        return fail(
            state,
            &job,
            JobError {
                category: Category::Internal,
                message: "This job's fal request cannot be followed any more (its queue URLs are missing). Retry it.".into(),
                details: None,
                request_id: job.request_id.clone(),
            },
        )
        .await;
    };

    if job.status == JobStatus::Storing {
        return ingest(state, &key, &job, &response_url).await;
    }
    if state.runner.is_stopping() {
        return Ok(()); // fal keeps it; it is followed again on the next start
    }

    let mut delay = POLL_FIRST;
    let mut failures = 0;
    let mut cancel_sent = false;
    let mut last_seen: Option<(Option<i64>, usize)> = None;
    loop {
        if state.runner.is_stopping() {
            tracing::info!(job_id = %id, "server stopping; the job stays at fal and resumes on the next start");
            return Ok(());
        }
        if !cancel_sent && store::cancel_requested(&state.db, id).await? {
            cancel_sent = true;
            match state.fal.cancel(&key, &cancel_url).await {
                Ok(CancelOutcome::Requested) => {
                    tracing::info!(job_id = %id, "cancellation requested at fal")
                }
                // fal finished first: its outputs are stored like any other.
                Ok(CancelOutcome::AlreadyCompleted) => {}
                Ok(CancelOutcome::NotFound) => {
                    store::move_to(&state.db, id, JobStatus::Cancelled, None).await?;
                    return publish(state, id).await;
                }
                Err(e) => {
                    // Asked again on the next poll.
                    cancel_sent = false;
                    tracing::warn!(job_id = %id, error = %e, "cancel at fal failed; will ask again");
                }
            }
        }
        match state.fal.status(&key, &status_url).await {
            Ok(status) => {
                failures = 0;
                match status.status.as_str() {
                    "COMPLETED" => {
                        return completed(state, &key, &job, status, &response_url).await;
                    }
                    _ => {
                        let seen = (
                            status.queue_position,
                            status.logs.as_ref().map_or(0, Vec::len),
                        );
                        if last_seen != Some(seen) {
                            last_seen = Some(seen);
                            delay = POLL_FIRST;
                            let logs = status.logs.as_ref().map(|l| tail_logs(l));
                            let position = (status.status == "IN_QUEUE")
                                .then_some(status.queue_position)
                                .flatten();
                            store::record_progress(&state.db, id, position, logs.as_ref()).await?;
                            publish(state, id).await?;
                        }
                    }
                }
            }
            Err(e) if e.retryable || e.category == Category::Network => {
                failures += 1;
                tracing::warn!(job_id = %id, failures, error = %e, "status poll failed");
                if failures >= MAX_POLL_FAILURES {
                    return fail(state, &job, provider_to_job(e)).await;
                }
            }
            Err(e) => return fail(state, &job, provider_to_job(e)).await,
        }
        tokio::select! {
            _ = tokio::time::sleep(delay) => {},
            _ = state.runner.stopping.cancelled() => {},
        }
        delay = (delay.mul_f64(1.5)).min(POLL_MAX);
    }
}

async fn completed(
    state: &AppState,
    key: &FalKey,
    job: &JobRow,
    status: QueueStatus,
    response_url: &Url,
) -> Result<(), AppError> {
    if let Some(logs) = status.logs.as_ref() {
        store::record_progress(&state.db, &job.id, None, Some(&tail_logs(logs))).await?;
    }
    // A COMPLETED status that carries an error is a failure (or the cancellation we asked for).
    if status.error.is_some() || status.error_type.is_some() {
        if store::cancel_requested(&state.db, &job.id).await? {
            store::move_to(&state.db, &job.id, JobStatus::Cancelled, None).await?;
            return publish(state, &job.id).await;
        }
        let message = status
            .error
            .unwrap_or_else(|| "fal reported an error".into());
        return fail(
            state,
            job,
            JobError {
                category: Category::ProviderError,
                message: format!("fal could not finish this generation: {message}"),
                details: status.error_type.map(|t| json!({ "errorType": t })),
                request_id: job.request_id.clone(),
            },
        )
        .await;
    }
    if let Some(t) = status
        .metrics
        .as_ref()
        .and_then(|m| m.get("inference_time"))
        .and_then(Value::as_f64)
    {
        store::set_inference_time(&state.db, &job.id, t).await?;
    }
    store::move_to(&state.db, &job.id, JobStatus::Storing, None).await?;
    publish(state, &job.id).await?;
    ingest(state, key, job, response_url).await
}

/// Fetches the result, stores every output file, then writes the assets and the job's
/// completion in one transaction.
async fn ingest(
    state: &AppState,
    key: &FalKey,
    job: &JobRow,
    response_url: &Url,
) -> Result<(), AppError> {
    let result = match patiently(
        state,
        &job.id,
        "result",
        |_| true,
        || state.fal.result(key, response_url),
    )
    .await
    {
        Ok(r) => r,
        // Stopping: the job stays in `storing` and resumes on the next start.
        Err(_) if state.runner.stopping().is_cancelled() => return Ok(()),
        Err(e) => {
            if e.status == Some(404) {
                return fail(
                    state,
                    job,
                    JobError {
                        category: Category::ProviderError,
                        message:
                            "fal no longer has this result (it expired before it could be stored)."
                                .into(),
                        details: None,
                        request_id: job.request_id.clone(),
                    },
                )
                .await;
            }
            return fail(state, job, provider_to_job(e)).await;
        }
    };
    let files = outputs::find_files(&result);
    if files.is_empty() {
        return fail(
            state,
            job,
            JobError {
                category: Category::ProviderError,
                message: "fal finished but returned no files.".into(),
                details: Some(json!({ "result": result })),
                request_id: job.request_id.clone(),
            },
        )
        .await;
    }
    // More files than any model makes is a broken or hostile result: the job fails before
    // anything is downloaded, rather than storing a part and calling it complete.
    let max_files = state.job_limits.max_output_files;
    if files.len() > max_files {
        return fail(
            state,
            job,
            JobError {
                category: Category::TooLarge,
                message: format!(
                    "fal returned {} files for this generation; this studio stores at most {max_files} per generation (OUTPUT_MAX_FILES), so none were stored. Ask for fewer outputs.",
                    files.len()
                ),
                details: None,
                request_id: job.request_id.clone(),
            },
        )
        .await;
    }
    let mut stored: Vec<StoredOutput> = Vec::new();
    for (index, file) in files.iter().enumerate() {
        let used: u64 = stored.iter().map(|s| s.byte_size).sum();
        let budget = JobBudget {
            remaining: state.job_limits.max_job_output_bytes.saturating_sub(used),
            total: state.job_limits.max_job_output_bytes,
        };
        match store_output(state, job, index, file, budget).await {
            Ok(s) => stored.push(s),
            Err(e) => {
                // Nothing half-done stays behind: the job fails whole and says why.
                for s in &stored {
                    let _ = state.storage.delete(&s.key).await;
                }
                return fail(state, job, e).await;
            }
        }
    }
    let seed = result.get("seed").and_then(Value::as_i64);
    let recorded = store::inference_time(&state.db, &job.id).await?;
    let inference = recorded.or_else(|| {
        result
            .get("timings")
            .and_then(|t| t.get("inference"))
            .and_then(Value::as_f64)
    });
    let prompt = job
        .params()
        .get("prompt")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let result_kinds: Vec<&str> = stored
        .iter()
        .map(|s| outputs::kind_of(&s.content_type))
        .collect();
    let rows: Vec<assets::store::NewOutput<'_>> = stored
        .iter()
        .zip(&result_kinds)
        .map(|(s, kind)| assets::store::NewOutput {
            user_id: &job.user_id,
            job_id: &job.id,
            output_index: s.index as i64,
            endpoint_id: &job.endpoint_id,
            model: &job.model_name,
            prompt: prompt.as_deref(),
            result_kind: kind,
            storage_mode: state.storage.mode(),
            storage_key: &s.key,
            content_type: &s.content_type,
            byte_size: s.byte_size as i64,
            sha256: &s.sha256,
            width: s.width,
            height: s.height,
            output_duration: s.duration,
            inference_time: inference,
            seed,
            params_json: &job.params_json,
            file_name: &s.file_name,
        })
        .collect();
    // The outputs and the job's completion are one step: a crash leaves neither or both.
    let mut tx = crate::db::begin_write(&state.db).await?;
    assets::store::insert_outputs(&mut tx, &rows).await?;
    store::move_to(&mut *tx, &job.id, JobStatus::Completed, None).await?;
    tx.commit().await?;
    tracing::info!(job_id = %job.id, outputs = stored.len(), "job completed");
    publish(state, &job.id).await
}

struct StoredOutput {
    index: usize,
    key: String,
    content_type: String,
    byte_size: u64,
    sha256: String,
    width: Option<i64>,
    height: Option<i64>,
    duration: Option<f64>,
    file_name: String,
}

/// What is left of a job's byte allowance for its outputs together (`OUTPUT_MAX_JOB_MB`).
#[derive(Clone, Copy)]
struct JobBudget {
    remaining: u64,
    total: u64,
}

/// Streams one output into storage under its deterministic key, retrying transient failures.
async fn store_output(
    state: &AppState,
    job: &JobRow,
    index: usize,
    file: &OutputFile,
    budget: JobBudget,
) -> Result<StoredOutput, JobError> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        match try_store_output(state, job, index, file, budget).await {
            Ok(s) => return Ok(s),
            Err((e, retryable)) if retryable && attempt < STORE_TRIES => {
                tracing::warn!(job_id = %job.id, index, attempt, error = %e.message, "storing an output failed; retrying");
                tokio::time::sleep(storage_backoff(state, attempt)).await;
            }
            Err((e, _)) => return Err(e),
        }
    }
}

/// Exponential from `STORAGE_RETRY_BASE_MS`, capped at 30 s.
fn storage_backoff(state: &AppState, attempt: u32) -> Duration {
    state
        .storage_retry_base
        .saturating_mul(1 << attempt.saturating_sub(1).min(8))
        .min(Duration::from_secs(30))
}

async fn try_store_output(
    state: &AppState,
    job: &JobRow,
    index: usize,
    file: &OutputFile,
    budget: JobBudget,
) -> Result<StoredOutput, (JobError, bool)> {
    let err = |category: Category, message: String, retryable: bool| {
        (
            JobError {
                category,
                message,
                details: None,
                request_id: job.request_id.clone(),
            },
            retryable,
        )
    };
    let per_file = state.job_limits.max_output_bytes;
    let limit = per_file.min(budget.remaining);
    // Which limit a refusal names: the file's own, or what is left of the job's total.
    let over = move |size: Option<u64>| {
        let size = size
            .map(|n| format!(" ({} MiB)", n >> 20))
            .unwrap_or_default();
        if limit < per_file {
            format!(
                "Output {}{size} takes this generation's outputs over this studio's limit of {} MiB per generation.",
                index + 1,
                budget.total >> 20
            )
        } else {
            format!(
                "Output {}{size} is over this studio's limit of {} MiB per file.",
                index + 1,
                per_file >> 20
            )
        }
    };
    let head_cap = 64 * 1024;
    let head = Arc::new(Mutex::new(Vec::<u8>::new()));
    let (content_type, stream): (
        String,
        futures_util::stream::BoxStream<'static, Result<Bytes, std::io::Error>>,
    ) = if let Some(data) = file.url.strip_prefix("data:") {
        let (meta, payload) = data.split_once(',').unwrap_or(("", ""));
        let declared = meta
            .split(';')
            .next()
            .filter(|t| !t.is_empty())
            .unwrap_or("application/octet-stream");
        let base64 = meta.ends_with(";base64");
        // What the payload decodes to, at most (base64: 3 bytes per 4 characters), checked
        // before anything is decoded.
        let decoded_max = if base64 {
            payload.trim().len().div_ceil(4) as u64 * 3
        } else {
            payload.len() as u64
        };
        let padding = if base64 {
            payload
                .trim()
                .bytes()
                .rev()
                .take_while(|b| *b == b'=')
                .count() as u64
        } else {
            0
        };
        if decoded_max.saturating_sub(padding) > limit {
            // `over` names the per-file limit or the job's total, whichever this hit.
            return Err(err(Category::TooLarge, over(None), false));
        }
        let bytes = if base64 {
            base64::engine::general_purpose::STANDARD
                .decode(payload.trim())
                .map_err(|_| {
                    err(
                        Category::ProviderError,
                        "fal returned an unreadable inline file.".into(),
                        false,
                    )
                })?
        } else {
            payload.as_bytes().to_vec()
        };
        (
            declared.to_owned(),
            futures_util::stream::iter([Ok(Bytes::from(bytes))]).boxed(),
        )
    } else {
        let response = state.fal.download(&file.url).await.map_err(|e| {
            let expired = e.status == Some(404) || e.status == Some(410);
            let message = if expired {
                format!(
                    "fal's file for output {} has expired and can no longer be stored.",
                    index + 1
                )
            } else {
                format!(
                    "Could not download output {} from fal: {}",
                    index + 1,
                    e.message
                )
            };
            err(
                if expired {
                    Category::ProviderError
                } else {
                    e.category
                },
                message,
                e.retryable || e.category == Category::Network,
            )
        })?;
        let header_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|s| s.split(';').next().unwrap_or(s).trim().to_owned());
        if let Some(len) = response.content_length()
            && len > limit
        {
            return Err(err(Category::TooLarge, over(Some(len)), false));
        }
        let content_type = file
            .content_type
            .clone()
            .or(header_type)
            .unwrap_or_else(|| "application/octet-stream".into());
        (
            content_type,
            response
                .bytes_stream()
                .map_err(std::io::Error::other)
                .boxed(),
        )
    };
    // Keep the first bytes to read the image size or media duration; pass everything on.
    let tap = head.clone();
    let stream = stream.map_ok(move |chunk| {
        let mut h = tap.lock().unwrap_or_else(|p| p.into_inner());
        if h.len() < head_cap {
            let take = (head_cap - h.len()).min(chunk.len());
            h.extend_from_slice(&chunk[..take]);
        }
        chunk
    });
    let content_type = if content_type == "application/octet-stream" {
        outputs::guess_from_url(&file.url).unwrap_or(content_type)
    } else {
        content_type
    };
    let ext = outputs::extension_for(&content_type);
    let key = format!("assets/{}/{}/{index}.{ext}", job.user_id, job.id);
    let put = state
        .storage
        .put_stream(&key, &content_type, Box::pin(stream), limit)
        .await
        .map_err(|e| match e {
            StorageError::TooLarge { .. } => err(Category::TooLarge, over(None), false),
            StorageError::SourceFailed(m) => err(
                Category::Network,
                format!("Could not download output {} from fal: {m}", index + 1),
                true,
            ),
            // Paths and OS errors stay in the log.
            other => {
                tracing::warn!(job_id = %job.id, index, error = %other, "storing an output failed");
                err(
                    Category::Internal,
                    format!(
                        "Output {} could not be stored. {} Retry the job if it failed.",
                        index + 1,
                        crate::storage::UNAVAILABLE_MESSAGE
                    ),
                    true,
                )
            }
        })?;
    let head = head.lock().unwrap_or_else(|p| p.into_inner()).clone();
    let (mut width, mut height) = (file.width, file.height);
    if (width.is_none() || height.is_none())
        && let Some((w, h)) = outputs::image_size(&head)
    {
        width = Some(w);
        height = Some(h);
    }
    let duration = file.duration.or_else(|| {
        matches!(outputs::kind_of(&content_type), "video" | "audio")
            .then(|| outputs::mp4_duration(&head))
            .flatten()
    });
    let file_name = file
        .file_name
        .clone()
        .unwrap_or_else(|| format!("{}-{}.{ext}", job.endpoint_id.replace('/', "-"), index + 1));
    Ok(StoredOutput {
        index,
        key,
        content_type,
        byte_size: put.byte_size,
        sha256: put.sha256_hex,
        width,
        height,
        duration,
        file_name,
    })
}

/// How long a job keeps retrying fal calls that fail transiently (rate limits, 5xx, network)
/// beyond the fal client's own few tries, so a storm of 429s delays jobs instead of failing them.
const PATIENCE: Duration = Duration::from_secs(600);

async fn patiently<T, Fut>(
    state: &AppState,
    job_id: &str,
    what: &str,
    may_repeat: impl Fn(&ProviderError) -> bool,
    call: impl Fn() -> Fut,
) -> Result<T, ProviderError>
where
    Fut: std::future::Future<Output = Result<T, ProviderError>>,
{
    let started = std::time::Instant::now();
    let mut attempt: u32 = 0;
    loop {
        match call().await {
            Ok(v) => return Ok(v),
            Err(e) if e.retryable && may_repeat(&e) && started.elapsed() < PATIENCE => {
                attempt += 1;
                let delay = e
                    .retry_after_secs
                    .map(Duration::from_secs)
                    .unwrap_or_else(|| state.fal_retry_base.saturating_mul(1 << attempt.min(5)))
                    .min(Duration::from_secs(30));
                tracing::warn!(job_id, attempt, error = %e, delay_ms = delay.as_millis() as u64, "fal {what} failed; trying again");
                // A stopping server does not wait out the backoff: the job resumes on restart.
                tokio::select! {
                    _ = tokio::time::sleep(delay) => {},
                    _ = state.runner.stopping().cancelled_owned() => return Err(e),
                }
            }
            Err(e) => return Err(e),
        }
    }
}

/// The input sent to fal: the user's parameters plus each reference's reachable URL.
async fn fal_input(state: &AppState, key: &FalKey, job: &JobRow) -> Result<Value, JobError> {
    let mut input = job.params();
    let refs = store::references(&state.db, &job.id)
        .await
        .map_err(app_error_to_job)?;
    let mut by_field: Vec<(String, bool, Vec<String>)> = Vec::new();
    for r in &refs {
        let url = reachable_url(state, key, r).await?;
        match by_field.iter_mut().find(|(f, _, _)| f == &r.field) {
            Some((_, _, urls)) => urls.push(url),
            None => by_field.push((r.field.clone(), r.multiple == 1, vec![url])),
        }
    }
    for (field, multiple, urls) in by_field {
        let value = if multiple {
            json!(urls)
        } else {
            json!(urls.into_iter().next().unwrap_or_default())
        };
        input.insert(field, value);
    }
    Ok(Value::Object(input))
}

async fn reachable_url(
    state: &AppState,
    key: &FalKey,
    r: &store::ReferenceRow,
) -> Result<String, JobError> {
    let storage_err = |e: StorageError| {
        tracing::warn!(key = %r.storage_key, error = %e, "reading a reference from storage failed");
        JobError {
            category: Category::Internal,
            message: format!(
                "The reference file '{}' could not be read. {} Retry the job.",
                r.file_name,
                crate::storage::UNAVAILABLE_MESSAGE
            ),
            details: None,
            request_id: None,
        }
    };
    let object = state
        .storage
        .get(&r.storage_key, None)
        .await
        .map_err(storage_err)?;
    if r.byte_size <= DATA_URI_MAX {
        let bytes = axum::body::to_bytes(object.body, DATA_URI_MAX as usize + 1)
            .await
            .map_err(|e| storage_err(StorageError::Other(e.to_string())))?;
        return Ok(format!(
            "data:{};base64,{}",
            r.content_type,
            base64::engine::general_purpose::STANDARD.encode(bytes)
        ));
    }
    let target = state
        .fal
        .initiate_upload(key, &r.content_type, &r.file_name)
        .await
        .map_err(provider_to_job)?;
    let body = reqwest::Body::wrap_stream(object.body.into_data_stream());
    state
        .fal
        .put_upload(&target.upload_url, &r.content_type, object.size, body)
        .await
        .map_err(provider_to_job)?;
    Ok(target.file_url)
}

fn parse_queue_url(state: &AppState, url: Option<&str>) -> Option<Url> {
    let url = Url::parse(url?).ok()?;
    state.fal.is_queue_url(&url).then_some(url)
}

async fn user_key(state: &AppState, job: &JobRow) -> Result<FalKey, AppError> {
    let user = users::find_by_id(&state.db, &job.user_id)
        .await?
        .ok_or_else(|| {
            AppError::not_found("The account that started this job no longer exists.")
        })?;
    user_fal_key(state, &user)
}

fn tail_logs(logs: &[Value]) -> Value {
    let start = logs.len().saturating_sub(LOG_LINES);
    let text = |l: &Value, key: &str| l.get(key).and_then(Value::as_str).map(str::to_owned);
    let lines: Vec<store::LogLine> = logs[start..]
        .iter()
        .map(|l| store::LogLine {
            message: text(l, "message").unwrap_or_default(),
            level: text(l, "level").unwrap_or_else(|| "INFO".to_owned()),
            timestamp: text(l, "timestamp"),
        })
        .collect();
    json!(lines)
}

fn provider_to_job(e: ProviderError) -> JobError {
    JobError {
        category: e.category,
        message: e.message,
        details: e.details.map(|d| *d),
        request_id: e.request_id,
    }
}

fn app_error_to_job(e: AppError) -> JobError {
    match e {
        AppError::Client {
            category,
            message,
            details,
            ..
        } => JobError {
            category,
            message,
            details,
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

async fn fail(state: &AppState, job: &JobRow, error: JobError) -> Result<(), AppError> {
    let mut error = error;
    if error.request_id.is_none() {
        error.request_id = job.request_id.clone();
    }
    tracing::info!(job_id = %job.id, category = ?error.category, message = %error.message, "job failed");
    let value = serde_json::to_value(&error).map_err(|e| AppError::Internal(e.into()))?;
    store::move_to(&state.db, &job.id, JobStatus::Failed, Some(&value)).await?;
    publish(state, &job.id).await
}

pub async fn publish(state: &AppState, id: &str) -> Result<(), AppError> {
    if let Some(job) = store::job(&state.db, id).await? {
        let view = store::view(&state.db, &job).await?;
        state.hub.publish(&job.user_id, &view);
    }
    Ok(())
}
