use reqwest::{StatusCode, header};
use serde_json::{Value, json};

use crate::helpers::{
    Options, PASSWORD, cookie_value, error_of, new_client, session_cookie, spawn_app,
    spawn_app_with,
};

#[tokio::test]
async fn signup_creates_an_account_and_signs_the_user_in() {
    let app = spawn_app().await;

    let response = app.signup("ada@example.com", PASSWORD).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let body: Value = response.json().await.unwrap();
    let user = body["user"].as_object().expect("user object");
    let mut keys: Vec<&str> = user.keys().map(String::as_str).collect();
    keys.sort();
    assert_eq!(
        keys,
        ["email", "hasFalKey", "id"],
        "a safe user has exactly these fields"
    );
    assert_eq!(user["email"], "ada@example.com");
    assert_eq!(user["hasFalKey"], false);

    let me: Value = app.me().await.json().await.unwrap();
    assert_eq!(me["user"], body["user"]);
}

#[tokio::test]
async fn emails_are_trimmed_and_lowercased_and_unique_in_any_case() {
    let app = spawn_app().await;
    let body: Value = app
        .signup("  Ada@Example.COM ", PASSWORD)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["user"]["email"], "ada@example.com");

    let other = new_client();
    let response = other
        .post(app.at("/api/auth/signup"))
        .json(&json!({ "email": "ADA@example.com", "password": PASSWORD }))
        .send()
        .await
        .unwrap();
    let (status, error) = error_of(response).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(error["category"], "conflict");

    let login = other
        .post(app.at("/api/auth/login"))
        .json(&json!({ "email": " ADA@EXAMPLE.com", "password": PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), StatusCode::OK, "login matches any case");
}

