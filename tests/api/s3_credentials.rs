//! Where S3 credentials come from, against a moto that checks signatures: the studio's own
//! settings, the AWS credential chain (environment, profile file), and wrong keys refused.
//!
//! The chain reads the process environment, so those cases run the real binary with its own
//! environment rather than change the environment of this (parallel) test process.

use std::path::Path;

use fake_fal::FakeFal;
use fal_studio::{
    config::{S3Config, Secret, StorageConfig},
    storage::{Storage, StorageError},
};
use reqwest::{Client, StatusCode};
use serde_json::json;
use url::Url;

use crate::{
    binary::{finished, generate, start, wait_for},
    helpers::new_client,
    moto::MotoServer,
    storage_s3::{chunks, read_all},
};

/// An IAM user's key pair, made in moto before it starts checking signatures.
struct Key {
    id: String,
    secret: String,
}

/// moto that, from now on, only lets in requests signed with `Key` (or another IAM user's).
/// moto checks nothing by default; its `reset-auth` call makes it check every request after it.
async fn moto_checking_signatures() -> (MotoServer, Key) {
    let moto = MotoServer::start();
    let client = Client::new();
    let iam = |params: &[(&str, &str)]| {
        let mut form = vec![("Version", "2010-05-08")];
        form.extend_from_slice(params);
        client
            .post(moto.endpoint())
            // Only the service in the scope matters: it is how moto routes the call to IAM.
            .header(
                "authorization",
                "AWS4-HMAC-SHA256 Credential=setup/20240101/us-east-1/iam/aws4_request, \
                 SignedHeaders=host, Signature=0",
            )
            .form(&form)
            .send()
    };
    let answer = |response: reqwest::Response| async move {
        let status = response.status();
        let text = response.text().await.expect("IAM answer");
        assert!(status.is_success(), "IAM setup failed: {status} {text}");
        text
    };
    answer(
        iam(&[("Action", "CreateUser"), ("UserName", "studio")])
            .await
            .expect("CreateUser"),
    )
    .await;
    let policy = json!({
        "Version": "2012-10-17",
        "Statement": [{ "Effect": "Allow", "Action": "s3:*", "Resource": "*" }],
    })
    .to_string();
    answer(
        iam(&[
            ("Action", "PutUserPolicy"),
            ("UserName", "studio"),
            ("PolicyName", "s3"),
            ("PolicyDocument", &policy),
        ])
        .await
        .expect("PutUserPolicy"),
    )
    .await;
    let created = answer(
        iam(&[("Action", "CreateAccessKey"), ("UserName", "studio")])
            .await
            .expect("CreateAccessKey"),
    )
    .await;
    let key = Key {
        id: xml_text(&created, "AccessKeyId"),
        secret: xml_text(&created, "SecretAccessKey"),
    };
    let reset = client
        .post(format!("{}/moto-api/reset-auth", moto.endpoint()))
        .body("0")
        .send()
        .await
        .expect("reset-auth");
    assert!(reset.status().is_success(), "{}", reset.status());
    (moto, key)
}

fn xml_text(xml: &str, tag: &str) -> String {
    let open = format!("<{tag}>");
    let start = xml.find(&open).map(|i| i + open.len());
    let end = xml.find(&format!("</{tag}>"));
    match (start, end) {
        (Some(start), Some(end)) if start <= end => xml[start..end].to_string(),
        _ => panic!("no {tag} in {xml}"),
    }
}

fn config(moto: &MotoServer, bucket: &str, id: &str, secret: &str) -> StorageConfig {
    StorageConfig::S3(S3Config {
        bucket: bucket.into(),
        endpoint: Some(Url::parse(&moto.endpoint()).expect("endpoint")),
        region: Some("us-east-1".into()),
        access_key_id: Some(id.into()),
        secret_access_key: Some(Secret::new(secret.into())),
        force_path_style: true,
    })
}

