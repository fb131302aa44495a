use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{Options, TestApp, error_of, spawn_app, spawn_app_with};
use fake_fal::Failure;

const KEY: &str = "fake-key-id:fake-secret";

async fn signed_in(app: &TestApp, with_key: bool) {
    app.signed_up("ada@example.com").await;
    if with_key {
        assert_eq!(app.set_key(KEY).await.status(), StatusCode::OK);
    }
}

async fn get_json(app: &TestApp, path: &str) -> (StatusCode, Value) {
    let response = app.client.get(app.at(path)).send().await.unwrap();
    let status = response.status();
    (status, response.json().await.unwrap())
}

fn ids(body: &Value) -> Vec<String> {
    body["models"]
        .as_array()
        .expect("models array")
        .iter()
        .map(|m| m["endpointId"].as_str().unwrap().to_owned())
        .collect()
}

fn fast_retries() -> Options {
    Options {
        vars: vec![("FAL_RETRY_BASE_MS", "1".into())],
        ..Options::default()
    }
}

#[tokio::test]
async fn the_catalog_pages_through_fals_cursor_without_gaps() {
    let app = spawn_app().await;
    signed_in(&app, false).await;

    let mut all = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/models?limit=20&cursor={c}"),
            None => "/api/models?limit=20".into(),
        };
        let (status, body) = get_json(&app, &path).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["stale"], false);
        all.extend(ids(&body));
        pages += 1;
        match body["nextCursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
        assert!(pages < 10, "the cursor must end");
    }
    // 8 endpoints with documents + 40 fillers in the fake catalog.
    assert_eq!(all.len(), 49);
    assert_eq!(pages, 3);
    let mut unique = all.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 49, "no model twice");
    assert_eq!(all[0], "fal-ai/bytedance/seedream/v4/text-to-image");
}

#[tokio::test]
async fn a_model_carries_fals_metadata_and_no_price_without_a_key() {
    let app = spawn_app().await;
    signed_in(&app, false).await;
    let (_, body) = get_json(&app, "/api/models?q=kontext").await;
    assert_eq!(ids(&body), ["fal-ai/flux-pro/kontext"]);
    let m = &body["models"][0];
    assert_eq!(m["displayName"], "FLUX.1 Kontext [pro]");
    assert_eq!(m["category"], "image-to-image");
    assert!(
        m["thumbnailUrl"]
            .as_str()
            .unwrap()
            .starts_with("data:image/svg+xml")
    );
    assert!(m["price"].is_null());
    assert!(
        app.fake
            .requests_to("/v1/models")
            .iter()
            .all(|r| r.authorization.is_none()),
        "no key, no Authorization header"
    );
}

#[tokio::test]
async fn search_and_category_filter_the_catalog() {
    let app = spawn_app().await;
    signed_in(&app, false).await;
    let (_, body) = get_json(&app, "/api/models?category=image-to-video").await;
    let mut got = ids(&body);
    got.sort();
    assert_eq!(
        got,
        [
            "fal-ai/kling-video/v2.1/master/image-to-video",
            "fal-ai/minimax/hailuo-02/standard/image-to-video",
            "fal-ai/veo3.1/first-last-frame-to-video",
        ]
    );
    let (_, body) = get_json(&app, "/api/models?q=EDIT&category=image-to-image").await;
    let mut got = ids(&body);
    got.sort();
    // "edit" is in two ids and in kontext's description.
    assert_eq!(
        got,
        [
            "fal-ai/bytedance/seedream/v4/edit",
            "fal-ai/flux-pro/kontext",
            "fal-ai/nano-banana/edit"
        ]
    );
    let seen = app.fake.requests_to("/v1/models");
    assert!(
        seen.last()
            .unwrap()
            .path_and_query
            .contains("category=image-to-image")
    );
}

#[tokio::test]
async fn with_a_key_prices_come_from_fal_and_unknown_prices_stay_unknown() {
    let app = spawn_app().await;
    signed_in(&app, true).await;
    let (_, body) = get_json(&app, "/api/models?q=kontext").await;
    assert_eq!(
        body["models"][0]["price"],
        json!({"unitPrice": 0.04, "unit": "image", "currency": "USD"})
    );
    let (_, body) = get_json(&app, "/api/models?q=veo3").await;
    let veo3 = body["models"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["endpointId"] == "fal-ai/veo3")
        .expect("veo3 listed");
    assert!(veo3["price"].is_null(), "fal has no price for veo3: {veo3}");
    let pricing = app.fake.requests_to("/v1/models/pricing");
    assert!(!pricing.is_empty());
    assert_eq!(
        pricing[0].authorization.as_deref(),
        Some(&*format!("Key {KEY}"))
    );
}

