//! Which fields the upload buckets fill: general references, first and last frame, storyboard.

use super::{BucketTarget, Buckets, Field, FieldType, MediaKind, OutputKind};

fn url_stem(name: &str) -> &str {
    name.strip_suffix("_urls")
        .or_else(|| name.strip_suffix("_url"))
        .unwrap_or(name)
}

fn is_first_frame_name(n: &str) -> bool {
    [
        "first_frame",
        "start_frame",
        "first_image",
        "start_image",
        "initial_frame",
    ]
    .iter()
    .any(|w| n.contains(w))
}

fn is_last_frame_name(n: &str) -> bool {
    [
        "last_frame",
        "end_frame",
        "tail_frame",
        "final_frame",
        "last_image",
        "end_image",
        "tail_image",
    ]
    .iter()
    .any(|w| n.contains(w))
}

fn is_reference_name(n: &str) -> bool {
    n.contains("reference") || n.starts_with("ref_") || n.contains("_ref_")
}

fn is_plain_image_name(n: &str) -> bool {
    matches!(
        url_stem(n),
        "image" | "images" | "input_image" | "input_images" | "source_image" | "source_images"
    )
}

/// Lower is better when several reference lists compete.
fn reference_rank(n: &str) -> u8 {
    match url_stem(n) {
        "image" | "images" => 0,
        _ if is_reference_name(n) => 1,
        _ if is_plain_image_name(n) => 2,
        _ => 3,
    }
}

fn pick<'f>(used: &mut Vec<&'f str>, found: Option<&'f Field>) -> Option<BucketTarget> {
    found.map(|f| {
        used.push(&f.name);
        BucketTarget {
            field: f.name.clone(),
            multiple: f.kind == FieldType::Files,
        }
    })
}

pub(super) fn derive_buckets(
    fields: &[Field],
    output: OutputKind,
    category: Option<&str>,
) -> Buckets {
    // Lowercased names of the fields a bucket may target: uploads, not video/audio, not masks.
    let candidates: Vec<(String, &Field)> = fields
        .iter()
        .filter(|f| matches!(f.kind, FieldType::File | FieldType::Files))
        .filter(|f| {
            matches!(
                f.accept,
                Some(MediaKind::Image) | Some(MediaKind::Any) | None
            )
        })
        .map(|f| (f.name.to_ascii_lowercase(), f))
        .filter(|(n, _)| !n.contains("mask"))
        .collect();
    let mut used: Vec<&str> = Vec::new();
    let free = |used: &[&str], f: &Field| !used.contains(&f.name.as_str());
    let is_image = |f: &Field| f.accept == Some(MediaKind::Image);

    let storyboard = candidates
        .iter()
        .find(|(n, _)| n.contains("storyboard"))
        .map(|(_, f)| *f);
    let storyboard_reference = pick(&mut used, storyboard);

    let last = candidates
        .iter()
        .find(|(n, f)| free(&used, f) && is_last_frame_name(n))
        .map(|(_, f)| *f);
    let last_frame = pick(&mut used, last);

    let video_endpoint = output == OutputKind::Video
        || category.is_some_and(|c| c.eq_ignore_ascii_case("image-to-video"));
    let mut first = candidates
        .iter()
        .find(|(n, f)| free(&used, f) && is_first_frame_name(n))
        .map(|(_, f)| *f);
    if first.is_none() && video_endpoint {
        // An image-to-video model's lone input image is its first frame, whatever it is called.
        let singles: Vec<&Field> = candidates
            .iter()
            .filter(|(n, f)| {
                free(&used, f)
                    && f.kind == FieldType::File
                    && is_image(f)
                    && !is_reference_name(n)
                    && !n.contains("storyboard")
            })
            .map(|(_, f)| *f)
            .collect();
        first = singles
            .iter()
            .find(|f| is_plain_image_name(&f.name.to_ascii_lowercase()))
            .copied()
            .or(match singles.as_slice() {
                [only] => Some(*only),
                _ => None,
            });
    }
    let first_frame = pick(&mut used, first);

    let general_ok = |n: &str, f: &Field| {
        is_image(f)
            && !is_first_frame_name(n)
            && !is_last_frame_name(n)
            && !n.contains("storyboard")
            && (is_reference_name(n) || is_plain_image_name(n))
    };
    let list = candidates
        .iter()
        .filter(|(n, f)| f.kind == FieldType::Files && free(&used, f) && general_ok(n, f))
        .min_by_key(|(n, _)| reference_rank(n))
        .map(|(_, f)| *f);
    let single = || {
        let singles = || {
            candidates
                .iter()
                .filter(|(n, f)| f.kind == FieldType::File && free(&used, f) && general_ok(n, f))
        };
        singles()
            .find(|(n, _)| is_reference_name(n))
            .or_else(|| singles().find(|_| output == OutputKind::Image))
            .map(|(_, f)| *f)
    };
    let general = list.or_else(single);
    let general_references = pick(&mut used, general);

    Buckets {
        general_references,
        first_frame,
        last_frame,
        storyboard_reference,
    }
}

