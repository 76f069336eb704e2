"""Statistics for every unit at each level (base, district, city, province).

Stock: how many files are in each status, and — among files on record (在档, status approved) —
in each category, primary cause, file level and worker kind. Flows per month ("2026-03") and per
year ("2026"): new files (first approval), exits by kind, returns, and assistance (count and
amount) by the household's category at the time.

Every counter is kept for the base-level union and for each of its ancestors (three for a union
below a district; more below a non-geographic union, domain/units.py), so reading a unit's figures
is one indexed look-up, and a unit's figures equal the sum of its children's. The nation's are the
sum of its provinces' (adapters/pg/reads.py).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol
from uuid import UUID

from domain.units import path_of
from projections.base import Change

# The statuses whose files receive regular aid: on record, and relieved (解困, seeds 001, 004).
REGULAR_AID = frozenset({"approved", "relieved"})

StockKey = tuple[str, str, str]  # unit, dimension, key
FlowKey = tuple[str, str, str, str]  # unit, period, metric, key
# A batch's flows before they are spread over the levels and periods:
# (base-level unit, year, month, metric, key) → [count, amount]
Daily = dict[tuple[str, int, int, str, str], list[Any]]


@dataclass(frozen=True, slots=True)
class FileFacts:
    """What the statistics need to remember of a file to move its counts when it changes."""

    file_id: UUID
    unit: str
    status: str
    worker_kind: str
    version: int
    category: str | None = None
    file_level: str | None = None
    cause: str | None = None
    approved_once: bool = False

    def stock_place(self) -> tuple[object, ...]:
        """Everything the stock counts a file by: equal places, equal contributions."""
        return (
            self.unit,
            self.status,
            self.category,
            self.file_level,
            self.cause,
            self.worker_kind,
        )

    def stock(self) -> list[tuple[str, str]]:
        counted = [("status", self.status)]
        if self.status in REGULAR_AID:
            # files under regular aid (常态化帮扶): on record, and relieved (解困) ones
            counted.append(("regular_aid", self.status))
        if self.status == "approved":
            counted += [
                ("category", self.category or ""),
                ("file_level", self.file_level or ""),
                ("cause", self.cause or ""),
                ("worker_kind", self.worker_kind),
            ]
        return counted


def levels(unit: str) -> tuple[str, ...]:
    """The units counting a file of `unit`: every unit from the province down to it (a
    non-geographic union's base-level unions count for it and for the regions above it; a
    national one's, "00C01001", from the nation down: the nation's own row counts only those,
    and its figures add its provinces' rows to it, adapters/pg/reads.py `unit_figures`)."""
    return path_of(unit)


class StatisticsStorage(Protocol):
    async def load(self, ids: set[UUID]) -> dict[UUID, FileFacts]: ...

    async def save(
        self,
        facts: list[FileFacts],
        stock: dict[StockKey, int],
        flows: dict[FlowKey, tuple[int, Decimal]],
    ) -> None: ...


class Statistics:
    name = "statistics"

    def wants(self, type_name: str) -> bool:
        return type_name.startswith("household.")

    async def apply(self, changes: list[Change], storage: StatisticsStorage) -> None:
        mine = [c for c in changes if self.wants(c.type)]
        if not mine:
            return
        facts = await storage.load({c.stream_id for c in mine})
        # Per file, its facts before the batch and the last version the batch applied: the stock
        # moves once per file and batch (from the first facts to the last), not once per event.
        first: dict[UUID, FileFacts | None] = {}
        version: dict[UUID, int] = {}
        daily: Daily = {}
        for change in mine:
            before = facts.get(change.stream_id)
            done = version.get(change.stream_id, before.version if before else 0)
            if before is not None and change.version <= done:
                continue  # already counted
            after = self.step(before, change, daily)
            if after is None:
                continue
            first.setdefault(change.stream_id, before)
            version[change.stream_id] = change.version
            facts[change.stream_id] = after
        touched = [_changed(facts[i], version=version[i]) for i in first]
        stock: dict[StockKey, int] = defaultdict(int)
        for start, end in zip(first.values(), touched, strict=True):
            if start is not None and start.stock_place() == end.stock_place():
                continue  # nothing counted moved (an assistance, a visit, a plan ...)
            for key in _contributions(start):
                stock[key] -= 1
            for key in _contributions(end):
                stock[key] += 1
        await storage.save(touched, {k: v for k, v in stock.items() if v}, _spread(daily))

    @staticmethod
    def _flow(
        daily: Daily,
        unit: str,
        day: Any,
        metric: str,
        key: str,
        amount: Decimal = Decimal(0),
    ) -> None:
        entry = daily.get((unit, day.year, day.month, metric, key))
        if entry is None:
            daily[(unit, day.year, day.month, metric, key)] = [1, amount]
        else:
            entry[0] += 1
            entry[1] += amount

    def step(self, before: FileFacts | None, change: Change, flows: Daily) -> FileFacts | None:
        f: Any = change.fields
        kind = change.type[len("household.") :]
        if kind == "applied":
            return FileFacts(
                change.stream_id, f.establishing_unit, "applied", str(f.worker_kind), change.version
            )
        if before is None:
            return None
        if kind == "verified":
            return _changed(before, status="verified", cause=str(f.primary_cause))
        if kind in ("appraised", "sent_back", "rejected"):
            return _changed(before, status=kind)
        if kind == "approved":
            if not before.approved_once:
                self._flow(flows, before.unit, f.approved_on, "new", "")
            return _changed(
                before,
                status="approved",
                category=str(f.category),
                file_level=None if f.file_level is None else str(f.file_level),
                approved_once=True,
            )
        if kind == "assisted":
            self._flow(
                flows, before.unit, f.assisted_on, "assistance", before.category or "", f.amount
            )
            self._flow(
                flows, before.unit, f.assisted_on, "assistance_by_status", before.status, f.amount
            )
            return before
        if kind == "rechecked":
            # a re-check's category waits for an approver's confirmation (older events: at once)
            if f.category is None or f.needs_confirmation:
                return before
            return _changed(before, category=str(f.category))
        if kind == "category_confirmed":
            return _changed(before, category=str(f.category))
        if kind == "exited":
            self._flow(flows, before.unit, f.exited_on, "exit", str(f.kind))
            return _changed(before, status=str(f.kind))
        if kind == "returned":
            self._flow(flows, before.unit, f.returned_on, "return", "")
            return _changed(before, status="returned", cause=str(f.cause))
        if kind == "transferred":
            return _changed(before, unit=f.to_unit)
        return before  # plan, visit, revision: no figure moves


def _changed(before: FileFacts, **changes: Any) -> FileFacts:
    """`dataclasses.replace`, without its introspection: this runs for most events of a rebuild."""
    get = changes.get
    return FileFacts(
        before.file_id,
        get("unit", before.unit),
        get("status", before.status),
        before.worker_kind,
        get("version", before.version),
        get("category", before.category),
        get("file_level", before.file_level),
        get("cause", before.cause),
        get("approved_once", before.approved_once),
    )


def _contributions(facts: FileFacts | None) -> list[StockKey]:
    if facts is None:
        return []
    return [
        (unit, dimension, key) for dimension, key in facts.stock() for unit in levels(facts.unit)
    ]


def _spread(daily: Daily) -> dict[FlowKey, tuple[int, Decimal]]:
    """A batch's flows counted for the base-level unit and its three ancestors, per year and
    per month — summed once per batch rather than eight times per event."""
    flows: dict[FlowKey, tuple[int, Decimal]] = {}
    for (unit, year, month, metric, key), (count, amount) in daily.items():
        for period in (f"{year:04d}", f"{year:04d}-{month:02d}"):
            for level_unit in levels(unit):
                place = (level_unit, period, metric, key)
                was = flows.get(place)
                flows[place] = (count, amount) if was is None else (was[0] + count, was[1] + amount)
    return flows
