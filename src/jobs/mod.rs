//! Generations: intake, the jobs table and its runner, cancel and retry, groups, spend, and the
//! live event stream.

pub mod event_log;
pub mod events;
pub mod intake;
pub(crate) mod outputs;
pub(crate) mod relay;
pub mod runner;
pub mod status;
pub(crate) mod store;
pub(crate) mod waiting;

pub use events::Hub;
pub use intake::UploadLimits;
pub use runner::{JobLimits, Runner};
pub use status::JobStatus;
pub use store::{
    JobSummary, JobView, ReferenceRow, ReferenceView, reference_of, references_view, summary_of,
};

use std::collections::BTreeMap;

use axum::{
    extract::{DefaultBodyLimit, Multipart, Path, State},
    http::{HeaderMap, StatusCode},
    response::IntoResponse,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    AppState,
    auth::CurrentUser,
    error::{AppError, AppJson, AppQuery, Result},
};

const LIST_LIMIT: i64 = 100;

pub fn router(upload_limits: UploadLimits) -> OpenApiRouter<AppState> {
    // Room for every file at its limit plus the form's text parts.
    let body_limit = (upload_limits.max_total_bytes as usize).saturating_add(1024 * 1024);
    OpenApiRouter::new()
        .merge(
            OpenApiRouter::new()
                .routes(routes!(create))
                .layer(DefaultBodyLimit::max(body_limit)),
        )
        .routes(routes!(list))
        .routes(routes!(clear_finished))
        .routes(routes!(one))
        .routes(routes!(cancel))
        .routes(routes!(retry))
        .routes(routes!(label_group))
        .routes(routes!(cancel_group))
        .routes(routes!(spend))
        .routes(routes!(events))
}

/// The multipart form of `POST /generations`. It is read part by part as it streams in
/// (intake.rs), so this type only describes it.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
struct GenerationForm {
    /// The fal endpoint id. Must come before any file.
    #[schema(example = "fal-ai/bytedance/seedream/v4/text-to-image")]
    endpoint: String,
    /// The form's values as a JSON object (`{}` for none), checked against the endpoint's
    /// spec. Must come before any file.
    #[schema(example = "{\"prompt\":\"a red fox in snow\"}")]
    params: String,
    /// Runs of the same request, 1 to 8 (default 1); they share a group.
    #[schema(minimum = 1, maximum = 8)]
    count: Option<u32>,
    /// Add the jobs to an existing group of this user's (compare runs).
    group_id: Option<String>,
    #[schema(max_length = 120)]
    group_label: Option<String>,
    /// Files for the endpoint's bucket of that name (see the spec's `buckets`); a file part
    /// may also be named after the input field itself, a text part
    /// `reference:<bucket or field>` names a gallery asset id to use instead of an upload, and
    /// `storedReference:<bucket or field>` the id of a reference one of the user's jobs was
    /// given (a job's `references[].id`: remix brings them back without uploading again).
    #[schema(value_type = Option<Vec<String>>, format = Binary)]
    general_references: Option<Vec<Vec<u8>>>,
    #[schema(value_type = Option<String>, format = Binary)]
    first_frame: Option<Vec<u8>>,
    #[schema(value_type = Option<String>, format = Binary)]
    last_frame: Option<Vec<u8>>,
    #[schema(value_type = Option<Vec<String>>, format = Binary)]
    storyboard_reference: Option<Vec<Vec<u8>>>,
}

/// The jobs one request created.
#[derive(Serialize, ToSchema)]
struct Created {
    /// The first of `jobs`.
    job: JobView,
    jobs: Vec<JobView>,
}

#[derive(Serialize, ToSchema)]
struct OneJob {
    job: JobView,
}

#[derive(Serialize, ToSchema)]
struct JobList {
    jobs: Vec<JobView>,
}

