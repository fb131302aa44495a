//! The fake queue (submit, status, status stream, result, cancel), storage upload, and the CDN
//! that serves outputs, with fal's timing shape: a request waits in the queue with a falling
//! position, runs with logs, then completes.
//!
//! Tests script a request through tokens anywhere in its input (usually the prompt):
//! - `[fal:invalid]` submit answers 422 with a validation detail on `prompt`;
//! - `[fal:policy]` submit answers 422 with a `content_policy_violation` item;
//! - `[fal:forbidden]` submit answers 403;
//! - `[fal:completed-error]` the request ends COMPLETED with `error`/`error_type`, and its result
//!   is an error response;
//! - `[fal:result-expired]` the result answers 404; `[fal:cdn-expired]` output files answer 404;
//! - `[fal:slow]` output files trickle out (64 KiB every 20 ms); `[fal:truncated]` output files
//!   stop at half their declared length;
//! - `[fal:discount=N]` its billing event (`/v1/models/billing-events`) takes N % off;
//! - `[fal:size=N]` output files are N bytes (default: an image's own size, which follows its
//!   `image_size` or `aspect_ratio` as fal's models do; 2 MiB for a video); `[fal:duration=MS]` running lasts MS milliseconds
//!   (default 400); `[fal:queue=N]` the request starts at queue position N (default 1);
//! - `[fal:never]` the request never finishes (for cancel tests); `[fal:data-uri]` (or
//!   `sync_mode: true`) outputs come back as `data:` URIs (`[fal:size=N]` pads an image one to
//!   about N bytes);
//! - `[fal:output-url=URL]` every output file of the result points at URL (up to the next
//!   space or quote; a final `]` ends the token), as an app that lists any URL would;
//! - `[fal:content-type=TYPE]` output files are described as TYPE (the bytes stay the same);
//! - `[fal:moov-last]` MP4 outputs have their `moov` box at the end, after the padding of
//!   `[fal:size=N]` (a file not written for fast start);
//! - `[fal:huge-error=N]` the result answers 422 with an N-byte body; `[fal:huge-result=N]` the
//!   result answers 200 with an N-byte JSON body and no `Content-Length`. Both are streamed, so
//!   the fake holds none of it.
//!
//! Transient failures of any route come from `POST /_fake/failure` (see the module above).

