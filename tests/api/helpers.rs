use std::{collections::HashMap, path::PathBuf};

use fake_fal::FakeFal;
use fal_studio::{Config, build, serve};
use reqwest::{Client, Response, StatusCode};
use serde_json::{Value, json};
use tempfile::TempDir;

pub const PASSWORD: &str = "correct horse battery";
/// A key the fake fal accepts.
pub const KEY: &str = "fake-key-id:fake-secret";

pub struct TestApp {
    pub url: String,
    pub client: Client,
    pub fake: FakeFal,
    pub dir: PathBuf,
    /// The studio's database: SQLite under `dir`, or a Postgres database of its own.
    pub database_url: String,
    /// The app's job runner, for tests that stop a node.
    pub runner: std::sync::Arc<fal_studio::jobs::Runner>,
    _tmp: Option<TempDir>,
    _server: tokio::task::JoinHandle<()>,
}

#[derive(Default)]
pub struct Options {
    pub vars: Vec<(&'static str, String)>,
    /// Reuse a data folder (to test restarts); a fresh one otherwise.
    pub dir: Option<PathBuf>,
    /// SQLite in the data folder whatever engine the suite runs on: for tests about the
    /// database file itself.
    pub on_sqlite: bool,
    /// Another app's database (its `database_url`): a second node of the same studio.
    pub database_url: Option<String>,
}

impl From<Vec<(&'static str, String)>> for Options {
    fn from(vars: Vec<(&'static str, String)>) -> Self {
        Options {
            vars,
            ..Options::default()
        }
    }
}

/// An app with Ada signed up and the fake's valid key set, retrying fal and storage quickly
/// (the caller's `vars` win over those defaults).
pub async fn ready(options: impl Into<Options>) -> TestApp {
    let mut options = options.into();
    let mut vars = vec![
        ("FAL_RETRY_BASE_MS", "1".to_owned()),
        ("STORAGE_RETRY_BASE_MS", "10".to_owned()),
    ];
    vars.append(&mut options.vars);
    options.vars = vars;
    let app = spawn_app_with(options).await;
    app.signed_up("ada@example.com").await;
    assert_eq!(app.set_key(KEY).await.status(), StatusCode::OK);
    app
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(Options::default()).await
}

pub async fn spawn_app_with(options: Options) -> TestApp {
    let (tmp, dir) = match options.dir {
        Some(d) => (None, d),
        None => {
            let t = tempfile::tempdir().expect("temp dir");
            let d = t.path().to_path_buf();
            (Some(t), d)
        }
    };
    let static_dir = dir.join("static");
    write_static_fixture(&static_dir);
    let database_url = match (options.database_url, postgres_admin_url()) {
        (Some(shared), _) => shared,
        (None, Some(admin)) if !options.on_sqlite => postgres_database_for(&admin, &dir).await,
        _ => format!("sqlite://{}", dir.join("data/fal-studio.db").display()),
    };
    let fake = FakeFal::start().await.expect("fake fal starts");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");

    let mut vars: HashMap<String, String> = HashMap::from([
        ("BIND_ADDR".into(), addr.to_string()),
        ("DATA_DIR".into(), dir.join("data").display().to_string()),
        ("STATIC_DIR".into(), static_dir.display().to_string()),
        ("PUBLIC_URL".into(), format!("http://{addr}")),
        ("DATABASE_URL".into(), database_url.clone()),
    ]);
    for name in [
        "FAL_QUEUE_URL",
        "FAL_RUN_URL",
        "FAL_API_URL",
        "FAL_SITE_URL",
        "FAL_REST_URL",
    ] {
        vars.insert(name.into(), fake.url());
    }
    for (k, v) in options.vars {
        vars.insert(k.into(), v);
    }
    let config = Config::from_lookup(|name| vars.get(name).cloned()).expect("test config is valid");
    let http = config.http;
    let app = build(config).await.expect("app builds");
    let runner = app.runner;
    let router = app.router;
    let server = tokio::spawn(async move {
        serve(listener, router, http, std::future::pending())
            .await
            .expect("server runs");
    });

    TestApp {
        url: format!("http://{addr}"),
        client: new_client(),
        fake,
        dir,
        database_url,
        runner,
        _tmp: tmp,
        _server: server,
    }
}

/// The suite runs on Postgres when `TEST_POSTGRES_URL` names a server's admin database (the test
/// command starts one with `scripts/postgres`); on SQLite otherwise.
pub fn postgres_admin_url() -> Option<String> {
    std::env::var("TEST_POSTGRES_URL")
        .ok()
        .filter(|url| !url.is_empty())
}

pub fn on_postgres() -> bool {
    postgres_admin_url().is_some()
}

/// A database of this app's own on the test server: made fresh for a new data folder, and the
/// same one again when a test restarts the studio on a folder it used before.
pub async fn postgres_database_for(admin_url: &str, dir: &std::path::Path) -> String {
    let marker = dir.join("postgres-database");
    let name = match std::fs::read_to_string(&marker) {
        Ok(name) => name,
        Err(_) => {
            let name = create_postgres_database(admin_url, "t").await;
            std::fs::create_dir_all(dir).expect("data folder");
            std::fs::write(&marker, &name).expect("remember the test database");
            name
        }
    };
    postgres_url_of(admin_url, &name)
}

/// Creates a new, empty database named `<prefix>_<uuid>` on the test server; its name.
pub async fn create_postgres_database(admin_url: &str, prefix: &str) -> String {
    use sqlx::Connection;

    let name = format!("{prefix}_{}", uuid::Uuid::now_v7().simple());
    let mut admin = sqlx::PgConnection::connect(admin_url)
        .await
        .expect("connect to the test Postgres server");
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut admin)
        .await
        .expect("create a test database");
    admin.close().await.ok();
    name
}

/// The URL of database `name` on the server `admin_url` points at.
pub fn postgres_url_of(admin_url: &str, name: &str) -> String {
    let (server, _) = admin_url
        .rsplit_once('/')
        .expect("TEST_POSTGRES_URL ends in /<database>");
    format!("{server}/{name}")
}

pub fn new_client() -> Client {
    Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

/// A tiny stand-in for the built frontend, so web tests do not depend on bundle file names.
pub const FIXTURE_INDEX: &str = "<!doctype html><html><head><title>fal-studio</title><script type=\"module\" src=\"/assets/app-3f2a1b.js\"></script></head><body><div id=\"root\"></div></body></html>";

fn write_static_fixture(dir: &std::path::Path) {
    std::fs::create_dir_all(dir.join("assets")).expect("static dir");
    std::fs::write(dir.join("index.html"), FIXTURE_INDEX).expect("index");
    let js = "console.log('fal-studio');\n".repeat(64);
    std::fs::write(dir.join("assets/app-3f2a1b.js"), js).expect("asset");
}

impl TestApp {
    pub fn at(&self, path: &str) -> String {
        format!("{}{}", self.url, path)
    }

    pub async fn signup(&self, email: &str, password: &str) -> Response {
        self.client
            .post(self.at("/api/auth/signup"))
            .json(&json!({ "email": email, "password": password }))
            .send()
            .await
            .expect("request")
    }

    pub async fn login(&self, email: &str, password: &str) -> Response {
        self.client
            .post(self.at("/api/auth/login"))
            .json(&json!({ "email": email, "password": password }))
            .send()
            .await
            .expect("request")
    }

    pub async fn logout(&self) -> Response {
        self.client
            .post(self.at("/api/auth/logout"))
            .send()
            .await
            .expect("request")
    }

    pub async fn me(&self) -> Response {
        self.client
            .get(self.at("/api/auth/me"))
            .send()
            .await
            .expect("request")
    }

    pub async fn set_key(&self, key: &str) -> Response {
        self.client
            .put(self.at("/api/account/fal-key"))
            .json(&json!({ "key": key }))
            .send()
            .await
            .expect("request")
    }

    pub async fn delete_key(&self) -> Response {
        self.client
            .delete(self.at("/api/account/fal-key"))
            .send()
            .await
            .expect("request")
    }

    pub async fn credits(&self) -> Response {
        self.client
            .get(self.at("/api/account/credits"))
            .send()
            .await
            .expect("request")
    }

    /// Signs up a fresh user on this app's client and returns their id.
    pub async fn signed_up(&self, email: &str) -> String {
        let response = self.signup(email, PASSWORD).await;
        assert_eq!(response.status(), StatusCode::CREATED, "signup of {email}");
        let body: Value = response.json().await.expect("json");
        body["user"]["id"].as_str().expect("id").to_owned()
    }

    /// Bob: a second client, signed up and signed in with the fake's valid key set.
    pub async fn second_user(&self) -> Client {
        let bob = new_client();
        let signup = bob
            .post(self.at("/api/auth/signup"))
            .json(&json!({ "email": "bob@example.com", "password": PASSWORD }))
            .send()
            .await
            .expect("request");
        assert_eq!(signup.status(), StatusCode::CREATED, "signup of bob");
        let key = bob
            .put(self.at("/api/account/fal-key"))
            .json(&json!({ "key": KEY }))
            .send()
            .await
            .expect("request");
        assert_eq!(key.status(), StatusCode::OK, "bob's key");
        bob
    }

    /// GET `path` with this app's client: the JSON body, whatever the status.
    pub async fn get_json(&self, path: &str) -> Value {
        self.get_json_as(&self.client, path).await
    }

    /// GET `path` as another user (`client`): the JSON body, whatever the status.
    pub async fn get_json_as(&self, client: &Client, path: &str) -> Value {
        client
            .get(self.at(path))
            .send()
            .await
            .expect("request")
            .json()
            .await
            .expect("json")
    }

    /// The studio's database for a test to read or change behind its back. One SQL text runs
    /// on both engines: write `$1, $2, …` placeholders, and cast to BIGINT what Postgres would
    /// type otherwise.
    pub async fn db(&self) -> sqlx::AnyPool {
        sqlx::any::install_default_drivers();
        sqlx::AnyPool::connect(&self.database_url)
            .await
            .expect("open test database")
    }

    /// The studio's own handle on its database, for calling its store functions directly.
    pub async fn studio_db(&self) -> fal_studio::db::Db {
        fal_studio::db::connect(&self.database_url)
            .await
            .expect("open test database")
    }
}

/// The error object of a response, checked to have our shape.
pub async fn error_of(response: Response) -> (StatusCode, Value) {
    let status = response.status();
    let body: Value = response.json().await.expect("error bodies are JSON");
    let error = body["error"].clone();
    assert!(error["category"].is_string(), "no category in {body}");
    let message = error["message"].as_str().expect("message is a string");
    assert!(
        !message.is_empty() && !message.contains("[object"),
        "unreadable message in {body}"
    );
    (status, error)
}

/// How many of `statuses` were judged (401) and how many refused by a limit (429); any other
/// status fails the test.
pub fn judged_and_limited(statuses: &[StatusCode]) -> (usize, usize) {
    let count = |wanted: StatusCode| statuses.iter().filter(|s| **s == wanted).count();
    let (judged, limited) = (
        count(StatusCode::UNAUTHORIZED),
        count(StatusCode::TOO_MANY_REQUESTS),
    );
    assert_eq!(
        judged + limited,
        statuses.len(),
        "only 401 and 429: {statuses:?}"
    );
    (judged, limited)
}

pub fn session_cookie(response: &Response) -> Option<String> {
    response
        .headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("fal_studio_session="))
        .map(str::to_owned)
}

pub fn cookie_value(set_cookie: &str) -> String {
    set_cookie
        .split(';')
        .next()
        .and_then(|kv| kv.split_once('='))
        .map(|(_, v)| v.to_owned())
        .expect("cookie has a value")
}

/// One file part of a generation form: (part name, file name, bytes).
pub type FilePart<'a> = (&'a str, &'a str, Vec<u8>);

impl TestApp {
    pub async fn generate(
        &self,
        endpoint: &str,
        params: Value,
        files: Vec<FilePart<'_>>,
        extra: &[(&str, &str)],
    ) -> Response {
        let mut form = reqwest::multipart::Form::new()
            .text("endpoint", endpoint.to_owned())
            .text("params", params.to_string());
        for (name, value) in extra {
            form = form.text(name.to_string(), value.to_string());
        }
        for (name, file_name, bytes) in files {
            let part = reqwest::multipart::Part::bytes(bytes).file_name(file_name.to_owned());
            form = form.part(name.to_owned(), part);
        }
        self.client
            .post(self.at("/api/generations"))
            .multipart(form)
            .send()
            .await
            .expect("request")
    }

