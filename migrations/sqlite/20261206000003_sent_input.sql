-- What the studio sent to fal for the job, as sent (reference files inline as `data:` URIs are
-- shortened to their type and size): the job's "Request" tab shows it.
ALTER TABLE jobs ADD COLUMN sent_input_json TEXT;
