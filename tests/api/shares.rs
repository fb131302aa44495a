use reqwest::{Client, Response, StatusCode, header};
use serde_json::{Value, json};

use crate::helpers::{
    Options, TestApp, error_of, judged_and_limited, new_client, nonce_of, ready, spawn_app_with,
};

const T2I: &str = "fal-ai/bytedance/seedream/v4/text-to-image";
const VEO3: &str = "fal-ai/veo3";
const PUBLIC: &str = "https://studio.example.com";
const WRONG_PASSWORD: &str = "That password is not right.";

fn behind(public_url: &str) -> Options {
    Options {
        vars: vec![("PUBLIC_URL", public_url.into())],
        ..Options::default()
    }
}

/// Generates with the fake fal and returns the first stored asset.
async fn generated(app: &TestApp, endpoint: &str, prompt: &str) -> Value {
    let id = app
        .start(endpoint, json!({ "prompt": prompt }), vec![])
        .await;
    let job = app.finished(&id).await;
    assert_eq!(job["status"], "completed", "{job}");
    job["assets"][0].clone()
}

async fn image(app: &TestApp, prompt: &str) -> Value {
    generated(app, T2I, prompt).await
}

async fn create_share(app: &TestApp, asset_id: &str, body: Value) -> Response {
    app.client
        .post(app.at(&format!("/api/assets/{asset_id}/shares")))
        .json(&body)
        .send()
        .await
        .expect("request")
}

/// Creates a link (asserting 201) and returns it.
async fn shared(app: &TestApp, asset_id: &str, body: Value) -> Value {
    let response = create_share(app, asset_id, body).await;
    let status = response.status();
    let body: Value = response.json().await.expect("json");
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body["share"].clone()
}

fn token_of(share: &Value) -> String {
    share["token"].as_str().expect("token").to_owned()
}

async fn list(app: &TestApp, path: &str) -> Vec<String> {
    let response = app.client.get(app.at(path)).send().await.expect("request");
    assert_eq!(response.status(), StatusCode::OK, "{path}");
    let body: Value = response.json().await.expect("json");
    body["shares"]
        .as_array()
        .expect("shares")
        .iter()
        .map(token_of)
        .collect()
}

async fn revoke(app: &TestApp, token: &str) -> Response {
    app.client
        .delete(app.at(&format!("/api/shares/{token}")))
        .send()
        .await
        .expect("request")
}

/// A visitor: no account, no session, keeps its own cookies.
async fn visit(app: &TestApp, visitor: &Client, path: &str) -> (StatusCode, String) {
    let response = visitor.get(app.at(path)).send().await.expect("request");
    let status = response.status();
    (status, response.text().await.expect("text"))
}

async fn unlock(app: &TestApp, visitor: &Client, token: &str, password: &str) -> Response {
    visitor
        .post(app.at(&format!("/s/{token}")))
        .form(&[("password", password)])
        .send()
        .await
        .expect("request")
}

async fn expire(app: &TestApp, token: &str) {
    sqlx::query("UPDATE shares SET expires_at = '2000-01-01T00:00:00.000Z' WHERE token = $1")
        .bind(token)
        .execute(&app.db().await)
        .await
        .expect("update");
}

/// The `content` of `<meta property|name="{key}" content="...">`, unescaped.
fn meta(html: &str, key: &str) -> Option<String> {
    html.split("<meta ").skip(1).find_map(|tag| {
        let tag = &tag[..tag.find('>')?];
        let named = tag.contains(&format!("property=\"{key}\""))
            || tag.contains(&format!("name=\"{key}\""));
        let content = tag.split_once("content=\"")?.1.split('"').next()?;
        named.then(|| content.replace("&#38;", "&"))
    })
}

fn header_of(response: &Response, name: header::HeaderName) -> String {
    response
        .headers()
        .get(&name)
        .unwrap_or_else(|| panic!("no {name} header"))
        .to_str()
        .expect("ascii")
        .to_owned()
}

