//! The model catalog (fal's `/v1/models`, cached and served stale when fal fails), each
//! endpoint's derived form spec, prices and estimates, and the user's favourite and recent
//! models.

mod cache;
mod pricing;
pub mod spec;
mod store;

pub use store::ModelInfo;

use std::sync::Arc;

use axum::extract::State;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

use cache::{Lookup, TtlCache};
use pricing::{Price, PriceBook};
use spec::Spec;

use crate::{
    AppState,
    account::user_fal_key,
    auth::CurrentUser,
    error::{AppError, AppJson, AppQuery, Category, Result},
    fal::{FalKey, ModelQuery, ProviderError},
    users::UserRow,
};

const DEFAULT_PAGE: u32 = 30;
const MAX_PAGE: u32 = 100;
const MAX_QUERY_CHARS: usize = 200;
const MAX_ENDPOINT_ID_LEN: usize = 200;

/// The caches behind the catalog routes, shared by all requests.
pub struct Catalog {
    pages: TtlCache<String, CatalogPage>,
    /// Keyed by the key's fingerprint and the endpoint: a private app's document (and the form
    /// derived from it) is only ever served back to the key that could read it.
    specs: TtlCache<String, Spec>,
    prices: PriceBook,
}

impl Catalog {
    pub fn new(ttl: std::time::Duration) -> Self {
        Catalog {
            pages: TtlCache::new(ttl, 1_000),
            specs: TtlCache::new(ttl, 1_000),
            prices: PriceBook::default(),
        }
    }
}

#[derive(Clone)]
struct CatalogPage {
    models: Vec<ModelInfo>,
    next_cursor: Option<String>,
}

/// A model of fal's catalog with its price for the user's key (null without a key or when fal
/// publishes none).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct ModelOut {
    #[serde(flatten)]
    info: ModelInfo,
    price: Option<Price>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct CatalogPageOut {
    models: Vec<ModelOut>,
    /// Pass as `cursor` for the next page; null on the last.
    next_cursor: Option<String>,
    /// True when fal failed and this page came from the cache.
    stale: bool,
}

#[derive(Serialize, ToSchema)]
struct ModelList {
    models: Vec<ModelOut>,
}

/// A derived form spec, as the studio renders it.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct SpecOut {
    #[serde(flatten)]
    spec: Spec,
    display_name: Option<String>,
    price: Option<Price>,
}

/// What one run is expected to cost, from fal's price and estimate APIs.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Estimate {
    pub total_cost: f64,
    pub currency: String,
    /// fal's billing unit (image, second, megapixel, ...).
    pub unit: String,
    pub unit_quantity: f64,
    pub unit_price: f64,
}

#[derive(Serialize, ToSchema)]
struct EstimateOut {
    estimate: Option<Estimate>,
    /// Why there is no estimate, when there is none.
    reason: Option<String>,
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(spec_of))
        .routes(routes!(estimate))
        .routes(routes!(favorites, add_favorite, remove_favorite))
        .routes(routes!(recents, touch_recent))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    /// Search words.
    #[param(max_length = 200)]
    q: Option<String>,
    /// fal's category, like text-to-image.
    #[param(max_length = 64)]
    category: Option<String>,
    /// `nextCursor` of the previous page.
    cursor: Option<String>,
    /// Page size; clamped to 1..100 (default 30).
    limit: Option<u32>,
}

