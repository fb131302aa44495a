//! Several nodes on one database (issue 14, points 2, 3 and 5): job leases, the limits counted
//! in the database, and the node table. Two in-process studios share one database (one SQLite
//! file, or one Postgres database when the suite runs on Postgres), one S3 store (moto) and
//! one fake fal; the same accounts are signed in on both (sessions live in the database).

use std::{
    collections::{HashMap, HashSet},
    time::{Duration, Instant},
};

use fal_studio::Config;
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

use crate::{
    helpers::{Options, PASSWORD, TestApp, error_of, new_client, spawn_app, spawn_app_with},
    moto::MotoServer,
};

const T2I: &str = "fal-ai/bytedance/seedream/v4/text-to-image";
const APP_SECRET: &str = "one secret for every node, 32+ chars";
const FAL_URLS: [&str; 5] = [
    "FAL_QUEUE_URL",
    "FAL_RUN_URL",
    "FAL_API_URL",
    "FAL_SITE_URL",
    "FAL_REST_URL",
];

struct Nodes {
    a: TestApp,
    b: TestApp,
    _moto: MotoServer,
}

/// Settings both nodes share: S3 on `moto`, one APP_SECRET (so either reads the saved keys),
/// short leases, quick retries, and `extra`.
fn shared(moto: &MotoServer, extra: &[(&'static str, &str)]) -> Vec<(&'static str, String)> {
    let mut vars = vec![
        ("STORAGE", "s3".to_owned()),
        ("S3_BUCKET", "studio-media".to_owned()),
        ("S3_ENDPOINT", moto.endpoint()),
        ("S3_REGION", "us-east-1".to_owned()),
        ("S3_ACCESS_KEY_ID", "testing".to_owned()),
        ("S3_SECRET_ACCESS_KEY", "testing".to_owned()),
        ("APP_SECRET", APP_SECRET.to_owned()),
        ("FAL_RETRY_BASE_MS", "1".to_owned()),
        ("STORAGE_RETRY_BASE_MS", "10".to_owned()),
        ("JOB_LEASE_SECONDS", "3".to_owned()),
    ];
    vars.extend(extra.iter().map(|(k, v)| (*k, (*v).to_owned())));
    vars
}

/// Node A, then node B on A's database, storage and fake fal.
async fn two_nodes(extra: &[(&'static str, &str)]) -> Nodes {
    let moto = MotoServer::start();
    let a = spawn_app_with(Options::from(shared(&moto, extra))).await;
    let b = second_node(&a, &moto, extra).await;
    Nodes { a, b, _moto: moto }
}

async fn second_node(a: &TestApp, moto: &MotoServer, extra: &[(&'static str, &str)]) -> TestApp {
    let mut vars = shared(moto, extra);
    vars.extend(FAL_URLS.map(|name| (name, a.fake.url())));
    spawn_app_with(Options {
        vars,
        database_url: Some(a.database_url.clone()),
        ..Options::default()
    })
    .await
}

/// A signed-up account on `app` with `key` saved (and its own concurrency, if given). The
/// session cookie serves every node: they share the database, and cookies ignore ports.
async fn user(app: &TestApp, email: &str, key: &str, concurrency: Option<u32>) -> Client {
    let client = new_client();
    let signup = client
        .post(app.at("/api/auth/signup"))
        .json(&json!({ "email": email, "password": PASSWORD }))
        .send()
        .await
        .expect("request");
    assert_eq!(signup.status(), StatusCode::CREATED, "signup of {email}");
    let saved = client
        .put(app.at("/api/account/fal-key"))
        .json(&json!({ "key": key, "concurrency": concurrency }))
        .send()
        .await
        .expect("request");
    assert_eq!(saved.status(), StatusCode::OK, "{email}'s key");
    client
}

async fn start(client: &Client, app: &TestApp, prompt: &str) -> String {
    let form = reqwest::multipart::Form::new()
        .text("endpoint", T2I)
        .text("params", json!({ "prompt": prompt }).to_string());
    let response = client
        .post(app.at("/api/generations"))
        .multipart(form)
        .send()
        .await
        .expect("request");
    let status = response.status();
    let body: Value = response.json().await.expect("json");
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    body["job"]["id"].as_str().expect("job id").to_owned()
}

async fn job(client: &Client, app: &TestApp, id: &str) -> Value {
    app.get_json_as(client, &format!("/api/jobs/{id}")).await["job"].clone()
}

/// Waits (at most `within`) until the job is finished; its last state.
async fn finished(client: &Client, app: &TestApp, id: &str, within: Duration) -> Value {
    let deadline = Instant::now() + within;
    loop {
        let job = job(client, app, id).await;
        if matches!(
            job["status"].as_str(),
            Some("completed" | "failed" | "cancelled")
        ) {
            return job;
        }
        assert!(
            Instant::now() < deadline,
            "job {id} did not finish within {within:?}; last: {job}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn health(app: &TestApp) -> Value {
    app.client
        .get(app.at("/healthz"))
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("json")
}

async fn node_id(app: &TestApp) -> String {
    health(app).await["nodeId"]
        .as_str()
        .expect("a node id")
        .to_owned()
}

async fn lease_owner(app: &TestApp, id: &str) -> Option<String> {
    let db = app.db().await;
    let owner: Option<String> = sqlx::query_scalar("SELECT lease_owner FROM jobs WHERE id = $1")
        .bind(id)
        .fetch_one(&db)
        .await
        .expect("the job's row");
    db.close().await;
    owner
}

/// Each prompt fal was sent, with how many times.
fn submissions(app: &TestApp) -> HashMap<String, usize> {
    let mut seen = HashMap::new();
    for r in app.fake.submitted() {
        let prompt = r.input["prompt"].as_str().unwrap_or_default().to_owned();
        *seen.entry(prompt).or_default() += 1;
    }
    seen
}

#[tokio::test]
async fn two_nodes_run_every_job_once_and_no_key_ever_has_more_at_fal_than_its_limit() {
    let nodes = two_nodes(&[("FAL_KEY_CONCURRENCY", "2"), ("JOBS_MAX_PER_USER", "4")]).await;
    let (a, b) = (&nodes.a, &nodes.b);
    // Ada and Bob share a key (so its limit of 2); Cy raised his key's limit to 3; Dee has
    // the default.
    let shared_key = "fake-key-shared:secret";
    let people = [
        (
            user(a, "ada@example.com", shared_key, None).await,
            shared_key,
        ),
        (
            user(b, "bob@example.com", shared_key, None).await,
            shared_key,
        ),
        (
            user(a, "cy@example.com", "fake-key-cy:secret", Some(3)).await,
            "fake-key-cy:secret",
        ),
        (
            user(b, "dee@example.com", "fake-key-dee:secret", None).await,
            "fake-key-dee:secret",
        ),
    ];
    let health_a = health(a).await;
    let health_b = health(b).await;
    assert_eq!(health_a["liveNodes"], 2, "{health_a}");
    assert_eq!(health_b["liveNodes"], 2, "{health_b}");
    assert_ne!(health_a["nodeId"], health_b["nodeId"]);

    // 24 jobs, sent to either node in turn, all at once.
    let sends = (0..24).map(|i| {
        let (client, _) = &people[i % people.len()];
        let node = if i % 2 == 0 { a } else { b };
        async move {
            (
                i,
                start(client, node, &format!("job {i} [fal:duration=300]")).await,
            )
        }
    });
    let jobs: Vec<(usize, String)> = futures_util::future::join_all(sends).await;
    for (i, id) in &jobs {
        let (client, _) = &people[i % people.len()];
        // Read back on the other node than the one it was sent to.
        let node = if i % 2 == 0 { b } else { a };
        let job = finished(client, node, id, Duration::from_secs(60)).await;
        assert_eq!(job["status"], "completed", "{job}");
        assert_eq!(job["assets"].as_array().map(Vec::len), Some(1), "{job}");
    }

    let sent = submissions(a);
    assert_eq!(sent.len(), 24, "every job reached fal: {sent:?}");
    assert!(
        sent.values().all(|n| *n == 1),
        "no job was submitted twice: {sent:?}"
    );
    let db = a.db().await;
    let assets: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM assets")
        .fetch_one(&db)
        .await
        .expect("count");
    assert_eq!(assets, 24, "one asset per job, stored once");
    let held: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM jobs WHERE lease_owner IS NOT NULL")
        .fetch_one(&db)
        .await
        .expect("count");
    assert_eq!(held, 0, "finished jobs hold no lease");
    db.close().await;

    let peaks = a.fake.peak_in_flight();
    let limit = |key: &str| if key == "fake-key-cy:secret" { 3 } else { 2 };
    for (_, key) in &people {
        let peak = peaks.get(*key).copied().unwrap_or(0);
        assert!(
            (1..=limit(key)).contains(&peak),
            "{key} had {peak} requests at fal at once (limit {}): {peaks:?}",
            limit(key)
        );
    }
    assert_eq!(
        peaks.get(shared_key),
        Some(&2),
        "the shared key's 12 jobs filled its limit, no more: {peaks:?}"
    );
}

#[tokio::test]
async fn a_node_that_stops_renewing_loses_its_jobs_to_the_other_which_polls_them() {
    let moto = MotoServer::start();
    let a = spawn_app_with(Options::from(shared(&moto, &[]))).await;
    let ada = user(&a, "ada@example.com", "fake-key-ada:secret", None).await;
    let id = start(&ada, &a, "long [fal:duration=6000]").await;
    let deadline = Instant::now() + Duration::from_secs(20);
    while job(&ada, &a, &id).await["requestId"].is_null() {
        assert!(Instant::now() < deadline, "the job never reached fal");
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
    // B joins only now, so A is the one driving the job.
    let b = second_node(&a, &moto, &[]).await;
    let (id_a, id_b) = (node_id(&a).await, node_id(&b).await);
    assert_eq!(lease_owner(&a, &id).await.as_deref(), Some(id_a.as_str()));

    // A's runner stops without giving its leases back (a node whose renewals stop).
    a.runner.stop();
    let stopped = Instant::now();
    let deadline = stopped + Duration::from_secs(20);
    let taken = loop {
        if lease_owner(&a, &id).await.as_deref() == Some(id_b.as_str()) {
            break stopped.elapsed();
        }
        assert!(Instant::now() < deadline, "B never took the job over");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(
        taken >= Duration::from_millis(1500),
        "B waited for A's lease to expire: taken after {taken:?}"
    );
    let job = finished(&ada, &b, &id, Duration::from_secs(30)).await;
    assert_eq!(job["status"], "completed", "{job}");
    assert_eq!(job["assets"].as_array().map(Vec::len), Some(1), "{job}");
    assert_eq!(
        submissions(&a).get("long [fal:duration=6000]"),
        Some(&1),
        "B polled the request A had submitted, never sent it again"
    );
}

#[tokio::test]
async fn a_node_that_finds_its_lease_taken_stops_driving_and_the_holder_finishes_the_job() {
    let moto = MotoServer::start();
    let a = spawn_app_with(Options::from(shared(&moto, &[]))).await;
    let ada = user(&a, "ada@example.com", "fake-key-ada:secret", None).await;
    let id = start(&ada, &a, "moved [fal:duration=8000]").await;
    let deadline = Instant::now() + Duration::from_secs(20);
    while job(&ada, &a, &id).await["requestId"].is_null() {
        assert!(Instant::now() < deadline, "the job never reached fal");
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
    let b = second_node(&a, &moto, &[]).await;
    let id_b = node_id(&b).await;
    assert_eq!(health(&a).await["heldJobs"], 1);
    // The lease moves to B behind A's back (as when B claimed it after A's lapsed).
    let db = a.db().await;
    sqlx::query(
        "UPDATE jobs SET lease_owner = $1, lease_expires_at = '2999-01-01T00:00:00.000Z' \
         WHERE id = $2",
    )
    .bind(&id_b)
    .bind(&id)
    .execute(&db)
    .await
    .expect("the lease moves");
    db.close().await;
    // A sees it at its next renewal (every third of the 3 s lease) and stops driving it, long
    // before fal finishes the job.
    let deadline = Instant::now() + Duration::from_secs(3);
    loop {
        let held = health(&a).await["heldJobs"].clone();
        if held == 0 && a.runner.driving() == 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "A kept driving a job it lost: {held}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let job = finished(&ada, &b, &id, Duration::from_secs(30)).await;
    assert_eq!(job["status"], "completed", "{job}");
    assert_eq!(job["assets"].as_array().map(Vec::len), Some(1), "{job}");
    assert_eq!(submissions(&a).get("moved [fal:duration=8000]"), Some(&1));
}

#[tokio::test]
async fn with_a_key_limit_of_two_six_jobs_wait_queued_their_turn_and_all_finish() {
    let app = spawn_app_with(Options::from(vec![
        ("FAL_RETRY_BASE_MS", "1".to_owned()),
        ("FAL_KEY_CONCURRENCY", "5".to_owned()),
        ("JOBS_MAX_PER_USER", "10".to_owned()),
    ]))
    .await;
    let ada = new_client();
    let signup = ada
        .post(app.at("/api/auth/signup"))
        .json(&json!({ "email": "ada@example.com", "password": PASSWORD }))
        .send()
        .await
        .expect("request");
    assert_eq!(signup.status(), StatusCode::CREATED);
    let key = "fake-key-ada:secret";
    // Out of range: refused, naming the field, before fal is asked.
    for bad in [json!(0), json!(1001)] {
        let response = ada
            .put(app.at("/api/account/fal-key"))
            .json(&json!({ "key": key, "concurrency": bad }))
            .send()
            .await
            .expect("request");
        let (status, error) = error_of(response).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{error}");
        assert_eq!(error["details"][0]["field"], "concurrency", "{error}");
    }
    assert!(app.fake.requests_to("/v1/account/billing").is_empty());
    // With no key saved there is no limit to change.
    let response = ada
        .patch(app.at("/api/account/fal-key"))
        .json(&json!({ "concurrency": 3 }))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::CONFLICT);
    let saved: Value = ada
        .put(app.at("/api/account/fal-key"))
        .json(&json!({ "key": key, "concurrency": 2 }))
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("json");
    assert_eq!(saved["user"]["falKeyConcurrency"], 2, "{saved}");
    let me = app.get_json_as(&ada, "/api/auth/me").await;
    assert_eq!(me["user"]["falKeyConcurrency"], 2, "{me}");
    // The limit changes on its own (fal raised it), without the key again; the range holds.
    let billed_before = app.fake.requests_to("/v1/account/billing").len();
    for (value, status) in [
        (json!(5), StatusCode::OK),
        (json!(0), StatusCode::UNPROCESSABLE_ENTITY),
        (json!(2), StatusCode::OK),
    ] {
        let response = ada
            .patch(app.at("/api/account/fal-key"))
            .json(&json!({ "concurrency": value }))
            .send()
            .await
            .expect("request");
        assert_eq!(response.status(), status, "{value}");
    }
    assert_eq!(
        app.fake.requests_to("/v1/account/billing").len(),
        billed_before
    );
    let me = app.get_json_as(&ada, "/api/auth/me").await;
    assert_eq!(me["user"]["falKeyConcurrency"], 2, "{me}");
    assert_eq!(me["user"]["hasFalKey"], true, "{me}");

    let mut ids = Vec::new();
    for i in 0..6 {
        ids.push(start(&ada, &app, &format!("turn {i} [fal:duration=500]")).await);
    }
    let mut saw_waiting = false;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let list = app.get_json_as(&ada, "/api/jobs").await;
        let statuses: Vec<&str> = list["jobs"]
            .as_array()
            .expect("jobs")
            .iter()
            .filter_map(|j| j["status"].as_str())
            .collect();
        let at_fal = statuses
            .iter()
            .filter(|s| matches!(**s, "submitting" | "running" | "storing"))
            .count();
        assert!(at_fal <= 2, "more than the key's 2 at fal: {statuses:?}");
        assert!(
            !statuses.contains(&"failed"),
            "waiting never fails a job: {statuses:?}"
        );
        saw_waiting |= at_fal == 2 && statuses.contains(&"queued");
        if statuses.iter().all(|s| *s == "completed") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "jobs never finished: {statuses:?}"
        );
        tokio::time::sleep(Duration::from_millis(40)).await;
    }
    assert!(
        saw_waiting,
        "jobs past the limit waited queued while two ran"
    );
    assert_eq!(app.fake.peak_in_flight().get(key), Some(&2));
    assert_eq!(app.fake.submitted().len(), 6);
}

#[tokio::test]
async fn parallel_starts_on_two_nodes_never_pass_the_global_limit() {
    let nodes = two_nodes(&[
        ("JOBS_MAX_RUNNING", "3"),
        ("JOBS_MAX_PER_USER", "10"),
        ("FAL_KEY_CONCURRENCY", "10"),
    ])
    .await;
    let (a, b) = (&nodes.a, &nodes.b);
    let mut people = Vec::new();
    for i in 0..4 {
        let node = if i % 2 == 0 { a } else { b };
        let key = format!("fake-key-{i}:secret");
        people.push(user(node, &format!("user{i}@example.com"), &key, None).await);
    }
    let sends = (0..20).map(|i| {
        let client = &people[i % people.len()];
        let node = if (i / 4) % 2 == 0 { a } else { b };
        async move {
            (
                i,
                start(client, node, &format!("wide {i} [fal:duration=250]")).await,
            )
        }
    });
    let jobs: Vec<(usize, String)> = futures_util::future::join_all(sends).await;
    for (i, id) in &jobs {
        let job = finished(&people[i % people.len()], a, id, Duration::from_secs(60)).await;
        assert_eq!(job["status"], "completed", "{job}");
    }
    let peak = a.fake.peak_in_flight_overall();
    assert!(
        (2..=3).contains(&peak),
        "both nodes together kept to JOBS_MAX_RUNNING=3 (and did run in parallel): {peak}"
    );
    assert_eq!(submissions(a).len(), 20);
    assert!(submissions(a).values().all(|n| *n == 1));
}

/// A configuration for a node of its own data folder (`dir`) on `database_url`.
fn node_config(dir: &std::path::Path, database_url: &str, fake_url: &str) -> Config {
    let mut vars: HashMap<String, String> = HashMap::from([
        ("BIND_ADDR".into(), "127.0.0.1:0".into()),
        ("DATA_DIR".into(), dir.join("data").display().to_string()),
        ("DATABASE_URL".into(), database_url.to_owned()),
    ]);
    for name in FAL_URLS {
        vars.insert(name.into(), fake_url.to_owned());
    }
    Config::from_lookup(|name| vars.get(name).cloned()).expect("a valid configuration")
}

#[tokio::test]
async fn a_second_node_on_local_storage_is_refused_until_the_first_has_stopped() {
    let first = spawn_app().await;
    let elsewhere = tempfile::tempdir().expect("temp dir");
    let refused = fal_studio::build(node_config(
        elsewhere.path(),
        &first.database_url,
        &first.fake.url(),
    ))
    .await;
    let Err(error) = refused else {
        panic!("a second local-storage node with a data folder of its own must be refused");
    };
    let message = format!("{error:#}");
    for says in [
        "STORAGE=local",
        "STORAGE=s3",
        "README",
        "stop the other node",
    ] {
        assert!(message.contains(says), "must say {says}: {message}");
    }
    assert!(
        !elsewhere
            .path()
            .join("data/nodes")
            .read_dir()
            .is_ok_and(|mut d| d.next().is_some()),
        "the refused node left no lock file behind"
    );

    // A node on the same data folder shares its files: allowed (a restart beside the old one).
    let beside = fal_studio::build(node_config(
        &first.dir,
        &first.database_url,
        &first.fake.url(),
    ))
    .await;
    assert!(beside.is_ok(), "same data folder: {:?}", beside.err());
    let beside = beside.expect("built");
    assert_eq!(health(&first).await["liveNodes"], 2);

    // Once both stopped gracefully, the node elsewhere may start.
    for runner in [&first.runner, &beside.runner] {
        runner.stop();
        runner.stopped().await;
    }
    assert_eq!(health(&first).await["liveNodes"], 0);
    let later = fal_studio::build(node_config(
        elsewhere.path(),
        &first.database_url,
        &first.fake.url(),
    ))
    .await;
    assert!(later.is_ok(), "after the stop: {:?}", later.err());
}

#[tokio::test]
async fn a_node_restarted_on_its_data_folder_takes_its_dead_predecessors_jobs_at_once() {
    let first = spawn_app_with(Options::from(vec![("FAL_RETRY_BASE_MS", "1".to_owned())])).await;
    let ada = user(&first, "ada@example.com", "fake-key-ada:secret", None).await;
    let id = start(&ada, &first, "inherited [fal:duration=2500]").await;
    let deadline = Instant::now() + Duration::from_secs(20);
    while job(&ada, &first, &id).await["requestId"].is_null() {
        assert!(Instant::now() < deadline, "the job never reached fal");
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
    first.runner.stop();
    // As a process killed mid-run leaves it: its lock file in the data folder, free (the kernel
    // dropped the lock), its row live, and its job leased for most of an hour.
    let dead = "00000000-0000-7000-8000-00000000dead";
    std::fs::write(first.dir.join(format!("data/nodes/{dead}.lock")), b"").expect("lock file");
    let db = first.db().await;
    sqlx::query(
        "INSERT INTO nodes (id, host, storage, heartbeat_at, live_until) \
         VALUES ($1, 'gone', 'local', '2999-01-01T00:00:00.000Z', '2999-01-01T00:00:00.000Z')",
    )
    .bind(dead)
    .execute(&db)
    .await
    .expect("the dead node's row");
    sqlx::query(
        "UPDATE jobs SET lease_owner = $1, lease_expires_at = '2999-01-01T00:00:00.000Z' WHERE id = $2",
    )
    .bind(dead)
    .bind(&id)
    .execute(&db)
    .await
    .expect("the dead node's lease");
    db.close().await;

    let restarted = Instant::now();
    let mut vars = vec![("FAL_RETRY_BASE_MS", "1".to_owned())];
    vars.extend(FAL_URLS.map(|name| (name, first.fake.url())));
    let second = spawn_app_with(Options {
        vars,
        dir: Some(first.dir.clone()),
        database_url: Some(first.database_url.clone()),
        ..Options::default()
    })
    .await;
    let job = finished(&ada, &second, &id, Duration::from_secs(20)).await;
    assert_eq!(job["status"], "completed", "{job}");
    assert!(
        restarted.elapsed() < Duration::from_secs(10),
        "taken over at once, not after the lease: {:?}",
        restarted.elapsed()
    );
    assert_eq!(
        submissions(&first).get("inherited [fal:duration=2500]"),
        Some(&1)
    );
    assert!(
        !first.dir.join(format!("data/nodes/{dead}.lock")).exists(),
        "the dead node's lock file is gone"
    );
    let db = first.db().await;
    let live_until: String = sqlx::query_scalar("SELECT live_until FROM nodes WHERE id = $1")
        .bind(dead)
        .fetch_one(&db)
        .await
        .expect("the dead node's row");
    db.close().await;
    assert!(
        live_until.as_str() < "2999",
        "the dead node no longer counts as live: {live_until}"
    );
}

#[tokio::test]
async fn admin_nodes_lists_the_live_nodes_and_the_jobs_each_holds() {
    let app = spawn_app_with(Options::from(vec![("FAL_RETRY_BASE_MS", "1".to_owned())])).await;
    let ada = user(&app, "ada@example.com", "fake-key-ada:secret", None).await;
    let id = start(&ada, &app, "listed [fal:duration=5000]").await;
    let deadline = Instant::now() + Duration::from_secs(20);
    while job(&ada, &app, &id).await["requestId"].is_null() {
        assert!(Instant::now() < deadline, "the job never reached fal");
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
    let node = node_id(&app).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let output = crate::binary::command(dir.path(), &app.fake)
        .env("DATABASE_URL", &app.database_url)
        .args(["admin", "nodes"])
        .stdin(std::process::Stdio::null())
        .output()
        .expect("runs");
    let text = String::from_utf8_lossy(&output.stdout);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{text}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(text.starts_with("1 live node on this database."), "{text}");
    assert!(text.contains(&format!("live    {node}")), "{text}");
    assert!(text.contains(&format!("{id}  running")), "{text}");
    let seen: HashSet<&str> = text.lines().filter(|l| l.contains("holds")).collect();
    assert_eq!(seen.len(), 1, "{text}");
}
