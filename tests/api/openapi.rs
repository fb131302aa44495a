//! The OpenAPI document at /api/openapi.json: it is served to anyone, it describes every route
//! of the HTTP contract in DESIGN.md, and every route it describes is real. (Whether real
//! responses match it is schemathesis's job, in scripts/api-fuzz.)

use std::collections::HashSet;

use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::helpers::{new_client, spawn_app};

/// The contract table of DESIGN.md ("HTTP contract"), typed in by hand.
const CONTRACT: &[(&str, &str)] = &[
    ("post", "/api/auth/signup"),
    ("post", "/api/auth/login"),
    ("post", "/api/auth/logout"),
    ("get", "/api/auth/me"),
    ("put", "/api/account/fal-key"),
    ("delete", "/api/account/fal-key"),
    ("get", "/api/account/credits"),
    ("get", "/api/models"),
    ("get", "/api/models/spec"),
    ("post", "/api/generations"),
    ("get", "/api/jobs"),
    ("get", "/api/jobs/{id}"),
    ("post", "/api/jobs/{id}/cancel"),
    ("get", "/api/events"),
    ("get", "/api/assets"),
    ("get", "/api/assets/{id}"),
    ("delete", "/api/assets/{id}"),
    ("get", "/files/{id}"),
    ("post", "/api/assets/{id}/shares"),
    ("delete", "/api/shares/{token}"),
    ("get", "/healthz"),
];

/// DESIGN.md's "Public shapes": the error categories clients switch on.
const CATEGORIES: &[&str] = &[
    "invalid_key",
    "policy",
    "invalid_request",
    "rate_limited",
    "provider_error",
    "network",
    "not_found",
    "unauthorized",
    "conflict",
    "too_large",
    "budget_exceeded",
    "internal",
];

const METHODS: &[&str] = &["get", "put", "post", "delete", "patch"];

pub(crate) async fn document(app: &crate::helpers::TestApp) -> Value {
    // A client that never signed in: tools fetch the document before they have a session.
    let response = new_client()
        .get(app.at("/api/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let content_type = response.headers()["content-type"].to_str().unwrap();
    assert!(
        content_type.starts_with("application/json"),
        "{content_type}"
    );
    response.json().await.unwrap()
}

pub(crate) fn operations(doc: &Value) -> Vec<(String, String, Value)> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in METHODS {
            if let Some(op) = item.get(*method) {
                out.push((method.to_string(), path.clone(), op.clone()));
            }
        }
    }
    out
}

#[tokio::test]
async fn the_document_describes_every_route_of_the_contract() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3.1"),
        "{}",
        doc["openapi"]
    );
    for (method, path) in CONTRACT {
        assert!(
            doc["paths"][path][method].is_object(),
            "{method} {path} is not in the document"
        );
    }
    let scheme = doc["components"]["securitySchemes"]
        .as_object()
        .and_then(|s| s.values().next())
        .expect("a security scheme");
    assert_eq!(scheme["type"], "apiKey");
    assert_eq!(scheme["in"], "cookie");
    // Signing up and in must not demand the session they create.
    for path in [
        "/api/auth/signup",
        "/api/auth/signup-policy",
        "/api/auth/login",
        "/healthz",
    ] {
        let security = &doc["paths"][path]
            .as_object()
            .unwrap()
            .values()
            .next()
            .unwrap()["security"];
        assert!(
            security.as_array().is_some_and(|s| s
                .iter()
                .any(|r| r.as_object().is_some_and(|o| o.is_empty()))),
            "{path} must be callable without a session: {security}"
        );
    }
}

#[tokio::test]
async fn operations_have_unique_ids_and_one_error_shape() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    let mut ids = HashSet::new();
    let ops = operations(&doc);
    assert!(ops.len() >= CONTRACT.len());
    for (method, path, op) in &ops {
        let id = op["operationId"].as_str().expect("operationId");
        assert!(ids.insert(id.to_owned()), "operationId {id} is used twice");
        let responses = op["responses"].as_object().unwrap();
        for (status, response) in responses {
            assert!(
                response["description"]
                    .as_str()
                    .is_some_and(|d| !d.is_empty()),
                "{method} {path} {status} has no description"
            );
        }
        if path == "/api/openapi.json" {
            continue;
        }
        let client_error = &responses
            .get("4XX")
            .unwrap_or_else(|| panic!("{method} {path} has no 4XX"))["content"]["application/json"]
            ["schema"]["$ref"];
        assert_eq!(client_error, "#/components/schemas/ErrorEnvelope");
    }
    let envelope = &doc["components"]["schemas"]["ErrorEnvelope"];
    assert_eq!(envelope["required"], serde_json::json!(["error"]));
    let categories: HashSet<&str> = doc["components"]["schemas"]["Category"]["enum"]
        .as_array()
        .expect("categories are an enum")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(categories, CATEGORIES.iter().copied().collect());
}

