//! The job runner: starts queued jobs within the global, per-user and per-key limits, drives
//! each one through fal's queue, stores its outputs, and takes over the jobs of nodes that are
//! gone. Several nodes may run on one database: each drives only the jobs it holds a lease on.
//!
//! Leases: a job fal holds (`submitting`, `running`, `storing`) or one being uploaded
//! (`receiving`) names the node driving it and when that hold expires. The node renews all its
//! leases in one statement every [`Node::tick`]; every durable write of a driver (status moves,
//! the submission, the completing transaction) names the node in its `WHERE`, so a node that
//! lost a job writes nothing to it. A job whose lease expired (its node died) is claimed by any
//! node and resumed from its durable point; a node restarted on the same data folder takes its
//! dead predecessor's jobs at once (see `nodes`). A graceful stop gives the leases back.
//!
//! Durable points, in order: `submitting` is written (with the lease) before fal is asked; the
//! request id the moment fal accepts; outputs go to deterministic storage keys (one per job and
//! output index) and the asset rows and the job's completion are written in one transaction.
//! So a crash anywhere resumes without submitting twice or storing an output twice.
//!
//! Limits: a queued job becomes `submitting` only in the one transaction that serialises starts
//! and counts what fal holds in the database, globally, per user and per fal key
//! (`store::start_queued`), so nodes together never pass them; past them jobs wait, in order.
//!
//! Here: the [`Runner`], the scheduler, the lease keeper, and the drive loop (submit, poll,
//! cancel). `submit` builds the input fal is sent, `ingest` stores a finished request's outputs,
//! `progress` publishes each change and writes failures.

mod ingest;
mod progress;
mod submit;

use std::{
    collections::{HashMap, HashSet},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
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
    store::{self, JobError, JobRow, PendingJob, StartCandidate, StartLimits},
    waiting::{at_fal, fair_order},
};
use crate::{
    AppState,
    db::Db,
    error::{AppError, Category},
    fal::{CancelOutcome, FalKey, ProviderError, Retention},
    nodes::{self, Node},
    team::{self, KeySource},
    users,
};

const POLL_FIRST: Duration = Duration::from_millis(250);
const POLL_MAX: Duration = Duration::from_secs(3);
/// Consecutive failed polls (each already retried by the fal client) before giving up.
const MAX_POLL_FAILURES: u32 = 20;

#[derive(Debug, Clone, Copy)]
pub struct JobLimits {
    /// Jobs fal holds at once, over all nodes.
    pub max_running: usize,
    pub max_running_per_user: usize,
    /// Jobs one user may have waiting or running (queued, submitting, running, storing).
    pub max_queued_per_user: usize,
    /// Requests one fal key may have at fal at once when its owner set no limit of their own.
    pub key_concurrency: usize,
    pub max_output_bytes: u64,
    /// Files one result may list.
    pub max_output_files: usize,
    /// All outputs of one job together.
    pub max_job_output_bytes: u64,
}

/// How a driver came by its job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Claim {
    /// This node just moved it from the queue to `submitting`: it is to be sent to fal.
    Started,
    /// Taken over where another driver left it (a node that died, or one of this node's
    /// drivers that stopped): resumed from its durable point, never sent twice.
    Resumed,
}

/// A job this node drives.
struct Driving {
    /// When the driver started: a renewal that began before it cannot have seen its lease.
    since: Instant,
    /// Cancelled when the lease is lost (or may have lapsed): the driver stops at once,
    /// writing nothing.
    lease: CancellationToken,
}

pub struct Runner {
    wake: Notify,
    active: Mutex<HashMap<String, Driving>>,
    /// Cancelled when the server stops: no submission, poll or store starts after it; what is
    /// left resumes on the next start (or on another node).
    stopping: CancellationToken,
    drivers: TaskTracker,
    db: Db,
    node: Arc<Node>,
    /// Whose turn came longest ago, for the round-robin between users.
    pub turns: super::waiting::Turns,
}

