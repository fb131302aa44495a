//! Share links: an owner makes a public, revocable link to one asset (optionally expiring, with
//! or without download, prompt and password), and anyone with the link sees a server-rendered
//! page and the file, without an account.
//!
//! `router()` holds the owner's JSON routes (under `/api`, behind the session); `public_router()`
//! holds `/s/...`, which needs no session and answers unknown, expired and revoked links with the
//! same 404 page.

mod gate;
mod page;

mod store;
pub mod token;

use std::sync::Arc;

use axum::{
    Extension, Form, Router,
    extract::{Path, RawQuery, State, rejection::FormRejection},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Redirect, Response},
    routing::get,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    AppState, assets,
    auth::{CurrentUser, human_wait},
    client_addr::ClientAddr,
    config::Secret,
    csrf::OriginUnverified,
    error::{AppError, AppJson, FieldProblem, Result},
    files::{self, StoredFile},
};

use gate::Gate;
use store::ShareRow;

pub const MIN_EXPIRES_IN_SECONDS: i64 = 60;
/// One year.
pub const MAX_EXPIRES_IN_SECONDS: i64 = 31_536_000;
pub const MIN_PASSWORD_CHARS: usize = 4;
pub const MAX_PASSWORD_CHARS: usize = 256;

/// The owner's routes, merged under `/api`.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create, list_of_asset))
        .routes(routes!(list))
        .routes(routes!(revoke))
}

/// The public routes under `/s`. They must sit inside the cross-site-write layer: the password
/// form posts here. The gate's keys come from `APP_SECRET`, so every node shares them.
pub fn public_router(secret: &Secret) -> Router<AppState> {
    let gate = Arc::new(Gate::new(secret));
    let (for_page, for_unlock, for_file, for_poster) =
        (gate.clone(), gate.clone(), gate.clone(), gate);
    Router::new()
        .route(page::STYLESHEET_PATH, get(stylesheet))
        .route(
            "/s/{token}",
            get(
                move |state: State<AppState>, token: Path<String>, headers: HeaderMap| {
                    show(state, for_page.clone(), token, headers)
                },
            )
            .post(
                move |state: State<AppState>,
                      client: ClientAddr,
                      origin: Option<Extension<OriginUnverified>>,
                      token: Path<String>,
                      form: Result<Form<PasswordForm>, FormRejection>| {
                    unlock(state, for_unlock.clone(), client, origin, token, form)
                },
            ),
        )
        .route(
            "/s/{token}/file",
            get(
                move |state: State<AppState>,
                      token: Path<String>,
                      query: RawQuery,
                      headers: HeaderMap| {
                    file(state, for_file.clone(), token, query, headers)
                },
            ),
        )
        .route(
            "/s/{token}/poster",
            get(
                move |state: State<AppState>, token: Path<String>, headers: HeaderMap| {
                    poster(state, for_poster.clone(), token, headers)
                },
            ),
        )
}

/// Whether `path` is a link's password form target, `/s/{token}`.
pub fn is_unlock_path(path: &str) -> bool {
    path.strip_prefix("/s/").is_some_and(token::is_well_formed)
}

/// The page for a share form post the cross-site check refused.
pub fn cross_site_page(path: &str) -> Response {
    page::cross_site(path)
}

// ---- the owner's API ----

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct CreateShare {
    /// The link stops working after this long (60 s to one year); never, when absent. A whole
    /// number: `3600.0` is read as 3600 (as JSON Schema's `integer` allows), `3600.5` refused.
    #[schema(minimum = 60, maximum = 31_536_000)]
    #[serde(default, deserialize_with = "whole_seconds")]
    expires_in_seconds: Option<i64>,
    /// Offer a download button (default true).
    allow_download: Option<bool>,
    /// Show the prompt on the page (default true).
    show_prompt: Option<bool>,
    /// Ask visitors for this password (4 to 256 characters). `""` is read as "no password",
    /// so a form's empty optional field just works.
    #[schema(max_length = 256)]
    password: Option<String>,
}

