-- The ledger's name search (`GET /ledger?q=…`, adapters/pg/reads.py `ledger_page`) at a cost
-- bounded by the matches, not the subtree (issue 18, docs/decisions/0021, docs/benchmarks.md
-- "Growth"). The filter is `strpos(l.head_name, q) > 0`: not leakproof, so under row-level
-- security no index can serve it (migrations 0014, 0021, 0023), and a page whose filter few files
-- match — a rare character, a full name, a name nobody has — read every file of its subtree
-- (a district's 5,522 rows, the province's 60,000 at 60,000 files).
--
-- `ledger_name_chars` holds one row per distinct character of each file's head's name (the only
-- name `q` searches), with the file's unit. Every file whose name holds `q` holds each of `q`'s
-- characters, so the rows of any one character of `q` are a superset of the matches; a page
-- counts (up to a bound) the rows of each of `q`'s characters in the subtree, takes the rarest,
-- and when it is rare reads the ledger rows of those files only — the existing condition still
-- the final filter, so the rows and their order are those of the walk. `ch = $1` and the range
-- on the unit (the policy's and `subtree_sql`'s) are index conditions.
--
-- Characters as PostgreSQL's `string_to_table(name, NULL)` splits them: code points, as Python
-- iterates a `str` (a character beyond the BMP, 𠀀, is one).
CREATE TABLE IF NOT EXISTS ledger_name_chars (
    ch       text  NOT NULL,
    file_id  uuid  NOT NULL,
    unit     text  NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS ledger_name_chars_by_unit
    ON ledger_name_chars (ch, unit text_pattern_ops, file_id);
CREATE INDEX IF NOT EXISTS ledger_name_chars_file ON ledger_name_chars (file_id);

-- Kept right by whoever writes the ledger, as `ledger_counts` (migration 0022): statement-level
-- triggers with transition tables, once a batch (the projection writes a batch in one
-- statement). An update touches the characters of the files whose name or unit changed only
-- (a revision of the head's name, an erasure, a transfer) — most updates change neither.
CREATE OR REPLACE FUNCTION bangfu_ledger_name_chars_follow() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    moved uuid[];
BEGIN
    -- (a transition table is known only to the triggers that declare it: one statement each)
    IF TG_OP = 'INSERT' THEN
        INSERT INTO ledger_name_chars (ch, file_id, unit)
        SELECT DISTINCT c.ch, r.file_id, r.unit
        FROM (SELECT * FROM new_rows) AS r, string_to_table(r.head_name, NULL) AS c (ch)
        ORDER BY 1, 3, 2;
    ELSIF TG_OP = 'UPDATE' THEN
        SELECT array_agg(o.file_id) INTO moved
        FROM old_rows o JOIN new_rows w ON w.file_id = o.file_id
        WHERE (o.head_name, o.unit) IS DISTINCT FROM (w.head_name, w.unit);
        IF moved IS NOT NULL THEN
            DELETE FROM ledger_name_chars WHERE file_id = ANY(moved);
            INSERT INTO ledger_name_chars (ch, file_id, unit)
            SELECT DISTINCT c.ch, r.file_id, r.unit
            FROM (SELECT * FROM new_rows) AS r, string_to_table(r.head_name, NULL) AS c (ch)
            WHERE r.file_id = ANY(moved)
            ORDER BY 1, 3, 2;
        END IF;
    ELSE  -- DELETE
        DELETE FROM ledger_name_chars
        WHERE file_id = ANY(ARRAY(SELECT file_id FROM old_rows));
    END IF;
    RETURN NULL;
END
$$;

-- The characters of a whole ledger table, into an empty table (a rebuild's shadow tables,
-- adapters/pg/projector.py `_swap_in`, or the live ones here).
CREATE OR REPLACE FUNCTION bangfu_ledger_name_chars_fill(ledger_table regclass, chars_table regclass)
RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format(
        'INSERT INTO %1$s (ch, file_id, unit)'
        ' SELECT DISTINCT c.ch, r.file_id, r.unit'
        ' FROM %2$s r, string_to_table(r.head_name, NULL) c (ch)',
        chars_table, ledger_table);
END
$$;

DROP TRIGGER IF EXISTS ledger_name_chars_inserted ON ledger;
DROP TRIGGER IF EXISTS ledger_name_chars_updated ON ledger;
DROP TRIGGER IF EXISTS ledger_name_chars_deleted ON ledger;
CREATE TRIGGER ledger_name_chars_inserted AFTER INSERT ON ledger
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION bangfu_ledger_name_chars_follow();
CREATE TRIGGER ledger_name_chars_updated AFTER UPDATE ON ledger
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION bangfu_ledger_name_chars_follow();
CREATE TRIGGER ledger_name_chars_deleted AFTER DELETE ON ledger
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION bangfu_ledger_name_chars_follow();
-- And a TRUNCATE of the ledger (migrations 0006 and 0015 empty it for the runner to apply the
-- log again) empties the characters with it.
CREATE OR REPLACE FUNCTION bangfu_ledger_name_chars_truncate() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    TRUNCATE ledger_name_chars;
    RETURN NULL;
END
$$;
DROP TRIGGER IF EXISTS ledger_name_chars_truncated ON ledger;
CREATE TRIGGER ledger_name_chars_truncated AFTER TRUNCATE ON ledger
    FOR EACH STATEMENT EXECUTE FUNCTION bangfu_ledger_name_chars_truncate();

-- The same for the lists' counts (migration 0022), which a TRUNCATE of the ledger left in place
-- to be counted a second time as the runner applied the log again (tests/integration/
-- test_civil_affairs_ledger.py runs migration 0006 again).
CREATE OR REPLACE FUNCTION bangfu_ledger_counts_truncate() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    TRUNCATE ledger_counts;
    RETURN NULL;
END
$$;
DROP TRIGGER IF EXISTS ledger_counts_truncated ON ledger;
CREATE TRIGGER ledger_counts_truncated AFTER TRUNCATE ON ledger
    FOR EACH STATEMENT EXECUTE FUNCTION bangfu_ledger_counts_truncate();

-- Filled from the ledger as it stands (the cached benchmark databases are migrated, not
-- rebuilt), in this migration's transaction: no ledger write comes between.
LOCK TABLE ledger IN SHARE MODE;
TRUNCATE ledger_name_chars;
SELECT bangfu_ledger_name_chars_fill('ledger', 'ledger_name_chars');

-- Read under row-level security like its siblings (migration 0009): the reader sees the
-- characters of the files of its subtree only.
ALTER TABLE ledger_name_chars OWNER TO bangfu_app;
ALTER FUNCTION bangfu_ledger_name_chars_follow() OWNER TO bangfu_app;
ALTER FUNCTION bangfu_ledger_name_chars_truncate() OWNER TO bangfu_app;
ALTER FUNCTION bangfu_ledger_counts_truncate() OWNER TO bangfu_app;
ALTER FUNCTION bangfu_ledger_name_chars_fill(regclass, regclass) OWNER TO bangfu_app;
ALTER TABLE ledger_name_chars ENABLE ROW LEVEL SECURITY;
ALTER TABLE ledger_name_chars NO FORCE ROW LEVEL SECURITY;
GRANT SELECT ON ledger_name_chars TO bangfu_reader;
DROP POLICY IF EXISTS in_scope ON ledger_name_chars;
CREATE POLICY in_scope ON ledger_name_chars
    USING (unit ~>=~ bangfu_scope_from() AND unit ~<~ bangfu_scope_until());

ANALYZE ledger_name_chars;
