//! Stored outputs as clients see them: the gallery API, deletion, bulk download, and the file
//! routes that stream them (and the reference files of jobs) from storage to their owner, with
//! ranges, ETags and download names.

pub mod deletion;
mod gallery;
pub mod store;
mod zip;

use axum::{
    body::Body,
    extract::{Path, Query, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    AppState,
    auth::CurrentUser,
    error::{AppError, AppJson, AppQuery, Result},
    jobs,
    storage::{self, RangeDecision, StorageError},
};

/// At most this many assets per bulk action (delete, download).
const MAX_BULK: usize = 500;

/// A stored output as clients see it. `url` and `downloadUrl` are ours and stable; fal's
/// temporary URLs are never shown.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AssetView {
    pub id: String,
    pub job_id: Option<String>,
    #[schema(example = "fal-ai/flux/dev")]
    pub endpoint_id: String,
    /// The model's display name when the job ran.
    pub model: String,
    pub prompt: Option<String>,
    /// image, video, audio, 3d, text or file.
    pub result_kind: String,
    /// Where the bytes live: local or s3.
    pub storage_mode: String,
    #[schema(example = "/files/0193…")]
    pub url: String,
    pub download_url: String,
    pub content_type: String,
    pub byte_size: i64,
    pub width: Option<i64>,
    pub height: Option<i64>,
    /// Seconds, for video and audio.
    pub output_duration: Option<f64>,
    /// Seconds fal spent, when fal said.
    pub inference_time: Option<f64>,
    pub seed: Option<i64>,
    pub file_name: String,
    /// The parameters the job ran with.
    #[schema(value_type = Object)]
    pub params: Value,
    pub created_at: String,
}

impl AssetRow {
    pub fn view(&self) -> AssetView {
        AssetView {
            id: self.id.clone(),
            job_id: self.job_id.clone(),
            endpoint_id: self.endpoint_id.clone(),
            model: self.model.clone(),
            prompt: self.prompt.clone(),
            result_kind: self.result_kind.clone(),
            storage_mode: self.storage_mode.clone(),
            url: format!("/files/{}", self.id),
            download_url: format!("/files/{}?download=1", self.id),
            content_type: self.content_type.clone(),
            byte_size: self.byte_size,
            width: self.width,
            height: self.height,
            output_duration: self.output_duration,
            inference_time: self.inference_time,
            seed: self.seed,
            file_name: self.file_name.clone(),
            params: serde_json::from_str::<Value>(&self.params_json).unwrap_or_else(|_| json!({})),
            created_at: self.created_at.clone(),
        }
    }
}

pub use store::{AssetRow, asset_of};

pub fn api_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(models))
        .routes(routes!(delete_many))
        .routes(routes!(download))
        .routes(routes!(detail, delete_one))
}

/// The user's assets, newest first, a page at a time.
#[utoipa::path(
    get, path = "/assets", operation_id = "listAssets", tag = "gallery", params(gallery::GalleryQuery),
    responses(
        (status = 200, body = gallery::GalleryPage),
        (status = 422, description = "A filter or the cursor is not valid; `details` names it.", body = crate::error::ErrorEnvelope),
    ),
)]
async fn list(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    AppQuery(query): AppQuery<gallery::GalleryQuery>,
) -> Result<AppJson<gallery::GalleryPage>> {
    Ok(AppJson(gallery::list(&state.db, &user.id, &query).await?))
}

/// The models the user's assets came from, most used first (for the gallery's filter).
#[utoipa::path(
    get, path = "/assets/models", operation_id = "listAssetModels", tag = "gallery",
    responses((status = 200, body = gallery::GalleryModels)),
)]
async fn models(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
) -> Result<AppJson<gallery::GalleryModels>> {
    Ok(AppJson(gallery::models(&state.db, &user.id).await?))
}

#[derive(Serialize, ToSchema)]
struct AssetDetail {
    #[serde(flatten)]
    asset: AssetView,
    /// Null when the job was removed.
    job: Option<jobs::JobSummary>,
    references: Vec<jobs::ReferenceView>,
}

#[derive(Serialize, ToSchema)]
struct AssetDetailOut {
    asset: AssetDetail,
}

