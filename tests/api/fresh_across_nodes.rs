//! Nothing a node keeps for a second outlives another node's change. On SQLite the studio keeps
//! a gallery page and a session's user for a second (one process writes the database, and drops
//! its copies at once when it does). On Postgres other processes write too, and a load balancer
//! sends each request anywhere: an asset deleted through node A must be gone from node B's very
//! next page, and a sign-out everywhere through A must hold on B at once. Two real binaries,
//! because the in-process test apps share the process-wide change counters.

use reqwest::{Client, StatusCode, header};
use serde_json::{Value, json};

use crate::{
    binary::start,
    helpers::{
        PASSWORD, new_client, nonce_of, on_postgres, postgres_admin_url, postgres_database_for,
    },
    moto::MotoServer,
};

#[tokio::test]
async fn on_postgres_another_nodes_change_holds_at_the_next_request() {
    let Some(admin) = postgres_admin_url() else {
        eprintln!("skipped: needs TEST_POSTGRES_URL (the test command's Postgres run)");
        return;
    };
    assert!(on_postgres());
    let fake = fake_fal::FakeFal::start().await.expect("fake fal");
    let moto = MotoServer::start();
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let database = postgres_database_for(&admin, dir_a.path()).await;
    let endpoint = moto.endpoint();
    let vars = [
        ("DATABASE_URL", database.as_str()),
        ("STORAGE", "s3"),
        ("S3_BUCKET", "fresh-across-nodes"),
        ("S3_ENDPOINT", endpoint.as_str()),
        ("S3_REGION", "us-east-1"),
        ("S3_ACCESS_KEY_ID", "testing"),
        ("S3_SECRET_ACCESS_KEY", "testing"),
    ];
    let a = start(dir_a.path(), &fake, &vars);
    let b = start(dir_b.path(), &fake, &vars);

    let ada = new_client();
    let signup = ada
        .post(format!("{}/api/auth/signup", a.url))
        .json(&json!({ "email": "ada@example.com", "password": PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(signup.status(), StatusCode::CREATED);
    let key = ada
        .put(format!("{}/api/account/fal-key", a.url))
        .json(&json!({ "key": "fake-key-id:fake-secret" }))
        .send()
        .await
        .unwrap();
    assert_eq!(key.status(), StatusCode::OK);
    let id = crate::binary::generate(&ada, &a.url, json!({ "prompt": "fresh" })).await;
    let job = crate::binary::wait_for(&ada, &a.url, &id, crate::binary::finished).await;
    assert_eq!(job["status"], "completed", "{job}");

    let page_on_b = || async {
        let page: Value = ada
            .get(format!("{}/api/assets", b.url))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        page["assets"].as_array().cloned().unwrap_or_default()
    };
    let listed = page_on_b().await;
    assert_eq!(listed.len(), 1, "{listed:?}");
    let asset = listed[0]["id"].as_str().unwrap().to_owned();
    a_password_link_opens_across_nodes(&ada, &a.url, &b.url, &asset).await;
    let deleted = ada
        .delete(format!("{}/api/assets/{asset}", a.url))
        .send()
        .await
        .unwrap();
    assert!(deleted.status().is_success(), "{}", deleted.status());
    assert!(page_on_b().await.is_empty(), "B still lists what A deleted");

    // A second device keeps its cookie when Ada signs out everywhere through A.
    let device = new_client();
    let login = device
        .post(format!("{}/api/auth/login", a.url))
        .json(&json!({ "email": "ada@example.com", "password": PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), StatusCode::OK);
    let me_on_b = || device.get(format!("{}/api/auth/me", b.url)).send();
    assert_eq!(me_on_b().await.unwrap().status(), StatusCode::OK);
    let everywhere = ada
        .post(format!("{}/api/auth/logout-everywhere", a.url))
        .send()
        .await
        .unwrap();
    assert!(everywhere.status().is_success(), "{}", everywhere.status());
    assert_eq!(
        me_on_b().await.unwrap().status(),
        StatusCode::UNAUTHORIZED,
        "B still knows the session A ended"
    );
}

/// A visitor behind the load balancer: the password form comes from A, is sent (as Chromium
/// sends it from the no-referrer share page, `Origin: null`) to B, and the cookie B sets opens
/// the file on A. Each node derives the form's and the cookie's keys from the shared secret.
async fn a_password_link_opens_across_nodes(owner: &Client, a: &str, b: &str, asset: &str) {
    let created: Value = owner
        .post(format!("{a}/api/assets/{asset}/shares"))
        .json(&json!({ "password": "open sesame" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = created["share"]["token"]
        .as_str()
        .expect("a token")
        .to_owned();
    let visitor = new_client();
    let form = visitor
        .get(format!("{a}/s/{token}"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let nonce = nonce_of(&form);
    let unlocked = visitor
        .post(format!("{b}/s/{token}"))
        .header(header::ORIGIN, "null")
        .header("sec-fetch-site", "same-origin")
        .header("sec-fetch-mode", "navigate")
        .header("sec-fetch-dest", "document")
        .form(&[("password", "open sesame"), ("nonce", nonce.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(
        unlocked.status(),
        StatusCode::SEE_OTHER,
        "B refused A's form"
    );
    let file = visitor
        .get(format!("{a}/s/{token}/file"))
        .send()
        .await
        .unwrap();
    assert_eq!(file.status(), StatusCode::OK, "A refused B's cookie");
}
