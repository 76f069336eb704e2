"""Routes of upstream sync.

    GET /api/v1/sync/feed?after=CURSOR&limit=N   the subtree's events in commit-safe order
                                                 (a `sync`-role token; JSON, or MessagePack on
                                                 `Accept: application/msgpack`)
    GET /api/v1/sync/feed/count?after=CURSOR     how many of the subtree's events lie after it
    GET /api/v1/sync/attachments/{id}/chunks/{n} chunk n of an attachment's content, sealed as
                                                 stored (its layout in X-Bangfu-* headers)
    GET /api/v1/node                             this node: code, subtree, epoch, upstream,
                                                 downstreams (without their tokens)
    GET /api/v1/sync/status                      per downstream: cursor, events behind, last
                                                 success, last error, quarantined, alerts

The feed serves the node's subtree (BANGFU_NODE_SUBTREE), narrowed to the token's unit when that
lies inside it; a token for a unit outside the subtree is refused (403, rule `sync_scope`).
`routes(problems, node)` builds the handlers as `adapters.http.readmodels` does; without `node`
the node settings are read from the environment when the routes are built (the composition
root), never at import. Like `app.py`, no `from __future__ import annotations`.
"""

from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Request, Response, get
from litestar.di import NamedDependency
from litestar.openapi import ResponseSpec
from litestar.params import FromPath, QueryParameter
from litestar.response.base import ASGIResponse
from litestar.response.streaming import ASGIStreamingResponse

from adapters.pg.rows import Cursor
from adapters.runtime.bootstrap import Runtime
from adapters.sync import feed
from adapters.sync.node import NodeSettings, epoch
from adapters.sync.pull import DownstreamStatus, status
from domain.authorization import Act, authorise, sync_feed_scope
from domain.errors import NotFound
from domain.units import UnitCode
from domain.values import Actor

API = "/api/v1"
SYNC_PROBLEMS = {400, 401, 403, 422, 429}  # 422: a cursor that is not one


class DownstreamOut(msgspec.Struct, kw_only=True):
    code: str
    url: str


class NodeOut(msgspec.Struct, kw_only=True):
    code: str | None
    subtree: str | None
    epoch: str
    upstream: str | None
    downstreams: list[DownstreamOut]


class StatusOut(msgspec.Struct, kw_only=True):
    node: str | None
    epoch: str
    downstreams: list[DownstreamStatus]


def feed_scope(node: NodeSettings, actor: Actor) -> str:
    """The subtree a sync token may read: the node's subtree, or the token's unit inside it."""
    served = UnitCode(node.subtree) if node.subtree is not None else None
    return sync_feed_scope(actor, served).value


def _media(request: Request[Any, Any, Any]) -> str:
    accept = request.headers.get("accept", "")
    return feed.MSGPACK if feed.MSGPACK in accept else "application/json"


