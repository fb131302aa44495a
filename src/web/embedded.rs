//! The web app built into the binary (by build.rs, from `static/`), so the studio serves it from
//! any working directory. Each text file comes precompressed with gzip and brotli; a request
//! gets the smallest copy its `Accept-Encoding` allows, with `Vary: Accept-Encoding`, and an
//! `If-None-Match` naming the copy's ETag is answered 304.

use axum::{
    body::Body,
    extract::Request,
    http::{HeaderMap, HeaderValue, Method, StatusCode, header},
    response::{IntoResponse, Response},
};

/// One stored form of a file: its bytes and the ETag that names exactly those bytes.
pub struct Representation {
    pub body: &'static [u8],
    pub etag: &'static str,
}

/// A file of the built web app.
pub struct File {
    /// The URL path it is served at, e.g. `/assets/index-Y6lk5cGd.js`.
    pub path: &'static str,
    pub content_type: &'static str,
    pub identity: Representation,
    /// Present only for text files that compress to fewer bytes.
    pub gzip: Option<Representation>,
    pub brotli: Option<Representation>,
}

/// Sorted by path (build.rs sorts them), for a binary search.
pub static FILES: &[File] = include!(concat!(env!("OUT_DIR"), "/web_app.rs"));

fn find(path: &str) -> Option<&'static File> {
    FILES
        .binary_search_by(|file| file.path.cmp(path))
        .ok()
        .map(|i| &FILES[i])
}

/// Answers a request the API did not take: a file of the app, `index.html` for the app's own
/// routes (client-side routing), or 404 for a hashed asset that is not there (an old tab after
/// a deploy must not get HTML under a JavaScript URL).
pub async fn serve(request: Request) -> Response {
    if request.method() != Method::GET && request.method() != Method::HEAD {
        return (
            StatusCode::METHOD_NOT_ALLOWED,
            [(header::ALLOW, HeaderValue::from_static("GET, HEAD"))],
        )
            .into_response();
    }
    let path = request.uri().path();
    let file = match find(if path == "/" { "/index.html" } else { path }) {
        Some(file) => file,
        None if path.starts_with("/assets/") => return StatusCode::NOT_FOUND.into_response(),
        None => match find("/index.html") {
            Some(index) => index,
            // build.rs refuses to build without index.html, so this is never reached.
            None => return StatusCode::NOT_FOUND.into_response(),
        },
    };
    respond(file, request.headers())
}

fn respond(file: &'static File, request: &HeaderMap) -> Response {
    let (chosen, encoding) = choose(file, request);
    let mut headers = HeaderMap::new();
    headers.insert(header::ETAG, HeaderValue::from_static(chosen.etag));
    if file.gzip.is_some() || file.brotli.is_some() {
        // Caches must key this response on Accept-Encoding, since another client may get
        // another copy.
        headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    }
    if if_none_match(request, chosen.etag) {
        return (StatusCode::NOT_MODIFIED, headers).into_response();
    }
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(file.content_type),
    );
    if let Some(encoding) = encoding {
        headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static(encoding));
    }
    (headers, Body::from(chosen.body)).into_response()
}

/// The smallest copy the client accepts: brotli, then gzip, then the file itself. Weights
/// (`q=`) are honoured, so `br;q=0` or a higher weight for gzip picks gzip.
fn choose(
    file: &'static File,
    request: &HeaderMap,
) -> (&'static Representation, Option<&'static str>) {
    let accepted = request
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect::<Vec<_>>()
        .join(",");
    let brotli = file
        .brotli
        .as_ref()
        .map(|r| (r, weight(&accepted, "br"), "br"));
    let gzip = file
        .gzip
        .as_ref()
        .map(|r| (r, weight(&accepted, "gzip"), "gzip"));
    // On equal weights the first one wins: brotli, which is the smaller.
    let best = [brotli, gzip]
        .into_iter()
        .flatten()
        .filter(|(_, q, _)| *q > 0.0)
        .fold(
            None::<(&Representation, f32, &str)>,
            |best, candidate| match best {
                Some(b) if b.1 >= candidate.1 => Some(b),
                _ => Some(candidate),
            },
        );
    match best {
        Some((representation, _, name)) => (representation, Some(name)),
        None => (&file.identity, None),
    }
}

