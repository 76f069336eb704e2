-- Background jobs (issue 16): a spot-check too long to wait for runs after its request has been
-- answered; its progress is written here as it goes, so any server process (`--workers N`) can
-- say how far it is. A job is read only by the account that started it (its user and unit).
CREATE TABLE IF NOT EXISTS jobs (
    id          uuid        PRIMARY KEY,
    kind        text        NOT NULL,
    owner_user  text        NOT NULL,
    owner_unit  text        NOT NULL,
    state       text        NOT NULL CHECK (state IN ('running', 'done', 'failed')),
    done        integer     NOT NULL DEFAULT 0,
    total       integer     NOT NULL DEFAULT 0,
    result      uuid,
    error       text,
    started_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL
);

GRANT SELECT, INSERT, UPDATE ON jobs TO bangfu_app;
