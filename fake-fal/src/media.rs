//! Real media bytes for the fake CDN: a valid PNG of any size (padded with a private ancillary
//! chunk, which decoders skip) and a valid MP4 (a small real file followed by a `free` box, or,
//! not written for fast start, with the padding between its media data and its `moov` box at the
//! end), streamed so a 1 GiB output costs no memory.

use std::{
    collections::HashMap,
    io::Write,
    sync::{Arc, Mutex, OnceLock},
};

use axum::body::Bytes;
use flate2::{Compression, write::ZlibEncoder};
use futures_util::{Stream, stream};

pub const SAMPLE: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../fixtures/media/sample.mp4"
));
/// Every audio output: a real 3-second MP3 (see `fixtures/media/README.md`).
pub const SAMPLE_MP3: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../fixtures/media/sample.mp3"
));
/// `SAMPLE` with its `moov` box moved after `mdat` (chunk offsets adjusted), as encoders write a
/// file when they are not asked for fast start: see `fixtures/media/README.md`.
pub const SAMPLE_MOOV_LAST: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../fixtures/media/sample-moov-last.mp4"
));
/// Where `SAMPLE_MOOV_LAST`'s `moov` box starts (after ftyp 32, free 8, mdat 5768).
const MOOV_LAST_AT: usize = 5808;
const PAD_CHUNK: usize = 1 << 20;

/// A small gradient PNG, `width`×`height`, 8-bit RGB.
pub fn png(width: u32, height: u32) -> Vec<u8> {
    let mut raw = Vec::with_capacity((height * (width * 3 + 1)) as usize);
    for y in 0..height {
        raw.push(0); // filter: none
        for x in 0..width {
            raw.extend_from_slice(&[
                (x * 255 / width.max(1)) as u8,
                (y * 255 / height.max(1)) as u8,
                160,
            ]);
        }
    }
    let mut z = ZlibEncoder::new(Vec::new(), Compression::fast());
    // Writing into a Vec cannot fail.
    let _ = z.write_all(&raw);
    let idat = z.finish().unwrap_or_default();

    let mut ihdr = Vec::with_capacity(13);
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);

    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    out.extend(chunk(b"IHDR", &ihdr));
    out.extend(chunk(b"IDAT", &idat));
    out.extend(chunk(b"IEND", &[]));
    out
}

fn chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + 12);
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let mut crc = crc32fast::Hasher::new();
    crc.update(kind);
    crc.update(data);
    out.extend_from_slice(&crc.finalize().to_be_bytes());
    out
}

