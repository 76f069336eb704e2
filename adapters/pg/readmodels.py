"""Storage for the read models: live (rows loaded and written per batch, inside the runner's
transaction) and in memory (a rebuild holds one batch of files at a time and COPYs each out).

Table names are parameters so that a rebuild can fill shadow tables and swap them in.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from uuid import UUID

import asyncpg

from adapters.pg.conn import Conn
from domain.household import OPEN
from domain.values import Status
from projections.ledger import LedgerRow
from projections.statistics import FileFacts, FlowKey, StockKey

LEDGER_COLUMNS = (
    "file_id",
    "province",
    "city",
    "district",
    "unit",
    "region",
    "status",
    "category",
    "file_level",
    "worker_kind",
    "primary_cause",
    "secondary_causes",
    "head_name",
    "id_masked",
    "id_hash",
    "applied_on",
    "approved_on",
    "last_assisted_on",
    "last_visited_on",
    "next_recheck_due",
    "exited_on",
    "exit_kind",
    "assistance_count",
    "assistance_total",
    "returns",
    "version",
    "updated_at",
    "head_sex",
    "phone_masked",
    "employer",
    "address",
    "civil_affairs",
    "civil_affairs_on",
    "civil_affairs_to_act",
    "exit_due",
    "exit_due_on",
    "category_pending",
    "political_status",
    "model_worker",
    "dilapidated",
    "disability",
)
# a person in two files that hold their people under 一户一档 — open or relieved — is a duplicate
HOLDING_STATUSES = sorted(s.value for s in OPEN | {Status.RELIEVED})

# a row per (person, file) of every person in several such files (migration 0024)
DUPLICATE_COLUMNS = ("id_hash", "file_id", "unit", "role", "applied_on", "files")

FACT_COLUMNS = (
    "file_id",
    "unit",
    "status",
    "worker_kind",
    "version",
    "category",
    "file_level",
    "cause",
    "approved_once",
)


@dataclass(frozen=True)
class Tables:
    """The physical names of one generation of the read-model tables."""

    ledger: str = "ledger"
    people: str = "ledger_people"
    facts: str = "stats_facts"
    stock: str = "stats_stock"
    flow: str = "stats_flow"
    duplicates: str = "ledger_duplicate_files"
    counts: str = "ledger_counts"  # filled from the ledger table, not by the projection
    name_chars: str = "ledger_name_chars"  # likewise (migration 0025)

    @classmethod
    def shadow(cls, suffix: str) -> Tables:
        return cls(
            *(
                f"{name}__{suffix}"
                for name in (
                    "ledger",
                    "ledger_people",
                    "stats_facts",
                    "stats_stock",
                    "stats_flow",
                    "ledger_duplicate_files",
                    "ledger_counts",
                    "ledger_name_chars",
                )
            )
        )


def ledger_record(row: LedgerRow) -> tuple[object, ...]:
    province, city, district, unit = row.units
    return (
        row.file_id,
        province,
        city,
        district,
        unit,
        row.region,
        row.status,
        row.category,
        row.file_level,
        row.worker_kind,
        row.primary_cause,
        list(row.secondary_causes),
        row.head_name,
        row.id_masked,
        row.id_hash,
        row.applied_on,
        row.approved_on,
        row.last_assisted_on,
        row.last_visited_on,
        row.next_recheck_due,
        row.exited_on,
        row.exit_kind,
        row.assistance_count,
        row.assistance_total,
        row.returns,
        row.version,
        row.updated_at,
        row.head_sex,
        row.phone_masked,
        row.employer,
        row.address,
        list(row.civil_affairs),
        row.civil_affairs_on,
        list(row.civil_affairs_to_act),
        row.exit_due,
        row.exit_due_on,
        row.category_pending,
        row.political_status,
        row.model_worker,
        row.dilapidated,
        row.disability,
    )


def _row(record: asyncpg.Record, people: frozenset[tuple[bytes, str]]) -> LedgerRow:
    return LedgerRow(
        file_id=record["file_id"],
        unit=record["unit"],
        region=record["region"],
        status=record["status"],
        worker_kind=record["worker_kind"],
        head_name=record["head_name"],
        id_masked=record["id_masked"],
        id_hash=bytes(record["id_hash"]),
        applied_on=record["applied_on"],
        version=record["version"],
        updated_at=record["updated_at"],
        category=record["category"],
        file_level=record["file_level"],
        primary_cause=record["primary_cause"],
        secondary_causes=tuple(record["secondary_causes"]),
        approved_on=record["approved_on"],
        last_assisted_on=record["last_assisted_on"],
        last_visited_on=record["last_visited_on"],
        next_recheck_due=record["next_recheck_due"],
        exited_on=record["exited_on"],
        exit_kind=record["exit_kind"],
        assistance_count=record["assistance_count"],
        assistance_total=record["assistance_total"],
        returns=record["returns"],
        head_sex=record["head_sex"],
        phone_masked=record["phone_masked"],
        employer=record["employer"],
        address=record["address"],
        people=people,
        civil_affairs=tuple(record["civil_affairs"]),
        civil_affairs_on=record["civil_affairs_on"],
        civil_affairs_to_act=tuple(record["civil_affairs_to_act"]),
        exit_due=record["exit_due"],
        exit_due_on=record["exit_due_on"],
        category_pending=record["category_pending"],
        political_status=record["political_status"],
        model_worker=record["model_worker"],
        dilapidated=record["dilapidated"],
        disability=record["disability"],
    )


class LiveLedger:
    """Ledger rows read and written inside the runner's transaction."""

    def __init__(self, conn: Conn, tables: Tables = Tables()) -> None:
        self.conn, self.t = conn, tables

    async def load(self, ids: set[UUID]) -> dict[UUID, LedgerRow]:
        rows = await self.conn.fetch(
            f"SELECT * FROM {self.t.ledger} WHERE file_id = ANY($1::uuid[])", list(ids)
        )
        people: dict[UUID, set[tuple[bytes, str]]] = defaultdict(set)
        for p in await self.conn.fetch(
            f"SELECT file_id, id_hash, role FROM {self.t.people} WHERE file_id = ANY($1::uuid[])",
            list(ids),
        ):
            people[p["file_id"]].add((bytes(p["id_hash"]), p["role"]))
        return {r["file_id"]: _row(r, frozenset(people[r["file_id"]])) for r in rows}

    async def save(self, rows: list[LedgerRow], people_changed: set[UUID]) -> None:
        if rows:
            # The batch in ONE statement — COPY into a staging table, then one upsert — so the
            # statement triggers that keep the lists' counts (migration 0022) run once a batch:
            # a statement a row paid them row by row (2 ms each, ten times the row's write).
            columns = ", ".join(LEDGER_COLUMNS)
            updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in LEDGER_COLUMNS[1:])
            await self.conn.execute(
                f"CREATE TEMP TABLE IF NOT EXISTS ledger_batch (LIKE {self.t.ledger})"
                " ON COMMIT DROP"
            )
            await self.conn.execute("TRUNCATE ledger_batch")
            await self.conn.copy_records_to_table(
                "ledger_batch", columns=LEDGER_COLUMNS, records=[ledger_record(r) for r in rows]
            )
            await self.conn.execute(
                f"INSERT INTO {self.t.ledger} ({columns}) SELECT {columns} FROM ledger_batch"
                f" ORDER BY file_id ON CONFLICT (file_id) DO UPDATE SET {updates}"
            )
        changed = [r for r in rows if r.file_id in people_changed]
        # The people whose count of open files may have moved: everyone in a saved file (its
        # status may have opened or closed it) and everyone leaving a file's people.
        hashes = {h for r in rows for h, _ in r.people}
        if changed:
            ids = [r.file_id for r in changed]
            hashes.update(
                bytes(h)
                for h in await self.conn.fetchval(
                    f"SELECT array_agg(id_hash) FROM {self.t.people}"
                    " WHERE file_id = ANY($1::uuid[])",
                    ids,
                )
                or ()
            )
            await self.conn.execute(
                f"DELETE FROM {self.t.people} WHERE file_id = ANY($1::uuid[])", ids
            )
            await self.conn.copy_records_to_table(
                self.t.people,
                columns=("file_id", "id_hash", "role"),
                records=[(r.file_id, h, role) for r in changed for h, role in r.people],
            )
        if hashes:
            await self._count_duplicates(sorted(hashes))

    async def _count_duplicates(self, hashes: list[bytes]) -> None:
        """Count again, for these people, the open or relieved files they are in; keep a row per
        file of those in several (migration 0024)."""
        await self.conn.execute(
            f"DELETE FROM {self.t.duplicates} WHERE id_hash = ANY($1::bytea[])", hashes
        )
        await self.conn.execute(
            f"WITH held AS (SELECT p.id_hash, p.file_id, p.role, l.unit, l.applied_on"
            f" FROM {self.t.people} p JOIN {self.t.ledger} l ON l.file_id = p.file_id"
            " WHERE p.id_hash = ANY($1::bytea[]) AND l.status = ANY($2::text[])),"
            " counted AS (SELECT id_hash, count(DISTINCT file_id)::integer AS files FROM held"
            " GROUP BY id_hash HAVING count(DISTINCT file_id) > 1)"
            f" INSERT INTO {self.t.duplicates} ({', '.join(DUPLICATE_COLUMNS)})"
            " SELECT h.id_hash, h.file_id, h.unit, h.role, h.applied_on, c.files"
            " FROM held h JOIN counted c ON c.id_hash = h.id_hash",
            hashes,
            HOLDING_STATUSES,
        )


