//! `fal-studio admin migrate-to-postgres`: the real binary run on SQLite, its database copied
//! into Postgres, and the same binary started on the copy. Needs a Postgres server
//! (`TEST_POSTGRES_URL`, as the test command's Postgres run sets it); without one the tests that
//! need it say so and pass.

use std::time::Duration;

use fake_fal::FakeFal;
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use sqlx::Connection;

use crate::{
    binary::{admin, finished, generate, start, text, wait_for},
    helpers::{new_client, postgres_admin_url},
};

/// A password in the target URL, which nothing may print. The test server trusts local
/// connections, so it is accepted whatever it is.
const DB_PASSWORD: &str = "db-pw-Kq7Ls2Vn9Xc4";

/// The Postgres server of the test run, or `None` (with a note) when there is none.
fn postgres_or_skip(test: &str) -> Option<String> {
    let url = postgres_admin_url();
    if url.is_none() {
        eprintln!(
            "{test}: skipped, TEST_POSTGRES_URL is not set (scripts/test sets it for its Postgres run)"
        );
    }
    url
}

/// A new, empty database on the test server; its URL carries [`DB_PASSWORD`].
async fn new_database(admin_url: &str) -> String {
    let name = crate::helpers::create_postgres_database(admin_url, "t_migrate").await;
    let mut url = url::Url::parse(admin_url).expect("TEST_POSTGRES_URL is a URL");
    url.set_password(Some(DB_PASSWORD)).expect("a password");
    url.set_path(&format!("/{name}"));
    url.to_string()
}

async fn post_json(client: &Client, url: String, body: Value) -> reqwest::Response {
    client.post(url).json(&body).send().await.expect("request")
}

async fn get_json(client: &Client, url: String) -> Value {
    let response = client.get(&url).send().await.expect("request");
    assert_eq!(response.status(), StatusCode::OK, "{url}");
    response.json().await.expect("JSON")
}

async fn bytes(client: &Client, url: String) -> bytes::Bytes {
    let response = client.get(&url).send().await.expect("request");
    assert_eq!(response.status(), StatusCode::OK, "{url}");
    response.bytes().await.expect("body")
}

/// Rows per table as the summary prints them (`  users  1`).
fn summary_rows(stdout: &str, table: &str) -> Option<u64> {
    stdout.lines().find_map(|line| {
        let mut words = line.split_whitespace();
        (words.next() == Some(table))
            .then(|| words.next()?.parse().ok())
            .flatten()
    })
}

