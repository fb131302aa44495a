//! `Storage` in S3 mode against a real S3-compatible server process (moto): what only S3 has
//! (single puts against multipart, aborted uploads, the bucket). What every mode does is in
//! `storage_contract.rs`.

use std::{io, path::Path};

use crate::moto::MotoServer;
use bytes::Bytes;
use fal_studio::{
    config::{S3Config, Secret, StorageConfig},
    storage::{ByteRange, Storage, StorageError},
};
use futures_util::{Stream, StreamExt, stream};
use sha2::{Digest, Sha256};
use url::Url;

const MIB: usize = 1024 * 1024;

fn s3_config(moto: &MotoServer, bucket: &str) -> StorageConfig {
    StorageConfig::S3(S3Config {
        bucket: bucket.to_string(),
        endpoint: Some(Url::parse(&moto.endpoint()).expect("endpoint")),
        region: Some("us-east-1".to_string()),
        access_key_id: Some("test-access-key".to_string()),
        secret_access_key: Some(Secret::new("test-secret-key".to_string())),
        force_path_style: true,
    })
}

pub(crate) async fn storage(moto: &MotoServer, bucket: &str) -> Storage {
    Storage::from_config(&s3_config(moto, bucket), Path::new("unused"))
        .await
        .expect("S3 storage")
}

pub(crate) fn sample(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 31 % 251) as u8).collect()
}

pub(crate) fn chunks(
    data: &[u8],
    size: usize,
) -> impl Stream<Item = io::Result<Bytes>> + Send + Unpin + use<> {
    let parts: Vec<io::Result<Bytes>> = data
        .chunks(size)
        .map(|c| Ok(Bytes::copy_from_slice(c)))
        .collect();
    stream::iter(parts)
}

