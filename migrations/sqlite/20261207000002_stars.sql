-- Stars: the outputs a user keeps apart from the rest ("the good ones"), when they starred
-- them. The gallery's "Starred" filter reads the starred rows of one user, newest first.
ALTER TABLE assets ADD COLUMN starred_at TEXT;
CREATE INDEX assets_starred ON assets (user_id, created_at DESC, id DESC) WHERE starred_at IS NOT NULL;