    /// Starts one generation and returns its job id (asserting 202).
    pub async fn start(&self, endpoint: &str, params: Value, files: Vec<FilePart<'_>>) -> String {
        let response = self.generate(endpoint, params, files, &[]).await;
        let status = response.status();
        let body: Value = response.json().await.expect("json");
        assert_eq!(status, StatusCode::ACCEPTED, "{body}");
        body["job"]["id"].as_str().expect("job id").to_owned()
    }

    pub async fn job(&self, id: &str) -> Value {
        self.get_json(&format!("/api/jobs/{id}")).await["job"].clone()
    }

    pub async fn cancel(&self, job_id: &str) -> Response {
        self.client
            .post(self.at(&format!("/api/jobs/{job_id}/cancel")))
            .send()
            .await
            .expect("request")
    }

    pub async fn retry(&self, job_id: &str) -> Response {
        self.client
            .post(self.at(&format!("/api/jobs/{job_id}/retry")))
            .send()
            .await
            .expect("request")
    }

    pub async fn delete_asset(&self, asset_id: &str) -> Response {
        self.client
            .delete(self.at(&format!("/api/assets/{asset_id}")))
            .send()
            .await
            .expect("request")
    }

    /// The bytes at `path` (a file or reference URL), whatever the status.
    pub async fn bytes_at(&self, path: &str) -> bytes::Bytes {
        self.client
            .get(self.at(path))
            .send()
            .await
            .expect("request")
            .bytes()
            .await
            .expect("body")
    }

