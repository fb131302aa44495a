//! Bounds that keep one account (or one connection) from taking the whole studio: the per-user
//! queue cap, the size of a form's parameters, files and bytes per result.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{TestApp, error_of, ready};

const T2I: &str = "fal-ai/bytedance/seedream/v4/text-to-image";
/// Jobs with this prompt stay at fal until cancelled, so they keep their place in the queue.
const NEVER: &str = "a fox [fal:never]";

async fn active_jobs(app: &TestApp) -> i64 {
    sqlx::query_scalar(
        "SELECT COUNT(*) FROM jobs WHERE status IN ('queued','submitting','running','storing')",
    )
    .fetch_one(&app.db().await)
    .await
    .unwrap()
}

#[tokio::test]
async fn parallel_generations_past_the_queue_cap_are_refused_so_exactly_the_cap_is_queued() {
    let app = ready(vec![("JOBS_MAX_QUEUED_PER_USER", "5".into())]).await;

    let posts = (0..20).map(|_| app.generate(T2I, json!({ "prompt": NEVER }), vec![], &[]));
    let responses = futures_util::future::join_all(posts).await;

    let mut accepted = 0;
    let mut refused = 0;
    for response in responses {
        match response.status() {
            StatusCode::ACCEPTED => accepted += 1,
            StatusCode::TOO_MANY_REQUESTS => {
                let (_, error) = error_of(response).await;
                assert_eq!(error["category"], "rate_limited", "{error}");
                let message = error["message"].as_str().unwrap();
                assert!(
                    message.contains("5 generations waiting or running")
                        && message.contains("cancel some"),
                    "says why and what to do: {message}"
                );
                assert_eq!(error["details"]["limit"], 5, "{error}");
                refused += 1;
            }
            other => panic!("unexpected {other}: {:?}", response.text().await),
        }
    }
    assert_eq!((accepted, refused), (5, 15));
    assert_eq!(active_jobs(&app).await, 5);
    let leftovers: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM jobs")
        .fetch_one(&app.db().await)
        .await
        .unwrap();
    assert_eq!(leftovers, 5, "refused forms leave no job row behind");
}

#[tokio::test]
async fn every_run_of_a_form_counts_and_a_batch_past_the_cap_is_refused_whole() {
    let app = ready(vec![("JOBS_MAX_QUEUED_PER_USER", "5".into())]).await;
    let four = app
        .generate(T2I, json!({ "prompt": NEVER }), vec![], &[("count", "4")])
        .await;
    assert_eq!(four.status(), StatusCode::ACCEPTED);

    let two = app
        .generate(T2I, json!({ "prompt": NEVER }), vec![], &[("count", "2")])
        .await;
    let (status, error) = error_of(two).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{error}");
    let message = error["message"].as_str().unwrap();
    assert!(
        message.contains("would add 2") && message.contains("fewer runs"),
        "{message}"
    );
    assert_eq!(
        active_jobs(&app).await,
        4,
        "nothing of the refused batch queued"
    );

    let one = app
        .generate(T2I, json!({ "prompt": NEVER }), vec![], &[])
        .await;
    assert_eq!(
        one.status(),
        StatusCode::ACCEPTED,
        "the last place is still free"
    );
}

#[tokio::test]
async fn retries_count_against_the_queue_cap_and_a_cancelled_job_frees_its_place() {
    let app = ready(vec![("JOBS_MAX_QUEUED_PER_USER", "2".into())]).await;
    let first = app.start(T2I, json!({ "prompt": NEVER }), vec![]).await;
    let second = app.start(T2I, json!({ "prompt": NEVER }), vec![]).await;

    let retry = app.retry(&first).await;
    let (status, error) = error_of(retry).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{error}");
    assert_eq!(error["category"], "rate_limited");

    let cancelled = app.cancel(&second).await;
    assert_eq!(cancelled.status(), StatusCode::OK);
    app.finished(&second).await;
    let retry = app.retry(&first).await;
    assert_eq!(retry.status(), StatusCode::ACCEPTED);
}

