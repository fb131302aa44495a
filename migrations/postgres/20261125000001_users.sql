-- Postgres twin of the SQLite migration of the same name: same tables, same history.
--
-- The studio's timestamps are TEXT in SQLite's shape, 2026-12-04T03:22:51.123Z (UTC, three
-- digits of milliseconds), on both engines, so they sort as text and keep their Rust types.
-- studio_now() writes that shape; it is every `DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))`.
-- Every TEXT column is COLLATE "C": byte order, as SQLite's BINARY, so ids and timestamps sort
-- and compare (keyset cursors) the same on both engines whatever locale the database was made in.
CREATE FUNCTION studio_now() RETURNS text LANGUAGE sql VOLATILE AS $$
    SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
$$;
-- The same shape `seconds` from now (negative: ago): expiries and look-back windows, SQLite's
-- strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '+N seconds').
CREATE FUNCTION studio_now_plus(seconds double precision) RETURNS text LANGUAGE sql VOLATILE AS $$
    SELECT to_char((clock_timestamp() + make_interval(secs => seconds)) AT TIME ZONE 'UTC',
                   'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
$$;

-- Accounts. Emails are stored trimmed and lower-cased by the application; the unique index on
-- lower(email) catches any case variant that slips past it anyway (SQLite: COLLATE NOCASE). The
-- plain UNIQUE also gives `email = $1` an index.
CREATE TABLE users (
    id                 TEXT COLLATE "C" PRIMARY KEY NOT NULL,          -- UUIDv7: sorts by time, reveals no counts
    email              TEXT COLLATE "C" NOT NULL UNIQUE,
    password_hash      TEXT COLLATE "C" NOT NULL,                      -- argon2id PHC string
    fal_key_ciphertext TEXT COLLATE "C",                               -- XChaCha20-Poly1305 under APP_SECRET; NULL = no key
    fal_key_updated_at TEXT COLLATE "C",
    created_at         TEXT COLLATE "C" NOT NULL DEFAULT studio_now()
);
CREATE UNIQUE INDEX users_email_lower ON users (lower(email));
