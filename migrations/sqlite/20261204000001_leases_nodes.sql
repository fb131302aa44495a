-- Several studio processes ("nodes") on one database. Each node writes a row here when it
-- starts and a heartbeat every few seconds, and marks itself stopped on a graceful stop, so
-- `/healthz`, `fal-studio admin nodes` and the local-storage check see who is running. A node
-- is live while `live_until` (its last heartbeat plus a few of its intervals) is in the future.
CREATE TABLE nodes (
    id           TEXT PRIMARY KEY NOT NULL,    -- UUIDv7, new at every start
    host         TEXT NOT NULL,                -- the machine's name, for people reading the list
    storage      TEXT NOT NULL CHECK (storage IN ('local','s3')),
    started_at   TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    heartbeat_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    live_until   TEXT NOT NULL,
    stopped_at   TEXT                          -- set by a graceful stop
) STRICT;
CREATE INDEX nodes_by_live_until ON nodes (live_until);

-- A job is driven only by the node holding its lease, renewed while it works. Finished and
-- queued jobs hold none. `key_fingerprint` names the fal key a started job runs with (a short
-- hash, never the key), so the per-key concurrency limit is counted across users and nodes.
ALTER TABLE jobs ADD COLUMN lease_owner TEXT;
ALTER TABLE jobs ADD COLUMN lease_expires_at TEXT;
ALTER TABLE jobs ADD COLUMN key_fingerprint TEXT;
-- One node's leases: renewal and release touch only its own rows.
CREATE INDEX jobs_by_lease_owner ON jobs (lease_owner) WHERE lease_owner IS NOT NULL;
-- The jobs fal holds, counted per key and per user by every start.
CREATE INDEX jobs_at_fal ON jobs (key_fingerprint, user_id)
    WHERE status IN ('submitting','running','storing');

-- The concurrency fal allows the user's key (fal starts accounts at 2 and raises it to 40);
-- NULL: the studio's FAL_KEY_CONCURRENCY.
ALTER TABLE users ADD COLUMN fal_key_concurrency INTEGER;
