//! Making an output's thumbnail: a picture at most [`LONGEST_SIDE`] pixels on its longest side,
//! from an image (decoded with `image`, resized with `fast_image_resize`) or, from a video, its
//! first frame as `ffmpeg` draws it. Pure work on bytes and files: which assets need one and
//! where it is kept is `thumbnail_worker`'s.
//!
//! Opaque pictures become JPEG (quality 80): a 512 px JPEG of a photo-like output is 30–60 KiB,
//! against several hundred KiB for the 1024 px PNG fal sends. Pictures with transparency become
//! lossless WebP, the one WebP encoder `image` has in pure Rust (a lossy one would mean building
//! libwebp's C); they are rare and still a quarter of the pixels.

use std::{io::Cursor, path::Path, time::Duration};

use fast_image_resize::{IntoImageView, ResizeAlg, ResizeOptions, Resizer, images::Image};
use image::{
    DynamicImage, ImageEncoder, ImageReader, Limits,
    codecs::{jpeg::JpegEncoder, webp::WebPEncoder},
};

/// The longest side of a thumbnail, in pixels: sharp on a 2× screen at a 256 px tile.
pub const LONGEST_SIDE: u32 = 512;
/// Larger pictures are not decoded: 64 megapixels is well past any model's output, and bounds
/// a decode's memory (about 256 MiB as RGBA) whatever the file claims.
const MAX_PIXELS: u64 = 64 * 1024 * 1024;
/// How long `ffmpeg` may take for one poster frame before it is stopped.
const FFMPEG_TIMEOUT: Duration = Duration::from_secs(30);
/// The most a poster frame from `ffmpeg` may weigh; anything bigger is not a 512 px JPEG.
const MAX_POSTER_BYTES: usize = 4 * 1024 * 1024;
/// What is kept of `ffmpeg`'s messages: the last line says why a frame could not be read.
const MAX_FFMPEG_MESSAGE_BYTES: usize = 64 * 1024;
const JPEG_QUALITY: u8 = 80;

/// A made thumbnail.
#[derive(Debug)]
pub struct Thumbnail {
    pub bytes: Vec<u8>,
    pub content_type: &'static str,
}

impl Thumbnail {
    pub fn extension(&self) -> &'static str {
        if self.content_type == "image/webp" {
            "webp"
        } else {
            "jpg"
        }
    }
}

/// Why no thumbnail could be made.
#[derive(Debug, thiserror::Error)]
pub enum ThumbnailError {
    /// The bytes are not a picture this studio can read (or are over its size limits): trying
    /// again will not help.
    #[error("not a readable picture: {0}")]
    Unreadable(String),
    /// `ffmpeg` is not installed on this node.
    #[error("ffmpeg is not available")]
    NoFfmpeg,
    /// Something that may pass: a slow or failing `ffmpeg`, a temporary file.
    #[error("{0}")]
    Transient(String),
}

/// A thumbnail of an image file. CPU-bound: run it on a blocking thread.
pub fn of_image(bytes: &[u8]) -> Result<Thumbnail, ThumbnailError> {
    let unreadable = |e: &dyn std::fmt::Display| ThumbnailError::Unreadable(e.to_string());
    let mut reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| unreadable(&e))?;
    let mut limits = Limits::default();
    limits.max_image_width = Some(32_768);
    limits.max_image_height = Some(32_768);
    limits.max_alloc = Some(MAX_PIXELS * 4);
    reader.limits(limits);
    let decoded = reader.decode().map_err(|e| unreadable(&e))?;
    let (width, height) = (decoded.width(), decoded.height());
    if width == 0 || height == 0 || u64::from(width) * u64::from(height) > MAX_PIXELS {
        return Err(ThumbnailError::Unreadable(format!(
            "{width}×{height} is outside what is thumbnailed"
        )));
    }
    let transparent = decoded.color().has_alpha() && {
        let rgba = decoded.to_rgba8();
        rgba.pixels().any(|p| p.0[3] < 255)
    };
    let source = if transparent {
        DynamicImage::ImageRgba8(decoded.into_rgba8())
    } else {
        DynamicImage::ImageRgb8(decoded.into_rgb8())
    };
    let (w, h) = fit(width, height, LONGEST_SIDE);
    let resized = if (w, h) == (width, height) {
        source.as_bytes().to_vec()
    } else {
        let pixel_type = source
            .pixel_type()
            .ok_or_else(|| ThumbnailError::Unreadable("an unsupported pixel layout".into()))?;
        let mut target = Image::new(w, h, pixel_type);
        Resizer::new()
            .resize(
                &source,
                &mut target,
                &ResizeOptions::new().resize_alg(ResizeAlg::Convolution(
                    fast_image_resize::FilterType::Lanczos3,
                )),
            )
            .map_err(|e| unreadable(&e))?;
        target.into_vec()
    };
    let mut out = Vec::new();
    if transparent {
        WebPEncoder::new_lossless(&mut out)
            .write_image(&resized, w, h, image::ExtendedColorType::Rgba8)
            .map_err(|e| unreadable(&e))?;
        Ok(Thumbnail {
            bytes: out,
            content_type: "image/webp",
        })
    } else {
        JpegEncoder::new_with_quality(&mut out, JPEG_QUALITY)
            .write_image(&resized, w, h, image::ExtendedColorType::Rgb8)
            .map_err(|e| unreadable(&e))?;
        Ok(Thumbnail {
            bytes: out,
            content_type: "image/jpeg",
        })
    }
}