/// A whole number of seconds, written as an integer or as a float with no fraction (what
/// JavaScript's `JSON.stringify` and many clients send for computed values). Integers too large
/// for i64 saturate, so the range check refuses them by the usual message.
fn whole_seconds<'de, D>(deserializer: D) -> std::result::Result<Option<i64>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    use serde::de::Error;
    let Some(n) = Option::<serde_json::Number>::deserialize(deserializer)? else {
        return Ok(None);
    };
    if let Some(i) = n.as_i64() {
        return Ok(Some(i));
    }
    if n.as_u64().is_some() {
        return Ok(Some(i64::MAX));
    }
    match n.as_f64() {
        // `as` saturates at the ends of i64.
        Some(f) if f.is_finite() && f.fract() == 0.0 => Ok(Some(f as i64)),
        _ => Err(D::Error::custom(format!(
            "expiresInSeconds must be a whole number of seconds, e.g. 3600 (got {n})"
        ))),
    }
}

/// A share link as its owner sees it.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct ShareView {
    /// 256 random bits, base64url. Revoke with it.
    token: String,
    /// The absolute public link.
    url: String,
    asset_id: String,
    created_at: String,
    expires_at: Option<String>,
    allow_download: bool,
    show_prompt: bool,
    has_password: bool,
    asset: SharedAsset,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct SharedAsset {
    id: String,
    #[schema(value_type = crate::jobs::outputs::ResultKind)]
    result_kind: String,
    model: String,
    url: String,
    /// Its thumbnail (a video's poster frame), once made: what a list of links shows.
    thumbnail_url: Option<String>,
}

/// The new link. Its fields are at the top (as DESIGN.md's contract promises: `token`, `url`,
/// `expiresAt`) and again under `share`, the shape the list routes use.
#[derive(Serialize, ToSchema)]
struct CreatedShare {
    #[serde(flatten)]
    link: ShareView,
    share: ShareView,
}

#[derive(Serialize, ToSchema)]
struct ShareList {
    /// Live links only (not expired, not revoked), newest first.
    shares: Vec<ShareView>,
}

/// Makes a public link to one of the user's assets.
#[utoipa::path(
    post, path = "/assets/{id}/shares", operation_id = "createShare", tag = "shares",
    params(("id" = String, Path, description = "The asset's id")),
    request_body = CreateShare,
    responses(
        (status = 201, body = CreatedShare),
        (status = 404, description = "No such asset in this account.", body = crate::error::ErrorEnvelope),
        (status = 422, description = "Expiry or password out of range; `details` names them.", body = crate::error::ErrorEnvelope),
    ),
)]
async fn create(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(asset_id): Path<String>,
    AppJson(body): AppJson<CreateShare>,
) -> Result<impl IntoResponse> {
    let asset = assets::asset_of(&state.db, &user.id, &asset_id)
        .await?
        .ok_or_else(no_such_asset)?;
    let password = body.password.filter(|p| !p.is_empty());
    check_request(body.expires_in_seconds, password.as_deref())?;
    let password_hash = match password {
        Some(p) => Some(crate::auth::password::hash(p).await?),
        None => None,
    };
    let token = token::generate();
    let row = store::insert(
        &state.db,
        store::NewShare {
            token: &token,
            asset_id: &asset.id,
            user_id: &user.id,
            expires_in_seconds: body.expires_in_seconds,
            allow_download: body.allow_download.unwrap_or(true),
            show_prompt: body.show_prompt.unwrap_or(true),
            password_hash: password_hash.as_deref(),
        },
    )
    .await?;
    tracing::info!(asset_id = %asset.id, user_id = %user.id, "share link created");
    Ok((
        StatusCode::CREATED,
        AppJson(CreatedShare {
            link: view(&state, &row),
            share: view(&state, &row),
        }),
    ))
}

/// The user's live share links.
#[utoipa::path(get, path = "/shares", operation_id = "listShares", tag = "shares", responses((status = 200, body = ShareList)))]
async fn list(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
) -> Result<AppJson<ShareList>> {
    let rows = store::active_of_user(&state.db, &user.id).await?;
    Ok(AppJson(views(&state, &rows)))
}

