"""Household files stored as their events: the `domain.ports.FileRepository` on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from uuid import UUID

from eventsourcing.domain import Aggregate

from adapters.codec import EventCodec
from adapters.integrity import GENESIS
from adapters.pg.store import NewEvent, PostgresEventStore, StoredEvent, StreamHead, chain
from domain.errors import NotFound
from domain.household import HouseholdFile

# The hash of a loaded aggregate's last stored event, kept on the object so that the next append
# can chain onto it without another round trip.
_CHAIN_HEAD = "_stored_chain_head"


def chain_head(aggregate: Aggregate) -> bytes:
    return getattr(aggregate, _CHAIN_HEAD, GENESIS)


def replay(codec: EventCodec, rows: Iterable[StoredEvent]) -> HouseholdFile | None:
    """Rebuild a file from its stored events (None for no events)."""
    household: HouseholdFile | None = None
    last = GENESIS
    for row in rows:
        household = codec.decode(
            row.type,
            row.payload,
            stream_id=row.stream_id,
            version=row.version,
            recorded_at=row.recorded_at,
        ).mutate(household)  # type: ignore[assignment]
        last = row.hash
    if household is not None:
        setattr(household, _CHAIN_HEAD, last)
    return household


class PgFileRepository:
    def __init__(self, store: PostgresEventStore, codec: EventCodec) -> None:
        self.store = store
        self.codec = codec

    async def get(
        self, file_id: UUID, *, version: int | None = None, as_of: datetime | None = None
    ) -> HouseholdFile:
        rows = await self.store.read_stream(file_id, up_to_version=version, as_of=as_of)
        household = replay(self.codec, rows)
        if household is None:
            raise NotFound(
                f"no household file {file_id}"
                + (" at that point" if version is not None or as_of else ""),
                zh="档案不存在",
            )
        return household

    def prepare(
        self, files: Iterable[HouseholdFile]
    ) -> tuple[list[NewEvent], list[StreamHead], list[tuple[HouseholdFile, bytes]]]:
        """Turn the files' pending events into hash-chained rows and the heads they rest on."""
        rows: list[NewEvent] = []
        heads: list[StreamHead] = []
        new_heads: list[tuple[HouseholdFile, bytes]] = []
        for household in files:
            pending = household.collect_events()
            if not pending:
                continue
            previous = chain_head(household)
            expected = pending[0].originator_version - 1
            if expected > 0:
                heads.append(StreamHead(household.id, expected, previous))
            # the unit each event leaves the file in: walk back from the current unit
            units: list[str] = []
            current = household.establishing_unit
            for event in reversed(pending):
                units.append(current)
                if isinstance(event, HouseholdFile.Transferred):
                    current = event.from_unit
            units.reverse()
            for event, unit in zip(pending, units, strict=True):
                name, payload = self.codec.encode(event)
                row = chain(
                    previous,
                    household.id,
                    event.originator_version,
                    name,
                    payload,
                    event.timestamp,
                    unit,
                )
                rows.append(row)
                previous = row.hash
            new_heads.append((household, previous))
        return rows, heads, new_heads

    async def save(self, *files: HouseholdFile) -> None:
        rows, heads, new_heads = self.prepare(files)
        await self.store.append(rows, heads)
        for household, head in new_heads:
            setattr(household, _CHAIN_HEAD, head)

    async def save_many(self, files: Sequence[HouseholdFile]) -> None:
        rows, heads, new_heads = self.prepare(files)
        await self.store.append_bulk(rows, heads)
        for household, head in new_heads:
            setattr(household, _CHAIN_HEAD, head)
