//! The public share page, server-rendered: no JavaScript, one small stylesheet, OpenGraph and
//! Twitter tags with absolute URLs. Everything that came from a user is HTML-escaped here.

use std::fmt::Write;

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
    /// `None` unless the owner chose to show them.
    pub model: Option<&'a str>,
    pub prompt: Option<&'a str>,
    pub allow_download: bool,
}

pub fn shared(s: &Shared<'_>) -> Response {
    let page_url = format!("{}/s/{}", s.base, s.token);
    let file_url = format!("{page_url}/file");
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

    let mut meta = Meta::default();
    meta.property("og:site_name", SITE);
    meta.property("og:title", &title);
    meta.property("og:description", &description);
    meta.property("og:url", &page_url);
    meta.name("description", &description);
    match s.kind {
        "image" => {
            meta.property("og:type", "website");
            meta.property("og:image", &file_url);
            if secure {
                meta.property("og:image:secure_url", &file_url);
            }
            meta.property("og:image:type", s.content_type);
            meta.size("og:image", s.width, s.height);
            meta.name("twitter:card", "summary_large_image");
            meta.name("twitter:image", &file_url);
        }
        "video" => {
            meta.property("og:type", "video.other");
            meta.property("og:video", &file_url);
            if secure {
                meta.property("og:video:secure_url", &file_url);
            }
            meta.property("og:video:type", s.content_type);
            meta.size("og:video", s.width, s.height);
            meta.name("twitter:card", "player");
            meta.name("twitter:player", &page_url);
            meta.size("twitter:player", s.width, s.height);
            meta.name("twitter:player:stream", &file_url);
            meta.name("twitter:player:stream:content_type", s.content_type);
        }
        "audio" => {
            meta.property("og:type", "website");
            meta.property("og:audio", &file_url);
            if secure {
                meta.property("og:audio:secure_url", &file_url);
            }
            meta.property("og:audio:type", s.content_type);
            meta.name("twitter:card", "summary");
        }
        _ => {
            meta.property("og:type", "website");
            meta.name("twitter:card", "summary");
        }
    }
    meta.name("twitter:title", &title);
    meta.name("twitter:description", &description);

    let file_path = format!("/s/{}/file", s.token);
    let size = match (s.width, s.height) {
        (Some(w), Some(h)) if w > 0 && h > 0 => format!(" width=\"{w}\" height=\"{h}\""),
        _ => String::new(),
    };
    let alt = escape(prompt.unwrap_or("Shared image"));
    let media = match s.kind {
        "image" => format!("<img src=\"{file_path}\" alt=\"{alt}\"{size}>"),
        "video" => format!(
            "<video src=\"{file_path}\" controls playsinline preload=\"metadata\"{size}>\
             Your browser cannot play this video.</video>"
        ),
        "audio" => format!(
            "<audio src=\"{file_path}\" controls preload=\"metadata\">\
             Your browser cannot play this audio.</audio>"
        ),
        _ => "<p class=\"note\">This file cannot be shown in the browser.</p>".to_owned(),
    };
    let mut details = String::new();
    if let Some(m) = s.model {
        let _ = write!(details, "<p class=\"model\">{}</p>", escape(m));
    }
    if let Some(p) = prompt {
        let _ = write!(details, "<p class=\"prompt\">{}</p>", escape(p));
    }
    if s.allow_download {
        let _ = write!(
            details,
            "<p><a class=\"button\" href=\"{file_path}?download=1\" download>Download</a></p>"
        );
    }
    // A heading for screen readers and outlines; visually the media is the page.
    let body = format!(
        "<main class=\"share\"><h1 class=\"visually-hidden\">{}</h1>\
         <figure class=\"media\">{media}</figure>\
         <section class=\"details\">{details}</section>{}</main>",
        escape(&title),
        footer()
    );
    html(StatusCode::OK, document(&title, &meta.0, &body))
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
    let (token, status) = (l.token, l.status);
    let page_url = format!("{}/s/{token}", l.base);
    let title = "A protected link";
    let mut meta = Meta::default();
    meta.property("og:site_name", SITE);
    meta.property("og:title", title);
    meta.property("og:description", "This link needs a password.");
    meta.property("og:url", &page_url);
    meta.property("og:type", "website");
    meta.name("twitter:card", "summary");
    let error = l
        .error
        .map(|e| format!("<p class=\"error\" role=\"alert\">{}</p>", escape(e)))
        .unwrap_or_default();
    let nonce = escape(l.nonce);
    let body = format!(
        "<main class=\"share locked\"><h1>This link is protected</h1>\
         <p>Enter the password you were given with the link.</p>{error}\
         <form method=\"post\" action=\"/s/{token}\">\
         <input type=\"hidden\" name=\"nonce\" value=\"{nonce}\">\
         <label for=\"password\">Password</label>\
         <input id=\"password\" name=\"password\" type=\"password\" required autofocus \
         autocomplete=\"off\" maxlength=\"256\">\
         <button type=\"submit\">Open</button></form>{}</main>",
        footer()
    );
    html(status, document(title, &meta.0, &body))
}

