//! `POST /api/generations`: the multipart form streamed part by part. `endpoint` and `params`
//! come first and are checked against the endpoint's spec before any file is read; each file is
//! sniffed (not trusted from the client), mapped to the endpoint's field through its bucket or
//! its own name, and streamed into storage under the size limits. A job row in `receiving`
//! exists while files arrive, so a failure or crash half-way leaves nothing behind.

use axum::{
    body::Bytes,
    extract::{Multipart, multipart::Field as Part},
    http::StatusCode,
};
use futures_util::{StreamExt, stream};
use serde_json::{Map, Value};

use super::{status::JobStatus, store};
use crate::{
    AppState,
    catalog::{
        self,
        spec::{Field, FieldType, MediaKind, Spec, validate_params},
    },
    error::{AppError, Category, FieldProblem, Result},
    fal::FalKey,
    storage::StorageError,
    team::{budget, keys::ChosenKey},
    users::UserRow,
};

/// Upload limits; configurable (see `.env.example`).
#[derive(Debug, Clone, Copy)]
pub struct UploadLimits {
    pub max_file_bytes: u64,
    pub max_files: usize,
    pub max_total_bytes: u64,
}

/// Any text part, `params` included (so a job's parameters are at most this much JSON).
const MAX_TEXT_PART: usize = 256 * 1024;
const MAX_RUNS: u32 = 8;
const SNIFF_BYTES: usize = 8 * 1024;

pub struct Intake {
    pub jobs: Vec<String>,
}

struct Form {
    endpoint: Option<String>,
    params: Option<Map<String, Value>>,
    count: u32,
    group_id: Option<String>,
    group_label: Option<String>,
}

/// A job being received: its row, the spec, and the references stored so far.
struct Receiving {
    job_id: String,
    spec: Spec,
    stored: Vec<StoredRef>,
    total: u64,
}

/// What cleanup and the required-file check need of a stored reference.
struct StoredRef {
    field: String,
    key: String,
}

pub async fn receive(
    state: &AppState,
    user: &UserRow,
    chosen: &ChosenKey,
    mut multipart: Multipart,
) -> Result<Intake> {
    let key = &chosen.key;
    let mut form = Form {
        endpoint: None,
        params: None,
        count: 1,
        group_id: None,
        group_label: None,
    };
    let mut receiving: Option<Receiving> = None;
    let mut seen: std::collections::HashSet<String> = std::collections::HashSet::new();
    let result: Result<()> = async {
        while let Some(part) = multipart.next_field().await.map_err(multipart_error)? {
            let name = part.name().unwrap_or("").to_owned();
            let is_file = part.file_name().is_some();
            let copied = if is_file {
                None
            } else if let Some(target) = name.strip_prefix("reference:") {
                // An asset of the user's gallery used as a reference.
                Some((target.to_owned(), Kept::Asset))
            } else {
                // A reference an earlier job of theirs was given (remix brings it back).
                name.strip_prefix("storedReference:")
                    .map(|target| (target.to_owned(), Kept::Reference))
            };
            if let Some((target_name, kept)) = copied {
                let id = read_text(part, &name).await?;
                if receiving.is_none() {
                    receiving = Some(begin(state, user, key, &form).await?);
                }
                if let Some(r) = receiving.as_mut() {
                    store_kept_reference(state, user, r, &target_name, kept, id.trim()).await?;
                }
                continue;
            }
            if !is_file {
                let text = read_text(part, &name).await?;
                // Each of these is one value: a second one would be ambiguous (and an
                // `endpoint` after the files would not be the one they were checked against).
                if !seen.insert(name.clone())
                    && matches!(
                        name.as_str(),
                        "endpoint" | "params" | "count" | "groupId" | "groupLabel"
                    )
                {
                    return Err(field_error(&name, "is sent more than once; send it once"));
                }
                match name.as_str() {
                    "endpoint" => form.endpoint = Some(catalog::endpoint_param(Some(&text))?),
                    "params" => form.params = Some(parse_params(&text)?),
                    "count" => form.count = parse_count(&text)?,
                    "groupId" => {
                        form.group_id = Some(text.trim().to_owned()).filter(|g| !g.is_empty())
                    }
                    "groupLabel" => {
                        form.group_label = Some(text.trim().chars().take(120).collect::<String>())
                            .filter(|l| !l.is_empty())
                    }
                    other => {
                        return Err(field_error(
                            other,
                            "is not a part of this form; send files with a file name",
                        ));
                    }
                }
                continue;
            }
            if receiving.is_none() {
                receiving = Some(begin(state, user, key, &form).await?);
            }
            if let Some(r) = receiving.as_mut() {
                store_part(state, user, r, part, &name).await?;
            }
        }
        if receiving.is_none() {
            receiving = Some(begin(state, user, key, &form).await?);
        }
        Ok(())
    }
    .await;

    let Some(mut r) = receiving else {
        return Err(result
            .err()
            .unwrap_or_else(|| AppError::invalid_request("The form is empty.")));
    };
    if let Err(e) = result {
        discard_receiving(state, &r).await;
        return Err(e);
    }
    if let Err(e) = check_required_files(&r) {
        discard_receiving(state, &r).await;
        return Err(e);
    }
    match finish(state, user, chosen, &form, &mut r).await {
        Ok(jobs) => Ok(Intake { jobs }),
        Err(e) => {
            discard_receiving(state, &r).await;
            Err(e)
        }
    }
}

