//! Checking a user's params against a spec, one message per field.

use serde_json::{Map, Value};

use super::{Field, FieldIssue, FieldType, MAX_DEPTH, Spec};

pub fn validate_params(spec: &Spec, params: &Map<String, Value>) -> Vec<FieldIssue> {
    let mut issues: Vec<FieldIssue> = spec
        .fields
        .iter()
        .filter_map(|field| {
            check_field(field, params.get(&field.name)).map(|message| FieldIssue {
                field: field.name.clone(),
                message,
            })
        })
        .collect();
    issues.extend(
        params
            .keys()
            .filter(|key| spec.field(key).is_none())
            .map(|key| FieldIssue {
                field: key.clone(),
                message: "not a parameter of this model".to_owned(),
            }),
    );
    issues
}

fn is_blank(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::String(s) => s.trim().is_empty(),
        Value::Array(a) => a.is_empty(),
        _ => false,
    }
}

/// The first problem with one field's value, as a short sentence without the field name.
fn check_field(field: &Field, value: Option<&Value>) -> Option<String> {
    let Some(value) = value else {
        return field.required.then(|| "is required".to_owned());
    };
    if value.is_null() && field.nullable {
        return None;
    }
    if field.required && is_blank(value) {
        return Some("is required".to_owned());
    }
    check_value(field, value, 0)
}

fn check_value(field: &Field, value: &Value, depth: usize) -> Option<String> {
    if depth > MAX_DEPTH {
        return None;
    }
    if value.is_null() && field.nullable {
        return None;
    }
    match field.kind {
        FieldType::Integer => match value.as_f64() {
            Some(n) if n.fract() == 0.0 => check_range(field, n),
            _ => Some("must be a whole number".to_owned()),
        },
        FieldType::Number => match value.as_f64() {
            Some(n) => check_range(field, n),
            None => Some("must be a number".to_owned()),
        },
        FieldType::Boolean => (!value.is_boolean()).then(|| "must be true or false".to_owned()),
        FieldType::String | FieldType::Text => match value {
            Value::String(s) => check_length(field, s),
            Value::Object(obj) if field.allow_custom => check_object(field, obj, depth),
            _ => Some("must be text".to_owned()),
        },
        FieldType::File => match value.as_str() {
            Some(s) => check_file(field, s),
            None => Some("must be a file URL".to_owned()),
        },
        FieldType::Files => {
            let Some(list) = value.as_array() else {
                return Some("must be a list of file URLs".to_owned());
            };
            if list.iter().any(|v| !v.is_string()) {
                return Some("must be a list of file URLs".to_owned());
            }
            check_count(field, list.len()).or_else(|| {
                list.iter()
                    .filter_map(Value::as_str)
                    .find_map(|s| check_file(field, s))
            })
        }
        FieldType::Enum => {
            let listed = field
                .enum_values
                .iter()
                .flatten()
                .any(|v| same_value(v, value));
            if listed {
                None
            } else if let (true, Some(obj)) = (field.allow_custom, value.as_object()) {
                check_object(field, obj, depth)
            } else {
                Some(enum_message(field))
            }
        }
        FieldType::Array => {
            let Some(list) = value.as_array() else {
                return Some("must be a list".to_owned());
            };
            check_count(field, list.len()).or_else(|| {
                let items = field.items.as_deref()?;
                list.iter().enumerate().find_map(|(i, item)| {
                    check_value(items, item, depth + 1)
                        .map(|m| format!("item {} {m}", i.saturating_add(1)))
                })
            })
        }
        FieldType::Object => match value.as_object() {
            Some(obj) => check_object(field, obj, depth),
            None => Some("must be an object".to_owned()),
        },
    }
}

fn check_object(field: &Field, obj: &Map<String, Value>, depth: usize) -> Option<String> {
    field.fields.iter().flatten().find_map(|nested| {
        let problem = match obj.get(&nested.name) {
            None if nested.required => Some("is required".to_owned()),
            None => None,
            Some(v) if v.is_null() && nested.nullable => None,
            Some(v) if nested.required && is_blank(v) => Some("is required".to_owned()),
            Some(v) => check_value(nested, v, depth + 1),
        };
        problem.map(|m| format!("{} {m}", nested.name))
    })
}

