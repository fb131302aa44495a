//! What each property becomes in the form: its type (file, files, text, enum, ...), bounds,
//! examples, accepted media and group (main or advanced).

use serde_json::Value;

use super::{
    Field, FieldType, Group, MAX_DEPTH, MediaKind,
    schema::{Ctx, Flat},
};

impl<'a> Ctx<'a> {
    /// Converts the properties of an object view to fields, in display order.
    pub(super) fn object_fields(&mut self, flat: &Flat<'a>, depth: usize) -> Vec<Field> {
        if depth > MAX_DEPTH {
            return Vec::new();
        }
        let mark = self.stack.len();
        self.stack.extend(flat.refs.iter().copied());
        let mut ordered: Vec<(&'a str, &'a Value)> = Vec::with_capacity(flat.properties.len());
        for name in flat.order.into_iter().flatten().filter_map(Value::as_str) {
            let listed = flat.properties.iter().find(|(n, _)| *n == name);
            if let Some(&(n, s)) = listed
                && !ordered.iter().any(|(o, _)| *o == n)
            {
                ordered.push((n, s));
            }
        }
        for &(n, s) in &flat.properties {
            if !ordered.iter().any(|(o, _)| *o == n) {
                ordered.push((n, s));
            }
        }
        let fields = ordered
            .into_iter()
            .map(|(name, schema)| {
                let required = flat.required.contains(&name);
                let nested = self.flatten(schema, depth + 1);
                self.field_from_flat(name, &nested, required, depth + 1)
            })
            .collect();
        self.stack.truncate(mark);
        fields
    }

    fn field_from_flat(
        &mut self,
        name: &str,
        flat: &Flat<'a>,
        required: bool,
        depth: usize,
    ) -> Field {
        let mark = self.stack.len();
        self.stack.extend(flat.refs.iter().copied());
        let field = self.convert(name, flat, required, depth);
        self.stack.truncate(mark);
        field
    }

    fn convert(&mut self, name: &str, flat: &Flat<'a>, required: bool, depth: usize) -> Field {
        let lname = name.to_ascii_lowercase();
        let description = flat.str_key("description").map(str::to_owned);
        let enum_values = flat.enum_values();
        let ty = flat.ty();

        let items_flat = match flat.get("items") {
            Some(items) if ty == Some("array") || ty.is_none() => {
                Some(self.flatten(items, depth + 1))
            }
            _ => None,
        };

        let kind = if enum_values.is_some() {
            FieldType::Enum
        } else if flat.custom.is_some() && ty != Some("object") {
            // A free string next to a custom object (the imgly seedream edit `image_size`).
            FieldType::String
        } else {
            match ty {
                Some("string") => {
                    if is_single_file(&lname, flat, description.as_deref()) {
                        FieldType::File
                    } else if is_long_text(&lname, flat) {
                        FieldType::Text
                    } else {
                        FieldType::String
                    }
                }
                Some("integer") => FieldType::Integer,
                Some("number") => FieldType::Number,
                Some("boolean") => FieldType::Boolean,
                Some("array") => {
                    let is_files = items_flat.as_ref().is_some_and(|items| {
                        is_file_list(&lname, flat, items, description.as_deref())
                    });
                    if is_files {
                        FieldType::Files
                    } else {
                        FieldType::Array
                    }
                }
                Some("object") => FieldType::Object,
                _ if !flat.properties.is_empty() => FieldType::Object,
                _ if items_flat.is_some() => FieldType::Array,
                // A `$ref` we could not follow almost always pointed at an object model.
                _ if flat.broken => FieldType::Object,
                _ => FieldType::String,
            }
        };

        let mut field = Field::new(name, kind);
        field.required = required;
        field.nullable = flat.nullable;
        field.default = flat.get("default").filter(|d| !d.is_null()).cloned();
        field.enum_values = enum_values;
        field.title = flat.str_key("title").map(str::to_owned);
        field.description = description;
        field.examples = examples_of(flat);
        apply_bounds(&mut field, flat);

        match kind {
            FieldType::File | FieldType::Files => {
                field.accept = Some(media_kind(&lname, field.description.as_deref()));
            }
            FieldType::Object => {
                field.fields = Some(self.object_fields(flat, depth)).filter(|f| !f.is_empty());
            }
            _ => {}
        }
        if let Some(custom) = &flat.custom {
            field.allow_custom = true;
            field.fields = Some(self.object_fields(custom, depth)).filter(|f| !f.is_empty());
        }
        if let Some(items) = items_flat {
            let mut item = self.field_from_flat("items", &items, false, depth + 1);
            if kind == FieldType::Files {
                item.kind = FieldType::File;
                item.accept = field.accept;
                item.group = group_of("items", &item);
            }
            if matches!(kind, FieldType::Files | FieldType::Array) {
                field.items = Some(Box::new(item));
            }
        }
        field.group = group_of(&lname, &field);
        field
    }
}

