-- Public share links of one asset. The token is the link's bearer secret (32 random bytes,
-- base64url); it is stored as is so the owner can copy a link again from the list (see
-- `shares::token`). A link ends when it is revoked or its expiry passes; rows stay for the record
-- and go with their asset or user.
CREATE TABLE shares (
    token          TEXT PRIMARY KEY NOT NULL,
    asset_id       TEXT NOT NULL REFERENCES assets(id) ON DELETE CASCADE,
    user_id        TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at     TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    expires_at     TEXT,              -- NULL: never expires
    revoked_at     TEXT,              -- set by DELETE /api/shares/{token}; the link stops at once
    allow_download INTEGER NOT NULL DEFAULT 1 CHECK (allow_download IN (0, 1)),
    show_prompt    INTEGER NOT NULL DEFAULT 1 CHECK (show_prompt IN (0, 1)),
    password_hash  TEXT               -- argon2id PHC string; NULL: no password
) STRICT;

-- A user's active links, newest first (the owner's list).
CREATE INDEX shares_by_user_active ON shares (user_id, created_at DESC) WHERE revoked_at IS NULL;
-- One asset's links, and the cascade when the asset is deleted.
CREATE INDEX shares_by_asset ON shares (asset_id, created_at DESC);
