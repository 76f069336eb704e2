-- Upstream sync (DESIGN.md decision 6): a node serves the events of its subtree to its upstream,
-- and pulls the events of its downstream nodes into its own `events` table.

-- This database's epoch: generated when the schema is created. A database restored from a backup
-- must present a NEW epoch (`bangfu sync new-epoch`), so that upstream nodes re-read it from the
-- start instead of trusting cursors that a restore has made meaningless.
CREATE TABLE IF NOT EXISTS sync_node (
    singleton   boolean     PRIMARY KEY DEFAULT true CHECK (singleton),
    epoch       text        NOT NULL,
    changed_at  timestamptz NOT NULL DEFAULT now()
);
INSERT INTO sync_node (epoch) VALUES (gen_random_uuid()::text) ON CONFLICT DO NOTHING;

-- Per downstream node: where its feed was read up to (its own opaque cursor) and how it went.
-- The cursor is written in the same transaction as the events it covers.
CREATE TABLE IF NOT EXISTS sync_downstreams (
    code          text        PRIMARY KEY,
    url           text        NOT NULL DEFAULT '',
    cursor        text        NOT NULL DEFAULT '',
    epoch         text,
    node          text,
    received      bigint      NOT NULL DEFAULT 0,
    behind        bigint,
    last_success  timestamptz,
    last_error    text,
    last_error_at timestamptz,
    updated_at    timestamptz NOT NULL DEFAULT now()
);

-- Where a pulled event came from (the node that wrote it and that node's epoch), so that an
-- upstream's own feed passes the origin on unchanged (district → province → national).
CREATE TABLE IF NOT EXISTS sync_origins (
    stream_id    uuid        NOT NULL,
    version      integer     NOT NULL,
    node         text        NOT NULL,
    epoch        text        NOT NULL,
    downstream   text        NOT NULL,
    received_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (stream_id, version)
);

-- Events a downstream served that contradict what this node holds (same stream and version,
-- another hash) or whose hash does not chain: kept here for an operator, never stored as events.
CREATE TABLE IF NOT EXISTS sync_quarantine (
    id           bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    downstream   text        NOT NULL,
    stream_id    uuid        NOT NULL,
    version      integer     NOT NULL,
    type         text        NOT NULL,
    payload      bytea       NOT NULL,
    recorded_at  timestamptz NOT NULL,
    unit         text,
    refers_to    uuid,
    hash         bytea       NOT NULL,
    held_hash    bytea,
    reason       text        NOT NULL,
    received_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (downstream, stream_id, version, hash)
);

-- Integrity alerts raised by the pull: refused pages, quarantined events, restores detected.
CREATE TABLE IF NOT EXISTS sync_alerts (
    id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    downstream  text        NOT NULL,
    kind        text        NOT NULL,
    detail      text        NOT NULL,
    stream_id   uuid,
    version     integer,
    raised_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS sync_alerts_downstream ON sync_alerts (downstream, raised_at);