/// One page of fal's model catalog, cached for a while and served stale when fal fails.
#[utoipa::path(
    get, path = "/models", operation_id = "listModels", tag = "models", params(ListQuery),
    responses(
        (status = 200, body = CatalogPageOut),
        (status = 502, description = "fal's catalog failed and nothing is cached.", body = crate::error::ErrorEnvelope),
    ),
)]
async fn list(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    AppQuery(query): AppQuery<ListQuery>,
) -> Result<AppJson<CatalogPageOut>> {
    let query = ModelQuery {
        q: clean(query.q, MAX_QUERY_CHARS, "q")?,
        category: clean(query.category, 64, "category")?,
        cursor: clean(query.cursor, 1_000, "cursor")?,
        limit: query.limit.unwrap_or(DEFAULT_PAGE).clamp(1, MAX_PAGE),
    };
    let key = optional_key(&state, &user).await;
    let cache_key = format!(
        "{}|{}|{}|{}|{}",
        key_fingerprint(key.as_ref()),
        query.q.as_deref().unwrap_or(""),
        query.category.as_deref().unwrap_or(""),
        query.cursor.as_deref().unwrap_or(""),
        query.limit
    );
    let catalog = &state.catalog;
    let (page, stale) = match catalog.pages.get(&cache_key) {
        Lookup::Fresh(page) => (page, false),
        cached => match state.fal.models(key.as_ref(), &query).await {
            Ok(answer) => {
                let models: Vec<ModelInfo> =
                    answer.models.iter().map(ModelInfo::from_catalog).collect();
                store::remember(&state.db, &models).await?;
                let page = CatalogPage {
                    models,
                    next_cursor: answer.next_cursor.filter(|_| answer.has_more),
                };
                catalog.pages.insert(cache_key, page.clone());
                (page, false)
            }
            Err(err) => match cached {
                Lookup::Stale(page) => {
                    tracing::warn!(error = %err, "fal's catalog failed; serving the cached page");
                    (page, true)
                }
                _ => return Err(catalog_error(err)),
            },
        },
    };
    let models = with_prices(&state, key.as_ref(), page.models).await;
    Ok(AppJson(CatalogPageOut {
        models,
        next_cursor: page.next_cursor,
        stale,
    }))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct SpecQuery {
    /// A fal endpoint id, like fal-ai/flux/dev.
    #[param(required = true, max_length = 200, example = "fal-ai/flux/dev")]
    endpoint: Option<String>,
}

/// The form of one endpoint, derived from its OpenAPI document.
#[utoipa::path(
    get, path = "/models/spec", operation_id = "getModelSpec", tag = "models", params(SpecQuery),
    responses(
        (status = 200, body = SpecOut),
        (status = 404, description = "fal has no such endpoint.", body = crate::error::ErrorEnvelope),
        (status = 422, description = "Not an endpoint id.", body = crate::error::ErrorEnvelope),
    ),
)]
async fn spec_of(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    AppQuery(query): AppQuery<SpecQuery>,
) -> Result<AppJson<SpecOut>> {
    let endpoint_id = endpoint_param(query.endpoint.as_deref())?;
    let key = optional_key(&state, &user).await;
    let spec = load_spec(&state, key.as_ref(), &endpoint_id).await?;
    let info = store::known(&state.db, &endpoint_id).await?;
    let price = match &key {
        Some(k) => state
            .catalog
            .prices
            .prices(&state.fal, k, std::slice::from_ref(&endpoint_id))
            .await
            .pop()
            .flatten(),
        None => None,
    };
    Ok(AppJson(SpecOut {
        spec,
        display_name: info.map(|i| i.display_name),
        price,
    }))
}

/// The endpoint's derived spec: from memory when fresh, else from fal's OpenAPI document, else
/// the last one derived when fal fails; each cached per key (fingerprint) and endpoint.
pub async fn load_spec(state: &AppState, key: Option<&FalKey>, endpoint_id: &str) -> Result<Spec> {
    let cache_key = format!("{}|{endpoint_id}", key_fingerprint(key));
    let cached = match state.catalog.specs.get(&cache_key) {
        Lookup::Fresh(spec) => return Ok(spec),
        other => other,
    };
    let doc = match state.fal.openapi(key, endpoint_id).await {
        Ok(doc) => doc,
        Err(err) => {
            if let Lookup::Stale(spec) = cached {
                tracing::warn!(error = %err, endpoint_id, "OpenAPI fetch failed; serving the cached spec");
                return Ok(spec);
            }
            return Err(match err.category {
                Category::NotFound => AppError::not_found(format!(
                    "fal has no model '{endpoint_id}'. It may have been removed from the catalog; pick another model."
                )),
                _ => ProviderError {
                    message: format!(
                        "Could not load the form for '{endpoint_id}' from fal: {}",
                        err.message
                    ),
                    ..err
                }
                .into(),
            });
        }
    };
    let category = store::known(&state.db, endpoint_id)
        .await?
        .and_then(|m| m.category);
    let spec = spec::derive_spec(endpoint_id, &doc, category.as_deref()).map_err(|e| {
        AppError::new(
            Category::ProviderError,
            format!("fal's description of '{endpoint_id}' cannot be turned into a form: {e}"),
        )
        .with_status(axum::http::StatusCode::BAD_GATEWAY)
    })?;
    state.catalog.specs.insert(cache_key, spec.clone());
    Ok(spec)
}

