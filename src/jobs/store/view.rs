//! The JSON view of a job, as clients see it: the row with its stored outputs and references.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

use super::{JobError, JobRow, ReferenceRow, references, references_of_jobs};
use crate::jobs::status::JobStatus;
use crate::{assets, catalog::Estimate, db::Db, error::Result};
/// A reference file a job was given, stored with the job.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReferenceView {
    pub id: String,
    /// The model's input field it went to.
    pub field: String,
    /// The upload bucket it came through, if any (generalReferences, firstFrame, ...).
    pub bucket: Option<String>,
    pub url: String,
    pub content_type: String,
    pub file_name: String,
    pub byte_size: i64,
}

/// A job's reference files as clients see them.
pub async fn references_view(db: &Db, job_id: &str) -> Result<Vec<ReferenceView>> {
    Ok(references(db, job_id)
        .await?
        .into_iter()
        .map(ReferenceRow::view)
        .collect())
}

impl ReferenceRow {
    pub fn view(self) -> ReferenceView {
        ReferenceView {
            url: format!("/files/references/{}", self.id),
            id: self.id,
            field: self.field,
            bucket: self.bucket,
            content_type: self.content_type,
            file_name: self.file_name,
            byte_size: self.byte_size,
        }
    }
}

/// One line of fal's log for a request.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct LogLine {
    pub message: String,
    /// fal's level: DEBUG, INFO, WARN, ERROR...
    pub level: String,
    pub timestamp: Option<String>,
}

/// Everything the UI shows of a job, with its stored assets and references.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct JobView {
    pub id: String,
    /// The owner, for the server's own use (never sent).
    #[serde(skip)]
    pub user_id: String,
    /// Jobs sent together (count > 1, compare) share a group.
    pub group_id: String,
    pub group_label: Option<String>,
    #[schema(example = "fal-ai/flux/dev")]
    pub endpoint_id: String,
    pub model_name: String,
    pub status: JobStatus,
    /// fal's queue position while waiting there.
    pub queue_position: Option<i64>,
    /// Why a waiting job waits, in words: "Waiting for a slot on the studio key (3rd in line)",
    /// "Waiting for your own running jobs: …", "In fal's queue, position 12". Absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wait_reason: Option<String>,
    /// The last lines of fal's log for this request.
    pub logs: Vec<LogLine>,
    /// Why the job failed, when it did.
    pub error: Option<JobError>,
    pub assets: Vec<assets::AssetView>,
    pub references: Vec<ReferenceView>,
    #[schema(value_type = Object)]
    pub params: Map<String, Value>,
    /// Which of `params` is the model's main text (its schema's prompt: `prompt`, `text`,
    /// an `instruction`, …), when it has one.
    pub prompt_field: Option<String>,
    /// The input the studio sent to fal, once fal took the job: the params with each reference
    /// as the URL fal was given (a fal storage URL; one sent inline as a `data:` URI shows only
    /// its type and size). `null` before submission.
    #[schema(value_type = Option<Object>)]
    pub sent_input: Option<Value>,
    /// The price estimate taken when the job was created.
    pub estimate: Option<Estimate>,
    /// fal's request id, once fal accepted the job.
    pub request_id: Option<String>,
    pub created_at: String,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    /// Cleared from the queue view (still in the gallery).
    pub hidden: bool,
    /// How many files it stored when it completed (null until then). More than `assets`
    /// holds: some were deleted from the gallery since.
    pub output_count: Option<i64>,
}

/// The views of `jobs`, in their order, in three statements however many there are: the
/// jobs' outputs and their references are each read for all of them at once.
pub async fn views(db: &Db, jobs: &[JobRow]) -> Result<Vec<JobView>> {
    let ids: Vec<&str> = jobs.iter().map(|j| j.id.as_str()).collect();
    let mut assets_by_job: std::collections::HashMap<String, Vec<assets::AssetView>> =
        std::collections::HashMap::new();
    for row in assets::store::of_jobs(db, &ids).await? {
        if let Some(job_id) = row.job_id.clone() {
            assets_by_job.entry(job_id).or_default().push(row.view());
        }
    }
    let mut references_by_job: std::collections::HashMap<String, Vec<ReferenceView>> =
        std::collections::HashMap::new();
    for row in references_of_jobs(db, &ids).await? {
        references_by_job
            .entry(row.job_id.clone())
            .or_default()
            .push(row.view());
    }
    Ok(jobs
        .iter()
        .map(|job| {
            assemble(
                job,
                assets_by_job.remove(&job.id).unwrap_or_default(),
                references_by_job.remove(&job.id).unwrap_or_default(),
            )
        })
        .collect())
}

fn assemble(
    job: &JobRow,
    assets: Vec<assets::AssetView>,
    references: Vec<ReferenceView>,
) -> JobView {
    JobView {
        id: job.id.clone(),
        user_id: job.user_id.clone(),
        group_id: job.group_id.clone(),
        group_label: job.group_label.clone(),
        endpoint_id: job.endpoint_id.clone(),
        model_name: job.model_name.clone(),
        status: job.status,
        queue_position: job.queue_position,
        // fal in trouble says more than anything else about a job fal should be holding.
        wait_reason: job
            .provider_trouble
            .clone()
            .filter(|_| matches!(job.status, JobStatus::Submitting | JobStatus::Running)),
        logs: job.logs.as_ref().map(|l| l.0.clone()).unwrap_or_default(),
        error: job.error.as_ref().map(|e| e.0.clone()),
        assets,
        references,
        params: job.params.0.clone(),
        prompt_field: job.prompt_field.clone(),
        sent_input: job.sent_input.as_ref().map(|j| j.0.clone()),
        estimate: job.estimate.as_ref().map(|e| e.0.clone()),
        request_id: job.request_id.clone(),
        created_at: job.created_at.clone(),
        started_at: job.started_at.clone(),
        finished_at: job.finished_at.clone(),
        hidden: job.hidden,
        output_count: job.output_count,
    }
}