/// The web app's API types are generated from a snapshot of this document: the snapshot must be
/// what the server serves. `UPDATE_OPENAPI_SNAPSHOT=1` rewrites it instead of comparing.
#[tokio::test]
async fn the_web_apps_snapshot_is_the_served_document() {
    const SNAPSHOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/web/src/api/openapi.json");
    let app = spawn_app().await;
    let served = document(&app).await;
    if std::env::var_os("UPDATE_OPENAPI_SNAPSHOT").is_some() {
        let text = serde_json::to_string_pretty(&served).unwrap() + "\n";
        std::fs::write(SNAPSHOT, text).unwrap();
        return;
    }
    let snapshot: Option<Value> = std::fs::read_to_string(SNAPSHOT)
        .ok()
        .and_then(|text| serde_json::from_str(&text).ok());
    assert!(
        snapshot.as_ref() == Some(&served),
        "web/src/api/openapi.json is not the document the server serves. Refresh it with \
         `UPDATE_OPENAPI_SNAPSHOT=1 cargo test --test api openapi`, regenerate the web types with \
         `npm --prefix web run api-types`, and commit both."
    );
}

/// Every documented operation reaches a handler: never the API's catch-all 404 or a 405.
#[tokio::test]
async fn every_documented_route_is_served() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    app.signed_up("openapi@example.com").await;
    let mut ops = operations(&doc);
    // Signing out last keeps the session for the others.
    let ends_the_session =
        |path: &str| matches!(path, "/api/auth/logout" | "/api/auth/logout-everywhere");
    ops.sort_by_key(|(_, path, _)| ends_the_session(path));
    for (method, path, _) in ops {
        let url = app.at(&path.replace("{id}", "nope").replace("{token}", "nope"));
        let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
        let response = app
            .client
            .request(method.clone(), &url)
            .send()
            .await
            .unwrap();
        let status = response.status();
        assert_ne!(status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
        if !ends_the_session(&path) {
            assert_ne!(
                status,
                StatusCode::UNAUTHORIZED,
                "{method} {path}: the session was lost"
            );
        }
        if status == StatusCode::NOT_FOUND {
            let body: Value = response.json().await.unwrap();
            let message = body["error"]["message"].as_str().unwrap_or("");
            assert!(
                !message.contains("no API route"),
                "{method} {path} fell through to the catch-all: {message}"
            );
        }
    }
}

/// Requests axum's own extractors refuse (a path that is not UTF-8, a form that is not
/// multipart, a body over the limit) get the same JSON error shape as every other error.
#[tokio::test]
async fn refusals_by_the_framework_are_json_errors_too() {
    let app = spawn_app().await;
    app.signed_up("rejections@example.com").await;
    let big = vec![b' '; 65 * 1024];
    let cases = [
        app.client.get(app.at("/api/jobs/%FF")),
        app.client.get(app.at("/files/%FF%FE")),
        app.client.post(app.at("/api/generations")),
        app.client
            .post(app.at("/api/generations"))
            .header("content-type", "application/json")
            .body("{}"),
        app.client
            .post(app.at("/api/jobs/clear-finished"))
            .header("content-type", "application/json")
            .body(big),
    ];
    for request in cases {
        let response = request.send().await.unwrap();
        let status = response.status();
        let url = response.url().to_string();
        assert!(status.is_client_error(), "{url}: {status}");
        let content_type = response.headers()["content-type"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(
            content_type.starts_with("application/json"),
            "{url}: {status} {content_type}"
        );
        let body: Value = response.json().await.unwrap();
        let category = body["error"]["category"].as_str().unwrap_or_default();
        assert!(CATEGORIES.contains(&category), "{url}: {body}");
        assert!(
            body["error"]["message"]
                .as_str()
                .is_some_and(|m| m.len() > 10),
            "{url}: {body}"
        );
    }
}
