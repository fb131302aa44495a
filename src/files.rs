//! Stored bytes, served: the `/files` routes that stream an asset's output or a job's
//! reference file from storage to its owner, and [`serve`], which the share links use too. One
//! place for `Range` (206/416), `ETag`/`If-None-Match` (304), `Content-Disposition` and which
//! content types may be shown inline rather than saved as an attachment.

use axum::{
    body::Body,
    extract::{Path, Query, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    AppState,
    assets::asset_of,
    auth::CurrentUser,
    error::{AppError, Result},
    jobs,
    storage::{self, RangeDecision, StorageError},
};

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
    serve(&state, &headers, StoredFile::from(&asset), download).await
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
    serve(&state, &headers, StoredFile::from(&reference), download).await
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

impl<'a> From<&'a crate::assets::AssetRow> for StoredFile<'a> {
    fn from(asset: &'a crate::assets::AssetRow) -> Self {
        StoredFile {
            key: &asset.storage_key,
            content_type: &asset.content_type,
            size: u64::try_from(asset.byte_size).unwrap_or(0),
            sha256: &asset.sha256,
            file_name: &asset.file_name,
        }
    }
}

impl<'a> From<&'a crate::jobs::ReferenceRow> for StoredFile<'a> {
    fn from(reference: &'a crate::jobs::ReferenceRow) -> Self {
        StoredFile {
            key: &reference.storage_key,
            content_type: &reference.content_type,
            size: u64::try_from(reference.byte_size).unwrap_or(0),
            sha256: &reference.sha256,
            file_name: &reference.file_name,
        }
    }
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
