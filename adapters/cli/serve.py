"""`bangfu serve`: the HTTP API, with a bearer token printed for each demo role.

    bangfu serve [--host H] [--port P] [--workers N]

Runs uvicorn on `adapters.http.app:served`; the API documentation is at /schema.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
from datetime import timedelta

from adapters.cli import users as cli_users
from adapters.http.auth import Tokens
from adapters.runtime import embedded
from adapters.runtime.secrets import load_secret
from adapters.runtime.settings import Settings
from domain.values import Role

DEMO_TOKENS = (
    ("基层工会经办人 base-level clerk", "130306001", Role.CLERK, "clerk-li"),
    ("区总工会审核人 district approver", "130306", Role.APPROVER, "approver-wang"),
    ("省总工会抽查员 province inspector", "13", Role.INSPECTOR, "inspector-zhao"),
)


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `serve` to `bangfu`'s subparsers."""
    s = sub.add_parser("serve", help="run the HTTP API")
    s.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    s.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    s.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")


def run(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn  # noqa: PLC0415 — only the server needs it

    tokens = Tokens(load_secret(settings.secret, settings.data_dir))
    base = f"http://{args.host}:{args.port}"
    print(f"bangfu 控制台 console: {base}/")
    print(f"bangfu API 文档 docs: {base}/schema  (OpenAPI: {base}/schema/openapi.json)")
    accounts = cli_users.demo_accounts(settings.data_dir)
    if accounts:
        print("演示账户 demo accounts (user / password):")
        for account in accounts:
            print(
                f"  {account['title']} ({account['unit']}, {account['role']}):"
                f" {account['user']} / {account['password']}"
            )
    for title, unit, role, user in DEMO_TOKENS:
        token = tokens.mint(user=user, unit=unit, role=role, ttl=timedelta(hours=12))
        print(f"{title} ({unit}, {role.value}):\n  Authorization: Bearer {token}")
    print("按 Ctrl-C 停止 (Ctrl-C stops)", flush=True)
    # A stop by SIGTERM (`kill`, a service manager) ends like Ctrl-C: uvicorn shuts down
    # gracefully on either, then raises the signal again with the handler found before it
    # started — for SIGTERM the default one, which would end the process there, before the
    # embedded PostgreSQL is released below and left running. As Ctrl-C's, it becomes a
    # KeyboardInterrupt, which `uvicorn.run` takes as the end of serving. A closed terminal
    # (SIGHUP), which uvicorn does not handle (its default would end the process at once), is
    # turned into a SIGTERM, so it ends the same way.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    signal.signal(signal.SIGHUP, lambda *_: os.kill(os.getpid(), signal.SIGTERM))
    uvicorn.run(
        "adapters.http.app:served",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_level="warning",
        access_log=False,
        lifespan="on",
    )
    _say("bangfu 已停止 (stopped)")
    if not settings.database_url:
        _say(embedded.stopped_message(settings.data_dir))  # releases it, then says so
    return 0


def _say(line: str) -> None:
    """Print, unless the terminal is gone (a SIGHUP): the embedded PostgreSQL is released all
    the same."""
    with contextlib.suppress(OSError):
        print(line, flush=True)
