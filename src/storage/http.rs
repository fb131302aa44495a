//! Pure helpers for the handlers that serve stored files: `Range`, `Content-Disposition`, `ETag`.
//! The other headers they send and read are typed headers of the `headers` crate (`files.rs`).

/// An inclusive byte range, already resolved against the object's size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteRange {
    pub start: u64,
    pub end_inclusive: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeDecision {
    /// Serve the whole object with 200.
    Full,
    /// Serve this part with 206.
    Partial(ByteRange),
    /// Answer 416 with `Content-Range: bytes */size`.
    Unsatisfiable,
}

/// Reads a `Range` header for an object of `size` bytes (RFC 9110 §14).
///
/// Anything we do not understand is ignored and the whole object served, as the RFC allows; so
/// are multi-range requests, since building `multipart/byteranges` buys nothing for media players,
/// which ask for one range at a time.
pub fn parse_range(header: &str, size: u64) -> RangeDecision {
    let header = header.trim();
    let Some((unit, spec)) = header.split_once('=') else {
        return RangeDecision::Full;
    };
    if !unit.trim().eq_ignore_ascii_case("bytes") || spec.contains(',') {
        return RangeDecision::Full;
    }
    let Some((first, last)) = spec.trim().split_once('-') else {
        return RangeDecision::Full;
    };
    let (first, last) = (first.trim(), last.trim());

    if first.is_empty() {
        // Suffix form `-N`: the last N bytes.
        let Some(suffix) = parse_digits(last) else {
            return RangeDecision::Full;
        };
        if suffix == 0 || size == 0 {
            return RangeDecision::Unsatisfiable;
        }
        return RangeDecision::Partial(ByteRange {
            start: size.saturating_sub(suffix),
            end_inclusive: size - 1,
        });
    }

    let Some(start) = parse_digits(first) else {
        return RangeDecision::Full;
    };
    let end = if last.is_empty() {
        None
    } else {
        match parse_digits(last) {
            Some(end) if end >= start => Some(end),
            // `last < first` is invalid syntax, which the RFC says to ignore.
            _ => return RangeDecision::Full,
        }
    };
    if start >= size {
        return RangeDecision::Unsatisfiable;
    }
    let last_byte = size - 1;
    RangeDecision::Partial(ByteRange {
        start,
        end_inclusive: end.map_or(last_byte, |e| e.min(last_byte)),
    })
}

/// Digits only (no sign, no spaces). A number too large for u64 saturates: it can only mean
/// "past the end", which the caller then treats like any other position past the end.
fn parse_digits(text: &str) -> Option<u64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(text.parse().unwrap_or(u64::MAX))
}

/// `inline` or `attachment` with a filename every browser understands: a plain ASCII
/// `filename="..."` and, when the name has other characters, the exact name as RFC 5987/6266
/// `filename*=UTF-8''...`, which modern browsers prefer.
pub fn content_disposition(filename: &str, attachment: bool) -> String {
    let disposition = if attachment { "attachment" } else { "inline" };
    // Control characters could split the header; quotes and backslashes would end or escape
    // the quoted-string early.
    let cleaned: String = filename
        .chars()
        .filter(|c| !c.is_control() && *c != '"' && *c != '\\')
        .collect();
    let cleaned = cleaned.trim();
    let cleaned = if cleaned.is_empty() { "file" } else { cleaned };

    let fallback: String = cleaned
        .chars()
        .map(|c| if c.is_ascii() { c } else { '_' })
        .collect();
    let mut value = format!("{disposition}; filename=\"{fallback}\"");
    if !cleaned.is_ascii() {
        value.push_str("; filename*=UTF-8''");
        for byte in cleaned.bytes() {
            if is_attr_char(byte) {
                value.push(char::from(byte));
            } else {
                value.push_str(&format!("%{byte:02X}"));
            }
        }
    }
    value
}

/// RFC 5987 `attr-char`: what may appear unencoded in an extended parameter value.
fn is_attr_char(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(
            b,
            b'!' | b'#' | b'$' | b'&' | b'+' | b'-' | b'.' | b'^' | b'_' | b'`' | b'|' | b'~'
        )
}