/// `width`×`height` scaled to fit `longest` on its longest side (never enlarged, never 0).
pub fn fit(width: u32, height: u32, longest: u32) -> (u32, u32) {
    let side = width.max(height);
    if side <= longest {
        return (width, height);
    }
    let scale = |n: u32| {
        ((u64::from(n) * u64::from(longest) + u64::from(side) / 2) / u64::from(side)).max(1) as u32
    };
    (scale(width), scale(height))
}

/// Whether this node can make video posters: `ffmpeg` runs.
pub async fn ffmpeg_available() -> bool {
    tokio::process::Command::new("ffmpeg")
        .arg("-version")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .status()
        .await
        .is_ok_and(|s| s.success())
}

/// A poster frame of the video in `file`: its first frame, scaled to fit [`LONGEST_SIDE`], as
/// a JPEG. `ffmpeg` reads the file (not a pipe) so a video whose index comes last still works.
pub async fn poster_of_video(file: &Path) -> Result<Thumbnail, ThumbnailError> {
    let scale = format!("scale={LONGEST_SIDE}:{LONGEST_SIDE}:force_original_aspect_ratio=decrease");
    let mut command = tokio::process::Command::new("ffmpeg");
    command
        .args(["-nostdin", "-hide_banner", "-loglevel", "error", "-i"])
        .arg(file)
        .args([
            "-frames:v",
            "1",
            "-vf",
            &scale,
            "-q:v",
            "4",
            "-f",
            "image2pipe",
            "-c:v",
            "mjpeg",
            "pipe:1",
        ])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true);
    let mut child = command.spawn().map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => ThumbnailError::NoFfmpeg,
        _ => ThumbnailError::Transient(format!("starting ffmpeg: {e}")),
    })?;
    let (Some(mut stdout), Some(mut stderr)) = (child.stdout.take(), child.stderr.take()) else {
        return Err(ThumbnailError::Transient(
            "ffmpeg's pipes were not open".into(),
        ));
    };
    // Both pipes are read at once, each only up to its limit: a frame past MAX_POSTER_BYTES
    // ends the run there (dropping the child kills it) rather than being held in memory.
    let run = async {
        let (frame, said) = tokio::try_join!(
            async {
                let frame = read_up_to(&mut stdout, MAX_POSTER_BYTES).await?;
                if frame.len() > MAX_POSTER_BYTES {
                    return Err(ThumbnailError::Unreadable(
                        "ffmpeg's poster frame is oversized".into(),
                    ));
                }
                Ok(frame)
            },
            async {
                let said = read_up_to(&mut stderr, MAX_FFMPEG_MESSAGE_BYTES).await?;
                // Past the limit the rest is read and dropped, so ffmpeg never blocks on it.
                tokio::io::copy(&mut stderr, &mut tokio::io::sink())
                    .await
                    .map_err(|e| ThumbnailError::Transient(format!("reading ffmpeg: {e}")))?;
                Ok(said)
            },
        )?;
        let status = child
            .wait()
            .await
            .map_err(|e| ThumbnailError::Transient(format!("running ffmpeg: {e}")))?;
        Ok::<_, ThumbnailError>((status, frame, said))
    };
    let (status, frame, said) =
        tokio::time::timeout(FFMPEG_TIMEOUT, run)
            .await
            .map_err(|_| {
                ThumbnailError::Transient("ffmpeg took over 30 s for a poster frame".into())
            })??;
    if !status.success() || frame.is_empty() {
        let said = String::from_utf8_lossy(&said);
        let said = said
            .lines()
            .last()
            .unwrap_or("no output")
            .chars()
            .take(300)
            .collect::<String>();
        return Err(ThumbnailError::Unreadable(format!(
            "ffmpeg could not read a frame: {said}"
        )));
    }
    Ok(Thumbnail {
        bytes: frame,
        content_type: "image/jpeg",
    })
}