class LiveStatistics:
    def __init__(self, conn: Conn, tables: Tables = Tables()) -> None:
        self.conn, self.t = conn, tables

    async def load(self, ids: set[UUID]) -> dict[UUID, FileFacts]:
        rows = await self.conn.fetch(
            f"SELECT {', '.join(FACT_COLUMNS)} FROM {self.t.facts} WHERE file_id = ANY($1::uuid[])",
            list(ids),
        )
        return {r["file_id"]: FileFacts(*r) for r in rows}

    async def save(
        self,
        facts: list[FileFacts],
        stock: dict[StockKey, int],
        flows: dict[FlowKey, tuple[int, Decimal]],
    ) -> None:
        if facts:
            updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in FACT_COLUMNS[1:])
            await self.conn.executemany(
                f"INSERT INTO {self.t.facts} ({', '.join(FACT_COLUMNS)}) VALUES "
                f"({', '.join(f'${i}' for i in range(1, len(FACT_COLUMNS) + 1))})"
                f" ON CONFLICT (file_id) DO UPDATE SET {updates}",
                [
                    (
                        f.file_id,
                        f.unit,
                        f.status,
                        f.worker_kind,
                        f.version,
                        f.category,
                        f.file_level,
                        f.cause,
                        f.approved_once,
                    )
                    for f in facts
                ],
            )
        if stock:
            keys = sorted(stock)  # a fixed order: concurrent writers never deadlock
            await self.conn.execute(
                f"INSERT INTO {self.t.stock} AS s (unit, dimension, key, count)"
                " SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[])"
                " ON CONFLICT (unit, dimension, key)"
                " DO UPDATE SET count = s.count + EXCLUDED.count",
                [k[0] for k in keys],
                [k[1] for k in keys],
                [k[2] for k in keys],
                [stock[k] for k in keys],
            )
        if flows:
            keys_f = sorted(flows)
            await self.conn.execute(
                f"INSERT INTO {self.t.flow} AS f (unit, period, metric, key, count, amount)"
                " SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[],"
                " $5::bigint[], $6::numeric[])"
                " ON CONFLICT (unit, period, metric, key) DO UPDATE"
                " SET count = f.count + EXCLUDED.count, amount = f.amount + EXCLUDED.amount",
                [k[0] for k in keys_f],
                [k[1] for k in keys_f],
                [k[2] for k in keys_f],
                [k[3] for k in keys_f],
                [flows[k][0] for k in keys_f],
                [flows[k][1] for k in keys_f],
            )


