//! Cross-site write protection. Browsers attach `Sec-Fetch-Site` and `Origin` to cross-site
//! requests and cannot be made to omit them, so a write whose headers point at another site is
//! refused. Requests with neither header (curl, scripts) pass: they carry no ambient cookies a
//! third party could borrow. This protects every cookie-authenticated write, including login.

use axum::{
    extract::{Request, State},
    http::{HeaderMap, Method, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use url::Url;

use crate::{AppState, error::AppError};

pub async fn refuse_cross_site_writes(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    if is_safe(request.method()) || is_same_site(request.headers(), &state.public_url) {
        return next.run(request).await;
    }
    // Method and path are on the request span (with share tokens redacted).
    tracing::warn!("cross-site write refused");
    AppError::invalid_request(
        "This request came from another website, so it was refused to protect your account. Use the studio's own pages.",
    )
    .with_status(StatusCode::FORBIDDEN)
    .into_response()
}

fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

fn is_same_site(headers: &HeaderMap, public_url: &Url) -> bool {
    if let Some(site) = headers.get("sec-fetch-site") {
        // `none`: typed by the user (address bar, bookmark), never a third party.
        if !matches!(site.to_str(), Ok("same-origin" | "none")) {
            return false;
        }
    }
    match headers.get(header::ORIGIN) {
        None => true,
        Some(origin) => origin
            .to_str()
            .ok()
            .and_then(|o| Url::parse(o).ok())
            .is_some_and(|origin| {
                origin.origin() == public_url.origin() || matches_host(&origin, headers)
            }),
    }
}

/// The studio may be reached under another name than `PUBLIC_URL` (localhost vs 127.0.0.1, a
/// LAN address): an Origin equal to the Host the browser itself sent is the same site.
fn matches_host(origin: &Url, headers: &HeaderMap) -> bool {
    let Some(host) = headers.get(header::HOST).and_then(|h| h.to_str().ok()) else {
        return false;
    };
    let origin_host = match (origin.host_str(), origin.port()) {
        (Some(h), Some(p)) => format!("{h}:{p}"),
        (Some(h), None) => h.to_owned(),
        _ => return false,
    };
    origin_host.eq_ignore_ascii_case(host)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn decides_by_fetch_metadata_and_origin() {
        let public = Url::parse("https://studio.example.com").unwrap();
        type Case<'a> = (&'a str, &'a [(&'a str, &'a str)], bool);
        let cases: &[Case] = &[
            ("no headers (script)", &[], true),
            (
                "same-origin fetch",
                &[("sec-fetch-site", "same-origin")],
                true,
            ),
            ("typed by the user", &[("sec-fetch-site", "none")], true),
            (
                "cross-site fetch",
                &[("sec-fetch-site", "cross-site")],
                false,
            ),
            (
                "same-site sibling",
                &[("sec-fetch-site", "same-site")],
                false,
            ),
            (
                "public origin",
                &[("origin", "https://studio.example.com")],
                true,
            ),
            ("evil origin", &[("origin", "https://evil.example")], false),
            ("null origin", &[("origin", "null")], false),
            (
                "origin equal to host",
                &[
                    ("origin", "http://127.0.0.1:8080"),
                    ("host", "127.0.0.1:8080"),
                ],
                true,
            ),
            (
                "origin differs from host",
                &[
                    ("origin", "http://127.0.0.1:9999"),
                    ("host", "127.0.0.1:8080"),
                ],
                false,
            ),
            (
                "same-origin metadata but foreign origin",
                &[
                    ("sec-fetch-site", "same-origin"),
                    ("origin", "https://evil.example"),
                ],
                false,
            ),
        ];
        for (name, pairs, expected) in cases {
            assert_eq!(
                is_same_site(&headers(pairs), &public),
                *expected,
                "case: {name}"
            );
        }
    }
}
