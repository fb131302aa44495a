//! Two studio nodes as real processes on one Postgres database, one S3 store (moto) and one
//! fake fal (issue 14's process-level test): 200 jobs from 20 users, node A killed with SIGKILL
//! while it stores slow outputs, node B taking A's jobs once their leases expire, then A
//! started again on its data folder. Every job completes, every output is stored exactly once,
//! fal saw every job once, and no key ever had more requests at fal than its limit.
//!
//! Needs a Postgres server (`TEST_POSTGRES_URL`, as the test command's Postgres run sets it);
//! without one it says so and passes.

use std::{
    collections::{HashMap, HashSet},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use fake_fal::FakeFal;
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use sqlx::{Connection, PgPool};
use tokio::task::JoinSet;

use crate::{
    binary::{self, Server, generate},
    helpers::{PASSWORD, new_client, postgres_admin_url},
    moto::MotoServer,
};

const USERS: usize = 20;
const JOBS_PER_USER: usize = 10;
/// Users `0..SHARING` save one key between them, so its limit is shared by their 30 jobs.
const SHARING: usize = 3;
const SHARED_KEY: &str = "fake-key-shared:secret";
/// `FAL_KEY_CONCURRENCY`: fal's limit for a new account.
const KEY_LIMIT: usize = 2;
const LEASE_SECS: u64 = 3;
/// Bytes of each output of a slow job: at the fake CDN's 64 KiB per 20 ms, about half a second
/// each, so such a job is `storing` for about a second.
const SLOW_SIZE: i64 = 1_500_000;
const BUCKET: &str = "studio-media";
/// `jobs::store::START_LOCK`: the advisory lock every start takes, in every node.
const START_LOCK: i64 = 0x6661_6c2d_6a6f_6273;
const DEADLINE: Duration = Duration::from_secs(150);

struct Person {
    email: String,
    key: String,
    client: Client,
}

/// One generation the test asked for: the label in its prompt, and what it should leave.
#[derive(Debug, Clone)]
struct Planned {
    label: String,
    outputs: usize,
    slow: bool,
}

fn key_of(user: usize) -> String {
    if user < SHARING {
        SHARED_KEY.to_owned()
    } else {
        format!("fake-key-u{user:02}:secret")
    }
}

/// Job `j` of `user`: every one unique by its label; some with two outputs; on own-key users,
/// two of ten with large outputs the fake CDN trickles out (so they are caught storing).
fn plan(user: usize, j: usize) -> (Planned, Value) {
    let slow = user >= SHARING && j % 4 == 2;
    let outputs = if slow || j.is_multiple_of(3) { 2 } else { 1 };
    let label = format!("u{user:02}-j{j}");
    let script = if slow {
        format!("[fal:duration=300][fal:size={SLOW_SIZE}][fal:slow]")
    } else {
        "[fal:duration=300]".to_owned()
    };
    let params = json!({ "prompt": format!("{label} {script}"), "num_images": outputs });
    (
        Planned {
            label,
            outputs,
            slow,
        },
        params,
    )
}

/// The nodes' URLs as the clients see them: A's is `None` while it is down.
struct Urls {
    a: Mutex<Option<String>>,
    b: String,
}

impl Urls {
    /// Either node in turn (B while A is down).
    fn pick(&self, turn: u64) -> String {
        let a = self.a.lock().unwrap().clone();
        match a {
            Some(a) if turn.is_multiple_of(2) => a,
            _ => self.b.clone(),
        }
    }
}

/// A new, empty database on the test server.
async fn fresh_database(admin_url: &str) -> String {
    let name = crate::helpers::create_postgres_database(admin_url, "t_cluster").await;
    crate::helpers::postgres_url_of(admin_url, &name)
}

/// Starts a node on its own data folder `dir` (off the runtime's threads: it blocks until the
/// node says where it listens, and the fake fal must keep answering meanwhile).
async fn node(dir: &std::path::Path, fake: &FakeFal, vars: &[(&'static str, String)]) -> Server {
    std::fs::create_dir_all(dir.join("static")).expect("static folder");
    let mut command = binary::command(dir, fake);
    command.envs(vars.iter().map(|(k, v)| (*k, v.as_str())));
    tokio::task::spawn_blocking(move || binary::spawn(command))
        .await
        .expect("the node starts")
}

async fn health(url: &str) -> Value {
    reqwest::get(format!("{url}/healthz"))
        .await
        .expect("request")
        .json()
        .await
        .expect("json")
}

/// The end of each node's log, for a failure message.
fn tails(nodes: &[(&str, &Server)]) -> String {
    let mut out = String::new();
    for (name, server) in nodes {
        let log = server.log();
        let lines: Vec<&str> = log.lines().collect();
        let from = lines.len().saturating_sub(40);
        out.push_str(&format!("\n--- node {name}, last lines ---\n"));
        out.push_str(&lines[from..].join("\n"));
    }
    out
}

async fn count(db: &PgPool, sql: &str, bind: &str) -> i64 {
    sqlx::query_scalar(sql)
        .bind(bind)
        .fetch_one(db)
        .await
        .expect("a count")
}

/// The jobs `node` holds in `storing`.
async fn storing(db: &PgPool, node: &str) -> Vec<String> {
    sqlx::query_scalar("SELECT id FROM jobs WHERE status = 'storing' AND lease_owner = $1")
        .bind(node)
        .fetch_all(db)
        .await
        .expect("the jobs a node stores")
}

/// Every object in the bucket, listed through the S3 API.
async fn bucket_keys(moto: &MotoServer) -> Vec<String> {
    use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region};
    use aws_smithy_http_client::tls;
    let http = aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(
            tls::rustls_provider::CryptoMode::Ring,
        ))
        .build_https();
    let config = aws_sdk_s3::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .http_client(http)
        .region(Region::new("us-east-1"))
        .endpoint_url(moto.endpoint())
        .force_path_style(true)
        .credentials_provider(Credentials::new("testing", "testing", None, None, "test"))
        .build();
    let s3 = aws_sdk_s3::Client::from_conf(config);
    let mut keys = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let page = s3
            .list_objects_v2()
            .bucket(BUCKET)
            .set_continuation_token(token.take())
            .send()
            .await
            .expect("the bucket lists");
        keys.extend(
            page.contents()
                .iter()
                .filter_map(|o| o.key().map(str::to_owned)),
        );
        match page.next_continuation_token() {
            Some(next) if page.is_truncated() == Some(true) => token = Some(next.to_owned()),
            _ => return keys,
        }
    }
}

