-- Read models. Every table here is derived from the events and can be dropped and rebuilt
-- (`bangfu projections rebuild`); a rebuild fills fresh tables and swaps them in by renaming.

CREATE TABLE IF NOT EXISTS ledger (
    file_id           uuid         PRIMARY KEY,
    province          text         NOT NULL,
    city              text         NOT NULL,
    district          text         NOT NULL,
    unit              text         NOT NULL,
    region            text         NOT NULL,
    status            text         NOT NULL,
    category          text,
    file_level        text,
    worker_kind       text         NOT NULL,
    primary_cause     text,
    secondary_causes  text[]       NOT NULL DEFAULT '{}',
    head_name         text         NOT NULL,
    id_masked         text         NOT NULL,
    id_hash           bytea        NOT NULL,
    applied_on        date         NOT NULL,
    approved_on       date,
    last_assisted_on  date,
    last_visited_on   date,
    next_recheck_due  date,
    exited_on         date,
    exit_kind         text,
    assistance_count  integer      NOT NULL DEFAULT 0,
    assistance_total  numeric(16,2) NOT NULL DEFAULT 0,
    returns           integer      NOT NULL DEFAULT 0,
    version           integer      NOT NULL,
    updated_at        timestamptz  NOT NULL
);
CREATE INDEX IF NOT EXISTS ledger_unit ON ledger (unit text_pattern_ops, file_id);
CREATE INDEX IF NOT EXISTS ledger_district_status ON ledger (district, status);
CREATE INDEX IF NOT EXISTS ledger_recheck ON ledger (next_recheck_due) WHERE status = 'approved';
CREATE INDEX IF NOT EXISTS ledger_exited ON ledger (exited_on) WHERE exited_on IS NOT NULL;

CREATE TABLE IF NOT EXISTS ledger_people (
    file_id  uuid   NOT NULL,
    id_hash  bytea  NOT NULL,
    role     text   NOT NULL,
    PRIMARY KEY (file_id, id_hash)
);
CREATE INDEX IF NOT EXISTS ledger_people_hash ON ledger_people (id_hash);

CREATE TABLE IF NOT EXISTS stats_facts (
    file_id        uuid     PRIMARY KEY,
    unit           text     NOT NULL,
    status         text     NOT NULL,
    worker_kind    text     NOT NULL,
    version        integer  NOT NULL,
    category       text,
    file_level     text,
    cause          text,
    approved_once  boolean  NOT NULL
);

CREATE TABLE IF NOT EXISTS stats_stock (
    unit       text    NOT NULL,
    dimension  text    NOT NULL,
    key        text    NOT NULL,
    count      bigint  NOT NULL,
    PRIMARY KEY (unit, dimension, key)
);

CREATE TABLE IF NOT EXISTS stats_flow (
    unit    text           NOT NULL,
    period  text           NOT NULL,
    metric  text           NOT NULL,
    key     text           NOT NULL,
    count   bigint         NOT NULL,
    amount  numeric(18,2)  NOT NULL,
    PRIMARY KEY (unit, period, metric, key)
);
