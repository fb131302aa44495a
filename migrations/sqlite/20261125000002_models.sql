-- What the studio last learned about each endpoint from fal's catalog. Jobs and assets name an
-- endpoint; this keeps its display name and thumbnail after it leaves the catalog.
CREATE TABLE model_meta (
    endpoint_id   TEXT PRIMARY KEY NOT NULL,
    display_name  TEXT NOT NULL,
    category      TEXT,
    description   TEXT,
    thumbnail_url TEXT,
    status        TEXT,
    updated_at    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
) STRICT;

CREATE TABLE model_favorites (
    user_id     TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    endpoint_id TEXT NOT NULL,
    created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    PRIMARY KEY (user_id, endpoint_id)
) STRICT, WITHOUT ROWID;

CREATE TABLE model_recents (
    user_id     TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    endpoint_id TEXT NOT NULL,
    used_at     TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    PRIMARY KEY (user_id, endpoint_id)
) STRICT, WITHOUT ROWID;

-- "Recent" lists a user's models newest first.
CREATE INDEX model_recents_by_user_time ON model_recents (user_id, used_at DESC);
