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

use crate::{AppState, error::AppError, shares};

/// Set on a share-password form post whose browser hid its origin (`Origin: null`, which the
/// share page's no-referrer policy causes). The handler then accepts it only with the form
/// nonce it served for that link.
#[derive(Debug, Clone, Copy)]
pub struct OriginUnverified;

pub async fn refuse_cross_site_writes(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    if is_safe(request.method()) {
        return next.run(request).await;
    }
    let path = request.uri().path();
    match judge(request.headers(), &state.public_url) {
        Verdict::SameSite => return next.run(request).await,
        Verdict::NullOrigin if shares::is_unlock_path(path) => {
            request.extensions_mut().insert(OriginUnverified);
            return next.run(request).await;
        }
        Verdict::NullOrigin | Verdict::CrossSite => {}
    }
    // Method and path are on the request span (with share tokens redacted).
    tracing::warn!("cross-site write refused");
    if path.starts_with("/s/") {
        // People post share passwords from a page, not a script: answer with a page.
        return shares::cross_site_page(path);
    }
    AppError::invalid_request(
        "This request came from another website, so it was refused to protect your account. Use the studio's own pages.",
    )
    .with_status(StatusCode::FORBIDDEN)
    .into_response()
}

fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    SameSite,
    /// `Origin: null` without a browser's word that the request is same-origin.
    NullOrigin,
    CrossSite,
}

fn judge(headers: &HeaderMap, public_url: &Url) -> Verdict {
    let fetch_site = headers
        .get("sec-fetch-site")
        .map(|v| v.to_str().unwrap_or(""));
    if fetch_site.is_some_and(|site| !matches!(site, "same-origin" | "none")) {
        return Verdict::CrossSite;
    }
    let Some(origin) = headers.get(header::ORIGIN) else {
        return Verdict::SameSite;
    };
    if origin.as_bytes() == b"null" {
        // A page with a no-referrer policy makes the browser hide its own origin; the fetch
        // metadata it still sends says where the request came from, and no other site can
        // make it say `same-origin`.
        return if fetch_site == Some("same-origin") {
            Verdict::SameSite
        } else {
            Verdict::NullOrigin
        };
    }
    let same = origin
        .to_str()
        .ok()
        .and_then(|o| Url::parse(o).ok())
        .is_some_and(|origin| {
            origin.origin() == public_url.origin() || matches_host(&origin, headers)
        });
    if same {
        Verdict::SameSite
    } else {
        Verdict::CrossSite
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
        type Case<'a> = (&'a str, &'a [(&'a str, &'a str)], Verdict);
        const SAME: Verdict = Verdict::SameSite;
        const CROSS: Verdict = Verdict::CrossSite;
        let cases: &[Case] = &[
            ("no headers (script)", &[], SAME),
            (
                "same-origin fetch",
                &[("sec-fetch-site", "same-origin")],
                SAME,
            ),
            ("typed by the user", &[("sec-fetch-site", "none")], SAME),
            (
                "cross-site fetch",
                &[("sec-fetch-site", "cross-site")],
                CROSS,
            ),
            (
                "same-site sibling",
                &[("sec-fetch-site", "same-site")],
                CROSS,
            ),
            (
                "public origin",
                &[("origin", "https://studio.example.com")],
                SAME,
            ),
            ("evil origin", &[("origin", "https://evil.example")], CROSS),
            (
                "null origin alone",
                &[("origin", "null")],
                Verdict::NullOrigin,
            ),
            (
                "null origin from our own no-referrer page",
                &[("origin", "null"), ("sec-fetch-site", "same-origin")],
                SAME,
            ),
            (
                "null origin from another site",
                &[("origin", "null"), ("sec-fetch-site", "cross-site")],
                CROSS,
            ),
            (
                "origin equal to host",
                &[
                    ("origin", "http://127.0.0.1:8080"),
                    ("host", "127.0.0.1:8080"),
                ],
                SAME,
            ),
            (
                "origin differs from host",
                &[
                    ("origin", "http://127.0.0.1:9999"),
                    ("host", "127.0.0.1:8080"),
                ],
                CROSS,
            ),
            (
                "same-origin metadata but foreign origin",
                &[
                    ("sec-fetch-site", "same-origin"),
                    ("origin", "https://evil.example"),
                ],
                CROSS,
            ),
        ];
        for (name, pairs, expected) in cases {
            assert_eq!(judge(&headers(pairs), &public), *expected, "case: {name}");
        }
    }
}
