-- Acts that higher levels record in their own streams but that concern a file (an unmasked read,
-- a spot-check finding, a reconciliation finding) name the file here, so the file's trail can
-- show them. Covered by the hash chain like every other column.
ALTER TABLE events ADD COLUMN IF NOT EXISTS refers_to uuid;
CREATE INDEX IF NOT EXISTS events_refers_to ON events (refers_to) WHERE refers_to IS NOT NULL;

-- The union tree (DESIGN.md decision 5). Codes are paths from the province (domain/units.py).
CREATE TABLE IF NOT EXISTS units (
    code        text        PRIMARY KEY,
    name        text        NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    parent      text        REFERENCES units (code),
    level       text        NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS units_subtree ON units (code text_pattern_ops);

-- Idempotency-Key: the first response to a request is kept and replayed to its retries.
CREATE TABLE IF NOT EXISTS idempotency_keys (
    principal     text        NOT NULL,
    key           text        NOT NULL,
    request_hash  bytea       NOT NULL,
    status        integer,
    headers       jsonb,
    body          bytea,
    created_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (principal, key)
);
