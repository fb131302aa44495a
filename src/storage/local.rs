//! Files under `DATA_DIR/files/`, one file per key.
//!
//! Writes go to `files/.tmp/` first (inside the same folder, so the final rename never crosses a
//! filesystem even when `files/` is its own volume), are fsynced, then renamed into place: a crash
//! leaves at most a stray temporary file, never a half object under a real key.

use std::{
    io::{self, SeekFrom},
    path::{Path, PathBuf},
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use axum::body::Body;
use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use tokio::{
    fs,
    io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt},
};
use tokio_util::io::ReaderStream;

use super::write_pipeline::WritePipeline;
use super::{ByteRange, GetResult, ObjectInfo, PutResult, StorageError, hex, resolve_range};

const TMP_DIR: &str = ".tmp";
/// Temporary files this old belong to an upload that died with its process.
const STALE_TMP_AGE: Duration = Duration::from_secs(60 * 60);
/// Writeback of what was written is started every this many bytes, so the fsync that makes an
/// object durable before its rename finds little left to do (a 1 GiB output otherwise waits on
/// a full gigabyte of dirty pages at the end).
const WRITEBACK_EVERY: u64 = 16 * 1024 * 1024;
const READ_CHUNK: usize = 64 * 1024;

#[derive(Debug, Clone)]
pub struct LocalStorage {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    root: PathBuf,
    tmp: PathBuf,
}

impl LocalStorage {
    pub async fn open(root: PathBuf) -> Result<LocalStorage, StorageError> {
        let tmp = root.join(TMP_DIR);
        fs::create_dir_all(&tmp)
            .await
            .map_err(|e| io_error(&format!("cannot create {}", tmp.display()), e))?;
        remove_stale_temporaries(&tmp).await;
        Ok(LocalStorage {
            inner: Arc::new(Inner { root, tmp }),
        })
    }

    /// The folder objects are stored in.
    pub fn root(&self) -> &Path {
        &self.inner.root
    }

    fn path_for(&self, key: &str) -> PathBuf {
        // `validate_key` already ran: every segment is a plain name.
        self.inner.root.join(key)
    }

    pub(super) async fn put_stream<S>(
        &self,
        key: &str,
        mut body: S,
        max_bytes: u64,
    ) -> Result<PutResult, StorageError>
    where
        S: Stream<Item = Result<Bytes, io::Error>> + Send + Unpin,
    {
        let final_path = self.path_for(key);
        let (tmp, file) = TempFile::create(&self.inner.tmp).await?;
        // Hashing and writing run on their own threads beside receiving: in line, the sha256
        // of every byte was a third of the ingest time of a large output.
        let mut started_writeback = 0u64;
        let mut pipeline = WritePipeline::start(file.into_std().await, move |file, written| {
            if written - started_writeback >= WRITEBACK_EVERY {
                start_writeback(file, started_writeback, written - started_writeback);
                started_writeback = written;
            }
        });
        let mut byte_size: u64 = 0;
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(|e| StorageError::SourceFailed(e.to_string()))?;
            byte_size += chunk.len() as u64;
            if byte_size > max_bytes {
                return Err(StorageError::TooLarge { limit: max_bytes });
            }
            pipeline
                .write(&chunk)
                .await
                .map_err(|e| io_error("cannot write the temporary file", e))?;
        }
        // Data must be on disk before the rename makes it visible, or a crash could publish an
        // empty or partial file under the final name: `finish` returns after the fsync.
        let sha256 = pipeline
            .finish()
            .await
            .map_err(|e| io_error("cannot write the temporary file", e))?;

        let parent = final_path
            .parent()
            .unwrap_or(&self.inner.root)
            .to_path_buf();
        fs::create_dir_all(&parent)
            .await
            .map_err(|e| io_error(&format!("cannot create {}", parent.display()), e))?;
        fs::rename(tmp.path(), &final_path)
            .await
            .map_err(|e| io_error(&format!("cannot move the file to {key}"), e))?;
        tmp.disarm();
        sync_dir(&parent).await;