#[derive(Deserialize, ToSchema)]
struct EstimateBody {
    #[schema(example = "fal-ai/flux/dev")]
    endpoint: String,
    /// The form's values; unset ones count at their defaults.
    #[serde(default)]
    #[schema(value_type = Object)]
    params: Map<String, Value>,
}

/// What a run with these parameters would cost. A missing estimate is not an error: `reason`
/// says why there is none.
#[utoipa::path(
    post, path = "/models/estimate", operation_id = "estimateCost", tag = "models", request_body = EstimateBody,
    responses((status = 200, body = EstimateOut)),
)]
async fn estimate(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    AppJson(body): AppJson<EstimateBody>,
) -> Result<AppJson<EstimateOut>> {
    let endpoint_id = endpoint_param(Some(&body.endpoint))?;
    let no_estimate = |reason: String| {
        Ok(AppJson(EstimateOut {
            estimate: None,
            reason: Some(reason),
        }))
    };
    let Some(key) = optional_key(&state, &user).await else {
        return no_estimate("Add your fal key in Settings to see prices.".into());
    };
    let price = state
        .catalog
        .prices
        .prices(&state.fal, &key, std::slice::from_ref(&endpoint_id))
        .await
        .pop()
        .flatten();
    let Some(price) = price else {
        return no_estimate("fal publishes no price for this model.".into());
    };
    let mut params = body.params;
    let mut prompt_field = None;
    if let Ok(spec) = load_spec(&state, Some(&key), &endpoint_id).await {
        fill_defaults(&spec, &mut params);
        prompt_field = spec.prompt_field.clone();
    }
    let main_text = main_text(prompt_field.as_deref(), &params);
    let quantity = match pricing::unit_quantity(&price.unit, &params, main_text) {
        Ok(q) => q,
        Err(reason) => return no_estimate(reason),
    };
    match state.fal.estimate(&key, &endpoint_id, quantity).await {
        Ok(estimate) => Ok(AppJson(EstimateOut {
            estimate: Some(Estimate {
                total_cost: estimate.total_cost,
                currency: estimate.currency,
                unit: price.unit,
                unit_quantity: quantity,
                unit_price: price.unit_price,
            }),
            reason: None,
        })),
        Err(err) => no_estimate(format!("fal could not estimate the price: {}", err.message)),
    }
}

/// The price estimate a job keeps from when it started: the unit price times the units its
/// parameters ask for (defaults filled in). `None` when fal has no price or the units cannot
/// be told; never an error, since an estimate must not stop a generation.
pub async fn estimate_for(
    state: &AppState,
    key: &FalKey,
    spec: &Spec,
    params: &Map<String, Value>,
) -> Option<Estimate> {
    let price = state
        .catalog
        .prices
        .prices(&state.fal, key, std::slice::from_ref(&spec.endpoint_id))
        .await
        .pop()
        .flatten()?;
    let mut params = params.clone();
    fill_defaults(spec, &mut params);
    let main_text = main_text(spec.prompt_field.as_deref(), &params);
    let quantity = pricing::unit_quantity(&price.unit, &params, main_text).ok()?;
    let total = (price.unit_price * quantity * 10_000.0).round() / 10_000.0;
    Some(Estimate {
        total_cost: total,
        currency: price.currency,
        unit: price.unit,
        unit_quantity: quantity,
        unit_price: price.unit_price,
    })
}

