//! Operating the real binary: what its logs hold (and never hold), a graceful stop on SIGTERM,
//! and the `admin` commands.

use std::{path::Path, process::Stdio, time::Duration};

use fake_fal::FakeFal;
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

use crate::{
    binary::{APP_SECRET, admin, command, finished, generate, start, text, wait_for, walk},
    helpers::{cookie_value, new_client, session_cookie},
};

async fn post_json(client: &Client, url: String, body: Value) -> reqwest::Response {
    client.post(url).json(&body).send().await.expect("request")
}

async fn open_db(dir: &Path) -> sqlx::SqlitePool {
    sqlx::SqlitePool::connect(&format!(
        "sqlite://{}",
        dir.join("data/fal-studio.db").display()
    ))
    .await
    .expect("open the database")
}

#[tokio::test]
async fn a_full_run_logged_at_debug_shows_no_secret_and_tags_requests_with_their_id() {
    let fake = FakeFal::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut server = start(
        dir.path(),
        &fake,
        &[("RUST_LOG", "debug,sqlx=debug,tower_http=debug")],
    );
    let url = server.url.clone();
    let (email, password) = ("ada@example.com", "account-pw-Hq8vN2xLm5");
    let fal_key = "fake-key-id:fal-secret-Zp4Wk9Rt7Yb3";
    let share_password = "share-pw-Jd6Fs1Gq";

    let client = new_client();
    let signup = post_json(
        &client,
        format!("{url}/api/auth/signup"),
        json!({ "email": email, "password": password }),
    )
    .await;
    assert_eq!(signup.status(), StatusCode::CREATED);
    let signup_request_id = signup
        .headers()
        .get("x-request-id")
        .expect("responses carry x-request-id")
        .to_str()
        .unwrap()
        .to_owned();
    let mut cookies = vec![cookie_value(&session_cookie(&signup).expect("cookie"))];
    post_json(&client, format!("{url}/api/auth/logout"), json!({})).await;
    let login = post_json(
        &client,
        format!("{url}/api/auth/login"),
        json!({ "email": email, "password": password }),
    )
    .await;
    assert_eq!(login.status(), StatusCode::OK);
    cookies.push(cookie_value(&session_cookie(&login).expect("cookie")));
    let saved = client
        .put(format!("{url}/api/account/fal-key"))
        .json(&json!({ "key": fal_key }))
        .send()
        .await
        .unwrap();
    assert!(saved.status().is_success(), "{}", saved.status());

    let id = generate(&client, &url, json!({ "prompt": "a lighthouse at dusk" })).await;
    let job = wait_for(&client, &url, &id, finished).await;
    assert_eq!(job["status"], "completed", "{job}");
    let asset_id = job["assets"][0]["id"].as_str().unwrap().to_owned();

    let share = post_json(
        &client,
        format!("{url}/api/assets/{asset_id}/shares"),
        json!({ "password": share_password }),
    )
    .await;
    assert_eq!(share.status(), StatusCode::CREATED);
    let share: Value = share.json().await.unwrap();
    let token = share["share"]["token"].as_str().unwrap().to_owned();

    let visitor = new_client();
    let gate = visitor
        .get(format!("{url}/s/{token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(gate.status(), StatusCode::OK);
    let unlocked = visitor
        .post(format!("{url}/s/{token}"))
        .form(&[("password", share_password)])
        .send()
        .await
        .unwrap();
    assert!(
        unlocked.status().is_redirection() || unlocked.status().is_success(),
        "unlock: {}",
        unlocked.status()
    );
    let file = visitor
        .get(format!("{url}/s/{token}/file?download=1"))
        .send()
        .await
        .unwrap();
    assert_eq!(file.status(), StatusCode::OK);
    let _ = file.bytes().await;
    let revoked = client
        .delete(format!("{url}/api/shares/{token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), StatusCode::NO_CONTENT);

    // Ada, the studio's first account, saves the studio key; Bob, allowed it, runs a job on it.
    let studio_key = "studio-kid:studio-secret-Vb7Nq2Lx";
    let saved = client
        .put(format!("{url}/api/admin/studio-key"))
        .json(&json!({ "key": studio_key }))
        .send()
        .await
        .unwrap();
    assert_eq!(saved.status(), StatusCode::OK);
    let bob = new_client();
    let signup = post_json(
        &bob,
        format!("{url}/api/auth/signup"),
        json!({ "email": "bob@example.com", "password": password }),
    )
    .await;
    let bob_id = signup.json::<Value>().await.unwrap()["user"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let allowed = client
        .patch(format!("{url}/api/admin/users/{bob_id}"))
        .json(&json!({ "mayUseStudioKey": true }))
        .send()
        .await
        .unwrap();
    assert_eq!(allowed.status(), StatusCode::OK);
    let id = generate(&bob, &url, json!({ "prompt": "on the studio key" })).await;
    let job = wait_for(&bob, &url, &id, finished).await;
    assert_eq!(job["status"], "completed", "{job}");

    let (code, _) = server.terminate(Duration::from_secs(30)).await;
    assert_eq!(code, Some(0));
    let log = server.log();
    assert!(
        log.contains("finished processing request"),
        "the debug log has request lines:\n{log}"
    );

    let mut secrets = vec![
        ("the fal key", fal_key.to_owned()),
        (
            "the fal key's secret half",
            "fal-secret-Zp4Wk9Rt7Yb3".to_owned(),
        ),
        ("the account password", password.to_owned()),
        ("the studio key", studio_key.to_owned()),
        (
            "the studio key's secret half",
            "studio-secret-Vb7Nq2Lx".to_owned(),
        ),
        ("the share password", share_password.to_owned()),
        ("the share token", token.clone()),
        ("APP_SECRET", APP_SECRET.to_owned()),
    ];
    for cookie in cookies {
        secrets.push(("a session cookie", cookie));
    }
    for (what, secret) in &secrets {
        assert!(
            !log.contains(secret.as_str()),
            "{what} ({secret}) appears in the log:\n{}",
            log.lines()
                .filter(|l| l.contains(secret.as_str()))
                .collect::<Vec<_>>()
                .join("\n")
        );
    }

    let signup_line = log
        .lines()
        .find(|l| l.contains(&signup_request_id))
        .unwrap_or_else(|| panic!("no line carries request id {signup_request_id}:\n{log}"));
    assert!(
        signup_line.contains("/api/auth/signup") && signup_line.contains("POST"),
        "{signup_line}"
    );
    for line in log
        .lines()
        .filter(|l| l.contains("finished processing request"))
    {
        assert!(line.contains("request_id="), "no request id in: {line}");
    }
    assert!(
        log.contains("/s/{token}"),
        "share paths are logged with the token replaced"
    );
}

#[tokio::test]
async fn json_logs_are_one_object_per_line_with_the_request_id() {
    let fake = FakeFal::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut server = start(
        dir.path(),
        &fake,
        &[("LOG_FORMAT", "json"), ("RUST_LOG", "info")],
    );
    let response = new_client()
        .get(format!("{}/healthz", server.url))
        .send()
        .await
        .unwrap();
    let request_id = response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        uuid_v7(&request_id),
        "a generated id is a UUIDv7: {request_id}"
    );
    let (code, _) = server.terminate(Duration::from_secs(30)).await;
    assert_eq!(code, Some(0));
    let log = server.log();
    let lines: Vec<Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    let request_line = lines
        .iter()
        .find(|l| l["span"]["request_id"] == request_id.as_str())
        .unwrap_or_else(|| panic!("no line with the request id:\n{log}"));
    assert_eq!(request_line["span"]["path"], "/healthz");
    assert_eq!(request_line["span"]["method"], "GET");
}

fn uuid_v7(id: &str) -> bool {
    id.len() == 36 && id.as_bytes()[14] == b'7'
}

#[tokio::test]
async fn sigterm_lets_a_store_in_progress_finish_then_exits_zero() {
    let fake = FakeFal::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let grace = Duration::from_secs(20);
    let mut server = start(
        dir.path(),
        &fake,
        &[("RUST_LOG", "info"), ("SHUTDOWN_GRACE_SECS", "20")],
    );
    let client = new_client();
    let signup = post_json(
        &client,
        format!("{}/api/auth/signup", server.url),
        json!({ "email": "ada@example.com", "password": "correct horse battery" }),
    )
    .await;
    assert_eq!(signup.status(), StatusCode::CREATED);
    client
        .put(format!("{}/api/account/fal-key", server.url))
        .json(&json!({ "key": "fake-key-id:fake-secret" }))
        .send()
        .await
        .unwrap();
    let id = generate(
        &client,
        &server.url,
        json!({ "prompt": "big [fal:size=4000000][fal:slow]" }),
    )
    .await;
    wait_for(&client, &server.url, &id, |j| j["status"] == "storing").await;

    let (code, took) = server.terminate(grace + Duration::from_secs(5)).await;
    assert_eq!(code, Some(0), "log:\n{}", server.log());
    assert!(took < grace, "stopped in {took:?}; log:\n{}", server.log());

    let second = start(dir.path(), &fake, &[("RUST_LOG", "info")]);
    let client = new_client();
    let login = post_json(
        &client,
        format!("{}/api/auth/login", second.url),
        json!({ "email": "ada@example.com", "password": "correct horse battery" }),
    )
    .await;
    assert_eq!(login.status(), StatusCode::OK);
    let job = wait_for(&client, &second.url, &id, finished).await;
    assert_eq!(job["status"], "completed", "{job}");
    assert_eq!(job["assets"].as_array().unwrap().len(), 1, "{job}");
    assert!(server.log().contains("shutting down"), "the stop is logged");
    let db = open_db(dir.path()).await;
    let size: i64 = sqlx::query_scalar("SELECT byte_size FROM assets WHERE job_id = ?")
        .bind(&id)
        .fetch_one(&db)
        .await
        .unwrap();
    assert!(size >= 4_000_000, "stored whole: {size}");
    let objects = walk(&dir.path().join("data/files/assets"));
    assert_eq!(objects.len(), 1, "exactly one object: {objects:?}");
}

#[tokio::test]
async fn admin_create_user_makes_an_account_that_signs_in() {
    let fake = FakeFal::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();

    let created = admin(
        dir.path(),
        &fake,
        &[],
        &["create-user", "Grace@Example.com"],
        "first-pass-word\n",
    );
    assert_eq!(created.status.code(), Some(0), "{}", text(&created));
    assert!(
        !text(&created).contains("first-pass-word"),
        "{}",
        text(&created)
    );
    let again = admin(
        dir.path(),
        &fake,
        &[],
        &["create-user", "--password-stdin", "grace@example.com"],
        "another-pass-word\n",
    );
    assert_eq!(again.status.code(), Some(1), "{}", text(&again));
    assert!(
        text(&created).contains("admin"),
        "the first account is the admin: {}",
        text(&created)
    );

    // Roles: a second account is a member until made an admin; the last admin stays one.
    let hopper = admin(
        dir.path(),
        &fake,
        &[],
        &["create-user", "hopper@example.com"],
        "hopper-pass-word\n",
    );
    assert!(text(&hopper).contains("member"), "{}", text(&hopper));
    for (args, code) in [
        (["set-role", "hopper@example.com", "admin"], 0),
        (["set-role", "grace@example.com", "member"], 0),
        (["set-role", "hopper@example.com", "member"], 1),
        (["set-role", "nobody@example.com", "admin"], 1),
    ] {
        let done = admin(dir.path(), &fake, &[], &args, "");
        assert_eq!(done.status.code(), Some(code), "{args:?}: {}", text(&done));
    }

    let server = start(dir.path(), &fake, &[("RUST_LOG", "info")]);
    let login = post_json(
        &new_client(),
        format!("{}/api/auth/login", server.url),
        json!({ "email": "grace@example.com", "password": "first-pass-word" }),
    )
    .await;
    assert_eq!(login.status(), StatusCode::OK);
}

#[tokio::test]
async fn admin_reset_password_replaces_it_and_signs_that_user_out_everywhere() {
    let fake = FakeFal::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), &fake, &[("RUST_LOG", "info")]);
    let me = |client: Client| {
        let url = format!("{}/api/auth/me", server.url);
        async move { client.get(url).send().await.unwrap().status() }
    };
    let (grace, other) = (new_client(), new_client());
    for (client, email) in [(&grace, "grace@example.com"), (&other, "alan@example.com")] {
        let signup = post_json(
            client,
            format!("{}/api/auth/signup", server.url),
            json!({ "email": email, "password": "old-pass-word" }),
        )
        .await;
        assert_eq!(signup.status(), StatusCode::CREATED);
    }
    assert_eq!(me(grace.clone()).await, StatusCode::OK);

    let reset = admin(
        dir.path(),
        &fake,
        &[],
        &["reset-password", "grace@example.com"],
        "new-pass-word\n",
    );
    assert_eq!(reset.status.code(), Some(0), "{}", text(&reset));

    // The server remembers a session's user for a second (auth::session_store's RECENT_FOR);
    // a session ended by another process stops working within that.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(3);
    while me(grace.clone()).await != StatusCode::UNAUTHORIZED {
        assert!(
            std::time::Instant::now() < deadline,
            "the reset user's session is gone within a second or so"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(
        me(other.clone()).await,
        StatusCode::OK,
        "other users stay signed in"
    );
    let login = |password: &'static str| {
        let url = format!("{}/api/auth/login", server.url);
        async move {
            post_json(
                &new_client(),
                url,
                json!({ "email": "grace@example.com", "password": password }),
            )
            .await
            .status()
        }
    };
    assert_eq!(login("new-pass-word").await, StatusCode::OK);
    assert_eq!(login("old-pass-word").await, StatusCode::UNAUTHORIZED);

    let nobody = admin(
        dir.path(),
        &fake,
        &[],
        &["reset-password", "nobody@example.com"],
        "new-pass-word\n",
    );
    assert_eq!(nobody.status.code(), Some(1), "{}", text(&nobody));
}

#[tokio::test]
async fn admin_backup_while_the_server_runs_is_a_database_with_every_user() {
    let fake = FakeFal::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), &fake, &[("RUST_LOG", "info")]);
    for email in ["a@example.com", "b@example.com", "c@example.com"] {
        let signup = post_json(
            &new_client(),
            format!("{}/api/auth/signup", server.url),
            json!({ "email": email, "password": "a-pass-word" }),
        )
        .await;
        assert_eq!(signup.status(), StatusCode::CREATED);
    }

    let target = dir.path().join("backup.db");
    let backup = admin(
        dir.path(),
        &fake,
        &[],
        &["backup", target.to_str().unwrap()],
        "",
    );
    assert_eq!(backup.status.code(), Some(0), "{}", text(&backup));
    let copy = sqlx::SqlitePool::connect(&format!("sqlite://{}", target.display()))
        .await
        .expect("the backup opens");
    let users: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users")
        .fetch_one(&copy)
        .await
        .unwrap();
    assert_eq!(users, 3);
    copy.close().await;

    let before = std::fs::read(&target).unwrap();
    let again = admin(
        dir.path(),
        &fake,
        &[],
        &["backup", target.to_str().unwrap()],
        "",
    );
    assert_eq!(again.status.code(), Some(1), "{}", text(&again));
    assert_eq!(
        std::fs::read(&target).unwrap(),
        before,
        "an existing file is left alone"
    );
    // The server is still serving after the backup.
    let health = new_client()
        .get(format!("{}/healthz", server.url))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), StatusCode::OK);
}