class MemoryLedger:
    """One batch of files' ledger rows in memory during a rebuild (adapters/pg/projector.py).

    `flush` COPYs the batch's rows and people into the shadow tables and forgets them; `derive`,
    once every batch is written, fills what is counted across files — the duplicates — by SQL
    over the written shadow tables: a table derived from the ledger and people is one more
    statement there. (The ledger's counts, migration 0022, are taken later, under the lock
    after the catch-up: projector.DERIVED.)"""

    def __init__(self) -> None:
        self.rows: dict[UUID, LedgerRow] = {}

    @staticmethod
    def staging(tables: Tables) -> tuple[str, ...]:
        """The work tables of a rebuild into `tables`, besides the shadow tables: none."""
        return ()

    async def prepare(self, conn: Conn, tables: Tables) -> None:
        """Create the work tables (none)."""

    async def load(self, ids: set[UUID]) -> dict[UUID, LedgerRow]:
        return {i: self.rows[i] for i in ids if i in self.rows}

    async def save(self, rows: list[LedgerRow], people_changed: set[UUID]) -> None:
        for row in rows:
            self.rows[row.file_id] = row

    async def flush(self, conn: Conn, tables: Tables) -> None:
        await conn.copy_records_to_table(
            tables.ledger,
            columns=LEDGER_COLUMNS,
            records=[ledger_record(r) for r in self.rows.values()],
        )
        await conn.copy_records_to_table(
            tables.people,
            columns=("file_id", "id_hash", "role"),
            records=[(r.file_id, h, role) for r in self.rows.values() for h, role in r.people],
        )
        self.rows = {}

    async def derive(self, conn: Conn, tables: Tables) -> None:
        """Every batch written: a row per file of each person in more than one open or relieved
        file, with how many (migration 0024; the same rows as `LiveLedger._count_duplicates`,
        for everyone)."""
        await conn.execute(
            f"WITH held AS (SELECT p.id_hash, p.file_id, p.role, l.unit, l.applied_on"
            f" FROM {tables.people} p JOIN {tables.ledger} l ON l.file_id = p.file_id"
            " WHERE l.status = ANY($1::text[])),"
            " counted AS (SELECT id_hash, count(DISTINCT file_id)::integer AS files FROM held"
            " GROUP BY id_hash HAVING count(DISTINCT file_id) > 1)"
            f" INSERT INTO {tables.duplicates} ({', '.join(DUPLICATE_COLUMNS)})"
            " SELECT h.id_hash, h.file_id, h.unit, h.role, h.applied_on, c.files"
            " FROM held h JOIN counted c ON c.id_hash = h.id_hash",
            HOLDING_STATUSES,
        )