/// Checks `endpoint` and `params` against the spec and creates the job row in `receiving`.
async fn begin(state: &AppState, user: &UserRow, key: &FalKey, form: &Form) -> Result<Receiving> {
    let endpoint = form.endpoint.as_deref().ok_or_else(|| {
        field_error(
            "endpoint",
            "is required, before any file (name the model to run)",
        )
    })?;
    let params = form
        .params
        .clone()
        .ok_or_else(|| field_error("params", "is required, before any file (send {} for none)"))?;
    // A first look at the queue cap, so a full queue is refused before any file is uploaded;
    // `finish` checks again in the transaction that queues the runs.
    super::ensure_queue_room(
        &state.db,
        &user.id,
        form.count as usize,
        state.job_limits.max_queued_per_user,
    )
    .await?;
    let spec = catalog::load_spec(state, Some(key), endpoint).await?;
    check_params(&spec, &params)?;
    let model_name = catalog::ModelInfo::display_name(&state.db, endpoint).await?;
    let job_id = uuid::Uuid::now_v7().to_string();
    // The group is settled in `finish`: its parts may come after the files. This node holds
    // the row's lease while the files arrive, so no other node takes it for an abandoned one.
    store::insert_receiving(
        &state.db,
        &state.node,
        &store::NewJob {
            id: &job_id,
            user_id: &user.id,
            endpoint_id: endpoint,
            model_name: &model_name,
            params: &params,
            prompt_field: spec.prompt_field.as_deref(),
        },
    )
    .await?;
    Ok(Receiving {
        job_id,
        spec,
        stored: Vec::new(),
        total: 0,
    })
}

/// The spec's checks, except that file fields arrive as parts, not as parameters.
fn check_params(spec: &Spec, params: &Map<String, Value>) -> Result<()> {
    let mut issues: Vec<FieldProblem> = Vec::new();
    for field in spec.fields.iter().filter(|f| is_file(f)) {
        if params.contains_key(&field.name) {
            issues.push(FieldProblem::new(
                &field.name,
                "upload the file as a part of the form instead of sending a URL",
            ));
        }
    }
    for issue in validate_params(spec, params) {
        let file_field = spec.field(&issue.field).is_some_and(is_file);
        if !file_field {
            issues.push(FieldProblem::new(issue.field, issue.message));
        }
    }
    if issues.is_empty() {
        return Ok(());
    }
    let summary = issues
        .iter()
        .map(|i| format!("{}: {}", i.field, i.message))
        .collect::<Vec<_>>()
        .join("; ");
    Err(AppError::invalid_request(format!(
        "Some settings are not right for this model: {summary}."
    ))
    .with_field_problems(issues))
}

fn is_file(field: &Field) -> bool {
    matches!(field.kind, FieldType::File | FieldType::Files)
}

