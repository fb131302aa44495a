//! An audio model end to end, on the fake fal's text-to-speech endpoint (whose main text is
//! `text`, not `prompt`): its form, the stored MP3, the prompt kept for search, no thumbnail, and
//! a share page with a player and `og:audio`.

use reqwest::{StatusCode, header};
use serde_json::json;

use crate::helpers::{Options, new_client, ready};

const TTS: &str = "fal-ai/elevenlabs/tts/multilingual-v2";

#[tokio::test]
async fn a_speech_model_makes_a_stored_audio_file_found_by_its_text_and_shared_with_a_player() {
    let app = ready(Options {
        vars: vec![("PUBLIC_URL", "https://studio.example.com".into())],
        ..Options::default()
    })
    .await;
    let spec = app
        .get_json(&format!("/api/models/spec?endpoint={TTS}"))
        .await;
    assert_eq!(spec["promptField"], "text", "{spec}");
    assert_eq!(spec["outputKind"], "audio", "{spec}");

    // Priced per 1000 characters of its text (38 here), as fal prices speech.
    let estimate: serde_json::Value = app
        .client
        .post(app.at("/api/models/estimate"))
        .json(&json!({ "endpoint": TTS, "params": { "text": "The harbour lights came on one by one." } }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        estimate["estimate"]["unit"], "1000 characters",
        "{estimate}"
    );
    assert_eq!(estimate["estimate"]["unitQuantity"], 0.038, "{estimate}");
    let cost = estimate["estimate"]["totalCost"].as_f64().unwrap();
    assert!((cost - 0.0038).abs() < 1e-9, "{estimate}");

    let id = app
        .start(
            TTS,
            json!({ "text": "The harbour lights came on one by one." }),
            vec![],
        )
        .await;
    let job = app.finished(&id).await;
    assert_eq!(job["status"], "completed", "{job}");
    let asset = &job["assets"][0];
    assert_eq!(asset["resultKind"], "audio");
    assert_eq!(asset["contentType"], "audio/mpeg");
    assert_eq!(asset["prompt"], "The harbour lights came on one by one.");
    assert!(
        asset["thumbnailUrl"].is_null(),
        "audio has no picture: {asset}"
    );
    // Read from the MP3's own header: fal's file objects give no duration.
    let seconds = asset["outputDuration"].as_f64().expect("a duration");
    assert!((seconds - 3.0).abs() < 0.1, "{asset}");
    let name = asset["fileName"].as_str().unwrap();
    assert!(name.ends_with(".mp3"), "{name}");

    let file = app
        .client
        .get(app.at(asset["url"].as_str().unwrap()))
        .send()
        .await
        .unwrap();
    assert_eq!(file.status(), StatusCode::OK);
    assert_eq!(file.headers()[header::CONTENT_TYPE], "audio/mpeg");
    assert!(
        file.headers()[header::CONTENT_DISPOSITION]
            .to_str()
            .unwrap()
            .starts_with("inline"),
        "played in place, not saved"
    );
    let bytes = file.bytes().await.unwrap();
    assert_eq!(bytes.len() as u64, asset["byteSize"].as_u64().unwrap());

    // Found by what it says, as any prompt is.
    let found = app.get_json("/api/assets?q=harbour").await;
    assert_eq!(found["assets"][0]["id"], asset["id"], "{found}");

    let share = app
        .client
        .post(app.at(&format!(
            "/api/assets/{}/shares",
            asset["id"].as_str().unwrap()
        )))
        .json(&json!({ "showPrompt": true }))
        .send()
        .await
        .unwrap();
    assert_eq!(share.status(), StatusCode::CREATED);
    let share: serde_json::Value = share.json().await.unwrap();
    let token = share["token"].as_str().unwrap();
    let page = new_client()
        .get(app.at(&format!("/s/{token}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains(&format!("<audio src=\"/s/{token}/file\" controls")),
        "{page}"
    );
    assert!(
        page.contains(&format!(
            "property=\"og:audio\" content=\"https://studio.example.com/s/{token}/file\""
        )),
        "{page}"
    );
    assert!(
        page.contains("og:audio:type\" content=\"audio/mpeg\""),
        "{page}"
    );
    assert!(page.contains("The harbour lights came on one by one."));
}
