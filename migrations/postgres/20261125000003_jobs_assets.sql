-- Postgres twin of the SQLite migration of the same name. INTEGER is BIGINT (i64), REAL is
-- DOUBLE PRECISION, 0/1 flags are BOOLEAN, and the *_json columns the code decodes as JSON are
-- JSONB.

-- One generation request. `receiving` is internal: the row exists while reference files are
-- streamed in, so a crash mid-upload leaves a row that start-up can clean up with its objects.
CREATE TABLE jobs (
    id              TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    user_id         TEXT COLLATE "C" NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    group_id        TEXT COLLATE "C" NOT NULL,
    group_label     TEXT COLLATE "C",
    endpoint_id     TEXT COLLATE "C" NOT NULL,
    model_name      TEXT COLLATE "C" NOT NULL,     -- display name at creation: endpoints leave the catalog
    status          TEXT COLLATE "C" NOT NULL CHECK (status IN
                      ('receiving','queued','submitting','running','storing','completed','failed','cancelled')),
    request_id      TEXT COLLATE "C",              -- fal's id, recorded the moment fal accepts the request
    status_url      TEXT COLLATE "C",
    response_url    TEXT COLLATE "C",
    cancel_url      TEXT COLLATE "C",
    params_json     JSONB NOT NULL,    -- the user's parameters, without reference files
    error_json      JSONB,
    queue_position  BIGINT,
    logs_json       JSONB,
    estimate_json   JSONB,
    inference_time  DOUBLE PRECISION,  -- fal's metrics.inference_time, from the COMPLETED status
    cancel_requested BOOLEAN NOT NULL DEFAULT FALSE,
    hidden          BOOLEAN NOT NULL DEFAULT FALSE,
    created_at      TEXT COLLATE "C" NOT NULL DEFAULT studio_now(),
    started_at      TEXT COLLATE "C",
    finished_at     TEXT COLLATE "C",
    updated_at      TEXT COLLATE "C" NOT NULL DEFAULT studio_now()
);

-- The queue panel: a user's jobs newest first.
CREATE INDEX jobs_by_user_time ON jobs (user_id, created_at DESC);
-- The runner: unfinished jobs in arrival order.
CREATE INDEX jobs_unfinished ON jobs (created_at)
    WHERE status IN ('receiving','queued','submitting','running','storing');
CREATE INDEX jobs_by_group ON jobs (group_id);

-- Reference files uploaded with a job, kept for retry and remix.
CREATE TABLE job_references (
    id           TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    job_id       TEXT COLLATE "C" NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
    user_id      TEXT COLLATE "C" NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    field        TEXT COLLATE "C" NOT NULL,        -- the endpoint's parameter
    bucket       TEXT COLLATE "C",                 -- the semantic bucket it came in, if any
    multiple     BOOLEAN NOT NULL,     -- true: the field takes a list of URLs (no default, as in SQLite)
    position     BIGINT NOT NULL,
    storage_mode TEXT COLLATE "C" NOT NULL,
    storage_key  TEXT COLLATE "C" NOT NULL,
    content_type TEXT COLLATE "C" NOT NULL,
    byte_size    BIGINT NOT NULL,
    file_name    TEXT COLLATE "C" NOT NULL,
    sha256       TEXT NOT NULL,
    stored       BOOLEAN NOT NULL DEFAULT FALSE   -- true once the object is fully written
);
CREATE INDEX job_references_by_job ON job_references (job_id, position);

-- Stored outputs: the source of truth for everything users see.
CREATE TABLE assets (
    id              TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    user_id         TEXT COLLATE "C" NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    job_id          TEXT COLLATE "C" REFERENCES jobs(id) ON DELETE SET NULL,
    output_index    BIGINT NOT NULL,
    endpoint_id     TEXT COLLATE "C" NOT NULL,
    model           TEXT COLLATE "C" NOT NULL,
    prompt          TEXT COLLATE "C",
    result_kind     TEXT COLLATE "C" NOT NULL,
    storage_mode    TEXT COLLATE "C" NOT NULL,
    storage_key     TEXT COLLATE "C" NOT NULL,
    content_type    TEXT COLLATE "C" NOT NULL,
    byte_size       BIGINT NOT NULL,
    sha256          TEXT NOT NULL,
    width           BIGINT,
    height          BIGINT,
    output_duration DOUBLE PRECISION,
    inference_time  DOUBLE PRECISION,
    seed            BIGINT,
    params_json     JSONB NOT NULL,
    file_name       TEXT COLLATE "C" NOT NULL,
    created_at      TEXT COLLATE "C" NOT NULL DEFAULT studio_now()
);

-- One asset per (job, output index), however often ingestion is retried. (As in SQLite, NULLs
-- are distinct: assets whose job is gone do not collide.)
CREATE UNIQUE INDEX assets_job_output ON assets (job_id, output_index);
-- The gallery: a user's assets newest first (keyset on created_at, id).
CREATE INDEX assets_by_user_time ON assets (user_id, created_at DESC, id DESC);
