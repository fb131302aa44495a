//! Finding the files in a fal result, and reading what a file says about itself (image size,
//! media duration) from its first bytes.

use serde_json::Value;

/// One output file as fal describes it.
#[derive(Debug, Clone, PartialEq)]
pub struct OutputFile {
    pub url: String,
    pub content_type: Option<String>,
    pub file_name: Option<String>,
    pub width: Option<i64>,
    pub height: Option<i64>,
    pub duration: Option<f64>,
}

/// Every file object anywhere in the result, in document order: objects with a `url` that is
/// http(s) or a `data:` URI. Inputs echoed back (keys ending in `_url(s)` that are plain
/// strings) are not objects and are not collected.
pub fn find_files(result: &Value) -> Vec<OutputFile> {
    let mut out = Vec::new();
    collect(result, 0, &mut out);
    out
}

fn collect(value: &Value, depth: usize, out: &mut Vec<OutputFile>) {
    if depth > 16 {
        return;
    }
    match value {
        Value::Object(map) => {
            if let Some(url) = map.get("url").and_then(Value::as_str)
                && (url.starts_with("https://")
                    || url.starts_with("http://")
                    || url.starts_with("data:"))
            {
                let text = |k: &str| map.get(k).and_then(Value::as_str).map(str::to_owned);
                let int = |k: &str| map.get(k).and_then(Value::as_i64).filter(|n| *n > 0);
                out.push(OutputFile {
                    url: url.to_owned(),
                    content_type: text("content_type").filter(|c| !c.is_empty()),
                    file_name: text("file_name").filter(|f| !f.is_empty()),
                    width: int("width"),
                    height: int("height"),
                    duration: map
                        .get("duration")
                        .and_then(Value::as_f64)
                        .filter(|d| *d > 0.0),
                });
                return;
            }
            for v in map.values() {
                collect(v, depth + 1, out);
            }
        }
        Value::Array(items) => {
            for v in items {
                collect(v, depth + 1, out);
            }
        }
        _ => {}
    }
}

/// `image`, `video`, `audio` or `other`, from a content type.
pub fn kind_of(content_type: &str) -> &'static str {
    match content_type.split('/').next().unwrap_or("") {
        "image" => "image",
        "video" => "video",
        "audio" => "audio",
        _ => "other",
    }
}

pub fn extension_for(content_type: &str) -> &'static str {
    match content_type.split(';').next().unwrap_or("").trim() {
        "image/png" => "png",
        "image/jpeg" => "jpg",
        "image/webp" => "webp",
        "image/gif" => "gif",
        "video/mp4" => "mp4",
        "video/webm" => "webm",
        "video/quicktime" => "mov",
        "audio/mpeg" => "mp3",
        "audio/wav" | "audio/x-wav" => "wav",
        "audio/ogg" => "ogg",
        "audio/mp4" | "audio/aac" => "m4a",
        "model/gltf-binary" => "glb",
        _ => "bin",
    }
}

/// A content type from the URL's file extension, for servers that send none.
pub fn guess_from_url(url: &str) -> Option<String> {
    let path = url.split(['?', '#']).next()?;
    let ext = path.rsplit('.').next()?.to_lowercase();
    let t = match ext.as_str() {
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "webp" => "image/webp",
        "gif" => "image/gif",
        "mp4" => "video/mp4",
        "webm" => "video/webm",
        "mov" => "video/quicktime",
        "mp3" => "audio/mpeg",
        "wav" => "audio/wav",
        "glb" => "model/gltf-binary",
        _ => return None,
    };
    Some(t.to_owned())
}