impl Runner {
    pub fn new(db: Db, node: Arc<Node>) -> Self {
        Runner {
            wake: Notify::new(),
            active: Mutex::new(HashMap::new()),
            stopping: CancellationToken::new(),
            drivers: TaskTracker::new(),
            db,
            node,
            turns: super::waiting::Turns::default(),
        }
    }

    /// Starts a graceful stop: the scheduler stops, and each job's driver stops at its next
    /// step, except that a submission or a store already under way is finished. Leases are
    /// renewed until the last driver has returned.
    pub fn stop(&self) {
        self.stopping.cancel();
        self.drivers.close();
    }

    /// Cancelled once [`Runner::stop`] is called.
    pub fn stopping(&self) -> CancellationToken {
        self.stopping.clone()
    }

    /// Resolves when every driver has returned after [`Runner::stop`], once this node has given
    /// its leases back and marked itself stopped, so other nodes (or the next start) take its
    /// jobs over at once. Not awaited (a stop cut short), the leases simply expire.
    pub async fn stopped(&self) {
        self.drivers.wait().await;
        match store::release_leases(&self.db, &self.node.id, store::Release::Driven).await {
            Ok(n) => tracing::info!(
                jobs = n,
                "gave this node's jobs back for other nodes or the next start"
            ),
            Err(e) => {
                tracing::warn!(error = %e, "could not give this node's jobs back; they move on when their leases expire")
            }
        }
        if let Err(e) = nodes::leave(&self.db, &self.node).await {
            tracing::warn!(error = %e, "could not mark this node stopped");
        }
    }

    pub fn is_stopping(&self) -> bool {
        self.stopping.is_cancelled()
    }

    /// Asks the scheduler to look at the queue now (a job was added, finished or cancelled).
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// How many jobs this node's drivers work on now.
    pub fn driving(&self) -> usize {
        self.active().len()
    }

    fn active(&self) -> std::sync::MutexGuard<'_, HashMap<String, Driving>> {
        self.active.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Registers a driver for `id`; `None` when one already runs.
    fn claim(&self, id: &str) -> Option<CancellationToken> {
        let mut active = self.active();
        if active.contains_key(id) {
            return None;
        }
        let lease = CancellationToken::new();
        active.insert(
            id.to_owned(),
            Driving {
                since: Instant::now(),
                lease: lease.clone(),
            },
        );
        Some(lease)
    }

    fn release(&self, id: &str) {
        self.active().remove(id);
    }

    /// The jobs driven here that a renewal begun at `began` did not find held: lost, or just
    /// finished (a finished job holds no lease).
    fn unheld(&self, held: &HashSet<String>, began: Instant) -> Vec<String> {
        self.active()
            .iter()
            .filter(|(id, d)| d.since < began && !held.contains(*id) && !d.lease.is_cancelled())
            .map(|(id, _)| id.clone())
            .collect()
    }

    /// Stops the drivers of `ids` at once.
    fn drop_lost(&self, ids: &[String]) {
        let active = self.active();
        for id in ids {
            if let Some(driving) = active.get(id) {
                tracing::warn!(job_id = %id, "this node no longer holds the job's lease; stopping its driver");
                driving.lease.cancel();
            }
        }
    }

    /// Stops every driver: the leases may lapse before they can be renewed.
    fn abandon_all(&self) {
        for driving in self.active().values() {
            driving.lease.cancel();
        }
    }
}

