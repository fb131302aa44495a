//! The real server binary as a child process: started on a test's own data folder against a
//! fake fal, with its output collected, and the HTTP steps the process-level tests share.

use std::{
    io::{BufRead, BufReader, Read},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use fake_fal::FakeFal;
use reqwest::{Client, StatusCode};
use serde_json::Value;

pub const ENDPOINT: &str = "fal-ai/bytedance/seedream/v4/text-to-image";
pub const APP_SECRET: &str = "app-secret-Q7wX2vLp9sKd4mTz8RbN3yHc6fJg1eUa";

pub struct Server {
    pub child: Child,
    pub url: String,
    log: Arc<Mutex<String>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    pub fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    /// Sends SIGTERM and waits (at most `within`) for the exit code, without blocking the
    /// runtime that serves the in-process fake fal.
    pub async fn terminate(&mut self, within: Duration) -> (Option<i32>, Duration) {
        let started = Instant::now();
        let sent = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(sent.success(), "SIGTERM was delivered");
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return (status.code(), started.elapsed());
            }
            assert!(
                started.elapsed() < within,
                "the server did not exit within {within:?} of SIGTERM"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// The binary with a test's settings: its own data folder, the fake fal, a fixed APP_SECRET.
pub fn command(dir: &Path, fake: &FakeFal) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_fal-studio"));
    command
        .current_dir(dir)
        .env_clear()
        .env("BIND_ADDR", "127.0.0.1:0")
        .env("DATA_DIR", dir.join("data"))
        .env("STATIC_DIR", dir.join("static"))
        .env("APP_SECRET", APP_SECRET)
        .env("FAL_RETRY_BASE_MS", "1")
        .envs(
            [
                "FAL_QUEUE_URL",
                "FAL_RUN_URL",
                "FAL_API_URL",
                "FAL_SITE_URL",
                "FAL_REST_URL",
            ]
            .map(|k| (k, fake.url())),
        );
    command
}

/// Starts the server and collects everything it writes to stdout and stderr.
pub fn start(dir: &Path, fake: &FakeFal, vars: &[(&str, &str)]) -> Server {
    std::fs::create_dir_all(dir.join("static")).unwrap();
    let mut command = command(dir, fake);
    command.envs(vars.iter().copied());
    spawn(command)
}

/// Starts a prepared [`command`] (for settings `start` always makes, such as removing one)
/// and collects everything it writes to stdout and stderr.
pub fn spawn(mut command: Command) -> Server {
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the server binary starts");
    let log = Arc::new(Mutex::new(String::new()));
    let (tx, rx) = std::sync::mpsc::channel();
    let stdout = child.stdout.take().expect("stdout");
    let out_log = log.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(at) = line.find("listening on http://") {
                // Text and JSON lines alike: the URL ends at a quote or a space.
                let rest = &line[at + "listening on ".len()..];
                let end = rest.find(['"', ' ']).unwrap_or(rest.len());
                let _ = tx.send(rest[..end].to_owned());
            }
            let mut log = out_log.lock().unwrap();
            log.push_str(&line);
            log.push('\n');
        }
    });
    let mut stderr = child.stderr.take().expect("stderr");
    let err_log = log.clone();
    std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        err_log.lock().unwrap().push_str(&text);
    });
    let url = rx
        .recv_timeout(Duration::from_secs(30))
        .expect("the server says where it listens");
    Server { child, url, log }
}

/// Starts a generation of ENDPOINT with these parameters; returns the job id.
pub async fn generate(client: &Client, url: &str, params: Value) -> String {
    let form = reqwest::multipart::Form::new()
        .text("endpoint", ENDPOINT)
        .text("params", params.to_string());
    let response = client
        .post(format!("{url}/api/generations"))
        .multipart(form)
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let body: Value = response.json().await.unwrap();
    body["job"]["id"].as_str().unwrap().to_owned()
}

pub async fn wait_for(
    client: &Client,
    url: &str,
    id: &str,
    done: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let body: Value = client
            .get(format!("{url}/api/jobs/{id}"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if done(&body["job"]) {
            return body["job"].clone();
        }
        assert!(Instant::now() < deadline, "job {id} stuck: {body}");
        tokio::time::sleep(Duration::from_millis(40)).await;
    }
}

pub fn finished(job: &Value) -> bool {
    matches!(
        job["status"].as_str(),
        Some("completed" | "failed" | "cancelled")
    )
}

/// Every file under `dir`, at any depth.
pub fn walk(dir: &Path) -> Vec<PathBuf> {
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

/// Runs `fal-studio admin ...` on the test folder's settings plus `vars`, with `stdin` piped in.
pub fn admin(
    dir: &Path,
    fake: &FakeFal,
    vars: &[(&str, &str)],
    args: &[&str],
    stdin: &str,
) -> std::process::Output {
    use std::io::Write;

    let mut child = command(dir, fake)
        .envs(vars.iter().copied())
        .arg("admin")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the admin command starts");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("stdin written");
    child.wait_with_output().expect("the admin command ends")
}

/// An admin command's exit code and output, for assertion messages.
pub fn text(output: &std::process::Output) -> String {
    format!(
        "exit {:?}\nstdout: {}\nstderr: {}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}