#[tokio::test]
async fn signup_refuses_bad_input_with_a_clear_error() {
    let app = spawn_app().await;
    let long_password = "x".repeat(1025);
    let huge = "x".repeat(70 * 1024);
    let cases: Vec<(&str, Option<&str>, String, StatusCode, &str)> = vec![
        (
            "bad email",
            Some("application/json"),
            json!({"email":"ada","password":PASSWORD}).to_string(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_request",
        ),
        (
            "short password",
            Some("application/json"),
            json!({"email":"ada@example.com","password":"1234567"}).to_string(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_request",
        ),
        (
            "long password",
            Some("application/json"),
            json!({"email":"ada@example.com","password":long_password}).to_string(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_request",
        ),
        (
            "missing password",
            Some("application/json"),
            json!({"email":"ada@example.com"}).to_string(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_request",
        ),
        (
            "wrong type",
            Some("application/json"),
            json!({"email":42,"password":PASSWORD}).to_string(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_request",
        ),
        (
            "malformed JSON",
            Some("application/json"),
            "{\"email\": ".into(),
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            "empty body",
            Some("application/json"),
            String::new(),
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            "wrong content type",
            Some("text/plain"),
            json!({"email":"ada@example.com","password":PASSWORD}).to_string(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "invalid_request",
        ),
        (
            "no content type",
            None,
            json!({"email":"ada@example.com","password":PASSWORD}).to_string(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "invalid_request",
        ),
        (
            "oversized body",
            Some("application/json"),
            json!({"email":"ada@example.com","password":huge}).to_string(),
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
        ),
    ];
    for (name, content_type, body, status, category) in cases {
        let mut request = app.client.post(app.at("/api/auth/signup")).body(body);
        if let Some(ct) = content_type {
            request = request.header(header::CONTENT_TYPE, ct);
        }
        let (got_status, error) = error_of(request.send().await.unwrap()).await;
        assert_eq!(got_status, status, "status for case: {name}");
        assert_eq!(error["category"], category, "category for case: {name}");
    }
    let me = app.me().await;
    assert_eq!(
        me.status(),
        StatusCode::UNAUTHORIZED,
        "no case created a session"
    );
}

#[tokio::test]
async fn field_errors_name_the_field() {
    let app = spawn_app().await;
    let (_, error) = error_of(app.signup("not-an-email", PASSWORD).await).await;
    assert_eq!(error["details"][0]["field"], "email");
    let (_, error) = error_of(app.signup("ada@example.com", "short").await).await;
    assert_eq!(error["details"][0]["field"], "password");
}

#[tokio::test]
async fn unknown_email_and_wrong_password_get_the_same_answer() {
    let app = spawn_app().await;
    app.signed_up("ada@example.com").await;
    app.logout().await;

    let wrong_password = app.login("ada@example.com", "not the password").await;
    let wrong_status = wrong_password.status();
    let wrong_body: Value = wrong_password.json().await.unwrap();
    let unknown = app.login("nobody@example.com", "not the password").await;
    let unknown_status = unknown.status();
    let unknown_body: Value = unknown.json().await.unwrap();

    assert_eq!(wrong_status, StatusCode::UNAUTHORIZED);
    assert_eq!(unknown_status, StatusCode::UNAUTHORIZED);
    assert_eq!(wrong_body, unknown_body);
    assert_eq!(wrong_body["error"]["category"], "unauthorized");
}

#[tokio::test]
async fn login_rotates_the_session_id() {
    let app = spawn_app().await;
    let first = session_cookie(&app.signup("ada@example.com", PASSWORD).await)
        .expect("signup sets a session");
    let second = session_cookie(&app.login("ada@example.com", PASSWORD).await)
        .expect("login sets a session");
    assert_ne!(cookie_value(&first), cookie_value(&second));

    let stale = reqwest::Client::new()
        .get(app.at("/api/auth/me"))
        .header(
            header::COOKIE,
            format!("fal_studio_session={}", cookie_value(&first)),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(
        stale.status(),
        StatusCode::UNAUTHORIZED,
        "the old id is dead"
    );

    let fresh = reqwest::Client::new()
        .get(app.at("/api/auth/me"))
        .header(
            header::COOKIE,
            format!("fal_studio_session={}", cookie_value(&second)),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(fresh.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_planted_session_id_is_never_adopted() {
    let app = spawn_app().await;
    app.signed_up("ada@example.com").await;
    let planted = "AAAAAAAAAAAAAAAAAAAAAA";
    let response = reqwest::Client::new()
        .post(app.at("/api/auth/login"))
        .header(header::COOKIE, format!("fal_studio_session={planted}"))
        .json(&json!({ "email": "ada@example.com", "password": PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let issued = cookie_value(&session_cookie(&response).expect("a new session"));
    assert_ne!(issued, planted);

    let attacker = reqwest::Client::new()
        .get(app.at("/api/auth/me"))
        .header(header::COOKIE, format!("fal_studio_session={planted}"))
        .send()
        .await
        .unwrap();
    assert_eq!(attacker.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn logout_ends_the_session() {
    let app = spawn_app().await;
    let cookie = session_cookie(&app.signup("ada@example.com", PASSWORD).await).unwrap();

    assert_eq!(app.logout().await.status(), StatusCode::NO_CONTENT);
    let (status, error) = error_of(app.me().await).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(error["category"], "unauthorized");

    let replayed = reqwest::Client::new()
        .get(app.at("/api/auth/me"))
        .header(
            header::COOKIE,
            format!("fal_studio_session={}", cookie_value(&cookie)),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(
        replayed.status(),
        StatusCode::UNAUTHORIZED,
        "a copied cookie is dead too"
    );
}

#[tokio::test]
async fn the_session_cookie_is_http_only_and_same_site_lax() {
    let app = spawn_app().await;
    let cookie = session_cookie(&app.signup("ada@example.com", PASSWORD).await).unwrap();
    let attributes: Vec<String> = cookie.split(';').map(|a| a.trim().to_lowercase()).collect();
    assert!(attributes.contains(&"httponly".to_string()), "{cookie}");
    assert!(attributes.contains(&"samesite=lax".to_string()), "{cookie}");
    assert!(attributes.contains(&"path=/".to_string()), "{cookie}");
    assert!(
        !attributes.contains(&"secure".to_string()),
        "plain http: {cookie}"
    );
}

#[tokio::test]
async fn the_session_cookie_is_secure_behind_an_https_public_url() {
    let app = spawn_app_with(Options {
        vars: vec![("PUBLIC_URL", "https://studio.example.com".into())],
        ..Options::default()
    })
    .await;
    let cookie = session_cookie(&app.signup("ada@example.com", PASSWORD).await).unwrap();
    assert!(
        cookie
            .split(';')
            .any(|a| a.trim().eq_ignore_ascii_case("secure")),
        "{cookie}"
    );
}

#[tokio::test]
async fn sessions_survive_a_restart() {
    let first = spawn_app().await;
    let cookie = session_cookie(&first.signup("ada@example.com", PASSWORD).await).unwrap();
    let dir = first.dir.clone();
    // Keep the temp dir alive by holding `first`, but stop using its server.
    let second = spawn_app_with(Options {
        dir: Some(dir),
        ..Options::default()
    })
    .await;
    let response = reqwest::Client::new()
        .get(second.at("/api/auth/me"))
        .header(
            header::COOKIE,
            format!("fal_studio_session={}", cookie_value(&cookie)),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["user"]["email"], "ada@example.com");
    drop(first);
}

#[tokio::test]
async fn repeated_failed_logins_for_one_email_are_rate_limited() {
    let app = spawn_app().await;
    app.signed_up("ada@example.com").await;
    app.logout().await;
    for attempt in 1..=5 {
        let response = app.login("ada@example.com", "wrong password").await;
        assert_eq!(
            response.status(),
            StatusCode::UNAUTHORIZED,
            "attempt {attempt}"
        );
    }
    let locked = app.login("ada@example.com", PASSWORD).await;
    let retry_after: u64 = locked
        .headers()
        .get(header::RETRY_AFTER)
        .expect("Retry-After")
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry_after > 0 && retry_after <= 15 * 60, "{retry_after}");
    let (status, error) = error_of(locked).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(error["category"], "rate_limited");
    assert!(error["message"].as_str().unwrap().contains("Wait"));
}

#[tokio::test]
async fn many_failed_logins_from_one_address_are_rate_limited() {
    let app = spawn_app().await;
    for i in 0..20 {
        let response = app
            .login(&format!("guess{i}@example.com"), "wrong password")
            .await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "attempt {i}");
    }
    let (status, error) = error_of(app.login("another@example.com", "whatever1").await).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(error["category"], "rate_limited");
}

#[tokio::test]
async fn passwords_are_stored_as_argon2id_hashes() {
    let app = spawn_app().await;
    let id = app.signed_up("ada@example.com").await;
    let hash: String = sqlx::query_scalar("SELECT password_hash FROM users WHERE id = ?")
        .bind(&id)
        .fetch_one(&app.db().await)
        .await
        .unwrap();
    assert!(hash.starts_with("$argon2id$"), "{hash}");
    assert!(!hash.contains(PASSWORD));
}

#[tokio::test]
async fn protected_routes_need_a_session() {
    let app = spawn_app().await;
    let client = reqwest::Client::new();
    let requests = [
        client.get(app.at("/api/auth/me")),
        client.get(app.at("/api/account/credits")),
        client
            .put(app.at("/api/account/fal-key"))
            .json(&json!({ "key": "fake-key-id:fake-secret" })),
        client.delete(app.at("/api/account/fal-key")),
    ];
    for request in requests {
        let request = request.build().unwrap();
        let label = format!("{} {}", request.method(), request.url().path());
        let (status, error) = error_of(client.execute(request).await.unwrap()).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{label}");
        assert_eq!(error["category"], "unauthorized", "{label}");
    }
    assert!(app.fake.requests().is_empty(), "nothing reached fal");
}

/// Sessions expire after a period of inactivity, so an active user's session must be renewed:
/// it is stored again (a fresh Max-Age) on the first request of each day, and the requests
/// after it that day do not write it at all. Sign-in does not note the day, so the first request
/// after it takes the same path a new day takes.
#[tokio::test]
async fn an_active_session_is_renewed_once_a_day_not_on_every_request() {
    let app = spawn_app().await;
    let signup = app.signup("daily@example.com", PASSWORD).await;
    let signed_in = session_cookie(&signup).expect("signing up sets the cookie");

    let first = app.me().await;
    assert_eq!(first.status(), StatusCode::OK);
    let renewed = session_cookie(&first).expect("the day's first request renews the session");
    assert_eq!(
        cookie_value(&renewed),
        cookie_value(&signed_in),
        "same session id"
    );
    assert!(renewed.contains("Max-Age="), "{renewed}");

    for _ in 0..3 {
        let later = app.me().await;
        assert_eq!(later.status(), StatusCode::OK);
        assert_eq!(
            session_cookie(&later),
            None,
            "later requests the same day leave the session as stored"
        );
    }
}
