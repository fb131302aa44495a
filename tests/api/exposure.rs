//! What keeps a studio that is open to the internet safe: who may sign up, how fast, which host
//! names it answers to, and which request ids it believes.

use std::time::Duration;

use reqwest::{StatusCode, header};
use serde_json::{Value, json};

use crate::helpers::{Options, PASSWORD, TestApp, error_of, new_client, spawn_app, spawn_app_with};

fn with(vars: &[(&'static str, &str)]) -> Options {
    Options {
        vars: vars.iter().map(|(k, v)| (*k, (*v).to_owned())).collect(),
        ..Options::default()
    }
}

async fn sign_up(app: &TestApp, email: &str, invite: Option<&str>) -> reqwest::Response {
    let mut body = json!({ "email": email, "password": PASSWORD });
    if let Some(invite) = invite {
        body["invite"] = json!(invite);
    }
    new_client()
        .post(app.at("/api/auth/signup"))
        .json(&body)
        .send()
        .await
        .expect("request")
}

async fn mode(app: &TestApp) -> Value {
    app.get_json("/api/auth/signup-policy").await["mode"].clone()
}

async fn invite(app: &TestApp) -> String {
    fal_studio::auth::invites::create(&app.studio_db().await, Duration::from_secs(3600))
        .await
        .expect("invite")
}

#[tokio::test]
async fn sign_up_is_open_by_default_on_loopback() {
    let app = spawn_app().await;
    assert_eq!(mode(&app).await, "open");
    assert_eq!(
        sign_up(&app, "ada@example.com", None).await.status(),
        StatusCode::CREATED
    );
}

#[tokio::test]
async fn a_closed_studio_refuses_every_sign_up_with_a_reason() {
    let app = spawn_app_with(with(&[("SIGNUP_MODE", "closed")])).await;
    assert_eq!(mode(&app).await, "closed");
    let (status, error) = error_of(sign_up(&app, "ada@example.com", None).await).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(error["category"], "policy");
    assert!(error["message"].as_str().unwrap().contains("administrator"));
}

#[tokio::test]
async fn by_invite_an_invite_is_needed_and_works_once() {
    let app = spawn_app_with(with(&[("SIGNUP_MODE", "invite")])).await;
    assert_eq!(mode(&app).await, "invite");

    let (status, error) = error_of(sign_up(&app, "ada@example.com", None).await).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(error["message"].as_str().unwrap().contains("invite link"));
    let (status, error) = error_of(sign_up(&app, "ada@example.com", Some("made-up")).await).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error["details"][0]["field"], "invite");

    let token = invite(&app).await;
    assert_eq!(
        sign_up(&app, "ada@example.com", Some(&token))
            .await
            .status(),
        StatusCode::CREATED
    );
    let (status, _) = error_of(sign_up(&app, "bob@example.com", Some(&token)).await).await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "an invite works once"
    );
}

#[tokio::test]
async fn one_invite_used_by_many_at_once_makes_one_account() {
    let app = spawn_app_with(with(&[("SIGNUP_MODE", "invite")])).await;
    let token = invite(&app).await;
    let attempts = (0..8).map(|i| {
        let (app, token) = (&app, &token);
        async move {
            sign_up(app, &format!("user{i}@example.com"), Some(token))
                .await
                .status()
        }
    });
    let statuses = futures_util::future::join_all(attempts).await;
    let created = statuses
        .iter()
        .filter(|s| **s == StatusCode::CREATED)
        .count();
    assert_eq!(created, 1, "{statuses:?}");
    let users: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users")
        .fetch_one(&app.db().await)
        .await
        .unwrap();
    assert_eq!(users, 1, "the refused sign-ups left no account behind");
}