/// Everything about one asset: its metadata, the job it came from and that job's references.
#[utoipa::path(
    get, path = "/assets/{id}", operation_id = "getAsset", tag = "gallery",
    params(("id" = String, Path, description = "The asset's id")),
    responses(
        (status = 200, body = AssetDetailOut),
        (status = 404, description = "No such asset in this account.", body = crate::error::ErrorEnvelope),
    ),
)]
async fn detail(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
) -> Result<AppJson<AssetDetailOut>> {
    let asset = asset_of(&state.db, &user.id, &id)
        .await?
        .ok_or_else(|| AppError::not_found("There is no such asset in your account."))?;
    let job = match &asset.job_id {
        Some(job_id) => jobs::summary_of(&state.db, &user.id, job_id).await?,
        None => None,
    };
    let references = match &asset.job_id {
        Some(job_id) => jobs::references_view(&state.db, job_id).await?,
        None => Vec::new(),
    };
    Ok(AppJson(AssetDetailOut {
        asset: AssetDetail {
            asset: asset.view(),
            job,
            references,
        },
    }))
}

/// Deletes one asset: gone from every list at once, its file right after.
#[utoipa::path(
    delete, path = "/assets/{id}", operation_id = "deleteAsset", tag = "gallery",
    params(("id" = String, Path, description = "The asset's id")),
    responses(
        (status = 204, description = "Deleted."),
        (status = 404, description = "No such asset in this account.", body = crate::error::ErrorEnvelope),
    ),
)]
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

#[derive(Deserialize, ToSchema)]
struct Ids {
    #[schema(min_items = 1, max_items = 500)]
    ids: Vec<String>,
}

#[derive(Serialize, ToSchema)]
struct Deleted {
    /// How many of the ids were this user's assets and are now deleted.
    deleted: u64,
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

/// Deletes many assets at once; ids of other users' assets are ignored.
#[utoipa::path(
    post, path = "/assets/delete", operation_id = "deleteAssets", tag = "gallery", request_body = Ids,
    responses((status = 200, body = Deleted)),
)]
async fn delete_many(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    AppJson(body): AppJson<Ids>,
) -> Result<AppJson<Deleted>> {
    check_bulk(&body.ids)?;
    let deleted = deletion::delete(&state, &user.id, &body.ids).await?;
    Ok(AppJson(Deleted { deleted }))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct DownloadQuery {
    /// Comma-separated asset ids (1 to 500).
    #[param(required = true)]
    ids: Option<String>,
}

/// A zip of the chosen assets with a metadata.json, streamed as it is built.
#[utoipa::path(
    get, path = "/assets/download", operation_id = "downloadAssets", tag = "gallery", params(DownloadQuery),
    responses(
        (status = 200, description = "A zip (stored, not compressed): metadata.json, then the files.",
            content_type = "application/zip", body = crate::openapi::FileBytes,
            headers(("Content-Disposition" = String, description = "attachment; filename=fal-studio-<day>.zip"))),
        (status = 404, description = "None of the ids are this user's assets.", body = crate::error::ErrorEnvelope),
    ),
)]
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
    let assets = store::assets_of(&state.db, &user.id, &ids).await?;
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

pub fn file_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(asset_file))
        .routes(routes!(reference_file))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct FileQuery {
    /// `1` or `true`: ask the browser to save it (Content-Disposition: attachment).
    download: Option<String>,
}

/// The headers a stored file may be asked with.
#[derive(IntoParams)]
#[into_params(parameter_in = Header)]
#[allow(dead_code)] // Read from the HeaderMap; this type only describes them.
struct FileHeaders {
    /// One byte range, like `bytes=0-1023`.
    #[param(rename = "Range")]
    range: Option<String>,
    /// The ETag of a copy the client has.
    #[param(rename = "If-None-Match")]
    if_none_match: Option<String>,
}