/// Schedules forever: takes over what dead nodes left, starts queued jobs, and keeps this
/// node's leases (and heartbeat) alive until the last driver has returned after a stop.
pub async fn run(state: AppState) {
    let predecessors = state.node.take_predecessors();
    for id in &predecessors {
        match store::release_leases(&state.db, id, store::Release::All).await {
            Ok(n) => {
                tracing::info!(node_id = %id, jobs = n, "freed the jobs of a node of this data folder that died")
            }
            Err(e) => {
                tracing::error!(node_id = %id, error = %e, "could not free a dead node's jobs; they move on when their leases expire")
            }
        }
    }
    tokio::spawn(keep_leases(state.clone()));
    while !state.runner.is_stopping() {
        if let Err(e) = schedule(&state).await {
            tracing::error!(error = format!("{e:#}"), "job scheduling failed");
        }
        tokio::select! {
            _ = state.runner.wake.notified() => {},
            _ = tokio::time::sleep(Duration::from_secs(1)) => {},
            _ = state.runner.stopping.cancelled() => {},
        }
    }
}

/// The heartbeat and the renewal of every lease, each one statement per tick. A node that cannot
/// renew for two thirds of a lease stops its drivers before the leases can lapse and another node
/// takes them; it takes them up again (if still its own) once the database answers.
async fn keep_leases(state: AppState) {
    let runner = &state.runner;
    let node = &state.node;
    let mut renewed = Instant::now();
    let drained = async {
        runner.stopping.cancelled().await;
        runner.drivers.wait().await;
    };
    tokio::pin!(drained);
    loop {
        tokio::select! {
            _ = tokio::time::sleep(node.tick) => {},
            _ = &mut drained => return,
        }
        let began = Instant::now();
        if let Err(e) = nodes::heartbeat(&state.db, node).await {
            tracing::warn!(error = format!("{e:#}"), "node heartbeat failed");
        }
        match store::renew_leases(&state.db, node).await {
            Ok(held) => {
                renewed = began;
                let unheld = runner.unheld(&held.into_iter().collect(), began);
                if !unheld.is_empty() {
                    // Told apart from the ones that just finished (whose drivers must be left to
                    // publish that) by what the database says now.
                    let unheld: Vec<&str> = unheld.iter().map(String::as_str).collect();
                    match store::taken_from(&state.db, &node.id, &unheld).await {
                        Ok(lost) => runner.drop_lost(&lost),
                        Err(e) => tracing::warn!(
                            error = format!("{e:#}"),
                            "could not check the jobs whose leases were not renewed"
                        ),
                    }
                }
            }
            Err(e) => {
                tracing::warn!(
                    error = format!("{e:#}"),
                    "renewing this node's job leases failed"
                );
                if began.duration_since(renewed) >= node.lease * 2 / 3 {
                    tracing::error!(
                        "job leases could not be renewed for two thirds of JOB_LEASE_SECONDS; stopping every driver before another node may take the jobs"
                    );
                    runner.abandon_all();
                }
            }
        }
    }
}

async fn schedule(state: &AppState) -> Result<(), AppError> {
    let jobs = store::unfinished(&state.db).await?;
    let me = state.node.id.as_str();
    let orphans: Vec<&str> = {
        let active = state.runner.active();
        jobs.iter()
            .filter(|j| !active.contains_key(&j.id))
            .filter(|j| match j.status {
                // Another node's upload, or one cut off here: only once its lease is gone.
                JobStatus::Receiving => j.lapsed,
                JobStatus::Submitting | JobStatus::Running | JobStatus::Storing => {
                    j.lapsed || j.lease_owner.as_deref() == Some(me)
                }
                _ => false,
            })
            .map(|j| j.id.as_str())
            .collect()
    };
    if state.runner.is_stopping() {
        return Ok(());
    }
    for id in store::claim(&state.db, &state.node, &orphans).await? {
        spawn_driver(state, id, Claim::Resumed);
    }
    start_queued(state, &jobs).await
}

