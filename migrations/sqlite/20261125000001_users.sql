-- Accounts. Emails are stored trimmed and lower-cased by the application; NOCASE makes the
-- unique index catch any case variant that slips past it anyway.
CREATE TABLE users (
    id                 TEXT PRIMARY KEY NOT NULL,          -- UUIDv7: sorts by time, reveals no counts
    email              TEXT NOT NULL UNIQUE COLLATE NOCASE,
    password_hash      TEXT NOT NULL,                      -- argon2id PHC string
    fal_key_ciphertext TEXT,                               -- XChaCha20-Poly1305 under APP_SECRET; NULL = no key
    fal_key_updated_at TEXT,
    created_at         TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
) STRICT;