def routes(problems: dict[int, ResponseSpec], node: NodeSettings) -> list[Any]:
    """The sync route handlers for this node (its settings as read at the entry)."""
    settings = node
    responses = {status: spec for status, spec in problems.items() if status in SYNC_PROBLEMS}

    @get(
        f"{API}/sync/feed",
        responses={
            **responses,
            200: ResponseSpec(
                data_container=feed.Page,
                description="a page of the feed (streamed; MessagePack on request)",
                generate_examples=False,
            ),
        },
        tags=["sync"],
        summary="数据同步 — the subtree's events after a cursor, for an upstream node",
        description="Events of the node's subtree in commit-safe log order, each with its "
        "stream, version, type, payload (as stored: base64 in JSON), recorded time, unit, "
        "refers_to, hash and origin (node, epoch); personal fields encrypted as stored, and "
        "with a sync key shared with the upstream (BANGFU_UPSTREAM_KEY) the data keys of the "
        "page's streams wrapped under it (`keys`). Continue from `cursor` while `more` is true; "
        "`head` is the last readable event of the whole log. A `sync` token is required. "
        "Send `Accept: application/msgpack` for MessagePack with raw bytes. `after_in_log` is "
        "false when the event at `after` is no longer in the log (restored from a backup). The "
        "page is streamed: its events are read and sent a chunk at a time.",
        media_type="application/json",
    )
    async def read_feed(
        request: Request[Any, Any, Any],
        actor: NamedDependency[Actor],
        rt: NamedDependency[Runtime],
        after: Annotated[str | None, QueryParameter(max_length=64)] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=feed.MAX_LIMIT)] = 1000,
    ) -> ASGIResponse:
        scope = feed_scope(settings, actor)
        cursor = Cursor.decode(after)
        # planned here, so a bad request or an unreachable database is still a problem+json
        # answer; the events follow in a stream (adapters.sync.feed: "Streaming")
        async with rt.pool.acquire() as conn:
            plan = await feed.plan_page(
                conn,
                node=settings.code or scope,
                subtree=scope,
                after=cursor,
                limit=limit,
                keyring=rt.keyring,
                sync_key=settings.upstream_key,
            )
        media = _media(request)
        # the low-level response: litestar's `Stream` would take the route's media type over ours
        return ASGIStreamingResponse(
            iterator=feed.stream_page(rt.pool, plan, media), media_type=media
        )

    @get(
        f"{API}/sync/attachments/{{attachment_id:uuid}}/chunks/{{seq:int}}",
        responses={**responses, 404: problems[404]},
        tags=["sync"],
        summary="附件同步 — one sealed chunk of an attachment's content, for an upstream node",
        description="Chunk `seq` (from 0) of the content of an attachment of a file of the "
        "subtree, exactly as stored: sealed (AES-GCM) with the household's data key, which "
        "travels wrapped in the feed's `keys`. Headers: `X-Bangfu-Stream` (the file), "
        "`X-Bangfu-Size` (bytes of content), `X-Bangfu-Chunks` (how many chunks), "
        "`X-Bangfu-Sha256` (of the content as uploaded, as the event records it). A `sync` token "
        "is required; one of a file outside the subtree is 404, as a missing one.",
        media_type="application/octet-stream",
    )
    async def read_attachment_chunk(
        actor: NamedDependency[Actor],
        rt: NamedDependency[Runtime],
        attachment_id: FromPath[UUID],
        seq: FromPath[int],
    ) -> Response[bytes]:
        scope = feed_scope(settings, actor)
        found = (
            None
            if seq < 0
            else await feed.sealed_chunk(
                rt.pool, attachment_id=attachment_id, seq=seq, subtree=scope
            )
        )
        if found is None:
            raise NotFound("no such attachment chunk in this subtree", zh="附件不存在")
        return Response(
            found.sealed,
            media_type="application/octet-stream",
            headers={
                "X-Bangfu-Stream": str(found.stream_id),
                "X-Bangfu-Size": str(found.size),
                "X-Bangfu-Chunks": str(found.chunks),
                "X-Bangfu-Sha256": found.sha256,
            },
        )

    @get(
        f"{API}/sync/feed/count",
        responses=responses,
        tags=["sync"],
        summary="how many of the subtree's events lie after a cursor",
    )
    async def count_feed(
        actor: NamedDependency[Actor],
        rt: NamedDependency[Runtime],
        after: Annotated[str | None, QueryParameter(max_length=64)] = None,
    ) -> feed.Count:
        scope = feed_scope(settings, actor)
        async with rt.pool.acquire() as conn:
            return await feed.count_after(
                conn,
                node=settings.code or scope,
                epoch=await epoch(conn),
                subtree=scope,
                after=Cursor.decode(after),
            )

    @get(
        f"{API}/node", responses=responses, tags=["sync"], summary="this node: code, subtree, epoch"
    )
    async def read_node(actor: NamedDependency[Actor], rt: NamedDependency[Runtime]) -> NodeOut:
        return NodeOut(
            code=settings.code,
            subtree=settings.subtree,
            epoch=await epoch(rt.pool),
            upstream=settings.upstream,
            downstreams=[DownstreamOut(code=d.code, url=d.url) for d in settings.downstreams],
        )

    @get(
        f"{API}/sync/status",
        responses=responses,
        tags=["sync"],
        summary="per downstream: cursor, events behind, last success, last error",
    )
    async def read_status(actor: NamedDependency[Actor], rt: NamedDependency[Runtime]) -> StatusOut:
        authorise(actor, Act.READ_SYNC_STATUS)
        return StatusOut(
            node=settings.code,
            epoch=await epoch(rt.pool),
            downstreams=await status(rt.pool, settings.downstreams),
        )

    return [read_feed, read_attachment_chunk, count_feed, read_node, read_status]
