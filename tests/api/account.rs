use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{Options, error_of, spawn_app, spawn_app_with};

const KEY: &str = "fake-key-id:fake-secret-0123456789";

#[tokio::test]
async fn a_valid_key_is_saved_and_credits_are_shown() {
    let app = spawn_app().await;
    app.signed_up("ada@example.com").await;

    let response = app.set_key(KEY).await;
    assert_eq!(response.status(), StatusCode::OK);
    let text = response.text().await.unwrap();
    assert!(
        !text.contains("fake-secret"),
        "the key never comes back: {text}"
    );
    let body: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(body["user"]["hasFalKey"], true);
    assert_eq!(body["credits"]["balance"], 24.5);
    assert_eq!(body["credits"]["currency"], "USD");

    let credits: Value = app.credits().await.json().await.unwrap();
    assert_eq!(credits["balance"], 24.5);
    assert_eq!(credits["currency"], "USD");

    let me: Value = app.me().await.json().await.unwrap();
    assert_eq!(me["user"]["hasFalKey"], true);
}

#[tokio::test]
async fn the_key_goes_to_fal_billing_in_the_authorization_header() {
    let app = spawn_app().await;
    app.signed_up("ada@example.com").await;
    app.set_key(&format!("  {KEY}\n")).await;
    let requests = app.fake.requests();
    let billing = requests
        .iter()
        .find(|r| r.path_and_query.starts_with("/v1/account/billing"))
        .expect("billing was called");
    assert_eq!(billing.method, "GET");
    assert!(
        billing.path_and_query.contains("expand=credits"),
        "{billing:?}"
    );
    assert_eq!(
        billing.authorization.as_deref(),
        Some(&*format!("Key {KEY}")),
        "trimmed key"
    );
}

#[tokio::test]
async fn a_key_fal_rejects_is_not_stored() {
    let app = spawn_app().await;
    let id = app.signed_up("ada@example.com").await;

    let (status, error) = error_of(app.set_key("fake-invalid-key").await).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(error["category"], "invalid_key");
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("Nothing was saved")
    );

    let stored: Option<String> =
        sqlx::query_scalar("SELECT fal_key_ciphertext FROM users WHERE id = $1")
            .bind(&id)
            .fetch_one(&app.db().await)
            .await
            .unwrap();
    assert!(stored.is_none());
    let me: Value = app.me().await.json().await.unwrap();
    assert_eq!(me["user"]["hasFalKey"], false);
    assert_eq!(app.me().await.status(), StatusCode::OK, "still signed in");
}

#[tokio::test]
async fn a_key_without_admin_scope_is_saved_but_credits_are_unavailable() {
    let app = spawn_app().await;
    app.signed_up("ada@example.com").await;
    let body: Value = app.set_key("fake-noadmin-key").await.json().await.unwrap();
    assert_eq!(body["user"]["hasFalKey"], true);
    assert!(body["credits"].is_null());

    let credits_response = app.credits().await;
    assert_eq!(credits_response.status(), StatusCode::OK);
    let credits: Value = credits_response.json().await.unwrap();
    assert!(credits["balance"].is_null());
    assert!(credits["currency"].is_null());
}

#[tokio::test]
async fn fal_unreachable_is_a_network_error_and_nothing_is_stored() {
    // Port 1 on loopback: nothing listens there, so the connection is refused at once.
    let app = spawn_app_with(Options {
        vars: vec![("FAL_API_URL", "http://127.0.0.1:1".into())],
        ..Options::default()
    })
    .await;
    app.signed_up("ada@example.com").await;
    let (status, error) = error_of(app.set_key(KEY).await).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY);
    assert_eq!(error["category"], "network");
    let message = error["message"].as_str().unwrap();
    assert!(message.contains("Could not reach"), "{message}");
    assert!(message.contains("Nothing was saved"), "{message}");
    let me: Value = app.me().await.json().await.unwrap();
    assert_eq!(me["user"]["hasFalKey"], false);
}

#[tokio::test]
async fn a_fal_outage_gives_a_readable_provider_error_and_nothing_is_stored() {
    let app = spawn_app().await;
    app.signed_up("ada@example.com").await;
    let (status, error) = error_of(app.set_key("fake-outage-key").await).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY);
    assert_eq!(error["category"], "provider_error");
    let message = error["message"].as_str().unwrap();
    assert!(message.contains("HTTP 503"), "{message}");
    assert!(!message.contains("<html"), "{message}");
    assert_eq!(error["details"]["providerStatus"], 503);
    let me: Value = app.me().await.json().await.unwrap();
    assert_eq!(me["user"]["hasFalKey"], false);
}