#[tokio::test]
async fn a_link_is_absolute_under_the_public_url_with_a_long_token_fresh_each_time() {
    let app = ready(behind(PUBLIC)).await;
    let asset = image(&app, "a red fox").await;
    let asset_id = asset["id"].as_str().unwrap();

    let first = shared(&app, asset_id, json!({})).await;
    let second = shared(&app, asset_id, json!({})).await;

    let token = token_of(&first);
    assert_eq!(
        first["url"],
        format!("https://studio.example.com/s/{token}")
    );
    assert!(token.len() >= 22, "at least 128 bits: {token}");
    assert!(
        token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
        "base64url: {token}"
    );
    assert!(!token.contains(asset_id));
    assert_ne!(token, token_of(&second));
    assert_eq!(first["assetId"], asset_id);
    assert_eq!(first["expiresAt"], Value::Null);
    assert_eq!(first["allowDownload"], true);
    assert_eq!(first["showPrompt"], true);
    assert_eq!(first["hasPassword"], false);
    assert!(first["createdAt"].is_string());
    assert_eq!(first["asset"]["id"], asset_id);
    assert_eq!(first["asset"]["resultKind"], "image");
    assert_eq!(first["asset"]["model"], asset["model"]);
    assert_eq!(first["asset"]["url"], format!("/files/{asset_id}"));
}

