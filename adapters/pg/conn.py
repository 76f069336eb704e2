"""One name for a connection that runs SQL, whoever opened it.

`asyncpg.connect` gives a `Connection`; `pool.acquire()` gives a `PoolConnectionProxy` that
forwards every call to one. They answer the same queries, but asyncpg's type stubs keep them
apart, so every function that only runs SQL on a connection takes `Conn`.
"""

from __future__ import annotations

from typing import TypeAlias

import asyncpg
from asyncpg.pool import PoolConnectionProxy

Conn: TypeAlias = asyncpg.Connection | PoolConnectionProxy
