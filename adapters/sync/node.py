"""Node settings, read from the environment at the composition root (never at import time).

    BANGFU_NODE_CODE       this node's code, e.g. "130306" (default: the subtree)
    BANGFU_NODE_SUBTREE    the subtree it owns and serves upstream (default: the code; with
                           neither, the feed serves the subtree of the caller's sync token)
    BANGFU_NODE_UPSTREAM   the URL of the node it reports to (informational, shown at /node)
    BANGFU_DOWNSTREAMS     JSON list of {"code", "url", "token", "key"}: the nodes it pulls
                           from; "key" (optional) is the sync key shared with that node
    BANGFU_SYNC_INTERVAL   seconds between polls of a caught-up downstream (default 1)
    BANGFU_SYNC_PAGE       events asked for per page of a downstream's feed (default 2000)
    BANGFU_SYNC_ATTACHMENTS_IN_FLIGHT
                           a page's attachments read from a downstream at the same time
                           (default 8; 1 reads them one after another)
    BANGFU_UPSTREAM_KEY    the sync key shared with the upstream node: the feed carries the data
                           keys of personal data wrapped under it (without it, none)

A sync key is 32 random bytes in base64 (`python -c "import os,base64;
print(base64.b64encode(os.urandom(32)).decode())"`), the same on both nodes of a pair. With it
the upstream node can read — and show its inspectors — the personal data of the files it pulls;
a key destroyed downstream (an erasure) is destroyed upstream with the pulled erasure.

The node's epoch is not a setting: it lives in the database (`sync_node`), generated with the
schema, and is changed by `bangfu sync new-epoch` after a restore from backup.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field

import asyncpg

from adapters.pg.conn import Conn
from adapters.pii.sealing import parse_key
from adapters.sync.feed import MAX_LIMIT
from domain.errors import InvalidValue
from domain.units import UnitCode

MAX_IN_FLIGHT = 64  # attachments read at once from one downstream: more only loads it


@dataclass(frozen=True)
class Downstream:
    code: str  # the subtree the downstream owns: every event it serves must lie in it
    url: str
    token: str
    key: bytes | None = field(default=None, repr=False)  # the sync key shared with it

    def __post_init__(self) -> None:
        UnitCode(self.code)
        if not self.url.startswith(("http://", "https://")):
            raise InvalidValue("url", f"a downstream URL is http(s): {self.url!r}", zh="地址无效")


@dataclass(frozen=True)
class NodeSettings:
    code: str | None = None
    subtree: str | None = None
    upstream: str | None = None
    downstreams: tuple[Downstream, ...] = field(default_factory=tuple)
    interval: float = 1.0
    page: int = 2000
    attachments_in_flight: int = 8
    upstream_key: bytes | None = field(default=None, repr=False)  # shared with the upstream

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> NodeSettings:
        env = dict(os.environ) if env is None else env
        code = env.get("BANGFU_NODE_CODE") or None
        subtree = env.get("BANGFU_NODE_SUBTREE") or code
        for value in (code, subtree):
            if value is not None:
                UnitCode(value)
        return cls(
            code=code or subtree,
            subtree=subtree,
            upstream=env.get("BANGFU_NODE_UPSTREAM") or None,
            downstreams=parse_downstreams(env.get("BANGFU_DOWNSTREAMS") or "[]"),
            interval=float(env.get("BANGFU_SYNC_INTERVAL") or 1.0),
            page=_page(env.get("BANGFU_SYNC_PAGE") or "2000"),
            attachments_in_flight=_in_flight(env.get("BANGFU_SYNC_ATTACHMENTS_IN_FLIGHT") or "8"),
            upstream_key=_sync_key(env.get("BANGFU_UPSTREAM_KEY"), "BANGFU_UPSTREAM_KEY"),
        )


def _page(text: str) -> int:
    """A page size the feed serves: 1 to its maximum."""
    if not text.isdigit() or not 1 <= int(text) <= MAX_LIMIT:
        raise InvalidValue(
            "BANGFU_SYNC_PAGE", f"1 to {MAX_LIMIT} events, not {text!r}", zh="同步页大小无效"
        )
    return int(text)


def _in_flight(text: str) -> int:
    """How many attachments a pull reads at the same time: 1 to 64."""
    if not text.isdigit() or not 1 <= int(text) <= MAX_IN_FLIGHT:
        raise InvalidValue(
            "BANGFU_SYNC_ATTACHMENTS_IN_FLIGHT",
            f"1 to {MAX_IN_FLIGHT} attachments, not {text!r}",
            zh="同步附件并发数无效",
        )
    return int(text)


def _sync_key(text: str | None, what: str) -> bytes | None:
    if not text:
        return None
    try:
        return parse_key(text, what)
    except ValueError as error:
        raise InvalidValue(what, str(error), zh="同步密钥应为32字节的base64") from None


def parse_downstreams(text: str) -> tuple[Downstream, ...]:
    """`[{"code": "130306", "url": "http://…", "token": "…", "key": "…"}, …]` → downstreams
    ("key", the sync key shared with the downstream, is optional)."""
    try:
        items = json.loads(text)
    except json.JSONDecodeError as error:
        raise InvalidValue(
            "BANGFU_DOWNSTREAMS", f"not JSON: {error}", zh="下级节点配置无效"
        ) from None
    if not isinstance(items, list):
        raise InvalidValue("BANGFU_DOWNSTREAMS", "a JSON list", zh="下级节点配置应为列表")
    found = []
    for item in items:
        if not isinstance(item, dict) or not {"code", "url", "token"} <= set(item) <= {
            "code",
            "url",
            "token",
            "key",
        }:
            raise InvalidValue(
                "BANGFU_DOWNSTREAMS",
                "each item is {code, url, token[, key]}",
                zh="下级节点配置无效",
            )
        found.append(
            Downstream(
                str(item["code"]),
                str(item["url"]).rstrip("/"),
                str(item["token"]),
                _sync_key(item.get("key"), f"BANGFU_DOWNSTREAMS key of {item['code']}"),
            )
        )
    codes = [d.code for d in found]
    if len(set(codes)) != len(codes):
        raise InvalidValue("BANGFU_DOWNSTREAMS", "each code once", zh="下级节点重复")
    return tuple(found)


async def epoch(runner: asyncpg.Pool | Conn) -> str:
    """This database's epoch (see the module docstring)."""
    return str(await runner.fetchval("SELECT epoch FROM sync_node"))


async def new_epoch(runner: asyncpg.Pool | Conn) -> str:
    """Give this database a new epoch — run it on a node restored from a backup, before serving."""
    return str(
        await runner.fetchval(
            "UPDATE sync_node SET epoch = gen_random_uuid()::text, changed_at = now()"
            " RETURNING epoch"
        )
    )
