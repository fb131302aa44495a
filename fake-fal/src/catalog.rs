//! The fake catalog: `/v1/models`, pricing, the price estimate, and per-endpoint OpenAPI
//! documents, shaped as `shared/fal-api.md` describes.

use axum::{
    Json,
    extract::{Query, RawQuery},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{key_behaviour, reject_bad_key};

macro_rules! fixture {
    ($file:literal) => {
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../fixtures/fal-schemas/",
            $file
        ))
    };
}

pub struct FakeModel {
    pub endpoint_id: &'static str,
    pub display_name: &'static str,
    pub category: &'static str,
    pub description: &'static str,
    pub openapi: Option<&'static str>,
    /// (unit price, unit) in USD; `None`: fal publishes no price.
    pub price: Option<(f64, &'static str)>,
}

pub const MODELS: &[FakeModel] = &[
    FakeModel {
        endpoint_id: "fal-ai/bytedance/seedream/v4/text-to-image",
        display_name: "Bytedance Seedream v4",
        category: "text-to-image",
        description: "Text to image with Seedream 4.0",
        openapi: Some(fixture!(
            "fal-ai__bytedance__seedream__v4__text-to-image.json"
        )),
        price: Some((0.03, "image")),
    },
    FakeModel {
        endpoint_id: "fal-ai/bytedance/seedream/v4/edit",
        display_name: "Bytedance Seedream v4 Edit",
        category: "image-to-image",
        description: "Edit images with Seedream 4.0",
        openapi: Some(fixture!("fal-ai__bytedance__seedream__v4__edit.json")),
        price: Some((0.03, "image")),
    },
    FakeModel {
        endpoint_id: "fal-ai/nano-banana/edit",
        display_name: "Nano Banana Edit",
        category: "image-to-image",
        description: "Image editing with Gemini's image model",
        openapi: Some(fixture!("fal-ai__nano-banana__edit.json")),
        price: Some((0.039, "image")),
    },
    FakeModel {
        endpoint_id: "fal-ai/flux-pro/kontext",
        display_name: "FLUX.1 Kontext [pro]",
        category: "image-to-image",
        description: "Edit images with text and reference images",
        openapi: Some(fixture!("fal-ai__flux-pro__kontext.json")),
        price: Some((0.04, "image")),
    },
    FakeModel {
        endpoint_id: "fal-ai/kling-video/v2.1/master/image-to-video",
        display_name: "Kling 2.1 Master",
        category: "image-to-video",
        description: "Image to video with Kling 2.1 Master",
        openapi: Some(fixture!(
            "fal-ai__kling-video__v2.1__master__image-to-video.json"
        )),
        price: Some((0.28, "seconds")),
    },
    FakeModel {
        endpoint_id: "fal-ai/minimax/hailuo-02/standard/image-to-video",
        display_name: "MiniMax Hailuo 02 Standard",
        category: "image-to-video",
        description: "Image to video with Hailuo 02",
        openapi: Some(fixture!(
            "fal-ai__minimax__hailuo-02__standard__image-to-video.json"
        )),
        price: Some((0.045, "seconds")),
    },
    FakeModel {
        endpoint_id: "fal-ai/veo3.1/first-last-frame-to-video",
        display_name: "Veo 3.1 First-Last Frame",
        category: "image-to-video",
        description: "Video between a first and a last frame",
        openapi: Some(fixture!("fal-ai__veo3.1__first-last-frame-to-video.json")),
        price: Some((0.4, "seconds")),
    },
    FakeModel {
        endpoint_id: "fal-ai/elevenlabs/tts/multilingual-v2",
        display_name: "ElevenLabs TTS Multilingual v2",
        category: "text-to-speech",
        description: "Speech from text in 29 languages",
        openapi: Some(fixture!("fal-ai__elevenlabs__tts__multilingual-v2.json")),
        price: Some((0.1, "1000 characters")),
    },
    FakeModel {
        endpoint_id: "fal-ai/veo3",
        display_name: "Veo 3",
        category: "text-to-video",
        description: "Text to video with sound",
        openapi: Some(fixture!("fal-ai__veo3.json")),
        price: None,
    },
];

pub const FILLER_COUNT: usize = 40;

/// The whole fake catalog, fixtures first, then fillers `fake-ai/filler-NN` (text-to-image,
/// no OpenAPI document, priced on even numbers only).
fn all_models() -> Vec<Value> {
    let real = MODELS.iter().enumerate().map(|(i, m)| {
        entry(
            m.endpoint_id,
            m.display_name,
            m.category,
            m.description,
            &thumbnail(i),
        )
    });
    let fillers = (0..FILLER_COUNT).map(|n| {
        entry(
            &filler_id(n),
            &format!("Filler Model {n:02}"),
            "text-to-image",
            "A catalog entry without an OpenAPI document",
            &thumbnail(n + MODELS.len()),
        )
    });
    real.chain(fillers).collect()
}

fn filler_id(n: usize) -> String {
    format!("fake-ai/filler-{n:02}")
}

pub(crate) fn price_of(endpoint_id: &str) -> Option<(f64, &'static str)> {
    if let Some(m) = MODELS.iter().find(|m| m.endpoint_id == endpoint_id) {
        return m.price;
    }
    let n: usize = endpoint_id.strip_prefix("fake-ai/filler-")?.parse().ok()?;
    (n < FILLER_COUNT && n.is_multiple_of(2)).then_some((0.01, "image"))
}

fn entry(id: &str, name: &str, category: &str, description: &str, thumb: &str) -> Value {
    json!({
        "endpoint_id": id,
        "metadata": {
            "display_name": name,
            "category": category,
            "description": description,
            "status": "active",
            "tags": [],
            "updated_at": "2026-11-01T00:00:00Z",
            "thumbnail_url": thumb,
            "model_url": format!("https://fal.run/{id}"),
            "date": "2026-01-01T00:00:00Z",
        }
    })
}

/// A small coloured square as a `data:` URI: no network needed to show it.
fn thumbnail(i: usize) -> String {
    let hue = (i * 47) % 360;
    let svg = format!(
        "<svg xmlns='http://www.w3.org/2000/svg' width='64' height='64'><rect width='64' height='64' fill='hsl({hue},60%,55%)'/></svg>"
    );
    format!(
        "data:image/svg+xml;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(svg)
    )
}

#[derive(Deserialize)]
pub struct ModelsQuery {
    q: Option<String>,
    category: Option<String>,
    status: Option<String>,
    limit: Option<usize>,
    cursor: Option<String>,
    expand: Option<String>,
}

pub async fn models(headers: HeaderMap, Query(query): Query<ModelsQuery>) -> Response {
    // The catalog works without a key; a bad key is still refused.
    if headers.contains_key(axum::http::header::AUTHORIZATION)
        && let Some(r) = reject_bad_key(&key_behaviour(&headers))
    {
        return r;
    }
    let limit = query.limit.unwrap_or(20).clamp(1, 100);
    let offset = match query.cursor.as_deref().map(decode_cursor) {
        None => 0,
        Some(Some(n)) => n,
        Some(None) => {
            return validation_error("cursor", "Invalid cursor");
        }
    };
    let needle = query.q.as_deref().map(str::to_lowercase);
    let matching: Vec<Value> = all_models()
        .into_iter()
        .filter(|m| {
            let meta = &m["metadata"];
            let category_ok = query
                .category
                .as_deref()
                .is_none_or(|c| meta["category"] == c);
            let status_ok = query.status.as_deref().is_none_or(|s| meta["status"] == s);
            let q_ok = needle.as_deref().is_none_or(|n| {
                [
                    &m["endpoint_id"],
                    &meta["display_name"],
                    &meta["description"],
                ]
                .iter()
                .any(|v| v.as_str().is_some_and(|s| s.to_lowercase().contains(n)))
            });
            category_ok && status_ok && q_ok
        })
        .collect();
    let end = (offset + limit).min(matching.len());
    let mut page: Vec<Value> = matching.get(offset..end).unwrap_or(&[]).to_vec();
    if query
        .expand
        .as_deref()
        .is_some_and(|e| e.contains("openapi-3.0"))
    {
        for m in &mut page {
            let doc = m["endpoint_id"]
                .as_str()
                .and_then(openapi_of)
                .and_then(|d| serde_json::from_str::<Value>(d).ok());
            if let Some(doc) = doc {
                m["openapi"] = doc;
            }
        }
    }
    let has_more = end < matching.len();
    Json(json!({
        "models": page,
        "next_cursor": has_more.then(|| encode_cursor(end)),
        "has_more": has_more,
    }))
    .into_response()
}

fn encode_cursor(offset: usize) -> String {
    URL_SAFE_NO_PAD.encode(format!("offset:{offset}"))
}

fn decode_cursor(cursor: &str) -> Option<usize> {
    let raw = URL_SAFE_NO_PAD.decode(cursor).ok()?;
    std::str::from_utf8(&raw)
        .ok()?
        .strip_prefix("offset:")?
        .parse()
        .ok()
}

fn openapi_of(endpoint_id: &str) -> Option<&'static str> {
    MODELS
        .iter()
        .find(|m| m.endpoint_id == endpoint_id)
        .and_then(|m| m.openapi)
}

