-- Postgres twin of the SQLite migration of the same name.

-- Public share links of one asset. The token is the link's bearer secret (32 random bytes,
-- base64url); it is stored as is so the owner can copy a link again from the list (see
-- `shares::token`). A link ends when it is revoked or its expiry passes; rows stay for the record
-- and go with their asset or user.
CREATE TABLE shares (
    token          TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    asset_id       TEXT COLLATE "C" NOT NULL REFERENCES assets(id) ON DELETE CASCADE,
    user_id        TEXT COLLATE "C" NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at     TEXT COLLATE "C" NOT NULL DEFAULT studio_now(),
    expires_at     TEXT COLLATE "C",              -- NULL: never expires
    revoked_at     TEXT COLLATE "C",              -- set by DELETE /api/shares/{token}; the link stops at once
    allow_download BOOLEAN NOT NULL DEFAULT TRUE,
    show_prompt    BOOLEAN NOT NULL DEFAULT TRUE,
    password_hash  TEXT COLLATE "C",              -- argon2id PHC string; NULL: no password
    seq            BIGINT GENERATED ALWAYS AS IDENTITY  -- insertion order (SQLite's rowid), for ties of created_at
);

-- A user's active links, newest first (the owner's list).
CREATE INDEX shares_by_user_active ON shares (user_id, created_at DESC) WHERE revoked_at IS NULL;
-- One asset's links, and the cascade when the asset is deleted.
CREATE INDEX shares_by_asset ON shares (asset_id, created_at DESC);
