//! Reading fal's answers with a ceiling: a body is never buffered past what the studio needs,
//! whatever fal (or an app running there) sends.

use axum::body::Bytes;

/// Enough of an error body for its message; the rest is not read.
pub const ERROR_BODY_CAP: usize = 64 * 1024;
/// Result, status, catalog, pricing and OpenAPI documents.
pub const JSON_BODY_CAP: usize = 8 * 1024 * 1024;

#[derive(Debug)]
pub enum CappedError {
    /// The body is (or says it is) longer than the cap.
    TooLarge,
    Network(reqwest::Error),
}

/// The whole body when it fits in `cap` bytes. A `Content-Length` over the cap is refused
/// before anything is read; a body without one is read until it passes the cap.
pub async fn read_capped(
    mut response: reqwest::Response,
    cap: usize,
) -> Result<Bytes, CappedError> {
    if response.content_length().is_some_and(|n| n > cap as u64) {
        return Err(CappedError::TooLarge);
    }
    let expected = response.content_length().unwrap_or(0) as usize;
    let mut body = Vec::with_capacity(expected.min(cap));
    while let Some(chunk) = response.chunk().await.map_err(CappedError::Network)? {
        if body.len() + chunk.len() > cap {
            return Err(CappedError::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Bytes::from(body))
}

/// At most the first `cap` bytes of the body; the rest is dropped unread (with the
/// connection) and a broken body just ends early. For error answers, where only the message
/// matters.
pub async fn read_head(mut response: reqwest::Response, cap: usize) -> Bytes {
    let mut head = Vec::with_capacity(cap.min(8 * 1024));
    while head.len() < cap {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                let take = (cap - head.len()).min(chunk.len());
                head.extend_from_slice(&chunk[..take]);
            }
            Ok(None) | Err(_) => break,
        }
    }
    Bytes::from(head)
}

#[cfg(test)]
mod tests {
    use std::{
        sync::{
            Arc,
            atomic::{AtomicU64, Ordering},
        },
        time::Duration,
    };

    use axum::{Router, body::Body, http::header, response::IntoResponse, routing::get};
    use futures_util::stream;

    use super::*;

    /// A server whose `/endless` body never ends (counting what it managed to hand over) and
    /// whose `/declared` says it is 1 GiB long but sends nothing.
    async fn server() -> (String, Arc<AtomicU64>) {
        let sent = Arc::new(AtomicU64::new(0));
        let counter = sent.clone();
        let app = Router::new()
            .route(
                "/endless",
                get(move || {
                    let counter = counter.clone();
                    async move {
                        let chunks = stream::repeat_with(move || {
                            counter.fetch_add(16 * 1024, Ordering::SeqCst);
                            Ok::<_, std::io::Error>(Bytes::from(vec![b'x'; 16 * 1024]))
                        });
                        Body::from_stream(chunks)
                    }
                }),
            )
            .route(
                "/declared",
                get(|| async {
                    (
                        [(header::CONTENT_LENGTH, (1u64 << 30).to_string())],
                        Body::from_stream(stream::pending::<Result<Bytes, std::io::Error>>()),
                    )
                        .into_response()
                }),
            );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        (format!("http://{addr}"), sent)
    }

    async fn fetch(url: String) -> reqwest::Response {
        reqwest::Client::new().get(url).send().await.unwrap()
    }

    #[tokio::test]
    async fn a_head_read_stops_at_its_cap_on_an_endless_body() {
        let (base, sent) = server().await;
        let head = tokio::time::timeout(
            Duration::from_secs(10),
            read_head(fetch(format!("{base}/endless")).await, ERROR_BODY_CAP),
        )
        .await
        .expect("the read ends");
        assert_eq!(head.len(), ERROR_BODY_CAP);
        // What the server pushed is bounded by socket buffers, not by the body.
        assert!(sent.load(Ordering::SeqCst) < 64 << 20);
    }

    #[tokio::test]
    async fn a_capped_read_refuses_a_body_over_the_cap() {
        let (base, _) = server().await;
        let read = tokio::time::timeout(
            Duration::from_secs(10),
            read_capped(fetch(format!("{base}/endless")).await, 1 << 20),
        )
        .await
        .expect("the read ends");
        assert!(matches!(read, Err(CappedError::TooLarge)), "{read:?}");
    }

    #[tokio::test]
    async fn a_declared_length_over_the_cap_is_refused_before_reading() {
        let (base, _) = server().await;
        let read = tokio::time::timeout(
            Duration::from_secs(10),
            read_capped(fetch(format!("{base}/declared")).await, JSON_BODY_CAP),
        )
        .await
        .expect("refused without waiting for the body");
        assert!(matches!(read, Err(CappedError::TooLarge)), "{read:?}");
    }
}