use std::{
    collections::HashMap,
    sync::{
        Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use axum::{
    Json,
    body::{Body, Bytes},
    extract::{Request, State},
    http::{HeaderMap, Method, StatusCode, header},
    response::{
        IntoResponse, Response,
        sse::{Event, Sse},
    },
};
use base64::Engine;
use futures_util::{StreamExt, stream};
use serde_json::{Value, json};

use super::{
    KeyBehaviour, Shared, catalog, key_behaviour,
    media::{self, Kind},
    reject_bad_key,
};

const QUEUE_STEP: Duration = Duration::from_millis(150);
const DEFAULT_RUN: Duration = Duration::from_millis(400);
const MAX_UPLOAD: usize = 64 * 1024 * 1024;

#[derive(Clone)]
pub struct FakeRequest {
    pub endpoint_id: String,
    pub app_id: String,
    pub input: Value,
    /// When the fake received it: the order in which the studio sent its requests.
    pub created: Instant,
    queue_start: u32,
    run: Duration,
    never: bool,
    cancelled: bool,
    /// When the cancellation arrived.
    cancelled_at: Option<Instant>,
    script: String,
    /// The key it was submitted with (`Authorization: Key …`): fal counts concurrency per key.
    pub key: Option<String>,
}

#[derive(Default)]
pub struct QueueState {
    requests: Mutex<HashMap<String, FakeRequest>>,
    uploads: Mutex<HashMap<String, (String, Bytes)>>,
    /// Bytes of `huge-*` bodies handed to the connection so far.
    filler_sent: AtomicU64,
}

impl QueueState {
    pub fn filler_sent(&self) -> u64 {
        self.filler_sent.load(Ordering::Relaxed)
    }

    pub fn submitted(&self) -> Vec<FakeRequest> {
        self.requests
            .lock()
            .map(|r| r.values().cloned().collect())
            .unwrap_or_default()
    }

    /// The most requests each key had in flight at one moment so far (see
    /// [`FakeRequest::in_flight_until`]); requests without a key are counted under "".
    pub fn peak_in_flight(&self) -> HashMap<String, usize> {
        let mut by_key: HashMap<String, Vec<(Instant, Option<Instant>)>> = HashMap::new();
        for r in self.submitted() {
            by_key
                .entry(r.key.clone().unwrap_or_default())
                .or_default()
                .push((r.created, r.in_flight_until()));
        }
        by_key
            .into_iter()
            .map(|(key, spans)| (key, peak(&spans)))
            .collect()
    }

    /// Billing events for those of `ids` that `key` submitted and that ran (see the route).
    pub fn billed(
        &self,
        ids: &[String],
        key: Option<&str>,
        price_of: fn(&str) -> Option<(f64, &'static str)>,
    ) -> Vec<Value> {
        let Ok(requests) = self.requests.lock() else {
            return Vec::new();
        };
        ids.iter()
            .filter_map(|id| {
                let r = requests.get(id)?;
                if r.cancelled || r.key.as_deref() != key {
                    return None;
                }
                let (unit_price, _) = price_of(&r.endpoint_id)?;
                let units = ["num_images", "duration"]
                    .iter()
                    .find_map(|k| {
                        let v = &r.input[*k];
                        v.as_f64().or_else(|| {
                            v.as_str()
                                .and_then(|s| s.trim_end_matches('s').parse().ok())
                        })
                    })
                    .unwrap_or(1.0);
                let discount = r.number("discount").map(|d| d.min(100) as f64);
                let nano = (units * unit_price * (1.0 - discount.unwrap_or(0.0) / 100.0) * 1e9)
                    .round() as i64;
                Some(serde_json::json!({
                    "request_id": id,
                    "endpoint_id": r.endpoint_id,
                    "timestamp": "2026-12-01T00:00:00Z",
                    "output_units": units,
                    "unit_price": unit_price,
                    "percent_discount": discount,
                    "cost_estimate_nano_usd": nano,
                }))
            })
            .collect()
    }

    /// The most requests in flight at one moment so far, whatever their keys.
    pub fn peak_in_flight_overall(&self) -> usize {
        let spans: Vec<(Instant, Option<Instant>)> = self
            .submitted()
            .iter()
            .map(|r| (r.created, r.in_flight_until()))
            .collect();
        peak(&spans)
    }
}

/// The most of `spans` (from, until; `None`: still open) that overlap at one moment. A span
/// ending when another starts does not overlap it.
fn peak(spans: &[(Instant, Option<Instant>)]) -> usize {
    let now = Instant::now();
    let mut edges: Vec<(Instant, i32)> = Vec::with_capacity(spans.len() * 2);
    for (from, until) in spans {
        edges.push((*from, 1));
        edges.push((until.unwrap_or(now).max(*from), -1));
    }
    // Ends before starts at the same instant.
    edges.sort_by_key(|(at, step)| (*at, *step));
    let (mut open, mut most) = (0i32, 0i32);
    for (_, step) in edges {
        open += step;
        most = most.max(open);
    }
    most as usize
}

enum Phase {
    Queued(u32),
    Running(f64),
    Completed,
}

impl FakeRequest {
    fn phase(&self) -> Phase {
        let elapsed = self.created.elapsed();
        let queued_for = QUEUE_STEP * self.queue_start;
        if elapsed < queued_for {
            let left = (queued_for - elapsed).as_millis() / QUEUE_STEP.as_millis().max(1);
            return Phase::Queued(left as u32);
        }
        if self.cancelled {
            return Phase::Completed;
        }
        let running = elapsed - queued_for;
        if self.never || running < self.run {
            return Phase::Running((running.as_secs_f64() / self.run.as_secs_f64()).min(0.99));
        }
        Phase::Completed
    }

    /// When fal stops counting the request against its key's concurrency: once it completed
    /// (or was cancelled out of the run); `None` while it is queued or running.
    pub fn in_flight_until(&self) -> Option<Instant> {
        let queued_until = self.created + QUEUE_STEP * self.queue_start;
        if let Some(at) = self.cancelled_at {
            return Some(at.max(queued_until));
        }
        if self.never {
            return None;
        }
        let done = queued_until + self.run;
        (Instant::now() >= done).then_some(done)
    }

    fn has(&self, token: &str) -> bool {
        self.script.contains(&format!("[fal:{token}]"))
    }

    fn number(&self, name: &str) -> Option<u64> {
        let start = self.script.find(&format!("[fal:{name}="))? + name.len() + 6;
        let rest = self.script.get(start..)?;
        rest.split(']').next()?.parse().ok()
    }

    /// The value of `[fal:{name}=...]` up to the next space or quote, without the closing `]`
    /// (so it may itself contain brackets, like an IPv6 URL).
    fn text(&self, name: &str) -> Option<&str> {
        let start = self.script.find(&format!("[fal:{name}="))? + name.len() + 6;
        let rest = self.script.get(start..)?;
        let end = rest.find([' ', '"', '\\']).unwrap_or(rest.len());
        rest[..end].strip_suffix(']')
    }

    fn completed_with_error(&self) -> bool {
        self.cancelled || self.has("completed-error")
    }
}

/// Everything the catalog routes do not answer: queue, uploads, CDN.
pub async fn dispatch(State(state): State<Shared>, request: Request) -> Response {
    let method = request.method().clone();
    let path = request.uri().path().trim_start_matches('/').to_owned();
    let headers = request.headers().clone();
    let base = state.base_url();

    if method == Method::GET
        && let Some(rest) = path.strip_prefix("cdn/")
    {
        return cdn(&state, rest).await;
    }
    if method == Method::GET
        && let Some(token) = path.strip_prefix("uploads/")
    {
        return uploaded(&state, token);
    }
    if method == Method::PUT
        && let Some(token) = path.strip_prefix("storage/put/")
    {
        let body = match axum::body::to_bytes(request.into_body(), MAX_UPLOAD).await {
            Ok(b) => b,
            Err(_) => return detail(StatusCode::PAYLOAD_TOO_LARGE, "Upload too large"),
        };
        return put_upload(&state, token, &headers, body);
    }
    if let Some(r) = reject_bad_key(&key_behaviour(&headers)) {
        return r;
    }
    if method == Method::POST && path == "storage/upload/initiate" {
        let body = axum::body::to_bytes(request.into_body(), 64 * 1024)
            .await
            .unwrap_or_default();
        return initiate_upload(&base, &body);
    }

    let segments: Vec<&str> = path.split('/').collect();
    let requests_at = segments.iter().position(|s| *s == "requests");
    match (method, requests_at) {
        (Method::POST, None) => {
            let body = axum::body::to_bytes(request.into_body(), 8 * 1024 * 1024)
                .await
                .unwrap_or_default();
            submit(&state, &base, &path, &headers, &body)
        }
        (m, Some(i)) if i + 1 < segments.len() => {
            let app = segments[..i].join("/");
            let id = segments[i + 1];
            let tail = &segments[i + 2..];
            match (m, tail) {
                (Method::GET, ["status"]) => status(&state, &app, id),
                (Method::GET, ["status", "stream"]) => {
                    status_stream(state.clone(), app, id.to_owned())
                }
                (Method::GET, []) => result(&state, &base, &app, id),
                (Method::PUT, ["cancel"]) => cancel(&state, &app, id),
                _ => detail(StatusCode::NOT_FOUND, "Not found"),
            }
        }
        _ => detail(StatusCode::NOT_FOUND, &format!("Not found: /{path}")),
    }
}

fn detail(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({ "detail": message }))).into_response()
}

fn submit(
    state: &Shared,
    base: &str,
    endpoint_id: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Response {
    if matches!(key_behaviour(headers), KeyBehaviour::Outage) {
        return detail(StatusCode::SERVICE_UNAVAILABLE, "Service unavailable");
    }
    let Ok(input) = serde_json::from_slice::<Value>(body) else {
        return detail(StatusCode::UNPROCESSABLE_ENTITY, "Body is not valid JSON");
    };
    if !catalog::knows(endpoint_id) {
        return detail(
            StatusCode::NOT_FOUND,
            &format!("Application '{endpoint_id}' not found"),
        );
    }
    let script = input.to_string();
    let probe = FakeRequest {
        endpoint_id: endpoint_id.to_owned(),
        app_id: app_id(endpoint_id),
        input: input.clone(),
        created: Instant::now(),
        queue_start: 1,
        run: DEFAULT_RUN,
        never: false,
        cancelled: false,
        cancelled_at: None,
        script,
        key: headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Key "))
            .map(str::to_owned),
    };
    if probe.has("invalid") {
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(json!({ "detail": [{ "loc": ["body", "prompt"], "msg": "The prompt is not acceptable to this model", "type": "value_error" }] })),
        )
            .into_response();
    }
    if probe.has("policy") {
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            [("x-fal-retryable", "false")],
            Json(json!({ "detail": [{ "loc": ["body", "prompt"], "msg": "The content was flagged by a content checker.", "type": "content_policy_violation", "categories": ["violence"] }] })),
        )
            .into_response();
    }
    if probe.has("forbidden") {
        return detail(
            StatusCode::FORBIDDEN,
            "This capability is restricted for your account",
        );
    }
    if let Some(bad) = unreachable_file_input(state, base, &input) {
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(json!({ "detail": [{ "loc": ["body", bad.0], "msg": format!("Could not download file from URL: {}", bad.1), "type": "file_download_error" }] })),
        )
            .into_response();
    }
    let request = FakeRequest {
        queue_start: probe.number("queue").map(|n| n as u32).unwrap_or(1),
        run: probe
            .number("duration")
            .map(Duration::from_millis)
            .unwrap_or(DEFAULT_RUN),
        never: probe.has("never"),
        ..probe
    };
    let id = uuid::Uuid::now_v7().to_string();
    let app = request.app_id.clone();
    let queue_position = request.queue_start.saturating_sub(1);
    if let Ok(mut r) = state.queue.requests.lock() {
        r.insert(id.clone(), request);
    }
    let url = |suffix: &str| format!("{base}/{app}/requests/{id}{suffix}");
    Json(json!({
        "status": "IN_QUEUE",
        "request_id": id,
        "response_url": url(""),
        "status_url": url("/status"),
        "cancel_url": url("/cancel"),
        "queue_position": queue_position,
    }))
    .into_response()
}

