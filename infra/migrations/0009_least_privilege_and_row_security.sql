-- The database's own enforcement, a second line of defence behind the application's checks
-- (docs/security.md, "What the database enforces itself"):
--
-- 1. the service acts as the group role `bangfu_app`, which may read and append events but never
--    UPDATE, DELETE or TRUNCATE them — and a trigger refuses those even to the owner, unless a
--    deliberate repair turns `bangfu.maintenance` on in its own transaction;
-- 2. the read models (ledger, people, statistics) carry row-level security: every role but their
--    owner sees only the rows of the subtree named by the setting `bangfu.scope`, and nothing
--    when it names none. The HTTP API and the export read them as `bangfu_reader`, in one
--    transaction per read (adapters/pg/reads.py `scoped`); `bangfu_app` owns them — the
--    projection runner writes every unit's rows, a rebuild swaps whole tables — and so is not
--    bound by the policies.
--
-- Run by the schema's owner (a superuser, or a role with CREATEROLE that is made a member of
-- `bangfu_app` here). Every statement may run again: a database that lost tables is migrated
-- again from its first file.

DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'bangfu_app') THEN
        BEGIN
            CREATE ROLE bangfu_app NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN
            NULL;  -- another database of this cluster created it at the same moment
        END;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'bangfu_reader') THEN
        BEGIN
            CREATE ROLE bangfu_reader NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN
            NULL;
        END;
    END IF;
    -- The owner hands the read models to bangfu_app below, and service sessions that log in as
    -- the owner drop to it (`SET ROLE`): both need the owner to be a member.
    IF NOT pg_has_role(current_user, 'bangfu_app', 'MEMBER') THEN
        EXECUTE format('GRANT bangfu_app TO %I', current_user);
    END IF;
    -- The service takes the reader's role for each read of the read models.
    IF NOT pg_has_role('bangfu_app', 'bangfu_reader', 'MEMBER') THEN
        GRANT bangfu_reader TO bangfu_app;
    END IF;
    EXECUTE format('GRANT USAGE, CREATE ON SCHEMA %I TO bangfu_app', current_schema());
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO bangfu_reader', current_schema());
    -- Every table: read and write, except as narrowed below; tables made by later migrations
    -- get the same by default (an append-only one must REVOKE as `events` does here).
    EXECUTE format(
        'GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA %I TO bangfu_app',
        current_schema());
    EXECUTE format(
        'GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA %I TO bangfu_app', current_schema());
    EXECUTE format(
        'ALTER DEFAULT PRIVILEGES IN SCHEMA %I'
        ' GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO bangfu_app', current_schema());
    EXECUTE format(
        'ALTER DEFAULT PRIVILEGES IN SCHEMA %I GRANT USAGE, SELECT ON SEQUENCES TO bangfu_app',
        current_schema());
END
$$;

-- ------------------------------------------------------------------------------ events

REVOKE UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON events FROM bangfu_app;
GRANT SELECT, INSERT ON events TO bangfu_app;
REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON schema_migrations FROM bangfu_app;
GRANT SELECT ON schema_migrations TO bangfu_app;

CREATE OR REPLACE FUNCTION bangfu_events_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('bangfu.maintenance', true) = 'on' THEN
        RETURN NULL;  -- a deliberate repair (docs/operations.md); ignored for statement triggers
    END IF;
    RAISE EXCEPTION 'events are append-only: % on events refused', TG_OP
        USING ERRCODE = 'insufficient_privilege',
              HINT = 'a deliberate repair runs SET LOCAL bangfu.maintenance = on in its own'
                     ' transaction, as the owner (docs/operations.md)';
END
$$;

CREATE OR REPLACE TRIGGER events_append_only
    BEFORE UPDATE OR DELETE OR TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION bangfu_events_append_only();

-- ------------------------------------------------------------------------------ read models

