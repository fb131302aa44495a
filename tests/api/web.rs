use fake_fal::FakeFal;
use reqwest::{StatusCode, header};
use serde_json::Value;

use crate::{
    binary,
    helpers::{FIXTURE_INDEX, PASSWORD, error_of, new_client, spawn_app},
};

#[tokio::test]
async fn app_paths_fall_back_to_index_html_which_is_never_cached() {
    let app = spawn_app().await;
    for path in [
        "/",
        "/studio",
        "/gallery/some/deep/link",
        "/settings?tab=key",
    ] {
        let response = app.client.get(app.at(path)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        assert_eq!(
            response.headers()[header::CACHE_CONTROL],
            "no-store",
            "{path}"
        );
        assert!(
            response.headers()[header::CONTENT_TYPE]
                .to_str()
                .unwrap()
                .starts_with("text/html"),
            "{path}"
        );
        assert_eq!(response.text().await.unwrap(), FIXTURE_INDEX, "{path}");
    }
}

#[tokio::test]
async fn hashed_assets_are_cached_for_a_year_and_compressed() {
    let app = spawn_app().await;
    let response = app
        .client
        .get(app.at("/assets/app-3f2a1b.js"))
        .header(header::ACCEPT_ENCODING, "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()[header::CACHE_CONTROL],
        "public, max-age=31536000, immutable"
    );
    assert_eq!(response.headers()[header::CONTENT_ENCODING], "gzip");
}

#[tokio::test]
async fn a_missing_asset_is_a_404_not_the_app() {
    let app = spawn_app().await;
    let response = app
        .client
        .get(app.at("/assets/gone-123.js"))
        .send()
        .await
        .unwrap();
    // A stale hashed asset must not be answered with index.html cached for a year.
    assert_ne!(
        response
            .headers()
            .get(header::CACHE_CONTROL)
            .map(|v| v.to_str().unwrap()),
        Some("public, max-age=31536000, immutable")
    );
}

#[tokio::test]
async fn unknown_api_paths_answer_a_json_404() {
    let app = spawn_app().await;
    for (method, path) in [
        ("GET", "/api/nope"),
        ("POST", "/api/auth/nope"),
        ("GET", "/api/"),
    ] {
        let response = app
            .client
            .request(method.parse().unwrap(), app.at(path))
            .send()
            .await
            .unwrap();
        let (status, error) = error_of(response).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{method} {path}");
        assert_eq!(error["category"], "not_found", "{method} {path}");
    }
}

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let app = spawn_app().await;
    for path in ["/", "/api/auth/me", "/assets/app-3f2a1b.js", "/healthz"] {
        let response = app.client.get(app.at(path)).send().await.unwrap();
        let h = response.headers();
        let csp = h[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
        assert!(csp.contains("default-src 'self'"), "{path}: {csp}");
        assert!(csp.contains("script-src 'self'"), "{path}: {csp}");
        assert!(!csp.contains("unsafe-inline"), "{path}: {csp}");
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert_eq!(h[header::X_CONTENT_TYPE_OPTIONS], "nosniff", "{path}");
        assert_eq!(h[header::X_FRAME_OPTIONS], "DENY", "{path}");
        assert!(h.contains_key(header::REFERRER_POLICY), "{path}");
    }
}

#[tokio::test]
async fn api_answers_are_not_cached() {
    let app = spawn_app().await;
    let response = app.signup("ada@example.com", PASSWORD).await;
    assert_eq!(response.headers()[header::CACHE_CONTROL], "no-store");
}

#[tokio::test]
async fn health_is_reported() {
    let app = spawn_app().await;
    let response = app.client.get(app.at("/healthz")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], "ok");
    assert_eq!(body["database"], "ok");
    assert_eq!(body["storage"], "ok");
}

#[tokio::test]
async fn cross_site_writes_are_refused() {
    let app = spawn_app().await;
    app.signed_up("ada@example.com").await;
    let cases: [(&str, &str, &str, &str); 4] = [
        (
            "origin",
            "https://evil.example",
            "PUT",
            "/api/account/fal-key",
        ),
        (
            "sec-fetch-site",
            "cross-site",
            "PUT",
            "/api/account/fal-key",
        ),
        ("sec-fetch-site", "same-site", "POST", "/api/auth/logout"),
        ("origin", "null", "POST", "/api/auth/login"),
    ];
    for (name, value, method, path) in cases {
        let response = app
            .client
            .request(method.parse().unwrap(), app.at(path))
            .header(name, value)
            .json(&serde_json::json!({ "key": "fake-key:abc" }))
            .send()
            .await
            .unwrap();
        let (status, error) = error_of(response).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{name}: {value} on {path}");
        assert_eq!(error["category"], "invalid_request", "{name}: {value}");
    }
    let me: Value = app.me().await.json().await.unwrap();
    assert_eq!(
        me["user"]["hasFalKey"], false,
        "no refused write took effect"
    );
    assert!(app.fake.requests().is_empty());
}