/// Follows one user's jobs (on either node in turn) until all are finished; their last views.
async fn follow(person: Arc<Person>, urls: Arc<Urls>) -> Result<Vec<Value>, String> {
    let deadline = Instant::now() + DEADLINE;
    let mut turn = 0u64;
    let mut last = Value::Null;
    loop {
        turn += 1;
        let url = urls.pick(turn);
        // A node killed a moment ago refuses the connection: the other one answers.
        let listed = match person
            .client
            .get(format!("{url}/api/jobs?limit=100"))
            .send()
            .await
        {
            Ok(r) => r.json::<Value>().await.ok(),
            Err(_) => None,
        };
        if let Some(list) = listed {
            let jobs = list["jobs"].as_array().cloned().unwrap_or_default();
            let done = jobs.len() == JOBS_PER_USER && jobs.iter().all(binary::finished);
            if done {
                return Ok(jobs);
            }
            last = list;
        }
        if Instant::now() > deadline {
            return Err(format!(
                "{}'s jobs did not all finish within {DEADLINE:?}; last: {last}",
                person.email
            ));
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_one_killed_mid_ingest_and_restarted_run_200_jobs_each_once() {
    let Some(admin_url) = postgres_admin_url() else {
        eprintln!(
            "cluster::two_nodes_one_killed_mid_ingest_and_restarted_run_200_jobs_each_once: \
             skipped, TEST_POSTGRES_URL is not set (scripts/test sets it for its Postgres run)"
        );
        return;
    };
    let began = Instant::now();
    let moto = MotoServer::start();
    let fake = FakeFal::start().await.expect("fake fal starts");
    let database_url = fresh_database(&admin_url).await;
    let db = PgPool::connect(&database_url).await.expect("the database");
    let vars: Vec<(&'static str, String)> = vec![
        ("DATABASE_URL", database_url.clone()),
        ("STORAGE", "s3".into()),
        ("S3_BUCKET", BUCKET.into()),
        ("S3_ENDPOINT", moto.endpoint()),
        ("S3_REGION", "us-east-1".into()),
        ("S3_ACCESS_KEY_ID", "testing".into()),
        ("S3_SECRET_ACCESS_KEY", "testing".into()),
        ("STORAGE_RETRY_BASE_MS", "10".into()),
        ("JOB_LEASE_SECONDS", LEASE_SECS.to_string()),
        ("FAL_KEY_CONCURRENCY", KEY_LIMIT.to_string()),
        // The keys are the limit under test; the global one stays out of their way.
        ("JOBS_MAX_RUNNING", "64".into()),
        ("SIGNUP_LIMIT_PER_HOUR", "100".into()),
    ];
    // Two machines: a data folder each.
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let mut a = node(dir_a.path(), &fake, &vars).await;
    let b = node(dir_b.path(), &fake, &vars).await;
    let (id_a, id_b) = (health(&a.url).await, health(&b.url).await);
    assert_eq!(id_b["liveNodes"], 2, "{id_b}");
    let id_a = id_a["nodeId"].as_str().expect("A's id").to_owned();
    let id_b = id_b["nodeId"].as_str().expect("B's id").to_owned();
    let urls = Arc::new(Urls {
        a: Mutex::new(Some(a.url.clone())),
        b: b.url.clone(),
    });

    // 20 accounts, signed up on either node (sessions live in the database).
    let mut signups = JoinSet::new();
    for user in 0..USERS {
        let url = if user % 2 == 0 { &a.url } else { &b.url }.clone();
        signups.spawn(async move {
            let client = new_client();
            let email = format!("user{user:02}@example.com");
            let signup = client
                .post(format!("{url}/api/auth/signup"))
                .json(&json!({ "email": email, "password": PASSWORD }))
                .send()
                .await
                .expect("request");
            assert_eq!(signup.status(), StatusCode::CREATED, "signup of {email}");
            let key = key_of(user);
            let saved = client
                .put(format!("{url}/api/account/fal-key"))
                .json(&json!({ "key": key }))
                .send()
                .await
                .expect("request");
            assert_eq!(saved.status(), StatusCode::OK, "{email}'s key");
            (user, Person { email, key, client })
        });
    }
    let mut people: Vec<(usize, Person)> = signups.join_all().await;
    people.sort_by_key(|(user, _)| *user);
    let people: Vec<Arc<Person>> = people.into_iter().map(|(_, p)| Arc::new(p)).collect();
    let set_up = began.elapsed();

    // 200 jobs, each user's ten in order, all users at once, through either node in turn.
    let mut sends = JoinSet::new();
    for (user, person) in people.iter().enumerate() {
        let (person, a_url, b_url) = (person.clone(), a.url.clone(), b.url.clone());
        sends.spawn(async move {
            let mut made = Vec::new();
            for j in 0..JOBS_PER_USER {
                let (planned, params) = plan(user, j);
                let url = if (user + j) % 2 == 0 { &a_url } else { &b_url };
                made.push((generate(&person.client, url, params).await, planned));
            }
            made
        });
    }
    let jobs: HashMap<String, Planned> = sends.join_all().await.into_iter().flatten().collect();
    assert_eq!(jobs.len(), USERS * JOBS_PER_USER);
    let created = began.elapsed();
    let mut followers = JoinSet::new();
    for person in &people {
        followers.spawn(follow(person.clone(), urls.clone()));
    }

    // Node A is killed while it stores slow outputs. Starts are held back (the lock they all
    // take) for the moment of the kill, and A is killed only once none of its jobs is between
    // `submitting` and fal's answer: a node dying there cannot know whether fal got the job, so
    // that job fails by design ("never submitted twice") rather than completes.
    let mut lock = sqlx::PgConnection::connect(&database_url)
        .await
        .expect("a connection of the test's own");
    let caught: Vec<String> = loop {
        let slow = |ids: &[String]| ids.iter().filter(|id| jobs[*id].slow).count();
        if slow(&storing(&db, &id_a).await) >= 1 {
            sqlx::query("SELECT pg_advisory_lock($1)")
                .bind(START_LOCK)
                .execute(&mut lock)
                .await
                .expect("the start lock");
            while count(
                &db,
                "SELECT COUNT(*) FROM jobs WHERE status = 'submitting' AND lease_owner = $1",
                &id_a,
            )
            .await
                > 0
            {
                assert!(began.elapsed() < DEADLINE, "A's submissions never ended");
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            let storing = storing(&db, &id_a).await;
            if slow(&storing) >= 1 {
                a.child.kill().expect("SIGKILL");
                a.child.wait().expect("A is gone");
                *urls.a.lock().unwrap() = None;
                break storing;
            }
            sqlx::query("SELECT pg_advisory_unlock($1)")
                .bind(START_LOCK)
                .execute(&mut lock)
                .await
                .expect("the start lock given back");
        }
        assert!(
            began.elapsed() < DEADLINE,
            "A never held a slow job storing{}",
            tails(&[("A", &a), ("B", &b)])
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let killed = Instant::now();
    let held_by_a: Vec<String> = sqlx::query_scalar("SELECT id FROM jobs WHERE lease_owner = $1")
        .bind(&id_a)
        .fetch_all(&db)
        .await
        .expect("A's jobs");
    sqlx::query("SELECT pg_advisory_unlock($1)")
        .bind(START_LOCK)
        .execute(&mut lock)
        .await
        .expect("the start lock given back");
    let kill_at = began.elapsed();

    // B takes every job A held once its lease expires (nothing moves them before: A is gone).
    let mut first_move: Option<Duration> = None;
    loop {
        let left = count(
            &db,
            "SELECT COUNT(*) FROM jobs WHERE lease_owner = $1",
            &id_a,
        )
        .await;
        if first_move.is_none() && (left as usize) < held_by_a.len() {
            first_move = Some(killed.elapsed());
        }
        if left == 0 {
            break;
        }
        assert!(
            killed.elapsed() < Duration::from_secs(LEASE_SECS * 4),
            "B did not take A's {left} jobs{}",
            tails(&[("B", &b)])
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let taken_over = killed.elapsed();
    let first_move = first_move.unwrap_or(taken_over);
    assert!(
        first_move >= Duration::from_secs(1),
        "B waited for A's leases to expire: the first of A's jobs moved {first_move:?} after the kill"
    );
    let moved: Vec<(String, Option<String>)> =
        sqlx::query_as("SELECT status, lease_owner FROM jobs WHERE id = ANY($1)")
            .bind(&held_by_a)
            .fetch_all(&db)
            .await
            .expect("A's former jobs");
    assert!(
        moved
            .iter()
            .all(|(status, owner)| status == "completed" || owner.as_deref() == Some(&id_b)),
        "A's jobs went to B (or B finished them): {moved:?}"
    );

    // A again, on its own data folder: a new process that joins in what is left.
    let queued_at_restart =
        count(&db, "SELECT COUNT(*) FROM jobs WHERE status = $1", "queued").await;
    a = node(dir_a.path(), &fake, &vars).await;
    let restarted = began.elapsed();
    let id_a2 = health(&a.url).await["nodeId"]
        .as_str()
        .expect("A's new id")
        .to_owned();
    *urls.a.lock().unwrap() = Some(a.url.clone());
    // Not asserted: a freed slot goes to the node whose job freed it (it wakes at once; the
    // other looks each second), so a node that joins a busy queue may start nothing.
    let mut a_drove = 0;
    while !followers.is_empty() {
        tokio::select! {
            joined = followers.join_next() => {
                if let Some(Err(stuck)) = joined.map(|outcome| outcome.expect("a follower")) {
                    panic!("{stuck}{}", tails(&[("A", &a), ("B", &b)]));
                }
            }
            () = tokio::time::sleep(Duration::from_millis(100)) => {
                let held = count(&db, "SELECT COUNT(*) FROM jobs WHERE lease_owner = $1", &id_a2).await;
                a_drove = a_drove.max(held);
            }
        }
    }
    let finished = began.elapsed();
    eprintln!(
        "cluster: set up {set_up:?}, 200 jobs created by {created:?}, A killed at {kill_at:?} \
         holding {} jobs ({} storing, {} of them slow), B took them {first_move:?}..{taken_over:?} after, A \
         restarted at {restarted:?} with {queued_at_restart} queued (it then held at most \
         {a_drove} at once), all finished at {finished:?}",
        held_by_a.len(),
        caught.len(),
        caught.iter().filter(|id| jobs[*id].slow).count()
    );

    // Every job completed.
    let statuses: Vec<(String, String, Option<String>)> =
        sqlx::query_as("SELECT id, status, request_id FROM jobs")
            .fetch_all(&db)
            .await
            .expect("jobs");
    assert_eq!(statuses.len(), jobs.len());
    let not_done: Vec<_> = statuses
        .iter()
        .filter(|(_, s, _)| s != "completed")
        .collect();
    assert!(not_done.is_empty(), "every job completed: {not_done:?}");
    let request_ids: HashSet<&str> = statuses
        .iter()
        .filter_map(|(_, _, r)| r.as_deref())
        .collect();
    assert_eq!(request_ids.len(), jobs.len(), "one fal request per job");
    let held: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM jobs WHERE lease_owner IS NOT NULL")
        .fetch_one(&db)
        .await
        .expect("count");
    assert_eq!(held, 0, "finished jobs hold no lease");

    // One asset per (job, output index), and one object per asset.
    let assets: Vec<(String, i64, String, i64)> =
        sqlx::query_as("SELECT job_id, output_index, storage_key, byte_size FROM assets")
            .fetch_all(&db)
            .await
            .expect("assets");
    let mut per_job: HashMap<&str, Vec<i64>> = HashMap::new();
    for (job, index, _, _) in &assets {
        per_job.entry(job.as_str()).or_default().push(*index);
    }
    for (id, planned) in &jobs {
        let mut indices = per_job.get(id.as_str()).cloned().unwrap_or_default();
        indices.sort_unstable();
        let expected: Vec<i64> = (0..planned.outputs as i64).collect();
        assert_eq!(
            indices, expected,
            "job {id} ({planned:?}): one asset per output"
        );
    }
    let outputs: usize = jobs.values().map(|p| p.outputs).sum();
    assert_eq!(assets.len(), outputs, "asset rows = outputs");
    // The slow outputs A was storing when it died were stored whole after all.
    for (job, index, _, size) in &assets {
        if caught.contains(job) && jobs[job].slow {
            assert_eq!(
                *size, SLOW_SIZE,
                "caught output {index} of {job} stored whole"
            );
        }
    }
    let stored: Vec<String> = assets.iter().map(|(_, _, key, _)| key.clone()).collect();
    let (thumbs, mut listed): (Vec<String>, Vec<String>) = bucket_keys(&moto)
        .await
        .into_iter()
        .partition(|key| key.starts_with("thumbs/"));
    listed.sort();
    // Thumbnails come after their asset, some maybe still being made when this looks: each is
    // named by its asset (`thumbs/<user>/<asset>.<ext>`), so none is a thumbnail of nothing and a
    // retry after the kill overwrote rather than added.
    let asset_ids: HashSet<String> = sqlx::query_scalar::<_, String>("SELECT id FROM assets")
        .fetch_all(&db)
        .await
        .expect("asset ids")
        .into_iter()
        .collect();
    for key in &thumbs {
        let asset = key
            .rsplit('/')
            .next()
            .and_then(|name| name.split('.').next())
            .unwrap_or_default();
        assert!(asset_ids.contains(asset), "a thumbnail of no asset: {key}");
    }
    assert!(thumbs.len() <= asset_ids.len());
    let mut expected = stored.clone();
    expected.sort();
    assert_eq!(
        listed, expected,
        "the bucket holds exactly one object per asset"
    );

    // fal saw each job once, and no key had more at fal at once than its limit.
    let mut sent: HashMap<String, usize> = HashMap::new();
    for request in fake.submitted() {
        let prompt = request.input["prompt"].as_str().unwrap_or_default();
        let label = prompt.split(' ').next().unwrap_or_default().to_owned();
        *sent.entry(label).or_default() += 1;
    }
    let labels: HashSet<String> = jobs.values().map(|p| p.label.clone()).collect();
    assert_eq!(
        sent.keys().cloned().collect::<HashSet<_>>(),
        labels,
        "fal saw every job"
    );
    let twice: Vec<_> = sent.iter().filter(|(_, n)| **n != 1).collect();
    assert!(twice.is_empty(), "fal saw each job once: {twice:?}");
    let peaks = fake.peak_in_flight();
    for person in &people {
        let peak = peaks.get(&person.key).copied().unwrap_or(0);
        assert!(
            (1..=KEY_LIMIT).contains(&peak),
            "{} had {peak} requests at fal at once (limit {KEY_LIMIT}): {peaks:?}",
            person.key
        );
    }
    assert_eq!(
        peaks.get(SHARED_KEY),
        Some(&KEY_LIMIT),
        "the shared key's 30 jobs filled its limit, no more: {peaks:?}"
    );
    // The users' own view agrees.
    let mut views = JoinSet::new();
    for person in &people {
        views.spawn(follow(person.clone(), urls.clone()));
    }
    for listed in views.join_all().await {
        let listed = listed.expect("finished");
        assert!(
            listed.iter().all(|j| j["status"] == "completed"),
            "{listed:?}"
        );
    }
    db.close().await;
    eprintln!("cluster: checked at {:?}", began.elapsed());
}
