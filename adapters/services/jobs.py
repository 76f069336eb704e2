"""Background jobs: a spot-check that takes longer than a request should wait runs after the
request is answered, and reports how far it has come (`adapters/pg/jobs.py`, migration 0015).

The request is checked before the job starts — who may, and whether the parameters make a
sample (`authorise_check`, `check_request`) — so a refusal is the request's answer, not a failed
job. The job runs in the server process that took the request; its progress is written to the
database as files are checked, so every server process answers `GET /api/v1/jobs/{id}`. A job is
read only by the account that started it (another's is not found). A server stopped while a job
runs leaves it `running`, its `updated_at` no longer moving: start it again (the sample drawn from
the same seed at a new log position).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime
from uuid import UUID, uuid4

import structlog

from adapters.pg.codec import EventCodec
from adapters.pg.jobs import Job, PgJobs
from adapters.pg.store import PostgresEventStore
from adapters.services.spotcheck import Request, run_spot_check
from domain.errors import DomainError, NotFound
from domain.spotcheck import authorise_check, check_request
from domain.units import UnitCode
from domain.values import Actor

log = structlog.get_logger(__name__)

SPOT_CHECK = "spot_check"
_RUNNING: set[asyncio.Task[None]] = set()  # held until done: a task nobody holds may vanish


def _now() -> datetime:
    return datetime.now(UTC)


async def start_spot_check(
    *,
    jobs: PgJobs,
    store: PostgresEventStore,
    codec: EventCodec,
    actor: Actor,
    request: Request,
    now: Callable[[], datetime] = _now,
) -> Job:
    """Check the request, start the spot-check as a job, return the job (running)."""
    scope = UnitCode(request.scope)
    authorise_check(actor, scope)
    check_request(
        scope,
        strata=request.strata,
        sample_size=request.sample,
        fraction=request.fraction,
        seed=request.seed,
    )
    job_id = uuid4()
    await jobs.start(job_id, SPOT_CHECK, actor.user, actor.unit, now())
    pending: set[asyncio.Task[None]] = set()

    def progress(done: int, total: int) -> None:
        task = asyncio.get_running_loop().create_task(jobs.progress(job_id, done, total, now()))
        pending.add(task)
        task.add_done_callback(pending.discard)

    async def work() -> None:
        try:
            check = await run_spot_check(
                store=store, codec=codec, actor=actor, request=request, progress=progress
            )
            await asyncio.gather(*pending)
            await jobs.finish(job_id, check.id, len(check.sample), now())
            log.info("job.done", job_id=str(job_id), spot_check_id=str(check.id))
        except DomainError as error:
            await jobs.fail(job_id, error.zh, now())
        except Exception as error:
            log.exception("job.failed", job_id=str(job_id))
            await jobs.fail(job_id, f"{type(error).__name__}", now())

    task = asyncio.get_running_loop().create_task(work())
    _RUNNING.add(task)
    task.add_done_callback(_RUNNING.discard)
    found = await jobs.get(job_id)
    if found is None:
        raise NotFound(f"no job {job_id}", zh="任务不存在")
    return found


async def read(jobs: PgJobs, actor: Actor, job_id: UUID) -> Job:
    """A job of `actor`'s own (another account's is not found)."""
    job = await jobs.get(job_id)
    if job is None or (job.owner_user, job.owner_unit) != (actor.user, actor.unit):
        raise NotFound(f"no job {job_id}", zh="任务不存在")
    return job
