"""Routes of upstream sync.

    GET /api/v1/sync/feed?after=CURSOR&limit=N   the subtree's events in commit-safe order
                                                 (a `sync`-role token; JSON, or MessagePack on
                                                 `Accept: application/msgpack`)
    GET /api/v1/sync/feed/count?after=CURSOR     how many of the subtree's events lie after it
    GET /api/v1/sync/attachments/{id}/chunks/{n} chunk n of an attachment's content, sealed as
                                                 stored (its layout in X-Bangfu-* headers)
    POST /api/v1/sync/attachments/chunks         many chunks in one answer (MessagePack both ways:
                                                 `feed.ChunksWanted` → `feed.ChunkBatch`)
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

from dataclasses import dataclass
from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.exceptions import HTTPException
from litestar.openapi import ResponseSpec
from litestar.openapi.spec import OpenAPIFormat, OpenAPIMediaType, OpenAPIType, RequestBody, Schema
from litestar.openapi.spec.operation import Operation
from litestar.params import FromPath, QueryParameter
from litestar.response.base import ASGIResponse
from litestar.response.streaming import ASGIStreamingResponse

from adapters.pg.rows import Cursor
from adapters.runtime.bootstrap import Runtime
from adapters.sync import feed
from adapters.sync.node import NodeSettings, epoch
from adapters.sync.pull import DownstreamStatus, status
from domain.authorization import Act, authorise, sync_feed_scope
from domain.errors import InvalidValue, NotFound
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


BATCH_BODY_BYTES = 64 * 1024  # 256 pairs are about 10 KB of MessagePack


@dataclass
class _ChunksOperation(Operation):
    """The batch's body in the API document: a MessagePack document the handler decodes itself
    (litestar's own MessagePack bodies want another media type than the feed's)."""

    def __post_init__(self) -> None:
        self.request_body = RequestBody(
            content={
                "application/octet-stream": OpenAPIMediaType(
                    schema=Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.BINARY)
                )
            },
            description='MessagePack: {"chunks": [[attachment_id, seq], …]}, at most '
            f"{feed.BATCH_PAIRS} pairs",
            required=True,
        )


BATCH_TYPES = {feed.MSGPACK, "application/octet-stream"}


async def _batch_guard(request: Request[Any, Any, Any]) -> None:
    # replaces the app's JSON-only guard (litestar uses the `before_request` closest to the
    # handler): the body is MessagePack
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in BATCH_TYPES:
        raise HTTPException(
            status_code=415, detail="send the body as application/msgpack (MessagePack)"
        )


def _wanted(body: bytes) -> list[feed.ChunkRef]:
    try:
        wanted = feed.WANTED.decode(body).chunks
    except (msgspec.ValidationError, msgspec.DecodeError) as error:
        raise InvalidValue(
            "chunks",
            f"not a MessagePack list of (attachment, seq) pairs: {error}",
            zh="请求体不是附件块列表",
        ) from None
    if len(wanted) > feed.BATCH_PAIRS:
        raise InvalidValue(
            "chunks",
            f"at most {feed.BATCH_PAIRS} chunks may be asked for at once, not {len(wanted)}",
            zh=f"每次最多请求 {feed.BATCH_PAIRS} 个附件块",
        )
    return wanted


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

    @post(
        f"{API}/sync/attachments/chunks",
        status_code=200,
        responses={**responses, 413: problems[413], 415: problems[415]},
        before_request=_batch_guard,
        request_max_body_size=BATCH_BODY_BYTES,
        operation_class=_ChunksOperation,
        tags=["sync"],
        summary="附件批量同步 — many sealed chunks of attachments in one answer",
        description="The body (MessagePack) names up to 256 (attachment, seq) pairs; the answer "
        "(MessagePack `ChunkBatch`) gives, for each pair in order, the chunk exactly as stored "
        "(sealed) with its attachment's file, size, chunk count and SHA-256 — what the "
        "single-chunk route tells in its headers — or `found: false` for a chunk that does not "
        "exist or whose file is outside the subtree (never told apart). An answer stops adding "
        "chunks past about 8 MB: `more` is true and the pairs after the last answered are asked "
        "for again. A `sync` token is required; an older node answers 404, and the reader falls "
        "back to one chunk per request.",
        media_type=feed.MSGPACK,
    )
    async def read_attachment_chunks(
        request: Request[Any, Any, Any],
        actor: NamedDependency[Actor],
        rt: NamedDependency[Runtime],
    ) -> Response[bytes]:
        scope = feed_scope(settings, actor)
        wanted = _wanted(await request.body())
        batch = await feed.sealed_chunks(rt.pool, wanted, subtree=scope)
        return Response(feed.encode(batch, feed.MSGPACK), media_type=feed.MSGPACK)

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

    return [
        read_feed,
        read_attachment_chunk,
        read_attachment_chunks,
        count_feed,
        read_node,
        read_status,
    ]
