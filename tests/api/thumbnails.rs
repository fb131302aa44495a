//! Thumbnails and poster frames: made beside every image and video output, served to their
//! owner only, removed with their asset, and made for assets stored before they existed (the
//! backfill) after a restart.

use std::time::{Duration, Instant};

use reqwest::{StatusCode, header};
use serde_json::{Value, json};

use crate::helpers::{Options, TestApp, ready};

const T2I: &str = "fal-ai/bytedance/seedream/v4/text-to-image";
const VEO3: &str = "fal-ai/veo3";

/// Waits until every output of the job has a thumbnail URL (at most 30 s); its assets.
async fn with_thumbnails(app: &TestApp, job_id: &str) -> Vec<Value> {
    let job = app.thumbnailed(job_id).await;
    job["assets"].as_array().cloned().unwrap_or_default()
}

#[tokio::test]
async fn every_image_output_gets_a_small_thumbnail_only_its_owner_can_see() {
    let app = ready(Options::default()).await;
    let id = app
        .start(
            T2I,
            json!({ "prompt": "a lighthouse", "image_size": "square_hd", "num_images": 2 }),
            vec![],
        )
        .await;
    let assets = with_thumbnails(&app, &id).await;
    for asset in &assets {
        let url = asset["thumbnailUrl"].as_str().expect("thumbnail url");
        assert_eq!(
            url,
            format!("/files/{}/thumbnail", asset["id"].as_str().unwrap())
        );
        let response = app.client.get(app.at(url)).send().await.expect("request");
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()[header::CONTENT_TYPE], "image/jpeg");
        let etag = response.headers()[header::ETAG].clone();
        let cache = response.headers()[header::CACHE_CONTROL]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(
            cache.contains("private") && cache.contains("immutable"),
            "{cache}"
        );
        let bytes = response.bytes().await.expect("body");
        let picture = image::load_from_memory(&bytes).expect("a picture");
        assert_eq!((picture.width(), picture.height()), (512, 512));
        let original = asset["byteSize"].as_u64().unwrap();
        assert_eq!(asset["width"], 1024, "{asset}");
        assert!(
            (bytes.len() as u64) * 10 <= original,
            "the thumbnail ({} bytes) is not a tenth of the original ({original})",
            bytes.len()
        );
        let again = app
            .client
            .get(app.at(url))
            .header(header::IF_NONE_MATCH, etag)
            .send()
            .await
            .expect("request");
        assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    }
    // The gallery's page (written by the database) says the same as the job's view.
    let page = app.get_json("/api/assets?limit=10").await;
    for asset in &assets {
        let listed = page["assets"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["id"] == asset["id"])
            .expect("listed");
        assert_eq!(listed["thumbnailUrl"], asset["thumbnailUrl"]);
    }
    // Someone else's thumbnail, like their file, does not exist.
    let bob = app.second_user().await;
    let url = app.at(assets[0]["thumbnailUrl"].as_str().unwrap());
    let theirs = bob.get(&url).send().await.expect("request");
    assert_eq!(theirs.status(), StatusCode::NOT_FOUND);
    let nothing = app
        .client
        .get(app.at("/files/nope/thumbnail"))
        .send()
        .await
        .expect("request");
    assert_eq!(nothing.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_deleted_asset_takes_its_thumbnail_with_it() {
    let app = ready(Options::default()).await;
    let id = app
        .start(
            T2I,
            json!({ "prompt": "a boat", "image_size": "square" }),
            vec![],
        )
        .await;
    let assets = with_thumbnails(&app, &id).await;
    let thumbs = |app: &TestApp| {
        app.stored_files()
            .into_iter()
            .filter(|p| p.to_string_lossy().contains("/thumbs/"))
            .count()
    };
    assert_eq!(thumbs(&app), 1);
    let deleted = app.delete_asset(assets[0]["id"].as_str().unwrap()).await;
    assert!(deleted.status().is_success());
    assert_eq!(thumbs(&app), 0, "{:?}", app.stored_files());
    assert!(app.stored_files().is_empty(), "{:?}", app.stored_files());
}

#[tokio::test]
async fn assets_stored_before_thumbnails_existed_get_them_after_a_restart() {
    let first = ready(Options::default()).await;
    let mut ids = Vec::new();
    for n in 0..3 {
        ids.push(
            first
                .start(
                    T2I,
                    json!({ "prompt": format!("old picture {n}"), "image_size": "square" }),
                    vec![],
                )
                .await,
        );
    }
    for id in &ids {
        with_thumbnails(&first, id).await;
    }
    // As the migration leaves them: waiting, with no thumbnail stored.
    let db = first.db().await;
    sqlx::query(
        "UPDATE assets SET thumb_status = 'pending', thumb_key = NULL, thumb_content_type = NULL, \
         thumb_byte_size = NULL, thumb_sha256 = NULL, thumb_tries = 0, thumb_claimed_until = NULL",
    )
    .execute(&db)
    .await
    .unwrap();
    for file in first.stored_files() {
        if file.to_string_lossy().contains("/thumbs/") {
            std::fs::remove_file(file).unwrap();
        }
    }
    for id in &ids {
        let job = first.job(id).await;
        assert!(job["assets"][0]["thumbnailUrl"].is_null(), "{job}");
    }
    // A restart: the same data and database, a new process-worth of app.
    let second = crate::helpers::spawn_app_with(Options {
        dir: Some(first.dir.clone()),
        database_url: Some(first.database_url.clone()),
        ..Options::default()
    })
    .await;
    // /healthz shows the backlog going down to nothing.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let health = second.get_json("/healthz").await;
        let pending = health["thumbnailsPending"].as_i64().expect("a count");
        if pending == 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{pending} assets never got a thumbnail"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let not_ready: i64 =
        sqlx::query_scalar("SELECT count(*) FROM assets WHERE thumb_status != 'ready'")
            .fetch_one(&db)
            .await
            .unwrap();
    assert_eq!(not_ready, 0);
    let stored = second
        .stored_files()
        .into_iter()
        .filter(|p| p.to_string_lossy().contains("/thumbs/"))
        .count();
    assert_eq!(stored, 3, "exactly one thumbnail per asset");
    for id in &ids {
        let job = first.job(id).await;
        let url = job["assets"][0]["thumbnailUrl"]
            .as_str()
            .expect("thumbnail")
            .to_owned();
        let response = first
            .client
            .get(first.at(&url))
            .send()
            .await
            .expect("request");
        assert_eq!(response.status(), StatusCode::OK);
    }
}

#[tokio::test]
async fn a_video_gets_a_poster_frame_where_ffmpeg_is_installed() {
    let app = ready(Options::default()).await;
    let id = app.start(VEO3, json!({ "prompt": "waves" }), vec![]).await;
    let has_ffmpeg = std::process::Command::new("ffmpeg")
        .arg("-version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !has_ffmpeg {
        // Without ffmpeg the video has no poster (the gallery draws ▶ and the duration).
        let job = app.finished(&id).await;
        tokio::time::sleep(Duration::from_millis(500)).await;
        let job = app.job(job["id"].as_str().unwrap()).await;
        assert!(job["assets"][0]["thumbnailUrl"].is_null(), "{job}");
        return;
    }
    let assets = with_thumbnails(&app, &id).await;
    assert!(
        assets[0]["byteSize"].as_u64().unwrap() >= 2 << 20,
        "a video of a few MiB"
    );
    let url = assets[0]["thumbnailUrl"].as_str().unwrap();
    let response = app.client.get(app.at(url)).send().await.expect("request");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()[header::CONTENT_TYPE], "image/jpeg");
    let bytes = response.bytes().await.expect("body");
    let poster = image::load_from_memory(&bytes).expect("a picture");
    assert!(poster.width() <= 512 && poster.height() <= 512 && poster.width() > 0);
}

#[tokio::test]
async fn an_open_stream_hears_when_a_jobs_thumbnail_is_ready() {
    use futures_util::StreamExt;
    let app = ready(Options::default()).await;
    let events = app.client.get(app.at("/api/events")).send().await.unwrap();
    let id = app
        .start(
            T2I,
            json!({ "prompt": "a kite", "image_size": "square" }),
            vec![],
        )
        .await;
    let mut body = events.bytes_stream();
    let mut text = String::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    // The completed event may or may not have it yet; a later event of the job must.
    while !text.contains("/thumbnail\"") {
        let chunk = tokio::time::timeout_at(deadline, body.next())
            .await
            .expect("an event with the thumbnail in time")
            .expect("stream open")
            .unwrap();
        text.push_str(&String::from_utf8_lossy(&chunk));
    }
    assert!(text.contains(&id));
}