/// The value of the spec's prompt field among `params`: what a per-character price counts.
fn main_text<'a>(prompt_field: Option<&str>, params: &'a Map<String, Value>) -> Option<&'a str> {
    params.get(prompt_field?).and_then(Value::as_str)
}

/// Unset parameters count at their defaults, as fal will run them.
fn fill_defaults(spec: &Spec, params: &mut Map<String, Value>) {
    for field in &spec.fields {
        if let (false, Some(default)) = (params.contains_key(&field.name), &field.default) {
            params.insert(field.name.clone(), default.clone());
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct EndpointBody {
    #[schema(example = "fal-ai/flux/dev")]
    endpoint_id: String,
}

/// The user's favourite models.
#[utoipa::path(get, path = "/models/favorites", operation_id = "listFavorites", tag = "models", responses((status = 200, body = ModelList)))]
async fn favorites(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
) -> Result<AppJson<ModelList>> {
    list_of(&state, &user, store::favorites(&state.db, &user.id).await?).await
}

/// Adds a favourite; answers with all of them.
#[utoipa::path(
    put, path = "/models/favorites", operation_id = "addFavorite", tag = "models", request_body = EndpointBody,
    responses((status = 200, body = ModelList)),
)]
async fn add_favorite(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    AppJson(body): AppJson<EndpointBody>,
) -> Result<AppJson<ModelList>> {
    let endpoint_id = endpoint_param(Some(&body.endpoint_id))?;
    store::add_favorite(&state.db, &user.id, &endpoint_id).await?;
    favorites(State(state), CurrentUser(user)).await
}

/// Removes a favourite (if it was one); answers with the rest.
#[utoipa::path(
    delete, path = "/models/favorites", operation_id = "removeFavorite", tag = "models", params(SpecQuery),
    responses((status = 200, body = ModelList)),
)]
async fn remove_favorite(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    AppQuery(query): AppQuery<SpecQuery>,
) -> Result<AppJson<ModelList>> {
    let endpoint_id = endpoint_param(query.endpoint.as_deref())?;
    store::remove_favorite(&state.db, &user.id, &endpoint_id).await?;
    favorites(State(state), CurrentUser(user)).await
}

/// The models the user ran most recently (at most 12), newest first.
#[utoipa::path(get, path = "/models/recent", operation_id = "listRecentModels", tag = "models", responses((status = 200, body = ModelList)))]
async fn recents(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
) -> Result<AppJson<ModelList>> {
    list_of(&state, &user, store::recents(&state.db, &user.id).await?).await
}

/// Marks a model as just used.
#[utoipa::path(
    post, path = "/models/recent", operation_id = "touchRecentModel", tag = "models", request_body = EndpointBody,
    responses((status = 200, body = ModelList)),
)]
async fn touch_recent(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    AppJson(body): AppJson<EndpointBody>,
) -> Result<AppJson<ModelList>> {
    let endpoint_id = endpoint_param(Some(&body.endpoint_id))?;
    store::touch_recent(&state.db, &user.id, &endpoint_id).await?;
    recents(State(state), CurrentUser(user)).await
}

async fn list_of(
    state: &AppState,
    user: &UserRow,
    models: Vec<ModelInfo>,
) -> Result<AppJson<ModelList>> {
    let key = optional_key(state, user).await;
    let models = with_prices(state, key.as_ref(), models).await;
    Ok(AppJson(ModelList { models }))
}

async fn with_prices(
    state: &AppState,
    key: Option<&FalKey>,
    models: Vec<ModelInfo>,
) -> Vec<ModelOut> {
    let prices = match key {
        Some(k) if !models.is_empty() => {
            let ids: Vec<String> = models.iter().map(|m| m.endpoint_id.clone()).collect();
            state.catalog.prices.prices(&state.fal, k, &ids).await
        }
        _ => vec![None; models.len()],
    };
    models
        .into_iter()
        .zip(prices)
        .map(|(info, price)| ModelOut { info, price })
        .collect()
}