/// Starts the queued jobs that fit the limits, as far as `jobs` (the scheduler's read) shows;
/// `store::start_queued` counts again, authoritatively, as it starts them.
async fn start_queued(state: &AppState, jobs: &[PendingJob]) -> Result<(), AppError> {
    let limits = state.job_limits;
    let held: Vec<&PendingJob> = jobs.iter().filter(|j| at_fal(j)).collect();
    if held.len() >= limits.max_running {
        return Ok(());
    }
    let mut per_user: HashMap<&str, usize> = HashMap::new();
    let mut per_key: HashMap<&str, usize> = HashMap::new();
    for j in &held {
        *per_user.entry(j.user_id.as_str()).or_default() += 1;
        if let Some(key) = j.key_fingerprint.as_deref() {
            *per_key.entry(key).or_default() += 1;
        }
    }
    let queued: Vec<&PendingJob> = jobs
        .iter()
        .filter(|j| j.status == JobStatus::Queued)
        .filter(|j| {
            per_user.get(j.user_id.as_str()).copied().unwrap_or(0) < limits.max_running_per_user
        })
        .collect();
    if queued.is_empty() {
        return Ok(());
    }
    // Each job's key decides which per-key limit it counts against: its user's own, or the
    // studio key shared by everyone allowed it.
    let mut user_ids: Vec<&str> = queued.iter().map(|j| j.user_id.as_str()).collect();
    user_ids.sort_unstable();
    user_ids.dedup();
    let own_keys: HashMap<String, (Option<String>, usize)> = users::keys_of(&state.db, &user_ids)
        .await?
        .into_iter()
        .map(|row| {
            let fingerprint = row.fal_key_ciphertext.as_deref().and_then(|stored| {
                state
                    .cipher
                    .decrypt(stored, &row.id)
                    .ok()
                    .map(|key| crate::catalog::key_fingerprint(Some(&FalKey::new(key))))
            });
            let limit = row
                .fal_key_concurrency
                .and_then(|n| usize::try_from(n).ok())
                .unwrap_or(limits.key_concurrency);
            (row.id, (fingerprint, limit))
        })
        .collect();
    let studio_key: (Option<String>, usize) = if queued
        .iter()
        .any(|j| j.key_source == Some(KeySource::Studio))
    {
        let settings = team::settings::load(&state.db).await?;
        let fingerprint = team::keys::studio_key(state, &settings)
            .ok()
            .map(|key| crate::catalog::key_fingerprint(Some(&key)));
        (fingerprint, settings.key_limit(limits.key_concurrency))
    } else {
        (None, limits.key_concurrency)
    };
    let key_of = |j: &PendingJob| -> (Option<&str>, usize) {
        if j.key_source == Some(KeySource::Studio) {
            (studio_key.0.as_deref(), studio_key.1)
        } else {
            own_keys
                .get(&j.user_id)
                .map(|(k, l)| (k.as_deref(), *l))
                .unwrap_or((None, limits.key_concurrency))
        }
    };
    let last_started = state.runner.turns.snapshot();
    let candidates: Vec<StartCandidate<'_>> = fair_order(&queued, &per_user, &last_started)
        .into_iter()
        .map(|j| {
            let (key, key_limit) = key_of(j);
            StartCandidate {
                id: &j.id,
                user_id: &j.user_id,
                key,
                key_limit,
            }
        })
        .filter(|c| {
            c.key
                .is_none_or(|k| per_key.get(k).copied().unwrap_or(0) < c.key_limit)
        })
        .collect();
    let started = store::start_queued(
        &state.db,
        &state.node,
        &candidates,
        StartLimits {
            global: limits.max_running,
            per_user: limits.max_running_per_user,
        },
    )
    .await?;
    let moved_up = !started.is_empty();
    state.runner.turns.note_started(
        candidates
            .iter()
            .filter(|c| started.iter().any(|id| id == c.id))
            .map(|c| c.user_id),
    );
    for id in &started {
        spawn_driver(state, id.clone(), Claim::Started);
    }
    if moved_up {
        // The jobs still waiting moved up a place: tell their owners (their wait reasons say
        // where they are in line). Bounded: the first in line are the ones whose turn is near.
        let waiting: Vec<&str> = queued
            .iter()
            .filter(|j| !started.contains(&j.id))
            .take(MAX_REANNOUNCED)
            .map(|j| j.id.as_str())
            .collect();
        progress::publish_all(state, &waiting).await?;
    }
    Ok(())
}

