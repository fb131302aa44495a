//! Finding the files in a fal result, and reading what a file says about itself: image size
//! from its first bytes (`imagesize`), media duration from its `moov` box (`mp4`).

use std::io::Cursor;

use bytes::Bytes;
use mp4::{BoxHeader, BoxType, MoovBox, ReadBox};
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

/// What an output is, from its content type. Stored and sent as its lowercase name.
// The columns and views keep the plain string (so rows and the wire are unchanged); this enum
// is where the strings come from, and what the document shows as the `resultKind` enum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ResultKind {
    Image,
    Video,
    Audio,
    Other,
}

impl ResultKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ResultKind::Image => "image",
            ResultKind::Video => "video",
            ResultKind::Audio => "audio",
            ResultKind::Other => "other",
        }
    }
}

/// `image`, `video`, `audio` or `other`, from a content type.
pub fn kind_of(content_type: &str) -> &'static str {
    let kind = match content_type.split('/').next().unwrap_or("") {
        "image" => ResultKind::Image,
        "video" => ResultKind::Video,
        "audio" => ResultKind::Audio,
        _ => ResultKind::Other,
    };
    kind.as_str()
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
        "audio/wav" | "audio/x-wav" | "audio/wave" => "wav",
        "audio/ogg" => "ogg",
        "audio/flac" => "flac",
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

/// Width and height from a PNG, JPEG, GIF or WebP header (the formats `imagesize` is built
/// with here), read from the file's first bytes.
pub fn image_size(head: &[u8]) -> Option<(i64, i64)> {
    let size = imagesize::blob_size(head).ok()?;
    let (width, height) = (
        i64::try_from(size.width).ok()?,
        i64::try_from(size.height).ok()?,
    );
    (width > 0 && height > 0).then_some((width, height))
}

/// Top-level boxes looked at before giving up on `moov`. Real files have a handful (ftyp,
/// free, mdat, moov, udta); past the first bytes each one costs a small ranged read.
const MAX_TOP_LEVEL_BOXES: usize = 16;
/// A `moov` box larger than this is not read. Its sample tables grow with the length of the
/// media; an hour of 60 fps video stays well under it.
pub const MAX_MOOV_BYTES: u64 = 16 << 20;

/// Duration in seconds of an MP4/MOV file of `size` bytes, from the `mvhd` box in its `moov`.
///
/// `read_at(offset, len)` supplies exactly `len` bytes at `offset`, or `None`. Only box headers
/// and the `moov` box itself are asked for, never the media data: with a fast-start file (how
/// fal serves them) `moov` is within the first bytes the caller already has; a file written
/// without fast start has it at the end, after the `mdat` box, and costs two small reads.
pub async fn mp4_duration<F, Fut>(size: u64, mut read_at: F) -> Option<f64>
where
    F: FnMut(u64, u64) -> Fut,
    Fut: Future<Output = Option<Bytes>>,
{
    let mut offset = 0u64;
    for _ in 0..MAX_TOP_LEVEL_BOXES {
        // A box header is 8 bytes, or 16 with a 64-bit size.
        let left = size.checked_sub(offset).filter(|left| *left >= 8)?;
        let bytes = read_at(offset, left.min(16)).await?;
        let mut cursor = Cursor::new(bytes.as_ref());
        let header = BoxHeader::read(&mut cursor).ok()?;
        // `BoxHeader` gives a 64-bit size less the 8 bytes that spell it, so that its own box
        // readers see `size - 8` bytes of content either way; 0 means "to the end of the file".
        let header_len = cursor.position();
        let box_len = match header.size {
            0 => left,
            n => n.checked_add(header_len - 8)?,
        };
        if box_len < header_len || box_len > left {
            return None;
        }
        if header.name == BoxType::MoovBox {
            if box_len > MAX_MOOV_BYTES {
                return None;
            }
            return moov_duration(&read_at(offset, box_len).await?);
        }
        offset += box_len;
    }
    None
}

/// The duration a whole `moov` box (header included) declares.
fn moov_duration(moov: &[u8]) -> Option<f64> {
    // The parser is a library reading bytes a third party made; should it ever panic on a
    // malformed box, the output is still stored, only without a duration.
    let mvhd = std::panic::catch_unwind(|| {
        let mut cursor = Cursor::new(moov);
        let header = BoxHeader::read(&mut cursor).ok()?;
        MoovBox::read_box(&mut cursor, header.size)
            .ok()
            .map(|moov| moov.mvhd)
    })
    .ok()??;
    (mvhd.timescale > 0).then(|| mvhd.duration as f64 / f64::from(mvhd.timescale))
}

