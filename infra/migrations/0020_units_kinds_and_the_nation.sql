-- A tree that reaches the nation (docs/decisions/0014-a-tree-that-reaches-the-nation.md): the
-- national root "00" above every province, and non-geographic unions (产业 C, 系统 X, 企业 Q) with
-- their codes under their parent's ("13C01", "13C01001" for a base-level union below it).
--
-- Each unit stores its level, its kind and whether it approves its subtree's files: a region's
-- and a base-level union's follow from the code (filled in here for the units already stored);
-- a non-geographic union's are what it was registered with (`bangfu units create`).
ALTER TABLE units ADD COLUMN IF NOT EXISTS kind text;
ALTER TABLE units ADD COLUMN IF NOT EXISTS approves boolean;
UPDATE units
   SET kind = CASE WHEN level = 'base' THEN 'base' ELSE 'regional' END,
       approves = level IN ('nation', 'province', 'city', 'district')
 WHERE kind IS NULL OR approves IS NULL;
ALTER TABLE units ALTER COLUMN kind SET NOT NULL;
ALTER TABLE units ALTER COLUMN approves SET NOT NULL;
ALTER TABLE units DROP CONSTRAINT IF EXISTS units_level_known;
ALTER TABLE units ADD CONSTRAINT units_level_known
    CHECK (level IN ('nation', 'province', 'city', 'district', 'base'));
ALTER TABLE units DROP CONSTRAINT IF EXISTS units_kind_known;
ALTER TABLE units ADD CONSTRAINT units_kind_known
    CHECK (kind IN ('regional', 'industry', 'system', 'enterprise', 'base'));

-- The end of a unit's subtree in code order, for `adapters.pg.units.subtree_sql` and the
-- row-level security policies (migrations 0009, 0014: `unit ~>=~ root AND unit ~<~ end`):
-- - the nation, "00": every code (codes start with digits, all at or above "00" and below '~');
-- - a base-level union — 9 to 12 digits, or 3 to 6 digits after a non-geographic segment (a
--   letter and two digits, so five or more digits after the last letter) — only itself, since
--   its code may be a prefix of a sibling's;
-- - any other unit: every code that starts with its own (digits and the kind letters C, Q, X
--   all sort below '~').
CREATE OR REPLACE FUNCTION bangfu_subtree_end(root text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE
        WHEN root = '00' THEN '~'
        WHEN root ~ '^[0-9]{9,}$' OR root ~ '[A-Z][0-9]{5,}$' THEN root || chr(1)
        ELSE root || '~'
    END
$$;
