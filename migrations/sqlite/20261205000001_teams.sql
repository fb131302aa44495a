-- Teams (issue 15): roles, disabled accounts, budgets, the studio key and its settings, and
-- what each job costs. Money is kept in whole micro-dollars (1 USD = 1,000,000): sums are exact
-- on both engines, and fal's prices have at most a few decimals.

-- `admin` sees /api/admin/…; `member` does not. `disabled_at`: the account cannot sign in and
-- its sessions are gone. `may_use_studio_key`: a member without a key of their own runs on the
-- studio key. `budget_monthly_micros`: what this user's jobs may cost per calendar month (UTC),
-- whichever key runs them; NULL = no limit.
ALTER TABLE users ADD COLUMN role TEXT NOT NULL DEFAULT 'member' CHECK (role IN ('admin','member'));
ALTER TABLE users ADD COLUMN disabled_at TEXT;
ALTER TABLE users ADD COLUMN may_use_studio_key INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN budget_monthly_micros INTEGER;
-- An existing studio's first account becomes its admin, as a new studio's first sign-up does.
UPDATE users SET role = 'admin' WHERE id = (SELECT id FROM users ORDER BY created_at, id LIMIT 1);

-- The studio's own settings: at most one row (none: every default; the first change adds it).
-- The studio key is encrypted like personal keys (never returned); `key_id` is its public half
-- (before the ':'), for the admin page.
CREATE TABLE studio_settings (
    id                     INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
    key_ciphertext         TEXT,
    key_id                 TEXT,
    key_concurrency        INTEGER,                     -- NULL: FAL_KEY_CONCURRENCY
    budget_monthly_micros  INTEGER,                     -- the studio key's monthly budget; NULL = none
    store_io               INTEGER NOT NULL DEFAULT 1,  -- 0: send X-Fal-Store-IO: 0
    media_expiry_seconds   INTEGER,                     -- X-Fal-Object-Lifecycle-Preference; NULL: fal's default
    unpriced               TEXT NOT NULL DEFAULT 'refuse' CHECK (unpriced IN ('refuse','reserve')),
    unpriced_reserve_micros INTEGER NOT NULL DEFAULT 1000000,
    updated_at             TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
) STRICT;

-- Which key a job runs on, decided when it is queued, and what it is expected to cost: fal's
-- price for its settings, or the admin's worst case when fal's units cannot be counted. NULL
-- cost: not priced (no budget applied).
ALTER TABLE jobs ADD COLUMN key_source TEXT CHECK (key_source IN ('own','studio'));
ALTER TABLE jobs ADD COLUMN cost_micros INTEGER;
-- The studio key's month: its jobs by time.
CREATE INDEX jobs_on_studio_key ON jobs (created_at) WHERE key_source = 'studio';

-- What fal says it charged for a job (its billing events), once checked: NULL until then. A
-- request fal never billed (a server error, say) is checked as 0.
ALTER TABLE jobs ADD COLUMN charged_micros INTEGER;
ALTER TABLE jobs ADD COLUMN reconciled_at TEXT;
-- The reconciler's next batch: finished jobs fal took that are not checked yet.
CREATE INDEX jobs_to_reconcile ON jobs (finished_at)
    WHERE reconciled_at IS NULL AND request_id IS NOT NULL;