/// Starts one or more runs of an endpoint with the given parameters and reference files.
#[utoipa::path(
    post, path = "/generations", operation_id = "createGenerations", tag = "generations",
    request_body(content = GenerationForm, content_type = "multipart/form-data"),
    responses(
        (status = 202, description = "Queued; follow the jobs by `/events` or `/jobs/{id}`.", body = Created),
        (status = 402, description = "The estimate would pass the user's or the studio key's monthly budget (budget_exceeded); `details` has `estimateUsd`, `remainingUsd`, `resetsAt` and `budget`. Nothing was queued.", body = crate::error::ErrorEnvelope),
        (status = 409, description = "No fal key is saved.", body = crate::error::ErrorEnvelope),
        (status = 413, description = "A file, the number of files or their total is over the limit (too_large).", body = crate::error::ErrorEnvelope),
        (status = 422, description = "The endpoint, a parameter or a file does not fit the spec; `details` lists each field.", body = crate::error::ErrorEnvelope),
        (status = 429, description = "The account already has `JOBS_MAX_QUEUED_PER_USER` generations waiting or running (rate_limited); `details` has `active`, `adding` and `limit`.", body = crate::error::ErrorEnvelope),
    ),
)]
async fn create(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    multipart: Multipart,
) -> Result<impl IntoResponse> {
    let chosen = crate::team::keys::key_for(&state, &user).await?;
    let intake = intake::receive(&state, &user, &chosen, multipart).await?;
    let mut jobs = Vec::new();
    for id in &intake.jobs {
        runner::publish(&state, id).await?;
        if let Some(job) = store::job(&state.db, id).await? {
            jobs.push(waiting::view_of(&state, &job).await?);
        }
    }
    if let Some(first) = store::job(&state.db, &intake.jobs[0]).await? {
        crate::catalog::touch_recent_model(&state, &user.id, &first.endpoint_id).await?;
    }
    state.runner.wake();
    let first = jobs
        .first()
        .cloned()
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("intake created no job")))?;
    Ok((StatusCode::ACCEPTED, AppJson(Created { job: first, jobs })))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    /// `1` or `true`: only jobs not finished yet.
    active: Option<String>,
    /// At most this many, newest first (1 to 100, default 50).
    limit: Option<i64>,
}

/// The user's jobs not cleared from the queue, newest first.
#[utoipa::path(
    get, path = "/jobs", operation_id = "listJobs", tag = "generations", params(ListQuery),
    responses((status = 200, body = JobList)),
)]
async fn list(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    AppQuery(query): AppQuery<ListQuery>,
) -> Result<AppJson<JobList>> {
    let active = matches!(query.active.as_deref(), Some("1" | "true"));
    let limit = query.limit.unwrap_or(50).clamp(1, LIST_LIMIT);
    let rows = store::list(&state.db, &user.id, active, limit).await?;
    Ok(AppJson(JobList {
        jobs: waiting::views_of(&state, &rows).await?,
    }))
}

/// Refuses to add `adding` jobs when the user would then have more than `cap` waiting or
/// running. Call it inside the write transaction (`db::begin_write`) that inserts them: parallel
/// requests then count one after another (SQLite's write lock is held from `BEGIN IMMEDIATE`;
/// on Postgres the count locks the user's row). On the pool it is only a first look.
pub(crate) async fn ensure_queue_room(
    conn: impl Into<crate::db::Conn<'_>>,
    user_id: &str,
    adding: usize,
    cap: usize,
) -> Result<()> {
    let active = usize::try_from(store::active_count(conn, user_id).await?).unwrap_or(usize::MAX);
    if active.saturating_add(adding) <= cap {
        return Ok(());
    }
    let message = if adding > 1 && active < cap {
        format!(
            "You have {active} generations waiting or running and this would add {adding}, over \
             the limit of {cap} per account. Ask for fewer runs, or wait for some to finish or \
             cancel some."
        )
    } else {
        format!(
            "You have {active} generations waiting or running, the most this studio allows per \
             account ({cap}). Wait for some to finish or cancel some, then try again."
        )
    };
    Err(
        AppError::new(crate::error::Category::RateLimited, message).with_details(
            crate::error::QueueLimitDetails {
                active,
                adding,
                limit: cap,
            },
        ),
    )
}

async fn owned_job(state: &AppState, user_id: &str, id: &str) -> Result<store::JobRow> {
    store::job_of(&state.db, user_id, id)
        .await?
        .ok_or_else(|| AppError::not_found("There is no such job in your account."))
}