/// The weight `Accept-Encoding` gives a coding: its own entry's `q` (1 when absent), else the
/// `*` entry's, else 0 (not acceptable). Unparseable weights count as 0.
fn weight(accept_encoding: &str, coding: &str) -> f32 {
    let mut star = None;
    for entry in accept_encoding.split(',') {
        let mut parts = entry.split(';');
        let name = parts.next().unwrap_or("").trim();
        let q = parts
            .find_map(|p| {
                let (key, value) = p.split_once('=')?;
                (key.trim().eq_ignore_ascii_case("q"))
                    .then(|| value.trim().parse::<f32>().unwrap_or(0.0))
            })
            .unwrap_or(1.0);
        if name.eq_ignore_ascii_case(coding) {
            return q;
        }
        if name == "*" {
            star = Some(q);
        }
    }
    star.unwrap_or(0.0)
}

/// Whether `If-None-Match` names this ETag (or is `*`). Weak comparison, as RFC 9110 asks for
/// this header: a `W/` prefix is ignored.
fn if_none_match(request: &HeaderMap, etag: &str) -> bool {
    request
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|tag| tag.trim())
        .any(|tag| tag == "*" || tag.trim_start_matches("W/") == etag)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_build_embedded_the_app_sorted_by_path() {
        assert!(find("/index.html").is_some(), "index.html is embedded");
        assert!(FILES.windows(2).all(|w| w[0].path < w[1].path));
        let script = FILES
            .iter()
            .find(|f| f.path.starts_with("/assets/") && f.path.ends_with(".js"))
            .expect("a hashed script");
        assert!(script.gzip.is_some() && script.brotli.is_some());
    }

    #[test]
    fn weights_pick_the_coding() {
        assert_eq!(weight("gzip, deflate, br", "br"), 1.0);
        assert_eq!(weight("gzip;q=0.8, br;q=0", "br"), 0.0);
        assert_eq!(weight("gzip;q=0.8, br;q=0", "gzip"), 0.8);
        assert_eq!(weight("*;q=0.5", "gzip"), 0.5);
        assert_eq!(weight("identity", "gzip"), 0.0);
        assert_eq!(weight("", "gzip"), 0.0);
        assert_eq!(weight("GZIP ; Q=0.3", "gzip"), 0.3);
        assert_eq!(weight("gzip;q=nonsense", "gzip"), 0.0);
    }

    fn accepting(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::ACCEPT_ENCODING,
            HeaderValue::from_str(value).unwrap(),
        );
        headers
    }

    #[test]
    fn the_smallest_accepted_copy_is_chosen() {
        let file = FILES
            .iter()
            .find(|f| f.gzip.is_some() && f.brotli.is_some())
            .expect("a compressed file");
        assert_eq!(choose(file, &accepting("gzip, br")).1, Some("br"));
        assert_eq!(choose(file, &accepting("gzip")).1, Some("gzip"));
        assert_eq!(choose(file, &accepting("br;q=0.5, gzip")).1, Some("gzip"));
        assert_eq!(choose(file, &accepting("identity")).1, None);
        assert_eq!(choose(file, &HeaderMap::new()).1, None);
    }

    #[test]
    fn if_none_match_lists_and_weak_tags_match() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::IF_NONE_MATCH,
            HeaderValue::from_static("\"other\", W/\"abc\""),
        );
        assert!(if_none_match(&headers, "\"abc\""));
        assert!(!if_none_match(&headers, "\"abd\""));
        assert!(!if_none_match(&HeaderMap::new(), "\"abc\""));
    }
}