/// Where a part goes: `(field, bucket, multiple, accept)`.
fn target(spec: &Spec, name: &str) -> Result<(String, Option<String>, bool, MediaKind)> {
    if Spec::BUCKET_NAMES.contains(&name) {
        let bucket = spec.bucket(name).ok_or_else(|| {
            field_error(
                name,
                &format!(
                    "this model takes no {} uploads; remove them or pick another model",
                    bucket_label(name)
                ),
            )
        })?;
        let accept = spec
            .field(&bucket.field)
            .and_then(|f| f.accept)
            .unwrap_or(MediaKind::Image);
        return Ok((
            bucket.field.clone(),
            Some(name.to_owned()),
            bucket.multiple,
            accept,
        ));
    }
    match spec.field(name) {
        Some(f) if is_file(f) => Ok((
            f.name.clone(),
            None,
            f.kind == FieldType::Files,
            f.accept.unwrap_or(MediaKind::Any),
        )),
        _ => Err(field_error(name, "is not an upload this model takes")),
    }
}

fn bucket_label(bucket: &str) -> &'static str {
    match bucket {
        "firstFrame" => "first-frame",
        "lastFrame" => "last-frame",
        "storyboardReference" => "storyboard",
        _ => "reference-image",
    }
}

async fn store_part(
    state: &AppState,
    user: &UserRow,
    r: &mut Receiving,
    part: Part<'_>,
    name: &str,
) -> Result<()> {
    let file_name = clean_file_name(part.file_name().unwrap_or("upload"));
    // Sniff the first bytes: the client's content type is not trusted.
    let mut part = part;
    let mut head: Vec<u8> = Vec::new();
    while head.len() < SNIFF_BYTES {
        match part.chunk().await.map_err(multipart_error)? {
            Some(c) => head.extend_from_slice(&c),
            None => break,
        }
    }
    // Where it goes is checked before what it is, so a wrong bucket is named as such.
    target(&r.spec, name)?;
    let content_type = infer::get(&head)
        .map(|t| t.mime_type().to_owned())
        .filter(|m| m.starts_with("image/") || m.starts_with("video/") || m.starts_with("audio/"))
        .ok_or_else(|| {
            field_error(
                name,
                &format!("'{file_name}' is not an image, video or audio file"),
            )
        })?;
    let kind = content_type.split('/').next().unwrap_or("").to_owned();
    let (field, bucket, multiple) = admit(r, state.upload_limits, name, &kind, &file_name)?;
    let rest = stream::unfold(part, |mut part| async move {
        match part.chunk().await {
            Ok(Some(c)) => Some((Ok(c), part)),
            Ok(None) => None,
            Err(e) => Some((Err(std::io::Error::other(e.to_string())), part)),
        }
    });
    let body = stream::iter([Ok(Bytes::from(head))]).chain(rest);
    store_stream(
        state,
        user,
        r,
        NewReference {
            name,
            field,
            bucket,
            multiple,
            content_type,
            file_name,
        },
        Box::pin(body),
    )
    .await
}

/// The checks every reference passes before it is stored: the target takes it, the count and
/// media kind fit. Returns `(field, bucket, multiple)`.
fn admit(
    r: &Receiving,
    limits: UploadLimits,
    name: &str,
    kind: &str,
    file_name: &str,
) -> Result<(String, Option<String>, bool)> {
    let (field, bucket, multiple, accept) = target(&r.spec, name)?;
    let already = r.stored.iter().filter(|s| s.field == field).count();
    if !multiple && already >= 1 {
        return Err(field_error(name, "takes one file only"));
    }
    if let Some(max) = r.spec.field(&field).and_then(|f| f.max_items)
        && already as u64 >= max
    {
        return Err(field_error(name, &format!("takes at most {max} files")));
    }
    if r.stored.len() >= limits.max_files {
        return Err(AppError::new(
            Category::TooLarge,
            format!(
                "Too many files: at most {} per generation.",
                limits.max_files
            ),
        )
        .with_field_problem(name, format!("at most {} files", limits.max_files)));
    }
    let fits = match accept {
        MediaKind::Image => kind == "image",
        MediaKind::Video => kind == "video",
        MediaKind::Audio => kind == "audio",
        MediaKind::Any => true,
    };
    if !fits {
        return Err(field_error(
            name,
            &format!(
                "'{file_name}' is {kind}, but this takes {}",
                accept_label(accept)
            ),
        ));
    }
    Ok((field, bucket, multiple))
}