#[tokio::test]
async fn an_expired_invite_is_refused() {
    let app = spawn_app_with(with(&[("SIGNUP_MODE", "invite")])).await;
    let token = invite(&app).await;
    sqlx::query("UPDATE invites SET expires_at = '2000-01-01T00:00:00.000Z'")
        .execute(&app.db().await)
        .await
        .unwrap();
    let (status, _) = error_of(sign_up(&app, "ada@example.com", Some(&token)).await).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn sign_ups_from_one_address_are_limited_even_all_at_once() {
    let app = spawn_app_with(with(&[("SIGNUP_LIMIT_PER_HOUR", "3")])).await;
    let attempts = (0..12).map(|i| {
        let app = &app;
        async move { sign_up(app, &format!("user{i}@example.com"), None).await }
    });
    let responses = futures_util::future::join_all(attempts).await;
    let statuses: Vec<StatusCode> = responses.iter().map(|r| r.status()).collect();
    assert_eq!(
        statuses
            .iter()
            .filter(|s| **s == StatusCode::CREATED)
            .count(),
        3,
        "{statuses:?}"
    );
    let limited = responses
        .into_iter()
        .find(|r| r.status() == StatusCode::TOO_MANY_REQUESTS)
        .expect("the rest are limited");
    assert!(limited.headers().contains_key(header::RETRY_AFTER));
    let (_, error) = error_of(limited).await;
    assert_eq!(error["category"], "rate_limited");
}

#[tokio::test]
async fn a_sign_up_flood_does_not_keep_people_from_signing_in() {
    // From many addresses (behind a trusted proxy), so the per-address limit does not stop it.
    let app = spawn_app_with(with(&[("TRUSTED_PROXIES", "127.0.0.1")])).await;
    app.signed_up("ada@example.com").await;
    app.logout().await;
    let app = std::sync::Arc::new(app);
    let flood: Vec<_> = (0..40)
        .map(|i| {
            let app = app.clone();
            tokio::spawn(async move {
                new_client()
                    .post(app.at("/api/auth/signup"))
                    .header("x-forwarded-for", format!("198.51.100.{i}"))
                    .json(
                        &json!({ "email": format!("flood{i}@example.com"), "password": PASSWORD }),
                    )
                    .send()
                    .await
                    .map(|r| r.status())
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let started = std::time::Instant::now();
    let login = app.login("ada@example.com", PASSWORD).await;
    let took = started.elapsed();
    assert_eq!(login.status(), StatusCode::OK);
    // Counted all at once: awaiting them one by one would let the later ones finish meanwhile,
    // and they need not finish in the order they were sent.
    let finished_after_login = flood.iter().filter(|signup| !signup.is_finished()).count();
    for signup in flood {
        let _ = signup.await;
    }
    assert!(
        finished_after_login > 10,
        "the sign-in went ahead of the queued sign-ups ({finished_after_login} still waiting, sign-in took {took:?})"
    );
}

#[tokio::test]
async fn unknown_host_names_are_refused_and_known_ones_served() {
    let app = spawn_app_with(with(&[("ALLOWED_HOSTS", "studio.lan")])).await;
    let port = app.url.rsplit(':').next().unwrap().to_owned();
    let get = |host: String| {
        new_client()
            .get(app.at("/api/auth/signup-policy"))
            .header(header::HOST, host)
            .send()
    };
    let (status, error) = error_of(get(format!("rebind.evil.example:{port}")).await.unwrap()).await;
    assert_eq!(status, StatusCode::MISDIRECTED_REQUEST);
    assert!(error["message"].as_str().unwrap().contains("ALLOWED_HOSTS"));
    for ok in [
        format!("studio.lan:{port}"),
        format!("localhost:{port}"),
        format!("127.0.0.1:{port}"),
    ] {
        assert_eq!(
            get(ok.clone()).await.unwrap().status(),
            StatusCode::OK,
            "{ok}"
        );
    }
}

async fn echoed_request_id(app: &TestApp, sent: &str) -> String {
    new_client()
        .get(app.at("/healthz"))
        .header("x-request-id", sent)
        .send()
        .await
        .unwrap()
        .headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn request_ids_are_kept_only_when_uuid_shaped_or_from_a_trusted_proxy() {
    let app = spawn_app().await;
    let uuid = "0192f7a4-3b1c-7d2e-9f00-0123456789ab";
    assert_eq!(echoed_request_id(&app, uuid).await, uuid);
    let replaced = echoed_request_id(&app, "forged id for the logs").await;
    assert_ne!(replaced, "forged id for the logs");
    assert!(uuid_shaped(&replaced), "{replaced}");

    let behind = spawn_app_with(with(&[("TRUSTED_PROXIES", "127.0.0.1")])).await;
    assert_eq!(
        echoed_request_id(&behind, "lb-7f3a-0001").await,
        "lb-7f3a-0001"
    );
}

fn uuid_shaped(id: &str) -> bool {
    id.len() == 36 && id.bytes().filter(|b| *b == b'-').count() == 4
}
