"""A clerk attaches scans to a file; an approver reads one for a stated purpose; bad uploads store
nothing (issue 17: attach, bad input)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import io
from urllib.parse import urlsplit

import asyncpg
from PIL import Image

from adapters.services.scans import scan
from tests.conftest import Api
from tests.e2e.http_helpers import API, BASE, DISTRICT, assert_problem, open_file

PURPOSE = {"X-Bangfu-Purpose": "verify the ID copy"}


def upload_headers(api: Api, media_type: str, **extra: str) -> dict[str, str]:
    return api.auth(BASE, "clerk", "clerk-li", **{"Content-Type": media_type, **extra})


async def upload(api: Api, file_id: str, content: bytes, media_type: str = "image/png", **q: str):
    params = {"kind": "id_copy", "name": "身份证.png"} | q
    return await api.client.post(
        f"{API}/files/{file_id}/attachments",
        params=params,
        content=content,
        headers=upload_headers(api, media_type),
    )


async def stored(pool: asyncpg.Pool, file_id: str) -> tuple[int, int]:
    """(attachments, chunks) stored for the file."""
    rows = await pool.fetchval(
        "SELECT count(*) FROM attachments WHERE stream_id = $1::uuid", file_id
    )
    chunks = await pool.fetchval(
        "SELECT count(*) FROM attachment_chunks c JOIN attachments a USING (attachment_id)"
        " WHERE a.stream_id = $1::uuid",
        file_id,
    )
    orphans = await pool.fetchval(
        "SELECT count(*) FROM attachment_chunks c"
        " WHERE NOT EXISTS (SELECT 1 FROM attachments a WHERE a.attachment_id = c.attachment_id)"
    )
    assert orphans == 0
    return rows, chunks


async def test_clerk_attaches_a_scan_and_an_approver_reads_it_for_a_purpose(api: Api):
    file_id = await open_file(api)
    png = scan(1, "image/png")

    created = await upload(api, file_id, png)

    assert created.status_code == 201, created.text
    body = created.json()
    assert body["sha256"] == hashlib.sha256(png).hexdigest()
    assert (body["kind"], body["kind_label"], body["media_type"], body["size"]) == (
        "id_copy",
        "身份证复印件",
        "image/png",
        len(png),
    )
    listed = await api.client.get(
        f"{API}/files/{file_id}/attachments", headers=api.auth(BASE, "clerk")
    )
    assert [a["id"] for a in listed.json()["attachments"]] == [body["id"]]
    content_url = f"{API}/files/{file_id}/attachments/{body['id']}/content"

    clerk = await api.client.get(content_url, headers=api.auth(BASE, "clerk", **PURPOSE))
    no_purpose = await api.client.get(content_url, headers=api.auth(DISTRICT, "approver"))
    approver = await api.client.get(content_url, headers=api.auth(DISTRICT, "approver", **PURPOSE))

    assert_problem(clerk, 403)
    assert_problem(no_purpose, 422)
    assert approver.status_code == 200, approver.text
    assert approver.content == png
    assert approver.headers["content-type"] == "image/png"
    trail = await api.client.get(
        f"{API}/files/{file_id}/events", headers=api.auth(DISTRICT, "approver")
    )
    types = [(e["type"], e["fields"].get("view")) for e in trail.json()["events"]]
    assert ("household.attachment_added", None) in types
    assert types.count(("access.unmasked", "attachment")) == 1


async def test_a_pdf_is_previewed_by_its_first_page(api: Api):
    file_id = await open_file(api)
    pdf = scan(2, "application/pdf", size=(600, 800))
    created = await upload(
        api, file_id, pdf, "application/pdf", kind="income_proof", name="收入证明.pdf"
    )
    assert created.status_code == 201, created.text

    preview = await api.client.get(
        f"{API}/files/{file_id}/attachments/{created.json()['id']}/preview",
        headers=api.auth(DISTRICT, "approver", **PURPOSE),
    )

    assert preview.status_code == 200, preview.text
    image = Image.open(io.BytesIO(preview.content))
    assert image.format == "JPEG"
    assert max(image.size) <= 800


async def test_bad_uploads_are_refused_and_store_nothing(api: Api, pool: asyncpg.Pool):
    file_id = await open_file(api)
    good = await upload(api, file_id, scan(3, "image/png"))
    assert good.status_code == 201
    before = await stored(pool, file_id)
    png = scan(4, "image/png")
    wrong_digest = "sha-256=:" + base64.b64encode(hashlib.sha256(b"other").digest()).decode() + ":"

    gif = await upload(api, file_id, b"GIF89a" + bytes(200), "application/octet-stream")
    declared_pdf = await upload(api, file_id, png, "application/pdf")
    not_a_pdf = await upload(api, file_id, b"%PDF-1.7\n" + bytes(5000), "application/pdf")
    digest = await api.client.post(
        f"{API}/files/{file_id}/attachments",
        params={"kind": "id_copy", "name": "x.png"},
        content=png,
        headers=upload_headers(api, "image/png", **{"Content-Digest": wrong_digest}),
    )
    unknown_kind = await upload(api, file_id, png, kind="passport")
    text = await upload(api, file_id, png, "text/plain")

    assert "不是JPEG、PNG图片或PDF文件" in assert_problem(gif, 422)["detail"]
    assert_problem(declared_pdf, 422)
    assert "PDF" in assert_problem(not_a_pdf, 422)["detail"]
    assert assert_problem(digest, 422)["errors"][0]["field"] == "sha256"
    assert_problem(unknown_kind, 422)
    assert_problem(text, 415)
    assert await stored(pool, file_id) == before


async def _raw(api: Api, request: bytes, *, hang_up: bool) -> bytes:
    """Send raw bytes to the server (and with `hang_up`, close the sending side); the first
    bytes of the answer (if any)."""
    base = urlsplit(str(api.client.base_url))
    reader, writer = await asyncio.open_connection(base.hostname, base.port)
    writer.write(request)
    await writer.drain()
    if hang_up:
        writer.write_eof()
    try:
        return await asyncio.wait_for(reader.read(12), timeout=10)
    finally:
        writer.close()


async def test_an_upload_over_the_limit_or_cut_short_stores_nothing(api: Api, pool: asyncpg.Pool):
    file_id = await open_file(api)
    auth = upload_headers(api, "image/png")["Authorization"]
    path = f"{API}/files/{file_id}/attachments?kind=id_copy&name=a.png"
    png = scan(5, "image/png")

    too_big = await _raw(
        api,
        f"POST {path} HTTP/1.1\r\nHost: x\r\nAuthorization: {auth}\r\n"
        f"Content-Type: image/png\r\nContent-Length: {30 * 1024 * 1024}\r\n\r\n".encode()
        + png,
        hang_up=False,
    )
    cut_short = await _raw(
        api,
        f"POST {path} HTTP/1.1\r\nHost: x\r\nAuthorization: {auth}\r\n"
        f"Content-Type: image/png\r\nContent-Length: {len(png) + 5000}\r\n\r\n".encode()
        + png,
        hang_up=True,
    )
    await asyncio.sleep(0.5)  # the server notices the closed connection

    assert too_big.startswith(b"HTTP/1.1 413"), too_big[:200]
    assert not cut_short.startswith(b"HTTP/1.1 201"), cut_short[:200]
    assert await stored(pool, file_id) == (0, 0)
    file = await api.client.get(f"{API}/files/{file_id}", headers=api.auth(BASE, "clerk"))
    assert file.json()["version"] == 1
