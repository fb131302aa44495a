-- One generation request. `receiving` is internal: the row exists while reference files are
-- streamed in, so a crash mid-upload leaves a row that start-up can clean up with its objects.
CREATE TABLE jobs (
    id              TEXT PRIMARY KEY NOT NULL,
    user_id         TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    group_id        TEXT NOT NULL,
    group_label     TEXT,
    endpoint_id     TEXT NOT NULL,
    model_name      TEXT NOT NULL,     -- display name at creation: endpoints leave the catalog
    status          TEXT NOT NULL CHECK (status IN
                      ('receiving','queued','submitting','running','storing','completed','failed','cancelled')),
    request_id      TEXT,              -- fal's id, recorded the moment fal accepts the request
    status_url      TEXT,
    response_url    TEXT,
    cancel_url      TEXT,
    params_json     TEXT NOT NULL,     -- the user's parameters, without reference files
    error_json      TEXT,
    queue_position  INTEGER,
    logs_json       TEXT,
    estimate_json   TEXT,
    inference_time  REAL,              -- fal's metrics.inference_time, from the COMPLETED status
    cancel_requested INTEGER NOT NULL DEFAULT 0,
    hidden          INTEGER NOT NULL DEFAULT 0,
    created_at      TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    started_at      TEXT,
    finished_at     TEXT,
    updated_at      TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
) STRICT;

-- The queue panel: a user's jobs newest first.
CREATE INDEX jobs_by_user_time ON jobs (user_id, created_at DESC);
-- The runner: unfinished jobs in arrival order.
CREATE INDEX jobs_unfinished ON jobs (created_at)
    WHERE status IN ('receiving','queued','submitting','running','storing');
CREATE INDEX jobs_by_group ON jobs (group_id);

-- Reference files uploaded with a job, kept for retry and remix.
CREATE TABLE job_references (
    id           TEXT PRIMARY KEY NOT NULL,
    job_id       TEXT NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
    user_id      TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    field        TEXT NOT NULL,        -- the endpoint's parameter
    bucket       TEXT,                 -- the semantic bucket it came in, if any
    multiple     INTEGER NOT NULL,     -- 1: the field takes a list of URLs
    position     INTEGER NOT NULL,
    storage_mode TEXT NOT NULL,
    storage_key  TEXT NOT NULL,
    content_type TEXT NOT NULL,
    byte_size    INTEGER NOT NULL,
    file_name    TEXT NOT NULL,
    sha256       TEXT NOT NULL,
    stored       INTEGER NOT NULL DEFAULT 0   -- 1 once the object is fully written
) STRICT;
CREATE INDEX job_references_by_job ON job_references (job_id, position);

-- Stored outputs: the source of truth for everything users see.
CREATE TABLE assets (
    id              TEXT PRIMARY KEY NOT NULL,
    user_id         TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    job_id          TEXT REFERENCES jobs(id) ON DELETE SET NULL,
    output_index    INTEGER NOT NULL,
    endpoint_id     TEXT NOT NULL,
    model           TEXT NOT NULL,
    prompt          TEXT,
    result_kind     TEXT NOT NULL,
    storage_mode    TEXT NOT NULL,
    storage_key     TEXT NOT NULL,
    content_type    TEXT NOT NULL,
    byte_size       INTEGER NOT NULL,
    sha256          TEXT NOT NULL,
    width           INTEGER,
    height          INTEGER,
    output_duration REAL,
    inference_time  REAL,
    seed            INTEGER,
    params_json     TEXT NOT NULL,
    file_name       TEXT NOT NULL,
    created_at      TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
) STRICT;

-- One asset per (job, output index), however often ingestion is retried.
CREATE UNIQUE INDEX assets_job_output ON assets (job_id, output_index);
-- The gallery: a user's assets newest first (keyset on created_at, id).
CREATE INDEX assets_by_user_time ON assets (user_id, created_at DESC, id DESC);
