//! The job runner: starts queued jobs within the global and per-user limits, drives each one
//! through fal's queue, stores its outputs, and picks every unfinished job up again after a
//! restart. Each job is driven by exactly one task at a time (the `active` set).
//!
//! Durable points, in order: `submitting` is written before fal is asked; the request id is
//! written the moment fal accepts; outputs go to deterministic storage keys (one per job and
//! output index) and the asset rows and the job's completion are written in one transaction.
//! So a crash anywhere resumes without submitting twice or storing an output twice.
//!
//! Here: the [`Runner`], scheduling within the [`JobLimits`], and the drive loop (submit, poll,
//! cancel). `submit` builds the input fal is sent, `ingest` stores a finished request's outputs,
//! `progress` publishes each change and writes failures.

mod ingest;
mod progress;
mod submit;

use std::{
    collections::{HashMap, HashSet},
    sync::Mutex,
    time::Duration,
};

use tokio::sync::Notify;
use tokio_util::{sync::CancellationToken, task::TaskTracker};
use url::Url;

use ingest::{completed, ingest};
pub use progress::publish;
use progress::{app_error_to_job, fail, provider_to_job, tail_logs};
use submit::fal_input;

use super::{
    status::JobStatus,
    store::{self, JobError, JobRow},
};
use crate::{
    AppState,
    account::user_fal_key,
    error::{AppError, Category},
    fal::{CancelOutcome, FalKey, ProviderError},
    users,
};

const POLL_FIRST: Duration = Duration::from_millis(250);
const POLL_MAX: Duration = Duration::from_secs(3);
/// Consecutive failed polls (each already retried by the fal client) before giving up.
const MAX_POLL_FAILURES: u32 = 20;

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
                            store::record_progress(&state.db, id, position, logs.as_deref())
                                .await?;
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
