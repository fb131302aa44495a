//! The thumbnailer: one task per node that makes the thumbnail of every image and video output
//! (see `thumbnails`) and stores it beside the original. It takes new outputs the moment a job
//! completes ([`wake`]) and otherwise works through whatever is still `pending`, newest first:
//! that is also the backfill of assets stored before thumbnails existed, and it resumes after
//! a restart because the database, not the task, knows what is left.
//!
//! Exactly once: a thumbnail's key is a function of its asset (`thumbs/<user>/<asset>.<ext>`),
//! so a retry or a second node overwrites rather than adds, and it is recorded only while the
//! asset still waits for one. An object that ends up recorded by nobody (the asset was deleted
//! meanwhile) is removed again.

use std::time::Duration;

use bytes::Bytes;
use futures_util::{StreamExt, TryStreamExt};
use tokio::io::AsyncWriteExt;

use super::{
    store::{self, StoredThumbnail, ThumbStatus, ThumbWork},
    thumbnails::{self, Thumbnail, ThumbnailError},
};
use crate::{AppState, error::Result, storage::StorageError};

/// How long a node holds a thumbnail it works on; also the wait before a failed try is retried.
const HOLD_SECS: f64 = 120.0;
/// Tries before an asset is given up as `failed`.
const MAX_TRIES: i64 = 5;
/// Assets claimed at once.
const BATCH: i64 = 8;
/// How often the queue is looked at when nothing woke the task: other nodes' new outputs and
/// retries of failed tries.
const POLL: Duration = Duration::from_secs(30);
/// Images above this are not read into memory for a thumbnail (no model makes one near it).
const MAX_IMAGE_BYTES: i64 = 64 * 1024 * 1024;
/// Videos above this are not copied to a temporary file for a poster frame.
const MAX_VIDEO_BYTES: i64 = 2 * 1024 * 1024 * 1024;

/// Asks this node's thumbnailer to look for work now (a job just stored its outputs).
pub fn wake(state: &AppState) {
    state.thumbnailer.notify_one();
}

/// Makes thumbnails until the node stops.
pub async fn run(state: AppState) {
    let ffmpeg = thumbnails::ffmpeg_available().await;
    let kinds: &[&str] = if ffmpeg {
        &["image", "video"]
    } else {
        tracing::info!(
            "ffmpeg is not installed: videos get no poster frame (the gallery shows them with ▶ and their duration). Install ffmpeg and restart to have them made."
        );
        &["image"]
    };
    let stopping = state.runner.stopping();
    loop {
        let worked = match run_once(&state, kinds).await {
            Ok(n) => n,
            Err(e) => {
                tracing::warn!(error = %e, "the thumbnailer could not read its queue; trying again shortly");
                0
            }
        };
        if worked > 0 {
            continue;
        }
        tokio::select! {
            () = state.thumbnailer.notified() => {}
            () = tokio::time::sleep(POLL) => {}
            () = stopping.cancelled() => return,
        }
    }
}

/// One batch: claims up to [`BATCH`] pending thumbnails of `kinds` and makes them; how many
/// were claimed.
pub async fn run_once(state: &AppState, kinds: &[&str]) -> Result<usize> {
    let work = store::claim_thumbnails(&state.db, kinds, HOLD_SECS, BATCH).await?;
    for asset in &work {
        if state.runner.stopping().is_cancelled() {
            // The claims lapse; the next start (or another node) takes them.
            break;
        }
        make_one(state, asset).await?;
    }
    Ok(work.len())
}

