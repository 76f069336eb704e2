"""Which errors mean "the database is away for now" — retry later — rather than a bug.

The HTTP edge answers these with 503 and `Retry-After` (adapters/http/problems.py); the background
loops (projection runner, notifications) log them, back off and try again. Anything else is a
bug or a refusal and is treated as one.

What a PostgreSQL restart looks like to asyncpg (tests/e2e/test_database_restart_gives_503.py):
a statement running when the server stops fails with `ConnectionDoesNotExistError` (class 08) or
`AdminShutdownError` (57P01); connecting while it shuts down or starts up fails with
`CannotConnectNowError` (57P03); connecting while it is down fails with an `OSError`
(`ConnectionRefusedError` over TCP, `FileNotFoundError` for a missing Unix socket); a pooled
connection the server closed under a request is detached by the pool, and the request's next
statement fails with an `InterfaceError` ("connection is closed", "released back to the pool"),
or — when the server's goodbye arrives while the statement is being sent — with asyncpg's
`InternalClientError` ("cannot switch to state …; another operation is in progress"; two tasks
sharing one connection get an `InterfaceError` instead, which stays a bug).
A pool with no free connection within its bound, or a connection attempt that does not finish,
raises `TimeoutError`.
"""

from __future__ import annotations

import asyncpg
from asyncpg import exceptions

# SQLSTATE classes 08 (connection exception), 57 (operator intervention: shutdown, cannot connect
# now, query cancelled by statement_timeout) and 53 (insufficient resources: too many
# connections), and a session ended by idle_in_transaction_session_timeout (25P03).
_UNAVAILABLE = (
    exceptions.PostgresConnectionError,
    exceptions.OperatorInterventionError,
    exceptions.InsufficientResourcesError,
    exceptions.IdleInTransactionSessionTimeoutError,
    OSError,  # includes ConnectionError, FileNotFoundError (Unix socket) and TimeoutError
    exceptions.InternalClientError,
)

# asyncpg reports a connection lost under its user as a bare InterfaceError; these are its words.
_LOST = ("connection is closed", "released back to the pool", "pool is closing")


def is_unavailable(error: BaseException) -> bool:
    """True when `error` — or the error it was raised while handling — says the database cannot
    be reached or refused service for now, so the same request may succeed later."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, _UNAVAILABLE):
            return True
        if isinstance(current, asyncpg.InterfaceError) and any(
            words in str(current) for words in _LOST
        ):
            return True
        current = current.__cause__ or current.__context__
    return False


def backoff(failures: int, *, first: float, cap: float) -> float:
    """Seconds to wait after `failures` failures in a row: `first`, doubling, at most `cap`."""
    return float(min(cap, first * 2 ** max(0, failures - 1)))
