//! The real server binary, killed with SIGKILL mid-run and started again on the same data.

use std::time::Duration;

use fake_fal::FakeFal;
use reqwest::StatusCode;
use serde_json::json;

use crate::{
    binary::{generate, start, wait_for, walk},
    helpers::{PASSWORD, new_client},
};

#[tokio::test]
async fn a_killed_server_resumes_every_job_without_submitting_or_storing_twice() {
    let fake = FakeFal::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("static")).unwrap();

    let first = start(dir.path(), &fake, &[("RUST_LOG", "info")]);
    let client = new_client();
    let signup = client
        .post(format!("{}/api/auth/signup", first.url))
        .json(&json!({ "email": "ada@example.com", "password": PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(signup.status(), StatusCode::CREATED);
    client
        .put(format!("{}/api/account/fal-key", first.url))
        .json(&json!({ "key": "fake-key-id:fake-secret" }))
        .send()
        .await
        .unwrap();

    // One job still running at fal, one half-way through storing a large, slow output.
    let running = generate(
        &client,
        &first.url,
        json!({ "prompt": "long [fal:duration=2500]", "num_images": 2 }),
    )
    .await;
    let storing = generate(
        &client,
        &first.url,
        json!({ "prompt": "big [fal:size=8000000][fal:slow]", "num_images": 2 }),
    )
    .await;
    wait_for(&client, &first.url, &running, |j| {
        j["status"] == "running" && j["requestId"].is_string()
    })
    .await;
    wait_for(&client, &first.url, &storing, |j| j["status"] == "storing").await;
    tokio::time::sleep(Duration::from_millis(300)).await;

    let mut first = first;
    first.child.kill().expect("SIGKILL");
    first.child.wait().unwrap();

    let second = start(dir.path(), &fake, &[("RUST_LOG", "info")]);
    let client = new_client();
    let login = client
        .post(format!("{}/api/auth/login", second.url))
        .json(&json!({ "email": "ada@example.com", "password": PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), StatusCode::OK);
    for id in [&running, &storing] {
        let job = wait_for(&client, &second.url, id, |j| {
            matches!(
                j["status"].as_str(),
                Some("completed" | "failed" | "cancelled")
            )
        })
        .await;
        assert_eq!(job["status"], "completed", "{job}");
        assert_eq!(job["assets"].as_array().unwrap().len(), 2, "{job}");
    }
    assert_eq!(fake.submitted().len(), 2, "nothing was submitted twice");

    let db = sqlx::SqlitePool::connect(&format!(
        "sqlite://{}",
        dir.path().join("data/fal-studio.db").display()
    ))
    .await
    .unwrap();
    let assets: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM assets")
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(assets, 4, "exactly one asset per output");
    let stored = walk(&dir.path().join("data/files/assets"));
    assert_eq!(stored.len(), 4, "exactly one object per output: {stored:?}");
    let big: i64 = sqlx::query_scalar("SELECT MIN(byte_size) FROM assets WHERE job_id = ?")
        .bind(&storing)
        .fetch_one(&db)
        .await
        .unwrap();
    assert!(
        big >= 8_000_000,
        "the interrupted output was stored whole: {big}"
    );
}
