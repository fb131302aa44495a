//! Stored outputs as clients see them, and the file routes that stream them (and the reference
//! files of jobs) from storage to their owner, with ranges, ETags and download names.

use axum::{
    Router,
    body::Body,
    extract::{Path, Query, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};
use serde::Deserialize;
use serde_json::{Value, json};
use sqlx::{FromRow, SqlitePool};

use crate::{
    AppState,
    auth::CurrentUser,
    error::{AppError, Result},
    jobs,
    storage::{self, RangeDecision, StorageError},
};

#[derive(Debug, Clone, FromRow)]
pub struct AssetRow {
    pub id: String,
    pub user_id: String,
    pub job_id: Option<String>,
    pub endpoint_id: String,
    pub model: String,
    pub prompt: Option<String>,
    pub result_kind: String,
    pub storage_mode: String,
    pub storage_key: String,
    pub content_type: String,
    pub byte_size: i64,
    pub sha256: String,
    pub width: Option<i64>,
    pub height: Option<i64>,
    pub output_duration: Option<f64>,
    pub inference_time: Option<f64>,
    pub seed: Option<i64>,
    pub params_json: String,
    pub file_name: String,
    pub created_at: String,
}

const COLUMNS: &str = "id, user_id, job_id, endpoint_id, model, prompt, result_kind, storage_mode, \
    storage_key, content_type, byte_size, sha256, width, height, output_duration, inference_time, \
    seed, params_json, file_name, created_at";

impl AssetRow {
    pub fn view(&self) -> Value {
        json!({
            "id": self.id,
            "jobId": self.job_id,
            "endpointId": self.endpoint_id,
            "model": self.model,
            "prompt": self.prompt,
            "resultKind": self.result_kind,
            "storageMode": self.storage_mode,
            "url": format!("/files/{}", self.id),
            "downloadUrl": format!("/files/{}?download=1", self.id),
            "contentType": self.content_type,
            "byteSize": self.byte_size,
            "width": self.width,
            "height": self.height,
            "outputDuration": self.output_duration,
            "inferenceTime": self.inference_time,
            "seed": self.seed,
            "fileName": self.file_name,
            "params": serde_json::from_str::<Value>(&self.params_json).unwrap_or_else(|_| json!({})),
            "createdAt": self.created_at,
        })
    }
}

pub async fn of_job(db: &SqlitePool, job_id: &str) -> Result<Vec<Value>> {
    let rows: Vec<AssetRow> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM assets WHERE job_id = ? ORDER BY output_index"
    ))
    .bind(job_id)
    .fetch_all(db)
    .await?;
    Ok(rows.iter().map(AssetRow::view).collect())
}

pub async fn asset_of(db: &SqlitePool, user_id: &str, id: &str) -> Result<Option<AssetRow>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM assets WHERE id = ? AND user_id = ?"
    ))
    .bind(id)
    .bind(user_id)
    .fetch_optional(db)
    .await?)
}

pub fn file_router() -> Router<AppState> {
    Router::new()
        .route("/files/{id}", get(asset_file))
        .route("/files/references/{id}", get(reference_file))
}

#[derive(Deserialize)]
struct FileQuery {
    download: Option<String>,
}

async fn asset_file(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
    Query(query): Query<FileQuery>,
    headers: HeaderMap,
) -> Result<Response> {
    let asset = asset_of(&state.db, &user.id, &id)
        .await?
        .ok_or_else(|| AppError::not_found("There is no such file in your account."))?;
    let download = matches!(query.download.as_deref(), Some("1" | "true"));
    serve(
        &state,
        &headers,
        StoredFile {
            key: &asset.storage_key,
            content_type: &asset.content_type,
            size: asset.byte_size as u64,
            sha256: &asset.sha256,
            file_name: &asset.file_name,
        },
        download,
    )
    .await
}

async fn reference_file(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
    Query(query): Query<FileQuery>,
    headers: HeaderMap,
) -> Result<Response> {
    let reference: jobs::ReferenceRow = jobs::reference_of(&state.db, &user.id, &id)
        .await?
        .ok_or_else(|| AppError::not_found("There is no such file in your account."))?;
    let download = matches!(query.download.as_deref(), Some("1" | "true"));
    serve(
        &state,
        &headers,
        StoredFile {
            key: &reference.storage_key,
            content_type: &reference.content_type,
            size: reference.byte_size as u64,
            sha256: &reference.sha256,
            file_name: &reference.file_name,
        },
        download,
    )
    .await
}

pub struct StoredFile<'a> {
    pub key: &'a str,
    pub content_type: &'a str,
    pub size: u64,
    pub sha256: &'a str,
    pub file_name: &'a str,
}

/// Streams a stored file: 200 or 206 by `Range`, 416 outside it, 304 on a matching ETag.
pub async fn serve(
    state: &AppState,
    headers: &HeaderMap,
    file: StoredFile<'_>,
    download: bool,
) -> Result<Response> {
    let etag = storage::etag(file.sha256);
    let matches_etag = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    let mut common = HeaderMap::new();
    let put = |map: &mut HeaderMap, name: header::HeaderName, value: String| {
        if let Ok(v) = HeaderValue::from_str(&value) {
            map.insert(name, v);
        }
    };
    put(&mut common, header::ETAG, etag.clone());
    put(
        &mut common,
        header::CACHE_CONTROL,
        "private, max-age=31536000, immutable".into(),
    );
    put(&mut common, header::ACCEPT_RANGES, "bytes".into());
    put(
        &mut common,
        header::CONTENT_TYPE,
        file.content_type.to_owned(),
    );
    put(
        &mut common,
        header::CONTENT_DISPOSITION,
        storage::content_disposition(file.file_name, download),
    );
    // Stored bytes are served as stored: never let a browser reinterpret them.
    put(
        &mut common,
        header::CONTENT_SECURITY_POLICY,
        "default-src 'none'; sandbox".into(),
    );
    if matches_etag {
        return Ok((StatusCode::NOT_MODIFIED, common).into_response());
    }
    let range = match headers.get(header::RANGE).and_then(|v| v.to_str().ok()) {
        None => None,
        Some(h) => match storage::parse_range(h, file.size) {
            RangeDecision::Full => None,
            RangeDecision::Partial(r) => Some(r),
            RangeDecision::Unsatisfiable => {
                put(
                    &mut common,
                    header::CONTENT_RANGE,
                    format!("bytes */{}", file.size),
                );
                return Ok((StatusCode::RANGE_NOT_SATISFIABLE, common).into_response());
            }
        },
    };
    let object = match state.storage.get(file.key, range).await {
        Ok(o) => o,
        Err(StorageError::NotFound) => {
            return Err(AppError::not_found(
                "This file is missing from storage. It may have been removed; generate it again.",
            ));
        }
        Err(StorageError::RangeNotSatisfiable { size }) => {
            put(
                &mut common,
                header::CONTENT_RANGE,
                format!("bytes */{size}"),
            );
            return Ok((StatusCode::RANGE_NOT_SATISFIABLE, common).into_response());
        }
        Err(e) => {
            return Err(AppError::Internal(anyhow::anyhow!(
                "reading {}: {e}",
                file.key
            )));
        }
    };
    put(
        &mut common,
        header::CONTENT_LENGTH,
        object.content_length.to_string(),
    );
    let status = match object.range {
        Some((start, end)) => {
            put(
                &mut common,
                header::CONTENT_RANGE,
                storage::content_range(start, end, object.size),
            );
            StatusCode::PARTIAL_CONTENT
        }
        None => StatusCode::OK,
    };
    Ok((status, common, Body::new(object.body)).into_response())
}