/// A file input the fake cannot fetch: neither a `data:` URI nor one of its own uploads.
fn unreachable_file_input(state: &Shared, base: &str, input: &Value) -> Option<(String, String)> {
    let object = input.as_object()?;
    let uploads = state.queue.uploads.lock().ok()?;
    for (name, value) in object {
        let urls: Vec<&str> = match value {
            Value::String(s) if name.ends_with("_url") => vec![s.as_str()],
            Value::Array(items) if name.ends_with("_urls") => {
                items.iter().filter_map(Value::as_str).collect()
            }
            _ => continue,
        };
        for url in urls {
            let ok = url.starts_with("data:")
                || url
                    .strip_prefix(&format!("{base}/uploads/"))
                    .is_some_and(|t| uploads.contains_key(t));
            if !ok {
                return Some((name.clone(), url.to_owned()));
            }
        }
    }
    None
}

fn find(state: &Shared, app: &str, id: &str) -> Option<FakeRequest> {
    let requests = state.queue.requests.lock().ok()?;
    requests.get(id).filter(|r| r.app_id == app).cloned()
}

fn status_body(request: &FakeRequest, id: &str) -> Value {
    match request.phase() {
        Phase::Queued(position) => {
            json!({ "status": "IN_QUEUE", "request_id": id, "queue_position": position })
        }
        Phase::Running(progress) => json!({
            "status": "IN_PROGRESS",
            "request_id": id,
            "logs": logs(progress),
        }),
        Phase::Completed => {
            let mut body = json!({
                "status": "COMPLETED",
                "request_id": id,
                "logs": logs(1.0),
                "metrics": { "inference_time": request.run.as_secs_f64() },
            });
            if request.completed_with_error() {
                let (error, kind) = if request.cancelled {
                    ("Request was cancelled", "client_cancelled")
                } else {
                    ("The model crashed while generating", "runner_server_error")
                };
                body["error"] = json!(error);
                body["error_type"] = json!(kind);
            }
            body
        }
    }
}

