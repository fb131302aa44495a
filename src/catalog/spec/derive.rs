//! Deriving a form spec from a fal endpoint's OpenAPI document: the submit operation and its
//! request body, the result schema (for the output kind) and the catalog's category.

use serde_json::{Map, Value};

use super::{FieldType, OutputKind, Spec, SpecError, buckets::derive_buckets, schema::Ctx};

pub fn derive_spec(
    endpoint_id: &str,
    doc: &Value,
    catalog_category: Option<&str>,
) -> Result<Spec, SpecError> {
    let id = endpoint_id.trim_matches('/');
    let unusable = |what: &str| {
        SpecError::Unusable(format!("fal's OpenAPI document for {endpoint_id} {what}"))
    };

    let paths = doc
        .get("paths")
        .and_then(Value::as_object)
        .ok_or_else(|| unusable("has no paths"))?;
    let post = find_submit_operation(paths, id).map_err(|e| unusable(&e))?;

    let mut ctx = Ctx::new(doc);
    let body = post.get("requestBody").map(|b| ctx.follow_refs(b));
    let schema = body.and_then(json_content_schema).ok_or_else(|| {
        unusable(&format!(
            "has no POST /{id} request body schema (requestBody.content.application/json.schema)"
        ))
    })?;

    let input = ctx.flatten(schema, 0);
    if !input.is_object_like() {
        return Err(match ctx.problem.take() {
            Some(problem) => unusable(&format!("has an unusable input schema: {problem}")),
            None => unusable("has an input schema that is not an object"),
        });
    }
    let fields = ctx.object_fields(&input, 0);

    let category = catalog_category
        .filter(|c| !c.trim().is_empty())
        .map(str::to_owned)
        .or_else(|| {
            doc.pointer("/info/x-fal-metadata/category")
                .and_then(Value::as_str)
                .filter(|c| !c.trim().is_empty())
                .map(str::to_owned)
        });

    let output_kind = find_result_schema(paths, id)
        .and_then(|schema| {
            let mut out_ctx = Ctx::new(doc);
            let flat = out_ctx.flatten(schema, 0);
            output_kind_from_properties(&flat.properties)
        })
        .or_else(|| category.as_deref().and_then(output_kind_from_category))
        .unwrap_or(OutputKind::Unknown);

    let buckets = derive_buckets(&fields, output_kind, category.as_deref());
    let prompt_field = super::prompt::main_text_field(&fields);
    let mut fields = fields;
    // The prompt is edited in the long text box, whatever length its schema allows.
    if let Some(prompt) = fields
        .iter_mut()
        .find(|f| Some(&f.name) == prompt_field.as_ref() && f.kind == FieldType::String)
    {
        prompt.kind = FieldType::Text;
    }
    Ok(Spec {
        endpoint_id: endpoint_id.to_owned(),
        output_kind,
        category,
        fields,
        buckets,
        prompt_field,
    })
}

fn is_request_path(path: &str) -> bool {
    path.contains("/requests/") || path.ends_with("/requests")
}

/// The submit operation is `POST /<id>`; the imgly-stored documents keep that key, but an id
/// given with a different alias should still work when the document has one obvious candidate.
fn find_submit_operation<'a>(paths: &'a Map<String, Value>, id: &str) -> Result<&'a Value, String> {
    let exact = format!("/{id}");
    if let Some(post) = paths.get(&exact).and_then(|p| p.get("post")) {
        return Ok(post);
    }
    let mut candidates = paths
        .iter()
        .filter(|(path, item)| !is_request_path(path) && item.get("post").is_some())
        .filter_map(|(_, item)| item.get("post"));
    match (candidates.next(), candidates.next()) {
        (Some(post), None) => Ok(post),
        (None, _) => Err(format!("has no POST /{id} submit path")),
        (Some(_), Some(_)) => Err(format!("has several POST paths and none of them is /{id}")),
    }
}

