//! Generations: intake, the jobs table and its runner, cancel and retry, groups, spend, and the
//! live event stream.

pub mod events;
pub mod intake;
mod outputs;
pub mod runner;
mod store;

pub use events::Hub;
pub use intake::UploadLimits;
pub use runner::{JobLimits, Runner};
pub use store::{ReferenceRow, reference_of, references_view};

use std::collections::BTreeMap;

use axum::{
    Router,
    extract::{DefaultBodyLimit, Multipart, Path, State},
    http::{HeaderMap, StatusCode},
    response::IntoResponse,
    routing::{get, patch, post},
};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::{
    AppState,
    account::user_fal_key,
    auth::CurrentUser,
    error::{AppError, AppJson, AppQuery, Result},
};

const LIST_LIMIT: i64 = 100;

pub fn router(upload_limits: UploadLimits) -> Router<AppState> {
    // Room for every file at its limit plus the form's text parts.
    let body_limit = (upload_limits.max_total_bytes as usize).saturating_add(1024 * 1024);
    Router::new()
        .route(
            "/generations",
            post(create).layer(DefaultBodyLimit::max(body_limit)),
        )
        .route("/jobs", get(list))
        .route("/jobs/clear-finished", post(clear_finished))
        .route("/jobs/{id}", get(one))
        .route("/jobs/{id}/cancel", post(cancel))
        .route("/jobs/{id}/retry", post(retry))
        .route("/groups/{id}", patch(label_group))
        .route("/groups/{id}/cancel", post(cancel_group))
        .route("/spend", get(spend))
        .route("/events", get(events))
}

async fn create(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    multipart: Multipart,
) -> Result<impl IntoResponse> {
    let key = user_fal_key(&state, &user)?;
    let intake = intake::receive(&state, &user, &key, multipart).await?;
    let mut jobs = Vec::new();
    for id in &intake.jobs {
        runner::publish(&state, id).await?;
        if let Some(job) = store::job(&state.db, id).await? {
            jobs.push(store::view(&state.db, &job).await?);
        }
    }
    if let Some(first) = store::job(&state.db, &intake.jobs[0]).await? {
        crate::catalog::touch_recent_model(&state, &user.id, &first.endpoint_id).await?;
    }
    state.runner.wake();
    let first = jobs.first().cloned().unwrap_or(Value::Null);
    Ok((
        StatusCode::ACCEPTED,
        AppJson(json!({ "job": first, "jobs": jobs })),
    ))
}

#[derive(Deserialize)]
struct ListQuery {
    active: Option<String>,
    limit: Option<i64>,
}

async fn list(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    AppQuery(query): AppQuery<ListQuery>,
) -> Result<AppJson<Value>> {
    let active = matches!(query.active.as_deref(), Some("1" | "true"));
    let limit = query.limit.unwrap_or(50).clamp(1, LIST_LIMIT);
    let rows = store::list(&state.db, &user.id, active, limit).await?;
    let mut jobs = Vec::with_capacity(rows.len());
    for row in &rows {
        jobs.push(store::view(&state.db, row).await?);
    }
    Ok(AppJson(json!({ "jobs": jobs })))
}

async fn owned_job(state: &AppState, user_id: &str, id: &str) -> Result<store::JobRow> {
    store::job_of(&state.db, user_id, id)
        .await?
        .ok_or_else(|| AppError::not_found("There is no such job in your account."))
}

async fn one(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
) -> Result<AppJson<Value>> {
    let job = owned_job(&state, &user.id, &id).await?;
    Ok(AppJson(
        json!({ "job": store::view(&state.db, &job).await? }),
    ))
}

/// A queued job is cancelled here and now; a job fal holds is cancelled through fal by the
/// runner (and if fal already finished it, its outputs are stored).
async fn cancel_job(state: &AppState, job: &store::JobRow) -> Result<()> {
    if job.is_finished() {
        return Ok(());
    }
    if store::transition(&state.db, &job.id, "queued", "cancelled").await? {
        sqlx::query(
            "UPDATE jobs SET finished_at = strftime('%Y-%m-%dT%H:%M:%fZ','now') WHERE id = ?",
        )
        .bind(&job.id)
        .execute(&state.db)
        .await?;
    } else {
        store::request_cancel(&state.db, &job.id).await?;
    }
    runner::publish(state, &job.id).await?;
    state.runner.wake();
    Ok(())
}

async fn cancel(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
) -> Result<AppJson<Value>> {
    let job = owned_job(&state, &user.id, &id).await?;
    cancel_job(&state, &job).await?;
    let job = owned_job(&state, &user.id, &id).await?;
    Ok(AppJson(
        json!({ "job": store::view(&state.db, &job).await? }),
    ))
}