#[cfg(test)]
mod tests {
    use crate::catalog::spec::test_support::*;
    use crate::catalog::spec::*;
    use serde_json::json;

    #[test]
    fn start_and_end_images_are_first_and_last_frames() {
        let spec = synthetic_spec(
            url_props(&["start_image_url", "end_image_url"]),
            video_output(),
        );
        assert_eq!(spec.buckets.first_frame, target("start_image_url", false));
        assert_eq!(spec.buckets.last_frame, target("end_image_url", false));
        assert_eq!(spec.buckets.general_references, None);
    }

    #[test]
    fn a_tail_image_is_the_last_frame_and_the_plain_image_the_first() {
        let spec = synthetic_spec(url_props(&["image_url", "tail_image_url"]), video_output());
        assert_eq!(spec.buckets.first_frame, target("image_url", false));
        assert_eq!(spec.buckets.last_frame, target("tail_image_url", false));
    }

    #[test]
    fn reference_lists_are_general_references_even_on_video_models() {
        let spec = synthetic_spec(
            url_props(&["image_url", "reference_image_urls"]),
            video_output(),
        );
        assert_eq!(spec.buckets.first_frame, target("image_url", false));
        assert_eq!(
            spec.buckets.general_references,
            target("reference_image_urls", true)
        );
        assert_eq!(
            field(&spec, "reference_image_urls").accept,
            Some(MediaKind::Image)
        );

        let spec = synthetic_spec(url_props(&["ref_image_urls"]), image_output());
        assert_eq!(
            spec.buckets.general_references,
            target("ref_image_urls", true)
        );
    }

    #[test]
    fn input_image_lists_are_general_references() {
        let spec = synthetic_spec(url_props(&["input_image_urls"]), image_output());
        assert_eq!(
            spec.buckets.general_references,
            target("input_image_urls", true)
        );
        assert_eq!(field(&spec, "input_image_urls").kind, FieldType::Files);
    }

    #[test]
    fn video_audio_and_mask_inputs_stay_plain_files() {
        let spec = synthetic_spec(
            url_props(&["image_url", "mask_url", "video_url", "audio_url"]),
            image_output(),
        );
        let kinds: Vec<(FieldType, Option<MediaKind>)> = ["mask_url", "video_url", "audio_url"]
            .iter()
            .map(|n| (field(&spec, n).kind, field(&spec, n).accept))
            .collect();
        assert_eq!(
            kinds,
            [
                (FieldType::File, Some(MediaKind::Image)),
                (FieldType::File, Some(MediaKind::Video)),
                (FieldType::File, Some(MediaKind::Audio))
            ]
        );
        assert_eq!(spec.buckets.general_references, target("image_url", false));
        assert_eq!(spec.buckets.first_frame, None);

        // A video-to-video or lipsync model has nothing a bucket could hold.
        let spec = synthetic_spec(
            url_props(&["video_url", "audio_url", "mask_url"]),
            video_output(),
        );
        assert_eq!(spec.buckets, Buckets::default());
    }

    #[test]
    fn storyboards_get_their_own_bucket() {
        let spec = synthetic_spec(
            url_props(&["storyboard_image_urls", "image_urls"]),
            video_output(),
        );
        assert_eq!(
            spec.buckets.storyboard_reference,
            target("storyboard_image_urls", true)
        );
        assert_eq!(spec.buckets.general_references, target("image_urls", true));
        assert_eq!(spec.buckets.first_frame, None);
    }

    #[test]
    fn each_field_lands_in_at_most_one_bucket() {
        let spec = synthetic_spec(url_props(&["first_frame_url", "image_url"]), video_output());
        assert_eq!(spec.buckets.first_frame, target("first_frame_url", false));
        // image_url is neither a frame nor (on a video model) a reference.
        assert_eq!(spec.buckets.general_references, None);
        let used: Vec<String> = Spec::BUCKET_NAMES
            .iter()
            .filter_map(|b| spec.bucket(b).map(|t| t.field.clone()))
            .collect();
        assert_eq!(used, ["first_frame_url"]);
    }

    #[test]
    fn the_image_to_video_category_alone_makes_the_image_a_first_frame() {
        let input = json!({"type": "object", "properties": url_props(&["image_url"])});
        let doc = synthetic(input, json!({"type": "object"}), json!({}), None);
        let spec = derive_spec(TEST_ID, &doc, Some("image-to-video")).unwrap();
        assert_eq!(spec.output_kind, OutputKind::Video);
        assert_eq!(spec.buckets.first_frame, target("image_url", false));
    }
}