        Ok(PutResult {
            byte_size,
            sha256_hex: hex(&sha256),
        })
    }

    pub(super) async fn get(
        &self,
        key: &str,
        range: Option<ByteRange>,
    ) -> Result<GetResult, StorageError> {
        let path = self.path_for(key);
        let mut file = fs::File::open(&path)
            .await
            .map_err(|e| not_found_or(e, &format!("cannot open {key}")))?;
        let meta = file
            .metadata()
            .await
            .map_err(|e| io_error(&format!("cannot read {key}"), e))?;
        if !meta.is_file() {
            return Err(StorageError::NotFound);
        }
        let size = meta.len();
        let served = resolve_range(range, size)?;
        let (start, content_length) = match served {
            Some((start, end)) => (start, end - start + 1),
            None => (0, size),
        };
        if start > 0 {
            file.seek(SeekFrom::Start(start))
                .await
                .map_err(|e| io_error(&format!("cannot read {key}"), e))?;
        }
        // `take` keeps the body to the length announced even if the file grows meanwhile.
        let stream = ReaderStream::with_capacity(file.take(content_length), READ_CHUNK);
        Ok(GetResult {
            body: Body::from_stream(stream),
            size,
            content_length,
            range: served,
        })
    }

    pub(super) async fn head(&self, key: &str) -> Result<ObjectInfo, StorageError> {
        let meta = fs::metadata(self.path_for(key))
            .await
            .map_err(|e| not_found_or(e, &format!("cannot read {key}")))?;
        if !meta.is_file() {
            return Err(StorageError::NotFound);
        }
        Ok(ObjectInfo { size: meta.len() })
    }

    pub(super) async fn delete(&self, key: &str) -> Result<(), StorageError> {
        match fs::remove_file(self.path_for(key)).await {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io_error(&format!("cannot delete {key}"), e)),
        }
    }

    /// Writes and removes a probe file: proves the folder exists and is writable, which is what
    /// uploads need, without touching any object.
    pub(super) async fn check(&self) -> Result<(), StorageError> {
        let (tmp, mut file) = TempFile::create(&self.inner.tmp).await?;
        file.write_all(b"ok")
            .await
            .map_err(|e| io_error("the storage folder is not writable", e))?;
        drop(file);
        drop(tmp);
        Ok(())
    }
}

/// A temporary file that is removed when dropped unless disarmed, so every early return, error
/// and cancelled request (a dropped future) cleans up after itself.
struct TempFile {
    path: PathBuf,
    armed: bool,
}

