"""The database's own enforcement, behind the application's checks (migration 0009):

- the service acts as `bangfu_app`, which appends and reads events but may not UPDATE, DELETE or
  TRUNCATE them; the owner may not either, unless a repair says so in its own transaction;
- the read models are under row-level security: a reader sees the rows of the subtree its
  `bangfu.scope` names — a query with no subtree condition at all included — and nothing when it
  names none; the service's own role owns them and works on every unit; the policies, owner and
  grants survive a rebuild.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

from adapters.pg import reads
from adapters.pg.codec import EventCodec
from adapters.pg.migrations import APP_ROLE, READER_ROLE
from adapters.pg.projector import ProjectionRunner, rebuild_all
from adapters.pg.repository import PgFileRepository
from adapters.pg.store import PostgresEventStore
from adapters.pg.units import subtree_sql
from adapters.runtime.bootstrap import open_pool, read_models, runtime
from adapters.runtime.settings import Settings
from adapters.services import demo
from domain.privacy import keyed_hash
from tests.builders import FixedClock
from tests.tampering import tamper

DISTRICT = "130306"
NATION = "00"
BASE = "130306001"
PREFIX_SIBLING = "1303060011"  # a base-level union whose code starts with BASE's
READ_MODELS = (
    "ledger",
    "ledger_people",
    "stats_facts",
    "stats_stock",
    "stats_flow",
    "ledger_counts",
)
WITH_UNIT = ("ledger", "stats_facts", "stats_stock", "stats_flow")
CHANGES = {
    "UPDATE": "UPDATE events SET type = type",
    "DELETE": "DELETE FROM events",
    "TRUNCATE": "TRUNCATE events",
}
TEST_LOGIN = "bangfu_test_login"  # a login of this test server's cluster, as a DBA would make


def hasher(number: str) -> bytes:
    return keyed_hash(b"k" * 32, number)


def as_user(url: str, user: str) -> str:
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit((parts.scheme, f"{user}@{host}", parts.path, parts.query, parts.fragment))


@pytest.fixture
async def service(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    """A pool as `runtime` opens the service's: acting as bangfu_app."""
    pool = await open_pool(database_url, size=4, role=APP_ROLE)
    try:
        yield pool
    finally:
        await pool.close()


@pytest.fixture
async def unscoped(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    """The reader role on connections that name no scope."""
    pool = await open_pool(database_url, size=2, role=READER_ROLE)
    try:
        yield pool
    finally:
        await pool.close()


@pytest.fixture
async def province(service: asyncpg.Pool, pool: asyncpg.Pool) -> int:
    """A demo province written and projected by the service's role; and one ledger row of a
    union whose code extends BASE's. Returns the number of files."""
    store = PostgresEventStore(service)
    count = 60
    await demo.build(
        files=PgFileRepository(store, EventCodec()), clock=FixedClock(), count=count, bulk=True
    )
    await ProjectionRunner(store, EventCodec(), read_models(hasher)).catch_up()
    await copy_ledger_row(pool, BASE, PREFIX_SIBLING)
    return count


async def copy_ledger_row(pool: asyncpg.Pool, source: str, unit: str) -> None:
    """A ledger row of `unit`: a copy of one of `source`'s, written by the owner (superuser)."""
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute(
            "CREATE TEMP TABLE copied ON COMMIT DROP AS"
            " SELECT * FROM ledger WHERE unit = $1 LIMIT 1",
            source,
        )
        await conn.execute("UPDATE copied SET file_id = gen_random_uuid(), unit = $1", unit)
        await conn.execute("INSERT INTO ledger SELECT * FROM copied")


async def count_events(pool: asyncpg.Pool) -> int:
    return int(await pool.fetchval("SELECT count(*) FROM events"))


async def visible_units(db: asyncpg.Pool | asyncpg.Connection, table: str) -> set[str]:
    # no condition at all: whatever row-level security lets through
    return {r["unit"] for r in await db.fetch(f"SELECT DISTINCT unit FROM {table}")}


async def units_within(pool: asyncpg.Pool, table: str, root: str) -> set[str]:
    """What the application's own condition selects, read by the owner (no row security)."""
    rows = await pool.fetch(
        f"SELECT DISTINCT unit FROM {table} WHERE {subtree_sql('unit', '$1')}",
        root,
    )
    return {r["unit"] for r in rows}


# ------------------------------------------------------------------------------ events


class TestTheServicesRole:
    @pytest.mark.parametrize("change", list(CHANGES))
    async def test_may_not_update_delete_or_truncate_events(
        self, province: int, service: asyncpg.Pool, pool: asyncpg.Pool, change: str
    ):
        before = await count_events(pool)

        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="permission denied"):
            await service.execute(CHANGES[change])

        assert await count_events(pool) == before > 0

    async def test_may_not_when_it_turns_the_repair_switch_on(
        self, province: int, service: asyncpg.Pool
    ):
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="permission denied"):
            await tamper(service, "DELETE FROM events")

    async def test_appends_reads_verifies_and_projects_events(
        self, province: int, service: asyncpg.Pool, pool: asyncpg.Pool
    ):
        report = await PostgresEventStore(service).verify()

        assert not report.broken
        assert (
            await pool.fetchval("SELECT count(*) FROM ledger WHERE unit <> $1", PREFIX_SIBLING)
            == province
        )

    @pytest.mark.parametrize(
        "statement",
        [
            "DROP TABLE events",
            "ALTER TABLE events DISABLE TRIGGER events_append_only",
            "DELETE FROM schema_migrations",
            "INSERT INTO schema_migrations (version, name) VALUES (9999, 'mine')",
        ],
    )
    async def test_may_not_change_the_schema_or_the_record_of_migrations(
        self, service: asyncpg.Pool, statement: str
    ):
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await service.execute(statement)


