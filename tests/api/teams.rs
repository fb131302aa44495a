//! Teams (issue 15): the first account is the admin, admin routes are 404 to members, the
//! studio key is used but never shown, budgets refuse a generation before fal sees it and count
//! queued jobs as reserved, the queue takes turns between users on one key, and the studio's
//! retention preferences reach fal.

use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{KEY, PASSWORD, TestApp, error_of, new_client, spawn_app_with};

const T2I: &str = "fal-ai/bytedance/seedream/v4/text-to-image";
/// Priced by the fake at 0.03 USD per image.
const T2I_PRICE: f64 = 0.03;
/// fal lists no price for it: its cost cannot be estimated.
const UNPRICED: &str = "fal-ai/veo3";
const STUDIO_SECRET: &str = "studio-very-secret-0042";

fn studio_key() -> String {
    format!("studio-kid:{STUDIO_SECRET}")
}

/// An app whose first account (Ada, on the app's client) is the admin, with no key of her own.
async fn studio() -> TestApp {
    studio_with(vec![]).await
}

/// [`studio`] with more settings.
async fn studio_with(mut vars: Vec<(&'static str, String)>) -> TestApp {
    vars.push(("FAL_RETRY_BASE_MS", "1".to_owned()));
    vars.push(("STORAGE_RETRY_BASE_MS", "10".to_owned()));
    let app = spawn_app_with(vars.into()).await;
    app.signed_up("ada@example.com").await;
    app
}

/// A member signed in on a client of their own: (client, id).
async fn member(app: &TestApp, email: &str) -> (Client, String) {
    let client = new_client();
    let response = client
        .post(app.at("/api/auth/signup"))
        .json(&json!({ "email": email, "password": PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["user"]["role"], "member", "{body}");
    (client, body["user"]["id"].as_str().unwrap().to_owned())
}

async fn call(
    app: &TestApp,
    client: &Client,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut request = client.request(method, app.at(path));
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// Ada (admin) changes an account.
async fn patch_user(app: &TestApp, id: &str, change: Value) -> (StatusCode, Value) {
    call(
        app,
        &app.client,
        Method::PATCH,
        &format!("/api/admin/users/{id}"),
        Some(change),
    )
    .await
}

async fn generate_as(
    app: &TestApp,
    client: &Client,
    endpoint: &str,
    prompt: &str,
    runs: u32,
) -> reqwest::Response {
    let form = reqwest::multipart::Form::new()
        .text("endpoint", endpoint.to_owned())
        .text("params", json!({ "prompt": prompt }).to_string())
        .text("count", runs.to_string());
    client
        .post(app.at("/api/generations"))
        .multipart(form)
        .send()
        .await
        .unwrap()
}

/// Starts `runs` jobs and returns their ids (asserting 202).
async fn started(app: &TestApp, client: &Client, prompt: &str, runs: u32) -> Vec<String> {
    let response = generate_as(app, client, T2I, prompt, runs).await;
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    body["jobs"]
        .as_array()
        .map(|jobs| {
            jobs.iter()
                .map(|j| j["id"].as_str().unwrap().to_owned())
                .collect()
        })
        .unwrap_or_else(|| vec![body["job"]["id"].as_str().unwrap().to_owned()])
}

async fn job_as(app: &TestApp, client: &Client, id: &str) -> Value {
    app.get_json_as(client, &format!("/api/jobs/{id}")).await["job"].clone()
}

async fn finished_as(app: &TestApp, client: &Client, id: &str) -> Value {
    for _ in 0..400 {
        let job = job_as(app, client, id).await;
        if matches!(
            job["status"].as_str(),
            Some("completed" | "failed" | "cancelled")
        ) {
            return job;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    panic!("job {id} did not finish");
}

/// Saves the studio key and lets `member_id` use it.
async fn share_studio_key(app: &TestApp, member_id: &str) {
    let (status, body) = call(
        app,
        &app.client,
        Method::PUT,
        "/api/admin/studio-key",
        Some(json!({ "key": studio_key() })),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = patch_user(app, member_id, json!({ "mayUseStudioKey": true })).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["keySource"], "studio");
}

#[tokio::test]
async fn the_first_account_is_the_admin_and_admin_routes_are_404_to_members() {
    let app = studio().await;
    let me: Value = app.me().await.json().await.unwrap();
    assert_eq!(me["user"]["role"], "admin");
    let (bob, bob_id) = member(&app, "bob@example.com").await;

    let routes: Vec<(Method, String, Option<Value>)> = vec![
        (Method::GET, "/api/admin/users".into(), None),
        (
            Method::PATCH,
            format!("/api/admin/users/{bob_id}"),
            Some(json!({ "role": "admin" })),
        ),
        (Method::GET, "/api/admin/studio-key".into(), None),
        (
            Method::PUT,
            "/api/admin/studio-key".into(),
            Some(json!({ "key": KEY })),
        ),
        (Method::DELETE, "/api/admin/studio-key".into(), None),
        (Method::GET, "/api/admin/settings".into(), None),
        (
            Method::PUT,
            "/api/admin/settings".into(),
            Some(json!({ "studioKeyConcurrency": 40 })),
        ),
        (Method::GET, "/api/admin/usage?groupBy=user".into(), None),
    ];
    for (method, path, body) in routes {
        let (status, answer) = call(&app, &bob, method.clone(), &path, body.clone()).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{method} {path}: {answer}");
        assert_eq!(answer["error"]["category"], "not_found");
        // Word for word what an unknown route answers: nothing tells the route exists.
        let bare = path.split('?').next().unwrap();
        assert_eq!(
            answer["error"]["message"],
            format!("There is no API route {method} {bare}. Check the path and method.")
        );
        let (status, _) = call(&app, &new_client(), method, &path, body).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "signed out");
    }
    // Nothing changed: Bob is still a member.
    let me = app.get_json_as(&bob, "/api/auth/me").await;
    assert_eq!(me["user"]["role"], "member");

    let (status, list) = call(&app, &app.client, Method::GET, "/api/admin/users", None).await;
    assert_eq!(status, StatusCode::OK);
    let users = list["users"].as_array().unwrap();
    assert_eq!(users.len(), 2);
    assert_eq!(users[0]["email"], "ada@example.com");
    assert_eq!(users[0]["role"], "admin");
    assert_eq!(users[1]["role"], "member");
    assert_eq!(users[1]["keySource"], "none");
    assert_eq!(users[1]["budgetMonthlyUsd"], Value::Null);
    assert_eq!(users[1]["spentMonthUsd"], 0.0);

    // The last enabled admin cannot be demoted or disabled, even by herself.
    let ada_id = users[0]["id"].as_str().unwrap().to_owned();
    for change in [json!({ "role": "member" }), json!({ "disabled": true })] {
        let (status, body) = patch_user(&app, &ada_id, change).await;
        assert_eq!(status, StatusCode::CONFLICT, "{body}");
    }
    // Made an admin, Bob sees the admin routes.
    let (status, body) = patch_user(&app, &bob_id, json!({ "role": "admin" })).await;
    assert_eq!((status, &body["role"]), (StatusCode::OK, &json!("admin")));
    let (status, _) = call(&app, &bob, Method::GET, "/api/admin/users", None).await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = patch_user(&app, "no-such-id", json!({ "disabled": true })).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    let (status, body) = patch_user(&app, &bob_id, json!({ "budgetMonthlyUsd": -1 })).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
}

#[tokio::test]
async fn a_disabled_account_is_signed_out_at_once_and_cannot_sign_in() {
    let app = studio().await;
    let (bob, bob_id) = member(&app, "bob@example.com").await;
    assert_eq!(
        app.get_json_as(&bob, "/api/auth/me").await["user"]["email"],
        "bob@example.com"
    );
    let (status, body) = patch_user(&app, &bob_id, json!({ "disabled": true })).await;
    assert_eq!((status, &body["disabled"]), (StatusCode::OK, &json!(true)));

    let (status, _) = call(&app, &bob, Method::GET, "/api/auth/me", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "the session ended");
    let login = bob
        .post(app.at("/api/auth/login"))
        .json(&json!({ "email": "bob@example.com", "password": PASSWORD }))
        .send()
        .await
        .unwrap();
    let (status, error) = error_of(login).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(
        error["message"].as_str().unwrap().contains("disabled"),
        "{error}"
    );

    let (status, _) = patch_user(&app, &bob_id, json!({ "disabled": false })).await;
    assert_eq!(status, StatusCode::OK);
    let login = bob
        .post(app.at("/api/auth/login"))
        .json(&json!({ "email": "bob@example.com", "password": PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), StatusCode::OK);
}

#[tokio::test]
async fn disabling_an_account_cancels_its_queued_and_running_jobs() {
    let app = studio_with(vec![("FAL_KEY_CONCURRENCY", "1".into())]).await;
    let (bob, bob_id) = member(&app, "bob@example.com").await;
    let (status, _) = call(
        &app,
        &bob,
        Method::PUT,
        "/api/account/fal-key",
        Some(json!({ "key": KEY })),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    // One at fal (never finishing), two waiting behind it for the key's one slot.
    let ids = started(&app, &bob, "endless [fal:never]", 3).await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let running =
            futures_util::future::join_all(ids.iter().map(|id| job_as(&app, &bob, id))).await;
        if running.iter().any(|j| j["status"] == "running") {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "nothing reached fal");
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }

    let (status, _) = patch_user(&app, &bob_id, json!({ "disabled": true })).await;
    assert_eq!(status, StatusCode::OK);
    let db = app.db().await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let statuses: Vec<String> =
            sqlx::query_scalar("SELECT status FROM jobs WHERE user_id = $1 ORDER BY created_at")
                .bind(&bob_id)
                .fetch_all(&db)
                .await
                .unwrap();
        assert_eq!(statuses.len(), 3);
        if statuses.iter().all(|s| s == "cancelled") {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "a disabled account's jobs kept going: {statuses:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
}

#[tokio::test]
async fn members_run_on_the_studio_key_without_ever_seeing_it() {
    let app = studio().await;
    let (bob, bob_id) = member(&app, "bob@example.com").await;
    let mut seen = String::new();

    // Not allowed yet: Bob has no key.
    let (status, body) = call(&app, &bob, Method::GET, "/api/account/budget", None).await;
    assert_eq!(
        (status, &body["keySource"]),
        (StatusCode::OK, &json!("none"))
    );
    let response = generate_as(&app, &bob, T2I, "a cat", 1).await;
    assert_eq!(response.status(), StatusCode::CONFLICT);

    let (status, body) = call(
        &app,
        &app.client,
        Method::PUT,
        "/api/admin/studio-key",
        Some(json!({ "key": "studio-kid:invalid" })),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "fal refuses it: {body}");
    seen.push_str(&body.to_string());
    share_studio_key(&app, &bob_id).await;
    for client in [&app.client, &bob] {
        let (_, body) = call(&app, client, Method::GET, "/api/admin/studio-key", None).await;
        seen.push_str(&body.to_string());
    }
    let (_, key_state) = call(
        &app,
        &app.client,
        Method::GET,
        "/api/admin/studio-key",
        None,
    )
    .await;
    assert_eq!(key_state, json!({ "present": true, "keyId": "studio-kid" }));

    let (_, budget) = call(&app, &bob, Method::GET, "/api/account/budget", None).await;
    assert_eq!(budget["keySource"], "studio");
    let ids = started(&app, &bob, "a cat on the studio key", 1).await;
    let job = finished_as(&app, &bob, &ids[0]).await;
    assert_eq!(job["status"], "completed", "{job}");
    seen.push_str(&job.to_string());
    let submitted = app.fake.submitted();
    assert_eq!(submitted.len(), 1);
    assert_eq!(
        submitted[0].key.as_deref(),
        Some(studio_key().as_str()),
        "the job ran on the studio key"
    );

    // Every answer Bob or Ada could read: never the secret.
    for path in [
        "/api/auth/me",
        "/api/account/budget",
        "/api/jobs",
        "/api/assets",
        "/api/admin/users",
        "/api/admin/settings",
        "/api/admin/usage?groupBy=user",
    ] {
        for client in [&app.client, &bob] {
            seen.push_str(&app.get_json_as(client, path).await.to_string());
        }
    }
    assert!(
        !seen.contains(STUDIO_SECRET),
        "the studio key leaked: {seen}"
    );

    // Removed, it stops being used: Bob is told, in words, what to do.
    let (status, body) = call(
        &app,
        &app.client,
        Method::DELETE,
        "/api/admin/studio-key",
        None,
    )
    .await;
    assert_eq!(
        (status, body),
        (StatusCode::OK, json!({ "present": false }))
    );
    let (status, error) = error_of(generate_as(&app, &bob, T2I, "again", 1).await).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(
        error["message"].as_str().unwrap().contains("studio key"),
        "{error}"
    );
}

#[tokio::test]
async fn a_generation_over_budget_is_refused_before_fal_and_queued_jobs_count_as_reserved() {
    let app = studio().await;
    let (bob, bob_id) = member(&app, "bob@example.com").await;
    share_studio_key(&app, &bob_id).await;
    let (status, body) = patch_user(&app, &bob_id, json!({ "budgetMonthlyUsd": 0.05 })).await;
    assert_eq!(
        (status, &body["budgetMonthlyUsd"]),
        (StatusCode::OK, &json!(0.05))
    );

    // Two runs at 0.03: 0.06 > 0.05.
    let (status, error) = error_of(generate_as(&app, &bob, T2I, "two cats", 2).await).await;
    assert_eq!(status, StatusCode::PAYMENT_REQUIRED, "{error}");
    assert_eq!(error["category"], "budget_exceeded");
    let details = &error["details"];
    assert!((details["estimateUsd"].as_f64().unwrap() - 2.0 * T2I_PRICE).abs() < 1e-9);
    assert_eq!(details["remainingUsd"], 0.05);
    assert_eq!(details["budget"], "user");
    let resets_at = details["resetsAt"].as_str().unwrap();
    assert!(resets_at.ends_with("-01T00:00:00.000Z"), "{resets_at}");
    let message = error["message"].as_str().unwrap();
    assert!(
        message.contains("$0.06") && message.contains("$0.05"),
        "{message}"
    );
    assert!(app.fake.submitted().is_empty(), "fal saw nothing");
    assert_eq!(app.get_json_as(&bob, "/api/jobs").await["jobs"], json!([]));

    // One run fits; while it waits or runs it holds 0.03, so a second does not.
    let first = started(&app, &bob, "one cat [fal:never]", 1).await;
    let (status, error) = error_of(generate_as(&app, &bob, T2I, "another", 1).await).await;
    assert_eq!(status, StatusCode::PAYMENT_REQUIRED, "{error}");
    assert!((error["details"]["remainingUsd"].as_f64().unwrap() - 0.02).abs() < 1e-9);

    // Cancelled, it releases its reservation.
    let cancel = bob
        .post(app.at(&format!("/api/jobs/{}/cancel", first[0])))
        .send()
        .await
        .unwrap();
    assert_eq!(cancel.status(), StatusCode::OK);
    finished_as(&app, &bob, &first[0]).await;
    // A failure at fal releases it too.
    let failing = started(&app, &bob, "refused [fal:forbidden]", 1).await;
    assert_eq!(
        finished_as(&app, &bob, &failing[0]).await["status"],
        "failed"
    );
    let done = started(&app, &bob, "a cat", 1).await;
    assert_eq!(
        finished_as(&app, &bob, &done[0]).await["status"],
        "completed"
    );

    let (_, budget) = call(&app, &bob, Method::GET, "/api/account/budget", None).await;
    assert_eq!(budget["spentMonthUsd"], T2I_PRICE, "{budget}");
    assert_eq!(budget["reservedUsd"], 0.0);
    assert_eq!(
        budget["warning"], false,
        "0.03 of 0.05 is under 80 %: {budget}"
    );

    // The studio key's own budget applies to everyone on it.
    let (status, body) = patch_user(&app, &bob_id, json!({ "budgetMonthlyUsd": null })).await;
    assert_eq!(
        (status, &body["budgetMonthlyUsd"]),
        (StatusCode::OK, &Value::Null)
    );
    let (status, settings) = call(
        &app,
        &app.client,
        Method::PUT,
        "/api/admin/settings",
        Some(json!({ "studioBudgetMonthlyUsd": 0.035 })),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{settings}");
    assert_eq!(settings["studioBudget"]["spentMonthUsd"], T2I_PRICE);
    assert_eq!(
        settings["studioBudget"]["warning"], true,
        "0.03 of 0.035 is past 80 %"
    );
    let (status, error) = error_of(generate_as(&app, &bob, T2I, "over", 1).await).await;
    assert_eq!(status, StatusCode::PAYMENT_REQUIRED, "{error}");
    assert_eq!(error["details"]["budget"], "studio");
    // None of the refused generations reached fal (the cancelled one may have, before its
    // cancel, and the refused-by-fal one did).
    let refused = ["two cats", "another", "over"];
    let reached: Vec<String> = app
        .fake
        .submitted()
        .iter()
        .filter_map(|r| r.input["prompt"].as_str().map(str::to_owned))
        .collect();
    assert!(
        reached.iter().all(|p| !refused.contains(&p.as_str())),
        "{reached:?}"
    );
    assert!(reached.iter().any(|p| p == "a cat"), "{reached:?}");
}

#[tokio::test]
async fn an_unpriced_generation_is_refused_or_reserved_as_the_admin_chose() {
    let app = studio().await;
    let (bob, bob_id) = member(&app, "bob@example.com").await;
    share_studio_key(&app, &bob_id).await;
    patch_user(&app, &bob_id, json!({ "budgetMonthlyUsd": 5 })).await;

    let (status, error) = error_of(generate_as(&app, &bob, UNPRICED, "a film", 1).await).await;
    assert_eq!(status, StatusCode::PAYMENT_REQUIRED, "{error}");
    assert_eq!(error["details"]["estimateUsd"], Value::Null);

    let (status, body) = call(
        &app,
        &app.client,
        Method::PUT,
        "/api/admin/settings",
        Some(json!({ "unpricedGenerations": "reserve", "unpricedReserveUsd": 3 })),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let response = generate_as(&app, &bob, UNPRICED, "a film [fal:never]", 1).await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let (_, budget) = call(&app, &bob, Method::GET, "/api/account/budget", None).await;
    assert_eq!(
        budget["reservedUsd"], 3.0,
        "the worst case is reserved: {budget}"
    );
    let (status, _) = error_of(generate_as(&app, &bob, UNPRICED, "another film", 1).await).await;
    assert_eq!(status, StatusCode::PAYMENT_REQUIRED, "3 + 3 > 5");
}

#[tokio::test]
async fn jobs_on_one_key_take_turns_between_users_and_stay_within_its_limit() {
    let app = studio().await;
    let (ann, ann_id) = member(&app, "ann@example.com").await;
    let (bob, bob_id) = member(&app, "bob@example.com").await;
    share_studio_key(&app, &ann_id).await;
    share_studio_key(&app, &bob_id).await;

    // Ann queues 20 jobs first; the studio key allows 2 at fal at once (fal's new accounts).
    let mut ann_jobs = Vec::new();
    for batch in 0..4 {
        let prompt = format!("ann {batch} [fal:duration=150]");
        ann_jobs.extend(started(&app, &ann, &prompt, 5).await);
    }
    let bob_job = started(&app, &bob, "bob's only one [fal:duration=150]", 1).await;
    let bob_queued = std::time::Instant::now();
    let waiting = job_as(&app, &bob, &bob_job[0]).await;
    let last_of_ann = job_as(&app, &ann, ann_jobs.last().unwrap()).await;
    for id in ann_jobs.iter().chain(&bob_job) {
        let client = if id == &bob_job[0] { &bob } else { &ann };
        assert_eq!(finished_as(&app, client, id).await["status"], "completed");
    }

    let submitted = app.fake.submitted();
    let bob_sent = submitted
        .iter()
        .find(|r| r.input["prompt"].as_str().unwrap_or("").starts_with("bob"))
        .expect("bob's job reached fal")
        .created;
    // Once Bob's job was queued, at most the slots the scheduler was already filling went to
    // Ann before it: his job starts at the next free slot, however many of hers wait.
    let ann_in_between = submitted
        .iter()
        .filter(|r| r.input["prompt"].as_str().unwrap_or("").starts_with("ann"))
        .filter(|r| r.created > bob_queued && r.created < bob_sent)
        .count();
    assert!(
        ann_in_between <= 2,
        "{ann_in_between} of Ann's jobs reached fal after Bob's was queued and before it"
    );
    let peak = app.fake.peak_in_flight();
    assert!(
        peak.values().all(|&n| n <= 2),
        "the studio key never had more than 2 at fal: {peak:?}"
    );
    // Read while they waited (unless a slot had freed already): the reason, in words. Bob's is
    // "Starting" in the moment between one of Ann's jobs ending and his taking its slot.
    if waiting["status"] == "queued" {
        let reason = waiting["waitReason"].as_str().unwrap_or("");
        assert!(
            [
                "Waiting for a slot on the studio key (1st in line)",
                "Starting"
            ]
            .contains(&reason),
            "{waiting}"
        );
    }
    if last_of_ann["status"] == "queued" {
        let reason = last_of_ann["waitReason"].as_str().unwrap();
        assert!(
            reason.starts_with("Waiting for a slot on the studio key (")
                && reason.ends_with(" in line)"),
            "{reason}"
        );
    }
}

#[tokio::test]
async fn the_studio_retention_preferences_reach_fal() {
    let app = studio().await;
    let (status, body) = call(
        &app,
        &app.client,
        Method::PUT,
        "/api/admin/settings",
        Some(json!({
            "providerRetention": { "storeIo": false, "mediaExpirySeconds": 3600 },
            "studioKeyConcurrency": 3
        })),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["providerRetention"],
        json!({ "storeIo": false, "mediaExpirySeconds": 3600 })
    );
    assert_eq!(body["studioKeyConcurrency"], 3);
    let (status, body) = call(
        &app,
        &app.client,
        Method::PUT,
        "/api/admin/settings",
        Some(json!({ "providerRetention": { "storeIo": true, "mediaExpirySeconds": 5 } })),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");

    assert_eq!(app.set_key(KEY).await.status(), StatusCode::OK);
    // Large enough to go through fal's storage upload, which the lifecycle applies to too.
    let mut reference = fake_fal::png_bytes(32, 32);
    reference.resize(400 * 1024, 0);
    let id = app
        .start(
            "fal-ai/flux-pro/kontext",
            json!({ "prompt": "kept briefly" }),
            vec![("generalReferences", "ref.png", reference)],
        )
        .await;
    assert_eq!(app.finished(&id).await["status"], "completed");
    let lifecycle = (
        "x-fal-object-lifecycle-preference".to_owned(),
        json!({ "expiration_duration_seconds": 3600 }).to_string(),
    );
    let requests = app.fake.requests();
    let submit = requests
        .iter()
        .find(|r| r.method == "POST" && r.path_and_query.starts_with("/fal-ai/flux-pro/kontext"))
        .expect("the submission");
    assert!(
        submit
            .fal_headers
            .contains(&("x-fal-store-io".to_owned(), "0".to_owned())),
        "{:?}",
        submit.fal_headers
    );
    assert!(
        submit.fal_headers.contains(&lifecycle),
        "{:?}",
        submit.fal_headers
    );
    let upload = requests
        .iter()
        .find(|r| r.path_and_query.contains("storage/upload/initiate"))
        .expect("the upload");
    assert!(
        upload.fal_headers.contains(&lifecycle),
        "{:?}",
        upload.fal_headers
    );
}

#[tokio::test]
async fn spend_is_checked_against_what_fal_billed_when_the_key_may_read_it() {
    let app = studio_with(vec![("USAGE_RECONCILE_SECS", "1".to_owned())]).await;
    assert_eq!(app.set_key(KEY).await.status(), StatusCode::OK);
    // fal bills this one at half price; the studio estimated the list price.
    let billed = app
        .start(
            T2I,
            json!({ "prompt": "half price [fal:discount=50]", "num_images": 2 }),
            vec![],
        )
        .await;
    assert_eq!(app.finished(&billed).await["status"], "completed");
    // A member on a key without admin scope: fal will not show it the bill; estimates stay.
    let (bob, _) = member(&app, "bob@example.com").await;
    let saved = bob
        .put(app.at("/api/account/fal-key"))
        .json(&json!({ "key": "bob-noadmin:secret" }))
        .send()
        .await
        .unwrap();
    assert_eq!(saved.status(), StatusCode::OK);
    let unbilled = started(&app, &bob, "estimated only", 1).await;
    assert_eq!(
        finished_as(&app, &bob, &unbilled[0]).await["status"],
        "completed"
    );

    let mut usage = Value::Null;
    for _ in 0..200 {
        usage = app.get_json("/api/admin/usage?groupBy=user").await;
        let rows = usage["rows"].as_array().cloned().unwrap_or_default();
        if rows.iter().any(|r| r["reconciledUsd"].is_number()) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let rows = usage["rows"].as_array().unwrap();
    let ada = rows
        .iter()
        .find(|r| r["label"] == "ada@example.com")
        .expect("ada's row");
    assert!(
        (ada["estimatedUsd"].as_f64().unwrap() - 2.0 * T2I_PRICE).abs() < 1e-9,
        "{usage}"
    );
    assert!(
        (ada["reconciledUsd"].as_f64().unwrap() - T2I_PRICE).abs() < 1e-9,
        "{usage}"
    );
    let bob_row = rows
        .iter()
        .find(|r| r["label"] == "bob@example.com")
        .expect("bob's row");
    assert_eq!(bob_row["reconciledUsd"], Value::Null, "{usage}");
    assert!((bob_row["estimatedUsd"].as_f64().unwrap() - T2I_PRICE).abs() < 1e-9);
    // Ada's month counts what fal charged.
    let budget = app.get_json("/api/account/budget").await;
    assert_eq!(budget["spentMonthUsd"], T2I_PRICE, "{budget}");
}

#[tokio::test]
async fn parallel_generations_never_pass_a_budget_together() {
    let app = studio().await;
    let (bob, bob_id) = member(&app, "bob@example.com").await;
    share_studio_key(&app, &bob_id).await;
    // Room for exactly three runs at 0.03.
    patch_user(&app, &bob_id, json!({ "budgetMonthlyUsd": 0.09 })).await;
    let tries = (0..8).map(|i| {
        let (app, bob) = (&app, bob.clone());
        async move {
            generate_as(app, &bob, T2I, &format!("race {i} [fal:never]"), 1)
                .await
                .status()
        }
    });
    let statuses = futures_util::future::join_all(tries).await;
    let accepted = statuses
        .iter()
        .filter(|s| **s == StatusCode::ACCEPTED)
        .count();
    let refused = statuses
        .iter()
        .filter(|s| **s == StatusCode::PAYMENT_REQUIRED)
        .count();
    assert_eq!((accepted, refused), (3, 5), "{statuses:?}");
    let (_, budget) = call(&app, &bob, Method::GET, "/api/account/budget", None).await;
    assert!(
        (budget["reservedUsd"].as_f64().unwrap() - 0.09).abs() < 1e-9,
        "{budget}"
    );
}

#[tokio::test]
async fn parallel_first_sign_ups_make_exactly_one_admin() {
    let app = spawn_app_with(vec![("SIGNUP_LIMIT_PER_HOUR", "100".to_owned())].into()).await;
    let signups = (0..6).map(|i| {
        let app = &app;
        async move {
            let response = new_client()
                .post(app.at("/api/auth/signup"))
                .json(&json!({ "email": format!("first{i}@example.com"), "password": PASSWORD }))
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), StatusCode::CREATED);
            response.json::<Value>().await.unwrap()["user"]["role"].clone()
        }
    });
    let roles = futures_util::future::join_all(signups).await;
    let admins = roles.iter().filter(|r| *r == "admin").count();
    assert_eq!(admins, 1, "{roles:?}");
}

#[tokio::test]
async fn usage_by_model_and_day_counts_jobs_and_says_which_had_no_price() {
    let app = studio().await;
    assert_eq!(app.set_key(KEY).await.status(), StatusCode::OK);
    let priced = app
        .start(T2I, json!({ "prompt": "priced", "num_images": 2 }), vec![])
        .await;
    let unpriced = app
        .start(UNPRICED, json!({ "prompt": "no price" }), vec![])
        .await;
    for id in [&priced, &unpriced] {
        assert_eq!(app.finished(id).await["status"], "completed");
    }

    let usage = app.get_json("/api/admin/usage?groupBy=model").await;
    let rows = usage["rows"].as_array().expect("rows");
    let row = |key: &str| {
        rows.iter()
            .find(|r| r["key"] == key)
            .unwrap_or_else(|| panic!("no row for {key}: {usage}"))
    };
    assert_eq!(row(T2I)["jobs"], 1);
    assert_eq!(row(T2I)["unpricedJobs"], 0);
    assert!((row(T2I)["estimatedUsd"].as_f64().unwrap() - 2.0 * T2I_PRICE).abs() < 1e-9);
    // Counted as nothing, and said to be unpriced, so nobody reads it as free.
    assert_eq!(row(UNPRICED)["jobs"], 1);
    assert_eq!(row(UNPRICED)["unpricedJobs"], 1);
    assert_eq!(row(UNPRICED)["estimatedUsd"], 0.0);

    let days = app.get_json("/api/admin/usage?groupBy=day").await;
    let days = days["rows"].as_array().expect("rows");
    assert_eq!(days.len(), 1, "{days:?}");
    assert_eq!(days[0]["jobs"], 2);
    assert_eq!(days[0]["unpricedJobs"], 1);
}