fn logs(progress: f64) -> Value {
    let steps = (progress * 4.0).floor() as usize;
    let lines: Vec<Value> = (0..=steps.min(4))
        .map(|i| {
            json!({
                "message": format!("step {} of 4", i),
                "level": "INFO",
                "source": "user",
                "timestamp": "2026-11-25T00:00:00Z",
            })
        })
        .collect();
    Value::Array(lines)
}

fn status(state: &Shared, app: &str, id: &str) -> Response {
    match find(state, app, id) {
        Some(r) => Json(status_body(&r, id)).into_response(),
        None => detail(StatusCode::NOT_FOUND, "Request not found"),
    }
}

fn status_stream(state: Shared, app: String, id: String) -> Response {
    if find(&state, &app, &id).is_none() {
        return detail(StatusCode::NOT_FOUND, "Request not found");
    }
    let events = stream::unfold(Some(()), move |go| {
        let state = state.clone();
        let app = app.clone();
        let id = id.clone();
        async move {
            go?;
            tokio::time::sleep(Duration::from_millis(100)).await;
            let request = find(&state, &app, &id)?;
            let body = status_body(&request, &id);
            let done = body["status"] == "COMPLETED";
            let event = Event::default().data(body.to_string());
            Some((
                Ok::<_, std::convert::Infallible>(event),
                (!done).then_some(()),
            ))
        }
    });
    Sse::new(events).into_response()
}