    /// Polls the job until `done` says so (at most 30 s), returning its last state.
    pub async fn wait_for(&self, id: &str, done: impl Fn(&Value) -> bool) -> Value {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        loop {
            let job = self.job(id).await;
            if done(&job) {
                return job;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "job {id} never reached the expected state; last: {job}"
            );
            tokio::time::sleep(std::time::Duration::from_millis(40)).await;
        }
    }

    pub async fn finished(&self, id: &str) -> Value {
        self.wait_for(id, |j| {
            matches!(
                j["status"].as_str(),
                Some("completed" | "failed" | "cancelled")
            )
        })
        .await
    }

    /// Waits until the job has completed and every output has its thumbnail, so no event of the
    /// thumbnail worker comes later (at most 30 s); the job.
    pub async fn thumbnailed(&self, id: &str) -> Value {
        let job = self
            .wait_for(id, |j| {
                matches!(j["status"].as_str(), Some("failed" | "cancelled"))
                    || j["status"] == "completed"
                        && j["assets"].as_array().is_some_and(|assets| {
                            !assets.is_empty()
                                && assets.iter().all(|a| a["thumbnailUrl"].is_string())
                        })
            })
            .await;
        assert_eq!(job["status"], "completed", "{job}");
        job
    }

    /// Files under the local storage folder (for leftovers checks).
    pub fn stored_files(&self) -> Vec<PathBuf> {
        fn walk(dir: &std::path::Path, out: &mut Vec<PathBuf>) {
            if let Ok(entries) = std::fs::read_dir(dir) {
                for e in entries.flatten() {
                    let p = e.path();
                    if p.is_dir() {
                        walk(&p, out);
                    } else {
                        out.push(p);
                    }
                }
            }
        }
        let mut out = Vec::new();
        walk(&self.dir.join("data/files"), &mut out);
        out.retain(|p| !p.to_string_lossy().contains("/.tmp/"));
        out
    }
}

/// The hidden form nonce on a locked share page.
pub fn nonce_of(html: &str) -> String {
    let at = html
        .find("name=\"nonce\" value=\"")
        .expect("the form has a nonce")
        + 20;
    html[at..].split('"').next().unwrap().to_owned()
}
