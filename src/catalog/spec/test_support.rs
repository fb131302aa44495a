//! Shared by the spec tests: the eight real fal documents (`fixtures/fal-schemas/`) and small
//! synthetic fal-shaped documents.

use serde_json::{Map, Value, json};

use super::{BucketTarget, Field, Spec, derive_spec};

macro_rules! fixture {
    ($file:literal) => {
        serde_json::from_str::<Value>(include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/fal-schemas/",
            $file,
            ".json"
        )))
        .unwrap()
    };
}

pub(super) const SEEDREAM_T2I: &str = "fal-ai/bytedance/seedream/v4/text-to-image";

pub(super) const SEEDREAM_EDIT: &str = "fal-ai/bytedance/seedream/v4/edit";

pub(super) const NANO_BANANA_EDIT: &str = "fal-ai/nano-banana/edit";

pub(super) const KONTEXT: &str = "fal-ai/flux-pro/kontext";

pub(super) const KLING: &str = "fal-ai/kling-video/v2.1/master/image-to-video";

pub(super) const HAILUO: &str = "fal-ai/minimax/hailuo-02/standard/image-to-video";

pub(super) const VEO31_FLF: &str = "fal-ai/veo3.1/first-last-frame-to-video";

pub(super) const VEO3: &str = "fal-ai/veo3";

pub(super) fn real_documents() -> Vec<(&'static str, Value)> {
    vec![
        (
            SEEDREAM_T2I,
            fixture!("fal-ai__bytedance__seedream__v4__text-to-image"),
        ),
        (
            SEEDREAM_EDIT,
            fixture!("fal-ai__bytedance__seedream__v4__edit"),
        ),
        (NANO_BANANA_EDIT, fixture!("fal-ai__nano-banana__edit")),
        (KONTEXT, fixture!("fal-ai__flux-pro__kontext")),
        (
            KLING,
            fixture!("fal-ai__kling-video__v2.1__master__image-to-video"),
        ),
        (
            HAILUO,
            fixture!("fal-ai__minimax__hailuo-02__standard__image-to-video"),
        ),
        (
            VEO31_FLF,
            fixture!("fal-ai__veo3.1__first-last-frame-to-video"),
        ),
        (VEO3, fixture!("fal-ai__veo3")),
    ]
}

pub(super) fn real(id: &str) -> Spec {
    let (_, doc) = real_documents()
        .into_iter()
        .find(|(i, _)| *i == id)
        .unwrap();
    derive_spec(id, &doc, None).unwrap()
}

pub(super) fn names(spec: &Spec) -> Vec<&str> {
    spec.fields.iter().map(|f| f.name.as_str()).collect()
}

pub(super) fn required(spec: &Spec) -> Vec<&str> {
    spec.fields
        .iter()
        .filter(|f| f.required)
        .map(|f| f.name.as_str())
        .collect()
}

pub(super) fn field<'s>(spec: &'s Spec, name: &str) -> &'s Field {
    spec.field(name)
        .unwrap_or_else(|| panic!("no field {name} in {:?}", names(spec)))
}

pub(super) fn target(field: &str, multiple: bool) -> Option<BucketTarget> {
    Some(BucketTarget {
        field: field.to_owned(),
        multiple,
    })
}

pub(super) fn strings(values: &[&str]) -> Option<Vec<Value>> {
    Some(values.iter().map(|v| json!(v)).collect())
}

pub(super) const TEST_ID: &str = "acme/model";

/// A minimal fal-shaped document for `acme/model` with the given input and output schemas.
pub(super) fn synthetic(
    input: Value,
    output: Value,
    schemas: Value,
    category: Option<&str>,
) -> Value {
    let mut info = json!({"title": "test"});
    if let Some(c) = category {
        info["x-fal-metadata"] = json!({"endpointId": TEST_ID, "category": c});
    }
    json!({
        "openapi": "3.0.4",
        "info": info,
        "components": {"schemas": schemas},
        "paths": {
            "/acme/model/requests/{request_id}/status": {"get": {"responses": {}}},
            "/acme/model/requests/{request_id}/cancel": {"put": {"responses": {}}},
            "/acme/model": {"post": {"requestBody": {"content": {
                "application/json": {"schema": input}}}}},
            "/acme/model/requests/{request_id}": {"get": {"responses": {"200": {"content": {
                "application/json": {"schema": output}}}}}}
        }
    })
}

pub(super) fn image_output() -> Value {
    json!({"type": "object", "properties": {"images": {"type": "array", "items": {"type": "object"}}}})
}

pub(super) fn video_output() -> Value {
    json!({"type": "object", "properties": {"video": {"type": "object"}}})
}

pub(super) fn synthetic_spec(properties: Value, output: Value) -> Spec {
    let input = json!({"type": "object", "properties": properties});
    derive_spec(TEST_ID, &synthetic(input, output, json!({}), None), None).unwrap()
}

pub(super) fn url_props(names: &[&str]) -> Value {
    let mut props = Map::new();
    props.insert("prompt".into(), json!({"type": "string"}));
    for n in names {
        let schema = if n.ends_with("_urls") {
            json!({"type": "array", "items": {"type": "string"}})
        } else {
            json!({"type": "string"})
        };
        props.insert((*n).to_owned(), schema);
    }
    Value::Object(props)
}
