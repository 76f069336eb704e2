"""`bangfu token`: mint a bearer token for the API.

    bangfu token --unit CODE --role ROLE [--user U] [--ttl 8h]

Prints the token alone on standard output. Exit status 2 for a bad unit code or role.
"""

from __future__ import annotations

import argparse
from datetime import timedelta

from rich.console import Console

from adapters.http.auth import Tokens
from adapters.runtime.secrets import load_secret
from adapters.runtime.settings import Settings
from domain.errors import DomainError
from domain.values import Role

console = Console(stderr=False)


def _ttl(text: str) -> timedelta:
    units = {"m": 60, "h": 3600, "d": 86400}
    if len(text) < 2 or text[-1] not in units or not text[:-1].isdigit():
        raise argparse.ArgumentTypeError("a lifetime such as 30m, 8h or 7d")
    return timedelta(seconds=int(text[:-1]) * units[text[-1]])


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `token` to `bangfu`'s subparsers."""
    t = sub.add_parser("token", help="mint a bearer token for the API")
    t.add_argument("--unit", required=True, help="unit code, e.g. 130306001")
    t.add_argument("--role", required=True, choices=[r.value for r in Role])
    t.add_argument("--user", help="user name (default: role-unit)")
    t.add_argument("--ttl", type=_ttl, default=timedelta(hours=8), help="lifetime: 30m, 8h, 7d")


def run(settings: Settings, args: argparse.Namespace) -> int:
    tokens = Tokens(load_secret(settings.secret, settings.data_dir))
    try:
        token = tokens.mint(
            user=args.user or f"{args.role}-{args.unit}",
            unit=args.unit,
            role=Role(args.role),
            ttl=args.ttl,
        )
    except DomainError as error:
        console.print(f"[red]error:[/red] {error.message}")
        return 2
    print(token)
    return 0
