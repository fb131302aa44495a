-- How many files a completed job stored, kept on the job so that a job whose outputs were
-- later deleted from the gallery says so, rather than looking like one fal returned nothing
-- for. Jobs completed before this column get the count of the outputs they still have.
ALTER TABLE jobs ADD COLUMN output_count INTEGER;
UPDATE jobs SET output_count = (SELECT COUNT(*) FROM assets WHERE assets.job_id = jobs.id)
WHERE status = 'completed';
