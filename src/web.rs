//! Serving the built frontend: the copy built into the binary ([`embedded`]), or with
//! `STATIC_DIR` the files of that folder (to try a web build without rebuilding the server).
//! Either way hashed assets are cached for a year, `index.html` never, app paths fall back to
//! `index.html`, and every response carries the security headers.

mod embedded;

use std::path::Path;

use axum::{
    Router,
    extract::{OriginalUri, Request},
    http::{HeaderName, HeaderValue, Method, StatusCode, header},
    middleware::{self, Next},
    response::{IntoResponse, Response},
};
use tower_http::{
    services::{ServeDir, ServeFile},
    set_header::SetResponseHeaderLayer,
};

use crate::error::AppError;

/// Every script, style and connection comes from our own origin; images may also come from
/// https (model thumbnails in the catalog), and blob:/data: cover local previews of uploads.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
    style-src 'self'; img-src 'self' data: blob: https:; media-src 'self' blob:; \
    font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; \
    form-action 'self'; frame-ancestors 'none'";

const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// The web app built into the binary, precompressed (see [`embedded`]).
pub fn embedded_files() -> Router {
    tracing::info!(
        files = embedded::FILES.len(),
        "web app: the copy built into the binary (set STATIC_DIR to serve a folder instead)"
    );
    Router::new()
        .fallback(embedded::serve)
        .layer(middleware::from_fn(cache_headers))
}

/// The web app from a folder on disk (`STATIC_DIR`).
pub fn static_files(static_dir: &Path) -> Router {
    tracing::info!(dir = %static_dir.display(), "web app: from STATIC_DIR");
    if !static_dir.join("index.html").is_file() {
        tracing::warn!(
            dir = %static_dir.display(),
            "no index.html in the static directory: the web app will not load; build it with `npm --prefix web run build` or set STATIC_DIR"
        );
    }
    let spa = ServeDir::new(static_dir).fallback(ServeFile::new(static_dir.join("index.html")));
    // A hashed asset that does not exist (an old tab after a deploy) must be a 404, not the
    // app's HTML under a JavaScript URL.
    Router::new()
        .nest_service("/assets", ServeDir::new(static_dir.join("assets")))
        .fallback_service(spa)
        .layer(middleware::from_fn(cache_headers))
}

/// `/api/…` paths that reach the static router (the bare `/api/`, for one) get the API's JSON
/// 404, never the app's HTML.
fn is_api_path(path: &str) -> bool {
    path == "/api" || path.starts_with("/api/")
}

/// Hashed files under `/assets/` never change; everything else (index.html, the SPA fallback)
/// must be fetched fresh so a deploy is seen at once.
async fn cache_headers(request: Request, next: Next) -> Response {
    if is_api_path(request.uri().path()) {
        let method = request.method().clone();
        return api_not_found(method, OriginalUri(request.uri().clone())).await;
    }
    let immutable = request.uri().path().starts_with("/assets/");
    let mut response = next.run(request).await;
    // A 304 revalidates the same immutable file, so it keeps the year too.
    let reusable = response.status().is_success() || response.status() == StatusCode::NOT_MODIFIED;
    let value = if immutable && reusable {
        IMMUTABLE
    } else {
        "no-store"
    };
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static(value));
    response
}

/// JSON 404 for `/api` paths no route matches: the SPA must not answer API clients with HTML.
pub async fn api_not_found(method: Method, OriginalUri(uri): OriginalUri) -> Response {
    AppError::not_found(format!(
        "There is no API route {method} {}. Check the path and method.",
        uri.path()
    ))
    .into_response()
}

pub fn security_headers(router: Router, hsts: bool) -> Router {
    let set = |name: HeaderName, value: &'static str| {
        SetResponseHeaderLayer::if_not_present(name, HeaderValue::from_static(value))
    };
    let router = router
        .layer(set(
            header::CONTENT_SECURITY_POLICY,
            CONTENT_SECURITY_POLICY,
        ))
        .layer(set(header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .layer(set(header::X_FRAME_OPTIONS, "DENY"))
        .layer(set(
            header::REFERRER_POLICY,
            "strict-origin-when-cross-origin",
        ))
        .layer(set(
            HeaderName::from_static("cross-origin-opener-policy"),
            "same-origin",
        ))
        .layer(set(
            HeaderName::from_static("permissions-policy"),
            "camera=(), microphone=(), geolocation=(), payment=()",
        ));
    if hsts {
        router.layer(set(
            header::STRICT_TRANSPORT_SECURITY,
            "max-age=31536000; includeSubDomains",
        ))
    } else {
        router
    }
}
