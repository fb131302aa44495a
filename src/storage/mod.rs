//! Where generated and uploaded files live: a folder under `DATA_DIR` (default) or an
//! S3-compatible bucket. Both stream in and out, so no object is ever held whole in memory, and a
//! failed or oversized upload leaves nothing behind under its key.
//!
//! Enum dispatch rather than a trait object: there are exactly two backends, and plain `async fn`s
//! keep the futures `Send` without `async-trait` boxing.

pub mod http;
mod local;
mod s3;
mod write_pipeline;

use std::path::Path;

use axum::body::Body;
use bytes::Bytes;
use futures_util::Stream;

use crate::config::StorageConfig;

pub use http::{ByteRange, RangeDecision, content_disposition, etag, parse_range};
pub use local::LocalStorage;
pub use s3::S3Storage;

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("the stored file was not found")]
    NotFound,
    #[error("the file is larger than the limit of {limit} bytes")]
    TooLarge { limit: u64 },
    #[error("invalid storage key")]
    InvalidKey,
    /// The requested range starts at or past the end of the object; `size` lets the caller answer
    /// 416 with `Content-Range: bytes */size`.
    #[error("the requested range is outside the stored file ({size} bytes)")]
    RangeNotSatisfiable { size: u64 },
    /// Disk or network trouble that may pass: worth a retry.
    #[error("storage is unavailable: {0}")]
    Unavailable(String),
    #[error("storage error: {0}")]
    Other(String),
    /// The stream being stored failed (an upload cut off or timed out, a download from fal that
    /// broke): not the storage's fault.
    #[error("the data to store stopped arriving: {0}")]
    SourceFailed(String),
}

impl StorageError {
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            StorageError::Unavailable(_) | StorageError::SourceFailed(_)
        )
    }
}

/// What people are told when storage fails on our side. The detail (paths, OS errors, S3
/// answers) is for the server log only.
pub const UNAVAILABLE_MESSAGE: &str = "Storage is unavailable, try again in a moment.";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PutResult {
    pub byte_size: u64,
    pub sha256_hex: String,
}

#[derive(Debug)]
pub struct GetResult {
    pub body: Body,
    /// Size of the whole object, for `Content-Range`.
    pub size: u64,
    /// Bytes `body` will yield.
    pub content_length: u64,
    /// The inclusive range served, or `None` when the whole object is served.
    pub range: Option<(u64, u64)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ObjectInfo {
    pub size: u64,
}

#[derive(Debug, Clone)]
pub enum Storage {
    Local(LocalStorage),
    S3(S3Storage),
}

impl Storage {
    /// Local files go under `data_dir/files/`. For S3 the bucket is created when it does not
    /// exist yet (a fresh SeaweedFS or moto), and start-up fails with a clear message when it cannot be.
    pub async fn from_config(
        config: &StorageConfig,
        data_dir: &Path,
    ) -> Result<Storage, StorageError> {
        match config {
            StorageConfig::Local => Ok(Storage::Local(
                LocalStorage::open(data_dir.join("files")).await?,
            )),
            StorageConfig::S3(s3) => Ok(Storage::S3(S3Storage::connect(s3).await?)),
        }
    }

    /// Recorded on each asset row, so a later change of backend can tell where old files are.
    pub fn mode(&self) -> &'static str {
        match self {
            Storage::Local(_) => "local",
            Storage::S3(_) => "s3",
        }
    }

    /// Stores the stream under `key`, replacing any object there. Nothing appears under `key`
    /// unless the whole stream arrived and stayed within `max_bytes`. Only S3 keeps
    /// `content_type`; the asset row is where the app reads it from, for both backends.
    pub async fn put_stream<S>(
        &self,
        key: &str,
        content_type: &str,
        body: S,
        max_bytes: u64,
    ) -> Result<PutResult, StorageError>
    where
        S: Stream<Item = Result<Bytes, std::io::Error>> + Send + Unpin,
    {
        validate_key(key)?;
        match self {
            Storage::Local(s) => s.put_stream(key, body, max_bytes).await,
            Storage::S3(s) => s.put_stream(key, content_type, body, max_bytes).await,
        }
    }

    pub async fn get(
        &self,
        key: &str,
        range: Option<ByteRange>,
    ) -> Result<GetResult, StorageError> {
        validate_key(key)?;
        match self {
            Storage::Local(s) => s.get(key, range).await,
            Storage::S3(s) => s.get(key, range).await,
        }
    }

    pub async fn head(&self, key: &str) -> Result<ObjectInfo, StorageError> {
        validate_key(key)?;
        match self {
            Storage::Local(s) => s.head(key).await,
            Storage::S3(s) => s.head(key).await,
        }
    }

