//! What the studio fetches because fal (or an app running there) said so: output files only from
//! allowed hosts, every body read with a ceiling, stored files served inline only as media, and
//! specs cached per key.

use std::sync::{
    Arc,
    atomic::{AtomicUsize, Ordering},
};

use reqwest::{StatusCode, header};
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, TestApp, new_client, ready};

const T2I: &str = "fal-ai/bytedance/seedream/v4/text-to-image";

/// A TCP listener that only counts the connections it is offered.
async fn counting_listener() -> (u16, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let accepted = Arc::new(AtomicUsize::new(0));
    let counter = accepted.clone();
    tokio::spawn(async move {
        while let Ok((_socket, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
        }
    });
    (port, accepted)
}

async fn failed_with(app: &TestApp, prompt: String) -> Value {
    let id = app.start(T2I, json!({ "prompt": prompt }), vec![]).await;
    let job = app.finished(&id).await;
    assert_eq!(job["status"], "failed", "{prompt}: {job}");
    job
}

#[tokio::test]
async fn an_output_outside_the_allow_list_fails_the_job_and_is_never_connected_to() {
    let app = ready(vec![("JOBS_MAX_PER_USER", "16".into())]).await;
    let (port, accepted) = counting_listener().await;
    let fake_port = app.fake.addr.port();
    // Each names something listening on this machine (the counting listener, or the fake fal
    // under another spelling of its origin).
    let urls = [
        format!("https://[::ffff:127.0.0.1]:{port}/x.png"),
        format!("https://[::ffff:7f00:1]:{port}/x.png"),
        format!("https://[::ffff:0.0.0.0]:{port}/x.png"),
        format!("https://127.0.0.1:{port}/x.png"),
        format!("http://127.0.0.1:{port}/x.png"),
        format!("https://0.0.0.0:{port}/x.png"),
        format!("http://localhost:{fake_port}/cdn/x/0.png"),
        format!("https://127.0.0.1:{fake_port}/cdn/x/0.png"),
    ];
    let mut ids = Vec::new();
    for url in &urls {
        let prompt = format!("fox [fal:output-url={url}]");
        ids.push(app.start(T2I, json!({ "prompt": prompt }), vec![]).await);
    }
    for (url, id) in urls.iter().zip(&ids) {
        let job = app.finished(id).await;
        assert_eq!(job["status"], "failed", "{url}: {job}");
        assert_eq!(job["error"]["category"], "provider_error", "{url}: {job}");
        let message = job["error"]["message"].as_str().unwrap();
        assert!(
            message.contains("does not download") && message.contains("OUTPUT_HOSTS"),
            "{url}: {message}"
        );
    }
    assert_eq!(
        accepted.load(Ordering::SeqCst),
        0,
        "the listener was connected to"
    );
    assert!(
        app.fake.requests_to("/cdn/").is_empty(),
        "the fake's CDN was reached under another spelling"
    );
}

#[tokio::test]
async fn outputs_on_the_configured_fal_origin_are_still_downloaded() {
    let app = ready(vec![]).await;
    let id = app.start(T2I, json!({ "prompt": "fox" }), vec![]).await;
    let job = app.finished(&id).await;
    assert_eq!(job["status"], "completed", "{job}");
    assert_eq!(app.fake.requests_to("/cdn/").len(), 1);
}

#[tokio::test]
async fn a_huge_error_body_is_read_only_as_far_as_its_message() {
    let app = ready(vec![]).await;
    let size: u64 = 256 << 20;
    let job = failed_with(&app, format!("fox [fal:huge-error={size}]")).await;
    let message = job["error"]["message"].as_str().unwrap();
    assert!(message.contains("HTTP 422"), "{message}");
    assert!(message.len() < 400, "{message}");
    // The studio read 64 KiB and hung up: what left the fake is bounded by socket buffers.
    let sent = app.fake.huge_body_bytes_sent();
    assert!(sent < 32 << 20, "{sent} bytes of the error body were sent");
}

#[tokio::test]
async fn a_result_over_eight_mib_fails_the_job_with_a_clear_message() {
    let app = ready(vec![]).await;
    let job = failed_with(&app, format!("fox [fal:huge-result={}]", 9 << 20)).await;
    assert_eq!(job["error"]["category"], "provider_error", "{job}");
    let message = job["error"]["message"].as_str().unwrap();
    assert!(message.contains("more than 8 MiB"), "{message}");
    assert!(app.fake.huge_body_bytes_sent() < 32 << 20);
}

#[tokio::test]
async fn an_inline_output_over_the_output_limit_is_refused() {
    let app = ready(vec![("OUTPUT_MAX_MB", "1".into())]).await;
    let job = failed_with(&app, format!("fox [fal:data-uri] [fal:size={}]", 3 << 20)).await;
    assert_eq!(job["error"]["category"], "too_large", "{job}");
    assert!(
        job["error"]["message"]
            .as_str()
            .unwrap()
            .contains("limit of 1 MiB"),
        "{job}"
    );
}

/// (type fal declared, type served, disposition served)
const SERVED_AS: &[(&str, &str, &str)] = &[
    ("image/png", "image/png", "inline"),
    ("text/html", "application/octet-stream", "attachment"),
    ("application/pdf", "application/octet-stream", "attachment"),
    ("image/svg+xml", "image/svg+xml", "attachment"),
];

#[tokio::test]
async fn stored_files_are_inline_only_as_media_on_the_file_and_share_routes() {
    let app = ready(vec![("JOBS_MAX_PER_USER", "8".into())]).await;
    for (declared, served, disposition) in SERVED_AS {
        let id = app
            .start(
                T2I,
                json!({ "prompt": format!("fox [fal:content-type={declared}]") }),
                vec![],
            )
            .await;
        let job = app.finished(&id).await;
        assert_eq!(job["status"], "completed", "{declared}: {job}");
        let asset_id = job["assets"][0]["id"].as_str().unwrap().to_owned();
        let share: Value = app
            .client
            .post(app.at(&format!("/api/assets/{asset_id}/shares")))
            .json(&json!({}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let token = share["share"]["token"].as_str().unwrap().to_owned();
        for (route, client) in [
            (format!("/files/{asset_id}"), &app.client),
            (format!("/s/{token}/file"), &new_client()),
        ] {
            let response = client.get(app.at(&route)).send().await.unwrap();
            assert_eq!(response.status(), StatusCode::OK, "{declared} {route}");
            let header = |name| {
                response
                    .headers()
                    .get(name)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_owned()
            };
            assert_eq!(header(header::CONTENT_TYPE), *served, "{declared} {route}");
            assert!(
                header(header::CONTENT_DISPOSITION).starts_with(disposition),
                "{declared} {route}: {}",
                header(header::CONTENT_DISPOSITION)
            );
            assert!(
                header(header::CONTENT_SECURITY_POLICY).contains("sandbox"),
                "{declared} {route}"
            );
        }
    }
}

#[tokio::test]
async fn a_spec_or_price_fetched_with_one_key_is_not_served_from_cache_to_another() {
    let app = ready(vec![]).await;
    let spec_path = "/api/models/spec?endpoint=fal-ai/flux-pro/kontext";
    let documents = "/api/openapi/queue/openapi.json";
    assert_eq!(
        app.get_json(spec_path).await["endpointId"],
        "fal-ai/flux-pro/kontext"
    );
    assert_eq!(app.fake.requests_to(documents).len(), 1);
    assert_eq!(
        app.get_json(spec_path).await["endpointId"],
        "fal-ai/flux-pro/kontext"
    );
    assert_eq!(
        app.fake.requests_to(documents).len(),
        1,
        "the same key is served from the cache"
    );

    let bob = new_client();
    let signup = bob
        .post(app.at("/api/auth/signup"))
        .json(&json!({ "email": "bob@example.com", "password": PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(signup.status(), StatusCode::CREATED);
    let bobs_key = "bobs-key-id:bobs-secret";
    let saved = bob
        .put(app.at("/api/account/fal-key"))
        .json(&json!({ "key": bobs_key }))
        .send()
        .await
        .unwrap();
    assert_eq!(saved.status(), StatusCode::OK);
    let spec: Value = app.get_json_as(&bob, spec_path).await;
    assert_eq!(spec["endpointId"], "fal-ai/flux-pro/kontext");
    let fetched = app.fake.requests_to(documents);
    assert_eq!(fetched.len(), 2, "another key asks fal itself");
    assert_eq!(
        fetched[1].authorization.as_deref(),
        Some(format!("Key {bobs_key}").as_str())
    );
    let priced_for_bob = app
        .fake
        .requests_to("/v1/models/pricing")
        .iter()
        .filter(|r| r.authorization.as_deref() == Some(format!("Key {bobs_key}").as_str()))
        .count();
    assert_eq!(
        priced_for_bob, 1,
        "prices are asked for with bob's own key too"
    );
}
