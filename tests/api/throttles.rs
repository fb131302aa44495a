//! Guessing and sign-up limits counted in the database: shared by every node on it, kept across
//! restarts, atomic under parallel requests, and bounded. Run on SQLite and on Postgres.
//!
//! A second node here is a second in-process app on the first one's data folder, so on the same
//! database (and the same local storage, which nodes sharing a folder may use).

use std::{
    net::{IpAddr, Ipv4Addr},
    time::{Duration, Instant},
};

use fal_studio::auth::GuessLimiter;
use reqwest::{StatusCode, header};
use serde_json::json;

use crate::helpers::{Options, PASSWORD, TestApp, judged_and_limited, new_client, spawn_app_with};

const ATTACKER: &str = "198.51.100.66";

fn behind_a_proxy(dir: Option<std::path::PathBuf>) -> Options {
    Options {
        vars: vec![("TRUSTED_PROXIES", "127.0.0.1/32".into())],
        dir,
        ..Options::default()
    }
}

/// A node behind the trusted proxy, and a second one on the same database.
async fn two_nodes() -> (TestApp, TestApp) {
    let a = spawn_app_with(behind_a_proxy(None)).await;
    let b = spawn_app_with(behind_a_proxy(Some(a.dir.clone()))).await;
    (a, b)
}

async fn login_from(app: &TestApp, addr: &str, email: &str, password: &str) -> StatusCode {
    new_client()
        .post(app.at("/api/auth/login"))
        .header("x-forwarded-for", addr)
        .json(&json!({ "email": email, "password": password }))
        .send()
        .await
        .expect("request")
        .status()
}

#[tokio::test]
async fn parallel_wrong_logins_split_across_two_nodes_are_judged_up_to_the_limit_in_total() {
    let (a, b) = two_nodes().await;
    a.signed_up("ada@example.com").await;

    let guesses = (0..64).map(|i| {
        let node = if i % 2 == 0 { &a } else { &b };
        login_from(node, ATTACKER, "ada@example.com", "wrong password")
    });
    let statuses = futures_util::future::join_all(guesses).await;

    assert_eq!(
        judged_and_limited(&statuses),
        (5, 59),
        "both nodes count into one limit"
    );
    for node in [&a, &b] {
        assert_eq!(
            login_from(node, ATTACKER, "ada@example.com", PASSWORD).await,
            StatusCode::TOO_MANY_REQUESTS
        );
    }
    assert_eq!(
        login_from(&b, "203.0.113.7", "ada@example.com", PASSWORD).await,
        StatusCode::OK,
        "Ada, from her own address, still gets in"
    );
}

#[tokio::test]
async fn a_restart_does_not_forgive_wrong_passwords() {
    let before = spawn_app_with(behind_a_proxy(None)).await;
    before.signed_up("ada@example.com").await;
    for _ in 0..5 {
        assert_eq!(
            login_from(&before, ATTACKER, "ada@example.com", "wrong password").await,
            StatusCode::UNAUTHORIZED
        );
    }

    let after = spawn_app_with(behind_a_proxy(Some(before.dir.clone()))).await;

    assert_eq!(
        login_from(&after, ATTACKER, "ada@example.com", PASSWORD).await,
        StatusCode::TOO_MANY_REQUESTS
    );
}

#[tokio::test]
async fn sign_ups_from_one_address_are_limited_across_nodes() {
    let limit = ("SIGNUP_LIMIT_PER_HOUR", "3".to_owned());
    let a = spawn_app_with(Options {
        vars: vec![limit.clone()],
        ..Options::default()
    })
    .await;
    let b = spawn_app_with(Options {
        vars: vec![limit],
        dir: Some(a.dir.clone()),
        ..Options::default()
    })
    .await;

    let attempts = (0..12).map(|i| {
        let node = if i % 2 == 0 { &a } else { &b };
        new_client()
            .post(node.at("/api/auth/signup"))
            .json(&json!({ "email": format!("user{i}@example.com"), "password": PASSWORD }))
            .send()
    });
    let responses = futures_util::future::join_all(attempts).await;
    let statuses: Vec<StatusCode> = responses
        .iter()
        .map(|r| r.as_ref().expect("request").status())
        .collect();

    let created = statuses
        .iter()
        .filter(|s| **s == StatusCode::CREATED)
        .count();
    let limited = statuses
        .iter()
        .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert_eq!((created, limited), (3, 9), "{statuses:?}");
    let refused = responses
        .into_iter()
        .map(|r| r.expect("request"))
        .find(|r| r.status() == StatusCode::TOO_MANY_REQUESTS)
        .expect("a refusal");
    let wait: u64 = refused.headers()[header::RETRY_AFTER]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(wait > 3500 && wait <= 3600, "{wait}");
}