fn check_file(field: &Field, url: &str) -> Option<String> {
    if url.trim().is_empty() {
        return Some("must be a file URL".to_owned());
    }
    // Inline `data:` URIs are far longer than the URL limits fal states (kling's 2083), and fal
    // accepts them anyway; we upload those before submitting.
    if url.starts_with("data:") {
        return None;
    }
    check_length(field, url)
}

fn check_range(field: &Field, n: f64) -> Option<String> {
    if let Some(min) = field.minimum
        && n < min
    {
        return Some(format!("must be at least {min}"));
    }
    if let Some(max) = field.maximum
        && n > max
    {
        return Some(format!("must be at most {max}"));
    }
    if let Some(min) = field.exclusive_minimum
        && n <= min
    {
        return Some(format!("must be greater than {min}"));
    }
    if let Some(max) = field.exclusive_maximum
        && n >= max
    {
        return Some(format!("must be less than {max}"));
    }
    None
}

fn plural(n: u64, word: &str) -> String {
    if n == 1 {
        format!("{n} {word}")
    } else {
        format!("{n} {word}s")
    }
}

fn check_length(field: &Field, s: &str) -> Option<String> {
    let len = u64::try_from(s.chars().count()).unwrap_or(u64::MAX);
    if let Some(min) = field.min_length
        && len < min
    {
        return Some(format!(
            "must be at least {} long",
            plural(min, "character")
        ));
    }
    if let Some(max) = field.max_length
        && len > max
    {
        return Some(format!("must be at most {} long", plural(max, "character")));
    }
    None
}

fn check_count(field: &Field, len: usize) -> Option<String> {
    let len = u64::try_from(len).unwrap_or(u64::MAX);
    if let Some(min) = field.min_items
        && len < min
    {
        return Some(format!("must have at least {}", plural(min, "item")));
    }
    if let Some(max) = field.max_items
        && len > max
    {
        return Some(format!("must have at most {}", plural(max, "item")));
    }
    None
}

/// `5` and `5.0` are the same choice to a person typing a number.
fn same_value(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}

