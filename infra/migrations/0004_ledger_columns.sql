-- The columns of the clerk's paper ledger (seed 000 附件2, seed 001 附件3) that the ledger did not
-- carry yet: the head's sex (read off the ID number), masked phone, employer and address.
ALTER TABLE ledger ADD COLUMN IF NOT EXISTS head_sex     text;
ALTER TABLE ledger ADD COLUMN IF NOT EXISTS phone_masked text NOT NULL DEFAULT '';
ALTER TABLE ledger ADD COLUMN IF NOT EXISTS employer     text NOT NULL DEFAULT '';
ALTER TABLE ledger ADD COLUMN IF NOT EXISTS address      text NOT NULL DEFAULT '';

-- Rows written before these columns existed would keep them empty for ever (the ledger skips
-- events it has applied). The ledger is derived, so empty it and let the runner re-apply the
-- log from the start: the same as `bangfu projections rebuild ledger`, done on upgrade.
TRUNCATE ledger, ledger_people;
DELETE FROM consumer_positions WHERE name = 'ledger';