#[tokio::test]
async fn an_image_page_shows_the_image_to_anyone_with_absolute_opengraph_tags() {
    let app = ready(behind(PUBLIC)).await;
    let asset = image(&app, "a red fox in the snow").await;
    let share = shared(&app, asset["id"].as_str().unwrap(), json!({})).await;
    let token = token_of(&share);

    let visitor = new_client();
    let response = visitor
        .get(app.at(&format!("/s/{token}")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(header_of(&response, header::CONTENT_TYPE).starts_with("text/html"));
    assert_eq!(header_of(&response, header::REFERRER_POLICY), "no-referrer");
    assert!(
        header_of(&response, header::HeaderName::from_static("x-robots-tag")).contains("noindex")
    );
    let csp = header_of(&response, header::CONTENT_SECURITY_POLICY);
    assert!(csp.starts_with("default-src 'none'"), "{csp}");
    assert!(!csp.contains("script-src"), "no scripts allowed: {csp}");
    let html = response.text().await.unwrap();

    assert!(!html.contains("<script"), "{html}");
    assert!(
        html.contains(&format!("<img src=\"/s/{token}/file\"")),
        "{html}"
    );
    assert!(html.contains("a red fox in the snow"));
    assert!(html.contains(asset["model"].as_str().unwrap()));
    assert!(html.contains(&format!("href=\"/s/{token}/file?download=1\"")));
    assert_eq!(meta(&html, "og:type").as_deref(), Some("website"));
    assert_eq!(
        meta(&html, "og:url"),
        Some(format!("https://studio.example.com/s/{token}"))
    );
    assert_eq!(
        meta(&html, "og:image"),
        Some(format!("https://studio.example.com/s/{token}/file"))
    );
    assert_eq!(meta(&html, "og:image:width").as_deref(), Some("64"));
    assert_eq!(meta(&html, "og:image:height").as_deref(), Some("64"));
    assert_eq!(
        meta(&html, "twitter:card").as_deref(),
        Some("summary_large_image")
    );
    assert!(meta(&html, "og:title").is_some());
    assert!(
        meta(&html, "og:description")
            .unwrap()
            .contains("a red fox in the snow")
    );
    for key in ["og:url", "og:image", "og:image:secure_url", "twitter:image"] {
        let url = meta(&html, key).unwrap_or_else(|| panic!("no {key}"));
        assert!(
            url.starts_with("https://studio.example.com/"),
            "{key}: {url}"
        );
    }

    let css = visitor
        .get(app.at("/s/assets/share.css"))
        .send()
        .await
        .unwrap();
    assert_eq!(css.status(), StatusCode::OK);
    assert!(header_of(&css, header::CONTENT_TYPE).starts_with("text/css"));
    assert!(header_of(&css, header::CACHE_CONTROL).contains("immutable"));
    assert!(html.contains("href=\"/s/assets/share.css\""));
}

#[tokio::test]
async fn a_video_page_has_a_seekable_player_and_og_video_tags() {
    let app = ready(behind(PUBLIC)).await;
    let asset = generated(&app, VEO3, "waves at dusk").await;
    let token = token_of(&shared(&app, asset["id"].as_str().unwrap(), json!({})).await);
    // With ffmpeg the video gets a poster frame (tests/api/thumbnails.rs): wait for it.
    let has_ffmpeg = std::process::Command::new("ffmpeg")
        .arg("-version")
        .output()
        .is_ok_and(|o| o.status.success());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    if has_ffmpeg {
        loop {
            let job = app.job(asset["jobId"].as_str().unwrap()).await;
            if job["assets"][0]["thumbnailUrl"].is_string() {
                break;
            }
            assert!(std::time::Instant::now() < deadline, "no poster: {job}");
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }

    let (status, html) = visit(&app, &new_client(), &format!("/s/{token}")).await;

    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains(&format!(
            "<video src=\"/s/{token}/file\" controls playsinline preload=\"metadata\""
        )),
        "{html}"
    );
    let file_url = format!("https://studio.example.com/s/{token}/file");
    assert_eq!(meta(&html, "og:type").as_deref(), Some("video.other"));
    assert_eq!(meta(&html, "og:video"), Some(file_url.clone()));
    assert_eq!(meta(&html, "og:video:secure_url"), Some(file_url));
    assert_eq!(meta(&html, "og:video:type").as_deref(), Some("video/mp4"));
    assert_eq!(meta(&html, "twitter:card").as_deref(), Some("player"));
    if let (Some(w), Some(h)) = (asset["width"].as_i64(), asset["height"].as_i64()) {
        assert_eq!(meta(&html, "og:video:width"), Some(w.to_string()));
        assert_eq!(meta(&html, "og:video:height"), Some(h.to_string()));
    }
    if has_ffmpeg {
        // Link previews want a picture: the poster frame, served under the link like its file.
        let poster_url = format!("https://studio.example.com/s/{token}/poster");
        assert_eq!(meta(&html, "og:image"), Some(poster_url.clone()));
        assert_eq!(meta(&html, "twitter:image"), Some(poster_url));
        assert!(
            html.contains(&format!("poster=\"/s/{token}/poster\"")),
            "{html}"
        );
        let poster = new_client()
            .get(app.at(&format!("/s/{token}/poster")))
            .send()
            .await
            .unwrap();
        assert_eq!(poster.status(), StatusCode::OK);
        assert_eq!(header_of(&poster, header::CONTENT_TYPE), "image/jpeg");
        assert_eq!(
            header_of(&poster, header::CACHE_CONTROL),
            "private, no-cache"
        );
    } else {
        assert_eq!(
            meta(&html, "og:image"),
            None,
            "no poster frame without ffmpeg"
        );
    }

    let part = new_client()
        .get(app.at(&format!("/s/{token}/file")))
        .header(header::RANGE, "bytes=0-99")
        .send()
        .await
        .unwrap();
    assert_eq!(part.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(header_of(&part, header::CONTENT_TYPE), "video/mp4");
    assert_eq!(part.bytes().await.unwrap().len(), 100);
}

#[tokio::test]
async fn the_shared_file_is_served_by_range_and_downloads_only_when_allowed() {
    let app = ready(Options::default()).await;
    let asset = image(&app, "ranges [fal:size=100000]").await;
    let asset_id = asset["id"].as_str().unwrap();
    let open = token_of(&shared(&app, asset_id, json!({})).await);
    let view_only = token_of(&shared(&app, asset_id, json!({ "allowDownload": false })).await);
    let visitor = new_client();
    let file = |token: &str, suffix: &str| app.at(&format!("/s/{token}/file{suffix}"));

    let whole = visitor.get(file(&open, "")).send().await.unwrap();
    assert_eq!(whole.status(), StatusCode::OK);
    assert_eq!(header_of(&whole, header::CONTENT_TYPE), "image/png");
    assert_eq!(
        header_of(&whole, header::CACHE_CONTROL),
        "private, no-cache"
    );
    assert_eq!(header_of(&whole, header::REFERRER_POLICY), "no-referrer");
    assert!(header_of(&whole, header::HeaderName::from_static("x-robots-tag")).contains("noindex"));
    assert_eq!(header_of(&whole, header::ACCEPT_RANGES), "bytes");
    assert!(header_of(&whole, header::CONTENT_DISPOSITION).starts_with("inline"));
    let etag = header_of(&whole, header::ETAG);
    assert_eq!(whole.bytes().await.unwrap().len(), 100_000);

    let part = visitor
        .get(file(&open, ""))
        .header(header::RANGE, "bytes=10-19")
        .send()
        .await
        .unwrap();
    assert_eq!(part.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(
        header_of(&part, header::CONTENT_RANGE),
        "bytes 10-19/100000"
    );
    assert_eq!(part.bytes().await.unwrap().len(), 10);

    let outside = visitor
        .get(file(&open, ""))
        .header(header::RANGE, "bytes=200000-")
        .send()
        .await
        .unwrap();
    assert_eq!(outside.status(), StatusCode::RANGE_NOT_SATISFIABLE);
    assert_eq!(header_of(&outside, header::CONTENT_RANGE), "bytes */100000");

    let again = visitor
        .get(file(&open, ""))
        .header(header::IF_NONE_MATCH, &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);

    let download = visitor
        .get(file(&open, "?download=1"))
        .send()
        .await
        .unwrap();
    assert_eq!(download.status(), StatusCode::OK);
    assert!(header_of(&download, header::CONTENT_DISPOSITION).starts_with("attachment"));

    let refused = visitor
        .get(file(&view_only, "?download=1"))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::NOT_FOUND);
    let shown = visitor.get(file(&view_only, "")).send().await.unwrap();
    assert_eq!(shown.status(), StatusCode::OK);
    let (_, page) = visit(&app, &visitor, &format!("/s/{view_only}")).await;
    assert!(!page.contains("download=1"), "{page}");
}

#[tokio::test]
async fn a_revoked_link_stops_working_at_once() {
    let app = ready(Options::default()).await;
    let asset = image(&app, "a red fox").await;
    let token = token_of(&shared(&app, asset["id"].as_str().unwrap(), json!({})).await);
    let visitor = new_client();
    let page = format!("/s/{token}");
    let file = format!("/s/{token}/file");
    assert_eq!(visit(&app, &visitor, &page).await.0, StatusCode::OK);
    assert_eq!(visit(&app, &visitor, &file).await.0, StatusCode::OK);

    assert_eq!(revoke(&app, &token).await.status(), StatusCode::NO_CONTENT);

    let (unknown_status, unknown) = visit(&app, &visitor, &format!("/s/{}", "A".repeat(43))).await;
    assert_eq!(unknown_status, StatusCode::NOT_FOUND);
    assert_eq!(
        visit(&app, &visitor, &page).await,
        (StatusCode::NOT_FOUND, unknown.clone())
    );
    assert_eq!(
        visit(&app, &visitor, &file).await,
        (StatusCode::NOT_FOUND, unknown.clone())
    );
    assert_eq!(
        visit(&app, &visitor, &format!("/s/{token}/poster")).await,
        (StatusCode::NOT_FOUND, unknown)
    );
    assert!(list(&app, "/api/shares").await.is_empty());
    assert_eq!(
        revoke(&app, &token).await.status(),
        StatusCode::NO_CONTENT,
        "revoking twice is harmless"
    );
}

#[tokio::test]
async fn unknown_malformed_and_expired_links_all_get_the_same_404_page() {
    let app = ready(Options::default()).await;
    let asset = image(&app, "a red fox").await;
    let share = shared(
        &app,
        asset["id"].as_str().unwrap(),
        json!({ "expiresInSeconds": 60 }),
    )
    .await;
    assert!(share["expiresAt"].is_string(), "{share}");
    let token = token_of(&share);
    let visitor = new_client();
    assert_eq!(
        visit(&app, &visitor, &format!("/s/{token}")).await.0,
        StatusCode::OK
    );

    expire(&app, &token).await;

    let (status, unknown) = visit(&app, &visitor, &format!("/s/{}", "A".repeat(43))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(unknown.contains("This link does not work"), "{unknown}");
    for (case, path) in [
        ("expired page", format!("/s/{token}")),
        ("expired file", format!("/s/{token}/file")),
        ("short token", "/s/abc".to_owned()),
        ("bad characters", format!("/s/{}", "%3C".repeat(15))),
        ("unknown file", format!("/s/{}/file", "B".repeat(43))),
    ] {
        assert_eq!(
            visit(&app, &visitor, &path).await,
            (StatusCode::NOT_FOUND, unknown.clone()),
            "case: {case}"
        );
    }
    assert!(list(&app, "/api/shares").await.is_empty());
}

#[tokio::test]
async fn a_password_protected_link_asks_for_the_password_and_remembers_it() {
    let app = ready(Options::default()).await;
    let asset = image(&app, "a hidden garden").await;
    let response = create_share(
        &app,
        asset["id"].as_str().unwrap(),
        json!({ "password": "open sesame" }),
    )
    .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let text = response.text().await.unwrap();
    assert!(
        !text.contains("open sesame") && !text.contains("argon2"),
        "{text}"
    );
    let share: Value = serde_json::from_str::<Value>(&text).unwrap()["share"].clone();
    assert_eq!(share["hasPassword"], true);
    let token = token_of(&share);
    let page = format!("/s/{token}");
    let file = format!("/s/{token}/file");
    let visitor = new_client();

    let (status, form) = visit(&app, &visitor, &page).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        form.contains(&format!("<form method=\"post\" action=\"/s/{token}\">")),
        "{form}"
    );
    assert!(form.contains("name=\"password\""));
    assert!(
        !form.contains("<img") && !form.contains("a hidden garden"),
        "{form}"
    );
    assert_eq!(meta(&form, "og:image"), None);
    assert_eq!(
        visit(&app, &visitor, &file).await.0,
        StatusCode::UNAUTHORIZED
    );

    let wrong = unlock(&app, &visitor, &token, "open barley").await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let wrong = wrong.text().await.unwrap();
    assert!(wrong.contains(WRONG_PASSWORD), "{wrong}");
    assert!(wrong.contains("name=\"password\""));

    let right = unlock(&app, &visitor, &token, "open sesame").await;
    assert_eq!(right.status(), StatusCode::SEE_OTHER);
    assert_eq!(header_of(&right, header::LOCATION), page);
    let cookie = header_of(&right, header::SET_COOKIE);
    let attributes: Vec<String> = cookie.split(';').map(|a| a.trim().to_lowercase()).collect();
    assert!(cookie.starts_with("fal_studio_share="), "{cookie}");
    assert!(
        attributes.contains(&format!("path=/s/{}", token.to_lowercase())),
        "{cookie}"
    );
    assert!(attributes.contains(&"httponly".to_owned()), "{cookie}");
    assert!(attributes.contains(&"samesite=lax".to_owned()), "{cookie}");

    let (status, html) = visit(&app, &visitor, &page).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(&format!("<img src=\"{file}\"")), "{html}");
    assert!(html.contains("a hidden garden"));
    assert_eq!(visit(&app, &visitor, &file).await.0, StatusCode::OK);

    let stranger = new_client();
    let (status, html) = visit(&app, &stranger, &page).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("name=\"password\"") && !html.contains("<img"),
        "{html}"
    );
    assert_eq!(
        visit(&app, &stranger, &file).await.0,
        StatusCode::UNAUTHORIZED
    );

    // The cookie opens its own link only, even for the same asset and password.
    let other = token_of(
        &shared(
            &app,
            asset["id"].as_str().unwrap(),
            json!({ "password": "open sesame" }),
        )
        .await,
    );
    let forged = new_client()
        .get(app.at(&format!("/s/{other}/file")))
        .header(header::COOKIE, cookie.split(';').next().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn wrong_passwords_are_limited_per_link() {
    let app = ready(Options::default()).await;
    let asset = image(&app, "a red fox").await;
    let asset_id = asset["id"].as_str().unwrap();
    let token = token_of(&shared(&app, asset_id, json!({ "password": "open sesame" })).await);
    let other = token_of(&shared(&app, asset_id, json!({ "password": "open sesame" })).await);
    let visitor = new_client();

    for attempt in 1..=5 {
        let response = unlock(&app, &visitor, &token, "guess").await;
        assert_eq!(
            response.status(),
            StatusCode::UNAUTHORIZED,
            "attempt {attempt}"
        );
    }
    let locked = unlock(&app, &visitor, &token, "open sesame").await;

    assert_eq!(locked.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(
        header_of(&locked, header::RETRY_AFTER)
            .parse::<u64>()
            .unwrap()
            > 0
    );
    assert!(
        locked
            .text()
            .await
            .unwrap()
            .contains("Too many wrong passwords")
    );
    let elsewhere = unlock(&app, &visitor, &other, "open sesame").await;
    assert_eq!(
        elsewhere.status(),
        StatusCode::SEE_OTHER,
        "another link is not locked"
    );
}

#[tokio::test]
async fn the_password_form_cannot_be_posted_from_another_site() {
    let (app, token) = password_link().await;
    let post = |origin: &str| {
        new_client()
            .post(app.at(&format!("/s/{token}")))
            .header(header::ORIGIN, origin)
            .form(&[("password", "open sesame")])
            .send()
    };

    assert_eq!(
        post("https://evil.example").await.unwrap().status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        post(&app.url).await.unwrap().status(),
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn the_prompt_and_model_are_left_out_entirely_when_show_prompt_is_off() {
    let app = ready(behind(PUBLIC)).await;
    let asset = image(&app, "a lighthouse at midnight").await;
    let share = shared(
        &app,
        asset["id"].as_str().unwrap(),
        json!({ "showPrompt": false }),
    )
    .await;
    assert_eq!(share["showPrompt"], false);

    let (status, html) = visit(&app, &new_client(), &format!("/s/{}", token_of(&share))).await;

    assert_eq!(status, StatusCode::OK);
    assert!(!html.contains("lighthouse"), "{html}");
    assert!(!html.contains(asset["model"].as_str().unwrap()), "{html}");
    assert!(html.contains("<img "), "{html}");
    assert_eq!(
        meta(&html, "og:description").as_deref(),
        Some("An image shared from fal-studio.")
    );
}

#[tokio::test]
async fn prompts_are_html_escaped_on_the_page() {
    let app = ready(Options::default()).await;
    let asset = image(&app, "<script>alert(1)</script> \"quoted\" & more").await;
    let token = token_of(&shared(&app, asset["id"].as_str().unwrap(), json!({})).await);

    let (status, html) = visit(&app, &new_client(), &format!("/s/{token}")).await;

    assert_eq!(status, StatusCode::OK);
    assert!(!html.contains("<script"), "{html}");
    assert!(
        html.contains("&#60;script&#62;alert(1)&#60;/script&#62; &#34;quoted&#34; &#38; more"),
        "{html}"
    );
}

#[tokio::test]
async fn a_hostile_prompt_is_escaped_in_every_place_it_appears() {
    let app = ready(Options::default()).await;
    let prompt = "<script>alert('x')</script> \"quoted\" & more";
    // Askama writes numeric character references.
    let escaped = "&#60;script&#62;alert(&#39;x&#39;)&#60;/script&#62; &#34;quoted&#34; &#38; more";
    let asset = image(&app, prompt).await;
    let token = token_of(&shared(&app, asset["id"].as_str().unwrap(), json!({})).await);

    let (status, html) = visit(&app, &new_client(), &format!("/s/{token}")).await;

    assert_eq!(status, StatusCode::OK);
    assert!(!html.contains("<script"), "{html}");
    assert!(!html.contains("\"quoted\""), "{html}");
    assert!(!html.contains("'x'"), "{html}");
    // The title, the heading, the alt text and the prompt paragraph.
    for place in [
        format!("<title>{escaped} · fal-studio</title>"),
        format!("<h1 class=\"visually-hidden\">{escaped}</h1>"),
        format!("alt=\"{escaped}\""),
        format!("<p class=\"prompt\">{escaped}</p>"),
    ] {
        assert!(html.contains(&place), "{place} in {html}");
    }
    // Every tag that repeats the prompt, attribute-escaped inside `content="..."`.
    let model = asset["model"].as_str().unwrap();
    for key in [
        "og:title",
        "twitter:title",
        "description",
        "twitter:description",
    ] {
        let tag = html
            .split("<meta ")
            .find(|tag| tag.contains(&format!("=\"{key}\" ")))
            .unwrap_or_else(|| panic!("no {key} in {html}"));
        assert!(
            tag.contains(&format!("content=\"{escaped}")),
            "{key}: {tag}"
        );
    }
    let description = html
        .split("<meta ")
        .find(|tag| tag.contains("property=\"og:description\""))
        .expect("og:description");
    assert!(
        description.contains(&format!("content=\"{escaped} (made with {model})\"")),
        "{description}"
    );
}

/// Bob's 404s on Ada's asset and link routes are covered by `cross_user`.
#[tokio::test]
async fn another_user_lists_no_links_and_the_link_still_works() {
    let app = ready(Options::default()).await;
    let asset = image(&app, "a red fox").await;
    let asset_id = asset["id"].as_str().unwrap().to_owned();
    let token = token_of(&shared(&app, &asset_id, json!({})).await);

    let bob = app.second_user().await;
    let bobs: Value = app.get_json_as(&bob, "/api/shares").await;
    assert_eq!(bobs, json!({ "shares": [] }));
    assert_eq!(
        visit(&app, &bob, &format!("/s/{token}")).await.0,
        StatusCode::OK,
        "the link still works"
    );

    let signed_out = new_client()
        .get(app.at("/api/shares"))
        .send()
        .await
        .unwrap();
    assert_eq!(signed_out.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn the_lists_show_only_active_links_newest_first() {
    let app = ready(Options::default()).await;
    let fox = image(&app, "a red fox").await;
    let owl = image(&app, "a snowy owl").await;
    let (fox, owl) = (fox["id"].as_str().unwrap(), owl["id"].as_str().unwrap());
    let fox_old = token_of(&shared(&app, fox, json!({})).await);
    let fox_revoked = token_of(&shared(&app, fox, json!({})).await);
    let fox_expired = token_of(&shared(&app, fox, json!({ "expiresInSeconds": 60 })).await);
    let owl_one = token_of(&shared(&app, owl, json!({ "expiresInSeconds": 3600 })).await);
    let fox_new = token_of(&shared(&app, fox, json!({})).await);
    assert_eq!(
        revoke(&app, &fox_revoked).await.status(),
        StatusCode::NO_CONTENT
    );
    expire(&app, &fox_expired).await;

    assert_eq!(
        list(&app, "/api/shares").await,
        vec![fox_new.clone(), owl_one.clone(), fox_old.clone()]
    );
    assert_eq!(
        list(&app, &format!("/api/assets/{fox}/shares")).await,
        vec![fox_new, fox_old]
    );
    assert_eq!(
        list(&app, &format!("/api/assets/{owl}/shares")).await,
        vec![owl_one]
    );
}

#[tokio::test]
async fn share_settings_out_of_range_are_refused_with_the_field_named() {
    let app = ready(Options::default()).await;
    let asset = image(&app, "a red fox").await;
    let asset_id = asset["id"].as_str().unwrap();
    let cases = [
        (
            "expiry under a minute",
            json!({ "expiresInSeconds": 59 }),
            "expiresInSeconds",
        ),
        (
            "negative expiry",
            json!({ "expiresInSeconds": -1 }),
            "expiresInSeconds",
        ),
        (
            "expiry over a year",
            json!({ "expiresInSeconds": 31_536_001 }),
            "expiresInSeconds",
        ),
        (
            "password too short",
            json!({ "password": "abc" }),
            "password",
        ),
        (
            "password too long",
            json!({ "password": "x".repeat(257) }),
            "password",
        ),
    ];
    for (case, body, field) in cases {
        let (status, error) = error_of(create_share(&app, asset_id, body).await).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "case: {case}");
        assert_eq!(error["category"], "invalid_request", "case: {case}");
        assert_eq!(error["details"][0]["field"], field, "case: {case}");
    }
    let (status, _) =
        error_of(create_share(&app, asset_id, json!({ "expiresIn": 60 })).await).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "an unknown field");

    for (case, body) in [
        ("one minute", json!({ "expiresInSeconds": 60 })),
        ("one year", json!({ "expiresInSeconds": 31_536_000 })),
        ("shortest password", json!({ "password": "abcd" })),
        ("empty password means none", json!({ "password": "" })),
    ] {
        let response = create_share(&app, asset_id, body).await;
        assert_eq!(response.status(), StatusCode::CREATED, "case: {case}");
    }
    let unknown = create_share(&app, "no-such-asset", json!({})).await;
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
}

/// A signed-in app with a password link ("open sesame") to a fresh image.
async fn password_link() -> (TestApp, String) {
    let app = ready(Options::default()).await;
    let asset = image(&app, "a red fox").await;
    let link = shared(
        &app,
        asset["id"].as_str().unwrap(),
        json!({ "password": "open sesame" }),
    )
    .await;
    (app, token_of(&link))
}

/// Posts the password form as Chromium does from the share page, whose no-referrer policy
/// makes it send `Origin: null`.
async fn unlock_as_browser(
    app: &TestApp,
    visitor: &Client,
    token: &str,
    fields: &[(&str, &str)],
    fetch_metadata: bool,
) -> Response {
    let mut request = visitor
        .post(app.at(&format!("/s/{token}")))
        .header(header::ORIGIN, "null")
        .form(fields);
    if fetch_metadata {
        request = request
            .header("sec-fetch-site", "same-origin")
            .header("sec-fetch-mode", "navigate")
            .header("sec-fetch-dest", "document")
            .header("sec-fetch-user", "?1");
    }
    request.send().await.expect("request")
}

#[tokio::test]
async fn the_password_form_works_from_a_browser_that_hides_its_origin() {
    let (app, token) = password_link().await;
    let visitor = new_client();
    let (_, page) = visit(&app, &visitor, &format!("/s/{token}")).await;
    let nonce = nonce_of(&page);

    // A wrong password: the same page again, saying so, never JSON.
    let wrong = unlock_as_browser(
        &app,
        &visitor,
        &token,
        &[("password", "nope"), ("nonce", &nonce)],
        true,
    )
    .await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert!(header_of(&wrong, header::CONTENT_TYPE).starts_with("text/html"));
    assert!(wrong.text().await.unwrap().contains(WRONG_PASSWORD));

    // The right one, as Chromium sends it.
    let right = unlock_as_browser(
        &app,
        &visitor,
        &token,
        &[("password", "open sesame"), ("nonce", &nonce)],
        true,
    )
    .await;
    assert_eq!(right.status(), StatusCode::SEE_OTHER);
    let (status, page) = visit(&app, &visitor, &format!("/s/{token}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains(&format!("/s/{token}/file")));
}

#[tokio::test]
async fn without_fetch_metadata_a_hidden_origin_needs_the_links_own_form() {
    let app = ready(Options::default()).await;
    let asset = image(&app, "a red fox").await;
    let asset_id = asset["id"].as_str().unwrap();
    let token = token_of(&shared(&app, asset_id, json!({ "password": "open sesame" })).await);
    let other = token_of(&shared(&app, asset_id, json!({ "password": "open sesame" })).await);
    let visitor = new_client();
    let (_, other_page) = visit(&app, &visitor, &format!("/s/{other}")).await;
    let (_, page) = visit(&app, &visitor, &format!("/s/{token}")).await;

    for (what, fields) in [
        ("no nonce", vec![("password", "open sesame")]),
        (
            "another link's nonce",
            vec![
                ("password", "open sesame"),
                ("nonce", nonce_of(&other_page).leak()),
            ],
        ),
        (
            "a made-up nonce",
            vec![("password", "open sesame"), ("nonce", "99999999999.AAAA")],
        ),
    ] {
        let refused = unlock_as_browser(&app, &visitor, &token, &fields, false).await;
        assert_eq!(refused.status(), StatusCode::FORBIDDEN, "{what}");
        assert!(
            header_of(&refused, header::CONTENT_TYPE).starts_with("text/html"),
            "{what}"
        );
    }
    let nonce = nonce_of(&page);
    let right = unlock_as_browser(
        &app,
        &visitor,
        &token,
        &[("password", "open sesame"), ("nonce", &nonce)],
        false,
    )
    .await;
    assert_eq!(right.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn a_password_form_from_another_site_gets_a_page_not_json() {
    let (app, token) = password_link().await;
    let refused = new_client()
        .post(app.at(&format!("/s/{token}")))
        .header(header::ORIGIN, "https://evil.example")
        .header("sec-fetch-site", "cross-site")
        .form(&[("password", "open sesame")])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert!(header_of(&refused, header::CONTENT_TYPE).starts_with("text/html"));
    let page = refused.text().await.unwrap();
    assert!(page.contains("another website") && page.contains(&format!("href=\"/s/{token}\"")));
}

#[tokio::test]
async fn parallel_wrong_share_passwords_are_judged_at_most_up_to_the_limit() {
    let (app, token) = password_link().await;
    let visitor = new_client();
    let guesses = (0..40).map(|i| {
        let (app, visitor, token) = (&app, &visitor, &token);
        async move {
            unlock(app, visitor, token, &format!("guess {i}"))
                .await
                .status()
        }
    });
    let statuses = futures_util::future::join_all(guesses).await;
    assert_eq!(judged_and_limited(&statuses), (5, 35));
    assert_eq!(
        unlock(&app, &visitor, &token, "open sesame").await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
}

#[tokio::test]
async fn parallel_wrong_share_passwords_split_across_two_nodes_are_judged_up_to_the_limit() {
    let (a, token) = password_link().await;
    // A second node on the first one's data folder, so on the same database.
    let b = spawn_app_with(Options {
        dir: Some(a.dir.clone()),
        ..Options::default()
    })
    .await;
    let visitor = new_client();
    let guesses = (0..40).map(|i| {
        let (node, visitor, token) = (if i % 2 == 0 { &a } else { &b }, &visitor, &token);
        async move {
            unlock(node, visitor, token, &format!("guess {i}"))
                .await
                .status()
        }
    });
    let statuses = futures_util::future::join_all(guesses).await;
    assert_eq!(judged_and_limited(&statuses), (5, 35));
    for node in [&a, &b] {
        assert_eq!(
            unlock(node, &visitor, &token, "open sesame").await.status(),
            StatusCode::TOO_MANY_REQUESTS
        );
    }
}
