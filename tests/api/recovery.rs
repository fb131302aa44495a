//! The real server binary, killed with SIGKILL mid-run and started again on the same data.

use std::{
    io::{BufRead, BufReader},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use fal_studio::fake_fal::FakeFal;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, new_client};

pub struct Server {
    pub child: Child,
    pub url: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn start(dir: &std::path::Path, fake: &FakeFal) -> Server {
    let mut child = Command::new(env!("CARGO_BIN_EXE_fal-studio"))
        .current_dir(dir)
        .env_clear()
        .env("BIND_ADDR", "127.0.0.1:0")
        .env("DATA_DIR", dir.join("data"))
        .env("STATIC_DIR", dir.join("static"))
        .env("FAL_RETRY_BASE_MS", "1")
        .env("RUST_LOG", "info")
        .envs(
            [
                "FAL_QUEUE_URL",
                "FAL_RUN_URL",
                "FAL_API_URL",
                "FAL_SITE_URL",
                "FAL_REST_URL",
            ]
            .map(|k| (k, fake.url())),
        )
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the server binary starts");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(at) = line.find("listening on http://") {
                let _ = tx.send(line[at + "listening on ".len()..].trim().to_owned());
            }
        }
    });
    let url = rx
        .recv_timeout(Duration::from_secs(30))
        .expect("the server says where it listens");
    Server { child, url }
}

async fn wait_for(
    client: &reqwest::Client,
    url: &str,
    id: &str,
    done: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let job: Value = client
            .get(format!("{url}/api/jobs/{id}"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if done(&job["job"]) {
            return job["job"].clone();
        }
        assert!(Instant::now() < deadline, "job {id} stuck: {job}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn generate(client: &reqwest::Client, url: &str, prompt: &str, n: u32) -> String {
    let form = reqwest::multipart::Form::new()
        .text("endpoint", "fal-ai/bytedance/seedream/v4/text-to-image")
        .text(
            "params",
            json!({ "prompt": prompt, "num_images": n }).to_string(),
        );
    let response = client
        .post(format!("{url}/api/generations"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let body: Value = response.json().await.unwrap();
    body["job"]["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_killed_server_resumes_every_job_without_submitting_or_storing_twice() {
    let fake = FakeFal::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("static")).unwrap();

    let first = start(dir.path(), &fake);
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
    let running = generate(&client, &first.url, "long [fal:duration=2500]", 2).await;
    let storing = generate(&client, &first.url, "big [fal:size=8000000][fal:slow]", 2).await;
    wait_for(&client, &first.url, &running, |j| {
        j["status"] == "running" && j["requestId"].is_string()
    })
    .await;
    wait_for(&client, &first.url, &storing, |j| j["status"] == "storing").await;
    tokio::time::sleep(Duration::from_millis(300)).await;

    let mut first = first;
    first.child.kill().expect("SIGKILL");
    first.child.wait().unwrap();

    let second = start(dir.path(), &fake);
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

pub fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}