/// The live share links of one asset.
#[utoipa::path(
    get, path = "/assets/{id}/shares", operation_id = "listAssetShares", tag = "shares",
    params(("id" = String, Path, description = "The asset's id")),
    responses(
        (status = 200, body = ShareList),
        (status = 404, description = "No such asset in this account.", body = crate::error::ErrorEnvelope),
    ),
)]
async fn list_of_asset(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(asset_id): Path<String>,
) -> Result<AppJson<ShareList>> {
    assets::asset_of(&state.db, &user.id, &asset_id)
        .await?
        .ok_or_else(no_such_asset)?;
    let rows = store::active_of_asset(&state.db, &user.id, &asset_id).await?;
    Ok(AppJson(views(&state, &rows)))
}

/// Revokes a link: it answers 404 from now on.
#[utoipa::path(
    delete, path = "/shares/{token}", operation_id = "revokeShare", tag = "shares",
    params(("token" = String, Path, description = "The link's token")),
    responses(
        (status = 204, description = "Revoked."),
        (status = 404, description = "No such live link in this account.", body = crate::error::ErrorEnvelope),
    ),
)]
async fn revoke(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(token): Path<String>,
) -> Result<StatusCode> {
    if !store::revoke(&state.db, &user.id, &token).await? {
        return Err(AppError::not_found(
            "There is no such share link in your account.",
        ));
    }
    tracing::info!(user_id = %user.id, "share link revoked");
    Ok(StatusCode::NO_CONTENT)
}

fn no_such_asset() -> AppError {
    AppError::not_found("There is no such asset in your account.")
}

fn check_request(expires_in_seconds: Option<i64>, password: Option<&str>) -> Result<()> {
    let mut problems = Vec::new();
    if let Some(secs) = expires_in_seconds
        && !(MIN_EXPIRES_IN_SECONDS..=MAX_EXPIRES_IN_SECONDS).contains(&secs)
    {
        problems.push(FieldProblem::new(
            "expiresInSeconds",
            format!("must be {MIN_EXPIRES_IN_SECONDS} to {MAX_EXPIRES_IN_SECONDS} seconds (one minute to one year)"),
        ));
    }
    if let Some(p) = password
        && !(MIN_PASSWORD_CHARS..=MAX_PASSWORD_CHARS).contains(&p.chars().count())
    {
        problems.push(FieldProblem::new(
            "password",
            format!("must be {MIN_PASSWORD_CHARS} to {MAX_PASSWORD_CHARS} characters"),
        ));
    }
    if problems.is_empty() {
        return Ok(());
    }
    Err(AppError::invalid_request(
        "The share settings are not right: a link lasts one minute to one year, and a password has 4 to 256 characters.",
    )
    .with_field_problems(problems))
}

fn base_url(state: &AppState) -> &str {
    state.public_url.as_str().trim_end_matches('/')
}

fn view(state: &AppState, row: &ShareRow) -> ShareView {
    ShareView {
        token: row.token.clone(),
        url: format!("{}/s/{}", base_url(state), row.token),
        asset_id: row.asset_id.clone(),
        created_at: row.created_at.clone(),
        expires_at: row.expires_at.clone(),
        allow_download: row.allow_download,
        show_prompt: row.show_prompt,
        has_password: row.password_hash.is_some(),
        asset: SharedAsset {
            id: row.asset_id.clone(),
            result_kind: row.result_kind.clone(),
            model: row.model.clone(),
            url: format!("/files/{}", row.asset_id),
            thumbnail_url: (row.thumb_status == crate::assets::store::ThumbStatus::Ready)
                .then(|| format!("/files/{}/thumbnail", row.asset_id)),
        },
    }
}

fn views(state: &AppState, rows: &[ShareRow]) -> ShareList {
    ShareList {
        shares: rows.iter().map(|r| view(state, r)).collect(),
    }
}

// ---- the public page ----