/// One page for unknown, malformed, expired and revoked links alike: it says nothing about which.
pub fn not_found() -> Response {
    let body = format!(
        "<main class=\"share gone\"><h1>This link does not work</h1>\
         <p>It may have expired, or the person who shared it may have turned it off. \
         Ask them for a new link.</p>{}</main>",
        footer()
    );
    html(StatusCode::NOT_FOUND, document("Link not found", "", &body))
}

/// A password form sent from another website (the cross-site check refused it).
pub fn cross_site(path: &str) -> Response {
    // Only `/s/{token}` reaches here; the link is offered back only when it looks like one.
    let page = path
        .strip_prefix("/s/")
        .filter(|t| super::token::is_well_formed(t))
        .map(|t| {
            format!(
                "<p><a href=\"/s/{t}\">Open the link again</a> and enter the password there.</p>"
            )
        })
        .unwrap_or_default();
    let body = format!(
        "<main class=\"share gone\"><h1>This form came from another website</h1>\
         <p>To protect the link, passwords are only accepted from its own page.</p>{page}{}</main>",
        footer()
    );
    html(
        StatusCode::FORBIDDEN,
        document("A protected link", "", &body),
    )
}

/// The file of a protected link, asked for without the password cookie.
pub fn file_locked(token: &str) -> Response {
    let body = format!(
        "<main class=\"share gone\"><h1>This file needs a password</h1>\
         <p><a href=\"/s/{token}\">Open the link</a> and enter its password first.</p>{}</main>",
        footer()
    );
    html(
        StatusCode::UNAUTHORIZED,
        document("A protected link", "", &body),
    )
}

fn footer() -> String {
    format!("<footer>Shared with {SITE}</footer>")
}

fn document(title: &str, meta: &str, body: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta name=\"robots\" content=\"noindex, nofollow\">\
         <meta name=\"referrer\" content=\"no-referrer\">\
         <title>{} · {SITE}</title>\
         <link rel=\"stylesheet\" href=\"{STYLESHEET_PATH}\">\n{meta}</head>\n<body>{body}</body></html>\n",
        escape(title)
    )
}

fn html(status: StatusCode, document: String) -> Response {
    let mut response = (
        status,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        document,
    )
        .into_response();
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

#[derive(Default)]
struct Meta(String);

impl Meta {
    fn property(&mut self, property: &str, content: &str) {
        let _ = writeln!(
            self.0,
            "<meta property=\"{property}\" content=\"{}\">",
            escape(content)
        );
    }

    fn name(&mut self, name: &str, content: &str) {
        let _ = writeln!(
            self.0,
            "<meta name=\"{name}\" content=\"{}\">",
            escape(content)
        );
    }

    fn size(&mut self, prefix: &str, width: Option<i64>, height: Option<i64>) {
        if let (Some(w), Some(h)) = (width, height)
            && w > 0
            && h > 0
        {
            let _ = writeln!(
                self.0,
                "<meta property=\"{prefix}:width\" content=\"{w}\">\n\
                 <meta property=\"{prefix}:height\" content=\"{h}\">"
            );
        }
    }
}

/// Text and attribute values alike.
pub fn escape(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for c in raw.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
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
    fn escapes_markup_and_quotes() {
        assert_eq!(
            escape(r#"<script>alert("x" & 'y')</script>"#),
            "&lt;script&gt;alert(&quot;x&quot; &amp; &#39;y&#39;)&lt;/script&gt;"
        );
    }

    #[test]
    fn truncates_by_characters_on_one_line() {
        assert_eq!(truncate("a  red\nfox", 70), "a red fox");
        assert_eq!(truncate("éééééé", 4), "ééé…");
    }
}