async fn make_one(state: &AppState, asset: &ThumbWork) -> Result<()> {
    let made = match asset.result_kind.as_str() {
        "image" => of_image(state, asset).await,
        "video" => of_video(state, asset).await,
        _ => Err(ThumbnailError::Unreadable("not an image or a video".into())),
    };
    let thumb = match made {
        Ok(thumb) => thumb,
        Err(ThumbnailError::Unreadable(why)) => {
            tracing::info!(asset_id = %asset.id, %why, "no thumbnail can be made of this asset");
            return store::thumbnail_given_up(&state.db, &asset.id, ThumbStatus::Failed).await;
        }
        Err(e) => return retry_later(state, asset, &e.to_string()).await,
    };
    let key = format!(
        "thumbs/{}/{}.{}",
        asset.user_id,
        asset.id,
        thumb.extension()
    );
    let size = thumb.bytes.len() as u64;
    let body = futures_util::stream::iter([Ok::<_, std::io::Error>(Bytes::from(thumb.bytes))]);
    let put = match state
        .storage
        .put_stream(&key, thumb.content_type, body, size)
        .await
    {
        Ok(put) => put,
        Err(e) => return retry_later(state, asset, &e.to_string()).await,
    };
    let recorded = store::thumbnail_ready(
        &state.db,
        &asset.id,
        &StoredThumbnail {
            key: &key,
            content_type: thumb.content_type,
            byte_size: put.byte_size as i64,
            sha256: &put.sha256_hex,
        },
    )
    .await?;
    if !recorded && !store::thumbnail_is(&state.db, &asset.id, &key).await? {
        // The asset went while its thumbnail was made: its object must not stay behind.
        let _ = state.storage.delete(&key).await;
        return Ok(());
    }
    // Open queues and stages hear of it as of any change to the job, and swap the full file
    // for the thumbnail (a video gets its poster).
    if recorded && let Some(job_id) = &asset.job_id {
        crate::jobs::runner::publish(state, job_id).await?;
    }
    Ok(())
}

/// A try that may pass later: the claim lapses after [`HOLD_SECS`] and the asset is taken
/// again, up to [`MAX_TRIES`].
async fn retry_later(state: &AppState, asset: &ThumbWork, why: &str) -> Result<()> {
    if asset.thumb_tries >= MAX_TRIES {
        tracing::warn!(asset_id = %asset.id, tries = asset.thumb_tries, why, "giving up on a thumbnail");
        return store::thumbnail_given_up(&state.db, &asset.id, ThumbStatus::Failed).await;
    }
    tracing::info!(asset_id = %asset.id, tries = asset.thumb_tries, why, "a thumbnail failed; it is tried again in 2 minutes");
    Ok(())
}

async fn of_image(state: &AppState, asset: &ThumbWork) -> Result<Thumbnail, ThumbnailError> {
    if asset.byte_size > MAX_IMAGE_BYTES {
        return Err(ThumbnailError::Unreadable(
            "the image is over 64 MiB".into(),
        ));
    }
    let object = read(state, asset).await?;
    let bytes = axum::body::to_bytes(object.body, MAX_IMAGE_BYTES as usize)
        .await
        .map_err(|e| ThumbnailError::Transient(format!("reading the image: {e}")))?;
    tokio::task::spawn_blocking(move || thumbnails::of_image(&bytes))
        .await
        .map_err(|e| ThumbnailError::Transient(format!("the thumbnail task failed: {e}")))?
}

async fn of_video(state: &AppState, asset: &ThumbWork) -> Result<Thumbnail, ThumbnailError> {
    if asset.byte_size > MAX_VIDEO_BYTES {
        return Err(ThumbnailError::Unreadable("the video is over 2 GiB".into()));
    }
    let object = read(state, asset).await?;
    // ffmpeg reads a file it can seek in: a video whose index comes last cannot be read from a
    // pipe. The file is removed when `temp` drops, whatever happens.
    let temp = TempFile::new();
    let transient = |e: std::io::Error| ThumbnailError::Transient(format!("a temporary file: {e}"));
    let mut file = tokio::fs::File::create(&temp.0).await.map_err(transient)?;
    let mut body = object
        .body
        .into_data_stream()
        .map_err(std::io::Error::other);
    let mut written: u64 = 0;
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(transient)?;
        written += chunk.len() as u64;
        if written > MAX_VIDEO_BYTES as u64 {
            return Err(ThumbnailError::Unreadable("the video is over 2 GiB".into()));
        }
        file.write_all(&chunk).await.map_err(transient)?;
    }
    file.flush().await.map_err(transient)?;
    drop(file);
    thumbnails::poster_of_video(&temp.0).await
}

async fn read(
    state: &AppState,
    asset: &ThumbWork,
) -> Result<crate::storage::GetResult, ThumbnailError> {
    state
        .storage
        .get(&asset.storage_key, None)
        .await
        .map_err(|e| match e {
            StorageError::NotFound => ThumbnailError::Unreadable("its file is missing".into()),
            other => ThumbnailError::Transient(format!("reading the file: {other}")),
        })
}

/// A path in the system's temporary folder, removed on drop.
struct TempFile(std::path::PathBuf);

impl TempFile {
    fn new() -> Self {
        TempFile(std::env::temp_dir().join(format!("fal-studio-poster-{}", uuid::Uuid::now_v7())))
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}
