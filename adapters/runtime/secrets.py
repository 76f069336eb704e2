"""Secrets: from settings, or generated once into the data folder (mode 0600) for the embedded
default. Never in the repository."""

from __future__ import annotations

import secrets
from pathlib import Path

from adapters.pii.sealing import KeyEncryptionKeys, new_key_text


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


PII_KEYS_FILE = "pii_keys"


def load_pii_keys(configured: str | None, data_dir: Path) -> KeyEncryptionKeys:
    """The key-encryption keys of personal data: `BANGFU_PII_KEYS` (`"1:BASE64,2:BASE64"`), or
    `<data folder>/pii_keys` (one `VERSION:BASE64` per line), generated with version 1 on first
    use. The highest version wraps new data keys (docs/operations.md, "Keys")."""
    if configured:
        try:
            return KeyEncryptionKeys.parse(configured, "BANGFU_PII_KEYS")
        except ValueError as error:
            raise RuntimeError(str(error)) from None
    path = data_dir / PII_KEYS_FILE
    if not path.exists():
        _write_keys(path, f"1:{new_key_text()}\n")
    try:
        return KeyEncryptionKeys.parse(path.read_text(encoding="ascii"), str(path))
    except ValueError as error:
        raise RuntimeError(f"{path}: {error}") from None


def _write_keys(path: Path, text: str) -> None:
    """Replace the key file atomically, readable by its owner only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".new")
    temporary.unlink(missing_ok=True)
    temporary.touch(mode=0o600)
    temporary.write_text(text, encoding="ascii")
    temporary.replace(path)


def add_pii_key(keks: KeyEncryptionKeys) -> KeyEncryptionKeys:
    """A new KEK version in the data-folder file (the new current version); the old stay until
    retired. Refused when the keys come from settings: add the version there."""
    path = _folder_file(keks)
    version = keks.current + 1
    text = keks.text() + f"\n{version}:{new_key_text()}\n"
    _write_keys(path, text)
    return KeyEncryptionKeys.parse(text, str(path))


def retire_pii_key(keks: KeyEncryptionKeys, version: int) -> KeyEncryptionKeys:
    """Remove a KEK version from the data-folder file (after nothing is wrapped under it)."""
    path = _folder_file(keks)
    if version == keks.current or version not in keks.keys:
        raise RuntimeError(f"KEK version {version} is current or not configured")
    kept = KeyEncryptionKeys({v: k for v, k in keks.keys.items() if v != version}, str(path))
    _write_keys(path, kept.text() + "\n")
    return kept


def _folder_file(keks: KeyEncryptionKeys) -> Path:
    if keks.source == "BANGFU_PII_KEYS":
        raise RuntimeError(
            "the key-encryption keys come from BANGFU_PII_KEYS: change the versions there"
        )
    return Path(keks.source)
