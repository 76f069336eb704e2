"""Small generated scans (PNG, JPEG, PDF) for demo data, benchmarks and tests.

A grey page with a few dark bars, the size of a phone photo's thumbnail: real content of its
type (it passes the checks an upload passes), a few KB, different for every `seed`.
"""

from __future__ import annotations

import io
import random

from PIL import Image, ImageDraw


def page(seed: int, size: tuple[int, int] = (120, 160)) -> Image.Image:
    rng = random.Random(seed)  # noqa: S311 — generated pictures, not secrets
    image = Image.new("RGB", size, (235, 235, 230))
    draw = ImageDraw.Draw(image)
    for row in range(8, size[1] - 8, 12):
        draw.rectangle((8, row, 8 + rng.randrange(20, size[0] - 16), row + 4), fill=(40, 40, 60))
    return image


def scan(seed: int, media_type: str = "image/png", size: tuple[int, int] = (120, 160)) -> bytes:
    """The bytes of a generated scan: `image/png`, `image/jpeg` or `application/pdf`."""
    out = io.BytesIO()
    fmt = {"image/png": "PNG", "image/jpeg": "JPEG", "application/pdf": "PDF"}[media_type]
    page(seed, size).save(out, format=fmt)
    return out.getvalue()
