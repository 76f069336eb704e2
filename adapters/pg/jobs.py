"""The `jobs` table (migration 0015): background jobs and how far each has come."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import asyncpg


@dataclass(frozen=True)
class Job:
    id: UUID
    kind: str
    owner_user: str
    owner_unit: str
    state: str  # running, done, failed
    done: int
    total: int
    result: UUID | None
    error: str | None
    started_at: datetime
    updated_at: datetime


class PgJobs:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def start(self, job_id: UUID, kind: str, user: str, unit: str, at: datetime) -> None:
        await self.pool.execute(
            "INSERT INTO jobs (id, kind, owner_user, owner_unit, state, started_at, updated_at)"
            " VALUES ($1, $2, $3, $4, 'running', $5, $5)",
            job_id,
            kind,
            user,
            unit,
            at,
        )

    async def progress(self, job_id: UUID, done: int, total: int, at: datetime) -> None:
        # progress reports may land out of order: never move backwards
        await self.pool.execute(
            "UPDATE jobs SET done = $2, total = $3, updated_at = $4"
            " WHERE id = $1 AND state = 'running' AND done <= $2",
            job_id,
            done,
            total,
            at,
        )

    async def finish(self, job_id: UUID, result: UUID, total: int, at: datetime) -> None:
        await self.pool.execute(
            "UPDATE jobs SET state = 'done', result = $2, done = $3, total = $3, updated_at = $4"
            " WHERE id = $1",
            job_id,
            result,
            total,
            at,
        )

    async def fail(self, job_id: UUID, error: str, at: datetime) -> None:
        await self.pool.execute(
            "UPDATE jobs SET state = 'failed', error = $2, updated_at = $3 WHERE id = $1",
            job_id,
            error[:500],
            at,
        )

    async def get(self, job_id: UUID) -> Job | None:
        row = await self.pool.fetchrow(
            "SELECT id, kind, owner_user, owner_unit, state, done, total, result, error,"
            " started_at, updated_at FROM jobs WHERE id = $1",
            job_id,
        )
        return None if row is None else Job(**dict(row))
