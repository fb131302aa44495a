use reqwest::{StatusCode, header};
use serde_json::{Value, json};

use crate::helpers::{Options, error_of, ready, spawn_app};

const T2I: &str = "fal-ai/bytedance/seedream/v4/text-to-image";
const KONTEXT: &str = "fal-ai/flux-pro/kontext";
const VEO3: &str = "fal-ai/veo3";

fn png(w: u32, h: u32) -> Vec<u8> {
    fake_fal::png_bytes(w, h)
}

#[tokio::test]
async fn an_image_generation_runs_and_its_outputs_are_ours() {
    let app = ready(Options::default()).await;
    let response = app
        .generate(
            T2I,
            json!({ "prompt": "a red fox", "num_images": 2 }),
            vec![],
            &[],
        )
        .await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["job"]["status"], "queued");
    assert_eq!(body["job"]["endpointId"], T2I);
    let id = body["job"]["id"].as_str().unwrap().to_owned();

    let job = app.finished(&id).await;
    assert_eq!(job["status"], "completed", "{job}");
    let assets = job["assets"].as_array().unwrap();
    assert_eq!(assets.len(), 2);
    let submitted = app.fake.submitted();
    assert_eq!(submitted.len(), 1);
    assert_eq!(submitted[0].endpoint_id, T2I);
    assert_eq!(submitted[0].input["prompt"], "a red fox");
    assert!(job["requestId"].is_string());
    assert!(
        !job.to_string().contains("/cdn/"),
        "no provider URL reaches the client: {job}"
    );

    let asset = &assets[0];
    assert_eq!(asset["resultKind"], "image");
    assert_eq!(asset["contentType"], "image/png");
    assert_eq!(asset["width"], 64);
    assert_eq!(asset["height"], 64);
    assert_eq!(asset["prompt"], "a red fox");
    assert_eq!(asset["seed"], 1234);
    assert!(asset["inferenceTime"].as_f64().unwrap() > 0.0);
    let url = asset["url"].as_str().unwrap();
    assert!(url.starts_with("/files/"), "{url}");

    let file = app.client.get(app.at(url)).send().await.unwrap();
    assert_eq!(file.status(), StatusCode::OK);
    assert_eq!(file.headers()[header::CONTENT_TYPE], "image/png");
    assert!(
        file.headers()[header::CACHE_CONTROL]
            .to_str()
            .unwrap()
            .starts_with("private")
    );
    assert!(
        file.headers()[header::CONTENT_DISPOSITION]
            .to_str()
            .unwrap()
            .starts_with("inline")
    );
    let bytes = file.bytes().await.unwrap();
    assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"));
    assert_eq!(bytes.len() as i64, asset["byteSize"].as_i64().unwrap());
}

#[tokio::test]
async fn a_video_generation_records_the_files_duration() {
    let app = ready(Options::default()).await;
    let id = app
        .start(VEO3, json!({ "prompt": "waves at dusk" }), vec![])
        .await;
    let job = app.finished(&id).await;
    assert_eq!(job["status"], "completed", "{job}");
    let asset = &job["assets"][0];
    assert_eq!(asset["resultKind"], "video");
    assert_eq!(asset["contentType"], "video/mp4");
    // The fake serves a 2-second MP4 and says nothing of its length: read from the file.
    let duration = asset["outputDuration"]
        .as_f64()
        .expect("duration read from the mp4");
    assert!((duration - 2.0).abs() < 0.05, "{duration}");
}

#[tokio::test]
async fn a_video_whose_moov_box_comes_last_still_has_its_duration_read() {
    let app = ready(Options::default()).await;
    // 300 kB with `moov` at the very end: far past the first bytes kept while storing, so the
    // duration comes from ranged reads of the stored file.
    let id = app
        .start(
            VEO3,
            json!({ "prompt": "waves at dusk [fal:moov-last][fal:size=300000]" }),
            vec![],
        )
        .await;
    let job = app.finished(&id).await;
    assert_eq!(job["status"], "completed", "{job}");
    let asset = &job["assets"][0];
    assert_eq!(asset["byteSize"], 300_000);
    let duration = asset["outputDuration"]
        .as_f64()
        .expect("duration read from the moov at the end");
    assert!((duration - 2.0).abs() < 0.05, "{duration}");
}

