//! The whole pipeline with S3 storage on a real S3-compatible server (moto), including an
//! outage of that server in the middle of storing outputs.

use std::time::Duration;

use reqwest::{StatusCode, header};
use serde_json::{Value, json};
use tokio::{net::TcpListener, task::JoinSet};

use crate::{
    helpers::{Options, TestApp, spawn_app_with},
    moto::MotoServer,
};

const KEY: &str = "fake-key-id:fake-secret";

/// A TCP hop in front of moto that can go down and come back on the same port: an outage of
/// the S3 server as the studio sees it, without losing moto's in-memory objects.
struct Outage {
    port: u16,
    target: String,
    accept: Option<tokio::task::JoinHandle<()>>,
}

impl Outage {
    async fn start(target: String) -> Outage {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let mut proxy = Outage {
            port,
            target,
            accept: None,
        };
        proxy.serve(listener);
        proxy
    }

    fn serve(&mut self, listener: TcpListener) {
        let target = self.target.clone();
        self.accept = Some(tokio::spawn(async move {
            // Dropping the set (when this task is aborted) cuts every open connection too.
            let mut connections = JoinSet::new();
            while let Ok((mut inbound, _)) = listener.accept().await {
                let target = target.clone();
                connections.spawn(async move {
                    if let Ok(mut outbound) = tokio::net::TcpStream::connect(&target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
            }
        }));
    }

    fn down(&mut self) {
        if let Some(task) = self.accept.take() {
            task.abort();
        }
    }

    async fn up(&mut self) {
        let listener = loop {
            match TcpListener::bind(("127.0.0.1", self.port)).await {
                Ok(l) => break l,
                Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
            }
        };
        self.serve(listener);
    }
}

async fn direct_storage(moto: &MotoServer) -> fal_studio::storage::Storage {
    use fal_studio::config::{S3Config, Secret, StorageConfig};
    let config = StorageConfig::S3(S3Config {
        bucket: "studio-media".into(),
        endpoint: Some(url::Url::parse(&moto.endpoint()).unwrap()),
        region: Some("us-east-1".into()),
        access_key_id: Some("testing".into()),
        secret_access_key: Some(Secret::new("testing".into())),
        force_path_style: true,
    });
    fal_studio::storage::Storage::from_config(&config, std::path::Path::new("unused"))
        .await
        .unwrap()
}

async fn s3_app(endpoint: &str) -> TestApp {
    let app = spawn_app_with(Options {
        vars: vec![
            ("STORAGE", "s3".into()),
            ("S3_BUCKET", "studio-media".into()),
            ("S3_ENDPOINT", endpoint.to_owned()),
            ("S3_REGION", "us-east-1".into()),
            ("S3_ACCESS_KEY_ID", "testing".into()),
            ("S3_SECRET_ACCESS_KEY", "testing".into()),
            ("FAL_RETRY_BASE_MS", "1".into()),
            ("STORAGE_RETRY_BASE_MS", "100".into()),
            ("DELETION_RETRY_SECS", "1".into()),
        ],
        ..Options::default()
    })
    .await;
    app.signed_up("ada@example.com").await;
    assert_eq!(app.set_key(KEY).await.status(), StatusCode::OK);
    app
}

#[tokio::test]
async fn the_pipeline_stores_references_and_outputs_in_s3() {
    let moto = MotoServer::start();
    let app = s3_app(&moto.endpoint()).await;
    let mut reference = fake_fal::png_bytes(32, 32);
    reference.resize(400 * 1024, 0); // large enough to go through fal's storage upload
    let id = app
        .start(
            "fal-ai/flux-pro/kontext",
            json!({ "prompt": "in the bucket" }),
            vec![("generalReferences", "ref.png", reference.clone())],
        )
        .await;
    let job = app.finished(&id).await;
    assert_eq!(job["status"], "completed", "{job}");
    let asset = &job["assets"][0];
    assert_eq!(asset["storageMode"], "s3");
    let url = asset["url"].as_str().unwrap();
    let body = app.bytes_at(url).await;
    assert!(body.starts_with(b"\x89PNG"));
    assert_eq!(body.len() as i64, asset["byteSize"].as_i64().unwrap());
    let part = app
        .client
        .get(app.at(url))
        .header(header::RANGE, "bytes=0-7")
        .send()
        .await
        .unwrap();
    assert_eq!(part.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(part.bytes().await.unwrap().as_ref(), b"\x89PNG\r\n\x1a\n");

    let ref_url = job["references"][0]["url"].as_str().unwrap();
    let stored_ref = app.bytes_at(ref_url).await;
    assert_eq!(stored_ref.as_ref(), reference.as_slice());
    let sent = app.fake.submitted();
    let fal_url = sent[0].input["image_url"].as_str().unwrap();
    assert_eq!(
        app.fake.uploaded(fal_url).unwrap().as_ref(),
        reference.as_slice()
    );

    let health: Value = app.get_json("/healthz").await;
    assert_eq!(health["storage"], "ok");
    assert!(
        app.stored_files().is_empty(),
        "nothing went to the local disk"
    );
}

#[tokio::test]
async fn an_s3_outage_during_ingest_loses_nothing() {
    let moto = MotoServer::start();
    let target = moto
        .endpoint()
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_owned();
    let mut outage = Outage::start(target).await;
    let app = s3_app(&format!("http://127.0.0.1:{}", outage.port)).await;

    let id = app
        .start(
            "fal-ai/bytedance/seedream/v4/text-to-image",
            json!({ "prompt": "through the storm [fal:size=6000000][fal:slow]", "num_images": 2 }),
            vec![],
        )
        .await;
    app.wait_for(&id, |j| j["status"] == "storing").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    outage.down();
    let health = app.client.get(app.at("/healthz")).send().await.unwrap();
    assert_eq!(
        health.status(),
        StatusCode::SERVICE_UNAVAILABLE,
        "health sees the outage"
    );
    tokio::time::sleep(Duration::from_millis(1500)).await;
    outage.up().await;

    let job = app.finished(&id).await;
    assert_eq!(job["status"], "completed", "{job}");
    let assets = job["assets"].as_array().unwrap();
    assert_eq!(assets.len(), 2);
    for asset in assets {
        assert_eq!(asset["byteSize"], 6_000_000);
        let body = app
            .client
            .get(app.at(asset["url"].as_str().unwrap()))
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        assert_eq!(body.len(), 6_000_000, "stored whole");
        assert!(body.starts_with(b"\x89PNG"));
    }
    assert_eq!(app.fake.submitted().len(), 1, "the outage did not resubmit");
    let db = app.db().await;
    let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM assets")
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(rows, 2, "one asset per output");
}

#[tokio::test]
async fn a_deletion_storage_refuses_is_retried_until_the_object_is_gone() {
    let moto = MotoServer::start();
    let target = moto
        .endpoint()
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_owned();
    let mut outage = Outage::start(target).await;
    let app = s3_app(&format!("http://127.0.0.1:{}", outage.port)).await;
    let id = app
        .start(
            "fal-ai/bytedance/seedream/v4/text-to-image",
            json!({ "prompt": "short-lived" }),
            vec![],
        )
        .await;
    let job = app.finished(&id).await;
    let asset_id = job["assets"][0]["id"].as_str().unwrap().to_owned();
    let db = app.db().await;
    let key: String = sqlx::query_scalar("SELECT storage_key FROM assets WHERE id = $1")
        .bind(&asset_id)
        .fetch_one(&db)
        .await
        .unwrap();
    let direct = direct_storage(&moto).await;
    assert!(direct.head(&key).await.is_ok(), "stored in the bucket");

    outage.down();
    let response = app.delete_asset(&asset_id).await;
    assert_eq!(
        response.status(),
        StatusCode::NO_CONTENT,
        "the user sees it gone at once"
    );
    let listed: Value = app.get_json("/api/assets").await;
    assert_eq!(listed["assets"], json!([]));
    // The output's own removal (its thumbnail's, if it was made by then, waits beside it).
    let pending: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM pending_deletions WHERE storage_key = $1")
            .bind(&key)
            .fetch_one(&db)
            .await
            .unwrap();
    assert_eq!(pending, 1, "the removal waits for storage");
    assert!(
        direct.head(&key).await.is_ok(),
        "still in the bucket while storage refuses"
    );

    outage.up().await;
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let pending: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM pending_deletions")
            .fetch_one(&db)
            .await
            .unwrap();
        if pending == 0 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the retry never removed the object"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        matches!(
            direct.head(&key).await,
            Err(fal_studio::storage::StorageError::NotFound)
        ),
        "gone from the bucket"
    );
}
