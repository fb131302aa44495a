-- Sessions, keyed by a SHA-256 of the cookie's session id: the table holds no value that would
-- sign anyone in if the database leaked. `user_id` lets "sign out everywhere" and a password
-- change end every session of an account in one statement. Replaces tower-sessions' own
-- `tower_sessions` table (whose rows held the raw id), so everyone signs in once more.
CREATE TABLE sessions (
    id_hash    TEXT PRIMARY KEY NOT NULL,                       -- hex SHA-256 of the cookie's id
    user_id    TEXT REFERENCES users(id) ON DELETE CASCADE,     -- NULL until signed in
    data       TEXT NOT NULL,                                   -- the session's JSON map
    created_at INTEGER NOT NULL,                                -- unix seconds, at sign-in
    expires_at INTEGER NOT NULL                                 -- unix seconds: idle or absolute limit, whichever comes first
) STRICT;
CREATE INDEX sessions_by_user ON sessions (user_id);
CREATE INDEX sessions_by_expiry ON sessions (expires_at);
DROP TABLE IF EXISTS tower_sessions;

-- Single-use sign-up invites (SIGNUP_MODE=invite), made by `fal-studio admin invite`. Only a
-- hash of the token is kept: the link itself is the credential.
CREATE TABLE invites (
    token_hash TEXT PRIMARY KEY NOT NULL,                       -- hex SHA-256 of the token
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    expires_at TEXT NOT NULL,
    used_at    TEXT,
    used_by    TEXT REFERENCES users(id) ON DELETE SET NULL
) STRICT;