#[tokio::test]
async fn files_are_served_by_range_with_etags_and_download_names() {
    let app = ready(Options::default()).await;
    let id = app
        .start(T2I, json!({ "prompt": "ranges [fal:size=100000]" }), vec![])
        .await;
    let job = app.finished(&id).await;
    let url = job["assets"][0]["url"].as_str().unwrap().to_owned();
    let size = job["assets"][0]["byteSize"].as_u64().unwrap();
    assert_eq!(size, 100_000);

    let part = app
        .client
        .get(app.at(&url))
        .header(header::RANGE, "bytes=10-19")
        .send()
        .await
        .unwrap();
    assert_eq!(part.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(
        part.headers()[header::CONTENT_RANGE],
        format!("bytes 10-19/{size}")
    );
    let etag = part.headers()[header::ETAG].to_str().unwrap().to_owned();
    assert_eq!(part.bytes().await.unwrap().len(), 10);

    let tail = app
        .client
        .get(app.at(&url))
        .header(header::RANGE, "bytes=-100")
        .send()
        .await
        .unwrap();
    assert_eq!(tail.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(tail.bytes().await.unwrap().len(), 100);

    let outside = app
        .client
        .get(app.at(&url))
        .header(header::RANGE, format!("bytes={size}-"))
        .send()
        .await
        .unwrap();
    assert_eq!(outside.status(), StatusCode::RANGE_NOT_SATISFIABLE);
    assert_eq!(
        outside.headers()[header::CONTENT_RANGE],
        format!("bytes */{size}")
    );

    let cached = app
        .client
        .get(app.at(&url))
        .header(header::IF_NONE_MATCH, &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(cached.status(), StatusCode::NOT_MODIFIED);
    // If-None-Match compares weakly and takes a list; another tag is no match.
    for (if_none_match, expected) in [
        (format!("W/{etag}"), StatusCode::NOT_MODIFIED),
        (format!("\"other\", {etag}"), StatusCode::NOT_MODIFIED),
        ("*".to_owned(), StatusCode::NOT_MODIFIED),
        ("\"other\"".to_owned(), StatusCode::OK),
    ] {
        let response = app
            .client
            .get(app.at(&url))
            .header(header::IF_NONE_MATCH, &if_none_match)
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            expected,
            "If-None-Match: {if_none_match}"
        );
        assert_eq!(response.headers()[header::ETAG], etag.as_str());
    }

    let download = app
        .client
        .get(app.at(&format!("{url}?download=1")))
        .send()
        .await
        .unwrap();
    let disposition = download.headers()[header::CONTENT_DISPOSITION]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(disposition.starts_with("attachment"), "{disposition}");
    assert!(disposition.contains(".png"), "{disposition}");
    // `<model>-<first words of the prompt>-<seed>-<n>.<ext>`: the prompt's words, lower-cased
    // and joined by dashes, after the model's.
    assert!(
        disposition.contains("-ranges-fal-size-100000-"),
        "{disposition}"
    );
}

#[tokio::test]
async fn a_small_reference_travels_inline_and_a_large_one_through_fal_storage() {
    let app = ready(Options::default()).await;
    let small = png(16, 16);
    let id = app
        .start(
            KONTEXT,
            json!({ "prompt": "make it blue" }),
            vec![("generalReferences", "cat.png", small.clone())],
        )
        .await;
    let job = app.finished(&id).await;
    assert_eq!(job["status"], "completed", "{job}");
    assert_eq!(job["references"][0]["field"], "image_url");
    assert_eq!(job["references"][0]["bucket"], "generalReferences");
    assert_eq!(job["references"][0]["contentType"], "image/png");
    let sent = app.fake.submitted();
    let url = sent[0].input["image_url"].as_str().unwrap();
    assert!(url.starts_with("data:image/png;base64,"), "{url}");
    // The job keeps what fal was sent for its Request tab, an inline file as its type and size.
    assert_eq!(
        job["sentInput"],
        json!({ "prompt": "make it blue", "image_url": "data:image/png;base64,… (1 KiB, sent inline)" })
    );

    // Over 256 KiB: uploaded to fal's storage first, then passed by URL.
    let mut big = png(400, 400);
    big.resize(300 * 1024, 0); // trailing bytes after IEND: still sniffed as PNG
    let id = app
        .start(
            KONTEXT,
            json!({ "prompt": "again" }),
            vec![("generalReferences", "big.png", big.clone())],
        )
        .await;
    let job = app.finished(&id).await;
    assert_eq!(job["status"], "completed", "{job}");
    let sent = app.fake.submitted();
    let latest = sent.iter().find(|r| r.input["prompt"] == "again").unwrap();
    let url = latest.input["image_url"].as_str().unwrap();
    assert!(url.contains("/uploads/"), "{url}");
    assert_eq!(app.fake.uploaded(url).unwrap().as_ref(), big.as_slice());
    assert_eq!(
        job["sentInput"], latest.input,
        "the fal storage URL, as sent"
    );
    // The gallery's detail of its output says the same (the viewer's Request tab).
    let asset_id = job["assets"][0]["id"].as_str().unwrap();
    let detail = app.get_json(&format!("/api/assets/{asset_id}")).await;
    assert_eq!(detail["asset"]["job"]["sentInput"], latest.input);

    // The reference stays readable for retry and remix.
    let ref_url = job["references"][0]["url"].as_str().unwrap();
    let bytes = app.bytes_at(ref_url).await;
    assert_eq!(bytes.as_ref(), big.as_slice());
}

/// (name, endpoint, params, files, expected status, field named in the details)
type FormCase<'a> = (
    &'a str,
    &'a str,
    Value,
    Vec<crate::helpers::FilePart<'a>>,
    StatusCode,
    &'a str,
);

#[tokio::test]
async fn bad_forms_are_refused_whole_and_leave_nothing_behind() {
    let app = ready(Options {
        vars: vec![("UPLOAD_MAX_FILE_MB", "1".into())],
        ..Options::default()
    })
    .await;
    let text_file = b"this is plain text, not an image".to_vec();
    let big = {
        let mut b = png(8, 8);
        b.resize(1024 * 1024 + 10, 0);
        b
    };
    let cases: Vec<FormCase> = vec![
        (
            "missing required prompt",
            KONTEXT,
            json!({}),
            vec![("generalReferences", "a.png", png(8, 8))],
            StatusCode::UNPROCESSABLE_ENTITY,
            "prompt",
        ),
        (
            "enum value not allowed",
            T2I,
            json!({ "prompt": "a cat", "image_size": "enormous" }),
            vec![],
            StatusCode::UNPROCESSABLE_ENTITY,
            "image_size",
        ),
        (
            "unknown parameter",
            T2I,
            json!({ "prompt": "a cat", "steps_of_doom": 3 }),
            vec![],
            StatusCode::UNPROCESSABLE_ENTITY,
            "steps_of_doom",
        ),
        (
            "bucket the model cannot take",
            T2I,
            json!({ "prompt": "a cat" }),
            vec![("generalReferences", "a.png", png(8, 8))],
            StatusCode::UNPROCESSABLE_ENTITY,
            "generalReferences",
        ),
        (
            "last frame on an image model",
            KONTEXT,
            json!({ "prompt": "a cat" }),
            vec![
                ("generalReferences", "a.png", png(8, 8)),
                ("lastFrame", "b.png", png(8, 8)),
            ],
            StatusCode::UNPROCESSABLE_ENTITY,
            "lastFrame",
        ),
        (
            "required reference missing",
            KONTEXT,
            json!({ "prompt": "a cat" }),
            vec![],
            StatusCode::UNPROCESSABLE_ENTITY,
            "generalReferences",
        ),
        (
            "not an image",
            KONTEXT,
            json!({ "prompt": "a cat" }),
            vec![("generalReferences", "fake.png", text_file.clone())],
            StatusCode::UNPROCESSABLE_ENTITY,
            "generalReferences",
        ),
        (
            "two files for a single field",
            KONTEXT,
            json!({ "prompt": "a cat" }),
            vec![
                ("generalReferences", "a.png", png(8, 8)),
                ("generalReferences", "b.png", png(8, 8)),
            ],
            StatusCode::UNPROCESSABLE_ENTITY,
            "generalReferences",
        ),
        (
            "file over the limit",
            KONTEXT,
            json!({ "prompt": "a cat" }),
            vec![("generalReferences", "big.png", big.clone())],
            StatusCode::PAYLOAD_TOO_LARGE,
            "generalReferences",
        ),
        (
            "file URL sent as a parameter",
            KONTEXT,
            json!({ "prompt": "a cat", "image_url": "https://example.com/a.png" }),
            vec![],
            StatusCode::UNPROCESSABLE_ENTITY,
            "image_url",
        ),
    ];
    for (name, endpoint, params, files, status, field) in cases {
        let response = app.generate(endpoint, params, files, &[]).await;
        let (got, error) = error_of(response).await;
        assert_eq!(got, status, "status for case: {name}: {error}");
        let fields: Vec<&str> = error["details"]
            .as_array()
            .unwrap_or_else(|| panic!("details for case {name}: {error}"))
            .iter()
            .filter_map(|d| d["field"].as_str())
            .collect();
        assert!(fields.contains(&field), "case {name}: {error}");
        let message = error["message"].as_str().unwrap();
        if status == StatusCode::PAYLOAD_TOO_LARGE {
            assert!(message.contains("1 MiB"), "case {name}: {message}");
        }
    }
    let (response_status, error) = error_of(
        app.generate(
            T2I,
            json!({ "prompt": "a cat" }),
            vec![],
            &[("count", "20")],
        )
        .await,
    )
    .await;
    assert_eq!(response_status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error["details"][0]["field"], "count");

    assert!(app.fake.submitted().is_empty(), "nothing reached fal");
    let jobs: Value = app.get_json("/api/jobs").await;
    assert_eq!(jobs["jobs"], json!([]), "no job rows");
    let db = app.db().await;
    let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM jobs")
        .fetch_one(&db)
        .await
        .unwrap();
    let refs: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM job_references")
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!((rows, refs), (0, 0));
    assert_eq!(
        app.stored_files(),
        Vec::<std::path::PathBuf>::new(),
        "no stored objects"
    );
}

#[tokio::test]
async fn generating_needs_a_fal_key() {
    let app = spawn_app().await;
    app.signed_up("ada@example.com").await;
    let (status, error) = error_of(
        app.generate(T2I, json!({ "prompt": "a cat" }), vec![], &[])
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(error["message"].as_str().unwrap().contains("Settings"));
}

#[tokio::test]
async fn every_fal_failure_ends_the_job_with_a_category_and_a_readable_message() {
    let app = ready(Options::default()).await;
    let cases = [
        ("[fal:policy]", "policy", "flagged"),
        ("[fal:invalid]", "invalid_request", "prompt:"),
        ("[fal:forbidden]", "policy", "restricted"),
        ("[fal:completed-error]", "provider_error", "crashed"),
        ("[fal:result-expired]", "provider_error", "expired"),
        ("[fal:cdn-expired]", "provider_error", "expired"),
        ("[fal:truncated]", "network", "output 1"),
    ];
    for (token, category, words) in cases {
        let id = app
            .start(T2I, json!({ "prompt": format!("fox {token}") }), vec![])
            .await;
        let job = app.finished(&id).await;
        assert_eq!(job["status"], "failed", "{token}: {job}");
        assert_eq!(job["error"]["category"], category, "{token}: {job}");
        let message = job["error"]["message"].as_str().unwrap();
        assert!(message.contains(words), "{token}: {message}");
        assert!(
            !message.contains("[object") && !message.contains('<'),
            "{token}: {message}"
        );
        assert_eq!(job["assets"], json!([]), "{token}");
    }
    let db = app.db().await;
    let assets: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM assets")
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(assets, 0);
    assert!(
        app.stored_files()
            .iter()
            .all(|p| !p.to_string_lossy().contains("/assets/")),
        "no output object left behind: {:?}",
        app.stored_files()
    );
}

#[tokio::test]
async fn transient_fal_errors_during_a_job_are_retried() {
    let app = ready(Options::default()).await;
    app.fake.fail(fake_fal::Failure {
        status: 503,
        times: Some(2),
        retry_after: None,
    });
    let id = app
        .start(T2I, json!({ "prompt": "patience" }), vec![])
        .await;
    let job = app.finished(&id).await;
    assert_eq!(job["status"], "completed", "{job}");
}

#[tokio::test]
async fn a_remix_brings_back_an_earlier_jobs_references_without_uploading_them() {
    let app = ready(Options::default()).await;
    let original = fake_fal::png_bytes(24, 24);
    let first = app
        .start(
            KONTEXT,
            json!({ "prompt": "make it blue" }),
            vec![("generalReferences", "cat.png", original.clone())],
        )
        .await;
    let first = app.finished(&first).await;
    let reference_id = first["references"][0]["id"].as_str().unwrap().to_owned();

    let remix = app
        .generate(
            KONTEXT,
            json!({ "prompt": "make it green" }),
            vec![],
            &[("storedReference:generalReferences", reference_id.as_str())],
        )
        .await;
    assert_eq!(remix.status(), StatusCode::ACCEPTED);
    let remix: Value = remix.json().await.unwrap();
    let job = app.finished(remix["job"]["id"].as_str().unwrap()).await;
    assert_eq!(job["status"], "completed", "{job}");
    let copy = &job["references"][0];
    assert_eq!(copy["fileName"], "cat.png");
    assert_ne!(copy["id"], reference_id.as_str(), "a copy of its own");
    let bytes = app.bytes_at(copy["url"].as_str().unwrap()).await;
    assert_eq!(bytes.as_ref(), original.as_slice());

    // Someone else's reference id is unknown to them.
    let bob = app.second_user().await;
    let form = reqwest::multipart::Form::new()
        .text("endpoint", KONTEXT)
        .text("params", json!({ "prompt": "mine now" }).to_string())
        .text("storedReference:generalReferences", reference_id.clone());
    let response = bob
        .post(app.at("/api/generations"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    let (status, error) = error_of(response).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("storedReference:generalReferences")
            || error["details"]
                .to_string()
                .contains("storedReference:generalReferences"),
        "{error}"
    );
}

#[tokio::test]
async fn clearing_finished_jobs_can_keep_the_failed_ones() {
    let app = ready(Options::default()).await;
    let done = app.start(T2I, json!({ "prompt": "fine" }), vec![]).await;
    let failed = app
        .start(T2I, json!({ "prompt": "refused [fal:forbidden]" }), vec![])
        .await;
    assert_eq!(app.finished(&done).await["status"], "completed");
    assert_eq!(app.finished(&failed).await["status"], "failed");
    let clear = |body: Value| {
        let app = &app;
        async move {
            let response = app
                .client
                .post(app.at("/api/jobs/clear-finished"))
                .json(&body)
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), StatusCode::OK);
            response.json::<Value>().await.unwrap()["hidden"].clone()
        }
    };
    assert_eq!(clear(json!({ "includeFailed": false })).await, 1);
    let visible: Vec<String> = app.get_json("/api/jobs").await["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        visible,
        [failed],
        "the failed job stays to be read and retried"
    );
    assert_eq!(clear(json!({})).await, 1);
}

#[tokio::test]
async fn while_fal_is_unavailable_the_job_says_so_and_when_it_tries_again() {
    let app = ready(Options::default()).await;
    // The form (and its price) is read before fal goes down.
    let spec = app
        .get_json(&format!("/api/models/spec?endpoint={T2I}"))
        .await;
    assert_eq!(spec["endpointId"], T2I, "{spec}");
    // More failures than the client's own tries (the price lookup takes some too): the job
    // keeps trying, and says so.
    app.fake.fail(fake_fal::Failure {
        status: 503,
        times: Some(10),
        retry_after: Some(1),
    });
    let id = app
        .start(T2I, json!({ "prompt": "through the outage" }), vec![])
        .await;
    let troubled = app
        .wait_for(&id, |j| {
            j["waitReason"]
                .as_str()
                .is_some_and(|r| r.starts_with("fal is"))
        })
        .await;
    let reason = troubled["waitReason"].as_str().unwrap();
    assert!(
        reason.starts_with("fal is unavailable (503), trying again: attempt ")
            && reason.ends_with(", next in 1 s"),
        "{reason}"
    );
    let job = app.finished(&id).await;
    assert_eq!(job["status"], "completed", "{job}");
    assert!(job.get("waitReason").is_none(), "{job}");
}

#[tokio::test]
async fn jobs_wait_for_the_per_user_limit_and_can_be_cancelled_in_the_queue_or_at_fal() {
    let app = ready(Options {
        vars: vec![("JOBS_MAX_PER_USER", "1".into())],
        ..Options::default()
    })
    .await;
    let running = app
        .start(T2I, json!({ "prompt": "forever [fal:never]" }), vec![])
        .await;
    app.wait_for(&running, |j| j["status"] == "running").await;
    let waiting = app.start(T2I, json!({ "prompt": "second" }), vec![]).await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(
        app.job(&waiting).await["status"],
        "queued",
        "held back by the limit"
    );
    assert_eq!(app.fake.submitted().len(), 1);

    let response = app.cancel(&waiting).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["job"]["status"], "cancelled");

    app.cancel(&running).await;
    let job = app.finished(&running).await;
    assert_eq!(job["status"], "cancelled", "{job}");
    assert!(
        app.fake
            .requests()
            .iter()
            .any(|r| r.method == "PUT" && r.path_and_query.ends_with("/cancel"))
    );
    assert_eq!(
        app.fake.submitted().len(),
        1,
        "the cancelled queued job never reached fal"
    );

    let third = app.start(T2I, json!({ "prompt": "third" }), vec![]).await;
    assert_eq!(
        app.finished(&third).await["status"],
        "completed",
        "the slot was freed"
    );
}