/// A stored output's bytes, exactly as stored, with ranges and a strong ETag.
#[utoipa::path(
    get, path = "/files/{id}", operation_id = "getAssetFile", tag = "gallery",
    params(("id" = String, Path, description = "The asset's id"), FileQuery, FileHeaders),
    responses(
        (status = 200, description = "The whole file, in its own content type.", content_type = "*/*", body = crate::openapi::FileBytes,
            headers(("ETag" = String), ("Content-Disposition" = String), ("Accept-Ranges" = String))),
        (status = 206, description = "The asked range.", content_type = "*/*", body = crate::openapi::FileBytes,
            headers(("Content-Range" = String))),
        (status = 304, description = "The client's copy (If-None-Match) is current."),
        (status = 404, description = "No such file in this account.", body = crate::error::ErrorEnvelope),
        (status = 416, description = "The range is outside the file.", headers(("Content-Range" = String))),
    ),
)]
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

/// A reference file a job was given, as stored.
#[utoipa::path(
    get, path = "/files/references/{id}", operation_id = "getReferenceFile", tag = "generations",
    params(("id" = String, Path, description = "The reference's id"), FileQuery, FileHeaders),
    responses(
        (status = 200, description = "The whole file, in its own content type.", content_type = "*/*", body = crate::openapi::FileBytes),
        (status = 206, description = "The asked range.", content_type = "*/*", body = crate::openapi::FileBytes),
        (status = 304, description = "The client's copy (If-None-Match) is current."),
        (status = 404, description = "No such file in this account.", body = crate::error::ErrorEnvelope),
        (status = 416, description = "The range is outside the file."),
    ),
)]
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

/// The content type a stored file is sent with, and whether it must be an attachment. Types
/// come from fal's answer (any app can name any type), so only image, video and audio are
/// shown inline in their own type; anything else goes out as an `application/octet-stream`
/// attachment, never as a document the browser would render on the studio's origin. SVG (and
/// any other XML image) keeps its type, so `<img>` still shows it (an image element never runs
/// its script), but is always an attachment: opened directly it would be a scriptable
/// document. The `sandbox` CSP on every file stays as a second wall.
fn presentation(content_type: &str) -> (&str, bool) {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let Some((kind, subtype)) = essence.split_once('/') else {
        return ("application/octet-stream", true);
    };
    let token = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$&-^_.+".contains(&b))
    };
    if !matches!(kind, "image" | "video" | "audio") || !token(subtype) {
        return ("application/octet-stream", true);
    }
    let scriptable = kind == "image" && (subtype.contains("svg") || subtype.contains("xml"));
    (content_type, scriptable)
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
    let (content_type, attachment) = presentation(file.content_type);
    put(&mut common, header::CONTENT_TYPE, content_type.to_owned());
    put(
        &mut common,
        header::CONTENT_DISPOSITION,
        storage::content_disposition(file.file_name, download || attachment),
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

#[cfg(test)]
mod tests {
    use super::presentation;

    #[test]
    fn only_media_types_are_shown_inline_in_their_own_type() {
        let cases: &[(&str, (&str, bool))] = &[
            ("image/png", ("image/png", false)),
            ("image/webp", ("image/webp", false)),
            ("video/mp4", ("video/mp4", false)),
            ("video/mp4; codecs=avc1", ("video/mp4; codecs=avc1", false)),
            ("audio/mpeg", ("audio/mpeg", false)),
            ("Image/JPEG", ("Image/JPEG", false)),
            ("image/svg+xml", ("image/svg+xml", true)),
            (
                "IMAGE/SVG+XML; charset=utf-8",
                ("IMAGE/SVG+XML; charset=utf-8", true),
            ),
            ("image/xml", ("image/xml", true)),
            ("text/html", ("application/octet-stream", true)),
            (
                "text/html; charset=utf-8",
                ("application/octet-stream", true),
            ),
            ("application/xhtml+xml", ("application/octet-stream", true)),
            ("application/javascript", ("application/octet-stream", true)),
            ("application/pdf", ("application/octet-stream", true)),
            ("model/gltf-binary", ("application/octet-stream", true)),
            ("text/xml", ("application/octet-stream", true)),
            ("image/", ("application/octet-stream", true)),
            ("image", ("application/octet-stream", true)),
            ("image/png<script>", ("application/octet-stream", true)),
            ("", ("application/octet-stream", true)),
        ];
        for (stored, expected) in cases {
            assert_eq!(presentation(stored), *expected, "case {stored:?}");
        }
    }
}