/// A picture that weighs what a model's output does: gradients, rings and a little grain
/// (2 bits in blocks of 8 pixels, as a photo's noise after fal's encoder), PNG with the `Sub`
/// filter. 1024×1024 comes to about 770 KiB. Made once per size and kept: the fake runs
/// unoptimised in tests.
pub fn picture(width: u32, height: u32) -> Arc<Vec<u8>> {
    type BySize = HashMap<(u32, u32), Arc<Vec<u8>>>;
    static MADE: OnceLock<Mutex<BySize>> = OnceLock::new();
    let made = MADE.get_or_init(Default::default);
    if let Some(p) = made
        .lock()
        .ok()
        .and_then(|m| m.get(&(width, height)).cloned())
    {
        return p;
    }
    let (w, h) = (width.max(1), height.max(1));
    let mut raw = Vec::with_capacity((h * (w * 3 + 1)) as usize);
    let mut seed: u32 = 12345;
    let mut grain = 0u8;
    for y in 0..h {
        raw.push(1); // filter: Sub (each byte minus the one a pixel to its left)
        let mut left = [0u8; 3];
        for x in 0..w {
            if x % 8 == 0 {
                seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
                grain = ((seed >> 16) & 3) as u8;
            }
            let (cx, cy) = (x as f32 - w as f32 / 2.0, y as f32 - h as f32 / 2.0);
            let ring = (40.0 * ((cx * cx + cy * cy).sqrt() / 23.0).sin()) as i32;
            let pixel = [
                (x * 200 / w) as i32 + ring + i32::from(grain),
                (y * 200 / h) as i32 + i32::from(grain),
                160 + ring / 2 + i32::from(grain),
            ]
            .map(|v| v.rem_euclid(256) as u8);
            for c in 0..3 {
                raw.push(pixel[c].wrapping_sub(left[c]));
            }
            left = pixel;
        }
    }
    let mut z = ZlibEncoder::new(Vec::new(), Compression::fast());
    let _ = z.write_all(&raw);
    let idat = z.finish().unwrap_or_default();
    let mut ihdr = Vec::with_capacity(13);
    ihdr.extend_from_slice(&w.to_be_bytes());
    ihdr.extend_from_slice(&h.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    out.extend(chunk(b"IHDR", &ihdr));
    out.extend(chunk(b"IDAT", &idat));
    out.extend(chunk(b"IEND", &[]));
    let out = Arc::new(out);
    if let Ok(mut m) = made.lock() {
        m.insert((width, height), out.clone());
    }
    out
}

pub enum Kind {
    /// A PNG of this size: 64×64 is the small gradient, anything else a [`picture`].
    Png {
        width: u32,
        height: u32,
    },
    Mp4,
    /// An MP4 whose `moov` box comes last, after the padding.
    Mp4MoovLast,
    /// The sample MP3, as it is (never padded).
    Mp3,
}

/// The file's total length and its bytes as a stream of ≤ 1 MiB pieces. `size` is a minimum:
/// a file is never smaller than its real media.
pub fn file(kind: Kind, size: u64) -> (u64, impl Stream<Item = Result<Bytes, std::io::Error>>) {
    let (head, tail, pad_total): (Vec<u8>, Vec<u8>, u64) = match kind {
        Kind::Png { width, height } => {
            let image = if (width, height) == (64, 64) {
                png(64, 64)
            } else {
                picture(width, height).to_vec()
            };
            // Split before IEND (its 12 bytes) so padding chunks sit inside the PNG.
            let split = image.len() - 12;
            let base = image.len() as u64;
            let pad = size.saturating_sub(base);
            let chunks = pad.div_ceil(PAD_CHUNK as u64 + 12);
            let pad_bytes = pad.saturating_sub(chunks * 12);
            (image[..split].to_vec(), image[split..].to_vec(), pad_bytes)
        }
        Kind::Mp4 => {
            let base = SAMPLE.len() as u64;
            let pad = size.saturating_sub(base + 16);
            (SAMPLE.to_vec(), Vec::new(), pad)
        }
        Kind::Mp3 => (SAMPLE_MP3.to_vec(), Vec::new(), 0),
        Kind::Mp4MoovLast => {
            let base = SAMPLE_MOOV_LAST.len() as u64;
            let pad = size.saturating_sub(base + 16);
            let (media, moov) = SAMPLE_MOOV_LAST.split_at(MOOV_LAST_AT);
            (media.to_vec(), moov.to_vec(), pad)
        }
    };
    let pieces = padding_pieces(&kind, pad_total);
    let total = head.len() as u64
        + tail.len() as u64
        + pieces
            .iter()
            .map(|p| p.header.len() as u64 + p.len + p.trailer.len() as u64)
            .sum::<u64>();
    let parts = std::iter::once(Bytes::from(head))
        .chain(pieces.into_iter().flat_map(Piece::into_bytes))
        .chain(std::iter::once(Bytes::from(tail)))
        .filter(|b| !b.is_empty())
        .map(Ok);
    (total, stream::iter(parts))
}

struct Piece {
    header: Vec<u8>,
    len: u64,
    trailer: Vec<u8>,
}

impl Piece {
    fn into_bytes(self) -> impl Iterator<Item = Bytes> {
        let zeros = Bytes::from_static(&ZEROS);
        let full = self.len / PAD_CHUNK as u64;
        let rest = (self.len % PAD_CHUNK as u64) as usize;
        std::iter::once(Bytes::from(self.header))
            .chain((0..full).map(move |_| zeros.clone()))
            .chain(std::iter::once(Bytes::from_static(&ZEROS[..rest])))
            .chain(std::iter::once(Bytes::from(self.trailer)))
    }
}

static ZEROS: [u8; PAD_CHUNK] = [0; PAD_CHUNK];

fn padding_pieces(kind: &Kind, pad: u64) -> Vec<Piece> {
    if pad == 0 {
        return Vec::new();
    }
    match kind {
        Kind::Png { .. } => {
            let mut left = pad;
            let mut pieces = Vec::new();
            while left > 0 {
                let len = left.min(PAD_CHUNK as u64);
                let mut crc = crc32fast::Hasher::new();
                crc.update(b"prVt");
                crc.update(&ZEROS[..len as usize]);
                let mut header = (len as u32).to_be_bytes().to_vec();
                header.extend_from_slice(b"prVt");
                pieces.push(Piece {
                    header,
                    len,
                    trailer: crc.finalize().to_be_bytes().to_vec(),
                });
                left -= len;
            }
            pieces
        }
        Kind::Mp3 => Vec::new(),
        Kind::Mp4 | Kind::Mp4MoovLast => {
            // One `free` box with a 64-bit size: any length, one header.
            let mut header = 1u32.to_be_bytes().to_vec();
            header.extend_from_slice(b"free");
            header.extend_from_slice(&(pad + 16).to_be_bytes());
            vec![Piece {
                header,
                len: pad,
                trailer: Vec::new(),
            }]
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::StreamExt;

    async fn collect(kind: Kind, size: u64) -> (u64, Vec<u8>) {
        let (total, s) = file(kind, size);
        let parts: Vec<_> = s.collect().await;
        let mut out = Vec::new();
        for p in parts {
            out.extend_from_slice(&p.unwrap());
        }
        (total, out)
    }

    #[test]
    fn a_picture_weighs_what_an_output_does() {
        let p = picture(1024, 1024);
        assert!(p.len() > 300 * 1024 && p.len() < 1200 * 1024, "{}", p.len());
        assert_eq!(&p[16..24], &[0, 0, 4, 0, 0, 0, 4, 0]);
    }

    #[tokio::test]
    async fn padded_png_is_still_a_png_of_the_declared_length() {
        let (total, bytes) = collect(
            Kind::Png {
                width: 64,
                height: 64,
            },
            3 * 1024 * 1024 + 17,
        )
        .await;
        assert_eq!(total, bytes.len() as u64);
        assert!(total >= 3 * 1024 * 1024);
        assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"));
        assert!(bytes.ends_with(&chunk(b"IEND", &[])));
        // IHDR width and height.
        assert_eq!(&bytes[16..24], &[0, 0, 0, 64, 0, 0, 0, 64]);
    }

    #[tokio::test]
    async fn padded_mp4_keeps_its_boxes() {
        let (total, bytes) = collect(Kind::Mp4, 2 * 1024 * 1024).await;
        assert_eq!(total, bytes.len() as u64);
        assert_eq!(&bytes[4..8], b"ftyp");
        assert_eq!(total, 2 * 1024 * 1024);
    }

    #[tokio::test]
    async fn padded_moov_last_mp4_ends_with_its_moov() {
        let (total, bytes) = collect(Kind::Mp4MoovLast, 200_000).await;
        assert_eq!(total, bytes.len() as u64);
        assert_eq!(total, 200_000);
        assert_eq!(&bytes[4..8], b"ftyp");
        let moov = &SAMPLE_MOOV_LAST[MOOV_LAST_AT..];
        assert_eq!(&moov[4..8], b"moov");
        assert_eq!(moov.len(), 2218);
        assert!(bytes.ends_with(moov));
    }
}