#[tokio::test]
async fn a_failed_job_can_be_retried_with_the_same_inputs() {
    let app = ready(Options::default()).await;
    let id = app
        .start(
            KONTEXT,
            json!({ "prompt": "oops [fal:completed-error]" }),
            vec![("generalReferences", "a.png", png(8, 8))],
        )
        .await;
    let failed = app.finished(&id).await;
    assert_eq!(failed["status"], "failed");
    let response = app.retry(&id).await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let body: Value = response.json().await.unwrap();
    let retry = &body["job"];
    assert_ne!(retry["id"], failed["id"]);
    assert_eq!(retry["groupId"], failed["groupId"]);
    assert_eq!(retry["params"], failed["params"]);
    assert_eq!(retry["references"][0]["fileName"], "a.png");
    let again = app.finished(retry["id"].as_str().unwrap()).await;
    assert_eq!(again["status"], "failed", "same script, same outcome");
    let sent = app.fake.submitted();
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[0].input["image_url"], sent[1].input["image_url"]);
}

#[tokio::test]
async fn several_runs_form_a_group_that_can_be_labelled_and_cleared() {
    let app = ready(Options::default()).await;
    let response = app
        .generate(
            T2I,
            json!({ "prompt": "many" }),
            vec![],
            &[("count", "3"), ("groupLabel", "Foxes")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let body: Value = response.json().await.unwrap();
    let jobs = body["jobs"].as_array().unwrap();
    assert_eq!(jobs.len(), 3);
    let group = jobs[0]["groupId"].as_str().unwrap().to_owned();
    assert!(
        jobs.iter()
            .all(|j| j["groupId"] == group.as_str() && j["groupLabel"] == "Foxes")
    );
    for j in jobs {
        assert_eq!(
            app.finished(j["id"].as_str().unwrap()).await["status"],
            "completed"
        );
    }
    let other = app.start(T2I, json!({ "prompt": "joins" }), vec![]).await;
    let joined = app
        .generate(
            VEO3,
            json!({ "prompt": "compare" }),
            vec![],
            &[("groupId", &group)],
        )
        .await;
    assert_eq!(joined.status(), StatusCode::ACCEPTED);
    let renamed = app
        .client
        .patch(app.at(&format!("/api/groups/{group}")))
        .json(&json!({ "label": "Fox study" }))
        .send()
        .await
        .unwrap();
    assert_eq!(renamed.status(), StatusCode::OK);
    let list: Value = app.get_json("/api/jobs").await;
    let in_group: Vec<&Value> = list["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|j| j["groupId"] == group.as_str())
        .collect();
    assert_eq!(in_group.len(), 4);
    assert!(in_group.iter().all(|j| j["groupLabel"] == "Fox study"));
    app.finished(&other).await;
    // Finished before the clearing, or it could complete between the clearing and the check.
    let compare = in_group
        .iter()
        .find(|j| j["endpointId"] == VEO3)
        .and_then(|j| j["id"].as_str())
        .expect("the joined job")
        .to_owned();
    app.finished(&compare).await;

    let cleared: Value = app
        .client
        .post(app.at("/api/jobs/clear-finished"))
        .json(&json!({ "groupId": group }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(cleared["hidden"].as_u64().unwrap() >= 3);
    let list: Value = app.get_json("/api/jobs").await;
    assert!(
        list["jobs"]
            .as_array()
            .unwrap()
            .iter()
            .all(|j| j["groupId"] != group.as_str() || j["status"] != "completed")
    );
    assert!(
        list["jobs"]
            .as_array()
            .unwrap()
            .iter()
            .any(|j| j["id"] == other.as_str()),
        "other groups stay"
    );

    // Group parts may come after the files.
    let form = reqwest::multipart::Form::new()
        .text("endpoint", KONTEXT)
        .text("params", json!({ "prompt": "late group" }).to_string())
        .part(
            "generalReferences",
            reqwest::multipart::Part::bytes(png(8, 8)).file_name("a.png"),
        )
        .text("groupId", group.clone());
    let late: Value = app
        .client
        .post(app.at("/api/generations"))
        .multipart(form)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(late["job"]["groupId"], group.as_str(), "{late}");
    assert_eq!(
        late["job"]["groupLabel"], "Fox study",
        "joining keeps the label"
    );

    let foreign = app
        .generate(
            T2I,
            json!({ "prompt": "a cat" }),
            vec![],
            &[("groupId", "not-mine")],
        )
        .await;
    assert_eq!(foreign.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn jobs_keep_their_estimate_and_spend_adds_them_up() {
    let app = ready(Options::default()).await;
    let id = app
        .start(T2I, json!({ "prompt": "priced", "num_images": 2 }), vec![])
        .await;
    let job = app.finished(&id).await;
    // seedream text-to-image is priced at 0.03 USD per image in the fake catalog.
    assert_eq!(job["estimate"]["totalCost"], 0.06, "{job}");
    let id = app
        .start(VEO3, json!({ "prompt": "unpriced" }), vec![])
        .await;
    assert!(app.finished(&id).await["estimate"].is_null());
    let spend: Value = app.get_json("/api/spend?days=7").await;
    assert_eq!(spend["total"], 0.06);
    assert_eq!(spend["currency"], "USD");
    assert_eq!(spend["byModel"][0]["endpointId"], T2I);
    assert_eq!(spend["byDay"].as_array().unwrap().len(), 1);
}

/// Each job and file route with Bob's id is covered by `cross_user`.
#[tokio::test]
async fn another_user_lists_no_jobs_and_files_need_a_session() {
    let app = ready(Options::default()).await;
    let id = app.start(T2I, json!({ "prompt": "mine" }), vec![]).await;
    let job = app.finished(&id).await;
    let file = job["assets"][0]["url"].as_str().unwrap().to_owned();

    let bob = app.second_user().await;
    let list: Value = app.get_json_as(&bob, "/api/jobs").await;
    assert_eq!(list["jobs"], json!([]));
    let anonymous = reqwest::get(app.at(&file)).await.unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn job_changes_stream_as_server_sent_events() {
    use futures_util::StreamExt;
    let app = ready(Options::default()).await;
    let events = app.client.get(app.at("/api/events")).send().await.unwrap();
    assert_eq!(events.headers()[header::CONTENT_TYPE], "text/event-stream");
    let id = app
        .start(T2I, json!({ "prompt": "streamed" }), vec![])
        .await;

    let mut body = events.bytes_stream();
    let mut text = String::new();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
    while !text.contains("\"status\":\"completed\"") {
        let chunk = tokio::time::timeout_at(deadline, body.next())
            .await
            .expect("completed event in time")
            .expect("stream open")
            .unwrap();
        text.push_str(&String::from_utf8_lossy(&chunk));
    }
    assert!(text.contains("event: job"));
    assert!(text.contains(&id));
    for status in ["queued", "running", "storing", "completed"] {
        assert!(
            text.contains(&format!("\"status\":\"{status}\"")),
            "saw {status}: {text}"
        );
    }
    let last_id = text
        .lines()
        .filter_map(|l| l.strip_prefix("id: "))
        .next()
        .expect("events carry ids")
        .to_owned();

    // Resuming from the first id replays what came after it.
    let resumed = app
        .client
        .get(app.at("/api/events"))
        .header("last-event-id", &last_id)
        .send()
        .await
        .unwrap();
    let mut body = resumed.bytes_stream();
    let chunk = tokio::time::timeout(std::time::Duration::from_secs(5), body.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert!(String::from_utf8_lossy(&chunk).contains("event: job"));

    let stale = app
        .client
        .get(app.at("/api/events"))
        .header("last-event-id", "someotherboot-5")
        .send()
        .await
        .unwrap();
    let mut body = stale.bytes_stream();
    let chunk = tokio::time::timeout(std::time::Duration::from_secs(5), body.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert!(String::from_utf8_lossy(&chunk).contains("event: resync"));
}
