"""Regional parameters stored as events: load every region's policy stream into a `PolicyBook`,
read one region's history, set parameters (admins), and seed the demo regions.

Policy streams are found by their events' types (`policy.*`, indexed by migration 0005), so a
region needs no registration anywhere else: opening its stream is enough.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import cast
from uuid import UUID

from adapters.pg.codec import EventCodec
from adapters.pg.conn import Conn
from adapters.pg.repository import PgFileRepository, replay
from adapters.pg.store import PostgresEventStore, StoredEvent
from adapters.services import demo
from domain.errors import NotFound
from domain.policy import Parameters, PolicyBook, RegionalPolicy, policy_id
from domain.values import Actor, Role

_POLICY_EVENTS = (
    "SELECT position, xid::text::bigint AS xid, stream_id, version, type, payload, recorded_at,"
    " unit, hash, refers_to FROM events WHERE type LIKE 'policy.%' ORDER BY stream_id, version"
)
DEMO_ADMIN = Actor("demo-admin", demo.PROVINCE[0], Role.ADMIN)
DEMO_EFFECTIVE_ON = date(2015, 1, 1)


def _policies(codec: EventCodec, rows: Iterable[StoredEvent]) -> dict[str, RegionalPolicy]:
    streams: dict[UUID, list[StoredEvent]] = {}
    for row in rows:
        streams.setdefault(row.stream_id, []).append(row)
    found: dict[str, RegionalPolicy] = {}
    for events in streams.values():
        if events[0].type != "policy.opened":
            continue  # not a whole stream: nothing to replay
        policy = cast(RegionalPolicy, replay(codec, events))
        found[policy.region] = policy
    return found


class PgPolicies:
    """The regional policies in the event store."""

    def __init__(self, store: PostgresEventStore, codec: EventCodec) -> None:
        self.store = store
        self.codec = codec

    async def book(self, *, conn: Conn | None = None) -> PolicyBook:
        """Every region's parameters, replayed from their streams."""
        runner = conn if conn is not None else self.store.pool
        rows = await runner.fetch(_POLICY_EVENTS)
        return PolicyBook(_policies(self.codec, (StoredEvent(*r) for r in rows)))

    async def events(self, region: str) -> list[StoredEvent]:
        """The events of one region's stream (empty when it has none of its own)."""
        return await self.store.read_stream(policy_id(region))

    async def get(self, region: str) -> RegionalPolicy:
        events = await self.events(region)
        if not events:
            raise NotFound(f"no parameters for region {region}", zh=f"地区{region}尚未设置参数")
        return cast(RegionalPolicy, replay(self.codec, events))

    async def set_parameters(
        self, *, actor: Actor, region: str, parameters: Parameters, reason: str
    ) -> RegionalPolicy:
        """Set every parameter of `region` from `parameters.effective_on` on (an admin whose
        unit holds the region), opening the region's stream if it has none yet."""
        events = await self.events(region)
        policy = (
            cast(RegionalPolicy, replay(self.codec, events))
            if events
            else RegionalPolicy.open(actor=actor, region=region)
        )
        policy.set(actor=actor, parameters=parameters, reason=reason)
        await PgFileRepository(self.store, self.codec).record(policy)
        return policy


async def seed_demo_policies(
    policies: PgPolicies,
    *,
    actor: Actor = DEMO_ADMIN,
    effective_on: date = DEMO_EFFECTIVE_ON,
) -> int:
    """Open the demo province's city regions ("130100" …) with their `demo.CITIES` poverty lines
    from `effective_on`; regions that already have parameters are left alone. Returns the
    number of regions opened."""
    opened = []
    for city, (name, line) in demo.CITIES.items():
        region = f"{city}00"
        if await policies.events(region):
            continue
        policy = RegionalPolicy.open(actor=actor, region=region)
        policy.set(
            actor=actor,
            parameters=Parameters(effective_on, line),
            reason=f"演示数据：{name.removesuffix('总工会')}低保标准{line}元/人·月",
        )
        opened.append(policy)
    if opened:
        await PgFileRepository(policies.store, policies.codec).record(*opened)
    return len(opened)