#[tokio::test]
async fn usage_and_configuration_errors_exit_2_and_help_exits_0() {
    let fake = FakeFal::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str], vars: &[(&str, &str)]| {
        command(dir.path(), &fake)
            .args(args)
            .envs(vars.iter().copied())
            .stdin(Stdio::null())
            .output()
            .expect("runs")
    };
    // (arguments, settings, exit code, what the output mentions)
    type Case<'a> = (&'a [&'a str], &'a [(&'a str, &'a str)], i32, &'a str);
    let cases: &[Case] = &[
        (&["--help"], &[], 0, "admin"),
        (&["admin", "--help"], &[], 0, "reset-password"),
        (&["frobnicate"], &[], 2, "unrecognized subcommand"),
        (&["admin", "frobnicate"], &[], 2, "unrecognized subcommand"),
        (&["admin", "create-user"], &[], 2, "email"),
        (&["admin", "backup"], &[], 2, "path"),
        (&["admin", "create-user", "not-an-email"], &[], 2, "email"),
        (
            &["admin", "create-user", "a@example.com"],
            &[],
            2,
            "password",
        ),
        (
            &["admin", "backup", "x.db"],
            &[("LOG_FORMAT", "xml")],
            2,
            "LOG_FORMAT",
        ),
        (&[], &[("LOG_FORMAT", "xml")], 2, "LOG_FORMAT"),
        // Refused before any connection: nothing listens on port 9.
        (
            &["admin", "backup", "x.db"],
            &[("DATABASE_URL", "postgres://studio@127.0.0.1:9/studio")],
            2,
            "pg_dump",
        ),
    ];
    for (args, vars, code, says) in cases {
        let output = run(args, vars);
        assert_eq!(
            output.status.code(),
            Some(*code),
            "case {args:?} {vars:?}: {}",
            text(&output)
        );
        assert!(
            text(&output).contains(says),
            "case {args:?} {vars:?} must mention '{says}': {}",
            text(&output)
        );
    }
}

