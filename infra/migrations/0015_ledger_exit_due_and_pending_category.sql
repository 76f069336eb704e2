-- Re-checks with consequences (docs/rules.md): a ledger row says why its file is due to exit
-- (a newly found exclusion, a re-check above the standard) and since when — the due list
-- `kind=exit` — and the category a clerk's re-check found, waiting on the approvals queue for an
-- approver's confirmation. Folded from the household events (projections/ledger.py).
ALTER TABLE ledger ADD COLUMN IF NOT EXISTS exit_due         text;
ALTER TABLE ledger ADD COLUMN IF NOT EXISTS exit_due_on      date;
ALTER TABLE ledger ADD COLUMN IF NOT EXISTS category_pending text;

-- The due list `kind=exit` and the approvals queue's confirmations, in their orders (as 0014's
-- partial indexes hold the other lists).
CREATE INDEX IF NOT EXISTS ledger_exit_due
    ON ledger (exit_due_on, file_id) WHERE exit_due IS NOT NULL;
CREATE INDEX IF NOT EXISTS ledger_category_pending
    ON ledger (updated_at, file_id) WHERE category_pending IS NOT NULL;

-- Events recorded before these columns existed are in the log but not on the rows: the ledger
-- is derived, so empty it and let the runner re-apply the log from the start (as 0006 does).
TRUNCATE ledger, ledger_people;
DELETE FROM consumer_positions WHERE name = 'ledger';