fn result(state: &Shared, base: &str, app: &str, id: &str) -> Response {
    let Some(request) = find(state, app, id) else {
        return detail(StatusCode::NOT_FOUND, "Request not found");
    };
    if !matches!(request.phase(), Phase::Completed) {
        return detail(StatusCode::BAD_REQUEST, "Request is still in progress");
    }
    if request.has("result-expired") {
        return detail(StatusCode::NOT_FOUND, "Request result has expired");
    }
    if let Some(n) = request.number("huge-error") {
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            [(header::CONTENT_TYPE, "application/json")],
            filler(state.clone(), b"{\"detail\":\"", b"\"}", n),
        )
            .into_response();
    }
    if let Some(n) = request.number("huge-result") {
        return (
            [(header::CONTENT_TYPE, "application/json")],
            filler(state.clone(), b"{\"seed\":1,\"padding\":\"", b"\"}", n),
        )
            .into_response();
    }
    if request.completed_with_error() {
        let message = if request.cancelled {
            "Request was cancelled"
        } else {
            "The model crashed while generating"
        };
        return (
            StatusCode::INTERNAL_SERVER_ERROR,
            [("x-fal-error-type", "runner_server_error")],
            Json(json!({ "detail": message, "error_type": "runner_server_error" })),
        )
            .into_response();
    }
    let video = catalog::is_video(&request.endpoint_id);
    let audio = catalog::is_audio(&request.endpoint_id);
    let size = request.number("size").unwrap_or(0);
    let inline = request.has("data-uri") || request.input["sync_mode"] == true;
    let file = |index: usize| -> Value {
        let (ext, content_type) = if video {
            ("mp4", "video/mp4")
        } else if audio {
            ("mp3", "audio/mpeg")
        } else {
            ("png", "image/png")
        };
        let url = if let Some(url) = request.text("output-url") {
            url.to_owned()
        } else if inline {
            let bytes = if video {
                media::SAMPLE
            } else if audio {
                media::SAMPLE_MP3
            } else {
                let mut png = media::png(64, 64);
                png.resize((size as usize).clamp(png.len(), 64 << 20), 0);
                return json!({
                    "url": format!("data:image/png;base64,{}", base64::engine::general_purpose::STANDARD.encode(png)),
                    "content_type": content_type, "width": 64, "height": 64,
                });
            };
            format!(
                "data:{content_type};base64,{}",
                base64::engine::general_purpose::STANDARD.encode(bytes)
            )
        } else {
            format!("{base}/cdn/{id}/{index}.{ext}?size={size}")
        };
        let content_type = request.text("content-type").unwrap_or(content_type);
        let mut f = json!({ "url": url, "content_type": content_type, "file_name": format!("output-{index}.{ext}") });
        if audio {
            f["file_size"] = json!(media::SAMPLE_MP3.len());
        } else if !video {
            let (width, height) = image_dimensions(&request.input);
            f["width"] = json!(width);
            f["height"] = json!(height);
        }
        f
    };
    let body = if video {
        json!({ "video": file(0), "seed": 1234 })
    } else if audio {
        // As fal's text-to-speech endpoints: the file, and word timestamps when asked for.
        json!({ "audio": file(0), "timestamps": [] })
    } else {
        let n = request.input["num_images"]
            .as_u64()
            .unwrap_or(1)
            .clamp(1, 8) as usize;
        json!({
            "images": (0..n).map(file).collect::<Vec<_>>(),
            "seed": 1234,
            "timings": { "inference": request.run.as_secs_f64() },
            "has_nsfw_concepts": vec![false; n],
            "prompt": request.input["prompt"],
        })
    };
    ([("x-fal-request-id", id)], Json(body)).into_response()
}

