-- Full-text search over prompts (and model names), kept in sync by the database itself.
CREATE VIRTUAL TABLE assets_fts USING fts5(
    prompt, model,
    content = 'assets', content_rowid = 'rowid',
    tokenize = 'unicode61 remove_diacritics 2'
);

CREATE TRIGGER assets_fts_insert AFTER INSERT ON assets BEGIN
    INSERT INTO assets_fts (rowid, prompt, model) VALUES (new.rowid, new.prompt, new.model);
END;
CREATE TRIGGER assets_fts_delete AFTER DELETE ON assets BEGIN
    INSERT INTO assets_fts (assets_fts, rowid, prompt, model) VALUES ('delete', old.rowid, old.prompt, old.model);
END;
CREATE TRIGGER assets_fts_update AFTER UPDATE OF prompt, model ON assets BEGIN
    INSERT INTO assets_fts (assets_fts, rowid, prompt, model) VALUES ('delete', old.rowid, old.prompt, old.model);
    INSERT INTO assets_fts (rowid, prompt, model) VALUES (new.rowid, new.prompt, new.model);
END;

INSERT INTO assets_fts (rowid, prompt, model) SELECT rowid, prompt, model FROM assets;

-- The gallery's filtered listings, newest first, each on its own index.
CREATE INDEX assets_by_user_kind_time ON assets (user_id, result_kind, created_at DESC, id DESC);
CREATE INDEX assets_by_user_model_time ON assets (user_id, endpoint_id, created_at DESC, id DESC);

-- Objects whose asset row is gone but whose removal from storage has not succeeded yet.
CREATE TABLE pending_deletions (
    storage_key  TEXT PRIMARY KEY NOT NULL,
    storage_mode TEXT NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    last_error   TEXT,
    created_at   TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
) STRICT;
