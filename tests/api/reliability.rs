//! Reliability: the real binary killed with SIGKILL at random points across 20 generations,
//! and a storm of 429s from fal. Bounded in time; the "random" points come from a fixed seed so
//! a failure can be replayed.

use std::time::{Duration, Instant};

use fake_fal::{Failure, FakeFal};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::{
    binary::{start, walk},
    helpers::{Options, PASSWORD, new_client, spawn_app_with},
};

const T2I: &str = "fal-ai/bytedance/seedream/v4/text-to-image";

/// A tiny deterministic generator (xorshift): reproducible kill points.
struct Rng(u64);
impl Rng {
    fn next(&mut self, below: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % below
    }
}

async fn sign_in(client: &reqwest::Client, url: &str, first: bool) {
    let path = if first { "signup" } else { "login" };
    let response = client
        .post(format!("{url}/api/auth/{path}"))
        .json(&json!({ "email": "ada@example.com", "password": PASSWORD }))
        .send()
        .await
        .unwrap();
    assert!(
        response.status().is_success(),
        "{path}: {}",
        response.status()
    );
    if first {
        client
            .put(format!("{url}/api/account/fal-key"))
            .json(&json!({ "key": "fake-key-id:fake-secret" }))
            .send()
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn twenty_generations_survive_sigkill_at_random_points_with_every_output_stored_once() {
    let fake = FakeFal::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("static")).unwrap();
    let mut rng = Rng(0x5eed_1234_abcd_ef01);
    let mut accepted: Vec<(String, u64)> = Vec::new();
    // One key's jobs may run 4 at once, as the per-user limit let them before the per-key
    // limit (default 2) came: the test is about kills, not that limit.
    let vars = [("RUST_LOG", "info"), ("FAL_KEY_CONCURRENCY", "4")];
    let mut server = start(dir.path(), &fake, &vars);
    let mut client = new_client();
    sign_in(&client, &server.url, true).await;

    for round in 0..20 {
        let n = 1 + rng.next(3);
        let size = if rng.next(2) == 0 { 0 } else { 2_000_000 };
        let prompt = format!(
            "round {round} [fal:duration={}][fal:size={size}][fal:slow]",
            100 + rng.next(600)
        );
        let form = reqwest::multipart::Form::new().text("endpoint", T2I).text(
            "params",
            json!({ "prompt": prompt, "num_images": n }).to_string(),
        );
        // The kill may land before the answer: then nothing was promised.
        let kill_after = Duration::from_millis(rng.next(900));
        let send = client
            .post(format!("{}/api/generations", server.url))
            .multipart(form)
            .send();
        let answer = tokio::select! {
            r = send => Some(r),
            _ = tokio::time::sleep(kill_after) => None,
        };
        if let Some(Ok(response)) = answer
            && response.status() == StatusCode::ACCEPTED
        {
            let body: Value = response.json().await.unwrap();
            accepted.push((body["job"]["id"].as_str().unwrap().to_owned(), n));
            tokio::time::sleep(Duration::from_millis(rng.next(900))).await;
        }
        server.child.kill().expect("SIGKILL");
        server.child.wait().unwrap();
        server = start(dir.path(), &fake, &vars);
        client = new_client();
        sign_in(&client, &server.url, false).await;
    }

    let deadline = Instant::now() + Duration::from_secs(120);
    for (id, n) in &accepted {
        loop {
            let body: Value = client
                .get(format!("{}/api/jobs/{id}", server.url))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            let job = &body["job"];
            match job["status"].as_str() {
                Some("completed") => {
                    assert_eq!(job["assets"].as_array().unwrap().len() as u64, *n, "{job}");
                    break;
                }
                // A submission cut off before fal answered is failed on purpose, never resent.
                Some("failed") if job["requestId"].is_null() => break,
                Some("failed" | "cancelled") => panic!("job ended badly: {job}"),
                _ => {
                    assert!(Instant::now() < deadline, "job {id} never finished: {job}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        }
    }
    assert!(
        accepted.len() >= 10,
        "most rounds got their job in: {}",
        accepted.len()
    );

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
    let objects = walk(&dir.path().join("data/files/assets")).len() as i64;
    assert_eq!(objects, assets, "one object per asset, no orphan objects");
    let expected: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM assets a JOIN jobs j ON j.id = a.job_id WHERE j.status = 'completed'",
    )
    .fetch_one(&db)
    .await
    .unwrap();
    assert_eq!(expected, assets, "no asset without a completed job");
    let dangling: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM jobs WHERE status IN ('receiving','queued','submitting','running','storing')",
    )
    .fetch_one(&db)
    .await
    .unwrap();
    assert_eq!(dangling, 0, "no job left half-way");
    let unstored: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM job_references WHERE stored = 0")
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(unstored, 0, "no orphan reference rows");
    let submitted_ids: std::collections::HashSet<String> =
        sqlx::query_scalar::<_, String>("SELECT request_id FROM jobs WHERE request_id IS NOT NULL")
            .fetch_all(&db)
            .await
            .unwrap()
            .into_iter()
            .collect();
    let fal_saw = fake.submitted().len();
    assert!(
        fal_saw <= submitted_ids.len() + 20,
        "at most one unrecorded submission per kill: fal saw {fal_saw}, recorded {}",
        submitted_ids.len()
    );
}

#[tokio::test]
async fn a_storm_of_429s_is_absorbed_and_every_job_finishes() {
    let app = spawn_app_with(Options {
        // As many at fal at once as before the per-key limit (default 2): the storm is the test.
        vars: vec![
            ("FAL_RETRY_BASE_MS", "5".into()),
            ("FAL_KEY_CONCURRENCY", "4".into()),
        ],
        ..Options::default()
    })
    .await;
    app.signed_up("ada@example.com").await;
    app.set_key("fake-key-id:fake-secret").await;
    let mut ids = Vec::new();
    for i in 0..8 {
        ids.push(
            app.start(T2I, json!({ "prompt": format!("storm {i}") }), vec![])
                .await,
        );
    }
    // 60 answers in a row are 429s: far more than the client's own three tries absorb.
    app.fake.fail(Failure {
        status: 429,
        times: Some(60),
        retry_after: None,
    });
    for id in &ids {
        let job = app.finished(id).await;
        assert_eq!(job["status"], "completed", "{job}");
    }
    assert_eq!(app.fake.submitted().len(), 8, "each job submitted once");
}