#[tokio::test]
async fn same_origin_browser_writes_pass() {
    let app = spawn_app().await;
    app.signed_up("ada@example.com").await;
    let response = app
        .client
        .put(app.at("/api/account/fal-key"))
        .header("origin", app.url.clone())
        .header("sec-fetch-site", "same-origin")
        .json(&serde_json::json!({ "key": "fake-key:abc" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}

/// Issue 13: the binary carries the web app, so started from any folder (here an empty one,
/// with no STATIC_DIR) it serves the app, its client-side routes and its hashed assets, these
/// precompressed in whichever encoding the client accepts.
#[tokio::test]
async fn the_binary_serves_its_built_in_app_from_an_empty_folder() {
    let fake = FakeFal::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut command = binary::command(dir.path(), &fake);
    command.env_remove("STATIC_DIR");
    assert!(
        !dir.path().join("static").exists(),
        "no static/ to serve from"
    );
    let server = binary::spawn(command);
    let client = new_client();
    let at = |path: &str| format!("{}{path}", server.url);

    // What the binary was built from: the committed build of web/.
    let built = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("static");
    let index = std::fs::read_to_string(built.join("index.html")).unwrap();
    for path in ["/", "/gallery", "/settings?tab=key"] {
        let response = client.get(at(path)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        assert_eq!(
            response.headers()[header::CACHE_CONTROL],
            "no-store",
            "{path}"
        );
        let content_type = response.headers()[header::CONTENT_TYPE].to_str().unwrap();
        assert!(
            content_type.starts_with("text/html"),
            "{path}: {content_type}"
        );
        assert_eq!(response.text().await.unwrap(), index, "{path}");
    }

    // The app's entry script, named by its hash in index.html.
    let script = index
        .split("src=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .find(|src| src.starts_with("/assets/") && src.ends_with(".js"))
        .expect("index.html loads a hashed script");
    let plain = std::fs::read(built.join(script.trim_start_matches('/'))).unwrap();
    let mut etags = Vec::new();
    for (accept, encoding) in [
        ("gzip, deflate, br", Some("br")),
        ("gzip", Some("gzip")),
        ("br;q=0.5, gzip", Some("gzip")),
        ("identity", None),
    ] {
        let response = client
            .get(at(script))
            .header(header::ACCEPT_ENCODING, accept)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{accept}");
        let headers = response.headers().clone();
        assert_eq!(
            headers[header::CACHE_CONTROL],
            "public, max-age=31536000, immutable",
            "{accept}"
        );
        assert_eq!(headers[header::VARY], "accept-encoding", "{accept}");
        assert!(
            headers[header::CONTENT_TYPE]
                .to_str()
                .unwrap()
                .starts_with("text/javascript"),
            "{accept}"
        );
        assert_eq!(
            headers
                .get(header::CONTENT_ENCODING)
                .map(|v| v.to_str().unwrap()),
            encoding,
            "{accept}"
        );
        let body = response.bytes().await.unwrap();
        match encoding {
            None => assert_eq!(body, plain, "identity is the file itself"),
            // build.rs checked that each copy decompresses to the file; here, that it is the
            // compressed copy that is sent, and that it pays.
            Some(coding) => {
                assert!(
                    body.len() < plain.len() / 2,
                    "{coding}: {} bytes",
                    body.len()
                );
                if coding == "gzip" {
                    assert_eq!(&body[..2], &[0x1f, 0x8b], "gzip magic");
                }
            }
        }
        etags.push(headers[header::ETAG].to_str().unwrap().to_owned());
    }
    // br, gzip twice, identity: three representations.
    etags.dedup();
    assert_eq!(etags.len(), 3, "one ETag per representation: {etags:?}");

    // Revalidation: the tag of the copy the client holds is answered 304, still immutable.
    let response = client
        .get(at(script))
        .header(header::ACCEPT_ENCODING, "br")
        .header(header::IF_NONE_MATCH, &etags[0])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(
        response.headers()[header::CACHE_CONTROL],
        "public, max-age=31536000, immutable"
    );
    assert_eq!(response.headers()[header::ETAG], etags[0].as_str());
    // Another copy's tag does not match: the client gets the body it asked for.
    let response = client
        .get(at(script))
        .header(header::ACCEPT_ENCODING, "gzip")
        .header(header::IF_NONE_MATCH, &etags[0])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);

    // A hashed asset that is not there is a 404, never the app; /api/ stays JSON.
    let response = client.get(at("/assets/gone-123.js")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_eq!(response.headers()[header::CACHE_CONTROL], "no-store");
    let (status, error) = error_of(client.get(at("/api/nope")).send().await.unwrap()).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(error["category"], "not_found");
    assert!(
        server.log().contains("web app"),
        "the start-up log says where the app is served from:\n{}",
        server.log()
    );
}