#[tokio::test]
async fn catalog_answers_are_cached() {
    let app = spawn_app().await;
    signed_in(&app, true).await;
    get_json(&app, "/api/models?q=seedream").await;
    get_json(&app, "/api/models?q=seedream").await;
    assert_eq!(app.fake.requests_to("/v1/models?").len(), 1);
    assert_eq!(
        app.fake.requests_to("/v1/models/pricing").len(),
        1,
        "prices cached too"
    );
    get_json(&app, "/api/models?q=veo").await;
    assert_eq!(
        app.fake.requests_to("/v1/models?").len(),
        2,
        "another query asks again"
    );
}

#[tokio::test]
async fn a_failing_catalog_serves_the_last_page_marked_stale() {
    let mut options = fast_retries();
    options.vars.push(("CATALOG_CACHE_SECS", "0".into()));
    let app = spawn_app_with(options).await;
    signed_in(&app, false).await;
    let (_, fresh) = get_json(&app, "/api/models?q=seedream").await;

    app.fake.fail(Failure {
        status: 503,
        times: None,
        retry_after: None,
    });
    let (status, stale) = get_json(&app, "/api/models?q=seedream").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(stale["stale"], true);
    assert_eq!(ids(&stale), ids(&fresh));

    let response = app
        .client
        .get(app.at("/api/models?q=never-asked"))
        .send()
        .await
        .unwrap();
    let (status, error) = error_of(response).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY);
    assert_eq!(error["category"], "provider_error");
    let message = error["message"].as_str().unwrap();
    assert!(
        message.contains("model list") && message.contains("503"),
        "{message}"
    );
}

#[tokio::test]
async fn transient_fal_errors_are_retried() {
    let app = spawn_app_with(fast_retries()).await;
    signed_in(&app, false).await;
    app.fake.fail(Failure {
        status: 503,
        times: Some(2),
        retry_after: None,
    });
    let (status, body) = get_json(&app, "/api/models?q=veo3").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        app.fake.requests_to("/v1/models").len(),
        3,
        "two failures, then success"
    );

    app.fake.fail(Failure {
        status: 429,
        times: Some(1),
        retry_after: Some(0),
    });
    let (status, _) = get_json(&app, "/api/models?q=kling").await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn retries_stop_after_three_tries() {
    let app = spawn_app_with(fast_retries()).await;
    signed_in(&app, false).await;
    app.fake.fail(Failure {
        status: 502,
        times: None,
        retry_after: None,
    });
    let (status, _) = get_json(&app, "/api/models?q=x").await;
    assert_eq!(status, StatusCode::BAD_GATEWAY);
    assert_eq!(app.fake.requests_to("/v1/models").len(), 3);
}

#[tokio::test]
async fn client_errors_are_not_retried() {
    let app = spawn_app_with(fast_retries()).await;
    signed_in(&app, false).await;
    app.fake.fail(Failure {
        status: 422,
        times: None,
        retry_after: None,
    });
    let (status, body) = get_json(&app, "/api/models?q=x").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"]["category"], "invalid_request");
    assert_eq!(app.fake.requests_to("/v1/models").len(), 1);
}

#[tokio::test]
async fn bad_catalog_queries_are_refused() {
    let app = spawn_app().await;
    signed_in(&app, false).await;
    let long = "x".repeat(201);
    for path in [
        format!("/api/models?q={long}"),
        "/api/models?limit=lots".into(),
    ] {
        let response = app.client.get(app.at(&path)).send().await.unwrap();
        let (status, error) = error_of(response).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{path}");
        assert_eq!(error["category"], "invalid_request", "{path}");
    }
}

