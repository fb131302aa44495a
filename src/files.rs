//! Stored bytes, served: the `/files` routes that stream an asset's output or a job's
//! reference file from storage to its owner, and [`serve`], which the share links use too. One
//! place for `Range` (206/416), `ETag`/`If-None-Match` (304), `Content-Disposition` and which
//! content types may be shown inline rather than saved as an attachment.

use std::time::Duration;

use axum::{
    body::Body,
    extract::{Path, Query, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use headers::{
    AcceptRanges, CacheControl, ContentLength, ContentRange, ETag, HeaderMapExt, IfNoneMatch,
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
        .routes(routes!(asset_thumbnail))
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

/// A stored output's thumbnail: 512 px on its longest side (JPEG, or WebP where the image has
/// transparency); a video's is its first frame. Cached like the file itself.
#[utoipa::path(
    get, path = "/files/{id}/thumbnail", operation_id = "getAssetThumbnail", tag = "gallery",
    params(("id" = String, Path, description = "The asset's id"), FileHeaders),
    responses(
        (status = 200, description = "The thumbnail.", content_type = "image/*", body = crate::openapi::FileBytes,
            headers(("ETag" = String))),
        (status = 304, description = "The client's copy (If-None-Match) is current."),
        (status = 404, description = "No such file in this account, or it has no thumbnail (yet): use the asset's `thumbnailUrl`, which is set once there is one.", body = crate::error::ErrorEnvelope),
    ),
)]
async fn asset_thumbnail(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response> {
    let asset = asset_of(&state.db, &user.id, &id)
        .await?
        .ok_or_else(|| AppError::not_found("There is no such file in your account."))?;
    let file = StoredFile::thumbnail_of(&asset).ok_or_else(|| {
        AppError::not_found(
            "This file has no thumbnail (yet): show the file itself. Thumbnails of new outputs follow within seconds.",
        )
    })?;
    serve(&state, &headers, file, false).await
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
    /// What a download is called: an output's name says what it is (see
    /// `AssetRow::download_name`); a reference keeps the name it was uploaded with.
    pub file_name: std::borrow::Cow<'a, str>,
}

impl<'a> From<&'a crate::assets::AssetRow> for StoredFile<'a> {
    fn from(asset: &'a crate::assets::AssetRow) -> Self {
        StoredFile {
            key: &asset.storage_key,
            content_type: &asset.content_type,
            size: u64::try_from(asset.byte_size).unwrap_or(0),
            sha256: &asset.sha256,
            file_name: asset.download_name().into(),
        }
    }
}

impl<'a> StoredFile<'a> {
    /// The asset's thumbnail, when it has one.
    pub fn thumbnail_of(asset: &'a crate::assets::AssetRow) -> Option<Self> {
        if asset.thumb_status != crate::assets::store::ThumbStatus::Ready {
            return None;
        }
        let content_type = asset.thumb_content_type.as_deref()?;
        let extension = crate::jobs::outputs::extension_for(content_type);
        Some(StoredFile {
            key: asset.thumb_key.as_deref()?,
            content_type,
            size: u64::try_from(asset.thumb_byte_size?).unwrap_or(0),
            sha256: asset.thumb_sha256.as_deref()?,
            file_name: format!("thumbnail.{extension}").into(),
        })
    }
}

impl<'a> From<&'a crate::jobs::ReferenceRow> for StoredFile<'a> {
    fn from(reference: &'a crate::jobs::ReferenceRow) -> Self {
        StoredFile {
            key: &reference.storage_key,
            content_type: &reference.content_type,
            size: u64::try_from(reference.byte_size).unwrap_or(0),
            sha256: &reference.sha256,
            file_name: reference.file_name.as_str().into(),
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
    // Typed headers (the `headers` crate) for everything but `Range`, whose reading stays in
    // `storage::parse_range`: the crate's `Range` neither clamps, nor tells a malformed header
    // (ignored, 200) from an unsatisfiable one (416), nor takes the unit case-insensitively.
    let etag: Option<ETag> = storage::etag(file.sha256).parse().ok();
    let mut common = HeaderMap::new();
    if let Some(etag) = etag.clone() {
        common.typed_insert(etag);
    }
    common.typed_insert(
        CacheControl::new()
            .with_private()
            .with_max_age(Duration::from_secs(31_536_000))
            .with_immutable(),
    );
    common.typed_insert(AcceptRanges::bytes());
    let (content_type, attachment) = presentation(file.content_type);
    let mut put = |name: header::HeaderName, value: &str| {
        if let Ok(v) = HeaderValue::from_str(value) {
            common.insert(name, v);
        }
    };
    put(header::CONTENT_TYPE, content_type);
    put(
        header::CONTENT_DISPOSITION,
        &storage::content_disposition(&file.file_name, download || attachment),
    );
    // Stored bytes are served as stored: never let a browser reinterpret them.
    put(
        header::CONTENT_SECURITY_POLICY,
        "default-src 'none'; sandbox",
    );
    // If-None-Match compares weakly (RFC 9110 §13.1.2): `W/"tag"` and `*` match too.
    if let (Some(if_none_match), Some(etag)) = (headers.typed_get::<IfNoneMatch>(), &etag)
        && !if_none_match.precondition_passes(etag)
    {
        return Ok((StatusCode::NOT_MODIFIED, common).into_response());
    }
    let unsatisfiable = |mut common: HeaderMap, size: u64| {
        common.typed_insert(ContentRange::unsatisfied_bytes(size));
        (StatusCode::RANGE_NOT_SATISFIABLE, common).into_response()
    };
    let range = match headers.get(header::RANGE).and_then(|v| v.to_str().ok()) {
        None => None,
        Some(h) => match storage::parse_range(h, file.size) {
            RangeDecision::Full => None,
            RangeDecision::Partial(r) => Some(r),
            RangeDecision::Unsatisfiable => return Ok(unsatisfiable(common, file.size)),
        },
    };
    let object = match state.storage.get(file.key, range).await {
        Ok(o) => o,
        Err(StorageError::NotFound) => {
            return Err(AppError::not_found(
                "This file is missing from storage. It may have been removed; generate it again.",
            ));
        }
        Err(StorageError::RangeNotSatisfiable { size }) => return Ok(unsatisfiable(common, size)),
        Err(e) => {
            return Err(AppError::Internal(anyhow::anyhow!(
                "reading {}: {e}",
                file.key
            )));
        }
    };
    common.typed_insert(ContentLength(object.content_length));
    let status = match object.range {
        Some((start, end)) => {
            // Only fails for a range the storage could not have served (`start > end`).
            if let Ok(content_range) = ContentRange::bytes(start..=end, object.size) {
                common.typed_insert(content_range);
            }
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
