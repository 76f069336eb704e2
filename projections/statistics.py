"""Statistics for every unit at each level (base, district, city, province).

Stock: how many files are in each status, and — among files on record (在档, status approved) —
in each category, primary cause, file level and worker kind. Flows per month ("2026-03") and per
year ("2026"): new files (first approval), exits by kind, returns, and assistance (count and
amount) by the household's category at the time.

Every counter is kept for the base-level union and for each of its three ancestors, so reading a
unit's figures is one indexed look-up, and a unit's figures equal the sum of its children's.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any, Protocol
from uuid import UUID

from projections.base import Change

StockKey = tuple[str, str, str]  # unit, dimension, key
FlowKey = tuple[str, str, str, str]  # unit, period, metric, key


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

    def stock(self) -> list[tuple[str, str]]:
        counted = [("status", self.status)]
        if self.status == "approved":
            counted += [
                ("category", self.category or ""),
                ("file_level", self.file_level or ""),
                ("cause", self.cause or ""),
                ("worker_kind", self.worker_kind),
            ]
        return counted


def levels(unit: str) -> tuple[str, str, str, str]:
    return unit[:2], unit[:4], unit[:6], unit


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
        stock: dict[StockKey, int] = defaultdict(int)
        flows: dict[FlowKey, list[Any]] = defaultdict(lambda: [0, Decimal(0)])
        touched: dict[UUID, FileFacts] = {}
        for change in mine:
            before = facts.get(change.stream_id)
            if before is not None and change.version <= before.version:
                continue  # already counted
            after = self.step(before, change, flows)
            if after is None:
                continue
            after = replace(after, version=change.version)
            for unit, dimension, key in _contributions(before):
                stock[(unit, dimension, key)] -= 1
            for unit, dimension, key in _contributions(after):
                stock[(unit, dimension, key)] += 1
            facts[change.stream_id] = touched[change.stream_id] = after
        await storage.save(
            list(touched.values()),
            {k: v for k, v in stock.items() if v},
            {k: (v[0], v[1]) for k, v in flows.items()},
        )

    @staticmethod
    def _flow(
        flows: dict[FlowKey, list[Any]],
        unit: str,
        day: Any,
        metric: str,
        key: str,
        amount: Decimal = Decimal(0),
    ) -> None:
        for period in (f"{day.year:04d}", f"{day.year:04d}-{day.month:02d}"):
            for level_unit in levels(unit):
                entry = flows[(level_unit, period, metric, key)]
                entry[0] += 1
                entry[1] += amount

    def step(
        self, before: FileFacts | None, change: Change, flows: dict[FlowKey, list[Any]]
    ) -> FileFacts | None:
        f: Any = change.fields
        kind = change.type[len("household.") :]
        if kind == "applied":
            return FileFacts(
                change.stream_id, f.establishing_unit, "applied", str(f.worker_kind), change.version
            )
        if before is None:
            return None
        if kind == "verified":
            return replace(before, status="verified", cause=str(f.primary_cause))
        if kind in ("appraised", "sent_back", "rejected"):
            return replace(before, status=kind)
        if kind == "approved":
            if not before.approved_once:
                self._flow(flows, before.unit, f.approved_on, "new", "")
            return replace(
                before,
                status="approved",
                category=str(f.category),
                file_level=str(f.file_level),
                approved_once=True,
            )
        if kind == "assisted":
            self._flow(
                flows, before.unit, f.assisted_on, "assistance", before.category or "", f.amount
            )
            return before
        if kind == "rechecked":
            return replace(before, category=str(f.category)) if f.category is not None else before
        if kind == "exited":
            self._flow(flows, before.unit, f.exited_on, "exit", str(f.kind))
            return replace(before, status=str(f.kind))
        if kind == "returned":
            self._flow(flows, before.unit, f.returned_on, "return", "")
            return replace(before, status="returned", cause=str(f.cause))
        if kind == "transferred":
            return replace(before, unit=f.to_unit)
        return before  # plan, visit, revision: no figure moves


def _contributions(facts: FileFacts | None) -> list[StockKey]:
    if facts is None:
        return []
    return [
        (unit, dimension, key) for dimension, key in facts.stock() for unit in levels(facts.unit)
    ]