-- The rows a session may see: those whose unit lies in [from, until), computed from the setting.
-- Unset or '': nothing. A unit code: its subtree, as `domain.units.subtree_sql` defines it — a
-- base-level union (9 to 12 digits) is only itself, since its code may be a prefix of a
-- sibling's; a higher unit is every code starting with its own (codes are digits, all below
-- '~'). A range, not LIKE, so that the policy itself drives the `text_pattern_ops` index on the
-- ledger's unit. Plain SQL bodies (not BEGIN ATOMIC): they are inlined into each query.
CREATE OR REPLACE FUNCTION bangfu_scope_from() RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT coalesce(current_setting('bangfu.scope', true), '')
$$;

CREATE OR REPLACE FUNCTION bangfu_scope_until() RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT CASE
        WHEN coalesce(current_setting('bangfu.scope', true), '') = '' THEN ''
        WHEN length(current_setting('bangfu.scope', true)) >= 9
            THEN current_setting('bangfu.scope', true) || chr(1)
        ELSE current_setting('bangfu.scope', true) || '~'
    END
$$;

-- A person row is visible with its file's ledger row (the ledger's own policy decides).
-- The body names `ledger`, resolved when it runs: a rebuild may swap the table underneath.
CREATE OR REPLACE FUNCTION bangfu_file_in_scope(file uuid) RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT EXISTS (SELECT 1 FROM ledger WHERE file_id = file)
$$;

-- The duplicates list counts a person's open files in other units without showing them: counts
-- only, for the keyed hashes asked about, across every unit — run as the read models' owner.
CREATE OR REPLACE FUNCTION bangfu_open_files(hashes bytea[], statuses text[])
RETURNS TABLE (id_hash bytea, files bigint)
LANGUAGE sql STABLE SECURITY DEFINER
AS $$
    SELECT p.id_hash, count(DISTINCT p.file_id)
    FROM ledger_people p JOIN ledger l ON l.file_id = p.file_id
    WHERE p.id_hash = ANY(hashes) AND l.status = ANY(statuses)
    GROUP BY p.id_hash
$$;

DO $$
DECLARE
    model text;
BEGIN
    EXECUTE format(
        'ALTER FUNCTION bangfu_open_files(bytea[], text[]) SET search_path = %I, pg_temp',
        current_schema());
    ALTER FUNCTION bangfu_open_files(bytea[], text[]) OWNER TO bangfu_app;
    REVOKE ALL ON FUNCTION bangfu_open_files(bytea[], text[]) FROM PUBLIC;
    GRANT EXECUTE ON FUNCTION bangfu_open_files(bytea[], text[]) TO bangfu_reader;
    GRANT SELECT ON units TO bangfu_reader;  -- unit names beside the rows (no household data)
    FOREACH model IN ARRAY ARRAY['ledger', 'ledger_people', 'stats_facts', 'stats_stock',
                                 'stats_flow']
    LOOP
        -- bangfu_app owns the read models: a rebuild creates, fills and swaps in new tables.
        -- As their owner it is not bound by the policies (no FORCE): the runner writes every
        -- unit's rows and the service's own jobs read across their subtrees at full speed.
        EXECUTE format('ALTER TABLE %I OWNER TO bangfu_app', model);
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', model);
        EXECUTE format('ALTER TABLE %I NO FORCE ROW LEVEL SECURITY', model);
        EXECUTE format('GRANT SELECT ON %I TO bangfu_reader', model);
        EXECUTE format('DROP POLICY IF EXISTS in_scope ON %I', model);
        -- TO PUBLIC: every role but the owner (and superusers) — the reader, and any
        -- reporting role a DBA adds
        IF model = 'ledger_people' THEN
            EXECUTE 'CREATE POLICY in_scope ON ledger_people'
                    ' USING (bangfu_file_in_scope(file_id))';
        ELSE
            EXECUTE format(
                'CREATE POLICY in_scope ON %I'
                ' USING (unit ~>=~ bangfu_scope_from() AND unit ~<~ bangfu_scope_until())',
                model);
        END IF;
    END LOOP;
END
$$;