    /// Deleting an object that is already gone succeeds, so retries and double clicks are safe.
    pub async fn delete(&self, key: &str) -> Result<(), StorageError> {
        validate_key(key)?;
        match self {
            Storage::Local(s) => s.delete(key).await,
            Storage::S3(s) => s.delete(key).await,
        }
    }

    /// Cheap liveness probe for `/healthz`.
    pub async fn check(&self) -> Result<(), StorageError> {
        match self {
            Storage::Local(s) => s.check().await,
            Storage::S3(s) => s.check().await,
        }
    }
}

const MAX_KEY_LEN: usize = 1024;

/// Keys are built by us (`assets/<user>/<id>.png`), but they end up as file paths, so anything
/// that could step outside the storage root is refused even if a bug lets it through. Segments
/// starting with `.` are refused too: the local backend keeps its temporary files in `.tmp/`.
pub(crate) fn validate_key(key: &str) -> Result<(), StorageError> {
    let well_formed = !key.is_empty()
        && key.len() <= MAX_KEY_LEN
        && !key.starts_with('/')
        && !key.contains('\\')
        && !key.chars().any(char::is_control)
        && key
            .split('/')
            .all(|segment| !segment.is_empty() && !segment.starts_with('.'));
    if well_formed {
        Ok(())
    } else {
        Err(StorageError::InvalidKey)
    }
}

/// The range actually served: clamped to the object, or an error when it starts past the end.
pub(crate) fn resolve_range(
    range: Option<ByteRange>,
    size: u64,
) -> Result<Option<(u64, u64)>, StorageError> {
    match range {
        None => Ok(None),
        Some(r) if r.start >= size || r.start > r.end_inclusive => {
            Err(StorageError::RangeNotSatisfiable { size })
        }
        Some(r) => Ok(Some((r.start, r.end_inclusive.min(size - 1)))),
    }
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 0x0f)] as char);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_that_could_escape_the_storage_root_are_refused() {
        let bad = [
            "",
            "/etc/passwd",
            "../secret",
            "assets/../../x",
            "assets/./x",
            "assets//x",
            "assets/x/",
            "assets\\x",
            "assets/.tmp/x",
            "assets/x\0y",
            "assets/x\ny",
        ];
        for key in bad {
            assert!(
                matches!(validate_key(key), Err(StorageError::InvalidKey)),
                "{key:?} must be refused"
            );
        }
        let too_long = "a".repeat(MAX_KEY_LEN + 1);
        assert!(
            validate_key(&too_long).is_err(),
            "over-long key must be refused"
        );
    }

    #[test]
    fn keys_we_produce_are_accepted() {
        for key in [
            "assets/u1/01J9Z.png",
            "inputs/u-2/ref image.webp",
            "a",
            "x/y/z/ünïcode.mp4",
        ] {
            assert!(validate_key(key).is_ok(), "{key:?} must be accepted");
        }
    }

    #[test]
    fn ranges_are_clamped_or_refused() {
        let r = |start, end_inclusive| {
            Some(ByteRange {
                start,
                end_inclusive,
            })
        };
        assert_eq!(resolve_range(None, 10).ok(), Some(None));
        assert_eq!(resolve_range(r(2, 5), 10).ok(), Some(Some((2, 5))));
        assert_eq!(resolve_range(r(2, 50), 10).ok(), Some(Some((2, 9))));
        assert!(matches!(
            resolve_range(r(10, 20), 10),
            Err(StorageError::RangeNotSatisfiable { size: 10 })
        ));
        assert!(resolve_range(r(0, 0), 0).is_err(), "empty object");
        assert!(resolve_range(r(5, 2), 10).is_err(), "reversed range");
    }

    #[test]
    fn only_unavailable_is_retryable() {
        assert!(StorageError::Unavailable("x".into()).is_retryable());
        assert!(!StorageError::NotFound.is_retryable());
        assert!(!StorageError::TooLarge { limit: 1 }.is_retryable());
        assert!(!StorageError::Other("x".into()).is_retryable());
    }

    /// Handlers and the job runner hold these futures across `.await` in spawned tasks.
    #[tokio::test]
    async fn storage_futures_are_send() {
        fn is_send<T: Send>(_: T) {}
        let dir = tempfile::tempdir().expect("temp dir");
        let storage = Storage::from_config(&StorageConfig::Local, dir.path())
            .await
            .expect("storage");
        let body = futures_util::stream::empty::<Result<Bytes, std::io::Error>>();
        is_send(storage.put_stream("k", "text/plain", body, 1));
        is_send(storage.get("k", None));
        is_send(storage.head("k"));
        is_send(storage.delete("k"));
        is_send(storage.check());
        is_send(Storage::from_config(&StorageConfig::Local, dir.path()));
    }

    #[test]
    fn hex_is_lowercase() {
        assert_eq!(hex(&[0x00, 0xab, 0xff]), "00abff");
    }
}