/// One job.
#[utoipa::path(
    get, path = "/jobs/{id}", operation_id = "getJob", tag = "generations",
    params(("id" = String, Path, description = "The job's id")),
    responses(
        (status = 200, body = OneJob),
        (status = 404, description = "No such job in this account.", body = crate::error::ErrorEnvelope),
    ),
)]
async fn one(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
) -> Result<AppJson<OneJob>> {
    let job = owned_job(&state, &user.id, &id).await?;
    Ok(AppJson(OneJob {
        job: waiting::view_of(&state, &job).await?,
    }))
}

/// Cancels every unfinished job of the account (it was disabled: nothing more of it is run or
/// charged); how many there were.
pub async fn cancel_all_of(state: &AppState, user_id: &str) -> Result<usize> {
    // ACTIVE jobs of one account are bounded by its queue cap (JOBS_MAX_QUEUED_PER_USER) plus
    // its running limit: far below this.
    let jobs = store::list(&state.db, user_id, true, 10_000).await?;
    for job in &jobs {
        cancel_job(state, job).await?;
    }
    Ok(jobs.len())
}

/// A queued job is cancelled here and now; a job fal holds is cancelled through fal by the
/// runner (and if fal already finished it, its outputs are stored).
async fn cancel_job(state: &AppState, job: &store::JobRow) -> Result<()> {
    if job.is_finished() {
        return Ok(());
    }
    if !store::transition(&state.db, &job.id, JobStatus::Queued, JobStatus::Cancelled).await? {
        store::request_cancel(&state.db, &job.id).await?;
    }
    runner::publish(state, &job.id).await?;
    state.runner.wake();
    Ok(())
}

/// Cancels a job: at once while it waits here, through fal once fal has it (outputs fal
/// already made are still stored). A finished job is left as it is.
#[utoipa::path(
    post, path = "/jobs/{id}/cancel", operation_id = "cancelJob", tag = "generations",
    params(("id" = String, Path, description = "The job's id")),
    responses(
        (status = 200, description = "The job as it is now.", body = OneJob),
        (status = 404, description = "No such job in this account.", body = crate::error::ErrorEnvelope),
    ),
)]
async fn cancel(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
) -> Result<AppJson<OneJob>> {
    let job = owned_job(&state, &user.id, &id).await?;
    cancel_job(&state, &job).await?;
    let job = owned_job(&state, &user.id, &id).await?;
    Ok(AppJson(OneJob {
        job: waiting::view_of(&state, &job).await?,
    }))
}

/// A new job from the same parameters and stored references, in the same group.
#[utoipa::path(
    post, path = "/jobs/{id}/retry", operation_id = "retryJob", tag = "generations",
    params(("id" = String, Path, description = "The job to run again")),
    responses(
        (status = 202, description = "The new job, queued.", body = OneJob),
        (status = 404, description = "No such job in this account.", body = crate::error::ErrorEnvelope),
        (status = 402, description = "The estimate would pass a monthly budget (budget_exceeded).", body = crate::error::ErrorEnvelope),
        (status = 409, description = "No fal key is saved.", body = crate::error::ErrorEnvelope),
        (status = 429, description = "The account already has `JOBS_MAX_QUEUED_PER_USER` generations waiting or running (rate_limited).", body = crate::error::ErrorEnvelope),
    ),
)]
async fn retry(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
) -> Result<impl IntoResponse> {
    let job = owned_job(&state, &user.id, &id).await?;
    let chosen = crate::team::keys::key_for(&state, &user).await?;
    let new_id = uuid::Uuid::now_v7().to_string();
    let mut tx = crate::db::begin_write(&state.db).await?;
    ensure_queue_room(&mut tx, &user.id, 1, state.job_limits.max_queued_per_user).await?;
    // The estimate is the original's (its settings are the same); the budget is checked anew.
    let estimate = job.estimate.as_ref().map(|e| &e.0);
    let cost_micros =
        crate::team::budget::admit(&mut tx, &chosen.settings, &user, chosen.source, estimate, 1)
            .await?;
    store::copy_job(&mut tx, &job.id, &new_id, JobStatus::Queued).await?;
    store::charge_copy(
        &mut tx,
        &new_id,
        &store::Charge {
            estimate,
            key_source: chosen.source,
            cost_micros,
        },
    )
    .await?;
    tx.commit().await?;
    runner::publish(&state, &new_id).await?;
    state.runner.wake();
    let new_job = owned_job(&state, &user.id, &new_id).await?;
    Ok((
        StatusCode::ACCEPTED,
        AppJson(OneJob {
            job: waiting::view_of(&state, &new_job).await?,
        }),
    ))
}

