"""Settings: one typed object, read from the environment at the composition root only."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Settings:
    database_url: str | None  # BANGFU_DATABASE_URL; None starts the embedded PostgreSQL
    data_dir: Path  # BANGFU_DATA_DIR: the embedded database and generated secrets live here
    log_json: bool | None  # BANGFU_LOG_JSON: force JSON logs on or off (default: when not a tty)
    pool_size: int = 20
    secret: str | None = None  # BANGFU_SECRET: token signing key; else generated in data_dir
    hash_key: str | None = None  # BANGFU_HASH_KEY: key of the ID-number hash; else in data_dir
    projections: bool = True  # BANGFU_PROJECTIONS=off: `serve` does not run the read models
    # BANGFU_PII_KEYS: key-encryption keys of personal data, "1:BASE64,2:BASE64"; else generated
    # into data_dir/pii_keys
    pii_keys: str | None = None

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
            pii_keys=env.get("BANGFU_PII_KEYS") or None,
        )
