-- The ledger's civil-affairs filters read what they match, not the province (bench/growth.py,
-- docs/benchmarks.md "Growth"). Measured at 57,000 files, with no file matched: each filter
-- walked the sort's index and tested every row of the subtree, 270 ms a page and growing with
-- the province.
--
-- `civil_affairs=dibao` (adapters/pg/reads.py: `cardinality(l.civil_affairs) > 0 AND
-- l.civil_affairs && $n::text[]`): the files with any civil-affairs match, by unit, with
-- statistics on how many there are. Not an inverted index of the records: `&&` is not leakproof,
-- so under the read models' row-level security the planner may not take it as an index
-- condition; the predicate of a partial index it may.
CREATE INDEX IF NOT EXISTS ledger_civil_affairs
    ON ledger (unit text_pattern_ops) WHERE cardinality(civil_affairs) > 0;

-- `civil_affairs_to_act=true` (`cardinality(l.civil_affairs_to_act) > 0`, the predicate of the
-- partial index ledger_civil_affairs_to_act of migration 0006): the index was there, but the
-- planner guessed a third of the rows matched and walked the sort's index instead.
--
-- Statistics on both expressions tell the planner how few files match. ONE object with both: a
-- rebuild's shadow table copies statistics (`LIKE … INCLUDING ALL`) under a generated name, and
-- two expression-only objects got the same name there, so one of them was lost (seen after a
-- rebuild at 200,000 files: 300 ms a page again). The shadow is analysed before the swap.
CREATE STATISTICS IF NOT EXISTS ledger_civil_affairs_counts
    ON (cardinality(civil_affairs)), (cardinality(civil_affairs_to_act)) FROM ledger;

-- The totals beside the due lists (`SELECT count(*) … WHERE <the list's condition>`, reads.py
-- `due`) from the list's own index alone: each partial index of migration 0014 also carries the
-- unit (every subtree condition and the row-level security policy read it) and the columns of
-- its key's expression, so the count is an index-only scan of the list's entries instead of a
-- visit of each file's row — 11 → 1 ms (visits) and 21 → 2 ms (follow-up) at 57,000 files,
-- still growing with the list, as a total must. Same names, same keys and predicates: the
-- pages' plans do not change.
DROP INDEX IF EXISTS ledger_visits_due;
CREATE INDEX ledger_visits_due
    ON ledger ((COALESCE(last_visited_on, approved_on)), file_id)
    INCLUDE (unit, last_visited_on, approved_on) WHERE status = 'approved';
DROP INDEX IF EXISTS ledger_rechecks_due;
CREATE INDEX ledger_rechecks_due
    ON ledger (next_recheck_due, file_id) INCLUDE (unit) WHERE status = 'approved';
DROP INDEX IF EXISTS ledger_follow_up_due;
CREATE INDEX ledger_follow_up_due
    ON ledger (exited_on, file_id) INCLUDE (unit) WHERE status IN ('out_of_hardship', 'relieved');

ANALYZE ledger;
