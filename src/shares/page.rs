//! The public share page, server-rendered: no JavaScript, one small stylesheet, OpenGraph and
//! Twitter tags with absolute URLs. The HTML is in askama templates (`templates/share/`), compiled
//! into the binary; askama HTML-escapes every value they print, so everything that came from a
//! user is escaped without a hand-written escaper.

use askama::Template;
use axum::{
    http::{HeaderName, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};

/// Stricter than the app's policy: nothing but our own stylesheet, media and form target, and no
/// scripts at all (`default-src 'none'`). Set by the handler, so the global layer leaves it be.
pub const PAGE_CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self'; \
    media-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";
pub const STYLESHEET_PATH: &str = "/s/assets/share.css";
pub const STYLESHEET: &str = include_str!("share.css");
const SITE: &str = "fal-studio";

/// What a visitor of an open link sees.
pub struct Shared<'a> {
    /// `PUBLIC_URL` without a trailing slash.
    pub base: &'a str,
    pub token: &'a str,
    pub kind: &'a str,
    pub content_type: &'a str,
    pub width: Option<i64>,
    pub height: Option<i64>,
    /// A poster frame is stored (`/s/{token}/poster`): videos show it before they play, and
    /// link previews use it as the picture.
    pub has_poster: bool,
    /// `None` unless the owner chose to show them.
    pub model: Option<&'a str>,
    pub prompt: Option<&'a str>,
    pub allow_download: bool,
}

pub fn shared(s: &Shared<'_>) -> Response {
    let page_url = format!("{}/s/{}", s.base, s.token);
    let file_url = format!("{page_url}/file");
    let poster_url = format!("{page_url}/poster");
    let secure = s.base.starts_with("https://");
    let (noun, a_noun) = match s.kind {
        "image" => ("image", "An image"),
        "video" => ("video", "A video"),
        "audio" => ("audio clip", "An audio clip"),
        _ => ("file", "A file"),
    };
    let prompt = s.prompt.map(str::trim).filter(|p| !p.is_empty());
    let title = match prompt {
        Some(p) => truncate(p, 70),
        None => format!("A shared {noun}"),
    };
    let description = match (prompt, s.model) {
        (Some(p), Some(m)) => format!("{} (made with {m})", truncate(p, 200)),
        (Some(p), None) => truncate(p, 200),
        (None, Some(m)) => format!("{a_noun} made with {m}, shared from {SITE}."),
        (None, None) => format!("{a_noun} shared from {SITE}."),
    };
    let size = match (s.width, s.height) {
        (Some(width), Some(height)) if width > 0 && height > 0 => Some(Size { width, height }),
        _ => None,
    };

    let mut meta = Meta::default();
    meta.property("og:site_name", SITE);
    meta.property("og:title", &title);
    meta.property("og:description", &description);
    meta.property("og:url", &page_url);
    meta.name("description", &description);
    match s.kind {
        "image" => {
            meta.property("og:type", "website");
            meta.media("og:image", &file_url, s.content_type, secure);
            meta.size("og:image", size);
            meta.name("twitter:card", "summary_large_image");
            meta.name("twitter:image", &file_url);
        }
        "video" => {
            meta.property("og:type", "video.other");
            meta.media("og:video", &file_url, s.content_type, secure);
            meta.size("og:video", size);
            if s.has_poster {
                meta.media("og:image", &poster_url, "image/jpeg", secure);
                meta.name("twitter:image", &poster_url);
            }
            meta.name("twitter:card", "player");
            meta.name("twitter:player", &page_url);
            meta.size("twitter:player", size);
            meta.name("twitter:player:stream", &file_url);
            meta.name("twitter:player:stream:content_type", s.content_type);
        }
        "audio" => {
            meta.property("og:type", "website");
            meta.media("og:audio", &file_url, s.content_type, secure);
            meta.name("twitter:card", "summary");
        }
        _ => {
            meta.property("og:type", "website");
            meta.name("twitter:card", "summary");
        }
    }
    meta.name("twitter:title", &title);
    meta.name("twitter:description", &description);

    render(
        StatusCode::OK,
        &SharedPage {
            title: &title,
            meta: meta.0,
            file_path: &format!("/s/{}/file", s.token),
            poster_path: (s.kind == "video" && s.has_poster)
                .then(|| format!("/s/{}/poster", s.token)),
            kind: s.kind,
            alt: prompt.unwrap_or("Shared image"),
            size,
            model: s.model,
            prompt,
            allow_download: s.allow_download,
            site: SITE,
            stylesheet: STYLESHEET_PATH,
            main_class: "share",
        },
    )
}

/// The password form of a protected link.
pub struct Locked<'a> {
    /// `PUBLIC_URL` without a trailing slash.
    pub base: &'a str,
    pub token: &'a str,
    /// The form nonce (see `gate::Gate::form_nonce`).
    pub nonce: &'a str,
    pub status: StatusCode,
    /// Shown above the form.
    pub error: Option<&'a str>,
}

pub fn locked(l: &Locked<'_>) -> Response {
    let title = "A protected link";
    let mut meta = Meta::default();
    meta.property("og:site_name", SITE);
    meta.property("og:title", title);
    meta.property("og:description", "This link needs a password.");
    meta.property("og:url", &format!("{}/s/{}", l.base, l.token));
    meta.property("og:type", "website");
    meta.name("twitter:card", "summary");
    render(
        l.status,
        &LockedPage {
            title,
            meta: meta.0,
            token: l.token,
            nonce: l.nonce,
            error: l.error,
            site: SITE,
            stylesheet: STYLESHEET_PATH,
            main_class: "share locked",
        },
    )
}

