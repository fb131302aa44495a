-- The batch an output came from (the generation request that made several runs: jobs.group_id),
-- kept on the asset so the gallery can group a batch's results without reading `jobs`, and so
-- the grouping survives the job's deletion.
ALTER TABLE assets ADD COLUMN group_id TEXT COLLATE "C";
UPDATE assets SET group_id = (SELECT jobs.group_id FROM jobs WHERE jobs.id = assets.job_id);