/// Where a reference copied server-side comes from: no upload, the stored bytes are copied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kept {
    /// An output in the user's gallery (`reference:<bucket>` = asset id).
    Asset,
    /// A reference one of the user's jobs was given (`storedReference:<bucket>` = its id).
    Reference,
}

/// The stored object behind a kept reference, once it is known to be the user's.
struct KeptObject {
    storage_key: String,
    content_type: String,
    file_name: String,
}

async fn kept_object(
    state: &AppState,
    user: &UserRow,
    kept: Kept,
    name: &str,
    id: &str,
) -> Result<KeptObject> {
    let found = match kept {
        Kept::Asset => crate::assets::asset_of(&state.db, &user.id, id)
            .await?
            .map(|a| KeptObject {
                storage_key: a.storage_key,
                content_type: a.content_type,
                file_name: a.file_name,
            }),
        Kept::Reference => store::reference_of(&state.db, &user.id, id)
            .await?
            .map(|r| KeptObject {
                storage_key: r.storage_key,
                content_type: r.content_type,
                file_name: r.file_name,
            }),
    };
    // Another user's id reads as unknown, as everywhere.
    found.ok_or_else(|| match kept {
        Kept::Asset => field_error(
            &format!("reference:{name}"),
            "is not an asset in your gallery",
        ),
        Kept::Reference => field_error(
            &format!("storedReference:{name}"),
            "is not a reference of one of your jobs",
        ),
    })
}

/// Copies a gallery asset or an earlier job's reference into this job's references,
/// server-side, under the bucket or field `name`.
async fn store_kept_reference(
    state: &AppState,
    user: &UserRow,
    r: &mut Receiving,
    name: &str,
    kept: Kept,
    id: &str,
) -> Result<()> {
    let source = kept_object(state, user, kept, name, id).await?;
    let kind = source
        .content_type
        .split('/')
        .next()
        .unwrap_or("")
        .to_owned();
    let (field, bucket, multiple) = admit(r, state.upload_limits, name, &kind, &source.file_name)?;
    let object = state
        .storage
        .get(&source.storage_key, None)
        .await
        .map_err(|e| {
            AppError::Internal(anyhow::anyhow!("reading {kept:?} {id} as a reference: {e}"))
        })?;
    let body = object
        .body
        .into_data_stream()
        .map(|c| c.map_err(|e| std::io::Error::other(e.to_string())));
    store_stream(
        state,
        user,
        r,
        NewReference {
            name,
            field,
            bucket,
            multiple,
            content_type: source.content_type,
            file_name: source.file_name,
        },
        Box::pin(body),
    )
    .await
}

struct NewReference<'a> {
    name: &'a str,
    field: String,
    bucket: Option<String>,
    multiple: bool,
    content_type: String,
    file_name: String,
}

/// Streams one reference into storage under the limits, with its row written first.
async fn store_stream(
    state: &AppState,
    user: &UserRow,
    r: &mut Receiving,
    new: NewReference<'_>,
    body: std::pin::Pin<Box<dyn futures_util::Stream<Item = std::io::Result<Bytes>> + Send + '_>>,
) -> Result<()> {
    let limits = state.upload_limits;
    let NewReference {
        name,
        field,
        bucket,
        multiple,
        content_type,
        file_name,
    } = new;
    let remaining_total = limits.max_total_bytes.saturating_sub(r.total);
    let limit = limits.max_file_bytes.min(remaining_total);
    let position = r.stored.len();
    let key = format!("references/{}/{}/{position}", user.id, r.job_id);
    let id = uuid::Uuid::now_v7().to_string();
    // The row first, so a crash mid-stream leaves a row that points at what to clean up.
    store::insert_reference(
        &state.db,
        &store::NewReference {
            id: &id,
            job_id: &r.job_id,
            user_id: &user.id,
            field: &field,
            bucket: bucket.as_deref(),
            multiple,
            position: position as i64,
            storage_mode: state.storage.mode(),
            storage_key: &key,
            content_type: &content_type,
            file_name: &file_name,
        },
    )
    .await?;
    r.stored.push(StoredRef {
        field: field.clone(),
        key: key.clone(),
    });
    let put = state
        .storage
        .put_stream(&key, &content_type, body, limit)
        .await
        .map_err(|e| match e {
            StorageError::TooLarge { .. } => {
                let message = if limit < limits.max_file_bytes {
                    format!(
                        "The files together are over the limit of {} MiB per generation.",
                        limits.max_total_bytes >> 20
                    )
                } else {
                    format!(
                        "'{file_name}' is over the limit of {} MiB per file.",
                        limits.max_file_bytes >> 20
                    )
                };
                AppError::new(Category::TooLarge, message).with_field_problem(name, "too large")
            }
            StorageError::SourceFailed(m) => AppError::invalid_request(format!(
                "The upload of '{file_name}' stopped before it was complete ({m}). Send it again."
            ))
            .with_status(StatusCode::BAD_REQUEST),
            // Paths and OS errors stay in the log.
            other => {
                tracing::error!(key = %key, error = %other, "storing an uploaded reference failed");
                AppError::new(
                    Category::Internal,
                    format!(
                        "{} '{file_name}' was not stored.",
                        crate::storage::UNAVAILABLE_MESSAGE
                    ),
                )
                .with_status(StatusCode::SERVICE_UNAVAILABLE)
            }
        })?;
    store::reference_stored(&state.db, &id, put.byte_size as i64, &put.sha256_hex).await?;
    r.total += put.byte_size;
    Ok(())
}

