-- A district's and a base union's ledger pages read their own files in the sort's order, instead
-- of walking the province's sort index (migration 0014) and testing every row for the subtree
-- (bench/ledger_growth.py, docs/benchmarks.md "Growth"). Measured at 200,000 files: a district's
-- `q=王` page walked `ledger_by_applied_on` 18,138 rows for its 50 (1 / the district's share of
-- the province × the surname's share), a base union's pages read every file of the union off
-- `ledger_unit` and sorted them (1,988 rows, growing with the union).
--
-- The conditions (adapters/pg/reads.py `LedgerFilter.where`, docs/decisions/0020): a district
-- (a region of six digits) is `l.district = ANY($n)` — the ledger's stored district
-- (projections/ledger.py `units`), every file under it and no other — and a base union
-- `l.unit = ANY($n)`: leakproof, so the planner may take them as index conditions under
-- row-level security. The page orders by (that column, the sort, file id), which only these
-- indexes give, and may not sort (`enable_sort` off in its transaction). Each sort of `SORTS`
-- with the file id as its tie-break, as in migration 0014. A page reads 51 rows, or with a
-- filter 51 / the filter's share of the district or union, whatever the number of files.
CREATE INDEX IF NOT EXISTS ledger_district_by_applied_on ON ledger (district, applied_on, file_id);
CREATE INDEX IF NOT EXISTS ledger_district_by_approved_on
    ON ledger (district, (COALESCE(approved_on, DATE '9999-12-31')), file_id);
CREATE INDEX IF NOT EXISTS ledger_district_by_head_name ON ledger (district, head_name, file_id);
CREATE INDEX IF NOT EXISTS ledger_district_by_assistance_total
    ON ledger (district, assistance_total, file_id);
CREATE INDEX IF NOT EXISTS ledger_district_by_updated_at ON ledger (district, updated_at, file_id);

CREATE INDEX IF NOT EXISTS ledger_unit_by_applied_on ON ledger (unit, applied_on, file_id);
CREATE INDEX IF NOT EXISTS ledger_unit_by_approved_on
    ON ledger (unit, (COALESCE(approved_on, DATE '9999-12-31')), file_id);
CREATE INDEX IF NOT EXISTS ledger_unit_by_head_name ON ledger (unit, head_name, file_id);
CREATE INDEX IF NOT EXISTS ledger_unit_by_assistance_total
    ON ledger (unit, assistance_total, file_id);
CREATE INDEX IF NOT EXISTS ledger_unit_by_updated_at ON ledger (unit, updated_at, file_id);

ANALYZE ledger;