fn examples_of(flat: &Flat<'_>) -> Option<Vec<Value>> {
    match flat.get("examples") {
        Some(Value::Array(list)) if !list.is_empty() => Some(list.clone()),
        // OpenAPI 3.0 spells a single example `example`.
        _ => flat.get("example").map(|e| vec![e.clone()]),
    }
}

fn as_count(value: Option<&Value>) -> Option<u64> {
    let v = value?;
    v.as_u64().or_else(|| {
        v.as_f64()
            .filter(|f| *f >= 0.0 && f.fract() == 0.0 && *f <= u64::MAX as f64)
            .map(|f| f as u64)
    })
}

fn apply_bounds(field: &mut Field, flat: &Flat<'_>) {
    let num = |key: &str| flat.get(key).and_then(Value::as_f64);
    field.minimum = num("minimum");
    field.maximum = num("maximum");
    // OpenAPI 3.0 marks `minimum` itself exclusive with a boolean; 3.1 (and pydantic output
    // labelled 3.0, like fal's) gives the exclusive bound as a number.
    match flat.get("exclusiveMinimum") {
        Some(Value::Bool(true)) => field.exclusive_minimum = field.minimum.take(),
        Some(v) => field.exclusive_minimum = v.as_f64(),
        None => {}
    }
    match flat.get("exclusiveMaximum") {
        Some(Value::Bool(true)) => field.exclusive_maximum = field.maximum.take(),
        Some(v) => field.exclusive_maximum = v.as_f64(),
        None => {}
    }
    field.min_length = as_count(flat.get("minLength"));
    field.max_length = as_count(flat.get("maxLength"));
    field.min_items = as_count(flat.get("minItems"));
    field.max_items = as_count(flat.get("maxItems"));
}

const MEDIA_WORDS: [&str; 5] = ["image", "video", "audio", "mask", "frame"];
const URI_FORMATS: [&str; 3] = ["uri", "binary", "data-url"];

fn mentions_media(name: &str, description: Option<&str>) -> bool {
    let desc = description.unwrap_or_default().to_ascii_lowercase();
    MEDIA_WORDS
        .iter()
        .any(|w| name.contains(w) || desc.contains(w))
}

fn has_uri_format(flat: &Flat<'_>) -> bool {
    flat.str_key("format")
        .is_some_and(|f| URI_FORMATS.contains(&f))
}

fn is_single_file(name: &str, flat: &Flat<'_>, description: Option<&str>) -> bool {
    name.ends_with("_url") || (has_uri_format(flat) && mentions_media(name, description))
}

fn is_file_list(name: &str, flat: &Flat<'_>, items: &Flat<'_>, description: Option<&str>) -> bool {
    let string_items = items.ty() == Some("string");
    string_items
        && (name.ends_with("_urls")
            || ((has_uri_format(items) || has_uri_format(flat))
                && mentions_media(name, description)))
}

fn is_long_text(name: &str, flat: &Flat<'_>) -> bool {
    name.contains("prompt")
        || as_count(flat.get("maxLength")).is_some_and(|n| n > 200)
        || flat.str_key("format") == Some("textarea")
}

/// Video and audio words are checked before image words so that e.g. `reference_video_url`
/// is a video; the name decides before the description, which often mentions the output.
fn media_kind(name: &str, description: Option<&str>) -> MediaKind {
    fn classify(text: &str) -> Option<MediaKind> {
        if text.contains("video") {
            Some(MediaKind::Video)
        } else if ["audio", "speech", "voice", "music", "sound"]
            .iter()
            .any(|w| text.contains(w))
        {
            Some(MediaKind::Audio)
        } else if ["image", "frame", "mask", "reference", "photo", "picture"]
            .iter()
            .any(|w| text.contains(w))
        {
            Some(MediaKind::Image)
        } else {
            None
        }
    }
    classify(name)
        .or_else(|| description.and_then(|d| classify(&d.to_ascii_lowercase())))
        .unwrap_or(MediaKind::Any)
}

const MAIN_NAMES: [&str; 11] = [
    "prompt",
    "negative_prompt",
    "image_size",
    "aspect_ratio",
    "resolution",
    "duration",
    "num_images",
    "num_frames",
    "style",
    "text",
    "input",
];

fn group_of(name: &str, field: &Field) -> Group {
    if field.required
        || matches!(field.kind, FieldType::File | FieldType::Files)
        || MAIN_NAMES.contains(&name)
    {
        Group::Main
    } else {
        Group::Advanced
    }
}

#[cfg(test)]
mod tests {
    use crate::catalog::spec::test_support::*;
    use crate::catalog::spec::*;
    use serde_json::json;

