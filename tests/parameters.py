"""The regional parameters a test database starts with: decisions are judged by the parameters
in force (docs/rules.md), so a node that approves files needs some. The whole province (130000)
gets the line the tests' bodies use (550 yuan, Funing's 2018 line) from 2015; a test about other
values sets its region's own, which come before the province's."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import asyncpg

from adapters.pg.codec import EventCodec
from adapters.pg.policies import PgPolicies
from adapters.pg.store import PostgresEventStore
from domain.policy import Parameters
from domain.values import Actor, Role

PROVINCE_REGION = "130000"
LINE = Decimal("550")
EFFECTIVE_ON = date(2015, 1, 1)
TEST_ADMIN = Actor("test-admin", "13", Role.ADMIN)


async def set_province_parameters(pool: asyncpg.Pool) -> None:
    """Give the province its parameters (once: a database that has them is left alone)."""
    policies = PgPolicies(PostgresEventStore(pool), EventCodec())
    if await policies.events(PROVINCE_REGION):
        return
    await policies.set_parameters(
        actor=TEST_ADMIN,
        region=PROVINCE_REGION,
        parameters=Parameters(EFFECTIVE_ON, LINE),
        reason="测试数据：全省低保标准550元/人·月",
    )