#[tokio::test]
async fn a_sqlite_studio_moves_to_postgres_with_its_accounts_jobs_files_shares_and_sessions() {
    let Some(admin_url) = postgres_or_skip("migrate::a_sqlite_studio_moves_to_postgres") else {
        return;
    };
    let fake = FakeFal::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (email, password) = ("ada@example.com", "account-pw-Hq8vN2xLm5");
    let share_password = "share-pw-Jd6Fs1Gq";
    let prompt = "a lighthouse at dusk";

    // The studio on its SQLite default.
    let mut server = start(dir.path(), &fake, &[("RUST_LOG", "info")]);
    let url = server.url.clone();
    let client = new_client();
    let signup = post_json(
        &client,
        format!("{url}/api/auth/signup"),
        json!({ "email": email, "password": password }),
    )
    .await;
    assert_eq!(signup.status(), StatusCode::CREATED);
    let saved = client
        .put(format!("{url}/api/account/fal-key"))
        .json(&json!({ "key": "fake-key-id:fal-secret-Zp4Wk9Rt7Yb3" }))
        .send()
        .await
        .unwrap();
    assert!(saved.status().is_success(), "{}", saved.status());
    get_json(&client, format!("{url}/api/models?q=kontext")).await;
    let favourite = client
        .put(format!("{url}/api/models/favorites"))
        .json(&json!({ "endpointId": "fal-ai/flux-pro/kontext" }))
        .send()
        .await
        .unwrap();
    assert_eq!(favourite.status(), StatusCode::OK);
    let job_id = generate(&client, &url, json!({ "prompt": prompt })).await;
    let job = wait_for(&client, &url, &job_id, finished).await;
    assert_eq!(job["status"], "completed", "{job}");
    let asset_id = job["assets"][0]["id"].as_str().unwrap().to_owned();
    let asset_path = job["assets"][0]["url"].as_str().unwrap().to_owned();
    let original = bytes(&client, format!("{url}{asset_path}")).await;
    assert!(!original.is_empty());
    let share = post_json(
        &client,
        format!("{url}/api/assets/{asset_id}/shares"),
        json!({ "password": share_password }),
    )
    .await;
    assert_eq!(share.status(), StatusCode::CREATED);
    let share: Value = share.json().await.unwrap();
    let token = share["share"]["token"].as_str().unwrap().to_owned();
    let (code, _) = server.terminate(Duration::from_secs(30)).await;
    assert_eq!(code, Some(0), "{}", server.log());

    // The copy.
    let target = new_database(&admin_url).await;
    let migrated = admin(
        dir.path(),
        &fake,
        &[],
        &["migrate-to-postgres", &target],
        "",
    );
    let out = text(&migrated);
    assert_eq!(migrated.status.code(), Some(0), "{out}");
    assert!(
        !out.contains(DB_PASSWORD),
        "the password is printed:\n{out}"
    );
    let stdout = String::from_utf8_lossy(&migrated.stdout).into_owned();
    for (table, rows) in [
        ("users", 1),
        ("jobs", 1),
        ("assets", 1),
        ("shares", 1),
        ("model_favorites", 1),
    ] {
        assert_eq!(
            summary_rows(&stdout, table),
            Some(rows),
            "{table}:\n{stdout}"
        );
    }
    assert!(
        summary_rows(&stdout, "sessions").is_some_and(|n| n >= 1),
        "{stdout}"
    );
    assert!(
        summary_rows(&stdout, "model_meta").is_some_and(|n| n >= 1),
        "{stdout}"
    );
    for said in [
        "assets_fts",
        "Sessions were copied",
        "DATABASE_URL",
        "APP_SECRET",
        "1 assets",
        "aws s3 sync",
    ] {
        assert!(
            stdout.contains(said),
            "the summary says {said:?}:\n{stdout}"
        );
    }

    // The same binary and DATA_DIR on the copy.
    let server = start(
        dir.path(),
        &fake,
        &[("RUST_LOG", "info"), ("DATABASE_URL", &target)],
    );
    let url = server.url.clone();
    let health = get_json(&new_client(), format!("{url}/healthz")).await;
    assert_eq!(health["status"], "ok", "{health}");
    // The copied session: the browser that was signed in still is.
    let me = client
        .get(format!("{url}/api/auth/me"))
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), StatusCode::OK, "the copied session signs in");
    let fresh = new_client();
    let login = post_json(
        &fresh,
        format!("{url}/api/auth/login"),
        json!({ "email": email, "password": password }),
    )
    .await;
    assert_eq!(login.status(), StatusCode::OK, "the old password signs in");
    let jobs = get_json(&fresh, format!("{url}/api/jobs")).await;
    let listed = jobs["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|j| j["id"] == job_id.as_str())
        .unwrap_or_else(|| panic!("the job is listed: {jobs}"));
    assert_eq!(listed["status"], "completed");
    assert_eq!(listed["assets"][0]["id"], asset_id.as_str());
    assert_eq!(
        bytes(&fresh, format!("{url}{asset_path}")).await,
        original,
        "the asset's bytes download"
    );
    let found = get_json(&fresh, format!("{url}/api/assets?q=lighthouse")).await;
    assert!(
        found["assets"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["id"] == asset_id.as_str()),
        "the gallery search finds the prompt: {found}"
    );
    let favourites = get_json(&fresh, format!("{url}/api/models/favorites")).await;
    assert_eq!(
        favourites["models"][0]["endpointId"], "fal-ai/flux-pro/kontext",
        "{favourites}"
    );
    let visitor = new_client();
    let gate = visitor
        .get(format!("{url}/s/{token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(gate.status(), StatusCode::OK);
    let wrong = visitor
        .post(format!("{url}/s/{token}"))
        .form(&[("password", "not-the-password")])
        .send()
        .await
        .unwrap();
    assert!(
        !wrong.status().is_redirection(),
        "a wrong password does not open the share"
    );
    let unlocked = visitor
        .post(format!("{url}/s/{token}"))
        .form(&[("password", share_password)])
        .send()
        .await
        .unwrap();
    assert!(
        unlocked.status().is_redirection() || unlocked.status().is_success(),
        "unlock: {}",
        unlocked.status()
    );
    assert_eq!(
        bytes(&visitor, format!("{url}/s/{token}/file?download=1")).await,
        original,
        "the share opens with its password"
    );
    // The saved key was copied readable (same APP_SECRET): a new generation runs on Postgres.
    let second = generate(&fresh, &url, json!({ "prompt": "a second lighthouse" })).await;
    let second = wait_for(&fresh, &url, &second, finished).await;
    assert_eq!(second["status"], "completed", "{second}");
    drop(server);

    let again = admin(
        dir.path(),
        &fake,
        &[],
        &["migrate-to-postgres", &target],
        "",
    );
    let out = text(&again);
    assert_eq!(again.status.code(), Some(1), "{out}");
    assert!(
        out.contains("already holds studio data") && out.contains("users"),
        "{out}"
    );
    assert!(out.contains("dropdb"), "says how to start over: {out}");
    assert!(!out.contains(DB_PASSWORD), "{out}");
}

#[tokio::test]
async fn a_table_added_later_is_copied_and_a_value_that_does_not_fit_writes_nothing() {
    let Some(admin_url) = postgres_or_skip("migrate::a_table_added_later") else {
        return;
    };
    let fake = FakeFal::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let created = admin(
        dir.path(),
        &fake,
        &[],
        &["create-user", "grace@example.com"],
        "first-pass-word\n",
    );
    assert_eq!(created.status.code(), Some(0), "{}", text(&created));
    let sqlite = sqlx::SqlitePool::connect(&format!(
        "sqlite://{}",
        dir.path().join("data/fal-studio.db").display()
    ))
    .await
    .unwrap();
    let user_id: String = sqlx::query_scalar("SELECT id FROM users")
        .fetch_one(&sqlite)
        .await
        .unwrap();
    // A table of a later migration, as far as the copy can tell: it reads the schema, not a list.
    sqlx::query(
        "CREATE TABLE later_notes (id INTEGER PRIMARY KEY, user_id TEXT NOT NULL REFERENCES users(id), \
         done INTEGER NOT NULL, body TEXT) STRICT",
    )
    .execute(&sqlite)
    .await
    .unwrap();
    for (id, done) in [(5, 0), (9, 7)] {
        sqlx::query(
            "INSERT INTO later_notes (id, user_id, done, body) VALUES ($1, $2, $3, 'note')",
        )
        .bind(id)
        .bind(&user_id)
        .bind(done)
        .execute(&sqlite)
        .await
        .unwrap();
    }
    let target = new_database(&admin_url).await;
    let migrate = || {
        admin(
            dir.path(),
            &fake,
            &[],
            &["migrate-to-postgres", &target],
            "",
        )
    };

    let refused = migrate();
    let out = text(&refused);
    assert_eq!(refused.status.code(), Some(1), "{out}");
    assert!(
        out.contains("`later_notes` has no twin in the Postgres schema"),
        "{out}"
    );

    // Its twin, as a Postgres migration would make it: BIGINT identity, BOOLEAN flag.
    let mut pg = sqlx::PgConnection::connect(&target).await.unwrap();
    sqlx::query(
        "CREATE TABLE later_notes (id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, \
         user_id TEXT NOT NULL REFERENCES users(id), done BOOLEAN NOT NULL, body TEXT)",
    )
    .execute(&mut pg)
    .await
    .unwrap();
    let failed = migrate();
    let out = text(&failed);
    assert_eq!(failed.status.code(), Some(1), "{out}");
    assert!(
        out.contains("`later_notes.done` holds the integer 7 in the row with id = the integer 9"),
        "{out}"
    );
    let users: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users")
        .fetch_one(&mut pg)
        .await
        .unwrap();
    assert_eq!(
        users, 0,
        "users (copied before later_notes) were rolled back"
    );

    sqlx::query("UPDATE later_notes SET done = 1 WHERE id = 9")
        .execute(&sqlite)
        .await
        .unwrap();
    sqlite.close().await;
    let copied = migrate();
    let out = text(&copied);
    assert_eq!(copied.status.code(), Some(0), "{out}");
    assert_eq!(
        summary_rows(&String::from_utf8_lossy(&copied.stdout), "later_notes"),
        Some(2),
        "{out}"
    );
    let rows: Vec<(i64, bool)> = sqlx::query_as("SELECT id, done FROM later_notes ORDER BY id")
        .fetch_all(&mut pg)
        .await
        .unwrap();
    assert_eq!(rows, [(5, false), (9, true)]);
    let next: i64 = sqlx::query_scalar(
        "INSERT INTO later_notes (user_id, done) VALUES ($1, TRUE) RETURNING id",
    )
    .bind(&user_id)
    .fetch_one(&mut pg)
    .await
    .unwrap();
    assert_eq!(next, 10, "new ids follow the copied ones");
    pg.close().await.ok();
}

#[tokio::test]
async fn a_target_a_node_is_writing_to_is_refused_once_the_lock_wait_runs_out() {
    let Some(admin_url) = postgres_or_skip("migrate::a_target_a_node_is_writing_to") else {
        return;
    };
    let fake = FakeFal::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let created = admin(
        dir.path(),
        &fake,
        &[],
        &["create-user", "grace@example.com"],
        "first-pass-word\n",
    );
    assert_eq!(created.status.code(), Some(0), "{}", text(&created));
    let target = new_database(&admin_url).await;
    fal_studio::db::connect(&target)
        .await
        .expect("the target migrated")
        .close()
        .await;
    // What a studio node's write holds until it commits.
    let mut node = sqlx::PgConnection::connect(&target).await.unwrap();
    sqlx::query("BEGIN").execute(&mut node).await.unwrap();
    sqlx::query("LOCK TABLE users IN ROW EXCLUSIVE MODE")
        .execute(&mut node)
        .await
        .unwrap();
    let started = std::time::Instant::now();
    let refused = admin(
        dir.path(),
        &fake,
        &[],
        &["migrate-to-postgres", &target],
        "",
    );
    let out = text(&refused);
    assert_eq!(refused.status.code(), Some(1), "{out}");
    assert!(
        out.contains("is in use") && out.contains("stop every studio node"),
        "{out}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "it gave up in time"
    );
    sqlx::query("ROLLBACK").execute(&mut node).await.unwrap();
    let users: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users")
        .fetch_one(&mut node)
        .await
        .unwrap();
    assert_eq!(users, 0, "nothing was copied");
    node.close().await.ok();
}

#[tokio::test]
async fn wrong_sources_and_targets_are_refused_without_printing_passwords() {
    let fake = FakeFal::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    // Nowhere to connect to: each case is refused before any connection to the target.
    let target = format!("postgres://studio:{DB_PASSWORD}@127.0.0.1:1/studio");

    let no_database = admin(
        dir.path(),
        &fake,
        &[],
        &["migrate-to-postgres", &target],
        "",
    );
    let out = text(&no_database);
    assert_eq!(no_database.status.code(), Some(1), "{out}");
    assert!(out.contains("could not open the SQLite database"), "{out}");

    /// Settings, the target given, what the refusal says.
    type Case<'a> = (&'a [(&'a str, &'a str)], &'a str, &'a str);
    let cases: [Case; 2] = [
        (
            &[("DATABASE_URL", target.as_str())],
            target.as_str(),
            "copies from SQLite",
        ),
        (
            &[],
            "mysql://studio:db-pw-Kq7Ls2Vn9Xc4@127.0.0.1/studio",
            "is not a Postgres URL",
        ),
    ];
    for (vars, to, said) in cases {
        let refused = admin(dir.path(), &fake, vars, &["migrate-to-postgres", to], "");
        let out = text(&refused);
        assert_eq!(refused.status.code(), Some(2), "{out}");
        assert!(out.contains(said), "{out}");
        assert!(
            !out.contains(DB_PASSWORD),
            "the password is printed:\n{out}"
        );
    }

    // The studio still running on the database: what it writes after the copy would be lost.
    let server = start(dir.path(), &fake, &[("RUST_LOG", "info")]);
    let running = admin(
        dir.path(),
        &fake,
        &[],
        &["migrate-to-postgres", &target],
        "",
    );
    let out = text(&running);
    assert_eq!(running.status.code(), Some(1), "{out}");
    assert!(
        out.contains("the studio is running on this SQLite database")
            && out.contains("stop it first"),
        "{out}"
    );
    drop(server);

    // A database a migration behind this binary: its columns would not match the twins'.
    let created = admin(
        dir.path(),
        &fake,
        &[],
        &["create-user", "grace@example.com"],
        "first-pass-word\n",
    );
    assert_eq!(created.status.code(), Some(0), "{}", text(&created));
    let sqlite = sqlx::SqlitePool::connect(&format!(
        "sqlite://{}",
        dir.path().join("data/fal-studio.db").display()
    ))
    .await
    .unwrap();
    let last: i64 = sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations")
        .fetch_one(&sqlite)
        .await
        .unwrap();
    sqlx::query("DELETE FROM _sqlx_migrations WHERE version = $1")
        .bind(last)
        .execute(&sqlite)
        .await
        .unwrap();
    sqlite.close().await;
    let behind = admin(
        dir.path(),
        &fake,
        &[],
        &["migrate-to-postgres", &target],
        "",
    );
    let out = text(&behind);
    assert_eq!(behind.status.code(), Some(1), "{out}");
    assert!(
        out.contains(&format!("lacks migration(s) {last}")) && out.contains("start the studio"),
        "{out}"
    );
    assert!(!out.contains(DB_PASSWORD), "{out}");
}
