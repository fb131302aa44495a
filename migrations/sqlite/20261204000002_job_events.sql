-- Job changes in the order they were published, so every node's browsers hear of every job
-- (issue 14, point 4). A node writes a row after each job write has committed (its own
-- statement), sends it to its own browsers at once, and reads the others' rows every
-- EVENTS_POLL_MS. `id` is the `id:` of the Server-Sent Event on every node, so a browser can
-- resume (`Last-Event-ID`) on any of them. Rows are pruned after ten minutes (the newest is kept).
--
-- AUTOINCREMENT, unlike a plain rowid, never hands out an id again, even once pruning has
-- emptied the table: an id a browser holds keeps meaning the same change. No foreign keys: the
-- row names a job that may be deleted meanwhile (the readers then skip it), and the insert
-- stays a single cheap write.
CREATE TABLE job_events (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id    TEXT NOT NULL,
    job_id     TEXT NOT NULL,
    origin     TEXT NOT NULL,                                    -- the node that wrote it (nodes.id)
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
) STRICT;
CREATE INDEX job_events_by_time ON job_events (created_at);
