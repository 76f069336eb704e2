-- The totals beside the due lists and the approval queue as a read of a few rows (issue 18,
-- docs/benchmarks.md "Growth", docs/operations.md "The work lists' totals"). Until now each total was
-- `SELECT count(*) FROM ledger l WHERE <subtree> AND <the list's condition>`
-- (adapters/pg/reads.py `due`, `approval_queue`, `work_counts`): an index-only scan of every
-- entry of the list in the subtree — at 200,000 files 148 ms for a province's due visits and
-- 266 ms for its follow-up, growing with the province. A total must be exact, so it is kept,
-- not estimated.
--
-- `ledger_counts` holds, for each subtree root a query may name (`scope`), each list (`kind`) and
-- each day of the list's key (`day`), how many files of the subtree are in the list with that
-- day. A total is then `sum(n) … WHERE scope = $root AND kind = $k AND day <the list's range>`:
-- at most one row per day of the range, however many files the subtree holds.
--
-- The scopes of a file are every prefix of its unit code that is a subtree holding it — tested
-- with the very condition of `adapters.pg.units.subtree_sql` and the row-level security
-- (`unit ~>=~ p AND unit ~<~ bangfu_subtree_end(p)`, migration 0020) — and the nation "00". So
-- any root works without the units registry (a non-geographic union registered later, "13C01",
-- a base-level union "130306001" whose code is a prefix of a sibling's "1303060011": the sibling's
-- files are not counted under it, as its subtree is only itself). Prefixes that are no unit
-- ("130", "1303060") cost rows like a unit's and are never read. A later migration that changes
-- `bangfu_subtree_end` must fill the counts again (`bangfu_ledger_counts_fill`, below).
CREATE TABLE IF NOT EXISTS ledger_counts (
    scope  text    NOT NULL,
    kind   text    NOT NULL,
    day    date    NOT NULL,
    n      bigint  NOT NULL,
    PRIMARY KEY (scope, kind, day)
);

-- The lists a ledger row is in, with the day of each list's key. Word for word the conditions
-- of adapters/pg/reads.py `due_list` and `approval_queue` (a row whose key is NULL is in no
-- list: the lists compare the key with a bound, and NULL never compares true);
-- tests/integration/test_due_totals_are_kept.py proves the totals equal the old `count(*)` for
-- every kind and root. The queue's kinds have no day: a fixed one.
--   visits     approved, key COALESCE(last_visited_on, approved_on)  (total: day < bound)
--   rechecks   approved, key next_recheck_due                        (day <= as_of)
--   follow_up  out_of_hardship or relieved, key exited_on            (day BETWEEN two ends)
--   exit       approved or relieved with exit_due, key exit_due_on   (day <= as_of)
--   approvals  appraised, or a re-check's category to confirm        (every day)
--   category_changes  of those, the re-checks' categories to confirm (every day)
CREATE OR REPLACE FUNCTION bangfu_ledger_count_days(
    status text, last_visited_on date, approved_on date, next_recheck_due date,
    exited_on date, exit_due text, exit_due_on date, category_pending text
) RETURNS TABLE (kind text, day date)
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT k.kind, k.day
    FROM (VALUES
        ('visits', CASE WHEN status = 'approved'
                        THEN COALESCE(last_visited_on, approved_on) END),
        ('rechecks', CASE WHEN status = 'approved' THEN next_recheck_due END),
        ('follow_up', CASE WHEN status IN ('out_of_hardship', 'relieved') THEN exited_on END),
        ('exit', CASE WHEN status IN ('approved', 'relieved') AND exit_due IS NOT NULL
                      THEN exit_due_on END),
        ('approvals', CASE WHEN status = 'appraised' OR category_pending IS NOT NULL
                           THEN DATE '2000-01-01' END),
        ('category_changes', CASE WHEN category_pending IS NOT NULL
                                  THEN DATE '2000-01-01' END)
    ) AS k (kind, day)
    WHERE k.day IS NOT NULL
$$;

-- The scopes that count a unit's files: every prefix of its code that is a subtree holding it,
-- by the very condition of `subtree_sql` and the policies, and the nation.
CREATE OR REPLACE FUNCTION bangfu_unit_scopes(unit text) RETURNS SETOF text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT DISTINCT s.scope
    FROM (SELECT '00' UNION ALL SELECT left(unit, i) FROM generate_series(2, length(unit)) AS i)
         AS s (scope)
    WHERE unit ~>=~ s.scope AND unit ~<~ bangfu_subtree_end(s.scope)
