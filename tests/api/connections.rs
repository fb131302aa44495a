//! What one client connection may hold: half-sent heads and bodies are cut off (slowloris),
//! slow uploads that keep moving are not, idle connections close, live event streams stay
//! open on their heartbeats, and past the connection cap new clients wait.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::json;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

use crate::helpers::{Options, TestApp, spawn_app_with};

async fn app_with(vars: &[(&'static str, &str)]) -> TestApp {
    spawn_app_with(Options {
        vars: vars.iter().map(|(k, v)| (*k, v.to_string())).collect(),
        ..Options::default()
    })
    .await
}

async fn connect(app: &TestApp) -> TcpStream {
    let addr = app.url.trim_start_matches("http://");
    TcpStream::connect(addr).await.expect("connects")
}

/// Reads until the server closes the connection (or `within` passes): what it sent, and how
/// long it took to close.
async fn until_closed(stream: &mut TcpStream, within: Duration) -> Option<(Vec<u8>, Duration)> {
    let started = Instant::now();
    let mut got = Vec::new();
    let read = tokio::time::timeout(within, async {
        let mut buf = [0u8; 8192];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    read.ok().map(|()| (got, started.elapsed()))
}

async fn healthy(app: &TestApp) {
    let response = app.client.get(app.at("/healthz")).send().await.unwrap();
    assert_eq!(
        response.status(),
        StatusCode::OK,
        "a normal request still works"
    );
}

#[tokio::test]
async fn a_request_head_that_stalls_is_closed_within_the_header_timeout() {
    let app = app_with(&[("HTTP_HEADER_TIMEOUT_SECS", "1")]).await;
    let mut stream = connect(&app).await;
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Slow: ")
        .await
        .unwrap();

    let (_, took) = until_closed(&mut stream, Duration::from_secs(5))
        .await
        .expect("the server closes a stalled head instead of waiting forever");
    assert!(took < Duration::from_secs(3), "held for {took:?}");
    healthy(&app).await;
}

#[tokio::test]
async fn a_kept_alive_connection_that_sends_nothing_more_is_closed() {
    let app = app_with(&[("HTTP_HEADER_TIMEOUT_SECS", "1")]).await;
    let mut stream = connect(&app).await;
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .unwrap();
    let (answer, took) = until_closed(&mut stream, Duration::from_secs(5))
        .await
        .expect("an idle kept-alive connection is closed");
    assert!(answer.starts_with(b"HTTP/1.1 200"), "answered first");
    assert!(took < Duration::from_secs(3), "held for {took:?}");
}

#[tokio::test]
async fn a_request_body_that_stalls_is_cut_off_within_the_body_timeout() {
    let app = app_with(&[("HTTP_BODY_TIMEOUT_SECS", "1")]).await;
    let mut stream = connect(&app).await;
    stream
        .write_all(
            b"POST /api/auth/login HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n\
              Content-Length: 100\r\n\r\n{\"email\":",
        )
        .await
        .unwrap();

    let (answer, took) = until_closed(&mut stream, Duration::from_secs(5))
        .await
        .expect("the server gives up on a stalled body");
    assert!(took < Duration::from_secs(3), "held for {took:?}");
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 4"), "a client error: {answer}");
    healthy(&app).await;
}

#[tokio::test]
async fn a_slow_body_that_keeps_moving_is_not_cut_off() {
    // Two and a half seconds in all, but never a second without a byte.
    let app = app_with(&[("HTTP_BODY_TIMEOUT_SECS", "1")]).await;
    let body = json!({ "email": "nobody@example.com", "password": "not the password" }).to_string();
    let mut stream = connect(&app).await;
    let head = format!(
        "POST /api/auth/login HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let pieces: Vec<&[u8]> = body.as_bytes().chunks(body.len().div_ceil(6)).collect();
    for piece in pieces {
        tokio::time::sleep(Duration::from_millis(400)).await;
        stream.write_all(piece).await.unwrap();
    }
    let (answer, _) = until_closed(&mut stream, Duration::from_secs(10))
        .await
        .expect("answered");
    let answer = String::from_utf8_lossy(&answer);
    assert!(
        answer.starts_with("HTTP/1.1 401"),
        "the body was read whole and the login refused as usual: {answer}"
    );
}

#[tokio::test]
async fn the_event_stream_stays_open_past_the_idle_timeout_on_its_heartbeats() {
    let app = app_with(&[("HTTP_IDLE_TIMEOUT_SECS", "1")]).await;
    app.signed_up("ada@example.com").await;
    let mut events = app.client.get(app.at("/api/events")).send().await.unwrap();
    assert_eq!(events.status(), StatusCode::OK);

    let started = Instant::now();
    let mut heartbeats = 0;
    while started.elapsed() < Duration::from_secs(3) {
        let chunk = tokio::time::timeout(Duration::from_secs(2), events.chunk())
            .await
            .expect("something arrives well within the idle timeout")
            .expect("the stream is not cut")
            .expect("the stream has not ended");
        heartbeats += String::from_utf8_lossy(&chunk).matches("heartbeat").count();
    }
    assert!(heartbeats >= 3, "{heartbeats} heartbeats in 3 s");
}

#[tokio::test]
async fn a_client_that_stops_reading_a_download_is_dropped_after_the_idle_timeout() {
    let app = app_with(&[("HTTP_IDLE_TIMEOUT_SECS", "1"), ("FAL_RETRY_BASE_MS", "1")]).await;
    app.signed_up("ada@example.com").await;
    assert_eq!(
        app.set_key("fake-key-id:fake-secret").await.status(),
        StatusCode::OK
    );
    let size = 24 * 1024 * 1024;
    let id = app
        .start(
            "fal-ai/bytedance/seedream/v4/text-to-image",
            json!({ "prompt": format!("a big fox [fal:size={size}]") }),
            vec![],
        )
        .await;
    let job = app.finished(&id).await;
    assert_eq!(job["status"], "completed", "{job}");
    let url = job["assets"][0]["url"].as_str().unwrap().to_owned();
    let login = app.login("ada@example.com", crate::helpers::PASSWORD).await;
    let session = crate::helpers::session_cookie(&login)
        .map(|c| crate::helpers::cookie_value(&c))
        .expect("a session");

    let mut stream = connect(&app).await;
    let request = format!(
        "GET {url} HTTP/1.1\r\nHost: localhost\r\nCookie: fal_studio_session={session}\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    // Read nothing while the idle timeout passes with the socket buffers full.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let (got, _) = until_closed(&mut stream, Duration::from_secs(10))
        .await
        .expect("the server closed the connection");
    assert!(
        got.len() < size,
        "the download was cut off ({} of {size} bytes)",
        got.len()
    );
    healthy(&app).await;
}

#[tokio::test]
async fn past_the_connection_cap_new_clients_wait_until_one_closes() {
    let app = app_with(&[("HTTP_MAX_CONNECTIONS", "2")]).await;
    let mut held = Vec::new();
    for _ in 0..2 {
        let mut stream = connect(&app).await;
        stream
            .write_all(b"GET /healthz HTTP/1.1\r\n")
            .await
            .unwrap();
        held.push(stream);
    }
    // Let the server accept both before asking for a third.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let waiting = app
        .client
        .get(app.at("/healthz"))
        .timeout(Duration::from_millis(700))
        .send()
        .await;
    assert!(
        waiting.is_err(),
        "a third connection is not served: {waiting:?}"
    );

    drop(held.pop());
    healthy(&app).await;
}