/// Up to `limit` + 1 bytes of a pipe: one more than allowed shows it went past.
async fn read_up_to(
    pipe: &mut (impl tokio::io::AsyncRead + Unpin),
    limit: usize,
) -> Result<Vec<u8>, ThumbnailError> {
    use tokio::io::AsyncReadExt;
    let mut kept = Vec::new();
    pipe.take(limit as u64 + 1)
        .read_to_end(&mut kept)
        .await
        .map_err(|e| ThumbnailError::Transient(format!("reading ffmpeg: {e}")))?;
    Ok(kept)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(width: u32, height: u32, alpha: u8) -> Vec<u8> {
        let image = image::RgbaImage::from_fn(width, height, |x, y| {
            image::Rgba([(x % 256) as u8, (y % 256) as u8, 128, alpha])
        });
        let mut out = Vec::new();
        image::codecs::png::PngEncoder::new(&mut out)
            .write_image(
                image.as_raw(),
                width,
                height,
                image::ExtendedColorType::Rgba8,
            )
            .expect("encode");
        out
    }

    #[tokio::test]
    async fn a_pipe_is_read_only_one_byte_past_its_limit() {
        let mut long: &[u8] = &[7; 100];
        assert_eq!(read_up_to(&mut long, 10).await.expect("read").len(), 11);
        assert_eq!(long.len(), 89, "the rest is left unread");
        let mut short: &[u8] = &[7; 5];
        assert_eq!(read_up_to(&mut short, 10).await.expect("read").len(), 5);
    }

    #[test]
    fn sizes_fit_the_longest_side_and_never_grow() {
        assert_eq!(fit(1024, 1024, 512), (512, 512));
        assert_eq!(fit(1920, 1080, 512), (512, 288));
        assert_eq!(fit(1080, 1920, 512), (288, 512));
        assert_eq!(fit(300, 200, 512), (300, 200));
        assert_eq!(fit(10_000, 1, 512), (512, 1));
    }

    #[test]
    fn an_opaque_image_becomes_a_small_jpeg() {
        let thumb = of_image(&png(1024, 768, 255)).expect("thumbnail");
        assert_eq!(thumb.content_type, "image/jpeg");
        assert_eq!(
            imagesize::blob_size(&thumb.bytes)
                .map(|s| (s.width, s.height))
                .ok(),
            Some((512, 384))
        );
    }

    #[test]
    fn a_transparent_image_keeps_its_transparency() {
        let thumb = of_image(&png(600, 600, 100)).expect("thumbnail");
        assert_eq!(thumb.content_type, "image/webp");
        let back = image::load_from_memory(&thumb.bytes).expect("decode");
        assert_eq!((back.width(), back.height()), (512, 512));
        assert!(back.color().has_alpha());
    }

    #[test]
    fn garbage_is_unreadable_not_a_panic() {
        assert!(matches!(
            of_image(b"not a picture"),
            Err(ThumbnailError::Unreadable(_))
        ));
        // A PNG header that claims 100 000 × 100 000 pixels.
        let mut huge = png(1, 1, 255);
        huge[16..20].copy_from_slice(&100_000u32.to_be_bytes());
        huge[20..24].copy_from_slice(&100_000u32.to_be_bytes());
        assert!(matches!(
            of_image(&huge),
            Err(ThumbnailError::Unreadable(_))
        ));
    }
}