/// One page for unknown, malformed, expired and revoked links alike: it says nothing about which.
pub fn not_found() -> Response {
    notice(
        StatusCode::NOT_FOUND,
        "Link not found",
        "This link does not work",
        Some(
            "It may have expired, or the person who shared it may have turned it off. \
             Ask them for a new link.",
        ),
        None,
    )
}

/// A password form sent from another website (the cross-site check refused it).
pub fn cross_site(path: &str) -> Response {
    // Only `/s/{token}` reaches here; the link is offered back only when it looks like one.
    let link = path
        .strip_prefix("/s/")
        .filter(|t| super::token::is_well_formed(t))
        .map(|t| Link {
            href: format!("/s/{t}"),
            label: "Open the link again",
            rest: "and enter the password there.",
        });
    notice(
        StatusCode::FORBIDDEN,
        "A protected link",
        "This form came from another website",
        Some("To protect the link, passwords are only accepted from its own page."),
        link,
    )
}

/// The file of a protected link, asked for without the password cookie.
pub fn file_locked(token: &str) -> Response {
    notice(
        StatusCode::UNAUTHORIZED,
        "A protected link",
        "This file needs a password",
        None,
        Some(Link {
            href: format!("/s/{token}"),
            label: "Open the link",
            rest: "and enter its password first.",
        }),
    )
}

fn notice(
    status: StatusCode,
    title: &str,
    heading: &str,
    text: Option<&str>,
    link: Option<Link>,
) -> Response {
    render(
        status,
        &NoticePage {
            title,
            meta: Vec::new(),
            heading,
            text,
            link,
            site: SITE,
            stylesheet: STYLESHEET_PATH,
            main_class: "share gone",
        },
    )
}

/// The page as a response with the share pages' own headers. Rendering only fails if a value's
/// `Display` does, which none of ours can; should it ever, the visitor gets a bare 500 rather
/// than half a page.
fn render(status: StatusCode, page: &impl Template) -> Response {
    let mut response = match page.render() {
        Ok(document) => (
            status,
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            document,
        )
            .into_response(),
        Err(e) => {
            tracing::error!(error = %e, "a share page could not be rendered");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    };
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(PAGE_CSP),
    );
    // Links can be revoked or locked: no cache may keep a copy.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    private_headers(headers);
    response
}

/// Share pages and files: not indexed, and the secret URL never leaves in a `Referer`.
pub fn private_headers(headers: &mut axum::http::HeaderMap) {
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(
        HeaderName::from_static("x-robots-tag"),
        HeaderValue::from_static("noindex, nofollow"),
    );
}

// The templates (in `templates/share/`). Every one extends `base.html`, which reads `title`,
// `meta`, `site`, `stylesheet` and `main_class`; askama escapes each value it prints.

#[derive(Template)]
#[template(path = "share/shared.html")]
struct SharedPage<'a> {
    title: &'a str,
    meta: Vec<MetaTag>,
    file_path: &'a str,
    poster_path: Option<String>,
    kind: &'a str,
    alt: &'a str,
    size: Option<Size>,
    model: Option<&'a str>,
    prompt: Option<&'a str>,
    allow_download: bool,
    site: &'a str,
    stylesheet: &'a str,
    main_class: &'a str,
}

#[derive(Template)]
#[template(path = "share/locked.html")]
struct LockedPage<'a> {
    title: &'a str,
    meta: Vec<MetaTag>,
    token: &'a str,
    nonce: &'a str,
    error: Option<&'a str>,
    site: &'a str,
    stylesheet: &'a str,
    main_class: &'a str,
}

#[derive(Template)]
#[template(path = "share/notice.html")]
struct NoticePage<'a> {
    title: &'a str,
    meta: Vec<MetaTag>,
    heading: &'a str,
    text: Option<&'a str>,
    link: Option<Link>,
    site: &'a str,
    stylesheet: &'a str,
    main_class: &'a str,
}

/// `<a href>` followed by the rest of its sentence.
struct Link {
    href: String,
    label: &'static str,
    rest: &'static str,
}

#[derive(Clone, Copy)]
struct Size {
    width: i64,
    height: i64,
}

/// `<meta {attribute}="{key}" content="{content}">`.
struct MetaTag {
    attribute: &'static str,
    key: String,
    content: String,
}

#[derive(Default)]
struct Meta(Vec<MetaTag>);

impl Meta {
    fn push(&mut self, attribute: &'static str, key: &str, content: &str) {
        self.0.push(MetaTag {
            attribute,
            key: key.to_owned(),
            content: content.to_owned(),
        });
    }

    fn property(&mut self, property: &str, content: &str) {
        self.push("property", property, content);
    }

    fn name(&mut self, name: &str, content: &str) {
        self.push("name", name, content);
    }

    /// `og:image`, `og:video` or `og:audio` with its secure URL (on an https studio) and type.
    fn media(&mut self, property: &str, url: &str, content_type: &str, secure: bool) {
        self.property(property, url);
        if secure {
            self.property(&format!("{property}:secure_url"), url);
        }
        self.property(&format!("{property}:type"), content_type);
    }

    fn size(&mut self, prefix: &str, size: Option<Size>) {
        if let Some(Size { width, height }) = size {
            self.property(&format!("{prefix}:width"), &width.to_string());
            self.property(&format!("{prefix}:height"), &height.to_string());
        }
    }
}

fn truncate(text: &str, max_chars: usize) -> String {
    let one_line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() <= max_chars {
        return one_line;
    }
    let cut: String = one_line.chars().take(max_chars - 1).collect();
    format!("{}…", cut.trim_end())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncates_by_characters_on_one_line() {
        assert_eq!(truncate("a  red\nfox", 70), "a red fox");
        assert_eq!(truncate("éééééé", 4), "ééé…");
    }
}
