-- A name search's page in the ledger's default order read off the characters' table in that
-- order (issue 18, docs/decisions/0021, docs/benchmarks.md "Growth"): `ledger_name_chars`
-- (migration 0025) gets each file's district and application day, and indexes that give, for one
-- character, a district's or a base union's files in the default sort's order (adapters/pg/
-- reads.py `ledger_page`).
--
-- Why: a `q` that many names hold (王, one name in about 40) was served by the walk of the sort's
-- index, which reads ≈ 51 × files ÷ holders ledger rows to find a page's 51 matches — 2,153 rows
-- and 4.9 ms for a district of 52,000 files, where the same district at 5,200 files read its 124
-- holders by their keys in 1.1 ms: a page 1.6× dearer at 10 million events than at 1 million.
-- Read off `(ch, district, applied_on, file_id)`, a one-character page reads its 51 holders in
-- order — every holder of the character matches it — whatever the size of the district; a
-- longer `q` reads ≈ 51 × holders of its rarest character ÷ matches, never more than the walk.
--
-- The application day never changes once a file is opened, and the district follows the unit
-- (projections/ledger.py `units`), so the rows change where they changed before: when a file's
-- name or unit does. The triggers and the fill of migration 0025 are replaced to carry the two
-- columns.
ALTER TABLE ledger_name_chars ADD COLUMN IF NOT EXISTS district text;
ALTER TABLE ledger_name_chars ADD COLUMN IF NOT EXISTS applied_on date;

CREATE OR REPLACE FUNCTION bangfu_ledger_name_chars_follow() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    moved uuid[];
BEGIN
    -- (a transition table is known only to the triggers that declare it: one statement each)
    IF TG_OP = 'INSERT' THEN
        INSERT INTO ledger_name_chars (ch, file_id, unit, district, applied_on)
        SELECT DISTINCT c.ch, r.file_id, r.unit, r.district, r.applied_on
        FROM (SELECT * FROM new_rows) AS r, string_to_table(r.head_name, NULL) AS c (ch)
        ORDER BY 1, 3, 2;
    ELSIF TG_OP = 'UPDATE' THEN
        SELECT array_agg(o.file_id) INTO moved
        FROM old_rows o JOIN new_rows w ON w.file_id = o.file_id
        WHERE (o.head_name, o.unit, o.district, o.applied_on)
            IS DISTINCT FROM (w.head_name, w.unit, w.district, w.applied_on);
        IF moved IS NOT NULL THEN
            DELETE FROM ledger_name_chars WHERE file_id = ANY(moved);
            INSERT INTO ledger_name_chars (ch, file_id, unit, district, applied_on)
            SELECT DISTINCT c.ch, r.file_id, r.unit, r.district, r.applied_on
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

CREATE OR REPLACE FUNCTION bangfu_ledger_name_chars_fill(ledger_table regclass, chars_table regclass)
RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format(
        'INSERT INTO %1$s (ch, file_id, unit, district, applied_on)'
        ' SELECT DISTINCT c.ch, r.file_id, r.unit, r.district, r.applied_on'
        ' FROM %2$s r, string_to_table(r.head_name, NULL) c (ch)',
        chars_table, ledger_table);
END
$$;

-- Filled again from the ledger as it stands, in this migration's transaction (as 0025).
LOCK TABLE ledger IN SHARE MODE;
TRUNCATE ledger_name_chars;
SELECT bangfu_ledger_name_chars_fill('ledger', 'ledger_name_chars');
ALTER TABLE ledger_name_chars ALTER COLUMN applied_on SET NOT NULL;

-- A district's page (`c.district = $n`) and a base union's (`c.unit = $n`): equalities of
-- columns, leakproof, index conditions under row-level security as the ledger's own (migration
-- 0023). The province's and a city's pages keep the walk: most of a character's holders are in
-- their subtree, and the walk's ≈ 51 × files ÷ holders rows were measured flat (1.15× from 1 to
-- 10 million events, docs/benchmarks.md "Growth").
CREATE INDEX IF NOT EXISTS ledger_name_chars_by_district_applied_on
    ON ledger_name_chars (ch, district, applied_on, file_id);
CREATE INDEX IF NOT EXISTS ledger_name_chars_by_unit_applied_on
    ON ledger_name_chars (ch, unit, applied_on, file_id);

ALTER FUNCTION bangfu_ledger_name_chars_follow() OWNER TO bangfu_app;
ALTER FUNCTION bangfu_ledger_name_chars_fill(regclass, regclass) OWNER TO bangfu_app;

ANALYZE ledger_name_chars;