/// Queued jobs told of their new place in line after a start.
const MAX_REANNOUNCED: usize = 50;

/// Drives `id` in a task of its own, which stops at once, writing nothing, if the lease is lost.
fn spawn_driver(state: &AppState, id: String, claim: Claim) {
    let Some(lease) = state.runner.claim(&id) else {
        return;
    };
    let state = state.clone();
    state.runner.drivers.clone().spawn(async move {
        let outcome = tokio::select! {
            outcome = drive(&state, &id, claim) => outcome,
            () = lease.cancelled() => {
                tracing::warn!(job_id = %id, "stopped driving the job: this node's lease on it is lost or may lapse; the node holding it carries on");
                Ok(())
            }
        };
        if let Err(e) = outcome {
            // `{:#}` keeps the causes ("database: database is locked"), not just the outer
            // context.
            tracing::error!(job_id = %id, error = format!("{e:#}"), "job driver stopped");
        }
        state.runner.release(&id);
        state.runner.wake();
    });
}

/// Takes one job this node holds from wherever it is to a finished state.
async fn drive(state: &AppState, id: &str, claim: Claim) -> Result<(), AppError> {
    let Some(mut job) = store::job(&state.db, id).await? else {
        return Ok(());
    };
    let me = state.node.id.as_str();
    match (job.status, claim, job.request_id.is_some()) {
        _ if job.is_finished() => return Ok(()),
        // Cut off while its files were arriving: nothing was promised; remove it whole.
        (JobStatus::Receiving, _, _) => return super::intake::discard(state, id).await,
        // fal may or may not have received it: never send it twice, say so instead.
        (JobStatus::Submitting, Claim::Resumed, false) => {
            return fail(
                state,
                &job,
                JobError {
                    category: Category::Network,
                    message: "The server stopped while sending this job to fal, so it is not known whether fal received it. Retry it if no result appears in your fal dashboard.".into(),
                    details: None,
                    request_id: None,
                },
            )
            .await;
        }
        (JobStatus::Queued, _, _) => return Ok(()), // started by nobody: not this driver's
        _ => {}
    }
    if state.runner.is_stopping() {
        if job.status == JobStatus::Submitting && job.request_id.is_none() {
            // Not sent yet: back to the queue, for the next start or another node.
            store::transition_held(&state.db, id, me, JobStatus::Submitting, JobStatus::Queued)
                .await?;
        }
        return Ok(());
    }
    let (key, retention) = match job_key(state, &job).await {
        Ok(k) => k,
        Err(e) => return fail(state, &job, app_error_to_job(e)).await,
    };

    if job.status == JobStatus::Submitting && job.request_id.is_none() {
        if job.cancel_requested {
            store::move_held(&state.db, id, me, JobStatus::Cancelled, None).await?;
            return publish(state, id).await;
        }
        publish(state, id).await?;
        let input = match fal_input(state, &key, &retention, &job).await {
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
            || state.fal.submit(&key, &job.endpoint_id, &input, &retention),
        )
        .await;
        match submitted {
            Ok(submitted) => {
                let urls = state.fal.request_urls(&job.endpoint_id, &submitted);
                let recorded = store::record_submission(
                    &state.db,
                    id,
                    me,
                    &submitted.request_id,
                    &urls,
                    submitted.queue_position,
                    &submit::as_recorded(&input),
                )
                .await?;
                if !recorded {
                    // The lease went while fal answered: whoever holds the job now sees it
                    // unsent and says it is unknown whether fal got it, rather than send twice.
                    tracing::warn!(job_id = %id, fal_request_id = %submitted.request_id, "fal accepted the job after this node lost its lease; not recorded here");
                    return Ok(());
                }
                tracing::info!(job_id = %id, fal_request_id = %submitted.request_id, "submitted to fal");
                publish(state, id).await?;
            }
            Err(_) if state.runner.stopping().is_cancelled() => {
                // fal refused it (that is all `patiently` repeats), so it can wait in the
                // queue for the next start.
                store::transition_held(&state.db, id, me, JobStatus::Submitting, JobStatus::Queued)
                    .await?;
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
                    store::move_held(&state.db, id, me, JobStatus::Cancelled, None).await?;
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
                            store::record_progress(&state.db, id, me, position, logs.as_deref())
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

/// How many jobs this node holds (for `/healthz`).
pub async fn held_here(state: &AppState) -> Result<i64, AppError> {
    store::held_count(&state.db, &state.node.id).await
}

/// A job some node holds (for `fal-studio admin nodes`).
pub use store::Holding;

/// Every held job by owner, and how many wait in the queue (for `fal-studio admin nodes`).
pub async fn holdings(db: &Db) -> Result<(Vec<Holding>, i64), AppError> {
    Ok((store::holdings(db).await?, store::queued_count(db).await?))
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
        let answer = call().await;
        if attempt > 0 && !matches!(&answer, Err(e) if e.retryable) {
            // fal answered (or failed for good): the card stops saying it is being retried.
            note_trouble(state, job_id, None).await;
        }
        match answer {
            Ok(v) => return Ok(v),
            Err(e) if e.retryable && may_repeat(&e) && started.elapsed() < PATIENCE => {
                attempt += 1;
                let delay = e
                    .retry_after_secs
                    .map(Duration::from_secs)
                    .unwrap_or_else(|| state.fal_retry_base.saturating_mul(1 << attempt.min(5)))
                    .min(Duration::from_secs(30));
                tracing::warn!(job_id, attempt, error = %e, delay_ms = delay.as_millis() as u64, "fal {what} failed; trying again");
                note_trouble(state, job_id, Some(&trouble_note(&e, attempt + 1, delay))).await;
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

/// "fal is unavailable (503), trying again: attempt 3, next in 8 s".
fn trouble_note(e: &ProviderError, next_attempt: u32, delay: Duration) -> String {
    let what = match e.status {
        Some(429) => "fal is limiting requests (429)".to_owned(),
        Some(status) => format!("fal is unavailable ({status})"),
        None => "fal cannot be reached".to_owned(),
    };
    let secs = delay.as_secs_f64().ceil().max(1.0) as u64;
    format!("{what}, trying again: attempt {next_attempt}, next in {secs} s")
}

/// Records and announces the note; a failure to do so only costs the card its words.
async fn note_trouble(state: &AppState, job_id: &str, note: Option<&str>) {
    if let Err(e) = store::set_provider_trouble(&state.db, job_id, note).await {
        tracing::warn!(job_id, error = %e, "could not note fal's trouble on the job");
        return;
    }
    if let Err(e) = publish(state, job_id).await {
        tracing::warn!(job_id, error = %e, "could not announce fal's trouble");
    }
}

fn parse_queue_url(state: &AppState, url: Option<&str>) -> Option<Url> {
    let url = Url::parse(url?).ok()?;
    state.fal.is_queue_url(&url).then_some(url)
}

/// The key the job was queued to run on, as it is now (see `team::keys::key_of_source`), and
/// what fal may keep of its request, as the studio's settings say now.
async fn job_key(state: &AppState, job: &JobRow) -> Result<(FalKey, Retention), AppError> {
    let user = users::find_by_id(&state.db, &job.user_id)
        .await?
        .ok_or_else(|| {
            AppError::not_found("The account that started this job no longer exists.")
        })?;
    let settings = team::settings::load(&state.db).await?;
    let key = team::keys::key_of_source(state, &user, &settings, job.key_source)?;
    Ok((key, settings.retention()))
}