/// The size of an image output, as fal's image models take it: `image_size` as a preset name
/// (`square_hd`, `landscape_16_9`, …) or `{width, height}`, else `aspect_ratio` (`16:9`) on a
/// 1024 px long side; with neither, the small 64×64 picture most tests want (cheap to make).
fn image_dimensions(input: &Value) -> (u32, u32) {
    const MAX: u64 = 4096;
    match &input["image_size"] {
        Value::String(preset) => match preset.as_str() {
            "square_hd" => return (1024, 1024),
            "square" => return (512, 512),
            "portrait_4_3" => return (768, 1024),
            "portrait_16_9" => return (576, 1024),
            "landscape_4_3" => return (1024, 768),
            "landscape_16_9" => return (1024, 576),
            _ => {}
        },
        Value::Object(size) => {
            let side = |k: &str| {
                size.get(k)
                    .and_then(Value::as_u64)
                    .map(|n| n.clamp(1, MAX) as u32)
            };
            if let (Some(w), Some(h)) = (side("width"), side("height")) {
                return (w, h);
            }
        }
        _ => {}
    }
    if let Some((w, h)) = input["aspect_ratio"]
        .as_str()
        .and_then(|r| r.split_once(':'))
        .and_then(|(w, h)| Some((w.trim().parse::<f64>().ok()?, h.trim().parse::<f64>().ok()?)))
        .filter(|(w, h)| *w > 0.0 && *h > 0.0)
    {
        let long = 1024.0;
        let (w, h) = if w >= h {
            (long, long * h / w)
        } else {
            (long * w / h, long)
        };
        return (w.round().max(1.0) as u32, h.round().max(1.0) as u32);
    }
    (64, 64)
}

/// A body of exactly `total` bytes (at least prefix and suffix): `prefix`, `x`s, `suffix`,
/// made 64 KiB at a time as it is sent (and counted in `filler_sent`).
fn filler(state: Shared, prefix: &'static [u8], suffix: &'static [u8], total: u64) -> Body {
    const CHUNK: u64 = 64 * 1024;
    let middle = total.saturating_sub((prefix.len() + suffix.len()) as u64);
    let pieces = stream::once(async move { Ok::<_, std::io::Error>(Bytes::from_static(prefix)) })
        .chain(stream::unfold(middle, move |left| {
            let state = state.clone();
            async move {
                (left > 0).then(|| {
                    let n = left.min(CHUNK);
                    state.queue.filler_sent.fetch_add(n, Ordering::Relaxed);
                    (Ok(Bytes::from(vec![b'x'; n as usize])), left - n)
                })
            }
        }))
        .chain(stream::once(async move { Ok(Bytes::from_static(suffix)) }));
    Body::from_stream(pieces)
}

fn cancel(state: &Shared, app: &str, id: &str) -> Response {
    let Ok(mut requests) = state.queue.requests.lock() else {
        return detail(StatusCode::INTERNAL_SERVER_ERROR, "lock");
    };
    let Some(request) = requests.get_mut(id).filter(|r| r.app_id == app) else {
        return (
            StatusCode::NOT_FOUND,
            Json(json!({ "status": "NOT_FOUND" })),
        )
            .into_response();
    };
    if matches!(request.phase(), Phase::Completed) {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({ "status": "ALREADY_COMPLETED" })),
        )
            .into_response();
    }
    request.cancelled = true;
    request.cancelled_at.get_or_insert_with(Instant::now);
    (
        StatusCode::ACCEPTED,
        Json(json!({ "status": "CANCELLATION_REQUESTED" })),
    )
        .into_response()
}

