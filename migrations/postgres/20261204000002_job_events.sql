-- Postgres twin of the SQLite migration of the same name.
--
-- Job changes in the order they were published, so every node's browsers hear of every job
-- (issue 14, point 4). A node writes a row after each job write has committed (its own
-- statement), sends it to its own browsers at once, and reads the others' rows every
-- EVENTS_POLL_MS. `id` is the `id:` of the Server-Sent Event on every node, so a browser can
-- resume (`Last-Event-ID`) on any of them. Rows are pruned after ten minutes (the newest is kept).
--
-- An identity is a sequence: ids are never handed out again, but one taken by an insert that
-- has not committed yet can become visible after a higher one (the readers wait a little for
-- such a gap, see src/jobs/events.rs). No foreign keys: the row names a job that may be deleted
-- meanwhile (the readers then skip it), and the insert stays a single cheap write.
CREATE TABLE job_events (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id    TEXT COLLATE "C" NOT NULL,
    job_id     TEXT COLLATE "C" NOT NULL,
    origin     TEXT COLLATE "C" NOT NULL,                        -- the node that wrote it (nodes.id)
    created_at TEXT COLLATE "C" NOT NULL DEFAULT studio_now()
);
CREATE INDEX job_events_by_time ON job_events (created_at);