/// The live link and its asset, or `None` for every kind of dead or made-up token.
async fn resolve(state: &AppState, token: &str) -> Result<Option<(ShareRow, assets::AssetRow)>> {
    if !token::is_well_formed(token) {
        return Ok(None);
    }
    let Some(share) = store::live(&state.db, token).await? else {
        return Ok(None);
    };
    let asset = assets::asset_of(&state.db, &share.user_id, &share.asset_id).await?;
    Ok(asset.map(|a| (share, a)))
}

async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
        ],
        page::STYLESHEET,
    )
        .into_response()
}

async fn show(
    State(state): State<AppState>,
    gate: Arc<Gate>,
    Path(token): Path<String>,
    headers: HeaderMap,
) -> Result<Response> {
    let Some((share, asset)) = resolve(&state, &token).await? else {
        return Ok(page::not_found());
    };
    if share.password_hash.is_some() && !gate.is_unlocked(&headers, &token) {
        return Ok(page::locked(&page::Locked {
            base: base_url(&state),
            token: &token,
            nonce: &gate.form_nonce(&token),
            status: StatusCode::OK,
            error: None,
        }));
    }
    let (model, prompt) = if share.show_prompt {
        (Some(asset.model.as_str()), asset.prompt.as_deref())
    } else {
        (None, None)
    };
    Ok(page::shared(&page::Shared {
        base: base_url(&state),
        token: &token,
        kind: &asset.result_kind,
        content_type: &asset.content_type,
        width: asset.width,
        height: asset.height,
        has_poster: asset.thumb_status == crate::assets::store::ThumbStatus::Ready,
        model,
        prompt,
        allow_download: share.allow_download,
    }))
}

#[derive(Deserialize)]
struct PasswordForm {
    password: String,
    /// The locked page's form nonce; needed only when the browser hid its origin.
    #[serde(default)]
    nonce: String,
}

async fn unlock(
    State(state): State<AppState>,
    gate: Arc<Gate>,
    ClientAddr(addr): ClientAddr,
    origin_unverified: Option<Extension<OriginUnverified>>,
    Path(token): Path<String>,
    form: Result<Form<PasswordForm>, FormRejection>,
) -> Result<Response> {
    let Some((share, _)) = resolve(&state, &token).await? else {
        return Ok(page::not_found());
    };
    let Some(hash) = share.password_hash else {
        return Ok(Redirect::to(&format!("/s/{token}")).into_response());
    };
    let form = form.map(|Form(f)| f).ok();
    let base = base_url(&state);
    let locked = |status: StatusCode, error: &str| {
        page::locked(&page::Locked {
            base,
            token: &token,
            nonce: &gate.form_nonce(&token),
            status,
            error: Some(error),
        })
    };
    // `Origin: null` passed the cross-site check only for this form: it must be the form we
    // served for this very link.
    if origin_unverified.is_some()
        && !form
            .as_ref()
            .is_some_and(|f| gate.is_form_nonce(&token, &f.nonce))
    {
        return Ok(locked(
            StatusCode::FORBIDDEN,
            "This form has expired or did not come from this page. Enter the password again.",
        ));
    }
    let attempt = match gate.reserve(&state.db, &token, addr).await? {
        Ok(attempt) => attempt,
        Err(wait) => {
            let mut response = locked(
                StatusCode::TOO_MANY_REQUESTS,
                &format!(
                    "Too many wrong passwords. Wait {} and try again.",
                    human_wait(wait)
                ),
            );
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(wait));
            return Ok(response);
        }
    };
    let given = form.map(|f| f.password).unwrap_or_default();
    // Over-long input is simply wrong; argon2 never sees it.
    let right = given.chars().count() <= MAX_PASSWORD_CHARS
        && crate::auth::password::verify(Some(hash), given).await?;
    if !right {
        // Dropping the attempt leaves it counted.
        return Ok(locked(
            StatusCode::UNAUTHORIZED,
            "That password is not right. Check it and try again.",
        ));
    }
    attempt.succeeded().await;
    let cookie = gate.unlock_cookie(&token, state.public_url.scheme() == "https");
    let mut response = Redirect::to(&format!("/s/{token}")).into_response();
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    page::private_headers(response.headers_mut());
    Ok(response)
}

