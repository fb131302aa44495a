-- Guessing and sign-up limits (src/auth/throttle.rs), counted here rather than in each node's
-- memory, so that several nodes share one count and a restart forgives nothing. One row per
-- counter: `scope` says which rule (e.g. `login:pair`), `key` what it counts. Keys name a subject
-- (an email or a share link) only by its hex SHA-256, so the table holds no bearer token and no
-- list of emails; client addresses are kept as text.
CREATE TABLE throttles (
    scope     TEXT NOT NULL,
    key       TEXT NOT NULL,
    attempts  INTEGER NOT NULL,
    resets_at INTEGER NOT NULL,           -- unix milliseconds, by the database's clock: the window's end
    PRIMARY KEY (scope, key)
) STRICT, WITHOUT ROWID;
-- The sweep of windows that have passed.
CREATE INDEX throttles_by_reset ON throttles (resets_at);