#[tokio::test]
async fn help_lists_the_commands_and_an_unknown_one_is_refused_by_name() {
    let fake = FakeFal::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        command(dir.path(), &fake)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .expect("runs")
    };

    let help = run(&["--help"]);
    assert_eq!(help.status.code(), Some(0), "{}", text(&help));
    let out = String::from_utf8_lossy(&help.stdout);
    assert!(
        out.contains("healthcheck") && out.contains("admin"),
        "{out}"
    );

    let admin_help = run(&["admin", "--help"]);
    assert_eq!(admin_help.status.code(), Some(0), "{}", text(&admin_help));
    let out = String::from_utf8_lossy(&admin_help.stdout);
    for listed in [
        "create-user",
        "reset-password",
        "invite",
        "backup",
        "Exit codes",
    ] {
        assert!(
            out.contains(listed),
            "`admin --help` must list {listed}: {out}"
        );
    }

    // Unknown commands and options fail with 2, naming what was wrong, on stderr.
    for (args, says) in [
        (
            &["admin", "frobnicate"][..],
            "unrecognized subcommand 'frobnicate'",
        ),
        (&["frobnicate"], "unrecognized subcommand 'frobnicate'"),
        (
            &["admin", "invite", "--weeks", "2"],
            "unexpected argument '--weeks'",
        ),
        (&["admin", "invite", "--days", "0"], "--days"),
        (&["healthcheck", "now"], "unexpected argument 'now'"),
    ] {
        let output = run(args);
        assert_eq!(
            output.status.code(),
            Some(2),
            "case {args:?}: {}",
            text(&output)
        );
        let err = String::from_utf8_lossy(&output.stderr);
        assert!(err.contains(says), "case {args:?} must say {says}: {err}");
        assert!(
            err.contains("--help"),
            "case {args:?} must point at --help: {err}"
        );
        assert!(output.stdout.is_empty(), "case {args:?}: {}", text(&output));
    }

    // A bare `admin` shows its help (and is not a command: exit 2).
    let bare = run(&["admin"]);
    assert_eq!(bare.status.code(), Some(2), "{}", text(&bare));
    assert!(String::from_utf8_lossy(&bare.stderr).contains("create-user"));

    let invite = admin(dir.path(), &fake, &[], &["invite", "--days", "7"], "");
    assert_eq!(invite.status.code(), Some(0), "{}", text(&invite));
    let out = String::from_utf8_lossy(&invite.stdout);
    assert!(
        out.contains("valid for 7 days") && out.contains("/signup?invite="),
        "{out}"
    );
}
