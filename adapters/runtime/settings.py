"""Settings: one typed object, read from the environment at the composition root only."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_IMPORT_MAX_BYTES = 256 * 1024 * 1024  # an import's sheet and the zip of its scans


@dataclass(frozen=True)
class Settings:
    database_url: str | None  # BANGFU_DATABASE_URL; None starts the embedded PostgreSQL
    data_dir: Path  # BANGFU_DATA_DIR: the embedded database and generated secrets live here
    log_json: bool | None  # BANGFU_LOG_JSON: force JSON logs on or off (default: when not a tty)
    pool_size: int = 20
    secret: str | None = None  # BANGFU_SECRET: token signing key; else generated in data_dir
    hash_key: str | None = None  # BANGFU_HASH_KEY: key of the ID-number hash; else in data_dir
    projections: bool = True  # BANGFU_PROJECTIONS=off: `serve` does not run the read models
    # BANGFU_DATABASE_TIMEOUT: seconds to connect, or to wait for a free pooled connection, before
    # giving up (a request then gets 503 instead of hanging while the database is away)
    database_timeout: float = 10.0
    # BANGFU_TRANSACTION_BOUND: seconds a transaction that writes events may sit idle or run one
    # statement before PostgreSQL ends it, so that it cannot hold back the log's readers for
    # longer (docs/operations.md, "Faults and recovery"); 0 turns the bound off
    transaction_bound: float = 30.0
    # BANGFU_ADMIN_DATABASE_URL: the schema owner's connection, for migrations; by default
    # BANGFU_DATABASE_URL's. The service's own sessions always act as the least-privileged
    # role `bangfu_app` (docs/operations.md, "Database roles").
    admin_database_url: str | None = None
    # Rate limits (adapters/runtime/limits.py), each per minute and per server process:
    # BANGFU_AUTH_FAILURES_PER_MINUTE: bad, expired or forged tokens from one client address;
    # BANGFU_MINTS_PER_MINUTE: tokens one admin may mint over HTTP (POST /api/v1/tokens);
    # BANGFU_UNMASKS_PER_MINUTE: reads of unmasked personal data by one user.
    auth_failures_per_minute: int = 30
    mints_per_minute: int = 10
    unmasks_per_minute: int = 20
    prints_per_minute: int = 30  # printed forms per user (a unit's list counts once)
    # BANGFU_ATTACHMENT_MAX_BYTES / BANGFU_HOUSEHOLD_ATTACHMENTS_MAX_BYTES: an attachment's size
    # and a household's total (docs/operations.md, "Attachments"); uploads have this body limit
    attachment_max_bytes: int = 20 * 1024 * 1024
    household_attachments_max_bytes: int = 200 * 1024 * 1024
    # BANGFU_IMPORT_MAX_BYTES: the body of an import upload (the sheet and the zip of its scans)
    import_max_bytes: int = DEFAULT_IMPORT_MAX_BYTES
    # BANGFU_HSTS_MAX_AGE: seconds; above 0, every response carries Strict-Transport-Security
    # (set it only when the service is reached over TLS, e.g. behind a TLS-terminating proxy)
    hsts_max_age: int = 0
    # BANGFU_PII_KEYS: key-encryption keys of personal data, "1:BASE64,2:BASE64"; else generated
    # into data_dir/pii_keys
    pii_keys: str | None = None
    # Accounts and console sessions (adapters/services/accounts.py, docs/security.md):
    # BANGFU_SESSION_IDLE: seconds a session lives without a request (default 30 minutes);
    # BANGFU_SESSION_LIFETIME: seconds a session lives at most after sign-in (default 12 hours);
    # BANGFU_SIGN_IN_FAILURES_PER_ACCOUNT / _PER_ADDRESS: failed sign-ins allowed per
    # BANGFU_SIGN_IN_LOCKOUT seconds (default 5 and 20 per 15 minutes) before sign-in is refused;
    # BANGFU_COOKIE_SECURE: session cookies only over HTTPS ("auto": when the request came over
    # TLS, or HSTS is configured; "on"; "off")
    session_idle_seconds: float = 1800.0
    session_lifetime_seconds: float = 43200.0
    sign_in_failures_per_account: int = 5
    sign_in_failures_per_address: int = 20
    sign_in_lockout_seconds: float = 900.0
    cookie_secure: str = "auto"

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ) if env is None else env
        json_flag = env.get("BANGFU_LOG_JSON")
        return cls(
            database_url=env.get("BANGFU_DATABASE_URL") or None,
            data_dir=Path(env.get("BANGFU_DATA_DIR") or ".bangfu").resolve(),
            log_json=None if json_flag is None else json_flag.lower() in {"1", "true", "yes"},
            pool_size=int(env.get("BANGFU_POOL_SIZE") or 20),
            secret=env.get("BANGFU_SECRET") or None,
            hash_key=env.get("BANGFU_HASH_KEY") or None,
            projections=(env.get("BANGFU_PROJECTIONS") or "on").lower() not in {"off", "0", "no"},
            database_timeout=_seconds(env, "BANGFU_DATABASE_TIMEOUT", 10.0, allow_zero=False),
            transaction_bound=_seconds(env, "BANGFU_TRANSACTION_BOUND", 30.0, allow_zero=True),
            admin_database_url=env.get("BANGFU_ADMIN_DATABASE_URL") or None,
            auth_failures_per_minute=_count(env, "BANGFU_AUTH_FAILURES_PER_MINUTE", 30),
            mints_per_minute=_count(env, "BANGFU_MINTS_PER_MINUTE", 10),
            unmasks_per_minute=_count(env, "BANGFU_UNMASKS_PER_MINUTE", 20),
            prints_per_minute=_count(env, "BANGFU_PRINTS_PER_MINUTE", 30),
            attachment_max_bytes=_count(env, "BANGFU_ATTACHMENT_MAX_BYTES", 20 * 1024 * 1024),
            household_attachments_max_bytes=_count(
                env, "BANGFU_HOUSEHOLD_ATTACHMENTS_MAX_BYTES", 200 * 1024 * 1024
            ),
            import_max_bytes=_count(env, "BANGFU_IMPORT_MAX_BYTES", DEFAULT_IMPORT_MAX_BYTES),
            hsts_max_age=_count(env, "BANGFU_HSTS_MAX_AGE", 0, least=0),
            pii_keys=env.get("BANGFU_PII_KEYS") or None,
            session_idle_seconds=_seconds(env, "BANGFU_SESSION_IDLE", 1800.0, allow_zero=False),
            session_lifetime_seconds=_seconds(
                env, "BANGFU_SESSION_LIFETIME", 43200.0, allow_zero=False
            ),
            sign_in_failures_per_account=_count(env, "BANGFU_SIGN_IN_FAILURES_PER_ACCOUNT", 5),
            sign_in_failures_per_address=_count(env, "BANGFU_SIGN_IN_FAILURES_PER_ADDRESS", 20),
            sign_in_lockout_seconds=_seconds(
                env, "BANGFU_SIGN_IN_LOCKOUT", 900.0, allow_zero=False
            ),
            cookie_secure=_choice(env, "BANGFU_COOKIE_SECURE", "auto", ("auto", "on", "off")),
        )


def _seconds(env: dict[str, str], name: str, default: float, *, allow_zero: bool) -> float:
    """A duration in seconds from the environment; a value that is not one is refused by name."""
    raw = env.get(name)
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{name} must be a number of seconds, not {raw!r}") from None
    if not math.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        raise ValueError(f"{name} must be a finite number of seconds above 0, not {raw!r}")
    return value


def _count(env: dict[str, str], name: str, default: int, *, least: int = 1) -> int:
    """A whole number from the environment, at least `least`; anything else is refused by name
    (a limit of "0" or "lots" must not silently become no limit)."""
    raw = env.get(name)
    if not raw:
        return default
    if not (raw.strip().isascii() and raw.strip().isdigit()) or int(raw) < least:
        raise ValueError(f"{name} must be a whole number of at least {least}, not {raw!r}")
    return int(raw)


def _choice(env: dict[str, str], name: str, default: str, allowed: tuple[str, ...]) -> str:
    raw = (env.get(name) or default).strip().lower()
    if raw not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(allowed)}, not {raw!r}")
    return raw