fn find_result_schema<'a>(paths: &'a Map<String, Value>, id: &str) -> Option<&'a Value> {
    let exact = format!("/{id}/requests/{{request_id}}");
    let item = paths.get(&exact).or_else(|| {
        paths
            .iter()
            .find(|(path, item)| {
                path.ends_with("/requests/{request_id}") && item.get("get").is_some()
            })
            .map(|(_, item)| item)
    })?;
    let response = item.pointer("/get/responses/200")?;
    json_content_schema(response)
}

/// `content.application/json.schema`, tolerating `application/json; charset=utf-8` and friends.
fn json_content_schema(holder: &Value) -> Option<&Value> {
    let content = holder.get("content")?.as_object()?;
    content
        .get("application/json")
        .or_else(|| {
            content
                .iter()
                .find(|(k, _)| k.contains("json"))
                .map(|(_, v)| v)
        })?
        .get("schema")
}

fn output_kind_from_properties(properties: &[(&str, &Value)]) -> Option<OutputKind> {
    let names: Vec<String> = properties
        .iter()
        .map(|(n, _)| n.to_ascii_lowercase())
        .collect();
    let has = |wanted: &[&str]| names.iter().any(|n| wanted.contains(&n.as_str()));
    // 3D results often carry preview renders or turntable videos, and video results sometimes a
    // thumbnail image, so the rarer, more specific kinds are checked first.
    if names
        .iter()
        .any(|n| n.contains("mesh") || n.contains("glb") || n.contains("3d"))
    {
        Some(OutputKind::ThreeD)
    } else if has(&["video", "videos"]) {
        Some(OutputKind::Video)
    } else if has(&["images", "image"]) {
        Some(OutputKind::Image)
    } else if has(&["audio", "audio_file", "audio_url", "audios"]) {
        Some(OutputKind::Audio)
    } else if has(&["output", "text"]) {
        Some(OutputKind::Text)
    } else {
        None
    }
}