#[tokio::test]
async fn malformed_keys_are_refused_before_fal_is_asked() {
    let app = spawn_app().await;
    app.signed_up("ada@example.com").await;
    let long = "k".repeat(600);
    for key in ["", "   ", "two words", "line\nbreak", long.as_str()] {
        let (status, error) = error_of(app.set_key(key).await).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{key:?}");
        assert_eq!(error["details"][0]["field"], "key", "{key:?}");
    }
    assert!(app.fake.requests().is_empty());
}

#[tokio::test]
async fn removing_the_key_forgets_it() {
    let app = spawn_app().await;
    let id = app.signed_up("ada@example.com").await;
    app.set_key(KEY).await;

    let response = app.delete_key().await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["user"]["hasFalKey"], false);

    let stored: Option<String> =
        sqlx::query_scalar("SELECT fal_key_ciphertext FROM users WHERE id = $1")
            .bind(&id)
            .fetch_one(&app.db().await)
            .await
            .unwrap();
    assert!(stored.is_none());
    let (status, error) = error_of(app.credits().await).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(error["message"].as_str().unwrap().contains("Settings"));
}

#[tokio::test]
async fn a_replaced_key_is_the_one_used() {
    let app = spawn_app().await;
    app.signed_up("ada@example.com").await;
    app.set_key("fake-first:key").await;
    app.set_key("fake-second:key").await;
    app.credits().await;
    let last = app.fake.requests().pop().expect("a request");
    assert_eq!(last.authorization.as_deref(), Some("Key fake-second:key"));
}

#[tokio::test]
async fn the_key_is_never_in_plaintext_in_the_data_folder() {
    // About the bytes on disk: the SQLite file and its WAL (the column holds the same ciphertext
    // on Postgres, written by the same code).
    let app = spawn_app_with(Options {
        on_sqlite: true,
        ..Options::default()
    })
    .await;
    app.signed_up("ada@example.com").await;
    app.set_key(KEY).await;
    let credits = app.credits().await;
    assert_eq!(credits.status(), StatusCode::OK);

    let mut scanned = 0;
    for entry in std::fs::read_dir(app.dir.join("data")).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            let bytes = std::fs::read(&path).unwrap();
            assert!(
                !bytes
                    .windows(b"fake-secret".len())
                    .any(|w| w == b"fake-secret"),
                "plaintext key found in {}",
                path.display()
            );
            scanned += 1;
        }
    }
    assert!(scanned >= 2, "the database (and its WAL) were scanned");
}

#[tokio::test]
async fn one_users_key_is_never_used_for_another() {
    let app = spawn_app().await;
    let ada = app.signed_up("ada@example.com").await;
    app.set_key(KEY).await;

    let bob_app_client = crate::helpers::new_client();
    let bob: Value = bob_app_client
        .post(app.at("/api/auth/signup"))
        .json(&serde_json::json!({ "email": "bob@example.com", "password": crate::helpers::PASSWORD }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(bob["user"]["hasFalKey"], false);
    let bob_id = bob["user"]["id"].as_str().unwrap().to_owned();
    let response = bob_app_client
        .get(app.at("/api/account/credits"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        StatusCode::CONFLICT,
        "bob has no key of his own"
    );

    // Even with Ada's ciphertext copied onto Bob's row, it does not decrypt for Bob.
    let db = app.db().await;
    sqlx::query("UPDATE users SET fal_key_ciphertext = (SELECT fal_key_ciphertext FROM users WHERE id = $1) WHERE id = $2")
        .bind(&ada)
        .bind(&bob_id)
        .execute(&db)
        .await
        .unwrap();
    let before = app.fake.requests().len();
    let (status, error) = error_of(
        bob_app_client
            .get(app.at("/api/account/credits"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(error["category"], "invalid_key");
    assert_eq!(
        app.fake.requests().len(),
        before,
        "Ada's key was not sent to fal for Bob"
    );
}

#[tokio::test]
async fn a_changed_app_secret_asks_for_the_key_again() {
    let first = spawn_app().await;
    first.signed_up("ada@example.com").await;
    first.set_key(KEY).await;
    let dir = first.dir.clone();
    let second = spawn_app_with(Options {
        vars: vec![(
            "APP_SECRET",
            "a-completely-different-secret-of-enough-length".into(),
        )],
        dir: Some(dir),
        ..Options::default()
    })
    .await;
    second
        .login("ada@example.com", crate::helpers::PASSWORD)
        .await;
    let (status, error) = error_of(second.credits().await).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(error["category"], "invalid_key");
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("Add the key again")
    );
    drop(first);
}