impl TempFile {
    async fn create(dir: &Path) -> Result<(TempFile, fs::File), StorageError> {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let name = format!(
            "{}-{}-{nanos}.part",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        let path = dir.join(name);
        let mut options = fs::OpenOptions::new();
        options.write(true).create_new(true);
        // Stored files are for this server's user only (0600 at most, whatever the umask).
        #[cfg(unix)]
        options.mode(0o600);
        let file = options
            .open(&path)
            .await
            .map_err(|e| io_error(&format!("cannot create a file in {}", dir.display()), e))?;
        Ok((TempFile { path, armed: true }, file))
    }

    fn path(&self) -> &Path {
        &self.path
    }

    fn disarm(mut self) {
        self.armed = false;
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if self.armed {
            // Synchronous on purpose: Drop cannot await, and unlinking one file is quick.
            if let Err(e) = std::fs::remove_file(&self.path)
                && e.kind() != io::ErrorKind::NotFound
            {
                tracing::warn!(path = %self.path.display(), error = %e, "could not remove a temporary upload file");
            }
        }
    }
}

async fn remove_stale_temporaries(tmp: &Path) {
    let Ok(mut entries) = fs::read_dir(tmp).await else {
        return;
    };
    while let Ok(Some(entry)) = entries.next_entry().await {
        let stale = entry
            .metadata()
            .await
            .ok()
            .and_then(|m| m.modified().ok())
            .and_then(|modified| modified.elapsed().ok())
            .is_some_and(|age| age > STALE_TMP_AGE);
        if stale && let Err(e) = fs::remove_file(entry.path()).await {
            tracing::warn!(path = %entry.path().display(), error = %e, "could not remove a stale temporary file");
        }
    }
}

/// Makes a rename durable. Best effort: some filesystems refuse to fsync a directory, and the
/// object is already complete and visible, so a failure here is logged rather than returned.
async fn sync_dir(dir: &Path) {
    let result = match fs::File::open(dir).await {
        Ok(d) => d.sync_all().await,
        Err(e) => Err(e),
    };
    if let Err(e) = result {
        tracing::debug!(dir = %dir.display(), error = %e, "could not fsync the directory");
    }
}

fn not_found_or(e: io::Error, context: &str) -> StorageError {
    // A path through a regular file (`a.png/b`) is just another missing object.
    if matches!(
        e.kind(),
        io::ErrorKind::NotFound | io::ErrorKind::NotADirectory
    ) {
        StorageError::NotFound
    } else {
        io_error(context, e)
    }
}

fn io_error(context: &str, e: io::Error) -> StorageError {
    StorageError::Unavailable(format!("{context}: {e}"))
}

/// Asks the kernel to start writing `len` bytes from `offset` to disk without waiting for it
/// (Linux `sync_file_range(SYNC_FILE_RANGE_WRITE)`); elsewhere the final fsync does it all.
fn start_writeback(file: &std::fs::File, offset: u64, len: u64) {
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        let (Ok(offset), Ok(len)) = (i64::try_from(offset), i64::try_from(len)) else {
            return;
        };
        // SAFETY: the descriptor is open for the duration of the call; the call only schedules
        // writeback of pages already written and reports errors through its return value,
        // which is advisory here (the fsync before the rename is what guarantees durability).
        unsafe {
            libc::sync_file_range(file.as_raw_fd(), offset, len, libc::SYNC_FILE_RANGE_WRITE);
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = (file, offset, len);
}

#[cfg(test)]
mod tests {
    use std::pin::Pin;

    use futures_util::stream;

    use sha2::{Digest, Sha256};

    use super::*;
    use crate::storage::Storage;

    async fn storage() -> (tempfile::TempDir, Storage) {
        let dir = tempfile::tempdir().expect("temp dir");
        let storage = Storage::from_config(&crate::config::StorageConfig::Local, dir.path())
            .await
            .expect("local storage");
        (dir, storage)
    }

    fn chunks(
        data: &[u8],
        size: usize,
    ) -> impl Stream<Item = io::Result<Bytes>> + Send + Unpin + use<> {
        let parts: Vec<io::Result<Bytes>> = data
            .chunks(size)
            .map(|c| Ok(Bytes::copy_from_slice(c)))
            .collect();
        stream::iter(parts)
    }

    async fn read_all(body: Body) -> Vec<u8> {
        let mut stream = body.into_data_stream();
        let mut out = Vec::new();
        while let Some(chunk) = stream.next().await {
            out.extend_from_slice(&chunk.expect("body chunk"));
        }
        out
    }

    fn sample(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i * 31 % 251) as u8).collect()
    }

    /// Everything left in the storage folder, temporaries included.
    fn files_under(root: &Path) -> Vec<PathBuf> {
        let mut found = Vec::new();
        let mut pending = vec![root.to_path_buf()];
        while let Some(dir) = pending.pop() {
            for entry in std::fs::read_dir(&dir).expect("read dir") {
                let path = entry.expect("entry").path();
                if path.is_dir() {
                    pending.push(path);
                } else {
                    found.push(path);
                }
            }
        }
        found
    }

    fn local(storage: &Storage) -> &LocalStorage {
        match storage {
            Storage::Local(l) => l,
            Storage::S3(_) => panic!("expected local storage"),
        }
    }

    #[tokio::test]
    async fn a_stored_file_reads_back_with_its_size_and_hash() {
        let (_dir, storage) = storage().await;
        let data = sample(300_000);

        let put = storage
            .put_stream(
                "assets/u1/a.png",
                "image/png",
                chunks(&data, 7_000),
                1 << 20,
            )
            .await
            .expect("put");

        assert_eq!(put.byte_size, data.len() as u64);
        assert_eq!(put.sha256_hex, hex(&Sha256::digest(&data)));
        assert_eq!(storage.mode(), "local");
        let got = storage.get("assets/u1/a.png", None).await.expect("get");
        assert_eq!(
            (got.size, got.content_length, got.range),
            (300_000, 300_000, None)
        );
        assert_eq!(read_all(got.body).await, data);
        let info = storage.head("assets/u1/a.png").await.expect("head");
        assert_eq!(info.size, 300_000);
    }