#[tokio::test]
async fn the_table_names_no_email_and_no_address_as_a_subject() {
    let app = spawn_app_with(behind_a_proxy(None)).await;
    // A name with letters outside 0-9a-f: the subject is a hex hash, which may well contain
    // "ada" by chance (it did, once in CI).
    for _ in 0..3 {
        login_from(&app, ATTACKER, "quinn@example.com", "wrong password").await;
    }
    let keys: Vec<(String, String)> = sqlx::query_as("SELECT scope, key FROM throttles")
        .fetch_all(&app.db().await)
        .await
        .unwrap();
    assert_eq!(keys.len(), 3, "{keys:?}");
    for (scope, key) in &keys {
        assert!(!key.contains("quinn"), "{scope}: {key}");
        match scope.as_str() {
            "login:address" => assert_eq!(key, ATTACKER),
            "login:subject" => assert_eq!(key.len(), 64, "a hex SHA-256"),
            "login:pair" => assert_eq!(key.len(), 64 + 1 + ATTACKER.len()),
            other => panic!("unexpected scope {other}"),
        }
    }
}

#[tokio::test]
async fn a_flood_of_distinct_emails_adds_rows_only_for_the_attempts_let_through() {
    let app = spawn_app_with(behind_a_proxy(None)).await;
    let guesses = (0..100).map(|i| {
        let app = &app;
        async move { login_from(app, ATTACKER, &format!("u{i}@example.com"), "guess1234").await }
    });
    let statuses = futures_util::future::join_all(guesses).await;
    assert_eq!(judged_and_limited(&statuses), (20, 80));

    let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM throttles")
        .fetch_one(&app.db().await)
        .await
        .unwrap();
    // A pair and a subject row per judged guess, and the address's: refusals wrote nothing.
    assert_eq!(rows, 2 * 20 + 1);
}

#[tokio::test]
async fn passed_windows_are_swept_after_a_request() {
    let app = spawn_app_with(behind_a_proxy(None)).await;
    let db = app.db().await;
    for i in 0..5 {
        sqlx::query(
            "INSERT INTO throttles (scope, key, attempts, resets_at) VALUES ($1, $2, 3, 1000)",
        )
        .bind("login:address")
        .bind(format!("192.0.2.{i}"))
        .execute(&db)
        .await
        .unwrap();
    }
    let live = "INSERT INTO throttles (scope, key, attempts, resets_at) VALUES ($1, $2, 3, $3)";
    sqlx::query(live)
        .bind("login:address")
        .bind("192.0.2.200")
        .bind(i64::MAX / 2)
        .execute(&db)
        .await
        .unwrap();

    login_from(&app, ATTACKER, "ada@example.com", "wrong password").await;

    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let stale: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM throttles WHERE key LIKE '192.0.2.%'")
                .fetch_one(&db)
                .await
                .unwrap();
        if stale == 1 {
            break;
        }
        assert!(Instant::now() < deadline, "{stale} rows left");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

// The limiter itself, on the database each engine's suite runs on (these were in-memory unit
// tests before the counters moved to the database).

fn addr(n: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(203, 0, 113, n))
}

/// The same `APP_SECRET` for every limiter, as the nodes of one studio share theirs.
fn secret() -> fal_studio::config::Secret {
    fal_studio::config::Secret::new("t".repeat(32))
}

const ADDR: IpAddr = IpAddr::V4(Ipv4Addr::new(198, 51, 100, 1));

/// Ends every window now, as if their time had passed.
async fn pass_windows(app: &TestApp) {
    sqlx::query("UPDATE throttles SET resets_at = 0")
        .execute(&app.db().await)
        .await
        .unwrap();
}

