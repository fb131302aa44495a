//! A finished request's outputs: fetching fal's result, streaming each output file into
//! storage under its deterministic key, then writing the assets and the job's completion in
//! one transaction.

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::body::Bytes;
use base64::Engine;
use futures_util::{StreamExt, TryStreamExt};
use serde_json::{Value, json};
use url::Url;

use super::{fail, patiently, provider_to_job, publish, tail_logs};
use crate::{
    AppState, assets,
    error::{AppError, Category},
    fal::{FalKey, QueueStatus},
    jobs::{
        outputs::{self, OutputFile},
        status::JobStatus,
        store::{self, JobError, JobRow},
    },
    storage::StorageError,
};

/// Tries at storing one output; with the backoff below this rides out about a minute of
/// storage or CDN trouble before the job fails.
const STORE_TRIES: u32 = 8;

pub(super) async fn completed(
    state: &AppState,
    key: &FalKey,
    job: &JobRow,
    status: QueueStatus,
    response_url: &Url,
) -> Result<(), AppError> {
    let me = state.node.id.as_str();
    if let Some(logs) = status.logs.as_ref() {
        store::record_progress(&state.db, &job.id, me, None, Some(&tail_logs(logs))).await?;
    }
    // A COMPLETED status that carries an error is a failure (or the cancellation we asked for).
    if status.error.is_some() || status.error_type.is_some() {
        if store::cancel_requested(&state.db, &job.id).await? {
            store::move_held(&state.db, &job.id, me, JobStatus::Cancelled, None).await?;
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
    if !store::move_held(&state.db, &job.id, me, JobStatus::Storing, None).await? {
        // Cancelled meanwhile, or another node holds it now: not this driver's to store.
        return Ok(());
    }
    publish(state, &job.id).await?;
    ingest(state, key, job, response_url).await
}

/// Fetches the result, stores every output file, then writes the assets and the job's
/// completion in one transaction.
pub(super) async fn ingest(
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
                // Nothing half-done stays behind: the job fails whole and says why. Only while
                // this node holds the job: a node that lost it would delete what the new holder
                // stores under the same keys.
                if store::holds(&state.db, &job.id, &state.node.id).await? {
                    for s in &stored {
                        let _ = state.storage.delete(&s.key).await;
                    }
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
    // Whatever the endpoint calls its prompt (`text` for speech, an `instruction` for edits).
    let prompt = job
        .params
        .get(job.prompt_field.as_deref().unwrap_or("prompt"))
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
            group_id: &job.group_id,
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
            params: &job.params,
            file_name: &s.file_name,
        })
        .collect();
    // The outputs and the job's completion are one step: a crash leaves neither or both. The
    // completion comes first and only while this node holds the lease, so a node that lost the
    // job adds no assets (the rollback takes nothing back that another node wrote).
    let mut tx = crate::db::begin_write(&state.db).await?;
    if !store::move_held(&mut tx, &job.id, &state.node.id, JobStatus::Completed, None).await? {
        tracing::warn!(job_id = %job.id, "the job's outputs were stored, but this node no longer holds it; the node that does completes it");
        return Ok(());
    }
    store::record_output_count(&mut tx, &job.id, rows.len()).await?;
    assets::store::insert_outputs(&mut tx, &rows).await?;
    tx.commit().await?;
    assets::store::changed();
    assets::thumbnail_worker::wake(state);
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
    let duration = match file.duration {
        Some(d) => Some(d),
        None if content_type == "audio/mpeg" || content_type == "audio/mp3" => {
            outputs::mp3_duration(put.byte_size, &head)
        }
        None if matches!(outputs::kind_of(&content_type), "video" | "audio") => {
            stored_mp4_duration(state, &key, put.byte_size, &head).await
        }
        None => None,
    };
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

/// An MP4's duration from its first bytes, or, when its `moov` box comes after them (a file
/// not written for fast start), from small ranged reads of the stored copy: see
/// `outputs::mp4_duration`. Any failure only leaves the duration unknown.
async fn stored_mp4_duration(state: &AppState, key: &str, size: u64, head: &[u8]) -> Option<f64> {
    outputs::mp4_duration(size, |offset, len| async move {
        let end = offset.checked_add(len)?;
        if let Some(bytes) = usize::try_from(offset)
            .ok()
            .zip(usize::try_from(end).ok())
            .and_then(|(start, end)| head.get(start..end))
        {
            return Some(Bytes::copy_from_slice(bytes));
        }
        let range = crate::storage::ByteRange {
            start: offset,
            end_inclusive: end.checked_sub(1)?,
        };
        let object = match state.storage.get(key, Some(range)).await {
            Ok(object) => object,
            Err(e) => {
                tracing::debug!(key, offset, len, error = %e, "reading an MP4 box for its duration");
                return None;
            }
        };
        // `len` is bounded by `outputs::MAX_MOOV_BYTES`; a short answer is no box.
        let bytes = axum::body::to_bytes(object.body, usize::try_from(len).ok()?)
            .await
            .ok()?;
        (bytes.len() as u64 == len).then_some(bytes)
    })
    .await
}