#[tokio::test]
async fn wrong_keys_are_refused_with_a_clear_message_and_right_ones_work() {
    let (moto, key) = moto_checking_signatures().await;

    for (id, secret) in [
        (key.id.as_str(), "not-the-secret-Xq81"),
        ("AKIAUNKNOWNUNKNOWN00", key.secret.as_str()),
    ] {
        let err = Storage::from_config(&config(&moto, "guarded", id, secret), Path::new("unused"))
            .await
            .expect_err("moto refuses the signature");
        let message = err.to_string();
        assert!(
            message.contains("refused access") && message.contains("check the access key"),
            "{message}"
        );
        assert!(!err.is_retryable(), "{message}");
        assert!(!message.contains(secret), "{message}");
    }

    let storage = Storage::from_config(
        &config(&moto, "guarded", &key.id, &key.secret),
        Path::new("unused"),
    )
    .await
    .expect("the right key signs in");
    storage
        .put_stream("k/x", "text/plain", chunks(b"signed", 3), 100)
        .await
        .expect("put");
    let got = storage.get("k/x", None).await.expect("get");
    assert_eq!(read_all(got.body).await, b"signed");
    assert!(matches!(
        storage.head("k/missing").await,
        Err(StorageError::NotFound)
    ));
}

/// The binary against moto with only the chain's settings (no S3_ACCESS_KEY_ID): it must create
/// its bucket, store a generated image there and serve it back.
async fn generation_round_trip(dir: &Path, moto: &MotoServer, chain: &[(&str, &str)]) {
    let fake = FakeFal::start().await.expect("fake fal");
    let endpoint = moto.endpoint();
    let mut vars = vec![
        ("STORAGE", "s3"),
        ("S3_BUCKET", "chained"),
        ("S3_ENDPOINT", endpoint.as_str()),
        // No instance metadata service here; without this the chain would wait for one.
        ("AWS_EC2_METADATA_DISABLED", "true"),
    ];
    vars.extend_from_slice(chain);
    let server = start(dir, &fake, &vars);
    let url = server.url.clone();
    let client = new_client();
    let signup = client
        .post(format!("{url}/api/auth/signup"))
        .json(&json!({ "email": "ada@example.com", "password": "correct horse battery" }))
        .send()
        .await
        .expect("signup");
    assert_eq!(signup.status(), StatusCode::CREATED);
    let saved = client
        .put(format!("{url}/api/account/fal-key"))
        .json(&json!({ "key": "fake-key-id:fake-secret" }))
        .send()
        .await
        .expect("fal key");
    assert!(saved.status().is_success(), "{}", saved.status());

    let id = generate(&client, &url, json!({ "prompt": "kept in a bucket" })).await;
    let job = wait_for(&client, &url, &id, finished).await;
    assert_eq!(job["status"], "completed", "{job}\n{}", server.log());
    let asset = &job["assets"][0];
    assert_eq!(asset["storageMode"], "s3");
    let body = client
        .get(format!(
            "{url}{}",
            asset["url"].as_str().expect("asset url")
        ))
        .send()
        .await
        .expect("asset")
        .bytes()
        .await
        .expect("asset body");
    assert!(body.starts_with(b"\x89PNG"), "{} bytes", body.len());
    assert_eq!(Some(body.len() as u64), asset["byteSize"].as_u64());
}

#[tokio::test]
async fn credentials_from_a_profile_file_alone_are_used() {
    let (moto, key) = moto_checking_signatures().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let credentials = dir.path().join("aws-credentials");
    let config = dir.path().join("aws-config");
    // A default profile with wrong keys, to show AWS_PROFILE picks the right one.
    std::fs::write(
        &credentials,
        format!(
            "[default]\naws_access_key_id = AKIAWRONGWRONGWRONG0\naws_secret_access_key = wrong\n\n\
             [studio]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
            key.id, key.secret
        ),
    )
    .expect("credentials file");
    std::fs::write(&config, "[profile studio]\nregion = us-east-1\n").expect("config file");

    generation_round_trip(
        dir.path(),
        &moto,
        &[
            (
                "AWS_SHARED_CREDENTIALS_FILE",
                &*credentials.to_string_lossy(),
            ),
            ("AWS_CONFIG_FILE", &*config.to_string_lossy()),
            ("AWS_PROFILE", "studio"),
        ],
    )
    .await;
}

#[tokio::test]
async fn credentials_from_the_environment_are_used() {
    let (moto, key) = moto_checking_signatures().await;
    let dir = tempfile::tempdir().expect("temp dir");
    generation_round_trip(
        dir.path(),
        &moto,
        &[
            ("AWS_ACCESS_KEY_ID", key.id.as_str()),
            ("AWS_SECRET_ACCESS_KEY", key.secret.as_str()),
            ("AWS_REGION", "us-east-1"),
        ],
    )
    .await;
}
