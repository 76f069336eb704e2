-- The duplicates list in pages whose cost is the subtree's duplicates, not the province's files
-- (issue 18, docs/benchmarks.md "Growth"). Until now the list joined `ledger_duplicates` (person
-- → number of files) with every person and file, under a policy that called
-- `bangfu_person_in_scope(id_hash)` for each row, and returned every duplicate of the subtree:
-- 58–100 ms at 200,000 files at every level, growing with the province.
--
-- One row per (person, file) of every person in more than one open or relieved file (一户一档,
-- docs/rules.md), across every unit: the file's unit (the subtree condition and the row-level
-- security read it), its application day (the list's order: a person comes at the first of its
-- files the reader sees) and how many such files the person is in (those outside the subtree are
-- only counted). Kept by the ledger projection with the people (adapters/pg/readmodels.py
-- `LiveLedger._count_duplicates`, `MemoryLedger.flush`); replaces `ledger_duplicates`.
CREATE TABLE IF NOT EXISTS ledger_duplicate_files (
    id_hash     bytea    NOT NULL,  -- keyed hash of the ID number (never shown)
    file_id     uuid     NOT NULL,
    unit        text     NOT NULL,
    role        text     NOT NULL,  -- the person is the file's head or a member
    applied_on  date     NOT NULL,
    files       integer  NOT NULL,  -- the person's open or relieved files, in every unit
    PRIMARY KEY (id_hash, file_id)
);
-- A subtree's rows by range of unit code (`adapters.pg.units.subtree_sql` and the policy below),
-- with what the list's order and its total read, so both are an index-only scan of the subtree's
-- duplicates.
CREATE INDEX IF NOT EXISTS ledger_duplicate_files_unit
    ON ledger_duplicate_files (unit text_pattern_ops) INCLUDE (id_hash, applied_on, file_id);

-- Filled from the read models as they are (a rebuild fills it too): the people of the files that
-- hold them, for everyone in more than one.
TRUNCATE ledger_duplicate_files;
INSERT INTO ledger_duplicate_files (id_hash, file_id, unit, role, applied_on, files)
SELECT h.id_hash, h.file_id, h.unit, h.role, h.applied_on, n.files
FROM (SELECT p.id_hash, p.file_id, p.role, l.unit, l.applied_on
        FROM ledger_people p JOIN ledger l ON l.file_id = p.file_id
       WHERE l.status IN ('applied', 'verified', 'appraised', 'approved', 'sent_back', 'returned',
                          'relieved')) h
JOIN (SELECT p.id_hash, count(DISTINCT p.file_id)::integer AS files
        FROM ledger_people p JOIN ledger l ON l.file_id = p.file_id
       WHERE l.status IN ('applied', 'verified', 'appraised', 'approved', 'sent_back', 'returned',
                          'relieved')
       GROUP BY p.id_hash HAVING count(DISTINCT p.file_id) > 1) n ON n.id_hash = h.id_hash;

-- Owned, granted and scoped as the other read models (migrations 0009, 0014): the reader sees the
-- rows of its subtree by the row's own unit — no function called per row.
ALTER TABLE ledger_duplicate_files OWNER TO bangfu_app;
ALTER TABLE ledger_duplicate_files ENABLE ROW LEVEL SECURITY;
ALTER TABLE ledger_duplicate_files NO FORCE ROW LEVEL SECURITY;
GRANT SELECT ON ledger_duplicate_files TO bangfu_reader;
DROP POLICY IF EXISTS in_scope ON ledger_duplicate_files;
CREATE POLICY in_scope ON ledger_duplicate_files
    USING (unit ~>=~ bangfu_scope_from() AND unit ~<~ bangfu_scope_until());
ANALYZE ledger_duplicate_files;

-- What it replaces: the table of counts and the policy's per-row function.
DROP TABLE IF EXISTS ledger_duplicates;
DROP FUNCTION IF EXISTS bangfu_person_in_scope(bytea);
