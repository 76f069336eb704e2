-- Civil-affairs matching (民政比对) on the ledger: what civil affairs' lists matched for each file
-- (低保, 房产, 车辆, 工商登记, 死亡 as `domain.civil_affairs.Record` values), the day of the latest
-- matching run that named the file, and the findings a clerk must still act on (rule ids of
-- `domain.civil_affairs.FINDINGS`). Folded from the `civil_affairs.matched` events of the
-- matching units' streams (projections/ledger.py).
ALTER TABLE ledger ADD COLUMN IF NOT EXISTS civil_affairs        text[] NOT NULL DEFAULT '{}';
ALTER TABLE ledger ADD COLUMN IF NOT EXISTS civil_affairs_on     date;
ALTER TABLE ledger ADD COLUMN IF NOT EXISTS civil_affairs_to_act text[] NOT NULL DEFAULT '{}';

-- "Which files of my subtree have a finding to act on": the few flagged rows, by unit (the
-- ledger filter `civil_affairs_to_act=true` states this predicate word for word).
CREATE INDEX IF NOT EXISTS ledger_civil_affairs_to_act
    ON ledger (unit text_pattern_ops) WHERE cardinality(civil_affairs_to_act) > 0;

-- Matches recorded before these columns existed are in the log but not on the rows (the ledger
-- skips events it has applied). The ledger is derived, so empty it and let the runner re-apply
-- the log from the start: the same as `bangfu projections rebuild ledger`, done on upgrade.
TRUNCATE ledger, ledger_people;
DELETE FROM consumer_positions WHERE name = 'ledger';