/// A new job from the same parameters and stored references, in the same group.
async fn retry(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
) -> Result<impl IntoResponse> {
    let job = owned_job(&state, &user.id, &id).await?;
    user_fal_key(&state, &user)?;
    let new_id = uuid::Uuid::now_v7().to_string();
    let mut tx = state.db.begin().await?;
    store::copy_job(&mut tx, &job.id, &new_id, "queued").await?;
    tx.commit().await?;
    runner::publish(&state, &new_id).await?;
    state.runner.wake();
    let new_job = owned_job(&state, &user.id, &new_id).await?;
    Ok((
        StatusCode::ACCEPTED,
        AppJson(json!({ "job": store::view(&state.db, &new_job).await? })),
    ))
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct ClearBody {
    group_id: Option<String>,
}

async fn clear_finished(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    body: axum::body::Bytes,
) -> Result<AppJson<Value>> {
    // The body is optional: empty clears every finished job.
    let body: ClearBody = if body.iter().all(u8::is_ascii_whitespace) {
        ClearBody::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| {
            AppError::invalid_request(format!("The request body has the wrong shape: {e}."))
        })?
    };
    let group = body.group_id;
    let done = sqlx::query(
        "UPDATE jobs SET hidden = 1 WHERE user_id = ? AND status IN ('completed','failed','cancelled') \
         AND hidden = 0 AND (? IS NULL OR group_id = ?)",
    )
    .bind(&user.id)
    .bind(&group)
    .bind(&group)
    .execute(&state.db)
    .await?;
    Ok(AppJson(json!({ "hidden": done.rows_affected() })))
}

#[derive(Deserialize)]
struct LabelBody {
    label: String,
}

async fn label_group(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(group_id): Path<String>,
    AppJson(body): AppJson<LabelBody>,
) -> Result<AppJson<Value>> {
    let label: String = body.label.trim().chars().take(120).collect();
    let label = (!label.is_empty()).then_some(label);
    let done = sqlx::query("UPDATE jobs SET group_label = ? WHERE user_id = ? AND group_id = ?")
        .bind(&label)
        .bind(&user.id)
        .bind(&group_id)
        .execute(&state.db)
        .await?;
    if done.rows_affected() == 0 {
        return Err(AppError::not_found(
            "There is no such group in your account.",
        ));
    }
    for job in store::group_jobs(&state.db, &user.id, &group_id).await? {
        runner::publish(&state, &job.id).await?;
    }
    Ok(AppJson(json!({ "groupId": group_id, "label": label })))
}

async fn cancel_group(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(group_id): Path<String>,
) -> Result<AppJson<Value>> {
    let jobs = store::group_jobs(&state.db, &user.id, &group_id).await?;
    if jobs.is_empty() {
        return Err(AppError::not_found(
            "There is no such group in your account.",
        ));
    }
    for job in &jobs {
        cancel_job(&state, job).await?;
    }
    let mut views = Vec::new();
    for job in store::group_jobs(&state.db, &user.id, &group_id).await? {
        views.push(store::view(&state.db, &job).await?);
    }
    Ok(AppJson(json!({ "jobs": views })))
}

#[derive(Deserialize)]
struct SpendQuery {
    days: Option<i64>,
}

/// Estimated spend from the estimates jobs kept when they started (failed and cancelled jobs
/// that never ran are left out).
async fn spend(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    AppQuery(query): AppQuery<SpendQuery>,
) -> Result<AppJson<Value>> {
    let days = query.days.unwrap_or(30).clamp(1, 366);
    let rows: Vec<(String, String, String, String)> = sqlx::query_as(
        "SELECT substr(created_at, 1, 10), endpoint_id, model_name, estimate_json FROM jobs \
         WHERE user_id = ? AND estimate_json IS NOT NULL AND request_id IS NOT NULL \
         AND created_at >= strftime('%Y-%m-%dT%H:%M:%fZ', 'now', ?) ORDER BY created_at",
    )
    .bind(&user.id)
    .bind(format!("-{days} days"))
    .fetch_all(&state.db)
    .await?;
    let mut currency: Option<String> = None;
    let mut total = 0.0;
    let mut by_day: BTreeMap<String, (f64, u64)> = BTreeMap::new();
    let mut by_model: BTreeMap<String, (String, f64, u64)> = BTreeMap::new();
    for (day, endpoint, model, estimate) in rows {
        let Ok(e) = serde_json::from_str::<Value>(&estimate) else {
            continue;
        };
        let Some(cost) = e["totalCost"].as_f64() else {
            continue;
        };
        currency.get_or_insert_with(|| e["currency"].as_str().unwrap_or("USD").to_owned());
        total += cost;
        let d = by_day.entry(day).or_default();
        d.0 += cost;
        d.1 += 1;
        let m = by_model.entry(endpoint).or_insert((model, 0.0, 0));
        m.1 += cost;
        m.2 += 1;
    }
    let round = |v: f64| (v * 10_000.0).round() / 10_000.0;
    let mut models: Vec<Value> = by_model
        .into_iter()
        .map(|(endpoint, (name, cost, jobs))| {
            json!({ "endpointId": endpoint, "modelName": name, "total": round(cost), "jobs": jobs })
        })
        .collect();
    models.sort_by(|a, b| {
        b["total"]
            .as_f64()
            .partial_cmp(&a["total"].as_f64())
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    Ok(AppJson(json!({
        "currency": currency,
        "total": round(total),
        "byDay": by_day.into_iter().map(|(day, (cost, jobs))| json!({ "day": day, "total": round(cost), "jobs": jobs })).collect::<Vec<_>>(),
        "byModel": models,
    })))
}

async fn events(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    headers: HeaderMap,
) -> impl IntoResponse {
    let last = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    state.hub.stream(user.id, last, state.runner.stopping())
}