async fn file(
    State(state): State<AppState>,
    gate: Arc<Gate>,
    Path(token): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response> {
    let (share, asset) = match unlocked(&state, &gate, &token, &headers).await? {
        Ok(found) => found,
        Err(refusal) => return Ok(refusal),
    };
    let download = url::form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .any(|(k, v)| k == "download" && matches!(v.as_ref(), "1" | "true"));
    if download && !share.allow_download {
        return Ok(page::not_found());
    }
    serve_shared(&state, &headers, StoredFile::from(&asset), download).await
}

/// The shared asset's thumbnail: a video's poster frame, for the page's `<video poster>` and its
/// `og:image` (link previews want a picture). Gated like the file.
async fn poster(
    State(state): State<AppState>,
    gate: Arc<Gate>,
    Path(token): Path<String>,
    headers: HeaderMap,
) -> Result<Response> {
    let (_, asset) = match unlocked(&state, &gate, &token, &headers).await? {
        Ok(found) => found,
        Err(refusal) => return Ok(refusal),
    };
    let Some(thumbnail) = StoredFile::thumbnail_of(&asset) else {
        return Ok(page::not_found());
    };
    serve_shared(&state, &headers, thumbnail, false).await
}

/// The link's share and asset when the link is live and, if it has a password, unlocked in
/// this browser; otherwise the page to answer with (the 404 page, or "locked").
async fn unlocked(
    state: &AppState,
    gate: &Gate,
    token: &str,
    headers: &HeaderMap,
) -> Result<std::result::Result<(ShareRow, assets::AssetRow), Response>> {
    let Some((share, asset)) = resolve(state, token).await? else {
        return Ok(Err(page::not_found()));
    };
    if share.password_hash.is_some() && !gate.is_unlocked(headers, token) {
        return Ok(Err(page::file_locked(token)));
    }
    Ok(Ok((share, asset)))
}

/// Bytes under a link, as the owner's file routes serve them but never cached for long.
async fn serve_shared(
    state: &AppState,
    headers: &HeaderMap,
    file: StoredFile<'_>,
    download: bool,
) -> Result<Response> {
    let mut response = files::serve(state, headers, file, download).await?;
    let headers = response.headers_mut();
    // A link can be revoked at any moment: caches must ask again each time (the ETag keeps that
    // cheap) instead of keeping the bytes for a year as the owner's file route allows.
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-cache"),
    );
    page::private_headers(headers);
    Ok(response)
}

#[cfg(test)]
mod create_share_tests {
    use super::*;
    use serde_json::{Value, json};

    fn expires(body: Value) -> std::result::Result<Option<i64>, String> {
        serde_json::from_value::<CreateShare>(body)
            .map(|c| c.expires_in_seconds)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn an_integral_float_is_the_integer_it_is() {
        assert_eq!(
            expires(json!({ "expiresInSeconds": 30521.0 })),
            Ok(Some(30521))
        );
        assert_eq!(expires(json!({ "expiresInSeconds": 3600 })), Ok(Some(3600)));
        assert_eq!(expires(json!({ "expiresInSeconds": null })), Ok(None));
        assert_eq!(expires(json!({})), Ok(None));
    }

    #[test]
    fn a_fraction_is_refused_saying_what_to_send() {
        let err = expires(json!({ "expiresInSeconds": 30521.5 })).unwrap_err();
        assert!(err.contains("whole number of seconds"), "{err}");
        assert!(expires(json!({ "expiresInSeconds": "3600" })).is_err());
    }

    #[test]
    fn huge_numbers_saturate_and_fail_the_range_check() {
        for body in [
            json!({ "expiresInSeconds": 1e300 }),
            json!({ "expiresInSeconds": u64::MAX }),
            json!({ "expiresInSeconds": -1e300 }),
        ] {
            let secs = expires(body.clone()).unwrap();
            assert!(check_request(secs, None).is_err(), "{body}");
        }
    }
}