/// A strong `ETag` from the content hash: equal bytes, equal tag, whichever backend serves them.
pub fn etag(sha256_hex: &str) -> String {
    let tag: String = sha256_hex
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect();
    format!("\"{tag}\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn partial(start: u64, end_inclusive: u64) -> RangeDecision {
        RangeDecision::Partial(ByteRange {
            start,
            end_inclusive,
        })
    }

    #[test]
    fn range_headers_are_read_as_the_rfc_says() {
        use RangeDecision::{Full, Unsatisfiable};
        let cases: &[(&str, u64, RangeDecision)] = &[
            ("bytes=0-99", 1000, partial(0, 99)),
            ("bytes=100-", 1000, partial(100, 999)),
            ("bytes=-500", 1000, partial(500, 999)),
            ("bytes=-5000", 1000, partial(0, 999)),
            ("bytes=0-0", 1000, partial(0, 0)),
            ("bytes=999-999", 1000, partial(999, 999)),
            ("bytes=900-5000", 1000, partial(900, 999)),
            ("bytes=0-18446744073709551616", 1000, partial(0, 999)),
            ("  bytes = 5-9 ", 1000, partial(5, 9)),
            ("Bytes=5-9", 1000, partial(5, 9)),
            ("bytes=1000-", 1000, Unsatisfiable),
            ("bytes=1000-1001", 1000, Unsatisfiable),
            ("bytes=99999999999999999999999-", 1000, Unsatisfiable),
            ("bytes=-0", 1000, Unsatisfiable),
            ("bytes=0-", 0, Unsatisfiable),
            ("bytes=-5", 0, Unsatisfiable),
            ("bytes=0-99,200-299", 1000, Full),
            ("bytes=0-99, 200-", 1000, Full),
            ("bytes=9-5", 1000, Full),
            ("bytes=abc", 1000, Full),
            ("bytes=-", 1000, Full),
            ("bytes=1-2-3", 1000, Full),
            ("bytes=+1-2", 1000, Full),
            ("bytes=1 0-20", 1000, Full),
            ("items=0-9", 1000, Full),
            ("0-9", 1000, Full),
            ("", 1000, Full),
        ];
        for (header, size, expected) in cases {
            assert_eq!(
                parse_range(header, *size),
                *expected,
                "case {header:?} size {size}"
            );
        }
    }

    #[test]
    fn content_disposition_keeps_names_safe_and_exact() {
        let cases: &[(&str, bool, &str)] = &[
            ("cat.png", false, "inline; filename=\"cat.png\""),
            ("cat.png", true, "attachment; filename=\"cat.png\""),
            (
                "my \"best\" cat.png",
                false,
                "inline; filename=\"my best cat.png\"",
            ),
            (
                "a\\b\r\nSet-Cookie: x.png",
                false,
                "inline; filename=\"abSet-Cookie: x.png\"",
            ),
            ("", true, "attachment; filename=\"file\""),
            ("\"\"", true, "attachment; filename=\"file\""),
            (
                "café.png",
                false,
                "inline; filename=\"caf_.png\"; filename*=UTF-8''caf%C3%A9.png",
            ),
            (
                "日本 1.jpg",
                true,
                "attachment; filename=\"__ 1.jpg\"; filename*=UTF-8''%E6%97%A5%E6%9C%AC%201.jpg",
            ),
            (
                "naïve;x'y.mp4",
                false,
                "inline; filename=\"na_ve;x'y.mp4\"; filename*=UTF-8''na%C3%AFve%3Bx%27y.mp4",
            ),
        ];
        for (name, attachment, expected) in cases {
            assert_eq!(
                content_disposition(name, *attachment),
                *expected,
                "case {name:?}"
            );
        }
    }

    #[test]
    fn etag_is_strong_and_quoted() {
        assert_eq!(etag("ab12"), "\"ab12\"");
        assert_eq!(etag("ab\"12"), "\"ab12\"", "a quote cannot break out");
    }
}