#[derive(Deserialize, Default, ToSchema)]
#[serde(rename_all = "camelCase")]
struct ClearBody {
    /// Only this group's finished jobs; all of them when absent.
    group_id: Option<String>,
    /// false: failed jobs stay (only completed and cancelled ones go); absent or true: every
    /// finished job.
    include_failed: Option<bool>,
}

#[derive(Serialize, ToSchema)]
struct Cleared {
    /// How many jobs were cleared.
    hidden: u64,
}

/// Clears finished jobs from the queue view; their assets stay in the gallery. The body is
/// optional.
#[utoipa::path(
    post, path = "/jobs/clear-finished", operation_id = "clearFinishedJobs", tag = "generations",
    request_body(content = Option<ClearBody>, content_type = "application/json"),
    responses((status = 200, body = Cleared)),
)]
async fn clear_finished(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    body: axum::body::Bytes,
) -> Result<AppJson<Cleared>> {
    // The body is optional: empty (or null) clears every finished job.
    let body: ClearBody = if body.iter().all(u8::is_ascii_whitespace) {
        ClearBody::default()
    } else {
        serde_json::from_slice::<Option<ClearBody>>(&body)
            .map_err(|e| {
                AppError::invalid_request(format!("The request body has the wrong shape: {e}."))
            })?
            .unwrap_or_default()
    };
    let statuses: &[JobStatus] = if body.include_failed == Some(false) {
        &[JobStatus::Completed, JobStatus::Cancelled]
    } else {
        &JobStatus::FINISHED
    };
    let hidden =
        store::hide_finished(&state.db, &user.id, body.group_id.as_deref(), statuses).await?;
    Ok(AppJson(Cleared { hidden }))
}

#[derive(Deserialize, ToSchema)]
struct LabelBody {
    /// Trimmed and cut to 120 characters; empty removes the label.
    label: String,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct GroupLabel {
    group_id: String,
    label: Option<String>,
}

/// Names a group of jobs.
#[utoipa::path(
    patch, path = "/groups/{id}", operation_id = "labelGroup", tag = "generations",
    params(("id" = String, Path, description = "The group's id")),
    request_body = LabelBody,
    responses(
        (status = 200, body = GroupLabel),
        (status = 404, description = "No such group in this account.", body = crate::error::ErrorEnvelope),
    ),
)]
async fn label_group(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(group_id): Path<String>,
    AppJson(body): AppJson<LabelBody>,
) -> Result<AppJson<GroupLabel>> {
    let label: String = body.label.trim().chars().take(120).collect();
    let label = (!label.is_empty()).then_some(label);
    if store::rename_group(&state.db, &user.id, &group_id, label.as_deref()).await? == 0 {
        return Err(AppError::not_found(
            "There is no such group in your account.",
        ));
    }
    for job in store::group_jobs(&state.db, &user.id, &group_id).await? {
        runner::publish(&state, &job.id).await?;
    }
    Ok(AppJson(GroupLabel { group_id, label }))
}