/// Width and height from a PNG, JPEG, GIF or WebP header.
pub fn image_size(head: &[u8]) -> Option<(i64, i64)> {
    let be32 = |b: &[u8]| -> Option<i64> { Some(u32::from_be_bytes(b.try_into().ok()?) as i64) };
    if head.starts_with(b"\x89PNG\r\n\x1a\n") && head.get(12..16) == Some(b"IHDR") {
        return Some((be32(head.get(16..20)?)?, be32(head.get(20..24)?)?));
    }
    if head.starts_with(b"GIF8") {
        let w = u16::from_le_bytes(head.get(6..8)?.try_into().ok()?) as i64;
        let h = u16::from_le_bytes(head.get(8..10)?.try_into().ok()?) as i64;
        return Some((w, h));
    }
    if head.starts_with(b"RIFF") && head.get(8..12) == Some(b"WEBP") {
        return match head.get(12..16)? {
            b"VP8X" => {
                let w = u32::from_le_bytes([*head.get(24)?, *head.get(25)?, *head.get(26)?, 0]) + 1;
                let h = u32::from_le_bytes([*head.get(27)?, *head.get(28)?, *head.get(29)?, 0]) + 1;
                Some((w as i64, h as i64))
            }
            b"VP8 " => {
                let w = u16::from_le_bytes(head.get(26..28)?.try_into().ok()?) & 0x3fff;
                let h = u16::from_le_bytes(head.get(28..30)?.try_into().ok()?) & 0x3fff;
                Some((w as i64, h as i64))
            }
            b"VP8L" => {
                let b = head.get(21..25)?;
                let w = 1 + (((b[1] as u32 & 0x3f) << 8) | b[0] as u32);
                let h = 1
                    + (((b[3] as u32 & 0xf) << 10)
                        | ((b[2] as u32) << 2)
                        | ((b[1] as u32 & 0xc0) >> 6));
                Some((w as i64, h as i64))
            }
            _ => None,
        };
    }
    if head.starts_with(&[0xff, 0xd8]) {
        let mut i = 2;
        while i + 9 < head.len() {
            if head[i] != 0xff {
                i += 1;
                continue;
            }
            let marker = head[i + 1];
            let len = u16::from_be_bytes([head[i + 2], head[i + 3]]) as usize;
            // Start-of-frame markers carry the size; C4, C8 and CC are not frames.
            if (0xc0..=0xcf).contains(&marker) && !matches!(marker, 0xc4 | 0xc8 | 0xcc) {
                let h = u16::from_be_bytes([head[i + 5], head[i + 6]]) as i64;
                let w = u16::from_be_bytes([head[i + 7], head[i + 8]]) as i64;
                return Some((w, h));
            }
            i += 2 + len;
        }
    }
    None
}

/// Duration in seconds from an MP4/MOV `mvhd` box when the `moov` box is near the start
/// (fast-start files, which is how fal serves them).
pub fn mp4_duration(head: &[u8]) -> Option<f64> {
    let at = head.windows(4).position(|w| w == b"mvhd")?;
    let body = head.get(at + 4..)?;
    let version = *body.first()?;
    let (timescale, duration) = if version == 1 {
        let ts = u32::from_be_bytes(body.get(20..24)?.try_into().ok()?) as f64;
        let d = u64::from_be_bytes(body.get(24..32)?.try_into().ok()?) as f64;
        (ts, d)
    } else {
        let ts = u32::from_be_bytes(body.get(12..16)?.try_into().ok()?) as f64;
        let d = u32::from_be_bytes(body.get(16..20)?.try_into().ok()?) as f64;
        (ts, d)
    };
    (timescale > 0.0).then(|| duration / timescale)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn finds_every_file_object_in_document_order() {
        let result = json!({
            "images": [
                {"url": "https://v3.fal.media/a.png", "content_type": "image/png", "width": 1024, "height": 768},
                {"url": "https://v3.fal.media/b.png", "content_type": null, "width": null}
            ],
            "video": {"url": "https://v3.fal.media/c.mp4", "content_type": "video/mp4", "file_name": "c.mp4"},
            "nested": {"deeper": [{"audio_file": {"url": "data:audio/mpeg;base64,AAAA"}}]},
            "image_url": "https://example.com/input.png",
            "seed": 42,
            "prompt": "a fox",
            "thumbnail": {"url": "ftp://nope/x"}
        });
        let files = find_files(&result);
        let urls: Vec<&str> = files.iter().map(|f| f.url.as_str()).collect();
        assert_eq!(
            urls,
            [
                "https://v3.fal.media/a.png",
                "https://v3.fal.media/b.png",
                "https://v3.fal.media/c.mp4",
                "data:audio/mpeg;base64,AAAA",
            ]
        );
        assert_eq!(files[0].width, Some(1024));
        assert_eq!(files[0].content_type.as_deref(), Some("image/png"));
        assert_eq!(files[1].content_type, None);
        assert_eq!(files[1].width, None);
        assert_eq!(files[2].file_name.as_deref(), Some("c.mp4"));
    }

    #[test]
    fn reads_png_and_gif_sizes() {
        let png = crate::fake_fal::png_bytes(40, 30);
        assert_eq!(image_size(&png), Some((40, 30)));
        let gif = b"GIF89a\x0a\x00\x05\x00rest";
        assert_eq!(image_size(gif), Some((10, 5)));
        assert_eq!(image_size(b"not an image"), None);
        assert_eq!(image_size(&[]), None);
    }

    #[test]
    fn reads_an_mp4_duration() {
        let mp4 = include_bytes!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/media/sample.mp4"
        ));
        let d = mp4_duration(mp4).expect("mvhd in a fast-start file");
        // ffprobe reports 2.000000 s for this file.
        assert!((d - 2.0).abs() < 0.05, "{d}");
        assert_eq!(mp4_duration(b"garbage"), None);
    }

    #[test]
    fn content_types_map_to_kinds_and_extensions() {
        assert_eq!(kind_of("image/png"), "image");
        assert_eq!(kind_of("video/mp4"), "video");
        assert_eq!(kind_of("application/octet-stream"), "other");
        assert_eq!(extension_for("image/jpeg"), "jpg");
        assert_eq!(extension_for("video/mp4; codecs=avc1"), "mp4");
    }
}
