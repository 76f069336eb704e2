-- The event store: one append-only table of events, hash-chained per stream.
--
-- Commit-safe log order (docs/decisions/0003-commit-safe-log.md): every row records the id of
-- the transaction that inserted it (xid8, assigned by pg_current_xact_id() at the first write).
-- A reader takes only rows whose transaction id is below the xmin of its snapshot — every
-- transaction below xmin has finished — and reads them in (xid, position) order. A late commit
-- therefore holds readers back instead of being skipped, and no writer waits for another.

CREATE TABLE IF NOT EXISTS events (
    position     bigint      GENERATED ALWAYS AS IDENTITY,
    xid          xid8        NOT NULL DEFAULT pg_current_xact_id(),
    stream_id    uuid        NOT NULL,
    version      integer     NOT NULL CHECK (version >= 1),
    type         text        NOT NULL,
    payload      bytea       NOT NULL,
    recorded_at  timestamptz NOT NULL,
    unit         text,
    hash         bytea       NOT NULL CHECK (length(hash) = 32),
    PRIMARY KEY (stream_id, version)
);

CREATE UNIQUE INDEX IF NOT EXISTS events_log_order ON events (xid, position);
CREATE INDEX IF NOT EXISTS events_unit ON events (unit text_pattern_ops, stream_id);

-- Where each consumer (projection, sync pull) has read up to. Written in the same transaction
-- as the consumer's own rows, so a consumer processes every event exactly once.
CREATE TABLE IF NOT EXISTS consumer_positions (
    name        text        PRIMARY KEY,
    xid         xid8        NOT NULL,
    position    bigint      NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now()
);
