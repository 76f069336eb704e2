-- Accounts, sessions and personal API tokens of this node (docs/security.md, "Accounts and
-- sessions"). Accounts are local to a node: a province node has its own. Secrets are never
-- stored: passwords as argon2id hashes, session cookies and personal tokens as SHA-256 digests.

CREATE TABLE IF NOT EXISTS accounts (
    id             uuid        PRIMARY KEY,
    name           text        NOT NULL UNIQUE CHECK (name ~ '^[A-Za-z0-9][A-Za-z0-9._-]{1,63}$'),
    display_name   text        NOT NULL DEFAULT '' CHECK (length(display_name) <= 50),
    unit           text        NOT NULL REFERENCES units (code),
    role           text        NOT NULL
                   CHECK (role IN ('clerk', 'approver', 'inspector', 'admin', 'sync')),
    password_hash  text        NOT NULL,
    -- an account an admin created, or whose password an admin reset, changes it at first sign-in
    must_change    boolean     NOT NULL DEFAULT true,
    disabled_at    timestamptz,
    created_at     timestamptz NOT NULL,
    updated_at     timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS accounts_unit ON accounts (unit text_pattern_ops);

-- Server-side sessions of the console: the cookie holds a random value, this row its digest.
-- Idle and absolute expiry are computed from `last_seen_at` and `created_at` with the configured
-- bounds; sign-out, disabling the account or a password change set `ended_at`.
CREATE TABLE IF NOT EXISTS account_sessions (
    digest        bytea       PRIMARY KEY,
    account_id    uuid        NOT NULL REFERENCES accounts (id),
    csrf          text        NOT NULL,
    address       text        NOT NULL DEFAULT '',
    created_at    timestamptz NOT NULL,
    last_seen_at  timestamptz NOT NULL,
    ended_at      timestamptz
);
CREATE INDEX IF NOT EXISTS account_sessions_account ON account_sessions (account_id)
    WHERE ended_at IS NULL;

-- Personal API tokens: bearer tokens a signed-in user mints for itself (bounded lifetime,
-- listed, revocable); the token is shown once, only its digest is kept.
CREATE TABLE IF NOT EXISTS account_tokens (
    id            uuid        PRIMARY KEY,
    account_id    uuid        NOT NULL REFERENCES accounts (id),
    digest        bytea       NOT NULL UNIQUE,
    label         text        NOT NULL CHECK (length(label) BETWEEN 1 AND 50),
    created_at    timestamptz NOT NULL,
    expires_at    timestamptz NOT NULL,
    revoked_at    timestamptz,
    last_used_at  timestamptz
);
CREATE INDEX IF NOT EXISTS account_tokens_account ON account_tokens (account_id);

-- Every change of an account, who did it and when; append-only for the service, like `events`.
CREATE TABLE IF NOT EXISTS account_events (
    id          bigserial   PRIMARY KEY,
    account_id  uuid        NOT NULL REFERENCES accounts (id),
    kind        text        NOT NULL,
    by_user     text        NOT NULL,
    by_unit     text        NOT NULL,
    address     text        NOT NULL DEFAULT '',
    detail      jsonb       NOT NULL DEFAULT '{}',
    at          timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS account_events_account ON account_events (account_id, id);

GRANT SELECT, INSERT, UPDATE, DELETE ON accounts, account_sessions, account_tokens TO bangfu_app;
GRANT SELECT, INSERT ON account_events TO bangfu_app;
REVOKE UPDATE, DELETE, TRUNCATE ON account_events FROM bangfu_app;
GRANT USAGE, SELECT ON SEQUENCE account_events_id_seq TO bangfu_app;
