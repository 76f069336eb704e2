-- Reads whose cost does not grow with the province (docs/benchmarks.md, "Growth"): every sort the
-- ledger offers, every due list and the approval queue is served in its order by an index ending
-- in the file id — the keyset of its pages — so a page reads its rows off the index instead of
-- sorting the subtree; and the duplicates list reads a maintained table of the people in more
-- than one open file instead of grouping every person of the subtree.

-- The end of a unit's subtree in code order: a base-level union (9 to 12 digits) is only itself
-- (its code may be a prefix of a sibling's), a higher unit every code that starts with its own
-- (codes are digits, all below '~'). `adapters.pg.units.subtree_sql` and the row-level security
-- policies both read `code ~>=~ root AND code ~<~ bangfu_subtree_end(root)`: a range the
-- `text_pattern_ops` indexes serve even in a generic plan, where `LIKE $1 || '%'` is opaque.
CREATE OR REPLACE FUNCTION bangfu_subtree_end(root text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN length(root) >= 9 THEN root || chr(1) ELSE root || '~' END
$$;

CREATE OR REPLACE FUNCTION bangfu_scope_until() RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT CASE
        WHEN coalesce(current_setting('bangfu.scope', true), '') = '' THEN ''
        ELSE bangfu_subtree_end(current_setting('bangfu.scope', true))
    END
$$;

-- The ledger's sorts (adapters/pg/reads.py `SORTS`), each with the file id as its tie-break.
CREATE INDEX IF NOT EXISTS ledger_by_applied_on ON ledger (applied_on, file_id);
CREATE INDEX IF NOT EXISTS ledger_by_approved_on
    ON ledger ((COALESCE(approved_on, DATE '9999-12-31')), file_id);
CREATE INDEX IF NOT EXISTS ledger_by_head_name ON ledger (head_name, file_id);
CREATE INDEX IF NOT EXISTS ledger_by_assistance_total ON ledger (assistance_total, file_id);
CREATE INDEX IF NOT EXISTS ledger_by_updated_at ON ledger (updated_at, file_id);

-- The approval queue and the due lists (adapters/pg/reads.py `approval_queue`, `due_list`):
-- each index's predicate and columns are the list's condition and order word for word.
CREATE INDEX IF NOT EXISTS ledger_awaiting_approval
    ON ledger (updated_at, file_id) WHERE status = 'appraised';
CREATE INDEX IF NOT EXISTS ledger_visits_due
    ON ledger ((COALESCE(last_visited_on, approved_on)), file_id) WHERE status = 'approved';
DROP INDEX IF EXISTS ledger_recheck;
CREATE INDEX IF NOT EXISTS ledger_rechecks_due
    ON ledger (next_recheck_due, file_id) WHERE status = 'approved';
CREATE INDEX IF NOT EXISTS ledger_follow_up_due
    ON ledger (exited_on, file_id) WHERE status IN ('out_of_hardship', 'relieved');

-- The people (keyed ID hashes) in more than one open file, across every unit, and in how many:
-- kept by the ledger projection with the people rows (projections/ledger.py, adapters/pg/
-- readmodels.py), so the duplicates list starts from these few rows, not from every person.
CREATE TABLE IF NOT EXISTS ledger_duplicates (
    id_hash  bytea    PRIMARY KEY,
    files    integer  NOT NULL
);
TRUNCATE ledger_duplicates;
INSERT INTO ledger_duplicates (id_hash, files)
SELECT p.id_hash, count(DISTINCT p.file_id)
FROM ledger_people p JOIN ledger l ON l.file_id = p.file_id
WHERE l.status IN ('applied', 'verified', 'appraised', 'approved', 'sent_back', 'returned')
GROUP BY p.id_hash
HAVING count(DISTINCT p.file_id) > 1;

-- A reader sees a duplicate only through a person of a file it may see (the people's policy).
CREATE OR REPLACE FUNCTION bangfu_person_in_scope(hash bytea) RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT EXISTS (SELECT 1 FROM ledger_people WHERE id_hash = hash)
$$;

ALTER TABLE ledger_duplicates OWNER TO bangfu_app;
ALTER TABLE ledger_duplicates ENABLE ROW LEVEL SECURITY;
ALTER TABLE ledger_duplicates NO FORCE ROW LEVEL SECURITY;
GRANT SELECT ON ledger_duplicates TO bangfu_reader;
DROP POLICY IF EXISTS in_scope ON ledger_duplicates;
CREATE POLICY in_scope ON ledger_duplicates USING (bangfu_person_in_scope(id_hash));
