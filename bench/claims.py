"""What 一户一档 costs the write path: files opened and investigated with claims kept (the
repository with the hash key, as the service runs) against the same work without (the path
before the rule), side by side in one process.

    .venv/bin/python bench/claims.py --quick     # 300 files a round, 3 rounds
    .venv/bin/python bench/claims.py             # 1,000 files a round, 5 rounds

Two fresh databases of one server, personal data encrypted on both (`common.encrypting`). Each
round, on each side (which goes first alternates), 16 clerks at once:

  open    open `files` new files (`open_file`): with claims, each is its own transaction with
          the claim; without, the store merges concurrent single-event appends;
  verify  record the home investigation of each (one member: a second claim);
  assist  record one assistance on each of the round's earlier files — no claim changes, so
          both sides take the merged path (the ratio should be ~1).

Reported: the median of the per-round ratios with / without (rates; 1.0 means free). The
machine is shared and noisy; absolute figures are context only.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
import sys
import time
import warnings
from collections.abc import Awaitable, Callable
from datetime import date
from decimal import Decimal
from itertools import count
from uuid import UUID

import structlog
from common import FixedClock, admin, encrypting, server, with_database

from adapters.pg.migrations import migrate
from adapters.pg.repository import PgFileRepository
from adapters.runtime.bootstrap import open_pool
from domain.commands import Apply, Appraise, Approve, Assist, Verify
from domain.eligibility import Exclusions
from domain.household import Head, Member
from domain.idnumber import make_id_number
from domain.policy import Parameters, PolicyBook, RegionalPolicy
from domain.privacy import keyed_hash
from domain.usecases import act_on_file, open_file
from domain.values import (
    Actor,
    AssistanceKind,
    Cause,
    Department,
    FileLevel,
    MemberStatus,
    Relation,
    Role,
    WorkerKind,
)

TODAY = date(2026, 6, 30)
HASH_KEY = b"bench-claims-hash-key-" + b"h" * 16
BASE = "130306001"
CLERK = Actor("bench-clerk", BASE, Role.CLERK)
CLERKS = 16
PARAMETERS = Parameters(date(2015, 1, 1), Decimal("550"))
_people = count(1)


class Policies:
    """The `Policies` port: the Funing line in force for the whole province."""

    def __init__(self) -> None:
        admin_actor = Actor("bench-admin", "13", Role.ADMIN)
        policy = RegionalPolicy.open(actor=admin_actor, region="130000")
        policy.set(actor=admin_actor, parameters=PARAMETERS, reason="bench")
        self._book = PolicyBook({"130000": policy})

    async def book(self) -> PolicyBook:
        return self._book


POLICIES = Policies()


def person() -> str:
    n = next(_people)
    return make_id_number("130306", date(1970, 1, 1 + n // 1000 % 28), n % 1000).value


def applying() -> Apply:
    return Apply(
        establishing_unit=BASE,
        worker_kind=WorkerKind.URBAN,
        head=Head("张三", person()),
        applied_on=date(2026, 3, 2),
        authorisation_signed=True,
    )


def verifying() -> Verify:
    return Verify(
        verified_on=date(2026, 3, 9),
        investigators=("赵一", "钱二"),
        members=(Member("王五", Relation.SPOUSE, person(), MemberStatus.UNEMPLOYED),),
        annual_income=Decimal("9600"),
        rigid_expenses=Decimal("1200"),
        exclusions=Exclusions(),
        primary_cause=Cause.ILLNESS,
        parameters=PARAMETERS,
    )


ASSIST = Assist(
    assisted_on=date(2026, 4, 1),
    kind=AssistanceKind.LIVING_AID,
    amount=Decimal("500.00"),
    department=Department.UNION,
    helper="孙三",
)


async def at_once(work: list[Callable[[], Awaitable[object]]]) -> float:
    """Run `work` with CLERKS at a time; items per second."""
    gate = asyncio.Semaphore(CLERKS)

    async def one(item: Callable[[], Awaitable[object]]) -> None:
        async with gate:
            await item()

    started = time.perf_counter()
    await asyncio.gather(*(one(w) for w in work))
    return len(work) / (time.perf_counter() - started)


async def round_of(files: PgFileRepository, n: int, assisted: list[UUID]) -> dict[str, float]:
    clock = FixedClock(TODAY)
    opened: list[UUID] = []

    async def opening() -> None:
        opened.append(
            (await open_file(files=files, clock=clock, actor=CLERK, command=applying())).id
        )

    def acting(file_id: UUID, command: object) -> Callable[[], Awaitable[object]]:
        return lambda: act_on_file(
            files=files,
            clock=clock,
            actor=CLERK,
            file_id=file_id,
            command=command,  # type: ignore[arg-type]
            policies=POLICIES,
        )

    rates = {"open (files/s)": await at_once([opening] * n)}
    rates["verify with a member (files/s)"] = await at_once(
        [acting(f, verifying()) for f in opened]
    )
    # assistance needs an approved file: the round's assists go to files approved at the start
    rates["assist, no claim change (events/s)"] = await at_once(
        [acting(f, ASSIST) for f in assisted]
    )
    return rates


async def approved_files(files: PgFileRepository, n: int) -> list[UUID]:
    clock = FixedClock(TODAY)
    approver = Actor("bench-approver", "130306", Role.APPROVER)
    made = []
    for _ in range(n):
        household = await open_file(files=files, clock=clock, actor=CLERK, command=applying())
        for actor, command in (
            (CLERK, verifying()),
            (
                CLERK,
                Appraise(
                    appraised_on=date(2026, 3, 12),
                    minutes_on_file=True,
                    publicity_start=date(2026, 3, 13),
                    publicity_end=date(2026, 3, 20),
                    parameters=PARAMETERS,
                ),
            ),
            (approver, Approve(approved_on=date(2026, 3, 25), file_level=FileLevel.DISTRICT)),
        ):
            await act_on_file(
                files=files,
                clock=clock,
                actor=actor,
                file_id=household.id,
                command=command,  # type: ignore[arg-type]
                policies=POLICIES,
            )
        made.append(household.id)
    return made


async def run(args: argparse.Namespace, url: str) -> None:
    names = {"with claims": "bfbench_claims_on", "without": "bfbench_claims_off"}
    sides: dict[str, tuple[PgFileRepository, list[UUID]]] = {}
    pools = []
    try:
        for side, database in names.items():
            await admin(url, f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
            await admin(url, f'CREATE DATABASE "{database}"')
            pool = await open_pool(with_database(url, database), size=CLERKS + 4)
            pools.append(pool)
            async with pool.acquire() as conn:
                await migrate(conn)
            store, codec = encrypting(pool)
            hasher = (lambda n: keyed_hash(HASH_KEY, n)) if side == "with claims" else None
            files = PgFileRepository(store, codec, hasher=hasher)
            sides[side] = (files, await approved_files(files, args.files))
        ratios: dict[str, list[float]] = {}
        rates: dict[str, dict[str, list[float]]] = {}
        for number in range(args.rounds):
            order = list(names) if number % 2 == 0 else list(reversed(names))
            got: dict[str, dict[str, float]] = {}
            for side in order:
                files, assisted = sides[side]
                got[side] = await round_of(files, args.files, assisted)
            for name in got["with claims"]:
                on, off = got["with claims"][name], got["without"][name]
                ratios.setdefault(name, []).append(on / off)
                rates.setdefault(name, {"on": [], "off": []})
                rates[name]["on"].append(on)
                rates[name]["off"].append(off)
                print(
                    f"round {number + 1}/{args.rounds}  {name:<36} with {on:>7,.0f}"
                    f"  without {off:>7,.0f}  ratio {on / off:.2f}",
                    flush=True,
                )
    finally:
        for pool in pools:
            await pool.close()
        for database in names.values():
            await admin(url, f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    print()
    print(f"{args.files:,} files a round, {CLERKS} clerks at once; {args.rounds} rounds; medians")
    print()
    print("| measurement | with claims | without | with / without (median) | each round |")
    print("|---|---:|---:|---:|---|")
    for name, each in ratios.items():
        print(
            f"| {name} | {statistics.median(rates[name]['on']):,.0f}"
            f" | {statistics.median(rates[name]['off']):,.0f} | {statistics.median(each):.2f}"
            f" | {', '.join(f'{r:.2f}' for r in each)} |"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="300 files a round, 3 rounds")
    parser.add_argument("--files", type=int, help="files a round (default 1,000)")
    parser.add_argument("--rounds", type=int, help="rounds (default 5)")
    args = parser.parse_args(argv)
    args.files = args.files or (300 if args.quick else 1_000)
    args.rounds = args.rounds or (3 if args.quick else 5)
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR")
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    with server() as url:
        asyncio.run(run(args, url))
    return 0


if __name__ == "__main__":
    sys.exit(main())
