-- Postgres twin of the SQLite migration of the same name.

-- Full-text search over prompts (and model names), kept in sync by the database itself. SQLite
-- has an FTS5 table (assets_fts, tokenizer unicode61 remove_diacritics 2) with three triggers;
-- here it is a generated tsvector column on assets with a GIN index, and no triggers.
--
-- Words are split as FTS5's unicode61 splits them: ASCII punctuation becomes a space before
-- Postgres's parser sees the text, so "FLUX.1 [dev]" is flux, 1, dev (not the "file" token
-- flux.1) and red-fox is red, fox. Diacritics are folded as in SQLite: the text search
-- configuration `studio_search` is `simple` (lower-casing, no stemming, no stop words) with the
-- `unaccent` dictionary in front of it, so "Café" is found by "cafe" and by "café". Queries must
-- use the same configuration, e.g. `search @@ to_tsquery('studio_search', 'red:* & fox:*')`
-- (prefix terms, as FTS5's "red"*).
-- unaccent ships with the PostgreSQL server (Debian's postgresql-NN, the official images, the
-- managed services) and is a trusted extension: the database's owner may create it.
CREATE EXTENSION IF NOT EXISTS unaccent;
CREATE TEXT SEARCH CONFIGURATION studio_search (COPY = pg_catalog.simple);
ALTER TEXT SEARCH CONFIGURATION studio_search
    ALTER MAPPING FOR word, hword, hword_part, numword, numhword, hword_numpart
    WITH unaccent, simple;

ALTER TABLE assets ADD COLUMN search tsvector
    GENERATED ALWAYS AS (to_tsvector('studio_search', translate(
        coalesce(prompt, '') || ' ' || model,
        '!"#$%&''()*+,-./:;<=>?@[\]^_`{|}~',
        '                                '))) STORED;
CREATE INDEX assets_search ON assets USING GIN (search);

-- SQLite's `INSERT INTO assets_fts ... SELECT ... FROM assets` (filling the index with the
-- existing rows) is absent: a generated column is computed for every existing row when it is
-- added.

-- The gallery's filtered listings, newest first, each on its own index.
CREATE INDEX assets_by_user_kind_time ON assets (user_id, result_kind, created_at DESC, id DESC);
CREATE INDEX assets_by_user_model_time ON assets (user_id, endpoint_id, created_at DESC, id DESC);

-- Objects whose asset row is gone but whose removal from storage has not succeeded yet.
CREATE TABLE pending_deletions (
    storage_key  TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    storage_mode TEXT COLLATE "C" NOT NULL,
    attempts     BIGINT NOT NULL DEFAULT 0,
    last_error   TEXT COLLATE "C",
    created_at   TEXT COLLATE "C" NOT NULL DEFAULT studio_now()
);