#[tokio::test]
async fn a_spec_is_derived_from_fals_openapi_document() {
    let app = spawn_app().await;
    signed_in(&app, true).await;
    get_json(&app, "/api/models?q=kontext").await; // teaches the studio the display name
    let (status, spec) = get_json(&app, "/api/models/spec?endpoint=fal-ai/flux-pro/kontext").await;
    assert_eq!(status, StatusCode::OK, "{spec}");
    assert_eq!(spec["endpointId"], "fal-ai/flux-pro/kontext");
    assert_eq!(spec["displayName"], "FLUX.1 Kontext [pro]");
    assert_eq!(spec["category"], "image-to-image");
    assert_eq!(spec["price"]["unitPrice"], 0.04);
    assert_eq!(spec["outputKind"], "image");
    let prompt = spec["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "prompt")
        .expect("prompt field");
    assert_eq!(prompt["type"], "text");
    assert_eq!(prompt["required"], true);
    assert_eq!(
        spec["buckets"]["generalReferences"],
        json!({"field": "image_url", "multiple": false})
    );
    let (_, video) = get_json(
        &app,
        "/api/models/spec?endpoint=fal-ai/veo3.1/first-last-frame-to-video",
    )
    .await;
    assert_eq!(video["outputKind"], "video");
    assert_eq!(video["buckets"]["firstFrame"]["field"], "first_frame_url");
    assert_eq!(video["buckets"]["lastFrame"]["field"], "last_frame_url");
    let openapi = app.fake.requests_to("/api/openapi/queue/openapi.json");
    assert_eq!(openapi.len(), 2);
    assert!(
        openapi[0]
            .path_and_query
            .contains("endpoint_id=fal-ai%2Fflux-pro%2Fkontext")
    );

    get_json(&app, "/api/models/spec?endpoint=fal-ai/flux-pro/kontext").await;
    assert_eq!(
        app.fake
            .requests_to("/api/openapi/queue/openapi.json")
            .len(),
        2,
        "the spec is cached"
    );
}

#[tokio::test]
async fn a_spec_survives_a_fal_outage_once_cached() {
    let mut options = fast_retries();
    options.vars.push(("CATALOG_CACHE_SECS", "0".into()));
    let app = spawn_app_with(options).await;
    signed_in(&app, false).await;
    let (status, _) = get_json(&app, "/api/models/spec?endpoint=fal-ai/veo3").await;
    assert_eq!(status, StatusCode::OK);
    app.fake.fail(Failure {
        status: 503,
        times: None,
        retry_after: None,
    });
    let (status, spec) = get_json(&app, "/api/models/spec?endpoint=fal-ai/veo3").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(spec["endpointId"], "fal-ai/veo3");

    let response = app
        .client
        .get(app.at("/api/models/spec?endpoint=fal-ai/nano-banana/edit"))
        .send()
        .await
        .unwrap();
    let (status, error) = error_of(response).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY);
    assert_eq!(error["category"], "provider_error");
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("fal-ai/nano-banana/edit")
    );
}

#[tokio::test]
async fn unknown_and_malformed_endpoints_get_clear_errors() {
    let app = spawn_app().await;
    signed_in(&app, false).await;
    let response = app
        .client
        .get(app.at("/api/models/spec?endpoint=fake-ai/filler-01"))
        .send()
        .await
        .unwrap();
    let (status, error) = error_of(response).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(error["category"], "not_found");
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("fake-ai/filler-01")
    );

    for bad in ["", "flux", "fal-ai/../../etc", "https://evil.example/x"] {
        let response = app
            .client
            .get(app.at("/api/models/spec"))
            .query(&[("endpoint", bad)])
            .send()
            .await
            .unwrap();
        let (status, error) = error_of(response).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad:?}");
        assert_eq!(error["details"][0]["field"], "endpoint", "{bad:?}");
    }
    assert!(
        app.fake.requests_to("/api/openapi").len() <= 1,
        "bad ids never reach fal"
    );
}