/// Cancels every unfinished job of a group.
#[utoipa::path(
    post, path = "/groups/{id}/cancel", operation_id = "cancelGroup", tag = "generations",
    params(("id" = String, Path, description = "The group's id")),
    responses(
        (status = 200, description = "The group's jobs as they are now.", body = JobList),
        (status = 404, description = "No such group in this account.", body = crate::error::ErrorEnvelope),
    ),
)]
async fn cancel_group(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(group_id): Path<String>,
) -> Result<AppJson<JobList>> {
    let jobs = store::group_jobs(&state.db, &user.id, &group_id).await?;
    if jobs.is_empty() {
        return Err(AppError::not_found(
            "There is no such group in your account.",
        ));
    }
    for job in &jobs {
        cancel_job(&state, job).await?;
    }
    let group = store::group_jobs(&state.db, &user.id, &group_id).await?;
    Ok(AppJson(JobList {
        jobs: waiting::views_of(&state, &group).await?,
    }))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct SpendQuery {
    /// How many days back, 1 to 366 (default 30).
    days: Option<i64>,
}

#[derive(Serialize, ToSchema)]
struct Spend {
    /// Null when no job had a price.
    currency: Option<String>,
    total: f64,
    #[serde(rename = "byDay")]
    by_day: Vec<DaySpend>,
    /// Most spent first.
    #[serde(rename = "byModel")]
    by_model: Vec<ModelSpend>,
}

#[derive(Serialize, ToSchema)]
struct DaySpend {
    #[schema(example = "2026-11-25")]
    day: String,
    total: f64,
    jobs: u64,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct ModelSpend {
    endpoint_id: String,
    model_name: String,
    total: f64,
    jobs: u64,
}

/// Estimated spend from the estimates jobs kept when they started (failed and cancelled jobs
/// that never ran are left out).
#[utoipa::path(
    get, path = "/spend", operation_id = "getSpend", tag = "generations", params(SpendQuery),
    responses((status = 200, body = Spend)),
)]
async fn spend(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    AppQuery(query): AppQuery<SpendQuery>,
) -> Result<AppJson<Spend>> {
    let days = query.days.unwrap_or(30).clamp(1, 366);
    let rows = store::estimates_since(&state.db, &user.id, days).await?;
    let mut currency: Option<String> = None;
    let mut total = 0.0;
    let mut by_day: BTreeMap<String, (f64, u64)> = BTreeMap::new();
    let mut by_model: BTreeMap<String, (String, f64, u64)> = BTreeMap::new();
    for (day, endpoint, model, estimate) in rows {
        let estimate = estimate.0;
        let cost = estimate.total_cost;
        currency.get_or_insert(estimate.currency);
        total += cost;
        let d = by_day.entry(day).or_default();
        d.0 += cost;
        d.1 += 1;
        let m = by_model.entry(endpoint).or_insert((model, 0.0, 0));
        m.1 += cost;
        m.2 += 1;
    }
    let round = |v: f64| (v * 10_000.0).round() / 10_000.0;
    let mut by_model: Vec<ModelSpend> = by_model
        .into_iter()
        .map(|(endpoint_id, (model_name, cost, jobs))| ModelSpend {
            endpoint_id,
            model_name,
            total: round(cost),
            jobs,
        })
        .collect();
    by_model.sort_by(|a, b| b.total.total_cmp(&a.total));
    Ok(AppJson(Spend {
        currency,
        total: round(total),
        by_day: by_day
            .into_iter()
            .map(|(day, (cost, jobs))| DaySpend {
                day,
                total: round(cost),
                jobs,
            })
            .collect(),
        by_model,
    }))
}

/// Server-sent events: one `job` event (data: a Job as JSON) whenever one of the user's jobs
/// changes. Send `Last-Event-ID` to replay what was missed; a `resync` event means reload the
/// list instead. Comments are sent as heartbeats.
#[utoipa::path(
    get, path = "/events", operation_id = "streamEvents", tag = "generations",
    params(("Last-Event-ID" = Option<String>, Header, description = "The id of the last event received")),
    responses((status = 200, description = "An endless event stream.", content_type = "text/event-stream", body = String)),
)]
async fn events(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    session: tower_sessions::Session,
    headers: HeaderMap,
) -> Result<impl IntoResponse> {
    let last = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let key = crate::auth::session::key_of(&session)
        .ok_or_else(|| AppError::unauthorized("You are not signed in. Sign in and try again."))?;
    let session_ended = state.sessions.ended(key, user.id.clone());
    let shutdown = state.runner.stopping();
    let stop = async move {
        tokio::select! {
            () = session_ended => {}
            () = shutdown.cancelled_owned() => {}
        }
    };
    Ok(state.hub.stream(user.id, last, stop))
}
