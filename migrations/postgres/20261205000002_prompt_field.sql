-- Postgres twin of the SQLite migration of the same name.
-- The field of a job's parameters that holds its prompt (the endpoint's main free text, from
-- its schema: `prompt`, `text`, `gen_text`, `instruction`, ...), so its outputs keep the prompt
-- whatever the model calls it. NULL: `prompt` (jobs from before, and endpoints without one).
ALTER TABLE jobs ADD COLUMN prompt_field TEXT COLLATE "C";