class TestTheOwner:
    @pytest.mark.parametrize("change", list(CHANGES))
    async def test_may_not_update_delete_or_truncate_events_either(
        self, province: int, pool: asyncpg.Pool, change: str
    ):
        before = await count_events(pool)

        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
            await pool.execute(CHANGES[change])

        assert await count_events(pool) == before > 0

    async def test_repairs_only_in_the_transaction_that_turns_the_switch_on(
        self, province: int, pool: asyncpg.Pool
    ):
        firsts = await pool.fetchval("SELECT count(*) FROM events WHERE version = 1")

        async with pool.acquire() as conn:
            repaired = await tamper(conn, "UPDATE events SET type = type WHERE version = 1")
            with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
                await conn.execute("UPDATE events SET type = type WHERE version = 1")

        assert repaired == f"UPDATE {firsts}"
        assert firsts >= province


# ------------------------------------------------------------------------------ connecting


class TestTheRuntime:
    async def test_acts_as_the_app_role_whoever_the_url_logs_in_as(
        self, database_url: str, tmp_path: Path
    ):
        settings = Settings(database_url=database_url, data_dir=tmp_path, log_json=True)

        async with runtime(settings) as rt:
            who = await rt.pool.fetchrow("SELECT session_user AS login, current_user AS acting")
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await rt.pool.execute("DELETE FROM events")

        assert dict(who) == {"login": "postgres", "acting": APP_ROLE}

    async def test_migrates_through_the_admin_url_and_serves_through_its_own_login(
        self, server_url: str, pool: asyncpg.Pool, tmp_path: Path
    ):
        await pool.execute(
            f"DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{TEST_LOGIN}')"
            f" THEN CREATE ROLE {TEST_LOGIN} LOGIN IN ROLE {APP_ROLE}; END IF; END $$"
        )
        empty = f"bangfu_test_empty_{uuid.uuid4().hex[:12]}"
        admin = await asyncpg.connect(server_url)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{empty}"')
            await admin.execute(f'CREATE DATABASE "{empty}"')
            owner_url = urlunsplit(urlsplit(server_url)._replace(path=f"/{empty}"))
            login_url = as_user(owner_url, TEST_LOGIN)
            alone = Settings(database_url=login_url, data_dir=tmp_path, log_json=True)
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                async with runtime(alone):  # the login cannot create the schema
                    pass
            both = Settings(
                database_url=login_url,
                admin_database_url=owner_url,
                data_dir=tmp_path,
                log_json=True,
            )
            async with runtime(both) as rt:
                who = await rt.pool.fetchval("SELECT session_user")
                ledger_owner = await rt.pool.fetchval(
                    "SELECT relowner::regrole::text FROM pg_class WHERE oid = 'ledger'::regclass"
                )
            async with runtime(alone) as rt:  # migrated: the login alone now serves
                again = await rt.pool.fetchval("SELECT count(*) FROM schema_migrations")
        finally:
            await admin.execute(f'DROP DATABASE IF EXISTS "{empty}" WITH (FORCE)')
            await admin.close()

        assert (who, ledger_owner) == (TEST_LOGIN, APP_ROLE)
        assert again > 0

    async def test_a_login_that_may_not_act_as_the_app_role_cannot_connect(
        self, database_url: str, pool: asyncpg.Pool
    ):
        outsider = "bangfu_test_outsider"
        await pool.execute(
            f"DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{outsider}')"
            f" THEN CREATE ROLE {outsider} LOGIN; END IF; END $$"
        )

        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="set role"):
            await open_pool(as_user(database_url, outsider), size=1, role=APP_ROLE)

    @pytest.mark.slow
    def test_on_the_embedded_server_logs_in_as_the_service_login(self):
        # in a process of its own, as the service runs: the embedded server stops when it exits
        with tempfile.TemporaryDirectory(prefix="bfrls-") as folder:
            env = {k: v for k, v in os.environ.items() if not k.startswith("BANGFU_")}
            env.update(BANGFU_DATA_DIR=folder, BANGFU_LOG_JSON="1")
            ran = subprocess.run(
                [sys.executable, "-c", EMBEDDED_PROBE],
                env=env,
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )

        assert ran.returncode == 0, ran.stderr
        assert json.loads(ran.stdout.splitlines()[-1]) == {
            "login": "bangfu_service",
            "acting": APP_ROLE,
            "superuser": False,
            "update": "InsufficientPrivilegeError",
        }


