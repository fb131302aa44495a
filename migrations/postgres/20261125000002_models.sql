-- Postgres twin of the SQLite migration of the same name.

-- What the studio last learned about each endpoint from fal's catalog. Jobs and assets name an
-- endpoint; this keeps its display name and thumbnail after it leaves the catalog.
CREATE TABLE model_meta (
    endpoint_id   TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    display_name  TEXT COLLATE "C" NOT NULL,
    category      TEXT COLLATE "C",
    description   TEXT COLLATE "C",
    thumbnail_url TEXT COLLATE "C",
    status        TEXT COLLATE "C",
    updated_at    TEXT COLLATE "C" NOT NULL DEFAULT studio_now()
);

CREATE TABLE model_favorites (
    user_id     TEXT COLLATE "C" NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    endpoint_id TEXT COLLATE "C" NOT NULL,
    created_at  TEXT COLLATE "C" NOT NULL DEFAULT studio_now(),
    PRIMARY KEY (user_id, endpoint_id)
);

CREATE TABLE model_recents (
    user_id     TEXT COLLATE "C" NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    endpoint_id TEXT COLLATE "C" NOT NULL,
    used_at     TEXT COLLATE "C" NOT NULL DEFAULT studio_now(),
    PRIMARY KEY (user_id, endpoint_id)
);

-- "Recent" lists a user's models newest first.
CREATE INDEX model_recents_by_user_time ON model_recents (user_id, used_at DESC);
