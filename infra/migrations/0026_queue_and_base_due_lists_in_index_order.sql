-- The approval queue's page, and a base union's due lists, read in their order: the queue off one
-- partial index holding the queue alone
-- (adapters/pg/reads.py `approval_queue`; docs/benchmarks.md "Growth"). The queue is two lists
-- — appraised files, and approved files whose re-check found another category to confirm —
-- each with its own partial index (migrations 0014, 0015): the page took both lists' entries
-- of the whole province and sorted them, and a district's page then kept its own. Measured: a
-- district's page 1.9 ms at 57,000 files, 8.6 ms at 570,000 (the province's queue grows with
-- the province; the district's share of it does not).
--
-- The predicate is the queue's condition word for word. A district's page reads its own
-- entries by its stored district (`l.district = ANY($1)`, leakproof under row-level security,
-- as the ledger's pages: migration 0023, docs/decisions/0020), a base union's by its code, the
-- province's and any other unit's off the whole queue's order, filtered by the subtree.
CREATE INDEX IF NOT EXISTS ledger_queue
    ON ledger (updated_at, file_id) INCLUDE (unit)
    WHERE status = 'appraised' OR category_pending IS NOT NULL;
CREATE INDEX IF NOT EXISTS ledger_queue_by_district
    ON ledger (district, updated_at, file_id)
    WHERE status = 'appraised' OR category_pending IS NOT NULL;
CREATE INDEX IF NOT EXISTS ledger_queue_by_unit
    ON ledger (unit, updated_at, file_id)
    WHERE status = 'appraised' OR category_pending IS NOT NULL;

ANALYZE ledger;

-- A base union's due lists likewise (adapters/pg/reads.py `due`): each list's partial index led
-- by the unit, the list's key and predicate as in migrations 0014, 0015 and 0021. Off the
-- province's index of the list, filtered by the union, a base union's follow-up page had grown
-- 3.5 → 18.5 ms from 57,000 to 570,000 files; a district's share of a list is large enough
-- that its walk of the province's index stayed flat (4–5 ms at both sizes).
--
-- Each predicate also says the key is not null — implied by the list's own condition on it
-- (`<`, `<=`, BETWEEN are strict), never by a ledger page's filters: with `status = 'approved'`
-- alone as predicate, a base union's ledger page filtered by that status took the union's
-- visits or re-check entries and sorted them (2,328 rows, 21 ms at 570,000 files) instead of
-- walking its own index of the sort (51 rows).
CREATE INDEX IF NOT EXISTS ledger_unit_visits_due
    ON ledger (unit, (COALESCE(last_visited_on, approved_on)), file_id)
    WHERE status = 'approved' AND COALESCE(last_visited_on, approved_on) IS NOT NULL;
CREATE INDEX IF NOT EXISTS ledger_unit_rechecks_due
    ON ledger (unit, next_recheck_due, file_id)
    WHERE status = 'approved' AND next_recheck_due IS NOT NULL;
CREATE INDEX IF NOT EXISTS ledger_unit_follow_up_due
    ON ledger (unit, exited_on, file_id)
    WHERE status IN ('out_of_hardship', 'relieved') AND exited_on IS NOT NULL;
CREATE INDEX IF NOT EXISTS ledger_unit_exit_due
    ON ledger (unit, exit_due_on, file_id) WHERE exit_due IS NOT NULL;

ANALYZE ledger;
