//! Form specs derived from a fal endpoint's OpenAPI document, and validation of user params.
//!
//! The document is untrusted input (fetched from fal, or stored by a third party with its own
//! additions), so every lookup here is fallible and every recursion is bounded: a broken or hostile
//! document becomes `SpecError::Unusable` or a degraded field, never a panic.
//!
//! - `derive`: the submit operation, the input and result schemas, the output kind;
//! - `schema`: `$ref`s, `allOf` and unions merged into one bounded view of a schema;
//! - `fields`: what each property of that view becomes in the form;
//! - `buckets`: which fields the upload buckets (first frame, references, ...) fill;
//! - `validate`: checking a user's params against a spec.

use serde::{Deserialize, Serialize};
use serde_json::Value;

mod buckets;
mod derive;
mod fields;
mod prompt;
mod schema;
#[cfg(test)]
mod test_support;
mod validate;

pub use derive::derive_spec;
pub use validate::validate_params;

/// Nesting we follow through `$ref`/`allOf`/`anyOf` and nested objects. Real fal inputs are at
/// most three levels deep; anything deeper is either a cycle we failed to spot or hostile.
const MAX_DEPTH: usize = 24;

#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    #[error("{0}")]
    Unusable(String),
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Spec {
    pub endpoint_id: String,
    pub output_kind: OutputKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    pub fields: Vec<Field>,
    #[serde(default)]
    pub buckets: Buckets,
    /// The field that holds the prompt: the endpoint's main free text, whatever it is called
    /// (`prompt`, `text`, `gen_text`, `instruction`, ...). Absent when none stands out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt_field: Option<String>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum OutputKind {
    Image,
    Video,
    Audio,
    #[serde(rename = "3d")]
    ThreeD,
    Text,
    Unknown,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Field {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: FieldType,
    #[serde(default)]
    pub required: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<Value>,
    #[serde(rename = "enum", default, skip_serializing_if = "Option::is_none")]
    pub enum_values: Option<Vec<Value>>,
    /// The field also takes a custom object (described by `fields`), like `image_size`'s
    /// `{width, height}` next to its presets.
    #[serde(default, skip_serializing_if = "is_false")]
    pub allow_custom: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minimum: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub maximum: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exclusive_minimum: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exclusive_maximum: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_length: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_length: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_items: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_items: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub examples: Option<Vec<Value>>,
    pub group: Group,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accept: Option<MediaKind>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(no_recursion)]
    pub fields: Option<Vec<Field>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(no_recursion)]
    pub items: Option<Box<Field>>,
    #[serde(default)]
    pub nullable: bool,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum FieldType {
    String,
    Text,
    Integer,
    Number,
    Boolean,
    Enum,
    Array,
    Object,
    File,
    Files,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Group {
    Main,
    Advanced,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum MediaKind {
    Image,
    Video,
    Audio,
    Any,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Buckets {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub general_references: Option<BucketTarget>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_frame: Option<BucketTarget>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_frame: Option<BucketTarget>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storyboard_reference: Option<BucketTarget>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BucketTarget {
    pub field: String,
    pub multiple: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FieldIssue {
    pub field: String,
    pub message: String,
}

fn is_false(b: &bool) -> bool {
    !*b
}

impl Spec {
    /// The multipart field names the browser uploads under (see DESIGN.md "Upload buckets").
    pub const BUCKET_NAMES: [&'static str; 4] = [
        "generalReferences",
        "firstFrame",
        "lastFrame",
        "storyboardReference",
    ];

    pub fn field(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.name == name)
    }

    pub fn bucket(&self, bucket_name: &str) -> Option<&BucketTarget> {
        match bucket_name {
            "generalReferences" => self.buckets.general_references.as_ref(),
            "firstFrame" => self.buckets.first_frame.as_ref(),
            "lastFrame" => self.buckets.last_frame.as_ref(),
            "storyboardReference" => self.buckets.storyboard_reference.as_ref(),
            _ => None,
        }
    }
}

impl Field {
    fn new(name: &str, kind: FieldType) -> Self {
        Field {
            name: name.to_owned(),
            kind,
            required: false,
            default: None,
            enum_values: None,
            allow_custom: false,
            minimum: None,
            maximum: None,
            exclusive_minimum: None,
            exclusive_maximum: None,
            min_length: None,
            max_length: None,
            min_items: None,
            max_items: None,
            title: None,
            description: None,
            examples: None,
            group: Group::Advanced,
            accept: None,
            fields: None,
            items: None,
            nullable: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::spec::test_support::*;
    use serde_json::{Map, json};

    #[test]
    fn the_spec_serializes_in_the_documented_wire_shape() {
        let spec = real(SEEDREAM_T2I);
        let wire = serde_json::to_value(&spec).unwrap();
        assert_eq!(wire["endpointId"], json!(SEEDREAM_T2I));
        assert_eq!(wire["outputKind"], json!("image"));
        assert_eq!(wire["buckets"], json!({}));
        let size = &wire["fields"][1];
        assert_eq!(size["type"], json!("enum"));
        assert_eq!(size["allowCustom"], json!(true));
        assert_eq!(size["enum"][0], json!("square_hd"));
        assert_eq!(size["group"], json!("main"));
        assert_eq!(size["fields"][0]["exclusiveMinimum"], json!(0.0));
        let prompt = wire["fields"][0].as_object().unwrap();
        assert!(!prompt.contains_key("allowCustom"));
        assert!(!prompt.contains_key("default"));
        assert!(!prompt.contains_key("fields"));
        assert_eq!(prompt["required"], json!(true));
        assert_eq!(prompt["nullable"], json!(false));

        let video = serde_json::to_value(real(VEO31_FLF)).unwrap();
        assert_eq!(
            video["buckets"],
            json!({"firstFrame": {"field": "first_frame_url", "multiple": false},
                   "lastFrame": {"field": "last_frame_url", "multiple": false}})
        );
        assert_eq!(
            serde_json::to_value(OutputKind::ThreeD).unwrap(),
            json!("3d")
        );
        let back: Spec = serde_json::from_value(video).unwrap();
        assert_eq!(back, real(VEO31_FLF));
    }

    #[test]
    fn bucket_lookup_uses_the_wire_names() {
        let spec = real(VEO31_FLF);
        assert_eq!(
            spec.bucket("firstFrame").map(|b| b.field.as_str()),
            Some("first_frame_url")
        );
        assert_eq!(
            spec.bucket("lastFrame").map(|b| b.field.as_str()),
            Some("last_frame_url")
        );
        assert_eq!(spec.bucket("generalReferences"), None);
        assert_eq!(spec.bucket("first_frame"), None);
        for name in Spec::BUCKET_NAMES {
            let _ = spec.bucket(name);
        }
        assert_eq!(Spec::BUCKET_NAMES.len(), 4);
    }

    #[test]
    fn serde_json_keeps_document_order() {
        // Without serde_json's `preserve_order` feature, properties missing from
        // x-fal-order-properties would come out alphabetically instead of as fal wrote them.
        let map: Map<String, Value> = serde_json::from_str(r#"{"b": 1, "a": 2}"#).unwrap();
        assert_eq!(
            map.keys().collect::<Vec<_>>(),
            ["b", "a"],
            "enable serde_json's preserve_order feature"
        );
    }
}