fn output_kind_from_category(category: &str) -> Option<OutputKind> {
    let c = category.to_ascii_lowercase();
    if c.ends_with("-to-image") || c == "image-to-image" {
        Some(OutputKind::Image)
    } else if c.ends_with("-to-video") {
        Some(OutputKind::Video)
    } else if c.ends_with("-to-audio") || c.ends_with("-to-speech") {
        Some(OutputKind::Audio)
    } else if c.ends_with("-to-3d") {
        Some(OutputKind::ThreeD)
    } else if c.ends_with("-to-text") {
        Some(OutputKind::Text)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::spec::test_support::*;
    use crate::catalog::spec::*;
    use serde_json::json;

    #[test]
    fn seedream_text_to_image_follows_the_documented_order_and_has_no_buckets() {
        let spec = real(SEEDREAM_T2I);
        assert_eq!(
            names(&spec),
            [
                "prompt",
                "image_size",
                "num_images",
                "max_images",
                "seed",
                "sync_mode",
                "enable_safety_checker"
            ]
        );
        assert_eq!(required(&spec), ["prompt"]);
        assert_eq!(spec.output_kind, OutputKind::Image);
        assert_eq!(spec.category.as_deref(), Some("text-to-image"));
        assert_eq!(spec.buckets, Buckets::default());

        let prompt = field(&spec, "prompt");
        assert_eq!(prompt.kind, FieldType::Text);
        assert_eq!(prompt.group, Group::Main);
        assert_eq!(prompt.title.as_deref(), Some("Prompt"));
        assert_eq!(prompt.examples.as_ref().map(Vec::len), Some(1));

        let size = field(&spec, "image_size");
        assert_eq!(size.kind, FieldType::Enum);
        assert!(size.allow_custom);
        assert_eq!(
            size.enum_values,
            strings(&[
                "square_hd",
                "square",
                "portrait_4_3",
                "portrait_16_9",
                "landscape_4_3",
                "landscape_16_9",
                "auto",
                "auto_2K",
                "auto_4K"
            ])
        );
        assert_eq!(size.default, Some(json!({"height": 2048, "width": 2048})));
        assert_eq!(size.group, Group::Main);
        assert!(!size.nullable);
        let custom = size.fields.as_ref().unwrap();
        let custom_names: Vec<&str> = custom.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(custom_names, ["width", "height"]);
        for f in custom {
            assert_eq!(f.kind, FieldType::Integer);
            assert_eq!(f.maximum, Some(14142.0));
            assert_eq!(f.exclusive_minimum, Some(0.0));
            assert_eq!(f.minimum, None);
            assert_eq!(f.default, Some(json!(512)));
        }

        let num = field(&spec, "num_images");
        assert_eq!(
            (
                num.kind,
                num.minimum,
                num.maximum,
                num.default.clone(),
                num.group
            ),
            (
                FieldType::Integer,
                Some(1.0),
                Some(6.0),
                Some(json!(1)),
                Group::Main
            )
        );
        assert_eq!(field(&spec, "max_images").group, Group::Advanced);
        let seed = field(&spec, "seed");
        assert_eq!(
            (seed.kind, seed.group, seed.default.clone()),
            (FieldType::Integer, Group::Advanced, None)
        );
        let sync = field(&spec, "sync_mode");
        assert_eq!(
            (sync.kind, sync.default.clone()),
            (FieldType::Boolean, Some(json!(false)))
        );
        let safety = field(&spec, "enable_safety_checker");
        assert_eq!(safety.default, Some(json!(true)));
        assert_eq!(safety.examples, Some(vec![json!(true)]));
        assert_eq!(safety.group, Group::Advanced);
    }

    #[test]
    fn seedream_edit_sends_references_to_its_required_list_not_the_extra_single_url() {
        let spec = real(SEEDREAM_EDIT);
        assert_eq!(
            names(&spec),
            [
                "image_url",
                "prompt",
                "image_urls",
                "num_images",
                "image_size",
                "max_images",
                "seed",
                "sync_mode",
                "enable_safety_checker"
            ]
        );
        assert_eq!(required(&spec), ["prompt", "image_urls"]);
        assert_eq!(spec.output_kind, OutputKind::Image);
        assert_eq!(spec.category, None);

        let prompt = field(&spec, "prompt");
        assert_eq!(
            (prompt.kind, prompt.min_length, prompt.max_length),
            (FieldType::Text, Some(1), Some(5000))
        );

        let single = field(&spec, "image_url");
        assert_eq!(
            (single.kind, single.accept, single.group, single.required),
            (FieldType::File, Some(MediaKind::Image), Group::Main, false)
        );
        let list = field(&spec, "image_urls");
        assert_eq!(
            (list.kind, list.accept, list.max_items),
            (FieldType::Files, Some(MediaKind::Image), Some(10))
        );
        assert_eq!(list.items.as_ref().map(|i| i.kind), Some(FieldType::File));

        // The imgly copy makes image_size `oneOf [free string, {width, height}]` with no presets.
        let size = field(&spec, "image_size");
        assert_eq!(size.kind, FieldType::String);
        assert!(size.allow_custom);
        assert_eq!(size.enum_values, None);
        assert_eq!(size.default, None);
        let custom = size.fields.as_ref().unwrap();
        assert_eq!(custom.len(), 2);
        assert_eq!(custom[0].name, "width");
        assert_eq!(
            (custom[0].minimum, custom[0].maximum, custom[0].required),
            (Some(256.0), Some(4096.0), true)
        );
        assert_eq!(custom[1].name, "height");

        assert_eq!(spec.buckets.general_references, target("image_urls", true));
        assert_eq!(spec.buckets.first_frame, None);
        assert_eq!(spec.buckets.last_frame, None);
        assert_eq!(spec.buckets.storyboard_reference, None);
    }

    #[test]
    fn nano_banana_edit_prefers_the_image_list() {
        let spec = real(NANO_BANANA_EDIT);
        assert_eq!(
            names(&spec),
            [
                "image_url",
                "prompt",
                "image_urls",
                "strength",
                "guidance_scale",
                "num_inference_steps",
                "seed"
            ]
        );
        assert_eq!(required(&spec), ["prompt"]);
        assert_eq!(spec.output_kind, OutputKind::Image);
        let list = field(&spec, "image_urls");
        assert_eq!(
            (list.kind, list.min_items, list.max_items),
            (FieldType::Files, Some(1), Some(10))
        );
        let strength = field(&spec, "strength");
        assert_eq!(
            (
                strength.kind,
                strength.minimum,
                strength.maximum,
                strength.default.clone(),
                strength.group
            ),
            (
                FieldType::Number,
                Some(0.0),
                Some(1.0),
                Some(json!(0.75)),
                Group::Advanced
            )
        );
        let steps = field(&spec, "num_inference_steps");
        assert_eq!(
            (
                steps.kind,
                steps.minimum,
                steps.maximum,
                steps.default.clone(),
                steps.group
            ),
            (
                FieldType::Integer,
                Some(1.0),
                Some(100.0),
                Some(json!(20)),
                Group::Advanced
            )
        );
        assert_eq!(field(&spec, "guidance_scale").default, Some(json!(7.5)));
        assert_eq!(spec.buckets.general_references, target("image_urls", true));
        assert_eq!(spec.buckets.first_frame, None);
    }

    #[test]
    fn flux_kontext_uses_the_submit_paths_schema_and_its_single_image() {
        let spec = real(KONTEXT);
        assert_eq!(
            names(&spec),
            [
                "image_url",
                "prompt",
                "aspect_ratio",
                "num_images",
                "output_format",
                "sync_mode",
                "safety_tolerance",
                "guidance_scale",
                "seed"
            ]
        );
        assert_eq!(required(&spec), ["image_url", "prompt"]);
        assert_eq!(spec.output_kind, OutputKind::Image);
        assert_eq!(spec.category.as_deref(), Some("image-to-image"));

        let prompt = field(&spec, "prompt");
        assert_eq!(
            (prompt.kind, prompt.min_length, prompt.max_length),
            (FieldType::Text, Some(3), Some(5000))
        );
        let image = field(&spec, "image_url");
        assert_eq!(
            (image.kind, image.accept, image.required),
            (FieldType::File, Some(MediaKind::Image), true)
        );
        let ratio = field(&spec, "aspect_ratio");
        assert_eq!(ratio.kind, FieldType::Enum);
        assert_eq!(
            ratio.enum_values,
            strings(&[
                "21:9", "16:9", "4:3", "3:2", "1:1", "2:3", "3:4", "9:16", "9:21"
            ])
        );
        assert_eq!((ratio.default.clone(), ratio.group), (None, Group::Main));
        let format = field(&spec, "output_format");
        assert_eq!(format.enum_values, strings(&["jpeg", "png"]));
        assert_eq!(
            (format.default.clone(), format.group),
            (Some(json!("jpeg")), Group::Advanced)
        );
        let tolerance = field(&spec, "safety_tolerance");
        assert_eq!(
            tolerance.enum_values,
            strings(&["1", "2", "3", "4", "5", "6"])
        );
        assert_eq!(tolerance.default, Some(json!("2")));
        let cfg = field(&spec, "guidance_scale");
        assert_eq!(
            (
                cfg.kind,
                cfg.minimum,
                cfg.maximum,
                cfg.default.clone(),
                cfg.title.as_deref()
            ),
            (
                FieldType::Number,
                Some(1.0),
                Some(20.0),
                Some(json!(3.5)),
                Some("Guidance scale (CFG)")
            )
        );
        assert_eq!(field(&spec, "num_images").maximum, Some(4.0));

        assert_eq!(spec.buckets.general_references, target("image_url", false));
        assert_eq!(spec.buckets.first_frame, None);
    }

    #[test]
    fn kling_image_to_video_takes_its_image_as_first_frame() {
        let spec = real(KLING);
        assert_eq!(
            names(&spec),
            [
                "image_url",
                "prompt",
                "duration",
                "cfg_scale",
                "negative_prompt"
            ]
        );
        assert_eq!(required(&spec), ["image_url", "prompt"]);
        // No x-fal-metadata in this copy: the kind comes from the result schema alone.
        assert_eq!(spec.category, None);
        assert_eq!(spec.output_kind, OutputKind::Video);

        let image = field(&spec, "image_url");
        assert_eq!(
            (image.kind, image.accept, image.min_length, image.max_length),
            (FieldType::File, Some(MediaKind::Image), Some(1), Some(2083))
        );
        let duration = field(&spec, "duration");
        assert_eq!(duration.enum_values, strings(&["5", "10"]));
        assert_eq!(
            (duration.default.clone(), duration.group),
            (Some(json!("5")), Group::Main)
        );
        let cfg = field(&spec, "cfg_scale");
        assert_eq!(
            (cfg.minimum, cfg.maximum, cfg.default.clone(), cfg.group),
            (Some(0.0), Some(1.0), Some(json!(0.5)), Group::Advanced)
        );
        let negative = field(&spec, "negative_prompt");
        assert_eq!(
            (
                negative.kind,
                negative.max_length,
                negative.default.clone(),
                negative.group
            ),
            (
                FieldType::Text,
                Some(2500),
                Some(json!("blur, distort, and low quality")),
                Group::Main
            )
        );

        assert_eq!(spec.buckets.first_frame, target("image_url", false));
        assert_eq!(spec.buckets.general_references, None);
        assert_eq!(spec.buckets.last_frame, None);
    }

    #[test]
    fn hailuo_image_to_video_takes_its_image_as_first_frame() {
        let spec = real(HAILUO);
        assert_eq!(
            names(&spec),
            [
                "image_url",
                "prompt",
                "duration",
                "resolution",
                "prompt_optimizer"
            ]
        );
        assert_eq!(required(&spec), ["image_url", "prompt"]);
        assert_eq!(spec.output_kind, OutputKind::Video);
        assert_eq!(spec.category.as_deref(), Some("image-to-video"));
        // A boolean whose name contains "prompt" is still a boolean.
        let optimizer = field(&spec, "prompt_optimizer");
        assert_eq!(
            (optimizer.kind, optimizer.default.clone(), optimizer.group),
            (FieldType::Boolean, Some(json!(true)), Group::Advanced)
        );
        let resolution = field(&spec, "resolution");
        assert_eq!(resolution.enum_values, strings(&["512P", "768P"]));
        assert_eq!(
            (resolution.default.clone(), resolution.group),
            (Some(json!("768P")), Group::Main)
        );
        assert_eq!(field(&spec, "duration").enum_values, strings(&["6", "10"]));
        assert_eq!(field(&spec, "prompt").max_length, Some(2000));
        assert_eq!(spec.buckets.first_frame, target("image_url", false));
        assert_eq!(spec.buckets.general_references, None);
    }

    #[test]
    fn veo31_first_last_frame_maps_both_frames() {
        let spec = real(VEO31_FLF);
        // `duration` is missing from x-fal-order-properties, so it comes last.
        assert_eq!(
            names(&spec),
            [
                "first_frame_url",
                "last_frame_url",
                "prompt",
                "aspect_ratio",
                "resolution",
                "generate_audio",
                "duration"
            ]
        );
        assert_eq!(
            required(&spec),
            ["first_frame_url", "last_frame_url", "prompt"]
        );
        assert_eq!(spec.output_kind, OutputKind::Video);
        for name in ["first_frame_url", "last_frame_url"] {
            let f = field(&spec, name);
            assert_eq!(
                (f.kind, f.accept, f.group),
                (FieldType::File, Some(MediaKind::Image), Group::Main),
                "{name}"
            );
        }
        let ratio = field(&spec, "aspect_ratio");
        assert_eq!(ratio.enum_values, strings(&["auto", "9:16", "16:9", "1:1"]));
        assert_eq!(ratio.default, Some(json!("auto")));
        let duration = field(&spec, "duration");
        assert_eq!(duration.enum_values, strings(&["8s", "16s"]));
        assert_eq!(duration.default, Some(json!("8s")));
        let audio = field(&spec, "generate_audio");
        assert_eq!(
            (audio.kind, audio.default.clone(), audio.group),
            (FieldType::Boolean, Some(json!(false)), Group::Advanced)
        );

        assert_eq!(spec.buckets.first_frame, target("first_frame_url", false));
        assert_eq!(spec.buckets.last_frame, target("last_frame_url", false));
        assert_eq!(spec.buckets.general_references, None);
        assert_eq!(spec.buckets.storyboard_reference, None);
    }

    #[test]
    fn veo3_text_to_video_skips_order_names_that_are_not_properties() {
        let spec = real(VEO3);
        assert_eq!(
            names(&spec),
            ["prompt", "aspect_ratio", "duration", "generate_audio"]
        );
        assert_eq!(required(&spec), ["prompt"]);
        assert_eq!(spec.output_kind, OutputKind::Video);
        assert_eq!(spec.category.as_deref(), Some("text-to-video"));
        assert_eq!(spec.buckets, Buckets::default());
        let duration = field(&spec, "duration");
        assert_eq!(duration.kind, FieldType::Enum);
        assert_eq!(duration.enum_values, strings(&["8s"]));
        assert_eq!(
            field(&spec, "aspect_ratio").enum_values,
            strings(&["16:9", "9:16", "1:1"])
        );
        assert_eq!(field(&spec, "generate_audio").default, Some(json!(true)));
        assert_eq!(field(&spec, "prompt").min_length, Some(1));
    }

    #[test]
    fn the_catalog_category_wins_over_the_documents() {
        let (_, doc) = real_documents()
            .into_iter()
            .find(|(i, _)| *i == KONTEXT)
            .unwrap();
        let spec = derive_spec(KONTEXT, &doc, Some("image-editing")).unwrap();
        assert_eq!(spec.category.as_deref(), Some("image-editing"));
        let spec = derive_spec(KONTEXT, &doc, Some("")).unwrap();
        assert_eq!(spec.category.as_deref(), Some("image-to-image"));
    }

    #[test]
    fn an_inline_input_schema_works_and_unknown_extensions_are_ignored() {
        let input = json!({"type": "object", "x-imgly-builder": {"x": 1}, "required": ["text"],
            "properties": {"text": {"type": "string", "x-imgly-enum-labels": {"a": "A"}, "example": "hello"}}});
        let spec = derive_spec(
            TEST_ID,
            &synthetic(input, json!({"properties": {"audio": {}}}), json!({}), None),
            None,
        )
        .unwrap();
        assert_eq!(names(&spec), ["text"]);
        assert_eq!(field(&spec, "text").examples, Some(vec![json!("hello")]));
        assert_eq!(spec.output_kind, OutputKind::Audio);
    }

    #[test]
    fn an_input_schema_with_no_properties_gives_an_empty_form() {
        let spec = derive_spec(
            TEST_ID,
            &synthetic(json!({"type": "object"}), image_output(), json!({}), None),
            None,
        )
        .unwrap();
        assert_eq!(spec.fields, []);
    }

    #[test]
    fn output_kind_from_result_fields_then_category() {
        let kind = |output: Value, catalog: Option<&str>, info: Option<&str>| {
            let input = json!({"type": "object", "properties": {}});
            derive_spec(TEST_ID, &synthetic(input, output, json!({}), info), catalog)
                .unwrap()
                .output_kind
        };
        let props = |names: &[&str]| {
            let map: Map<String, Value> = names
                .iter()
                .map(|n| ((*n).to_owned(), json!({"type": "object"})))
                .collect();
            json!({"type": "object", "properties": map})
        };
        assert_eq!(
            kind(props(&["image", "seed"]), None, None),
            OutputKind::Image
        );
        assert_eq!(kind(props(&["audio_file"]), None, None), OutputKind::Audio);
        assert_eq!(kind(props(&["audio_url"]), None, None), OutputKind::Audio);
        assert_eq!(
            kind(props(&["model_mesh", "timings"]), None, None),
            OutputKind::ThreeD
        );
        assert_eq!(kind(props(&["model_glb"]), None, None), OutputKind::ThreeD);
        assert_eq!(
            kind(props(&["video", "thumbnail"]), None, None),
            OutputKind::Video
        );
        assert_eq!(kind(props(&["output"]), None, None), OutputKind::Text);
        assert_eq!(kind(props(&["seed"]), None, None), OutputKind::Unknown);
        assert_eq!(
            kind(props(&["seed"]), None, Some("text-to-speech")),
            OutputKind::Audio
        );
        assert_eq!(
            kind(
                props(&["seed"]),
                Some("image-to-3d"),
                Some("text-to-speech")
            ),
            OutputKind::ThreeD
        );
        assert_eq!(
            kind(props(&["seed"]), Some("image-to-image"), None),
            OutputKind::Image
        );
        assert_eq!(
            kind(props(&["seed"]), Some("text-to-audio"), None),
            OutputKind::Audio
        );
        assert_eq!(
            kind(props(&["seed"]), Some("video-to-video"), None),
            OutputKind::Video
        );
        assert_eq!(
            kind(props(&["seed"]), Some("training"), None),
            OutputKind::Unknown
        );
    }

    #[test]
    fn the_submit_path_is_found_by_fallback_when_the_id_differs() {
        let input = json!({"type": "object", "properties": {"prompt": {"type": "string"}}});
        let doc = synthetic(input, image_output(), json!({}), None);
        let spec = derive_spec("acme/model-alias", &doc, None).unwrap();
        assert_eq!(names(&spec), ["prompt"]);
        assert_eq!(spec.endpoint_id, "acme/model-alias");
        assert_eq!(spec.output_kind, OutputKind::Image);

        let mut doc = doc;
        doc["paths"]["/acme/other"] = json!({"post": {}});
        let Err(SpecError::Unusable(message)) = derive_spec("acme/model-alias", &doc, None) else {
            panic!("two candidate submit paths should be refused");
        };
        assert!(message.contains("several POST paths"), "{message}");
    }

    #[test]
    fn unusable_documents_say_what_is_missing() {
        let ok_input = json!({"type": "object", "properties": {}});
        let mut no_body = synthetic(ok_input.clone(), image_output(), json!({}), None);
        no_body["paths"]["/acme/model"] = json!({"post": {"responses": {}}});
        let mut no_post = synthetic(ok_input, image_output(), json!({}), None);
        no_post["paths"]["/acme/model"] = json!({"get": {}});
        let cases = [
            ("no paths", json!({"openapi": "3.0.0"}), "has no paths"),
            ("not an object", json!([1, 2]), "has no paths"),
            (
                "no request body",
                no_body,
                "has no POST /acme/model request body schema",
            ),
            ("no POST", no_post, "has no POST /acme/model submit path"),
            (
                "missing ref",
                synthetic(
                    json!({"$ref": "#/components/schemas/Gone"}),
                    image_output(),
                    json!({}),
                    None,
                ),
                "#/components/schemas/Gone, which the document does not define",
            ),
            (
                "string input",
                synthetic(json!({"type": "string"}), image_output(), json!({}), None),
                "input schema that is not an object",
            ),
        ];
        for (case, doc, expected) in cases {
            match derive_spec(TEST_ID, &doc, None) {
                Err(SpecError::Unusable(message)) => {
                    assert!(
                        message.starts_with("fal's OpenAPI document for acme/model "),
                        "{case}: {message}"
                    );
                    assert!(message.contains(expected), "{case}: {message}");
                }
                Ok(spec) => panic!("{case}: expected an error, got {spec:?}"),
            }
        }
    }

    #[test]
    fn a_request_body_behind_a_ref_is_followed() {
        let mut doc = synthetic(json!({}), image_output(), json!({}), None);
        doc["components"]["requestBodies"] = json!({"Body": {"content": {"application/json": {
            "schema": {"type": "object", "properties": {"prompt": {"type": "string"}}}}}}});
        doc["paths"]["/acme/model"]["post"]["requestBody"] =
            json!({"$ref": "#/components/requestBodies/Body"});
        let spec = derive_spec(TEST_ID, &doc, None).unwrap();
        assert_eq!(names(&spec), ["prompt"]);
    }
}
