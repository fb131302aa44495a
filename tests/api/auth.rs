use reqwest::{Client, Response, StatusCode, header};
use serde_json::{Value, json};

use crate::helpers::{
    Options, PASSWORD, TestApp, cookie_value, error_of, judged_and_limited, new_client,
    session_cookie, spawn_app, spawn_app_with,
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
        ["email", "hasFalKey", "id", "mayUseStudioKey", "role"],
        "a safe user has exactly these fields"
    );
    assert_eq!(
        user["role"], "admin",
        "the studio's first account is its admin"
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
    let hash: String = sqlx::query_scalar("SELECT password_hash FROM users WHERE id = $1")
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

/// Sends `n` wrong logins for `email` at once and counts the answers by status.
async fn parallel_wrong_logins(app: &TestApp, email: &str, n: usize) -> (usize, usize) {
    let attempts = (0..n).map(|_| {
        app.client
            .post(app.at("/api/auth/login"))
            .json(&json!({ "email": email, "password": "wrong password" }))
            .send()
    });
    let statuses: Vec<StatusCode> = futures_util::future::join_all(attempts)
        .await
        .into_iter()
        .map(|r| r.expect("request").status())
        .collect();
    judged_and_limited(&statuses)
}

#[tokio::test]
async fn parallel_wrong_logins_are_judged_at_most_up_to_the_limit() {
    let app = spawn_app().await;
    app.signed_up("ada@example.com").await;
    app.logout().await;

    let (judged, limited) = parallel_wrong_logins(&app, "ada@example.com", 64).await;

    assert_eq!(judged, 5, "attempts are counted before argon2 judges them");
    assert_eq!(limited, 59);
    let right = app.login("ada@example.com", PASSWORD).await;
    assert_eq!(right.status(), StatusCode::TOO_MANY_REQUESTS);
}

/// A client behind the trusted proxy at 127.0.0.1, at address `addr`.
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

fn behind_a_proxy() -> Options {
    Options {
        vars: vec![("TRUSTED_PROXIES", "127.0.0.1/32".into())],
        ..Options::default()
    }
}

#[tokio::test]
async fn a_guesser_locks_only_itself_out_of_an_account() {
    let app = spawn_app_with(behind_a_proxy()).await;
    app.signed_up("ada@example.com").await;
    let attacker = "198.51.100.66";
    for _ in 0..5 {
        assert_eq!(
            login_from(&app, attacker, "ada@example.com", "guess1234").await,
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(
        login_from(&app, attacker, "ada@example.com", PASSWORD).await,
        StatusCode::TOO_MANY_REQUESTS,
        "the guesser is stopped, even with the right password"
    );
    assert_eq!(
        login_from(&app, "203.0.113.7", "ada@example.com", PASSWORD).await,
        StatusCode::OK,
        "Ada, from her own address, still gets in"
    );
}

#[tokio::test]
async fn one_address_cannot_lock_everyone_out() {
    let app = spawn_app_with(behind_a_proxy()).await;
    app.signed_up("ada@example.com").await;
    let attacker = "198.51.100.66";
    let guesses = (0..20).map(|i| {
        let (app, email) = (&app, format!("user{i}@example.com"));
        async move { login_from(app, attacker, &email, "guess1234").await }
    });
    let statuses = futures_util::future::join_all(guesses).await;
    assert!(
        statuses.iter().all(|s| *s == StatusCode::UNAUTHORIZED),
        "{statuses:?}"
    );
    assert_eq!(
        login_from(&app, attacker, "ada@example.com", PASSWORD).await,
        StatusCode::TOO_MANY_REQUESTS,
        "the address that guessed across accounts is stopped"
    );
    assert_eq!(
        login_from(&app, "203.0.113.7", "ada@example.com", PASSWORD).await,
        StatusCode::OK,
        "everyone else is not"
    );
}

#[tokio::test]
async fn guessing_from_many_addresses_slows_an_email_for_minutes_not_longer() {
    let app = spawn_app_with(behind_a_proxy()).await;
    app.signed_up("ada@example.com").await;
    let guesses = (0..10).map(|i| {
        let app = &app;
        async move {
            login_from(
                app,
                &format!("198.51.100.{i}"),
                "ada@example.com",
                "guess1234",
            )
            .await
        }
    });
    let statuses = futures_util::future::join_all(guesses).await;
    assert!(
        statuses.iter().all(|s| *s == StatusCode::UNAUTHORIZED),
        "{statuses:?}"
    );

    let slowed = new_client()
        .post(app.at("/api/auth/login"))
        .header("x-forwarded-for", "203.0.113.7")
        .json(&json!({ "email": "ada@example.com", "password": PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(slowed.status(), StatusCode::TOO_MANY_REQUESTS);
    let wait: u64 = slowed.headers()[header::RETRY_AFTER]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        wait <= 5 * 60,
        "an email is slowed for minutes at most: {wait}"
    );
}

#[tokio::test]
async fn forwarding_headers_are_ignored_unless_the_peer_is_a_trusted_proxy() {
    let app = spawn_app().await;
    app.signed_up("ada@example.com").await;
    // A client naming a new address each time still guesses from its own.
    for i in 0..5 {
        assert_eq!(
            login_from(
                &app,
                &format!("198.51.100.{i}"),
                "ada@example.com",
                "guess1234"
            )
            .await,
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(
        login_from(&app, "198.51.100.99", "ada@example.com", PASSWORD).await,
        StatusCode::TOO_MANY_REQUESTS
    );
}

#[tokio::test]
async fn sessions_are_stored_under_a_hash_of_the_cookie() {
    let app = spawn_app().await;
    let signup = app.signup("ada@example.com", PASSWORD).await;
    let cookie = cookie_value(&session_cookie(&signup).expect("cookie"));

    let db = app.db().await;
    let rows: Vec<(String, String)> = sqlx::query_as("SELECT id_hash, data FROM sessions")
        .fetch_all(&db)
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    for (id_hash, data) in &rows {
        assert!(!id_hash.contains(&cookie) && !data.contains(&cookie));
        assert_eq!(id_hash.len(), 64, "a hex SHA-256");
    }
}

#[tokio::test]
async fn a_session_ends_thirty_days_after_sign_in_however_active() {
    let app = spawn_app().await;
    app.signed_up("ada@example.com").await;
    let db = app.db().await;
    // Signed in 29 days ago: still fine.
    sqlx::query("UPDATE sessions SET created_at = created_at - 29 * 86400")
        .execute(&db)
        .await
        .unwrap();
    assert_eq!(app.me().await.status(), StatusCode::OK);
    // The renewal that request made cannot carry it past 30 days from sign-in.
    sqlx::query(
        "UPDATE sessions SET created_at = created_at - 2 * 86400, expires_at = CASE WHEN expires_at < created_at + 28 * 86400 THEN expires_at ELSE created_at + 28 * 86400 END",
    )
    .execute(&db)
    .await
    .unwrap();
    assert_eq!(app.me().await.status(), StatusCode::UNAUTHORIZED);
}

/// A second signed-in client of the same account.
async fn second_device(app: &TestApp, email: &str) -> Client {
    let device = new_client();
    let response = device
        .post(app.at("/api/auth/login"))
        .json(&json!({ "email": email, "password": PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    device
}

async fn me_of(app: &TestApp, client: &Client) -> StatusCode {
    client
        .get(app.at("/api/auth/me"))
        .send()
        .await
        .unwrap()
        .status()
}

async fn change_password(app: &TestApp, current: &str, new: &str) -> Response {
    app.client
        .post(app.at("/api/auth/password"))
        .json(&json!({ "currentPassword": current, "newPassword": new }))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn changing_the_password_ends_every_other_session() {
    let app = spawn_app().await;
    app.signed_up("ada@example.com").await;
    let phone = second_device(&app, "ada@example.com").await;

    let (status, error) =
        error_of(change_password(&app, "not my password", "brand new secret").await).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error["details"][0]["field"], "currentPassword");
    let (status, error) = error_of(change_password(&app, PASSWORD, "short").await).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error["details"][0]["field"], "newPassword");
    assert_eq!(
        me_of(&app, &phone).await,
        StatusCode::OK,
        "nothing changed yet"
    );

    let changed = change_password(&app, PASSWORD, "brand new secret").await;
    assert_eq!(changed.status(), StatusCode::NO_CONTENT);
    assert!(
        session_cookie(&changed).is_some(),
        "this session goes on under a new id"
    );

    assert_eq!(app.me().await.status(), StatusCode::OK);
    assert_eq!(me_of(&app, &phone).await, StatusCode::UNAUTHORIZED);
    app.logout().await;
    assert_eq!(
        app.login("ada@example.com", PASSWORD).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.login("ada@example.com", "brand new secret")
            .await
            .status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn signing_out_everywhere_ends_every_session() {
    let app = spawn_app().await;
    app.signed_up("ada@example.com").await;
    let phone = second_device(&app, "ada@example.com").await;
    let other_user = new_client();
    other_user
        .post(app.at("/api/auth/signup"))
        .json(&json!({ "email": "bob@example.com", "password": PASSWORD }))
        .send()
        .await
        .unwrap();

    let done = app
        .client
        .post(app.at("/api/auth/logout-everywhere"))
        .send()
        .await
        .unwrap();
    assert_eq!(done.status(), StatusCode::NO_CONTENT);

    assert_eq!(app.me().await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(me_of(&app, &phone).await, StatusCode::UNAUTHORIZED);
    assert_eq!(
        me_of(&app, &other_user).await,
        StatusCode::OK,
        "only Ada's sessions end"
    );
}

/// Opens the live event stream on `client` and resolves when the server ends it.
async fn stream_ends(app: &TestApp, client: &Client) -> tokio::task::JoinHandle<()> {
    let response = client.get(app.at("/api/events")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    tokio::spawn(async move {
        let mut body = response.bytes_stream();
        while let Some(chunk) = futures_util::StreamExt::next(&mut body).await {
            if chunk.is_err() {
                return;
            }
        }
    })
}

#[tokio::test]
async fn an_open_event_stream_ends_when_its_session_does() {
    let app = spawn_app().await;
    app.signed_up("ada@example.com").await;
    let phone = second_device(&app, "ada@example.com").await;
    let here = stream_ends(&app, &app.client).await;
    let there = stream_ends(&app, &phone).await;

    app.logout().await;
    tokio::time::timeout(std::time::Duration::from_secs(5), here)
        .await
        .expect("the signed-out session's stream ends")
        .unwrap();
    assert!(!there.is_finished(), "another session's stream goes on");

    let phone_out = phone
        .post(app.at("/api/auth/logout-everywhere"))
        .send()
        .await
        .unwrap();
    assert_eq!(phone_out.status(), StatusCode::NO_CONTENT);
    tokio::time::timeout(std::time::Duration::from_secs(5), there)
        .await
        .expect("signing out everywhere ends it")
        .unwrap();
}