fn validation_error(field: &str, message: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(
            json!({ "error": { "type": "validation_error", "message": format!("{field}: {message}") } }),
        ),
    )
        .into_response()
}

/// Repeated `endpoint_id` parameters, which `Query` cannot collect.
fn endpoint_ids(raw: Option<&str>) -> Vec<String> {
    url::form_urlencoded::parse(raw.unwrap_or("").as_bytes())
        .filter(|(k, _)| k == "endpoint_id")
        .map(|(_, v)| v.into_owned())
        .collect()
}

pub async fn pricing(headers: HeaderMap, RawQuery(raw): RawQuery) -> Response {
    if let Some(r) = reject_bad_key(&key_behaviour(&headers)) {
        return r;
    }
    let ids = endpoint_ids(raw.as_deref());
    if ids.is_empty() || ids.len() > 50 {
        return validation_error("endpoint_id", "Give 1 to 50 endpoint ids");
    }
    let prices: Vec<Value> = ids
        .iter()
        .filter_map(|id| {
            let (unit_price, unit) = price_of(id)?;
            Some(
                json!({ "endpoint_id": id, "unit_price": unit_price, "unit": unit, "currency": "USD" }),
            )
        })
        .collect();
    Json(json!({ "prices": prices, "next_cursor": null, "has_more": false })).into_response()
}