#[tokio::test]
async fn the_queue_cap_is_per_account() {
    let app = ready(vec![("JOBS_MAX_QUEUED_PER_USER", "1".into())]).await;
    app.start(T2I, json!({ "prompt": NEVER }), vec![]).await;
    let bob = app.second_user().await;
    let form = reqwest::multipart::Form::new()
        .text("endpoint", T2I)
        .text("params", json!({ "prompt": NEVER }).to_string());
    let response = bob
        .post(app.at("/api/generations"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        StatusCode::ACCEPTED,
        "bob has his own places"
    );
}

#[tokio::test]
async fn params_over_256_kib_are_refused_naming_the_part() {
    let app = ready(vec![]).await;
    let prompt = "x".repeat(300 * 1024);
    let response = app
        .generate(T2I, json!({ "prompt": prompt }), vec![], &[])
        .await;
    let (status, error) = error_of(response).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{error}");
    assert_eq!(error["category"], "too_large");
    assert_eq!(error["details"][0]["field"], "params", "{error}");
    assert_eq!(active_jobs(&app).await, 0);
}

#[tokio::test]
async fn a_result_with_more_files_than_allowed_fails_before_any_download() {
    let app = ready(vec![("OUTPUT_MAX_FILES", "2".into())]).await;
    let id = app
        .start(T2I, json!({ "prompt": "foxes", "num_images": 3 }), vec![])
        .await;
    let job = app.finished(&id).await;
    assert_eq!(job["status"], "failed", "{job}");
    let message = job["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("3 files") && message.contains("at most 2"),
        "{message}"
    );
    assert!(
        app.stored_files()
            .iter()
            .all(|p| !p.to_string_lossy().contains("/assets/"))
    );
    assert!(
        app.fake.requests_to("/cdn/").is_empty(),
        "no output was downloaded"
    );
}

#[tokio::test]
async fn outputs_past_the_per_job_total_fail_the_job_and_nothing_stays_stored() {
    // 1 MiB per job; three outputs of 400 KiB each: the third goes over.
    let app = ready(vec![("OUTPUT_MAX_JOB_MB", "1".into())]).await;
    let id = app
        .start(
            T2I,
            json!({ "prompt": "foxes [fal:size=409600]", "num_images": 3 }),
            vec![],
        )
        .await;
    let job = app.finished(&id).await;
    assert_eq!(job["status"], "failed", "{job}");
    assert_eq!(job["error"]["category"], "too_large", "{job}");
    let message = job["error"]["message"].as_str().unwrap();
    assert!(message.contains("1 MiB per generation"), "{message}");
    assert!(
        app.stored_files()
            .iter()
            .all(|p| !p.to_string_lossy().contains("/assets/")),
        "{:?}",
        app.stored_files()
    );
}

/// No client-visible message names a server path or an OS error.
fn reveals_nothing_internal(message: &str) -> bool {
    !message.contains('/') && !message.contains("os error") && !message.contains("directory")
}

#[tokio::test]
async fn a_failing_store_for_an_upload_says_storage_is_unavailable_without_paths() {
    let app = ready(vec![]).await;
    // A file where the references folder should be: creating it fails with the path in the
    // OS error.
    let files = app.dir.join("data/files");
    std::fs::write(files.join("references"), b"in the way").unwrap();

    let response = app
        .generate(
            "fal-ai/flux-pro/kontext",
            json!({ "prompt": "a cat" }),
            vec![("generalReferences", "cat.png", fake_fal::png_bytes(8, 8))],
            &[],
        )
        .await;
    let (status, error) = error_of(response).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{error}");
    let message = error["message"].as_str().unwrap();
    assert!(
        message.contains("Storage is unavailable, try again"),
        "{message}"
    );
    assert!(reveals_nothing_internal(message), "{message}");
}

#[tokio::test]
async fn a_failing_store_for_an_output_fails_the_job_without_paths() {
    let app = ready(vec![("STORAGE_RETRY_BASE_MS", "1".into())]).await;
    let files = app.dir.join("data/files");
    std::fs::write(files.join("assets"), b"in the way").unwrap();

    let id = app.start(T2I, json!({ "prompt": "a fox" }), vec![]).await;
    let job = app.finished(&id).await;
    assert_eq!(job["status"], "failed", "{job}");
    let message = job["error"]["message"].as_str().unwrap();
    assert!(message.contains("Storage is unavailable"), "{message}");
    assert!(reveals_nothing_internal(message), "{message}");
}

#[tokio::test]
async fn a_repeated_endpoint_or_params_part_is_refused_naming_the_part() {
    let app = ready(vec![]).await;
    let params = json!({ "prompt": "a fox" }).to_string();
    let cases = [
        (
            "endpoint",
            vec![
                ("endpoint", T2I),
                ("endpoint", "fal-ai/veo3"),
                ("params", &params),
            ],
        ),
        (
            "params",
            vec![
                ("endpoint", T2I),
                ("params", &params),
                ("params", "{\"prompt\":\"b\"}"),
            ],
        ),
    ];
    for (part, fields) in cases {
        let mut form = reqwest::multipart::Form::new();
        for (name, value) in fields {
            form = form.text(name, value.to_owned());
        }
        let response = app
            .client
            .post(app.at("/api/generations"))
            .multipart(form)
            .send()
            .await
            .unwrap();
        let (status, error) = error_of(response).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{part}: {error}");
        assert_eq!(error["details"][0]["field"], part, "{part}: {error}");
        assert!(
            error["message"]
                .as_str()
                .unwrap()
                .contains("more than once"),
            "{part}: {error}"
        );
    }
    assert_eq!(active_jobs(&app).await, 0);
}
