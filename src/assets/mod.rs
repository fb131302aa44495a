//! Stored outputs as clients see them: the gallery API, deletion and bulk download. Their bytes
//! are served by `crate::files`.

pub mod deletion;
pub mod gallery;
mod naming;
pub mod store;
pub mod thumbnail_worker;
pub mod thumbnails;
mod zip;

use axum::{
    extract::{Path, State},
    http::{HeaderMap, StatusCode, header},
    response::Response,
};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    AppState,
    auth::CurrentUser,
    error::{AppError, AppJson, AppQuery, Result},
    jobs,
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
    /// The batch it came from: the outputs of one generation request's runs share it.
    pub group_id: Option<String>,
    #[schema(example = "fal-ai/flux/dev")]
    pub endpoint_id: String,
    /// The model's display name when the job ran.
    pub model: String,
    pub prompt: Option<String>,
    /// image, video, audio or other, from the stored file's content type.
    #[schema(value_type = crate::jobs::outputs::ResultKind)]
    pub result_kind: String,
    /// Where the bytes live: local or s3.
    pub storage_mode: String,
    #[schema(example = "/files/0193…")]
    pub url: String,
    pub download_url: String,
    /// A small picture of it (512 px on its longest side; a video's first frame), once made:
    /// `null` for audio and other files, and until the thumbnailer has run.
    #[schema(example = "/files/0193…/thumbnail")]
    pub thumbnail_url: Option<String>,
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
    pub params: Map<String, Value>,
    /// Starred by its owner (the gallery's "Starred" filter).
    pub starred: bool,
    pub created_at: String,
}

impl AssetRow {
    pub fn view(&self) -> AssetView {
        AssetView {
            id: self.id.clone(),
            job_id: self.job_id.clone(),
            group_id: self.group_id.clone(),
            endpoint_id: self.endpoint_id.clone(),
            model: self.model.clone(),
            prompt: self.prompt.clone(),
            result_kind: self.result_kind.clone(),
            storage_mode: self.storage_mode.clone(),
            url: format!("/files/{}", self.id),
            download_url: format!("/files/{}?download=1", self.id),
            thumbnail_url: (self.thumb_status == store::ThumbStatus::Ready)
                .then(|| format!("/files/{}/thumbnail", self.id)),
            content_type: self.content_type.clone(),
            byte_size: self.byte_size,
            width: self.width,
            height: self.height,
            output_duration: self.output_duration,
            inference_time: self.inference_time,
            seed: self.seed,
            file_name: self.file_name.clone(),
            params: self.params.0.clone(),
            starred: self.starred_at.is_some(),
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
        .routes(routes!(star_one, unstar_one))
        .routes(routes!(star_many))
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
    headers: HeaderMap,
    AppQuery(query): AppQuery<gallery::GalleryQuery>,
) -> Result<gallery::PageJson> {
    // A client that asks for no cached answer gets the database's (a reload that must see
    // another process's change at once).
    let fresh = headers
        .get_all(header::CACHE_CONTROL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|d| d.trim().eq_ignore_ascii_case("no-cache"));
    gallery::list(&state.db, &state.gallery_pages, &user.id, &query, fresh).await
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
                .with_field_problem("ids", format!("1 to {MAX_BULK} ids")),
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

#[derive(Serialize, ToSchema)]
struct AssetOut {
    asset: AssetView,
}

/// Stars or unstars one asset and answers it as it is now.
async fn starred_one(
    state: &AppState,
    user_id: &str,
    id: String,
    starred: bool,
) -> Result<AppJson<AssetOut>> {
    store::set_starred(&state.db, user_id, std::slice::from_ref(&id), starred).await?;
    let asset = asset_of(&state.db, user_id, &id)
        .await?
        .ok_or_else(|| AppError::not_found("There is no such asset in your account."))?;
    Ok(AppJson(AssetOut {
        asset: asset.view(),
    }))
}

/// Stars an asset (again is fine: it keeps its first star).
#[utoipa::path(
    put, path = "/assets/{id}/star", operation_id = "starAsset", tag = "gallery",
    params(("id" = String, Path, description = "The asset's id")),
    responses(
        (status = 200, description = "Starred.", body = AssetOut),
        (status = 404, description = "No such asset in this account.", body = crate::error::ErrorEnvelope),
    ),
)]
async fn star_one(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
) -> Result<AppJson<AssetOut>> {
    starred_one(&state, &user.id, id, true).await
}

/// Takes an asset's star away (also when it had none).
#[utoipa::path(
    delete, path = "/assets/{id}/star", operation_id = "unstarAsset", tag = "gallery",
    params(("id" = String, Path, description = "The asset's id")),
    responses(
        (status = 200, description = "Not starred.", body = AssetOut),
        (status = 404, description = "No such asset in this account.", body = crate::error::ErrorEnvelope),
    ),
)]
async fn unstar_one(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
) -> Result<AppJson<AssetOut>> {
    starred_one(&state, &user.id, id, false).await
}

#[derive(Deserialize, ToSchema)]
struct StarMany {
    #[schema(min_items = 1, max_items = 500)]
    ids: Vec<String>,
    /// `true` stars them, `false` takes their stars away.
    starred: bool,
}

#[derive(Serialize, ToSchema)]
struct Starred {
    /// How many of the ids were this user's assets and changed (those already as asked and
    /// other users' ids are not counted).
    changed: u64,
}

/// Stars or unstars many assets at once; ids of other users' assets are ignored.
#[utoipa::path(
    post, path = "/assets/star", operation_id = "starAssets", tag = "gallery", request_body = StarMany,
    responses((status = 200, body = Starred)),
)]
async fn star_many(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    AppJson(body): AppJson<StarMany>,
) -> Result<AppJson<Starred>> {
    check_bulk(&body.ids)?;
    let changed = store::set_starred(&state.db, &user.id, &body.ids, body.starred).await?;
    Ok(AppJson(Starred { changed }))
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