class MemoryStatistics:
    """One batch of files' statistics in memory during a rebuild (adapters/pg/projector.py).

    A file's facts are its own: `flush` COPYs the batch's into the shadow table. The stock and
    the flows add up over files of every batch: `flush` COPYs the batch's sums into work tables
    (`staging`), and `derive` adds them up by a GROUP BY into the shadow tables."""

    def __init__(self) -> None:
        self.facts: dict[UUID, FileFacts] = {}
        self.stock: dict[StockKey, int] = defaultdict(int)
        self.flows: dict[FlowKey, list[int | Decimal]] = {}  # [count, amount]

    @staticmethod
    def staging(tables: Tables) -> tuple[str, ...]:
        """The work tables of a rebuild into `tables`: each batch's stock and flows."""
        return f"{tables.stock}_parts", f"{tables.flow}_parts"

    async def prepare(self, conn: Conn, tables: Tables) -> None:
        """Create the work tables: the shadow tables' columns, no keys (a key is on several
        batches' rows), not logged (a failed rebuild drops them)."""
        for table, parts in zip((tables.stock, tables.flow), self.staging(tables), strict=True):
            await conn.execute(f"DROP TABLE IF EXISTS {parts}")
            await conn.execute(f"CREATE UNLOGGED TABLE {parts} (LIKE {table})")

    async def load(self, ids: set[UUID]) -> dict[UUID, FileFacts]:
        return {i: self.facts[i] for i in ids if i in self.facts}

    async def save(
        self,
        facts: list[FileFacts],
        stock: dict[StockKey, int],
        flows: dict[FlowKey, tuple[int, Decimal]],
    ) -> None:
        for fact in facts:
            self.facts[fact.file_id] = fact
        for stock_key, delta in stock.items():
            self.stock[stock_key] += delta
        for flow_key, (count, amount) in flows.items():
            entry = self.flows.setdefault(flow_key, [0, Decimal(0)])
            entry[0] = int(entry[0]) + count
            entry[1] = Decimal(entry[1]) + amount

    async def flush(self, conn: Conn, tables: Tables) -> None:
        stock_parts, flow_parts = self.staging(tables)
        await conn.copy_records_to_table(
            tables.facts,
            columns=FACT_COLUMNS,
            records=[
                (
                    f.file_id,
                    f.unit,
                    f.status,
                    f.worker_kind,
                    f.version,
                    f.category,
                    f.file_level,
                    f.cause,
                    f.approved_once,
                )
                for f in self.facts.values()
            ],
        )
        await conn.copy_records_to_table(
            stock_parts,
            columns=("unit", "dimension", "key", "count"),
            records=[(*k, v) for k, v in self.stock.items() if v],
        )
        await conn.copy_records_to_table(
            flow_parts,
            columns=("unit", "period", "metric", "key", "count", "amount"),
            records=[(*k, v[0], v[1]) for k, v in self.flows.items()],
        )
        self.facts, self.stock, self.flows = {}, defaultdict(int), {}

    async def derive(self, conn: Conn, tables: Tables) -> None:
        """Every batch written: the stock and the flows, summed over the batches (a stock that
        adds up to nothing is no row, as the live tables keep it)."""
        stock_parts, flow_parts = self.staging(tables)
        await conn.execute(
            f"INSERT INTO {tables.stock} (unit, dimension, key, count)"
            f" SELECT unit, dimension, key, sum(count) FROM {stock_parts}"
            " GROUP BY unit, dimension, key HAVING sum(count) <> 0"
        )
        await conn.execute(
            f"INSERT INTO {tables.flow} (unit, period, metric, key, count, amount)"
            f" SELECT unit, period, metric, key, sum(count), sum(amount) FROM {flow_parts}"
            " GROUP BY unit, period, metric, key"
        )
        for parts in (stock_parts, flow_parts):
            await conn.execute(f"DROP TABLE {parts}")