EMBEDDED_PROBE = """
import asyncio, json
import asyncpg
from adapters.runtime.bootstrap import runtime
from adapters.runtime.settings import Settings

async def main():
    async with runtime(Settings.from_env()) as rt:
        who = await rt.pool.fetchrow(
            "SELECT session_user AS login, current_user AS acting,"
            " (SELECT rolsuper FROM pg_roles WHERE rolname = session_user) AS superuser"
        )
        try:
            await rt.pool.execute("UPDATE events SET type = type")
            update = "allowed"
        except asyncpg.PostgresError as error:
            update = type(error).__name__
    print(json.dumps({**dict(who), "update": update}))

asyncio.run(main())
"""


# ------------------------------------------------------------------------------ row security


class TestRowLevelSecurity:
    @pytest.mark.parametrize("table", WITH_UNIT)
    async def test_a_read_with_no_subtree_condition_sees_only_the_subtree(
        self, province: int, service: asyncpg.Pool, pool: asyncpg.Pool, table: str
    ):
        async with reads.scoped(service, DISTRICT) as conn:
            seen = await visible_units(conn, table)

        assert seen == await units_within(pool, table, DISTRICT)
        assert seen
        assert await visible_units(pool, table) - seen  # there were others to hide

    async def test_the_people_of_a_file_are_seen_only_with_its_ledger_row(
        self, province: int, service: asyncpg.Pool, pool: asyncpg.Pool
    ):
        async with reads.scoped(service, DISTRICT) as conn:
            seen = {r["file_id"] for r in await conn.fetch("SELECT file_id FROM ledger_people")}
        within = await pool.fetch(
            "SELECT DISTINCT p.file_id FROM ledger_people p JOIN ledger l USING (file_id)"
            " WHERE l.district = $1",
            DISTRICT,
        )

        assert seen == {r["file_id"] for r in within}
        assert await pool.fetchval("SELECT count(DISTINCT file_id) FROM ledger_people") > len(seen)

    @pytest.mark.parametrize("table", READ_MODELS)
    async def test_a_session_that_names_no_scope_sees_nothing(
        self, province: int, unscoped: asyncpg.Pool, pool: asyncpg.Pool, table: str
    ):
        seen = await unscoped.fetchval(f"SELECT count(*) FROM {table}")

        assert seen == 0
        assert await pool.fetchval(f"SELECT count(*) FROM {table}") > 0

    @pytest.mark.parametrize(("mine", "theirs"), [(BASE, PREFIX_SIBLING), (PREFIX_SIBLING, BASE)])
    async def test_a_base_union_and_one_whose_code_extends_it_see_only_themselves(
        self, province: int, service: asyncpg.Pool, mine: str, theirs: str
    ):
        async with reads.scoped(service, mine) as conn:
            seen = await visible_units(conn, "ledger")

        assert seen == {mine}

    async def test_agrees_with_the_applications_subtree_condition_for_every_unit(
        self, province: int, service: asyncpg.Pool, pool: asyncpg.Pool
    ):
        units = await visible_units(pool, "ledger")
        roots = {u[:n] for u in units for n in (2, 4, 6)} | units | {"1399", "130399"}

        disagreements = {}
        for root in sorted(roots):
            async with reads.scoped(service, root) as conn:
                seen = await visible_units(conn, "ledger")
            expected = await units_within(pool, "ledger", root)
            if seen != expected:
                disagreements[root] = (seen, expected)

        assert disagreements == {}
        assert len(roots) > 10

    async def test_the_nation_sees_every_unit(
        self, province: int, service: asyncpg.Pool, pool: asyncpg.Pool
    ):
        async with reads.scoped(service, NATION) as conn:
            seen = await visible_units(conn, "ledger")

        assert (
            seen
            == await visible_units(pool, "ledger")
            == await units_within(pool, "ledger", NATION)
        )

    async def test_a_non_geographic_union_sees_only_its_own_subtree(
        self, province: int, service: asyncpg.Pool, pool: asyncpg.Pool
    ):
        for unit in ("13C01001", "13C010011", "13C01Q01001", "13C02001"):
            await copy_ledger_row(pool, BASE, unit)
        expected = {
            "13C01": {"13C01001", "13C010011", "13C01Q01001"},
            "13C01Q01": {"13C01Q01001"},
            "13C01001": {"13C01001"},  # a base-level union: itself, not "13C010011"
            "13C010011": {"13C010011"},
            "13C02": {"13C02001"},
        }

        seen, selected = {}, {}
        for root in [*expected, "13"]:
            async with reads.scoped(service, root) as conn:
                seen[root] = await visible_units(conn, "ledger")
            selected[root] = await units_within(pool, "ledger", root)

        assert {root: seen[root] for root in expected} == expected
        assert seen == selected
        assert set().union(*expected.values()) <= seen["13"]

    async def test_a_national_non_geographic_union_sees_its_subtree_and_the_nation_all(
        self, province: int, service: asyncpg.Pool, pool: asyncpg.Pool
    ):
        for unit in ("00C01001", "00C010011", "00C01Q01001", "00C02001"):
            await copy_ledger_row(pool, BASE, unit)
        expected = {
            "00C01": {"00C01001", "00C010011", "00C01Q01001"},
            "00C01001": {"00C01001"},  # a base-level union: itself, not "00C010011"
            "00C02": {"00C02001"},
        }

        seen, selected = {}, {}
        for root in [*expected, "13", NATION]:
            async with reads.scoped(service, root) as conn:
                seen[root] = await visible_units(conn, "ledger")
            selected[root] = await units_within(pool, "ledger", root)

        assert {root: seen[root] for root in expected} == expected
        assert seen == selected
        national = set().union(*expected.values())
        assert not national & seen["13"]  # a province sees none of the nation's unions
        assert seen[NATION] == await visible_units(pool, "ledger")  # the nation: everything
        assert national < seen[NATION]

    async def test_the_scope_ends_with_the_read_even_when_it_fails(
        self, province: int, database_url: str
    ):
        session = "SELECT current_user, coalesce(current_setting('bangfu.scope', true), '')"
        one = await open_pool(database_url, size=1, role=APP_ROLE)
        try:
            async with reads.scoped(one, BASE) as conn:
                inside = tuple(await conn.fetchrow(session))
            with pytest.raises(asyncpg.UndefinedColumnError):
                async with reads.scoped(one, BASE) as conn:
                    await conn.fetch("SELECT no_such_column FROM ledger")
            after = tuple(await one.fetchrow(session))
            rows = await one.fetchval("SELECT count(*) FROM ledger")
        finally:
            await one.close()

        assert (inside, after) == ((READER_ROLE, BASE), (APP_ROLE, ""))
        assert rows == province + 1

    async def test_one_read_sees_one_snapshot(
        self, province: int, service: asyncpg.Pool, pool: asyncpg.Pool
    ):
        count = "SELECT count(*) FROM ledger"
        async with reads.scoped(service, DISTRICT) as conn:
            first = await conn.fetchval(count)
            await copy_ledger_row(pool, BASE, BASE)  # committed meanwhile
            second = await conn.fetchval(count)
        async with reads.scoped(service, DISTRICT) as conn:
            next_read = await conn.fetchval(count)

        assert (first, second, next_read) == (first, first, first + 1)

    @pytest.mark.parametrize(
        "statement",
        [
            "SELECT count(*) FROM events",
            "UPDATE ledger SET returns = returns",
            "DELETE FROM stats_stock",
            "INSERT INTO units (code, name, level) VALUES ('130306098', 'x', 'base')",
        ],
    )
    async def test_a_reader_may_neither_write_nor_read_the_log(
        self, province: int, database_url: str, statement: str
    ):
        reader = await open_pool(database_url, size=1, role=READER_ROLE)
        try:
            await reader.execute("SET bangfu.scope = '13'")
            with pytest.raises(asyncpg.InsufficientPrivilegeError, match="permission denied"):
                await reader.execute(statement)
        finally:
            await reader.close()

    @pytest.mark.parametrize("table", READ_MODELS)
    async def test_the_services_own_role_works_on_every_unit_without_a_scope(
        self, province: int, service: asyncpg.Pool, pool: asyncpg.Pool, table: str
    ):
        count = f"SELECT count(*) FROM {table}"

        assert await service.fetchval(count) == await pool.fetchval(count) > 0

    async def test_rejects_a_scope_that_is_not_a_unit_code(self, service: asyncpg.Pool):
        with pytest.raises(ValueError, match="not a unit code"):
            async with reads.scoped(service, "13'; SET bangfu.scope = '*"):
                pass