fn accept_label(kind: MediaKind) -> &'static str {
    match kind {
        MediaKind::Image => "images",
        MediaKind::Video => "videos",
        MediaKind::Audio => "audio",
        MediaKind::Any => "files",
    }
}

fn check_required_files(r: &Receiving) -> Result<()> {
    let missing: Vec<FieldProblem> = r
        .spec
        .fields
        .iter()
        .filter(|f| f.required && is_file(f) && !r.stored.iter().any(|s| s.field == f.name))
        .map(|f| {
            let bucket = bucket_of(&r.spec, &f.name);
            FieldProblem::new(bucket.unwrap_or(&f.name), "needs a file")
        })
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    let names: Vec<&str> = missing.iter().map(|m| m.field.as_str()).collect();
    Err(AppError::invalid_request(format!(
        "This model needs a file for: {}.",
        names.join(", ")
    ))
    .with_field_problems(missing))
}

fn bucket_of<'a>(spec: &'a Spec, field: &str) -> Option<&'a str> {
    Spec::BUCKET_NAMES
        .iter()
        .copied()
        .find(|b| spec.bucket(b).is_some_and(|t| t.field == field))
}

/// Turns the received job into `count` queued jobs (sharing the stored references).
async fn finish(
    state: &AppState,
    user: &UserRow,
    chosen: &ChosenKey,
    form: &Form,
    r: &mut Receiving,
) -> Result<Vec<String>> {
    if let Some(group) = &form.group_id
        && !store::owns_group(&state.db, &user.id, group).await?
    {
        return Err(field_error("groupId", "is not one of your groups"));
    }
    // Joining a group keeps its label unless this form names one.
    let group_id = form.group_id.clone().unwrap_or_else(|| r.job_id.clone());
    let existing_label: Option<String> = match &form.group_id {
        Some(g) => store::group_label(&state.db, &user.id, g).await?,
        None => None,
    };
    let label = form.group_label.clone().or(existing_label);
    store::set_group(&state.db, &r.job_id, &group_id, label.as_deref()).await?;
    let params = form.params.clone().unwrap_or_default();
    let estimate = catalog::estimate_for(state, &chosen.key, &r.spec, &params).await;
    let mut tx = crate::db::begin_write(&state.db).await?;
    // Counted and queued in one write transaction: parallel forms cannot both see room for
    // the same last place, or the same last dollar. Every run counts (a form with count 4 adds
    // 4 jobs).
    super::ensure_queue_room(
        &mut tx,
        &user.id,
        form.count as usize,
        state.job_limits.max_queued_per_user,
    )
    .await?;
    let cost_micros = budget::admit(
        &mut tx,
        &chosen.settings,
        user,
        chosen.source,
        estimate.as_ref(),
        form.count,
    )
    .await?;
    let charge = store::Charge {
        estimate: estimate.as_ref(),
        key_source: chosen.source,
        cost_micros,
    };
    let mut ids = vec![r.job_id.clone()];
    for _ in 1..form.count {
        let id = uuid::Uuid::now_v7().to_string();
        store::copy_job(&mut tx, &r.job_id, &id, JobStatus::Receiving).await?;
        ids.push(id);
    }
    for id in &ids {
        store::queue_received(&mut tx, id, &charge).await?;
    }
    tx.commit().await?;
    Ok(ids)
}