/// An MP3's duration from its first bytes: the frame count of its Xing/Info (or VBRI) header,
/// which encoders write in the first frame, else, for a constant bit rate, the audio bytes over
/// the bit rate. MPEG-1/2/2.5 Layer III only (what speech and music models return). Read by
/// hand from the 64 KiB ingest already holds: a crate that counts frames exactly would read the
/// whole file again from storage.
pub fn mp3_duration(size: u64, head: &[u8]) -> Option<f64> {
    // An ID3v2 tag first: 10 bytes, its size as four 7-bit bytes, 10 more with a footer.
    let mut start = 0usize;
    if head.len() >= 10 && &head[..3] == b"ID3" {
        let tag = head[6..10]
            .iter()
            .fold(0usize, |n, b| (n << 7) | usize::from(b & 0x7f));
        start = 10 + tag + if head[5] & 0x10 != 0 { 10 } else { 0 };
    }
    let at = (start..head.len().saturating_sub(4))
        .find(|&i| head[i] == 0xff && head[i + 1] & 0xe0 == 0xe0)?;
    let (b1, b2, b3) = (head[at + 1], head[at + 2], head[at + 3]);
    let version = (b1 >> 3) & 3; // 3: MPEG-1, 2: MPEG-2, 0: MPEG-2.5
    if (b1 >> 1) & 3 != 1 || version == 1 {
        return None; // not Layer III
    }
    let mpeg1 = version == 3;
    let rates: [u32; 3] = match version {
        3 => [44_100, 48_000, 32_000],
        2 => [22_050, 24_000, 16_000],
        _ => [11_025, 12_000, 8_000],
    };
    let sample_rate = *rates.get(usize::from((b2 >> 2) & 3))?;
    let kbps: [u32; 15] = if mpeg1 {
        [
            0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320,
        ]
    } else {
        [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160]
    };
    let bitrate = *kbps.get(usize::from(b2 >> 4))?;
    let samples_per_frame = if mpeg1 { 1152.0 } else { 576.0 };
    let mono = b3 >> 6 == 3;
    let side_info = match (mpeg1, mono) {
        (true, false) => 32,
        (true, true) => 17,
        (false, false) => 17,
        (false, true) => 9,
    };
    let frames_from = |offset: usize| -> Option<u32> {
        head.get(offset..offset + 4)
            .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    };
    let xing = at + 4 + side_info;
    if let Some(tag) = head.get(xing..xing + 8)
        && (&tag[..4] == b"Xing" || &tag[..4] == b"Info")
        && tag[7] & 1 != 0
        && let Some(frames) = frames_from(xing + 8).filter(|f| *f > 0)
    {
        return Some(f64::from(frames) * samples_per_frame / f64::from(sample_rate));
    }
    if head.get(at + 36..at + 40) == Some(b"VBRI")
        && let Some(frames) = frames_from(at + 36 + 14).filter(|f| *f > 0)
    {
        return Some(f64::from(frames) * samples_per_frame / f64::from(sample_rate));
    }
    if bitrate == 0 {
        return None; // "free" bit rate: nothing to divide by
    }
    let audio = size.checked_sub(at as u64)?;
    Some(audio as f64 * 8.0 / (f64::from(bitrate) * 1000.0))
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
        let webp =
            b"RIFF\x24\x00\x00\x00WEBPVP8X\x0a\x00\x00\x00\x00\x00\x00\x00\x1f\x00\x00\x0f\x00\x00";
        assert_eq!(image_size(webp), Some((32, 16)));
        assert_eq!(image_size(b"not an image"), None);
        assert_eq!(image_size(&[]), None);
    }

    const SAMPLE: &[u8] = include_bytes!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/media/sample.mp4"
    ));
    const SAMPLE_MOOV_LAST: &[u8] = include_bytes!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/media/sample-moov-last.mp4"
    ));

    /// Reads `file` as `mp4_duration` asks; returns the duration and the reads made.
    async fn duration_of(file: &[u8]) -> (Option<f64>, Vec<(u64, u64)>) {
        let reads = std::sync::Mutex::new(Vec::new());
        let duration = mp4_duration(file.len() as u64, |offset, len| {
            reads.lock().unwrap().push((offset, len));
            let bytes = usize::try_from(offset)
                .ok()
                .zip(usize::try_from(offset + len).ok())
                .and_then(|(start, end)| file.get(start..end))
                .map(Bytes::copy_from_slice);
            async move { bytes }
        })
        .await;
        (duration, reads.into_inner().unwrap())
    }

    #[tokio::test]
    async fn reads_an_mp4_duration() {
        let (d, reads) = duration_of(SAMPLE).await;
        let d = d.expect("mvhd in a fast-start file");
        // ffprobe reports 2.000000 s for this file.
        assert!((d - 2.0).abs() < 0.05, "{d}");
        // ftyp's header, moov's header, then moov: nothing past it.
        assert_eq!(reads, [(0, 16), (32, 16), (32, 2218)]);
        assert_eq!(duration_of(b"garbage").await.0, None);
        assert_eq!(duration_of(&[]).await.0, None);
        assert_eq!(duration_of(&SAMPLE[..2000]).await.0, None, "moov cut off");
    }

    #[tokio::test]
    async fn reads_the_duration_of_an_mp4_whose_moov_comes_last_without_its_media_data() {
        let (d, reads) = duration_of(SAMPLE_MOOV_LAST).await;
        assert!((d.expect("mvhd after mdat") - 2.0).abs() < 0.05);
        // ftyp, free and mdat are skipped by their headers; mdat's 5768 bytes are never read.
        assert_eq!(
            reads,
            [(0, 16), (32, 16), (40, 16), (5808, 16), (5808, 2218)]
        );
    }

    #[test]
    fn the_moov_last_fixture_is_the_same_movie_with_its_chunks_moved() {
        // Its chunk offsets were rewritten (see fixtures/media/README.md): the first sample
        // must still be the same bytes.
        let first_sample = |file: &'static [u8]| {
            let mut mp4 = mp4::Mp4Reader::read_header(Cursor::new(file), file.len() as u64)
                .expect("a valid MP4");
            let track = *mp4.tracks().keys().min().expect("a track");
            mp4.read_sample(track, 1)
                .expect("readable")
                .expect("a sample")
                .bytes
        };
        assert_eq!(first_sample(SAMPLE), first_sample(SAMPLE_MOOV_LAST));
    }

    #[test]
    fn content_types_map_to_kinds_and_extensions() {
        assert_eq!(kind_of("image/png"), "image");
        assert_eq!(kind_of("video/mp4"), "video");
        assert_eq!(kind_of("application/octet-stream"), "other");
        // The document's enum and the stored strings are the same words.
        for kind in [
            ResultKind::Image,
            ResultKind::Video,
            ResultKind::Audio,
            ResultKind::Other,
        ] {
            assert_eq!(serde_json::to_value(kind).ok(), Some(kind.as_str().into()));
        }
        assert_eq!(extension_for("image/jpeg"), "jpg");
        assert_eq!(extension_for("video/mp4; codecs=avc1"), "mp4");
    }

    #[test]
    fn an_mp3s_duration_comes_from_its_info_header_or_its_bit_rate() {
        let sample = include_bytes!("../../fixtures/media/sample.mp3");
        let d = super::mp3_duration(sample.len() as u64, sample).expect("a duration");
        assert!((d - 3.0).abs() < 0.1, "{d}");
        // Without the Info frame: constant bit rate, 64 kbit/s, from the size.
        let mut cbr = sample.to_vec();
        let info = cbr
            .windows(4)
            .position(|w| w == b"Info")
            .expect("Info header");
        cbr[info..info + 4].copy_from_slice(b"None");
        let d = super::mp3_duration(cbr.len() as u64, &cbr).expect("a duration");
        assert!((d - 3.0).abs() < 0.2, "{d}");
        // Behind an ID3v2 tag of 100 bytes.
        let mut tagged = b"ID3\x04\x00\x00\x00\x00\x00\x64".to_vec();
        tagged.extend(std::iter::repeat_n(0u8, 100));
        tagged.extend_from_slice(sample);
        let d = super::mp3_duration(tagged.len() as u64, &tagged).expect("a duration");
        assert!((d - 3.0).abs() < 0.1, "{d}");
        assert_eq!(super::mp3_duration(10, b"not audio!"), None);
    }
}
