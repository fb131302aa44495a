use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, error_of, ready};

const T2I: &str = "fal-ai/bytedance/seedream/v4/text-to-image";
const VEO3: &str = "fal-ai/veo3";

/// Generates and waits; returns the job's assets.
async fn made(app: &TestApp, endpoint: &str, prompt: &str, n: u32) -> Vec<Value> {
    // Video models take no `num_images` (the spec says so, and the server checks).
    let params = if endpoint == VEO3 {
        json!({ "prompt": prompt })
    } else {
        json!({ "prompt": prompt, "num_images": n })
    };
    let id = app.start(endpoint, params, vec![]).await;
    let job = app.finished(&id).await;
    assert_eq!(job["status"], "completed", "{job}");
    job["assets"].as_array().unwrap().clone()
}

async fn gallery(app: &TestApp, query: &str) -> Value {
    let response = app
        .client
        .get(app.at(&format!("/api/assets{query}")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK, "{query}");
    response.json().await.unwrap()
}

fn ids(page: &Value) -> Vec<String> {
    page["assets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap().to_owned())
        .collect()
}

/// Rows straight into the table, for volume: listing needs no stored objects.
async fn seed(app: &TestApp, n: usize, prompt: &str) {
    let db = app.db().await;
    let user: String = sqlx::query_scalar("SELECT id FROM users LIMIT 1")
        .fetch_one(&db)
        .await
        .unwrap();
    for i in 0..n {
        sqlx::query(
            "INSERT INTO assets (id, user_id, job_id, output_index, endpoint_id, model, prompt, result_kind, \
             storage_mode, storage_key, content_type, byte_size, sha256, params_json, file_name) \
             VALUES ($1, $2, NULL, $3, $4, 'Seeded', $5, 'image', 'local', $6, 'image/png', 1, '', '{}', 'x.png')",
        )
        .bind(uuid::Uuid::now_v7().to_string())
        .bind(&user)
        .bind(i as i64)
        .bind(T2I)
        .bind(format!("{prompt} {i}"))
        .bind(format!("assets/seed/{i}.png"))
        .execute(&db)
        .await
        .unwrap();
        // created_at has millisecond precision; distinct times keep the order meaningful.
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    }
}

#[tokio::test]
async fn pages_neither_skip_nor_repeat_while_assets_arrive() {
    let app = ready(vec![]).await;
    seed(&app, 25, "older").await;
    let first = gallery(&app, "?limit=10").await;
    let mut seen = ids(&first);
    let mut cursor = first["nextCursor"].as_str().unwrap().to_owned();
    seed(&app, 7, "newer").await; // arrives between page loads
    loop {
        let page = gallery(&app, &format!("?limit=10&cursor={cursor}")).await;
        seen.extend(ids(&page));
        match page["nextCursor"].as_str() {
            Some(c) => cursor = c.to_owned(),
            None => break,
        }
    }
    assert_eq!(
        seen.len(),
        25,
        "exactly the 25 that existed when paging began"
    );
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 25);
    let all = gallery(&app, "?limit=200").await;
    assert_eq!(ids(&all).len(), 32);
    assert_eq!(all["assets"][0]["prompt"], "newer 6", "newest first");
    let (status, error) = error_of(
        app.client
            .get(app.at("/api/assets?cursor=garbage!"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error["details"][0]["field"], "cursor");
}

#[tokio::test]
async fn search_and_filters_return_exactly_the_right_rows() {
    let app = ready(vec![]).await;
    let fox = made(&app, T2I, "a red fox in the snow", 1).await;
    let whale = made(&app, T2I, "a blue whale", 2).await;
    let car = made(&app, T2I, "red sports car", 1).await;
    let waves = made(&app, VEO3, "waves on the shore", 1).await;
    let id = |assets: &Vec<Value>, i: usize| assets[i]["id"].as_str().unwrap().to_owned();
    let sorted = |mut v: Vec<String>| {
        v.sort();
        v
    };

    assert_eq!(
        sorted(ids(&gallery(&app, "?q=red").await)),
        sorted(vec![id(&fox, 0), id(&car, 0)])
    );
    assert_eq!(
        ids(&gallery(&app, "?q=red%20fox").await),
        vec![id(&fox, 0)],
        "every word must match"
    );
    assert_eq!(
        ids(&gallery(&app, "?q=wha").await).len(),
        2,
        "prefixes match"
    );
    assert_eq!(
        ids(&gallery(&app, "?q=%22OR%20NEAR(").await).len(),
        0,
        "syntax is just text"
    );
    assert_eq!(
        ids(&gallery(&app, "?kind=video").await),
        vec![id(&waves, 0)]
    );
    assert_eq!(ids(&gallery(&app, "?kind=image").await).len(), 4);
    assert_eq!(
        ids(&gallery(&app, &format!("?model={VEO3}")).await),
        vec![id(&waves, 0)]
    );
    assert_eq!(ids(&gallery(&app, "?kind=image&q=blue").await).len(), 2);

    let today = whale[0]["createdAt"].as_str().unwrap()[..10].to_owned();
    assert_eq!(
        ids(&gallery(&app, &format!("?from={today}&to={today}")).await).len(),
        5
    );
    assert_eq!(ids(&gallery(&app, "?to=2001-01-01").await).len(), 0);
    assert_eq!(ids(&gallery(&app, "?from=2999-01-01").await).len(), 0);
    let (status, _) = error_of(
        app.client
            .get(app.at("/api/assets?kind=sculpture"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);

    let models: Value = app.get_json("/api/assets/models").await;
    assert_eq!(models["models"][0]["endpointId"], T2I);
    assert_eq!(models["models"][0]["count"], 4);
    assert_eq!(models["models"][1]["endpointId"], VEO3);
}

#[tokio::test]
async fn an_asset_detail_tells_everything_about_it() {
    let app = ready(vec![]).await;
    let reference = fake_fal::png_bytes(16, 16);
    let id = app
        .start(
            "fal-ai/flux-pro/kontext",
            json!({ "prompt": "make it gold", "seed": 7 }),
            vec![("generalReferences", "gold.png", reference)],
        )
        .await;
    let job = app.finished(&id).await;
    let asset_id = job["assets"][0]["id"].as_str().unwrap();
    let body: Value = app.get_json(&format!("/api/assets/{asset_id}")).await;
    let asset = &body["asset"];
    assert_eq!(asset["prompt"], "make it gold");
    assert_eq!(asset["params"]["seed"], 7);
    assert_eq!(asset["endpointId"], "fal-ai/flux-pro/kontext");
    assert_eq!(asset["job"]["id"], id.as_str());
    assert_eq!(asset["job"]["status"], "completed");
    assert_eq!(asset["references"][0]["fileName"], "gold.png");
    assert_eq!(asset["width"], 64);
}

#[tokio::test]
async fn an_asset_can_be_used_as_a_reference_without_a_new_upload() {
    let app = ready(vec![]).await;
    let source = made(&app, T2I, "a lighthouse", 1).await;
    let asset_id = source[0]["id"].as_str().unwrap();
    let form = reqwest::multipart::Form::new()
        .text("endpoint", "fal-ai/flux-pro/kontext")
        .text("params", json!({ "prompt": "at night" }).to_string())
        .text("reference:generalReferences", asset_id.to_owned());
    let response = app
        .client
        .post(app.at("/api/generations"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let body: Value = response.json().await.unwrap();
    let job = app.finished(body["job"]["id"].as_str().unwrap()).await;
    assert_eq!(job["status"], "completed", "{job}");
    let original = app
        .client
        .get(app.at(source[0]["url"].as_str().unwrap()))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let copied = app
        .client
        .get(app.at(job["references"][0]["url"].as_str().unwrap()))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(original, copied);

    let form = reqwest::multipart::Form::new()
        .text("endpoint", "fal-ai/flux-pro/kontext")
        .text("params", json!({ "prompt": "at night" }).to_string())
        .text("reference:generalReferences", "not-an-asset");
    let (status, error) = error_of(
        app.client
            .post(app.at("/api/generations"))
            .multipart(form)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error["details"][0]["field"], "reference:generalReferences");
}

#[tokio::test]
async fn deleting_removes_rows_and_stored_objects() {
    let app = ready(vec![]).await;
    let assets = made(&app, T2I, "ephemeral", 3).await;
    // The outputs themselves (their thumbnails come and go with them: tests/api/thumbnails.rs).
    let outputs = |app: &TestApp| {
        app.stored_files()
            .into_iter()
            .filter(|p| p.to_string_lossy().contains("/assets/"))
            .count()
    };
    let before = outputs(&app);
    let first = assets[0]["id"].as_str().unwrap();
    let response = app.delete_asset(first).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_eq!(outputs(&app), before - 1);
    let gone = app
        .client
        .get(app.at(assets[0]["url"].as_str().unwrap()))
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status(), StatusCode::NOT_FOUND);
    // The job still knows it stored three: one of them was deleted, not never made.
    let job = app.job(assets[0]["jobId"].as_str().unwrap()).await;
    assert_eq!(job["outputCount"], 3, "{job}");
    assert_eq!(job["assets"].as_array().map(Vec::len), Some(2), "{job}");

    let rest: Vec<&str> = assets[1..]
        .iter()
        .map(|a| a["id"].as_str().unwrap())
        .collect();
    let body: Value = app
        .client
        .post(app.at("/api/assets/delete"))
        .json(&json!({ "ids": [rest[0], rest[1], "unknown-id"] }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["deleted"], 2);
    assert_eq!(outputs(&app), before - 3);
    assert_eq!(ids(&gallery(&app, "").await).len(), 0);
    let db = app.db().await;
    let pending: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM pending_deletions")
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(pending, 0);
    let again = app.delete_asset(first).await;
    assert_eq!(again.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_bulk_download_is_a_zip_holding_every_selected_file_intact() {
    let app = ready(vec![]).await;
    let images = made(&app, T2I, "zip me", 2).await;
    let video = made(&app, VEO3, "and me", 1).await;
    let selected: Vec<&Value> = images.iter().chain(video.iter()).collect();
    let list = selected
        .iter()
        .map(|a| a["id"].as_str().unwrap())
        .collect::<Vec<_>>()
        .join(",");
    let response = app
        .client
        .get(app.at(&format!("/api/assets/download?ids={list}")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "application/zip");
    assert!(
        response.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment")
    );
    let zip = response.bytes().await.unwrap();
    let path = app.dir.join("download.zip");
    std::fs::write(&path, &zip).unwrap();

    // Python's zipfile is an independent reader: names, CRCs (testzip) and contents.
    let script = r#"
import hashlib, json, sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
assert z.testzip() is None, "bad CRC"
out = {n: hashlib.sha256(z.read(n)).hexdigest() for n in z.namelist()}
out["__metadata"] = json.loads(z.read("metadata.json"))
out["__years"] = [z.getinfo(n).date_time[0] for n in z.namelist()]
out["__months"] = [z.getinfo(n).date_time[1] for n in z.namelist()]
print(json.dumps(out))
"#;
    let output = std::process::Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let listing: Value = serde_json::from_slice(&output.stdout).unwrap();
    let files = listing["__metadata"]["files"].as_array().unwrap();
    assert_eq!(files.len(), 3);
    for (meta, asset) in files.iter().zip(&selected) {
        assert_eq!(meta["id"], asset["id"]);
        let name = meta["file"].as_str().unwrap();
        let bytes = app
            .client
            .get(app.at(asset["url"].as_str().unwrap()))
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        let expected = {
            use sha2::Digest;
            hex(&sha2::Sha256::digest(&bytes))
        };
        assert_eq!(listing[name], expected.as_str(), "{name} intact");
        // Named for what it is: its place, the model, the prompt's first words, its number.
        let prompt_words = asset["prompt"].as_str().unwrap().replace(' ', "-");
        assert!(name.contains(&prompt_words), "{name}");
        assert!(
            name.starts_with(&format!(
                "{:03}-",
                files.iter().position(|f| f == meta).unwrap() + 1
            )),
            "{name}"
        );
    }
    // Dated when the asset was made, not 1980.
    // Every entry, metadata.json too, carries a real date (not 1980, not month 0).
    let years = listing["__years"].as_array().unwrap();
    assert!(
        years.iter().all(|y| y.as_i64().unwrap() >= 2026),
        "{years:?}"
    );
    let months = listing["__months"].as_array().unwrap();
    assert!(
        months
            .iter()
            .all(|m| (1..=12).contains(&m.as_i64().unwrap())),
        "{months:?}"
    );
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Per-id routes are covered by `cross_user`; these take ids in a query or a body.
#[tokio::test]
async fn another_users_ids_are_ignored_by_the_bulk_routes() {
    let app = ready(vec![]).await;
    let assets = made(&app, T2I, "private", 1).await;
    let asset_id = assets[0]["id"].as_str().unwrap().to_owned();

    let bob = app.second_user().await;
    let download = bob
        .get(app.at(&format!("/api/assets/download?ids={asset_id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(download.status(), StatusCode::NOT_FOUND);
    let bulk: Value = bob
        .post(app.at("/api/assets/delete"))
        .json(&json!({ "ids": [asset_id] }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(bulk["deleted"], 0);
    let bob_gallery: Value = app.get_json_as(&bob, "/api/assets").await;
    assert_eq!(bob_gallery["assets"], json!([]));
    // Still Ada's, untouched.
    assert_eq!(ids(&gallery(&app, "").await), vec![asset_id]);
}

#[tokio::test]
async fn stars_mark_the_keepers_and_the_starred_filter_pages_through_them() {
    let app = ready(vec![]).await;
    let assets = made(&app, T2I, "keepers", 4).await;
    let id = |i: usize| assets[i]["id"].as_str().unwrap().to_owned();
    assert!(assets.iter().all(|a| a["starred"] == false));

    // One at a time: the answer is the asset as it now is; again is fine.
    for _ in 0..2 {
        let response = app
            .client
            .put(app.at(&format!("/api/assets/{}/star", id(0))))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["asset"]["starred"], true, "{body}");
    }
    // Many at once: only what changed is counted, unknown ids are ignored.
    let body: Value = app
        .client
        .post(app.at("/api/assets/star"))
        .json(&json!({ "ids": [id(0), id(2), id(3), "unknown-id"], "starred": true }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["changed"], 2, "{body}");

    // The filter (read right after the change: no stale page) and its pages.
    let starred = ids(&gallery(&app, "?starred=true").await);
    assert_eq!(starred.len(), 3);
    assert!(!starred.contains(&id(1)));
    let first = gallery(&app, "?starred=true&limit=2").await;
    let cursor = first["nextCursor"]
        .as_str()
        .expect("a next page")
        .to_owned();
    let second = gallery(&app, &format!("?starred=true&limit=2&cursor={cursor}")).await;
    let mut paged = ids(&first);
    paged.extend(ids(&second));
    assert_eq!(paged, starred);
    assert_eq!(ids(&gallery(&app, "?starred=false").await).len(), 4);
    let detail = app.get_json(&format!("/api/assets/{}", id(2))).await;
    assert_eq!(detail["asset"]["starred"], true);

    // Unstarred, it leaves the filter; another user's id is not found.
    let response = app
        .client
        .delete(app.at(&format!("/api/assets/{}/star", id(0))))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(ids(&gallery(&app, "?starred=true").await).len(), 2);
    let other = crate::helpers::new_client();
    let signup = other
        .post(app.at("/api/auth/signup"))
        .json(&json!({ "email": "eve@example.com", "password": crate::helpers::PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(signup.status(), StatusCode::CREATED);
    let response = other
        .put(app.at(&format!("/api/assets/{}/star", id(1))))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let body: Value = other
        .post(app.at("/api/assets/star"))
        .json(&json!({ "ids": [id(1)], "starred": true }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["changed"], 0);
    assert_eq!(ids(&gallery(&app, "?starred=true").await).len(), 2);
}