async fn estimate(app: &TestApp, endpoint: &str, params: Value) -> Value {
    let response = app
        .client
        .post(app.at("/api/models/estimate"))
        .json(&json!({ "endpoint": endpoint, "params": params }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

#[tokio::test]
async fn estimates_use_fals_estimate_api_or_say_why_not() {
    let app = spawn_app().await;
    signed_in(&app, false).await;
    let body = estimate(&app, "fal-ai/flux-pro/kontext", json!({"num_images": 2})).await;
    assert!(body["estimate"].is_null());
    assert!(body["reason"].as_str().unwrap().contains("fal key"));

    app.set_key(KEY).await;
    let body = estimate(&app, "fal-ai/flux-pro/kontext", json!({"num_images": 2})).await;
    assert_eq!(body["estimate"]["totalCost"], 0.08, "{body}");
    assert_eq!(body["estimate"]["currency"], "USD");
    assert_eq!(body["estimate"]["unitQuantity"], 2.0);
    let sent = app.fake.requests_to("/v1/models/pricing/estimate");
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].method, "POST");

    let body = estimate(
        &app,
        "fal-ai/kling-video/v2.1/master/image-to-video",
        json!({"duration": "10"}),
    )
    .await;
    assert_eq!(body["estimate"]["totalCost"], 2.8, "{body}");

    let body = estimate(&app, "fal-ai/veo3", json!({})).await;
    assert!(body["estimate"].is_null());
    assert!(
        body["reason"].as_str().unwrap().contains("no price"),
        "{body}"
    );
}

#[tokio::test]
async fn favourites_and_recents_are_kept_per_user() {
    let app = spawn_app().await;
    signed_in(&app, false).await;
    get_json(&app, "/api/models?q=kontext").await;

    let response = app
        .client
        .put(app.at("/api/models/favorites"))
        .json(&json!({ "endpointId": "fal-ai/flux-pro/kontext" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(ids(&body), ["fal-ai/flux-pro/kontext"]);
    assert_eq!(body["models"][0]["displayName"], "FLUX.1 Kontext [pro]");

    // A model the studio never saw in the catalog still lists, under its id.
    app.client
        .put(app.at("/api/models/favorites"))
        .json(&json!({ "endpointId": "someone/gone-model" }))
        .send()
        .await
        .unwrap();
    let (_, body) = get_json(&app, "/api/models/favorites").await;
    let gone = body["models"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["endpointId"] == "someone/gone-model")
        .unwrap();
    assert_eq!(gone["displayName"], "someone/gone-model");

    let response = app
        .client
        .delete(app.at("/api/models/favorites?endpoint=fal-ai/flux-pro/kontext"))
        .send()
        .await
        .unwrap();
    let body: Value = response.json().await.unwrap();
    assert_eq!(ids(&body), ["someone/gone-model"]);

    for id in ["fal-ai/veo3", "fal-ai/flux-pro/kontext", "fal-ai/veo3"] {
        app.client
            .post(app.at("/api/models/recent"))
            .json(&json!({ "endpointId": id }))
            .send()
            .await
            .unwrap();
        // used_at has millisecond precision: keep the order unambiguous.
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    let (_, body) = get_json(&app, "/api/models/recent").await;
    assert_eq!(ids(&body), ["fal-ai/veo3", "fal-ai/flux-pro/kontext"]);

    let bob = app.second_user().await;
    for path in ["/api/models/favorites", "/api/models/recent"] {
        let body: Value = app.get_json_as(&bob, path).await;
        assert_eq!(body["models"], json!([]), "{path} is Ada's alone");
    }
}

#[tokio::test]
async fn recents_keep_the_last_twelve() {
    let app = spawn_app().await;
    signed_in(&app, false).await;
    for n in 0..15 {
        app.client
            .post(app.at("/api/models/recent"))
            .json(&json!({ "endpointId": format!("fake-ai/filler-{n:02}") }))
            .send()
            .await
            .unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(3)).await;
    }
    let (_, body) = get_json(&app, "/api/models/recent").await;
    let got = ids(&body);
    assert_eq!(got.len(), 12);
    assert_eq!(got[0], "fake-ai/filler-14");
    assert_eq!(got[11], "fake-ai/filler-03");
}

#[tokio::test]
async fn model_routes_need_a_session() {
    let app = spawn_app().await;
    let client = reqwest::Client::new();
    for path in [
        "/api/models",
        "/api/models/spec?endpoint=fal-ai/veo3",
        "/api/models/favorites",
        "/api/models/recent",
    ] {
        let (status, error) = error_of(client.get(app.at(path)).send().await.unwrap()).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{path}");
        assert_eq!(error["category"], "unauthorized", "{path}");
    }
}
