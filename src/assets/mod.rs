//! Stored outputs as clients see them: the gallery API, deletion, bulk download, and the file
//! routes that stream them (and the reference files of jobs) from storage to their owner, with
//! ranges, ETags and download names.

pub mod deletion;
mod gallery;
mod zip;

use axum::{
    Router,
    body::Body,
    extract::{Path, Query, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use serde::Deserialize;
use serde_json::{Value, json};
use sqlx::{FromRow, SqlitePool};

use crate::{
    AppState,
    auth::CurrentUser,
    error::{AppError, AppJson, AppQuery, Result},
    jobs,
    storage::{self, RangeDecision, StorageError},
};

/// At most this many assets per bulk action (delete, download).
const MAX_BULK: usize = 500;

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

pub(crate) const COLUMNS: &str = "id, user_id, job_id, endpoint_id, model, prompt, result_kind, storage_mode, \
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

pub fn api_router() -> Router<AppState> {
    Router::new()
        .route("/assets", get(list))
        .route("/assets/models", get(models))
        .route("/assets/delete", post(delete_many))
        .route("/assets/download", get(download))
        .route("/assets/{id}", get(detail).delete(delete_one))
}

async fn list(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    AppQuery(query): AppQuery<gallery::GalleryQuery>,
) -> Result<AppJson<Value>> {
    Ok(AppJson(gallery::list(&state.db, &user.id, &query).await?))
}

async fn models(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
) -> Result<AppJson<Value>> {
    Ok(AppJson(gallery::models(&state.db, &user.id).await?))
}

/// Everything about one asset: its metadata, the job it came from and that job's references.
async fn detail(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
) -> Result<AppJson<Value>> {
    let asset = asset_of(&state.db, &user.id, &id)
        .await?
        .ok_or_else(|| AppError::not_found("There is no such asset in your account."))?;
    let mut view = asset.view();
    let job: Option<(String, String, String, String, Option<String>)> = match &asset.job_id {
        Some(job_id) => sqlx::query_as(
            "SELECT id, status, group_id, created_at, finished_at FROM jobs WHERE id = ? AND user_id = ?",
        )
        .bind(job_id)
        .bind(&user.id)
        .fetch_optional(&state.db)
        .await?,
        None => None,
    };
    view["job"] = match &job {
        Some((id, status, group, created, finished)) => json!({
            "id": id, "status": status, "groupId": group, "createdAt": created, "finishedAt": finished,
        }),
        None => Value::Null,
    };
    let references: Vec<Value> = match &asset.job_id {
        Some(job_id) => jobs::references_view(&state.db, job_id).await?,
        None => Vec::new(),
    };
    view["references"] = Value::Array(references);
    Ok(AppJson(json!({ "asset": view })))
}

async fn delete_one(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
) -> Result<StatusCode> {
    match deletion::delete(&state, &user.id, std::slice::from_ref(&id)).await? {
        0 => Err(AppError::not_found(
            "There is no such asset in your account.",
        )),
        _ => Ok(StatusCode::NO_CONTENT),
    }
}

#[derive(Deserialize)]
struct Ids {
    ids: Vec<String>,
}

fn check_bulk(ids: &[String]) -> Result<()> {
    if ids.is_empty() || ids.len() > MAX_BULK {
        return Err(
            AppError::invalid_request(format!("Select between 1 and {MAX_BULK} assets."))
                .with_details(
                    json!([{ "field": "ids", "message": format!("1 to {MAX_BULK} ids") }]),
                ),
        );
    }
    Ok(())
}

async fn delete_many(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    AppJson(body): AppJson<Ids>,
) -> Result<AppJson<Value>> {
    check_bulk(&body.ids)?;
    let deleted = deletion::delete(&state, &user.id, &body.ids).await?;
    Ok(AppJson(json!({ "deleted": deleted })))
}

#[derive(Deserialize)]
struct DownloadQuery {
    ids: Option<String>,
}

async fn download(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    AppQuery(query): AppQuery<DownloadQuery>,
) -> Result<Response> {
    let ids: Vec<String> = query
        .ids
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    check_bulk(&ids)?;
    let mut assets = Vec::with_capacity(ids.len());
    for id in &ids {
        if let Some(a) = asset_of(&state.db, &user.id, id).await? {
            assets.push(a);
        }
    }
    if assets.is_empty() {
        return Err(AppError::not_found(
            "None of the selected assets are in your account.",
        ));
    }
    let name = format!(
        "fal-studio-{}.zip",
        assets[0].created_at.get(..10).unwrap_or("assets")
    );
    Ok(zip::stream(state, assets, name))
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
