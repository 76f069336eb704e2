-- The head's profile a clerk filters the ledger by (issue 14; domain/profile.py): political
-- status, model-worker title, a 危房 (the household's housing, or a migrant's at home) and the
-- disability's kind. Folded from the application and revisions (projections/ledger.py).
ALTER TABLE ledger ADD COLUMN IF NOT EXISTS political_status text;
ALTER TABLE ledger ADD COLUMN IF NOT EXISTS model_worker     text;
ALTER TABLE ledger ADD COLUMN IF NOT EXISTS dilapidated      boolean;
ALTER TABLE ledger ADD COLUMN IF NOT EXISTS disability       text;

-- Events recorded before these columns existed are in the log but not on the rows: the ledger
-- is derived, so empty it and let the runner re-apply the log from the start (as 0015 does).
TRUNCATE ledger, ledger_people;
DELETE FROM consumer_positions WHERE name = 'ledger';