    #[test]
    fn uri_formatted_strings_about_media_are_files() {
        let spec = synthetic_spec(
            json!({
                "source": {"type": "string", "format": "uri", "description": "The photo frame to upscale"},
                "clips": {"type": "array", "items": {"type": "string", "format": "uri"}, "description": "Video clips"},
                "homepage": {"type": "string", "format": "uri", "description": "A link"},
                "callback_url": {"type": "string"}
            }),
            image_output(),
        );
        assert_eq!(
            (field(&spec, "source").kind, field(&spec, "source").accept),
            (FieldType::File, Some(MediaKind::Image))
        );
        assert_eq!(
            (field(&spec, "clips").kind, field(&spec, "clips").accept),
            (FieldType::Files, Some(MediaKind::Video))
        );
        assert_eq!(field(&spec, "homepage").kind, FieldType::String);
        // Every `*_url` is a file; with no media word it accepts anything.
        assert_eq!(field(&spec, "callback_url").accept, Some(MediaKind::Any));
    }

    #[test]
    fn long_or_prompt_strings_are_text_others_are_strings() {
        let spec = synthetic_spec(
            json!({
                "style": {"type": "string", "maxLength": 50},
                "lyrics": {"type": "string", "maxLength": 3000},
                "notes": {"type": "string", "format": "textarea"},
                "system_prompt": {"type": "string"},
                "voice_id": {"type": "string", "maxLength": 200}
            }),
            image_output(),
        );
        let kinds: Vec<FieldType> = spec.fields.iter().map(|f| f.kind).collect();
        assert_eq!(
            kinds,
            [
                FieldType::String,
                FieldType::Text,
                FieldType::Text,
                FieldType::Text,
                FieldType::String
            ]
        );
        assert_eq!(field(&spec, "style").group, Group::Main);
        assert_eq!(field(&spec, "voice_id").group, Group::Advanced);
    }

    #[test]
    fn nested_objects_become_object_fields() {
        let schemas = json!({
            "Camera": {"type": "object", "required": ["pan"], "properties": {
                "pan": {"type": "number", "minimum": -1, "maximum": 1},
                "zoom": {"type": "number"}}},
            "Lora": {"type": "object", "properties": {"path": {"type": "string"}, "scale": {"type": "number", "default": 1}}}
        });
        let input = json!({"type": "object", "properties": {
            "prompt": {"type": "string"},
            "camera": {"$ref": "#/components/schemas/Camera", "description": "Camera motion"},
            "loras": {"type": "array", "items": {"$ref": "#/components/schemas/Lora"}, "maxItems": 3},
            "inline": {"properties": {"a": {"type": "boolean"}}}
        }});
        let spec = derive_spec(
            TEST_ID,
            &synthetic(input, image_output(), schemas, None),
            None,
        )
        .unwrap();
        let camera = field(&spec, "camera");
        assert_eq!(
            (camera.kind, camera.description.as_deref()),
            (FieldType::Object, Some("Camera motion"))
        );
        let nested = camera.fields.as_ref().unwrap();
        assert_eq!(
            nested
                .iter()
                .map(|f| (f.name.as_str(), f.required))
                .collect::<Vec<_>>(),
            [("pan", true), ("zoom", false)]
        );
        assert_eq!(
            (nested[0].minimum, nested[0].maximum),
            (Some(-1.0), Some(1.0))
        );
        let loras = field(&spec, "loras");
        assert_eq!((loras.kind, loras.max_items), (FieldType::Array, Some(3)));
        let item = loras.items.as_ref().unwrap();
        assert_eq!(
            (item.name.as_str(), item.kind),
            ("items", FieldType::Object)
        );
        assert_eq!(item.fields.as_ref().map(Vec::len), Some(2));
        assert_eq!(field(&spec, "inline").kind, FieldType::Object);
    }

    #[test]
    fn exclusive_bounds_in_both_openapi_forms() {
        let spec = synthetic_spec(
            json!({
                "v31": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1},
                "v30": {"type": "integer", "minimum": 0, "exclusiveMinimum": true, "maximum": 10, "exclusiveMaximum": false},
                "v30_max": {"type": "number", "maximum": 5, "exclusiveMaximum": true}
            }),
            image_output(),
        );
        let b = |n: &str| {
            let f = field(&spec, n);
            (
                f.minimum,
                f.exclusive_minimum,
                f.maximum,
                f.exclusive_maximum,
            )
        };
        assert_eq!(b("v31"), (None, Some(0.0), None, Some(1.0)));
        assert_eq!(b("v30"), (None, Some(0.0), Some(10.0), None));
        assert_eq!(b("v30_max"), (None, None, None, Some(5.0)));
    }

    #[test]
    fn order_properties_skip_unknown_names_and_duplicates() {
        let input = json!({"type": "object",
            "x-fal-order-properties": ["c", "ghost", "a", "c", 7],
            "properties": {"a": {"type": "string"}, "b": {"type": "string"}, "c": {"type": "string"}, "d": {"type": "string"}}});
        let spec = derive_spec(
            TEST_ID,
            &synthetic(input, image_output(), json!({}), None),
            None,
        )
        .unwrap();
        assert_eq!(names(&spec), ["c", "a", "b", "d"]);
    }
}