pub async fn estimate(headers: HeaderMap, Json(body): Json<Value>) -> Response {
    if let Some(r) = reject_bad_key(&key_behaviour(&headers)) {
        return r;
    }
    if body["estimate_type"] != "unit_price" {
        return validation_error("estimate_type", "Only unit_price is supported here");
    }
    let Some(endpoints) = body["endpoints"].as_object() else {
        return validation_error("endpoints", "Required");
    };
    let mut total = 0.0;
    for (id, spec) in endpoints {
        let Some((unit_price, _)) = price_of(id) else {
            return validation_error("endpoints", &format!("No price for {id}"));
        };
        let Some(quantity) = spec["unit_quantity"].as_f64() else {
            return validation_error("unit_quantity", "Must be a number");
        };
        total += unit_price * quantity;
    }
    // Rounding keeps float noise (0.30000000000000004) out of the answer.
    let total = (total * 10_000.0).round() / 10_000.0;
    Json(json!({ "estimate_type": "unit_price", "total_cost": total, "currency": "USD" }))
        .into_response()
}

#[derive(Deserialize)]
pub struct OpenApiQuery {
    endpoint_id: Option<String>,
}

pub async fn openapi(Query(query): Query<OpenApiQuery>) -> Response {
    let Some(id) = query.endpoint_id else {
        return validation_error("endpoint_id", "Required");
    };
    match openapi_of(&id) {
        Some(doc) => (
            [(axum::http::header::CONTENT_TYPE, "application/json")],
            doc,
        )
            .into_response(),
        None => (
            StatusCode::NOT_FOUND,
            Json(json!({ "detail": format!("Endpoint {id} not found") })),
        )
            .into_response(),
    }
}

/// Whether the fake queue accepts this endpoint: any listed model, documented or filler.
pub fn knows(endpoint_id: &str) -> bool {
    MODELS.iter().any(|m| m.endpoint_id == endpoint_id)
        || endpoint_id
            .strip_prefix("fake-ai/filler-")
            .and_then(|n| n.parse::<usize>().ok())
            .is_some_and(|n| n < FILLER_COUNT)
}

/// Speech and audio endpoints answer with an `audio` file.
pub fn is_audio(endpoint_id: &str) -> bool {
    MODELS
        .iter()
        .find(|m| m.endpoint_id == endpoint_id)
        .is_some_and(|m| m.category.ends_with("-to-speech") || m.category.ends_with("-to-audio"))
}

/// Video endpoints answer with a `video` file, the rest with `images`.
pub fn is_video(endpoint_id: &str) -> bool {
    MODELS
        .iter()
        .find(|m| m.endpoint_id == endpoint_id)
        .is_some_and(|m| m.category.ends_with("-to-video"))
}