/// The key the user's jobs would run on (their own, or the studio key they may use) when it is
/// readable: prices are that key's. The catalog also works without.
async fn optional_key(state: &AppState, user: &UserRow) -> Option<FalKey> {
    if user.fal_key_ciphertext.is_some() {
        return user_fal_key(state, user).ok();
    }
    if !user.may_use_studio_key {
        return None;
    }
    let settings = crate::team::settings::load(&state.db).await.ok()?;
    crate::team::keys::studio_key(state, &settings).ok()
}

/// Separates cache entries (and the job runner's per-key concurrency counts) by key without
/// keeping the key itself.
pub(crate) fn key_fingerprint(key: Option<&FalKey>) -> String {
    match key {
        None => "anonymous".into(),
        Some(k) => {
            let digest = Sha256::digest(k.expose().as_bytes());
            digest.iter().take(8).map(|b| format!("{b:02x}")).collect()
        }
    }
}

fn catalog_error(err: ProviderError) -> AppError {
    match err.category {
        Category::InvalidKey => AppError::new(
            Category::InvalidKey,
            "fal rejected your saved key while loading the model list. Replace it in Settings.",
        ),
        _ => ProviderError {
            message: format!("Could not load fal's model list: {}", err.message),
            ..err
        }
        .into(),
    }
}

fn clean(value: Option<String>, max_chars: usize, name: &str) -> Result<Option<String>> {
    let Some(v) = value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    if v.chars().count() > max_chars || v.chars().any(char::is_control) {
        return Err(AppError::invalid_request(format!(
            "'{name}' is too long or has control characters (at most {max_chars} characters)."
        ))
        .with_field_problem(name, "too long or not plain text"));
    }
    Ok(Some(v))
}

/// An endpoint id is `owner/alias[/sub/path]` of plain URL-safe segments; anything else is
/// refused before it is put into a URL.
pub fn endpoint_param(value: Option<&str>) -> Result<String> {
    let id = value.map(str::trim).unwrap_or("");
    let segment_ok = |s: &str| {
        !s.is_empty()
            && s != "."
            && s != ".."
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    };
    let segments: Vec<&str> = id.split('/').collect();
    if id.len() > MAX_ENDPOINT_ID_LEN
        || segments.len() < 2
        || !segments.iter().all(|s| segment_ok(s))
    {
        return Err(AppError::invalid_request(
            "Name a model by its fal endpoint id, like fal-ai/flux/dev.",
        )
        .with_field_problem("endpoint", "not a fal endpoint id"));
    }
    Ok(id.to_owned())
}

/// Marks a model as just used by this user (called when a job is created).
pub async fn touch_recent_model(state: &AppState, user_id: &str, endpoint_id: &str) -> Result<()> {
    store::touch_recent(&state.db, user_id, endpoint_id).await
}

/// Shared handle used by `AppState`.
pub type SharedCatalog = Arc<Catalog>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_ids_are_checked() {
        for ok in [
            "fal-ai/flux/dev",
            "fal-ai/veo3.1/first-last-frame-to-video",
            "a/b",
        ] {
            assert_eq!(endpoint_param(Some(ok)).unwrap(), ok);
        }
        for bad in [
            "",
            "flux",
            "fal-ai/",
            "/fal-ai/flux",
            "fal-ai/../x",
            "fal-ai/flux?x=1",
            "fal-ai/fl ux",
            "https://evil/x",
            "fal-ai//flux",
        ] {
            assert!(endpoint_param(Some(bad)).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn fingerprints_differ_per_key_and_hide_it() {
        let a = key_fingerprint(Some(&FalKey::new("key-a:secret".into())));
        let b = key_fingerprint(Some(&FalKey::new("key-b:secret".into())));
        assert_ne!(a, b);
        assert!(!a.contains("secret"));
        assert_eq!(key_fingerprint(None), "anonymous");
    }
}
