"""Rate limits: failed authentications per client address, tokens minted per admin, unmasked
reads per user. A limited request is refused with 429 and `Retry-After` (`problems.py`).

Each limit is a generic cell rate algorithm (GCRA, the "leaky bucket as a meter"): `count` per
`period` with bursts up to `count`, kept as one float per key — the time at which the key's bucket
would be empty again. It is exact (no window edges to time a burst against) and answers how long
to wait. See https://brandur.org/rate-limiting for the algorithm.

The state is held in this process. `bangfu serve --workers N` runs N processes, each with its own
counters, so a client spread over N workers gets up to N times the limit (docs/security.md); the
kernel hands a keep-alive connection to one worker, so a single client mostly meets one of them.
Nothing here is written to the database: a limit that refuses a request writes nothing.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from adapters.runtime.settings import Settings
from domain.errors import DomainError

# Far more keys than honest clients; beyond it, the keys idle longest are forgotten first
MAX_KEYS = 100_000
_EPSILON = 1e-9  # `count` intervals of `period / count` may add up to a hair over `period`


class RateLimited(DomainError):
    """Too many requests of one kind from one caller: try again after `retry_after` seconds."""

    code = "too_many_requests"

    def __init__(self, message: str, *, zh: str, retry_after: float) -> None:
        super().__init__(message, zh=zh)
        self.retry_after = max(1, math.ceil(retry_after))


class Limiter:
    """At most `count` events per `period` seconds for each key, in bursts of up to `count`."""

    def __init__(
        self,
        *,
        count: int,
        period: float,
        what: str,
        what_zh: str,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = MAX_KEYS,
    ) -> None:
        if count < 1 or period <= 0:
            raise ValueError(f"a rate limit needs count >= 1 and period > 0, not {count}/{period}")
        self.count = count
        self.period = float(period)
        self.interval = self.period / count
        self.what = what
        self.what_zh = what_zh
        self.clock = clock
        self.max_keys = max_keys
        self._empty_at: dict[str, float] = {}  # key → when its bucket has drained completely

    def wait(self, key: str) -> float:
        """Seconds until `key` may have one more event (0.0: now), without counting one."""
        now = self.clock()
        empty_at = max(self._empty_at.get(key, now), now)
        wait = empty_at + self.interval - self.period - now
        return wait if wait > _EPSILON else 0.0

    def take(self, key: str) -> float:
        """Count one event of `key` if it is allowed now and return 0.0; otherwise count nothing
        and return the seconds to wait."""
        wait = self.wait(key)
        if wait:
            return wait
        now = self.clock()
        empty_at = max(self._empty_at.pop(key, now), now) + self.interval
        self._empty_at[key] = empty_at  # re-inserted last: the dict's order is least recent first
        if len(self._empty_at) > self.max_keys:
            self._forget(now)
        return 0.0

    def refused(self, wait: float) -> RateLimited:
        seconds = max(1, math.ceil(wait))
        return RateLimited(
            f"too many {self.what}: at most {self.count} per {self.period:g} s;"
            f" try again in {seconds} s",
            zh=f"{self.what_zh}过于频繁（每{self.period:g}秒最多{self.count}次），请{seconds}秒后再试",
            retry_after=wait,
        )

    def check(self, key: str) -> None:
        """Count one event of `key`, or raise `RateLimited` (counting nothing)."""
        wait = self.take(key)
        if wait:
            raise self.refused(wait)

    def check_not_exhausted(self, key: str) -> None:
        """Raise `RateLimited` if `key` has no event left now; count nothing either way."""
        wait = self.wait(key)
        if wait:
            raise self.refused(wait)

    def _forget(self, now: float) -> None:
        """Drop the keys whose buckets have drained; if still too many, the least recent ones."""
        for key in [k for k, empty_at in self._empty_at.items() if empty_at <= now]:
            del self._empty_at[key]
        excess = len(self._empty_at) - self.max_keys
        for key in list(self._empty_at)[: max(0, excess)]:
            del self._empty_at[key]

    def __len__(self) -> int:
        return len(self._empty_at)


@dataclass(frozen=True)
class Limits:
    """The API's rate limits, one set per process."""

    failed_auth: Limiter  # by client address: bad, expired or forged tokens
    minting: Limiter  # by admin (user@unit): tokens minted over HTTP
    unmasking: Limiter  # by user (user@unit): reads with `?unmask=true`
    printing: Limiter  # by user (user@unit): printed forms (a disclosure on paper)

    @classmethod
    def from_settings(
        cls, settings: Settings, *, clock: Callable[[], float] = time.monotonic
    ) -> Limits:
        return cls(
            failed_auth=Limiter(
                count=settings.auth_failures_per_minute,
                period=60,
                what="failed authentications from this address",
                what_zh="认证失败",
                clock=clock,
            ),
            minting=Limiter(
                count=settings.mints_per_minute,
                period=60,
                what="tokens minted",
                what_zh="签发令牌",
                clock=clock,
            ),
            unmasking=Limiter(
                count=settings.unmasks_per_minute,
                period=60,
                what="reads of unmasked personal data",
                what_zh="查看未脱敏个人信息",
                clock=clock,
            ),
            printing=Limiter(
                count=settings.prints_per_minute,
                period=60,
                what="printed forms",
                what_zh="打印表单",
                clock=clock,
            ),
        )


def principal(user: str, unit: str) -> str:
    """The key of a person's limits: the same user name in another unit is another person."""
    return f"{user}@{unit}"
