-- 一户一档 (issue 13): a person is the head or a member of at most one open or relieved file on
-- the node. Each claim is taken in the transaction that appends the events changing who a file
-- holds (adapters/pg/claims.py); the primary key is what refuses a second file, also when two
-- clerks open files for the same person at the same moment. Never a read model: it is not
-- rebuilt from the log by the projection runner and no reader role sees it.
CREATE TABLE IF NOT EXISTS person_claims (
    person_hash  bytea  PRIMARY KEY,  -- keyed hash (HMAC) of the normalised ID number
    file_id      uuid   NOT NULL,
    role         text   NOT NULL CHECK (role IN ('head', 'member'))
);
CREATE INDEX IF NOT EXISTS person_claims_file ON person_claims (file_id);

-- Claims another file held already, recorded instead of refused: the events of pulled files,
-- stored as the downstream wrote them, and the later files of a person found when the claims
-- were first filled from the log. Such a file takes the claim when its holder lets it go (as
-- when the duplicate kept is the other one: 注销, reason 重复建档).
CREATE TABLE IF NOT EXISTS person_claim_duplicates (
    person_hash  bytea        NOT NULL,
    file_id      uuid         NOT NULL,
    role         text         NOT NULL CHECK (role IN ('head', 'member')),
    found_at     timestamptz  NOT NULL DEFAULT now(),
    PRIMARY KEY (person_hash, file_id)
);
CREATE INDEX IF NOT EXISTS person_claim_duplicates_file ON person_claim_duplicates (file_id);

-- The claims of the events stored before this migration cannot be filled here: the ID numbers
-- are encrypted in the payloads and the hash key is not in the database. The service fills
-- them from the log once, on its first start after this migration, and records it here.
CREATE TABLE IF NOT EXISTS person_claims_filled (
    filled_at   timestamptz  NOT NULL,
    files       integer      NOT NULL,
    duplicates  integer      NOT NULL
);

GRANT SELECT, INSERT, UPDATE, DELETE ON person_claims, person_claim_duplicates TO bangfu_app;
GRANT SELECT, INSERT ON person_claims_filled TO bangfu_app;

-- The duplicates list counts the files that hold their people under 一户一档: open and, now,
-- relieved ones (adapters/pg/readmodels.py); counted again as the ledger projection keeps it.
TRUNCATE ledger_duplicates;
INSERT INTO ledger_duplicates (id_hash, files)
SELECT p.id_hash, count(DISTINCT p.file_id)
FROM ledger_people p JOIN ledger l ON l.file_id = p.file_id
WHERE l.status IN ('applied', 'verified', 'appraised', 'approved', 'sent_back', 'returned',
                   'relieved')
GROUP BY p.id_hash
HAVING count(DISTINCT p.file_id) > 1;