pub(crate) fn sha256_hex(data: &[u8]) -> String {
    Sha256::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

pub(crate) async fn read_all(body: axum::body::Body) -> Vec<u8> {
    let mut stream = body.into_data_stream();
    let mut out = Vec::new();
    while let Some(chunk) = stream.next().await {
        out.extend_from_slice(&chunk.expect("body chunk"));
    }
    out
}

/// Straight to moto, to see what the server holds independently of the code under test. moto
/// does not verify signatures, but treats a request without any as anonymous and refuses it
/// access to private objects, hence the dummy header.
async fn raw(method: reqwest::Method, moto: &MotoServer, path: &str) -> reqwest::Response {
    reqwest::Client::new()
        .request(method, format!("{}{path}", moto.endpoint()))
        .header(
            "authorization",
            "AWS4-HMAC-SHA256 Credential=test/20240101/us-east-1/s3/aws4_request, \
             SignedHeaders=host, Signature=0",
        )
        .send()
        .await
        .expect("raw request to moto")
}

async fn object_etag(moto: &MotoServer, bucket: &str, key: &str) -> String {
    let response = raw(reqwest::Method::HEAD, moto, &format!("/{bucket}/{key}")).await;
    assert!(
        response.status().is_success(),
        "{key} should exist: {}",
        response.status()
    );
    response
        .headers()
        .get("etag")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string()
}

async fn pending_multipart_uploads(moto: &MotoServer, bucket: &str) -> usize {
    let response = raw(reqwest::Method::GET, moto, &format!("/{bucket}?uploads")).await;
    let text = response.text().await.expect("ListMultipartUploads body");
    text.matches("<Upload>").count()
}

#[tokio::test]
async fn a_small_object_goes_up_in_one_put_and_reads_back() {
    let moto = MotoServer::start();
    let storage = storage(&moto, "small").await;
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

    assert_eq!(storage.mode(), "s3");
    assert_eq!(put.byte_size, data.len() as u64);
    assert_eq!(put.sha256_hex, sha256_hex(&data));
    let etag = object_etag(&moto, "small", "assets/u1/a%20b.png").await;
    assert!(
        !etag.contains('-'),
        "a single PutObject, not multipart: {etag}"
    );
    let got = storage.get("assets/u1/a b.png", None).await.expect("get");
    assert_eq!(
        (got.size, got.content_length, got.range),
        (data.len() as u64, data.len() as u64, None)
    );
    assert_eq!(sha256_hex(&read_all(got.body).await), put.sha256_hex);
    let head = storage.head("assets/u1/a b.png").await.expect("head");
    assert_eq!(head.size, data.len() as u64);
    let content_type = raw(reqwest::Method::HEAD, &moto, "/small/assets/u1/a%20b.png")
        .await
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    assert_eq!(content_type.as_deref(), Some("image/png"));
}

#[tokio::test]
async fn a_large_object_goes_up_in_parts_and_reads_back_whole_and_in_ranges() {
    let moto = MotoServer::start();
    let storage = storage(&moto, "large").await;
    let data = sample(20 * MIB + 12_345);

    let put = storage
        .put_stream(
            "assets/u1/v.mp4",
            "video/mp4",
            chunks(&data, 64 * 1024),
            64 * MIB as u64,
        )
        .await
        .expect("put");

    assert_eq!(put.byte_size, data.len() as u64);
    assert_eq!(put.sha256_hex, sha256_hex(&data));
    let etag = object_etag(&moto, "large", "assets/u1/v.mp4").await;
    assert!(etag.ends_with("-3\""), "three 8 MiB parts: {etag}");
    let got = storage.get("assets/u1/v.mp4", None).await.expect("get");
    assert_eq!(got.size, data.len() as u64);
    assert_eq!(sha256_hex(&read_all(got.body).await), put.sha256_hex);

    // Across the first part boundary, where an off-by-one in part cutting would show.
    let boundary = 8 * MIB as u64;
    let got = storage
        .get(
            "assets/u1/v.mp4",
            Some(ByteRange {
                start: boundary - 10,
                end_inclusive: boundary + 9,
            }),
        )
        .await
        .expect("ranged get");
    assert_eq!(got.range, Some((boundary - 10, boundary + 9)));
    assert_eq!(got.content_length, 20);
    assert_eq!(
        read_all(got.body).await,
        data[(boundary - 10) as usize..=(boundary + 9) as usize]
    );
}

#[tokio::test]
async fn an_object_of_exactly_one_part_size_goes_up_in_one_put() {
    let moto = MotoServer::start();
    let storage = storage(&moto, "edge").await;
    let data = sample(8 * MIB);

    let put = storage
        .put_stream(
            "e/x",
            "application/octet-stream",
            chunks(&data, MIB),
            8 * MIB as u64,
        )
        .await
        .expect("put");

    assert_eq!(put.sha256_hex, sha256_hex(&data));
    let etag = object_etag(&moto, "edge", "e/x").await;
    assert!(!etag.contains('-'), "{etag}");
}

#[tokio::test]
async fn too_large_uploads_abort_and_leave_no_object_or_parts() {
    let moto = MotoServer::start();
    let storage = storage(&moto, "limits").await;

    // Past the limit while still under one part: nothing was sent yet.
    let small = storage
        .put_stream("l/small", "image/png", chunks(&sample(2000), 500), 1000)
        .await;
    assert!(
        matches!(small, Err(StorageError::TooLarge { limit: 1000 })),
        "{small:?}"
    );

    // Past the limit after two parts went up: the multipart upload must be aborted.
    let limit = 20 * MIB as u64;
    let large = storage
        .put_stream(
            "l/large",
            "video/mp4",
            chunks(&sample(24 * MIB), MIB),
            limit,
        )
        .await;
    assert!(
        matches!(large, Err(StorageError::TooLarge { limit: l }) if l == limit),
        "{large:?}"
    );

    for key in ["l/small", "l/large"] {
        assert!(
            matches!(storage.head(key).await, Err(StorageError::NotFound)),
            "{key}"
        );
    }
    assert_eq!(pending_multipart_uploads(&moto, "limits").await, 0);
}

#[tokio::test]
async fn a_stream_failing_midway_aborts_the_upload_and_keeps_the_old_object() {
    let moto = MotoServer::start();
    let storage = storage(&moto, "failing").await;
    storage
        .put_stream("f/x", "text/plain", chunks(b"old", 3), 100)
        .await
        .expect("first put");
    let good = chunks(&sample(17 * MIB), MIB);
    let failing = good.chain(stream::iter(vec![Err(io::Error::new(
        io::ErrorKind::ConnectionReset,
        "upstream went away",
    ))]));

    let result = storage
        .put_stream("f/x", "text/plain", failing, 64 * MIB as u64)
        .await;

    let err = result.expect_err("the put must fail");
    assert!(err.is_retryable(), "{err}");
    assert_eq!(pending_multipart_uploads(&moto, "failing").await, 0);
    let got = storage.get("f/x", None).await.expect("old object");
    assert_eq!(read_all(got.body).await, b"old");
}

#[tokio::test]
async fn a_missing_bucket_is_created_at_start_and_an_existing_one_is_kept() {
    let moto = MotoServer::start();
    let before = raw(reqwest::Method::HEAD, &moto, "/fresh-bucket").await;
    assert_eq!(before.status(), reqwest::StatusCode::NOT_FOUND);

    let first = storage(&moto, "fresh-bucket").await;
    first.check().await.expect("check");
    first
        .put_stream("k", "text/plain", chunks(b"kept", 4), 100)
        .await
        .expect("put");
    let second = storage(&moto, "fresh-bucket").await;

    let got = second
        .get("k", None)
        .await
        .expect("object survives a restart");
    assert_eq!(read_all(got.body).await, b"kept");
}

#[tokio::test]
async fn check_reports_a_bucket_that_disappeared_and_invalid_keys_are_refused() {
    let moto = MotoServer::start();
    let storage = storage(&moto, "doomed").await;
    storage.check().await.expect("check");
    for key in ["../x", "/x", "a//b", "a\\b"] {
        let put = storage
            .put_stream(key, "text/plain", chunks(b"x", 1), 10)
            .await;
        assert!(matches!(put, Err(StorageError::InvalidKey)), "{key:?}");
    }

    let deleted = raw(reqwest::Method::DELETE, &moto, "/doomed").await;
    assert!(deleted.status().is_success(), "{}", deleted.status());

    let err = storage.check().await.expect_err("the bucket is gone");
    assert!(err.to_string().contains("does not exist"), "{err}");
    assert!(!err.is_retryable(), "{err}");
}

#[tokio::test]
async fn an_unreachable_endpoint_is_a_retryable_error_without_credentials_in_it() {
    // A port nothing listens on: bind, note it, close it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("port")
        .port();
    let config = StorageConfig::S3(S3Config {
        bucket: "b".into(),
        endpoint: Some(Url::parse(&format!("http://127.0.0.1:{port}")).expect("url")),
        region: Some("us-east-1".into()),
        access_key_id: Some("AKIDVISIBLE".into()),
        secret_access_key: Some(Secret::new("hunter2-secret".into())),
        force_path_style: true,
    });

    let err = Storage::from_config(&config, Path::new("unused"))
        .await
        .expect_err("nothing listens there");

    assert!(err.is_retryable(), "{err}");
    let message = err.to_string();
    assert!(!message.contains("hunter2"), "{message}");
    assert!(!message.contains("AKIDVISIBLE"), "{message}");
    assert!(!message.contains("Signature"), "{message}");
}