async fn discard_receiving(state: &AppState, r: &Receiving) {
    for s in &r.stored {
        if let Err(e) = state.storage.delete(&s.key).await {
            tracing::warn!(key = %s.key, error = %e, "could not remove a reference of a refused upload");
        }
    }
    if let Err(e) = store::delete(&state.db, &r.job_id).await {
        tracing::warn!(job_id = %r.job_id, error = %e, "could not remove a refused job");
    }
}

/// Removes a job left in `receiving` by a crash, with whatever references it stored.
pub async fn discard(state: &AppState, job_id: &str) -> Result<()> {
    for r in store::references(&state.db, job_id).await? {
        if let Err(e) = state.storage.delete(&r.storage_key).await {
            tracing::warn!(key = %r.storage_key, error = %e, "could not remove an interrupted upload");
            return Ok(()); // tried again once this node's hold on the job expires
        }
    }
    store::delete(&state.db, job_id).await?;
    tracing::info!(job_id, "removed a job whose upload was interrupted");
    Ok(())
}

async fn read_text(mut part: Part<'_>, name: &str) -> Result<String> {
    let mut buf: Vec<u8> = Vec::new();
    while let Some(chunk) = part.chunk().await.map_err(multipart_error)? {
        if buf.len() + chunk.len() > MAX_TEXT_PART {
            let limit = format!("at most {} KiB", MAX_TEXT_PART >> 10);
            return Err(AppError::new(
                Category::TooLarge,
                format!(
                    "The '{name}' part is over {} KiB; send less.",
                    MAX_TEXT_PART >> 10
                ),
            )
            .with_field_problem(name, limit));
        }
        buf.extend_from_slice(&chunk);
    }
    String::from_utf8(buf).map_err(|_| field_error(name, "is not UTF-8 text"))
}

fn parse_params(text: &str) -> Result<Map<String, Value>> {
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(field_error("params", "must be a JSON object")),
        Err(e) => Err(field_error("params", &format!("is not valid JSON ({e})"))),
    }
}

fn parse_count(text: &str) -> Result<u32> {
    match text.trim().parse::<u32>() {
        Ok(n) if (1..=MAX_RUNS).contains(&n) => Ok(n),
        _ => Err(field_error(
            "count",
            &format!("must be a whole number from 1 to {MAX_RUNS}"),
        )),
    }
}

fn clean_file_name(raw: &str) -> String {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or(raw);
    let cleaned: String = base.chars().filter(|c| !c.is_control()).take(120).collect();
    if cleaned.trim().is_empty() {
        "upload".into()
    } else {
        cleaned
    }
}

fn field_error(field: &str, message: &str) -> AppError {
    AppError::invalid_request(format!("{field}: {message}.")).with_field_problem(field, message)
}

fn multipart_error(e: axum::extract::multipart::MultipartError) -> AppError {
    let status = e.status();
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        return AppError::new(
            Category::TooLarge,
            "The upload is larger than this studio accepts.",
        );
    }
    AppError::invalid_request(format!("The upload could not be read: {}", e.body_text()))
        .with_status(if status.is_client_error() {
            status
        } else {
            StatusCode::BAD_REQUEST
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_lose_paths_and_control_characters() {
        assert_eq!(clean_file_name("../../etc/passwd"), "passwd");
        assert_eq!(clean_file_name("C:\\photos\\cat.png"), "cat.png");
        assert_eq!(clean_file_name("a\nb.png"), "ab.png");
        assert_eq!(clean_file_name(""), "upload");
    }

    #[test]
    fn counts_are_bounded() {
        assert_eq!(parse_count("3").unwrap(), 3);
        for bad in ["0", "9", "-1", "x", ""] {
            assert!(parse_count(bad).is_err(), "{bad:?}");
        }
    }
}
