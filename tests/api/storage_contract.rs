//! One contract for every storage mode: the same calls, the same answers, local disk and S3
//! (against moto) alike. What only one mode has (multipart uploads, bucket creation) is tested
//! in that mode's own file.

use std::{io, path::Path};

use fal_studio::{
    config::StorageConfig,
    storage::{ByteRange, Storage, StorageError},
};
use futures_util::{StreamExt, stream};

use crate::{
    moto::MotoServer,
    storage_s3::{chunks, read_all, sample, sha256_hex, storage as s3_storage},
};

/// Everything a caller may rely on, whatever the mode.
async fn keeps_the_contract(storage: &Storage) {
    // A put streams in, reports its size and hash, and reads back whole.
    let data = sample(300 * 1024);
    let put = storage
        .put_stream(
            "assets/u1/a b.png",
            "image/png",
            chunks(&data, 16 * 1024),
            1 << 30,
        )
        .await
        .expect("put");
    assert_eq!(put.byte_size, data.len() as u64);
    assert_eq!(put.sha256_hex, sha256_hex(&data));
    let got = storage.get("assets/u1/a b.png", None).await.expect("get");
    assert_eq!(
        (got.size, got.content_length, got.range),
        (data.len() as u64, data.len() as u64, None)
    );
    assert_eq!(read_all(got.body).await, data);
    assert_eq!(
        storage.head("assets/u1/a b.png").await.expect("head").size,
        data.len() as u64
    );

    // Ranges: served as asked, clamped at the end, refused past it.
    let small = sample(1000);
    storage
        .put_stream("r/x", "application/octet-stream", chunks(&small, 100), 1000)
        .await
        .expect("put");
    for (start, end_inclusive, want_start, want_end) in [
        (0, 99, 0, 99),
        (100, 999, 100, 999),
        (990, 5000, 990, 999),
        (7, 7, 7, 7),
    ] {
        let got = storage
            .get(
                "r/x",
                Some(ByteRange {
                    start,
                    end_inclusive,
                }),
            )
            .await
            .unwrap_or_else(|e| panic!("{start}-{end_inclusive}: {e}"));
        assert_eq!(got.range, Some((want_start, want_end)));
        assert_eq!(
            (got.size, got.content_length),
            (1000, want_end - want_start + 1)
        );
        assert_eq!(
            read_all(got.body).await,
            small[want_start as usize..=want_end as usize]
        );
    }
    let past_end = storage
        .get(
            "r/x",
            Some(ByteRange {
                start: 1000,
                end_inclusive: 1200,
            }),
        )
        .await;
    assert!(
        matches!(
            past_end,
            Err(StorageError::RangeNotSatisfiable { size: 1000 })
        ),
        "{past_end:?}"
    );

    // Over the limit: refused, and nothing is left under the key.
    let too_large = storage
        .put_stream("l/x", "image/png", chunks(&sample(2000), 500), 1000)
        .await;
    assert!(
        matches!(too_large, Err(StorageError::TooLarge { limit: 1000 })),
        "{too_large:?}"
    );
    assert!(matches!(
        storage.head("l/x").await,
        Err(StorageError::NotFound)
    ));

    // A source that fails half-way leaves the object that was there before.
    storage
        .put_stream("f/x", "text/plain", chunks(b"old", 3), 100)
        .await
        .expect("first put");
    let failing = chunks(&sample(64 * 1024), 4096).chain(stream::iter(vec![Err(io::Error::new(
        io::ErrorKind::ConnectionReset,
        "upstream went away",
    ))]));
    assert!(
        storage
            .put_stream("f/x", "text/plain", failing, 1 << 20)
            .await
            .is_err()
    );
    let kept = storage.get("f/x", None).await.expect("old object");
    assert_eq!(read_all(kept.body).await, b"old");

    // A second put replaces the object whole.
    storage
        .put_stream("f/x", "text/plain", chunks(b"newer", 2), 100)
        .await
        .expect("replace");
    let replaced = storage.get("f/x", None).await.expect("get");
    assert_eq!(read_all(replaced.body).await, b"newer");

    // Delete is idempotent; afterwards head and get say not found.
    storage.delete("f/x").await.expect("delete");
    storage.delete("f/x").await.expect("delete again");
    storage
        .delete("never/existed")
        .await
        .expect("delete a missing key");
    assert!(matches!(
        storage.head("f/x").await,
        Err(StorageError::NotFound)
    ));
    assert!(matches!(
        storage.get("f/x", None).await,
        Err(StorageError::NotFound)
    ));

    // Keys that could leave the store's space are refused.
    for key in ["../x", "/x", "a//b", "a\\b"] {
        let put = storage
            .put_stream(key, "text/plain", chunks(b"x", 1), 10)
            .await;
        assert!(matches!(put, Err(StorageError::InvalidKey)), "{key:?}");
    }
    storage.check().await.expect("check");
}

#[tokio::test]
async fn local_storage_keeps_the_contract() {
    let dir = tempfile::tempdir().expect("temp dir");
    let storage = Storage::from_config(&StorageConfig::Local, Path::new(dir.path()))
        .await
        .expect("local storage");
    assert_eq!(storage.mode(), "local");
    keeps_the_contract(&storage).await;
}

#[tokio::test]
async fn s3_storage_keeps_the_contract() {
    let moto = MotoServer::start();
    let storage = s3_storage(&moto, "contract").await;
    assert_eq!(storage.mode(), "s3");
    keeps_the_contract(&storage).await;
}
