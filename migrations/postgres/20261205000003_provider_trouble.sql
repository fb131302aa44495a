-- Postgres twin of the SQLite migration of the same name.
-- While fal answers a job's requests with 5xx or 429 and the studio keeps trying, what the job
-- card says instead of "Sending to fal…": "fal is unavailable (503), trying again: attempt 3,
-- next in 8 s". Cleared once fal answers.
ALTER TABLE jobs ADD COLUMN provider_trouble TEXT COLLATE "C";