$$;

-- Kept right by whoever writes the ledger: statement-level triggers with transition tables
-- (one per INSERT, UPDATE, DELETE — a trigger with transition tables fires for one event only)
-- add +1 for each new row's (unit, list, day) and −1 for each old row's, netted by unit first
-- (a row whose lists did not change — most updates: an assistance, a visit's notes — nets to
-- zero and writes nothing), then spread over the unit's scopes and written once per count.
-- Counts reaching zero are deleted: the visits' days move forward as files are visited, and
-- kept zeros would pile up. The projection writes a batch in one statement
-- (adapters/pg/readmodels.py `LiveLedger.save`), so this runs once a batch.
--
-- Counts are written in key order, so two writers lock them in the same order and cannot
-- deadlock on them; there is one writer anyway — the ledger projection, under its advisory
-- lock (adapters/pg/projector.py `step`), and a rebuild swaps its tables in under that lock.
--
-- A rebuild COPYs the whole ledger into a shadow table without triggers and fills the shadow
-- counts with one GROUP BY (`bangfu_ledger_counts_fill`), in the transaction that swaps both in
-- (adapters/pg/projector.py `_swap_in`); the swap gives the new ledger these triggers.
CREATE OR REPLACE FUNCTION bangfu_ledger_counts_follow() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    changed record;
BEGIN
    -- (a transition table is known only to the triggers that declare it: one statement each)
    IF TG_OP = 'INSERT' THEN  -- counts only grow
        WITH m AS (
            SELECT r.unit, d.kind, d.day, count(*) AS n
            FROM (SELECT * FROM new_rows) AS r,
                 bangfu_ledger_count_days(r.status, r.last_visited_on, r.approved_on,
                                          r.next_recheck_due, r.exited_on, r.exit_due,
                                          r.exit_due_on, r.category_pending) AS d
            GROUP BY 1, 2, 3
        ), u AS (  -- each unit's scopes, once
            SELECT x.unit, s.scope
            FROM (SELECT DISTINCT unit FROM m) AS x, bangfu_unit_scopes(x.unit) AS s (scope)
        )
        INSERT INTO ledger_counts AS c (scope, kind, day, n)
        SELECT u.scope, m.kind, m.day, sum(m.n) FROM m JOIN u ON u.unit = m.unit
        GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
        ON CONFLICT (scope, kind, day) DO UPDATE SET n = c.n + EXCLUDED.n;
        RETURN NULL;
    END IF;
    -- An update or a delete: each count it moves, once; those brought to zero are deleted one
    -- by one by their key (a few a statement; a join of the counts with the transition table
    -- was planned as a scan of every count).
    IF TG_OP = 'UPDATE' THEN
        FOR changed IN
            WITH m AS (
                SELECT r.unit, d.kind, d.day, sum(r.delta) AS n
                FROM (SELECT o.*, -1 AS delta FROM old_rows o
                      UNION ALL SELECT w.*, 1 FROM new_rows w) AS r,
                     bangfu_ledger_count_days(r.status, r.last_visited_on, r.approved_on,
                                              r.next_recheck_due, r.exited_on, r.exit_due,
                                              r.exit_due_on, r.category_pending) AS d
                GROUP BY 1, 2, 3 HAVING sum(r.delta) <> 0
            ), u AS (  -- each unit's scopes, once
                SELECT x.unit, s.scope
                FROM (SELECT DISTINCT unit FROM m) AS x, bangfu_unit_scopes(x.unit) AS s (scope)
            )
            INSERT INTO ledger_counts AS c (scope, kind, day, n)
            SELECT u.scope, m.kind, m.day, sum(m.n) FROM m JOIN u ON u.unit = m.unit
            GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
            ON CONFLICT (scope, kind, day) DO UPDATE SET n = c.n + EXCLUDED.n
            RETURNING c.scope, c.kind, c.day, c.n
        LOOP
            IF changed.n = 0 THEN
                DELETE FROM ledger_counts
                WHERE scope = changed.scope AND kind = changed.kind AND day = changed.day;
            END IF;
        END LOOP;
    ELSE  -- DELETE
        FOR changed IN
            WITH m AS (
                SELECT r.unit, d.kind, d.day, -count(*) AS n
                FROM (SELECT * FROM old_rows) AS r,
                     bangfu_ledger_count_days(r.status, r.last_visited_on, r.approved_on,
                                              r.next_recheck_due, r.exited_on, r.exit_due,
                                              r.exit_due_on, r.category_pending) AS d
                GROUP BY 1, 2, 3
            ), u AS (  -- each unit's scopes, once
                SELECT x.unit, s.scope
                FROM (SELECT DISTINCT unit FROM m) AS x, bangfu_unit_scopes(x.unit) AS s (scope)
            )
            INSERT INTO ledger_counts AS c (scope, kind, day, n)
            SELECT u.scope, m.kind, m.day, sum(m.n) FROM m JOIN u ON u.unit = m.unit
            GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
            ON CONFLICT (scope, kind, day) DO UPDATE SET n = c.n + EXCLUDED.n
            RETURNING c.scope, c.kind, c.day, c.n
        LOOP
            IF changed.n = 0 THEN
                DELETE FROM ledger_counts
                WHERE scope = changed.scope AND kind = changed.kind AND day = changed.day;
            END IF;
        END LOOP;
    END IF;
    RETURN NULL;