fn enum_message(field: &Field) -> String {
    let choices: Vec<String> = field
        .enum_values
        .iter()
        .flatten()
        .map(|v| match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        })
        .collect();
    let mut message = format!("must be one of: {}", choices.join(", "));
    if field.allow_custom {
        let names: Vec<&str> = field
            .fields
            .iter()
            .flatten()
            .map(|f| f.name.as_str())
            .collect();
        if !names.is_empty() {
            message.push_str(&format!(", or a custom {}", names.join(" and ")));
        }
    }
    message
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::spec::test_support::*;
    use crate::catalog::spec::*;
    use serde_json::json;

    fn params(value: Value) -> Map<String, Value> {
        value.as_object().cloned().unwrap()
    }

    /// (field, message) pairs, in the order `validate_params` reports them.
    type Issues = Vec<(String, String)>;

    fn issues_for(spec: &Spec, value: Value) -> Issues {
        validate_params(spec, &params(value))
            .into_iter()
            .map(|i| (i.field, i.message))
            .collect()
    }

    fn one(field: &str, message: &str) -> Issues {
        vec![(field.to_owned(), message.to_owned())]
    }

    #[test]
    fn validation_table_for_seedream_text_to_image() {
        let spec = real(SEEDREAM_T2I);
        let presets = "must be one of: square_hd, square, portrait_4_3, portrait_16_9, landscape_4_3, \
                       landscape_16_9, auto, auto_2K, auto_4K, or a custom width and height";
        let cases: Vec<(&str, Value, Issues)> = vec![
            ("minimal", json!({"prompt": "a cat"}), vec![]),
            (
                "everything",
                json!({"prompt": "a cat", "image_size": "square_hd", "num_images": 2,
                "max_images": 6, "seed": 42, "sync_mode": true, "enable_safety_checker": false}),
                vec![],
            ),
            ("missing prompt", json!({}), one("prompt", "is required")),
            (
                "empty prompt",
                json!({"prompt": "  "}),
                one("prompt", "is required"),
            ),
            (
                "null prompt",
                json!({"prompt": null}),
                one("prompt", "is required"),
            ),
            (
                "prompt not text",
                json!({"prompt": 3}),
                one("prompt", "must be text"),
            ),
            (
                "too few images",
                json!({"prompt": "x", "num_images": 0}),
                one("num_images", "must be at least 1"),
            ),
            (
                "too many images",
                json!({"prompt": "x", "num_images": 7}),
                one("num_images", "must be at most 6"),
            ),
            (
                "fractional count",
                json!({"prompt": "x", "num_images": 1.5}),
                one("num_images", "must be a whole number"),
            ),
            (
                "count as string",
                json!({"prompt": "x", "num_images": "2"}),
                one("num_images", "must be a whole number"),
            ),
            (
                "count written 2.0",
                json!({"prompt": "x", "num_images": 2.0}),
                vec![],
            ),
            (
                "null seed",
                json!({"prompt": "x", "seed": null}),
                one("seed", "must be a whole number"),
            ),
            (
                "unknown preset",
                json!({"prompt": "x", "image_size": "huge"}),
                one("image_size", presets),
            ),
            (
                "custom size",
                json!({"prompt": "x", "image_size": {"width": 1024, "height": 768}}),
                vec![],
            ),
            (
                "zero width",
                json!({"prompt": "x", "image_size": {"width": 0, "height": 768}}),
                one("image_size", "width must be greater than 0"),
            ),
            (
                "huge height",
                json!({"prompt": "x", "image_size": {"width": 10, "height": 20000}}),
                one("image_size", "height must be at most 14142"),
            ),
            (
                "size as number",
                json!({"prompt": "x", "image_size": 5}),
                one("image_size", presets),
            ),
            (
                "bool as string",
                json!({"prompt": "x", "sync_mode": "yes"}),
                one("sync_mode", "must be true or false"),
            ),
            (
                "unknown field",
                json!({"prompt": "x", "steps": 3}),
                one("steps", "not a parameter of this model"),
            ),
            (
                "several at once",
                json!({"num_images": 9, "foo": 1}),
                vec![
                    ("prompt".into(), "is required".into()),
                    ("num_images".into(), "must be at most 6".into()),
                    ("foo".into(), "not a parameter of this model".into()),
                ],
            ),
        ];
        for (case, value, expected) in cases {
            assert_eq!(issues_for(&spec, value), expected, "case: {case}");
        }
    }

    #[test]
    fn validation_table_for_files_enums_and_lengths() {
        let kontext = real(KONTEXT);
        let edit = real(SEEDREAM_EDIT);
        let kling = real(KLING);
        let long_url = format!("https://example.com/{}", "a".repeat(2100));
        let data_uri = format!("data:image/png;base64,{}", "A".repeat(5000));
        let eleven: Vec<String> = (0..11).map(|i| format!("https://x/{i}.png")).collect();
        let cases: Vec<(&str, &Spec, Value, Issues)> = vec![
            (
                "kontext ok",
                &kontext,
                json!({"prompt": "add a hat", "image_url": "https://x/a.png", "safety_tolerance": "5"}),
                vec![],
            ),
            (
                "kontext missing image",
                &kontext,
                json!({"prompt": "add a hat"}),
                one("image_url", "is required"),
            ),
            (
                "image not a string",
                &kontext,
                json!({"prompt": "add a hat", "image_url": 5}),
                one("image_url", "must be a file URL"),
            ),
            (
                "prompt too short",
                &kontext,
                json!({"prompt": "ab", "image_url": "https://x/a.png"}),
                one("prompt", "must be at least 3 characters long"),
            ),
            (
                "tolerance as number",
                &kontext,
                json!({"prompt": "abc", "image_url": "u", "safety_tolerance": 2}),
                one("safety_tolerance", "must be one of: 1, 2, 3, 4, 5, 6"),
            ),
            (
                "guidance as text",
                &kontext,
                json!({"prompt": "abc", "image_url": "u", "guidance_scale": "x"}),
                one("guidance_scale", "must be a number"),
            ),
            (
                "guidance too low",
                &kontext,
                json!({"prompt": "abc", "image_url": "u", "guidance_scale": 0.5}),
                one("guidance_scale", "must be at least 1"),
            ),
            (
                "ratio not listed",
                &kontext,
                json!({"prompt": "abc", "image_url": "u", "aspect_ratio": "5:4"}),
                one(
                    "aspect_ratio",
                    "must be one of: 21:9, 16:9, 4:3, 3:2, 1:1, 2:3, 3:4, 9:16, 9:21",
                ),
            ),
            (
                "edit ok",
                &edit,
                json!({"prompt": "p", "image_urls": ["https://x/1.png"], "image_size": "2048x2048"}),
                vec![],
            ),
            (
                "edit custom size",
                &edit,
                json!({"prompt": "p", "image_urls": ["u"], "image_size": {"width": 100, "height": 300}}),
                one("image_size", "width must be at least 256"),
            ),
            (
                "edit custom size missing height",
                &edit,
                json!({"prompt": "p", "image_urls": ["u"], "image_size": {"width": 300}}),
                one("image_size", "height is required"),
            ),
            (
                "empty list",
                &edit,
                json!({"prompt": "p", "image_urls": []}),
                one("image_urls", "is required"),
            ),
            (
                "list with a number",
                &edit,
                json!({"prompt": "p", "image_urls": ["u", 3]}),
                one("image_urls", "must be a list of file URLs"),
            ),
            (
                "single url for a list",
                &edit,
                json!({"prompt": "p", "image_urls": "u"}),
                one("image_urls", "must be a list of file URLs"),
            ),
            (
                "too many files",
                &edit,
                json!({"prompt": "p", "image_urls": eleven}),
                one("image_urls", "must have at most 10 items"),
            ),
            (
                "url too long",
                &kling,
                json!({"prompt": "p", "image_url": long_url}),
                one("image_url", "must be at most 2083 characters long"),
            ),
            (
                "inline data uri",
                &kling,
                json!({"prompt": "p", "image_url": data_uri}),
                vec![],
            ),
            (
                "duration as number",
                &kling,
                json!({"prompt": "p", "image_url": "u", "duration": 5}),
                one("duration", "must be one of: 5, 10"),
            ),
        ];
        for (case, spec, value, expected) in cases {
            assert_eq!(issues_for(spec, value), expected, "case: {case}");
        }
    }

    #[test]
    fn validation_of_nested_objects_arrays_and_exclusive_bounds() {
        let spec = synthetic_spec(
            json!({
                "camera": {"type": "object", "required": ["pan"], "properties": {"pan": {"type": "number", "exclusiveMaximum": 1}}},
                "weights": {"type": "array", "minItems": 2, "items": {"type": "number", "minimum": 0}},
                "ratio": {"type": "number", "exclusiveMinimum": 0},
                "choice": {"enum": [1, 2]}
            }),
            image_output(),
        );
        let cases: Vec<(&str, Value, Issues)> = vec![
            (
                "all fine",
                json!({"camera": {"pan": 0.5}, "weights": [0, 1], "ratio": 0.1, "choice": 2.0}),
                vec![],
            ),
            (
                "camera not object",
                json!({"camera": [1]}),
                one("camera", "must be an object"),
            ),
            (
                "camera missing pan",
                json!({"camera": {}}),
                one("camera", "pan is required"),
            ),
            (
                "pan at bound",
                json!({"camera": {"pan": 1}}),
                one("camera", "pan must be less than 1"),
            ),
            (
                "one weight",
                json!({"weights": [1]}),
                one("weights", "must have at least 2 items"),
            ),
            (
                "negative weight",
                json!({"weights": [1, -1]}),
                one("weights", "item 2 must be at least 0"),
            ),
            (
                "ratio zero",
                json!({"ratio": 0}),
                one("ratio", "must be greater than 0"),
            ),
            (
                "choice missing",
                json!({"choice": 3}),
                one("choice", "must be one of: 1, 2"),
            ),
        ];
        for (case, value, expected) in cases {
            assert_eq!(issues_for(&spec, value), expected, "case: {case}");
        }
    }
}
