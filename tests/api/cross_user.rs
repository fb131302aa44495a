//! Another user's ids answer 404 on every operation of the served OpenAPI document that takes
//! one in its path: never 2xx, never 403 (which would tell that the id exists). The routes come
//! from the document, so a new route is checked as soon as it is served.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::{
    helpers::{TestApp, ready},
    openapi::{document, operations},
};

const KONTEXT: &str = "fal-ai/flux-pro/kontext";

/// One of each kind of object Ada owns.
struct Owned {
    job: String,
    asset: String,
    reference: String,
    share: String,
    group: String,
    /// Ada's own account (an admin route takes it).
    user: String,
}

impl Owned {
    async fn made_by(app: &TestApp) -> Owned {
        // Two runs of an edit with a reference: a job, its output asset, the reference, a group.
        let response = app
            .generate(
                KONTEXT,
                json!({ "prompt": "make it blue" }),
                vec![("generalReferences", "cat.png", fake_fal::png_bytes(16, 16))],
                &[("count", "2")],
            )
            .await;
        let status = response.status();
        let body: Value = response.json().await.expect("json");
        assert_eq!(status, StatusCode::ACCEPTED, "{body}");
        let job_id = body["jobs"][0]["id"].as_str().expect("job id").to_owned();
        let job = app.finished(&job_id).await;
        assert_eq!(job["status"], "completed", "{job}");
        let asset = job["assets"][0]["id"]
            .as_str()
            .expect("asset id")
            .to_owned();
        let reference_url = job["references"][0]["url"].as_str().expect("reference url");
        let reference = reference_url
            .split('?')
            .next()
            .and_then(|p| p.strip_prefix("/files/references/"))
            .expect("a reference url is /files/references/{id}")
            .to_owned();
        let group = job["groupId"].as_str().expect("group id").to_owned();
        let share: Value = app
            .client
            .post(app.at(&format!("/api/assets/{asset}/shares")))
            .json(&json!({}))
            .send()
            .await
            .expect("request")
            .json()
            .await
            .expect("json");
        let share = share["share"]["token"]
            .as_str()
            .unwrap_or_else(|| panic!("share token in {share}"))
            .to_owned();
        for id in body["jobs"].as_array().expect("jobs") {
            app.finished(id["id"].as_str().expect("id")).await;
        }
        let me: Value = app.me().await.json().await.expect("json");
        let user = me["user"]["id"].as_str().expect("user id").to_owned();
        Owned {
            job: job_id,
            asset,
            reference,
            share,
            group,
            user,
        }
    }

    /// The id that a path's parameter names, judged from the path itself; `None` for a path
    /// parameter this test does not know, which fails the test.
    fn for_parameter(&self, path: &str, parameter: &str) -> Option<&str> {
        let id = match (path, parameter) {
            (p, "id") if p.starts_with("/api/jobs/{id}") => &self.job,
            (p, "id") if p.starts_with("/api/assets/{id}") => &self.asset,
            ("/files/{id}" | "/files/{id}/thumbnail", "id") => &self.asset,
            ("/files/references/{id}", "id") => &self.reference,
            (p, "token") if p.starts_with("/api/shares/{token}") => &self.share,
            (p, "id") if p.starts_with("/api/groups/{id}") => &self.group,
            (p, "id") if p.starts_with("/api/admin/users/{id}") => &self.user,
            _ => return None,
        };
        Some(id)
    }
}

/// A minimal valid body for the operations that need one, by operation id.
fn body_for(operation_id: &str) -> Option<Value> {
    match operation_id {
        "createShare" => Some(json!({})),
        "labelGroup" => Some(json!({ "label": "not yours" })),
        "adminChangeUser" => Some(json!({ "disabled": true })),
        _ => None,
    }
}

/// The `{name}` parameters of a path, in order.
fn path_parameters(path: &str) -> Vec<&str> {
    path.split('/')
        .filter_map(|segment| segment.strip_prefix('{')?.strip_suffix('}'))
        .collect()
}

#[tokio::test]
async fn another_users_ids_answer_404_on_every_route_that_takes_one() {
    let app = ready(vec![]).await;
    let owned = Owned::made_by(&app).await;
    let bob = app.second_user().await;
    let doc = document(&app).await;

    let mut checked = Vec::new();
    for (method, path, operation) in operations(&doc) {
        let parameters = path_parameters(&path);
        if parameters.is_empty() {
            continue;
        }
        let case = format!("{} {path}", method.to_uppercase());
        let mut url = path.clone();
        for parameter in parameters {
            let id = owned.for_parameter(&path, parameter).unwrap_or_else(|| {
                panic!("{case}: no id of Ada's for {{{parameter}}}; teach this test its kind")
            });
            url = url.replace(&format!("{{{parameter}}}"), id);
        }
        let operation_id = operation["operationId"].as_str().expect("operationId");
        let mut request = bob.request(
            method.to_uppercase().parse::<Method>().expect("method"),
            app.at(&url),
        );
        match (operation.get("requestBody"), body_for(operation_id)) {
            (None, _) => {}
            (Some(_), Some(body)) => request = request.json(&body),
            (Some(_), None) => panic!("{case}: no minimal body for {operation_id}; add one"),
        }
        let response = request.send().await.expect("request");
        let status = response.status();
        let text = response.text().await.expect("body");
        assert_eq!(status, StatusCode::NOT_FOUND, "{case} ({url}): {text}");
        let error: Value = serde_json::from_str(&text)
            .unwrap_or_else(|_| panic!("{case}: the 404 is our JSON error: {text}"));
        assert_eq!(error["error"]["category"], "not_found", "{case}: {text}");
        checked.push(case);
    }

    // Every kind was reached, and nothing of Ada's changed.
    for kind in [
        "/api/jobs/",
        "/api/assets/",
        "/files/{id}",
        "/files/references/",
        "/api/shares/",
        "/api/groups/",
        "/api/admin/users/",
    ] {
        assert!(
            checked.iter().any(|c| c.contains(kind)),
            "no operation on {kind} in {checked:?}"
        );
    }
    let job = app.job(&owned.job).await;
    assert_eq!(job["status"], "completed", "{job}");
    assert!(job["groupLabel"].is_null(), "{job}");
    for path in [
        format!("/api/assets/{}", owned.asset),
        format!("/files/{}", owned.asset),
        format!("/files/references/{}", owned.reference),
        format!("/s/{}", owned.share),
    ] {
        let response = app.client.get(app.at(&path)).send().await.expect("request");
        assert_eq!(
            response.status(),
            StatusCode::OK,
            "Ada still reaches {path}"
        );
    }
}