END
$$;

-- The counts of a whole ledger table, into an empty counts table (the names are a rebuild's
-- shadow tables, or the live ones here): by unit first, then spread over each unit's scopes
-- (worked out once a unit: 1.34 s at 20,000 files when worked out once a count).
CREATE OR REPLACE FUNCTION bangfu_ledger_counts_fill(ledger_table regclass, counts_table regclass)
RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format(
        'WITH m AS (SELECT r.unit, d.kind, d.day, count(*) AS n FROM %2$s r,'
        ' bangfu_ledger_count_days(r.status, r.last_visited_on, r.approved_on,'
        ' r.next_recheck_due, r.exited_on, r.exit_due, r.exit_due_on, r.category_pending) d'
        ' GROUP BY 1, 2, 3),'
        ' u AS (SELECT x.unit, s.scope FROM (SELECT DISTINCT unit FROM m) x,'
        ' bangfu_unit_scopes(x.unit) s (scope))'
        ' INSERT INTO %1$s (scope, kind, day, n)'
        ' SELECT u.scope, m.kind, m.day, sum(m.n) FROM m JOIN u ON u.unit = m.unit'
        ' GROUP BY 1, 2, 3',
        counts_table, ledger_table);
END
$$;

DROP TRIGGER IF EXISTS ledger_counts_inserted ON ledger;
DROP TRIGGER IF EXISTS ledger_counts_updated ON ledger;
DROP TRIGGER IF EXISTS ledger_counts_deleted ON ledger;
CREATE TRIGGER ledger_counts_inserted AFTER INSERT ON ledger
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION bangfu_ledger_counts_follow();
CREATE TRIGGER ledger_counts_updated AFTER UPDATE ON ledger
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION bangfu_ledger_counts_follow();
CREATE TRIGGER ledger_counts_deleted AFTER DELETE ON ledger
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION bangfu_ledger_counts_follow();
-- TRUNCATE fires no row triggers: the migrations that empty the ledger for the runner to
-- re-apply the log (0006, 0015) must empty the counts with it.

-- Filled from the ledger as it stands (the cached benchmark databases are migrated, not
-- rebuilt), in this migration's transaction: no ledger write comes between.
LOCK TABLE ledger IN SHARE MODE;
TRUNCATE ledger_counts;
SELECT bangfu_ledger_counts_fill('ledger', 'ledger_counts');

-- Read under row-level security like its siblings (migration 0009): the reader sees the counts
-- of the scopes within its own subtree — its own, and those below it — never a wider one's
-- (a province reader cannot read the nation's total).
ALTER TABLE ledger_counts OWNER TO bangfu_app;
ALTER FUNCTION bangfu_ledger_counts_follow() OWNER TO bangfu_app;
ALTER FUNCTION bangfu_ledger_counts_fill(regclass, regclass) OWNER TO bangfu_app;
ALTER TABLE ledger_counts ENABLE ROW LEVEL SECURITY;
ALTER TABLE ledger_counts NO FORCE ROW LEVEL SECURITY;
GRANT SELECT ON ledger_counts TO bangfu_reader;
DROP POLICY IF EXISTS in_scope ON ledger_counts;
CREATE POLICY in_scope ON ledger_counts
    USING (scope ~>=~ bangfu_scope_from() AND scope ~<~ bangfu_scope_until());

ANALYZE ledger_counts;