# ------------------------------------------------------------------------------ rebuilds


async def security(pool: asyncpg.Pool, table: str) -> dict[str, Any]:
    """What a swap must carry over: owner, row security flags, policies, grants to others."""
    row = await pool.fetchrow(
        "SELECT relowner::regrole::text AS owner, relrowsecurity, relforcerowsecurity"
        " FROM pg_class WHERE oid = $1::regclass",
        table,
    )
    policies = await pool.fetch(
        "SELECT polname, polcmd, polpermissive, pg_get_expr(polqual, polrelid) AS qual"
        " FROM pg_policy WHERE polrelid = $1::regclass ORDER BY polname",
        table,
    )
    grants = await pool.fetch(
        "SELECT a.grantee::regrole::text AS grantee, a.privilege_type"
        " FROM pg_class c, aclexplode(c.relacl) a"
        " WHERE c.oid = $1::regclass AND a.grantee <> c.relowner ORDER BY 1, 2",
        table,
    )
    return {
        **dict(row),
        "policies": [tuple(p) for p in policies],
        "grants": [tuple(g) for g in grants],
    }


REBUILDERS: dict[str, Callable[[dict[str, asyncpg.Pool]], asyncpg.Pool]] = {
    "the service (bangfu projections rebuild)": lambda pools: pools["service"],
    "the owner": lambda pools: pools["owner"],
}