    #[tokio::test]
    async fn a_second_put_replaces_the_object() {
        let (_dir, storage) = storage().await;
        storage
            .put_stream("k/x", "text/plain", chunks(b"first version", 4), 100)
            .await
            .expect("first put");
        storage
            .put_stream("k/x", "text/plain", chunks(b"second", 4), 100)
            .await
            .expect("second put");
        let got = storage.get("k/x", None).await.expect("get");
        assert_eq!(read_all(got.body).await, b"second");
    }

    #[tokio::test]
    async fn ranges_serve_just_the_asked_bytes() {
        let (_dir, storage) = storage().await;
        let data = sample(1000);
        storage
            .put_stream(
                "r/x.bin",
                "application/octet-stream",
                chunks(&data, 100),
                1000,
            )
            .await
            .expect("put");

        let cases = [
            (0, 99, 0, 99),
            (100, 999, 100, 999),
            (990, 5000, 990, 999),
            (5, 5, 5, 5),
        ];
        for (start, end_inclusive, want_start, want_end) in cases {
            let got = storage
                .get(
                    "r/x.bin",
                    Some(ByteRange {
                        start,
                        end_inclusive,
                    }),
                )
                .await
                .expect("get range");
            assert_eq!(
                got.range,
                Some((want_start, want_end)),
                "case {start}-{end_inclusive}"
            );
            assert_eq!(got.size, 1000);
            assert_eq!(got.content_length, want_end - want_start + 1);
            let body = read_all(got.body).await;
            assert_eq!(
                body,
                data[want_start as usize..=want_end as usize],
                "case {start}-{end_inclusive}"
            );
        }

        let past_end = storage
            .get(
                "r/x.bin",
                Some(ByteRange {
                    start: 1000,
                    end_inclusive: 1000,
                }),
            )
            .await;
        assert!(matches!(
            past_end,
            Err(StorageError::RangeNotSatisfiable { size: 1000 })
        ));
    }

    #[tokio::test]
    async fn a_too_large_upload_is_refused_and_leaves_nothing() {
        let (dir, storage) = storage().await;
        let data = sample(10_001);

        let result = storage
            .put_stream("big/x", "image/png", chunks(&data, 1000), 10_000)
            .await;

        assert!(
            matches!(result, Err(StorageError::TooLarge { limit: 10_000 })),
            "{result:?}"
        );
        assert!(matches!(
            storage.head("big/x").await,
            Err(StorageError::NotFound)
        ));
        assert_eq!(
            files_under(&dir.path().join("files")),
            Vec::<PathBuf>::new()
        );
    }

    #[tokio::test]
    async fn an_upload_of_exactly_the_limit_is_accepted() {
        let (_dir, storage) = storage().await;
        let put = storage
            .put_stream("edge/x", "image/png", chunks(&sample(10_000), 999), 10_000)
            .await
            .expect("put at the limit");
        assert_eq!(put.byte_size, 10_000);
    }

    #[tokio::test]
    async fn a_stream_that_fails_midway_leaves_nothing_and_keeps_the_old_object() {
        let (dir, storage) = storage().await;
        storage
            .put_stream("f/x", "text/plain", chunks(b"old", 3), 100)
            .await
            .expect("first put");
        let failing = stream::iter(vec![
            Ok(Bytes::from_static(b"new data")),
            Err(io::Error::new(
                io::ErrorKind::ConnectionReset,
                "peer went away",
            )),
        ]);

        let result = storage.put_stream("f/x", "text/plain", failing, 100).await;

        let err = result.expect_err("a failing stream must fail the put");
        assert!(err.is_retryable(), "{err}");
        assert!(err.to_string().contains("peer went away"), "{err}");
        let got = storage.get("f/x", None).await.expect("old object");
        assert_eq!(read_all(got.body).await, b"old");
        assert_eq!(
            files_under(&dir.path().join("files/.tmp")),
            Vec::<PathBuf>::new()
        );
    }

    #[tokio::test]
    async fn a_cancelled_upload_leaves_no_temporary_file() {
        let (dir, storage) = storage().await;
        // A stream that yields once and then never again, like a client that stopped sending.
        let stalled: Pin<Box<dyn Stream<Item = io::Result<Bytes>> + Send>> = Box::pin(
            stream::iter(vec![Ok(Bytes::from_static(b"partial"))]).chain(stream::pending()),
        );
        let put = storage.put_stream("c/x", "text/plain", stalled, 100);
        let timed_out = tokio::time::timeout(Duration::from_millis(50), put).await;

        assert!(timed_out.is_err(), "the put cannot finish");
        assert_eq!(
            files_under(&dir.path().join("files")),
            Vec::<PathBuf>::new()
        );
    }

