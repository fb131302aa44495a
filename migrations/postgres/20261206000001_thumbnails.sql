-- A small picture beside each output: a 512 px JPEG (WebP where the image has transparency) of an
-- image, a poster frame of a video. The thumbnailer works through the `pending` rows: new outputs
-- right after they are stored and, after this migration, every existing one (the backfill). Audio
-- and other files never get one (`none`); a file that cannot be read after 3 tries is `failed`.
ALTER TABLE assets ADD COLUMN thumb_status TEXT COLLATE "C" NOT NULL DEFAULT 'pending'
    CHECK (thumb_status IN ('pending', 'ready', 'none', 'failed'));
ALTER TABLE assets ADD COLUMN thumb_key TEXT COLLATE "C";
ALTER TABLE assets ADD COLUMN thumb_content_type TEXT COLLATE "C";
ALTER TABLE assets ADD COLUMN thumb_byte_size BIGINT;
ALTER TABLE assets ADD COLUMN thumb_sha256 TEXT;
ALTER TABLE assets ADD COLUMN thumb_tries BIGINT NOT NULL DEFAULT 0;
-- A node working on the thumbnail holds it until then; after that any node may take it.
ALTER TABLE assets ADD COLUMN thumb_claimed_until TEXT COLLATE "C";
UPDATE assets SET thumb_status = 'none' WHERE result_kind NOT IN ('image', 'video');
CREATE INDEX assets_thumb_pending ON assets (created_at) WHERE thumb_status = 'pending';
