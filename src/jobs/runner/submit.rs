//! What fal is sent: the job's parameters with each reference as a URL fal can reach.

use base64::Engine;
use serde_json::{Value, json};

use super::{app_error_to_job, provider_to_job};
use crate::{
    AppState,
    error::Category,
    fal::{FalKey, Retention},
    jobs::store::{self, JobError, JobRow},
    storage::StorageError,
};

/// Small references travel inline as `data:` URIs; larger ones through fal's storage upload.
const DATA_URI_MAX: i64 = 256 * 1024;

/// The input sent to fal: the user's parameters plus each reference's reachable URL.
pub(super) async fn fal_input(
    state: &AppState,
    key: &FalKey,
    retention: &Retention,
    job: &JobRow,
) -> Result<Value, JobError> {
    let mut input = job.params.0.clone();
    let refs = store::references(&state.db, &job.id)
        .await
        .map_err(app_error_to_job)?;
    let mut by_field: Vec<(String, bool, Vec<String>)> = Vec::new();
    for r in &refs {
        let url = reachable_url(state, key, retention, r).await?;
        match by_field.iter_mut().find(|(f, _, _)| f == &r.field) {
            Some((_, _, urls)) => urls.push(url),
            None => by_field.push((r.field.clone(), r.multiple, vec![url])),
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

/// `input` as the job keeps it for its "Request" tab: exactly what fal was sent, except that a
/// reference sent inline as a `data:` URI (up to 256 KiB of base64) is shortened to its type
/// and size.
pub(super) fn as_recorded(input: &Value) -> Value {
    match input {
        Value::String(s) if s.starts_with("data:") && s.len() > 200 => {
            let (meta, payload) = s.split_once(',').unwrap_or((s.as_str(), ""));
            let bytes = payload.len() / 4 * 3;
            Value::String(format!(
                "{meta},… ({} KiB, sent inline)",
                bytes.div_ceil(1024)
            ))
        }
        Value::Array(items) => Value::Array(items.iter().map(as_recorded).collect()),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), as_recorded(v)))
                .collect(),
        ),
        other => other.clone(),
    }
}

async fn reachable_url(
    state: &AppState,
    key: &FalKey,
    retention: &Retention,
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
        .initiate_upload(key, &r.content_type, &r.file_name, retention)
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