    #[tokio::test]
    async fn deleting_twice_is_fine_and_the_object_is_gone() {
        let (_dir, storage) = storage().await;
        storage
            .put_stream("d/x", "text/plain", chunks(b"bye", 3), 100)
            .await
            .expect("put");

        storage.delete("d/x").await.expect("first delete");
        storage.delete("d/x").await.expect("second delete");
        storage
            .delete("never/existed")
            .await
            .expect("missing delete");

        assert!(matches!(
            storage.get("d/x", None).await,
            Err(StorageError::NotFound)
        ));
        assert!(matches!(
            storage.head("d/x").await,
            Err(StorageError::NotFound)
        ));
    }

    #[tokio::test]
    async fn missing_objects_and_folders_are_not_found() {
        let (_dir, storage) = storage().await;
        storage
            .put_stream("n/file", "text/plain", chunks(b"x", 1), 100)
            .await
            .expect("put");
        for key in ["n/missing", "n", "n/file/below"] {
            assert!(
                matches!(storage.get(key, None).await, Err(StorageError::NotFound)),
                "case {key}"
            );
            assert!(
                matches!(storage.head(key).await, Err(StorageError::NotFound)),
                "case {key}"
            );
        }
    }

    #[tokio::test]
    async fn invalid_keys_are_refused_by_every_operation() {
        let (dir, storage) = storage().await;
        for key in ["../escape", "/abs", "a\\b", "a//b", ""] {
            let put = storage
                .put_stream(key, "text/plain", chunks(b"x", 1), 100)
                .await;
            assert!(matches!(put, Err(StorageError::InvalidKey)), "put {key:?}");
            assert!(
                matches!(storage.get(key, None).await, Err(StorageError::InvalidKey)),
                "get {key:?}"
            );
            assert!(
                matches!(storage.head(key).await, Err(StorageError::InvalidKey)),
                "head {key:?}"
            );
            assert!(
                matches!(storage.delete(key).await, Err(StorageError::InvalidKey)),
                "delete {key:?}"
            );
        }
        assert!(!dir.path().join("escape").exists());
    }

    #[tokio::test]
    async fn an_empty_object_can_be_stored() {
        let (_dir, storage) = storage().await;
        let put = storage
            .put_stream("e/empty", "text/plain", stream::iter(Vec::new()), 100)
            .await
            .expect("put");
        assert_eq!(put.byte_size, 0);
        let got = storage.get("e/empty", None).await.expect("get");
        assert_eq!(got.size, 0);
        assert!(read_all(got.body).await.is_empty());
    }

    #[tokio::test]
    async fn check_passes_on_a_writable_folder_and_fails_when_it_is_gone() {
        let (dir, storage) = storage().await;
        storage.check().await.expect("check");
        assert_eq!(
            files_under(&dir.path().join("files")),
            Vec::<PathBuf>::new()
        );

        std::fs::remove_dir_all(local(&storage).root()).expect("remove root");
        let err = storage.check().await.expect_err("check without a folder");
        assert!(err.is_retryable(), "{err}");
    }

    #[tokio::test]
    async fn stale_temporary_files_are_swept_at_start_but_fresh_ones_stay() {
        let dir = tempfile::tempdir().expect("temp dir");
        let tmp = dir.path().join("files/.tmp");
        std::fs::create_dir_all(&tmp).expect("tmp dir");
        let stale = tmp.join("old.part");
        let fresh = tmp.join("new.part");
        std::fs::write(&stale, b"x").expect("stale");
        std::fs::write(&fresh, b"x").expect("fresh");
        let old = SystemTime::now() - STALE_TMP_AGE - Duration::from_secs(60);
        std::fs::File::options()
            .write(true)
            .open(&stale)
            .and_then(|f| f.set_modified(old))
            .expect("age the stale file");

        Storage::from_config(&crate::config::StorageConfig::Local, dir.path())
            .await
            .expect("open");

        assert!(!stale.exists());
        assert!(fresh.exists());
    }
}
