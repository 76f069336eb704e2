"""Secrets: from settings, or generated once into the data folder (mode 0600) for the embedded
default. Never in the repository."""

from __future__ import annotations

import secrets
from pathlib import Path


def _from_folder(data_dir: Path, name: str) -> str:
    path = data_dir / name
    if path.exists():
        return path.read_text(encoding="ascii").strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(48)
    path.touch(mode=0o600)
    path.write_text(value, encoding="ascii")
    return value


def load_secret(configured: str | None, data_dir: Path) -> str:
    """The token signing secret: `BANGFU_SECRET`, or `<data folder>/secret`."""
    if configured:
        if len(configured) < 32:
            raise RuntimeError("BANGFU_SECRET must have at least 32 characters")
        return configured
    return _from_folder(data_dir, "secret")


def load_hash_key(configured: str | None, data_dir: Path) -> bytes:
    """The key of the ID-number hash: `BANGFU_HASH_KEY`, or `<data folder>/hash_key`.

    Changing it changes every stored hash: rebuild the read models afterwards."""
    if configured:
        if len(configured) < 32:
            raise RuntimeError("BANGFU_HASH_KEY must have at least 32 characters")
        return configured.encode()
    return _from_folder(data_dir, "hash_key").encode()