async fn cdn(state: &Shared, rest: &str) -> Response {
    // `{request_id}/{index}.{ext}`; the size comes from the request's script.
    let mut parts = rest.splitn(2, '/');
    let (Some(id), Some(file)) = (parts.next(), parts.next()) else {
        return detail(StatusCode::NOT_FOUND, "Not found");
    };
    let request = state
        .queue
        .requests
        .lock()
        .ok()
        .and_then(|r| r.get(id).cloned());
    let Some(request) = request else {
        return detail(StatusCode::NOT_FOUND, "File not found");
    };
    if request.has("cdn-expired") {
        return detail(StatusCode::NOT_FOUND, "File has expired");
    }
    let kind = match (file.ends_with(".mp4"), request.has("moov-last")) {
        _ if file.ends_with(".mp3") => Kind::Mp3,
        (true, false) => Kind::Mp4,
        (true, true) => Kind::Mp4MoovLast,
        (false, _) => {
            let (width, height) = image_dimensions(&request.input);
            Kind::Png { width, height }
        }
    };
    let content_type = match kind {
        Kind::Mp4 | Kind::Mp4MoovLast => "video/mp4",
        Kind::Mp3 => "audio/mpeg",
        Kind::Png { .. } => "image/png",
    };
    // A video is a few MiB, as a model's 5-second clip is (its picture stays the small sample's).
    let default_size = if content_type == "video/mp4" {
        2 << 20
    } else {
        0
    };
    let (total, body) = media::file(kind, request.number("size").unwrap_or(default_size));
    let slow = request.has("slow");
    let truncate_at = request.has("truncated").then_some(total / 2);
    let mut sent = 0u64;
    let body = body
        .flat_map(|piece| {
            // Re-chunk to 64 KiB so `slow` and `truncated` act at a fine grain.
            let pieces: Vec<Result<Bytes, std::io::Error>> = match piece {
                Ok(b) => (0..b.len())
                    .step_by(64 * 1024)
                    .map(|i| Ok(b.slice(i..(i + 64 * 1024).min(b.len()))))
                    .collect(),
                Err(e) => vec![Err(e)],
            };
            stream::iter(pieces)
        })
        .take_while(move |piece| {
            let keep = match (truncate_at, piece) {
                (Some(limit), Ok(b)) => {
                    sent += b.len() as u64;
                    sent <= limit
                }
                _ => true,
            };
            std::future::ready(keep)
        })
        .then(move |piece| async move {
            if slow {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            piece
        });
    (
        [
            (header::CONTENT_TYPE, content_type.to_owned()),
            (header::CONTENT_LENGTH, total.to_string()),
        ],
        Body::from_stream(body),
    )
        .into_response()
}

fn initiate_upload(base: &str, body: &[u8]) -> Response {
    let request: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let Some(content_type) = request["content_type"].as_str() else {
        return detail(StatusCode::UNPROCESSABLE_ENTITY, "content_type is required");
    };
    let token = uuid::Uuid::now_v7().to_string();
    let _ = content_type;
    Json(json!({
        "upload_url": format!("{base}/storage/put/{token}"),
        "file_url": format!("{base}/uploads/{token}"),
    }))
    .into_response()
}

fn put_upload(state: &Shared, token: &str, headers: &HeaderMap, body: Bytes) -> Response {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/octet-stream")
        .to_owned();
    if let Ok(mut uploads) = state.queue.uploads.lock() {
        uploads.insert(token.to_owned(), (content_type, body));
    }
    StatusCode::OK.into_response()
}

fn uploaded(state: &Shared, token: &str) -> Response {
    let found = state
        .queue
        .uploads
        .lock()
        .ok()
        .and_then(|u| u.get(token).cloned());
    match found {
        Some((content_type, bytes)) => {
            ([(header::CONTENT_TYPE, content_type)], bytes).into_response()
        }
        None => detail(StatusCode::NOT_FOUND, "File not found"),
    }
}

/// fal's queue app id: `[namespace/]owner/alias` of an endpoint id (`workflows/` and `comfy/`
/// ids keep three parts). The studio has its own copy in `fal::app_id`; the fake keeps this one
/// so it depends on nothing of the studio.
fn app_id(endpoint_id: &str) -> String {
    let parts: Vec<&str> = endpoint_id.split('/').collect();
    let take = if matches!(parts.first(), Some(&"workflows" | &"comfy")) {
        3
    } else {
        2
    };
    parts[..take.min(parts.len())].join("/")
}

/// The bytes uploaded under a fake storage URL, for tests that check what the studio sent.
pub fn upload_bytes(state: &QueueState, file_url: &str) -> Option<Bytes> {
    let token = file_url.rsplit('/').next()?;
    state
        .uploads
        .lock()
        .ok()?
        .get(token)
        .map(|(_, b)| b.clone())
}
