"""A union's own records stored as events (`domain.unit_records`): its 民主评议 meetings and its
考核表, one stream per unit, found from the unit's code; a subtree's streams by their events'
type (`unit.*`, indexed by migration 0019).

The use cases here (`record_meeting`, `assess`) load the unit's stream, decide and append, as
`domain.usecases` does for a file; `meeting` answers the appraisal's question "which meeting of
this union is that" (`domain.usecases.act_on_file`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import cast
from uuid import UUID

from adapters.pg.codec import EventCodec
from adapters.pg.repository import PgFileRepository, replay
from adapters.pg.store import PostgresEventStore, StoredEvent
from adapters.pg.units import subtree_sql
from domain.authorization import Act, authorise
from domain.errors import NotFound
from domain.ports import Clock
from domain.unit_records import Assessment, AssessmentItem, Meeting, UnitRecords, Vote
from domain.unit_records import unit_records_id as records_id
from domain.units import UnitCode
from domain.values import Actor

_SUBTREE_EVENTS = f"""
SELECT position, xid::text::bigint AS xid, stream_id, version, type, payload, recorded_at,
       unit, hash, refers_to
FROM events WHERE type LIKE 'unit.%' AND {subtree_sql("unit", "$1")}
ORDER BY stream_id, version
"""  # noqa: S608 — built from constants, the unit is a parameter


class PgUnitRecords:
    """The records of the unions in the event store (also the `Meetings` port of appraisals)."""

    def __init__(self, store: PostgresEventStore, codec: EventCodec) -> None:
        self.store = store
        self.codec = codec

    async def load(self, unit: str) -> UnitRecords | None:
        """A unit's records as now stored (None: it has none yet)."""
        rows = await self.store.read_stream(records_id(UnitCode(unit).value))
        return cast(UnitRecords, replay(self.codec, rows)) if rows else None

    async def events(self, unit: str) -> list[StoredEvent]:
        return await self.store.read_stream(records_id(UnitCode(unit).value))

    async def meeting(self, unit: str, meeting_id: UUID) -> Meeting | None:
        """The meeting `meeting_id` of `unit`'s records (None if that union recorded none)."""
        records = await self.load(unit)
        if records is None:
            return None
        return next((m for m in records.meetings if m.meeting_id == meeting_id), None)

    async def of_subtree(self, root: str) -> list[tuple[UnitRecords, bytes, int]]:
        """Every union's records within `root`: the records, their last event's hash and the
        stream's version (what a print records of them)."""
        rows = await self.store.pool.fetch(_SUBTREE_EVENTS, UnitCode(root).value)
        streams: dict[UUID, list[StoredEvent]] = {}
        for row in rows:
            stored = StoredEvent(*row)
            streams.setdefault(stored.stream_id, []).append(stored)
        found: list[tuple[UnitRecords, bytes, int]] = []
        for events in streams.values():
            if events[0].type != "unit.opened":
                continue  # not a whole stream: nothing to replay
            records = cast(UnitRecords, replay(self.codec, events))
            found.append((records, events[-1].hash, events[-1].version))
        found.sort(key=lambda r: r[0].unit)
        return found

    async def _save(self, records: UnitRecords) -> None:
        await PgFileRepository(self.store, self.codec).record(records)

    async def record_meeting(
        self,
        *,
        actor: Actor,
        clock: Clock,
        files: PgFileRepository,
        unit: str,
        meeting_id: UUID,
        held_on: date,
        place: str,
        chair: str,
        recorder: str,
        attendees: Sequence[str],
        expected: int,
        summary: str,
        votes: Sequence[Vote],
    ) -> Meeting:
        """民主评议会议记录: record a base union's meeting and its votes (each file voted on must
        be one of the union's files)."""
        code = UnitCode(unit)
        authorise(actor, Act.RECORD_MEETING, code)
        wanted = {v.file_id for v in votes if isinstance(v, Vote)}
        known = await files.existing(sorted(wanted, key=str)) if wanted else set()
        file_units: dict[UUID, str] = {}
        for file_id in known:
            file_units[file_id] = (await files.get(file_id)).establishing_unit
        records = await self.load(code.value) or UnitRecords.open(actor=actor, unit=code.value)
        held = records.hold_meeting(
            actor=actor,
            meeting_id=meeting_id,
            held_on=held_on,
            place=place,
            chair=chair,
            recorder=recorder,
            attendees=attendees,
            expected=expected,
            summary=summary,
            votes=votes,
            file_units=file_units,
            today=clock.today(),
        )
        await self._save(records)
        return held

    async def assess(
        self,
        *,
        actor: Actor,
        clock: Clock,
        unit: str,
        period: str,
        recorded_on: date,
        items: Sequence[AssessmentItem],
        opinion: str = "",
        responsible: str = "",
        liaison: str = "",
        reviewer_opinion: str = "",
    ) -> Assessment:
        """解困脱困考核表: record the unit's goals, measures and completion for a period."""
        code = UnitCode(unit)
        authorise(actor, Act.RECORD_ASSESSMENT, code)
        records = await self.load(code.value) or UnitRecords.open(actor=actor, unit=code.value)
        recorded = records.assess(
            actor=actor,
            period=period,
            recorded_on=recorded_on,
            items=items,
            opinion=opinion,
            responsible=responsible,
            liaison=liaison,
            reviewer_opinion=reviewer_opinion,
            today=clock.today(),
        )
        await self._save(records)
        return recorded

    async def meetings(
        self, *, actor: Actor, unit: str, start: date | None = None, end: date | None = None
    ) -> list[Meeting]:
        """The meetings of the unions within `unit` (held between `start` and `end`), oldest
        first — the caller reads the unit."""
        code = UnitCode(unit)
        authorise(actor, Act.READ, code)
        found = [
            m
            for records, _, _ in await self.of_subtree(code.value)
            for m in records.meetings
            if (start is None or m.held_on >= start) and (end is None or m.held_on <= end)
        ]
        return sorted(found, key=lambda m: (m.held_on, m.unit, str(m.meeting_id)))

    async def assessment(self, *, actor: Actor, unit: str, period: str) -> Assessment:
        code = UnitCode(unit)
        authorise(actor, Act.READ, code)
        records = await self.load(code.value)
        found = None if records is None else records.assessment(period)
        if found is None:
            raise NotFound(
                f"no assessment of unit {unit} for {period}",
                zh=f"本单位{period}的解困脱困考核表尚未填写",
            )
        return found