async fn address_attempts(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT attempts FROM throttles WHERE scope = 'login:address' AND key = $1")
        .bind(ADDR.to_string())
        .fetch_one(&app.db().await)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_subject_from_one_address_is_locked_after_the_limit_and_released_after_the_window() {
    let app = spawn_app_with(Options::default()).await;
    let db = app.studio_db().await;
    let t = GuessLimiter::for_logins(&secret());
    for _ in 0..5 {
        let _failed = t.reserve(&db, "a@x.io", ADDR).await.unwrap().unwrap();
    }
    let wait = t.reserve(&db, "a@x.io", ADDR).await.unwrap().err().unwrap();
    assert!(wait > 15 * 60 - 5 && wait <= 15 * 60, "{wait}");
    // The same person elsewhere, and others here, are not locked by it.
    assert!(t.reserve(&db, "a@x.io", addr(2)).await.unwrap().is_ok());
    assert!(t.reserve(&db, "b@x.io", ADDR).await.unwrap().is_ok());
    // Nor is the same link's password from here: share links count apart.
    let links = GuessLimiter::for_share_links(&secret());
    assert!(links.reserve(&db, "a@x.io", ADDR).await.unwrap().is_ok());

    pass_windows(&app).await;
    assert!(t.reserve(&db, "a@x.io", ADDR).await.unwrap().is_ok());
    assert_eq!(
        address_attempts(&app).await,
        1,
        "a passed window starts afresh"
    );
}

#[tokio::test]
async fn parallel_reservations_from_two_nodes_never_exceed_the_limit() {
    let app = spawn_app_with(Options::default()).await;
    let (db_a, db_b) = (app.studio_db().await, app.studio_db().await);
    let (a, b) = (
        GuessLimiter::for_logins(&secret()),
        GuessLimiter::for_logins(&secret()),
    );
    let attempts = (0..64).map(|i| {
        let (t, db) = if i % 2 == 0 { (&a, &db_a) } else { (&b, &db_b) };
        t.reserve(db, "a@x.io", ADDR)
    });
    // Held, not settled: as requests whose passwords are still being checked.
    let reserved: Vec<_> = futures_util::future::join_all(attempts)
        .await
        .into_iter()
        .map(|r| r.expect("the database answers"))
        .collect();
    assert_eq!(reserved.iter().filter(|r| r.is_ok()).count(), 5);
    assert_eq!(address_attempts(&app).await, 5, "refusals counted nothing");
}

#[tokio::test]
async fn an_address_is_locked_across_subjects_without_locking_others() {
    let app = spawn_app_with(Options::default()).await;
    let db = app.studio_db().await;
    let t = GuessLimiter::for_logins(&secret());
    for i in 0..20 {
        let _failed = t
            .reserve(&db, &format!("u{i}@x.io"), ADDR)
            .await
            .unwrap()
            .unwrap();
    }
    assert!(t.reserve(&db, "fresh@x.io", ADDR).await.unwrap().is_err());
    assert!(t.reserve(&db, "fresh@x.io", addr(9)).await.unwrap().is_ok());
}

#[tokio::test]
async fn guessing_from_many_addresses_slows_a_subject_for_minutes_only() {
    let app = spawn_app_with(Options::default()).await;
    let db = app.studio_db().await;
    let t = GuessLimiter::for_logins(&secret());
    for i in 0..10 {
        let _failed = t
            .reserve(&db, "victim@x.io", addr(i))
            .await
            .unwrap()
            .unwrap();
    }
    let wait = t
        .reserve(&db, "victim@x.io", addr(200))
        .await
        .unwrap()
        .err()
        .unwrap();
    assert!(wait <= 5 * 60, "{wait}");
}

#[tokio::test]
async fn success_clears_the_subject_and_refunds_the_address() {
    let app = spawn_app_with(Options::default()).await;
    let db = app.studio_db().await;
    let t = GuessLimiter::for_logins(&secret());
    for _ in 0..4 {
        let _failed = t.reserve(&db, "a@x.io", ADDR).await.unwrap().unwrap();
    }
    t.reserve(&db, "a@x.io", ADDR)
        .await
        .unwrap()
        .unwrap()
        .succeeded()
        .await;
    for _ in 0..5 {
        t.reserve(&db, "a@x.io", ADDR)
            .await
            .unwrap()
            .unwrap()
            .succeeded()
            .await;
    }
    assert!(t.reserve(&db, "a@x.io", ADDR).await.unwrap().is_ok());
    // The address holds the four failures and that last attempt, not the successes.
    assert_eq!(address_attempts(&app).await, 4 + 1);
}