class TestARebuild:
    @pytest.mark.parametrize("who", list(REBUILDERS))
    async def test_keeps_owner_row_security_policies_and_grants(
        self,
        province: int,
        service: asyncpg.Pool,
        unscoped: asyncpg.Pool,
        pool: asyncpg.Pool,
        who: str,
    ):
        reader = "bangfu_test_reporting"
        await pool.execute(
            f"DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{reader}')"
            f" THEN CREATE ROLE {reader} NOLOGIN; END IF; END $$"
        )
        await pool.execute(f"GRANT SELECT ON ledger, stats_stock TO {reader}")
        before = {t: await security(pool, t) for t in READ_MODELS}
        rebuilder = REBUILDERS[who]({"service": service, "owner": pool})

        await rebuild_all(PostgresEventStore(rebuilder), EventCodec(), read_models(hasher))

        after = {t: await security(pool, t) for t in READ_MODELS}
        async with reads.scoped(service, DISTRICT) as conn:
            seen = await visible_units(conn, "ledger")
        assert after == before
        assert before["ledger"]["owner"] == APP_ROLE
        assert (reader, "SELECT") in after["ledger"]["grants"]
        assert all(after[t]["relrowsecurity"] and after[t]["policies"] for t in READ_MODELS)
        assert seen == await units_within(pool, "ledger", DISTRICT)
        assert await unscoped.fetchval("SELECT count(*) FROM ledger") == 0
        assert await pool.fetchval("SELECT count(*) FROM ledger") == province  # rebuilt from log
