-- Personal data encrypted at rest (docs/decisions/0010-personal-data-encryption.md).
--
-- One data key per household file (stream), stored wrapped (AES-GCM) under a key-encryption key
-- (KEK) that is NOT in the database: `kek_version` names which one. Erasing the household's
-- personal data destroys the key: `wrapped` and `kek_version` become NULL and `shredded_at` says
-- when (the row stays, so readers and upstream nodes know the key is gone, not missing).
CREATE TABLE IF NOT EXISTS personal_keys (
    stream_id    uuid        PRIMARY KEY,
    kek_version  integer,
    wrapped      bytea,
    created_at   timestamptz NOT NULL DEFAULT now(),
    shredded_at  timestamptz,
    CHECK ((wrapped IS NULL) = (kek_version IS NULL)),
    CHECK ((wrapped IS NULL) = (shredded_at IS NOT NULL))
);
-- Rotation re-wraps the keys not yet under the current KEK; start-up lists the versions in use.
CREATE INDEX IF NOT EXISTS personal_keys_kek ON personal_keys (kek_version)
    WHERE wrapped IS NOT NULL;

-- A known value wrapped under each KEK version when first used: a process started with another
-- key under the same version number refuses to start instead of wrapping new keys with it.
CREATE TABLE IF NOT EXISTS personal_kek_canaries (
    version     integer     PRIMARY KEY,
    canary      bytea       NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
